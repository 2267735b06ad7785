//! Criterion benches of decoding one file into a frame (the scan's decode path, with a recycled
//! buffer): 12 and 24 MP JPEG at quality 92 with 4:2:2 chroma, a 16-bit RGB PNG, and camera RAW:
//! a 24 MP uncompressed 12-bit DNG from the simulated camera and, when Debian's `rawtran-doc` is
//! installed, a real 8 MP Canon CR2 (lossless-JPEG compressed).

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
    #[cfg(feature = "raw")]
    raw(&mut group, dir.path(), &pool);
    group.finish();
}

/// The real camera file the RAW bench decodes when it is installed.
#[cfg(feature = "raw")]
const CANON_CR2: &str = "/usr/share/doc/rawtran/IMG_5952.CR2";

#[cfg(feature = "raw")]
fn raw(
    group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    dir: &std::path::Path,
    pool: &std::sync::Arc<FramePool>,
) {
    use hotpixels::input::decode::probe;
    use hotpixels::synth::{write_set, SetFormat, SetSpec};
    let set = dir.join("dng");
    let spec = SetSpec {
        width: 6000,
        height: 4000,
        frames: 1,
        format: SetFormat::Dng,
        ..Default::default()
    };
    write_set(&spec, &set).unwrap();
    let mut files = vec![("dng_12bit", "24MP", set.join("frame_0001.dng"))];
    if std::path::Path::new(CANON_CR2).exists() {
        files.push(("canon_cr2", "8MP", CANON_CR2.into()));
    }
    for (name, size, path) in files {
        let shape = probe(&path).unwrap().shape;
        group.bench_function(BenchmarkId::new(name, size), |b| {
            b.iter(|| decode_file_pooled(&path, shape, pool).unwrap())
        });
    }
}

criterion_group!(benches, decode);
criterion_main!(benches);
