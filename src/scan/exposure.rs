//! Which model of a hot pixel a scan uses ([`Model`]): dark current — an offset that grows with
//! exposure time × ISO — when enough of its frames say how they were exposed and their exposures
//! differ enough to show the growth; else a constant offset. And each frame's exposure.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::input::exif::Exposure;
use crate::input::Levels;
use crate::model::Model;
use crate::stats::dark::DarkSetup;

/// Frames with an exposure a scan needs at least for the dark-current model: fewer cannot tell a
/// rise with the exposure from the scene.
pub const MIN_DARK_FRAMES: usize = 8;

/// The exposures must spread at least this much (the ratio of the 90th to the 10th percentile):
/// two stops; closer exposures show a dark current as a constant offset.
pub const MIN_EXPOSURE_SPREAD: f64 = 4.0;

/// Each file's exposure (seconds × ISO / 100) where its EXIF gives one.
pub fn exposures_of(files: &[PathBuf], exif: &HashMap<PathBuf, Exposure>) -> HashMap<PathBuf, f64> {
    files
        .iter()
        .filter_map(|f| Some((f.clone(), exif.get(f)?.dark()?)))
        .collect()
}

/// The model for frames whose exposures are `exposures` (of `files` frames in all): dark current
/// when at least [`MIN_DARK_FRAMES`] have one and they spread [`MIN_EXPOSURE_SPREAD`]; else
/// constant offsets, saying why.
pub fn choose(files: usize, exposures: &[f64]) -> Model {
    if exposures.len() < MIN_DARK_FRAMES {
        return Model::Constant {
            reason: format!(
                "the EXIF of {} of the {files} frames gives their exposure time and ISO; the dark-current model needs {MIN_DARK_FRAMES}",
                exposures.len()
            ),
        };
    }
    let mut sorted = exposures.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let (low, high) = (at(0.1), at(0.9));
    if high < MIN_EXPOSURE_SPREAD * low {
        return Model::Constant {
            reason: format!(
                "the frames' exposures hardly vary ({} to {} s at ISO 100 for most): a dark current shows as a constant offset",
                round_seconds(low),
                round_seconds(high)
            ),
        };
    }
    Model::DarkCurrent {
        frames: exposures.len(),
        range: [sorted[0], sorted[sorted.len() - 1]],
    }
}

/// Seconds to three significant digits, for messages.
fn round_seconds(s: f64) -> f64 {
    if s <= 0.0 {
        return s;
    }
    let scale = 10f64.powi(2 - s.log10().floor() as i32);
    (s * scale).round() / scale
}

/// What the accumulators of a dark-current scan need: its frames' exposures (the sums' reference
/// and each frame's misfit weight follow from them) and where its frames clip, from their
/// `levels` (a RAW file's black and white, an image's 0 and largest value).
pub fn setup(exposures: &[f64], levels: &Levels) -> DarkSetup {
    let black = levels.black.iter().copied().fold(f32::INFINITY, f32::min);
    DarkSetup::new(
        exposures,
        black.max(0.0) as u32,
        levels.white as u32,
        levels.encoding,
    )
}

/// A frame's exposure, looked up by its file.
pub fn lookup(exposures: &HashMap<PathBuf, f64>) -> impl Fn(&Path) -> Option<f64> + Sync + '_ {
    move |path| exposures.get(path).copied()
}
