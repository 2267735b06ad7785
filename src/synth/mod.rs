//! Synthetic frames with known defects: a small deterministic generator used by `demo`, the tests
//! and the benchmarks.

pub mod dng;
pub mod eval;
pub mod fits;
pub mod scene;
pub mod sensor;
pub mod set;
pub mod spec;

pub use set::{plant, write_set};
pub use spec::{
    DefectKind, SetFormat, SetSpec, SynthError, TrueDefect, Truth, DARK_CONSTANT, DARK_SECONDS,
    DEFAULT_ISO, DEFAULT_ONSET, DEFAULT_PERIOD_SECONDS, DEFAULT_START_SECONDS, PHOTO_SECONDS,
};

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::input::exif::{Camera, CaptureTime, Exposure};
use crate::input::{Frame, Samples, Shape};

/// Four exposures of a photo library, from a daylight frame to a night one (seconds at ISO 100):
/// what frames measured with the dark-current statistics are exposed at, in turn.
pub const LIBRARY_EXPOSURES: [f64; 4] = [0.002, 0.01, 0.4, 30.0];

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

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A photograph-like 8-bit frame, fast enough for 45 MP: sky gradient, buildings with hard edges,
/// foliage texture and sensor noise, shifted and exposed differently for each `index`.
pub fn scene_frame(shape: Shape, index: usize, seed: u64) -> Frame {
    use rayon::prelude::*;
    assert_eq!(shape.bit_depth, 8, "scene frames are 8-bit");
    let (w, h, c) = (
        shape.width as usize,
        shape.height as usize,
        shape.channels as usize,
    );
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x5851_F42D_4C95_7F2D));
    let shift = rng.below(w as u64 / 8 + 1) as usize;
    let exposure = 0.6 + 0.8 * rng.unit();
    let horizon = h / 3 + rng.below(h as u64 / 6 + 1) as usize;
    // Building heights per 1/40 of the width, shifted with the frame.
    let blocks = 40usize;
    let heights: Vec<usize> = (0..blocks)
        .map(|b| horizon + (mix(seed ^ b as u64) % (h as u64 / 3 + 1)) as usize)
        .collect();
    let mut data = vec![0u8; shape.subpixels()];
    data.par_chunks_mut(w * c).enumerate().for_each(|(y, row)| {
        for x in 0..w {
            let sx = (x + shift) % w;
            let building = heights[sx * blocks / w];
            let base: [f64; 3] = if y < horizon.min(building) {
                let t = y as f64 / horizon as f64;
                [0.45 + 0.2 * t, 0.6 + 0.15 * t, 0.85]
            } else if y < building {
                let shade =
                    0.3 + 0.4 * ((mix(sx as u64 * blocks as u64 / w as u64) % 100) as f64 / 100.0);
                let window =
                    ((sx / 12).is_multiple_of(3) && (y / 16).is_multiple_of(2)) as u8 as f64 * 0.2;
                [shade + window, shade * 0.95 + window, shade * 0.9 + window]
            } else {
                let leaf = (mix((sx as u64 / 4) << 32 | (y as u64 / 4)) % 1000) as f64 / 1000.0;
                [0.15 + 0.25 * leaf, 0.3 + 0.35 * leaf, 0.1 + 0.15 * leaf]
            };
            for (ch, b) in base.iter().take(c).enumerate() {
                let n = (mix(seed ^ ((index as u64) << 48) ^ ((y * w + x) * 3 + ch) as u64) % 1000)
                    as f64
                    / 1000.0
                    - 0.5;
                let v = (b * exposure + n * 0.03).clamp(0.0, 1.0);
                row[x * c + ch] = (v * 255.0).round() as u8;
            }
        }
    });
    Frame::from_u8(shape, data).expect("scene frame matches its shape")
}

/// JPEG chroma subsampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chroma {
    /// No subsampling.
    Full,
    /// Half horizontal resolution (as most cameras write).
    Sub422,
    /// Half horizontal and vertical resolution.
    Sub420,
}

