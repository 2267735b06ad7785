//! What a scan found ([`ScanReport`]) and where its time went ([`Timing`]): the data every
//! writer reads, below both the pipeline that makes it ([`mod@crate::scan`]) and the formats that write
//! it ([`crate::report`]).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::detect::dark::AtExposure;
use crate::detect::timeline::Timeline;
use crate::detect::{Candidate, Detection};
use crate::input::exif::{Camera, ExposureRange};
use crate::input::{Levels, Prefer, RawInfo, Shape, Skipped};
use crate::stats::{BackendInfo, Moments};

/// Which model of a hot pixel a scan used ([`crate::scan::exposure::choose`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    /// Offsets that grow with exposure time × ISO: `frames` frames said how they were exposed,
    /// from `range[0]` to `range[1]` seconds at ISO 100, enough to show the growth.
    DarkCurrent {
        /// Frames with an exposure.
        frames: usize,
        /// The shortest and the longest exposure, seconds at ISO 100.
        range: [f64; 2],
    },
    /// A constant offset over the scene: the frames could not show how it grows.
    Constant {
        /// Why, in a sentence.
        reason: String,
    },
}

impl Model {
    /// One line for people: which model, over what, or why not.
    pub fn describe(&self) -> String {
        match self {
            Model::DarkCurrent { frames, range } => format!(
                "dark current: offsets grow with exposure time x ISO ({frames} frames exposed {} to {} s at ISO 100)",
                round3(range[0]),
                round3(range[1])
            ),
            Model::Constant { reason } => format!("constant offsets: {reason}"),
        }
    }

    /// The model `moments` were counted for: dark current when they keep those statistics.
    pub fn of(moments: &Moments) -> Self {
        match &moments.dark {
            Some(d) => Model::DarkCurrent {
                frames: d.exposures.len(),
                range: d
                    .exposures
                    .iter()
                    .fold([f64::INFINITY, 0.0], |[lo, hi], &e| {
                        [lo.min(e as f64), hi.max(e as f64)]
                    }),
            },
            None => Model::Constant {
                reason: "the statistics keep no exposures".into(),
            },
        }
    }

    /// True for [`Model::DarkCurrent`].
    pub fn is_dark_current(&self) -> bool {
        matches!(self, Model::DarkCurrent { .. })
    }
}

/// `v` to three significant digits.
fn round3(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return v;
    }
    let scale = 10f64.powi(2 - v.log10().floor() as i32);
    (v * scale).round() / scale
}

/// What a scan found.
#[derive(Clone, Debug)]
pub struct ScanReport {
    /// The frame shape.
    pub shape: Shape,
    /// For RAW frames: the camera, margins and levels (of the first file).
    pub raw: Option<RawInfo>,
    /// The camera of the first file accumulated: from its EXIF, else (RAW) from the decoder.
    pub camera: Option<Camera>,
    /// The levels that turn values into linear light (from `raw`, or an image's sRGB levels).
    pub levels: Levels,
    /// Files left out because the same shot was read in the preferred form (RAW or image).
    pub twins_left_out: usize,
    /// Which form of a shot saved twice was read.
    pub prefer: Prefer,
    /// Frames accumulated.
    pub frames_used: usize,
    /// Files left out, with reasons: at discovery and while decoding.
    pub skipped: Vec<Skipped>,
    /// How many of the skipped files failed while decoding (the others were skipped by header).
    pub failed: usize,
    /// Inputs that matched no file.
    pub unmatched: Vec<String>,
    /// Some files had alpha, which was ignored.
    pub alpha_ignored: bool,
    /// The backend that ran the statistics.
    pub backend: BackendInfo,
    /// Lowest `M2` first; the first is the argmin.
    pub lowest: Vec<Candidate>,
    /// The defects found, strongest first, and the thresholds used.
    pub detection: Detection,
    /// How many independent scenes the frames amount to ([`crate::detect::variety::effective_scenes`]).
    pub scenes: f64,
    /// What the user should know about the answer (too few scenes), one sentence each.
    pub warnings: Vec<String>,
    /// The files accumulated, in order.
    pub files: Vec<PathBuf>,
    /// The statistics themselves.
    pub moments: Moments,
    /// Wall time of the whole scan.
    pub elapsed: Duration,
    /// Where the time went.
    pub timing: Timing,
    /// The windows of capture-time order the defects were dated in, when the frames had
    /// capture times ([`crate::detect::timeline`]).
    pub timeline: Option<Timeline>,
    /// How the frames counted were exposed, when their EXIF says.
    pub exposure: Option<ExposureRange>,
    /// Which model of a hot pixel the scan used, and why.
    pub model: Model,
    /// The exposure the defects were judged at, when asked (`--at`): the others were left out.
    pub shown_at: Option<ShownAt>,
}

/// The exposure a report's defects were judged at ([`ScanReport::judge_at`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ShownAt {
    /// The exposure asked about.
    #[serde(flatten)]
    pub at: AtExposure,
    /// How many defects were found before those that would not show there were left out.
    pub of: usize,
}

impl ScanReport {
    /// Keeps only the defects that show at `at` ([`AtExposure::shows`]; a constant offset always
    /// does), saying so in [`ScanReport::shown_at`].
    pub fn judge_at(&mut self, at: AtExposure) {
        let of = self.detection.defects.len();
        self.detection.defects.retain(|d| at.shows(d.dark.as_ref()));
        self.shown_at = Some(ShownAt { at, of });
    }
}

/// Where a scan's time went: per frame, the decoders' busy time (summed over their threads), the
/// time the accumulator waited for the next frame in file order, the time it spent on the
/// statistics (adding frames; the GPU's read-back); once per scan, making the statistics' memory
/// (allocation and first touch), ranking the lowest `M2`, estimating the scenes, detection, and
/// the timeline's windows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// Decoding, summed over the decoder threads.
    pub decode: Duration,
    /// The accumulator waiting for a decoded frame.
    pub wait: Duration,
    /// Adding frames to the statistics and finishing them.
    pub statistics: Duration,
    /// Making the accumulators: allocating their state and touching it first.
    pub allocate: Duration,
    /// Ranking the lowest `M2`.
    pub rank: Duration,
    /// Estimating how many independent scenes the frames show.
    pub scenes: Duration,
    /// Scoring, clustering and naming the defects.
    pub detect: Duration,
    /// Detecting in the timeline's windows and dating the defects.
    pub timeline: Duration,
}

impl Timing {
    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &Timing) {
        self.decode += other.decode;
        self.wait += other.wait;
        self.statistics += other.statistics;
        self.allocate += other.allocate;
        self.rank += other.rank;
        self.scenes += other.scenes;
        self.detect += other.detect;
        self.timeline += other.timeline;
    }
}
