//! The score of each subpixel and the automatic threshold: how consistently a subpixel is off its
//! neighbours (or, for dark frames, off the sensor's dark level), in units of what is usual for
//! that place and channel.

use rayon::prelude::*;
use serde::Serialize;

use super::{DetectOptions, FrozenSearch};
use crate::geometry::{Geometry, NEIGHBOUR_DISTANCE};
use crate::input::Levels;
use crate::stats::Moments;

/// Distance, in pixels, of the ring whose residual spread says how textured a place is. Beyond the
/// reach of a JPEG-smeared defect, so the defect does not raise its own yardstick.
pub const LOCAL_DISTANCE: usize = 4;

/// How much of a subpixel's own residual spread counts against it: enough to discount a glint
/// in a few frames (a star or a highlight repeated through a burst lifts the mean residual but its
/// spread far more), not so much that a stuck photosite (whose residual swings with the scene)
/// hides.
pub const OWN_SPREAD_WEIGHT: f32 = 0.75;

/// A frozen subpixel varies less than 1/`FROZEN_RATIO` as much as the same channel around it...
pub const FROZEN_RATIO: f32 = 5.0;
/// ...while that varies by at least this fraction of full scale.
pub const FROZEN_MIN_SPREAD: f32 = 0.05;

/// A subpixel that follows the light only weakly — its value varies less than this fraction as
/// much as the same channel around it...
pub const DULL_RATIO: f32 = 0.6;
/// ...while its residual swings more than this many times as much as the residuals around it — is
/// frozen too: a stuck photosite whose constant level demosaicking and JPEG mix with its
/// neighbours' changing ones. (Texture raises both spreads together; a glint raises the value's.)
pub const SWING_RATIO: f32 = 3.0;
/// The second test alone needs this many frames: from fewer, a spread and a swing that far apart
/// are as often texture the frames happened to catch (20 frames of varied synthetic scenes: 4
/// false stuck pixels of 30 reported; from 30 frames none).
pub const MIN_SWING_FRAMES: u32 = 30;

/// A frozen subpixel whose score also reaches this fraction of the threshold counts from any
/// number of frames, by either test: two signs of a defect agree. A dead photosite in ten frames
/// of varied scenes is dull and swings, and its score reaches 0.86–0.98 of the threshold where 30
/// frames show it at twice the threshold; on 26 such 640×480 JPEG sets, 10 frames each, this found
/// all four such photosites and no false defect (at 0.5, 16 false defects; at 0.7, 1).
pub const FROZEN_SUPPORT: f32 = 0.8;

/// Which of [`frozen`]'s tests a subpixel meets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frozen {
    /// It varies less than 1/[`FROZEN_RATIO`] as much as its surroundings.
    Still,
    /// It varies less than [`DULL_RATIO`] as much while its residual swings more than
    /// [`SWING_RATIO`] times the residuals around it.
    Swinging,
}

/// Which test, if any, a subpixel meets that hardly follows the light while the same channel
/// around it varies by at least [`FROZEN_MIN_SPREAD`] of full scale: it varies less than
/// 1/[`FROZEN_RATIO`] as much as its surroundings ([`Frozen::Still`]), or less than [`DULL_RATIO`]
/// as much while its residual swings more than [`SWING_RATIO`] times the residuals around it
/// ([`Frozen::Swinging`]). A stuck photosite looks like this whatever its level, even one at the
/// scene's average level that the mean residual cannot see, and so does a dead one. (The second
/// test is for demosaicked images only: a RAW photosite is not mixed with its neighbours, and a
/// stuck one is simply constant.) Whether it counts is [`frozen_counts`]'s rule.
pub fn frozen(m: &Moments, g: Geometry, i: usize, full: f32) -> Option<Frozen> {
    let around = surrounding(m, g, i);
    if around < FROZEN_MIN_SPREAD * full {
        return None;
    }
    let std = m.std(i);
    if std * FROZEN_RATIO < around {
        Some(Frozen::Still)
    } else if !g.photosites()
        && std < DULL_RATIO * around
        && m.res_std(i)
            > SWING_RATIO * g.peer_median(i, LOCAL_DISTANCE, NEIGHBOUR_DISTANCE, |j| m.res_std(j))
    {
        Some(Frozen::Swinging)
    } else {
        None
    }
}

