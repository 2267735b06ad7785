//! One group of [`LANES`] subpixels while a batch of frames goes by: the batch's exact integer sums
//! of each subpixel's value and doubled residual ([`crate::stats::batch`]) and its frames below
//! the neighbours, held in registers, frame by frame; and, when the frames carry exposures, the
//! dark-current sums of the group's positions ([`crate::stats::dark`]). Portable code the compiler
//! vectorises; [`super::avx2`] does the same for 8-bit frames by hand.

use crate::geometry::{Geometry, NEIGHBOUR_DISTANCE};
use crate::input::Sample;
use crate::stats::batch::{MAX_BATCH, RESIDUAL_SCALE};
use crate::stats::dark::{DarkTable, DARK_SUMS, LINEAR_DARK_SUMS};
use crate::stats::FrameWeights;

/// Lanes kept in registers while a batch of frames is applied to them.
pub(super) const LANES: usize = 16;

/// The lanes a group of frames with `channels` interleaved channels uses: whole pixels, so that a
/// pixel's channels are in one group (the dark-current sums are per pixel).
pub(super) fn group_lanes(channels: usize) -> usize {
    LANES - LANES % channels.max(1)
}

/// How a sample type's batch sums of squares are held in the lanes: those of 8-bit series fit 32
/// bits over a whole batch ([`MAX_BATCH`]), those of 16-bit series need 64.
pub(super) trait Lane: Sample {
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
        _dark: Option<&DarkBatch>,
        _group: &mut Group<Self::Square>,
    ) -> bool {
        false
    }
}

/// The dark-current side of a batch ([`crate::stats::dark`]): each frame's weights in the sums
/// (`None` for a frame without an exposure, which adds nothing), the clip level in samples, the
/// residual's floor and linearising table, and the channels of a position.
#[derive(Clone, Copy, Debug)]
pub(super) struct DarkBatch<'a> {
    /// Per frame of the batch.
    pub weights: &'a [Option<FrameWeights>],
    /// A sample at or above this is clipped.
    pub clip: i32,
    /// A residual below minus this counts as minus this.
    pub floor: f32,
    /// The table that linearises sRGB samples (`None`: linear samples, the residual as it is).
    pub table: Option<&'a DarkTable>,
    /// Interleaved channels: a position is this many consecutive lanes.
    pub channels: usize,
}

/// Twice the residual of `x` against its four neighbours: `2x` minus the sum of the middle two
/// (an integer, so the batch sums stay exact; see [`crate::geometry::median4`]).
#[inline(always)]
pub(super) fn doubled_residual(x: i32, l: i32, r: i32, u: i32, b: i32) -> i32 {
    let lo = l.min(r).min(u.min(b));
    let hi = l.max(r).max(u.max(b));
    2 * x - (l + r + u + b - lo - hi)
}

/// The residual the dark-current sums take of a sample `x` whose doubled residual is `r`: through
/// the batch's table when it has one, else `r` at the residual's scale.
#[inline(always)]
pub(super) fn dark_residual(x: i32, r: i32, table: Option<&DarkTable>) -> f32 {
    match table {
        Some(t) => t.residual(x as u32, (2 * x - r) as u32),
        None => r as f32 * RESIDUAL_SCALE,
    }
}

/// True when a sample `x` whose residual is `residual` is clipped: at or above `clip`, and above
/// its neighbours by at least `floor` (a bright detail of the scene alike there says nothing).
#[inline(always)]
pub(super) fn dark_clipped(x: i32, residual: f32, clip: i32, floor: f32) -> bool {
    x >= clip && residual >= floor
}

/// The batch sums of one group of [`LANES`] subpixels, held in registers while a batch is applied:
/// of the value (`k`, `s`, `q`: shift, sum, sum of squares) and of the doubled residual (`kr`, `sr`,
/// `qr`), the frames in which the residual is negative (`below`); and the dark-current sums of the
/// lanes (`dark`, in [`crate::stats::dark::DARK_SUM_NAMES`]' order, over the frames with an
/// exposure in which the lane's position did not clip: the first four of the [`dark_residual`],
/// floored, times the frame's linear weights; the squares, in a position's first lane, of its
/// channels' summed floored residuals squared times the frame's weight of squares; `cut`: the
/// frames in which it clipped).
pub(super) struct Group<S> {
    pub k: [i32; LANES],
    pub s: [i32; LANES],
    pub q: [S; LANES],
    pub kr: [i32; LANES],
    pub sr: [i32; LANES],
    pub qr: [S; LANES],
    pub below: [i32; LANES],
    pub dark: [[f32; LANES]; DARK_SUMS],
    pub cut: [i32; LANES],
}

