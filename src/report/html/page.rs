//! The page's HTML: per camera body the summary, the sensor map (SVG), the defects table, the
//! exposure control, the export commands and the details of the strongest defects — all of it
//! readable without JavaScript; the inline script ([`SCRIPT`]) adds sorting, filtering, zoom and
//! the exposure control.

use std::fmt::Write;

use serde::Deserialize;

use super::pictures::{DefectCrops, Pictures};
use super::{base64, escape};
use crate::detect::Kind;

/// The page's style, inline.
const STYLE: &str = include_str!("page.css");
/// The page's script, inline.
pub const SCRIPT: &str = include_str!("page.js");

/// The page's content security policy: nothing leaves the file — no request, no external script,
/// style, font or image; only what is inline and `data:` images.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'";

/// The report fields a page shows (everything optional: an imported list has few of them).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageReport {
    tool: Option<String>,
    camera: Option<Camera>,
    shape: Shape,
    exposure: Option<Exposure>,
    frames: Option<Frames>,
    backend: Option<Backend>,
    elapsed_seconds: Option<f64>,
    warnings: Vec<String>,
    detection: Option<Thresholds>,
    dark_threshold: Option<f64>,
    model: Option<serde_json::Value>,
    imported_from: Option<Imported>,
    timeline: Option<Timeline>,
    defects: Vec<PageDefect>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Camera {
    make: String,
    model: String,
    serial: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Shape {
    width: u32,
    height: u32,
    channels: u32,
    bit_depth: u32,
    cfa: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Exposure {
    seconds: [f64; 2],
    iso: [u32; 2],
    frames: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Frames {
    used: usize,
    failed: usize,
    skipped: Vec<Skipped>,
    twins_left_out: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Skipped {
    path: String,
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Backend {
    kind: String,
    adapter: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Thresholds {
    method: String,
    threshold: f64,
    sensitivity: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Imported {
    format: String,
    file: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Timeline {
    windows: Vec<Window>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Window {
    first: Sighting,
    last: Sighting,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
struct Sighting {
    taken: String,
    file: String,
    frame: usize,
}

/// One defect as the page shows it.
#[derive(Debug, Deserialize)]
struct PageDefect {
    x: u32,
    y: u32,
    #[serde(default)]
    colour: String,
    kind: Kind,
    #[serde(default)]
    score: f64,
    #[serde(default)]
    pixels: Vec<[u32; 2]>,
    #[serde(default)]
    dark_rate: Option<f64>,
    #[serde(default)]
    visible_from: Option<f64>,
    #[serde(default)]
    first_seen: Option<Sighting>,
    #[serde(default)]
    last_seen: Option<Sighting>,
    #[serde(default)]
    appeared: Option<bool>,
}

/// One camera body's part of a page: its report and pictures.
pub struct Section {
    /// The report (a version-1 document).
    pub report: PageReport,
    /// Its pictures (none for a page made from a saved report).
    pub pictures: Pictures,
}

impl Section {
    /// The section of a version-1 report document.
    pub fn of(doc: serde_json::Value, pictures: Pictures) -> Result<Self, String> {
        let report: PageReport =
            serde_json::from_value(doc).map_err(|e| format!("not a hotpixels JSON report: {e}"))?;
        Ok(Section { report, pictures })
    }

    /// The camera body's name, as the library groups name it.
    fn name(&self) -> String {
        match &self.report.camera {
            Some(c) => {
                let mut name = format!("{} {}", c.make, c.model);
                if let Some(s) = &c.serial {
                    let _ = write!(name, " (serial {s})");
                }
                name
            }
            None => "camera not named".into(),
        }
    }
}

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
    map(s, i, c);
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
                seconds(e.seconds[0]),
                seconds(e.seconds[1]),
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
                    format!(" ({} to {} s at ISO 100)", seconds(at(0)), seconds(at(1)))
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

/// `1/250`, `0.5`, `30`: an exposure time as cameras write it.
pub fn seconds(t: f64) -> String {
    if t > 0.0 && t < 1.0 && ((1.0 / t) - (1.0 / t).round()).abs() < 0.02 * (1.0 / t) {
        format!("1/{}", (1.0 / t).round())
    } else {
        let rounded = (t * 1000.0).round() / 1000.0;
        format!("{rounded}")
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
fn map(s: &mut String, i: usize, c: &Section) {
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
    let _ = i;
}

/// The defects table: one row per defect, with the values the script sorts and filters by in
/// `data-` attributes.
fn table(s: &mut String, i: usize, r: &PageReport) {
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
        let from = d.visible_from.map(seconds);
        let first = d.first_seen.as_ref().map(sighting);
        let last = d.last_seen.as_ref().map(sighting);
        let appeared = if d.appeared == Some(true) {
            " <b>appeared</b>"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<tr class=\"defect {kind}\" id=\"c{i}-row-{k}\" data-index=\"{k}\" data-rank=\"{}\" \
             data-kind=\"{kind}\" data-colour=\"{}\" data-score=\"{}\" data-x=\"{}\" data-y=\"{}\" \
             data-pixels=\"{}\" data-rate=\"{}\" data-from=\"{}\" data-first=\"{}\" data-last=\"{}\">\
             <td>{}</td><td>{kind}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}{appeared}</td><td>{}</td></tr>",
            k + 1,
            escape(&d.colour),
            d.score,
            d.x,
            d.y,
            d.pixels.len(),
            d.dark_rate.map(|v| v.to_string()).unwrap_or_default(),
            d.visible_from.map(|v| v.to_string()).unwrap_or_default(),
            escape(first.as_deref().unwrap_or("")),
            escape(last.as_deref().unwrap_or("")),
            k + 1,
            escape(&d.colour),
            d.score,
            d.x,
            d.y,
            d.pixels.len(),
            rate.as_deref().unwrap_or("–"),
            from.as_deref().unwrap_or("–"),
            escape(first.as_deref().unwrap_or("–")),
            escape(last.as_deref().unwrap_or("–")),
            kind = d.kind.name(),
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
fn details(s: &mut String, i: usize, c: &Section) {
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
                seconds(from)
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

/// For each export format, the command that writes it and the one that applies it.
fn commands(s: &mut String, c: &Section, report_name: &str) {
    let report = shell_word(report_name);
    let camera = c
        .report
        .camera
        .as_ref()
        .map(|c| format!(" --camera {}", shell_word(&c.model)))
        .unwrap_or_default();
    let name = c
        .report
        .camera
        .as_ref()
        .map(|c| format!("{} {}", c.make, c.model))
        .unwrap_or_else(|| "Make Model".into());
    let rows: [(&str, String, String); 6] = [
        (
            "dcraw, LibRaw, rawpy",
            format!("hotpixels export --format dcraw {report}{camera} -o bad.txt"),
            "dcraw -P bad.txt -D -4 -T photo.CR2".into(),
        ),
        (
            "RawTherapee",
            format!(
                "hotpixels export --format rawtherapee {report}{camera} -o {}",
                shell_word(&format!("{name}.badpixels"))
            ),
            "copy it to the folder of Preferences › Image Processing › Dark frame".into(),
        ),
        (
            "Siril",
            format!("hotpixels export --format siril {report}{camera} -o bad.lst"),
            "calibrate light_ -cc=bpm bad.lst".into(),
        ),
        (
            "darktable (DNG opcode)",
            format!("hotpixels repair --map {report}{camera} photos/ --out fixed/"),
            "open the repaired DNG files: their FixBadPixelsList opcode names the photosites"
                .into(),
        ),
        (
            "astropy, ccdproc (FITS mask)",
            format!("hotpixels export --format mask {report}{camera} -o mask.fits"),
            "CCDData(data, mask=fits.getdata(\"mask.fits\") != 0)".into(),
        ),
        (
            "spreadsheets (CSV)",
            format!("hotpixels export --format csv {report}{camera} -o defects.csv"),
            "one row per pixel, with kind, score, dark rate and visible-from".into(),
        ),
    ];
    s.push_str(
        "<h3>Use the list in your tools</h3><table class=\"commands\"><thead><tr><th>tool</th>\
         <th>write it</th><th>apply it</th></tr></thead><tbody>",
    );
    for (tool, write_it, apply) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td><code class=\"export\">{}</code></td><td>{}</td></tr>",
            escape(tool),
            escape(&write_it),
            escape(&apply)
        );
    }
    s.push_str("</tbody></table>\n");
}

/// `word` as one shell word: quoted when it holds anything but letters, digits and `._/-`.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
    {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(camera: &str, defects: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "version": 1,
            "camera": {"make": "Acme", "model": camera},
            "shape": {"width": 64, "height": 48, "channels": 3, "bit_depth": 8},
            "defects": defects,
        })
    }

    #[test]
    fn exposure_times_read_as_cameras_write_them() {
        assert_eq!(seconds(0.004), "1/250");
        assert_eq!(seconds(1.0 / 3.0), "1/3");
        assert_eq!(seconds(0.35), "0.35");
        assert_eq!(seconds(30.0), "30");
    }

    #[test]
    fn a_word_with_spaces_or_quotes_is_one_shell_word() {
        assert_eq!(shell_word("report.json"), "report.json");
        assert_eq!(shell_word("My report.json"), "'My report.json'");
        assert_eq!(shell_word("it's.json"), "'it'\\''s.json'");
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
