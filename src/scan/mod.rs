//! The scan pipeline, one file per stage:
//!
//! 1. [`groups`]: the inputs discovered, grouped by camera body (a photo library), filtered
//!    (`--camera`, `--since`) and sharded (`--shard`);
//! 2. [`checks`]: what can be checked before decoding — a shape, two frames, the memory the
//!    statistics need ([`Prepared`]);
//! 3. [`backend`]: where the statistics run — the GPU opened once, the CPU taking over when it
//!    fails ([`Backend`]);
//! 4. [`window`]: a pool of decoders feeding the accumulator in file order through a bounded
//!    window ([`accumulate_files`]), so memory is bounded by the window, never by the number of
//!    files; a file that fails (or whose decoder panics) is reported and counted, and the scan
//!    goes on;
//! 5. [`run`]: the frames counted stretch by stretch ([`Prepared::run`]), in windows of capture
//!    time when they have one (the timeline), with [`checkpoint`]s to a state file and
//!    interruptions;
//! 6. [`assemble`]: ranking and detection on the statistics, and the [`ScanReport`] made of them.

pub mod assemble;
pub mod backend;
pub mod checkpoint;
pub mod checks;
pub mod exposure;
pub mod groups;
pub mod run;
pub mod window;

pub use crate::model::{ScanReport, Timing};
pub use assemble::{report_of, Counted, Found};
pub use backend::Backend;
pub use checkpoint::{
    interrupt, interrupted, StateOptions, DEFAULT_CHECKPOINT_EVERY, DEFAULT_CHECKPOINT_FRAMES,
};
pub use checks::{
    allowed_memory, memory_of, plan_frames, prepare, prepare_discovered, FramePlan, Prepared,
    PROGRAM_BYTES,
};
pub use groups::{discover_library, in_shard};
pub use window::{accumulate_files, accumulate_with, Accumulated, DecodeFn};

use std::path::PathBuf;

use crate::detect::DetectOptions;
use crate::input::discover::DEFAULT_MAX_MEGAPIXELS;
use crate::input::exif::{Camera, CaptureTime};
use crate::input::{DecodeError, Discovery, InputError, Prefer};
use crate::stats::state::StateError;
use crate::stats::{GpuError, GpuOptions, StatsError};

/// Which backend runs the statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    /// A hardware GPU when there is one, else the CPU.
    #[default]
    Auto,
    /// Any GPU adapter, software included; an error when there is none.
    Gpu,
    /// The CPU backend.
    Cpu,
}

/// Everything a scan needs besides its inputs.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The backend.
    pub backend: BackendChoice,
    /// How many lowest-`M2` subpixels to report.
    pub top: usize,
    /// Decoder threads (at least 1).
    pub jobs: usize,
    /// GPU tuning.
    pub gpu: GpuOptions,
    /// Detection settings.
    pub detect: DetectOptions,
    /// Which file of a shot saved as RAW and image both is read.
    pub prefer: Prefer,
    /// Headers claiming larger frames (in millions of pixels) are refused.
    pub max_megapixels: f64,
    /// Checkpoint the statistics to a state file, and resume from it.
    pub state: Option<StateOptions>,
    /// Read only shard `I` of `N` (1-based) of the files found ([`in_shard`]).
    pub shard: Option<(u32, u32)>,
    /// A library scan ([`discover_library`]) reads only the camera bodies whose name (make,
    /// model, serial number) contains this text, compared without case.
    pub camera: Option<String>,
    /// A library scan reads only the frames taken on or after this time.
    pub since: Option<CaptureTime>,
    /// Date the defects when every frame has a capture time and the scan is not resumable
    /// (no state file): the frames are counted in capture-time order, in windows
    /// ([`crate::detect::timeline`]).
    pub timeline: bool,
    /// The most memory the scan may take, in bytes (`None`: what the machine has available):
    /// beside the statistics it then holds fewer frames at once ([`plan_frames`]).
    pub max_memory: Option<u64>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            backend: BackendChoice::Auto,
            top: 10,
            jobs: default_jobs(),
            gpu: GpuOptions::default(),
            detect: DetectOptions::default(),
            prefer: Prefer::default(),
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
            state: None,
            shard: None,
            camera: None,
            since: None,
            timeline: true,
            max_memory: None,
        }
    }
}

