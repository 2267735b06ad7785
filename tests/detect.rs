//! Detection on small planted frames: the residual, the score's threshold, clustering (a smeared
//! blob is one defect; two touching defects are one defect with both pixels) and the kinds.

use hotpixels::detect::{detect, DetectOptions, Kind};
use hotpixels::geometry::{median4, neighbour_estimate_frame, Geometry};
use hotpixels::stats::{Accumulator, CpuAccumulator, Moments};
use hotpixels::{Frame, Shape};

/// Smooth random scenes (a different brightness and gradient per frame, mild noise) on a grey
/// 64×64 sensor, with `plant` applied to every frame.
fn accumulate(frames: usize, plant: impl Fn(usize, &mut [u8], usize)) -> Moments {
    let shape = Shape::new(64, 64, 1, 8).unwrap();
    let mut acc = CpuAccumulator::new(shape);
    for f in 0..frames {
        let base = 40.0 + (f * 37 % 150) as f64;
        let tilt = ((f * 13 % 7) as f64 - 3.0) * 0.5;
        let mut data: Vec<u8> = (0..64 * 64)
            .map(|i| {
                let (x, y) = ((i % 64) as f64, (i / 64) as f64);
                let noise = ((i * 7919 + f * 104_729) % 7) as f64 - 3.0;
                (base + tilt * (x - y) * 0.3 + noise).clamp(0.0, 255.0) as u8
            })
            .collect();
        plant(f, &mut data, 64);
        acc.add(Frame::from_u8(shape, data).unwrap()).unwrap();
    }
    Box::new(acc).finish().unwrap()
}

#[test]
fn peer_median_keeps_to_the_border_the_subpixel_is_on() {
    // 40×30 RGB; each subpixel's value encodes where it is: 1000·y + x (+ 0.1·channel).
    let shape = Shape::new(40, 30, 3, 8).unwrap();
    let g = Geometry::of(shape);
    let at = |x: usize, y: usize, c: usize| (y * 40 + x) * 3 + c;
    let value = |j: usize| {
        let (p, c) = (j / 3, j % 3);
        (1000 * (p / 40) + p % 40) as f32 + 0.1 * c as f32
    };
    let close = |a: f32, b: f32| assert!((a - b).abs() < 0.01, "{a} != {b}");
    // Interior: the plain ring (x ± 4 and y ± 4): 6006, 6014, 2010, 10010 → middle two → 6010.
    let i = at(10, 6, 1);
    assert_eq!(g.peer_median(i, 4, 2, value), g.ring_median(i, 4, value));
    close(g.peer_median(i, 4, 2, value), 6010.1);
    // Top row: along the row, x ± 4 and x ± 8 (2, 6, 14, 18) → 10, never a row below.
    close(g.peer_median(at(10, 0, 2), 4, 2, value), 10.2);
    // Second row from the bottom (y = 28, within 2 of the border): still its own row.
    close(g.peer_median(at(20, 28, 0), 4, 2, value), 28_020.0);
    // Left column (x = 1): along the column, y ± 4 and y ± 8 (7, 11, 19, 23) → 15.
    close(g.peer_median(at(1, 15, 0), 4, 2, value), 15_001.0);
    // Two pixels in is the interior again.
    assert_eq!(
        g.peer_median(at(2, 15, 0), 4, 2, value),
        g.ring_median(at(2, 15, 0), 4, value)
    );
}

#[test]
fn residual_is_value_minus_median_of_four_at_distance_two() {
    assert_eq!(median4(1.0, 9.0, 3.0, 5.0), 4.0);
    let shape = Shape::new(5, 5, 1, 8).unwrap();
    let data: Vec<u8> = (0..25).map(|i| (i * 10) as u8).collect();
    let frame = Frame::from_u8(shape, data).unwrap();
    // Centre (2,2): neighbours (0,2)=100, (4,2)=140, (2,0)=20, (2,4)=220 → median 120.
    assert_eq!(neighbour_estimate_frame(&frame, 12), 120.0);
    // Corner (0,0): mirrored → (2,0)=20 twice and (0,2)=100 twice → 60.
    assert_eq!(neighbour_estimate_frame(&frame, 0), 60.0);
}

