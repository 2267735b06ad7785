//! The `bench` measurements: decode-only, accumulate-only and end-to-end throughput per backend,
//! on the user's files or on synthetic 12, 24 and 45 MP JPEGs, as a table or JSON.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use hotpixels::input::exif::{Exposure, REFERENCE_ISO};
use hotpixels::input::{discover, Frame, Levels, Shape};
use hotpixels::mem::describe_bytes;
use hotpixels::model::ScanReport;
use hotpixels::scan::{
    accumulate_files, allowed_memory, exposure, memory_of, plan_frames, scan, BackendChoice,
    FramePlan, ScanError, ScanOptions, Silent, Timing,
};
use hotpixels::stats::{
    gpu, Accumulator, BackendInfo, BackendKind, CpuAccumulator, GpuContext, GpuOptions, Moments,
    StatsError,
};
use hotpixels::synth::{
    exif_block, scene_frame, shape_for_megapixels, write_frame_jpeg_exif, Chroma, LIBRARY_EXPOSURES,
};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The user's files; empty means synthetic JPEGs of each size in `sizes_mp`.
    pub inputs: Vec<String>,
    /// Synthetic sizes in megapixels (3:2 frames).
    pub sizes_mp: Vec<u32>,
    /// Synthetic JPEG files per size (decode and scan rows).
    pub frames: usize,
    /// Frames held in memory for the accumulate-only rows.
    pub accumulate_frames: usize,
    /// JPEG quality of the synthetic files.
    pub quality: u8,
    /// Decoder threads.
    pub jobs: usize,
    /// Which GPU adapters to measure.
    pub gpu: GpuChoice,
    /// Runs of each decode and scan measurement; the median is reported.
    pub repeat: usize,
    /// The most memory the bench may take (`None`: what the machine has available).
    pub max_memory: Option<u64>,
}

/// Which GPU adapters the bench measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuChoice {
    /// Hardware adapters only (a software adapter is far slower than the CPU path).
    Hardware,
    /// Any adapter, software ones (llvmpipe, lavapipe) included.
    Any,
    /// No GPU rows.
    None,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            inputs: Vec::new(),
            sizes_mp: vec![12, 24, 45],
            frames: 16,
            accumulate_frames: 8,
            quality: 92,
            jobs: hotpixels::scan::default_jobs(),
            gpu: GpuChoice::Hardware,
            repeat: 3,
            max_memory: None,
        }
    }
}

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    /// `decode`, `accumulate` or `scan`.
    pub stage: String,
    /// The frame shape measured.
    pub shape: String,
    /// Megapixels.
    pub megapixels: f64,
    /// `-` for decode, else the backend (`cpu`, `gpu`, `auto (cpu)`…).
    pub backend: String,
    /// Frames processed.
    pub frames: usize,
    /// Wall time.
    pub seconds: f64,
    /// Frames per second.
    pub frames_per_second: f64,
    /// Subpixel updates per second.
    pub subpixels_per_second: f64,
    /// Decoded sample bytes per second, in GB (10^9).
    pub gigabytes_per_second: f64,
    /// Scan rows: frames/s relative to the decode-only row of the same files.
    pub vs_decode: Option<f64>,
    /// Decode and scan rows: where the time went, per frame.
    pub per_frame: Option<PerFrame>,
    /// Scan rows: the steady state and the once-per-scan cost, from runs of N and 2N files.
    pub steady: Option<Steady>,
}

/// A scan's cost split into a per-frame and a once-per-scan part: runs of `N` and `2N` files
/// take `t(N)` and `t(2N)`, so a frame costs `(t(2N) − t(N)) / N` in the steady state and a scan
/// `t(N) − N × that` once; the once-per-scan stages as the scan timed them.
#[derive(Clone, Debug, Serialize)]
pub struct Steady {
    /// Frames per second in the steady state.
    pub frames_per_second: f64,
    /// Against decoding alone in the steady state (when decoding's could be drawn).
    pub vs_decode: Option<f64>,
    /// The once-per-scan cost, seconds (from the two runs).
    pub fixed_seconds: f64,
    /// Making the statistics' memory (allocation and first touch), seconds.
    pub allocate_seconds: f64,
    /// Ranking the lowest `M2`, seconds.
    pub rank_seconds: f64,
    /// Estimating the scenes, seconds.
    pub scenes_seconds: f64,
    /// Detection, seconds.
    pub detect_seconds: f64,
    /// The timeline's windows and dating, seconds.
    pub timeline_seconds: f64,
}

