//! Criterion benches of what a scan does once its statistics are complete, on those of 16 scene
//! frames of a 24 MP RGB sensor: the lowest-`M2` ranking, the scene-variety estimate, and
//! detection (scoring, clustering, kinds). At 24 MP they run once per scan, after the last frame.

use criterion::{criterion_group, criterion_main, Criterion};
use hotpixels::detect::{detect_with, lowest_m2, variety::effective_scenes, DetectOptions};
use hotpixels::input::Levels;
use hotpixels::stats::{Accumulator, CpuAccumulator, Moments};
use hotpixels::synth::{scene_frame, shape_for_megapixels};

/// Frames counted into the statistics the benches detect on.
const FRAMES: usize = 16;
/// Lowest-`M2` candidates kept, as `scan --top` does by default.
const TOP: usize = 20;

/// The statistics of [`FRAMES`] scene frames of `mp` megapixels.
fn moments(mp: u32) -> Moments {
    let shape = shape_for_megapixels(mp);
    let mut acc = Box::new(CpuAccumulator::new(shape));
    for i in 0..FRAMES {
        acc.add(scene_frame(shape, i, 1))
            .expect("frame of the shape");
    }
    acc.finish().expect("statistics")
}

fn detection(c: &mut Criterion) {
    let m = moments(24);
    let levels = Levels::encoded(8);
    let options = DetectOptions::default();
    let mut group = c.benchmark_group("detect_24MP");
    group.sample_size(10);
    group.bench_function("lowest_m2", |b| b.iter(|| lowest_m2(&m, TOP)));
    group.bench_function("effective_scenes", |b| b.iter(|| effective_scenes(&m)));
    group.bench_function("detect_with", |b| {
        b.iter(|| detect_with(&m, &options, &levels))
    });
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
