//! The `repair-preview` format: a PNG of before/after crop pairs of the worst defects in one
//! frame — the frame as read, and as `hotpixels repair` would write it (a RAW frame as the DNG
//! opcode and the raw converters repair it: each photosite from its same-colour neighbours).

use image::{Rgb, RgbImage};

use super::crops::{
    caption, crop_pixels, paint_crop, spread_files, strength, CROP_RADIUS, CROP_ZOOM,
};
use super::draw::{draw_text, kind_colour, png_bytes};
use super::list::DefectList;
use super::Exporter;
use crate::input::{decode_file, Frame};
use crate::model::ScanReport;
use crate::repair::{repair_frame, repair_region};

/// The repair-preview exporter.
pub struct RepairPreview;

/// Most defects shown (the strongest).
pub const PREVIEW_DEFECTS: usize = 12;
/// Before/after pairs per row.
const PAIRS_PER_ROW: u32 = 3;
/// Space between crops and around the sheet, in pixels.
const PAD: u32 = 6;
/// Height of the captions under each pair and of the heading, in pixels.
const CAPTION: u32 = 16;
/// Background of the sheet.
const BACKGROUND: Rgb<u8> = Rgb([24, 24, 24]);
/// Colour of the heading.
const HEADING: Rgb<u8> = Rgb([220, 220, 220]);

impl Exporter for RepairPreview {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        png_bytes(&render_preview(report))
    }
}

/// The frame (of up to [`CROP_FRAMES`](super::crops::CROP_FRAMES) re-read, spread over the scan) in which the shown defects
/// stand out most in all, and its path's name.
fn pick_frame(report: &ScanReport, shown: usize) -> Option<(Frame, String)> {
    let files = &report.files;
    let defects = &report.detection.defects[..shown];
    let mut best: Option<(f64, Frame, String)> = None;
    for path in spread_files(files) {
        let Ok(frame) = decode_file(path, report.shape) else {
            continue;
        };
        let total: f64 = defects.iter().map(|d| strength(&frame, d).max(0.0)).sum();
        if best.as_ref().is_none_or(|(t, _, _)| total > *t) {
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            best = Some((total, frame, name));
        }
    }
    best.map(|(_, frame, name)| (frame, name))
}

/// One shown defect: its crop (display pixels, as the crop sheet draws them) before and after
/// repair.
pub struct Pair {
    /// The defect's index in the report.
    pub defect: usize,
    /// The crop of the frame as read.
    pub before: Vec<[u8; 3]>,
    /// The crop of the repaired frame.
    pub after: Vec<[u8; 3]>,
}

/// What the sheet shows: the frame's file name and a pair per defect shown.
pub struct Preview {
    /// The frame's file name.
    pub frame: String,
    /// The [`PREVIEW_DEFECTS`] strongest defects' crops.
    pub pairs: Vec<Pair>,
}

/// The crops of the sheet: the frame where the strongest defects stand out most, repaired as
/// `hotpixels repair` does (every defect of the report, so a neighbour's repair shows too), and
/// the crops before and after around each of the [`PREVIEW_DEFECTS`] strongest. `None` when there
/// is no defect or no frame can be read again.
pub fn preview(report: &ScanReport) -> Option<Preview> {
    let shown = report.detection.defects.len().min(PREVIEW_DEFECTS);
    if shown == 0 {
        return None;
    }
    let (before, frame) = pick_frame(report, shown)?;
    let mut after = before.clone();
    repair_frame(&mut after, &repair_region(&DefectList::of(report)));
    let pairs = report.detection.defects[..shown]
        .iter()
        .enumerate()
        .map(|(defect, d)| Pair {
            defect,
            before: crop_pixels(&before, &report.levels, d.x, d.y),
            after: crop_pixels(&after, &report.levels, d.x, d.y),
        })
        .collect();
    Some(Preview { frame, pairs })
}

/// The sheet: a heading naming the frame, then each [`preview`] pair side by side (before,
/// after) with `x,y kind` under them. A report without defects, or whose frames no longer
/// decode, gives a sheet saying so.
pub fn render_preview(report: &ScanReport) -> RgbImage {
    let Some(preview) = preview(report) else {
        let text = if report.detection.defects.is_empty() {
            "no defects to repair"
        } else {
            "no frame could be read again"
        };
        let mut img = RgbImage::from_pixel(320, 2 * PAD + CAPTION, BACKGROUND);
        draw_text(&mut img, PAD as i64, PAD as i64, text, 2, HEADING);
        return img;
    };
    let shown = preview.pairs.len();
    let cell = (2 * CROP_RADIUS + 1) * CROP_ZOOM;
    let pair_width = 2 * cell + PAD;
    let cols = (shown as u32).min(PAIRS_PER_ROW);
    let rows = (shown as u32).div_ceil(PAIRS_PER_ROW);
    let mut img = RgbImage::from_pixel(
        cols * (pair_width + 3 * PAD) + PAD,
        CAPTION + PAD + rows * (cell + CAPTION + PAD) + PAD,
        BACKGROUND,
    );
    let heading = format!("{}: before | after repair", preview.frame);
    draw_text(&mut img, PAD as i64, PAD as i64, &heading, 2, HEADING);
    for (k, pair) in preview.pairs.iter().enumerate() {
        let d = &report.detection.defects[pair.defect];
        let (ox, oy) = (
            PAD + (k as u32 % PAIRS_PER_ROW) * (pair_width + 3 * PAD),
            CAPTION + PAD + (k as u32 / PAIRS_PER_ROW) * (cell + CAPTION + PAD),
        );
        let colour = kind_colour(d.kind);
        for (i, pixels) in [&pair.before, &pair.after].into_iter().enumerate() {
            paint_crop(&mut img, ox + i as u32 * (cell + PAD), oy, pixels, colour);
        }
        caption(&mut img, d, ox, oy + cell);
    }
    img
}
