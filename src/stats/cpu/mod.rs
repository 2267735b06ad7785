//! The CPU backend: the batch arithmetic of [`super::batch`], as the shader does it — exact
//! integer sums of each subpixel's value and of its residual against its same-channel neighbours
//! over a batch of frames, folded into the state once, and the count of frames in which the
//! residual is negative — over blocks of subpixels on all cores.

use rayon::prelude::*;

use super::batch::{wide_to_f32, Fold, MAX_BATCH, RESIDUAL_SCALE};
use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::geometry::{Geometry, NEIGHBOUR_DISTANCE};
use crate::input::{Frame, Sample, Samples, Shape};

/// Subpixels per parallel block: a block's state (20 bytes each) stays in L2 while a batch is
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

    /// [`CpuAccumulator::new`] counting into `state`'s memory, cleared first (no new pages to
    /// fault in and zero for a scan counting stretch after stretch).
    pub fn reusing(mut state: Moments) -> Self {
        state.clear();
        Self::counting_into(state, DEFAULT_BATCH, None)
    }

    /// An accumulator batching `batch` frames (1 to [`MAX_BATCH`]), on `threads` threads (`None`:
    /// all cores).
    pub fn with_options(shape: Shape, batch: usize, threads: Option<usize>) -> Self {
        Self::counting_into(Moments::new(shape), batch, threads)
    }

    /// An accumulator counting on from `state`, batching `batch` frames on `threads` threads.
    fn counting_into(state: Moments, batch: usize, threads: Option<usize>) -> Self {
        let pool = threads.map(|t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .expect("building a thread pool")
        });
        let batch = batch.clamp(1, MAX_BATCH);
        CpuAccumulator {
            shape: state.shape,
            state,
            pending: Vec::with_capacity(batch),
            batch,
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
fn update_blocks<T: Lane>(state: &mut Moments, frames: &[&[T]]) {
    let g = Geometry::of(state.shape);
    let fold = Fold::new(state.n, frames.len() as u32);
    state
        .mean
        .par_chunks_mut(BLOCK)
        .zip(state.m2.par_chunks_mut(BLOCK))
        .zip(state.res_mean.par_chunks_mut(BLOCK))
        .zip(state.res_m2.par_chunks_mut(BLOCK))
        .zip(state.below.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, ((((mean, m2), res_mean), res_m2), below))| {
            let mut block = Block {
                start: b * BLOCK,
                fold,
                mean,
                m2,
                res_mean,
                res_m2,
                below,
            };
            update_block(&mut block, g, frames);
        });
    state.n += frames.len() as u32;
}

/// One contiguous range of the [`Moments`] arrays, starting at subpixel `start`, and the fold of
/// the batch into it.
struct Block<'a> {
    start: usize,
    fold: Fold,
    mean: &'a mut [f32],
    m2: &'a mut [f32],
    res_mean: &'a mut [f32],
    res_m2: &'a mut [f32],
    below: &'a mut [f32],
}

/// Lanes kept in registers while a batch of frames is applied to them.
const LANES: usize = 16;

/// How a sample type's batch sums of squares are held in the lanes: those of 8-bit series fit 32
/// bits over a whole batch ([`MAX_BATCH`]), those of 16-bit series need 64.
trait Lane: Sample {
    /// The integer the squares are summed in.
    type Square: Copy + Default + std::ops::AddAssign;
    /// `d²`, exact.
    fn square(d: i32) -> Self::Square;
    /// A sum of squares as an f32, the same number [`wide_to_f32`] gives.
    fn squares_to_f32(q: Self::Square) -> f32;
    /// Builds the sums of an interior group (see [`interior_group`]) with AVX2 instructions
    /// written for this sample type; false when there are none (the portable code runs).
    ///
    /// # Safety
    /// The CPU supports AVX2, and the group and its neighbours `dh` and `dv` away lie inside
    /// every frame.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn interior_avx2(
        _frames: &[&[Self]],
        _base: usize,
        _dh: usize,
        _dv: usize,
        _group: &mut Group<Self::Square>,
    ) -> bool {
        false
    }
}

