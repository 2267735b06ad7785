//! `hotpixels import`: a defect list written by another tool (dcraw, RawTherapee, Siril), a
//! per-pixel CSV or a mask, read back into a JSON report that `repair` and `export` take.

use std::path::PathBuf;

use hotpixels::input::decode::probe;
use hotpixels::input::exif::{read_camera, Camera};
use hotpixels::report::import::{import, ImportFormat};
use hotpixels::report::{self, canonical_target, Destination, OutputError};

use super::{error, EXIT_FATAL, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The list's format: dcraw, rawtherapee, siril, csv or mask (PNG, TIFF or FITS).
    #[arg(value_name = "FORMAT")]
    format: String,
    /// The list.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// One frame the list is for (an image or camera RAW file): it gives the shape, the camera
    /// (EXIF) and, for RAW, the colour filter pattern.
    #[arg(long, value_name = "FRAME")]
    like: PathBuf,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
    /// The mask's values: ccdproc (bad is nonzero) or pixinsight (bad is 0).
    #[arg(long, value_parser = ["ccdproc", "pixinsight"], default_value = "ccdproc")]
    mask_polarity: String,
}

fn run_import(a: &ImportArgs) -> Result<(), String> {
    let format = ImportFormat::parse(&a.format)
        .ok_or_else(|| {
            format!(
                "'{}': unknown format ({})",
                a.format,
                ImportFormat::NAMES.join(", ")
            )
        })?
        .with_polarity(super::outputs::polarity(&a.mask_polarity));
    let dest = a
        .output
        .as_ref()
        .map_or(Destination::Stdout, Destination::parse);
    if let Destination::File(p) = &dest {
        report::check_writable(p, a.force).map_err(|e| e.to_string())?;
        for input in [&a.file, &a.like] {
            if canonical_target(p) == canonical_target(input) {
                return Err(format!(
                    "{}: is an input; refusing to write over it",
                    p.display()
                ));
            }
        }
    }
    let header = probe(&a.like).map_err(|e| e.to_string())?;
    let camera = read_camera(&a.like).or_else(|| {
        header
            .raw
            .map(|r| Camera::from_exif(&r.make, &r.model, None))
    });
    let bytes = hotpixels::report::readback::read_capped(&a.file)?;
    let list = import(format, &bytes, header.shape, camera)
        .map_err(|e| format!("{}: {e}", a.file.display()))?;
    let json = list.to_json(&a.format, &a.file.display().to_string());
    match report::write_to(&dest, json.as_bytes(), a.force) {
        Ok(()) | Err(OutputError::ClosedPipe) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `import`.
pub fn run(a: ImportArgs) -> u8 {
    match run_import(&a) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}
