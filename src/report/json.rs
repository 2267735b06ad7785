//! The JSON report (schema version 1; a library of several cameras: version 2, one version-1
//! report per camera group): the camera (from EXIF: make, model, serial number), shape (with, for RAW frames, the colour filter pattern,
//! camera, visible area and levels), frames used and skipped, backend, lowest-variance list and
//! defects.

use serde::Serialize;

use crate::detect::Candidate;
use crate::input::Shape;
use crate::model::ScanReport;
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
    /// Files of shots also saved in the preferred form (RAW or image), left out.
    twins_left_out: usize,
    skipped: Vec<SkippedEntry>,
}

/// What a RAW scan adds to the shape: the camera, the visible area and the levels.
#[derive(Serialize)]
struct RawEntry<'a> {
    make: &'a str,
    model: &'a str,
    visible_origin: [u32; 2],
    raw_size: [u32; 2],
    black_level: [f32; 4],
    white_level: f32,
}

#[derive(Serialize)]
struct ShapeEntry<'a> {
    #[serde(flatten)]
    shape: Shape,
    #[serde(flatten)]
    raw: Option<RawEntry<'a>>,
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    tool: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    camera: Option<&'a crate::input::exif::Camera>,
    shape: ShapeEntry<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exposure: Option<&'a crate::input::exif::ExposureRange>,
    frames: Frames,
    backend: &'a BackendInfo,
    elapsed_seconds: f64,
    /// How many independent scenes the frames amount to.
    scene_variety: f64,
    warnings: &'a [String],
    lowest_variance: &'a [Candidate],
    detection: &'a crate::detect::Thresholds,
    /// The dark-current score's threshold, when the model is dark current.
    #[serde(skip_serializing_if = "Option::is_none")]
    dark_threshold: Option<f32>,
    /// The steepest falling slope's score, when the dark-current threshold was raised above
    /// falls as steep.
    #[serde(skip_serializing_if = "Option::is_none")]
    dark_falls: Option<f32>,
    /// Which model of a hot pixel the scan used, and why.
    model: &'a crate::model::Model,
    /// The exposure the defects were judged at (`--at`), when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    shown_at: Option<&'a crate::model::ShownAt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<&'a crate::detect::timeline::Timeline>,
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
    pretty(&document(report))
}

/// `doc` as pretty-printed JSON, ending in a newline.
fn pretty(doc: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("report serialises");
    s.push('\n');
    s
}

/// Schema version of a photo library's document: the reports of several camera groups.
pub const LIBRARY_VERSION: u32 = 2;

/// A photo library's report: one version-1 report per camera group.
#[derive(Serialize)]
struct Library {
    version: u32,
    tool: String,
    groups: Vec<serde_json::Value>,
}

/// One camera group's report as a JSON value, as [`render`] writes it; a library scan keeps
/// these (not the groups' statistics) until [`render_library`] writes them together.
pub fn group_value(report: &ScanReport) -> serde_json::Value {
    serde_json::to_value(document(report)).expect("report serialises")
}

/// The reports of a library scan's camera groups ([`group_value`]) as one pretty-printed JSON
/// document of schema version [`LIBRARY_VERSION`], ending in a newline.
pub fn render_library(groups: Vec<serde_json::Value>) -> String {
    pretty(&Library {
        version: LIBRARY_VERSION,
        tool: crate::tool_name(),
        groups,
    })
}

/// The serializable form of one report.
fn document(report: &ScanReport) -> Report<'_> {
    Report {
        version: VERSION,
        tool: crate::tool_name(),
        camera: report.camera.as_ref(),
        shape: ShapeEntry {
            shape: report.shape,
            raw: report.raw.as_ref().map(|r| RawEntry {
                make: &r.make,
                model: &r.model,
                visible_origin: r.visible_origin,
                raw_size: r.raw_size,
                black_level: r.levels.black,
                white_level: r.levels.white,
            }),
        },
        frames: Frames {
            used: report.frames_used,
            failed: report.failed,
            twins_left_out: report.twins_left_out,
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
        scene_variety: (report.scenes * 10.0).round() / 10.0,
        warnings: &report.warnings,
        lowest_variance: &report.lowest,
        detection: &report.detection.thresholds,
        dark_threshold: report.detection.dark_threshold,
        dark_falls: report.detection.dark_falls,
        model: &report.model,
        shown_at: report.shown_at.as_ref(),
        timeline: report.timeline.as_ref(),
        exposure: report.exposure.as_ref(),
        defects: &report.detection.defects,
    }
}

