//! The command line: clap definitions, their validation into configs, and the commands' front ends
//! (printing, exit codes). The work itself is done by the library.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::input::{DecodeError, Discovery};
use crate::report::{self, Destination, OutputError};
use crate::scan::{self, BackendChoice, ScanObserver, ScanOptions};
use crate::stats::gpu;

/// Exit status: the run completed.
pub const EXIT_OK: u8 = 0;
/// Exit status: the run completed, but some files failed to decode.
pub const EXIT_SOME_FAILED: u8 = 1;
/// Exit status: nothing could be done (bad arguments, no input, no usable frame).
pub const EXIT_FATAL: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "hotpixels",
    version,
    about = "Find a camera sensor's hot, warm, stuck and dead pixels from many photos or dark frames"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan photos (files, folders or glob patterns) and rank the subpixels that never change.
    Scan(ScanArgs),
    /// List the GPU adapters this machine offers.
    Devices,
    /// Scan a synthetic set from a simulated camera with planted defects and check what is found.
    Demo(DemoArgs),
    /// Measure decode, accumulate and whole-scan throughput per backend.
    Bench(BenchArgs),
    /// Write a synthetic test set: frames from a simulated camera with defects, and truth.json.
    Synth(SynthArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FormatArg {
    Jpeg,
    Png,
    Tiff,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ChromaArg {
    #[value(name = "444")]
    S444,
    #[value(name = "422")]
    S422,
    #[value(name = "420")]
    S420,
}

#[derive(clap::Args, Debug)]
struct SynthArgs {
    /// Folder to write the frames and truth.json into (created; existing frames are not replaced).
    #[arg(value_name = "OUT_DIR")]
    out: std::path::PathBuf,
    /// Number of frames.
    #[arg(long, default_value_t = 60)]
    frames: usize,
    /// Frame width in pixels.
    #[arg(long, default_value_t = 1024)]
    width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 768)]
    height: u32,
    /// File format.
    #[arg(long, value_enum, default_value = "jpeg")]
    format: FormatArg,
    /// JPEG quality, one value or a range drawn per frame (`85-92`).
    #[arg(long, default_value = "85-92", value_name = "Q[-Q]")]
    quality: String,
    /// JPEG chroma subsampling.
    #[arg(long, value_enum, default_value = "420")]
    chroma: ChromaArg,
    /// Hot photosites (offset 35-100% of full scale).
    #[arg(long, default_value_t = 10)]
    hot: usize,
    /// Warm photosites (offset 8-18%).
    #[arg(long, default_value_t = 10)]
    warm: usize,
    /// Stuck photosites (a constant level).
    #[arg(long, default_value_t = 5)]
    stuck: usize,
    /// Dead photosites (always 0).
    #[arg(long, default_value_t = 5)]
    dead: usize,
    /// Pairs of adjacent hot photosites.
    #[arg(long, default_value_t = 3)]
    pairs: usize,
    /// Fraction of frames shot in bursts of near-identical frames with small shifts.
    #[arg(long, default_value_t = 0.3)]
    bursts: f64,
    /// Fraction of very underexposed frames.
    #[arg(long, default_value_t = 0.15)]
    underexposed: f64,
    /// Dark frames (lens cap on) instead of scenes.
    #[arg(long)]
    dark: bool,
    /// Take scenes from the photos in DIR (random crops) instead of procedural ones.
    #[arg(long, value_name = "DIR")]
    scenes: Option<std::path::PathBuf>,
    /// Seed of everything random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum GpuArg {
    /// Hardware adapters only.
    Hardware,
    /// Any adapter, software ones included.
    Any,
    /// No GPU measurements.
    None,
}