/// `path` made absolute, as a state and a report name the files they counted (as it is when the
/// working folder cannot be read).
pub(crate) fn absolute(path: &std::path::Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// One decoder per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Errors that stop a scan (a single bad file never does).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The inputs are malformed or match nothing.
    #[error(transparent)]
    Input(#[from] InputError),
    /// No file had a readable image header.
    #[error("none of the {files} files is a readable image ({example})")]
    NoImages {
        /// How many files were tried.
        files: usize,
        /// The first of them and why it was refused, e.g. `a.CR2: not a readable camera RAW file…`.
        example: String,
    },
    /// Variance needs two frames.
    #[error("{0} usable frame(s) of {1}: variance needs at least two frames")]
    TooFewFrames(usize, String),
    /// More lowest-variance subpixels were asked for than the frames have.
    #[error("--top {top} is more than the {subpixels} subpixels of {shape}")]
    TopTooLarge {
        /// The number asked for.
        top: usize,
        /// Subpixels per frame.
        subpixels: usize,
        /// The frame shape.
        shape: String,
    },
    /// The statistics of the frames would not fit in the memory the machine has.
    #[error("the statistics of {shape} frames need {needed} of memory, and the scan may take {available} (what this machine has available, or --max-memory; --max-megapixels refuses such files)")]
    OutOfMemory {
        /// The frame shape.
        shape: String,
        /// The memory needed, e.g. `43.2 GB`.
        needed: String,
        /// The memory available.
        available: String,
    },
    /// An output may not be written (it is one of the inputs found).
    #[error("{0}")]
    Output(String),
    /// `--camera` matched none of the bodies found.
    #[error("--camera '{text}' matches none of the {groups} camera(s) found (hotpixels scan without --camera lists them)")]
    NoCamera {
        /// The text looked for.
        text: String,
        /// How many groups (cameras, and files naming none) there were.
        groups: usize,
    },
    /// `--since` left no file to scan.
    #[error("no file was taken on or after {since} ({left_out} taken earlier or without a capture time)")]
    NothingSince {
        /// The time asked for.
        since: CaptureTime,
        /// The files left out.
        left_out: usize,
    },
    /// The state file could not be read, written or used.
    #[error(transparent)]
    State(#[from] StateError),
    /// The scan was interrupted; its state was written when it has one.
    #[error("interrupted after {frames} frames{}", match state { Some(p) => format!("; the state is in {} (run the same command to resume)", p.display()), None => String::new() })]
    Interrupted {
        /// Frames counted so far.
        frames: u32,
        /// The state file written.
        state: Option<PathBuf>,
    },
    /// The GPU backend was asked for and is not available, or failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// The statistics failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// The statistics failed during a scan with a state file, which keeps what was counted up to
    /// its last checkpoint.
    #[error("{source}; {} keeps the {frames} frames counted before (run the same command to go on, with --backend cpu if the GPU fails again)", state.display())]
    Failed {
        /// What failed.
        source: StatsError,
        /// Frames the state file holds.
        frames: u32,
        /// The state file.
        state: PathBuf,
    },
}

impl ScanError {
    /// [`ScanError::NoImages`] for a discovery that found no usable shape.
    pub fn no_images(discovery: &Discovery) -> Self {
        ScanError::NoImages {
            files: discovery.skipped.len(),
            example: discovery
                .skipped
                .first()
                .map(|s| format!("{}: {}", s.path.display(), s.reason))
                .unwrap_or_default(),
        }
    }
}

/// Hooks a front end uses to show progress; every method has a no-op default.
pub trait ScanObserver {
    /// Discovery finished; `files` frames will be decoded.
    fn discovered(&mut self, _discovery: &Discovery) {}
    /// A file failed to decode; the scan goes on.
    fn decode_failed(&mut self, _error: &DecodeError) {}
    /// `done` of `total` files have been processed (`bytes` decoded sample bytes so far).
    fn progress(&mut self, _done: usize, _total: usize, _bytes: u64) {}
    /// Asked after each file: true stops taking frames (the files left are not read), for a
    /// checkpoint or an interruption.
    fn pause(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl ScanObserver for Silent {}

/// Runs a whole scan over `inputs` (files, directories, glob patterns): [`prepare`], then
/// [`Prepared::run`].
pub fn scan(
    inputs: &[String],
    options: &ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<ScanReport, ScanError> {
    prepare(inputs, options, observer)?.run(options, observer)
}

/// One camera group's scan in a photo library ([`scan_library`]).
pub struct GroupScan {
    /// The camera body, or `None` for the files that name none.
    pub camera: Option<Camera>,
    /// The group's report, or why it could not be scanned.
    pub report: Result<ScanReport, ScanError>,
}

/// Scans a photo library: every camera body on its own ([`discover_library`]), one group after
/// another on one backend. A group that cannot be scanned (too little memory, no usable frame)
/// has its error in its place and the others go on. Each report holds its group's statistics;
/// to keep only one group's in memory at a time, call [`discover_library`] and
/// [`prepare_discovered`] yourself, as the command line does.
pub fn scan_library(
    inputs: &[String],
    options: &ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<Vec<GroupScan>, ScanError> {
    let groups = discover_library(inputs, options)?;
    let mut backend = Backend::open(options.backend, options.gpu)?;
    Ok(groups
        .into_iter()
        .map(|g| GroupScan {
            camera: g.camera.clone(),
            report: prepare_discovered(g, options, observer)
                .and_then(|p| p.run_on(&mut backend, options, observer)),
        })
        .collect())
}
