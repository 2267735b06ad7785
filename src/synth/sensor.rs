//! A simulated camera for test sets: scenes (procedural, or crops of the user's photos) exposed on
//! an RGGB Bayer sensor with shot and read noise and defective photosites, then either
//! demosaicked, gamma-encoded and saved as JPEG, PNG or 16-bit TIFF, or saved as the camera's own
//! 12-bit photosites in a DNG file; with a `truth.json` of the defects.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{write_frame_jpeg_exif, Chroma, Rng};
use crate::input::exif::{Camera, CaptureTime, Exposure};
use crate::input::levels::{linear_to_srgb, srgb_to_linear};
use crate::input::{Frame, Shape};

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
}

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
    /// Offset (hot, warm) or level (stuck) as a fraction of full scale; 0 for dead.
    pub level: f64,
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

/// Colour of the RGGB photosite at `(x, y)`: 0 red, 1 green, 2 blue.
pub fn cfa_channel(x: u32, y: u32) -> u32 {
    match (x % 2, y % 2) {
        (0, 0) => 0,
        (1, 1) => 2,
        _ => 1,
    }
}

fn cfa_name(channel: u32) -> &'static str {
    ["R", "G", "B"][channel as usize]
}

/// Places the spec's defects: at least 8 pixels apart (pairs count as one place), away from the
/// outermost two rows and columns.
pub fn plant(spec: &SetSpec) -> Vec<TrueDefect> {
    let mut rng = Rng::new(spec.seed ^ 0x0D3F_EC75);
    let mut out: Vec<TrueDefect> = Vec::new();
    let mut places: Vec<(u32, u32)> = Vec::new();
    let mut free = |rng: &mut Rng| -> Option<(u32, u32)> {
        for _ in 0..10_000 {
            let x = 2 + rng.below(spec.width.saturating_sub(5).max(1) as u64) as u32;
            let y = 2 + rng.below(spec.height.saturating_sub(4).max(1) as u64) as u32;
            let far = places
                .iter()
                .all(|&(px, py)| px.abs_diff(x).max(py.abs_diff(y)) >= 8);
            if far {
                places.push((x, y));
                return Some((x, y));
            }
        }
        None
    };
    let mut add = |x: u32,
                   y: u32,
                   kind: DefectKind,
                   level: f64,
                   pair: Option<usize>,
                   onset: Option<usize>| {
        let channel = cfa_channel(x, y);
        out.push(TrueDefect {
            x,
            y,
            kind,
            cfa: cfa_name(channel).into(),
            channel,
            level,
            pair,
            onset,
        });
    };
    let plan = [
        (DefectKind::Hot, spec.hot),
        (DefectKind::Warm, spec.warm),
        (DefectKind::Stuck, spec.stuck),
        (DefectKind::Dead, spec.dead),
    ];
    for (kind, count) in plan {
        for _ in 0..count {
            let Some((x, y)) = free(&mut rng) else { break };
            let level = match kind {
                DefectKind::Hot => 0.35 + 0.65 * rng.unit(),
                DefectKind::Warm => 0.08 + 0.10 * rng.unit(),
                DefectKind::Stuck => 0.2 + 0.6 * rng.unit(),
                // The plan holds the detected kinds only.
                DefectKind::Dead | DefectKind::Listed => 0.0,
            };
            add(x, y, kind, level, None, None);
        }
    }
    for p in 0..spec.pairs {
        let Some((x, y)) = free(&mut rng) else { break };
        let (a, b) = (0.35 + 0.65 * rng.unit(), 0.35 + 0.65 * rng.unit());
        add(x, y, DefectKind::Hot, a, Some(p), None);
        add(x + 1, y, DefectKind::Hot, b, Some(p), None);
    }
    for _ in 0..spec.late_hot {
        let Some((x, y)) = free(&mut rng) else { break };
        let level = 0.35 + 0.65 * rng.unit();
        add(x, y, DefectKind::Hot, level, None, Some(spec.onset_frame()));
    }
    out
}

/// How one frame is shot: which scene, shifted how far, exposed how much.
#[derive(Clone, Copy, Debug)]
struct Shot {
    scene: u64,
    /// The scene's own offset (procedural scenes).
    ox: f64,
    oy: f64,
    /// The burst's shift of this frame, whole pixels.
    jx: f64,
    jy: f64,
    exposure: f64,
    quality: u8,
}

