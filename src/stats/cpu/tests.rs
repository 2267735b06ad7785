//! The CPU backend's AVX2 code against its portable code: the same sums, bit for bit.

use super::group::LANES;
use super::*;

/// 8-bit frames of 64 × 8 pixels of `channels` channels: a checkerboard of 2 × 2 squares,
/// black and white, so every subpixel's four neighbours are the opposite of it (a residual of
/// ±255), the first frame inverted; the second frame is pseudo-random. Over a whole batch the
/// residual sums reach the bounds of the AVX2 code's 16-bit lanes, and the white squares are
/// dark-clipped.
fn frames(count: usize, channels: u32) -> (Geometry, Vec<Vec<u8>>) {
    let shape = Shape::new(64, 8, channels, 8).unwrap();
    let c = channels as usize;
    let checker = |i: usize| (((i / c) % 64) / 2 + ((i / c) / 64) / 2) % 2 == 1;
    let frames = (0..count)
        .map(|f| {
            (0..64 * 8 * c)
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

/// Every third frame without an exposure, every fourth one too short to clip; weights of
/// both signs: the dark-current side of the AVX2 tests' batches of `count` frames.
fn test_weights(count: usize) -> Vec<Option<FrameWeights>> {
    (0..count)
        .map(|f| {
            let f32_ = f as f32;
            (f % 3 != 2).then_some(FrameWeights {
                linear: [0.9 - f32_ * 0.02, f32_ * 0.7 - 3.1, 1.3, 2.0 - f32_],
                squares: 0.5 + f32_ * 0.25,
                clips: f % 4 != 1,
            })
        })
        .collect()
}

/// The AVX2 code's sums are the portable code's, every one; the dark-current ones in the
/// first `used` lanes (a group's whole positions).
fn assert_same_sums<S: PartialEq + std::fmt::Debug>(
    avx2: &Group<S>,
    portable: &Group<S>,
    used: usize,
    label: &str,
) {
    assert_eq!(avx2.k, portable.k, "{label}: shift");
    assert_eq!(avx2.s, portable.s, "{label}: sum");
    assert_eq!(avx2.q, portable.q, "{label}: squares");
    assert_eq!(avx2.kr, portable.kr, "{label}: residual shift");
    assert_eq!(avx2.sr, portable.sr, "{label}: residual sum");
    assert_eq!(avx2.qr, portable.qr, "{label}: residual squares");
    assert_eq!(avx2.below, portable.below, "{label}: below");
    for (k, name) in crate::stats::dark::DARK_SUM_NAMES.iter().enumerate() {
        assert_eq!(
            avx2.dark[k][..used],
            portable.dark[k][..used],
            "{label}: dark {name}"
        );
    }
    assert_eq!(avx2.cut[..used], portable.cut[..used], "{label}: clipped");
}

/// The AVX2 code for 16-bit frames builds the same sums as the portable code, up to the
/// largest batch and the widest values (samples at 0 and 65,535 beside each other), with the
/// dark-current sums of one channel; it leaves those of three channels to the portable code.
#[test]
#[cfg(target_arch = "x86_64")]
fn avx2_wide_sums_equal_portable_sums() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        eprintln!("no AVX2 on this CPU: nothing to compare");
        return;
    }
    for (channels, count, with_dark) in [1u32, 3]
        .into_iter()
        .flat_map(|c| [2, 3, MAX_BATCH].map(|n| (c, n)))
        .flat_map(|(c, n)| [false, true].map(|d| (c, n, d)))
    {
        let (g, frames8) = frames(count, channels);
        // The 8-bit pattern at full 16-bit scale, a pseudo-random low byte on every frame.
        let frames: Vec<Vec<u16>> = frames8
            .iter()
            .enumerate()
            .map(|(f, frame)| {
                frame
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| match v {
                        255 => u16::MAX,
                        0 => ((i * 13 + f * 7) % 29) as u16,
                        v => u16::from(v) << 8 | ((i * 31 + f) % 256) as u16,
                    })
                    .collect()
            })
            .collect();
        let slices: Vec<&[u16]> = frames.iter().map(|f| f.as_slice()).collect();
        let weights = test_weights(count);
        let dark = DarkBatch {
            weights: &weights,
            clip: 64_000,
            floor: 5000.0,
            table: None,
            channels: channels as usize,
        };
        let dark = with_dark.then_some(&dark);
        let (dh, dv) = g.neighbour_offsets();
        let base = (4 * 64 + 2) * channels as usize;
        assert!(g.interior_run(base, LANES));
        let mut portable = Group::<u64>::new();
        interior_group(&slices, base, dh, dv, dark, &mut portable);
        let mut avx2 = Group::<u64>::new();
        // SAFETY: AVX2 checked above; the group is interior.
        let done = unsafe { u16::interior_avx2(&slices, base, dh, dv, dark, &mut avx2) };
        let label = format!("{channels} channel(s), {count} frames, dark {with_dark}");
        if with_dark && channels == 3 {
            assert!(!done, "{label}: left to the portable code");
            continue;
        }
        assert!(done, "{label}");
        assert_same_sums(&avx2, &portable, LANES, &label);
        if with_dark {
            let cut = &portable.cut;
            assert!(cut.iter().any(|&c| c > 0), "{label}: some clip");
            assert!(
                cut.iter().min() < cut.iter().max(),
                "{label}: not all alike"
            );
        }
        if count == MAX_BATCH {
            let widest = portable.qr.iter().max().unwrap();
            assert!(
                *widest > u64::from(u32::MAX),
                "the squares reach {widest} only"
            );
        }
    }
}

