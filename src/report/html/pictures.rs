//! The pictures an HTML page embeds, from the scan's own data: the mean frame behind the sensor
//! map, and for the strongest defects the crop of the frame (of a few re-read, spread over the
//! scan) where each shows most, before and after repair.

use image::{Rgb, RgbImage};

use crate::input::decode_file;
use crate::model::ScanReport;
use crate::repair::{repair_frame, repair_region};
use crate::report::crops::{crop_pixels, spread_files, strength, CROP_RADIUS};
use crate::report::draw::png_bytes;
use crate::report::list::DefectList;

/// JPEG quality of the map's background (the mean frame): a photo-like picture, a tenth of a PNG's
/// bytes.
pub const BACKGROUND_QUALITY: u8 = 85;

/// Defects that get crops on the page (the strongest); the rest are on the map and in the table.
pub const DETAILED_DEFECTS: usize = 100;

/// One defect's crops: unmagnified PNGs of `2 · CROP_RADIUS + 1` pixels a side, the page
/// magnifies them.
#[derive(Clone, Debug, PartialEq)]
pub struct DefectCrops {
    /// The file name of the frame the crops come from.
    pub frame: String,
    /// The frame as read.
    pub before: Vec<u8>,
    /// The frame repaired as `hotpixels repair` repairs it.
    pub after: Vec<u8>,
}

/// What a page shows besides the report's numbers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pictures {
    /// The mean frame as a JPEG and the factor it was shrunk by.
    pub background: Option<(Vec<u8>, usize)>,
    /// Crops of the first [`DETAILED_DEFECTS`] defects, in the report's order (`None`: no frame
    /// could be read again).
    pub crops: Vec<Option<DefectCrops>>,
}

impl Pictures {
    /// The pictures of a finished scan: its mean frame, and crops from up to [`CROP_FRAMES`](crate::report::crops::CROP_FRAMES) of
    /// its files read again (files that no longer decode are passed over).
    pub fn of_scan(report: &ScanReport) -> Self {
        let (mean, factor) = crate::report::map::mean_picture(&report.moments);
        let defects = &report.detection.defects;
        let detailed = &defects[..defects.len().min(DETAILED_DEFECTS)];
        let mut best: Vec<Option<(f64, DefectCrops)>> = vec![None; detailed.len()];
        let files = &report.files;
        if !detailed.is_empty() && !files.is_empty() {
            let region = repair_region(&DefectList::of(report));
            for path in spread_files(files) {
                let Ok(frame) = decode_file(path, report.shape) else {
                    continue;
                };
                let mut repaired: Option<crate::input::Frame> = None;
                for (d, slot) in detailed.iter().zip(best.iter_mut()) {
                    let st = strength(&frame, d);
                    if slot.as_ref().is_some_and(|(s, _)| *s >= st) {
                        continue;
                    }
                    let after = repaired.get_or_insert_with(|| {
                        let mut f = frame.clone();
                        repair_frame(&mut f, &region);
                        f
                    });
                    let png = |f| crop_png(&crop_pixels(f, &report.levels, d.x, d.y));
                    *slot = Some((
                        st,
                        DefectCrops {
                            frame: path
                                .file_name()
                                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                            before: png(&frame),
                            after: png(after),
                        },
                    ));
                }
            }
        }
        Pictures {
            background: Some((jpeg_bytes(&mean), factor)),
            crops: best.into_iter().map(|b| b.map(|(_, c)| c)).collect(),
        }
    }
}

/// `img` as a JPEG of [`BACKGROUND_QUALITY`].
fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, BACKGROUND_QUALITY)
        .encode_image(img)
        .expect("encoding into memory");
    out
}

/// A crop's display pixels as an unmagnified PNG.
fn crop_png(pixels: &[[u8; 3]]) -> Vec<u8> {
    let side = 2 * CROP_RADIUS + 1;
    let img = RgbImage::from_fn(side, side, |x, y| Rgb(pixels[(y * side + x) as usize]));
    png_bytes(&img)
}
