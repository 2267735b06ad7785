//! Repair: corrected copies of images (PNG, TIFF, JPEG), every pixel of every defect replaced from
//! the same channel of its clean neighbours, and of DNG files, which get a bad-pixel opcode
//! ([`dng`]); each file with the defects of its own camera ([`maps`]); the inputs are never
//! touched.

pub mod dng;
pub mod maps;

pub use maps::RepairMaps;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::input::formats::{is_fits_file, is_raw_file};
use crate::input::{decode_file, DecodeError, Frame, Samples};
use crate::report::list::DefectList;
use crate::report::{self, OutputError};

/// Half the side of the first window a repaired pixel's neighbours come from (5×5 pixels).
pub const REPAIR_RADIUS: i64 = 2;
/// The window grows up to this half side until it holds [`MIN_CLEAN`] clean pixels.
pub const MAX_REPAIR_RADIUS: i64 = 5;
/// The fewest clean pixels a replacement value is drawn from.
pub const MIN_CLEAN: usize = 4;
/// How far around a listed pixel an image is repaired too: demosaicking and JPEG spread a
/// photosite's error over the 3×3 pixels around it (the defect's blob). A RAW frame's photosites
/// are repaired alone.
pub const BLOB_REACH: i64 = 1;

/// JPEG quality of repaired JPEG copies unless told otherwise.
pub const DEFAULT_QUALITY: u8 = 95;

/// How copies are written.
#[derive(Clone, Copy, Debug)]
pub struct RepairOptions {
    /// JPEG quality of repaired JPEG copies (1–100).
    pub quality: u8,
    /// Replace copies that exist already in the output folder.
    pub overwrite: bool,
}

impl Default for RepairOptions {
    fn default() -> Self {
        RepairOptions {
            quality: DEFAULT_QUALITY,
            overwrite: false,
        }
    }
}

/// Why one file was not repaired; the message names the file and the reason in one line.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The file could not be read as a frame of the map's shape.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Camera RAW files other than DNG are not rewritten.
    #[error("{0}: camera RAW files other than DNG are not rewritten; apply an export (dcraw, rawtherapee, siril) in the raw converter")]
    Raw(PathBuf),
    /// A format repair does not write.
    #[error("{0}: repaired copies are written as PNG, TIFF, JPEG or FITS only")]
    Format(PathBuf),
    /// The copy would replace the input.
    #[error("{0}: the output folder holds the input; choose another --out")]
    IsInput(PathBuf),
    /// The copy exists and overwriting was not asked for.
    #[error("{0}: already exists (pass --overwrite to replace it)")]
    Exists(PathBuf),
    /// Writing failed; nothing was left behind.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The copy.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The median of `v` (the mean of the middle two for an even count), rounded; `None` if empty.
fn median(v: &mut [u32]) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]).div_ceil(2)
    })
}

/// The pixels a copy repairs for `map`: every listed pixel and, in an image, those within
/// [`BLOB_REACH`] of it, inside the frame.
pub fn repair_region(map: &DefectList) -> HashSet<(u32, u32)> {
    let (w, h) = (map.shape.width as i64, map.shape.height as i64);
    let reach = if map.shape.cfa.is_some() {
        0
    } else {
        BLOB_REACH
    };
    let mut region = HashSet::new();
    for p in &map.pixels {
        for dy in -reach..=reach {
            for dx in -reach..=reach {
                let (x, y) = (p.x as i64 + dx, p.y as i64 + dy);
                if (0..w).contains(&x) && (0..h).contains(&y) {
                    region.insert((x as u32, y as u32));
                }
            }
        }
    }
    region
}

/// The same channel `ch` of the pixels around `(x, y)` that are not in `bad` — in a RAW frame,
/// the photosites under the same colour filter —: the window of half side [`REPAIR_RADIUS`],
/// grown up to [`MAX_REPAIR_RADIUS`] until it holds [`MIN_CLEAN`] of them.
pub fn clean_neighbours(
    frame: &Frame,
    bad: &HashSet<(u32, u32)>,
    x: u32,
    y: u32,
    ch: u32,
) -> Vec<u32> {
    let shape = frame.shape();
    let (w, h) = (shape.width as i64, shape.height as i64);
    let colour = shape.colour(x, y, ch);
    let mut window = Vec::new();
    for radius in REPAIR_RADIUS..=MAX_REPAIR_RADIUS {
        window.clear();
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                let (xx, yy) = (x as i64 + dx, y as i64 + dy);
                if xx < 0 || yy < 0 || xx >= w || yy >= h {
                    continue;
                }
                let (px, py) = (xx as u32, yy as u32);
                if bad.contains(&(px, py)) || shape.colour(px, py, ch) != colour {
                    continue;
                }
                window.push(frame.value(shape.index(xx as u32, yy as u32, ch)) as u32);
            }
        }
        if window.len() >= MIN_CLEAN {
            break;
        }
    }
    window
}

/// Replaces every channel of each pixel in `bad` by the median of the same channel of its clean
/// neighbours ([`clean_neighbours`]; left as it is when there are none). Every other sample is
/// unchanged.
pub fn repair_frame(frame: &mut Frame, bad: &HashSet<(u32, u32)>) {
    let shape = frame.shape();
    let before = frame.clone();
    for &(x, y) in bad {
        for ch in 0..shape.channels {
            let mut window = clean_neighbours(&before, bad, x, y, ch);
            let Some(v) = median(&mut window) else {
                continue;
            };
            let i = shape.index(x, y, ch);
            match frame.samples_mut() {
                Samples::U8(s) => s[i] = v as u8,
                Samples::U16(s) => s[i] = v as u16,
            }
        }
    }
}

