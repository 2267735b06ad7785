//! The CPU backend: the batch arithmetic of [`super::batch`], as the shader does it — exact
//! integer sums of each subpixel's value and of its residual against its same-channel neighbours
//! over a batch of frames, folded into the state once, the count of frames in which the residual
//! is negative, and the dark-current sums of [`super::dark`] — over blocks of subpixels on all
//! cores. `group` holds one group of subpixels' sums while a batch goes by; `avx2` builds them
//! by hand for 8-bit frames, `avx2_wide` for 16-bit ones.

mod avx2;
mod avx2_wide;
mod group;

use rayon::prelude::*;

use self::group::{
    border_group, group_lanes, interior_group, prefetch_ahead, DarkBatch, Group, Lane,
};
use super::batch::{value_shift, wide_to_f32, Fold, MAX_BATCH, RESIDUAL_SCALE};
use super::dark::{DarkTable, DARK_SUMS};
use super::{
    check_shape, split_mean, Accumulator, BackendInfo, BackendKind, Count, DarkMoments, DarkSetup,
    FrameWeights, Moments, StatsError,
};
use crate::geometry::Geometry;
use crate::input::{Frame, Samples, Shape};

/// Groups per parallel block: a block's state stays in L2 while a batch is applied.
const BLOCK_GROUPS: usize = 1024;

/// Subpixels per parallel task when the means are made absolute.
const FINISH_CHUNK: usize = 1 << 16;

/// Frames held and applied together per block: the state (18 bytes a subpixel) is read and
/// written once a batch, so a batch of 8 costs 41 ms a 24 MP frame where 4 cost 70 (both cores;
/// accumulate-only 30 against 20 frames/s), for 4 more frames held.
pub const DEFAULT_BATCH: usize = 8;

/// The batch with dark-current statistics, whose 22 bytes a position make the state large: 4
/// frames, to hold fewer frames beside it.
pub const DARK_BATCH: usize = 4;

/// The batch an accumulator for statistics with (`true`) or without dark-current sums holds.
pub fn batch_for(dark: bool) -> usize {
    if dark {
        DARK_BATCH
    } else {
        DEFAULT_BATCH
    }
}

/// Multi-threaded CPU accumulator; also the reference the GPU backend is tested against.
///
/// The state is a [`Moments`], updated in place.
pub struct CpuAccumulator {
    shape: Shape,
    state: Moments,
    pending: Vec<Frame>,
    batch: usize,
    pool: Option<rayon::ThreadPool>,
    /// The dark-current residual's table, for sRGB frames.
    table: Option<DarkTable>,
    /// Each subpixel's value in the first frame, which the state's means are kept relative to
    /// while it counts ([`value_shift`]; empty when they are absolute).
    shift: Vec<u16>,
}

impl CpuAccumulator {
    /// An accumulator for `shape` on rayon's global pool, batching [`DEFAULT_BATCH`] frames.
    pub fn new(shape: Shape) -> Self {
        Self::with_options(shape, DEFAULT_BATCH, None)
    }

    /// [`CpuAccumulator::new`] keeping dark-current statistics taken with `dark` (none when
    /// `None`): frames that carry an exposure ([`Frame::with_exposure`]) add to them; batching
    /// [`batch_for`] frames.
    pub fn with_dark(shape: Shape, dark: Option<DarkSetup>) -> Self {
        Self::counting_into(
            Moments::with_dark(shape, dark),
            batch_for(dark.is_some()),
            None,
        )
    }

    /// An accumulator keeping dark-current statistics taken with `dark` (none when `None`),
    /// batching `batch` frames, counting into `state`'s memory, cleared first (no new pages to
    /// fault in and zero for a scan counting stretch after stretch).
    pub fn reusing(mut state: Moments, dark: Option<DarkSetup>, batch: usize) -> Self {
        state.clear(dark);
        Self::counting_into(state, batch, None)
    }

    /// An accumulator batching `batch` frames (1 to [`MAX_BATCH`]), on `threads` threads (`None`:
    /// all cores).
    pub fn with_options(shape: Shape, batch: usize, threads: Option<usize>) -> Self {
        Self::counting_into(Moments::new(shape), batch, threads)
    }