/// Saves an 8-bit frame as a baseline JPEG at `quality` with the given chroma subsampling.
pub fn write_frame_jpeg(
    frame: &Frame,
    path: &Path,
    quality: u8,
    chroma: Chroma,
) -> Result<(), String> {
    write_frame_jpeg_exif(frame, path, quality, chroma, None)
}

/// The EXIF block (a TIFF structure, as a JPEG's APP1 segment carries it) naming `camera` (make,
/// model, body serial number), the capture time `taken` and the `exposure` (time, ISO), each when
/// given.
pub fn exif_block(
    camera: Option<&Camera>,
    taken: Option<CaptureTime>,
    exposure: Exposure,
) -> Vec<u8> {
    use exif::{Field, In, Tag, Value};
    let ascii = |tag, text: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    };
    let mut fields = Vec::new();
    if let Some(camera) = camera {
        fields.push(ascii(Tag::Make, &camera.make));
        fields.push(ascii(Tag::Model, &camera.model));
        if let Some(serial) = &camera.serial {
            fields.push(ascii(Tag::BodySerialNumber, serial));
        }
    }
    if let Some(taken) = taken {
        fields.push(ascii(Tag::DateTimeOriginal, &taken.exif_text()));
    }
    if let Some(seconds) = exposure.seconds {
        let (num, denom) = seconds_rational(seconds);
        fields.push(Field {
            tag: Tag::ExposureTime,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![exif::Rational { num, denom }]),
        });
    }
    if let Some(iso) = exposure.iso {
        fields.push(Field {
            tag: Tag::PhotographicSensitivity,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![iso.min(u32::from(u16::MAX)) as u16]),
        });
    }
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer
        .write(&mut out, false)
        .expect("EXIF of a few ASCII fields is written to memory");
    out.into_inner()
}

/// An exposure time as the rational cameras write: `1/n` below a second, else tenths.
pub fn seconds_rational(seconds: f64) -> (u32, u32) {
    if seconds < 1.0 {
        (1, (1.0 / seconds).round().max(1.0) as u32)
    } else {
        ((seconds * 10.0).round() as u32, 10)
    }
}

/// [`write_frame_jpeg`] with an EXIF block ([`exif_block`]) in the file.
pub fn write_frame_jpeg_exif(
    frame: &Frame,
    path: &Path,
    quality: u8,
    chroma: Chroma,
    exif: Option<&[u8]>,
) -> Result<(), String> {
    let s = frame.shape();
    let Samples::U8(data) = frame.samples() else {
        return Err("JPEG needs 8-bit samples".into());
    };
    let (w, h) = (
        u16::try_from(s.width).map_err(|_| "too wide for JPEG")?,
        u16::try_from(s.height).map_err(|_| "too tall for JPEG")?,
    );
    let mut enc = jpeg_encoder::Encoder::new_file(path, quality).map_err(|e| e.to_string())?;
    enc.set_sampling_factor(match chroma {
        Chroma::Full => jpeg_encoder::SamplingFactor::R_4_4_4,
        Chroma::Sub422 => jpeg_encoder::SamplingFactor::R_4_2_2,
        Chroma::Sub420 => jpeg_encoder::SamplingFactor::R_4_2_0,
    });
    let color = if s.channels == 1 {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    if let Some(block) = exif {
        enc.add_exif_metadata(block).map_err(|e| e.to_string())?;
    }
    enc.encode(data, w, h, color).map_err(|e| e.to_string())
}

/// A 3:2 shape of about `mp` megapixels, width a multiple of 16.
pub fn shape_for_megapixels(mp: u32) -> Shape {
    let pixels = mp as f64 * 1e6;
    let height = ((pixels / 1.5).sqrt() / 16.0).round() as u32 * 16;
    let width = ((pixels / height as f64) / 16.0).round() as u32 * 16;
    Shape::new(width, height, 3, 8).expect("valid bench shape")
}
