//! The JSON report (schema version 1): shape, frames used and skipped, backend, lowest-variance
//! list and defects.

use serde::Serialize;

use crate::detect::Candidate;
use crate::input::Shape;
use crate::scan::ScanReport;
use crate::stats::BackendInfo;

/// Schema version written in every report.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct SkippedEntry {
    path: String,
    reason: String,
}

#[derive(Serialize)]
struct Frames {
    used: usize,
    failed: usize,
    skipped: Vec<SkippedEntry>,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: String,
    shape: Shape,
    frames: Frames,
    backend: &'a BackendInfo,
    elapsed_seconds: f64,
    lowest_variance: &'a [Candidate],
    detection: &'a crate::detect::Thresholds,
    defects: &'a [crate::detect::Defect],
}

/// The JSON exporter.
pub struct Json;

impl super::Exporter for Json {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        render(report).into_bytes()
    }
}

/// The report as pretty-printed JSON, ending in a newline.
pub fn render(report: &ScanReport) -> String {
    let doc = Report {
        version: VERSION,
        tool: crate::tool_name(),
        shape: report.shape,
        frames: Frames {
            used: report.frames_used,
            failed: report.failed,
            skipped: report
                .skipped
                .iter()
                .map(|s| SkippedEntry {
                    path: s.path.display().to_string(),
                    reason: s.reason.clone(),
                })
                .collect(),
        },
        backend: &report.backend,
        elapsed_seconds: report.elapsed.as_secs_f64(),
        lowest_variance: &report.lowest,
        detection: &report.detection.thresholds,
        defects: &report.detection.defects,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("report serialises");
    s.push('\n');
    s
}
