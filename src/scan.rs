//! The scan pipeline: discovery ([`prepare`]), then ([`Prepared::run`]) a pool of decoders feeding
//! the accumulator in file order through a bounded window, then ranking and detection. Memory is
//! bounded by the window, never by the number of files; a file that fails (or whose decoder
//! panics) is reported and counted, and the scan goes on.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::detect::timeline::{self, Timeline, Tracker};
use crate::detect::variety::{effective_scenes, threshold_raise, MIN_FROZEN_FRAMES, MIN_SCENES};
use crate::detect::{detect_with, lowest_m2, Candidate, DetectOptions, Detection, FrozenSearch};
use crate::input::discover::{discover_groups, DEFAULT_MAX_MEGAPIXELS};
use crate::input::exif::{read_camera, Camera, CaptureTime, ExposureRange};
use crate::input::{
    decode_file_pooled, discover_with, guard_decoder, DecodeError, DiscoverOptions, Discovery,
    Frame, FramePool, InputError, Levels, Prefer, RawInfo, Shape, Skipped,
};
use crate::state::{self, CountedFile, StateError, StateHeader, STATE_VERSION};
use crate::stats::{
    Accumulator, BackendInfo, CpuAccumulator, GpuContext, GpuError, GpuOptions, Moments, StatsError,
};

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
    /// Read only shard `I` of `N` (1-based) of the files found ([`state::in_shard`]).
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
        }
    }
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
    #[error("the statistics of {shape} frames need {needed} of memory, and this machine has {available} available (--max-megapixels refuses such files)")]
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
    /// How many independent scenes the frames amount to ([`effective_scenes`]).
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

/// What [`accumulate_with`] did.
#[derive(Debug)]
pub struct Accumulated {
    /// Frames added.
    pub used: usize,
    /// Files that failed to decode.
    pub failed: Vec<DecodeError>,
    /// How many of the files, from the first, were taken (all of them unless paused).
    pub taken: usize,
    /// Where the time went.
    pub timing: Timing,
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

/// An observer that ignores everything.
pub struct Silent;
impl ScanObserver for Silent {}

/// Where a scan's statistics run: the GPU context is opened once per run and gives an
/// accumulator per stretch of frames.
///
/// With [`BackendChoice::Auto`], a machine without a hardware GPU uses the CPU as a matter of
/// course; a GPU that opens but cannot hold the statistics, or fails during the scan (a lost
/// device, a failed allocation), hands over to the CPU, which counts the stretch again, and
/// [`Backend::note`] says why, once.
pub struct Backend {
    gpu: Option<GpuContext>,
    options: GpuOptions,
    fallback: bool,
    note: Option<String>,
    /// Statistics handed back ([`Backend::recycle`]) for the CPU's next accumulator to count into.
    spare: Option<Moments>,
}

impl Backend {
    /// Opens the backend `choice` asks for: a GPU context for `Gpu` (any adapter) and for `Auto`
    /// (hardware adapters only) when one opens.
    ///
    /// With `Auto`, a machine without a hardware adapter is not a fault (the CPU runs, the report
    /// names it); an adapter that is there and does not open is, and the note says why.
    pub fn open(choice: BackendChoice, options: GpuOptions) -> Result<Self, ScanError> {
        let mut backend = Backend {
            gpu: None,
            options,
            fallback: choice == BackendChoice::Auto,
            note: None,
            spare: None,
        };
        match choice {
            BackendChoice::Cpu => {}
            BackendChoice::Gpu => backend.gpu = Some(GpuContext::open(true)?),
            BackendChoice::Auto => match GpuContext::open(false) {
                Ok(ctx) => backend.gpu = Some(ctx),
                Err(GpuError::NoAdapter(_)) => {}
                Err(e) => backend.hand_over(&e.to_string()),
            },
        }
        Ok(backend)
    }

    /// A backend on an open GPU context; with `fallback`, the CPU takes over when the GPU fails,
    /// as with [`BackendChoice::Auto`].
    pub fn on_gpu(context: GpuContext, options: GpuOptions, fallback: bool) -> Self {
        Backend {
            gpu: Some(context),
            options,
            fallback,
            note: None,
            spare: None,
        }
    }

