//! Decoding one file into a [`Frame`], and reading a file's header to learn its shape: images
//! through `image`, camera RAW files (by extension) through [`super::raw`], FITS files through
//! [`super::fits`].

use std::path::Path;
use std::sync::Arc;

use image::{ColorType, ImageDecoder, ImageFormat, ImageReader};

use super::error::{one_line, DecodeError};
use super::formats::{is_fits_file, is_raw_file};
use super::{Frame, FramePool, RawInfo, Samples, Shape};

/// What a header says about a file, before any pixel is decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// The shape the frame will have (alpha dropped).
    pub shape: Shape,
    /// The file has an alpha channel, which the statistics ignore.
    pub has_alpha: bool,
    /// For a camera RAW file: the camera, margins and levels.
    pub raw: Option<RawInfo>,
}

/// The largest allocation one decode may make: room for a 200 MP 16-bit RGB frame.
pub const MAX_DECODE_BYTES: u64 = 1200 << 20;

/// Why a JPEG file cut short is refused ([`super::jpeg`]).
pub const JPEG_CUT_SHORT: &str =
    "truncated file: the JPEG data ends before its end-of-image marker (cut short)";

fn open(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, DecodeError> {
    let reader = ImageReader::open(path).map_err(|e| DecodeError::io(path, e))?;
    let mut reader = reader
        .with_guessed_format()
        .map_err(|e| DecodeError::io(path, e))?;
    // The default 512 MB decoding limit is below a 100 MP 16-bit RGB frame (600 MB).
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    if reader.format().is_none() {
        return Err(DecodeError::format(
            path,
            super::formats::unread_reason(path).unwrap_or_else(|| {
                "not an image in a supported format (JPEG, PNG, TIFF, WebP)".into()
            }),
        ));
    }
    Ok(reader)
}

fn format_error(path: &Path, e: image::ImageError) -> DecodeError {
    let reason = match &e {
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated file (unexpected end of data)".to_string()
        }
        image::ImageError::Unsupported(_) => format!("unsupported image: {}", one_line(&e)),
        _ => format!("not a valid image: {}", one_line(&e)),
    };
    DecodeError::format(path, reason)
}

/// The error for a JPEG file cut short ([`super::jpeg`]).
fn cut_short(path: &Path) -> DecodeError {
    DecodeError::format(path, JPEG_CUT_SHORT)
}

/// The error for `e`, met reading `path` (a JPEG when `jpeg`): that a JPEG is cut short when it is,
/// whatever the decoder stumbled on first.
fn image_error(path: &Path, jpeg: bool, e: image::ImageError) -> DecodeError {
    if jpeg && super::jpeg::is_cut_short(path).unwrap_or(false) {
        cut_short(path)
    } else {
        format_error(path, e)
    }
}

/// The decoder for the image at `path`, and whether it is a JPEG.
fn open_decoder(path: &Path) -> Result<(impl ImageDecoder, bool), DecodeError> {
    let reader = open(path)?;
    let jpeg = reader.format() == Some(ImageFormat::Jpeg);
    let decoder = reader
        .into_decoder()
        .map_err(|e| image_error(path, jpeg, e))?;
    Ok((decoder, jpeg))
}

/// The frame shape of a colour type: channels kept (alpha dropped), bit depth, and whether alpha was there.
fn layout(color: ColorType) -> Result<(u32, u32, bool), String> {
    Ok(match color {
        ColorType::L8 => (1, 8, false),
        ColorType::La8 => (1, 8, true),
        ColorType::Rgb8 => (3, 8, false),
        ColorType::Rgba8 => (3, 8, true),
        ColorType::L16 => (1, 16, false),
        ColorType::La16 => (1, 16, true),
        ColorType::Rgb16 => (3, 16, false),
        ColorType::Rgba16 => (3, 16, true),
        other => {
            return Err(format!(
                "unsupported sample type {other:?} (8- or 16-bit integer images only)"
            ))
        }
    })
}

/// What an opened decoder's header says: the frame shape (alpha dropped) and whether alpha is there.
fn header_of(path: &Path, decoder: &impl ImageDecoder) -> Result<Header, DecodeError> {
    let format = |reason| DecodeError::format(path, reason);
    let (w, h) = decoder.dimensions();
    let (channels, depth, has_alpha) = layout(decoder.color_type()).map_err(format)?;
    let shape = Shape::new(w, h, channels, depth).map_err(format)?;
    Ok(Header {
        shape,
        has_alpha,
        raw: None,
    })
}

/// The error for a camera RAW file when RAW support is not built in.
#[cfg(not(feature = "raw"))]
fn raw_not_built(path: &Path) -> DecodeError {
    DecodeError::format(
        path,
        "camera RAW support is not built in (cargo feature `raw`)",
    )
}

/// Reads only the header of `path` and returns the shape its frame would have.
pub fn probe(path: &Path) -> Result<Header, DecodeError> {
    if is_fits_file(path) {
        let header = super::fits::read_header(path)?;
        return Ok(Header {
            shape: header.shape,
            has_alpha: false,
            raw: Some(header.info),
        });
    }
    if is_raw_file(path) {
        #[cfg(feature = "raw")]
        return super::raw::probe(path).map(|(shape, info)| Header {
            shape,
            has_alpha: false,
            raw: Some(info),
        });
        #[cfg(not(feature = "raw"))]
        return Err(raw_not_built(path));
    }
    if let Some(header) = jpeg_header(path)? {
        return Ok(header);
    }
    let (decoder, _) = open_decoder(path)?;
    header_of(path, &decoder)
}

