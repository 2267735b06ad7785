//! What a synthetic set is made of: its [`SetSpec`] (size, frames, format, defects, shooting
//! conditions), how each frame is shot, the defects planted ([`TrueDefect`]) and `truth.json`
//! ([`Truth`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Chroma;
use crate::input::exif::{Camera, CaptureTime};

/// The file format of a synthetic set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetFormat {
    /// Baseline JPEG, quality drawn per frame from the set's range.
    Jpeg,
    /// 8-bit RGB PNG.
    Png,
    /// 16-bit RGB TIFF.
    Tiff,
    /// The photosites themselves: a 12-bit RGGB DNG with masked margins.
    Dng,
}

pub use crate::detect::Kind as DefectKind;

/// How to make a set: size, frames, format, defects and shooting conditions.
#[derive(Clone, Debug)]
pub struct SetSpec {
    /// Image width in pixels (even).
    pub width: u32,
    /// Image height in pixels (even).
    pub height: u32,
    /// Number of frames.
    pub frames: usize,
    /// File format.
    pub format: SetFormat,
    /// JPEG quality range (inclusive), drawn per frame.
    pub quality: (u8, u8),
    /// JPEG chroma subsampling.
    pub chroma: Chroma,
    /// Hot photosites.
    pub hot: usize,
    /// Warm photosites.
    pub warm: usize,
    /// Stuck photosites.
    pub stuck: usize,
    /// Dead photosites.
    pub dead: usize,
    /// Pairs of adjacent hot photosites.
    pub pairs: usize,
    /// Fraction of frames that belong to bursts of near-identical shots with small shifts.
    pub burst_fraction: f64,
    /// Frames per burst.
    pub burst_len: usize,
    /// Fraction of frames exposed 3–8 % of normal.
    pub underexposed: f64,
    /// Dark frames (lens cap on): no scene light at all.
    pub dark: bool,
    /// The ISO setting written with a camera ([`SetSpec::camera`]).
    pub iso: u32,
    /// Photos to take scenes from; procedural scenes when empty.
    pub scenes: Vec<PathBuf>,
    /// Seed of everything random.
    pub seed: u64,
    /// The camera every file names (EXIF in JPEG, tags in DNG), with each frame's capture time;
    /// files name no camera when `None`.
    pub camera: Option<Camera>,
    /// When the first frame was taken; the others follow evenly over `period`.
    pub start: CaptureTime,
    /// Seconds from the first frame's capture time to the last's.
    pub period: i64,
    /// Hot photosites that appear only from frame `onset × frames` on (sensors gain hot pixels
    /// as they age).
    pub late_hot: usize,
    /// When the late hot photosites appear, as a fraction of the frames.
    pub onset: f64,
    /// Every frame exposed as a photo library's are ([`LIBRARY_MIX`]; dark frames: at times from
    /// [`DARK_TIMES`] at `iso`), its exposure time and ISO written (JPEG EXIF, DNG tags), and the
    /// hot and warm photosites dark current: their offset grows with exposure time × ISO.
    pub exposures: bool,
}

/// One kind of shot of a photo library: its share of the frames, its exposure times (seconds, a
/// range drawn log-uniformly), its ISO settings, and how bright its scenes are (a range of the
/// scene's exposure, 1 being a well-exposed day scene).
#[derive(Clone, Copy, Debug)]
pub struct ShotKind {
    /// Share of the frames.
    pub share: f64,
    /// Exposure times, seconds.
    pub seconds: (f64, f64),
    /// ISO settings, one drawn per shot.
    pub iso: &'static [u32],
    /// Scene brightness.
    pub brightness: (f64, f64),
}

/// How a photo library's frames are exposed: mostly short daylight exposures, some indoor ones at
/// high ISO, a few long night ones of darker scenes.
pub const LIBRARY_MIX: [ShotKind; 3] = [
    ShotKind {
        share: 0.7,
        seconds: (1.0 / 2000.0, 1.0 / 60.0),
        iso: &[100, 200, 400],
        brightness: (0.5, 1.5),
    },
    ShotKind {
        share: 0.2,
        seconds: (1.0 / 60.0, 1.0 / 4.0),
        iso: &[800, 1600, 3200],
        brightness: (0.4, 1.0),
    },
    ShotKind {
        share: 0.1,
        seconds: (0.5, 30.0),
        iso: &[100, 200, 400, 800, 1600],
        brightness: (0.1, 0.4),
    },
];

/// Exposure times of dark frames with [`SetSpec::exposures`] (seconds, drawn log-uniformly).
pub const DARK_TIMES: (f64, f64) = (1.0 / 60.0, 30.0);

/// The exposure at which a dark-current photosite's planted `level` is its offset (and at which
/// hot is told from warm): 1 s at ISO 800, i.e. 8 s at ISO 100.
pub const REFERENCE_EXPOSURE: f64 = 8.0;

/// The constant part of a dark-current photosite's offset (fraction of full scale), beside the
/// part that grows with the exposure.
pub const DARK_CONSTANT: f64 = 0.002;

