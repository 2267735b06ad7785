//! End to end on lossless files: 8-bit PNG and 16-bit TIFF sets scanned from disk on both backends;
//! the top-20 must equal an independent exact computation from the same files.

mod common;

use std::path::Path;

use common::{gpu, test_frame, Reference};
use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
use hotpixels::stats::GpuOptions;
use hotpixels::{Samples, Shape};

/// Writes `frames` test frames (with 6 constant and 14 quiet subpixels) as PNG (8-bit) or TIFF
/// (16-bit).
fn write_files(dir: &Path, shape: Shape, frames: usize) {
    let len = shape.subpixels();
    let planted: Vec<usize> = (0..6).map(|k| (k * 977 + 5) % len).collect();
    let quiet: Vec<usize> = (0..14).map(|k| (k * 1733 + 400) % len).collect();
    for f in 0..frames {
        let frame = test_frame(shape, f, &planted, &quiet);
        match frame.samples() {
            Samples::U8(v) => image::RgbImage::from_raw(shape.width, shape.height, v.clone())
                .unwrap()
                .save(dir.join(format!("f{f:03}.png")))
                .unwrap(),
            Samples::U16(v) => image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(
                shape.width,
                shape.height,
                v.clone(),
            )
            .unwrap()
            .save(dir.join(format!("f{f:03}.tif")))
            .unwrap(),
        }
    }
}

/// Reads the files back with the `image` crate alone and computes the exact statistics.
fn reference_from_files(dir: &Path, shape: Shape) -> Reference {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut r = Reference::new(shape);
    for p in paths {
        let img = image::open(&p).unwrap();
        let frame = if shape.bit_depth == 8 {
            hotpixels::Frame::from_u8(shape, img.into_rgb8().into_raw()).unwrap()
        } else {
            hotpixels::Frame::from_u16(shape, img.into_rgb16().into_raw()).unwrap()
        };
        r.add(&frame);
    }
    r
}

fn top20_matches(label: &str, shape: Shape, frames: usize) {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), shape, frames);
    let reference = reference_from_files(dir.path(), shape);
    let expected = reference.lowest(20);
    let inputs = [dir.path().display().to_string()];
    let mut backends = vec![(BackendChoice::Cpu, GpuOptions::default())];
    if gpu(label).is_some() {
        backends.push((BackendChoice::Gpu, GpuOptions::default()));
        backends.push((
            BackendChoice::Gpu,
            GpuOptions {
                max_tile_subpixels: Some(2048),
                batch_frames: Some(2),
                ..Default::default()
            },
        ));
    }
    for (backend, gpu_options) in backends {
        let options = ScanOptions {
            backend,
            top: 20,
            jobs: 2,
            gpu: gpu_options,
            ..Default::default()
        };
        let report = scan(&inputs, &options, &mut Silent).unwrap();
        assert_eq!(report.shape, shape);
        assert_eq!(report.frames_used, frames);
        let got: Vec<usize> = report.lowest.iter().map(|c| c.index).collect();
        assert_eq!(got, expected, "{label} {backend:?} {gpu_options:?}");
        for c in &report.lowest {
            let (x, y, ch) = shape.position(c.index);
            assert_eq!((c.x, c.y, c.channel), (x, y, ch));
            let m2 = reference.m2(c.index);
            assert!(
                (c.m2 as f64 - m2).abs() <= 1e-4 * m2 + 1e-3,
                "{label}: M2 {} vs {m2}",
                c.m2
            );
            let var = m2 / (frames - 1) as f64;
            assert!((c.variance as f64 - var).abs() <= 1e-4 * var + 1e-3);
            let mean = reference.mean(c.index);
            assert!((c.mean as f64 - mean).abs() <= 1e-3 * shape.max_value() as f64 / 255.0);
        }
    }
}

#[test]
fn png_8bit_top20_equals_exact_reference() {
    top20_matches("png8", Shape::new(67, 41, 3, 8).unwrap(), 30);
}

#[test]
fn tiff_16bit_top20_equals_exact_reference() {
    top20_matches("tiff16", Shape::new(53, 35, 3, 16).unwrap(), 24);
}
