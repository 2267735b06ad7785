//! Output: one [`Exporter`] per format (text table, JSON, CSV, defect map, crops, and the defect
//! lists other tools read: dcraw, RawTherapee, Siril, per-pixel CSV, masks — and read back, in
//! [`import`]), each in its own file, the
//! checks every output passes before a scan starts, and the one loop that writes them (atomically
//! for files).

pub mod crops;
pub mod csv;
pub mod dcraw;
pub mod draw;
pub mod html;
pub mod import;
pub mod json;
pub mod list;
pub mod map;
pub mod mask;
pub mod pixels;
pub mod preview;
pub mod rawtherapee;
pub mod readback;
pub mod siril;
pub mod text;
pub mod timeline;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::input::exif::Camera;
use crate::model::ScanReport;

/// Exposure times below this (seconds) are written `1/N`, as cameras write them.
const RECIPROCAL_BELOW: f64 = 0.25;

/// Up to a second, a time within this share of `1/N` is written so (`1/3`, not `0.333`).
const RECIPROCAL_TOLERANCE: f64 = 0.02;

/// Significant digits of an exposure time written as a number.
const TIME_DIGITS: i32 = 3;

/// An exposure time in seconds as cameras write it, the one way every output writes one:
/// `1/250` below a quarter of a second, or up to a second where it is one over a whole number
/// (`1/3`); else three significant digits (`0.35`, `2.29`, `30`); `0` for none.
pub fn exposure_time(t: f64) -> String {
    if t.is_nan() || t <= 0.0 {
        return "0".into();
    }
    let n = (1.0 / t).round();
    if t < 1.0 && (t < RECIPROCAL_BELOW || (1.0 / t - n).abs() < RECIPROCAL_TOLERANCE / t) {
        return format!("1/{n}");
    }
    let decimals = (TIME_DIGITS - 1 - t.log10().floor() as i32).max(0) as usize;
    let text = format!("{t:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The human table ([`text`]).
    Text,
    /// The JSON report ([`json`]).
    Json,
    /// The lowest-variance list as CSV ([`csv`]).
    Csv,
    /// The defect map, PNG ([`map`]).
    Map,
    /// The crops contact sheet, PNG ([`crops`]).
    Crops,
    /// dcraw's `-P` bad-pixel list ([`dcraw`]).
    Dcraw,
    /// RawTherapee's `.badpixels` list ([`rawtherapee`]).
    RawTherapee,
    /// Siril's cosmetic-correction list ([`siril`]).
    Siril,
    /// Every pixel of every defect as CSV ([`pixels`]).
    PixelCsv,
    /// An image marking the defect pixels ([`mask`]).
    Mask(mask::Mask),
    /// Before/after crops of the worst defects in one frame, PNG ([`preview`]).
    RepairPreview,
    /// When each defect was seen, PNG ([`timeline`]).
    Timeline,
    /// The answer as one self-contained page ([`html`]).
    Html,
}

impl Format {
    /// The format's name, as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Map => "map",
            Format::Crops => "crops",
            Format::Dcraw => "dcraw",
            Format::RawTherapee => "rawtherapee",
            Format::Siril => "siril",
            Format::PixelCsv => "defect csv",
            Format::Mask(_) => "mask",
            Format::RepairPreview => "repair-preview",
            Format::Timeline => "timeline",
            Format::Html => "html",
        }
    }

    /// The format `--export FORMAT=FILE` and `hotpixels export --format FORMAT` name: the defect
    /// lists, and `json` (the report).
    pub fn export(name: &str) -> Option<Self> {
        Some(match name {
            "dcraw" => Format::Dcraw,
            "rawtherapee" => Format::RawTherapee,
            "siril" => Format::Siril,
            "csv" => Format::PixelCsv,
            "json" => Format::Json,
            "mask" => Format::Mask(mask::Mask::new(
                mask::Polarity::BadIsOne,
                mask::MaskFile::Image,
            )),
            _ => return None,
        })
    }

    /// The names [`Format::export`] knows.
    pub const EXPORTS: [&'static str; 6] = ["dcraw", "rawtherapee", "siril", "csv", "mask", "json"];

    /// This format with the mask's polarity set (other formats are unchanged).
    pub fn with_polarity(self, polarity: mask::Polarity) -> Self {
        match self {
            Format::Mask(m) => Format::Mask(mask::Mask { polarity, ..m }),
            other => other,
        }
    }

    /// This format as written to `path`: a mask named `.fits` is FITS (other formats are
    /// unchanged).
    pub fn for_path(self, path: &Path) -> Self {
        match self {
            Format::Mask(m) => Format::Mask(mask::Mask {
                file: mask::MaskFile::for_path(path),
                ..m
            }),
            other => other,
        }
    }

    /// The list exporter of a defect-list format (`None` for the report formats).
    pub fn list_exporter(self) -> Option<&'static dyn list::ListExporter> {
        match self {
            Format::Dcraw => Some(&dcraw::Dcraw),
            Format::RawTherapee => Some(&rawtherapee::RawTherapee),
            Format::Siril => Some(&siril::Siril),
            Format::PixelCsv => Some(&pixels::PixelCsv),
            Format::Mask(m) => Some(m.as_static()),
            _ => None,
        }
    }

    /// The exporter that writes this format.
    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Text => &text::Text,
            Format::Json => &json::Json,
            Format::Csv => &csv::Csv,
            Format::Map => &map::Map,
            Format::Crops => &crops::Crops,
            Format::Dcraw => &dcraw::Dcraw,
            Format::RawTherapee => &rawtherapee::RawTherapee,
            Format::Siril => &siril::Siril,
            Format::PixelCsv => &pixels::PixelCsv,
            Format::Mask(m) => m.as_static(),
            Format::RepairPreview => &preview::RepairPreview,
            Format::Timeline => &timeline::TimelinePicture,
            Format::Html => &html::Html,
        }
    }

    /// True for formats that are pictures (never written to a terminal).
    pub fn is_binary(self) -> bool {
        matches!(
            self,
            Format::Map
                | Format::Crops
                | Format::Mask(_)
                | Format::RepairPreview
                | Format::Timeline
        )
    }
}

