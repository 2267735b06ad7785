//! The scan: discovery, a pool of decoders feeding the accumulator in file order through a bounded
//! window, then the ranking. Memory is bounded by the window, never by the number of files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::detect::{detect, lowest_m2, Candidate, DetectOptions, Detection};
use crate::input::{
    decode_file_pooled, discover, DecodeError, Discovery, FramePool, InputError, Shape, Skipped,
};
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
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            backend: BackendChoice::Auto,
            top: 10,
            jobs: default_jobs(),
            gpu: GpuOptions::default(),
            detect: DetectOptions::default(),
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
    #[error("none of the {0} files is a readable image")]
    NoImages(usize),
    /// Variance needs two frames.
    #[error("{0} usable frame(s) of {1}: variance needs at least two frames")]
    TooFewFrames(usize, String),
    /// The GPU backend was asked for and is not available, or failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// The statistics failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// What a scan found.
#[derive(Clone, Debug)]
pub struct ScanReport {
    /// The frame shape.
    pub shape: Shape,
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
    /// The files accumulated, in order.
    pub files: Vec<PathBuf>,
    /// The statistics themselves.
    pub moments: Moments,
    /// Wall time of the whole scan.
    pub elapsed: Duration,
}

/// Hooks a front end uses to show progress; every method has a no-op default.
pub trait ScanObserver {
    /// Discovery finished; `files` frames will be decoded.
    fn discovered(&mut self, _discovery: &Discovery) {}
    /// A file failed to decode; the scan goes on.
    fn decode_failed(&mut self, _error: &DecodeError) {}
    /// `done` of `total` files have been processed (`bytes` decoded sample bytes so far).
    fn progress(&mut self, _done: usize, _total: usize, _bytes: u64) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl ScanObserver for Silent {}

/// Opens the accumulator for `choice`: `Auto` takes a hardware GPU if one opens, else the CPU.
pub fn open_backend(
    choice: BackendChoice,
    shape: Shape,
    gpu: GpuOptions,
) -> Result<Box<dyn Accumulator>, ScanError> {
    Ok(match choice {
        BackendChoice::Cpu => Box::new(CpuAccumulator::new(shape)),
        BackendChoice::Gpu => Box::new(GpuContext::open(true)?.accumulator(shape, gpu)),
        BackendChoice::Auto => match GpuContext::open(false) {
            Ok(ctx) => Box::new(ctx.accumulator(shape, gpu)),
            Err(_) => Box::new(CpuAccumulator::new(shape)),
        },
    })
}

/// Decodes `files` on `jobs` threads and adds the frames to `acc` in file order.
///
/// Decoders run at most a window of `jobs + 2` files ahead of the accumulator, so at most that
/// many decoded frames wait besides the ones the accumulator holds (the CPU backend keeps one
/// batch). Returns the frames used and the files that failed.
pub fn accumulate_files(
    files: &[PathBuf],
    shape: Shape,
    acc: &mut dyn Accumulator,
    jobs: usize,
    observer: &mut dyn ScanObserver,
) -> Result<(usize, Vec<DecodeError>), StatsError> {
    let jobs = jobs.max(1).min(files.len().max(1));
    let window = jobs + 2;
    let next = AtomicUsize::new(0);
    let consumed = Mutex::new(0usize);
    let moved = Condvar::new();
    let abort = AtomicBool::new(false);
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<_, DecodeError>)>(window);
    // Enough idle buffers for every frame that can be alive at once (window and a batch).
    let pool = FramePool::new(window + 16);

    std::thread::scope(|s| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, consumed, moved, abort, pool) = (&next, &consumed, &moved, &abort, &pool);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= files.len() {
                    break;
                }
                {
                    let mut c = consumed.lock().unwrap();
                    while i >= *c + window && !abort.load(Ordering::Relaxed) {
                        c = moved.wait(c).unwrap();
                    }
                }
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                let result = decode_file_pooled(&files[i], shape, pool);
                if tx.send((i, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);

        let mut pending = BTreeMap::new();
        let mut expected = 0usize;
        let mut used = 0usize;
        let mut failed = Vec::new();
        let mut bytes = 0u64;
        let outcome = (|| {
            for (i, result) in rx.iter() {
                pending.insert(i, result);
                while let Some(result) = pending.remove(&expected) {
                    match result {
                        Ok(frame) => {
                            bytes += frame.as_bytes().len() as u64;
                            acc.add(frame)?;
                            used += 1;
                        }
                        Err(e) => {
                            observer.decode_failed(&e);
                            failed.push(e);
                        }
                    }
                    expected += 1;
                    *consumed.lock().unwrap() = expected;
                    moved.notify_all();
                    observer.progress(expected, files.len(), bytes);
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            abort.store(true, Ordering::Relaxed);
            moved.notify_all();
            drop(rx);
        }
        outcome.map(|()| (used, failed))
    })
}

/// Runs a whole scan over `inputs` (files, directories, glob patterns).
pub fn scan(
    inputs: &[String],
    options: &ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<ScanReport, ScanError> {
    let started = Instant::now();
    let discovery = discover(inputs)?;
    observer.discovered(&discovery);
    let shape = discovery
        .shape
        .ok_or(ScanError::NoImages(discovery.skipped.len()))?;
    if discovery.files.len() < 2 {
        return Err(ScanError::TooFewFrames(
            discovery.files.len(),
            shape.describe(),
        ));
    }
    let mut acc = open_backend(options.backend, shape, options.gpu)?;
    let backend = acc.info();
    let (used, failures) = accumulate_files(
        &discovery.files,
        shape,
        acc.as_mut(),
        options.jobs,
        observer,
    )?;
    if used < 2 {
        return Err(ScanError::TooFewFrames(used, shape.describe()));
    }
    let moments = acc.finish()?;
    let lowest = lowest_m2(&moments, options.top);
    let detection = detect(&moments, &options.detect);
    let failed_paths: std::collections::HashSet<&std::path::Path> =
        failures.iter().map(|e| e.path()).collect();
    let files: Vec<PathBuf> = discovery
        .files
        .iter()
        .filter(|f| !failed_paths.contains(f.as_path()))
        .cloned()
        .collect();

    let mut skipped = discovery.skipped;
    let failed = failures.len();
    skipped.extend(failures.iter().map(|e| Skipped {
        path: e.path().to_path_buf(),
        reason: e.reason(),
    }));
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(ScanReport {
        shape,
        frames_used: used,
        skipped,
        failed,
        unmatched: discovery.unmatched,
        alpha_ignored: discovery.alpha_ignored,
        backend,
        lowest,
        detection,
        files,
        moments,
        elapsed: started.elapsed(),
    })
}
