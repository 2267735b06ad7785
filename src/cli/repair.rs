//! `hotpixels repair`: corrected copies of images, from the defects of a scan's JSON report.

use std::path::PathBuf;

use hotpixels::input::discover::expand_inputs;
use hotpixels::repair::{repair_file, RepairMaps, RepairOptions, DEFAULT_QUALITY};

use super::{error, print, stopped, EXIT_FATAL, EXIT_OK, EXIT_SOME_FAILED};

#[derive(clap::Args, Debug)]
pub struct RepairArgs {
    /// The JSON report of a scan of the same camera (`scan --json`), or a photo library's
    /// (several cameras: each file is repaired with the defects of the camera its EXIF names).
    #[arg(long, value_name = "REPORT.json")]
    map: PathBuf,
    /// Images to repair: files, folders or glob patterns (PNG, TIFF, JPEG).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// The folder the copies are written to, under the inputs' names (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// JPEG quality of repaired JPEG copies.
    #[arg(long, default_value_t = DEFAULT_QUALITY, value_name = "Q")]
    quality: u8,
    /// Replace copies that exist already in the output folder.
    #[arg(long)]
    overwrite: bool,
    /// Kinds to repair, comma-separated (default: every kind).
    #[arg(long, value_name = "KINDS")]
    kinds: Option<String>,
    /// Repair only the defects that would show in a frame exposed TIME@ISO (`30s@1600`,
    /// `1/250@100`): a dark current by its rate, a constant offset always.
    #[arg(long, value_name = "TIME@ISO")]
    at: Option<String>,
    /// Of a photo library's report (several cameras): repair with the defects of the camera whose
    /// name contains TEXT only (files of other cameras are left out).
    #[arg(long, value_name = "TEXT")]
    camera: Option<String>,
    /// Refuse a report whose frame is larger than this many megapixels (a report is read as
    /// untrusted input: its shape sizes what is written).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
}

fn prepare(a: &RepairArgs) -> Result<(RepairMaps, Vec<PathBuf>), String> {
    if !(1..=100).contains(&a.quality) {
        return Err("--quality must be between 1 and 100".into());
    }
    let limits = super::limits_arg(a.max_megapixels)?;
    let text = hotpixels::report::readback::read_report_text(&a.map)?;
    let mut map = RepairMaps::from_json(&text, a.camera.as_deref(), &limits)
        .map_err(|e| format!("{}: {e}", a.map.display()))?;
    map.retain_kinds(&super::kinds_arg(a.kinds.as_deref())?);
    if let Some(at) = super::at_arg(a.at.as_deref())? {
        map.retain_shown_at(&at);
    }
    std::fs::create_dir_all(&a.out)
        .map_err(|e| format!("{}: cannot create: {e}", a.out.display()))?;
    let files = expand_inputs(&a.inputs).map_err(|e| e.to_string())?.files;
    if files.is_empty() {
        return Err("no input file matched".into());
    }
    Ok((map, files))
}

/// Runs `repair`.
pub fn run(a: RepairArgs) -> u8 {
    let (map, files) = match prepare(&a) {
        Ok(p) => p,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let options = RepairOptions {
        quality: a.quality,
        overwrite: a.overwrite,
    };
    let mut failed = 0;
    for input in &files {
        let list = match map.for_file(input) {
            Ok(list) => list,
            Err(reason) => {
                error(format!("{}: left out: {reason}", input.display()));
                failed += 1;
                continue;
            }
        };
        match repair_file(input, list, &a.out, &options) {
            Ok(copy) => {
                if let Err(stop) = print(&format!("{}\n", copy.display())) {
                    return stopped(stop);
                }
            }
            Err(e) => {
                error(e);
                failed += 1;
            }
        }
    }
    match failed {
        0 => EXIT_OK,
        n if n == files.len() => EXIT_FATAL,
        _ => EXIT_SOME_FAILED,
    }
}
