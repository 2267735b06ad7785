//! What an HTML page is made of: per camera body a [`Section`], its report's fields as the page
//! shows them (read from a version-1 report document, everything optional: an imported list has
//! few of them) and its pictures.

use std::fmt::Write;

use serde::Deserialize;

use super::pictures::Pictures;
use crate::detect::Kind;
use crate::input::exif::Camera;

/// The report fields a page shows (everything optional: an imported list has few of them).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageReport {
    pub(super) tool: Option<String>,
    pub(super) camera: Option<Camera>,
    pub(super) shape: Shape,
    pub(super) exposure: Option<Exposure>,
    pub(super) frames: Option<Frames>,
    pub(super) backend: Option<Backend>,
    pub(super) elapsed_seconds: Option<f64>,
    pub(super) warnings: Vec<String>,
    pub(super) detection: Option<Thresholds>,
    pub(super) dark_threshold: Option<f64>,
    pub(super) model: Option<serde_json::Value>,
    pub(super) imported_from: Option<Imported>,
    pub(super) timeline: Option<Timeline>,
    pub(super) defects: Vec<PageDefect>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Shape {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) channels: u32,
    pub(super) bit_depth: u32,
    pub(super) cfa: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Exposure {
    pub(super) seconds: [f64; 2],
    pub(super) iso: [u32; 2],
    pub(super) frames: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Frames {
    pub(super) used: usize,
    pub(super) failed: usize,
    pub(super) skipped: Vec<Skipped>,
    pub(super) twins_left_out: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Skipped {
    pub(super) path: String,
    pub(super) reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Backend {
    pub(super) kind: String,
    pub(super) adapter: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Thresholds {
    pub(super) method: String,
    pub(super) threshold: f64,
    pub(super) sensitivity: f64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Imported {
    pub(super) format: String,
    pub(super) file: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Timeline {
    pub(super) windows: Vec<Window>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Window {
    pub(super) first: Sighting,
    pub(super) last: Sighting,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Sighting {
    pub(super) taken: String,
    pub(super) file: String,
    pub(super) frame: usize,
}

/// One defect as the page shows it.
#[derive(Debug, Deserialize)]
pub(super) struct PageDefect {
    pub(super) x: u32,
    pub(super) y: u32,
    #[serde(default)]
    pub(super) colour: String,
    pub(super) kind: Kind,
    #[serde(default)]
    pub(super) score: f64,
    #[serde(default)]
    pub(super) pixels: Vec<[u32; 2]>,
    #[serde(default)]
    pub(super) dark_rate: Option<f64>,
    #[serde(default)]
    pub(super) visible_from: Option<f64>,
    #[serde(default)]
    pub(super) first_seen: Option<Sighting>,
    #[serde(default)]
    pub(super) last_seen: Option<Sighting>,
    #[serde(default)]
    pub(super) appeared: Option<bool>,
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
    pub fn name(&self) -> String {
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
