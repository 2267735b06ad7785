//! Dark-current statistics ([`DarkMoments`]): how each position's residual rises with the frames'
//! exposure — exposure time × ISO / 100, what a hot photosite's dark current grows with — kept
//! beside [`super::Moments`] when the frames say how they were exposed.
//!
//! A position is a pixel of an image (its channels' residuals summed) or a photosite of a RAW
//! frame. A frame in which the position is *dark-clipped* — a channel reads at white while the
//! median of its neighbours reads below half of white, so its offset over them was cut at the
//! headroom — says only that the offset reached the headroom: it is counted, not summed, so that
//! it cannot flatten the slope. A frame without an exposure adds nothing.
//!
//! Per position the state keeps, over the frames with an exposure that did not clip there, the
//! sum of the residual and the sum of the residual times `e − reference`, each frame weighing
//! [`leverage_weight`]`(e)` (so that no single long exposure carries the slope), and the number
//! of frames that clipped; per state, every frame's exposure in counting order. The sums merge by
//! adding (after moving one to the other's reference), so shards, resumed scans and windows of
//! frames combine exactly.

use rayon::prelude::*;

use crate::input::Shape;

/// A count that stops at its largest value instead of wrapping.
pub type Count = u16;

/// Bytes of dark-current state per position: its two sums and its clipped-frame count.
pub const DARK_BYTES_PER_POSITION: u64 =
    2 * std::mem::size_of::<f32>() as u64 + std::mem::size_of::<Count>() as u64;

/// Positions per task of the element-wise passes over the arrays.
const CHUNK: usize = 1 << 16;

/// What an accumulator of dark-current statistics needs to know before the first frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DarkSetup {
    /// The exposure the weighted sums are taken about (near the frames' mean keeps them small).
    pub reference: f64,
    /// A sample at or above this value is clipped at white (in the frames' own units).
    pub clip: u32,
}

/// Frames exposed longer than this (seconds at ISO 100: 1 s at ISO 800) weigh less in the
/// dark-current sums, as `(LEVERAGE_EXPOSURE / e)²`: each then pulls on the slope about as much as
/// a frame exposed this long, so the slope rests on every long exposure rather than on the
/// longest alone, where one bright detail of the scene could carry it. The estimate stays
/// unbiased (a weighted least-squares fit of a straight line).
pub const LEVERAGE_EXPOSURE: f64 = 8.0;

/// A frame's weight in the dark-current sums ([`LEVERAGE_EXPOSURE`]).
pub fn leverage_weight(exposure: f64) -> f64 {
    let x = LEVERAGE_EXPOSURE / exposure;
    if x >= 1.0 {
        1.0
    } else {
        x * x
    }
}

impl DarkSetup {
    /// What the kernels multiply a frame's residual by, for a frame exposed `e`: for the sum,
    /// [`leverage_weight`]`(e)`; for the weighted sum, that times `e − reference`.
    pub fn weights(&self, exposure: f32) -> (f32, f32) {
        let e = exposure as f64;
        let w = leverage_weight(e);
        (w as f32, (w * (e - self.reference)) as f32)
    }
}

/// A sample is taken as clipped from this share of the way from black to white on: a JPEG's
/// ringing and a sensor that saturates a little below its white level leave clipped samples a
/// little under white.
pub const CLIP_SHARE: f64 = 63.0 / 64.0;

/// The clip level of samples running from `black` to `white`: [`CLIP_SHARE`] of the way.
pub fn clip_level(black: u32, white: u32) -> u32 {
    black + ((white.saturating_sub(black)) as f64 * CLIP_SHARE).round() as u32
}

/// Per-position dark-current statistics ([module docs](self)).
#[derive(Clone, Debug, PartialEq)]
pub struct DarkMoments {
    /// What the sums are taken about and which samples clip.
    pub setup: DarkSetup,
    /// Every frame's exposure (seconds × ISO / 100) that added to the sums, in counting order.
    pub exposures: Vec<f32>,
    /// Per position: the sum of its residual, weighing [`leverage_weight`]`(e)`, over the frames
    /// with an exposure that did not clip there (channels summed, in the state's residual units).
    pub sum: Vec<f32>,
    /// Per position: the same sum of its residual times `e − setup.reference`.
    pub weighted: Vec<f32>,
    /// Per position: the frames with an exposure in which it clipped, up to [`Count::MAX`].
    pub clipped: Vec<Count>,
}

impl DarkMoments {
    /// Empty statistics (no frame seen) for frames of `shape`.
    pub fn new(shape: Shape, setup: DarkSetup) -> Self {
        let positions = shape.pixels();
        DarkMoments {
            setup,
            exposures: Vec::new(),
            sum: crate::mem::filled(positions, 0.0),
            weighted: crate::mem::filled(positions, 0.0),
            clipped: crate::mem::filled(positions, 0),
        }
    }

    /// Back to no frame seen, keeping the arrays' memory, with `setup`'s reference and clip.
    pub fn clear(&mut self, setup: DarkSetup) {
        self.setup = setup;
        self.exposures.clear();
        self.sum.par_chunks_mut(CHUNK).for_each(|c| c.fill(0.0));
        self.weighted
            .par_chunks_mut(CHUNK)
            .for_each(|c| c.fill(0.0));
        self.clipped.par_chunks_mut(CHUNK).for_each(|c| c.fill(0));
    }

    /// Adds `other`'s statistics to these, as if its frames had been counted here after these:
    /// its weighted sums moved to this reference (`Σr(e − a) = Σr(e − b) + (b − a)Σr`), counts
    /// added (stopping at their largest value), exposures appended. The shapes match (checked by
    /// the caller).
    pub fn merge(&mut self, other: &DarkMoments) {
        let shift = (other.setup.reference - self.setup.reference) as f32;
        self.sum
            .par_chunks_mut(CHUNK)
            .zip(self.weighted.par_chunks_mut(CHUNK))
            .zip(
                other
                    .sum
                    .par_chunks(CHUNK)
                    .zip(other.weighted.par_chunks(CHUNK)),
            )
            .for_each(|((sum, weighted), (sum_b, weighted_b))| {
                for i in 0..sum.len() {
                    sum[i] += sum_b[i];
                    weighted[i] += weighted_b[i] + shift * sum_b[i];
                }
            });
        self.clipped
            .par_chunks_mut(CHUNK)
            .zip(other.clipped.par_chunks(CHUNK))
            .for_each(|(a, b)| {
                a.iter_mut()
                    .zip(b)
                    .for_each(|(a, b)| *a = a.saturating_add(*b))
            });
        self.exposures.extend_from_slice(&other.exposures);
    }
}
