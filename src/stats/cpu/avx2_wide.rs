//! The interior groups of 16-bit frames on AVX2: sixteen subpixels in two registers of eight
//! 32-bit lanes. Every number fits: samples (≤ 65,535), the doubled residual (±131,070) and the
//! shifted sums over a batch of at most [`MAX_BATCH`] frames (±32 × 262,140); the squares, up to
//! 262,140², are summed in 64-bit lanes, `vpmuldq` taking the even and the odd lanes in turn. The
//! dark-current sums are made here for frames of one channel with a linear residual (RAW
//! photosites); other 16-bit frames with dark-current sums run the portable code.
#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::group::{DarkBatch, Group, LANES};
use crate::stats::batch::{MAX_BATCH, RESIDUAL_SCALE};
use crate::stats::dark::LINEAR_DARK_SUMS;

const _: () = assert!(LANES == 16 && MAX_BATCH <= 32);

/// Lanes of one register.
const HALF: usize = LANES / 2;

/// Eight samples from `at`, widened to 32 bits.
///
/// # Safety
/// AVX2 is available and `at + 8` lies inside the frame.
#[target_feature(enable = "avx2")]
unsafe fn load(f: &[u16], at: usize) -> __m256i {
    debug_assert!(at + HALF <= f.len());
    // SAFETY: as the caller promises; an unaligned load.
    unsafe { _mm256_cvtepu16_epi32(_mm_loadu_si128(f.as_ptr().add(at) as *const __m128i)) }
}

/// The values and doubled residuals of eight lanes from `at` in frame `f`.
///
/// # Safety
/// AVX2 is available; the lanes and their neighbours `dh` and `dv` away lie inside the frame.
#[target_feature(enable = "avx2")]
unsafe fn series(f: &[u16], at: usize, dh: usize, dv: usize) -> (__m256i, __m256i) {
    // SAFETY: as the caller promises.
    let (x, l, r, u, b) = unsafe {
        (
            load(f, at),
            load(f, at - dh),
            load(f, at + dh),
            load(f, at - dv),
            load(f, at + dv),
        )
    };
    let lo = _mm256_min_epi32(_mm256_min_epi32(l, r), _mm256_min_epi32(u, b));
    let hi = _mm256_max_epi32(_mm256_max_epi32(l, r), _mm256_max_epi32(u, b));
    let sum = _mm256_add_epi32(_mm256_add_epi32(l, r), _mm256_add_epi32(u, b));
    let middle = _mm256_sub_epi32(_mm256_sub_epi32(sum, lo), hi);
    (x, _mm256_sub_epi32(_mm256_add_epi32(x, x), middle))
}

/// Adds the squares of `d`'s eight lanes, exact in 64 bits, to `even` (its lanes 0, 2, 4, 6) and
/// `odd` (1, 3, 5, 7).
#[target_feature(enable = "avx2")]
fn add_squares(d: __m256i, even: &mut __m256i, odd: &mut __m256i) {
    *even = _mm256_add_epi64(*even, _mm256_mul_epi32(d, d));
    let high = _mm256_srli_epi64::<32>(d);
    *odd = _mm256_add_epi64(*odd, _mm256_mul_epi32(high, high));
}

/// One series' batch sums of eight lanes: shift, sum, squares of the even and the odd lanes.
#[derive(Clone, Copy)]
struct Sums {
    k: __m256i,
    s: __m256i,
    even: __m256i,
    odd: __m256i,
}

impl Sums {
    /// The sums of a batch whose first frame's values are `k`.
    #[target_feature(enable = "avx2")]
    fn first(k: __m256i) -> Self {
        let zero = _mm256_setzero_si256();
        Sums {
            k,
            s: zero,
            even: zero,
            odd: zero,
        }
    }

    /// Adds a later frame's values `v`.
    #[target_feature(enable = "avx2")]
    fn add(&mut self, v: __m256i) {
        let d = _mm256_sub_epi32(v, self.k);
        self.s = _mm256_add_epi32(self.s, d);
        add_squares(d, &mut self.even, &mut self.odd);
    }