    /// An accumulator counting on from `state` (its dark-current statistics too, when it has
    /// them), batching `batch` frames on `threads` threads (`None`: all cores).
    pub fn counting_into(state: Moments, batch: usize, threads: Option<usize>) -> Self {
        let pool = threads.map(|t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t.max(1))
                .build()
                .expect("building a thread pool")
        });
        let batch = batch.clamp(1, MAX_BATCH);
        let table = state
            .dark
            .as_ref()
            .and_then(|d| d.setup.table(state.shape.max_value()));
        let shift = if value_shift(state.shape, state.n) {
            crate::mem::filled(state.shape.subpixels(), 0u16)
        } else {
            Vec::new()
        };
        let mut state = state;
        if shift.is_empty() {
            // Counting on from absolute means: their low parts would no longer match them.
            state.mean_low.iter_mut().for_each(|l| *l = 0.0);
        }
        CpuAccumulator {
            table,
            shape: state.shape,
            state,
            pending: Vec::with_capacity(batch),
            batch,
            pool,
            shift,
        }
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let frames = std::mem::take(&mut self.pending);
        let state = &mut self.state;
        let shift = &mut self.shift[..];
        let table = self.table.as_ref();
        // Each frame's weight in the dark-current sums; its exposure joins the state's.
        let weights: Vec<Option<FrameWeights>> = match state.dark.as_mut() {
            Some(dark) => frames
                .iter()
                .map(|f| f.exposure().map(|e| dark.count_frame(e)))
                .collect(),
            None => vec![None; frames.len()],
        };
        let mut run = move || match frames[0].samples() {
            Samples::U8(_) => {
                let slices: Vec<&[u8]> = frames.iter().filter_map(Frame::as_u8).collect();
                update_blocks(state, shift, &slices, &weights, table)
            }
            Samples::U16(_) => {
                let slices: Vec<&[u16]> = frames.iter().filter_map(Frame::as_u16).collect();
                update_blocks(state, shift, &slices, &weights, table)
            }
        };
        match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        }
        self.pending = Vec::with_capacity(self.batch);
    }
}

/// The dark-current arrays of one block: its positions' sums and clipped counts.
struct DarkBlock<'a> {
    sums: [&'a mut [f32]; DARK_SUMS],
    clipped: &'a mut [Count],
}

/// Applies `frames` in order to the state, block by block on all threads; `shift` holds each
/// subpixel's first value the value means are relative to (set by the first batch; empty: the
/// means are absolute); `weights` are the frames' weights in the dark-current sums, `table`
/// linearises their residual.
fn update_blocks<T: Lane>(
    state: &mut Moments,
    shift: &mut [u16],
    frames: &[&[T]],
    weights: &[Option<FrameWeights>],
    table: Option<&DarkTable>,
) {
    let g = Geometry::of(state.shape);
    let fold = Fold::new(state.n, frames.len() as u32);
    let channels = state.shape.channels as usize;
    let block_len = group_lanes(channels) * BLOCK_GROUPS;
    let blocks = state.mean.len().div_ceil(block_len);
    let first = state.n == 0;
    // One chunk per block, or none when the means are absolute.
    let shift_len = if shift.is_empty() { 0 } else { block_len };
    let mut shifts: Vec<&mut [u16]> = shift.chunks_mut(shift_len.max(1)).collect();
    shifts.resize_with(blocks, Default::default);
    // Frames without an exposure add nothing: a batch of them skips the dark sums.
    let dark_batch = state.dark.as_ref().and_then(|d| {
        weights.iter().any(Option::is_some).then_some(DarkBatch {
            weights,
            clip: d.setup.clip as i32,
            floor: d.setup.floor(),
            table,
            channels,
        })
    });
    let mut dark_blocks: Vec<Option<DarkBlock>> = match state.dark.as_mut() {
        Some(DarkMoments { sums, clipped, .. }) if dark_batch.is_some() => {
            let positions = block_len / channels;
            let mut sums = sums.each_mut().map(|a| a.chunks_mut(positions));
            clipped
                .chunks_mut(positions)
                .map(|clipped| {
                    Some(DarkBlock {
                        sums: sums
                            .each_mut()
                            .map(|c| c.next().expect("as many chunks as the counts")),
                        clipped,
                    })
                })
                .collect()
        }
        _ => Vec::new(),
    };
    dark_blocks.resize_with(blocks, || None);
    state
        .mean
        .par_chunks_mut(block_len)
        .zip(state.m2.par_chunks_mut(block_len))
        .zip(state.res_mean.par_chunks_mut(block_len))
        .zip(state.res_m2.par_chunks_mut(block_len))
        .zip(state.below.par_chunks_mut(block_len))
        .zip(dark_blocks.into_par_iter())
        .zip(shifts.into_par_iter())
        .enumerate()
        .for_each(
            |(b, ((((((mean, m2), res_mean), res_m2), below), dark), shift))| {
                let mut block = Block {
                    start: b * block_len,
                    fold,
                    shift,
                    first,
                    mean,
                    m2,
                    res_mean,
                    res_m2,
                    below,
                    dark,
                };
                update_block(&mut block, g, frames, dark_batch.as_ref());
            },
        );
    state.n += frames.len() as u32;
}

