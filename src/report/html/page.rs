//! The page's HTML: per camera body the summary, the sensor map (SVG), the defects table, the
//! exposure control, the export commands and the details of the strongest defects — all of it
//! readable without JavaScript; the inline script ([`SCRIPT`]) adds sorting, filtering, zoom and
//! the exposure control.

use std::fmt::Write;

use super::commands::commands;
use super::data::{PageReport, Section};
use super::defects::{details, table};
use super::{base64, escape};
use crate::detect::Kind;
use crate::report::exposure_time;

/// The page's style, inline.
const STYLE: &str = include_str!("page.css");
/// The page's script, inline.
pub const SCRIPT: &str = include_str!("page.js");

/// The page's content security policy: nothing leaves the file — no request, no external script,
/// style, font or image; only what is inline and `data:` images.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// The whole page: a heading, then one section per camera body. `report_name` is the JSON report
/// the export commands read (a placeholder when the page was written without one).
pub fn render(sections: &[Section], report_name: &str) -> String {
    let mut s = String::with_capacity(1 << 20);
    let tool = sections
        .iter()
        .find_map(|c| c.report.tool.clone())
        .unwrap_or_else(crate::tool_name);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>hotpixels: {} defects</title><style>{STYLE}</style></head>\n<body>\n\
         <header><h1>Defective pixels</h1><p class=\"tool\">{}; {} camera bod{}</p>",
        sections
            .iter()
            .map(|c| c.report.defects.len())
            .sum::<usize>(),
        escape(&tool),
        sections.len(),
        if sections.len() == 1 { "y" } else { "ies" }
    );
    if sections.len() > 1 {
        s.push_str("<nav><ul>");
        for (i, c) in sections.iter().enumerate() {
            let _ = write!(
                s,
                "<li><a href=\"#camera-{i}\">{}</a></li>",
                escape(&c.name())
            );
        }
        s.push_str("</ul></nav>");
    }
    s.push_str("</header>\n");
    for (i, c) in sections.iter().enumerate() {
        section(&mut s, i, c, report_name);
    }
    let _ = write!(s, "<script>{SCRIPT}</script>\n</body></html>\n");
    s
}

/// One camera body's section.
fn section(s: &mut String, i: usize, c: &Section, report_name: &str) {
    let r = &c.report;
    let _ = writeln!(
        s,
        "<section class=\"camera\" id=\"camera-{i}\" data-camera=\"{i}\" data-defects=\"{}\">\
         <h2>{}</h2>",
        r.defects.len(),
        escape(&c.name())
    );
    summary(s, r);
    exposure_control(s, i, r, report_name);
    map(s, c);
    table(s, i, r);
    details(s, i, c);
    commands(s, c, report_name);
    s.push_str("</section>\n");
}

