//! The human report: a summary, the lowest-`M2` table and the defects table, for a terminal.

use std::fmt::Write;

use crate::input::formats::is_fits_file;
use crate::model::ScanReport;

/// The text exporter: the human table.
pub struct Text;

impl super::Exporter for Text {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        render(report).into_bytes()
    }
}

/// The report as text: frames, backend, skipped files, the argmin, the top-k table and the
/// defects.
pub fn render(report: &ScanReport) -> String {
    let mut s = String::new();
    let r = report;
    let _ = writeln!(
        s,
        "frames: {} used, {} skipped ({} failed to decode)  shape: {}",
        r.frames_used,
        r.skipped.len(),
        r.failed,
        r.shape.describe()
    );
    let driver = if r.backend.driver.is_empty() {
        String::new()
    } else {
        format!(", {}", r.backend.driver)
    };
    let _ = writeln!(
        s,
        "backend: {} on {}{}  time: {:.2} s",
        match r.backend.kind {
            crate::stats::BackendKind::Cpu => "cpu",
            crate::stats::BackendKind::Gpu => "gpu",
        },
        r.backend.adapter,
        driver,
        r.elapsed.as_secs_f64()
    );
    if let (None, Some(camera)) = (&r.raw, &r.camera) {
        let _ = writeln!(s, "camera: {}", camera.body());
    }
    if let Some(raw) = &r.raw {
        let b = raw.levels.black;
        let _ = writeln!(
            s,
            "camera: {}  visible area at ({}, {}) of {}x{}  black level {} {} {} {}  white level {}",
            r.camera
                .as_ref()
                .map_or_else(|| format!("{} {}", raw.make, raw.model), |c| c.body()),
            raw.visible_origin[0],
            raw.visible_origin[1],
            raw.raw_size[0],
            raw.raw_size[1],
            b[0],
            b[1],
            b[2],
            b[3],
            raw.levels.white
        );
    }
    if let Some(e) = &r.exposure {
        let fits = !r.files.is_empty() && r.files.iter().all(|f| is_fits_file(f));
        let _ = writeln!(
            s,
            "exposure: {} (from the {} of {} frames)",
            e.describe(),
            if fits { "FITS headers" } else { "EXIF" },
            e.frames
        );
    }
    let _ = writeln!(s, "model: {}", r.model.describe());
    if r.twins_left_out > 0 {
        let (left, read, other) = match r.prefer {
            crate::input::Prefer::Raw => ("image", "RAW", "jpeg"),
            crate::input::Prefer::Jpeg => ("RAW", "images", "raw"),
        };
        let _ = writeln!(
            s,
            "note: {} {left} files of shots also saved as {read} were left out (--prefer {other} reads them instead)",
            r.twins_left_out
        );
    }
    if r.alpha_ignored {
        let _ = writeln!(s, "note: alpha channels are ignored");
    }
    for w in &r.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "skipped:");
        for k in &r.skipped {
            let _ = writeln!(s, "  {}: {}", k.path.display(), k.reason);
        }
    }
    if let Some(c) = r.lowest.first() {
        let _ = writeln!(
            s,
            "argmin: x={} y={} channel={} ({})  M2={}  mean={:.3}",
            c.x,
            c.y,
            c.channel,
            r.shape.colour(c.x, c.y, c.channel),
            c.m2,
            c.mean
        );
    }
    let _ = writeln!(s, "lowest M2 (top {}):", r.lowest.len());
    let _ = writeln!(
        s,
        "{:>5} {:>6} {:>6} {:>3} {:>14} {:>14} {:>10}",
        "rank", "x", "y", "ch", "M2", "variance", "mean"
    );
    for (i, c) in r.lowest.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>5} {:>6} {:>6} {:>3} {:>14.4} {:>14.6} {:>10.3}",
            i + 1,
            c.x,
            c.y,
            r.shape.colour(c.x, c.y, c.channel),
            c.m2,
            c.variance,
            c.mean
        );
    }
    s.push_str(&defects(report));
    s.push_str(&timeline(report));
    s
}

