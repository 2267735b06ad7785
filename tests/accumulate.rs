//! The CPU and GPU backends against an exact reference, on the same frames: 8- and 16-bit, grey
//! and RGB, odd widths, one tile and many, thousands of frames, and a 24 MP frame; with the
//! dark-current statistics of frames of varied exposures (some without one).

mod common;

use common::{assert_close, gpu, test_frame, Reference};
use hotpixels::detect::lowest_m2;
use hotpixels::input::Encoding;
use hotpixels::stats::gpu::{plan_tiles, DeviceLimits};
use hotpixels::stats::{Accumulator, CpuAccumulator, DarkSetup, GpuOptions};
use hotpixels::Shape;

/// Frame `f`'s exposure in the dark-current tests: spread over four decades, one frame in seven
/// without one.
fn exposure(f: usize) -> Option<f64> {
    (f % 7 != 3).then(|| 0.001 * 1.9f64.powi((f % 17) as i32))
}

/// The dark-current setup of the tests' first `frames` frames, clipping as a scan does: RGB
/// frames sRGB-encoded (their residual read through the table), grey ones linear.
fn dark_setup(shape: Shape, frames: usize) -> DarkSetup {
    let exposures: Vec<f64> = (0..frames).filter_map(exposure).collect();
    let encoding = if shape.channels == 3 {
        Encoding::Srgb
    } else {
        Encoding::Linear
    };
    DarkSetup::new(&exposures, 0, shape.max_value(), encoding)
}

/// Runs `frames` test frames through the CPU backend and (when there is an adapter) the GPU
/// backend with `gpu_options`, and checks both against the reference and the known ranking.
fn check(label: &str, shape: Shape, frames: usize, gpu_options: GpuOptions, expect_tiles: usize) {
    let len = shape.subpixels();
    let planted: Vec<usize> = (0..4).map(|k| (k * 7919 + 3) % len).collect();
    let quiet: Vec<usize> = (0..6)
        .map(|k| (k * 104_729 + 11) % len)
        .filter(|q| !planted.contains(q))
        .collect();
    let setup = dark_setup(shape, frames);
    let mut reference = Reference::with_dark(shape, setup);
    let mut cpu: Box<dyn Accumulator> = Box::new(CpuAccumulator::with_dark(shape, Some(setup)));
    let mut gpu_acc = gpu(label).map(|ctx| {
        let acc = ctx
            .accumulator_with_dark(shape, gpu_options, Some(setup))
            .unwrap();
        assert_eq!(acc.plan().tiles.len(), expect_tiles, "{label}: tiles");
        acc
    });
    for f in 0..frames {
        let frame = test_frame(shape, f, &planted, &quiet).with_exposure(exposure(f));
        reference.add(&frame);
        if let Some(g) = gpu_acc.as_mut() {
            g.add(frame.clone()).unwrap();
        }
        cpu.add(frame).unwrap();
    }
    let expected = reference.lowest(planted.len() + quiet.len());
    let cpu = cpu.finish().unwrap();
    assert_close(&format!("{label} cpu"), &cpu, &reference);
    let got: Vec<usize> = lowest_m2(&cpu, expected.len())
        .iter()
        .map(|c| c.index)
        .collect();
    assert_eq!(got, expected, "{label} cpu: ranking");
    if let Some(g) = gpu_acc {
        let gpu = Box::new(g).finish().unwrap();
        assert_close(&format!("{label} gpu"), &gpu, &reference);
        let got: Vec<usize> = lowest_m2(&gpu, expected.len())
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(got, expected, "{label} gpu: ranking");
    }
}

/// Largest absolute difference between two arrays.
fn worst_abs(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
}

/// Largest difference relative to the second array's value (at least 1).
fn worst_rel(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .fold(0f32, f32::max)
}

fn small_tiles() -> GpuOptions {
    GpuOptions {
        max_tile_subpixels: Some(1024),
        ..Default::default()
    }
}

#[test]
fn grey_8bit_odd_width_one_tile() {
    check(
        "grey8",
        Shape::new(37, 11, 1, 8).unwrap(),
        25,
        GpuOptions::default(),
        1,
    );
}