/// The bytes of `frame` as a file of `format`; a JPEG gets `exif` and `icc` back.
fn encode(
    frame: &Frame,
    format: image::ImageFormat,
    quality: u8,
    exif: Option<Vec<u8>>,
    icc: Option<Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let s = frame.shape();
    let mut out = Vec::new();
    if format == image::ImageFormat::Jpeg {
        let Samples::U8(data) = frame.samples() else {
            return Err("a JPEG holds 8-bit samples".into());
        };
        let side = |v: u32| u16::try_from(v).map_err(|_| "too large for JPEG".to_string());
        let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
        if let Some(exif) = exif {
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend_from_slice(&exif);
            enc.add_app_segment(1, app1).map_err(|e| e.to_string())?;
        }
        if let Some(icc) = icc {
            enc.add_icc_profile(&icc).map_err(|e| e.to_string())?;
        }
        let colour = if s.channels == 1 {
            jpeg_encoder::ColorType::Luma
        } else {
            jpeg_encoder::ColorType::Rgb
        };
        enc.encode(data, side(s.width)?, side(s.height)?, colour)
            .map_err(|e| e.to_string())?;
        return Ok(out);
    }
    let colour = match (s.channels, s.bit_depth) {
        (1, 8) => image::ExtendedColorType::L8,
        (1, _) => image::ExtendedColorType::L16,
        (_, 8) => image::ExtendedColorType::Rgb8,
        _ => image::ExtendedColorType::Rgb16,
    };
    let mut cursor = std::io::Cursor::new(&mut out);
    image::write_buffer_with_format(
        &mut cursor,
        frame.as_bytes(),
        s.width,
        s.height,
        colour,
        format,
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The repair error of a failed check or write of the copy `target`.
fn output_error(target: &Path, e: OutputError) -> RepairError {
    match e {
        OutputError::Exists(path) => RepairError::Exists(path),
        OutputError::Io { path, reason } => RepairError::Write { path, reason },
        other => RepairError::Write {
            path: target.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// Writes a repaired copy of `input` into `out_dir` under the same name. An image is decoded with
/// the map's shape, [`repair_frame`] runs on the map's [`repair_region`], and the frame is encoded
/// in the input's format (PNG and TIFF losslessly at their depth; JPEG at `options.quality` with
/// the input's EXIF and ICC profile); a DNG keeps its raw data and gains a bad-pixel opcode
/// ([`dng`]); a FITS file keeps its header and gets the repaired samples
/// ([`crate::input::fits::rewrite`]). The copy is written atomically ([`report::write_file`]), so a failed write leaves
/// nothing behind. Returns the copy's path.
pub fn repair_file(
    input: &Path,
    map: &DefectList,
    out_dir: &Path,
    options: &RepairOptions,
) -> Result<PathBuf, RepairError> {
    let is_dng = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("dng"));
    if is_raw_file(input) && !is_dng {
        return Err(RepairError::Raw(input.to_path_buf()));
    }
    let name = input
        .file_name()
        .ok_or_else(|| RepairError::Format(input.to_path_buf()))?;
    let target = out_dir.join(name);
    let same_folder = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let input_dir = input
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if same_folder(input_dir, out_dir) {
        return Err(RepairError::IsInput(input.to_path_buf()));
    }
    report::check_writable(&target, options.overwrite).map_err(|e| output_error(&target, e))?;
    let bytes = if is_fits_file(input) {
        // The header and what follows the image stay; the samples are the repaired ones.
        let mut frame = decode_file(input, map.shape)?;
        repair_frame(&mut frame, &repair_region(map));
        crate::input::fits::rewrite(input, &frame)?
    } else if is_dng {
        // The raw data stays as it is: the copy gets an opcode that fixes the pixels on opening.
        let header = crate::input::decode::probe(input)?;
        DecodeError::expect_shape(input, header.shape, map.shape)?;
        let original = std::fs::read(input).map_err(|e| DecodeError::io(input, e))?;
        dng::with_bad_pixel_opcode(&original, map)
            .map_err(|reason| DecodeError::format(input, reason))?
    } else {
        let format = image::ImageFormat::from_path(input)
            .ok()
            .filter(|f| {
                matches!(
                    f,
                    image::ImageFormat::Png | image::ImageFormat::Tiff | image::ImageFormat::Jpeg
                )
            })
            .ok_or_else(|| RepairError::Format(input.to_path_buf()))?;
        let mut frame = decode_file(input, map.shape)?;
        let (exif, icc) = if format == image::ImageFormat::Jpeg {
            metadata(input)
        } else {
            (None, None)
        };
        repair_frame(&mut frame, &repair_region(map));
        encode(&frame, format, options.quality, exif, icc).map_err(|reason| RepairError::Write {
            path: target.clone(),
            reason,
        })?
    };
    report::write_file(&target, &bytes, options.overwrite).map_err(|e| output_error(&target, e))?;
    Ok(target)
}

/// A JPEG's EXIF block and ICC profile, when it has them.
fn metadata(path: &Path) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    use image::ImageDecoder;
    let Ok(reader) = image::ImageReader::open(path).and_then(|r| r.with_guessed_format()) else {
        return (None, None);
    };
    match reader.into_decoder() {
        Ok(mut d) => (
            d.exif_metadata().ok().flatten(),
            d.icc_profile().ok().flatten(),
        ),
        Err(_) => (None, None),
    }
}
