//! The CPU backend: the same f32 Welford arithmetic as the shader, over blocks of subpixels on all
//! cores, a small batch of frames per block so the state stays in cache.

use rayon::prelude::*;

use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::input::{Frame, Samples, Shape};

/// Subpixels per parallel block: small enough that a block's state (12 bytes each) stays in L2.
const BLOCK: usize = 16 * 1024;

/// Default number of frames held and applied together per block.
pub const DEFAULT_BATCH: usize = 4;

/// Multi-threaded CPU accumulator; also the reference the GPU backend is tested against.
pub struct CpuAccumulator {
    moments: Moments,
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
        CpuAccumulator {
            moments: Moments::new(shape),
            pending: Vec::new(),
            batch: batch.max(1),
            pool,
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.pending);
        let m = &mut self.moments;
        let mut run = || match frames[0].samples() {
            Samples::U8(_) => {
                let slices: Vec<&[u8]> = frames
                    .iter()
                    .map(|f| match f.samples() {
                        Samples::U8(v) => v.as_slice(),
                        Samples::U16(_) => unreachable!("shape checked"),
                    })
                    .collect();
                update_blocks(&mut m.n, &mut m.mean, &mut m.m2, &slices)
            }
            Samples::U16(_) => {
                let slices: Vec<&[u16]> = frames
                    .iter()
                    .map(|f| match f.samples() {
                        Samples::U16(v) => v.as_slice(),
                        Samples::U8(_) => unreachable!("shape checked"),
                    })
                    .collect();
                update_blocks(&mut m.n, &mut m.mean, &mut m.m2, &slices)
            }
        };
        match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        }
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

/// Applies `frames` in order to the state, block by block, in parallel.
pub fn update_blocks<T: Sample>(n: &mut [u32], mean: &mut [f32], m2: &mut [f32], frames: &[&[T]]) {
    n.par_chunks_mut(BLOCK)
        .zip(mean.par_chunks_mut(BLOCK))
        .zip(m2.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, ((n, mean), m2))| {
            let start = b * BLOCK;
            for f in frames {
                update(n, mean, m2, &f[start..start + n.len()]);
            }
        });
}

/// One Welford step for every subpixel of a block: the exact arithmetic of `shaders/welford.wgsl`.
#[inline]
pub fn update<T: Sample>(n: &mut [u32], mean: &mut [f32], m2: &mut [f32], x: &[T]) {
    for (((n, mu), s), x) in n.iter_mut().zip(mean).zip(m2).zip(x) {
        let x = x.to_f32();
        *n += 1;
        let d = x - *mu;
        *mu += d / *n as f32;
        *s += d * (x - *mu);
    }
}

impl Accumulator for CpuAccumulator {
    fn shape(&self) -> Shape {
        self.moments.shape
    }

    fn add(&mut self, frame: Frame) -> Result<(), StatsError> {
        check_shape(self.moments.shape, &frame)?;
        self.pending.push(frame);
        if self.pending.len() >= self.batch {
            self.flush();
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Moments, StatsError> {
        self.flush();
        Ok(self.moments)
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
