//! `hotpixels export`: a JSON report (from `scan --json`) written as the defect list of another
//! tool — dcraw, RawTherapee, Siril — or as CSV or JSON, with the kinds chosen.

use std::path::PathBuf;

use hotpixels::detect::dark::AtExposure;
use hotpixels::detect::{DarkCurrent, Kind};
use hotpixels::report::list::DefectList;
use hotpixels::report::{self, canonical_target, Destination, Format, Output, OutputError};

use super::{error, EXIT_FATAL, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The format: dcraw, rawtherapee, siril, csv (every pixel of every defect), mask (PNG/TIFF,
    /// or FITS when FILE ends in .fits) or json.
    #[arg(long, value_name = "FORMAT")]
    format: String,
    /// The JSON report of a scan (`-` for standard input).
    #[arg(value_name = "REPORT.json")]
    report: PathBuf,
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Kinds to list, comma-separated (default: every kind).
    #[arg(long, value_name = "KINDS")]
    kinds: Option<String>,
    /// List only the defects that would show in a frame exposed TIME@ISO (`30s@1600`,
    /// `1/250@100`): a dark current by its rate, a constant offset always.
    #[arg(long, value_name = "TIME@ISO")]
    at: Option<String>,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    /// The mask's values: ccdproc (bad 1, good 0) or pixinsight (bad 0, good white).
    #[arg(long, value_parser = ["ccdproc", "pixinsight"], default_value = "ccdproc")]
    mask_polarity: String,
    /// Of a photo library's report (several cameras): the camera whose name contains TEXT.
    #[arg(long, value_name = "TEXT")]
    camera: Option<String>,
    /// Refuse a report whose frame is larger than this many megapixels (a report is read as
    /// untrusted input: its shape sizes what is written).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
}

/// The JSON report `doc` (one camera's), with the defects of other kinds, and those that would
/// not show at `at`, left out.
fn filtered_json(
    mut doc: serde_json::Value,
    kinds: &[Kind],
    at: Option<&AtExposure>,
) -> Result<Vec<u8>, String> {
    let defects = doc
        .get_mut("defects")
        .and_then(|d| d.as_array_mut())
        .ok_or("not a hotpixels JSON report: no defects")?;
    defects.retain(|d| {
        let kind = d
            .get("kind")
            .and_then(|k| k.as_str())
            .and_then(Kind::from_name);
        let dark: Option<DarkCurrent> = serde_json::from_value(d.clone()).ok();
        kind.is_some_and(|k| kinds.contains(&k)) && at.is_none_or(|at| at.shows(dark.as_ref()))
    });
    let mut out = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out.into_bytes())
}

/// Bytes a mask takes while it is made, per pixel: its 16-bit values, their 8-bit copy and the
/// encoded file.
const MASK_BYTES_PER_PIXEL: u64 = 4;

fn export(a: &ExportArgs) -> Result<(), String> {
    let format = Format::export(&a.format)
        .ok_or_else(|| {
            format!(
                "--format '{}': unknown format ({})",
                a.format,
                Format::EXPORTS.join(", ")
            )
        })?
        .with_polarity(super::outputs::polarity(&a.mask_polarity));
    let kinds = super::kinds_arg(a.kinds.as_deref())?;
    let at = super::at_arg(a.at.as_deref())?;
    let Output { format, dest } = Output::new(
        format,
        match &a.output {
            Some(p) => Destination::parse(p),
            None => Destination::Stdout,
        },
    );
    if format.is_binary() && dest == Destination::Stdout {
        return Err(format!(
            "{} writes an image: name a file with -o",
            format.name()
        ));
    }
    if let Destination::File(p) = &dest {
        report::check_writable(p, a.force).map_err(|e| e.to_string())?;
        if a.report.as_os_str() != "-" && canonical_target(p) == canonical_target(&a.report) {
            return Err(format!(
                "{}: is the report itself; refusing to write over it",
                p.display()
            ));
        }
    }
    let limits = super::limits_arg(a.max_megapixels)?;
    let text = report::readback::read_report_text(&a.report)?;
    let name = if a.report.as_os_str() == "-" {
        "standard input".to_string()
    } else {
        a.report.display().to_string()
    };
    // Every format reads the list first: it checks the report before anything is sized by it.
    let (doc, mut list) = DefectList::checked_report(&text, a.camera.as_deref(), &limits)
        .map_err(|e| format!("{name}: {e}"))?;
    if let Format::Mask(_) = format {
        report::readback::check_memory("the mask", list.shape.pixels(), MASK_BYTES_PER_PIXEL)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    let bytes = match format.list_exporter() {
        Some(exporter) => {
            list.retain_kinds(&kinds);
            if let Some(at) = &at {
                list.retain_shown_at(at);
            }
            if format == Format::RawTherapee {
                super::outputs::rawtherapee_note(&list);
            }
            exporter.render_list(&list)
        }
        None => filtered_json(doc, &kinds, at.as_ref()).map_err(|e| format!("{name}: {e}"))?,
    };
    match report::write_to(&dest, &bytes, a.force) {
        Ok(()) | Err(OutputError::ClosedPipe) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `export`.
pub fn run(a: ExportArgs) -> u8 {
    match export(&a) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}