/// Whether a subpixel frozen as `how` is a candidate under `search` after `n` frames, its score
/// `deviation` from the sensor's median score: with [`FROZEN_SUPPORT`] of the `threshold` behind
/// it whenever frozen subpixels are looked for at all; otherwise, under [`FrozenSearch::Full`],
/// by the first test, or by the second from [`MIN_SWING_FRAMES`] frames on.
pub fn frozen_counts(
    how: Frozen,
    search: FrozenSearch,
    n: u32,
    deviation: f32,
    threshold: f32,
) -> bool {
    match search {
        FrozenSearch::Off => false,
        _ if deviation >= FROZEN_SUPPORT * threshold => true,
        FrozenSearch::Supported => false,
        FrozenSearch::Full => how == Frozen::Still || n >= MIN_SWING_FRAMES,
    }
}

/// False only where [`frozen`] is certainly false, from variances alone (no square roots): a
/// frozen subpixel varies less than [`DULL_RATIO`] (or 1/[`FROZEN_RATIO`]) times as much as the
/// median of its ring, so less than that times its ring's most varying member, which itself varies
/// by at least [`FROZEN_MIN_SPREAD`].
fn may_be_frozen(m: &Moments, g: Geometry, i: usize, full: f32) -> bool {
    let least = FROZEN_MIN_SPREAD * full;
    frozen_possible(
        m.variance(i),
        g.ring(i, LOCAL_DISTANCE, |j| m.variance(j)),
        least * least,
    )
}

/// The test behind [`may_be_frozen`], on the variance of a subpixel (`own`) and of its ring, or on
/// their `M2`s when every subpixel saw the same frames; `least` is the variance (or `M2`) the
/// ring's most varying member must reach.
#[inline(always)]
fn frozen_possible(own: f32, ring: [f32; 4], least: f32) -> bool {
    let most = ring[0].max(ring[1]).max(ring[2]).max(ring[3]);
    let ratio = DULL_RATIO.max(1.0 / FROZEN_RATIO);
    (most * FROZEN_BOUND_SLACK >= least) & (own <= ratio * ratio * most * FROZEN_BOUND_SLACK)
}

/// Median standard deviation of the same channel [`LOCAL_DISTANCE`] pixels away from subpixel
/// `i`: how much its surroundings vary.
pub fn surrounding(m: &Moments, g: Geometry, i: usize) -> f32 {
    g.ring_median(i, LOCAL_DISTANCE, |j| m.std(j))
}

/// MAD × this is a robust standard deviation (the normal distribution's ratio).
pub const MAD_TO_STD: f32 = 1.4826;

/// The smallest spread of the sensor's scores a threshold is drawn from: below it (a sensor of
/// identical scores) the threshold would be 0.
pub const MIN_SCORE_SPREAD: f32 = 0.1;

/// The smallest per-channel spread of residuals (or dark means) is full scale divided by this: a
/// quarter of a level of 8-bit samples (dark JPEGs are often flat).
pub const CHANNEL_SPREAD_FLOOR_DIVISOR: f32 = 1020.0;

/// Relative slack of the bounds that rule subpixels out before they are scored: they only decide
/// whether to look closer, so rounding must never rule out a candidate.
const BOUND_SLACK: f32 = 1.0001;
/// The class-free condition in front of that bound is loosened by this much more, so its rounding
/// never rules out what the bound keeps.
const PREFILTER_SLACK: f32 = 0.9999;
/// Subpixels tested together before any of them is looked at one by one.
const PREFILTER_CHUNK: usize = 32;
/// The same slack for the "may be frozen" bound.
const FROZEN_BOUND_SLACK: f32 = 1.001;

/// Robust statistics of the sensor's scores come from about this many subpixels at most.
const SAMPLED_SUBPIXELS: usize = 1_000_000;

/// Default threshold in robust standard deviations (MAD × [`MAD_TO_STD`]) of the sensor's scores.
pub const DEFAULT_K: f32 = 7.0;

/// The lowest threshold ever used, in score units, whatever the spread.
pub const MIN_THRESHOLD: f32 = 4.0;

