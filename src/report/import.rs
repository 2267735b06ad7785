//! Import: the defect lists other tools write (dcraw's `-P` list, RawTherapee's `.badpixels`,
//! Siril's cosmetic-correction list, this tool's per-pixel CSV, a mask image) read back into a
//! [`DefectList`], so a map made elsewhere drives `repair` and every export.
//!
//! A list holds coordinates only; the frames it is for give the shape (and, for RAW, the colour
//! filter pattern and camera). Neighbouring listed pixels (8-connected) of one kind form one
//! defect. Lists that do not say how a pixel is bad (dcraw, RawTherapee, a mask) give
//! [`Kind::Listed`]; Siril's `H` gives [`Kind::Hot`] and `C` [`Kind::Dead`]; the CSV keeps every
//! field. Scores are 0 where the list has none.

use std::collections::HashMap;

use super::list::{DefectList, Listed};
use super::mask::Polarity;
use super::pixels;
use crate::detect::{DarkCurrent, Kind};
use crate::input::exif::Camera;
use crate::input::Shape;

/// A format `hotpixels import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// dcraw's `-P` list: `col row time` lines, `#` comments.
    Dcraw,
    /// RawTherapee's `.badpixels`: `x y` lines; a first line holding one number is an offset
    /// added to both coordinates of every entry, as RawTherapee reads it.
    RawTherapee,
    /// Siril's cosmetic-correction list: `P x y H|C` lines, `#` comments.
    Siril,
    /// This tool's per-pixel CSV (`defect,x,y,channel,colour,kind,score`).
    Csv,
    /// A mask image (PNG, TIFF or FITS) of the frames' size, bad pixels marked by the polarity.
    Mask(Polarity),
}

impl ImportFormat {
    /// The names `hotpixels import` knows.
    pub const NAMES: [&'static str; 5] = ["dcraw", "rawtherapee", "siril", "csv", "mask"];

    /// The format named `name` (a mask with ccdproc's polarity: bad is nonzero).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "dcraw" => ImportFormat::Dcraw,
            "rawtherapee" => ImportFormat::RawTherapee,
            "siril" => ImportFormat::Siril,
            "csv" => ImportFormat::Csv,
            "mask" => ImportFormat::Mask(Polarity::BadIsOne),
            _ => return None,
        })
    }

    /// This format with the mask's polarity set (other formats are unchanged).
    pub fn with_polarity(self, polarity: Polarity) -> Self {
        match self {
            ImportFormat::Mask(_) => ImportFormat::Mask(polarity),
            other => other,
        }
    }
}

/// Reads the list in `bytes`, written in `format`, for frames of `shape` from `camera`. Errors name the line (or the mask's size) and the reason; a pixel outside the frame is
/// an error, as the list is then for other frames.
pub fn import(
    format: ImportFormat,
    bytes: &[u8],
    shape: Shape,
    camera: Option<Camera>,
) -> Result<DefectList, String> {
    let defects = match format {
        ImportFormat::Mask(polarity) => group(mask_points(bytes, shape, polarity)?),
        ImportFormat::Csv => csv_defects(text(bytes)?, shape)?,
        text_format => {
            let text = text(bytes)?;
            let points = match text_format {
                ImportFormat::Dcraw => dcraw_points(text, shape)?,
                ImportFormat::RawTherapee => rawtherapee_points(text, shape)?,
                _ => siril_points(text, shape)?,
            };
            group(points)
        }
    };
    Ok(DefectList::build(shape, camera, defects.into_iter()))
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|_| "not a text file".to_string())
}

/// A listed pixel before grouping.
struct Point {
    x: u32,
    y: u32,
    kind: Kind,
}

/// A coordinate of line `n`: a non-negative integer.
fn coordinate(word: &str, n: usize, what: &str) -> Result<i64, String> {
    word.parse::<i64>()
        .map_err(|_| format!("line {n}: {what} '{word}' is not a whole number"))
}

/// The point `(x, y)` of line `n`, checked against the frame.
fn point(x: i64, y: i64, kind: Kind, shape: Shape, n: usize) -> Result<Point, String> {
    let (w, h) = (shape.width as i64, shape.height as i64);
    if !(0..w).contains(&x) || !(0..h).contains(&y) {
        return Err(format!(
            "line {n}: ({x}, {y}) is outside the {w}x{h} frame; is the list for other frames?"
        ));
    }
    Ok(Point {
        x: x as u32,
        y: y as u32,
        kind,
    })
}

/// The lines of `text` with comments (from `#`) removed, numbered from 1, blank ones left out.
fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.split('#').next().unwrap_or("");
        let words: Vec<&str> = line.split_whitespace().collect();
        (!words.is_empty()).then_some((i + 1, words))
    })
}