impl<S: Copy + Default + std::ops::AddAssign> Group<S> {
    pub fn new() -> Self {
        Group {
            k: [0; LANES],
            s: [0; LANES],
            q: [S::default(); LANES],
            kr: [0; LANES],
            sr: [0; LANES],
            qr: [S::default(); LANES],
            below: [0; LANES],
            dark: [[0.0; LANES]; DARK_SUMS],
            cut: [0; LANES],
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

    /// One frame's dark-current sums over the group's lanes (whole positions of `dark.channels`
    /// lanes), the frame weighing `weights`: a position with a channel [`dark_clipped`] (in a
    /// frame that may clip) is counted in `cut`, the others add their floored doubled residuals
    /// times each weight.
    #[inline(always)]
    pub fn dark_frame(
        &mut self,
        x: &[i32; LANES],
        r: &[i32; LANES],
        weights: FrameWeights,
        dark: &DarkBatch,
    ) {
        let mut cut = [false; LANES];
        let mut kept = [0f32; LANES];
        for j in 0..LANES {
            let residual = dark_residual(x[j], r[j], dark.table);
            cut[j] = weights.clips && dark_clipped(x[j], residual, dark.clip, dark.floor);
            kept[j] = residual.max(-dark.floor);
        }
        let c = dark.channels;
        for p in (0..group_lanes(c)).step_by(c) {
            let any = cut[p..p + c].iter().any(|&k| k);
            cut[p..p + c].fill(any);
            if !any {
                let s = channel_sum(&kept[p..p + c]);
                self.dark[LINEAR_DARK_SUMS][p] += s * s * weights.squares;
            }
        }
        for j in 0..LANES {
            if cut[j] {
                self.cut[j] += 1;
            } else {
                for (sum, w) in self.dark.iter_mut().zip(weights.linear) {
                    sum[j] += kept[j] * w;
                }
            }
        }
    }
}

/// A position's channels' residuals summed in order, from zero (as the shader does).
#[inline(always)]
pub(super) fn channel_sum(residuals: &[f32]) -> f32 {
    residuals.iter().fold(0.0, |a, &r| a + r)
}

/// Frame `f` of the batch: its value and doubled residual in every lane, for the group's sums.
#[inline(always)]
fn take_frame<T: Lane>(
    group: &mut Group<T::Square>,
    f: usize,
    x: &[i32; LANES],
    r: &[i32; LANES],
    dark: Option<&DarkBatch>,
) {
    if f == 0 {
        for j in 0..LANES {
            group.first(j, x[j], r[j]);
        }
    } else {
        for j in 0..LANES {
            group.add::<T>(j, x[j], r[j]);
        }
    }
    if let Some((dark, Some(w))) = dark.map(|d| (d, d.weights[f])) {
        group.dark_frame(x, r, w, dark);
    }
}

/// A group near a border, whose neighbours are mirrored: they are found once for all the batch's
/// frames. Kept out of line so the interior loop stays small. Lanes past `lanes` read the last
/// lane's samples (and are not folded).
#[cold]
#[inline(never)]
pub(super) fn border_group<T: Lane>(
    group: &mut Group<T::Square>,
    lanes: usize,
    g: Geometry,
    base: usize,
    frames: &[&[T]],
    dark: Option<&DarkBatch>,
) {
    let mut ring = [[0usize; 4]; LANES];
    let mut at = [0usize; LANES];
    for j in 0..LANES {
        at[j] = base + j.min(lanes - 1);
        ring[j] = g.ring_indices(at[j], NEIGHBOUR_DISTANCE);
    }
    for (f, frame) in frames.iter().enumerate() {
        let mut x = [0i32; LANES];
        let mut r = [0i32; LANES];
        for j in 0..LANES {
            let [l, rr, u, b] = ring[j].map(|i| frame[i].to_i32());
            x[j] = frame[at[j]].to_i32();
            r[j] = doubled_residual(x[j], l, rr, u, b);
        }
        take_frame::<T>(group, f, &x, &r, dark);
    }
}

/// How far ahead of the group being updated the lowest row's samples are fetched into the cache,
/// in bytes: that row is read for the first time, once per frame of the batch, and the hardware
/// prefetcher does not follow that many streams.
const PREFETCH_BYTES: usize = 1024;

/// Asks for the cache line [`PREFETCH_BYTES`] past sample `at` of every frame.
#[inline(always)]
pub(super) fn prefetch_ahead<T: Sample>(frames: &[&[T]], at: usize) {
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

/// The sums of an interior group, whose neighbours sit at the fixed offsets `dh` and `dv`.
#[inline(always)]
pub(super) fn interior_group<T: Lane>(
    frames: &[&[T]],
    base: usize,
    dh: usize,
    dv: usize,
    dark: Option<&DarkBatch>,
    group: &mut Group<T::Square>,
) {
    for (f, frame) in frames.iter().enumerate() {
        let x = lanes_at(frame, base);
        let (l, rr, u, b) = (
            lanes_at(frame, base - dh),
            lanes_at(frame, base + dh),
            lanes_at(frame, base - dv),
            lanes_at(frame, base + dv),
        );
        let mut r = [0i32; LANES];
        for j in 0..LANES {
            r[j] = doubled_residual(x[j], l[j], rr[j], u[j], b[j]);
        }
        take_frame::<T>(group, f, &x, &r, dark);
    }
}

const _: () = assert!(
    MAX_BATCH <= 32,
    "the AVX2 code's 16-bit sums hold 32 frames"
);