/// Robust statistics of the scores and the threshold drawn from them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    /// `residual` (photos) or `dark` (dark frames).
    pub method: &'static str,
    /// Median of the scores over the sensor.
    pub median: f32,
    /// Robust standard deviation of the scores: [`MAD_TO_STD`] × their median absolute deviation.
    pub spread: f32,
    /// A subpixel whose |score − median| reaches this is a candidate.
    pub threshold: f32,
    /// The sensitivity it was drawn with.
    pub sensitivity: f32,
}

/// The candidates: subpixels over the threshold, and [`frozen`] ones (their score is raised to
/// the threshold), with their scores (signed:
/// positive when brighter than expected).
#[derive(Clone, Debug)]
pub struct Scores {
    /// Candidate subpixel indices, ascending.
    pub candidates: Vec<usize>,
    /// Their scores, in the same order.
    pub values: Vec<f32>,
    /// The thresholds.
    pub thresholds: Thresholds,
    /// Robust location of the quantity scored (residual mean, or mean for darks) per class of
    /// subpixels ([`Geometry::class`]: a channel, or a position of the Bayer tile).
    pub location: Vec<f32>,
    /// Robust spread of it per class.
    pub scale: Vec<f32>,
}

impl Scores {
    /// Adds candidates found otherwise (`(subpixel, score)`): a subpixel already a candidate keeps
    /// the larger score.
    pub fn add(&mut self, more: Vec<(usize, f32)>) {
        let mut all: Vec<(usize, f32)> = self
            .candidates
            .iter()
            .copied()
            .zip(self.values.iter().copied())
            .chain(more)
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        all.dedup_by_key(|c| c.0);
        (self.candidates, self.values) = all.into_iter().unzip();
    }
}

/// Every `stride`-th subpixel, enough to estimate robust statistics of a large sensor quickly.
fn sample_stride(len: usize) -> usize {
    // Odd and not a multiple of 3, so every channel is sampled.
    if len <= 2 * SAMPLED_SUBPIXELS {
        1
    } else {
        let s = (len / SAMPLED_SUBPIXELS) | 1;
        if s.is_multiple_of(3) {
            s + 2
        } else {
            s
        }
    }
}

/// Median and [`MAD_TO_STD`] × median absolute deviation of `v` (reordered).
pub fn median_spread(v: &mut [f32]) -> (f32, f32) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let mid = v.len() / 2;
    let median = *v.select_nth_unstable_by(mid, f32::total_cmp).1;
    v.iter_mut().for_each(|x| *x = (*x - median).abs());
    let mad = *v.select_nth_unstable_by(mid, f32::total_cmp).1;
    (median, MAD_TO_STD * mad)
}

/// What makes a subpixel's score: for photos, the mean residual over its expected noise at that
/// place (the channel's spread of mean residuals, and the ring's residual spread over √n); for
/// dark frames, its mean's distance from the channel's dark level over the channel's spread.
struct Scorer<'a> {
    m: &'a Moments,
    dark: bool,
    location: Vec<f32>,
    scale: Vec<f32>,
    n: f32,
    geometry: Geometry,
}

impl Scorer<'_> {
    fn score(&self, i: usize) -> f32 {
        self.score_in(i, self.geometry.class_of(i))
    }

    /// The score of subpixel `i`, of class `c` ([`Geometry::class`]).
    fn score_in(&self, i: usize, c: usize) -> f32 {
        if self.dark {
            return (self.m.mean[i] - self.location[c]) / self.scale[c];
        }
        let ring = self
            .geometry
            .peer_median(i, LOCAL_DISTANCE, NEIGHBOUR_DISTANCE, |j| self.m.res_std(j));
        // A subpixel whose own residual swings much more than its surroundings' (a star or a
        // glint in a few frames) is held to part of its own spread.
        let spread = ring.max(OWN_SPREAD_WEIGHT * self.m.res_std(i));
        let noise = (self.scale[c] * self.scale[c] + spread * spread / self.n).sqrt();
        (self.m.res_mean[i] - self.location[c]) / noise
    }
}

