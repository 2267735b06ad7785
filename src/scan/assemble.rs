//! The report's assembly: ranking (lowest `M2`) and detection on a scan's statistics, with the
//! detection options the frames allow (too few frames or scenes raise the bar and say so), and
//! what discovery and decoding left out ([`report_of`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use super::{absolute, ScanOptions};
use crate::detect::timeline::Tracker;
use crate::detect::variety::{effective_scenes, threshold_raise, MIN_FROZEN_FRAMES, MIN_SCENES};
use crate::detect::{detect_with, lowest_m2, DetectOptions, FrozenSearch};
use crate::input::exif::{read_camera, Camera, CaptureTime, Exposure, ExposureRange};
use crate::input::{DecodeError, Discovery, Levels, Prefer, RawInfo, Shape, Skipped};
use crate::model::{ScanReport, Timing};
use crate::stats::{BackendInfo, Moments};

/// The statistics a report is made of, and where they come from.
pub struct Counted {
    /// The statistics.
    pub moments: Moments,
    /// The files counted, in order.
    pub files: Vec<PathBuf>,
    /// For RAW frames: the camera, margins and levels.
    pub raw: Option<RawInfo>,
    /// Which file of a RAW+JPEG pair was read.
    pub prefer: Prefer,
    /// The backend that ran the statistics.
    pub backend: BackendInfo,
}

/// What discovery and decoding left out, for a report.
#[derive(Default)]
pub struct Found {
    /// Files left out, with reasons.
    pub skipped: Vec<Skipped>,
    /// How many of them failed while decoding.
    pub failed: usize,
    /// Inputs that matched no file.
    pub unmatched: Vec<String>,
    /// Files of shots read in their other form.
    pub twins_left_out: usize,
    /// Some files had alpha, which was ignored.
    pub alpha_ignored: bool,
}

impl Found {
    /// What `discovery` left out, and the files that failed while decoding (`failures`), listed
    /// together in path order.
    pub fn of(discovery: &Discovery, failures: &[DecodeError]) -> Self {
        let mut skipped = discovery.skipped.clone();
        skipped.extend(failures.iter().map(|e| Skipped {
            path: e.path().to_path_buf(),
            reason: e.reason(),
        }));
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        Found {
            skipped,
            failed: failures.len(),
            unmatched: discovery.unmatched.clone(),
            twins_left_out: discovery.twins_left_out,
            alpha_ignored: discovery.alpha_ignored,
        }
    }
}

/// The warning for dark frames taken at more than one exposure setting: their hot pixels show at
/// more than one level.
fn mixed_darks(range: &ExposureRange) -> String {
    const SHOWN: usize = 4;
    let mut shown: Vec<String> = range
        .settings
        .iter()
        .take(SHOWN)
        .map(|e| e.describe())
        .collect();
    if range.settings.len() > SHOWN {
        shown.push("…".into());
    }
    format!(
        "the dark frames were taken at {} exposure settings ({}): a hot pixel's level grows with the exposure time and the ISO, so levels and kinds are judged on their mix; scan the darks of each setting on their own for levels that hold",
        range.settings.len(),
        shown.join(", ")
    )
}

/// The levels a scan's frames are judged in: a RAW file's own, else those of images of
/// `shape`'s bit depth (the codec's mixing noted when JPEG files are among `files`).
pub(super) fn levels_of(raw: Option<&RawInfo>, files: &[PathBuf], shape: Shape) -> Levels {
    raw.map(|r| r.levels).unwrap_or_else(|| Levels {
        codec_mixed: files.iter().any(|f| crate::input::formats::is_jpeg_file(f)),
        ..Levels::encoded(shape.bit_depth)
    })
}

