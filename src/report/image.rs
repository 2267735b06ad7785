//! Picture reports: `--map` (the sensor at a readable size, each defect circled and labelled by
//! kind) and `--crops` (a contact sheet of magnified crops around each defect, from the frame
//! where it shows best).

use std::path::PathBuf;

use image::{Rgb, RgbImage};

use crate::detect::{Defect, Kind};
use crate::input::{decode_file, Frame, Shape};
use crate::stats::Moments;

/// The colour a kind is drawn in.
pub fn kind_colour(kind: Kind) -> Rgb<u8> {
    match kind {
        Kind::Hot => Rgb([255, 40, 40]),
        Kind::Warm => Rgb([255, 170, 0]),
        Kind::Stuck => Rgb([230, 60, 255]),
        Kind::Dead => Rgb([0, 220, 255]),
    }
}

/// 3×5 glyphs, one row of three bits per nibble, top row first.
fn glyph(c: char) -> [u8; 5] {
    match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        'a' => [2, 5, 7, 5, 5],
        'c' => [7, 4, 4, 4, 7],
        'd' => [6, 5, 5, 5, 6],
        'e' => [7, 4, 6, 4, 7],
        'h' => [5, 5, 7, 5, 5],
        'k' => [5, 6, 4, 6, 5],
        'm' => [5, 7, 7, 5, 5],
        'o' => [2, 5, 5, 5, 2],
        'r' => [6, 5, 6, 5, 5],
        's' => [3, 4, 2, 1, 6],
        't' => [7, 2, 2, 2, 2],
        'u' => [5, 5, 5, 5, 7],
        'w' => [5, 5, 7, 7, 5],
        'x' => [5, 5, 2, 5, 5],
        'y' => [5, 5, 2, 2, 2],
        '#' => [5, 7, 5, 7, 5],
        ',' => [0, 0, 0, 2, 4],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        ':' => [0, 2, 0, 2, 0],
        _ => [0; 5],
    }
}

/// Width in pixels of `text` drawn at `scale`.
fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * 4 * scale
}

/// Draws `text` with its top-left corner at `(x, y)`, clipped to the image.
fn draw_text(img: &mut RgbImage, x: i64, y: i64, text: &str, scale: u32, colour: Rgb<u8>) {
    for (k, c) in text.chars().enumerate() {
        let rows = glyph(c.to_ascii_lowercase());
        for (r, bits) in rows.iter().enumerate() {
            for b in 0..3 {
                if bits & (4 >> b) == 0 {
                    continue;
                }
                for sy in 0..scale as i64 {
                    for sx in 0..scale as i64 {
                        let px = x + (k as i64 * 4 + b) * scale as i64 + sx;
                        let py = y + r as i64 * scale as i64 + sy;
                        put(img, px, py, colour);
                    }
                }
            }
        }
    }
}

fn put(img: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, colour);
    }
}

fn fill(img: &mut RgbImage, x: i64, y: i64, w: u32, h: u32, colour: Rgb<u8>) {
    for yy in y..y + h as i64 {
        for xx in x..x + w as i64 {
            put(img, xx, yy, colour);
        }
    }
}

fn ring(img: &mut RgbImage, cx: i64, cy: i64, r: f64, colour: Rgb<u8>) {
    let r0 = r - 1.5;
    let ri = r.ceil() as i64 + 1;
    for dy in -ri..=ri {
        for dx in -ri..=ri {
            let d = ((dx * dx + dy * dy) as f64).sqrt();
            if d >= r0 && d <= r {
                put(img, cx + dx, cy + dy, colour);
            }
        }
    }
}

/// Largest side of the map in pixels.
pub const MAP_SIZE: u32 = 1600;