fn plan_shots(spec: &SetSpec) -> Vec<Shot> {
    let mut rng = Rng::new(spec.seed ^ 0x0005_4075);
    let mut shots = Vec::with_capacity(spec.frames);
    let burst_len = spec.burst_len.max(1);
    let (lo, hi) = (
        spec.quality.0.min(spec.quality.1),
        spec.quality.0.max(spec.quality.1),
    );
    while shots.len() < spec.frames {
        let scene = rng.next_u64();
        let burst = rng.unit() < spec.burst_fraction / burst_len as f64 * 2.0;
        let len = if burst { burst_len } else { 1 };
        let base = 0.5 + 1.0 * rng.unit();
        let (ox, oy) = (rng.unit() * 64.0, rng.unit() * 64.0);
        for _ in 0..len.min(spec.frames - shots.len()) {
            let under = rng.unit() < spec.underexposed;
            let exposure = if under {
                0.03 + 0.05 * rng.unit()
            } else if burst {
                base * (0.95 + 0.1 * rng.unit())
            } else {
                base
            };
            shots.push(Shot {
                scene,
                ox,
                oy,
                jx: if burst {
                    rng.below(5) as f64 - 2.0
                } else {
                    0.0
                },
                jy: if burst {
                    rng.below(5) as f64 - 2.0
                } else {
                    0.0
                },
                exposure,
                quality: lo + rng.below((hi - lo) as u64 + 1) as u8,
            });
        }
    }
    shots
}

/// A linear-light RGB image.
struct Linear {
    w: usize,
    h: usize,
    rgb: Vec<[f32; 3]>,
}

/// Scenes loaded from the user's photos, in linear light.
struct Photos(Vec<Linear>);