#[test]
fn hot_dead_and_stuck_are_found_and_named() {
    let m = accumulate(40, |_, d, w| {
        d[10 * w + 10] = d[10 * w + 10].saturating_add(90); // hot
        d[30 * w + 40] = 0; // dead
        d[50 * w + 20] = 200; // stuck
        d[20 * w + 50] = d[20 * w + 50].saturating_add(20); // warm
    });
    let found = detect(&m, &DetectOptions::default()).defects;
    let at = |x: u32, y: u32| found.iter().find(|d| d.x == x && d.y == y);
    assert_eq!(at(10, 10).map(|d| d.kind), Some(Kind::Hot), "{found:?}");
    assert_eq!(at(40, 30).map(|d| d.kind), Some(Kind::Dead), "{found:?}");
    assert_eq!(at(20, 50).map(|d| d.kind), Some(Kind::Stuck), "{found:?}");
    assert_eq!(at(50, 20).map(|d| d.kind), Some(Kind::Warm), "{found:?}");
    assert_eq!(found.len(), 4, "nothing else: {found:?}");
    // Strongest first.
    assert!(found
        .windows(2)
        .all(|w| w[0].score.abs() >= w[1].score.abs()));
}

#[test]
fn a_smeared_blob_is_one_defect_and_a_touching_pair_keeps_both_pixels() {
    let m = accumulate(40, |_, d, w| {
        // A blob: centre +80, its 8 neighbours +30.
        for dy in 0..3 {
            for dx in 0..3 {
                let i = (19 + dy) * w + 19 + dx;
                let add = if (dx, dy) == (1, 1) { 80 } else { 30 };
                d[i] = d[i].saturating_add(add);
            }
        }
        // Two touching hot photosites.
        d[45 * w + 45] = d[45 * w + 45].saturating_add(90);
        d[45 * w + 46] = d[45 * w + 46].saturating_add(70);
    });
    let found = detect(&m, &DetectOptions::default()).defects;
    assert_eq!(found.len(), 2, "{found:?}");
    let blob = found.iter().find(|d| d.pixels.contains(&[20, 20])).unwrap();
    assert_eq!(
        (blob.x, blob.y),
        (20, 20),
        "positioned at its strongest pixel"
    );
    let pair = found.iter().find(|d| d.pixels.contains(&[45, 45])).unwrap();
    assert!(pair.pixels.contains(&[46, 45]), "{pair:?}");
}

#[test]
fn sensitivity_moves_the_threshold() {
    let m = accumulate(40, |_, d, w| {
        d[32 * w + 32] = d[32 * w + 32].saturating_add(3); // faint
    });
    let strict = detect(
        &m,
        &DetectOptions {
            sensitivity: 0.5,
            dark: false,
            ..Default::default()
        },
    );
    let keen = detect(
        &m,
        &DetectOptions {
            sensitivity: 2.0,
            dark: false,
            ..Default::default()
        },
    );
    assert!(strict.thresholds.threshold > keen.thresholds.threshold);
    assert!(strict.defects.iter().all(|d| (d.x, d.y) != (32, 32)));
    assert!(keen.defects.iter().any(|d| (d.x, d.y) == (32, 32)));
}

