//! The interior groups of 8-bit frames on AVX2: sixteen subpixels in 16-bit lanes, twice the
//! lanes of the portable code's 32-bit ones. Every number fits: samples and the doubled residual
//! (±510), the shifted sums over a batch of at most [`MAX_BATCH`] frames (±31 × 1020), and the
//! squares, summed in 32-bit lanes by `vpmaddwd` against the even and the odd lanes in turn. The
//! dark-current sums are f32, eight lanes to a register.
#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::group::{group_lanes, DarkBatch, Group, LANES};
use crate::stats::batch::{MAX_BATCH, RESIDUAL_SCALE};
use crate::stats::dark::LINEAR_DARK_SUMS;

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

/// The clipped lanes ([`super::group::dark_clipped`]) of a frame's values `x` whose residuals are
/// `residual` (the low and high eight lanes), as all-ones 16-bit lanes; with three channels, a
/// pixel's lanes are all set when one is (the five whole pixels of the first fifteen lanes; the
/// sixteenth is left clear, unfolded).
#[target_feature(enable = "avx2")]
fn cut_lanes(
    x: __m256i,
    clip: __m256i,
    residual: [__m256; 2],
    floor: __m256,
    channels: usize,
) -> __m256i {
    let at_white = wide_halves(_mm256_cmpgt_epi16(
        x,
        _mm256_sub_epi16(clip, _mm256_set1_epi16(1)),
    ));
    // One bit per lane.
    let half_bits = |h: usize| {
        let above = _mm256_cmp_ps::<_CMP_GE_OQ>(residual[h], floor);
        _mm256_movemask_ps(_mm256_and_ps(_mm256_castsi256_ps(at_white[h]), above)) as u32
    };
    let mut bits = half_bits(0) | half_bits(1) << 8;
    if channels == 3 {
        let any = (bits | (bits >> 1) | (bits >> 2)) & PIXEL_STARTS;
        bits = any | (any << 1) | (any << 2);
    }
    let lane_bits = _mm256_setr_epi16(
        1,
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        512,
        1024,
        2048,
        4096,
        8192,
        16384,
        i16::MIN,
    );
    let v = _mm256_set1_epi16(bits as u16 as i16);
    _mm256_cmpeq_epi16(_mm256_and_si256(v, lane_bits), lane_bits)
}

/// The bits of the first lanes of the five pixels in sixteen lanes of three channels.
const PIXEL_STARTS: u32 = 0b0001_0010_0100_1001;

/// Sixteen 16-bit lanes sign-extended to two registers of eight 32-bit ones.
#[target_feature(enable = "avx2")]
fn wide_halves(v: __m256i) -> [__m256i; 2] {
    [
        _mm256_cvtepi16_epi32(_mm256_castsi256_si128(v)),
        _mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(v)),
    ]
}

