//! The simulated camera's scenes, in linear light: a procedural outdoor scene (sky, a sun that
//! clips, a skyline with lit windows, foliage, shadows and wires), or crops of the user's photos.

use std::path::PathBuf;

use super::spec::SynthError;
use super::Rng;
use crate::input::levels::srgb_to_linear;

/// A linear-light RGB image.
pub(super) struct Linear {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) rgb: Vec<[f32; 3]>,
}

/// Scenes loaded from the user's photos, in linear light.
pub(super) struct Photos(pub(super) Vec<Linear>);

impl Photos {
    pub(super) fn load(paths: &[PathBuf], w: u32, h: u32) -> Result<Self, SynthError> {
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
pub(super) struct Procedural {
    seed: u64,
    horizon: f64,
    sun: (f64, f64, f64),
    tint: [f32; 3],
    buildings: Vec<(f64, f64, f64, [f32; 3])>,
    wires: Vec<(f64, f64)>,
}

impl Procedural {
    pub(super) fn new(seed: u64, w: u32, h: u32) -> Self {
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

    pub(super) fn at(&self, x: f64, y: f64) -> [f32; 3] {
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

pub(super) enum SceneSource {
    Procedural,
    Photos(Photos),
}
