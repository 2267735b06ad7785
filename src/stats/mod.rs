//! Statistics: [`Moments`] (Welford's running mean and `M2` per subpixel, of the values and of the
//! neighbour residuals, with Chan's merge; and, when the frames say how they were exposed, how
//! each position's residual rises with the exposure, [`dark`]) is the one state; the
//! [`Accumulator`] trait streams frames into it, on the CPU ([`cpu`]) or the GPU ([`gpu`]).

pub mod batch;
pub mod cpu;
pub mod dark;
pub mod gpu;
pub mod state;

pub use dark::{Count, DarkMoments, DarkSetup, FrameWeights};

pub use cpu::CpuAccumulator;
pub use gpu::{GpuAccumulator, GpuContext, GpuError, GpuOptions};

use rayon::prelude::*;
use serde::Serialize;

use crate::input::{Frame, Shape};

/// A mean as its f32 and what lies below it ([`Moments::mean_low`]).
#[inline]
pub fn split_mean(exact: f64) -> (f32, f32) {
    let high = exact as f32;
    (high, (exact - high as f64) as f32)
}

/// The f32 arrays of the state ([`Moments::arrays`]): running means and `M2`s.
pub const STATE_ARRAYS: usize = 4;

/// Bytes of one value of an f32 state array.
pub const STATE_VALUE_BYTES: u64 = std::mem::size_of::<f32>() as u64;

/// Bytes of state per subpixel: a value of each f32 array and the frames-below count.
pub const STATE_BYTES_PER_SUBPIXEL: u64 =
    STATE_ARRAYS as u64 * STATE_VALUE_BYTES + std::mem::size_of::<Count>() as u64;

/// Calls `$callback!($args…, mean, m2, res_mean, res_m2)`: the f32 state arrays in their one
/// order — of [`Moments::arrays`], of the state file and of the shader's bindings
/// ([`STATE_ORDER`]).
macro_rules! state_order {
    ($callback:ident $(, $arg:tt)*) => {
        $callback!($($arg,)* mean, m2, res_mean, res_m2)
    };
}

/// The state arrays' names, in their one order (the fields of [`Moments`]).
pub const STATE_ORDER: [&str; STATE_ARRAYS] = {
    macro_rules! names {
        ($($field:ident),*) => { [$(stringify!($field)),*] };
    }
    state_order!(names)
};

/// Subpixels per task of the element-wise passes over the arrays ([`Moments::merge`],
/// [`Moments::clear`]).
const MERGE_CHUNK: usize = 1 << 16;

/// Per-subpixel running statistics: mean and sum of squared deviations (`M2`) of the values, and
/// the same of the residuals (value − the median of the four same-colour neighbours, see
/// [`crate::geometry::neighbour_estimate`]), over `n` frames; how many of those frames the
/// residual was negative in; and, when the frames say how they were exposed, the dark-current
/// statistics per position ([`DarkMoments`]).
///
/// Every subpixel sees every frame (accumulators take whole frames of one shape), so the count is
/// one number. These arrays are the whole state of a backend: the CPU backend updates them in
/// place, the GPU backend reads them back into one.
///
/// Arrays are indexed like the frame's samples: `(y * width + x) * channels + channel`.
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    /// The frame shape the statistics describe.
    pub shape: Shape,
    /// Frames seen (by every subpixel).
    pub n: u32,
    /// Running mean of each subpixel.
    pub mean: Vec<f32>,
    /// What each mean holds below f32's precision, for 16-bit frames ([`batch::value_shift`]):
    /// the mean is `mean + mean_low` (a mean near 40,000 keeps three binary digits below the
    /// point in one f32, and two parts' means would differ by their rounding when merged).
    /// Empty for 8-bit frames.
    pub mean_low: Vec<f32>,
    /// Running sum of squared deviations from the mean (`M2`); variance is `M2 / (n - 1)`.
    pub m2: Vec<f32>,
    /// Running mean of each subpixel's residual against its neighbours.
    pub res_mean: Vec<f32>,
    /// `M2` of the residuals.
    pub res_m2: Vec<f32>,
    /// Frames in which the subpixel read below its neighbours (a negative residual), counted
    /// exactly up to [`Count::MAX`], where the count stops. A stuck photosite's offset changes
    /// sign with the scene, a hot one's does not: see [`crate::detect::classify`].
    pub below: Vec<Count>,
    /// How each position's residual rises with the exposure, when the frames say how they were
    /// exposed ([`Moments::with_dark`]).
    pub dark: Option<DarkMoments>,
}