impl Lane for u8 {
    type Square = u32;
    #[inline(always)]
    fn square(d: i32) -> u32 {
        (d * d) as u32
    }
    #[inline(always)]
    fn squares_to_f32(q: u32) -> f32 {
        // Below 2³¹ over a whole batch, so the signed conversion (one vector instruction) gives
        // the same number as `wide_to_f32`, whose high word is 0.
        q as i32 as f32
    }
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn interior_avx2(
        frames: &[&[u8]],
        base: usize,
        dh: usize,
        dv: usize,
        group: &mut Group<u32>,
    ) -> bool {
        // SAFETY: as the caller promises.
        unsafe { avx2_u8::interior_group(frames, base, dh, dv, group) };
        true
    }
}

impl Lane for u16 {
    type Square = u64;
    #[inline(always)]
    fn square(d: i32) -> u64 {
        (d as i64 * d as i64) as u64
    }
    #[inline(always)]
    fn squares_to_f32(q: u64) -> f32 {
        wide_to_f32(q)
    }
}

/// Twice the residual of `x` against its four neighbours: `2x` minus the sum of the middle two
/// (an integer, so the batch sums stay exact; see [`crate::geometry::median4`]).
#[inline(always)]
fn doubled_residual(x: i32, l: i32, r: i32, u: i32, b: i32) -> i32 {
    let lo = l.min(r).min(u.min(b));
    let hi = l.max(r).max(u.max(b));
    2 * x - (l + r + u + b - lo - hi)
}

/// Applies a batch of whole frames to one block: for every group of `LANES` subpixels the batch's
/// exact integer sums ([`crate::stats::batch`]) are built in registers frame by frame, then folded
/// into the state once. Runs on AVX2 when the CPU has it.
fn update_block<T: Lane>(block: &mut Block, g: Geometry, frames: &[&[T]]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { update_block_avx2(block, g, frames) };
            return;
        }
    }
    update_block_portable::<T, false>(block, g, frames)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_block_avx2<T: Lane>(block: &mut Block, g: Geometry, frames: &[&[T]]) {
    update_block_portable::<T, true>(block, g, frames)
}

/// The batch sums of one group of [`LANES`] subpixels, held in registers while a batch is applied:
/// of the value (`k`, `s`, `q`: shift, sum, sum of squares) and of the doubled residual (`kr`, `sr`,
/// `qr`), and the frames in which the residual is negative (`below`).
struct Group<S> {
    k: [i32; LANES],
    s: [i32; LANES],
    q: [S; LANES],
    kr: [i32; LANES],
    sr: [i32; LANES],
    qr: [S; LANES],
    below: [i32; LANES],
}

impl<S: Copy + Default + std::ops::AddAssign> Group<S> {
    fn new() -> Self {
        Group {
            k: [0; LANES],
            s: [0; LANES],
            q: [S::default(); LANES],
            kr: [0; LANES],
            sr: [0; LANES],
            qr: [S::default(); LANES],
            below: [0; LANES],
        }
    }

    /// Lane `j` of the batch's first frame: value `x`, doubled residual `r`.
    #[inline(always)]
    fn first(&mut self, j: usize, x: i32, r: i32) {
        self.k[j] = x;
        self.kr[j] = r;
        self.below[j] = (r < 0) as i32;
    }

    /// Lane `j` of a later frame.
    #[inline(always)]
    fn add<T: Lane<Square = S>>(&mut self, j: usize, x: i32, r: i32) {
        let d = x - self.k[j];
        self.s[j] += d;
        self.q[j] += T::square(d);
        let e = r - self.kr[j];
        self.sr[j] += e;
        self.qr[j] += T::square(e);
        self.below[j] += (r < 0) as i32;
    }

    /// Folds the group's first `lanes` lanes into the block's state from `at`.
    #[inline(always)]
    fn fold_into<T: Lane<Square = S>>(&self, block: &mut Block, at: usize, lanes: usize) {
        let fold = block.fold;
        let range = at..at + lanes;
        let (mean, m2) = (&mut block.mean[range.clone()], &mut block.m2[range.clone()]);
        let (res_mean, res_m2) = (&mut block.res_mean[range.clone()], &mut block.res_m2[range]);
        let q = self.q.map(T::squares_to_f32);
        let qr = self.qr.map(T::squares_to_f32);
        for j in 0..lanes {
            fold.apply(&mut mean[j], &mut m2[j], self.k[j], self.s[j], q[j], 1.0);
        }
        for j in 0..lanes {
            fold.apply(
                &mut res_mean[j],
                &mut res_m2[j],
                self.kr[j],
                self.sr[j],
                qr[j],
                RESIDUAL_SCALE,
            );
        }
        for (total, &count) in block.below[at..at + lanes].iter_mut().zip(&self.below) {
            *total += count as f32;
        }
    }
}

