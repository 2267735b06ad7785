//! Criterion benches of the accumulate step, frames already in memory: the CPU update kernel
//! (value and neighbour-residual statistics together) on a batch of eight 8-bit RGB frames (state
//! allocated once, as in a scan), and the GPU backend (upload, shader, read-back) when an adapter
//! opens.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotpixels::bench::shape_for_megapixels;
use hotpixels::stats::cpu::{update_blocks, State};
use hotpixels::stats::{Accumulator, GpuContext, GpuOptions};
use hotpixels::synth::scene_frame;
use hotpixels::{Frame, Samples};

const BATCH: usize = 8;

fn cpu(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulate_cpu");
    group.sample_size(10);
    for mp in [12u32, 24] {
        let shape = shape_for_megapixels(mp);
        let frames: Vec<Frame> = (0..BATCH).map(|i| scene_frame(shape, i, 1)).collect();
        let slices: Vec<&[u8]> = frames
            .iter()
            .map(|f| match f.samples() {
                Samples::U8(v) => v.as_slice(),
                Samples::U16(_) => unreachable!(),
            })
            .collect();
        let len = shape.subpixels();
        let mut state = State::new(len);
        let mut count = 0u32;
        group.throughput(Throughput::Elements((len * BATCH) as u64));
        group.bench_function(BenchmarkId::new("batch_of_8", format!("{mp}MP")), |b| {
            b.iter(|| {
                count += update_blocks(&mut state, shape, count, &slices) as u32;
            })
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
                    let mut acc = ctx.accumulator(shape, GpuOptions::default());
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
