//! Dark-current statistics ([`DarkMoments`]): how each position's residual rises with the frames'
//! exposure — exposure time × ISO / 100, what a hot photosite's dark current grows with — kept
//! beside [`super::Moments`] when the frames say how they were exposed.
//!
//! A position is a pixel of an image (its channels' residuals summed) or a photosite of a RAW
//! frame. The residual summed here is in linear light, in sample units (a fraction of full scale
//! times the samples' range): a RAW sample's over the median of its neighbours as it is; an
//! image's with both through the sRGB curve ([`DarkTable`]), so that a dark current's offset,
//! linear in the exposure, stays linear over every scene's brightness. A long exposure in which the position is *clipped* — a channel reads at white, so its
//! offset over its neighbours was cut at the headroom — says only that the offset reached the
//! headroom: it is counted, not summed, so that it cannot flatten the slope. A frame without an exposure adds nothing. A channel's residual
//! below `−floor` counts as `−floor`: a dark current only brightens, and a dark detail of the
//! scene (a wire across the sky) must not pass for a fall that a rise elsewhere then balances.
//!
//! Per position the state keeps, over the frames with an exposure that did not clip there, five
//! sums from which a straight line `residual = offset + rate × e` and the spread of its slope
//! follow (see [`crate::detect::dark`]): of the residual `r` and of `r (e − reference)`, each frame
//! weighing [`leverage_weight`]`(e)`, so that no single long exposure carries the slope; and of
//! `r`, `r (e − reference)` and `r²`, each frame weighing its *misfit weight*
//! ([`DarkDesign::misfit_weight`]), how much a frame's misfit to the line says about the slope's
//! uncertainty (a heteroscedasticity-consistent estimate, MacKinnon and White's HC3: a long
//! exposure that alone lifts the line counts for what it is). It also keeps the number of frames
//! that clipped there and, per state, every frame's exposure and misfit weight in counting order.
//! The sums merge by adding (after moving one to the other's reference), so shards, resumed scans
//! and windows of frames combine exactly.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::input::{Encoding, Shape};

/// A count that stops at its largest value instead of wrapping.
pub type Count = u16;

/// The sums kept per position, in this order: [`DarkMoments::sums`].
pub const DARK_SUMS: usize = 5;

/// Their names, in the state file and on the GPU.
pub const DARK_SUM_NAMES: [&str; DARK_SUMS] = [
    "sum",
    "weighted",
    "misfit_sum",
    "misfit_weighted",
    "misfit_squares",
];

/// The sums that are linear in the residual (all but the squares): they may be taken per channel
/// and the channels added afterwards.
pub const LINEAR_DARK_SUMS: usize = 4;

/// Bytes of dark-current state per position: its sums and its clipped-frame count.
pub const DARK_BYTES_PER_POSITION: u64 =
    DARK_SUMS as u64 * std::mem::size_of::<f32>() as u64 + std::mem::size_of::<Count>() as u64;

/// Positions per task of the element-wise passes over the arrays.
const CHUNK: usize = 1 << 16;

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

/// A frame shorter than this (seconds at ISO 100: 1 s at ISO 800) is not counted as clipped
/// unless it is among the scan's longest ([`NEAR_LONGEST`]): in it a sample at white is as likely
/// a bright detail of the scene (the sun, a lit window, a glint) as a dark current at the
/// headroom, and counted as clipped it would be taken for one of the longest exposures. Its
/// residual is summed as it is.
pub const DARK_CLIP_MIN_EXPOSURE: f64 = 8.0;

/// A frame exposed at least this share of the scan's longest exposure may be counted as clipped
/// however short it is: the fit takes the frames that clipped at a position to be the longest
/// ones, and this one nearly is. A scan whose longest frames are a few seconds at ISO 100 (no
/// night frame) then still tells a dark current cut at white in them from a line that falls there.
pub const NEAR_LONGEST: f64 = 0.85;

/// A channel's residual below this share of full scale, negative, counts as that
/// ([module docs](self)): far beyond the noise of a frame, well short of a dark detail.
pub const FLOOR_SHARE: f64 = 0.1;

/// A frame's leverage on the line is taken as at most this: a frame that alone decides the
/// line's end then counts a hundred times its misfit, not infinitely many.
pub const MAX_LEVERAGE: f64 = 0.9;

