//! The defect list other tools read: every pixel (or RAW photosite) of every defect with its kind,
//! built from a scan or read back from a JSON report, and the [`ListExporter`] interface of the
//! formats that write it (dcraw, RawTherapee, Siril, CSV).

use serde::{Deserialize, Serialize};

use super::readback::{check_defect, ReadLimits};
use super::Exporter;
use crate::detect::dark::AtExposure;
use crate::detect::{DarkCurrent, Kind};
use crate::input::exif::Camera;
use crate::input::{Cfa, Colour, Shape};
use crate::model::ScanReport;

/// One pixel of a defect, as the list formats write it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedPixel {
    /// The defect's number in the report (1 = strongest).
    pub defect: usize,
    /// Column: an image pixel, or a photosite of a RAW frame's visible area.
    pub x: u32,
    /// Row, counted the same way.
    pub y: u32,
    /// The channel of the defect's strongest subpixel (0 for RAW).
    pub channel: u32,
    /// The colour of this pixel in that channel, or the filter over this photosite.
    pub colour: Colour,
    /// The defect's kind.
    pub kind: Kind,
    /// The defect's score (negative when darker than expected).
    pub score: f32,
    /// How the defect grows with the exposure, when it is a dark current.
    pub dark: Option<DarkCurrent>,
}

/// The defects of one scan as a list of pixels, with what the formats say about where they come
/// from.
#[derive(Clone, Debug, PartialEq)]
pub struct DefectList {
    /// The frame shape (a RAW shape has its colour filter pattern).
    pub shape: Shape,
    /// The camera the frames come from, when known (EXIF, or the RAW decoder).
    pub camera: Option<Camera>,
    /// Every pixel of every defect, defect by defect, its photosite first; a pixel is
    /// listed once (the first defect that holds it).
    pub pixels: Vec<ListedPixel>,
}

impl DefectList {
    /// The list of a finished scan.
    pub fn of(report: &ScanReport) -> Self {
        let defects = report.detection.defects.iter().map(|d| Listed {
            channel: d.channel,
            kind: d.kind,
            score: d.score,
            dark: d.dark,
            pixels: d.pixels.clone(),
        });
        Self::build(report.shape, report.camera.clone(), defects)
    }

    /// The list of a JSON report written by `hotpixels scan --json` (of one camera).
    pub fn from_json(text: &str) -> Result<Self, String> {
        Self::from_json_for(text, None)
    }

    /// The list of a JSON report written by `hotpixels scan --json`; of a library's document,
    /// the group of `camera` ([`super::json::one_report`]); within the default [`ReadLimits`].
    pub fn from_json_for(text: &str, camera: Option<&str>) -> Result<Self, String> {
        Self::from_json_within(text, camera, &ReadLimits::default())
    }

    /// [`DefectList::from_json_for`] within `limits`.
    pub fn from_json_within(
        text: &str,
        camera: Option<&str>,
        limits: &ReadLimits,
    ) -> Result<Self, String> {
        Self::checked_report(text, camera, limits).map(|(_, list)| list)
    }

    /// The report of [`DefectList::from_json_within`] (one camera's, as a JSON value) with its
    /// list, checked within `limits`.
    pub fn checked_report(
        text: &str,
        camera: Option<&str>,
        limits: &ReadLimits,
    ) -> Result<(serde_json::Value, Self), String> {
        let report = super::json::one_report(super::json::parse(text)?, camera)?;
        let list = Self::from_report(&report, limits)?;
        Ok((report, list))
    }

    /// The lists of every camera of a JSON report: one for a report of one camera, one per
    /// camera group of a library's document ([`super::json::reports`]); within `limits`.
    pub fn all_from_json(text: &str, limits: &ReadLimits) -> Result<Vec<Self>, String> {
        let doc = super::json::parse(text)?;
        Ok(Self::checked_reports(doc, limits)?
            .into_iter()
            .map(|(_, list)| list)
            .collect())
    }