/// Where a run's time went, in milliseconds per frame ([`hotpixels::scan::Timing`] over the
/// frames).
#[derive(Clone, Debug, Serialize)]
pub struct PerFrame {
    /// Decoding, summed over the decoder threads (divide by the threads for wall time).
    pub decode_ms: f64,
    /// The accumulator waiting for the next decoded frame.
    pub wait_ms: f64,
    /// Adding the frame to the statistics (and its share of finishing them).
    pub statistics_ms: f64,
    /// Ranking and detection, spread over the frames.
    pub detect_ms: f64,
}

impl PerFrame {
    fn of(timing: &Timing, frames: usize) -> Self {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3 / frames.max(1) as f64;
        PerFrame {
            decode_ms: ms(timing.decode),
            wait_ms: ms(timing.wait),
            statistics_ms: ms(timing.statistics),
            detect_ms: ms(timing.detect),
        }
    }
}

/// Every measurement and the machine they were made on.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// The tool's name and version.
    pub tool: String,
    /// Logical cores.
    pub cores: usize,
    /// Decoder threads used.
    pub jobs: usize,
    /// Runs per decode and scan measurement (the median is reported).
    pub repeat: usize,
    /// The GPU adapter measured, if any.
    pub adapter: Option<String>,
    /// Its driver.
    pub driver: Option<String>,
    /// JPEG quality and chroma of synthetic files (when used).
    pub synthetic: Option<String>,
    /// The measurements.
    pub rows: Vec<BenchRow>,
}

/// Errors of the bench.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Writing synthetic files failed.
    #[error("cannot write synthetic frames: {0}")]
    Write(String),
    /// A scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// An accumulator failed.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Takes frames and drops them: the decode-only pass runs the scan's own pipeline into this.
struct Discard(Shape);
impl Accumulator for Discard {
    fn shape(&self) -> Shape {
        self.0
    }
    fn add(&mut self, frame: Frame) -> Result<(), StatsError> {
        drop(frame);
        Ok(())
    }
    fn finish(self: Box<Self>) -> Result<Moments, StatsError> {
        Ok(Moments::new(Shape::new(1, 1, 1, 8).expect("valid")))
    }
    fn info(&self) -> BackendInfo {
        BackendInfo {
            kind: BackendKind::Cpu,
            adapter: "none".into(),
            driver: String::new(),
        }
    }
    fn frames_held(&self) -> usize {
        0
    }
}

fn row(stage: &str, shape: Shape, backend: &str, frames: usize, seconds: f64) -> BenchRow {
    let fps = frames as f64 / seconds.max(1e-9);
    BenchRow {
        stage: stage.into(),
        shape: shape.describe(),
        megapixels: (shape.width as f64 * shape.height as f64 / 1e6 * 10.0).round() / 10.0,
        backend: backend.into(),
        frames,
        seconds,
        frames_per_second: fps,
        subpixels_per_second: fps * shape.subpixels() as f64,
        gigabytes_per_second: fps * shape.frame_bytes() as f64 / 1e9,
        vs_decode: None,
        per_frame: None,
        steady: None,
    }
}

/// Files in the smaller of the two runs a steady state is drawn from, at least.
const MIN_STEADY_FILES: usize = 2;