#[test]
fn rgb_8bit_odd_width_one_tile() {
    check(
        "rgb8",
        Shape::new(29, 13, 3, 8).unwrap(),
        25,
        GpuOptions::default(),
        1,
    );
}

#[test]
fn grey_16bit_odd_width() {
    check(
        "grey16",
        Shape::new(31, 9, 1, 16).unwrap(),
        25,
        GpuOptions::default(),
        1,
    );
}

#[test]
fn rgb_16bit_odd_width() {
    check(
        "rgb16",
        Shape::new(23, 17, 3, 16).unwrap(),
        25,
        GpuOptions::default(),
        1,
    );
}

#[test]
fn rgb_8bit_several_tiles() {
    // 61 × 23 × 3 = 4209 subpixels in tiles of 1024: five tiles, the last one partial.
    check(
        "rgb8 tiles",
        Shape::new(61, 23, 3, 8).unwrap(),
        21,
        small_tiles(),
        5,
    );
}

#[test]
fn rgb_16bit_several_tiles_batches_of_three() {
    let options = GpuOptions {
        batch_frames: Some(3),
        ..small_tiles()
    };
    check(
        "rgb16 tiles",
        Shape::new(45, 19, 3, 16).unwrap(),
        20,
        options,
        3,
    );
}

#[test]
fn grey_8bit_odd_tiles_single_frame_batches() {
    let options = GpuOptions {
        batch_frames: Some(1),
        ..small_tiles()
    };
    check(
        "grey8 batch1",
        Shape::new(41, 53, 1, 8).unwrap(),
        9,
        options,
        3,
    );
}

#[test]
fn three_thousand_frames() {
    check(
        "3000 frames",
        Shape::new(19, 7, 3, 8).unwrap(),
        3000,
        GpuOptions::default(),
        1,
    );
}

#[test]
fn three_thousand_frames_16bit() {
    check(
        "3000 frames 16-bit",
        Shape::new(11, 5, 3, 16).unwrap(),
        3000,
        small_tiles(),
        1,
    );
}

/// A 24 MP RGB frame set on the GPU with the device's own limits (under lavapipe's 128 MiB
/// binding limit the 288 MB state arrays need tiles) against the CPU backend, subpixel by subpixel.
#[test]
fn gpu_24mp_rgb_agrees_with_cpu() {
    let Some(ctx) = gpu("gpu_24mp_rgb_agrees_with_cpu") else {
        return;
    };
    let shape = Shape::new(6000, 4000, 3, 8).unwrap();
    let len = shape.subpixels();
    let mut g = ctx.accumulator(shape, GpuOptions::default()).unwrap();
    // The plan the accumulator follows is the one the planner gives for this device.
    let plan = plan_tiles(
        DeviceLimits::of(&ctx.device),
        shape,
        GpuOptions::default(),
        false,
    )
    .unwrap();
    assert_eq!(g.plan(), &plan);
    let limit = ctx.device.limits().max_storage_buffer_binding_size as usize;
    if len * 4 > limit {
        assert!(plan.tiles.len() >= 2, "state must be tiled");
    }
    // The CPU folds the same batches as the GPU, so the two do the same arithmetic.
    let mut cpu = CpuAccumulator::with_options(shape, plan.batch, None);
    let planted = [12_345usize, 40_000_000, len - 1];
    for f in 0..4u64 {
        let data: Vec<u8> = (0..len)
            .map(|i| {
                if planted.contains(&i) {
                    200
                } else {
                    (common::hash(f << 40 | i as u64) & 0xff) as u8
                }
            })
            .collect();
        let frame = hotpixels::Frame::from_u8(shape, data).unwrap();
        g.add(frame.clone()).unwrap();
        cpu.add(frame).unwrap();
    }
    let gm = Box::new(g).finish().unwrap();
    let cm = Box::new(cpu).finish().unwrap();
    assert_eq!(gm.n, 4);
    let worst_mean = worst_abs(&gm.mean, &cm.mean);
    let worst_m2 = worst_rel(&gm.m2, &cm.m2);
    assert!(worst_mean <= 1e-3, "mean differs by {worst_mean}");
    assert!(worst_m2 <= 1e-4, "M2 differs by {worst_m2} (relative)");
    let worst_res = worst_abs(&gm.res_mean, &cm.res_mean);
    let worst_res_m2 = worst_rel(&gm.res_m2, &cm.res_m2);
    assert!(worst_res <= 1e-3, "residual mean differs by {worst_res}");
    assert!(
        worst_res_m2 <= 1e-4,
        "residual M2 differs by {worst_res_m2} (relative)"
    );
    assert_eq!(gm.below, cm.below, "frames below the neighbours");
    // Tile borders are where a missing halo would show: the frame's edge rows and the rows around
    // every border between the planned tiles agree exactly in the residual mean (the batches are
    // the same, so the arithmetic is).
    let row = 6000 * 3;
    let mut rows: Vec<usize> = vec![0, 1, 2, 3997, 3998, 3999];
    for border in plan.borders() {
        rows.extend(border.saturating_sub(3)..(border + 3).min(4000));
    }
    for y in rows {
        for i in (y * row..(y + 1) * row).step_by(997) {
            assert_eq!(
                gm.res_mean[i], cm.res_mean[i],
                "residual mean at row {y}, {i}"
            );
        }
    }
    // With 4 random frames some ordinary subpixels repeat by chance; the planted ones must be
    // among the zero-M2 subpixels, and both backends must rank the same subpixels lowest.
    for &p in &planted {
        assert_eq!(gm.m2[p], 0.0, "planted subpixel {p}");
    }
    let g20: Vec<usize> = lowest_m2(&gm, 20).iter().map(|c| c.index).collect();
    let c20: Vec<usize> = lowest_m2(&cm, 20).iter().map(|c| c.index).collect();
    assert_eq!(g20, c20);
    let zeros = gm.m2.iter().filter(|&&v| v == 0.0).count();
    if zeros <= 20 {
        assert!(planted.iter().all(|p| g20.contains(p)));
    }
}

