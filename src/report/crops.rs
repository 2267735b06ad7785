//! The `crops` format: a PNG contact sheet of magnified crops around each defect, each from the
//! frame (of a few re-read) where the defect stands out most.

use std::path::PathBuf;

use image::{Rgb, RgbImage};

use super::draw::{draw_text, fill, kind_colour, png_bytes, put};
use super::Exporter;
use crate::detect::Defect;
use crate::input::{decode_file, Frame, Levels, Shape};
use crate::model::ScanReport;

/// The crops exporter.
pub struct Crops;

impl Exporter for Crops {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        png_bytes(&render_crops(
            report.shape,
            &report.levels,
            &report.files,
            &report.detection.defects,
        ))
    }
}

/// Pixels on each side of a defect in a crop (a crop is `2 · CROP_RADIUS + 1` pixels square).
pub const CROP_RADIUS: u32 = 7;
/// Magnification of the crops.
pub const CROP_ZOOM: u32 = 8;
/// Most defects on one contact sheet (the strongest).
pub const MAX_CROPS: usize = 120;
/// Frames re-read to find where each defect shows best.
pub const CROP_FRAMES: usize = 16;

/// Up to [`CROP_FRAMES`] of `files`, spread evenly over the scan: the frames read again to find
/// where each defect shows best.
pub(crate) fn spread_files(files: &[PathBuf]) -> impl Iterator<Item = &PathBuf> {
    let step = (files.len() as f64 / CROP_FRAMES as f64).max(1.0);
    (0..CROP_FRAMES.min(files.len()))
        .map(move |k| &files[((k as f64 * step) as usize).min(files.len() - 1)])
}

/// A crop's pixels (RGB) and how strongly the defect showed in that frame.
struct Crop {
    strength: f64,
    pixels: Vec<[u8; 3]>,
}

fn sample8(frame: &Frame, levels: &Levels, x: u32, y: u32, ch: u32) -> u8 {
    let shape = frame.shape();
    let v = frame.value(shape.index(x, y, ch.min(shape.channels - 1)));
    levels.display(v as f32, x, y)
}

/// How far the defect's strongest subpixel stands out of its four neighbours in `frame`, in the
/// direction of its score.
pub(crate) fn strength(frame: &Frame, d: &Defect) -> f64 {
    let est = crate::geometry::neighbour_estimate_frame(frame, d.index);
    let v = frame.value(d.index);
    (v - est) * d.score.signum() as f64
}

/// Builds the contact sheet: for the strongest [`MAX_CROPS`] defects, the neighbourhood from the
/// frame (of up to [`CROP_FRAMES`] re-read, spread over the scan) where the defect stands out
/// most, magnified, with `x,y kind` under it. Files that fail to decode are passed over.
pub fn render_crops(
    shape: Shape,
    levels: &Levels,
    files: &[PathBuf],
    defects: &[Defect],
) -> RgbImage {
    let defects = &defects[..defects.len().min(MAX_CROPS)];
    let side = 2 * CROP_RADIUS + 1;
    let mut best: Vec<Option<Crop>> = (0..defects.len()).map(|_| None).collect();
    for path in spread_files(files) {
        let Ok(frame) = decode_file(path, shape) else {
            continue;
        };
        for (d, slot) in defects.iter().zip(best.iter_mut()) {
            let st = strength(&frame, d);
            if slot.as_ref().is_some_and(|c| c.strength >= st) {
                continue;
            }
            *slot = Some(Crop {
                strength: st,
                pixels: crop_pixels(&frame, levels, d.x, d.y),
            });
        }
    }
    let cell = side * CROP_ZOOM;
    let caption_height = 16;
    let cols = (defects.len() as u32).clamp(1, 8);
    let rows = (defects.len() as u32).div_ceil(cols).max(1);
    let pad = 6;
    let mut img = RgbImage::from_pixel(
        cols * (cell + pad) + pad,
        rows * (cell + caption_height + pad) + pad,
        Rgb([24, 24, 24]),
    );
    for (k, (d, crop)) in defects.iter().zip(&best).enumerate() {
        let (ox, oy) = (
            pad + (k as u32 % cols) * (cell + pad),
            pad + (k as u32 / cols) * (cell + caption_height + pad),
        );
        let colour = kind_colour(d.kind);
        if let Some(crop) = crop {
            paint_crop(&mut img, ox, oy, &crop.pixels, colour);
        }
        caption(&mut img, d, ox, oy + cell);
    }
    img
}

/// Writes `x,y kind` in the defect's colour under a crop whose bottom-left corner is `(ox, bottom)`.
pub(crate) fn caption(img: &mut RgbImage, d: &Defect, ox: u32, bottom: u32) {
    let label = format!("{},{} {}", d.x, d.y, d.kind.name());
    draw_text(
        img,
        ox as i64,
        (bottom + 4) as i64,
        &label,
        2,
        kind_colour(d.kind),
    );
}

/// The `(2 · CROP_RADIUS + 1)²` display pixels of `frame` around `(cx, cy)`, row by row; black
/// outside the frame.
pub(crate) fn crop_pixels(frame: &Frame, levels: &Levels, cx: u32, cy: u32) -> Vec<[u8; 3]> {
    let shape = frame.shape();
    let side = 2 * CROP_RADIUS + 1;
    let mut pixels = Vec::with_capacity((side * side) as usize);
    for dy in 0..side {
        for dx in 0..side {
            let x = (cx + dx)
                .checked_sub(CROP_RADIUS)
                .filter(|&x| x < shape.width);
            let y = (cy + dy)
                .checked_sub(CROP_RADIUS)
                .filter(|&y| y < shape.height);
            pixels.push(match (x, y) {
                (Some(x), Some(y)) => [0, 1, 2].map(|c| sample8(frame, levels, x, y, c)),
                _ => [0, 0, 0],
            });
        }
    }
    pixels
}

/// Paints a crop's pixels magnified [`CROP_ZOOM`] times with its top-left at `(ox, oy)`, the
/// centre pixel (the defect's own) outlined in `colour`.
pub(crate) fn paint_crop(
    img: &mut RgbImage,
    ox: u32,
    oy: u32,
    pixels: &[[u8; 3]],
    colour: Rgb<u8>,
) {
    let side = 2 * CROP_RADIUS + 1;
    for (p, px) in pixels.iter().enumerate() {
        let (cx, cy) = (p as u32 % side, p as u32 / side);
        fill(
            img,
            (ox + cx * CROP_ZOOM) as i64,
            (oy + cy * CROP_ZOOM) as i64,
            CROP_ZOOM,
            CROP_ZOOM,
            Rgb(*px),
        );
    }
    let (px, py) = (
        (ox + CROP_RADIUS * CROP_ZOOM) as i64,
        (oy + CROP_RADIUS * CROP_ZOOM) as i64,
    );
    for t in 0..CROP_ZOOM as i64 {
        for (a, b) in [
            (t, -1),
            (t, CROP_ZOOM as i64),
            (-1, t),
            (CROP_ZOOM as i64, t),
        ] {
            put(img, px + a, py + b, colour);
        }
    }
}
