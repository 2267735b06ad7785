//! The `mask` format: an image of the frame's size marking every defect pixel — an 8-bit grey PNG
//! for 8-bit images, a 16-bit grey TIFF for RAW and 16-bit frames, or a FITS image (8-bit,
//! `ROWORDER = 'TOP-DOWN'`: the first row stored is the frame's top row) when the file is named
//! `.fits`, `.fit` or `.fts`. By default a bad pixel is 1 and a good one 0 (ccdproc's and
//! astropy's convention: nonzero is masked); with the PixInsight polarity (its DefectMap) a bad
//! pixel is 0 and a good one the largest value. [`read`] reads any of them back.

use std::path::Path;

use fitsio_pure::header::Card;
use fitsio_pure::value::Value;

use super::list::{DefectList, ListExporter};

/// Which value marks a bad pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Bad 1, good 0 (ccdproc, astropy).
    BadIsOne,
    /// Bad 0, good the largest value (PixInsight's DefectMap).
    BadIsZero,
}

/// The kind of file a mask is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaskFile {
    /// PNG (8-bit frames) or 16-bit TIFF (RAW and 16-bit frames).
    Image,
    /// A FITS primary image, 8-bit.
    Fits,
}

/// The file names that make a mask FITS (compared without case).
pub const FITS_EXTENSIONS: [&str; 3] = ["fits", "fit", "fts"];

impl MaskFile {
    /// FITS for a path named `.fits`, `.fit` or `.fts`, an image otherwise.
    pub fn for_path(path: &Path) -> Self {
        let fits = path.extension().is_some_and(|e| {
            FITS_EXTENSIONS
                .iter()
                .any(|f| e.eq_ignore_ascii_case(std::ffi::OsStr::new(f)))
        });
        if fits {
            MaskFile::Fits
        } else {
            MaskFile::Image
        }
    }
}

/// The mask exporter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mask {
    /// Which value marks a bad pixel.
    pub polarity: Polarity,
    /// The kind of file.
    pub file: MaskFile,
}

/// Every mask exporter, so a format can name one for the lifetime of the program.
static MASKS: [Mask; 4] = [
    Mask::new(Polarity::BadIsOne, MaskFile::Image),
    Mask::new(Polarity::BadIsZero, MaskFile::Image),
    Mask::new(Polarity::BadIsOne, MaskFile::Fits),
    Mask::new(Polarity::BadIsZero, MaskFile::Fits),
];

/// The FITS row-order keyword and the order a mask is written in.
const ROWORDER: (&[u8; 8], &str) = (b"ROWORDER", "TOP-DOWN");

impl Mask {
    /// The mask with this polarity and kind of file.
    pub const fn new(polarity: Polarity, file: MaskFile) -> Self {
        Mask { polarity, file }
    }

    /// The same exporter, living as long as the program.
    pub fn as_static(self) -> &'static Mask {
        MASKS
            .iter()
            .find(|m| **m == self)
            .expect("every mask is listed")
    }
}

impl ListExporter for Mask {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let (w, h) = (list.shape.width, list.shape.height);
        let wide = list.shape.bit_depth > 8 && self.file == MaskFile::Image;
        let max = if wide { u16::MAX } else { u8::MAX as u16 };
        let (good, bad) = match self.polarity {
            Polarity::BadIsOne => (0, 1),
            Polarity::BadIsZero => (max, 0),
        };
        let mut values = vec![good; w as usize * h as usize];
        for p in &list.pixels {
            values[p.y as usize * w as usize + p.x as usize] = bad;
        }
        if self.file == MaskFile::Fits {
            let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
            return fits(w, h, &bytes);
        }
        let mut out = std::io::Cursor::new(Vec::new());
        let written = if wide {
            image::ImageBuffer::<image::Luma<u16>, _>::from_raw(w, h, values)
                .expect("buffer matches its size")
                .write_to(&mut out, image::ImageFormat::Tiff)
        } else {
            let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
            image::GrayImage::from_raw(w, h, bytes)
                .expect("buffer matches its size")
                .write_to(&mut out, image::ImageFormat::Png)
        };
        written.expect("encoding into memory");
        out.into_inner()
    }
}

/// An 8-bit FITS primary image of `w`×`h` holding `values`, top row first.
fn fits(w: u32, h: u32, values: &[u8]) -> Vec<u8> {
    let mut cards = fitsio_pure::primary::build_primary_header(8, &[w as usize, h as usize])
        .expect("8 is a valid BITPIX");
    cards.push(Card {
        keyword: *ROWORDER.0,
        value: Some(Value::String(ROWORDER.1.into())),
        comment: Some("first row stored is the top row".into()),
    });
    let mut out = fitsio_pure::header::serialize_header(&cards).expect("a valid primary header");
    out.extend(fitsio_pure::image::serialize_image_u8(values));
    out
}

