//! The `mask` format: an image of the frame's size marking every defect pixel — an 8-bit grey PNG
//! for 8-bit images, a 16-bit grey TIFF for RAW and 16-bit frames. By default a bad pixel is 1 and
//! a good one 0 (ccdproc's and astropy's convention: nonzero is masked); with the PixInsight
//! polarity (its DefectMap) a bad pixel is 0 and a good one the largest value.

use super::list::{DefectList, ListExporter};

/// Which value marks a bad pixel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// Bad 1, good 0 (ccdproc, astropy).
    BadIsOne,
    /// Bad 0, good the largest value (PixInsight's DefectMap).
    BadIsZero,
}

/// The mask exporter.
pub struct Mask(pub Polarity);

impl ListExporter for Mask {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let (w, h) = (list.shape.width, list.shape.height);
        let wide = list.shape.bit_depth > 8;
        let max = if wide { u16::MAX } else { u8::MAX as u16 };
        let (good, bad) = match self.0 {
            Polarity::BadIsOne => (0, 1),
            Polarity::BadIsZero => (max, 0),
        };
        let mut values = vec![good; w as usize * h as usize];
        for p in &list.pixels {
            values[p.y as usize * w as usize + p.x as usize] = bad;
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