/// The timeline of a scan of frames with capture times: the period and windows, how many defects
/// were there from the first frames, and the defects that appeared, by month.
pub fn timeline(report: &ScanReport) -> String {
    let mut s = String::new();
    let Some(t) = &report.timeline else {
        return s;
    };
    let _ = writeln!(
        s,
        "timeline: {} frames taken from {} to {}, looked at in {} windows",
        report.frames_used,
        t.first().taken,
        t.last().taken,
        t.windows.len()
    );
    let defects = &report.detection.defects;
    let seen = |keep: fn(&crate::detect::Seen) -> bool| {
        defects
            .iter()
            .filter(|d| d.seen.as_ref().is_some_and(keep))
            .count()
    };
    let _ = writeln!(
        s,
        "  from the first frames: {}  first seen later: {}  appeared: {}  too faint to date: {}",
        seen(|v| v.first_seen.frame == 0),
        seen(|v| v.first_seen.frame > 0 && !v.appeared),
        seen(|v| v.appeared),
        defects.iter().filter(|d| d.seen.is_none()).count()
    );
    let mut months: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (i, d) in defects.iter().enumerate() {
        if let Some(v) = d.seen.as_ref().filter(|v| v.appeared) {
            months
                .entry(v.first_seen.taken.month())
                .or_default()
                .push(format!(
                    "#{} {} ({}, {}) from {}",
                    i + 1,
                    d.kind.name(),
                    d.x,
                    d.y,
                    v.first_seen.taken.date()
                ));
        }
    }
    for (month, list) in months {
        let _ = writeln!(s, "  {month}  {} appeared: {}", list.len(), list.join(", "));
    }
    s
}

/// The defects table: one line per physical defect, strongest first.
pub fn defects(report: &ScanReport) -> String {
    let mut s = String::new();
    let d = &report.detection;
    let t = &d.thresholds;
    let _ = writeln!(
        s,
        "defects: {} found ({} score, threshold |score| >= {:.1}{}, sensitivity {:.2})",
        d.defects.len(),
        t.method,
        t.threshold,
        d.dark_threshold
            .map(|k| match d.dark_falls {
                Some(_) => format!(
                    "; dark-current score >= {k:.1}, raised above as many falls: scene detail"
                ),
                None => format!("; dark-current score >= {k:.1}"),
            })
            .unwrap_or_default(),
        t.sensitivity
    );
    if let Some(shown) = &report.shown_at {
        let _ = writeln!(
            s,
            "at {} ({} s at ISO 100): {} of the {} defects show",
            shown.at.describe(),
            (shown.at.exposure() * 1000.0).round() / 1000.0,
            d.defects.len(),
            shown.of
        );
    }
    if d.defects.is_empty() {
        return s;
    }
    let dated = report.timeline.is_some();
    // The dark-current columns, when a defect is one: its rate (% of full scale per second at
    // ISO 100) and the shortest exposure at ISO 100 it shows at.
    let dark = d.defects.iter().any(|e| e.dark.is_some());
    let dark_heading = if dark {
        format!(" {:>8} {:>9}", "rate %/s", "from s")
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "{:>4} {:>6} {:>6} {:>3} {:>6} {:>9} {:>9} {:>8} {:>9}{dark_heading}  pixels{}",
        "#",
        "x",
        "y",
        "ch",
        "kind",
        "score",
        "mean",
        "std",
        "residual",
        if dated { "  first seen" } else { "" }
    );
    for (i, e) in d.defects.iter().enumerate() {
        let more = if e.pixels.len() > 1 {
            e.pixels.len().to_string()
        } else {
            "1".to_string()
        };
        // The first seen column, after the pixels (padded to its heading's width).
        let more = match (&e.seen, dated) {
            (Some(v), _) => format!("{more:<6}  {}", v.first_seen.taken.date()),
            (None, true) => format!("{more:<6}  -"),
            (None, false) => more,
        };
        let dark_columns = match (&e.dark, dark) {
            (Some(c), _) => format!(
                " {:>8.3} {:>9}",
                c.dark_rate * 100.0,
                super::exposure_time(c.visible_from as f64)
            ),
            (None, true) => format!(" {:>8} {:>9}", "-", "-"),
            (None, false) => String::new(),
        };
        let _ = writeln!(
            s,
            "{:>4} {:>6} {:>6} {:>3} {:>6} {:>9.1} {:>9.2} {:>8.2} {:>9.2}{dark_columns}  {}",
            i + 1,
            e.x,
            e.y,
            report.shape.colour(e.x, e.y, e.channel),
            e.kind.name(),
            e.score,
            e.mean,
            e.std,
            e.residual,
            more
        );
    }
    s
}
