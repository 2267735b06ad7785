//! FITS images (`.fits`, `.fit`, `.fts`): the frames astronomy and laboratory cameras write, dark
//! libraries above all. The primary image is read: 8- or 16-bit integers (`BITPIX` 8, or 16 with
//! `BZERO` 32768 for unsigned samples, as cameras write them, or 0), one plane. It is a Bayer
//! mosaic when `BAYERPAT` names one — read from the first stored sample, shifted by
//! `XBAYROFF`/`YBAYROFF` (or `BAYOFFX`/`BAYOFFY`) — else grey. Samples are linear light: black 0
//! (`PEDESTAL` when given), white the largest value (`DATAMAX` when given). Rows and columns are as stored (`y` counts
//! stored rows, whatever `ROWORDER` says). The header gives the exposure (`EXPTIME` or
//! `EXPOSURE` seconds, at the ISO `ISOSPEED` or `ISO` gives, else at ISO 100: an astronomy
//! camera's `GAIN` is not converted, so a set at one gain, as a dark library is, is modelled by
//! its exposure times), the camera (`INSTRUME`) and the capture time (`DATE-OBS`).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use super::identity::{Camera, CaptureTime, Exposure, Identity};
use super::{Cfa, DecodeError, Encoding, Frame, FramePool, Levels, RawInfo, Samples, Shape};

/// Extensions (lower case) of FITS files.
pub const FITS_EXTENSIONS: &[&str] = &["fits", "fit", "fts"];

/// FITS headers and data come in blocks of this many bytes.
pub const BLOCK: usize = 2880;
/// A header card: keyword, value and comment in this many characters.
pub const CARD: usize = 80;
/// Header blocks read at most before a file is refused (a header of 11,000 cards).
const MAX_HEADER_BLOCKS: usize = 128;
/// Why a file whose image data end before the header says they do is refused.
const DATA_CUT_SHORT: &str = "truncated file: the image data is cut short";
/// `BZERO` of unsigned 16-bit samples stored as signed ones.
pub const UNSIGNED_16_ZERO: f64 = 32768.0;

/// A header value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Number(f64),
    Logical(bool),
}

/// What a FITS file's primary header says of its image.
#[derive(Clone, Debug, PartialEq)]
pub struct FitsHeader {
    /// The frame shape: a RAW shape for a Bayer mosaic, grey otherwise.
    pub shape: Shape,
    /// The camera, the (whole) stored size and the levels.
    pub info: RawInfo,
    /// Bits per stored sample (8 or 16).
    bits: u32,
    /// Added to a stored sample to give its value.
    zero: i32,
    /// Where the data start: the header's length.
    data_offset: u64,
    cards: HashMap<String, Value>,
}

/// The value field of a card (after `= `): a quoted string (`''` a quote), or a number or logical
/// up to the comment.
fn parse_value(field: &str) -> Option<Value> {
    let field = field.trim_start();
    if let Some(rest) = field.strip_prefix('\'') {
        let mut text = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    return Some(Value::Text(text.trim_end().to_string()));
                }
            }
            text.push(c);
        }
        return None;
    }
    let token = field.split('/').next()?.trim();
    match token {
        "T" => Some(Value::Logical(true)),
        "F" => Some(Value::Logical(false)),
        _ => token
            .replace(['D', 'd'], "E")
            .parse()
            .ok()
            .map(Value::Number),
    }
}

/// The cards of a header (keyword → value) and its length in bytes, from the file's start; an
/// error when no `END` card comes in [`MAX_HEADER_BLOCKS`] blocks.
fn read_cards(reader: &mut impl Read) -> Result<(HashMap<String, Value>, u64), String> {
    let mut cards = HashMap::new();
    let mut block = vec![0u8; BLOCK];
    for n in 0..MAX_HEADER_BLOCKS {
        reader
            .read_exact(&mut block)
            .map_err(|_| "the header is cut short (no END card)".to_string())?;
        for card in block.chunks_exact(CARD) {
            let card = String::from_utf8_lossy(card);
            let keyword = card[..8].trim_end();
            if n == 0 && cards.is_empty() && keyword != "SIMPLE" {
                return Err("not a FITS file (no SIMPLE card first)".into());
            }
            if keyword == "END" {
                return Ok((cards, ((n + 1) * BLOCK) as u64));
            }
            if &card[8..10] == "= " {
                if let Some(value) = parse_value(&card[10..]) {
                    cards.entry(keyword.to_string()).or_insert(value);
                }
            }
        }
    }
    Err(format!(
        "no END card in the first {MAX_HEADER_BLOCKS} header blocks"
    ))
}