    /// Stores lanes `8h..8h + 8` of the shift, the sum and the squares.
    ///
    /// # Safety
    /// AVX2 is available; `h` is 0 or 1.
    #[target_feature(enable = "avx2")]
    unsafe fn store(
        &self,
        h: usize,
        k: &mut [i32; LANES],
        s: &mut [i32; LANES],
        q: &mut [u64; LANES],
    ) {
        let mut even = [0u64; 4];
        let mut odd = [0u64; 4];
        // SAFETY: stores of whole registers into arrays of their size, or of half a group's lanes
        // from lane 8h, `h` being 0 or 1; unaligned.
        unsafe {
            _mm256_storeu_si256(k.as_mut_ptr().add(HALF * h) as *mut __m256i, self.k);
            _mm256_storeu_si256(s.as_mut_ptr().add(HALF * h) as *mut __m256i, self.s);
            _mm256_storeu_si256(even.as_mut_ptr() as *mut __m256i, self.even);
            _mm256_storeu_si256(odd.as_mut_ptr() as *mut __m256i, self.odd);
        }
        for i in 0..4 {
            q[HALF * h + 2 * i] = even[i];
            q[HALF * h + 2 * i + 1] = odd[i];
        }
    }
}

/// `super::interior_group` for 16-bit frames. False (nothing done) for dark-current sums of frames
/// of more than one channel or with a linearising table, which the portable code makes.
///
/// # Safety
/// AVX2 is available; the group and its neighbours lie inside every frame.
#[target_feature(enable = "avx2")]
pub unsafe fn interior_group(
    frames: &[&[u16]],
    base: usize,
    dh: usize,
    dv: usize,
    dark: Option<&DarkBatch>,
    group: &mut Group<u64>,
) -> bool {
    if dark.is_some_and(|d| d.channels != 1 || d.table.is_some()) {
        return false;
    }
    let zero = _mm256_setzero_si256();
    let mut value = [Sums::first(zero); 2];
    let mut residual = [Sums::first(zero); 2];
    let mut below = [zero; 2];
    let mut cut = [zero; 2];
    let mut sums = [[_mm256_setzero_ps(); 2]; LINEAR_DARK_SUMS];
    let mut squares = [_mm256_setzero_ps(); 2];
    let clip = _mm256_set1_epi32(dark.map_or(0, |d| d.clip) - 1);
    let floor = _mm256_set1_ps(dark.map_or(0.0, |d| d.floor));
    let low = _mm256_set1_ps(dark.map_or(0.0, |d| -d.floor));
    let scale = _mm256_set1_ps(RESIDUAL_SCALE);
    for (f, frame) in frames.iter().enumerate() {
        for h in 0..2 {
            // SAFETY: as the caller promises.
            let (x, r) = unsafe { series(frame, base + HALF * h, dh, dv) };
            if f == 0 {
                value[h] = Sums::first(x);
                residual[h] = Sums::first(r);
            } else {
                value[h].add(x);
                residual[h].add(r);
            }
            // Comparisons give -1 in true lanes: subtracting them counts.
            below[h] = _mm256_sub_epi32(below[h], _mm256_cmpgt_epi32(zero, r));
            let Some((_, Some(weights))) = dark.map(|d| (d, d.weights[f])) else {
                continue;
            };
            let res = _mm256_mul_ps(_mm256_cvtepi32_ps(r), scale);
            let lanes_cut = if weights.clips {
                let at_white = _mm256_cmpgt_epi32(x, clip);
                let above = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(res, floor));
                _mm256_and_si256(at_white, above)
            } else {
                zero
            };
            cut[h] = _mm256_sub_epi32(cut[h], lanes_cut);
            let kept = _mm256_andnot_ps(_mm256_castsi256_ps(lanes_cut), _mm256_max_ps(res, low));
            // Products, then sums: the portable code's rounding, not a fused one.
            for (sum, w) in sums.iter_mut().zip(weights.linear) {
                sum[h] = _mm256_add_ps(sum[h], _mm256_mul_ps(kept, _mm256_set1_ps(w)));
            }
            let w = _mm256_set1_ps(weights.squares);
            squares[h] = _mm256_add_ps(squares[h], _mm256_mul_ps(_mm256_mul_ps(kept, kept), w));
        }
    }
    for h in 0..2 {
        // SAFETY: AVX2 is enabled; `h` is 0 or 1; the stores are to arrays of 16 lanes, from 8h.
        unsafe {
            value[h].store(h, &mut group.k, &mut group.s, &mut group.q);
            residual[h].store(h, &mut group.kr, &mut group.sr, &mut group.qr);
            let at = |a: &mut [i32; LANES]| a.as_mut_ptr().add(HALF * h) as *mut __m256i;
            _mm256_storeu_si256(at(&mut group.below), below[h]);
            _mm256_storeu_si256(at(&mut group.cut), cut[h]);
            for (out, sum) in group.dark.iter_mut().zip(&sums) {
                _mm256_storeu_ps(out.as_mut_ptr().add(HALF * h), sum[h]);
            }
            _mm256_storeu_ps(
                group.dark[LINEAR_DARK_SUMS].as_mut_ptr().add(HALF * h),
                squares[h],
            );
        }
    }
    true
}