/// `super::interior_group` for 8-bit frames. False (nothing done) for dark-current sums of
/// frames of other than one or three channels, which the portable code makes.
///
/// # Safety
/// AVX2 is available; the group and its neighbours lie inside every frame.
#[target_feature(enable = "avx2")]
pub unsafe fn interior_group(
    frames: &[&[u8]],
    base: usize,
    dh: usize,
    dv: usize,
    dark: Option<&DarkBatch>,
    group: &mut Group<u32>,
) -> bool {
    if dark.is_some_and(|d| d.channels != 1 && d.channels != 3) {
        return false;
    }
    // SAFETY: as the caller promises.
    let (k, kr) = unsafe { series(frames[0], base, dh, dv) };
    let even = _mm256_set1_epi32(0xffff);
    let zero = _mm256_setzero_si256();
    let (mut s, mut sr) = (zero, zero);
    let (mut q_even, mut q_odd, mut qr_even, mut qr_odd) = (zero, zero, zero, zero);
    // Comparisons give -1 in true lanes: subtracting them counts.
    let mut below = _mm256_sub_epi16(zero, _mm256_cmpgt_epi16(zero, kr));
    let mut cut = zero;
    // The linear dark sums' low and high eight lanes, and the squares per lane.
    let mut sums = [[_mm256_setzero_ps(); 2]; LINEAR_DARK_SUMS];
    // Per lane (one channel), or per position in the first register's first five lanes (three).
    let mut squares = [_mm256_setzero_ps(); 2];
    let clip = _mm256_set1_epi16(dark.map_or(0, |d| d.clip.min(i16::MAX as i32)) as i16);
    let floor = _mm256_set1_ps(dark.map_or(0.0, |d| d.floor));
    let low = _mm256_set1_ps(dark.map_or(0.0, |d| -d.floor));
    let table = dark.and_then(|d| d.table);
    if table.is_some_and(|t| {
        t.value.len() <= u8::MAX as usize || t.middle.len() <= 2 * u8::MAX as usize
    }) {
        return false;
    }
    for (f, frame) in frames.iter().enumerate() {
        // SAFETY: as the caller promises.
        let (x, r) = if f == 0 {
            (k, kr)
        } else {
            let (x, r) = unsafe { series(frame, base, dh, dv) };
            let d = _mm256_sub_epi16(x, k);
            s = _mm256_add_epi16(s, d);
            q_even = _mm256_add_epi32(q_even, _mm256_madd_epi16(d, _mm256_and_si256(d, even)));
            q_odd = _mm256_add_epi32(q_odd, _mm256_madd_epi16(d, _mm256_andnot_si256(even, d)));
            let e = _mm256_sub_epi16(r, kr);
            sr = _mm256_add_epi16(sr, e);
            qr_even = _mm256_add_epi32(qr_even, _mm256_madd_epi16(e, _mm256_and_si256(e, even)));
            qr_odd = _mm256_add_epi32(qr_odd, _mm256_madd_epi16(e, _mm256_andnot_si256(even, e)));
            below = _mm256_sub_epi16(below, _mm256_cmpgt_epi16(zero, r));
            (x, r)
        };
        if let Some((dark, Some(weights))) = dark.map(|d| (d, d.weights[f])) {
            let residual = match table {
                Some(t) => {
                    let xs = wide_halves(x);
                    let middles = wide_halves(_mm256_sub_epi16(_mm256_add_epi16(x, x), r));
                    // SAFETY: 8-bit samples index `value` (checked above to hold 256 entries)
                    // and sums of two of them `middle` (511 entries).
                    [0, 1].map(|h| unsafe {
                        _mm256_sub_ps(
                            _mm256_i32gather_ps::<4>(t.value.as_ptr(), xs[h]),
                            _mm256_i32gather_ps::<4>(t.middle.as_ptr(), middles[h]),
                        )
                    })
                }
                None => wide_halves(r)
                    .map(|h| _mm256_mul_ps(_mm256_cvtepi32_ps(h), _mm256_set1_ps(RESIDUAL_SCALE))),
            };
            let lanes_cut = if weights.clips {
                cut_lanes(x, clip, residual, floor, dark.channels)
            } else {
                zero
            };
            cut = _mm256_sub_epi16(cut, lanes_cut);
            let cut_halves = wide_halves(lanes_cut);
            let kept = [0, 1].map(|h| {
                _mm256_andnot_ps(
                    _mm256_castsi256_ps(cut_halves[h]),
                    _mm256_max_ps(residual[h], low),
                )
            });
            // Products, then sums: the portable code's rounding, not a fused one.
            for (sum, w) in sums.iter_mut().zip(weights.linear) {
                let w = _mm256_set1_ps(w);
                for (half, k) in sum.iter_mut().zip(kept) {
                    *half = _mm256_add_ps(*half, _mm256_mul_ps(k, w));
                }
            }
            // The squares of whole positions (a clipped one adds zero), in registers: per lane
            // of one channel, per position of three (its channels' lanes gathered by
            // `position_channels` and summed in order: `channel_sum`'s arithmetic).
            let w = _mm256_set1_ps(weights.squares);
            if dark.channels == 3 {
                let [a, b, c] = position_channels(kept);
                let s = _mm256_add_ps(_mm256_add_ps(a, b), c);
                squares[0] = _mm256_add_ps(squares[0], _mm256_mul_ps(_mm256_mul_ps(s, s), w));
            } else {
                for (q, k) in squares.iter_mut().zip(kept) {
                    *q = _mm256_add_ps(*q, _mm256_mul_ps(_mm256_mul_ps(k, k), w));
                }
            }
        }
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
        widen(cut, &mut group.cut);
        for (out, [lo, hi]) in group.dark.iter_mut().zip(sums) {
            _mm256_storeu_ps(out.as_mut_ptr(), lo);
            _mm256_storeu_ps(out.as_mut_ptr().add(8), hi);
        }
        let mut lanes = [0f32; LANES];
        _mm256_storeu_ps(lanes.as_mut_ptr(), squares[0]);
        _mm256_storeu_ps(lanes.as_mut_ptr().add(8), squares[1]);
        group.dark[LINEAR_DARK_SUMS] = match dark.map(|d| d.channels) {
            // A position's square in its first lane.
            Some(3) => std::array::from_fn(|j| {
                if j % 3 == 0 && j < group_lanes(3) {
                    lanes[j / 3]
                } else {
                    0.0
                }
            }),
            _ => lanes,
        };
    }
    true
}

/// The five whole positions of three channels in sixteen lanes (`lanes` as two halves): their
/// first, second and third channels, each in lanes 0–4 of a register (lanes 5–7 zero).
#[target_feature(enable = "avx2")]
fn position_channels(lanes: [__m256; 2]) -> [__m256; 3] {
    let [lo, hi] = lanes;
    // Channel k of position p is lane 3p + k: from the low half while it is below 8.
    let pick = |k: i32| {
        let at = |p: i32| 3 * p + k;
        let from_lo = _mm256_setr_epi32(at(0), at(1), at(2), at(3) & 7, at(4) & 7, 0, 0, 0);
        let from_hi = _mm256_setr_epi32(
            at(0) & 7,
            at(1) & 7,
            at(2) & 7,
            at(3) - 8,
            at(4) - 8,
            0,
            0,
            0,
        );
        let low = _mm256_permutevar8x32_ps(lo, from_lo);
        let high = _mm256_permutevar8x32_ps(hi, from_hi);
        // Lanes whose channel lies in the high half, and the unused lanes 5–7 cleared.
        let in_high = _mm256_castsi256_ps(_mm256_setr_epi32(
            -((at(0) >= 8) as i32),
            -((at(1) >= 8) as i32),
            -((at(2) >= 8) as i32),
            -((at(3) >= 8) as i32),
            -((at(4) >= 8) as i32),
            0,
            0,
            0,
        ));
        let used = _mm256_castsi256_ps(_mm256_setr_epi32(-1, -1, -1, -1, -1, 0, 0, 0));
        _mm256_and_ps(_mm256_blendv_ps(low, high, in_high), used)
    };
    [pick(0), pick(1), pick(2)]
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