/// The width and height a mask image's header claims (PNG, TIFF), read before it is decoded; `None`
/// for FITS, whose values are all in the file's bytes.
pub fn dimensions(bytes: &[u8]) -> Result<Option<(u32, u32)>, String> {
    if bytes.starts_with(b"SIMPLE  =") {
        return Ok(None);
    }
    image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("not a mask image (PNG, TIFF or FITS): {e}"))?
        .into_dimensions()
        .map(Some)
        .map_err(|e| format!("not a mask image (PNG, TIFF or FITS): {e}"))
}

/// Reads a mask: PNG, TIFF or FITS (its primary image, any integer or float type; a bottom-up FITS, by its
/// `ROWORDER` keyword, is turned top row first). Returns the width, height and values, top row
/// first.
pub fn read(bytes: &[u8]) -> Result<(u32, u32, Vec<u32>), String> {
    if bytes.starts_with(b"SIMPLE  =") {
        return read_fits(bytes);
    }
    let img = image::load_from_memory(bytes)
        .map_err(|e| format!("not a mask image (PNG, TIFF or FITS): {e}"))?
        .into_luma16();
    let (w, h) = img.dimensions();
    Ok((w, h, img.into_raw().into_iter().map(u32::from).collect()))
}

fn read_fits(bytes: &[u8]) -> Result<(u32, u32, Vec<u32>), String> {
    use fitsio_pure::hdu::HduInfo;
    let bad = |e: fitsio_pure::error::Error| format!("not a FITS mask: {e}");
    let data = fitsio_pure::hdu::parse_fits(bytes).map_err(bad)?;
    let hdu = data.hdus.first().ok_or("not a FITS mask: no image")?;
    let HduInfo::Primary { naxes, .. } = &hdu.info else {
        return Err("not a FITS mask: no primary image".into());
    };
    let [w, h] = naxes.as_slice() else {
        return Err(format!(
            "a FITS mask has two axes, this one {}",
            naxes.len()
        ));
    };
    let (w, h) = (*w as u32, *h as u32);
    // Physical values (BSCALE and BZERO applied: an unsigned 16-bit FITS stores v − 32768).
    let mut values: Vec<u32> = fitsio_pure::image::read_image_physical(bytes, hdu)
        .map_err(bad)?
        .into_iter()
        .map(|v| v.round().clamp(0.0, u32::MAX as f64) as u32)
        .collect();
    let bottom_up = hdu.cards.iter().any(|c| {
        &c.keyword == ROWORDER.0
            && matches!(&c.value, Some(Value::String(s)) if s.trim() == "BOTTOM-UP")
    });
    if bottom_up {
        let rows: Vec<Vec<u32>> = values
            .chunks(w as usize)
            .rev()
            .map(<[u32]>::to_vec)
            .collect();
        values = rows.concat();
    }
    Ok((w, h, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit unsigned FITS as astropy and Siril write one: stored `v − 32768` with BZERO
    /// 32768, rows bottom-up.
    #[test]
    fn a_sixteen_bit_bottom_up_fits_reads_top_row_first() {
        let (w, h) = (3usize, 2usize);
        let top_down: [u16; 6] = [0, 0, 1, 0, 65535, 0];
        let stored: Vec<i16> = top_down
            .chunks(w)
            .rev()
            .flatten()
            .map(|&v| (v as i32 - 32768) as i16)
            .collect();
        let mut cards = fitsio_pure::primary::build_primary_header(16, &[w, h]).unwrap();
        for (key, value) in [
            (b"BZERO   ", Value::Integer(32768)),
            (b"BSCALE  ", Value::Integer(1)),
            (ROWORDER.0, Value::String("BOTTOM-UP".into())),
        ] {
            cards.push(Card {
                keyword: *key,
                value: Some(value),
                comment: None,
            });
        }
        let mut bytes = fitsio_pure::header::serialize_header(&cards).unwrap();
        bytes.extend(fitsio_pure::image::serialize_image_i16(&stored));
        let (rw, rh, values) = read(&bytes).unwrap();
        assert_eq!((rw, rh), (w as u32, h as u32));
        let want: Vec<u32> = top_down.iter().map(|&v| v as u32).collect();
        assert_eq!(values, want);
    }
}