#[derive(clap::Args, Debug)]
struct BenchArgs {
    /// Files, folders or glob patterns to measure on (default: synthetic JPEGs of each --sizes).
    #[arg(value_name = "INPUT")]
    inputs: Vec<String>,
    /// Synthetic frame sizes in megapixels.
    #[arg(long, value_delimiter = ',', default_value = "12,24,45")]
    sizes: Vec<u32>,
    /// Synthetic JPEG files per size.
    #[arg(long, default_value_t = 16)]
    frames: usize,
    /// Frames held in memory for the accumulate-only rows.
    #[arg(long, default_value_t = 8)]
    accumulate_frames: usize,
    /// JPEG quality of the synthetic files.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Decoder threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// GPU adapters to measure: `hardware` only, `any` (software adapters such as llvmpipe too),
    /// or `none`.
    #[arg(long, value_enum, default_value = "hardware")]
    gpu: GpuArg,
    /// Runs of each decode and scan measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Write the measurements as JSON to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Replace the JSON file if it exists.
    #[arg(long)]
    force: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum BackendArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    /// Any GPU adapter, software ones included.
    Gpu,
    /// The CPU.
    Cpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Gpu => BackendChoice::Gpu,
            BackendArg::Cpu => BackendChoice::Cpu,
        }
    }
}

#[derive(clap::Args, Debug)]
struct ScanArgs {
    /// Image files, folders (searched recursively) or glob patterns such as 'photos/**/*.JPG'.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// Statistics backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// How many lowest-variance subpixels to list.
    #[arg(long, default_value_t = 10, value_name = "K")]
    top: usize,
    /// Write the JSON report to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Write the lowest-variance list as CSV to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    csv: Option<String>,
    /// Replace report files that already exist.
    #[arg(long)]
    force: bool,
    /// Decoder threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Print only errors.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Find fainter defects (above 1) or only clear ones (below 1); scales the automatic threshold.
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    sensitivity: f32,
    /// The inputs are dark frames (lens cap on): rank by how far each mean stands from the dark level.
    #[arg(long)]
    dark: bool,
    /// Draw the sensor with every defect circled and labelled by kind into FILE.png.
    #[arg(long, value_name = "FILE.png")]
    map: Option<std::path::PathBuf>,
    /// Draw magnified crops around each defect, from the frame where it shows best, into FILE.png.
    #[arg(long, value_name = "FILE.png")]
    crops: Option<std::path::PathBuf>,
}

#[derive(clap::Args, Debug)]
struct DemoArgs {
    /// Statistics backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Frames in the synthetic set.
    #[arg(long, default_value_t = 60)]
    frames: usize,
    /// Frame width.
    #[arg(long, default_value_t = 640)]
    width: u32,
    /// Frame height.
    #[arg(long, default_value_t = 480)]
    height: u32,
    /// Seed of the synthetic set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// A scan's validated configuration.
#[derive(Debug)]
pub struct ScanConfig {
    /// The inputs.
    pub inputs: Vec<String>,
    /// Options passed to the library.
    pub options: ScanOptions,
    /// Where the JSON report goes.
    pub json: Option<Destination>,
    /// Where the CSV goes.
    pub csv: Option<Destination>,
    /// Replace existing report files.
    pub force: bool,
    /// Print only errors.
    pub quiet: bool,
    /// Where the defect map goes.
    pub map: Option<std::path::PathBuf>,
    /// Where the crops contact sheet goes.
    pub crops: Option<std::path::PathBuf>,
}

impl ScanConfig {
    fn from_args(a: ScanArgs) -> Result<Self, String> {
        if a.top == 0 {
            return Err("--top must be at least 1".into());
        }
        if a.jobs == Some(0) {
            return Err("--jobs must be at least 1".into());
        }
        let json = a.json.as_deref().map(Destination::parse);
        let csv = a.csv.as_deref().map(Destination::parse);
        if json == Some(Destination::Stdout) && csv == Some(Destination::Stdout) {
            return Err("--json and --csv cannot both go to standard output".into());
        }
        if let (Some(Destination::File(j)), Some(Destination::File(c))) = (&json, &csv) {
            if j == c {
                return Err(format!(
                    "--json and --csv name the same file {}",
                    j.display()
                ));
            }
        }
        if !(a.sensitivity > 0.0 && a.sensitivity.is_finite()) {
            return Err("--sensitivity must be a positive number".into());
        }
        let pictures: Vec<Destination> = [&a.map, &a.crops]
            .into_iter()
            .flatten()
            .map(|p| Destination::File(p.clone()))
            .collect();
        if a.map.is_some() && a.map == a.crops {
            return Err("--map and --crops name the same file".into());
        }
        for dest in [&json, &csv].into_iter().flatten().chain(pictures.iter()) {
            if let Destination::File(p) = dest {
                report::check_writable(p, a.force).map_err(|e| e.to_string())?;
                if a.inputs.iter().any(|i| std::path::Path::new(i) == p) {
                    return Err(format!(
                        "{}: is also an input; refusing to write over it",
                        p.display()
                    ));
                }
            }
        }
        Ok(ScanConfig {
            inputs: a.inputs,
            options: ScanOptions {
                backend: a.backend.into(),
                top: a.top,
                jobs: a.jobs.unwrap_or_else(scan::default_jobs),
                detect: crate::detect::DetectOptions {
                    sensitivity: a.sensitivity,
                    dark: a.dark,
                },
                ..Default::default()
            },
            json,
            csv,
            force: a.force,
            quiet: a.quiet,
            map: a.map,
            crops: a.crops,
        })
    }
}

fn error(msg: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "hotpixels: error: {msg}");
}