impl Moments {
    /// Stores mean `exact` of subpixel `i` as its f32 and what lies below it ([`Moments::mean_low`]).
    pub fn set_mean(&mut self, i: usize, exact: f64) {
        let (high, low) = split_mean(exact);
        self.mean[i] = high;
        if let Some(l) = self.mean_low.get_mut(i) {
            *l = low;
        }
    }

    /// Chan et al.'s merge of the value series with the means' low parts (`na`, `nb` frames).
    fn merge_precise(&mut self, other: &Moments, na: f64, nb: f64) {
        if self.mean_low.is_empty() {
            self.mean_low = crate::mem::filled(self.mean.len(), 0.0);
        }
        let n = na + nb;
        let other_low = |i: usize| other.mean_low.get(i).map_or(0.0, |&l| l as f64);
        self.mean
            .par_chunks_mut(MERGE_CHUNK)
            .zip(self.mean_low.par_chunks_mut(MERGE_CHUNK))
            .zip(self.m2.par_chunks_mut(MERGE_CHUNK))
            .enumerate()
            .for_each(|(c, ((mean, low), m2))| {
                for j in 0..mean.len() {
                    let i = c * MERGE_CHUNK + j;
                    let a = mean[j] as f64 + low[j] as f64;
                    let b = other.mean[i] as f64 + other_low(i);
                    let delta = b - a;
                    (mean[j], low[j]) = split_mean(a + delta * nb / n);
                    m2[j] =
                        (m2[j] as f64 + other.m2[i] as f64 + delta * delta * na * nb / n) as f32;
                }
            });
    }

    /// Back to no frame seen, keeping the arrays' memory (zeroed on all cores), with dark-current
    /// statistics taken with `dark` when these have them.
    pub fn clear(&mut self, dark: Option<DarkSetup>) {
        self.n = 0;
        for a in self.arrays_mut() {
            a.par_chunks_mut(MERGE_CHUNK).for_each(|c| c.fill(0.0));
        }
        self.mean_low
            .par_chunks_mut(MERGE_CHUNK)
            .for_each(|c| c.fill(0.0));
        self.below
            .par_chunks_mut(MERGE_CHUNK)
            .for_each(|c| c.fill(0));
        match (&mut self.dark, dark) {
            (Some(d), Some(setup)) => d.clear(setup),
            (slot, setup) => *slot = setup.map(|s| DarkMoments::new(self.shape, s)),
        }
    }

    /// Empty statistics (no frame seen) for `shape`.
    pub fn new(shape: Shape) -> Self {
        let len = shape.subpixels();
        Moments {
            shape,
            n: 0,
            mean: crate::mem::filled(len, 0.0),
            mean_low: if batch::value_shift(shape, 0) {
                crate::mem::filled(len, 0.0)
            } else {
                Vec::new()
            },
            m2: crate::mem::filled(len, 0.0),
            res_mean: crate::mem::filled(len, 0.0),
            res_m2: crate::mem::filled(len, 0.0),
            below: crate::mem::filled(len, 0),
            dark: None,
        }
    }

    /// [`Moments::new`] with dark-current statistics taken with `setup` (none when `None`).
    pub fn with_dark(shape: Shape, setup: Option<DarkSetup>) -> Self {
        Moments {
            dark: setup.map(|s| DarkMoments::new(shape, s)),
            ..Moments::new(shape)
        }
    }

    /// The setup of these statistics' dark-current part, when they have one.
    pub fn dark_setup(&self) -> Option<DarkSetup> {
        self.dark.as_ref().map(|d| d.setup)
    }

    /// Sample variance of the residual of subpixel `i` (0 when fewer than two frames).
    pub fn res_variance(&self, i: usize) -> f32 {
        self.sample_variance(&self.res_m2, i)
    }

    /// Standard deviation of the residual of subpixel `i`.
    pub fn res_std(&self, i: usize) -> f32 {
        self.res_variance(i).max(0.0).sqrt()
    }

