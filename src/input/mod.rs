//! Input: finding the image files a scan reads, probing their headers, and decoding them into
//! frames — images (JPEG, PNG, TIFF, WebP) and, with the `raw` feature, camera RAW files.

pub mod chunks;
pub mod decode;
pub mod discover;
pub mod error;
pub mod exif;
pub mod fits;
pub mod formats;
pub mod identity;
pub mod jpeg;
pub mod levels;
#[cfg(feature = "raw")]
pub mod raw;

pub use levels::{Cfa, Colour, Encoding, Levels, RawInfo};

pub use decode::{
    decode_file, decode_file_pooled, guard_decoder, in_guarded_decoder, quiet_guarded_panics,
};
pub use discover::{
    discover, discover_with, DiscoverOptions, Discovery, InputError, Prefer, Skipped,
};
pub use error::DecodeError;

use std::sync::{Arc, Mutex};

use serde::Serialize;

/// The layout every frame of a scan shares: size, interleaved channels, sample depth and, for a
/// camera RAW frame, the colour filter over each photosite.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub struct Shape {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Interleaved channels kept for statistics: 1 (grey) or 3 (RGB). Alpha is never kept.
    pub channels: u32,
    /// Bits per sample: 8 or 16.
    pub bit_depth: u32,
    /// The colour filter array of a camera RAW frame (one plane of photosites, 16-bit), given
    /// for the frame as decoded: its top-left photosite is the pattern's first. `None` for
    /// images, whose pixels have every channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cfa: Option<Cfa>,
}

impl Shape {
    /// A shape, checked: non-zero size, 1 or 3 channels, 8 or 16 bits.
    pub fn new(width: u32, height: u32, channels: u32, bit_depth: u32) -> Result<Self, String> {
        if width == 0 || height == 0 {
            return Err(format!("empty image ({width}x{height})"));
        }
        if channels != 1 && channels != 3 {
            return Err(format!("{channels} channels are not supported (1 or 3)"));
        }
        if bit_depth != 8 && bit_depth != 16 {
            return Err(format!(
                "{bit_depth}-bit samples are not supported (8 or 16)"
            ));
        }
        Ok(Shape {
            width,
            height,
            channels,
            bit_depth,
            cfa: None,
        })
    }

    /// The shape of a camera RAW frame: one 16-bit plane of photosites under `cfa`.
    pub fn raw(width: u32, height: u32, cfa: Cfa) -> Result<Self, String> {
        Ok(Shape {
            cfa: Some(cfa),
            ..Shape::new(width, height, 1, 16)?
        })
    }

    /// Number of pixels (or RAW photosites): the positions of the dark-current statistics.
    pub fn pixels(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Number of subpixels (pixels × channels): the length of every statistics array.
    pub fn subpixels(&self) -> usize {
        self.width as usize * self.height as usize * self.channels as usize
    }

    /// Bytes per sample: 1 or 2.
    pub fn bytes_per_sample(&self) -> usize {
        (self.bit_depth / 8) as usize
    }

    /// Bytes of one decoded frame.
    pub fn frame_bytes(&self) -> usize {
        self.subpixels() * self.bytes_per_sample()
    }

    /// The largest sample value (255 or 65535).
    pub fn max_value(&self) -> u32 {
        (1u32 << self.bit_depth) - 1
    }

    /// `(x, y, channel)` of a subpixel index.
    pub fn position(&self, index: usize) -> (u32, u32, u32) {
        let c = self.channels as usize;
        let pixel = index / c;
        let w = self.width as usize;
        ((pixel % w) as u32, (pixel / w) as u32, (index % c) as u32)
    }

    /// Subpixel index of `(x, y, channel)`.
    pub fn index(&self, x: u32, y: u32, channel: u32) -> usize {
        (y as usize * self.width as usize + x as usize) * self.channels as usize + channel as usize
    }

    /// Short human description, e.g. `6000x4000 RGB 8-bit` or `3522x2348 RAW RGGB 16-bit`.
    pub fn describe(&self) -> String {
        let kind = match (self.cfa, self.channels) {
            (Some(cfa), _) => format!("RAW {cfa}"),
            (None, 1) => "grey".into(),
            (None, _) => "RGB".into(),
        };
        format!(
            "{}x{} {} {}-bit",
            self.width, self.height, kind, self.bit_depth
        )
    }

    /// The colour of the subpixel at `(x, y, channel)`: the channel of an image pixel, or the
    /// filter over a RAW photosite.
    pub fn colour(&self, x: u32, y: u32, channel: u32) -> Colour {
        match self.cfa {
            Some(cfa) => cfa.colour_at(x, y),
            None if self.channels == 1 => Colour::Grey,
            None => [Colour::Red, Colour::Green, Colour::Blue][channel as usize % 3],
        }
    }
}

/// A packed sample type the statistics read directly.
pub trait Sample: Copy + Send + Sync {
    /// The sample as f32 (exact: samples have at most 16 bits).
    fn to_f32(self) -> f32;
    /// The sample as i32.
    fn to_i32(self) -> i32;
}
impl Sample for u8 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn to_i32(self) -> i32 {
        self as i32
    }
}
impl Sample for u16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn to_i32(self) -> i32 {
        self as i32
    }
}

/// Packed samples of one frame, interleaved by channel, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    /// 8-bit samples.
    U8(Vec<u8>),
    /// 16-bit samples, kept at full depth.
    U16(Vec<u16>),
}