/// Scores the sensor and returns the candidates over the automatic threshold. Spreads are judged
/// against the full scale of `levels` (white minus black).
pub fn score(m: &Moments, options: &DetectOptions, levels: &Levels) -> Scores {
    let shape = m.shape;
    let full = levels.full_scale();
    let len = m.mean.len();
    let geometry = Geometry::of(shape);
    let channels = shape.channels as usize;
    let stride = sample_stride(len);
    let floor = full / CHANNEL_SPREAD_FLOOR_DIVISOR;
    let base: &[f32] = if options.dark { &m.mean } else { &m.res_mean };
    let mut by_class = vec![Vec::new(); geometry.classes()];
    for i in (0..len).step_by(stride) {
        by_class[geometry.class_of(i)].push(base[i]);
    }
    let (location, scale) = by_class
        .iter_mut()
        .map(|v| {
            let (loc, spread) = median_spread(v);
            (loc, spread.max(floor))
        })
        .unzip();
    let scorer = Scorer {
        m,
        dark: options.dark,
        location,
        scale,
        n: m.frames().max(1) as f32,
        geometry,
    };
    let mut sample: Vec<f32> = (0..len)
        .into_par_iter()
        .step_by(stride)
        .map(|i| scorer.score(i))
        .collect();
    let (median, spread) = median_spread(&mut sample);
    let sensitivity = if options.sensitivity > 0.0 {
        options.sensitivity
    } else {
        1.0
    };
    let threshold =
        (DEFAULT_K / sensitivity * spread.max(MIN_SCORE_SPREAD)).max(MIN_THRESHOLD / sensitivity);
    let (width, height) = (shape.width as usize, shape.height as usize);
    let row = width * channels;
    let least = FROZEN_MIN_SPREAD * full;
    // Every subpixel saw the same frames, so "may be frozen" compares M2s directly (see
    // `may_be_frozen`); inside the border band the ring needs no mirroring.
    let uniform = (m.n >= 2).then(|| least * least * (m.n - 1) as f32);
    let (reach_x, reach_y) = (LOCAL_DISTANCE * channels, LOCAL_DISTANCE * row);
    // A class-free necessary condition for a score over the threshold, so most subpixels are
    // ruled out in a tight loop over the row. The score's noise is at least
    // √(scale² + (OWN_SPREAD_WEIGHT · own residual spread)² / n) (dark frames: the scale), so a
    // candidate has (|base − centre| + half the locations' range)² ≥ needed² × (the smallest
    // scale² + OWN_SPREAD_WEIGHT² × its residual M2 / ((n − 1) n)).
    let needed = ((threshold - median.abs()) / BOUND_SLACK).max(0.0);
    let (low, high) = scorer
        .location
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    let (centre, half_range) = (0.5 * (low + high), 0.5 * (high - low));
    let least_scale = scorer.scale.iter().copied().fold(f32::MAX, f32::min);
    let floor = needed * needed * least_scale * least_scale * PREFILTER_SLACK;
    let own = match (options.dark, m.n) {
        (false, n) if n >= 2 => {
            needed * needed * OWN_SPREAD_WEIGHT * OWN_SPREAD_WEIGHT / ((n - 1) as f32 * scorer.n)
                * PREFILTER_SLACK
        }
        _ => 0.0,
    };
    let frozen_test = !options.dark && options.frozen != FrozenSearch::Off;
    let hits: Vec<(usize, f32)> = (0..height)
        .into_par_iter()
        .flat_map_iter(|y| {
            let inner_y = y >= LOCAL_DISTANCE && y + LOCAL_DISTANCE < height;
            let mut out = Vec::new();
            let mut visit = |k: usize, this_c: usize| {
                let i = y * row + k;
                let s = (options.dark || {
                    // |score| ≤ |residual − location| / scale (the noise term never falls below
                    // the channel's scale): most subpixels are ruled out without the ring.
                    let bound =
                        (m.res_mean[i] - scorer.location[this_c]).abs() / scorer.scale[this_c];
                    bound * BOUND_SLACK + median.abs() >= threshold
                })
                .then(|| scorer.score_in(i, this_c));
                if let Some(s) = s.filter(|s| (s - median).abs() >= threshold) {
                    out.push((i, s));
                    return;
                }
                if !frozen_test {
                    return;
                }
                let maybe = match uniform {
                    Some(least_m2) if inner_y && k >= reach_x && k + reach_x < row => {
                        let m2 = &m.m2;
                        let ring = [
                            m2[i - reach_x],
                            m2[i + reach_x],
                            m2[i - reach_y],
                            m2[i + reach_y],
                        ];
                        frozen_possible(m2[i], ring, least_m2)
                    }
                    _ => may_be_frozen(m, scorer.geometry, i, full),
                };
                if let Some(how) = maybe.then(|| frozen(m, scorer.geometry, i, full)).flatten() {
                    let s = s.unwrap_or_else(|| scorer.score_in(i, this_c));
                    if frozen_counts(how, options.frozen, m.n, (s - median).abs(), threshold) {
                        let sign = if s < median { -1.0 } else { 1.0 };
                        out.push((i, median + sign * threshold));
                    }
                }
            };
            // Inside the border band, subpixels that neither reach the bound nor may be frozen
            // are passed over without their class; the rest are visited in full.
            let fast = inner_y && 2 * reach_x < row && (!frozen_test || uniform.is_some());
            let (lo, hi) = if fast {
                (reach_x, row - reach_x)
            } else {
                (row, row)
            };
            let at = y * row;
            let base = &base[at..at + row];
            for (k, c) in geometry.row_classes(y).take(lo).enumerate() {
                visit(k, c);
            }
            if lo < hi {
                // Slices of the same length for the subpixel, its residual M2 and its ring's M2s
                // (left, right, above, below), so the test runs without bounds checks or branches
                // over a chunk, and only a chunk with a flagged subpixel is looked at again.
                let (m2, width) = (&m.m2, hi - lo);
                let span = |from: usize| &m2[from..from + width];
                let (res, res_m2) = (&base[lo..hi], &m.res_m2[at + lo..at + hi]);
                let (own_m2, left, right) = (
                    span(at + lo),
                    span(at + lo - reach_x),
                    span(at + lo + reach_x),
                );
                let (up, down) = (span(at + lo - reach_y), span(at + lo + reach_y));
                let least_m2 = uniform.unwrap_or(0.0);
                let flagged = |j: usize| {
                    let off = (res[j] - centre).abs() + half_range;
                    (off * off >= floor + own * res_m2[j])
                        | (frozen_test
                            & frozen_possible(
                                own_m2[j],
                                [left[j], right[j], up[j], down[j]],
                                least_m2,
                            ))
                };
                for from in (0..width).step_by(PREFILTER_CHUNK) {
                    let to = (from + PREFILTER_CHUNK).min(width);
                    if (from..to).fold(false, |any, j| any | flagged(j)) {
                        for j in (from..to).filter(|&j| flagged(j)) {
                            visit(lo + j, geometry.class(lo + j, y));
                        }
                    }
                }
            }
            for (k, c) in geometry.row_classes(y).enumerate().skip(hi) {
                visit(k, c);
            }
            out
        })
        .collect();
    let (candidates, values) = hits.into_iter().unzip();
    Scores {
        candidates,
        values,
        thresholds: Thresholds {
            method: if options.dark { "dark" } else { "residual" },
            median,
            spread,
            threshold,
            sensitivity,
        },
        location: scorer.location,
        scale: scorer.scale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Shape;

    /// Statistics with every kind of subpixel in them: mostly ordinary, some far off their
    /// neighbours, some much stiller than their ring, some both.
    fn moments(frames: u32) -> Moments {
        let shape = Shape::new(41, 29, 3, 8).unwrap();
        let mut m = Moments::new(shape);
        m.n = frames;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut unit = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        for i in 0..m.mean.len() {
            let (a, b, c, d, e, f) = (unit(), unit(), unit(), unit(), unit(), unit());
            // Each channel sits at its own level and residual (its robust location), so a bound
            // drawn over all channels must allow for how far apart they are.
            let channel = i % 3;
            m.mean[i] =
                if d < 0.03 { 250.0 } else { 100.0 + 20.0 * a } + [0.0, 12.0, -9.0][channel];
            // Spreads vary continuously, so many subpixels sit near every bound.
            m.m2[i] = 6_000.0 * (0.002 + c * c);
            m.res_mean[i] = 4.0 * (b - 0.5)
                + [0.0, 3.0, -2.5][channel]
                + if d < 0.15 { 40.0 * (e - 0.5) } else { 0.0 };
            m.res_m2[i] = if f < 0.3 {
                2.0
            } else if f > 0.9 {
                40_000.0 * e
            } else {
                2_000.0 * (0.2 + d)
            };
        }
        m
    }

    /// The full pass skips most subpixels with bounds; it must keep exactly what scoring every
    /// subpixel and testing every one for [`frozen`] keeps.
    #[test]
    fn the_pruned_pass_keeps_what_scoring_everything_keeps() {
        let len = 41 * 29 * 3;
        let cases = [
            (20, false, FrozenSearch::Full),
            (30, false, FrozenSearch::Full),
            (1, false, FrozenSearch::Full),
            (10, false, FrozenSearch::Supported),
            (20, true, FrozenSearch::Full),
        ];
        for (frames, dark, search) in cases {
            let m = moments(frames);
            let options = DetectOptions {
                sensitivity: 1.6,
                dark,
                frozen: search,
            };
            let levels = Levels::encoded(m.shape.bit_depth);
            let got = score(&m, &options, &levels);
            let scorer = Scorer {
                m: &m,
                dark,
                location: got.location.clone(),
                scale: got.scale.clone(),
                n: m.frames() as f32,
                geometry: Geometry::of(m.shape),
            };
            let t = got.thresholds;
            let want: Vec<usize> = (0..len)
                .filter(|&i| {
                    let deviation = (scorer.score(i) - t.median).abs();
                    deviation >= t.threshold
                        || (!dark
                            && frozen(&m, scorer.geometry, i, levels.full_scale()).is_some_and(
                                |how| frozen_counts(how, search, frames, deviation, t.threshold),
                            ))
                })
                .collect();
            assert!(want.len() > 20, "the test needs candidates: {}", want.len());
            if !dark && frames > 1 {
                let still = want
                    .iter()
                    .filter(|&&i| (scorer.score(i) - t.median).abs() < t.threshold)
                    .count();
                assert!(still >= 3, "the test needs frozen candidates: {still}");
            }
            assert_eq!(
                got.candidates, want,
                "{frames} frames, dark {dark}, {search:?}"
            );
        }
    }

    /// A subpixel that follows the light half as much as its surroundings while its residual
    /// swings four times as much: frozen by the second test, which counts alone from
    /// [`MIN_SWING_FRAMES`] on, and from fewer frames only with [`FROZEN_SUPPORT`] of the
    /// threshold behind it.
    #[test]
    fn the_swing_test_waits_for_enough_frames_or_support() {
        let shape = Shape::new(20, 20, 3, 8).unwrap();
        let g = Geometry::of(shape);
        let i = shape.index(10, 10, 1);
        let frozen_at = |n: u32| {
            let mut m = Moments::new(shape);
            m.n = n;
            let per = (n - 1) as f32;
            for j in 0..m.m2.len() {
                let (std, res_std) = if j == i { (20.0, 20.0) } else { (40.0, 5.0) };
                m.m2[j] = std * std * per;
                m.res_m2[j] = res_std * res_std * per;
            }
            frozen(&m, g, i, 255.0)
        };
        let (few, enough) = (MIN_SWING_FRAMES - 1, MIN_SWING_FRAMES);
        assert_eq!(frozen_at(few), Some(Frozen::Swinging));
        let threshold = 5.0;
        let below = 0.99 * FROZEN_SUPPORT * threshold;
        let supported = FROZEN_SUPPORT * threshold;
        let counts =
            |search, n, deviation| frozen_counts(Frozen::Swinging, search, n, deviation, threshold);
        assert!(!counts(FrozenSearch::Full, few, below));
        assert!(counts(FrozenSearch::Full, enough, below));
        assert!(counts(FrozenSearch::Full, few, supported));
        assert!(!counts(FrozenSearch::Supported, enough, below));
        assert!(counts(FrozenSearch::Supported, 2, supported));
        assert!(!counts(FrozenSearch::Off, enough, threshold));
        // The first test counts alone whenever every frozen subpixel is looked for.
        assert!(frozen_counts(
            Frozen::Still,
            FrozenSearch::Full,
            2,
            0.0,
            threshold
        ));
        assert!(!frozen_counts(
            Frozen::Still,
            FrozenSearch::Supported,
            2,
            below,
            threshold
        ));
    }
}
