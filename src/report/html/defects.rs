//! The page's defects: the table (one row per defect, the values the script sorts and filters by
//! in `data-` attributes) and the details of the strongest — crops before and after repair, and
//! the timeline over the scan's windows.

use std::fmt::Write;

use super::data::Section;
use super::data::{PageReport, Sighting, Timeline};
use super::pictures::DefectCrops;
use super::{base64, escape};
use crate::detect::Kind;
use crate::report::exposure_time;

/// The defects table: one row per defect, with the values the script sorts and filters by in
/// `data-` attributes.
pub(super) fn table(s: &mut String, i: usize, r: &PageReport) {
    let _ = write!(
        s,
        "<div class=\"kinds\" data-camera=\"{i}\">Show: {}</div>",
        Kind::DETECTED
            .iter()
            .chain([&Kind::Listed])
            .map(|k| format!(
                "<label class=\"{0}\"><input type=\"checkbox\" name=\"kind\" value=\"{0}\" checked> {0}</label>",
                k.name()
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    s.push_str(
        "<table class=\"defects\"><thead><tr>\
         <th data-sort=\"rank\" data-type=\"number\">#</th>\
         <th data-sort=\"kind\">kind</th><th data-sort=\"colour\">colour</th>\
         <th data-sort=\"score\" data-type=\"number\">score</th>\
         <th data-sort=\"x\" data-type=\"number\">x</th><th data-sort=\"y\" data-type=\"number\">y</th>\
         <th data-sort=\"pixels\" data-type=\"number\">pixels</th>\
         <th data-sort=\"rate\" data-type=\"number\">dark rate %/s</th>\
         <th data-sort=\"from\" data-type=\"number\">visible from s</th>\
         <th data-sort=\"first\">first seen</th><th data-sort=\"last\">last seen</th>\
         </tr></thead><tbody>",
    );
    for (k, d) in r.defects.iter().enumerate() {
        let rate = d.dark_rate.map(|v| format!("{:.3}", v * 100.0));
        let from = d.visible_from.map(exposure_time);
        let first = d.first_seen.as_ref().map(sighting);
        let last = d.last_seen.as_ref().map(sighting);
        let appeared = if d.appeared == Some(true) {
            " <b>appeared</b>"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<tr class=\"defect {kind}\" id=\"c{i}-row-{k}\" data-index=\"{k}\" data-rank=\"{rank}\" \
             data-kind=\"{kind}\" data-colour=\"{colour}\" data-score=\"{score}\" data-x=\"{x}\" \
             data-y=\"{y}\" data-pixels=\"{pixels}\" data-rate=\"{}\" data-from=\"{}\" \
             data-first=\"{}\" data-last=\"{}\">\
             <td>{rank}</td><td>{kind}</td><td>{colour}</td><td>{score:.1}</td><td>{x}</td><td>{y}</td>\
             <td>{pixels}</td><td>{}</td><td>{}</td><td>{}{appeared}</td><td>{}</td></tr>",
            d.dark_rate.map(|v| v.to_string()).unwrap_or_default(),
            d.visible_from.map(|v| v.to_string()).unwrap_or_default(),
            escape(first.as_deref().unwrap_or("")),
            escape(last.as_deref().unwrap_or("")),
            rate.as_deref().unwrap_or("–"),
            from.as_deref().unwrap_or("–"),
            escape(first.as_deref().unwrap_or("–")),
            escape(last.as_deref().unwrap_or("–")),
            rank = k + 1,
            kind = d.kind.name(),
            colour = escape(&d.colour),
            score = d.score,
            x = d.x,
            y = d.y,
            pixels = d.pixels.len(),
        );
    }
    s.push_str("</tbody></table>\n");
}

/// `2024-01-01 09:00:00 (frame 97)`.
fn sighting(s: &Sighting) -> String {
    format!("{} (frame {})", s.taken, s.frame)
}

/// The details of the strongest defects: crops from the frame where each shows most, before and
/// after repair, and its timeline over the scan's windows.
pub(super) fn details(s: &mut String, i: usize, c: &Section) {
    let r = &c.report;
    let shown = r.defects.len().min(super::pictures::DETAILED_DEFECTS);
    if shown == 0 {
        return;
    }
    let _ = write!(
        s,
        "<h3>The {shown} strongest defects</h3><div class=\"details\">"
    );
    let frames = r.timeline.as_ref().and_then(|t| {
        let last = t.windows.last()?.last.frame;
        Some((t, last.max(1)))
    });
    for (k, d) in r.defects.iter().take(shown).enumerate() {
        let _ = write!(
            s,
            "<article class=\"detail {kind}\" id=\"c{i}-defect-{k}\" data-index=\"{k}\">\
             <h4>#{} {kind} at {},{} <small>score {:.1}</small></h4>",
            k + 1,
            d.x,
            d.y,
            d.score,
            kind = d.kind.name()
        );
        match c.pictures.crops.get(k).and_then(|c| c.as_ref()) {
            Some(crops) => crop_pair(s, crops),
            None if c.pictures.background.is_some() => {
                s.push_str("<p class=\"note\">No frame could be read again for its crops.</p>")
            }
            None => s.push_str(
                "<p class=\"note\">Crops are drawn from the frames: <code>hotpixels scan … --html</code>.</p>",
            ),
        }
        let mut facts = Vec::new();
        if let (Some(rate), Some(from)) = (d.dark_rate, d.visible_from) {
            facts.push(format!(
                "dark current {:.3} % of full scale per second at ISO 100; shows from {} s at ISO 100",
                rate * 100.0,
                exposure_time(from)
            ));
        }
        if d.pixels.len() > 1 {
            facts.push(format!("{} pixels", d.pixels.len()));
        }
        if !facts.is_empty() {
            let _ = write!(s, "<p>{}</p>", escape(&facts.join("; ")));
        }
        if let (Some((t, total)), Some(first), Some(last)) =
            (frames, d.first_seen.as_ref(), d.last_seen.as_ref())
        {
            timeline_strip(s, t, total, first, last, d.appeared == Some(true));
        }
        s.push_str("</article>");
    }
    s.push_str("</div>\n");
}

/// The before/after crops, magnified by the page.
fn crop_pair(s: &mut String, crops: &DefectCrops) {
    let _ = write!(
        s,
        "<div class=\"crops\"><figure><img alt=\"as read\" src=\"data:image/png;base64,{}\">\
         <figcaption>{}</figcaption></figure><figure><img alt=\"repaired\" \
         src=\"data:image/png;base64,{}\"><figcaption>repaired</figcaption></figure></div>",
        base64(&crops.before),
        escape(&crops.frame),
        base64(&crops.after)
    );
}

/// The scan's windows as a strip, the frames the defect was seen in marked.
fn timeline_strip(
    s: &mut String,
    t: &Timeline,
    total: usize,
    first: &Sighting,
    last: &Sighting,
    appeared: bool,
) {
    let _ = write!(
        s,
        "<svg class=\"timeline\" viewBox=\"0 0 {total} 10\" preserveAspectRatio=\"none\" role=\"img\" \
         aria-label=\"seen from frame {} to {}\">",
        first.frame, last.frame
    );
    for w in &t.windows {
        let _ = write!(
            s,
            "<rect class=\"window\" x=\"{}\" width=\"{}\" y=\"0\" height=\"10\"/>",
            w.first.frame,
            (w.last.frame + 1).saturating_sub(w.first.frame)
        );
    }
    let _ = write!(
        s,
        "<rect class=\"seen\" x=\"{}\" width=\"{}\" y=\"2\" height=\"6\"/></svg>\
         <p class=\"note\">seen from {} to {}{}</p>",
        first.frame,
        (last.frame + 1).saturating_sub(first.frame),
        escape(&sighting(first)),
        escape(&sighting(last)),
        if appeared {
            ": it appeared while the photos were taken"
        } else {
            ""
        }
    );
}