fn dcraw_points(text: &str, shape: Shape) -> Result<Vec<Point>, String> {
    lines(text)
        .map(|(n, w)| {
            if !(2..=3).contains(&w.len()) {
                return Err(format!(
                    "line {n}: expected 'col row time', found '{}'",
                    w.join(" ")
                ));
            }
            if let Some(time) = w.get(2) {
                coordinate(time, n, "time")?;
            }
            let (x, y) = (coordinate(w[0], n, "col")?, coordinate(w[1], n, "row")?);
            point(x, y, Kind::Listed, shape, n)
        })
        .collect()
}

fn rawtherapee_points(text: &str, shape: Shape) -> Result<Vec<Point>, String> {
    let mut offset = 0;
    let mut points = Vec::new();
    for (i, (n, w)) in lines(text).enumerate() {
        match w.as_slice() {
            [single] if i == 0 => offset = coordinate(single, n, "offset")?,
            [x, y, ..] => {
                let (x, y) = (coordinate(x, n, "x")?, coordinate(y, n, "y")?);
                points.push(point(x + offset, y + offset, Kind::Listed, shape, n)?);
            }
            _ => return Err(format!("line {n}: expected 'x y', found '{}'", w.join(" "))),
        }
    }
    Ok(points)
}

fn siril_points(text: &str, shape: Shape) -> Result<Vec<Point>, String> {
    lines(text)
        .map(|(n, w)| match w.as_slice() {
            ["P", x, y, class @ ..] => {
                let kind = match class {
                    ["H"] => Kind::Hot,
                    ["C"] => Kind::Dead,
                    _ => return Err(format!("line {n}: the type must be H or C")),
                };
                let (x, y) = (coordinate(x, n, "x")?, coordinate(y, n, "y")?);
                point(x, y, kind, shape, n)
            }
            ["L", ..] => Err(format!(
                "line {n}: whole-row defects ('L' lines) are not imported, only pixels ('P x y H|C')"
            )),
            _ => Err(format!("line {n}: expected 'P x y H|C', found '{}'", w.join(" "))),
        })
        .collect()
}

/// The defects of a per-pixel CSV: rows of one defect number form one defect, in file order.
fn csv_defects(text: &str, shape: Shape) -> Result<Vec<Listed>, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let fields = match rows.next() {
        Some((_, header)) if header.trim() == pixels::HEADER => pixels::HEADER,
        Some((_, header)) if header.trim() == pixels::HEADER_WITHOUT_DARK => {
            pixels::HEADER_WITHOUT_DARK
        }
        _ => return Err(format!("the first line must be '{}'", pixels::HEADER)),
    };
    let count = fields.split(',').count();
    let mut defects: Vec<Listed> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows {
        let n = i + 1;
        let f: Vec<&str> = row.split(',').map(str::trim).collect();
        if f.len() != count {
            return Err(format!("line {n}: expected {count} fields"));
        }
        let [id, x, y, channel, _colour, kind, score, ..] = f.as_slice() else {
            unreachable!("{count} fields, at least seven");
        };
        let p = point(
            coordinate(x, n, "x")?,
            coordinate(y, n, "y")?,
            Kind::Listed,
            shape,
            n,
        )?;
        let channel: u32 = channel
            .parse()
            .ok()
            .filter(|&c| c < shape.channels)
            .ok_or_else(|| format!("line {n}: channel '{channel}' is not one of the frame's"))?;
        let kind =
            Kind::from_name(kind).ok_or_else(|| format!("line {n}: '{kind}' is not a kind"))?;
        let score: f32 = score
            .parse()
            .map_err(|_| format!("line {n}: score '{score}' is not a number"))?;
        let dark = dark_columns(&f[7..], n)?;
        let next = defects.len();
        let at = *index.entry(id.to_string()).or_insert(next);
        if at == next {
            defects.push(Listed {
                channel,
                kind,
                score,
                dark,
                pixels: Vec::new(),
            });
        }
        defects[at].pixels.push([p.x, p.y]);
    }
    Ok(defects)
}

/// A row's `dark_rate,visible_from` (none when absent or empty): the defect's dark current, its
/// offset at zero and score not known from the row.
fn dark_columns(fields: &[&str], n: usize) -> Result<Option<DarkCurrent>, String> {
    let [rate, from] = fields else {
        return Ok(None);
    };
    if rate.is_empty() && from.is_empty() {
        return Ok(None);
    }
    let number = |v: &str, name: &str| {
        v.parse::<f32>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("line {n}: {name} '{v}' is not a number of zero or more"))
    };
    Ok(Some(DarkCurrent {
        dark_rate: number(rate, "dark_rate")?,
        visible_from: number(from, "visible_from")?,
        dark_offset: 0.0,
        dark_score: 0.0,
    }))
}