impl Photos {
    fn load(paths: &[PathBuf], w: u32, h: u32) -> Result<Self, SynthError> {
        let lut: Vec<f32> = (0..256).map(|v| srgb_to_linear(v as f32 / 255.0)).collect();
        let mut out = Vec::new();
        for path in paths {
            let img = image::open(path).map_err(|e| SynthError::Scene {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            // Large enough to crop a frame with room to shift; never upscaled more than needed.
            let scale = (w as f64 * 1.1 / img.width() as f64)
                .max(h as f64 * 1.1 / img.height() as f64)
                .max(1.0);
            let img = if scale > 1.0 {
                img.resize(
                    (img.width() as f64 * scale).ceil() as u32,
                    (img.height() as f64 * scale).ceil() as u32,
                    image::imageops::FilterType::CatmullRom,
                )
            } else {
                img
            };
            let rgb = img.to_rgb8();
            out.push(Linear {
                w: rgb.width() as usize,
                h: rgb.height() as usize,
                rgb: rgb
                    .pixels()
                    .map(|p| [lut[p[0] as usize], lut[p[1] as usize], lut[p[2] as usize]])
                    .collect(),
            });
        }
        if out.is_empty() {
            return Err(SynthError::Spec("no scene photos given".into()));
        }
        Ok(Photos(out))
    }
}

fn hash2(seed: u64, x: i64, y: i64) -> f32 {
    let mut z = seed
        ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
}

/// Smooth value noise in `[0, 1)` with lattice spacing `cell`.
fn value_noise(seed: u64, x: f64, y: f64, cell: f64) -> f32 {
    let (fx, fy) = (x / cell, y / cell);
    let (ix, iy) = (fx.floor() as i64, fy.floor() as i64);
    let (tx, ty) = ((fx - ix as f64) as f32, (fy - iy as f64) as f32);
    let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
    let a = hash2(seed, ix, iy);
    let b = hash2(seed, ix + 1, iy);
    let c = hash2(seed, ix, iy + 1);
    let d = hash2(seed, ix + 1, iy + 1);
    let top = a + (b - a) * sx;
    let bottom = c + (d - c) * sx;
    top + (bottom - top) * sy
}

/// A procedural outdoor scene, in linear light: sky with a gradient and a sun that clips, a
/// skyline of buildings with hard edges and lit windows, foliage texture at several scales, deep
/// shadows, and thin dark wires.
struct Procedural {
    seed: u64,
    horizon: f64,
    sun: (f64, f64, f64),
    tint: [f32; 3],
    buildings: Vec<(f64, f64, f64, [f32; 3])>,
    wires: Vec<(f64, f64)>,
}

impl Procedural {
    fn new(seed: u64, w: u32, h: u32) -> Self {
        let mut rng = Rng::new(seed);
        let (wf, hf) = (w as f64 + 128.0, h as f64 + 128.0);
        let horizon = hf * (0.25 + 0.35 * rng.unit());
        let buildings = (0..(4 + rng.below(8)))
            .map(|_| {
                let x0 = rng.unit() * wf;
                let width = wf * (0.04 + 0.15 * rng.unit());
                let top = horizon - hf * 0.3 * rng.unit();
                let g = 0.05 + 0.5 * rng.unit() as f32;
                (x0, x0 + width, top, [g * 1.05, g, g * 0.9])
            })
            .collect();
        let wires = (0..rng.below(3))
            .map(|_| (hf * 0.5 * rng.unit(), rng.unit() * 0.4 - 0.2))
            .collect();
        let tint = [
            0.8 + 0.4 * rng.unit() as f32,
            0.8 + 0.4 * rng.unit() as f32,
            0.8 + 0.4 * rng.unit() as f32,
        ];
        Procedural {
            seed,
            horizon,
            sun: (
                rng.unit() * wf,
                rng.unit() * horizon,
                6.0 + 20.0 * rng.unit(),
            ),
            tint,
            buildings,
            wires,
        }
    }

    fn at(&self, x: f64, y: f64) -> [f32; 3] {
        let s = self.seed;
        for &(y0, slope) in &self.wires {
            if (y - (y0 + slope * x)).abs() < 0.6 {
                return [0.01, 0.01, 0.012];
            }
        }
        for &(x0, x1, top, col) in &self.buildings {
            if x >= x0 && x < x1 && y >= top {
                let win = ((x - x0) / 9.0).floor() as i64 % 2 == 0
                    && ((y - top) / 13.0).floor() as i64 % 2 == 1;
                let lit = hash2(s ^ 77, (x / 9.0) as i64, (y / 13.0) as i64) > 0.7;
                let grain = 0.85 + 0.3 * value_noise(s ^ 5, x, y, 1.7);
                return if win && lit {
                    [1.4, 1.2, 0.7]
                } else if win {
                    [0.02, 0.02, 0.025]
                } else {
                    col.map(|c| c * grain)
                };
            }
        }
        if y < self.horizon {
            let (sx, sy, r) = self.sun;
            let d2 = (x - sx).powi(2) + (y - sy).powi(2);
            if d2 < r * r {
                return [8.0, 8.0, 7.0];
            }
            let t = (y / self.horizon) as f32;
            let cloud = value_noise(s ^ 11, x, y * 2.0, 40.0).powi(3) * 0.6;
            let glow = (2.0 * r * r / d2.max(1.0)) as f32;
            return [
                (0.15 + 0.25 * t + cloud + glow) * self.tint[0],
                (0.3 + 0.25 * t + cloud + glow) * self.tint[1],
                (0.65 + 0.1 * t + cloud + glow) * self.tint[2],
            ];
        }
        // Ground: foliage texture at several scales, with deep shadows.
        let fine = value_noise(s ^ 1, x, y, 1.3);
        let mid = value_noise(s ^ 2, x, y, 5.0);
        let coarse = value_noise(s ^ 3, x, y, 30.0);
        let shadow = if value_noise(s ^ 4, x, y, 80.0) < 0.3 {
            0.05
        } else {
            1.0
        };
        let v = (0.2 * fine + 0.35 * mid + 0.45 * coarse) * shadow;
        [
            (0.3 * v + 0.02 * coarse) * self.tint[0],
            0.55 * v * self.tint[1],
            0.2 * v * self.tint[2],
        ]
    }
}

enum SceneSource {
    Procedural,
    Photos(Photos),
}

/// Gaussian noise, Box–Muller.
fn gauss(rng: &mut Rng) -> f32 {
    let u1 = rng.unit().max(1e-12);
    let u2 = rng.unit();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Full-well capacity in electrons: shot noise is √(signal · FULL_WELL) electrons.
const FULL_WELL: f32 = 20_000.0;
/// Read noise, as a fraction of full scale.
const READ_NOISE: f32 = 0.0015;
/// The dark level every photosite reads with no light, as a fraction of full scale.
const DARK_LEVEL: f32 = 0.004;

/// The simulated camera's RAW files: white level (12-bit samples)...
pub const RAW_WHITE: u16 = 4095;
/// ...black level...
pub const RAW_BLACK: u16 = 256;
/// ...and masked margins `[left, top]` before the visible area (the right and bottom have none).
pub const RAW_MARGINS: [u32; 2] = [8, 4];

/// Exposes frame `index` of a set on the sensor: the RGGB mosaic in linear light (fractions of
/// full scale above black) with noise and defects, not yet clipped.
fn expose(
    spec: &SetSpec,
    shot: &Shot,
    index: usize,
    source: &SceneSource,
    defects: &[TrueDefect],
) -> Vec<f32> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut mosaic = vec![0f32; w * h];
    let procedural = Procedural::new(shot.scene, spec.width, spec.height);
    // A photo scene is a crop at a place of the photo chosen by the scene's number, mirrored for
    // odd numbers; bursts shift it by the shot's offset.
    let photo = match source {
        SceneSource::Photos(p) => {
            let img = &p.0[(shot.scene % 1_000_003) as usize % p.0.len()];
            let room_x = img.w.saturating_sub(w + 8).max(1) as u64;
            let room_y = img.h.saturating_sub(h + 8).max(1) as u64;
            let ox = ((shot.scene >> 20) % room_x) as f64 + 4.0;
            let oy = ((shot.scene >> 40) % room_y) as f64 + 4.0;
            Some((img, ox, oy, shot.scene & 1 == 1))
        }
        SceneSource::Procedural => None,
    };
    mosaic.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let mut rng = Rng::new(spec.seed ^ ((index as u64) << 32) ^ y as u64 ^ 0xA11CE);
        for (x, out) in row.iter_mut().enumerate() {
            let c = cfa_channel(x as u32, y as u32) as usize;
            let light = if spec.dark {
                0.0
            } else {
                let rgb = match photo {
                    None => {
                        procedural.at(x as f64 + shot.ox + shot.jx, y as f64 + shot.oy + shot.jy)
                    }
                    Some((img, ox, oy, mirror)) => {
                        let fx = if mirror {
                            w as f64 - 1.0 - x as f64
                        } else {
                            x as f64
                        };
                        let ix = ((fx + ox + shot.jx).max(0.0) as usize).min(img.w - 1);
                        let iy = ((y as f64 + oy + shot.jy).max(0.0) as usize).min(img.h - 1);
                        img.rgb[iy * img.w + ix]
                    }
                };
                rgb[c] * shot.exposure as f32
            };
            let signal = light.clamp(0.0, 1.0);
            let shot_noise = (signal / FULL_WELL).sqrt();
            let noisy = DARK_LEVEL
                + signal
                + gauss(&mut rng) * (shot_noise * shot_noise + READ_NOISE * READ_NOISE).sqrt();
            *out = noisy;
        }
    });
    let mut rng = Rng::new(spec.seed ^ ((index as u64) << 32) ^ 0xDA4C);
    for d in defects {
        let v = &mut mosaic[d.y as usize * w + d.x as usize];
        let present = d.onset.is_none_or(|first| index >= first);
        match d.kind {
            // Dark current is counted in electrons too: its shot noise comes with it.
            DefectKind::Hot | DefectKind::Warm => {
                let level = d.level as f32;
                let noise = gauss(&mut rng) * (level / FULL_WELL).sqrt();
                if present {
                    *v += level + noise;
                }
            }
            _ if !present => {}
            DefectKind::Stuck => *v = d.level as f32,
            DefectKind::Dead | DefectKind::Listed => *v = 0.0,
        }
    }
    mosaic
}