/// One contiguous range of the [`Moments`] arrays, starting at subpixel `start` (a pixel's first),
/// and the fold of the batch into it.
struct Block<'a> {
    start: usize,
    fold: Fold,
    /// The block's value shifts (empty: absolute means), set when this is the `first` batch.
    shift: &'a mut [u16],
    first: bool,
    mean: &'a mut [f32],
    m2: &'a mut [f32],
    res_mean: &'a mut [f32],
    res_m2: &'a mut [f32],
    below: &'a mut [Count],
    dark: Option<DarkBlock<'a>>,
}

impl Block<'_> {
    /// Folds the first `lanes` lanes of `group` into the block's state from `at` (a pixel's first
    /// subpixel): the batch's sums with Chan et al.'s formula, the counts added, and the
    /// dark-current sums of its positions (channels summed in lane order) when `dark` is given.
    #[inline(always)]
    fn fold<T: Lane>(
        &mut self,
        group: &Group<T::Square>,
        at: usize,
        lanes: usize,
        dark: Option<&DarkBatch>,
    ) {
        let fold = self.fold;
        let range = at..at + lanes;
        let (mean, m2) = (&mut self.mean[range.clone()], &mut self.m2[range.clone()]);
        let (res_mean, res_m2) = (&mut self.res_mean[range.clone()], &mut self.res_m2[range]);
        let q = group.q.map(T::squares_to_f32);
        let qr = group.qr.map(T::squares_to_f32);
        if self.shift.is_empty() {
            for j in 0..lanes {
                fold.apply(&mut mean[j], &mut m2[j], group.k[j], group.s[j], q[j], 1.0);
            }
        } else {
            let shift = &mut self.shift[at..at + lanes];
            if self.first {
                for (s, &k) in shift.iter_mut().zip(&group.k) {
                    *s = k as u16;
                }
            }
            for j in 0..lanes {
                let k = group.k[j] - shift[j] as i32;
                fold.apply(&mut mean[j], &mut m2[j], k, group.s[j], q[j], 1.0);
            }
        }
        for j in 0..lanes {
            fold.apply(
                &mut res_mean[j],
                &mut res_m2[j],
                group.kr[j],
                group.sr[j],
                qr[j],
                RESIDUAL_SCALE,
            );
        }
        for (total, &count) in self.below[at..at + lanes].iter_mut().zip(&group.below) {
            *total = total.saturating_add(count as Count);
        }
        if let (Some(block), Some(dark)) = (self.dark.as_mut(), dark) {
            // Unrolled for one and three channels; the same arithmetic for any.
            match dark.channels {
                1 => block.fold_positions::<T, 1>(group, at, lanes, 1),
                3 => block.fold_positions::<T, 3>(group, at, lanes, 3),
                c => block.fold_positions::<T, 0>(group, at, lanes, c),
            }
        }
    }
}

