//! The batch arithmetic both backends share (`shaders/welford.wgsl` mirrors it line for line): a
//! batch of frames becomes exact integer sums per subpixel, shifted by the batch's first frame, and
//! the sums are folded into the f32 [`Moments`](super::Moments) once per batch with Chan et al.'s
//! formula.
//!
//! For each subpixel and each of its two series — the value `x` and twice the residual,
//! `2x − (sum of the four neighbours − lowest − highest)`, an integer — the batch keeps `k`, the
//! series' value in the batch's first frame, and the sums `Σd` and `Σd²` of `d = v − k` over the
//! batch. Per frame that is a few integer adds and one multiply, with no dependency between frames
//! but the adds. The shift makes the fold accurate: the batch's own `M2 = Σd² − (Σd)²/B` cancels at
//! most a factor `B + 1` (the first frame is one of the batch's values), so its relative error stays
//! within `(B + 1)` f32 roundings however far the values sit from zero.

/// Most frames in one batch. Keeps every sum exact and small: `|Σd|` of the 16-bit doubled
/// residual (`|d| ≤ 2 × 131,070`) stays below 2²⁴, so it is also exact as an f32; `Σd²` of 8-bit
/// input fits 32 bits, and `Σd` of its doubled residual (`|d| ≤ 1020`) 16 bits.
pub const MAX_BATCH: usize = 32;

/// Whether an accumulator for `shape` starting from `n` frames keeps its value means relative to
/// each subpixel's value in its first frame, and so holds a shift per subpixel ([`SHIFT_BYTES_PER_SUBPIXEL`] on the CPU):
/// 16-bit frames counted from the start. A mean near 40,000 keeps only three binary digits below
/// the point in f32, and the batch folds then lose `M2`'s digits (5e-4 of it over 3,000 frames);
/// relative to the first value the mean is small and every digit stays. 8-bit means never
/// exceed 255. Both backends follow the rule.
pub fn value_shift(shape: crate::input::Shape, n: u32) -> bool {
    shape.bit_depth == 16 && n == 0
}

/// Bytes of the value shift per subpixel ([`value_shift`]).
pub const SHIFT_BYTES_PER_SUBPIXEL: u64 = std::mem::size_of::<u16>() as u64;

/// The value of a 64-bit sum's high 32-bit word: 2³².
pub const HIGH_WORD: f32 = 4_294_967_296.0;

/// The doubled residual in the state's units: the fold's `scale` for that series.
pub const RESIDUAL_SCALE: f32 = 0.5;

/// `v` as an f32 the way the shader converts its two 32-bit words: `hi × 2³² + lo`.
#[inline(always)]
pub fn wide_to_f32(v: u64) -> f32 {
    ((v >> 32) as u32) as f32 * HIGH_WORD + (v as u32) as f32
}

/// The numbers a fold needs that are the same for every subpixel of a batch: the batch of
/// `frames` frames follows `count` frames already in the state.
#[derive(Clone, Copy, Debug)]
pub struct Fold {
    /// `frames`, as f32.
    frames: f32,
    /// `1 / frames`.
    inv_batch: f32,
    /// `frames / (count + frames)`: the batch's share of the merged statistics.
    weight: f32,
}

impl Fold {
    /// The fold of a batch of `frames` frames after `count` frames.
    pub fn new(count: u32, frames: u32) -> Self {
        Fold {
            frames: frames as f32,
            inv_batch: 1.0 / frames as f32,
            weight: frames as f32 / (count + frames) as f32,
        }
    }

    /// Folds a batch into a subpixel's running `mean` and `m2` with Chan et al.'s parallel formula,
    /// its `M2` term written as `B·δ·(batch mean − new mean)` (Welford's form for a batch: it
    /// measures from the mean as stored, so a mean that f32 can no longer move stays consistent
    /// with its `M2`):
    /// `shift` is the series' value in the batch's first frame, `sum` and `squares` are `Σd` and
    /// `Σd²` of `d = v − shift` over the batch (`squares` converted by [`wide_to_f32`]). `scale`
    /// converts the series to the state's units: 1 for values, [`RESIDUAL_SCALE`] for the doubled
    /// residual.
    #[inline(always)]
    pub fn apply(
        &self,
        mean: &mut f32,
        m2: &mut f32,
        shift: i32,
        sum: i32,
        squares: f32,
        scale: f32,
    ) {
        let sum = sum as f32;
        let batch_mean = (shift as f32 + sum * self.inv_batch) * scale;
        let batch_m2 = (squares - sum * sum * self.inv_batch).max(0.0) * (scale * scale);
        let delta = batch_mean - *mean;
        *mean += delta * self.weight;
        *m2 += batch_m2 + delta * (batch_mean - *mean) * self.frames;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fold of exact sums against a float64 two-pass computation, for values far from zero
    /// that barely move (where unshifted sums would cancel every digit) and for full-range ones.
    #[test]
    fn folded_batches_match_two_pass() {
        for (base, spread) in [(65_000i64, 3i64), (0, 65_535), (30_000, 400)] {
            let values: Vec<i64> = (0..200i64)
                .map(|i| base + (i * 7919 + i * i * 31) % spread.max(1))
                .collect();
            let (mut mean, mut m2, mut count) = (0f32, 0f32, 0u32);
            for batch in values.chunks(MAX_BATCH / 2 + 3) {
                let shift = batch[0];
                let (mut sum, mut squares) = (0i32, 0u64);
                for &v in batch {
                    sum += (v - shift) as i32;
                    squares += ((v - shift) * (v - shift)) as u64;
                }
                let squares = wide_to_f32(squares);
                Fold::new(count, batch.len() as u32).apply(
                    &mut mean,
                    &mut m2,
                    shift as i32,
                    sum,
                    squares,
                    1.0,
                );
                count += batch.len() as u32;
            }
            let n = values.len() as f64;
            let exact_mean = values.iter().sum::<i64>() as f64 / n;
            let exact_m2: f64 = values
                .iter()
                .map(|&v| (v as f64 - exact_mean).powi(2))
                .sum();
            assert!((mean as f64 - exact_mean).abs() <= 1e-6 * exact_mean.abs().max(1.0));
            assert!(
                (m2 as f64 - exact_m2).abs() <= 1e-4 * exact_m2,
                "base {base}: M2 {m2} against {exact_m2}"
            );
        }
    }

    #[test]
    fn wide_values_convert_like_the_shader() {
        assert_eq!(wide_to_f32(0), 0.0);
        assert_eq!(wide_to_f32(65_025), 65_025.0);
        assert_eq!(wide_to_f32(5 << 32 | 7), 5.0 * 4_294_967_296.0 + 7.0);
    }
}
