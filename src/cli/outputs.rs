//! The report options `scan` and `merge` share ([`ReportArgs`]): what is detected and which
//! outputs are written, validated into a [`ReportConfig`] that writes them in one loop; and the
//! notes that go with an export.

use std::path::PathBuf;

use hotpixels::detect::dark::AtExposure;
use hotpixels::report::list::DefectList;
use hotpixels::report::mask::Polarity;
use hotpixels::report::rawtherapee::RawTherapee;
use hotpixels::report::{self, Destination, Format, Output, OutputError};
use hotpixels::ScanReport;

use super::{error, EXIT_FATAL};

/// The report options `scan` and `merge` share: what is detected and which outputs are written.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// How many lowest-variance subpixels to list.
    #[arg(long, default_value_t = 10, value_name = "K")]
    top: usize,
    /// Write the JSON report to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Write the answer as one self-contained page to FILE.html: per camera the summary, the
    /// sensor map, the defects table, an exposure control, crops and the export commands.
    #[arg(long, value_name = "FILE.html")]
    html: Option<String>,
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
    /// Report only the defects that would show in a frame exposed TIME@ISO (`30s@1600`,
    /// `1/250@100`): a dark current by its rate, a constant offset always.
    #[arg(long, value_name = "TIME@ISO")]
    at: Option<String>,
    /// The mask export's values: ccdproc (bad 1, good 0) or pixinsight (bad 0, good white).
    #[arg(long, value_parser = ["ccdproc", "pixinsight"], default_value = "ccdproc")]
    mask_polarity: String,
}

/// The mask polarity named by `--mask-polarity`.
pub fn polarity(name: &str) -> Polarity {
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
    /// The exposure the defects are judged at (`--at`).
    pub at: Option<AtExposure>,
    /// The JSON report the HTML page's commands name: `--json`'s file, or a placeholder.
    pub report_name: String,
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
            (Format::Html, a.html.as_deref().map(Destination::parse)),
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
        let at = super::at_arg(a.at.as_deref())?;
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
        let report_name = match a.json.as_deref() {
            Some(name) if name != "-" => name.to_string(),
            _ => report::html::REPORT_PLACEHOLDER.to_string(),
        };
        Ok(ReportConfig {
            report_name,
            top: a.top,
            detect: hotpixels::detect::DetectOptions {
                sensitivity: a.sensitivity,
                dark: a.dark,
                ..Default::default()
            },
            exports: export_count,
            kinds,
            at,
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
    pub fn write(&self, report: ScanReport, ok: u8) -> u8 {
        let (outputs, exports) = self.split();
        self.write_batches(report, outputs, exports, ok).0
    }

    /// Writes `outputs` of `report` (judged at `--at`'s exposure when given), then `exports` with
    /// the chosen kinds only. Returns the exit
    /// status (`ok` unless an output failed) and false once standard output is closed (nobody
    /// reads the rest).
    pub fn write_batches(
        &self,
        mut report: ScanReport,
        outputs: &[Output],
        exports: &[Output],
        ok: u8,
    ) -> (u8, bool) {
        let mut status = ok;
        // Once: a library's report was judged already for its one document.
        if let (Some(at), None) = (self.at, &report.shown_at) {
            report.judge_at(at);
        }
        let name = &self.report_name;
        let mut write = |report: &ScanReport, batch: &[Output]| -> bool {
            // The page names the JSON report in its commands; every other format is the report's.
            let errors = batch.iter().flat_map(|o| match o.format {
                Format::Html => {
                    let page = report::html::render_scans(&[report], name);
                    report::write_to(&o.dest, page.as_bytes(), self.force).err()
                }
                _ => report::write_outputs(report, std::slice::from_ref(o), self.force)
                    .into_iter()
                    .next(),
            });
            for e in errors.collect::<Vec<_>>() {
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
            rawtherapee_note(&DefectList::of(&report));
        }
        (status, true)
    }
}

/// Tells where RawTherapee looks for a `.badpixels` list of this camera.
pub fn rawtherapee_note(list: &DefectList) {
    let names = RawTherapee::file_names(list);
    if names.is_empty() {
        return;
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    eprintln!(
        "hotpixels: note: RawTherapee reads this list as {} in its dark-frame folder (Preferences › Image Processing › Dark frame)",
        quoted.join(" or ")
    );
}