impl DarkBlock<'_> {
    /// Adds the dark-current sums and clipped counts of `group`'s positions (`lanes` lanes from
    /// lane `at` of the block, `c` channels each; `C` is `c` when known at compile time, else 0)
    /// to the block's: a position's channels summed in order, from zero (`channel_sum`).
    #[inline(always)]
    fn fold_positions<T: Lane, const C: usize>(
        &mut self,
        group: &Group<T::Square>,
        at: usize,
        lanes: usize,
        c: usize,
    ) {
        let c = if C > 0 { C } else { c };
        let first = at / c;
        for p in 0..lanes / c {
            for (out, sums) in self.sums.iter_mut().zip(&group.dark) {
                out[first + p] += group::channel_sum(&sums[p * c..(p + 1) * c]);
            }
            self.clipped[first + p] =
                self.clipped[first + p].saturating_add(group.cut[p * c] as Count);
        }
    }
}

/// Applies a batch of whole frames to one block: for every group of subpixels the batch's exact
/// integer sums ([`crate::stats::batch`]) are built in registers frame by frame, then folded into
/// the state once. Runs on AVX2 when the CPU has it.
fn update_block<T: Lane>(
    block: &mut Block,
    g: Geometry,
    frames: &[&[T]],
    dark: Option<&DarkBatch>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { update_block_avx2(block, g, frames, dark) };
            return;
        }
    }
    update_block_portable::<T, false>(block, g, frames, dark)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_block_avx2<T: Lane>(
    block: &mut Block,
    g: Geometry,
    frames: &[&[T]],
    dark: Option<&DarkBatch>,
) {
    update_block_portable::<T, true>(block, g, frames, dark)
}

/// The block loop; `AVX2` says the CPU has it (checked by the caller), so a sample type's own AVX2
/// code ([`Lane::interior_avx2`]) may run. Groups are whole pixels ([`group_lanes`]).
#[inline(always)]
fn update_block_portable<T: Lane, const AVX2: bool>(
    block: &mut Block,
    g: Geometry,
    frames: &[&[T]],
    dark: Option<&DarkBatch>,
) {
    let len = block.mean.len();
    let step = group_lanes(g.channels());
    let (dh, dv) = g.neighbour_offsets();
    let mut local = 0;
    while local < len {
        let lanes = step.min(len - local);
        let base = block.start + local;
        let mut group = Group::<T::Square>::new();
        if lanes == step && g.interior_run(base, group::LANES) {
            prefetch_ahead(frames, base + dv);
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 is there when `AVX2` is set; the group is interior.
            let done = AVX2 && unsafe { T::interior_avx2(frames, base, dh, dv, dark, &mut group) };
            #[cfg(not(target_arch = "x86_64"))]
            let done = false;
            if !done {
                interior_group(frames, base, dh, dv, dark, &mut group);
            }
        } else {
            border_group(&mut group, lanes, g, base, frames, dark);
        }
        block.fold::<T>(&group, local, lanes, dark);
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
        // The value means made absolute again, every digit kept (`Moments::mean_low`).
        let shift = std::mem::take(&mut self.shift);
        if !shift.is_empty() {
            let state = &mut self.state;
            state
                .mean
                .par_chunks_mut(FINISH_CHUNK)
                .zip(state.mean_low.par_chunks_mut(FINISH_CHUNK))
                .zip(shift.par_chunks(FINISH_CHUNK))
                .for_each(|((mean, low), shift)| {
                    for ((m, l), &s) in mean.iter_mut().zip(low).zip(shift) {
                        (*m, *l) = split_mean(s as f64 + *m as f64);
                    }
                });
        }
        Ok(self.state)
    }

    fn frames_held(&self) -> usize {
        self.batch
    }

    fn frames_pending(&self) -> usize {
        self.pending.len()
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

/// 8-bit samples: 32-bit squares, and the AVX2 code of [`avx2`] for interior groups.
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
        dark: Option<&DarkBatch>,
        group: &mut Group<u32>,
    ) -> bool {
        // SAFETY: as the caller promises.
        unsafe { avx2::interior_group(frames, base, dh, dv, dark, group) }
    }
}

/// 16-bit samples: 64-bit squares, and the AVX2 code of [`avx2_wide`] for interior groups.
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
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn interior_avx2(
        frames: &[&[u16]],
        base: usize,
        dh: usize,
        dv: usize,
        dark: Option<&DarkBatch>,
        group: &mut Group<u64>,
    ) -> bool {
        // SAFETY: as the caller promises.
        unsafe { avx2_wide::interior_group(frames, base, dh, dv, dark, group) }
    }
}

#[cfg(test)]
mod tests;