/// A header as a FITS file stores it: each of `cards` (keyword, value as FITS writes it: a string
/// quoted, `'RGGB'`) on a card of its own, `KEYWORD = value` padded to [`CARD`] characters, then
/// `END`, padded with spaces to a whole [`BLOCK`].
pub fn header_bytes(cards: &[(&str, String)]) -> Vec<u8> {
    let mut text = String::new();
    for (keyword, value) in cards {
        text += &format!("{:<CARD$}", format!("{keyword:<8}= {value:>20}"));
    }
    text += &format!("{:<CARD$}", "END");
    let mut bytes = text.into_bytes();
    bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, b' ');
    bytes
}

/// The number card `key` holds, if it holds one.
fn number_in(cards: &HashMap<String, Value>, key: &str) -> Option<f64> {
    match cards.get(key) {
        Some(Value::Number(v)) => Some(*v),
        _ => None,
    }
}

/// The string card `key` holds (its trailing blanks already dropped), if it holds one.
fn text_in<'a>(cards: &'a HashMap<String, Value>, key: &str) -> Option<&'a str> {
    match cards.get(key) {
        Some(Value::Text(v)) => Some(v),
        _ => None,
    }
}

impl FitsHeader {
    fn number(&self, key: &str) -> Option<f64> {
        number_in(&self.cards, key)
    }

    /// The string card `key` holds, when it holds a non-empty one.
    fn text(&self, key: &str) -> Option<&str> {
        text_in(&self.cards, key).filter(|v| !v.is_empty())
    }

    /// Bytes of image data the header announces.
    fn data_bytes(&self) -> u64 {
        self.shape.width as u64 * self.shape.height as u64 * (self.bits / 8) as u64
    }

    /// How the frame was exposed (module docs).
    pub fn exposure(&self) -> Exposure {
        let seconds = ["EXPTIME", "EXPOSURE"]
            .iter()
            .find_map(|k| self.number(k))
            .filter(|s| s.is_finite() && *s > 0.0);
        let iso = ["ISOSPEED", "ISO"]
            .iter()
            .find_map(|k| self.number(k))
            .filter(|i| *i >= 1.0 && *i <= u32::MAX as f64)
            .map(|i| i.round() as u32)
            .or(seconds.map(|_| ASSUMED_ISO));
        Exposure { seconds, iso }
    }

    /// The camera, the capture time and the exposure.
    pub fn identity(&self) -> Identity {
        let camera = self.text("INSTRUME").map(|name| {
            let (make, model) = maker_and_model(name);
            Camera::from_exif(make, model, None)
        });
        let taken = self.text("DATE-OBS").and_then(|t| {
            // `2024-01-15T21:33:12.123`: to the second.
            CaptureTime::parse(t.split('.').next().unwrap_or(t)).ok()
        });
        Identity {
            camera,
            taken,
            exposure: self.exposure(),
        }
    }
}

/// A camera's maker and model from the `INSTRUME` name: its first word and the rest (the whole
/// name for both when it is one word).
fn maker_and_model(name: &str) -> (&str, &str) {
    name.trim().split_once(' ').unwrap_or((name, name))
}

/// The identity of the FITS file at `path` (camera, capture time, exposure): empty when its
/// header cannot be read.
pub fn identity(path: &Path) -> Identity {
    read_header(path).map(|h| h.identity()).unwrap_or_default()
}

/// The ISO a FITS frame with an exposure time and no ISO is taken to have been exposed at.
pub const ASSUMED_ISO: u32 = 100;