/// Prints per-file errors as they happen, warnings after discovery, and a progress bar on stderr
/// (only when stderr is a terminal and not `--quiet`).
struct Console {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    started: std::time::Instant,
}

impl Console {
    fn new(quiet: bool) -> Self {
        Console {
            quiet,
            bar: None,
            started: std::time::Instant::now(),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl ScanObserver for Console {
    fn discovered(&mut self, d: &Discovery) {
        if self.quiet {
            return;
        }
        for u in &d.unmatched {
            let _ = writeln!(
                std::io::stderr(),
                "hotpixels: warning: '{u}' matched no image file"
            );
        }
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) && d.files.len() > 1 {
            let bar = indicatif::ProgressBar::new(d.files.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} frames  {msg}  ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            self.started = std::time::Instant::now();
            self.bar = Some(bar);
        }
    }

    fn decode_failed(&mut self, e: &DecodeError) {
        match &self.bar {
            Some(bar) => bar.suspend(|| error(e)),
            None => error(e),
        }
    }

    fn progress(&mut self, done: usize, _total: usize, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{:.1} frames/s  {:.0} MB/s",
                done as f64 / secs,
                bytes as f64 / 1e6 / secs
            ));
        }
    }
}

fn run_scan(cfg: ScanConfig) -> u8 {
    let mut console = Console::new(cfg.quiet);
    let result = scan::scan(&cfg.inputs, &cfg.options, &mut console);
    console.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let table = report::text::render(&report);
    if !cfg.quiet {
        if cfg.json == Some(Destination::Stdout) || cfg.csv == Some(Destination::Stdout) {
            let _ = std::io::stderr().write_all(table.as_bytes());
        } else {
            let _ = std::io::stdout().write_all(table.as_bytes());
        }
    }
    let mut status = if report.failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    };
    let write = |dest: &Option<Destination>, text: String| -> Result<(), OutputError> {
        match dest {
            Some(d) => report::write_to(d, text.as_bytes(), cfg.force),
            None => Ok(()),
        }
    };
    if let Err(e) = write(&cfg.json, report::json::render(&report)) {
        error(e);
        status = EXIT_FATAL;
    }
    if let Err(e) = write(&cfg.csv, report::csv::render(&report.shape, &report.lowest)) {
        error(e);
        status = EXIT_FATAL;
    }
    let defects = &report.detection.defects;
    if let Some(path) = &cfg.map {
        let img = report::image::render_map(&report.moments, defects);
        if let Err(e) = report::write_file(path, &report::image::png_bytes(&img), cfg.force) {
            error(e);
            status = EXIT_FATAL;
        }
    }
    if let Some(path) = &cfg.crops {
        let img = report::image::render_crops(report.shape, &report.files, defects);
        if let Err(e) = report::write_file(path, &report::image::png_bytes(&img), cfg.force) {
            error(e);
            status = EXIT_FATAL;
        }
    }
    status
}

