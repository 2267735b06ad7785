//! What a scan found ([`ScanReport`]) and where its time went ([`Timing`]): the data every
//! writer reads, below both the pipeline that makes it ([`mod@crate::scan`]) and the formats that write
//! it ([`crate::report`]).

use std::path::PathBuf;
use std::time::Duration;

use crate::detect::timeline::Timeline;
use crate::detect::{Candidate, Detection};
use crate::input::exif::{Camera, ExposureRange};
use crate::input::{Levels, Prefer, RawInfo, Shape, Skipped};
use crate::stats::{BackendInfo, Moments};

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
}

/// Where a scan's time went: the decoders' busy time (summed over their threads), the time the
/// accumulator waited for the next frame in file order, the time it spent on the statistics
/// (adding frames; the GPU's read-back), and detection.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// Decoding, summed over the decoder threads.
    pub decode: Duration,
    /// The accumulator waiting for a decoded frame.
    pub wait: Duration,
    /// Adding frames to the statistics and finishing them.
    pub statistics: Duration,
    /// Ranking and detection.
    pub detect: Duration,
}

impl Timing {
    /// Adds `other`'s times to these.
    pub fn add(&mut self, other: &Timing) {
        self.decode += other.decode;
        self.wait += other.wait;
        self.statistics += other.statistics;
        self.detect += other.detect;
    }
}