    /// The GPU context, while the GPU runs the statistics.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.gpu.as_ref()
    }

    /// Why the CPU took over from the GPU, when it did.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// A new accumulator for frames of `shape`.
    pub fn accumulator(&mut self, shape: Shape) -> Result<Box<dyn Accumulator>, ScanError> {
        if let Some(ctx) = &self.gpu {
            match ctx.accumulator(shape, self.options) {
                Ok(acc) => return Ok(Box::new(acc)),
                Err(e) if self.fallback => self.hand_over(&e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        match self.spare.take().filter(|m| m.shape == shape) {
            Some(spare) => Ok(Box::new(CpuAccumulator::reusing(spare))),
            None => Ok(Box::new(CpuAccumulator::new(shape))),
        }
    }

    /// Hands back statistics no longer needed: the CPU's next accumulator counts into their
    /// memory instead of new memory (which the system must fault in and zero).
    pub fn recycle(&mut self, moments: Moments) {
        if self.gpu.is_none() {
            self.spare = Some(moments);
        }
    }

    /// After an accumulator failed with `error`: true when the CPU takes over (the GPU failed
    /// and falling back is allowed), so that the caller counts the stretch again.
    pub fn recover(&mut self, error: &StatsError) -> bool {
        let takes_over = self.fallback && self.gpu.is_some() && matches!(error, StatsError::Gpu(_));
        if takes_over {
            self.hand_over(&error.to_string());
        }
        takes_over
    }

    fn hand_over(&mut self, reason: &str) {
        self.gpu = None;
        self.note.get_or_insert_with(|| {
            format!("the GPU could not run the statistics ({reason}); the CPU did")
        });
    }
}

/// How far decoders may run ahead of the accumulator: at most `size` files past the last one
/// consumed. Waiting and aborting go through one mutex, so an abort cannot slip between a
/// decoder's check and its wait.
struct Window {
    size: usize,
    state: Mutex<WindowState>,
    moved: Condvar,
}

struct WindowState {
    consumed: usize,
    aborted: bool,
}

impl Window {
    fn new(size: usize) -> Self {
        Window {
            size,
            state: Mutex::new(WindowState {
                consumed: 0,
                aborted: false,
            }),
            moved: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until file `i` is within the window; false when the scan was aborted.
    fn wait_turn(&self, i: usize) -> bool {
        let mut s = self.lock();
        while i >= s.consumed + self.size && !s.aborted {
            s = self.moved.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        !s.aborted
    }

    /// Files before `consumed` have been taken by the accumulator.
    fn advance(&self, consumed: usize) {
        self.lock().consumed = consumed;
        self.moved.notify_all();
    }

    /// Stops every decoder: waiting ones wake and give up, running ones stop after their file.
    fn abort(&self) {
        self.lock().aborted = true;
        self.moved.notify_all();
    }
}

/// Decodes `files` on `jobs` threads and adds the frames to `acc` in file order, until the
/// observer asks to [pause](ScanObserver::pause).
///
/// Decoders run at most a window of `jobs + 2` files ahead of the accumulator, so at most that
/// many decoded frames wait besides the ones the accumulator holds
/// ([`Accumulator::frames_held`]).
pub fn accumulate_files(
    files: &[PathBuf],
    shape: Shape,
    acc: &mut dyn Accumulator,
    jobs: usize,
    observer: &mut dyn ScanObserver,
) -> Result<Accumulated, StatsError> {
    accumulate_with(files, acc, jobs, observer, &|path, pool| {
        decode_file_pooled(path, shape, pool)
    })
}

/// A decoder: reads one file into a frame, its buffer taken from the pool.
pub type DecodeFn<'a> = dyn Fn(&Path, &Arc<FramePool>) -> Result<Frame, DecodeError> + Sync + 'a;

/// [`accumulate_files`] with any decoder. A decoder that panics fails that file only
/// ([`guard_decoder`]); an accumulator that fails stops the decoders and is returned.
pub fn accumulate_with(
    files: &[PathBuf],
    acc: &mut dyn Accumulator,
    jobs: usize,
    observer: &mut dyn ScanObserver,
    decode: &DecodeFn,
) -> Result<Accumulated, StatsError> {
    let jobs = jobs.max(1).min(files.len().max(1));
    let window = Window::new(jobs + 2);
    let next = AtomicUsize::new(0);
    let decode_nanos = AtomicU64::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<_, DecodeError>)>(window.size);
    // Enough idle buffers for every frame that can be alive at once.
    let pool = FramePool::new(window.size + acc.frames_held());

    std::thread::scope(|s| {
        for k in 0..jobs {
            let tx = tx.clone();
            let (next, window, pool, decode_nanos) = (&next, &window, &pool, &decode_nanos);
            std::thread::Builder::new()
                .name(format!("hotpixels-decode-{k}"))
                .spawn_scoped(s, move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() || !window.wait_turn(i) {
                        break;
                    }
                    let path = &files[i];
                    let began = Instant::now();
                    let result = guard_decoder(path, || decode(path, pool));
                    decode_nanos.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                })
                .expect("spawning a decoder thread");
        }
        drop(tx);

        let mut pending = BTreeMap::new();
        let mut expected = 0usize;
        let mut used = 0usize;
        let mut failed = Vec::new();
        let mut bytes = 0u64;
        let mut timing = Timing::default();
        let outcome = (|| {
            let mut waiting = Instant::now();
            'files: for (i, result) in rx.iter() {
                timing.wait += waiting.elapsed();
                pending.insert(i, result);
                while let Some(result) = pending.remove(&expected) {
                    match result {
                        Ok(frame) => {
                            bytes += frame.as_bytes().len() as u64;
                            let adding = Instant::now();
                            acc.add(frame)?;
                            timing.statistics += adding.elapsed();
                            used += 1;
                        }
                        Err(e) => {
                            observer.decode_failed(&e);
                            failed.push(e);
                        }
                    }
                    expected += 1;
                    window.advance(expected);
                    observer.progress(expected, files.len(), bytes);
                    if expected < files.len() && observer.pause() {
                        break 'files;
                    }
                }
                waiting = Instant::now();
            }
            Ok(())
        })();
        if outcome.is_err() || expected < files.len() {
            window.abort();
            drop(rx);
        }
        timing.decode = Duration::from_nanos(decode_nanos.load(Ordering::Relaxed));
        outcome.map(|()| Accumulated {
            used,
            failed,
            taken: expected,
            timing,
        })
    })
}

/// A scan whose inputs have been discovered (headers read, shape chosen) and checked, and whose
/// work has not started: the moment to check outputs against [`Prepared::files`].
pub struct Prepared {
    discovery: Discovery,
    shape: Shape,
    started: Instant,
}

/// Bytes of state per subpixel: the [`crate::stats::Moments`] arrays, f32 each.
pub const STATE_BYTES_PER_SUBPIXEL: u64 = crate::stats::STATE_ARRAYS as u64 * 4;

/// The memory a scan of `shape` frames with `jobs` decoders needs at most: the state (twice with
/// a state file: the total so far beside the stretch being counted), and the frames alive at once
/// (one per decoder, two waiting, and the CPU backend's batch).
pub fn memory_needed(shape: Shape, jobs: usize, state_file: bool) -> u64 {
    let subpixels = shape.subpixels() as u64;
    let frame = subpixels * (shape.bit_depth as u64 / 8);
    let frames = (jobs + 2 + crate::stats::cpu::DEFAULT_BATCH) as u64;
    let states = if state_file { 2 } else { 1 };
    states * subpixels * STATE_BYTES_PER_SUBPIXEL + frame * frames
}

/// Refuses a scan whose [`memory_needed`] is more than `available` (not checked when unknown),
/// before anything large is allocated.
pub fn check_memory(
    shape: Shape,
    jobs: usize,
    state_file: bool,
    available: Option<u64>,
) -> Result<(), ScanError> {
    let needed = memory_needed(shape, jobs, state_file);
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

/// What [`discover_with`] needs of the scan's options.
fn discover_options(options: &ScanOptions) -> DiscoverOptions {
    DiscoverOptions {
        prefer: options.prefer,
        max_megapixels: options.max_megapixels,
    }
}

/// Keeps in every group only the files of `shard` (`I` of `N`), the shard computed over the
/// files of all groups (their common folder).
fn keep_shard(groups: &mut [Discovery], (index, count): (u32, u32)) {
    let absolute = |f: &PathBuf| std::path::absolute(f).unwrap_or_else(|_| f.clone());
    let all: Vec<PathBuf> = groups
        .iter()
        .flat_map(|g| g.files.iter().map(absolute))
        .collect();
    let root = state::common_root(&all);
    for g in groups {
        g.files
            .retain(|f| state::in_shard(&absolute(f), &root, index, count));
    }
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
    check_memory(
        shape,
        options.jobs,
        options.state.is_some(),
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
    })
}

/// The name a camera group goes by: the body ([`Camera::body`]), or `no camera` for the files
/// that name none.
pub fn group_name(camera: Option<&Camera>) -> String {
    camera.map_or_else(|| "no camera".into(), Camera::body)
}

/// Discovers a photo library: one discovery per camera body ([`discover_groups`]), each to be
/// scanned on its own ([`prepare_discovered`]). `options.camera` keeps only the bodies whose
/// name ([`Camera::body`]) contains its text, compared without case; `options.shard` keeps the
/// shard's files of every group. When there are several groups, a group with a single frame is
/// not scanned: its files are listed as skipped, with the first group's (which also carries
/// the files and inputs that belong to no group). Each file belongs to one group, so scanning
/// the groups one after another still reads every file once, with the memory of the largest
/// group's scan.
pub fn discover_library(
    inputs: &[String],
    options: &ScanOptions,
) -> Result<Vec<Discovery>, ScanError> {
    let mut groups = discover_groups(inputs, &discover_options(options))?;
    if let Some(text) = &options.camera {
        groups = keep_cameras(groups, text)?;
    }
    if let Some(since) = options.since {
        groups = keep_since(groups, since)?;
    }
    if let Some(shard) = options.shard {
        keep_shard(&mut groups, shard);
    }
    if groups.len() > 1 {
        let (single, mut scanned): (Vec<Discovery>, Vec<Discovery>) = groups
            .into_iter()
            .partition(|g| g.files.len() < 2 && g.shape.is_some());
        if scanned.is_empty() {
            scanned.push(single.into_iter().next().expect("one group at least"));
        } else {
            for mut g in single {
                let reason = format!(
                    "the only frame of {}: a camera needs two frames at least",
                    group_name(g.camera.as_ref())
                );
                let files = std::mem::take(&mut g.files);
                g.skipped.extend(files.into_iter().map(|path| Skipped {
                    path,
                    reason: reason.clone(),
                }));
                scanned[0].absorb(g);
            }
        }
        groups = scanned;
    }
    Ok(groups)
}

/// Every group with only its files taken on or after `since`; groups left without a file are
/// dropped, what they left out counted with the first group kept.
fn keep_since(groups: Vec<Discovery>, since: CaptureTime) -> Result<Vec<Discovery>, ScanError> {
    let mut kept: Vec<Discovery> = Vec::new();
    let mut dropped = Discovery::default();
    for mut g in groups {
        g.keep_since(since);
        if g.files.is_empty() {
            dropped.absorb(g);
        } else {
            kept.push(g);
        }
    }
    let Some(head) = kept.first_mut() else {
        return Err(ScanError::NothingSince {
            since,
            left_out: dropped.before_since,
        });
    };
    head.absorb(dropped);
    Ok(kept)
}

/// The groups whose camera's name contains `text` (without case); what the first group carried
/// for all of them (files and inputs of no group) moves to the first kept.
fn keep_cameras(groups: Vec<Discovery>, text: &str) -> Result<Vec<Discovery>, ScanError> {
    let wanted = text.to_lowercase();
    let found = groups.len();
    let mut groups = groups.into_iter();
    let Some(mut first) = groups.next() else {
        return Ok(Vec::new());
    };
    let carried = Discovery {
        skipped: std::mem::take(&mut first.skipped),
        unmatched: std::mem::take(&mut first.unmatched),
        twins_left_out: std::mem::take(&mut first.twins_left_out),
        before_since: std::mem::take(&mut first.before_since),
        ..Default::default()
    };
    let matches = |g: &Discovery| {
        g.camera
            .as_ref()
            .is_some_and(|c| c.body().to_lowercase().contains(&wanted))
    };
    let mut kept: Vec<Discovery> = std::iter::once(first)
        .chain(groups)
        .filter(matches)
        .collect();
    let Some(head) = kept.first_mut() else {
        return Err(ScanError::NoCamera {
            text: text.into(),
            groups: found,
        });
    };
    head.absorb(carried);
    Ok(kept)
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

    /// Decodes and accumulates every file, then ranks and detects. With [`ScanOptions::state`],
    /// the files its state file counts already are not read again, and the state is written
    /// after every [`StateOptions::every_frames`] frames or [`StateOptions::every`] of time, at
    /// the end, and when [`interrupt`] was called (the scan then ends with
    /// [`ScanError::Interrupted`]).
    pub fn run(
        self,
        options: &ScanOptions,
        observer: &mut dyn ScanObserver,
    ) -> Result<ScanReport, ScanError> {
        let mut backend = Backend::open(options.backend, options.gpu)?;
        self.run_on(&mut backend, options, observer)
    }

    /// [`Prepared::run`] on a backend already open (`options.backend` and `options.gpu` are not
    /// looked at).
    pub fn run_on(
        self,
        backend: &mut Backend,
        options: &ScanOptions,
        observer: &mut dyn ScanObserver,
    ) -> Result<ScanReport, ScanError> {
        let Prepared {
            discovery,
            shape,
            started,
        } = self;
        let mut total: Option<Moments> = None;
        let mut counted: Vec<CountedFile> = Vec::new();
        let mut raw = discovery.raw.clone();
        let mut resumed = false;
        if let Some(st) = options.state.as_ref().filter(|st| st.path.exists()) {
            resumed = true;
            let saved = state::read(&st.path)?;
            saved.check(&st.path, shape, options.prefer)?;
            raw = raw.or(saved.header.raw);
            counted = saved.header.files;
            total = (saved.moments.n > 0).then_some(saved.moments);
        }
        let seen: HashSet<CountedFile> = counted.iter().cloned().collect();
        let mut todo: Vec<PathBuf> = discovery
            .files
            .iter()
            .filter(|f| CountedFile::of(f).is_none_or(|c| !seen.contains(&c)))
            .cloned()
            .collect();
        // With capture times for every file, the frames are counted in their order, window by
        // window, each window's detection kept to date the defects.
        let windows = timeline::window_count(todo.len());
        let dated = options.timeline
            && options.state.is_none()
            && windows >= 2
            && todo.iter().all(|f| discovery.taken.contains_key(f));
        let mut tracker = dated.then(|| {
            todo.sort_by_key(|f| (discovery.taken[f], f.clone()));
            Tracker::new(options.detect.dark)
        });
        let levels = levels_of(raw.as_ref(), &todo, shape);
        let window_ends: Vec<usize> = if dated {
            (1..=windows)
                .map(|w| timeline::window_start(todo.len(), windows, w))
                .collect()
        } else {
            vec![todo.len()]
        };
        let mut pacer = Pacer::new(observer, options.state.as_ref(), discovery.files.len());
        let already = discovery.files.len() - todo.len();
        let mut timing = Timing::default();
        let mut failures: Vec<DecodeError> = Vec::new();
        let mut info = None;
        let mut at = 0;
        loop {
            let mut acc = backend.accumulator(shape)?;
            let acc_info = acc.info();
            pacer.restart(already + at);
            let end = window_ends
                .iter()
                .copied()
                .find(|&e| e > at)
                .unwrap_or(todo.len());
            let result = accumulate_files(
                &todo[at..end],
                shape,
                acc.as_mut(),
                options.jobs,
                &mut pacer,
            )
            .and_then(|mut done| {
                let finishing = Instant::now();
                let part = acc.finish()?;
                done.timing.statistics += finishing.elapsed();
                Ok((done, part))
            });
            let (done, part) = match result {
                Ok(counted) => counted,
                // The CPU counts the stretch again.
                Err(e) if backend.recover(&e) => continue,
                Err(source) => {
                    return Err(match (&options.state, &total) {
                        (Some(st), Some(m)) if st.path.exists() => ScanError::Failed {
                            source,
                            frames: m.n,
                            state: st.path.clone(),
                        },
                        _ => source.into(),
                    })
                }
            };
            info.get_or_insert(acc_info);
            timing.add(&done.timing);
            if let Some(tracker) = tracker.as_mut().filter(|_| part.n >= 2) {
                let detecting = Instant::now();
                let (detect, _, _) = detect_options(&part, options);
                tracker.window(total.as_ref(), &part, &detect_with(&part, &detect, &levels));
                timing.detect += detecting.elapsed();
            }
            if part.n > 0 {
                match total.as_mut() {
                    Some(t) => {
                        t.merge(&part)?;
                        // The next stretch counts into this one's memory.
                        if at + done.taken < todo.len() {
                            backend.recycle(part);
                        }
                    }
                    None => total = Some(part),
                }
            }
            let failed: HashSet<&Path> = done.failed.iter().map(|e| e.path()).collect();
            counted.extend(
                todo[at..at + done.taken]
                    .iter()
                    .filter(|f| !failed.contains(f.as_path()))
                    .filter_map(|f| CountedFile::of(f)),
            );
            failures.extend(done.failed);
            at += done.taken;
            // A resumed scan with nothing new to count leaves its state as it was.
            let changed = done.taken > 0 || !resumed;
            if let (Some(st), Some(m), true) = (&options.state, &total, changed) {
                let header = StateHeader {
                    version: STATE_VERSION,
                    shape,
                    prefer: options.prefer,
                    frames: m.n,
                    raw: raw.clone(),
                    files: counted.clone(),
                };
                state::write_parts(&st.path, &header, m)?;
            }
            if interrupted() {
                return Err(ScanError::Interrupted {
                    frames: total.as_ref().map_or(0, |m| m.n),
                    state: options.state.as_ref().map(|st| st.path.clone()),
                });
            }
            if at >= todo.len() {
                break;
            }
        }
        let moments = total.unwrap_or_else(|| Moments::new(shape));
        if moments.n < 2 {
            return Err(ScanError::TooFewFrames(
                moments.n as usize,
                shape.describe(),
            ));
        }
        let mut skipped = discovery.skipped;
        let failed = failures.len();
        skipped.extend(failures.iter().map(|e| Skipped {
            path: e.path().to_path_buf(),
            reason: e.reason(),
        }));
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let mut report = report_of(
            Counted {
                moments,
                files: counted.into_iter().map(|c| c.path).collect(),
                raw,
                prefer: options.prefer,
                backend: info.expect("a backend counted the frames"),
            },
            Found {
                skipped,
                failed,
                unmatched: discovery.unmatched,
                twins_left_out: discovery.twins_left_out,
                alpha_ignored: discovery.alpha_ignored,
            },
            options,
            started,
        );
        report.warnings.extend(backend.note().map(str::to_string));
        report.timing.add(&timing);
        report.exposure = ExposureRange::of(
            report
                .files
                .iter()
                .filter_map(|f| discovery.exposures.get(f)),
        );
        if let Some(mixed) = report
            .exposure
            .as_ref()
            .filter(|e| options.detect.dark && e.settings.len() > 1)
        {
            report.warnings.push(mixed_darks(mixed));
        }
        if let Some(tracker) = tracker {
            let frames: Vec<(PathBuf, CaptureTime)> = report
                .files
                .iter()
                .map(|f| (f.clone(), discovery.taken[f]))
                .collect();
            report.timeline = tracker.finish(&report.moments, &mut report.detection, &frames);
        }
        Ok(report)
    }
}

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
fn levels_of(raw: Option<&RawInfo>, files: &[PathBuf], shape: Shape) -> Levels {
    raw.map(|r| r.levels).unwrap_or_else(|| Levels {
        codec_mixed: files.iter().any(|f| crate::input::formats::is_jpeg_file(f)),
        ..Levels::encoded(shape.bit_depth)
    })
}

/// The detection options for `moments`: `options.detect`, with stuck pixels reported only where
/// they also stand out ([`FrozenSearch::Supported`]) from too few frames or scenes, and the
/// threshold raised when the frames show too few scenes; with the warnings that say so and the
/// scenes the frames amount to.
fn detect_options(moments: &Moments, options: &ScanOptions) -> (DetectOptions, Vec<String>, f64) {
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
    let detecting = Instant::now();
    let lowest = lowest_m2(&moments, options.top);
    let levels = levels_of(raw.as_ref(), &files, shape);
    let (detect, warnings, scenes) = detect_options(&moments, options);
    let detection = detect_with(&moments, &detect, &levels);
    let timing = Timing {
        detect: detecting.elapsed(),
        ..Timing::default()
    };
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
    }
}

/// Set when the scan is to stop at the next file (a signal's handler may set it).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks a running scan to stop after the frame in hand and write its state: safe to call from a
/// signal handler (it only stores to an atomic).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// True once [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Where and how often a scan checkpoints its state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateOptions {
    /// The state file: read when it exists, written after every stretch of frames.
    pub path: PathBuf,
    /// Frames between checkpoints.
    pub every_frames: usize,
    /// Time between checkpoints.
    pub every: Duration,
}

/// Frames between checkpoints unless told otherwise.
pub const DEFAULT_CHECKPOINT_FRAMES: usize = 500;
/// Time between checkpoints unless told otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(120);

/// An observer that passes everything on and pauses the scan for checkpoints and interruptions.
/// Progress is passed on counted over the whole scan (`total` files), not over the stretch; a file
/// that fails again when a stretch is counted again (on the CPU, after the GPU failed) is reported
/// once.
struct Pacer<'a> {
    inner: &'a mut dyn ScanObserver,
    /// Files whose failure was passed on.
    reported: HashSet<PathBuf>,
    every: Option<(usize, Duration)>,
    frames: usize,
    since: Instant,
    /// Files done before the current stretch (counted by earlier runs or stretches).
    before: usize,
    total: usize,
}

