//! Criterion benches of decoding one file into a frame (the scan's decode path, with a recycled
//! buffer): 12 and 24 MP JPEG at quality 92 with 4:2:2 chroma, and a 16-bit RGB PNG.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotpixels::input::{decode_file_pooled, FramePool};
use hotpixels::synth::shape_for_megapixels;
use hotpixels::synth::{scene_frame, write_frame_jpeg, write_frame_png, Chroma, SyntheticSet};
use hotpixels::Shape;

fn decode(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pool = FramePool::new(2);
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    for mp in [12u32, 24] {
        let shape = shape_for_megapixels(mp);
        let path = dir.path().join(format!("{mp}.jpg"));
        write_frame_jpeg(&scene_frame(shape, 0, 5), &path, 92, Chroma::Sub422).unwrap();
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("jpeg_q92_422", format!("{mp}MP")), |b| {
            b.iter(|| decode_file_pooled(&path, shape, &pool).unwrap())
        });
    }
    let shape = Shape::new(3000, 2000, 3, 16).unwrap();
    let path = dir.path().join("16bit.png");
    write_frame_png(&SyntheticSet::new(shape, 1, 0, 5).frame(0), &path).unwrap();
    group.bench_function(BenchmarkId::new("png_rgb16", "6MP"), |b| {
        b.iter(|| decode_file_pooled(&path, shape, &pool).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