/// A group near a border, whose neighbours are mirrored: they are found once for all the batch's
/// frames. Kept out of line so the interior loop stays small.
#[cold]
#[inline(never)]
fn border_group<T: Lane>(
    group: &mut Group<T::Square>,
    lanes: usize,
    g: Geometry,
    base: usize,
    frames: &[&[T]],
) {
    let mut ring = [[0usize; 4]; LANES];
    for (j, r) in ring.iter_mut().enumerate().take(lanes) {
        *r = g.ring_indices(base + j, NEIGHBOUR_DISTANCE);
    }
    let taps = |f: &[T], j: usize| {
        let [l, r, u, b] = ring[j].map(|i| f[i].to_i32());
        let x = f[base + j].to_i32();
        (x, doubled_residual(x, l, r, u, b))
    };
    for j in 0..lanes {
        let (x, r) = taps(frames[0], j);
        group.first(j, x, r);
    }
    for f in &frames[1..] {
        for j in 0..lanes {
            let (x, r) = taps(f, j);
            group.add::<T>(j, x, r);
        }
    }
}

/// How far ahead of the group being updated the lowest row's samples are fetched into the cache,
/// in bytes: that row is read for the first time, once per frame of the batch, and the hardware
/// prefetcher does not follow that many streams.
const PREFETCH_BYTES: usize = 1024;

