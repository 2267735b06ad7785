//! What is checked before any file is decoded: a frame shape was found, two frames at least,
//! `--top` within the subpixels, and the memory the statistics need against the memory the
//! machine has. A [`Prepared`] scan is the moment to check outputs against the files found.

use std::path::PathBuf;
use std::time::Instant;

use std::collections::HashMap;

use super::exposure::{choose, exposures_of};
use super::groups::{discover_options, keep_shard};
use super::window::window_size;
use super::{ScanError, ScanObserver, ScanOptions};
use crate::input::{discover_with, Discovery, Shape};
use crate::model::Model;
use crate::stats::dark::DARK_BYTES_PER_POSITION;

/// A scan whose inputs have been discovered (headers read, shape chosen) and checked, and whose
/// work has not started: the moment to check outputs against [`Prepared::files`].
pub struct Prepared {
    pub(super) discovery: Discovery,
    pub(super) shape: Shape,
    pub(super) started: Instant,
    /// The model of a hot pixel the frames allow, and their exposures.
    pub(super) model: Model,
    pub(super) exposures: HashMap<PathBuf, f64>,
}

impl Prepared {
    /// The files the scan will read.
    pub fn files(&self) -> &[PathBuf] {
        &self.discovery.files
    }

    /// The frame shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The model of a hot pixel the scan will use ([`super::exposure::choose`]).
    pub fn model(&self) -> &Model {
        &self.model
    }
}

/// The memory a scan of `shape` frames with `jobs` decoders needs at most: the state (with the
/// dark-current statistics when `dark`; twice with a state file: the total so far beside the
/// stretch being counted), and the frames alive at once ([`window_size`]: the decoders' and the
/// CPU backend's batch).
pub fn memory_needed(shape: Shape, jobs: usize, state_file: bool, dark: bool) -> u64 {
    let subpixels = shape.subpixels() as u64;
    let frame = subpixels * (shape.bit_depth as u64 / 8);
    let frames = window_size(jobs, crate::stats::cpu::batch_for(dark)) as u64;
    let states = if state_file { 2 } else { 1 };
    let dark = if dark {
        shape.pixels() as u64 * DARK_BYTES_PER_POSITION
    } else {
        0
    };
    // 16-bit frames: the means' low parts in every state, and the accumulator's value shifts.
    let (low, shift) = if crate::stats::batch::value_shift(shape, 0) {
        (
            subpixels * crate::stats::STATE_VALUE_BYTES,
            subpixels * crate::stats::batch::SHIFT_BYTES_PER_SUBPIXEL,
        )
    } else {
        (0, 0)
    };
    states * (subpixels * crate::stats::STATE_BYTES_PER_SUBPIXEL + dark + low)
        + shift
        + frame * frames
}

/// Refuses a scan whose [`memory_needed`] is more than `available` (not checked when unknown),
/// before anything large is allocated.
pub fn check_memory(
    shape: Shape,
    jobs: usize,
    state_file: bool,
    dark: bool,
    available: Option<u64>,
) -> Result<(), ScanError> {
    let needed = memory_needed(shape, jobs, state_file, dark);
    match available {
        Some(available) if needed > available => Err(ScanError::OutOfMemory {
            shape: shape.describe(),
            needed: crate::mem::describe_bytes(needed),
            available: crate::mem::describe_bytes(available),
        }),
        _ => Ok(()),
    }
}

/// Discovers the inputs (files, directories, glob patterns) and checks what can be checked
/// before decoding: a shape was found, two frames at least, the memory the statistics need,
/// `options.top` within the subpixels.
pub fn prepare(
    inputs: &[String],
    options: &ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<Prepared, ScanError> {
    let mut discovery = discover_with(inputs, &discover_options(options))?;
    if let Some(shard) = options.shard {
        keep_shard(std::slice::from_mut(&mut discovery), shard);
    }
    prepare_discovered(discovery, options, observer)
}

/// Tells `observer` of a discovery ([`ScanObserver::discovered`]) and checks it as [`prepare`]
/// does; the scan's time counts from here.
pub fn prepare_discovered(
    discovery: Discovery,
    options: &ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<Prepared, ScanError> {
    let started = Instant::now();
    observer.discovered(&discovery);
    check_group(discovery, options, started)
}

/// Checks one discovery before decoding: a shape was found, two frames at least, the memory the
/// statistics need, `options.top` within the subpixels.
fn check_group(
    discovery: Discovery,
    options: &ScanOptions,
    started: Instant,
) -> Result<Prepared, ScanError> {
    let shape = discovery
        .shape
        .ok_or_else(|| ScanError::no_images(&discovery))?;
    if discovery.files.len() < 2 {
        return Err(ScanError::TooFewFrames(
            discovery.files.len(),
            shape.describe(),
        ));
    }
    let exposures = exposures_of(&discovery.files, &discovery.exposures);
    let values: Vec<f64> = discovery
        .files
        .iter()
        .filter_map(|f| exposures.get(f).copied())
        .collect();
    let model = choose(discovery.files.len(), &values);
    check_memory(
        shape,
        options.jobs,
        options.state.is_some(),
        model.is_dark_current(),
        crate::mem::available_bytes(),
    )?;
    if options.top > shape.subpixels() {
        return Err(ScanError::TopTooLarge {
            top: options.top,
            subpixels: shape.subpixels(),
            shape: shape.describe(),
        });
    }
    Ok(Prepared {
        discovery,
        shape,
        started,
        model,
        exposures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_larger_than_the_memory_available_is_refused_naming_both() {
        let huge = Shape::new(100_000, 100_000, 3, 8).unwrap();
        let err = check_memory(huge, 2, false, false, Some(24_000_000_000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the statistics of 100000x100000 RGB 8-bit frames need 780.0 GB of memory, and this machine has 24.0 GB available (--max-megapixels refuses such files)"
        );
        assert!(
            check_memory(huge, 2, false, false, None).is_ok(),
            "unknown: not checked"
        );
        let camera = Shape::new(6000, 4000, 3, 8).unwrap();
        assert!(check_memory(camera, 2, false, true, Some(24_000_000_000)).is_ok());
        // 18 bytes of state per subpixel, eight frames of one byte per subpixel (the CPU's
        // batch, which the two decoders fill); with the dark-current statistics, 22 bytes per
        // pixel and a batch of four.
        assert_eq!(
            memory_needed(camera, 2, false, false),
            72_000_000 * (18 + 8)
        );
        assert_eq!(
            memory_needed(camera, 2, true, false),
            72_000_000 * (2 * 18 + 8)
        );
        assert_eq!(
            memory_needed(camera, 2, false, true),
            72_000_000 * (18 + 4) + 24_000_000 * 22
        );
    }
}
