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
    /// The frames held at once, as the memory allows ([`plan_frames`]).
    pub(super) frames: FramePlan,
    /// Whether those frames were planned beside dark-current sums ([`keeps_dark_sums`]).
    pub(super) dark_sums: bool,
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

    /// The frames the scan will hold at once ([`plan_frames`]).
    pub fn frames(&self) -> FramePlan {
        self.frames
    }

    /// The model of a hot pixel the scan will use ([`super::exposure::choose`]).
    pub fn model(&self) -> &Model {
        &self.model
    }
}

/// The frames a scan holds at once ([`window_size`]): the CPU backend's batch and the decoders
/// that fill it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramePlan {
    /// Frames the CPU backend holds and applies together ([`crate::stats::cpu::batch_for`] when
    /// the memory allows).
    pub batch: usize,
    /// Decoder threads.
    pub jobs: usize,
}

impl FramePlan {
    /// The plan of a scan with `jobs` decoders and the CPU backend's own batch.
    pub fn full(jobs: usize, dark: bool) -> Self {
        FramePlan {
            batch: crate::stats::cpu::batch_for(dark),
            jobs: jobs.max(1),
        }
    }

    /// The frames alive at once.
    pub fn frames(&self) -> usize {
        window_size(self.jobs, self.batch)
    }

    /// This plan with at most `frames` alive at once.
    fn within(self, frames: usize) -> Self {
        FramePlan {
            batch: self.batch.min(frames),
            jobs: self.jobs.min(frames),
        }
    }
}

/// Memory a scan takes besides its statistics and frames: the program, its threads, the files
/// its decoders read (measured: 49 MB at 24 MP JPEG with two decoders).
pub const PROGRAM_BYTES: u64 = 64_000_000;

/// The memory a scan of `shape` frames needs at most when it holds the frames of `frames`: the
/// state (with the dark-current statistics when `dark`; twice with a state file: the total so
/// far beside the stretch being counted), the frames alive at once, and [`PROGRAM_BYTES`].
pub fn memory_of(shape: Shape, frames: FramePlan, state_file: bool, dark: bool) -> u64 {
    let subpixels = shape.subpixels() as u64;
    let frame = subpixels * (shape.bit_depth as u64 / 8);
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
        + frame * frames.frames() as u64
        + PROGRAM_BYTES
}

/// The frames a scan with `jobs` decoders holds at once: the full plan ([`FramePlan::full`])
/// when `available` memory (unknown: not checked) holds it beside the statistics, else as many
/// frames as it leaves room for (a smaller batch and fewer decoders: slower, not refused); a
/// scan whose statistics and one frame do not fit is refused before anything large is
/// allocated.
pub fn plan_frames(
    shape: Shape,
    jobs: usize,
    state_file: bool,
    dark: bool,
    available: Option<u64>,
) -> Result<FramePlan, ScanError> {
    let full = FramePlan::full(jobs, dark);
    let Some(available) = available else {
        return Ok(full);
    };
    (1..=full.frames())
        .rev()
        .map(|frames| full.within(frames))
        .find(|&plan| memory_of(shape, plan, state_file, dark) <= available)
        .ok_or_else(|| ScanError::OutOfMemory {
            shape: shape.describe(),
            needed: crate::mem::describe_bytes(memory_of(shape, full.within(1), state_file, dark)),
            available: crate::mem::describe_bytes(available),
        })
}

/// The memory a scan may take: what the machine has `available`, or `max_memory` when that is
/// less (either may be unknown).
pub fn allowed_memory(available: Option<u64>, max_memory: Option<u64>) -> Option<u64> {
    match (available, max_memory) {
        (Some(a), Some(m)) => Some(a.min(m)),
        (a, m) => a.or(m),
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
    let dark_sums = keeps_dark_sums(options, &model);
    let frames = plan_frames(
        shape,
        options.jobs,
        options.state.is_some(),
        dark_sums,
        allowed_memory(crate::mem::available_bytes(), options.max_memory),
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
        frames,
        dark_sums,
    })
}