/// Reads the primary header of the FITS file at `path`: its image's shape, levels and camera.
/// Refuses what is not read here (floating-point or 32-bit samples, a scale, colour planes, no
/// image in the primary unit) and a file too short for the data its header announces.
pub fn read_header(path: &Path) -> Result<FitsHeader, DecodeError> {
    let refuse = |reason: String| DecodeError::format(path, reason);
    let io = |e: std::io::Error| DecodeError::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let (cards, data_offset) = read_cards(&mut std::io::BufReader::new(&mut file))
        .map_err(|why| refuse(format!("not a readable FITS file: {why}")))?;
    let number = |key: &str| number_in(&cards, key);
    let axes = number("NAXIS").unwrap_or(0.0) as u32;
    let [width, height, planes] = ["NAXIS1", "NAXIS2", "NAXIS3"].map(|k| number(k).unwrap_or(1.0));
    if !(2..=3).contains(&axes) || (axes == 3 && planes != 1.0) {
        return Err(refuse(format!(
            "a FITS file whose primary image has {axes} axes{} is not supported: one plane only \
             (compressed FITS keeps its image in an extension; colour FITS in three planes)",
            if axes == 3 {
                format!(" and {planes} planes")
            } else {
                String::new()
            }
        )));
    }
    let bitpix = number("BITPIX").unwrap_or(0.0) as i32;
    let zero = number("BZERO").unwrap_or(0.0);
    let scale = number("BSCALE").unwrap_or(1.0);
    let bits = match (bitpix, zero) {
        (8, 0.0) => 8,
        (16, z) if z == 0.0 || z == UNSIGNED_16_ZERO => 16,
        _ => {
            return Err(refuse(format!(
                "FITS samples of BITPIX {bitpix} with BZERO {zero} are not supported: 8- or \
                 16-bit integers only (a floating-point file is a stacked master: scan the frames)"
            )))
        }
    };
    if scale != 1.0 {
        return Err(refuse(format!(
            "a FITS file with BSCALE {scale} is not supported"
        )));
    }
    let dim = |v: f64| {
        (v >= 1.0 && v <= u32::MAX as f64 && v.fract() == 0.0)
            .then_some(v as u32)
            .ok_or_else(|| refuse(format!("a FITS image {width}x{height} is not readable")))
    };
    let (width, height) = (dim(width)?, dim(height)?);
    let text = |key: &str| text_in(&cards, key).map(|v| v.trim().to_string());
    let cfa = match text("BAYERPAT") {
        Some(pattern) => {
            // ASCOM's keywords, or MaxIm DL's.
            let offset = |keys: [&str; 2]| {
                keys.iter()
                    .find_map(|k| number(k))
                    .unwrap_or(0.0)
                    .rem_euclid(2.0) as u32
            };
            Some(
                Cfa::parse(&pattern.to_uppercase())
                    .map_err(refuse)?
                    .shifted(
                        offset(["XBAYROFF", "BAYOFFX"]),
                        offset(["YBAYROFF", "BAYOFFY"]),
                    ),
            )
        }
        None => None,
    };
    let shape = match cfa {
        Some(cfa) => Shape::raw(width, height, cfa),
        None => Shape::new(width, height, 1, bits),
    }
    .map_err(refuse)?;
    let largest = ((1u64 << bits) - 1) as f64;
    let white = number("DATAMAX")
        .filter(|w| *w > 0.0 && *w <= largest)
        .unwrap_or(largest) as f32;
    let black = number("PEDESTAL")
        .filter(|b| *b >= 0.0 && (*b as f32) < white)
        .unwrap_or(0.0) as f32;
    let name = text("INSTRUME").unwrap_or_default();
    let (make, model) = maker_and_model(&name);
    let header = FitsHeader {
        shape,
        info: RawInfo {
            make: make.to_string(),
            model: model.to_string(),
            visible_origin: [0, 0],
            raw_size: [width, height],
            levels: Levels {
                black: [black; 4],
                white,
                encoding: Encoding::Linear,
                codec_mixed: false,
            },
        },
        bits,
        zero: zero as i32,
        data_offset,
        cards,
    };
    let end = data_offset + header.data_bytes();
    if end > len {
        return Err(refuse(format!(
            "truncated file: its image data runs to byte {end}, past the end of the file ({len} bytes): it is cut short"
        )));
    }
    Ok(header)
}

/// Decodes the FITS file at `path` into a buffer from `pool`, checking the shape.
pub fn decode_pooled(
    path: &Path,
    expected: Shape,
    pool: &Arc<FramePool>,
) -> Result<Frame, DecodeError> {
    let header = read_header(path)?;
    DecodeError::expect_shape(path, header.shape, expected)?;
    let io = |e: std::io::Error| DecodeError::io(path, e);
    let cut = |_| DecodeError::format(path, DATA_CUT_SHORT);
    let mut file = std::fs::File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(header.data_offset)).map_err(io)?;
    let n = expected.width as usize * expected.height as usize;
    let mut samples = pool.take(expected.bit_depth, n);
    // The samples are read straight into the frame's buffer and turned in place.
    match (&mut samples, header.bits) {
        (Samples::U8(out), 8) => file.read_exact(out).map_err(cut)?,
        (Samples::U16(out), 16) => {
            file.read_exact(bytemuck::cast_slice_mut(out.as_mut_slice()))
                .map_err(cut)?;
            if header.zero == UNSIGNED_16_ZERO as i32 {
                // Adding 32768 to a signed 16-bit sample flips its top bit.
                out.iter_mut().for_each(|v| *v = u16::from_be(*v) ^ 0x8000);
            } else {
                out.iter_mut()
                    .for_each(|v| *v = (u16::from_be(*v) as i16).max(0) as u16);
            }
        }
        (Samples::U16(out), 8) => {
            let mut bytes = vec![0u8; n];
            file.read_exact(&mut bytes).map_err(cut)?;
            out.iter_mut().zip(&bytes).for_each(|(o, &b)| *o = b as u16);
        }
        _ => unreachable!("a FITS frame's buffer has its shape's depth"),
    }
    let frame =
        Frame::new(expected, samples).map_err(|reason| DecodeError::format(path, reason))?;
    Ok(frame.recycle_into(pool))
}