#[test]
fn dark_mode_ranks_by_mean_above_the_dark_level() {
    let shape = Shape::new(32, 32, 1, 8).unwrap();
    let mut acc = CpuAccumulator::new(shape);
    for f in 0..20usize {
        let mut data: Vec<u8> = (0..32 * 32)
            .map(|i| (3 + (i * 31 + f * 17) % 5) as u8)
            .collect();
        // Dark current adds its own noise to a hot or warm photosite; a stuck one reads one level.
        data[5 * 32 + 5] = (176 + (f * 7) % 9) as u8; // hot
        data[20 * 32 + 9] = (36 + (f * 5) % 9) as u8; // warm
        data[26 * 32 + 27] = 120; // stuck
        acc.add(Frame::from_u8(shape, data).unwrap()).unwrap();
    }
    let m = Box::new(acc).finish().unwrap();
    let d = detect(
        &m,
        &DetectOptions {
            sensitivity: 1.0,
            dark: true,
            ..Default::default()
        },
    );
    assert_eq!(d.thresholds.method, "dark");
    let kinds: Vec<(u32, u32, Kind)> = d.defects.iter().map(|e| (e.x, e.y, e.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (5, 5, Kind::Hot),
            (27, 26, Kind::Stuck),
            (9, 20, Kind::Warm)
        ]
    );
}

#[test]
fn a_stuck_level_mixed_with_the_scene_is_found_and_named_stuck() {
    // Demosaicking and JPEG mix a stuck photosite's constant level with its neighbours': here
    // half-and-half. Its mean residual is small (the level is near the scenes' average), but it
    // follows the light half as much as its surroundings while its residual swings with the scene.
    let m = accumulate(60, |_, d, w| {
        let i = 40 * w + 24;
        d[i] = ((d[i] as u32 + 115) / 2) as u8;
    });
    let found = detect(&m, &DetectOptions::default()).defects;
    let stuck = found.iter().find(|d| d.pixels.contains(&[24, 40]));
    assert_eq!(stuck.map(|d| d.kind), Some(Kind::Stuck), "{found:?}");
    assert!(
        stuck.unwrap().residual.abs() < 3.0 * 255.0 / 100.0,
        "the score alone would not see it: {stuck:?}"
    );
    assert_eq!(found.len(), 1, "nothing else: {found:?}");
}

#[test]
fn a_glint_in_a_few_frames_is_not_a_defect_but_a_steady_warm_offset_is() {
    // One subpixel much brighter than its neighbours in two bursts of three frames out of 100 (a
    // star, a reflection) lifts its mean residual half as much as a steady offset of a ninth of
    // the glint does; only the steady one is a defect.
    let m = accumulate(100, |f, d, w| {
        if f % 50 < 3 {
            d[12 * w + 44] = d[12 * w + 44].saturating_add(80);
        }
        d[50 * w + 50] = d[50 * w + 50].saturating_add(9);
    });
    let found = detect(&m, &DetectOptions::default()).defects;
    assert!(
        found.iter().all(|d| !d.pixels.contains(&[44, 12])),
        "the glint: {found:?}"
    );
    let warm = found.iter().find(|d| d.pixels.contains(&[50, 50]));
    assert_eq!(warm.map(|d| d.kind), Some(Kind::Warm), "{found:?}");
}

#[test]
fn an_echo_three_pixels_away_joins_its_defect_and_a_defect_further_off_stays_apart() {
    let m = accumulate(40, |_, d, w| {
        d[30 * w + 30] = d[30 * w + 30].saturating_add(90); // the defect
        d[30 * w + 33] = d[30 * w + 33].saturating_sub(45); // its echo, 3 px away, darker (not half as strong)
        d[30 * w + 45] = d[30 * w + 45].saturating_add(70); // another defect, 15 px away
    });
    let found = detect(&m, &DetectOptions::default()).defects;
    assert_eq!(found.len(), 2, "{found:?}");
    let first = found
        .iter()
        .find(|d| (d.x, d.y) == (30, 30))
        .expect("the defect");
    assert!(first.pixels.contains(&[33, 30]), "echo joined: {first:?}");
    assert_eq!(first.kind, Kind::Hot);
    assert!(found.iter().any(|d| (d.x, d.y) == (45, 30)), "{found:?}");
}