/// Whether a scan's statistics will keep dark-current sums: as the state it counts on does, when
/// it resumes one that has counted frames (it keeps the model it began with); else when the
/// frames' `model` is dark current. A state that cannot be read is reported when the scan reads
/// it; until then the frames' model stands.
pub fn keeps_dark_sums(options: &ScanOptions, model: &Model) -> bool {
    options
        .state
        .as_ref()
        .filter(|st| st.path.exists())
        .and_then(|st| crate::stats::state::read_header(&st.path).ok())
        .filter(|header| header.frames > 0)
        .map_or(model.is_dark_current(), |header| header.dark.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_larger_than_the_memory_available_is_refused_naming_both() {
        let huge = Shape::new(100_000, 100_000, 3, 8).unwrap();
        let err = plan_frames(huge, 2, false, false, Some(24_000_000_000)).unwrap_err();
        // The statistics and one frame: 19 bytes per subpixel (and the program).
        assert_eq!(
            err.to_string(),
            "the statistics of 100000x100000 RGB 8-bit frames need 570.1 GB of memory, and the scan may take 24.0 GB (what this machine has available, or --max-memory; --max-megapixels refuses such files)"
        );
        assert_eq!(
            plan_frames(huge, 2, false, false, None).unwrap(),
            FramePlan::full(2, false),
            "unknown: not checked"
        );
        let camera = Shape::new(6000, 4000, 3, 8).unwrap();
        // 18 bytes of state per subpixel, eight frames of one byte per subpixel (the CPU's
        // batch, which the two decoders fill); with the dark-current statistics, 22 bytes per
        // pixel and a batch of four.
        assert_eq!(
            memory_of(camera, FramePlan::full(2, false), false, false),
            72_000_000 * (18 + 8) + PROGRAM_BYTES
        );
        assert_eq!(
            memory_of(camera, FramePlan::full(2, false), true, false),
            72_000_000 * (2 * 18 + 8) + PROGRAM_BYTES
        );
        assert_eq!(
            memory_of(camera, FramePlan::full(2, true), false, true),
            72_000_000 * (18 + 4) + 24_000_000 * 22 + PROGRAM_BYTES
        );
        assert_eq!(
            plan_frames(camera, 2, false, true, Some(24_000_000_000)).unwrap(),
            FramePlan::full(2, true)
        );
    }

    /// A scan counting on a state plans its frames for the state's model: a state with
    /// dark-current sums, resumed over frames that say nothing of their exposure, holds the
    /// dark-current model's frames (and its sums) in the plan.
    #[test]
    fn a_resumed_state_plans_the_frames_for_its_own_model() {
        use crate::stats::{DarkSetup, Moments};
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape::new(4, 3, 3, 8).unwrap();
        for name in ["a.png", "b.png"] {
            image::RgbImage::new(4, 3)
                .save(dir.path().join(name))
                .unwrap();
        }
        let st = super::super::StateOptions {
            path: dir.path().join("s.state"),
            every_frames: 1,
            every: std::time::Duration::from_secs(1),
        };
        let options = ScanOptions {
            state: Some(st.clone()),
            ..ScanOptions::default()
        };
        let inputs = [dir.path().join("*.png").to_string_lossy().into_owned()];
        let plan = || prepare(&inputs, &options, &mut super::super::Silent).unwrap();
        let fresh = plan();
        assert!(!fresh.dark_sums);
        assert_eq!(fresh.frames, FramePlan::full(options.jobs, false));
        let setup = DarkSetup::new(&[0.01, 8.0], 0, 255, crate::input::Encoding::Srgb);
        let mut counted = Moments::with_dark(shape, Some(setup));
        // A state that has counted nothing yet leaves the model to the frames.
        super::super::checkpoint::save(&st, shape, options.prefer, None, &[], &counted).unwrap();
        assert!(!plan().dark_sums);
        counted.n = 2;
        super::super::checkpoint::save(&st, shape, options.prefer, None, &[], &counted).unwrap();
        let resumed = plan();
        assert!(resumed.dark_sums);
        assert_eq!(resumed.frames, FramePlan::full(options.jobs, true));
    }

    /// A machine that holds the statistics but not the full batch beside them scans with fewer
    /// frames at once, the most that fit; decoders as well when one frame is all that fits.
    #[test]
    fn short_memory_holds_fewer_frames_instead_of_refusing() {
        let camera = Shape::new(6000, 4000, 3, 8).unwrap();
        let frame = 72_000_000;
        let state = 18 * frame + PROGRAM_BYTES;
        let plan = |available| plan_frames(camera, 2, false, false, Some(available)).unwrap();
        assert_eq!(plan(state + 8 * frame), FramePlan { batch: 8, jobs: 2 });
        assert_eq!(plan(state + 8 * frame - 1), FramePlan { batch: 7, jobs: 2 });
        assert_eq!(plan(state + 3 * frame), FramePlan { batch: 3, jobs: 2 });
        assert_eq!(plan(state + 2 * frame), FramePlan { batch: 2, jobs: 2 });
        assert_eq!(plan(state + 2 * frame - 1), FramePlan { batch: 1, jobs: 1 });
        assert!(plan_frames(camera, 2, false, false, Some(state + frame - 1)).is_err());
        for available in [state + frame, state + 5 * frame + 7, state + 9 * frame] {
            let p = plan(available);
            assert!(memory_of(camera, p, false, false) <= available);
        }
        assert_eq!(allowed_memory(Some(5), Some(3)), Some(3));
        assert_eq!(allowed_memory(Some(5), None), Some(5));
        assert_eq!(allowed_memory(None, Some(3)), Some(3));
    }
}
