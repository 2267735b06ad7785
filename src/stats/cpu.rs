//! The CPU backend: the same f32 Welford arithmetic as the shader — for each subpixel's value and
//! for its residual against its same-channel neighbours — over blocks of subpixels on all cores, a
//! batch of frames per block so the state is read and written once per batch.

use rayon::prelude::*;

use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::input::{Frame, Samples, Shape};

/// Subpixels per parallel block: a block's state (16 bytes each) stays in L2 while a batch is
/// applied.
const BLOCK: usize = 16 * 1024;

/// Default number of frames held and applied together per block.
pub const DEFAULT_BATCH: usize = 4;

/// Multi-threaded CPU accumulator; also the reference the GPU backend is tested against.
///
/// Every subpixel sees every frame, so the count is one number; it is expanded into
/// [`Moments::n`] at the end.
pub struct CpuAccumulator {
    shape: Shape,
    count: u32,
    state: State,
    pending: Vec<Frame>,
    batch: usize,
    pool: Option<rayon::ThreadPool>,
}

/// The four running arrays of the CPU backend, indexed like the frame's samples.
pub struct State {
    /// Mean of the values.
    pub mean: Vec<f32>,
    /// `M2` of the values.
    pub m2: Vec<f32>,
    /// Mean of the residuals (value − neighbour estimate).
    pub res_mean: Vec<f32>,
    /// `M2` of the residuals.
    pub res_m2: Vec<f32>,
}