/// One long run of frames counted four ways: the exact reference, one CPU accumulator, two CPU
/// accumulators for its halves (merged at the end), and the GPU when an adapter opens.
struct Runs {
    frames: usize,
    reference: Reference,
    whole: CpuAccumulator,
    halves: [CpuAccumulator; 2],
    gpu: Option<hotpixels::stats::GpuAccumulator>,
}

impl Runs {
    fn new(label: &str, shape: Shape, frames: usize) -> Self {
        Runs {
            frames,
            reference: Reference::new(shape),
            whole: CpuAccumulator::new(shape),
            halves: [CpuAccumulator::new(shape), CpuAccumulator::new(shape)],
            gpu: gpu(label).map(|ctx| ctx.accumulator(shape, GpuOptions::default()).unwrap()),
        }
    }

    /// Counts frame number `f` everywhere.
    fn add(&mut self, f: usize, frame: hotpixels::Frame) {
        self.reference.add(&frame);
        if let Some(g) = self.gpu.as_mut() {
            g.add(frame.clone()).unwrap();
        }
        self.halves[usize::from(f >= self.frames / 2)]
            .add(frame.clone())
            .unwrap();
        self.whole.add(frame).unwrap();
    }

    /// The reference, and each way's statistics by name: `cpu`, `merged halves`, `gpu`.
    fn finish(self) -> (Reference, Vec<(&'static str, hotpixels::stats::Moments)>) {
        let [first, second] = self.halves;
        let mut merged = Box::new(first).finish().unwrap();
        merged.merge(&Box::new(second).finish().unwrap()).unwrap();
        let mut results = vec![
            ("cpu", Box::new(self.whole).finish().unwrap()),
            ("merged halves", merged),
        ];
        if let Some(g) = self.gpu {
            results.push(("gpu", Box::new(g).finish().unwrap()));
        }
        (self.reference, results)
    }
}

/// The documented bound of the f32 state: over 10,000 16-bit frames, every subpixel's M2 within
/// 1e-3 of the exact value (relative), on both backends, and the same for two halves merged with
/// Chan's formula. The frames mix full-range noise with subpixels that barely move near full scale
/// (a variance of about 1 on a mean of about 65,000, the hard case for f32).
#[test]
fn ten_thousand_16bit_frames_hold_m2_to_1e_3() {
    const FRAMES: usize = 10_000;
    const BOUND: f64 = 1e-3;
    let label = "10000 frames 16-bit";
    let shape = Shape::new(7, 5, 3, 16).unwrap();
    let len = shape.subpixels();
    let planted: Vec<usize> = vec![3, 50];
    let quiet: Vec<usize> = vec![10, 20, 30, 77, 90];
    let mut runs = Runs::new(label, shape, FRAMES);
    // Near full scale, moving by a level or two: variance ~1 on a mean of ~65,000.
    let (bright, brighter) = (5usize, 66usize);
    for f in 0..FRAMES {
        let mut frame = test_frame(shape, f, &planted, &quiet);
        if let hotpixels::Samples::U16(s) = frame.samples_mut() {
            s[bright] = 65_000 + (f % 3) as u16;
            s[brighter] = 65_534 + (common::hash(f as u64) % 2) as u16;
        }
        runs.add(f, frame);
    }
    let (reference, moments) = runs.finish();
    let worst = |m: &hotpixels::stats::Moments| -> f64 {
        (0..len)
            .filter(|&i| reference.m2(i) > 0.0)
            .map(|i| (m.m2[i] as f64 - reference.m2(i)).abs() / reference.m2(i))
            .fold(0.0, f64::max)
    };
    let results: Vec<(&str, f64)> = moments.iter().map(|(n, m)| (*n, worst(m))).collect();
    eprintln!("{label}: worst relative M2 error {results:?}");
    for (name, err) in results {
        assert!(err <= BOUND, "{label} {name}: M2 off by {err:e} relative");
    }
}

/// Statistics relative to each subpixel's first value: 3,000 16-bit frames whose quietest
/// subpixels sit at a mean of about 40,000 with a spread of about 1 (where an f32 mean keeps
/// three binary digits below the point) give the 20 lowest `M2` within 1e-5 of float64 on both
/// backends, through a state file, and for two halves merged.
#[test]
fn three_thousand_frames_near_40000_hold_the_lowest_m2_to_1e_5() {
    const FRAMES: usize = 3_000;
    const BOUND: f64 = 1e-5;
    const TOP: usize = 20;
    let label = "3000 frames at 40000";
    let shape = Shape::new(16, 8, 1, 16).unwrap();
    let len = shape.subpixels();
    let mut runs = Runs::new(label, shape, FRAMES);
    for f in 0..FRAMES {
        // Each subpixel its own level near 40,000 and a spread of about one level.
        let samples: Vec<u16> = (0..len)
            .map(|i| {
                let noise = (common::hash((f * len + i) as u64) % 5) as i32 - 2;
                (40_000 + 37 * i as i32 + noise) as u16
            })
            .collect();
        runs.add(
            f,
            hotpixels::Frame::new(shape, hotpixels::Samples::U16(samples)).unwrap(),
        );
    }
    let (reference, moments) = runs.finish();
    let mut lowest: Vec<usize> = (0..len).collect();
    lowest.sort_by(|&a, &b| reference.m2(a).total_cmp(&reference.m2(b)));
    lowest.truncate(TOP);
    let worst = |m: &hotpixels::stats::Moments| -> f64 {
        lowest
            .iter()
            .map(|&i| (m.m2[i] as f64 - reference.m2(i)).abs() / reference.m2(i))
            .fold(0.0, f64::max)
    };
    let cpu = &moments[0].1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.state");
    let state = hotpixels::stats::state::State {
        header: hotpixels::stats::state::StateHeader {
            version: hotpixels::stats::state::STATE_VERSION,
            shape,
            prefer: Default::default(),
            frames: cpu.n,
            raw: None,
            files: Vec::new(),
            dark: None,
            mean_low: false,
        },
        moments: cpu.clone(),
    };
    hotpixels::stats::state::write(&path, &state).unwrap();
    let read = hotpixels::stats::state::read(&path).unwrap().moments;
    let mut results: Vec<(&str, f64)> = moments.iter().map(|(n, m)| (*n, worst(m))).collect();
    results.push(("state file", worst(&read)));
    eprintln!("{label}: worst relative M2 error of the {TOP} lowest {results:?}");
    for (name, err) in results {
        assert!(err <= BOUND, "{label} {name}: M2 off by {err:e} relative");
    }
}
