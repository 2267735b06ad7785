//! The `timeline` format: a PNG of when each defect was seen — one row per dated defect, capture
//! time across, the windows it stands out in filled in its kind's colour.

use image::{Rgb, RgbImage};

use super::draw::{draw_text, fill, kind_colour, png_bytes, text_width};
use super::Exporter;
use crate::detect::timeline::Timeline;
use crate::detect::Defect;
use crate::model::ScanReport;

/// The timeline exporter.
pub struct TimelinePicture;

impl Exporter for TimelinePicture {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        png_bytes(&render_timeline(
            report.timeline.as_ref(),
            &report.detection.defects,
        ))
    }
}

/// Width of the time axis in pixels.
pub const PLOT_WIDTH: u32 = 900;
/// Height of one defect's row in pixels.
pub const ROW_HEIGHT: u32 = 14;
/// Rows drawn at most; a last line counts the others.
pub const MAX_ROWS: usize = 300;
/// Scale of the labels' 3×5 glyphs.
const TEXT_SCALE: u32 = 2;
/// Space around the plot and between the labels and the plot.
const MARGIN: u32 = 12;
/// Height of the glyphs at [`TEXT_SCALE`].
const TEXT_HEIGHT: u32 = 5 * TEXT_SCALE;

const BACKGROUND: Rgb<u8> = Rgb([24, 24, 28]);
const TEXT: Rgb<u8> = Rgb([230, 230, 230]);
/// A row's windows after it was first seen in which it does not stand out.
const QUIET: Rgb<u8> = Rgb([70, 70, 78]);
/// A row's time before it was first seen.
const BEFORE: Rgb<u8> = Rgb([40, 40, 46]);

/// The picture: a heading with the period, one row per dated defect (ordered by when it was
/// first seen, then by rank) labelled `#rank kind (x, y)`, filled from its first frame in its
/// kind's colour where it stands out and grey where it does not; window boundaries on the axis.
/// Without a timeline, a picture that says so.
pub fn render_timeline(timeline: Option<&Timeline>, defects: &[Defect]) -> RgbImage {
    let Some(t) = timeline else {
        let text = "no timeline: the frames have no capture times (or were counted in file order)";
        let mut img = RgbImage::from_pixel(
            text_width(text, TEXT_SCALE) + 2 * MARGIN,
            TEXT_HEIGHT + 2 * MARGIN,
            BACKGROUND,
        );
        draw_text(
            &mut img,
            MARGIN as i64,
            MARGIN as i64,
            text,
            TEXT_SCALE,
            TEXT,
        );
        return img;
    };
    let mut rows: Vec<(usize, &Defect)> = defects
        .iter()
        .enumerate()
        .filter(|(_, d)| d.seen.is_some())
        .collect();
    rows.sort_by_key(|(rank, d)| (d.seen.as_ref().map(|s| s.first_seen.frame), *rank));
    let hidden = rows.len().saturating_sub(MAX_ROWS);
    rows.truncate(MAX_ROWS);
    let labels: Vec<String> = rows
        .iter()
        .map(|(rank, d)| format!("#{} {} ({}, {})", rank + 1, d.kind.name(), d.x, d.y))
        .collect();
    let label_width = labels
        .iter()
        .map(|l| text_width(l, TEXT_SCALE))
        .max()
        .unwrap_or(0);
    let left = MARGIN + label_width + MARGIN;
    let top = MARGIN + 2 * (TEXT_HEIGHT + MARGIN);
    let extra = u32::from(hidden > 0) * ROW_HEIGHT;
    let width = left + PLOT_WIDTH + MARGIN;
    let height = top + rows.len() as u32 * ROW_HEIGHT + extra + MARGIN;
    let mut img = RgbImage::from_pixel(width, height, BACKGROUND);
    let heading = format!(
        "{} frames from {} to {} - {} dated defects",
        t.windows.iter().map(|w| w.frames).sum::<u32>(),
        t.first().taken.date(),
        t.last().taken.date(),
        rows.len() + hidden
    );
    draw_text(
        &mut img,
        MARGIN as i64,
        MARGIN as i64,
        &heading,
        TEXT_SCALE,
        TEXT,
    );
    let frames = f64::from(t.windows.iter().map(|w| w.frames).sum::<u32>().max(1));
    let at = |frame: usize| left as i64 + (frame as f64 / frames * f64::from(PLOT_WIDTH)) as i64;
    // Window boundaries, each labelled with its first frame's date where there is room.
    let axis = (MARGIN + TEXT_HEIGHT + MARGIN) as i64;
    let mut free_from = i64::MIN;
    for w in &t.windows {
        let x = at(w.first.frame);
        fill(
            &mut img,
            x,
            axis + TEXT_HEIGHT as i64 + 2,
            1,
            height - top + 6,
            QUIET,
        );
        let date = w.first.taken.date();
        if x >= free_from {
            draw_text(&mut img, x, axis, &date, TEXT_SCALE, TEXT);
            free_from = x + text_width(&date, TEXT_SCALE) as i64 + MARGIN as i64;
        }
    }
    for (row, ((_, d), label)) in rows.iter().zip(&labels).enumerate() {
        let y = (top + row as u32 * ROW_HEIGHT) as i64;
        draw_text(&mut img, MARGIN as i64, y + 2, label, TEXT_SCALE, TEXT);
        let seen = d.seen.as_ref().expect("rows are dated");
        let bar = ROW_HEIGHT - 4;
        fill(&mut img, left as i64, y + 2, PLOT_WIDTH, bar, BEFORE);
        let mut first = seen.first_seen.frame;
        for (w, window) in t.windows.iter().enumerate() {
            let end = window.first.frame + window.frames as usize;
            if end <= first {
                continue;
            }
            let from = window.first.frame.max(first);
            // A defect that appeared had it from its first frame, before its first window.
            let stood = seen.windows.get(w).copied().unwrap_or(false)
                || (seen.appeared && !seen.windows[..=w].iter().any(|&s| s));
            let colour = if stood { kind_colour(d.kind) } else { QUIET };
            let x0 = at(from);
            let x1 = at(end).max(x0 + 1);
            fill(&mut img, x0, y + 2, (x1 - x0) as u32, bar, colour);
            first = end;
        }
    }
    if hidden > 0 {
        let y = (top + rows.len() as u32 * ROW_HEIGHT) as i64 + 2;
        let more = format!("and {hidden} more");
        draw_text(&mut img, MARGIN as i64, y, &more, TEXT_SCALE, TEXT);
    }
    img
}