/// The AVX2 code for 8-bit frames builds the same sums as the portable code, up to the largest
/// batch, the dark-current sums of one and of three channels among them.
#[test]
#[cfg(target_arch = "x86_64")]
fn avx2_sums_equal_portable_sums() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        eprintln!("no AVX2 on this CPU: nothing to compare");
        return;
    }
    let srgb = DarkTable::srgb(255, 255);
    for (channels, count, table) in [1u32, 3]
        .into_iter()
        .flat_map(|c| [2, 3, MAX_BATCH].map(|n| (c, n)))
        .flat_map(|(c, n)| [None, Some(&srgb)].map(|t| (c, n, t)))
    {
        {
            let (g, frames) = frames(count, channels);
            let slices: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
            let weights = test_weights(count);
            let dark = DarkBatch {
                weights: &weights,
                clip: 250,
                floor: 20.0,
                table,
                channels: channels as usize,
            };
            let (dh, dv) = g.neighbour_offsets();
            let base = (4 * 64 + 2) * channels as usize;
            assert!(g.interior_run(base, LANES));
            let mut portable = Group::<u32>::new();
            interior_group(&slices, base, dh, dv, Some(&dark), &mut portable);
            let mut avx2 = Group::<u32>::new();
            // SAFETY: AVX2 checked above; the group is interior.
            assert!(unsafe { u8::interior_avx2(&slices, base, dh, dv, Some(&dark), &mut avx2) });
            let label = format!(
                "{channels} channel(s), {count} frames, {}",
                if table.is_some() { "sRGB" } else { "linear" }
            );
            // The lanes folded: the sixteenth of three channels is the next pixel's.
            let used = group::group_lanes(channels as usize);
            assert_same_sums(&avx2, &portable, used, &label);
            // The floor cuts the checkerboard's residuals of -255.
            let mut unfloored = Group::<u32>::new();
            let open = DarkBatch {
                floor: 1000.0,
                ..dark
            };
            interior_group(&slices, base, dh, dv, Some(&open), &mut unfloored);
            assert_ne!(unfloored.dark, portable.dark, "{label}: the floor");
            let cut = &portable.cut[..used];
            assert!(cut.iter().any(|&c| c > 0), "{label}: some clip");
            assert!(
                cut.iter().min() < cut.iter().max(),
                "{label}: not all alike"
            );
            if count == MAX_BATCH {
                let widest = portable.sr.iter().map(|v| v.abs()).max().unwrap();
                assert!(widest > 30_000, "the residual sums reach {widest} only");
            }
        }
    }
}
