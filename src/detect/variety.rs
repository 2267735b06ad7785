//! Scene variety: how many independent scenes the frames amount to, estimated from the statistics
//! alone. Residual statistics tell a defect from the scene only when the scene changes under it;
//! frames of (nearly) one scene — a burst, a tripod series — cannot.
//!
//! If the frames show `k` independent scenes, each subpixel's variance over the frames is about
//! `S·(k−1)/k` (`S`: how much a scene varies from place to place) and the mean image, an average
//! of `k` scenes, varies from place to place by about `S/k`. So
//! `k ≈ 1 + median(variance over frames) / variance of the mean image`, per colour class, summed
//! over the classes. Structure shared by every scene (a sky always at the top) only lowers the
//! estimate, so it errs towards warning.

use rayon::prelude::*;

use crate::geometry::Geometry;
use crate::stats::Moments;

/// Below this many effective scenes a photo scan warns and reports only what stands out beyond
/// doubt ([`threshold_raise`]).
pub const MIN_SCENES: f64 = 4.0;

/// How much higher the score threshold is when the frames show one scene fewer than
/// [`MIN_SCENES`] or less. On 640×480 JPEG sets of the simulated camera (36 planted photosites; 26
/// sets of varied scenes and 9 with bursts, their first 10 frames): precision ≥ 0.92 on every
/// warned report, at most 31 defects listed, and 549 of the 554 defects that 30 frames show at
/// twice the threshold found. 1.5 gave precision ≥ 0.96 but found 540 of them (ten varied frames
/// often amount to fewer than [`MIN_SCENES`] scenes, and it lost their hot photosites that clip
/// in bright scenes); 1.0 (no raise) fell to precision 0.67.
pub const STRICT_FACTOR: f32 = 1.2;

/// How many scenes below [`MIN_SCENES`] the raise takes to grow from 1 to [`STRICT_FACTOR`].
pub const STRICT_RAMP_SCENES: f64 = 1.0;

/// How much higher the score threshold is for frames that show `scenes` independent scenes: 1
/// from [`MIN_SCENES`] on, growing in proportion below it to [`STRICT_FACTOR`] at
/// [`STRICT_RAMP_SCENES`] fewer. A ramp, not a step: an estimate of 3.9 scenes is not much more
/// doubtful than one of 4.1, and a step there lost defects that 30 frames show clearly. (With the
/// step, 10 frames of the sets above found 553 of the 554 such defects — the one missed on a set
/// of 3.9 scenes — and 168 of 176 on the sets with bursts; with the ramp all 554 and 174, at the
/// same precision. On 21 sets drawn for checking afterwards, 228 of 231 and 165 of 169; all 231
/// and 167 once frozen subpixels with support are looked for under the raise too, the bursts'
/// 10-frame reports then at precision ≥ 0.75 with at most 26 listed, all warned.)
pub fn threshold_raise(scenes: f64) -> f32 {
    let short = ((MIN_SCENES - scenes) / STRICT_RAMP_SCENES).clamp(0.0, 1.0);
    1.0 + (STRICT_FACTOR - 1.0) * short as f32
}

/// Fewer frames than this do not take "varies far less than its surroundings" alone for a stuck
/// subpixel: it is not a reliable finding from a handful of spreads (10 frames of varied scenes
/// gave 45–60 false ones on 640×480 synthetic sets); only a frozen subpixel that also stands out
/// ([`FrozenSearch::Supported`](crate::detect::FrozenSearch::Supported)) counts.
pub const MIN_FROZEN_FRAMES: u32 = 20;

/// Every this many subpixels is sampled for the median (a 24 MP frame gives ~1.4 M samples).
const SAMPLE_STEP: usize = 51;

/// Lanes summed side by side: a multiple of every period of classes along a row (1, 2, 3 and 4
/// subpixels), so lane `j` always holds position `j % period`, and enough independent sums for
/// the additions to overlap (the compiler keeps them in vector registers).
const LANES: usize = 24;

