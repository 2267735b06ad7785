//! The `map` format: a PNG of the sensor at a readable size (the mean frame), each defect circled
//! in its kind's colour and labelled with its rank and kind.

use image::{Rgb, RgbImage};

use super::draw::{draw_text, fill, kind_colour, png_bytes, ring, text_width};
use super::Exporter;
use crate::detect::{Defect, Kind};
use crate::model::ScanReport;
use crate::stats::Moments;

/// The map exporter.
pub struct Map;

impl Exporter for Map {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        png_bytes(&render_map(&report.moments, &report.detection.defects))
    }
}

/// Largest side of the map in pixels.
pub const MAP_SIZE: u32 = 1600;

/// The mean frame, box-averaged down to at most [`MAP_SIZE`] pixels a side and stretched to the
/// full range, with every defect circled in its kind's colour and labelled `rank kind`.
pub fn render_map(m: &Moments, defects: &[Defect]) -> RgbImage {
    let (mut img, factor) = mean_picture(m);
    let mw = img.width() as usize;
    let scale = if mw >= 800 { 2 } else { 1 };
    for (rank, d) in defects.iter().enumerate().rev() {
        let (cx, cy) = (
            (d.x as usize / factor) as i64,
            (d.y as usize / factor) as i64,
        );
        let colour = kind_colour(d.kind);
        ring(&mut img, cx, cy, 9.0, colour);
        ring(&mut img, cx, cy, 10.0, Rgb([0, 0, 0]));
        let label = format!("{} {}", rank + 1, d.kind.name());
        let (lx, ly) = (cx + 12, cy - 3 * scale as i64);
        fill(
            &mut img,
            lx - 1,
            ly - 1,
            text_width(&label, scale) + 1,
            5 * scale + 2,
            Rgb([0, 0, 0]),
        );
        draw_text(&mut img, lx, ly, &label, scale, colour);
    }
    draw_legend(&mut img, scale);
    img
}

/// The mean frame, box-averaged down by a whole factor to at most [`MAP_SIZE`] pixels a side,
/// stretched to the full range and dimmed so marks stand out; and the factor.
pub fn mean_picture(m: &Moments) -> (RgbImage, usize) {
    let s = m.shape;
    let (w, h, c) = (s.width as usize, s.height as usize, s.channels as usize);
    let factor = (w.max(h) as f64 / MAP_SIZE as f64).ceil().max(1.0) as usize;
    let (mw, mh) = (w.div_ceil(factor), h.div_ceil(factor));
    let mut sums = vec![[0f64; 3]; mw * mh];
    let mut counts = vec![0u32; mw * mh];
    for y in 0..h {
        for x in 0..w {
            let k = (y / factor) * mw + x / factor;
            for (ch, sum) in sums[k].iter_mut().enumerate() {
                *sum += m.mean[(y * w + x) * c + ch.min(c - 1)] as f64;
            }
            counts[k] += 1;
        }
    }
    let avg: Vec<[f64; 3]> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &n)| s.map(|v| v / n.max(1) as f64))
        .collect();
    let lo = avg.iter().flatten().copied().fold(f64::INFINITY, f64::min);
    let hi = avg
        .iter()
        .flatten()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-9);
    let mut img = RgbImage::new(mw as u32, mh as u32);
    for (k, p) in avg.iter().enumerate() {
        // Dimmed so the marks stand out.
        let px = p.map(|v| (((v - lo) / span) * 160.0 + 20.0) as u8);
        img.put_pixel((k % mw) as u32, (k / mw) as u32, Rgb(px));
    }
    (img, factor)
}

fn draw_legend(img: &mut RgbImage, scale: u32) {
    let mut x = 4i64;
    let y = img.height() as i64 - 8 * scale as i64;
    fill(img, 0, y - 2, img.width(), 8 * scale, Rgb([0, 0, 0]));
    for k in Kind::DETECTED {
        draw_text(img, x, y, k.name(), scale, kind_colour(k));
        x += text_width(k.name(), scale) as i64 + 6 * scale as i64;
    }
}