/// Every version-1 report in `doc`: `doc` itself, or each camera group of a library's document
/// (version [`LIBRARY_VERSION`]).
///
/// Each is checked to be of its version ([`super::readback::check_version`]), and no two groups
/// of a library's document may name the same camera body.
pub fn reports(doc: serde_json::Value) -> Result<Vec<serde_json::Value>, String> {
    use super::readback::check_version;
    const REPORT: &str = "hotpixels JSON report";
    let groups = match doc {
        serde_json::Value::Object(mut map) => match map.remove("groups") {
            None => {
                let doc = serde_json::Value::Object(map);
                check_version(&doc, VERSION, REPORT)?;
                return Ok(vec![doc]);
            }
            Some(serde_json::Value::Array(groups)) => {
                check_version(
                    &serde_json::Value::Object(map),
                    LIBRARY_VERSION,
                    "hotpixels library document",
                )?;
                groups
            }
            Some(_) => return Err("not a hotpixels JSON report: groups is not a list".into()),
        },
        _ => return Err("not a hotpixels JSON report".into()),
    };
    let mut names: Vec<String> = Vec::with_capacity(groups.len());
    for (i, g) in groups.iter().enumerate() {
        check_version(g, VERSION, REPORT).map_err(|e| format!("group {}: {e}", i + 1))?;
        let name = group_name_of(g);
        if let Some(j) = names.iter().position(|n| *n == name) {
            return Err(format!(
                "groups {} and {} are both of {name}: a document holds one group per camera",
                j + 1,
                i + 1
            ));
        }
        names.push(name);
    }
    Ok(groups)
}

/// The body name of a group ([`crate::input::exif::group_name`] of its `camera`).
fn group_name_of(g: &serde_json::Value) -> String {
    let camera = g
        .get("camera")
        .cloned()
        .and_then(|c| serde_json::from_value::<crate::input::exif::Camera>(c).ok());
    crate::input::exif::group_name(camera.as_ref())
}

/// `text` parsed as JSON: what every reader of a saved report starts from.
pub fn parse(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not a hotpixels JSON report: {e}"))
}

/// The version-1 report in `doc`: `doc` itself, or, in a library's document (version
/// [`LIBRARY_VERSION`]), the group of the camera whose body name ([`Camera::body`]; `no camera`
/// for the files that name none) contains `camera`, compared without case. Without `camera`, a
/// library's document must hold one group.
///
/// [`Camera::body`]: crate::input::exif::Camera::body
pub fn one_report(
    doc: serde_json::Value,
    camera: Option<&str>,
) -> Result<serde_json::Value, String> {
    let library = doc.get("groups").is_some();
    let mut groups = reports(doc)?;
    if !library {
        return Ok(groups.remove(0));
    }
    let names: Vec<String> = groups.iter().map(group_name_of).collect();
    let wanted: Vec<usize> = match camera {
        Some(text) => {
            let text = text.to_lowercase();
            (0..groups.len())
                .filter(|&i| names[i].to_lowercase().contains(&text))
                .collect()
        }
        None => (0..groups.len()).collect(),
    };
    let listed = wanted
        .iter()
        .map(|&i| names[i].as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match (&wanted[..], camera) {
        (&[i], _) => Ok(groups.into_iter().nth(i).expect("an index of groups")),
        ([], Some(text)) => Err(format!(
            "--camera '{text}' matches none of its {} cameras ({})",
            names.len(),
            names.join(", ")
        )),
        (_, Some(text)) => Err(format!(
            "--camera '{text}' matches {} of its cameras ({listed}): name one",
            wanted.len()
        )),
        (_, None) => Err(format!(
            "holds {} cameras ({listed}): choose one with --camera",
            wanted.len()
        )),
    }
}