/// One decoded image: its shape and its packed samples. Frames are dropped as soon as they are
/// accumulated; a frame decoded through a [`FramePool`] gives its buffer back to the pool then.
#[derive(Debug)]
pub struct Frame {
    shape: Shape,
    samples: Samples,
    pool: Option<Arc<FramePool>>,
    exposure: Option<f32>,
}

impl Clone for Frame {
    fn clone(&self) -> Self {
        Frame {
            shape: self.shape,
            samples: self.samples.clone(),
            pool: None,
            exposure: self.exposure,
        }
    }
}

impl PartialEq for Frame {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape
            && self.samples == other.samples
            && self.exposure == other.exposure
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.put(std::mem::replace(
                &mut self.samples,
                Samples::U8(Vec::new()),
            ));
        }
    }
}

/// Recycles frame buffers, so a long scan does not map, fault in and unmap a fresh buffer of
/// tens of megabytes for every file. Keeps at most `capacity` idle buffers.
#[derive(Debug)]
pub struct FramePool {
    idle: Mutex<Vec<Samples>>,
    capacity: usize,
}

impl FramePool {
    /// A pool keeping at most `capacity` idle buffers.
    pub fn new(capacity: usize) -> Arc<Self> {
        Arc::new(FramePool {
            idle: Mutex::new(Vec::new()),
            capacity,
        })
    }

    /// A buffer of `len` samples of `bit_depth` bits (contents unspecified), reused when possible.
    pub fn take(&self, bit_depth: u32, len: usize) -> Samples {
        let reused = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let pos = idle.iter().position(|s| match s {
                Samples::U8(v) => bit_depth == 8 && v.capacity() >= len,
                Samples::U16(v) => bit_depth == 16 && v.capacity() >= len,
            });
            pos.map(|p| idle.swap_remove(p))
        };
        match reused {
            Some(Samples::U8(mut v)) => {
                v.resize(len, 0);
                Samples::U8(v)
            }
            Some(Samples::U16(mut v)) => {
                v.resize(len, 0);
                Samples::U16(v)
            }
            None if bit_depth == 8 => Samples::U8(crate::mem::filled(len, 0)),
            None => Samples::U16(crate::mem::filled(len, 0)),
        }
    }

    fn put(&self, samples: Samples) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.capacity {
            idle.push(samples);
        }
    }
}

impl Frame {
    /// A frame from 8-bit samples; fails when the length or depth does not match the shape.
    pub fn from_u8(shape: Shape, data: Vec<u8>) -> Result<Self, String> {
        Self::new(shape, Samples::U8(data))
    }

    /// A frame from 16-bit samples; fails when the length or depth does not match the shape.
    pub fn from_u16(shape: Shape, data: Vec<u16>) -> Result<Self, String> {
        Self::new(shape, Samples::U16(data))
    }

    /// A frame from samples; fails when the length or depth does not match the shape.
    pub fn new(shape: Shape, samples: Samples) -> Result<Self, String> {
        let (len, depth) = match &samples {
            Samples::U8(v) => (v.len(), 8),
            Samples::U16(v) => (v.len(), 16),
        };
        if depth != shape.bit_depth {
            return Err(format!(
                "{depth}-bit samples for a {}-bit shape",
                shape.bit_depth
            ));
        }
        if len != shape.subpixels() {
            return Err(format!(
                "{len} samples for a {} shape ({} expected)",
                shape.describe(),
                shape.subpixels()
            ));
        }
        Ok(Frame {
            shape,
            samples,
            pool: None,
            exposure: None,
        })
    }

    /// The frame with its exposure: exposure time (seconds) × ISO / 100, what a hot photosite's
    /// dark current grows with ([`crate::input::exif::Exposure::dark`]); `None`: not known.
    pub fn with_exposure(mut self, exposure: Option<f64>) -> Self {
        self.exposure = exposure.map(|e| e as f32);
        self
    }

    /// The frame's exposure, when known ([`Frame::with_exposure`]).
    pub fn exposure(&self) -> Option<f32> {
        self.exposure
    }

    /// Makes the frame give its buffer back to `pool` when dropped.
    pub fn recycle_into(mut self, pool: &Arc<FramePool>) -> Self {
        self.pool = Some(pool.clone());
        self
    }

    /// The frame's shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The packed samples.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }

    /// The packed samples, to change in place (the shape stays).
    pub fn samples_mut(&mut self) -> &mut Samples {
        &mut self.samples
    }

    /// The 8-bit samples, or `None` for a 16-bit frame.
    pub fn as_u8(&self) -> Option<&[u8]> {
        match &self.samples {
            Samples::U8(v) => Some(v),
            Samples::U16(_) => None,
        }
    }

    /// The 16-bit samples, or `None` for an 8-bit frame.
    pub fn as_u16(&self) -> Option<&[u16]> {
        match &self.samples {
            Samples::U16(v) => Some(v),
            Samples::U8(_) => None,
        }
    }

    /// The samples as little-endian bytes, as they are uploaded to the GPU.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.samples {
            Samples::U8(v) => v,
            Samples::U16(v) => bytemuck::cast_slice(v),
        }
    }

    /// One sample as `f64` (for tests and references; the hot paths work on the packed slices).
    pub fn value(&self, index: usize) -> f64 {
        match &self.samples {
            Samples::U8(v) => v[index] as f64,
            Samples::U16(v) => v[index] as f64,
        }
    }
}