/// Frames per second in the steady state and the once-per-scan seconds, from paired runs: round by
/// round, `n1` frames took `t1[r]` seconds and then `n2 > n1` frames took `t2[r]`, one right after
/// the other, so that a slow spell of the machine touches both alike. A frame costs the median of
/// the rounds' differences over `n2 − n1`; a scan, once, the median of what each round's smaller
/// run leaves beside its frames. `None` when the larger runs took no longer than the smaller ones
/// (files too few or too small for a frame's cost to show above the machine's jitter).
fn steady_state(n1: usize, t1: &[f64], n2: usize, t2: &[f64]) -> Option<(f64, f64)> {
    if n2 <= n1 {
        return None;
    }
    let frames = (n2 - n1) as f64;
    let per_frame = median(t1.iter().zip(t2).map(|(a, b)| (b - a) / frames).collect());
    if per_frame <= 0.0 {
        return None;
    }
    let fixed = median(t1.iter().map(|t| t - n1 as f64 * per_frame).collect());
    Some((1.0 / per_frame, fixed.max(0.0)))
}

/// The median of `v` (the upper one of an even count); 0 when empty.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The runs' seconds, in their order.
fn seconds_of(runs: &[(f64, Timing)]) -> Vec<f64> {
    runs.iter().map(|r| r.0).collect()
}

/// The run of median time, with its timing.
fn median_run(mut v: Vec<(f64, Timing)>) -> (f64, Timing) {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v[v.len() / 2]
}

/// Files one set of scan rows measures, and the inputs that name them.
struct FileSet<'a> {
    files: &'a [PathBuf],
    inputs: Vec<String>,
}

/// The suffix of a scan row's backend for the model its scans used: ` dark` for the
/// dark-current model (the statistics with exposures), none for constant offsets.
fn model_suffix(report: &ScanReport) -> &'static str {
    if report.model.is_dark_current() {
        DARK_SUFFIX
    } else {
        ""
    }
}

/// What a scan row's backend ends with when its scans used the dark-current model.
const DARK_SUFFIX: &str = " dark";

/// The ISO the synthetic files' EXIF names: the reference, so that each file is exposed as
/// long as [`LIBRARY_EXPOSURES`] says, in seconds.
const LIBRARY_ISO: u32 = REFERENCE_ISO as u32;