/// The summary: frames used and skipped with reasons, exposures, backend, model, warnings.
fn summary(s: &mut String, r: &PageReport) {
    s.push_str("<dl class=\"summary\">");
    let mut item = |term: &str, value: String| {
        let _ = write!(s, "<dt>{term}</dt><dd>{value}</dd>");
    };
    let sh = &r.shape;
    item(
        "sensor",
        escape(&format!(
            "{}x{} {}, {}-bit",
            sh.width,
            sh.height,
            match (&sh.cfa, sh.channels) {
                (Some(cfa), _) => format!("RAW {cfa}"),
                (None, 1) => "grey".into(),
                (None, _) => "RGB".into(),
            },
            sh.bit_depth
        )),
    );
    if let Some(f) = &r.frames {
        let mut text = format!(
            "{} used, {} skipped ({} failed to decode)",
            f.used,
            f.skipped.len(),
            f.failed
        );
        if f.twins_left_out > 0 {
            let _ = write!(text, ", {} read in their other form", f.twins_left_out);
        }
        item("frames", escape(&text));
    }
    if let Some(imported) = &r.imported_from {
        item(
            "imported",
            escape(&format!("a {} list, {}", imported.format, imported.file)),
        );
    }
    if let Some(e) = &r.exposure {
        item(
            "exposures",
            escape(&format!(
                "{}–{} s, ISO {}–{} ({} frames)",
                exposure_time(e.seconds[0]),
                exposure_time(e.seconds[1]),
                e.iso[0],
                e.iso[1],
                e.frames
            )),
        );
    }
    if let Some(b) = &r.backend {
        let time = r
            .elapsed_seconds
            .map(|t| format!(", {t:.2} s"))
            .unwrap_or_default();
        item(
            "backend",
            escape(&format!("{} on {}{time}", b.kind, b.adapter)),
        );
    }
    if let Some(m) = &r.model {
        item("model", escape(&model_text(m)));
    }
    if let Some(d) = &r.detection {
        let dark = r
            .dark_threshold
            .map(|t| format!("; dark-current score ≥ {t:.1}"))
            .unwrap_or_default();
        item(
            "threshold",
            escape(&format!(
                "{} score ≥ {:.1}{dark}, sensitivity {:.2}",
                d.method, d.threshold, d.sensitivity
            )),
        );
    }
    let mut counts = String::new();
    for k in Kind::DETECTED.iter().chain([&Kind::Listed]) {
        let n = r.defects.iter().filter(|d| d.kind == *k).count();
        if n > 0 {
            let _ = write!(counts, "{n} {} ", k.name());
        }
    }
    item(
        "defects",
        escape(&format!("{} ({})", r.defects.len(), counts.trim())),
    );
    s.push_str("</dl>");
    if !r.warnings.is_empty() {
        s.push_str("<ul class=\"warnings\">");
        for w in &r.warnings {
            let _ = write!(s, "<li>warning: {}</li>", escape(w));
        }
        s.push_str("</ul>");
    }
    if let Some(f) = r.frames.as_ref().filter(|f| !f.skipped.is_empty()) {
        let _ = write!(
            s,
            "<details class=\"skipped\"><summary>{} files skipped</summary><ul>",
            f.skipped.len()
        );
        for k in &f.skipped {
            let _ = write!(
                s,
                "<li><code>{}</code>: {}</li>",
                escape(&k.path),
                escape(&k.reason)
            );
        }
        s.push_str("</ul></details>");
    }
}

/// The model line: which model the scan used and why.
fn model_text(m: &serde_json::Value) -> String {
    match m.get("kind").and_then(|k| k.as_str()) {
        Some("dark_current") => {
            let range = m
                .get("range")
                .and_then(|r| r.as_array())
                .map(|r| {
                    let at = |i: usize| r.get(i).and_then(|v| v.as_f64()).unwrap_or(0.0);
                    format!(
                        " ({} to {} s at ISO 100)",
                        exposure_time(at(0)),
                        exposure_time(at(1))
                    )
                })
                .unwrap_or_default();
            format!("dark current: offsets grow with exposure time × ISO{range}")
        }
        Some("constant") => format!(
            "constant offsets: {}",
            m.get("reason").and_then(|r| r.as_str()).unwrap_or("")
        ),
        _ => m.to_string(),
    }
}

/// The exposure control: a time and an ISO; the script shows which defects would show then and
/// the `--at` command line.
fn exposure_control(s: &mut String, i: usize, r: &PageReport, report_name: &str) {
    let rated = r
        .defects
        .iter()
        .filter(|d| d.visible_from.is_some())
        .count();
    let _ = writeln!(
        s,
        "<form class=\"exposure\" data-camera=\"{i}\" data-report=\"{}\">\
         <fieldset><legend>At an exposure</legend>\
         <label>time <input name=\"time\" size=\"7\" placeholder=\"30 or 1/250\"></label> s \
         <label>ISO <input name=\"iso\" size=\"6\" placeholder=\"1600\"></label> \
         <output class=\"shown\">{} defects; {rated} with a dark-current rate</output>\
         <p class=\"at-command\"><code></code></p>\
         <p class=\"note\">A dark-current defect shows once its offset reaches 2 % of full scale: from \
         its <i>visible from</i> exposure (seconds at ISO 100) on. Stuck and dead ones, and constant \
         offsets, show at every exposure.</p></fieldset></form>",
        escape(report_name),
        r.defects.len()
    );
}