impl State {
    /// Zeroed state for `len` subpixels.
    pub fn new(len: usize) -> Self {
        State {
            mean: crate::mem::filled(len, 0.0),
            m2: crate::mem::filled(len, 0.0),
            res_mean: crate::mem::filled(len, 0.0),
            res_m2: crate::mem::filled(len, 0.0),
        }
    }
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
            count: 0,
            state: State::new(shape.subpixels()),
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
        let (state, count, shape) = (&mut self.state, self.count, self.shape);
        let mut run = move || match frames[0].samples() {
            Samples::U8(_) => {
                let slices: Vec<&[u8]> = frames.iter().filter_map(Frame::as_u8).collect();
                update_blocks(state, shape, count, &slices)
            }
            Samples::U16(_) => {
                let slices: Vec<&[u16]> = frames.iter().filter_map(Frame::as_u16).collect();
                update_blocks(state, shape, count, &slices)
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

/// Where a subpixel's same-channel neighbours are: the frame's geometry in subpixels.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    width: usize,
    height: usize,
    channels: usize,
    row: usize,
}

impl Geometry {
    /// The geometry of frames of `shape`.
    pub fn of(shape: Shape) -> Self {
        let (width, height, channels) = (
            shape.width as usize,
            shape.height as usize,
            shape.channels as usize,
        );
        Geometry {
            width,
            height,
            channels,
            row: width * channels,
        }
    }

    /// `value` at subpixel `i`'s four same-channel neighbours `distance` pixels left, right,
    /// above and below (mirrored at the borders), in that order.
    #[inline]
    pub fn ring(&self, i: usize, distance: usize, value: impl Fn(usize) -> f32) -> [f32; 4] {
        let (y, rem) = (i / self.row, i % self.row);
        let (x, c) = (rem / self.channels, rem % self.channels);
        let d = distance as isize;
        let at = |xx: usize, yy: usize| value(yy * self.row + xx * self.channels + c);
        [
            at(reflect(x as isize - d, self.width), y),
            at(reflect(x as isize + d, self.width), y),
            at(x, reflect(y as isize - d, self.height)),
            at(x, reflect(y as isize + d, self.height)),
        ]
    }

    /// The median of [`Geometry::ring`]: the robust estimate from the four neighbours.
    #[inline]
    pub fn ring_median(&self, i: usize, distance: usize, value: impl Fn(usize) -> f32) -> f32 {
        let [a, b, c, d] = self.ring(i, distance, value);
        median4(a, b, c, d)
    }

    /// Like [`Geometry::ring_median`], but near the borders the four come from subpixels whose
    /// own neighbours were mirrored the same way: within `margin` pixels of the top or bottom
    /// border they are `distance` and `2 × distance` pixels left and right in the same row;
    /// within `margin` of the left or right border, above and below in the same column (a
    /// corner takes the row). Statistics of the residual are comparable among such peers only.
    #[inline]
    pub fn peer_median(
        &self,
        i: usize,
        distance: usize,
        margin: usize,
        value: impl Fn(usize) -> f32,
    ) -> f32 {
        let (y, rem) = (i / self.row, i % self.row);
        let (x, c) = (rem / self.channels, rem % self.channels);
        let at = |xx: usize, yy: usize| value(yy * self.row + xx * self.channels + c);
        let d = distance as isize;
        let near = |v: usize, n: usize| v < margin || v + margin >= n;
        if near(y, self.height) {
            let (x, w) = (x as isize, self.width);
            median4(
                at(reflect(x - d, w), y),
                at(reflect(x + d, w), y),
                at(reflect(x - 2 * d, w), y),
                at(reflect(x + 2 * d, w), y),
            )
        } else if near(x, self.width) {
            let (y, h) = (y as isize, self.height);
            median4(
                at(x, reflect(y - d, h)),
                at(x, reflect(y + d, h)),
                at(x, reflect(y - 2 * d, h)),
                at(x, reflect(y + 2 * d, h)),
            )
        } else {
            self.ring_median(i, distance, value)
        }
    }
}

/// Distance, in pixels, of the neighbours a subpixel is compared with.
pub const NEIGHBOUR_DISTANCE: usize = 2;

/// `v` reflected into `0..n` (`-2` → `2`, `n + 1` → `n − 3`), then clamped for tiny frames.
#[inline]
pub fn reflect(v: isize, n: usize) -> usize {
    let last = n as isize - 1;
    let r = if v < 0 {
        -v
    } else if v > last {
        2 * last - v
    } else {
        v
    };
    r.clamp(0, last) as usize
}

/// The robust estimate of four neighbour values: the mean of the middle two (their median).
/// Exact in f32 for integer samples, so every backend gets the same number.
#[inline(always)]
pub fn median4(a: f32, b: f32, c: f32, d: f32) -> f32 {
    let sum = a + b + c + d;
    let lo = a.min(b).min(c.min(d));
    let hi = a.max(b).max(c.max(d));
    (sum - lo - hi) * 0.5
}

/// The neighbour estimate of subpixel `i` of a frame: the median of the same channel at distance
/// [`NEIGHBOUR_DISTANCE`] left, right, above and below (mirrored at the borders). At that distance
/// a defect smeared by demosaicking and JPEG (a 3×3 blob) does not raise its own estimate, and on a
/// Bayer mosaic the four are the nearest photosites of the same colour.
pub fn neighbour_estimate<T: Sample>(frame: &[T], g: Geometry, i: usize) -> f32 {
    g.ring_median(i, NEIGHBOUR_DISTANCE, |j| frame[j].to_f32())
}

/// [`neighbour_estimate`] of subpixel `i` of any frame.
pub fn neighbour_estimate_frame(frame: &Frame, shape: Shape, i: usize) -> f64 {
    let g = Geometry::of(shape);
    match frame.samples() {
        Samples::U8(v) => neighbour_estimate(v, g, i) as f64,
        Samples::U16(v) => neighbour_estimate(v, g, i) as f64,
    }
}

/// Applies `frames` in order to the state, block by block on all threads, when `count` frames
/// have been seen before. Returns the number of frames applied.
pub fn update_blocks<T: Sample>(
    state: &mut State,
    shape: Shape,
    count: u32,
    frames: &[&[T]],
) -> usize {
    let g = Geometry::of(shape);
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
    frames.len()
}

/// One contiguous range of the state, starting at subpixel `start`.
pub struct Block<'a> {
    /// Index of the block's first subpixel.
    pub start: usize,
    /// Mean of the values.
    pub mean: &'a mut [f32],
    /// `M2` of the values.
    pub m2: &'a mut [f32],
    /// Mean of the residuals.
    pub res_mean: &'a mut [f32],
    /// `M2` of the residuals.
    pub res_m2: &'a mut [f32],
}

/// Lanes kept in registers while a batch of frames is applied to them.
const LANES: usize = 16;

/// Applies a batch of whole frames to one block: for every group of `LANES` subpixels the state
/// is loaded once, updated frame by frame (`inv[k]` is `1/n` for frame `k`), and stored once.
/// The arithmetic per subpixel is that of `shaders/welford.wgsl`: for the value `x` and for the
/// residual `x − median4(neighbours)` alike, `d = v − mean; mean += d · (1/n); M2 += d · (v − mean)`.
/// Runs on AVX2 when the CPU has it.
pub fn update_block<T: Sample>(block: &mut Block, g: Geometry, inv: &[f32], frames: &[&[T]]) {
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

/// True when every subpixel of `base..base + LANES` has all four neighbours inside the frame,
/// in the same row band, so they are found at fixed offsets.
#[inline(always)]
fn interior(g: Geometry, base: usize) -> bool {
    let d = NEIGHBOUR_DISTANCE;
    let last = base + LANES - 1;
    let (y0, y1) = (base / g.row, last / g.row);
    let (x0, x1) = ((base % g.row) / g.channels, (last % g.row) / g.channels);
    y0 == y1 && y0 >= d && y0 + d < g.height && x0 >= d && x1 + d < g.width
}

#[inline(always)]
fn update_block_portable<T: Sample>(block: &mut Block, g: Geometry, inv: &[f32], frames: &[&[T]]) {
    let len = block.mean.len();
    let (dh, dv) = (NEIGHBOUR_DISTANCE * g.channels, NEIGHBOUR_DISTANCE * g.row);
    let mut local = 0;
    while local < len {
        let lanes = LANES.min(len - local);
        let base = block.start + local;
        let fast = lanes == LANES && interior(g, base);
        let mut mu = [0f32; LANES];
        let mut s = [0f32; LANES];
        let mut rmu = [0f32; LANES];
        let mut rs = [0f32; LANES];
        mu[..lanes].copy_from_slice(&block.mean[local..local + lanes]);
        s[..lanes].copy_from_slice(&block.m2[local..local + lanes]);
        rmu[..lanes].copy_from_slice(&block.res_mean[local..local + lanes]);
        rs[..lanes].copy_from_slice(&block.res_m2[local..local + lanes]);
        for (f, &inv) in frames.iter().zip(inv) {
            let mut update = |j: usize, v: f32, est: f32| {
                let d = v - mu[j];
                mu[j] += d * inv;
                s[j] += d * (v - mu[j]);
                let r = v - est;
                let dr = r - rmu[j];
                rmu[j] += dr * inv;
                rs[j] += dr * (r - rmu[j]);
            };
            if fast {
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
                    update(j, x[j].to_f32(), est);
                }
            } else {
                for j in 0..lanes {
                    update(j, f[base + j].to_f32(), neighbour_estimate(f, g, base + j));
                }
            }
        }
        block.mean[local..local + lanes].copy_from_slice(&mu[..lanes]);
        block.m2[local..local + lanes].copy_from_slice(&s[..lanes]);
        block.res_mean[local..local + lanes].copy_from_slice(&rmu[..lanes]);
        block.res_m2[local..local + lanes].copy_from_slice(&rs[..lanes]);
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
        let state = std::mem::replace(&mut self.state, State::empty());
        Ok(Moments {
            shape: self.shape,
            n: super::Counts::Uniform(self.count),
            mean: state.mean,
            m2: state.m2,
            res_mean: state.res_mean,
            res_m2: state.res_m2,
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

impl State {
    fn empty() -> Self {
        State {
            mean: Vec::new(),
            m2: Vec::new(),
            res_mean: Vec::new(),
            res_m2: Vec::new(),
        }
    }
}