    /// Every version-1 report of `doc` ([`super::json::reports`]) with its list, each checked
    /// within `limits` ([`DefectList::from_report`]; a library's errors name the group).
    pub fn checked_reports(
        doc: serde_json::Value,
        limits: &ReadLimits,
    ) -> Result<Vec<(serde_json::Value, Self)>, String> {
        let library = doc.get("groups").is_some();
        super::json::reports(doc)?
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let list = Self::from_report(&r, limits).map_err(|e| match library {
                    true => format!("group {}: {e}", i + 1),
                    false => e,
                })?;
                Ok((r, list))
            })
            .collect()
    }

    /// The list of one camera's report (version 1), as a JSON value, checked against `limits`
    /// and its own shape before anything is sized by it ([`super::readback`]).
    pub fn from_report(report: &serde_json::Value, limits: &ReadLimits) -> Result<Self, String> {
        let doc = JsonReport::deserialize(report)
            .map_err(|e| format!("not a hotpixels JSON report: {e}"))?;
        let s = doc.shape;
        let mut shape = Shape::new(s.width, s.height, s.channels, s.bit_depth)
            .map_err(|e| format!("shape: {e}"))?;
        if let Some(cfa) = s.cfa {
            shape = Shape::raw(s.width, s.height, Cfa::parse(&cfa)?)
                .map_err(|e| format!("shape: {e}"))?;
        }
        limits.check_shape(shape)?;
        if doc.defects.len() > shape.pixels() {
            return Err(format!(
                "defects: {}, more than the frame's {} pixels",
                doc.defects.len(),
                shape.pixels()
            ));
        }
        let defects = doc
            .defects
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let d = JsonDefect::deserialize(v).map_err(|e| format!("defect {}: {e}", i + 1))?;
                let at = d.x.zip(d.y).map(|(x, y)| [x, y]);
                check_defect(i + 1, shape, d.channel, at, &d.pixels)?;
                Ok(d)
            })
            .collect::<Result<Vec<_>, String>>()?;
        let camera = doc.camera.map(JsonCamera::into_camera).or_else(|| {
            s.make
                .zip(s.model)
                .map(|(make, model)| Camera::from_exif(&make, &model, None))
        });
        let defects = defects.into_iter().map(|d| Listed {
            channel: d.channel,
            kind: d.kind,
            score: d.score,
            dark: d.dark,
            pixels: d.pixels,
        });
        Ok(Self::build(shape, camera, defects))
    }

    /// The list of `defects` for frames of `shape`. A pixel outside the frame is left out, and a
    /// pixel held by two defects is listed with the first.
    pub(crate) fn build(
        shape: Shape,
        camera: Option<Camera>,
        defects: impl Iterator<Item = Listed>,
    ) -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut pixels = Vec::new();
        for (n, d) in defects.enumerate() {
            for &[x, y] in &d.pixels {
                if x < shape.width && y < shape.height && seen.insert((x, y)) {
                    pixels.push(ListedPixel {
                        defect: n + 1,
                        x,
                        y,
                        channel: d.channel,
                        colour: shape.colour(x, y, d.channel),
                        kind: d.kind,
                        score: d.score,
                        dark: d.dark,
                    });
                }
            }
        }
        DefectList {
            shape,
            camera,
            pixels,
        }
    }

    /// The list as a JSON report that `export`, `repair` and [`DefectList::from_json`] read: the
    /// shape (with the camera), and one defect per listed defect — its first pixel, its kind,
    /// score and pixels — under `imported_from` (the format and file it was read from).
    pub fn to_json(&self, format: &str, file: &str) -> String {
        #[derive(Serialize)]
        struct Source<'a> {
            format: &'a str,
            file: &'a str,
        }
        #[derive(Serialize)]
        struct Entry {
            x: u32,
            y: u32,
            channel: u32,
            colour: Colour,
            kind: Kind,
            score: f32,
            #[serde(flatten)]
            dark: Option<DarkCurrent>,
            pixels: Vec<[u32; 2]>,
        }
        #[derive(Serialize)]
        struct Doc<'a> {
            version: u32,
            tool: String,
            imported_from: Source<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            camera: Option<&'a Camera>,
            shape: JsonShape,
            defects: Vec<Entry>,
        }
        let mut defects: Vec<Entry> = Vec::new();
        let mut last = None;
        for p in &self.pixels {
            match defects.last_mut() {
                Some(d) if last == Some(p.defect) => d.pixels.push([p.x, p.y]),
                _ => defects.push(Entry {
                    x: p.x,
                    y: p.y,
                    channel: p.channel,
                    colour: p.colour,
                    kind: p.kind,
                    score: p.score,
                    dark: p.dark,
                    pixels: vec![[p.x, p.y]],
                }),
            }
            last = Some(p.defect);
        }
        let s = self.shape;
        let doc = Doc {
            version: super::json::VERSION,
            tool: crate::tool_name(),
            imported_from: Source { format, file },
            camera: self.camera.as_ref(),
            shape: JsonShape {
                width: s.width,
                height: s.height,
                channels: s.channels,
                bit_depth: s.bit_depth,
                cfa: s.cfa.map(|c| c.to_string()),
                make: None,
                model: None,
            },
            defects,
        };
        let mut text = serde_json::to_string_pretty(&doc).expect("list serialises");
        text.push('\n');
        text
    }

    /// Keeps the pixels of defects of the given kinds only.
    pub fn retain_kinds(&mut self, kinds: &[Kind]) {
        self.pixels.retain(|p| kinds.contains(&p.kind));
    }

    /// Keeps the pixels of defects that show at `at` only ([`AtExposure::shows`]).
    pub fn retain_shown_at(&mut self, at: &AtExposure) {
        self.pixels.retain(|p| at.shows(p.dark.as_ref()));
    }

    /// What the coordinates count, for the files' comments.
    pub fn coordinates(&self) -> &'static str {
        if self.shape.cfa.is_some() {
            "photosites of the visible area (raw frame minus LibRaw's left/top margins, unrotated), 0-based"
        } else {
            "image pixels as stored in the file (EXIF orientation not applied), 0-based"
        }
    }

    /// `Make Model` (and the serial number, when known), for the files' comments.
    pub fn camera_name(&self) -> Option<String> {
        self.camera.as_ref().map(|c| match &c.serial {
            Some(serial) => format!("{} (serial number {serial})", c.name()),
            None => c.name(),
        })
    }
}

