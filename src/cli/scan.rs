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
    /// For shots saved as RAW and JPEG both (same name): read the RAW files (the sensor's own
    /// photosites) or the JPEGs.
    #[arg(long, value_parser = ["raw", "jpeg"], default_value = "raw")]
    prefer: String,
    /// Refuse files whose header claims a larger frame, in megapixels (before anything of that
    /// size is allocated).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
    /// Draw the sensor with every defect circled and labelled by kind into FILE.png.
    #[arg(long, value_name = "FILE.png")]
    map: Option<std::path::PathBuf>,
    /// Draw magnified crops around each defect, from the frame where it shows best, into FILE.png.
    #[arg(long, value_name = "FILE.png")]
    crops: Option<std::path::PathBuf>,
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

/// A scan's validated configuration.
#[derive(Debug)]
pub struct ScanConfig {
    /// The inputs.
    pub inputs: Vec<String>,
    /// Options passed to the library.
    pub options: ScanOptions,
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

impl ScanConfig {
    /// Validates the arguments and checks every output: files writable, no two outputs on one file
    /// or on standard output, no output that is an input. Nothing is read or written yet.
    pub fn from_args(a: ScanArgs) -> Result<Self, String> {
        if a.top == 0 {
            return Err("--top must be at least 1".into());
        }
        if a.jobs == Some(0) {
            return Err("--jobs must be at least 1".into());
        }
        if !(a.max_megapixels > 0.0 && a.max_megapixels.is_finite()) {
            return Err("--max-megapixels must be a positive number".into());
        }
        if !(a.sensitivity > 0.0 && a.sensitivity.is_finite()) {
            return Err("--sensitivity must be a positive number".into());
        }
        let requested = [
            (Format::Json, a.json.as_deref().map(Destination::parse)),
            (Format::Csv, a.csv.as_deref().map(Destination::parse)),
            (Format::Map, a.map.as_deref().map(Destination::parse)),
            (Format::Crops, a.crops.as_deref().map(Destination::parse)),
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
                Format::Map | Format::Crops | Format::RepairPreview => {
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
        let given: Vec<PathBuf> = a.inputs.iter().map(PathBuf::from).collect();
        report::check_outputs(&outputs, &given, a.force).map_err(|e| e.to_string())?;
        Ok(ScanConfig {
            exports: export_count,
            kinds,
            inputs: a.inputs,
            options: ScanOptions {
                backend: a.backend.into(),
                top: a.top,
                jobs: a.jobs.unwrap_or_else(scan::default_jobs),
                detect: hotpixels::detect::DetectOptions {
                    sensitivity: a.sensitivity,
                    dark: a.dark,
                },
                max_megapixels: a.max_megapixels,
                prefer: if a.prefer == "jpeg" {
                    hotpixels::input::Prefer::Jpeg
                } else {
                    hotpixels::input::Prefer::Raw
                },
                ..Default::default()
            },
            outputs,
            force: a.force,
            quiet: a.quiet,
        })
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
    let mut console = Console::new(cfg.quiet);
    let result = (|| -> Result<_, Box<dyn std::error::Error>> {
        let prepared = scan::prepare(&cfg.inputs, &cfg.options, &mut console)?;
        // Inputs found inside folders and patterns are known now: no output may replace one.
        report::check_not_inputs(&cfg.outputs, prepared.files())?;
        Ok(prepared.run(&cfg.options, &mut console)?)
    })();
    console.finish();
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let mut status = if report.failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    };
    let (outputs, exports) = cfg.outputs.split_at(cfg.outputs.len() - cfg.exports);
    // Writes a batch of outputs; false once standard output is closed (nobody reads the rest).
    let mut write = |report: &scan::ScanReport, batch: &[Output]| -> bool {
        for e in report::write_outputs(report, batch, cfg.force) {
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
    let mut report = report;
    if write(&report, outputs) {
        // The exports list the chosen kinds only.
        report
            .detection
            .defects
            .retain(|d| cfg.kinds.contains(&d.kind));
        if write(&report, exports)
            && !cfg.quiet
            && exports.iter().any(|o| o.format == Format::RawTherapee)
        {
            super::export::rawtherapee_note(&hotpixels::report::list::DefectList::of(&report));
        }
    }
    status
}
