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
/// doubt ([`STRICT_FACTOR`]).
pub const MIN_SCENES: f64 = 4.0;

/// How much higher the score threshold is when the frames show too few scenes. On 640×480 JPEG
/// sets of the simulated camera (36 planted photosites; 26 sets of varied scenes and 9 with bursts,
/// their first 10 frames): precision ≥ 0.92 on every warned report, at most 31 defects listed, and
/// 549 of the 554 defects that 30 frames show at twice the threshold found. 1.5 gave precision
/// ≥ 0.96 but found 540 of them (ten varied frames often amount to fewer than [`MIN_SCENES`]
/// scenes, and it lost their hot photosites that clip in bright scenes); 1.0 (no raise) fell to
/// precision 0.67.
pub const STRICT_FACTOR: f32 = 1.2;

/// Fewer frames than this do not look for stuck subpixels: "varies far less than its
/// surroundings" is not a reliable finding from a handful of spreads (10 frames of varied
/// scenes gave 45–60 false ones on 640×480 synthetic sets).
pub const MIN_FROZEN_FRAMES: u32 = 20;

/// Every this many subpixels is sampled for the median (a 24 MP frame gives ~1.4 M samples).
const SAMPLE_STEP: usize = 51;

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
            for (c, &mean) in geometry.row_classes(y).zip(means) {
                let v = mean as f64;
                let s = &mut sums[c];
                *s = (s.0 + 1.0, s.1 + v, s.2 + v * v);
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
    // Sampled variances: the first `classes` subpixels of every `SAMPLE_STEP`.
    let mut variances: Vec<Vec<f64>> = vec![Vec::new(); classes];
    for start in (0..m.m2.len()).step_by(SAMPLE_STEP) {
        for i in start..(start + classes).min(m.m2.len()) {
            variances[geometry.class_of(i)].push(m.m2[i] as f64 / (n - 1.0));
        }
    }
    let (mut temporal, mut spatial) = (0.0, 0.0);
    for ((count, sum, sum_sq), mut v) in sums.into_iter().zip(variances) {
        if count < 2.0 || v.is_empty() {
            continue;
        }
        let mid = v.len() / 2;
        v.select_nth_unstable_by(mid, f64::total_cmp);
        temporal += v[mid];
        let mean = sum / count;
        spatial += (sum_sq / count - mean * mean).max(0.0);
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

    /// Statistics of `frames` frames cycling through `scenes` random scenes (with a little noise).
    fn moments(scenes: usize, frames: usize) -> Moments {
        let shape = Shape::new(64, 48, 1, 8).unwrap();
        let mut seed = 7u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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
}