/// Asks for the cache line [`PREFETCH_BYTES`] past sample `at` of every frame.
#[inline(always)]
fn prefetch_ahead<T: Sample>(frames: &[&[T]], at: usize) {
    #[cfg(target_arch = "x86_64")]
    for f in frames {
        let ahead = at + PREFETCH_BYTES / std::mem::size_of::<T>();
        if ahead < f.len() {
            // SAFETY: a prefetch is only a hint; the address lies inside the frame.
            unsafe {
                use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
                _mm_prefetch::<_MM_HINT_T0>(f.as_ptr().add(ahead) as *const i8);
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (frames, at);
}

/// The [`LANES`] samples of frame `f` from `base` as i32.
#[inline(always)]
fn lanes_at<T: Sample>(f: &[T], base: usize) -> [i32; LANES] {
    let s: &[T; LANES] = f[base..base + LANES].try_into().expect("lanes");
    s.map(T::to_i32)
}

/// The values of an interior group and of its neighbours left, right, above and below, `dh` and
/// `dv` subpixels away.
#[allow(clippy::type_complexity)]
#[inline(always)]
fn interior_taps<T: Sample>(
    f: &[T],
    base: usize,
    dh: usize,
    dv: usize,
) -> (
    [i32; LANES],
    [i32; LANES],
    [i32; LANES],
    [i32; LANES],
    [i32; LANES],
) {
    (
        lanes_at(f, base),
        lanes_at(f, base - dh),
        lanes_at(f, base + dh),
        lanes_at(f, base - dv),
        lanes_at(f, base + dv),
    )
}

/// The sums of an interior group, whose neighbours sit at the fixed offsets `dh` and `dv`.
#[inline(always)]
fn interior_group<T: Lane>(
    frames: &[&[T]],
    base: usize,
    dh: usize,
    dv: usize,
    group: &mut Group<T::Square>,
) {
    let (x, l, r, u, b) = interior_taps(frames[0], base, dh, dv);
    for j in 0..LANES {
        group.first(j, x[j], doubled_residual(x[j], l[j], r[j], u[j], b[j]));
    }
    for f in &frames[1..] {
        let (x, l, r, u, b) = interior_taps(f, base, dh, dv);
        for j in 0..LANES {
            group.add::<T>(j, x[j], doubled_residual(x[j], l[j], r[j], u[j], b[j]));
        }
    }
}

/// The block loop; `AVX2` says the CPU has it (checked by the caller), so a sample type's own AVX2
/// code ([`Lane::interior_avx2`]) may run.
#[inline(always)]
fn update_block_portable<T: Lane, const AVX2: bool>(
    block: &mut Block,
    g: Geometry,
    frames: &[&[T]],
) {
    let len = block.mean.len();
    let (dh, dv) = g.neighbour_offsets();
    let mut local = 0;
    while local < len {
        let lanes = LANES.min(len - local);
        let base = block.start + local;
        let mut group = Group::<T::Square>::new();
        if lanes == LANES && g.interior_run(base, LANES) {
            prefetch_ahead(frames, base + dv);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 is there when `AVX2` is set; the group is interior.
            let done = AVX2 && unsafe { T::interior_avx2(frames, base, dh, dv, &mut group) };
            #[cfg(not(target_arch = "x86_64"))]
            let done = false;
            if !done {
                interior_group(frames, base, dh, dv, &mut group);
            }
        } else {
            border_group(&mut group, lanes, g, base, frames);
        }
        group.fold_into::<T>(block, local, lanes);
        local += lanes;
    }
}

/// The interior groups of 8-bit frames on AVX2: sixteen subpixels in 16-bit lanes, twice the
/// lanes of the portable code's 32-bit ones. Every number fits: samples and the doubled residual
/// (±510), the shifted sums over a batch of at most [`MAX_BATCH`] frames (±31 × 1020), and the
/// squares, summed in 32-bit lanes by `vpmaddwd` against the even and the odd lanes in turn.
#[cfg(target_arch = "x86_64")]
mod avx2_u8 {
    use std::arch::x86_64::*;

    use super::{Group, LANES, MAX_BATCH};

    const _: () = assert!(LANES == 16 && MAX_BATCH <= 32);

    /// Sixteen samples from `at`, widened to 16 bits.
    #[target_feature(enable = "avx2")]
    unsafe fn load(f: &[u8], at: usize) -> __m256i {
        debug_assert!(at + 16 <= f.len());
        // SAFETY: the caller keeps `at + 16` inside the frame; AVX2 is enabled.
        unsafe { _mm256_cvtepu8_epi16(_mm_loadu_si128(f.as_ptr().add(at) as *const __m128i)) }
    }

    /// The value and the doubled residual of the group in frame `f`.
    #[target_feature(enable = "avx2")]
    unsafe fn series(f: &[u8], base: usize, dh: usize, dv: usize) -> (__m256i, __m256i) {
        // SAFETY: as the caller promises.
        let (x, l, r, u, b) = unsafe {
            (
                load(f, base),
                load(f, base - dh),
                load(f, base + dh),
                load(f, base - dv),
                load(f, base + dv),
            )
        };
        let lo = _mm256_min_epi16(_mm256_min_epi16(l, r), _mm256_min_epi16(u, b));
        let hi = _mm256_max_epi16(_mm256_max_epi16(l, r), _mm256_max_epi16(u, b));
        let sum = _mm256_add_epi16(_mm256_add_epi16(l, r), _mm256_add_epi16(u, b));
        let middle = _mm256_sub_epi16(_mm256_sub_epi16(sum, lo), hi);
        (x, _mm256_sub_epi16(_mm256_add_epi16(x, x), middle))
    }

    /// `super::interior_group` for 8-bit frames.
    ///
    /// # Safety
    /// AVX2 is available; the group and its neighbours lie inside every frame.
    #[target_feature(enable = "avx2")]
    pub unsafe fn interior_group(
        frames: &[&[u8]],
        base: usize,
        dh: usize,
        dv: usize,
        group: &mut Group<u32>,
    ) {
        // SAFETY: as the caller promises.
        let (k, kr) = unsafe { series(frames[0], base, dh, dv) };
        let even = _mm256_set1_epi32(0xffff);
        let zero = _mm256_setzero_si256();
        let (mut s, mut sr) = (zero, zero);
        let (mut q_even, mut q_odd, mut qr_even, mut qr_odd) = (zero, zero, zero, zero);
        // Comparisons give -1 in true lanes: subtracting them counts.
        let mut below = _mm256_sub_epi16(zero, _mm256_cmpgt_epi16(zero, kr));
        for f in &frames[1..] {
            // SAFETY: as the caller promises.
            let (x, r) = unsafe { series(f, base, dh, dv) };
            let d = _mm256_sub_epi16(x, k);
            s = _mm256_add_epi16(s, d);
            q_even = _mm256_add_epi32(q_even, _mm256_madd_epi16(d, _mm256_and_si256(d, even)));
            q_odd = _mm256_add_epi32(q_odd, _mm256_madd_epi16(d, _mm256_andnot_si256(even, d)));
            let e = _mm256_sub_epi16(r, kr);
            sr = _mm256_add_epi16(sr, e);
            qr_even = _mm256_add_epi32(qr_even, _mm256_madd_epi16(e, _mm256_and_si256(e, even)));
            qr_odd = _mm256_add_epi32(qr_odd, _mm256_madd_epi16(e, _mm256_andnot_si256(even, e)));
            below = _mm256_sub_epi16(below, _mm256_cmpgt_epi16(zero, r));
        }
        // SAFETY: AVX2 is enabled; the stores are to arrays of 16 lanes.
        unsafe {
            widen(k, &mut group.k);
            widen(kr, &mut group.kr);
            widen(s, &mut group.s);
            widen(sr, &mut group.sr);
            widen(below, &mut group.below);
            interleave(q_even, q_odd, &mut group.q);
            interleave(qr_even, qr_odd, &mut group.qr);
        }
    }

    /// Sixteen 16-bit lanes, sign-extended into `out` in order.
    #[target_feature(enable = "avx2")]
    unsafe fn widen(v: __m256i, out: &mut [i32; 16]) {
        let lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v));
        let hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(v));
        // SAFETY: `out` holds 16 lanes; unaligned stores.
        unsafe {
            _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, lo);
            _mm256_storeu_si256(out.as_mut_ptr().add(8) as *mut __m256i, hi);
        }
    }

    /// The sums of the even lanes (`even`) and of the odd ones (`odd`), into `out` in lane order.
    #[target_feature(enable = "avx2")]
    unsafe fn interleave(even: __m256i, odd: __m256i, out: &mut [u32; 16]) {
        // Per 128-bit half: [e0 o0 e1 o1 | e4 o4 e5 o5] and [e2 o2 e3 o3 | e6 o6 e7 o7].
        let (a, b) = (
            _mm256_unpacklo_epi32(even, odd),
            _mm256_unpackhi_epi32(even, odd),
        );
        let first = _mm256_permute2x128_si256::<0x20>(a, b);
        let second = _mm256_permute2x128_si256::<0x31>(a, b);
        // SAFETY: `out` holds 16 lanes; unaligned stores.
        unsafe {
            _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, first);
            _mm256_storeu_si256(out.as_mut_ptr().add(8) as *mut __m256i, second);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 8-bit frames of 64 × 8 pixels, one channel: a checkerboard of 2 × 2 squares, black and
    /// white, so every subpixel's four neighbours are the opposite of it (a residual of ±255), the
    /// first frame inverted; the second frame is pseudo-random. Over a whole batch the residual
    /// sums reach the bounds of the AVX2 code's 16-bit lanes.
    fn frames(count: usize) -> (Geometry, Vec<Vec<u8>>) {
        let shape = Shape::new(64, 8, 1, 8).unwrap();
        let checker = |i: usize| ((i % 64) / 2 + (i / 64) / 2) % 2 == 1;
        let frames = (0..count)
            .map(|f| {
                (0..64 * 8)
                    .map(|i| match f {
                        0 => (!checker(i)) as u8 * 255,
                        1 => ((i * 37 + 11) % 256) as u8,
                        _ => checker(i) as u8 * 255,
                    })
                    .collect()
            })
            .collect();
        (Geometry::of(shape), frames)
    }

    /// The AVX2 code for 8-bit frames builds the same sums as the portable code, up to the largest
    /// batch.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx2_sums_equal_portable_sums() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 on this CPU: nothing to compare");
            return;
        }
        for count in [2, 3, MAX_BATCH] {
            let (g, frames) = frames(count);
            let slices: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
            let (dh, dv) = g.neighbour_offsets();
            let base = 4 * 64 + 2;
            assert!(g.interior_run(base, LANES));
            let mut portable = Group::<u32>::new();
            interior_group(&slices, base, dh, dv, &mut portable);
            let mut avx2 = Group::<u32>::new();
            // SAFETY: AVX2 checked above; the group is interior.
            assert!(unsafe { u8::interior_avx2(&slices, base, dh, dv, &mut avx2) });
            assert_eq!(avx2.k, portable.k, "{count} frames: shift");
            assert_eq!(avx2.s, portable.s, "{count} frames: sum");
            assert_eq!(avx2.q, portable.q, "{count} frames: squares");
            assert_eq!(avx2.kr, portable.kr, "{count} frames: residual shift");
            assert_eq!(avx2.sr, portable.sr, "{count} frames: residual sum");
            assert_eq!(avx2.qr, portable.qr, "{count} frames: residual squares");
            assert_eq!(avx2.below, portable.below, "{count} frames: below");
            if count == MAX_BATCH {
                let widest = portable.sr.iter().map(|v| v.abs()).max().unwrap();
                assert!(widest > 30_000, "the residual sums reach {widest} only");
            }
        }
    }
}