/// Frame `index` as linear RGB after the sensor: [`expose`], clipping and bilinear demosaicking.
fn render(
    spec: &SetSpec,
    shot: &Shot,
    index: usize,
    source: &SceneSource,
    defects: &[TrueDefect],
) -> Vec<[f32; 3]> {
    let mut mosaic = expose(spec, shot, index, source, defects);
    mosaic.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    demosaic(&mosaic, spec.width as usize, spec.height as usize)
}

/// Frame `index` as the DNG file stores it: [`expose`] in 12-bit raw numbers above
/// [`RAW_BLACK`], clipped at 0 and [`RAW_WHITE`], inside masked margins that read black plus
/// read noise.
fn raw_frame(
    spec: &SetSpec,
    shot: &Shot,
    index: usize,
    source: &SceneSource,
    defects: &[TrueDefect],
) -> Vec<u16> {
    let mosaic = expose(spec, shot, index, source, defects);
    let (w, h) = (spec.width as usize, spec.height as usize);
    let [left, top] = RAW_MARGINS.map(|m| m as usize);
    let stored_w = w + left;
    let range = (RAW_WHITE - RAW_BLACK) as f32;
    let to_raw = |v: f32| {
        (RAW_BLACK as f32 + v * range)
            .round()
            .clamp(0.0, RAW_WHITE as f32) as u16
    };
    let mut rng = Rng::new(spec.seed ^ ((index as u64) << 32) ^ 0xB1AC);
    let mut out = Vec::with_capacity(stored_w * (h + top));
    for y in 0..h + top {
        for x in 0..stored_w {
            out.push(if x < left || y < top {
                to_raw(gauss(&mut rng) * READ_NOISE)
            } else {
                to_raw(mosaic[(y - top) * w + x - left])
            });
        }
    }
    out
}