impl<'a> Pacer<'a> {
    fn new(inner: &'a mut dyn ScanObserver, state: Option<&StateOptions>, total: usize) -> Self {
        Pacer {
            inner,
            reported: HashSet::new(),
            every: state.map(|s| (s.every_frames.max(1), s.every)),
            frames: 0,
            since: Instant::now(),
            before: 0,
            total,
        }
    }

    /// A new stretch between checkpoints begins, `before` files into the scan.
    fn restart(&mut self, before: usize) {
        self.frames = 0;
        self.since = Instant::now();
        self.before = before;
    }
}

impl ScanObserver for Pacer<'_> {
    fn discovered(&mut self, discovery: &Discovery) {
        self.inner.discovered(discovery)
    }
    fn decode_failed(&mut self, error: &DecodeError) {
        if self.reported.insert(error.path().to_path_buf()) {
            self.inner.decode_failed(error)
        }
    }
    fn progress(&mut self, done: usize, _stretch: usize, bytes: u64) {
        self.frames += 1;
        self.inner.progress(self.before + done, self.total, bytes)
    }
    fn pause(&mut self) -> bool {
        let due = self
            .every
            .is_some_and(|(frames, time)| self.frames >= frames || self.since.elapsed() >= time);
        interrupted() || due || self.inner.pause()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{BackendInfo, BackendKind, CpuAccumulator, Moments};
    use std::time::Duration;

    #[test]
    fn a_state_larger_than_the_memory_available_is_refused_naming_both() {
        let huge = Shape::new(100_000, 100_000, 3, 8).unwrap();
        let err = check_memory(huge, 2, false, Some(24_000_000_000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the statistics of 100000x100000 RGB 8-bit frames need 840.0 GB of memory, and this machine has 24.0 GB available (--max-megapixels refuses such files)"
        );
        assert!(
            check_memory(huge, 2, false, None).is_ok(),
            "unknown: not checked"
        );
        let camera = Shape::new(6000, 4000, 3, 8).unwrap();
        assert!(check_memory(camera, 2, false, Some(24_000_000_000)).is_ok());
        assert_eq!(memory_needed(camera, 2, false), 72_000_000 * (20 + 8));
        assert_eq!(memory_needed(camera, 2, true), 72_000_000 * (2 * 20 + 8));
    }

    const NO_HANG: Duration = Duration::from_secs(60);

    fn shape() -> Shape {
        Shape::new(8, 6, 1, 8).unwrap()
    }

    fn frame(i: usize) -> Frame {
        Frame::from_u8(shape(), vec![(i * 7 % 251) as u8; 48]).unwrap()
    }

    fn paths(n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| PathBuf::from(format!("f{i:03}.png")))
            .collect()
    }

    /// Runs `f` on a thread and fails the test if it has not finished within [`NO_HANG`].
    fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(NO_HANG).expect("the scan hung")
    }

    #[test]
    fn a_decoder_panic_fails_that_file_only() {
        let (used, failed) = within_a_minute(|| {
            let files = paths(40);
            let mut acc = CpuAccumulator::with_options(shape(), 3, Some(1));
            let decode = |p: &Path, _: &Arc<FramePool>| {
                let i: usize = p.to_str().unwrap()[1..4].parse().unwrap();
                if i == 5 {
                    panic!("crafted file");
                }
                Ok(frame(i))
            };
            let done = accumulate_with(&files, &mut acc, 3, &mut Silent, &decode).unwrap();
            assert_eq!(done.taken, files.len());
            (done.used, done.failed)
        });
        assert_eq!(used, 39);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].path(), Path::new("f005.png"));
        assert!(
            failed[0].to_string().contains("crafted file"),
            "{}",
            failed[0]
        );
    }

    /// An accumulator that fails on its third frame.
    struct Failing(usize);

    impl Accumulator for Failing {
        fn shape(&self) -> Shape {
            shape()
        }
        fn add(&mut self, _: Frame) -> Result<(), StatsError> {
            self.0 += 1;
            if self.0 == 3 {
                return Err(StatsError::ShapeMismatch {
                    expected: "a".into(),
                    found: "b".into(),
                });
            }
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<Moments, StatsError> {
            Ok(Moments::new(shape()))
        }
        fn info(&self) -> BackendInfo {
            BackendInfo {
                kind: BackendKind::Cpu,
                adapter: String::new(),
                driver: String::new(),
            }
        }
        fn frames_held(&self) -> usize {
            0
        }
    }

    #[test]
    fn a_failing_accumulator_stops_the_decoders() {
        for _ in 0..20 {
            let result = within_a_minute(|| {
                let files = paths(200);
                let decode = |p: &Path, _: &Arc<FramePool>| {
                    let i: usize = p.to_str().unwrap()[1..4].parse().unwrap();
                    Ok(frame(i))
                };
                accumulate_with(&files, &mut Failing(0), 4, &mut Silent, &decode).is_err()
            });
            assert!(result);
        }
    }

    /// The race an abort must not lose: a decoder has checked the window under the lock and is
    /// about to wait. An abort that does not take the lock would set the flag and notify in that
    /// gap, and the decoder would then wait forever.
    #[test]
    fn an_abort_waits_for_a_decoder_between_its_check_and_its_wait() {
        let window = Arc::new(Window::new(2));
        let held = window.lock();
        let aborter = {
            let window = window.clone();
            std::thread::spawn(move || window.abort())
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !aborter.is_finished(),
            "abort went ahead while a decoder held the window"
        );
        drop(held);
        aborter.join().unwrap();
        assert!(!window.wait_turn(100), "an aborted window lets nobody on");
    }

    #[test]
    fn an_abort_wakes_a_waiting_decoder() {
        let window = Arc::new(Window::new(2));
        let waiter = {
            let window = window.clone();
            std::thread::spawn(move || window.wait_turn(10))
        };
        std::thread::sleep(Duration::from_millis(50));
        window.abort();
        assert!(!within_a_minute(move || waiter.join().unwrap()));
        window.advance(0);
        assert!(!window.wait_turn(0));
        let open = Window::new(2);
        assert!(open.wait_turn(1));
    }
}
