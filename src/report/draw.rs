//! Drawing for the picture reports (map and crops): kind colours, a 3×5 pixel font, rings,
//! filled boxes, and PNG encoding.

use image::{Rgb, RgbImage};

use crate::detect::Kind;

/// The colour a kind is drawn in.
pub fn kind_colour(kind: Kind) -> Rgb<u8> {
    match kind {
        Kind::Hot => Rgb([255, 40, 40]),
        Kind::Warm => Rgb([255, 170, 0]),
        Kind::Stuck => Rgb([230, 60, 255]),
        Kind::Dead => Rgb([0, 220, 255]),
        Kind::Listed => Rgb([235, 235, 235]),
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
        'b' => [6, 5, 6, 5, 6],
        'c' => [7, 4, 4, 4, 7],
        'd' => [6, 5, 5, 5, 6],
        'e' => [7, 4, 6, 4, 7],
        'f' => [7, 4, 6, 4, 4],
        'g' => [7, 4, 5, 5, 7],
        'h' => [5, 5, 7, 5, 5],
        'i' => [7, 2, 2, 2, 7],
        'j' => [1, 1, 1, 5, 7],
        'k' => [5, 6, 4, 6, 5],
        'l' => [4, 4, 4, 4, 7],
        'm' => [5, 7, 7, 5, 5],
        'n' => [6, 5, 5, 5, 5],
        'o' => [2, 5, 5, 5, 2],
        'p' => [6, 5, 6, 4, 4],
        'q' => [2, 5, 5, 6, 3],
        'r' => [6, 5, 6, 5, 5],
        's' => [3, 4, 2, 1, 6],
        't' => [7, 2, 2, 2, 2],
        'u' => [5, 5, 5, 5, 7],
        'v' => [5, 5, 5, 5, 2],
        'w' => [5, 5, 7, 7, 5],
        'x' => [5, 5, 2, 5, 5],
        'y' => [5, 5, 2, 2, 2],
        'z' => [7, 1, 2, 4, 7],
        '#' => [5, 7, 5, 7, 5],
        ',' => [0, 0, 0, 2, 4],
        '.' => [0, 0, 0, 0, 2],
        '-' => [0, 0, 7, 0, 0],
        ':' => [0, 2, 0, 2, 0],
        '|' => [2, 2, 2, 2, 2],
        '/' => [1, 1, 2, 4, 4],
        '(' => [1, 2, 2, 2, 1],
        ')' => [4, 2, 2, 2, 4],
        '_' => [0, 0, 0, 0, 7],
        _ => [0; 5],
    }
}

/// Width in pixels of `text` drawn at `scale`.
pub(super) fn text_width(text: &str, scale: u32) -> u32 {
    text.chars().count() as u32 * 4 * scale
}

/// Draws `text` with its top-left corner at `(x, y)`, clipped to the image.
pub(super) fn draw_text(
    img: &mut RgbImage,
    x: i64,
    y: i64,
    text: &str,
    scale: u32,
    colour: Rgb<u8>,
) {
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

pub(super) fn put(img: &mut RgbImage, x: i64, y: i64, colour: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, colour);
    }
}

pub(super) fn fill(img: &mut RgbImage, x: i64, y: i64, w: u32, h: u32, colour: Rgb<u8>) {
    for yy in y..y + h as i64 {
        for xx in x..x + w as i64 {
            put(img, xx, yy, colour);
        }
    }
}

pub(super) fn ring(img: &mut RgbImage, cx: i64, cy: i64, r: f64, colour: Rgb<u8>) {
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

/// Encodes `img` as PNG.
pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding to memory");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_letter_and_digit_has_a_glyph() {
        for c in ('a'..='z').chain('0'..='9') {
            assert_ne!(super::glyph(c), [0; 5], "{c}");
        }
    }
}