/// Decode-only rows of the first set's files, and scan rows per backend of each set's (in turn,
/// round by round): the steady state of each against decoding the first set alone. A set scanned
/// with the dark-current model ([`model_suffix`]) names it beside the backend; a set whose N and
/// 2N files were scanned with different models gets no steady state.
fn measure_files(
    sets: &[FileSet],
    shape: Shape,
    options: &BenchOptions,
    gpu_ctx: Option<&GpuContext>,
    rows: &mut Vec<BenchRow>,
) -> Result<(), BenchError> {
    let (files, inputs) = (sets[0].files, &sets[0].inputs);
    let mut backends = vec![("cpu", BackendChoice::Cpu), ("auto", BackendChoice::Auto)];
    if gpu_ctx.is_some() {
        backends.push(("gpu", BackendChoice::Gpu));
    }
    // One unmeasured scan first: the rows then compare steady states, not which of them happened
    // to touch fresh memory first (on a virtual machine the first touch of memory the host has
    // not yet backed costs about a second per gigabyte).
    scan(
        inputs,
        &ScanOptions {
            backend: BackendChoice::Cpu,
            jobs: options.jobs,
            max_memory: options.max_memory,
            ..Default::default()
        },
        &mut Silent,
    )?;
    // Decode-only and whole scans of the first half of the files (N) and of all of them (2N),
    // interleaved run by run so a slow spell of the machine touches them alike; each reports its
    // median.
    // N: the first half of a set's files. A scan needs two frames: the steady state wants four
    // files at least (else N = 2N).
    let first_half = |files: &'_ [PathBuf]| {
        if files.len() >= 2 * MIN_STEADY_FILES {
            files.len() / 2
        } else {
            files.len()
        }
    };
    let half = first_half(files);
    let decode_sets: [&[PathBuf]; 2] = [&files[..half], files];
    // Per set, the inputs of its N and 2N runs.
    let set_inputs: Vec<[Vec<String>; 2]> = sets
        .iter()
        .map(|set| {
            let half = first_half(set.files);
            [
                set.files[..half]
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect(),
                set.inputs.clone(),
            ]
        })
        .collect();
    // Scan rows: one per set and backend, set by set.
    let runs: Vec<(usize, usize)> = (0..sets.len())
        .flat_map(|s| (0..backends.len()).map(move |b| (s, b)))
        .collect();
    let mut decode_times = [Vec::new(), Vec::new()];
    let mut decoded = [0; 2];
    let mut scan_times = vec![[Vec::new(), Vec::new()]; runs.len()];
    let mut labels = vec![[String::new(), String::new()]; runs.len()];
    let mut used = vec![[0; 2]; runs.len()];
    for round in 0..options.repeat.max(1) {
        for (k, set) in decode_sets.iter().enumerate() {
            let started = Instant::now();
            let mut sink = Discard(shape);
            let done =
                accumulate_files(set, shape, &|_| None, &mut sink, options.jobs, &mut Silent)?;
            decoded[k] = done.used;
            decode_times[k].push((started.elapsed().as_secs_f64(), done.timing));
        }
        // The scan rows take turns at running first after the decode pass.
        let order = (0..runs.len()).map(|i| (i + round) % runs.len());
        for r in order {
            let (set, b) = runs[r];
            let (name, choice) = &backends[b];
            let scan_options = ScanOptions {
                backend: *choice,
                jobs: options.jobs,
                max_memory: options.max_memory,
                ..Default::default()
            };
            for (k, inputs) in set_inputs[set].iter().enumerate() {
                let started = Instant::now();
                let report = scan(inputs, &scan_options, &mut Silent)?;
                scan_times[r][k].push((started.elapsed().as_secs_f64(), report.timing));
                used[r][k] = report.frames_used;
                let backend = match (*name, report.backend.kind) {
                    ("auto", BackendKind::Cpu) => "auto (cpu)",
                    ("auto", BackendKind::Gpu) => "auto (gpu)",
                    (n, _) => n,
                };
                labels[r][k] = format!("{backend}{}", model_suffix(&report));
            }
        }
    }
    let full_decode = median_run(decode_times[1].clone());
    let mut decode = row("decode", shape, "-", decoded[1], full_decode.0);
    decode.per_frame = Some(PerFrame::of(&full_decode.1, decoded[1]));
    let decode_fps = decode.frames_per_second;
    let [half_times, full_times] = decode_times.each_ref().map(|v| seconds_of(v));
    let decode_steady = steady_state(decoded[0], &half_times, decoded[1], &full_times);
    decode.steady = decode_steady.map(|(frames_per_second, fixed_seconds)| Steady {
        frames_per_second,
        vs_decode: Some(1.0),
        fixed_seconds,
        allocate_seconds: 0.0,
        rank_seconds: 0.0,
        scenes_seconds: 0.0,
        detect_seconds: 0.0,
        timeline_seconds: 0.0,
    });
    rows.push(decode);
    for b in 0..runs.len() {
        let (t2, timing) = median_run(scan_times[b][1].clone());
        let mut r = row("scan", shape, &labels[b][1], used[b][1], t2);
        r.vs_decode = Some(r.frames_per_second / decode_fps.max(1e-9));
        r.per_frame = Some(PerFrame::of(&timing, used[b][1]));
        let [t1s, t2s] = scan_times[b].each_ref().map(|v| seconds_of(v));
        let steady = steady_state(used[b][0], &t1s, used[b][1], &t2s);
        let secs = |d: std::time::Duration| d.as_secs_f64();
        let one_model = labels[b][0] == labels[b][1];
        r.steady = steady.filter(|_| one_model).map(|(fps, fixed)| Steady {
            frames_per_second: fps,
            vs_decode: decode_steady.map(|(decode_fps, _)| fps / decode_fps),
            fixed_seconds: fixed,
            allocate_seconds: secs(timing.allocate),
            rank_seconds: secs(timing.rank),
            scenes_seconds: secs(timing.scenes),
            detect_seconds: secs(timing.detect),
            timeline_seconds: secs(timing.timeline),
        });
        rows.push(r);
    }
    Ok(())
}