    /// `m2[i] / (n - 1)`, 0 when subpixel `i` saw fewer than two frames.
    fn sample_variance(&self, m2: &[f32], i: usize) -> f32 {
        let n = self.n;
        if n < 2 {
            0.0
        } else {
            m2[i] / (n - 1) as f32
        }
    }

    /// Sample variance `M2 / (n - 1)` of subpixel `i` (0 when fewer than two frames).
    pub fn variance(&self, i: usize) -> f32 {
        self.sample_variance(&self.m2, i)
    }

    /// Standard deviation of subpixel `i` (the square root of [`Moments::variance`]).
    pub fn std(&self, i: usize) -> f32 {
        self.variance(i).max(0.0).sqrt()
    }

    /// Frames seen.
    pub fn frames(&self) -> u32 {
        self.n
    }

    /// The f32 state arrays, in [`STATE_ORDER`]: mean, `M2`, residual mean, residual `M2`.
    pub fn arrays(&self) -> [&Vec<f32>; STATE_ARRAYS] {
        macro_rules! refs {
            ($m:ident, $($field:ident),*) => { [$(&$m.$field),*] };
        }
        state_order!(refs, self)
    }

    /// The f32 state arrays, mutably, in [`STATE_ORDER`].
    pub fn arrays_mut(&mut self) -> [&mut Vec<f32>; STATE_ARRAYS] {
        macro_rules! refs {
            ($m:ident, $($field:ident),*) => { [$(&mut $m.$field),*] };
        }
        state_order!(refs, self)
    }

    /// Adds `other`'s statistics to these with Chan et al.'s parallel formula, as if every frame
    /// of both had been accumulated here. Shapes must match, and both have dark-current
    /// statistics or neither.
    pub fn merge(&mut self, other: &Moments) -> Result<(), StatsError> {
        if self.shape != other.shape {
            return Err(StatsError::ShapeMismatch {
                expected: self.shape.describe(),
                found: other.shape.describe(),
            });
        }
        if self.dark.is_some() != other.dark.is_some() {
            let kept = |m: &Moments| {
                if m.dark.is_some() {
                    "with the exposures' statistics"
                } else {
                    "without the exposures' statistics"
                }
            };
            return Err(StatsError::ShapeMismatch {
                expected: format!("{} {}", self.shape.describe(), kept(self)),
                found: format!("{} {}", other.shape.describe(), kept(other)),
            });
        }
        fn chan(na: f64, nb: f64, mean: &mut f32, m2: &mut f32, mean_b: f32, m2_b: f32) {
            let n = na + nb;
            let delta = mean_b as f64 - *mean as f64;
            *mean = (*mean as f64 + delta * nb / n) as f32;
            *m2 = (*m2 as f64 + m2_b as f64 + delta * delta * na * nb / n) as f32;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        if nb == 0.0 {
            return Ok(());
        }
        // Element by element on all cores: the result does not depend on the threads.
        let pair = |mean: &mut [f32], m2: &mut [f32], mean_b: &[f32], m2_b: &[f32]| {
            mean.par_chunks_mut(MERGE_CHUNK)
                .zip(m2.par_chunks_mut(MERGE_CHUNK))
                .zip(
                    mean_b
                        .par_chunks(MERGE_CHUNK)
                        .zip(m2_b.par_chunks(MERGE_CHUNK)),
                )
                .for_each(|((mean, m2), (mean_b, m2_b))| {
                    for i in 0..mean.len() {
                        chan(na, nb, &mut mean[i], &mut m2[i], mean_b[i], m2_b[i]);
                    }
                });
        };
        if self.mean_low.is_empty() && other.mean_low.is_empty() {
            pair(&mut self.mean, &mut self.m2, &other.mean, &other.m2);
        } else {
            self.merge_precise(other, na, nb);
        }
        pair(
            &mut self.res_mean,
            &mut self.res_m2,
            &other.res_mean,
            &other.res_m2,
        );
        self.below
            .par_chunks_mut(MERGE_CHUNK)
            .zip(other.below.par_chunks(MERGE_CHUNK))
            .for_each(|(a, b)| {
                a.iter_mut()
                    .zip(b)
                    .for_each(|(a, b)| *a = a.saturating_add(*b))
            });
        if let (Some(d), Some(o)) = (self.dark.as_mut(), other.dark.as_ref()) {
            d.merge(o);
        }
        self.n += other.n;
        Ok(())
    }
}

/// Which statistics backend a scan runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Multi-threaded CPU.
    Cpu,
    /// WGSL compute shader through wgpu.
    Gpu,
}

