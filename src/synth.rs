//! Synthetic frames with known defects: a small deterministic generator used by `demo`, the tests
//! and the benchmarks.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::input::{Frame, Samples, Shape};

/// A small, fast, deterministic random generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `[0, n)`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// A defect planted in a synthetic set: a subpixel that always reads `value`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Planted {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Channel.
    pub channel: u32,
    /// The constant value it reads.
    pub value: u32,
    /// `hot` (full scale), `dead` (0) or `stuck` (anything else).
    pub kind: &'static str,
}

/// A reproducible set of frames: smooth varying scenes with noise, and planted constant subpixels.
#[derive(Clone, Debug)]
pub struct SyntheticSet {
    /// Shape of every frame.
    pub shape: Shape,
    /// Number of frames.
    pub frames: usize,
    /// Seed of the whole set.
    pub seed: u64,
    /// The planted defects.
    pub planted: Vec<Planted>,
}

impl SyntheticSet {
    /// A set with `defects` planted subpixels at random distinct positions away from the border.
    pub fn new(shape: Shape, frames: usize, defects: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
        let max = shape.max_value();
        let mut planted: Vec<Planted> = Vec::new();
        let margin = 2.min(shape.width / 4).min(shape.height / 4);
        let mut tries = 0;
        while planted.len() < defects && tries < defects * 100 + 100 {
            tries += 1;
            let x = margin + rng.below((shape.width - 2 * margin) as u64) as u32;
            let y = margin + rng.below((shape.height - 2 * margin) as u64) as u32;
            if planted
                .iter()
                .any(|p| p.x.abs_diff(x) <= 1 && p.y.abs_diff(y) <= 1)
            {
                continue;
            }
            let channel = rng.below(shape.channels as u64) as u32;
            let (value, kind) = match planted.len() % 3 {
                0 => (max, "hot"),
                1 => (0, "dead"),
                _ => ((max as f64 * (0.2 + 0.6 * rng.unit())) as u32, "stuck"),
            };
            planted.push(Planted {
                x,
                y,
                channel,
                value,
                kind,
            });
        }
        SyntheticSet {
            shape,
            frames,
            seed,
            planted,
        }
    }

    /// Frame `i` (deterministic): a tilted gradient with a ripple, per-frame exposure and noise,
    /// kept inside 6%..94% of full scale so no ordinary subpixel clips, then the planted values.
    pub fn frame(&self, i: usize) -> Frame {
        let s = self.shape;
        let mut rng = Rng::new(self.seed ^ ((i as u64 + 1) << 20));
        let (gx, gy) = (rng.unit() - 0.5, rng.unit() - 0.5);
        let base = 0.3 + 0.4 * rng.unit();
        let (fx, fy, phase) = (rng.unit() * 0.2, rng.unit() * 0.2, rng.unit() * 6.3);
        let tint = [rng.unit() * 0.2 - 0.1, 0.0, rng.unit() * 0.2 - 0.1];
        let (w, h, c) = (s.width as f64, s.height as f64, s.channels as usize);
        let max = s.max_value() as f64;
        let mut values = Vec::with_capacity(s.subpixels());
        for y in 0..s.height {
            for x in 0..s.width {
                let v = base
                    + 0.4 * (gx * (x as f64 / w - 0.5) + gy * (y as f64 / h - 0.5))
                    + 0.08 * ((x as f64 * fx + y as f64 * fy + phase).sin());
                for t in &tint[..c] {
                    let noise = (rng.unit() - 0.5) * 0.04;
                    let t = if c == 3 { *t } else { 0.0 };
                    let u = (v + t + noise).clamp(0.06, 0.94);
                    values.push((u * max).round());
                }
            }
        }
        for p in &self.planted {
            values[s.index(p.x, p.y, p.channel)] = p.value as f64;
        }
        let samples = if s.bit_depth == 8 {
            Samples::U8(values.iter().map(|&v| v as u8).collect())
        } else {
            Samples::U16(values.iter().map(|&v| v as u16).collect())
        };
        Frame::new(s, samples).expect("synthetic frame matches its shape")
    }

    /// Writes every frame as a lossless PNG into `dir` (`frame_0000.png`, …) and returns the paths.
    pub fn write_png(&self, dir: &Path) -> Result<Vec<PathBuf>, image::ImageError> {
        (0..self.frames)
            .map(|i| {
                let path = dir.join(format!("frame_{i:04}.png"));
                write_frame_png(&self.frame(i), &path)?;
                Ok(path)
            })
            .collect()
    }
}

/// Saves a frame as PNG (8- or 16-bit, grey or RGB).
pub fn write_frame_png(frame: &Frame, path: &Path) -> Result<(), image::ImageError> {
    let s = frame.shape();
    match (frame.samples(), s.channels) {
        (Samples::U8(v), 1) => image::GrayImage::from_raw(s.width, s.height, v.clone())
            .expect("size")
            .save(path),
        (Samples::U8(v), _) => image::RgbImage::from_raw(s.width, s.height, v.clone())
            .expect("size")
            .save(path),
        (Samples::U16(v), 1) => {
            image::ImageBuffer::<image::Luma<u16>, _>::from_raw(s.width, s.height, v.clone())
                .expect("size")
                .save(path)
        }
        (Samples::U16(v), _) => {
            image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(s.width, s.height, v.clone())
                .expect("size")
                .save(path)
        }
    }
}