fn run_devices() -> u8 {
    let list = gpu::adapters();
    if list.is_empty() {
        println!(
            "no GPU adapters found (backends searched: {:?})",
            gpu::backends()
        );
        println!("scans will run on the CPU backend");
        return EXIT_OK;
    }
    let auto = list.iter().position(|i| !gpu::is_software(i));
    println!(
        "{:>3}  {:<40} {:<14} {:<8} driver",
        "#", "adapter", "type", "backend"
    );
    for (n, info) in list.iter().enumerate() {
        println!(
            "{:>3}  {:<40} {:<14} {:<8} {}",
            n,
            info.name,
            format!("{:?}", info.device_type),
            format!("{:?}", info.backend),
            gpu::driver_string(info)
        );
    }
    match auto {
        Some(i) => println!("--backend auto uses #{i}; --backend gpu uses #0"),
        None => {
            println!("--backend auto uses the CPU (only software adapters); --backend gpu uses #0")
        }
    }
    EXIT_OK
}

fn run_demo(a: DemoArgs) -> u8 {
    if a.width < 16 || a.height < 16 || a.width > 8000 || a.height > 8000 {
        error("--width and --height must be between 16 and 8000");
        return EXIT_FATAL;
    }
    if a.frames < 2 {
        error("--frames must be at least 2");
        return EXIT_FATAL;
    }
    let options = ScanOptions {
        backend: a.backend.into(),
        ..Default::default()
    };
    let spec = crate::synth::sensor::SetSpec {
        width: a.width & !1,
        height: a.height & !1,
        frames: a.frames,
        seed: a.seed,
        ..Default::default()
    };
    println!(
        "demo: {} synthetic {}x{} JPEG frames from a simulated RGGB camera with {} defective \
         photosites (bursts, underexposed frames), written to a temporary folder",
        spec.frames,
        spec.width,
        spec.height,
        spec.hot + spec.warm + spec.stuck + spec.dead + 2 * spec.pairs
    );
    let mut console = Console::new(false);
    let result = crate::demo::run_demo(&spec, options, &mut console);
    console.finish();
    match result {
        Ok(outcome) => {
            print!("{}", report::text::render(&outcome.report));
            print!("{}", outcome.render());
            if outcome.passed() {
                EXIT_OK
            } else {
                EXIT_SOME_FAILED
            }
        }
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}

fn run_bench(a: BenchArgs) -> u8 {
    if a.jobs == Some(0) || a.frames < 2 || a.sizes.iter().any(|&s| s == 0 || s > 200) {
        error("--jobs must be at least 1, --frames at least 2, --sizes between 1 and 200 MP");
        return EXIT_FATAL;
    }
    let json = a.json.as_deref().map(Destination::parse);
    if let Some(Destination::File(p)) = &json {
        if let Err(e) = report::check_writable(p, a.force) {
            error(e);
            return EXIT_FATAL;
        }
    }
    let options = crate::bench::BenchOptions {
        inputs: a.inputs,
        sizes_mp: a.sizes,
        frames: a.frames,
        accumulate_frames: a.accumulate_frames.max(2),
        quality: a.quality,
        jobs: a.jobs.unwrap_or_else(scan::default_jobs),
        gpu: match a.gpu {
            GpuArg::Hardware => crate::bench::GpuChoice::Hardware,
            GpuArg::Any => crate::bench::GpuChoice::Any,
            GpuArg::None => crate::bench::GpuChoice::None,
        },
        repeat: a.repeat.max(1),
    };
    let mut say = |what: &str| {
        let _ = writeln!(std::io::stderr(), "bench: {what}");
    };
    let report = match crate::bench::run(&options, &mut say) {
        Ok(r) => r,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let table = crate::bench::render(&report);
    if json == Some(Destination::Stdout) {
        let _ = std::io::stderr().write_all(table.as_bytes());
    } else {
        print!("{table}");
    }
    if let Some(dest) = &json {
        let mut text = serde_json::to_string_pretty(&report).expect("bench report serialises");
        text.push('\n');
        if let Err(e) = report::write_to(dest, text.as_bytes(), a.force) {
            error(e);
            return EXIT_FATAL;
        }
    }
    EXIT_OK
}

fn parse_quality(q: &str) -> Result<(u8, u8), String> {
    let bad = || format!("--quality '{q}': expected a number 1-100 or a range like 85-92");
    let mut parts = q.splitn(2, '-').map(|p| p.trim().parse::<u8>());
    let lo = parts.next().and_then(|p| p.ok()).ok_or_else(bad)?;
    let hi = match parts.next() {
        Some(p) => p.map_err(|_| bad())?,
        None => lo,
    };
    if lo == 0 || hi > 100 || lo > hi {
        return Err(bad());
    }
    Ok((lo, hi))
}

fn synth_spec(a: &SynthArgs) -> Result<crate::synth::sensor::SetSpec, String> {
    use crate::synth::sensor::{SetFormat, SetSpec};
    if a.frames == 0 || a.width < 8 || a.height < 8 {
        return Err("--frames must be at least 1, --width and --height at least 8".into());
    }
    if !(0.0..=1.0).contains(&a.bursts) || !(0.0..=1.0).contains(&a.underexposed) {
        return Err("--bursts and --underexposed are fractions between 0 and 1".into());
    }
    let scenes = match &a.scenes {
        None => Vec::new(),
        Some(dir) => {
            let found = crate::input::discover::expand_inputs(&[dir.display().to_string()])
                .map_err(|e| e.to_string())?
                .files;
            if found.is_empty() {
                return Err(format!("{}: no photos found for --scenes", dir.display()));
            }
            found
        }
    };
    Ok(SetSpec {
        width: a.width,
        height: a.height,
        frames: a.frames,
        format: match a.format {
            FormatArg::Jpeg => SetFormat::Jpeg,
            FormatArg::Png => SetFormat::Png,
            FormatArg::Tiff => SetFormat::Tiff,
        },
        quality: parse_quality(&a.quality)?,
        chroma: match a.chroma {
            ChromaArg::S444 => crate::synth::Chroma::Full,
            ChromaArg::S422 => crate::synth::Chroma::Sub422,
            ChromaArg::S420 => crate::synth::Chroma::Sub420,
        },
        hot: a.hot,
        warm: a.warm,
        stuck: a.stuck,
        dead: a.dead,
        pairs: a.pairs,
        burst_fraction: a.bursts,
        underexposed: a.underexposed,
        dark: a.dark,
        scenes,
        seed: a.seed,
        ..Default::default()
    })
}

fn run_synth(a: SynthArgs) -> u8 {
    let spec = match synth_spec(&a) {
        Ok(s) => s,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    match crate::synth::sensor::write_set(&spec, &a.out) {
        Ok(truth) => {
            println!(
                "wrote {} frames ({}x{}) and truth.json with {} defective photosites to {}",
                truth.files.len(),
                truth.width,
                truth.height,
                truth.defects.len(),
                a.out.display()
            );
            EXIT_OK
        }
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}

/// Parses `args`, runs the command and returns its exit code.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_FATAL } else { EXIT_OK });
        }
    };
    let code = match cli.command {
        Command::Scan(a) => match ScanConfig::from_args(a) {
            Ok(cfg) => run_scan(cfg),
            Err(e) => {
                error(e);
                EXIT_FATAL
            }
        },
        Command::Devices => run_devices(),
        Command::Demo(a) => run_demo(a),
        Command::Bench(a) => run_bench(a),
        Command::Synth(a) => run_synth(a),
    };
    ExitCode::from(code)
}
