//! Criterion benches of the accumulate step: the CPU backend and (when an adapter opens) the GPU
//! backend, frames already in memory, 8-bit RGB.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotpixels::stats::{Accumulator, CpuAccumulator, GpuContext, GpuOptions};
use hotpixels::{Frame, Shape};

fn frames(shape: Shape, count: usize) -> Vec<Frame> {
    (0..count)
        .map(|f| {
            let data = (0..shape.subpixels())
                .map(|i| ((i * 7 + f * 13) % 251) as u8)
                .collect();
            Frame::from_u8(shape, data).unwrap()
        })
        .collect()
}

fn accumulate(c: &mut Criterion) {
    let mut group = c.benchmark_group("accumulate");
    group.sample_size(10);
    let gpu = GpuContext::open(true).ok();
    for mp in [2u32, 12] {
        let shape = Shape::new(mp * 1000 * 3 / 3, 1000, 3, 8).unwrap();
        let batch = frames(shape, 8);
        group.throughput(Throughput::Bytes(
            (shape.frame_bytes() * batch.len()) as u64,
        ));
        group.bench_with_input(
            BenchmarkId::new("cpu", format!("{mp}MP")),
            &batch,
            |b, fs| {
                b.iter(|| {
                    let mut acc = CpuAccumulator::new(shape);
                    for f in fs {
                        acc.add(f.clone()).unwrap();
                    }
                    Box::new(acc).finish().unwrap()
                })
            },
        );
        if let Some(ctx) = &gpu {
            group.bench_with_input(
                BenchmarkId::new("gpu", format!("{mp}MP")),
                &batch,
                |b, fs| {
                    b.iter(|| {
                        let mut acc = ctx.accumulator(shape, GpuOptions::default());
                        for f in fs {
                            acc.add(f.clone()).unwrap();
                        }
                        Box::new(acc).finish().unwrap()
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, accumulate);
criterion_main!(benches);
