//! The simulated camera's sensor: a scene exposed on an RGGB Bayer mosaic with shot and read
//! noise and defective photosites, then either demosaicked for an image file or stored as the
//! camera's own 12-bit photosites (DNG).

use rayon::prelude::*;

use super::scene::{Procedural, SceneSource};
use super::spec::{DefectKind, SetSpec, Shot, TrueDefect, DARK_CONSTANT};
use super::Rng;
use crate::input::exif::Exposure;
use crate::input::levels::linear_to_srgb;

/// Colour of the RGGB photosite at `(x, y)`: 0 red, 1 green, 2 blue.
pub fn cfa_channel(x: u32, y: u32) -> u32 {
    match (x % 2, y % 2) {
        (0, 0) => 0,
        (1, 1) => 2,
        _ => 1,
    }
}

pub(super) fn cfa_name(channel: u32) -> &'static str {
    ["R", "G", "B"][channel as usize]
}

/// Gaussian noise, Box–Muller.
fn gauss(rng: &mut Rng) -> f32 {
    let u1 = rng.unit().max(1e-12);
    let u2 = rng.unit();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Full-well capacity in electrons: shot noise is √(signal · FULL_WELL) electrons.
const FULL_WELL: f32 = 20_000.0;
/// Read noise, as a fraction of full scale, at ISO 100.
const READ_NOISE: f32 = 0.0015;
/// Read noise grows with the gain to this power: part of it comes before the amplifier, part
/// after.
const READ_NOISE_GAIN_POWER: f32 = 0.6;
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
    // Noise grows with the ISO only where the set's exposures say it (the others keep their
    // numbers).
    let gain = if spec.exposures {
        shot.gain() as f32
    } else {
        1.0
    };
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
            // At a higher ISO the same signal is fewer electrons, amplified more.
            let shot_noise = (signal * gain / FULL_WELL).sqrt();
            let read_noise = READ_NOISE * gain.powf(READ_NOISE_GAIN_POWER);
            let noisy = DARK_LEVEL
                + signal
                + gauss(&mut rng) * (shot_noise * shot_noise + read_noise * read_noise).sqrt();
            *out = noisy;
        }
    });
    let mut rng = Rng::new(spec.seed ^ ((index as u64) << 32) ^ 0xDA4C);
    for d in defects {
        let v = &mut mosaic[d.y as usize * w + d.x as usize];
        let present = d.onset.is_none_or(|first| index >= first);
        match d.kind {
            // Dark current is counted in electrons too: its shot noise comes with it. With the
            // set's exposures it grows with exposure time × ISO.
            DefectKind::Hot | DefectKind::Warm => {
                let level = match d.rate {
                    Some(rate) => (rate * shot.dark_exposure() + DARK_CONSTANT) as f32,
                    None => d.level as f32,
                };
                let noise = gauss(&mut rng) * (level * gain / FULL_WELL).sqrt();
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
pub(super) fn render(
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
pub(super) fn raw_frame(
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

/// Linear light to 8-bit sRGB through a 4096-entry table.
pub(super) struct Lut8(Vec<u8>);

impl Lut8 {
    pub(super) fn new() -> Self {
        Lut8(
            (0..4096)
                .map(|i| (linear_to_srgb(i as f32 / 4095.0) * 255.0).round() as u8)
                .collect(),
        )
    }

    pub(super) fn encode(&self, v: f32) -> u8 {
        self.0[(v.clamp(0.0, 1.0) * 4095.0).round() as usize]
    }
}