/// The first capture time of a set unless told otherwise: 2024-01-01 00:00:00.
pub const DEFAULT_START_SECONDS: i64 = 1_704_067_200;
/// The period a set's capture times span unless told otherwise: 365 days.
pub const DEFAULT_PERIOD_SECONDS: i64 = 365 * 86_400;
/// When late hot photosites appear unless told otherwise: at 80 % of the frames.
pub const DEFAULT_ONSET: f64 = 0.8;

/// ISO setting of a set unless told.
pub const DEFAULT_ISO: u32 = 100;
/// Exposure time, seconds, written for a photo exposed 1× (the shots' exposures scale it).
pub const PHOTO_SECONDS: f64 = 1.0 / 125.0;
/// Exposure time, seconds, written for a dark frame.
pub const DARK_SECONDS: f64 = 30.0;

impl Default for SetSpec {
    fn default() -> Self {
        SetSpec {
            width: 1024,
            height: 768,
            frames: 60,
            format: SetFormat::Jpeg,
            quality: (85, 92),
            chroma: Chroma::Sub420,
            hot: 10,
            warm: 10,
            stuck: 5,
            dead: 5,
            pairs: 3,
            burst_fraction: 0.3,
            burst_len: 5,
            underexposed: 0.15,
            dark: false,
            scenes: Vec::new(),
            seed: 1,
            camera: None,
            start: CaptureTime::from_seconds(DEFAULT_START_SECONDS),
            period: DEFAULT_PERIOD_SECONDS,
            late_hot: 0,
            iso: DEFAULT_ISO,
            onset: DEFAULT_ONSET,
            exposures: false,
        }
    }
}

impl SetSpec {
    /// Capture time of frame `index`: the frames spread evenly from `start` over `period`.
    pub fn taken(&self, index: usize) -> CaptureTime {
        let step = self.period / (self.frames.max(2) as i64 - 1);
        CaptureTime::from_seconds(self.start.seconds() + step * index as i64)
    }

    /// The first frame (0-based) in which the late hot photosites are present.
    pub fn onset_frame(&self) -> usize {
        ((self.onset * self.frames as f64).round() as usize).min(self.frames)
    }
}

/// One defective photosite, in image coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueDefect {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Its kind.
    pub kind: DefectKind,
    /// The photosite's colour in the RGGB mosaic: `R`, `G` or `B`.
    pub cfa: String,
    /// The RGB channel that colour lands in (0, 1, 2).
    pub channel: u32,
    /// Offset (hot, warm) or level (stuck) as a fraction of full scale; 0 for dead. A
    /// dark-current photosite's offset at [`REFERENCE_EXPOSURE`].
    pub level: f64,
    /// For a dark-current photosite (a set with [`SetSpec::exposures`]): its offset's growth, in
    /// fractions of full scale per second at ISO 100 (linear light); the offset is
    /// `rate × seconds × ISO / 100 + `[`DARK_CONSTANT`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rate: Option<f64>,
    /// For the two photosites of an adjacent pair, the pair's number.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pair: Option<usize>,
    /// For a photosite that turned bad during the set: the first frame (0-based) it is bad in.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub onset: Option<usize>,
}

/// What `truth.json` holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Truth {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// The files written, in order.
    pub files: Vec<String>,
    /// Whether the set is dark frames.
    pub dark: bool,
    /// The defects, in image coordinates.
    pub defects: Vec<TrueDefect>,
    /// The camera the files name, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub camera: Option<Camera>,
    /// Each file's capture time, when the files name a camera.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub taken: Vec<CaptureTime>,
    /// Each file's exposure time (seconds) and ISO setting, for a set with
    /// [`SetSpec::exposures`].
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub exposures: Vec<(f64, u32)>,
}

/// Errors of the set writer.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// A scene photo could not be read.
    #[error("{path}: cannot use as a scene: {reason}")]
    Scene {
        /// The photo.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file could not be written.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The spec is unusable.
    #[error("{0}")]
    Spec(String),
}

/// How one frame is shot: which scene, shifted how far, exposed how much.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shot {
    pub(super) scene: u64,
    /// The scene's own offset (procedural scenes).
    pub(super) ox: f64,
    pub(super) oy: f64,
    /// The burst's shift of this frame, whole pixels.
    pub(super) jx: f64,
    pub(super) jy: f64,
    /// The scene's brightness (1: a well-exposed day scene).
    pub(super) exposure: f64,
    /// Exposure time (seconds) and ISO setting.
    pub(super) seconds: f64,
    pub(super) iso: u32,
    pub(super) quality: u8,
}

impl Shot {
    /// Exposure time × ISO / 100: what a dark-current offset grows with.
    pub(super) fn dark_exposure(&self) -> f64 {
        self.seconds * self.iso as f64 / 100.0
    }

    /// The sensor's gain against ISO 100: what its noise grows with.
    pub(super) fn gain(&self) -> f64 {
        self.iso as f64 / 100.0
    }
}