/// The exposures of a scan's frames as the line's fit sees them: what each frame's misfit weight
/// follows from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DarkDesign {
    /// The frames' exposures' mean, each weighing [`leverage_weight`]: the sums' reference.
    pub reference: f64,
    /// The frames' weights' sum.
    pub weight: f64,
    /// Their weighted squared distances from the reference: `Σ ω (e − reference)²`.
    pub spread: f64,
}

impl DarkDesign {
    /// The design of frames exposed `exposures` (seconds × ISO / 100).
    pub fn of(exposures: &[f64]) -> Self {
        let weight: f64 = exposures.iter().map(|&e| leverage_weight(e)).sum();
        let reference = if weight > 0.0 {
            exposures
                .iter()
                .map(|&e| leverage_weight(e) * e)
                .sum::<f64>()
                / weight
        } else {
            0.0
        };
        let spread = exposures
            .iter()
            .map(|&e| leverage_weight(e) * (e - reference).powi(2))
            .sum();
        DarkDesign {
            reference,
            weight,
            spread,
        }
    }

    /// The leverage of a frame exposed `e` on the fitted line (its hat value), at most
    /// [`MAX_LEVERAGE`].
    pub fn leverage(&self, exposure: f64) -> f64 {
        let w = leverage_weight(exposure);
        let d = exposure - self.reference;
        let h = if self.weight > 0.0 {
            w / self.weight
        } else {
            1.0
        } + if self.spread > 0.0 {
            w * d * d / self.spread
        } else {
            1.0
        };
        h.min(MAX_LEVERAGE)
    }

    /// How much a frame exposed `e` counts its misfit to the line in the slope's variance: its
    /// weight in the slope (`ω (e − reference)`) squared, over `(1 − h)²`, `h` its
    /// [`leverage`](Self::leverage) (HC3).
    pub fn misfit_weight(&self, exposure: f64) -> f64 {
        let lever = leverage_weight(exposure) * (exposure - self.reference);
        let free = 1.0 - self.leverage(exposure);
        lever * lever / (free * free)
    }
}

/// What an accumulator of dark-current statistics needs to know before the first frame.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DarkSetup {
    /// The scan's exposures ([`DarkDesign`]); the sums are taken about its reference.
    pub design: DarkDesign,
    /// A sample at or above this value is clipped (in the frames' own units): [`clip_level`] of
    /// RAW samples, [`SRGB_CLIP_LIGHT`] of an image's.
    pub clip: u32,
    /// The samples' range from black to white.
    pub range: u32,
    /// How the samples encode light: sRGB samples are linearised ([`DarkTable`]).
    pub encoding: Encoding,
    /// The scan's longest exposure: frames within [`NEAR_LONGEST`] of it may be counted as
    /// clipped (0 in a state written before it was kept: only [`DARK_CLIP_MIN_EXPOSURE`] then).
    #[serde(default)]
    pub longest: f64,
}

/// What the kernels do with a frame's residual, at each position that did not clip in it: the
/// weights of the four sums linear in it, in [`DARK_SUM_NAMES`]' order, and of its square.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameWeights {
    /// `ω`, `ω (e − reference)`, `κ`, `κ (e − reference)`: `ω` the frame's
    /// [`leverage_weight`], `κ` its [`DarkDesign::misfit_weight`].
    pub linear: [f32; LINEAR_DARK_SUMS],
    /// `κ`, the weight of the squared residual.
    pub squares: f32,
    /// It may be counted as clipped ([`DarkSetup::may_clip`]).
    pub clips: bool,
}

impl DarkSetup {
    /// The setup of a scan of frames exposed `exposures`, whose samples run from `black` to
    /// `white` in `encoding`.
    pub fn new(exposures: &[f64], black: u32, white: u32, encoding: Encoding) -> Self {
        let clip = match encoding {
            Encoding::Linear => clip_level(black, white),
            Encoding::Srgb => {
                let range = white.saturating_sub(black) as f32;
                let encoded = crate::input::levels::linear_to_srgb(SRGB_CLIP_LIGHT);
                black + (range * encoded).round() as u32
            }
        };
        DarkSetup {
            design: DarkDesign::of(exposures),
            longest: exposures.iter().copied().fold(0.0, f64::max),
            clip,
            range: white.saturating_sub(black),
            encoding,
        }
    }

    /// The table that linearises samples of at most `max` for the residual, when they are sRGB.
    pub fn table(&self, max: u32) -> Option<DarkTable> {
        (self.encoding == Encoding::Srgb).then(|| DarkTable::srgb(max, self.range))
    }