/// How the simulated camera's DNG files of `spec` are laid out.
pub fn dng_layout(spec: &SetSpec) -> super::dng::DngLayout {
    let [left, top] = RAW_MARGINS;
    super::dng::DngLayout {
        stored: [spec.width + left, spec.height + top],
        origin: RAW_MARGINS,
        visible: [spec.width, spec.height],
        // The visible area is RGGB (a DNG's pattern starts at its active area).
        cfa_size: [2, 2],
        cfa: vec![0, 1, 1, 2],
        black: RAW_BLACK,
        white: RAW_WHITE,
        make: spec
            .camera
            .as_ref()
            .map_or("hotpixels".into(), |c| c.make.clone()),
        model: spec
            .camera
            .as_ref()
            .map_or("Simulated 12-bit RGGB".into(), |c| c.model.clone()),
        serial: spec.camera.as_ref().and_then(|c| c.serial.clone()),
        taken: None,
        exposure: Exposure::default(),
    }
}

/// Bilinear demosaicking of an RGGB mosaic.
fn demosaic(m: &[f32], w: usize, h: usize) -> Vec<[f32; 3]> {
    let mut out = vec![[0f32; 3]; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let at = |x: isize, y: isize| -> f32 {
            let xx = crate::geometry::reflect(x, w);
            let yy = crate::geometry::reflect(y, h);
            m[yy * w + xx]
        };
        for (x, px) in row.iter_mut().enumerate() {
            let (xi, yi) = (x as isize, y as isize);
            let c = cfa_channel(x as u32, y as u32);
            let cross = (at(xi - 1, yi) + at(xi + 1, yi) + at(xi, yi - 1) + at(xi, yi + 1)) * 0.25;
            let diag =
                (at(xi - 1, yi - 1) + at(xi + 1, yi - 1) + at(xi - 1, yi + 1) + at(xi + 1, yi + 1))
                    * 0.25;
            let horiz = (at(xi - 1, yi) + at(xi + 1, yi)) * 0.5;
            let vert = (at(xi, yi - 1) + at(xi, yi + 1)) * 0.5;
            let here = at(xi, yi);
            *px = match c {
                0 => [here, cross, diag],
                2 => [diag, cross, here],
                // Green on a red row: red left/right, blue above/below; on a blue row the reverse.
                _ if y % 2 == 0 => [horiz, here, vert],
                _ => [vert, here, horiz],
            };
        }
    });
    out
}