/// The sensor map: the mean frame (when the page has it) with every defect marked in its kind's
/// colour; zoomed by the script.
fn map(s: &mut String, c: &Section) {
    let (w, h) = (c.report.shape.width.max(1), c.report.shape.height.max(1));
    // Marks a fixed share of the sensor's size, so they show on any sensor.
    let radius = (w.max(h) as f64 / 150.0).max(3.0);
    let _ = write!(
        s,
        "<figure class=\"map\"><svg viewBox=\"0 0 {w} {h}\" data-width=\"{w}\" data-height=\"{h}\" \
         role=\"img\" aria-label=\"sensor map\" preserveAspectRatio=\"xMidYMid meet\">\
         <rect width=\"{w}\" height=\"{h}\" class=\"sensor\"/>"
    );
    if let Some((png, factor)) = &c.pictures.background {
        let _ = write!(
            s,
            "<image href=\"data:image/jpeg;base64,{}\" width=\"{}\" height=\"{}\" \
             preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\"/>",
            base64(png),
            w.div_ceil(*factor as u32) * *factor as u32,
            h.div_ceil(*factor as u32) * *factor as u32,
        );
    }
    for (k, d) in c.report.defects.iter().enumerate().rev() {
        let _ = write!(
            s,
            "<circle class=\"mark {}\" data-index=\"{k}\" cx=\"{}\" cy=\"{}\" r=\"{radius:.1}\"><title>#{} {} at {},{}</title></circle>",
            d.kind.name(),
            d.x as f64 + 0.5,
            d.y as f64 + 0.5,
            k + 1,
            d.kind.name(),
            d.x,
            d.y
        );
    }
    let _ = writeln!(
        s,
        "</svg><figcaption>The sensor, {w}×{h}, every defect circled in its kind's colour \
         (<span class=\"hot\">hot</span>, <span class=\"warm\">warm</span>, \
         <span class=\"stuck\">stuck</span>, <span class=\"dead\">dead</span>, \
         <span class=\"listed\">listed</span>). Scroll to zoom, drag to move, double-click to \
         reset; click a mark for its details.</figcaption></figure>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::Pictures;

    fn report(camera: &str, defects: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "camera": {"make": "Acme", "model": camera},
            "shape": {"width": 64, "height": 48, "channels": 3, "bit_depth": 8},
            "defects": defects,
        })
    }

    /// One row and one mark per defect, in the report's order, with the values the script
    /// filters by; a defect without a dark current shows at every exposure (no `data-from`).
    #[test]
    fn every_defect_has_its_row_and_mark() {
        let doc = report(
            "Z 6",
            serde_json::json!([
                {"x": 5, "y": 6, "channel": 0, "colour": "R", "kind": "hot", "score": 40.0,
                 "pixels": [[5, 6]], "dark_rate": 0.1, "visible_from": 0.2},
                {"x": 7, "y": 8, "channel": 1, "colour": "G", "kind": "dead", "score": -9.0,
                 "pixels": [[7, 8], [8, 8]]}
            ]),
        );
        let page = render(&[Section::of(doc, Pictures::default()).unwrap()], "r.json");
        assert_eq!(page.matches("<tr class=\"defect").count(), 2);
        assert_eq!(page.matches("<circle class=\"mark").count(), 2);
        let hot = page.find("data-x=\"5\"").unwrap();
        let dead = page.find("data-x=\"7\"").unwrap();
        assert!(hot < dead, "rows in the report's order");
        assert!(page.contains("data-rate=\"0.1\" data-from=\"0.2\""));
        assert!(page.contains("data-kind=\"dead\" data-colour=\"G\" data-score=\"-9\" data-x=\"7\" data-y=\"8\" data-pixels=\"2\" data-rate=\"\" data-from=\"\""));
        assert!(page
            .contains("hotpixels export --format dcraw r.json --camera &#39;Z 6&#39; -o bad.txt"));
    }

    /// A report is untrusted: a camera named like markup is text on the page, not markup.
    #[test]
    fn names_in_the_report_are_text_not_markup() {
        let doc = report("<script>alert(1)</script>", serde_json::json!([]));
        let page = render(&[Section::of(doc, Pictures::default()).unwrap()], "r.json");
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert_eq!(
            page.matches("<script>").count(),
            1,
            "the page's own script only"
        );
    }
}