    /// The exposure the sums are taken about.
    pub fn reference(&self) -> f64 {
        self.design.reference
    }

    /// The weights of a frame exposed `e` ([`FrameWeights`]).
    pub fn weights(&self, exposure: f32) -> FrameWeights {
        let e = exposure as f64;
        let w = leverage_weight(e);
        let d = e - self.design.reference;
        let k = self.design.misfit_weight(e);
        FrameWeights {
            linear: [w as f32, (w * d) as f32, k as f32, (k * d) as f32],
            squares: k as f32,
            clips: self.may_clip(e),
        }
    }

    /// True when a frame exposed `e` may be counted as clipped: from [`DARK_CLIP_MIN_EXPOSURE`]
    /// on, or within [`NEAR_LONGEST`] of the scan's longest exposure.
    pub fn may_clip(&self, e: f64) -> bool {
        e >= DARK_CLIP_MIN_EXPOSURE || (self.longest > 0.0 && e >= NEAR_LONGEST * self.longest)
    }

    /// A channel's residual below minus this counts as minus this ([`FLOOR_SHARE`] of the
    /// range).
    pub fn floor(&self) -> f32 {
        (self.range as f64 * FLOOR_SHARE) as f32
    }

    /// The offset a dark current that clips a frame is taken to have reached there: half of the
    /// range (a sample at white over neighbours at mid-scale).
    pub fn headroom(&self) -> f64 {
        self.range as f64 / 2.0
    }
}

/// Linear light for the residual of sRGB samples: a sample `x` and the median of its neighbours
/// (half the sum `s` of the middle two, [`crate::geometry::median4`]) through the sRGB curve, in
/// sample units: the residual is `value[x] − middle[s]`. Both backends read the same table, so
/// their sums stay equal.
#[derive(Clone, Debug, PartialEq)]
pub struct DarkTable {
    /// Per sample value `0..=max`.
    pub value: Vec<f32>,
    /// Per sum of two sample values `0..=2 max`.
    pub middle: Vec<f32>,
}

impl DarkTable {
    /// The table of sRGB samples of at most `max`, in units of `range`.
    pub fn srgb(max: u32, range: u32) -> Self {
        let lin = |v: f64| {
            let v = v.clamp(0.0, 1.0);
            range as f64 * crate::input::levels::srgb_to_linear(v as f32) as f64
        };
        let max_f = max.max(1) as f64;
        DarkTable {
            value: (0..=max).map(|v| lin(v as f64 / max_f) as f32).collect(),
            middle: (0..=2 * max)
                .map(|s| lin(s as f64 / (2.0 * max_f)) as f32)
                .collect(),
        }
    }

    /// The residual of sample `x` whose neighbours' middle two sum to `middle`.
    #[inline(always)]
    pub fn residual(&self, x: u32, middle: u32) -> f32 {
        self.value[x as usize] - self.middle[middle as usize]
    }
}

/// In an image, a sample is taken as clipped in a long exposure from this much light on (a
/// fraction of full scale, linear): a camera's rendering rolls its highlights off and its
/// compression spreads a clipped photosite's peak over its neighbours, so that an offset clipped
/// at white in the sensor reads well below white in the file, and from here on a sample no longer
/// rises in step with the light.
pub const SRGB_CLIP_LIGHT: f32 = 0.4;

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
    /// Every such frame's misfit weight, in the same order.
    pub misfit_weights: Vec<f32>,
    /// Per position, the sums named by [`DARK_SUM_NAMES`], over the frames with an exposure that
    /// did not clip there (channels summed, in the state's residual units).
    pub sums: [Vec<f32>; DARK_SUMS],
    /// Per position: the frames with an exposure in which it clipped, up to [`Count::MAX`].
    pub clipped: Vec<Count>,
}

/// Which of [`DarkMoments::sums`] is which.
pub mod sum {
    /// `Σ ω r`.
    pub const SUM: usize = 0;
    /// `Σ ω r (e − reference)`.
    pub const WEIGHTED: usize = 1;
    /// `Σ κ r`.
    pub const MISFIT_SUM: usize = 2;
    /// `Σ κ r (e − reference)`.
    pub const MISFIT_WEIGHTED: usize = 3;
    /// `Σ κ r²`.
    pub const MISFIT_SQUARES: usize = 4;
}