/// The detection options for `moments`: `options.detect`, with stuck pixels reported only where
/// they also stand out ([`FrozenSearch::Supported`]) from too few frames or scenes, and the
/// threshold raised when the frames show too few scenes; with the warnings that say so and the
/// scenes the frames amount to.
pub(super) fn detect_options(
    moments: &Moments,
    options: &ScanOptions,
) -> (DetectOptions, Vec<String>, f64) {
    let scenes = effective_scenes(moments);
    let mut warnings = Vec::new();
    let mut detect = options.detect;
    if !detect.dark && moments.n < MIN_FROZEN_FRAMES {
        warnings.push(format!(
            "{} frames are too few to tell a stuck pixel from a still patch of the scene: below {MIN_FROZEN_FRAMES} frames a stuck one is reported only where it also stands out from its neighbours",
            moments.n
        ));
        detect.frozen = detect.frozen.min(FrozenSearch::Supported);
    }
    if !detect.dark && scenes < MIN_SCENES {
        let raise = threshold_raise(scenes);
        // Said once: the few-frames warning may have said it already.
        let stuck = if detect.frozen == FrozenSearch::Full {
            ", and a stuck pixel only where it also stands out from its neighbours"
        } else {
            ""
        };
        warnings.push(format!(
            "the {} frames show about {scenes:.1} independent scenes (fewer than {MIN_SCENES}): a defect is hard to tell from the scene, so only what stands out {raise:.2} times beyond the usual threshold is reported{stuck}; add frames of varied scenes, or scan dark frames with --dark",
            moments.n
        ));
        detect.sensitivity /= raise;
        detect.frozen = detect.frozen.min(FrozenSearch::Supported);
    }
    (detect, warnings, scenes)
}

/// Ranks and detects on `counted`'s statistics and makes the report, as a scan does.
pub fn report_of(
    counted: Counted,
    found: Found,
    options: &ScanOptions,
    started: Instant,
) -> ScanReport {
    let Counted {
        moments,
        files,
        raw,
        prefer,
        backend,
    } = counted;
    let shape = moments.shape;
    let ranking = Instant::now();
    let lowest = lowest_m2(&moments, options.top);
    let rank = ranking.elapsed();
    let levels = levels_of(raw.as_ref(), &files, shape);
    let estimating = Instant::now();
    let (detect, warnings, scenes) = detect_options(&moments, options);
    let scenes_time = estimating.elapsed();
    let detecting = Instant::now();
    let detection = detect_with(&moments, &detect, &levels);
    let timing = Timing {
        rank,
        scenes: scenes_time,
        detect: detecting.elapsed(),
        ..Timing::default()
    };
    let model = crate::model::Model::of(&moments);
    let camera = files.first().and_then(|f| read_camera(f)).or_else(|| {
        raw.as_ref()
            .map(|r| Camera::from_exif(&r.make, &r.model, None))
    });
    ScanReport {
        shape,
        camera,
        raw,
        levels,
        twins_left_out: found.twins_left_out,
        prefer,
        frames_used: moments.n as usize,
        skipped: found.skipped,
        failed: found.failed,
        unmatched: found.unmatched,
        alpha_ignored: found.alpha_ignored,
        backend,
        lowest,
        detection,
        scenes,
        warnings,
        files,
        moments,
        elapsed: started.elapsed(),
        timing,
        timeline: None,
        exposure: None,
        model,
        shown_at: None,
    }
}

/// Adds to `report` what the discovery knows of its frames: how they were exposed (with a warning
/// for dark frames of several settings judged as constant offsets) and, from `tracker`, when each defect was seen.
pub(super) fn describe_frames(
    report: &mut ScanReport,
    discovery: &Discovery,
    tracker: Option<Tracker>,
    options: &ScanOptions,
) {
    // The report names its files absolute ([`absolute`]), the discovery as it found them
    // (relative when the inputs were).
    let exposures: HashMap<PathBuf, &Exposure> = discovery
        .exposures
        .iter()
        .map(|(f, e)| (absolute(f), e))
        .collect();
    let taken: HashMap<PathBuf, CaptureTime> = discovery
        .taken
        .iter()
        .map(|(f, t)| (absolute(f), *t))
        .collect();
    report.exposure = ExposureRange::of(
        report
            .files
            .iter()
            .filter_map(|f| exposures.get(f).copied()),
    );
    if let Some(mixed) = report.exposure.as_ref().filter(|e| {
        // The dark-current model fits the settings' levels; a constant offset mixes them.
        options.detect.dark && e.settings.len() > 1 && !report.model.is_dark_current()
    }) {
        report.warnings.push(mixed_darks(mixed));
    }
    // A timeline needs every frame's capture time (the tracker is made only then).
    let frames: Option<Vec<(PathBuf, CaptureTime)>> = report
        .files
        .iter()
        .map(|f| taken.get(f).map(|t| (f.clone(), *t)))
        .collect();
    if let (Some(tracker), Some(frames)) = (tracker, frames) {
        let exposures: Vec<Option<f64>> = report
            .files
            .iter()
            .map(|f| exposures.get(f).and_then(|e| e.dark()))
            .collect();
        report.timeline =
            tracker.finish(&report.moments, &mut report.detection, &frames, &exposures);
    }
}
