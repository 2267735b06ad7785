//! Criterion benches of what a scan does once its statistics are complete, on those of 16 scene
//! frames of a 24 MP RGB sensor: the lowest-`M2` ranking, the scene-variety estimate, and
//! detection (scoring, clustering, kinds). At 24 MP they run once per scan, after the last frame.
//! `detect_with_2_frames` detects on the statistics of two frames only, where tens of thousands of
//! subpixels stand out and clustering them is most of the work.

use criterion::{criterion_group, criterion_main, Criterion};
use hotpixels::detect::{detect_with, lowest_m2, variety::effective_scenes, DetectOptions};
use hotpixels::input::Levels;
use hotpixels::stats::{Accumulator, CpuAccumulator, Moments};
use hotpixels::synth::{scene_frame, shape_for_megapixels};

/// Frames counted into the statistics the benches detect on.
const FRAMES: usize = 16;
/// Lowest-`M2` candidates kept, as `scan --top` does by default.
const TOP: usize = 20;

/// Frames of the statistics of `detect_with_2_frames`.
const FEW_FRAMES: usize = 2;

/// The statistics of `frames` scene frames of `mp` megapixels.
fn moments(mp: u32, frames: usize) -> Moments {
    let shape = shape_for_megapixels(mp);
    let mut acc = Box::new(CpuAccumulator::new(shape));
    for i in 0..frames {
        acc.add(scene_frame(shape, i, 1))
            .expect("frame of the shape");
    }
    acc.finish().expect("statistics")
}

fn detection(c: &mut Criterion) {
    let m = moments(24, FRAMES);
    let levels = Levels::encoded(8);
    let options = DetectOptions::default();
    let mut group = c.benchmark_group("detect_24MP");
    group.sample_size(10);
    group.bench_function("lowest_m2", |b| b.iter(|| lowest_m2(&m, TOP)));
    group.bench_function("effective_scenes", |b| b.iter(|| effective_scenes(&m)));
    group.bench_function("detect_with", |b| {
        b.iter(|| detect_with(&m, &options, &levels))
    });
    let few = moments(24, FEW_FRAMES);
    group.bench_function("detect_with_2_frames", |b| {
        b.iter(|| detect_with(&few, &options, &levels))
    });
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