/// The marked pixels of a mask image, in raster order.
fn mask_points(bytes: &[u8], shape: Shape, polarity: Polarity) -> Result<Vec<Point>, String> {
    let wrong_size = |(w, h): (u32, u32)| {
        format!(
            "the mask is {w}x{h}, the frames {}x{}",
            shape.width, shape.height
        )
    };
    // The header's size first: a mask is decoded only when it is the frames'.
    if let Some(size) = super::mask::dimensions(bytes)? {
        if size != (shape.width, shape.height) {
            return Err(wrong_size(size));
        }
    }
    let (w, h, values) = super::mask::read(bytes)?;
    if (w, h) != (shape.width, shape.height) {
        return Err(wrong_size((w, h)));
    }
    let bad = |v: u32| match polarity {
        Polarity::BadIsOne => v != 0,
        Polarity::BadIsZero => v == 0,
    };
    Ok(values
        .iter()
        .enumerate()
        .filter(|&(_, &v)| bad(v))
        .map(|(i, _)| Point {
            x: (i % w as usize) as u32,
            y: (i / w as usize) as u32,
            kind: Kind::Listed,
        })
        .collect())
}

/// Groups points into defects: 8-connected points of one kind are one defect, listed from its
/// first point in the file; defects in the order their first points come.
fn group(points: Vec<Point>) -> Vec<Listed> {
    let at: HashMap<(u32, u32), usize> = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| ((p.x, p.y), i))
        .collect();
    let mut parent: Vec<usize> = (0..points.len()).collect();
    fn root(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    for (i, p) in points.iter().enumerate() {
        for (dx, dy) in [(1i64, 0i64), (-1, 1), (0, 1), (1, 1)] {
            let (x, y) = (p.x as i64 + dx, p.y as i64 + dy);
            if x < 0 {
                continue;
            }
            let Some(&j) = at.get(&(x as u32, y as u32)) else {
                continue;
            };
            if points[j].kind == p.kind {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut defects: Vec<Listed> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        let r = root(&mut parent, i);
        let next = defects.len();
        let d = *slot.entry(r).or_insert(next);
        if d == next {
            defects.push(Listed {
                channel: 0,
                kind: p.kind,
                score: 0.0,
                dark: None,
                pixels: Vec::new(),
            });
        }
        defects[d].pixels.push([p.x, p.y]);
    }
    defects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape::new(40, 30, 3, 8).unwrap()
    }

    fn pixels(list: &DefectList) -> Vec<(usize, u32, u32, Kind)> {
        list.pixels
            .iter()
            .map(|p| (p.defect, p.x, p.y, p.kind))
            .collect()
    }

    #[test]
    fn neighbouring_pixels_of_one_kind_are_one_defect() {
        let text = "# a list\n5 5 0\n6 6 0\n20 3 0  # alone\n7 7 0\n";
        let list = import(ImportFormat::Dcraw, text.as_bytes(), shape(), None).unwrap();
        let l = Kind::Listed;
        assert_eq!(
            pixels(&list),
            [(1, 5, 5, l), (1, 6, 6, l), (1, 7, 7, l), (2, 20, 3, l)]
        );
        let text = "P 5 5 H\nP 6 5 C\n";
        let list = import(ImportFormat::Siril, text.as_bytes(), shape(), None).unwrap();
        assert_eq!(
            pixels(&list),
            [(1, 5, 5, Kind::Hot), (2, 6, 5, Kind::Dead)],
            "a hot and a cold pixel side by side are two defects"
        );
    }

    #[test]
    fn a_rawtherapee_offset_line_moves_every_entry() {
        let list = import(ImportFormat::RawTherapee, b"2\n3 4\n10 1\n", shape(), None).unwrap();
        let at: Vec<(u32, u32)> = list.pixels.iter().map(|p| (p.x, p.y)).collect();
        assert_eq!(at, [(5, 6), (12, 3)]);
        let list = import(ImportFormat::RawTherapee, b"3 4\n", shape(), None).unwrap();
        assert_eq!((list.pixels[0].x, list.pixels[0].y), (3, 4));
    }

    #[test]
    fn bad_lines_are_named() {
        let cases: [(ImportFormat, &str, &str); 6] = [
            (ImportFormat::Dcraw, "1 2 0\nx 2 0\n", "line 2: col 'x'"),
            (
                ImportFormat::Dcraw,
                "1 2 0\n40 2 0\n",
                "line 2: (40, 2) is outside the 40x30",
            ),
            (
                ImportFormat::Dcraw,
                "1\n",
                "line 1: expected 'col row time'",
            ),
            (
                ImportFormat::Siril,
                "P 1 2 X\n",
                "line 1: the type must be H or C",
            ),
            (
                ImportFormat::Siril,
                "L 3 0 H\n",
                "line 1: whole-row defects",
            ),
            (ImportFormat::Csv, "x,y\n", "the first line must be"),
        ];
        for (format, text, want) in cases {
            let err = import(format, text.as_bytes(), shape(), None).unwrap_err();
            assert!(err.starts_with(want), "{format:?} {text:?}: {err}");
        }
    }
}