/// The header of a JPEG as its frame header says it ([`super::jpeg::frame_header`]), what the
/// decoder would say of it without reading the whole file as it does: 8-bit grey for one
/// component, 8-bit RGB for three or four (CMYK is converted). `None` for other files and for
/// what the decoder is left to judge.
fn jpeg_header(path: &Path) -> Result<Option<Header>, DecodeError> {
    let Some(frame) = super::jpeg::frame_header(path).map_err(|e| DecodeError::io(path, e))? else {
        return Ok(None);
    };
    let channels = match (frame.precision, frame.components) {
        (8, 1) => 1,
        (8, 3 | 4) => 3,
        _ => return Ok(None),
    };
    let shape = Shape::new(frame.width, frame.height, channels, 8)
        .map_err(|reason| DecodeError::format(path, reason))?;
    Ok(Some(Header {
        shape,
        has_alpha: false,
        raw: None,
    }))
}

/// Removes the alpha sample of every `stride`-sample pixel in place, keeping the buffer.
fn compact_alpha<T: Copy>(data: &mut Vec<T>, stride: usize) {
    let keep = stride - 1;
    let pixels = data.len() / stride;
    for p in 0..pixels {
        for c in 0..keep {
            data[p * keep + c] = data[p * stride + c];
        }
    }
    data.truncate(pixels * keep);
}

/// Decodes `path` into a buffer taken from `pool` (given back when the frame is dropped),
/// checking that it has the `expected` shape. The samples are written once, by the decoder.
pub fn decode_file_pooled(
    path: &Path,
    expected: Shape,
    pool: &Arc<FramePool>,
) -> Result<Frame, DecodeError> {
    if is_fits_file(path) {
        return super::fits::decode_pooled(path, expected, pool);
    }
    if is_raw_file(path) {
        #[cfg(feature = "raw")]
        return super::raw::decode_pooled(path, expected, pool);
        #[cfg(not(feature = "raw"))]
        return Err(raw_not_built(path));
    }
    let (decoder, jpeg) = open_decoder(path)?;
    let Header {
        shape, has_alpha, ..
    } = header_of(path, &decoder)?;
    DecodeError::expect_shape(path, shape, expected)?;
    if jpeg && super::jpeg::is_cut_short(path).map_err(|e| DecodeError::io(path, e))? {
        return Err(cut_short(path));
    }
    let stride = decoder.color_type().channel_count() as usize;
    let len = shape.width as usize * shape.height as usize * stride;
    let mut samples = pool.take(shape.bit_depth, len);
    let read = match &mut samples {
        Samples::U8(v) => decoder.read_image(v),
        Samples::U16(v) => decoder.read_image(bytemuck::cast_slice_mut(v.as_mut_slice())),
    };
    read.map_err(|e| image_error(path, jpeg, e))?;
    if has_alpha {
        match &mut samples {
            Samples::U8(v) => compact_alpha(v, stride),
            Samples::U16(v) => compact_alpha(v, stride),
        }
    }
    let frame =
        Frame::new(expected, samples).map_err(|reason| DecodeError::format(path, reason))?;
    Ok(frame.recycle_into(pool))
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// True while this thread runs a decoder under [`guard_decoder`]: a program's panic hook can stay
/// quiet then, as the panic becomes that file's error.
pub fn in_guarded_decoder() -> bool {
    IN_DECODER.with(|f| f.get())
}

/// Installs a panic hook that stays quiet for a panic inside a guarded decoder (it becomes that
/// file's error, reported as such, so its message is not printed twice) and hands every other
/// panic to the hook installed before: what a program reading files through the library wants.
pub fn quiet_guarded_panics() {
    let before = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !in_guarded_decoder() {
            before(info)
        }
    }));
}

/// Runs a decoder on `path`; a panic inside it (a crafted file can make a decoder panic) becomes
/// that file's [`DecodeError`] instead of ending the scan.
pub fn guard_decoder<T>(
    path: &Path,
    decode: impl FnOnce() -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let outer = IN_DECODER.with(|f| f.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    IN_DECODER.with(|f| f.set(outer));
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(DecodeError::format(
            path,
            format!("the decoder failed on this file ({})", one_line(what)),
        ))
    })
}

/// Refuses a header whose frame is larger than `max_megapixels`.
pub(crate) fn within_limit(
    path: &Path,
    shape: Shape,
    max_megapixels: f64,
) -> Result<(), DecodeError> {
    let megapixels = shape.width as f64 * shape.height as f64 / 1e6;
    if megapixels <= max_megapixels {
        return Ok(());
    }
    Err(DecodeError::format(
        path,
        format!(
            "the header claims {}x{} pixels ({megapixels:.0} MP), more than the limit of {max_megapixels} MP (--max-megapixels)",
            shape.width, shape.height
        ),
    ))
}

/// Decodes `path` into a fresh buffer, checking that it has the `expected` shape.
pub fn decode_file(path: &Path, expected: Shape) -> Result<Frame, DecodeError> {
    decode_file_pooled(path, expected, &FramePool::new(0))
}

/// Reads `path` as a scan reads a file: its header (refused beyond `max_megapixels`), then its
/// frame, each under [`guard_decoder`] so a decoder's panic is an error. What the fuzz target and
/// the crafted-file corpus test exercise.
pub fn check_file(path: &Path, max_megapixels: f64) -> Result<Shape, DecodeError> {
    let header = guard_decoder(path, || probe(path))?;
    within_limit(path, header.shape, max_megapixels)?;
    guard_decoder(path, || decode_file(path, header.shape))?;
    Ok(header.shape)
}