/// A defect as the list needs it.
pub(crate) struct Listed {
    pub(crate) channel: u32,
    pub(crate) kind: Kind,
    pub(crate) score: f32,
    pub(crate) dark: Option<DarkCurrent>,
    pub(crate) pixels: Vec<[u32; 2]>,
}

#[derive(Deserialize, Serialize)]
struct JsonShape {
    width: u32,
    height: u32,
    channels: u32,
    bit_depth: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cfa: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
}

#[derive(Deserialize)]
struct JsonDefect {
    #[serde(default)]
    x: Option<u32>,
    #[serde(default)]
    y: Option<u32>,
    channel: u32,
    kind: Kind,
    score: f32,
    #[serde(flatten)]
    dark: Option<DarkCurrent>,
    pixels: Vec<[u32; 2]>,
}

#[derive(Deserialize)]
struct JsonCamera {
    make: String,
    model: String,
    #[serde(default)]
    serial: Option<String>,
}

impl JsonCamera {
    fn into_camera(self) -> Camera {
        Camera {
            make: self.make,
            model: self.model,
            serial: self.serial,
        }
    }
}

#[derive(Deserialize)]
struct JsonReport {
    #[serde(default)]
    camera: Option<JsonCamera>,
    shape: JsonShape,
    defects: Vec<serde_json::Value>,
}

/// Turns a defect list into the bytes of one format. Every list format is an [`Exporter`] too:
/// of a scan, it writes the scan's [`DefectList`].
pub trait ListExporter: Sync {
    /// The whole file for `list`.
    fn render_list(&self, list: &DefectList) -> Vec<u8>;
}

impl<T: ListExporter> Exporter for T {
    fn render(&self, report: &ScanReport) -> Vec<u8> {
        self.render_list(&DefectList::of(report))
    }
}

/// The comment lines every list format that allows comments starts with: the tool, the camera,
/// and what the coordinates count.
pub fn header_comments(list: &DefectList, format: &str) -> String {
    let mut s = format!("# {format} written by {}\n", crate::tool_name());
    if let Some(camera) = list.camera_name() {
        s += &format!("# camera: {camera}\n");
    }
    s += &format!("# coordinates: {}\n", list.coordinates());
    s += &format!("# {} pixels\n", list.pixels.len());
    s
}
