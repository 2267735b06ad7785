//! Criterion benches of the accumulate step, frames already in memory: the CPU backend (value and
//! neighbour-residual statistics together) on a batch of eight 8-bit RGB frames into one
//! accumulator (state allocated once, as in a scan), and the GPU backend (upload, shader,
//! read-back) when an adapter opens.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hotpixels::input::FramePool;
use hotpixels::stats::{Accumulator, CpuAccumulator, GpuContext, GpuOptions};
use hotpixels::synth::{scene_frame, shape_for_megapixels};
use hotpixels::{Frame, Samples};

const BATCH: usize = 8;

fn cpu(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulate_cpu");
    group.sample_size(10);
    for mp in [12u32, 24] {
        let shape = shape_for_megapixels(mp);
        let frames: Vec<Frame> = (0..BATCH).map(|i| scene_frame(shape, i, 1)).collect();
        let len = shape.subpixels();
        // One accumulator for every iteration, batching all eight frames: each iteration is one
        // batch applied to state already in memory, as in a long scan.
        let mut acc = CpuAccumulator::with_options(shape, BATCH, None);
        group.throughput(Throughput::Elements((len * BATCH) as u64));
        // Frames live in pooled buffers, as in a scan: the copies are made outside the
        // measurement, and a frame dropped after its batch goes back to the pool instead of being
        // unmapped inside it.
        let pool = FramePool::new(BATCH);
        let pooled = || -> Vec<Frame> {
            frames
                .iter()
                .map(|f| {
                    let mut samples = pool.take(8, len);
                    if let (Samples::U8(dst), Samples::U8(src)) = (&mut samples, f.samples()) {
                        dst.copy_from_slice(src);
                    }
                    Frame::new(shape, samples).unwrap().recycle_into(&pool)
                })
                .collect()
        };
        group.bench_function(BenchmarkId::new("batch_of_8", format!("{mp}MP")), |b| {
            b.iter_batched(
                pooled,
                |batch| {
                    for f in batch {
                        acc.add(f).unwrap();
                    }
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn gpu(c: &mut Criterion) {
    let Ok(ctx) = GpuContext::open(true) else {
        eprintln!("accumulate_gpu: no GPU adapter, not measured");
        return;
    };
    let mut group = c.benchmark_group("accumulate_gpu");
    group.sample_size(10);
    for mp in [2u32, 12] {
        let shape = shape_for_megapixels(mp);
        let frames: Vec<Frame> = (0..BATCH).map(|i| scene_frame(shape, i, 1)).collect();
        group.throughput(Throughput::Elements((shape.subpixels() * BATCH) as u64));
        group.bench_function(
            BenchmarkId::new(ctx.info.name.clone(), format!("{mp}MP")),
            |b| {
                b.iter(|| {
                    let mut acc = ctx.accumulator(shape, GpuOptions::default()).unwrap();
                    for f in &frames {
                        acc.add(f.clone()).unwrap();
                    }
                    Box::new(acc).finish().unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, cpu, gpu);
criterion_main!(benches);
