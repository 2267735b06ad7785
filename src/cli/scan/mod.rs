//! `hotpixels scan`: the arguments, their validation into a [`ScanConfig`] (every output checked
//! before any work), the scan, and the outputs written in one loop.

use std::path::PathBuf;

use hotpixels::report::{self, Destination, Format, Output, OutputError};
use hotpixels::scan::{self, ScanOptions};

use super::console::Console;
use super::{error, BackendArg, EXIT_FATAL, EXIT_OK, EXIT_SOME_FAILED};

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Image or camera RAW files, folders (searched recursively) or glob patterns such as
    /// 'photos/**/*.JPG'.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// Statistics backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Decoder threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// For shots saved as RAW and JPEG both (same name): read the RAW files (the sensor's own
    /// photosites) or the JPEGs.
    #[arg(long, value_parser = ["raw", "jpeg"], default_value = "raw")]
    prefer: String,
    /// Refuse files whose header claims a larger frame, in megapixels (before anything of that
    /// size is allocated).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
    /// Checkpoint the statistics to FILE and resume from it: a scan run again with the same
    /// FILE reads only the files it has not counted. Ctrl-C or SIGTERM writes it and exits 130.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Frames between checkpoints of --state.
    #[arg(long, default_value_t = scan::DEFAULT_CHECKPOINT_FRAMES, value_name = "N")]
    checkpoint_frames: usize,
    /// Seconds between checkpoints of --state.
    #[arg(long, default_value_t = scan::DEFAULT_CHECKPOINT_EVERY.as_secs(), value_name = "S")]
    checkpoint_seconds: u64,
    /// Scan shard I of N (1-based): the files whose path below the inputs' common folder hashes
    /// to it, the same on every machine. Write each shard's --state and `hotpixels merge` them.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Scan only the camera bodies whose name (make, model, serial number, as the report
    /// prints them) contains TEXT, compared without case. Every body found is scanned on its
    /// own; this picks some.
    #[arg(long, value_name = "TEXT")]
    camera: Option<String>,
    /// Scan only the frames taken on or after DATE (EXIF capture time; `YYYY-MM-DD`, or with
    /// `HH:MM[:SS]`): the sensor as it is now. Files without a capture time are left out.
    #[arg(long, value_name = "DATE", value_parser = hotpixels::input::exif::CaptureTime::parse)]
    since: Option<hotpixels::input::exif::CaptureTime>,
    /// Do not date the defects: count the frames in file order, without windows of capture
    /// time (a little faster; a defect that appeared late is then diluted by the frames before).
    #[arg(long)]
    no_timeline: bool,
    #[command(flatten)]
    report: ReportArgs,
}

/// The report options `scan` and `merge` share: what is detected and which outputs are written.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
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
    /// Draw when each defect was seen into FILE.png: one row per defect, capture time across
    /// (frames with capture times only).
    #[arg(long, value_name = "FILE.png")]
    timeline: Option<std::path::PathBuf>,
    /// Draw before/after crops of the worst defects in one frame, repaired as `hotpixels repair`
    /// would, into FILE.png (the kinds chosen by --kinds).
    #[arg(long, value_name = "FILE.png")]
    repair_preview: Option<std::path::PathBuf>,
    /// Export the defects for another tool: FORMAT=FILE, FORMAT one of dcraw, rawtherapee, siril,
    /// csv (every pixel), mask (PNG/TIFF, or FITS for a .fits FILE), json (the report); FILE `-`
    /// for standard output. Repeatable.
    #[arg(long = "export", value_name = "FORMAT=FILE")]
    exports: Vec<String>,
    /// Kinds the exports list, comma-separated (default: every kind).
    #[arg(long, value_name = "KINDS")]
    kinds: Option<String>,
    /// The mask export's values: ccdproc (bad 1, good 0) or pixinsight (bad 0, good white).
    #[arg(long, value_parser = ["ccdproc", "pixinsight"], default_value = "ccdproc")]
    mask_polarity: String,
}

/// The mask polarity named by `--mask-polarity`.
pub fn polarity(name: &str) -> hotpixels::report::mask::Polarity {
    use hotpixels::report::mask::Polarity;
    if name == "pixinsight" {
        Polarity::BadIsZero
    } else {
        Polarity::BadIsOne
    }
}

/// `FORMAT=FILE` of `--export`.
fn parse_export(spec: &str) -> Result<Output, String> {
    let (name, file) = spec
        .split_once('=')
        .filter(|(_, f)| !f.is_empty())
        .ok_or_else(|| format!("--export '{spec}': expected FORMAT=FILE"))?;
    let format = Format::export(name).ok_or_else(|| {
        format!(
            "--export '{spec}': unknown format '{name}' ({})",
            Format::EXPORTS.join(", ")
        )
    })?;
    Ok(Output::new(format, Destination::parse(file)))
}

