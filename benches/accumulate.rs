//! Criterion benches of the accumulate step, frames already in memory: the CPU backend (value and
//! neighbour-residual statistics together) on a batch of eight frames into one accumulator (state
//! allocated once, as in a scan) — 8-bit RGB (JPEG), 16-bit RGB (TIFF/PNG) and one-channel 16-bit
//! Bayer photosites (camera RAW) —, 8-bit RGB with the dark-current sums (frames with exposures,
//! the batch of four a scan uses then), and the GPU backend (upload, shader, read-back) when an
//! adapter opens.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use hotpixels::input::{Cfa, FramePool, Levels};
use hotpixels::scan::exposure;
use hotpixels::stats::cpu::DARK_BATCH;
use hotpixels::stats::{Accumulator, CpuAccumulator, GpuContext, GpuOptions, Moments};
use hotpixels::synth::{scene_frame, shape_for_megapixels, LIBRARY_EXPOSURES};
use hotpixels::{Frame, Samples, Shape};

const BATCH: usize = 8;

/// The 8-bit scene frames of `mp` megapixels widened to 16 bits (full scale, as a 16-bit TIFF).
fn rgb16_frames(mp: u32) -> (Shape, Vec<Frame>) {
    let rgb = shape_for_megapixels(mp);
    let shape = Shape::new(rgb.width, rgb.height, 3, 16).unwrap();
    let frames = (0..BATCH)
        .map(|i| {
            let f = scene_frame(rgb, i, 1);
            let wide = f.as_u8().unwrap().iter().map(|&v| v as u16 * 257).collect();
            Frame::new(shape, Samples::U16(wide)).unwrap()
        })
        .collect();
    (shape, frames)
}

/// One 12-bit RGGB photosite plane of `mp` megapixels per scene frame (black level 256).
fn raw_frames(mp: u32) -> (Shape, Vec<Frame>) {
    let rgb = shape_for_megapixels(mp);
    let (w, h) = (rgb.width, rgb.height);
    let shape = Shape::raw(w, h, Cfa::parse("RGGB").unwrap()).unwrap();
    let frames = (0..BATCH)
        .map(|i| {
            let f = scene_frame(rgb, i, 1);
            let v = f.as_u8().unwrap();
            let plane = (0..(w * h) as usize)
                .map(|p| {
                    let (x, y) = (p % w as usize, p / w as usize);
                    // R at (even, even), B at (odd, odd), G elsewhere.
                    let c = match (x % 2, y % 2) {
                        (0, 0) => 0,
                        (1, 1) => 2,
                        _ => 1,
                    };
                    256 + v[p * 3 + c] as u16 * 15
                })
                .collect();
            Frame::new(shape, Samples::U16(plane)).unwrap()
        })
        .collect();
    (shape, frames)
}

/// One batch of `frames` applied per iteration to one accumulator whose state is already in
/// memory, as in a long scan.
fn bench_batch(c: &mut Criterion, group: &str, name: &str, shape: Shape, frames: &[Frame]) {
    let acc = CpuAccumulator::with_options(shape, frames.len(), None);
    bench_batch_into(c, group, name, acc, frames)
}

/// [`bench_batch`] into `acc`.
fn bench_batch_into(
    c: &mut Criterion,
    group: &str,
    name: &str,
    mut acc: CpuAccumulator,
    frames: &[Frame],
) {
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    let shape = frames[0].shape();
    let len = shape.subpixels();
    group.throughput(Throughput::Elements((len * frames.len()) as u64));
    // Frames live in pooled buffers, as in a scan: the copies are made outside the measurement,
    // and a frame dropped after its batch goes back to the pool instead of being unmapped inside
    // it.
    let pool = FramePool::new(frames.len());
    let pooled = || -> Vec<Frame> {
        frames
            .iter()
            .map(|f| {
                let mut samples = pool.take(shape.bit_depth, len);
                match (&mut samples, f.samples()) {
                    (Samples::U8(dst), Samples::U8(src)) => dst.copy_from_slice(src),
                    (Samples::U16(dst), Samples::U16(src)) => dst.copy_from_slice(src),
                    _ => unreachable!("pooled buffers have the frames' depth"),
                }
                Frame::new(shape, samples)
                    .unwrap()
                    .with_exposure(f.exposure().map(f64::from))
                    .recycle_into(&pool)
            })
            .collect()
    };
    group.bench_function(
        BenchmarkId::new(format!("batch_of_{}", frames.len()), name),
        |b| {
            b.iter_batched(
                pooled,
                |batch| {
                    for f in batch {
                        acc.add(f).unwrap();
                    }
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

fn cpu(c: &mut Criterion) {
    for mp in [12u32, 24] {
        let shape = shape_for_megapixels(mp);
        let frames: Vec<Frame> = (0..BATCH).map(|i| scene_frame(shape, i, 1)).collect();
        bench_batch(c, "accumulate_cpu", &format!("{mp}MP"), shape, &frames);
    }
    let (shape, frames) = rgb16_frames(12);
    bench_batch(c, "accumulate_cpu_16bit", "rgb_12MP", shape, &frames);
    let (shape, frames) = raw_frames(24);
    bench_batch(c, "accumulate_cpu_16bit", "raw_24MP", shape, &frames);
    let exposures = LIBRARY_EXPOSURES;
    let shape = shape_for_megapixels(24);
    let setup = exposure::setup(&exposures, &Levels::encoded(8));
    let frames: Vec<Frame> = (0..DARK_BATCH)
        .map(|i| scene_frame(shape, i, 1).with_exposure(Some(exposures[i % exposures.len()])))
        .collect();
    let acc =
        CpuAccumulator::counting_into(Moments::with_dark(shape, Some(setup)), DARK_BATCH, None);
    bench_batch_into(c, "accumulate_cpu_dark", "24MP", acc, &frames);
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
