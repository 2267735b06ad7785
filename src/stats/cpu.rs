//! The CPU backend: the same f32 Welford arithmetic as the shader — for each subpixel's value and
//! for its residual against its same-channel neighbours — over blocks of subpixels on all cores, a
//! batch of frames per block so the state is read and written once per batch.

use rayon::prelude::*;

use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::geometry::{median4, Geometry, NEIGHBOUR_DISTANCE};
use crate::input::{Frame, Sample, Samples, Shape};

/// Subpixels per parallel block: a block's state (16 bytes each) stays in L2 while a batch is
/// applied.
const BLOCK: usize = 16 * 1024;

/// Default number of frames held and applied together per block.
pub const DEFAULT_BATCH: usize = 4;

/// Multi-threaded CPU accumulator; also the reference the GPU backend is tested against.
///
/// The state is a [`Moments`], updated in place.
pub struct CpuAccumulator {
    shape: Shape,
    state: Moments,
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
            shape,
            state: Moments::new(shape),
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
        let state = &mut self.state;
        let mut run = move || match frames[0].samples() {
            Samples::U8(_) => {
                let slices: Vec<&[u8]> = frames.iter().filter_map(Frame::as_u8).collect();
                update_blocks(state, &slices)
            }
            Samples::U16(_) => {
                let slices: Vec<&[u16]> = frames.iter().filter_map(Frame::as_u16).collect();
                update_blocks(state, &slices)
            }
        };
        match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        }
        self.pending = Vec::with_capacity(self.batch);
    }
}

/// Applies `frames` in order to the state, block by block on all threads.
fn update_blocks<T: Sample>(state: &mut Moments, frames: &[&[T]]) {
    let g = Geometry::of(state.shape);
    let count = state.n;
    let inv: Vec<f32> = (0..frames.len())
        .map(|k| 1.0 / (count + k as u32 + 1) as f32)
        .collect();
    state
        .mean
        .par_chunks_mut(BLOCK)
        .zip(state.m2.par_chunks_mut(BLOCK))
        .zip(state.res_mean.par_chunks_mut(BLOCK))
        .zip(state.res_m2.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, (((mean, m2), res_mean), res_m2))| {
            let mut block = Block {
                start: b * BLOCK,
                mean,
                m2,
                res_mean,
                res_m2,
            };
            update_block(&mut block, g, &inv, frames);
        });
    state.n += frames.len() as u32;
}

/// One contiguous range of the [`Moments`] arrays, starting at subpixel `start`.
struct Block<'a> {
    start: usize,
    mean: &'a mut [f32],
    m2: &'a mut [f32],
    res_mean: &'a mut [f32],
    res_m2: &'a mut [f32],
}

/// Lanes kept in registers while a batch of frames is applied to them.
const LANES: usize = 16;

/// Applies a batch of whole frames to one block: for every group of `LANES` subpixels the state
/// is loaded once, updated frame by frame (`inv[k]` is `1/n` for frame `k`), and stored once.
/// The arithmetic per subpixel is that of `shaders/welford.wgsl`: for the value `x` and for the
/// residual `x − median4(neighbours)` alike, `d = v − mean; mean += d · (1/n); M2 += d · (v − mean)`.
/// Runs on AVX2 when the CPU has it.
fn update_block<T: Sample>(block: &mut Block, g: Geometry, inv: &[f32], frames: &[&[T]]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { update_block_avx2(block, g, inv, frames) };
            return;
        }
    }
    update_block_portable(block, g, inv, frames)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_block_avx2<T: Sample>(
    block: &mut Block,
    g: Geometry,
    inv: &[f32],
    frames: &[&[T]],
) {
    update_block_portable(block, g, inv, frames)
}

/// The state of one group of [`LANES`] subpixels, held in registers while a batch is applied.
struct Lanes {
    mu: [f32; LANES],
    s: [f32; LANES],
    rmu: [f32; LANES],
    rs: [f32; LANES],
}

impl Lanes {
    /// Welford's update of lane `j` with value `v` and neighbour estimate `est`, `inv` = 1/n.
    #[inline(always)]
    fn update(&mut self, j: usize, inv: f32, v: f32, est: f32) {
        let d = v - self.mu[j];
        self.mu[j] += d * inv;
        self.s[j] += d * (v - self.mu[j]);
        let r = v - est;
        let dr = r - self.rmu[j];
        self.rmu[j] += dr * inv;
        self.rs[j] += dr * (r - self.rmu[j]);
    }
}

/// A group near a border, whose neighbours are mirrored: they are found once for all the batch's
/// frames. Kept out of line so the interior loop stays small.
#[cold]
#[inline(never)]
fn update_border_group<T: Sample>(
    state: &mut Lanes,
    lanes: usize,
    g: Geometry,
    base: usize,
    inv: &[f32],
    frames: &[&[T]],
) {
    let mut ring = [[0usize; 4]; LANES];
    for (j, r) in ring.iter_mut().enumerate().take(lanes) {
        *r = g.ring_indices(base + j, NEIGHBOUR_DISTANCE);
    }
    for (f, &inv) in frames.iter().zip(inv) {
        for (j, &[l, r, u, b]) in ring.iter().enumerate().take(lanes) {
            let est = median4(f[l].to_f32(), f[r].to_f32(), f[u].to_f32(), f[b].to_f32());
            state.update(j, inv, f[base + j].to_f32(), est);
        }
    }
}

#[inline(always)]
fn update_block_portable<T: Sample>(block: &mut Block, g: Geometry, inv: &[f32], frames: &[&[T]]) {
    let len = block.mean.len();
    let (dh, dv) = g.neighbour_offsets();
    let mut local = 0;
    while local < len {
        let lanes = LANES.min(len - local);
        let base = block.start + local;
        let mut state = Lanes {
            mu: [0f32; LANES],
            s: [0f32; LANES],
            rmu: [0f32; LANES],
            rs: [0f32; LANES],
        };
        state.mu[..lanes].copy_from_slice(&block.mean[local..local + lanes]);
        state.s[..lanes].copy_from_slice(&block.m2[local..local + lanes]);
        state.rmu[..lanes].copy_from_slice(&block.res_mean[local..local + lanes]);
        state.rs[..lanes].copy_from_slice(&block.res_m2[local..local + lanes]);
        if lanes == LANES && g.interior_run(base, LANES) {
            for (f, &inv) in frames.iter().zip(inv) {
                let at = |o: usize| -> &[T; LANES] { f[o..o + LANES].try_into().expect("lanes") };
                let (x, l, r, u, b) = (
                    at(base),
                    at(base - dh),
                    at(base + dh),
                    at(base - dv),
                    at(base + dv),
                );
                for j in 0..LANES {
                    let est = median4(l[j].to_f32(), r[j].to_f32(), u[j].to_f32(), b[j].to_f32());
                    state.update(j, inv, x[j].to_f32(), est);
                }
            }
        } else {
            update_border_group(&mut state, lanes, g, base, inv, frames);
        }
        block.mean[local..local + lanes].copy_from_slice(&state.mu[..lanes]);
        block.m2[local..local + lanes].copy_from_slice(&state.s[..lanes]);
        block.res_mean[local..local + lanes].copy_from_slice(&state.rmu[..lanes]);
        block.res_m2[local..local + lanes].copy_from_slice(&state.rs[..lanes]);
        local += lanes;
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
        Ok(self.state)
    }

    fn frames_held(&self) -> usize {
        self.batch
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