/// Turns a scan report into the bytes of one format.
pub trait Exporter: Sync {
    /// The whole output for `report`.
    fn render(&self, report: &ScanReport) -> Vec<u8>;
}

/// One requested output: a format and where it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// Where it goes.
    pub dest: Destination,
}

impl Output {
    /// `format` written to `dest`, the format fitted to the file's name ([`Format::for_path`]).
    pub fn new(format: Format, dest: Destination) -> Self {
        let format = match &dest {
            Destination::File(p) => format.for_path(p),
            _ => format,
        };
        Output { format, dest }
    }
}

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-`).
    Stdout,
    /// Standard error (the human table, when standard output carries another format).
    Stderr,
    /// A file, written atomically.
    File(PathBuf),
}

impl Destination {
    /// `-` is standard output, anything else a file.
    pub fn parse(s: impl AsRef<std::ffi::OsStr>) -> Self {
        let s = s.as_ref();
        if s == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(s))
        }
    }
}

/// Errors checking or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader of standard output has gone (`| head`): not worth a message.
    #[error("standard output was closed")]
    ClosedPipe,
    /// Two outputs name the same file or both go to standard output.
    #[error("{first} and {second} both write to {target}")]
    Clash {
        /// The first output's format.
        first: &'static str,
        /// The second output's format.
        second: &'static str,
        /// The file both name, or standard output.
        target: String,
    },
    /// An output names a file the scan reads.
    #[error("{0}: is also an input; refusing to write over it")]
    IsInput(PathBuf),
    /// The file exists and overwriting was not asked for.
    #[error("{0}: already exists (pass --force to replace it)")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("{path}: cannot write: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Checks, before any work, that `path` may be written: it must not exist unless `force`, and its
/// folder must exist.
pub fn check_writable(path: &Path, force: bool) -> Result<(), OutputError> {
    if path.exists() && !force {
        return Err(OutputError::Exists(path.to_path_buf()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            return Err(OutputError::Io {
                path: path.to_path_buf(),
                reason: format!("folder {} does not exist", dir.display()),
            });
        }
    }
    Ok(())
}

/// Writes `contents` to a new file beside `path` and renames it into place, so a reader never sees a
/// half-written report. An existing file is replaced only when `force` is set.
pub fn write_file(path: &Path, contents: &[u8], force: bool) -> Result<(), OutputError> {
    check_writable(path, force)?;
    let io = |e: std::io::Error| OutputError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    crate::atomic::write(path, contents, force).map_err(io)
}

/// Writes `contents` to a stream; a closed pipe is [`OutputError::ClosedPipe`].
fn write_stream(mut out: impl Write, name: &str, contents: &[u8]) -> Result<(), OutputError> {
    out.write_all(contents)
        .and_then(|_| out.flush())
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::BrokenPipe => OutputError::ClosedPipe,
            _ => OutputError::Io {
                path: PathBuf::from(name),
                reason: e.to_string(),
            },
        })
}

/// Writes `contents` to `dest`.
pub fn write_to(dest: &Destination, contents: &[u8], force: bool) -> Result<(), OutputError> {
    match dest {
        Destination::Stdout => write_stream(std::io::stdout().lock(), "-", contents),
        Destination::Stderr => write_stream(std::io::stderr().lock(), "stderr", contents),
        Destination::File(p) => write_file(p, contents, force),
    }
}

/// The path `path` will have once written: its folder made canonical (symbolic links and `..`
/// resolved) and its name kept, so two spellings of one file compare equal before it exists.
pub fn canonical_target(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (dir.canonicalize(), path.file_name()) {
        (Ok(d), Some(name)) => d.join(name),
        _ => path.to_path_buf(),
    }
}

/// Checks requested outputs before any work: each file may be written ([`check_writable`]), no
/// two outputs share a file (compared as canonical paths) or standard output, and no output is
/// one of the `inputs` that exist as files.
pub fn check_outputs(
    outputs: &[Output],
    inputs: &[PathBuf],
    force: bool,
) -> Result<(), OutputError> {
    let mut seen: Vec<(PathBuf, Format)> = Vec::new();
    let mut stdout: Option<Format> = None;
    for o in outputs {
        match &o.dest {
            Destination::Stdout => {
                if let Some(first) = stdout {
                    return Err(OutputError::Clash {
                        first: first.name(),
                        second: o.format.name(),
                        target: "standard output".into(),
                    });
                }
                stdout = Some(o.format);
            }
            Destination::Stderr => {}
            Destination::File(p) => {
                check_writable(p, force)?;
                let target = canonical_target(p);
                if let Some((_, first)) = seen.iter().find(|(t, _)| *t == target) {
                    return Err(OutputError::Clash {
                        first: first.name(),
                        second: o.format.name(),
                        target: p.display().to_string(),
                    });
                }
                seen.push((target, o.format));
            }
        }
    }
    check_not_inputs(outputs, inputs)
}

/// Refuses an output file that is one of `inputs` (compared as canonical paths). Inputs exist, so
/// only an output file that exists already can be one; when none does, no input is looked at.
pub fn check_not_inputs(outputs: &[Output], inputs: &[PathBuf]) -> Result<(), OutputError> {
    let existing: Vec<(PathBuf, &PathBuf)> = outputs
        .iter()
        .filter_map(|o| match &o.dest {
            Destination::File(p) => p.canonicalize().ok().map(|real| (real, p)),
            _ => None,
        })
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    let inputs: std::collections::HashSet<PathBuf> = inputs
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    match existing.into_iter().find(|(real, _)| inputs.contains(real)) {
        Some((_, p)) => Err(OutputError::IsInput(p.clone())),
        None => Ok(()),
    }
}

/// A camera group's name made safe for a file name: make, model and serial number joined by
/// `_`, every character other than letters, digits, `.` and `-` made `_`; `no-camera` for the
/// files that name none.
pub fn group_label(camera: Option<&Camera>) -> String {
    let Some(c) = camera else {
        return "no-camera".into();
    };
    [Some(&c.make), Some(&c.model), c.serial.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() || ch == '.' || ch == '-' {
                ch
            } else {
                '_'
            }
        })
        .collect()
}

/// `path` with a group's label before its extension: `map.png` → `map-Canon_EOS_R6_0123.png`.
pub fn path_for_group(path: &Path, label: &str) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{label}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{label}"),
    };
    path.with_file_name(name)
}

/// The outputs of one camera group of a library scan: every file gets the group's label in its
/// name ([`path_for_group`]); the streams are kept.
pub fn outputs_for_group(outputs: &[Output], label: &str) -> Vec<Output> {
    outputs
        .iter()
        .map(|o| match &o.dest {
            Destination::File(p) => Output {
                format: o.format,
                dest: Destination::File(path_for_group(p, label)),
            },
            _ => o.clone(),
        })
        .collect()
}

/// Renders and writes every output in order. Returns the errors (each names its file); a closed
/// standard output stops the loop, as nobody reads what follows.
pub fn write_outputs(report: &ScanReport, outputs: &[Output], force: bool) -> Vec<OutputError> {
    let mut errors = Vec::new();
    for o in outputs {
        let bytes = o.format.exporter().render(report);
        if let Err(e) = write_to(&o.dest, &bytes, force) {
            let closed = matches!(e, OutputError::ClosedPipe);
            errors.push(e);
            if closed {
                break;
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::exposure_time;

    #[test]
    fn exposure_times_read_as_cameras_write_them() {
        assert_eq!(exposure_time(0.004), "1/250");
        assert_eq!(exposure_time(1.0 / 3.0), "1/3");
        assert_eq!(exposure_time(0.2), "1/5");
        assert_eq!(exposure_time(0.35), "0.35");
        assert_eq!(exposure_time(0.4567), "0.457");
        assert_eq!(exposure_time(0.3267), "1/3");
        assert_eq!(exposure_time(2.2857), "2.29");
        assert_eq!(exposure_time(1.0), "1");
        assert_eq!(exposure_time(12.34), "12.3");
        assert_eq!(exposure_time(30.0), "30");
        assert_eq!(exposure_time(123.4), "123");
        assert_eq!(exposure_time(0.0), "0");
        assert_eq!(exposure_time(f64::NAN), "0");
    }
}