fn measure_accumulate(
    shape: Shape,
    options: &BenchOptions,
    gpu_ctx: Option<&GpuContext>,
    rows: &mut Vec<BenchRow>,
) -> Result<(), BenchError> {
    let count = options.accumulate_frames.max(2);
    let frames: Vec<Frame> = (0..count).map(|i| scene_frame(shape, i, 7)).collect();
    let dark = Some(exposure::setup(
        &LIBRARY_EXPOSURES,
        &Levels::encoded(shape.bit_depth),
    ));
    // `exposed`: the same frames exposed as a photo library's are, for the dark-current
    // statistics' rows.
    let mut run = |name: &str, exposed: bool, mut acc: Box<dyn Accumulator>| {
        // The frames are copied before the clock starts (add() takes ownership): the frames
        // and one copy of them are alive, not a copy per row.
        let copies: Vec<Frame> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let exposure = LIBRARY_EXPOSURES[i % LIBRARY_EXPOSURES.len()];
                f.clone().with_exposure(exposed.then_some(exposure))
            })
            .collect();
        let started = Instant::now();
        for f in copies {
            acc.add(f)?;
        }
        acc.finish()?;
        rows.push(row(
            "accumulate",
            shape,
            name,
            count,
            started.elapsed().as_secs_f64(),
        ));
        Ok::<(), BenchError>(())
    };
    run("cpu", false, Box::new(CpuAccumulator::new(shape)))?;
    run(
        "cpu dark",
        true,
        Box::new(CpuAccumulator::with_dark(shape, dark)),
    )?;
    if let Some(ctx) = gpu_ctx {
        let acc = ctx
            .accumulator(shape, GpuOptions::default())
            .map_err(StatsError::from)?;
        run("gpu", false, Box::new(acc))?;
        let acc = ctx
            .accumulator_with_dark(shape, GpuOptions::default(), dark)
            .map_err(StatsError::from)?;
        run("gpu dark", true, Box::new(acc))?;
    }
    Ok(())
}

/// The memory the accumulate-only rows of `shape` take at most: the statistics with the
/// dark-current sums, the frames and a copy of them ([`measure_accumulate`]), and the program.
fn accumulate_memory(shape: Shape, options: &BenchOptions) -> u64 {
    let frames = FramePlan {
        batch: 2 * options.accumulate_frames.max(2),
        jobs: 1,
    };
    memory_of(shape, frames, false, true)
}

/// [`measure_accumulate`] when its frames and statistics fit in the `available` memory (unknown:
/// not checked); otherwise `progress` is told that its rows are left out, and why.
fn measure_accumulate_if_it_fits(
    shape: Shape,
    options: &BenchOptions,
    available: Option<u64>,
    gpu_ctx: Option<&GpuContext>,
    rows: &mut Vec<BenchRow>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), BenchError> {
    let needed = accumulate_memory(shape, options);
    match available {
        Some(available) if needed > available => {
            progress(&format!(
                "skipping the accumulate-only rows of {}: they need {} of memory, {} is available",
                shape.describe(),
                describe_bytes(needed),
                describe_bytes(available)
            ));
            Ok(())
        }
        _ => measure_accumulate(shape, options, gpu_ctx, rows),
    }
}