impl DarkMoments {
    /// Empty statistics (no frame seen) for frames of `shape`.
    pub fn new(shape: Shape, setup: DarkSetup) -> Self {
        let positions = shape.pixels();
        DarkMoments {
            setup,
            exposures: Vec::new(),
            misfit_weights: Vec::new(),
            sums: std::array::from_fn(|_| crate::mem::filled(positions, 0.0)),
            clipped: crate::mem::filled(positions, 0),
        }
    }

    /// Back to no frame seen, keeping the arrays' memory, with `setup`'s design and levels.
    pub fn clear(&mut self, setup: DarkSetup) {
        self.setup = setup;
        self.exposures.clear();
        self.misfit_weights.clear();
        for a in &mut self.sums {
            a.par_chunks_mut(CHUNK).for_each(|c| c.fill(0.0));
        }
        self.clipped.par_chunks_mut(CHUNK).for_each(|c| c.fill(0));
    }

    /// Counts a frame exposed `exposure` in the state's list; returns its weights.
    pub fn count_frame(&mut self, exposure: f32) -> FrameWeights {
        let weights = self.setup.weights(exposure);
        self.exposures.push(exposure);
        self.misfit_weights.push(weights.squares);
        weights
    }

    /// Adds `other`'s statistics to these, as if its frames had been counted here after these:
    /// its weighted sums moved to this reference (`Σr(e − a) = Σr(e − b) + (b − a)Σr`), counts
    /// added (stopping at their largest value), frames appended, the longer of the two longest
    /// exposures kept. The shapes match (checked by
    /// the caller).
    pub fn merge(&mut self, other: &DarkMoments) {
        let shift = (other.setup.reference() - self.setup.reference()) as f32;
        for (plain, weighted) in [
            (sum::SUM, sum::WEIGHTED),
            (sum::MISFIT_SUM, sum::MISFIT_WEIGHTED),
        ] {
            let [a, b] = self
                .sums
                .get_disjoint_mut([plain, weighted])
                .expect("two different sums");
            a.par_chunks_mut(CHUNK)
                .zip(b.par_chunks_mut(CHUNK))
                .zip(
                    other.sums[plain]
                        .par_chunks(CHUNK)
                        .zip(other.sums[weighted].par_chunks(CHUNK)),
                )
                .for_each(|((a, b), (oa, ob))| {
                    for i in 0..a.len() {
                        a[i] += oa[i];
                        b[i] += ob[i] + shift * oa[i];
                    }
                });
        }
        self.sums[sum::MISFIT_SQUARES]
            .par_chunks_mut(CHUNK)
            .zip(other.sums[sum::MISFIT_SQUARES].par_chunks(CHUNK))
            .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b));
        self.clipped
            .par_chunks_mut(CHUNK)
            .zip(other.clipped.par_chunks(CHUNK))
            .for_each(|(a, b)| {
                a.iter_mut()
                    .zip(b)
                    .for_each(|(a, b)| *a = a.saturating_add(*b))
            });
        self.exposures.extend_from_slice(&other.exposures);
        self.misfit_weights.extend_from_slice(&other.misfit_weights);
        self.setup.longest = self.setup.longest.max(other.setup.longest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames near the scan's longest exposure may be counted as clipped, shorter ones only from
    /// [`DARK_CLIP_MIN_EXPOSURE`] on; a setup from a state written before the longest exposure
    /// was kept clips as it did then; a merge keeps the longer of the two.
    #[test]
    fn which_frames_may_clip() {
        let levels = (0, 4095, Encoding::Linear);
        let short = DarkSetup::new(&[0.001, 0.5, 2.0, 2.29], levels.0, levels.1, levels.2);
        assert!(short.may_clip(2.29) && short.may_clip(2.0) && !short.may_clip(1.9));
        assert!(short.weights(2.0).clips && !short.weights(0.5).clips);
        let long = DarkSetup::new(&[0.001, 2.29, 30.0], levels.0, levels.1, levels.2);
        assert!(!long.may_clip(2.29) && long.may_clip(8.0) && long.may_clip(30.0));
        let mut json = serde_json::to_value(short).unwrap();
        json.as_object_mut().unwrap().remove("longest");
        let old: DarkSetup = serde_json::from_value(json).unwrap();
        assert!(!old.may_clip(2.29) && old.may_clip(DARK_CLIP_MIN_EXPOSURE));
        let shape = Shape::new(2, 2, 1, 16).unwrap();
        let mut merged = DarkMoments::new(shape, old);
        merged.merge(&DarkMoments::new(shape, long));
        assert_eq!(merged.setup.longest, 30.0);
    }
}