/// The validated report options: detection settings and every output, checked.
#[derive(Debug)]
pub struct ReportConfig {
    /// How many lowest-variance subpixels to list.
    pub top: usize,
    /// Detection settings.
    pub detect: hotpixels::detect::DetectOptions,
    /// Every output, the human table first (on standard error when standard output carries
    /// another format; none with `--quiet`), the exports last.
    pub outputs: Vec<Output>,
    /// How many of `outputs`, at the end, are exports (written with the defects of `kinds` only).
    pub exports: usize,
    /// The kinds the exports list.
    pub kinds: Vec<hotpixels::detect::Kind>,
    /// Replace existing report files.
    pub force: bool,
    /// Print only errors.
    pub quiet: bool,
}

impl ReportConfig {
    /// Validates the report options and checks every output: files writable, no two outputs on
    /// one file or on standard output, none that is one of `inputs`.
    pub fn from_args(a: ReportArgs, inputs: &[PathBuf]) -> Result<Self, String> {
        if a.top == 0 {
            return Err("--top must be at least 1".into());
        }
        if !(a.sensitivity > 0.0 && a.sensitivity.is_finite()) {
            return Err("--sensitivity must be a positive number".into());
        }
        let requested = [
            (Format::Json, a.json.as_deref().map(Destination::parse)),
            (Format::Csv, a.csv.as_deref().map(Destination::parse)),
            (Format::Map, a.map.as_deref().map(Destination::parse)),
            (Format::Crops, a.crops.as_deref().map(Destination::parse)),
            (
                Format::Timeline,
                a.timeline.as_deref().map(Destination::parse),
            ),
        ];
        let mut outputs: Vec<Output> = requested
            .into_iter()
            .filter_map(|(format, dest)| dest.map(|dest| Output { format, dest }))
            .collect();
        let polarity = polarity(&a.mask_polarity);
        let mut exports = a
            .exports
            .iter()
            .map(|e| {
                parse_export(e).map(|o| Output {
                    format: o.format.with_polarity(polarity),
                    ..o
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(p) = &a.repair_preview {
            exports.push(Output::new(Format::RepairPreview, Destination::parse(p)));
        }
        let kinds = super::kinds_arg(a.kinds.as_deref())?;
        let export_count = exports.len();
        outputs.extend(exports);
        if let Some(o) = outputs
            .iter()
            .find(|o| o.format.is_binary() && o.dest == Destination::Stdout)
        {
            let option = match o.format {
                Format::Map | Format::Crops | Format::RepairPreview | Format::Timeline => {
                    format!("--{}", o.format.name())
                }
                other => format!("--export {}", other.name()),
            };
            return Err(format!(
                "{option} writes an image: name a file, not standard output"
            ));
        }
        if !a.quiet {
            let table = if outputs.iter().any(|o| o.dest == Destination::Stdout) {
                Destination::Stderr
            } else {
                Destination::Stdout
            };
            outputs.insert(
                0,
                Output {
                    format: Format::Text,
                    dest: table,
                },
            );
        }
        report::check_outputs(&outputs, inputs, a.force).map_err(|e| e.to_string())?;
        Ok(ReportConfig {
            top: a.top,
            detect: hotpixels::detect::DetectOptions {
                sensitivity: a.sensitivity,
                dark: a.dark,
                ..Default::default()
            },
            exports: export_count,
            kinds,
            outputs,
            force: a.force,
            quiet: a.quiet,
        })
    }

    /// The outputs before the exports, and the exports.
    pub fn split(&self) -> (&[Output], &[Output]) {
        self.outputs.split_at(self.outputs.len() - self.exports)
    }

    /// Writes every output of `report`, the exports with the chosen kinds only. Returns the exit
    /// status: `ok` unless an output failed.
    pub fn write(&self, report: scan::ScanReport, ok: u8) -> u8 {
        let (outputs, exports) = self.split();
        self.write_batches(report, outputs, exports, ok).0
    }

    /// Writes `outputs` of `report`, then `exports` with the chosen kinds only. Returns the exit
    /// status (`ok` unless an output failed) and false once standard output is closed (nobody
    /// reads the rest).
    pub fn write_batches(
        &self,
        mut report: scan::ScanReport,
        outputs: &[Output],
        exports: &[Output],
        ok: u8,
    ) -> (u8, bool) {
        let mut status = ok;
        let mut write = |report: &scan::ScanReport, batch: &[Output]| -> bool {
            for e in report::write_outputs(report, batch, self.force) {
                match e {
                    OutputError::ClosedPipe => return false,
                    e => {
                        error(e);
                        status = EXIT_FATAL;
                    }
                }
            }
            true
        };
        if !write(&report, outputs) {
            return (status, false);
        }
        report
            .detection
            .defects
            .retain(|d| self.kinds.contains(&d.kind));
        if !write(&report, exports) {
            return (status, false);
        }
        if !self.quiet && exports.iter().any(|o| o.format == Format::RawTherapee) {
            super::export::rawtherapee_note(&hotpixels::report::list::DefectList::of(&report));
        }
        (status, true)
    }
}

/// A scan's validated configuration.
#[derive(Debug)]
pub struct ScanConfig {
    /// The inputs.
    pub inputs: Vec<String>,
    /// Options passed to the library.
    pub options: ScanOptions,
    /// The report options.
    pub report: ReportConfig,
}

/// `I/N` of `--shard`: 1 ≤ I ≤ N.
fn parse_shard(spec: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--shard '{spec}': expected I/N with 1 <= I <= N, e.g. 2/8");
    let (i, n) = spec.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

impl ScanConfig {
    /// Validates the arguments and checks every output: files writable, no two outputs on one file
    /// or on standard output, no output that is an input. Nothing is read or written yet.
    pub fn from_args(a: ScanArgs) -> Result<Self, String> {
        if a.jobs == Some(0) {
            return Err("--jobs must be at least 1".into());
        }
        if !(a.max_megapixels > 0.0 && a.max_megapixels.is_finite()) {
            return Err("--max-megapixels must be a positive number".into());
        }
        if a.checkpoint_frames == 0 || a.checkpoint_seconds == 0 {
            return Err("--checkpoint-frames and --checkpoint-seconds must be at least 1".into());
        }
        let shard = a.shard.as_deref().map(parse_shard).transpose()?;
        let given: Vec<PathBuf> = a.inputs.iter().map(PathBuf::from).collect();
        let report = ReportConfig::from_args(a.report, &given)?;
        if let Some(state) = &a.state {
            if report
                .outputs
                .iter()
                .any(|o| o.dest == Destination::File(state.clone()))
            {
                return Err(format!("{}: is both --state and a report", state.display()));
            }
        }
        Ok(ScanConfig {
            inputs: a.inputs,
            options: ScanOptions {
                backend: a.backend.into(),
                top: report.top,
                jobs: a.jobs.unwrap_or_else(scan::default_jobs),
                detect: report.detect,
                max_megapixels: a.max_megapixels,
                prefer: if a.prefer == "jpeg" {
                    hotpixels::input::Prefer::Jpeg
                } else {
                    hotpixels::input::Prefer::Raw
                },
                state: a.state.map(|path| scan::StateOptions {
                    path,
                    every_frames: a.checkpoint_frames,
                    every: std::time::Duration::from_secs(a.checkpoint_seconds),
                }),
                shard,
                camera: a.camera.filter(|c| !c.is_empty()),
                since: a.since,
                timeline: !a.no_timeline,
                ..Default::default()
            },
            report,
        })
    }
}

/// Exit status of a scan interrupted by a signal (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// On SIGINT or SIGTERM, the scan stops after the frame in hand and writes its state; a second
/// signal ends the program at once.
fn stop_on_signals() {
    #[cfg(unix)]
    install();
}

#[cfg(unix)]
fn install() {
    extern "C" fn on_signal(signal: libc::c_int) {
        scan::interrupt();
        // SAFETY: signal() is async-signal-safe; the default action applies to the next one.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic and resets the disposition, both
        // async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Runs `scan`.
pub fn run(a: ScanArgs) -> u8 {
    match ScanConfig::from_args(a) {
        Ok(cfg) => run_config(cfg),
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}

fn run_config(cfg: ScanConfig) -> u8 {
    if cfg.options.state.is_some() {
        stop_on_signals();
    }
    let mut console = Console::new(cfg.report.quiet);
    let mut groups = match scan::discover_library(&cfg.inputs, &cfg.options) {
        Ok(groups) => groups,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    if groups.len() > 1 {
        return super::library::run(&cfg, groups, &mut console);
    }
    let discovery = groups.pop().expect("one group at least");
    let result = (|| -> Result<_, scan::ScanError> {
        let prepared = scan::prepare_discovered(discovery, &cfg.options, &mut console)?;
        // Inputs found inside folders and patterns are known now: no output may replace one.
        if let Err(e) = report::check_not_inputs(&cfg.report.outputs, prepared.files()) {
            return Err(scan::ScanError::Output(e.to_string()));
        }
        prepared.run(&cfg.options, &mut console)
    })();
    console.finish();
    let report = match result {
        Ok(r) => r,
        Err(e @ scan::ScanError::Interrupted { .. }) => {
            error(e);
            return EXIT_INTERRUPTED;
        }
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let ok = if report.failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    };
    cfg.report.write(report, ok)
}