/// Runs every measurement; `progress` is told what is being measured.
pub fn run(
    options: &BenchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, BenchError> {
    let gpu_ctx = match options.gpu {
        GpuChoice::Hardware => GpuContext::open(false).ok(),
        GpuChoice::Any => GpuContext::open(true).ok(),
        GpuChoice::None => None,
    };
    let mut rows = Vec::new();
    let mut synthetic = None;
    let available = allowed_memory(hotpixels::mem::available_bytes(), options.max_memory);
    // The scan rows of `sets`, and the accumulate-only rows of `shape` when `accumulate`.
    let measure = |sets: &[FileSet],
                   shape: Shape,
                   accumulate: bool,
                   rows: &mut Vec<BenchRow>,
                   progress: &mut dyn FnMut(&str)| {
        measure_files(sets, shape, options, gpu_ctx.as_ref(), rows)?;
        if accumulate {
            measure_accumulate_if_it_fits(
                shape,
                options,
                available,
                gpu_ctx.as_ref(),
                rows,
                progress,
            )?;
        }
        Ok::<(), BenchError>(())
    };
    if options.inputs.is_empty() {
        synthetic = Some(format!("JPEG quality {}, 4:2:2", options.quality));
        for &mp in &options.sizes_mp {
            let shape = shape_for_megapixels(mp);
            // A size whose statistics do not fit beside one frame is not measured (a scan of it
            // would be refused): the bench goes on with the others.
            if let Err(e) = plan_frames(shape, options.jobs, false, true, available) {
                progress(&format!("skipping {}: {e}", shape.describe()));
                continue;
            }
            progress(&format!(
                "writing {} synthetic {} JPEGs",
                options.frames,
                shape.describe()
            ));
            let dir = tempfile::Builder::new()
                .prefix("hotpixels-bench-")
                .tempdir()
                .map_err(|e| BenchError::Write(e.to_string()))?;
            // The same frames again with the EXIF of a photo library's exposures: scans of them
            // keep the dark-current statistics.
            let exposed_dir = tempfile::Builder::new()
                .prefix("hotpixels-bench-exposed-")
                .tempdir()
                .map_err(|e| BenchError::Write(e.to_string()))?;
            let mut files = Vec::new();
            let mut exposed = Vec::new();
            for i in 0..options.frames.max(2) {
                let frame = scene_frame(shape, i, 3);
                let name = format!("frame_{i:04}.jpg");
                let exif = exif_block(
                    None,
                    None,
                    Exposure {
                        seconds: Some(LIBRARY_EXPOSURES[i % LIBRARY_EXPOSURES.len()]),
                        iso: Some(LIBRARY_ISO),
                    },
                );
                for (dir, exif, list) in [
                    (dir.path(), None, &mut files),
                    (exposed_dir.path(), Some(&exif[..]), &mut exposed),
                ] {
                    let path = dir.join(&name);
                    write_frame_jpeg_exif(&frame, &path, options.quality, Chroma::Sub422, exif)
                        .map_err(BenchError::Write)?;
                    list.push(path);
                }
            }
            progress(&format!("measuring {}", shape.describe()));
            let sets = [
                FileSet {
                    files: &files,
                    inputs: vec![dir.path().display().to_string()],
                },
                FileSet {
                    files: &exposed,
                    inputs: vec![exposed_dir.path().display().to_string()],
                },
            ];
            measure(&sets, shape, true, &mut rows, progress)?;
        }
    } else {
        let d = discover(&options.inputs).map_err(ScanError::from)?;
        let shape = d.shape.ok_or_else(|| ScanError::no_images(&d))?;
        progress(&format!(
            "measuring {} files of {}",
            d.files.len(),
            shape.describe()
        ));
        let sets = [FileSet {
            files: &d.files,
            inputs: options.inputs.clone(),
        }];
        measure(&sets, shape, shape.bit_depth == 8, &mut rows, progress)?;
    }
    Ok(BenchReport {
        tool: hotpixels::tool_name(),
        cores: hotpixels::scan::default_jobs(),
        jobs: options.jobs,
        repeat: options.repeat.max(1),
        adapter: gpu_ctx.as_ref().map(|c| c.info.name.clone()),
        driver: gpu_ctx.as_ref().map(|c| gpu::driver_string(&c.info)),
        synthetic,
        rows,
    })
}

/// The report as a table.
pub fn render(report: &BenchReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} — {} cores, {} decoder threads, median of {} runs; GPU: {}",
        report.tool,
        report.cores,
        report.jobs,
        report.repeat,
        match (&report.adapter, &report.driver) {
            (Some(a), Some(d)) => format!("{a} ({d})"),
            _ => "none".into(),
        }
    );
    if let Some(syn) = &report.synthetic {
        let _ = writeln!(s, "inputs: synthetic frames, {syn}");
    }
    // The shape column fits the longest shape (a RAW shape names its pattern).
    let shape_width = report
        .rows
        .iter()
        .map(|r| r.shape.len())
        .max()
        .unwrap_or(0)
        .max("shape".len());
    // So does the backend column (a scan with the dark-current model says so beside it).
    let backend_width = report
        .rows
        .iter()
        .map(|r| r.backend.len())
        .max()
        .unwrap_or(0)
        .max("backend".len());
    let _ = writeln!(
        s,
        "{:<11} {:<shape_width$} {:<backend_width$} {:>6} {:>8} {:>9} {:>10} {:>7} {:>9}  ms per frame: decode (all threads) / wait / statistics",
        "stage",
        "shape",
        "backend",
        "frames",
        "seconds",
        "frames/s",
        "Msubpx/s",
        "GB/s",
        "vs decode",
    );
    for r in &report.rows {
        let per_frame = r
            .per_frame
            .as_ref()
            .map(|p| {
                format!(
                    "{:.1} / {:.1} / {:.1}",
                    p.decode_ms, p.wait_ms, p.statistics_ms
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<11} {:<shape_width$} {:<backend_width$} {:>6} {:>8.2} {:>9.2} {:>10.0} {:>7.2} {:>9}  {}",
            r.stage,
            r.shape,
            r.backend,
            r.frames,
            r.seconds,
            r.frames_per_second,
            r.subpixels_per_second / 1e6,
            r.gigabytes_per_second,
            r.vs_decode.map(|v| format!("{v:.2}x")).unwrap_or_default(),
            per_frame
        );
    }
    let steady: Vec<&BenchRow> = report.rows.iter().filter(|r| r.steady.is_some()).collect();
    if !steady.is_empty() {
        let _ = writeln!(
            s,
            "\nsteady state (from N and 2N files) and once-per-scan cost, seconds: allocation and first touch / ranking / scenes / detection / timeline"
        );
        let _ = writeln!(
            s,
            "{:<shape_width$} {:<backend_width$} {:>9} {:>9} {:>8}  split",
            "shape", "backend", "frames/s", "vs decode", "fixed s"
        );
        for r in steady {
            let st = r.steady.as_ref().expect("filtered");
            let _ = writeln!(
                s,
                "{:<shape_width$} {:<backend_width$} {:>9.2} {:>9} {:>8.2}  {:.2} / {:.2} / {:.2} / {:.2} / {:.2}",
                r.shape,
                r.backend,
                st.frames_per_second,
                st.vs_decode
                    .map(|v| format!("{v:.2}x"))
                    .unwrap_or_else(|| "-".into()),
                st.fixed_seconds,
                st.allocate_seconds,
                st.rank_seconds,
                st.scenes_seconds,
                st.detect_seconds,
                st.timeline_seconds
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow spell over the second round and the third round's larger run: medians of each
    /// size's runs would take 16 frames to cost 3.8 s; the rounds' own differences say 2 s.
    #[test]
    fn the_steady_state_comes_from_each_rounds_own_pair_of_runs() {
        let (fps, fixed) = steady_state(16, &[3.0, 5.0, 3.2], 32, &[5.0, 7.0, 7.2]).unwrap();
        assert!((fps - 8.0).abs() < 1e-9, "{fps} frames/s");
        assert!((fixed - 1.2).abs() < 1e-9, "{fixed} s once");
    }

    /// Larger runs that took no longer than the smaller ones say nothing of a frame's cost: no
    /// steady state (not a rate of a billion frames a second); a fixed cost is never negative.
    #[test]
    fn a_steady_state_needs_the_larger_runs_to_take_longer() {
        assert_eq!(steady_state(4, &[1.0], 8, &[0.5]), None);
        assert_eq!(steady_state(4, &[1.0, 1.2], 8, &[1.0, 1.1]), None);
        assert_eq!(steady_state(4, &[1.0], 4, &[2.0]), None);
        let (fps, fixed) = steady_state(4, &[0.2], 8, &[1.2]).unwrap();
        assert!((fps - 4.0).abs() < 1e-9, "{fps} frames/s");
        assert_eq!(fixed, 0.0, "the smaller run left nothing beside its frames");
    }
}