/// Writes the set described by `spec` into `dir` (created if missing; existing frames of the same
/// names are refused): the frames and `truth.json`. Returns the truth.
pub fn write_set(spec: &SetSpec, dir: &Path) -> Result<Truth, SynthError> {
    if spec.width < 8 || spec.height < 8 || spec.frames == 0 {
        return Err(SynthError::Spec(
            "a set needs at least 8x8 pixels and one frame".into(),
        ));
    }
    if !spec.width.is_multiple_of(2) || !spec.height.is_multiple_of(2) {
        return Err(SynthError::Spec(format!(
            "{}x{}: the simulated RGGB sensor needs an even width and height",
            spec.width, spec.height
        )));
    }
    if spec.camera.is_some() && !matches!(spec.format, SetFormat::Jpeg | SetFormat::Dng) {
        return Err(SynthError::Spec(
            "a camera is written into JPEG and DNG files only".into(),
        ));
    }
    if !(0.0..=1.0).contains(&spec.onset) {
        return Err(SynthError::Spec(format!(
            "onset {}: a fraction of the frames, between 0 and 1",
            spec.onset
        )));
    }
    if spec.format == SetFormat::Jpeg && (spec.width > 65_535 || spec.height > 65_535) {
        return Err(SynthError::Spec(
            "JPEG frames are at most 65535 pixels a side".into(),
        ));
    }
    let write_err = |path: &Path, e: &dyn std::fmt::Display| SynthError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, &e))?;
    let ext = match spec.format {
        SetFormat::Jpeg => "jpg",
        SetFormat::Png => "png",
        SetFormat::Tiff => "tif",
        SetFormat::Dng => "dng",
    };
    let names: Vec<String> = (0..spec.frames)
        .map(|i| format!("frame_{:04}.{ext}", i + 1))
        .collect();
    for name in names
        .iter()
        .chain(std::iter::once(&"truth.json".to_string()))
    {
        let path = dir.join(name);
        if path.exists() {
            return Err(write_err(&path, &"already exists (choose an empty folder)"));
        }
    }
    let source = if spec.scenes.is_empty() {
        SceneSource::Procedural
    } else {
        SceneSource::Photos(Photos::load(&spec.scenes, spec.width, spec.height)?)
    };
    let defects = plant(spec);
    let shots = plan_shots(spec);
    let shape = Shape::new(spec.width, spec.height, 3, 8).expect("valid shape");
    let lut = Lut8::new();
    // Frames are rendered one at a time (each render is parallel inside), so memory stays small.
    for (i, shot) in shots.iter().enumerate() {
        let path = dir.join(&names[i]);
        let camera = spec.camera.as_ref().map(|c| (c, spec.taken(i)));
        let exposure = Exposure {
            seconds: Some(if spec.dark {
                DARK_SECONDS
            } else {
                PHOTO_SECONDS * shot.exposure
            }),
            iso: Some(spec.iso),
        };
        if spec.format == SetFormat::Dng {
            let samples = raw_frame(spec, shot, i, &source, &defects);
            let file = std::fs::File::create(&path).map_err(|e| write_err(&path, &e))?;
            let layout = super::dng::DngLayout {
                taken: camera.map(|(_, t)| t),
                exposure: if camera.is_some() {
                    exposure
                } else {
                    Exposure::default()
                },
                ..dng_layout(spec)
            };
            super::dng::write_dng(std::io::BufWriter::new(file), &layout, &samples)
                .map_err(|e| write_err(&path, &e))?;
            continue;
        }
        let rgb = render(spec, shot, i, &source, &defects);
        match spec.format {
            SetFormat::Jpeg | SetFormat::Png => {
                let data: Vec<u8> = rgb.iter().flat_map(|p| p.map(|v| lut.encode(v))).collect();
                let frame = Frame::from_u8(shape, data).expect("frame matches its shape");
                if spec.format == SetFormat::Jpeg {
                    let exif = camera.map(|(c, t)| super::exif_block(c, t, exposure));
                    write_frame_jpeg_exif(
                        &frame,
                        &path,
                        shot.quality,
                        spec.chroma,
                        exif.as_deref(),
                    )
                    .map_err(|e| write_err(&path, &e))?;
                } else {
                    super::write_frame_png(&frame, &path).map_err(|e| write_err(&path, &e))?;
                }
            }
            SetFormat::Tiff => {
                let data: Vec<u16> = rgb
                    .iter()
                    .flat_map(|p| p.map(|v| (linear_to_srgb(v) * 65535.0).round() as u16))
                    .collect();
                let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(
                    spec.width,
                    spec.height,
                    data,
                )
                .expect("buffer matches its size");
                img.save(&path).map_err(|e| write_err(&path, &e))?;
            }
            SetFormat::Dng => unreachable!("written above"),
        }
    }
    let truth = Truth {
        width: spec.width,
        height: spec.height,
        files: names,
        dark: spec.dark,
        defects,
        camera: spec.camera.clone(),
        taken: match spec.camera {
            Some(_) => (0..spec.frames).map(|i| spec.taken(i)).collect(),
            None => Vec::new(),
        },
    };
    let path = dir.join("truth.json");
    let json = serde_json::to_string_pretty(&truth).expect("truth serialises");
    std::fs::write(&path, json + "\n").map_err(|e| write_err(&path, &e))?;
    Ok(truth)
}

/// Linear light to 8-bit sRGB through a 4096-entry table.
struct Lut8(Vec<u8>);

impl Lut8 {
    fn new() -> Self {
        Lut8(
            (0..4096)
                .map(|i| (linear_to_srgb(i as f32 / 4095.0) * 255.0).round() as u8)
                .collect(),
        )
    }

    fn encode(&self, v: f32) -> u8 {
        self.0[(v.clamp(0.0, 1.0) * 4095.0).round() as usize]
    }
}