/// Count, sum and sum of squares of `values` at each position `k` of a period of `period`
/// subpixels (`values[k]`, `values[k + period]`, …; `period` divides [`LANES`]); positions from
/// `period` on are zero.
fn period_sums(values: &[f32], period: usize) -> [(f64, f64, f64); LANES] {
    assert!(LANES.is_multiple_of(period), "{period} classes");
    let (mut sum, mut square) = ([0f64; LANES], [0f64; LANES]);
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for j in 0..LANES {
            let v = chunk[j] as f64;
            sum[j] += v;
            square[j] += v * v;
        }
    }
    let mut out = [(0f64, 0f64, 0f64); LANES];
    for j in 0..LANES {
        let o = &mut out[j % period];
        *o = (
            o.0 + (values.len() / LANES) as f64,
            o.1 + sum[j],
            o.2 + square[j],
        );
    }
    for (j, &v) in rest.iter().enumerate() {
        let (o, v) = (&mut out[j % period], v as f64);
        *o = (o.0 + 1.0, o.1 + v, o.2 + v * v);
    }
    out
}

/// The number of independent scenes the frames of `m` amount to (1 for one scene; about the
/// number of frames for frames of unrelated scenes).
pub fn effective_scenes(m: &Moments) -> f64 {
    let geometry = Geometry::of(m.shape);
    let classes = geometry.classes();
    let n = m.n.max(2) as f64;
    // Per class: count, sum and sum of squares of the means, summed per row on all cores (the
    // rows' sums then added in order, so the result does not depend on the threads).
    let row = m.shape.width as usize * m.shape.channels as usize;
    let rows: Vec<Vec<(f64, f64, f64)>> = m
        .mean
        .par_chunks(row)
        .enumerate()
        .map(|(y, means)| {
            let mut sums = vec![(0f64, 0f64, 0f64); classes];
            // Along a row the classes repeat every `classes` subpixels.
            for (k, s) in period_sums(means, classes)
                .into_iter()
                .enumerate()
                .take(classes)
            {
                let t = &mut sums[geometry.class(k, y)];
                *t = (t.0 + s.0, t.1 + s.1, t.2 + s.2);
            }
            sums
        })
        .collect();
    let mut sums = vec![(0f64, 0f64, 0f64); classes];
    for r in rows {
        for (s, t) in sums.iter_mut().zip(r) {
            *s = (s.0 + t.0, s.1 + t.1, s.2 + t.2);
        }
    }
    // Sampled variances: the first `classes` subpixels of every `SAMPLE_STEP`, row by row on all
    // cores (so a subpixel's class needs no division), then gathered per class in row order.
    let rows: Vec<Vec<Vec<f64>>> =
        m.m2.par_chunks(row)
            .enumerate()
            .map(|(y, m2)| {
                let mut variances = vec![Vec::new(); classes];
                let row_start = y * row;
                let first = row_start - row_start % SAMPLE_STEP;
                for start in (first..row_start + m2.len()).step_by(SAMPLE_STEP) {
                    for i in start.max(row_start)..(start + classes).min(row_start + m2.len()) {
                        let k = i - row_start;
                        variances[geometry.class(k, y)].push(m2[k] as f64 / (n - 1.0));
                    }
                }
                variances
            })
            .collect();
    let mut variances: Vec<Vec<f64>> = vec![Vec::new(); classes];
    for r in rows {
        for (v, w) in variances.iter_mut().zip(r) {
            v.extend(w);
        }
    }
    // Per class (the medians found on all cores, then added in class order).
    let parts: Vec<Option<(f64, f64)>> = sums
        .into_par_iter()
        .zip(variances)
        .map(|((count, sum, sum_sq), mut v)| {
            if count < 2.0 || v.is_empty() {
                return None;
            }
            let mid = v.len() / 2;
            let median = *v.select_nth_unstable_by(mid, f64::total_cmp).1;
            let mean = sum / count;
            Some((median, (sum_sq / count - mean * mean).max(0.0)))
        })
        .collect();
    let (mut temporal, mut spatial) = (0.0, 0.0);
    for (median, variance) in parts.into_iter().flatten() {
        temporal += median;
        spatial += variance;
    }
    if spatial <= 0.0 {
        return 1.0;
    }
    1.0 + temporal / spatial
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Shape;
    use crate::stats::{Accumulator, CpuAccumulator};
    use crate::Frame;

    /// A xorshift generator of 64-bit numbers from `seed` (not 0).
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// The raise has no step: 1 from [`MIN_SCENES`] on, [`STRICT_FACTOR`] from
    /// [`STRICT_RAMP_SCENES`] fewer, in proportion between.
    #[test]
    fn the_raise_grows_without_a_step() {
        assert_eq!(threshold_raise(MIN_SCENES), 1.0);
        assert_eq!(threshold_raise(MIN_SCENES + 3.0), 1.0);
        let full = MIN_SCENES - STRICT_RAMP_SCENES;
        assert_eq!(threshold_raise(full), STRICT_FACTOR);
        assert_eq!(threshold_raise(1.0), STRICT_FACTOR);
        let half = threshold_raise(MIN_SCENES - 0.5 * STRICT_RAMP_SCENES);
        assert!((half - (1.0 + STRICT_FACTOR) / 2.0).abs() < 1e-6, "{half}");
        assert!(threshold_raise(MIN_SCENES - 0.01) < 1.01);
    }

    /// Statistics of `frames` frames cycling through `scenes` random scenes (with a little noise).
    fn moments(scenes: usize, frames: usize) -> Moments {
        let shape = Shape::new(64, 48, 1, 8).unwrap();
        let mut rand = xorshift(7);
        let pictures: Vec<Vec<u8>> = (0..scenes)
            .map(|_| (0..64 * 48).map(|_| (rand() % 200) as u8 + 20).collect())
            .collect();
        let mut acc = Box::new(CpuAccumulator::new(shape));
        for f in 0..frames {
            let noisy = pictures[f % scenes]
                .iter()
                .map(|&v| v.wrapping_add((rand() % 3) as u8))
                .collect();
            acc.add(Frame::from_u8(shape, noisy).unwrap()).unwrap();
        }
        acc.finish().unwrap()
    }

    #[test]
    fn the_estimate_counts_the_scenes() {
        let one = effective_scenes(&moments(1, 20));
        assert!(one < 1.1, "{one}");
        let three = effective_scenes(&moments(3, 30));
        assert!((2.5..3.5).contains(&three), "{three}");
        let many = effective_scenes(&moments(40, 40));
        assert!(many > 25.0, "{many}");
    }

    /// The estimate as defined, written plainly: every mean added in subpixel order into its
    /// class's sums, the variances of the first `classes` subpixels of every [`SAMPLE_STEP`].
    fn plain(m: &Moments) -> f64 {
        let g = Geometry::of(m.shape);
        let n = m.n.max(2) as f64;
        let mut sums = vec![(0f64, 0f64, 0f64); g.classes()];
        for (i, &v) in m.mean.iter().enumerate() {
            let (s, v) = (&mut sums[g.class_of(i)], v as f64);
            *s = (s.0 + 1.0, s.1 + v, s.2 + v * v);
        }
        let mut variances = vec![Vec::new(); g.classes()];
        for (i, &m2) in m.m2.iter().enumerate() {
            if i % SAMPLE_STEP < g.classes() {
                variances[g.class_of(i)].push(m2 as f64 / (n - 1.0));
            }
        }
        let (mut temporal, mut spatial) = (0.0, 0.0);
        for ((count, sum, sum_sq), mut v) in sums.into_iter().zip(variances) {
            let mid = v.len() / 2;
            temporal += *v.select_nth_unstable_by(mid, f64::total_cmp).1;
            let mean = sum / count;
            spatial += sum_sq / count - mean * mean;
        }
        1.0 + temporal / spatial
    }

    /// The row-wise sums in lanes and the row-wise sampling give the plain definition's estimate
    /// (up to the order of additions), for every period of classes, on rows that are not a
    /// multiple of the lanes or of the sampling step.
    #[test]
    fn the_fast_passes_compute_the_definition() {
        let mut rand = xorshift(11);
        let shapes = [
            Shape::new(97, 31, 1, 8).unwrap(),
            Shape::new(101, 29, 3, 8).unwrap(),
            Shape::raw(94, 33, crate::input::Cfa::parse("RGGB").unwrap()).unwrap(),
        ];
        for shape in shapes {
            let mut m = Moments::new(shape);
            m.n = 12;
            for i in 0..m.mean.len() {
                m.mean[i] = (rand() % 4000) as f32 / 16.0 + (i % 7) as f32;
                m.m2[i] = (rand() % 100_000) as f32 / 8.0;
            }
            let (fast, want) = (effective_scenes(&m), plain(&m));
            assert!(
                (fast - want).abs() <= 1e-9 * want,
                "{shape:?}: {fast} against {want}"
            );
        }
    }
}