/// The mean frame, box-averaged down to at most [`MAP_SIZE`] pixels a side and stretched to the
/// full range, with every defect circled in its kind's colour and labelled `rank kind`.
pub fn render_map(m: &Moments, defects: &[Defect]) -> RgbImage {
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

fn draw_legend(img: &mut RgbImage, scale: u32) {
    let mut x = 4i64;
    let y = img.height() as i64 - 8 * scale as i64;
    fill(img, 0, y - 2, img.width(), 8 * scale, Rgb([0, 0, 0]));
    for k in Kind::ALL {
        draw_text(img, x, y, k.name(), scale, kind_colour(k));
        x += text_width(k.name(), scale) as i64 + 6 * scale as i64;
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

/// A crop's pixels (RGB) and how strongly the defect showed in that frame.
struct Crop {
    strength: f64,
    pixels: Vec<[u8; 3]>,
}

fn sample8(frame: &Frame, shape: Shape, x: u32, y: u32, ch: u32) -> u8 {
    let v = frame.value(shape.index(x, y, ch.min(shape.channels - 1)));
    (v * 255.0 / shape.max_value() as f64)
        .round()
        .clamp(0.0, 255.0) as u8
}

/// How far the defect's strongest subpixel stands out of its four neighbours in `frame`, in the
/// direction of its score.
fn strength(frame: &Frame, shape: Shape, d: &Defect) -> f64 {
    let est = crate::stats::cpu::neighbour_estimate_frame(frame, shape, d.index);
    let v = frame.value(d.index);
    (v - est) * d.score.signum() as f64
}

/// Builds the contact sheet: for the strongest [`MAX_CROPS`] defects, the neighbourhood from the
/// frame (of up to [`CROP_FRAMES`] re-read, spread over the scan) where the defect stands out
/// most, magnified, with `x,y kind` under it. Files that fail to decode are passed over.
pub fn render_crops(shape: Shape, files: &[PathBuf], defects: &[Defect]) -> RgbImage {
    let defects = &defects[..defects.len().min(MAX_CROPS)];
    let side = 2 * CROP_RADIUS + 1;
    let mut best: Vec<Option<Crop>> = (0..defects.len()).map(|_| None).collect();
    let step = (files.len() as f64 / CROP_FRAMES as f64).max(1.0);
    let picks: Vec<&PathBuf> = (0..CROP_FRAMES.min(files.len()))
        .map(|k| &files[((k as f64 * step) as usize).min(files.len() - 1)])
        .collect();
    for path in picks {
        let Ok(frame) = decode_file(path, shape) else {
            continue;
        };
        for (d, slot) in defects.iter().zip(best.iter_mut()) {
            let st = strength(&frame, shape, d);
            if slot.as_ref().is_some_and(|c| c.strength >= st) {
                continue;
            }
            let mut pixels = Vec::with_capacity((side * side) as usize);
            for dy in 0..side {
                for dx in 0..side {
                    let x = (d.x + dx)
                        .checked_sub(CROP_RADIUS)
                        .filter(|&x| x < shape.width);
                    let y = (d.y + dy)
                        .checked_sub(CROP_RADIUS)
                        .filter(|&y| y < shape.height);
                    pixels.push(match (x, y) {
                        (Some(x), Some(y)) => [0, 1, 2].map(|c| sample8(&frame, shape, x, y, c)),
                        _ => [0, 0, 0],
                    });
                }
            }
            *slot = Some(Crop {
                strength: st,
                pixels,
            });
        }
    }
    let cell = side * CROP_ZOOM;
    let caption = 16;
    let cols = (defects.len() as u32).clamp(1, 8);
    let rows = (defects.len() as u32).div_ceil(cols).max(1);
    let pad = 6;
    let mut img = RgbImage::from_pixel(
        cols * (cell + pad) + pad,
        rows * (cell + caption + pad) + pad,
        Rgb([24, 24, 24]),
    );
    for (k, (d, crop)) in defects.iter().zip(&best).enumerate() {
        let (ox, oy) = (
            pad + (k as u32 % cols) * (cell + pad),
            pad + (k as u32 / cols) * (cell + caption + pad),
        );
        if let Some(crop) = crop {
            for (p, px) in crop.pixels.iter().enumerate() {
                let (cx, cy) = (p as u32 % side, p as u32 / side);
                fill(
                    &mut img,
                    (ox + cx * CROP_ZOOM) as i64,
                    (oy + cy * CROP_ZOOM) as i64,
                    CROP_ZOOM,
                    CROP_ZOOM,
                    Rgb(*px),
                );
            }
        }
        // The defect's own pixel is outlined.
        let colour = kind_colour(d.kind);
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
                put(&mut img, px + a, py + b, colour);
            }
        }
        let label = format!("{},{} {}", d.x, d.y, d.kind.name());
        draw_text(
            &mut img,
            ox as i64,
            (oy + cell + 4) as i64,
            &label,
            2,
            colour,
        );
    }
    img
}

/// Encodes `img` as PNG.
pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding to memory");
    out.into_inner()
}
