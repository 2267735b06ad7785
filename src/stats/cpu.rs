//! The CPU backend: the same f32 Welford arithmetic as the shader, over blocks of subpixels on all
//! cores, a batch of frames per block so the state is read and written once per batch.

use rayon::prelude::*;

use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::input::{Frame, Samples, Shape};

/// Subpixels per parallel block: a block's state (8 bytes each) stays in L2 while a batch is applied.
const BLOCK: usize = 32 * 1024;

/// Default number of frames held and applied together per block.
pub const DEFAULT_BATCH: usize = 4;

/// Multi-threaded CPU accumulator; also the reference the GPU backend is tested against.
///
/// Every subpixel sees every frame, so the count is one number; it is expanded into
/// [`Moments::n`] at the end.
pub struct CpuAccumulator {
    shape: Shape,
    count: u32,
    mean: Vec<f32>,
    m2: Vec<f32>,
    pending: Vec<Frame>,
    batch: usize,
    pool: Option<rayon::ThreadPool>,
}

impl CpuAccumulator {
    /// An accumulator for `shape` on rayon's global pool, batching [`DEFAULT_BATCH`] frames.
    pub fn new(shape: Shape) -> Self {
        Self::with_options(shape, DEFAULT_BATCH, None)
    }

    /// An accumulator batching `batch` frames (at least 1), on `threads` threads (`None`: all cores).
    pub fn with_options(shape: Shape, batch: usize, threads: Option<usize>) -> Self {
        let pool = threads.map(|t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .expect("building a thread pool")
        });
        let len = shape.subpixels();
        CpuAccumulator {
            shape,
            count: 0,
            mean: crate::mem::filled(len, 0.0),
            m2: crate::mem::filled(len, 0.0),
            pending: Vec::with_capacity(batch.max(1)),
            batch: batch.max(1),
            pool,
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.pending);
        let (mean, m2, count) = (&mut self.mean, &mut self.m2, self.count);
        let mut run = move || match frames[0].samples() {
            Samples::U8(_) => {
                let slices: Vec<&[u8]> = frames.iter().filter_map(Frame::as_u8).collect();
                update_blocks(mean, m2, count, &slices)
            }
            Samples::U16(_) => {
                let slices: Vec<&[u16]> = frames.iter().filter_map(Frame::as_u16).collect();
                update_blocks(mean, m2, count, &slices)
            }
        };
        let applied = match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        self.count += applied as u32;
        self.pending = Vec::with_capacity(self.batch);
    }
}

/// A packed sample type the CPU path reads directly.
pub trait Sample: Copy + Send + Sync {
    /// The sample as f32.
    fn to_f32(self) -> f32;
}
impl Sample for u8 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
}
impl Sample for u16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// Applies `frames` in order to the state, block by block on all threads, when `count` frames
/// have been seen before. Returns the number of frames applied.
pub fn update_blocks<T: Sample>(
    mean: &mut [f32],
    m2: &mut [f32],
    count: u32,
    frames: &[&[T]],
) -> usize {
    let inv: Vec<f32> = (0..frames.len())
        .map(|k| 1.0 / (count + k as u32 + 1) as f32)
        .collect();
    mean.par_chunks_mut(BLOCK)
        .zip(m2.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, (mean, m2))| {
            let start = b * BLOCK;
            let xs: Vec<&[T]> = frames
                .iter()
                .map(|f| &f[start..start + mean.len()])
                .collect();
            update_block(mean, m2, &inv, &xs);
        });
    frames.len()
}

/// Lanes kept in registers while a batch of frames is applied to them.
const LANES: usize = 32;

/// Applies a batch of frames to one block: for every group of 32 subpixels (`LANES`) the state is
/// loaded once, updated frame by frame (`inv[k]` is `1/n` for frame `k`), and stored once. The
/// arithmetic per subpixel is that of `shaders/welford.wgsl`: `d = x − mean; mean += d · (1/n);
/// M2 += d · (x − mean)`. Runs on AVX2 when the CPU has it.
pub fn update_block<T: Sample>(mean: &mut [f32], m2: &mut [f32], inv: &[f32], xs: &[&[T]]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { update_block_avx2(mean, m2, inv, xs) };
            return;
        }
    }
    update_block_portable(mean, m2, inv, xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_block_avx2<T: Sample>(mean: &mut [f32], m2: &mut [f32], inv: &[f32], xs: &[&[T]]) {
    update_block_portable(mean, m2, inv, xs)
}

#[inline(always)]
fn update_block_portable<T: Sample>(mean: &mut [f32], m2: &mut [f32], inv: &[f32], xs: &[&[T]]) {
    let len = mean.len().min(m2.len());
    let full = len / LANES * LANES;
    for base in (0..full).step_by(LANES) {
        let mut mu = [0f32; LANES];
        let mut s = [0f32; LANES];
        mu.copy_from_slice(&mean[base..base + LANES]);
        s.copy_from_slice(&m2[base..base + LANES]);
        for (x, &inv) in xs.iter().zip(inv) {
            let x: &[T; LANES] = x[base..base + LANES].try_into().expect("lane group");
            for j in 0..LANES {
                let v = x[j].to_f32();
                let d = v - mu[j];
                mu[j] += d * inv;
                s[j] += d * (v - mu[j]);
            }
        }
        mean[base..base + LANES].copy_from_slice(&mu);
        m2[base..base + LANES].copy_from_slice(&s);
    }
    for i in full..len {
        let (mut mu, mut s) = (mean[i], m2[i]);
        for (x, &inv) in xs.iter().zip(inv) {
            let v = x[i].to_f32();
            let d = v - mu;
            mu += d * inv;
            s += d * (v - mu);
        }
        mean[i] = mu;
        m2[i] = s;
    }
}

impl Accumulator for CpuAccumulator {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn add(&mut self, frame: Frame) -> Result<(), StatsError> {
        check_shape(self.shape, &frame)?;
        self.pending.push(frame);
        if self.pending.len() >= self.batch {
            self.flush();
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Moments, StatsError> {
        self.flush();
        Ok(Moments {
            shape: self.shape,
            n: super::Counts::Uniform(self.count),
            mean: std::mem::take(&mut self.mean),
            m2: std::mem::take(&mut self.m2),
        })
    }

    fn info(&self) -> BackendInfo {
        let threads = self
            .pool
            .as_ref()
            .map(|p| p.current_num_threads())
            .unwrap_or_else(rayon::current_num_threads);
        BackendInfo {
            kind: BackendKind::Cpu,
            adapter: format!("CPU ({threads} threads)"),
            driver: String::new(),
        }
    }
}