/// The backend a scan ran on, as the report names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackendInfo {
    /// CPU or GPU.
    pub kind: BackendKind,
    /// Adapter name (GPU) or a description of the CPU path.
    pub adapter: String,
    /// Driver name and version (GPU) or empty.
    pub driver: String,
}

/// Errors of the statistics backends.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A frame or state of another shape was given.
    #[error("shape mismatch: expected {expected}, got {found}")]
    ShapeMismatch {
        /// The accumulator's shape.
        expected: String,
        /// The shape given.
        found: String,
    },
    /// The GPU backend failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// Streams frames into per-subpixel Welford statistics. Implemented by the CPU and GPU backends,
/// which give the same results (within f32 rounding).
pub trait Accumulator: Send {
    /// The frame shape this accumulator takes.
    fn shape(&self) -> Shape;
    /// Adds one frame. The backend may batch frames internally; the frame is dropped as soon as
    /// its samples are consumed.
    fn add(&mut self, frame: Frame) -> Result<(), StatsError>;
    /// Flushes pending frames and returns the statistics.
    fn finish(self: Box<Self>) -> Result<Moments, StatsError>;
    /// What this backend is, for reports.
    fn info(&self) -> BackendInfo;
    /// The most frames the backend keeps before consuming them (a CPU batch; 0 when frames are
    /// copied out as they come): with the decoders' window, how many frames can be alive at once.
    fn frames_held(&self) -> usize;
    /// The frames it holds now, not yet consumed (at most [`Accumulator::frames_held`]).
    fn frames_pending(&self) -> usize {
        0
    }
}

pub(crate) fn check_shape(expected: Shape, frame: &Frame) -> Result<(), StatsError> {
    if frame.shape() != expected {
        return Err(StatsError::ShapeMismatch {
            expected: expected.describe(),
            found: frame.shape().describe(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accumulate(shape: Shape, frames: &[Vec<u8>]) -> Moments {
        let mut acc = CpuAccumulator::with_options(shape, 3, Some(2));
        for f in frames {
            acc.add(Frame::from_u8(shape, f.clone()).unwrap()).unwrap();
        }
        Box::new(acc).finish().unwrap()
    }

    #[test]
    fn welford_matches_two_pass_and_merge_matches_one_pass() {
        let shape = Shape::new(3, 2, 1, 8).unwrap();
        let frames: Vec<Vec<u8>> = (0..11u32)
            .map(|f| (0..6u32).map(|i| ((f * 37 + i * 11) % 251) as u8).collect())
            .collect();
        let whole = accumulate(shape, &frames);
        for i in 0..6 {
            let xs: Vec<f64> = frames.iter().map(|f| f[i] as f64).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let m2: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
            assert!((whole.mean[i] as f64 - mean).abs() < 1e-4);
            assert!((whole.m2[i] as f64 - m2).abs() < 1e-3 * m2.max(1.0));
        }
        let mut a = accumulate(shape, &frames[..4]);
        let b = accumulate(shape, &frames[4..]);
        a.merge(&b).unwrap();
        assert_eq!(a.n, whole.n);
        assert_eq!(a.below, whole.below);
        assert!(
            whole.below.iter().any(|&b| b > 0),
            "some subpixel reads below"
        );
        for i in 0..6 {
            assert!((a.mean[i] - whole.mean[i]).abs() < 1e-4);
            assert!((a.m2[i] - whole.m2[i]).abs() < 1e-3 * whole.m2[i].max(1.0));
        }
        let other = Moments::new(Shape::new(2, 3, 1, 8).unwrap());
        assert!(a.merge(&other).is_err());
    }

    #[test]
    fn frames_of_another_shape_are_refused() {
        let mut acc = CpuAccumulator::new(Shape::new(2, 2, 1, 8).unwrap());
        let other = Frame::from_u8(Shape::new(4, 1, 1, 8).unwrap(), vec![0; 4]).unwrap();
        assert!(matches!(
            acc.add(other),
            Err(StatsError::ShapeMismatch { .. })
        ));
    }
}