/// The bytes of the FITS file at `path` with its image's samples replaced by `frame`'s, stored
/// as the file stores them (`BITPIX`, `BZERO`); its header and whatever follows the image (padding,
/// extensions) are kept byte for byte. What a repaired copy is.
pub fn rewrite(path: &Path, frame: &Frame) -> Result<Vec<u8>, DecodeError> {
    let header = read_header(path)?;
    DecodeError::expect_shape(path, header.shape, frame.shape())?;
    let mut bytes = std::fs::read(path).map_err(|e| DecodeError::io(path, e))?;
    let start = header.data_offset as usize;
    let data = bytes
        .get_mut(start..start + header.data_bytes() as usize)
        .ok_or_else(|| DecodeError::format(path, DATA_CUT_SHORT))?;
    match (frame.samples(), header.bits) {
        (Samples::U8(v), 8) => data.copy_from_slice(v),
        (Samples::U16(v), 8) => data
            .iter_mut()
            .zip(v)
            .for_each(|(d, &s)| *d = s.min(u8::MAX as u16) as u8),
        (Samples::U16(v), 16) => {
            for (d, &s) in data.chunks_exact_mut(2).zip(v) {
                let stored = (s as i32 - header.zero).clamp(i16::MIN as i32, i16::MAX as i32);
                d.copy_from_slice(&(stored as i16).to_be_bytes());
            }
        }
        _ => unreachable!("a FITS frame's buffer has its shape's depth"),
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×2 FITS file of BITPIX 16 with `zero` as BZERO, `stored` as its samples and the
    /// `extra` cards.
    fn two_by_two(zero: &str, stored: [i16; 4], extra: &[(&str, &str)]) -> Vec<u8> {
        let cards: Vec<(&str, String)> = [
            ("SIMPLE", "T"),
            ("BITPIX", "16"),
            ("NAXIS", "2"),
            ("NAXIS1", "2"),
            ("NAXIS2", "2"),
            ("BZERO", zero),
        ]
        .iter()
        .chain(extra)
        .map(|&(k, v)| (k, v.to_string()))
        .collect();
        let mut bytes = header_bytes(&cards);
        stored
            .iter()
            .for_each(|v| bytes.extend_from_slice(&v.to_be_bytes()));
        bytes.resize(2 * BLOCK, 0);
        bytes
    }

    #[test]
    fn samples_are_stored_values_plus_bzero_and_negative_ones_read_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.fits");
        let shape = Shape::new(2, 2, 1, 16).unwrap();
        let pool = FramePool::new(0);
        for (zero, stored, values) in [
            ("32768", [-32768, 0, 1, 32767], [0u16, 32768, 32769, 65535]),
            ("0", [-5, 0, 7, 300], [0, 0, 7, 300]),
        ] {
            std::fs::write(&path, two_by_two(zero, stored, &[])).unwrap();
            let frame = decode_pooled(&path, shape, &pool).unwrap();
            assert_eq!(frame.as_u16().unwrap(), values, "BZERO {zero}");
        }
    }

    #[test]
    fn the_bayer_pattern_is_shifted_by_its_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.fits");
        for (extra, pattern) in [
            (&[][..], "RGGB"),
            (&[("XBAYROFF", "1")][..], "GRBG"),
            (&[("BAYOFFY", "1")][..], "GBRG"),
            (&[("XBAYROFF", "1"), ("YBAYROFF", "3")][..], "BGGR"),
        ] {
            let mut cards = vec![("BAYERPAT", "'RGGB'")];
            cards.extend_from_slice(extra);
            std::fs::write(&path, two_by_two("32768", [0; 4], &cards)).unwrap();
            let header = read_header(&path).unwrap();
            assert_eq!(header.shape.cfa.unwrap().name(), pattern, "{extra:?}");
        }
    }

    #[test]
    fn card_values_are_read_as_fits_writes_them() {
        assert_eq!(
            parse_value(" 'RGGB    '           / Bayer pattern"),
            Some(Value::Text("RGGB".into()))
        );
        assert_eq!(parse_value(" 'it''s'"), Some(Value::Text("it's".into())));
        assert_eq!(
            parse_value("                   T"),
            Some(Value::Logical(true))
        );
        assert_eq!(
            parse_value("               32768 / offset"),
            Some(Value::Number(32768.0))
        );
        assert_eq!(parse_value("   1.5D1"), Some(Value::Number(15.0)));
        assert_eq!(parse_value(" 'unclosed"), None);
    }
}
