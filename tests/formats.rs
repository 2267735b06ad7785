//! Every supported format through the whole scan: LZW-compressed 16-bit TIFF (as OpenCV writes
//! them), grey JPEG, lossless WebP.

use std::path::Path;

use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
use hotpixels::synth::SyntheticSet;
use hotpixels::{Samples, Shape};

fn cpu() -> ScanOptions {
    ScanOptions {
        backend: BackendChoice::Cpu,
        jobs: 2,
        ..Default::default()
    }
}

fn assert_planted_lowest(dir: &Path, set: &SyntheticSet) {
    let report = scan(&[dir.display().to_string()], &cpu(), &mut Silent).unwrap();
    assert_eq!(report.shape, set.shape);
    assert_eq!(report.frames_used, set.frames);
    assert_eq!(report.failed, 0);
    let n = set.planted.len();
    for p in &set.planted {
        let rank = report.lowest[..n]
            .iter()
            .position(|c| (c.x, c.y, c.channel) == (p.x, p.y, p.channel));
        assert!(rank.is_some(), "{p:?} not in the lowest {n}");
    }
}

#[test]
fn lzw_tiff_16bit_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let set = SyntheticSet::new(Shape::new(45, 31, 3, 16).unwrap(), 6, 4, 21);
    for i in 0..set.frames {
        let Samples::U16(data) = set.frame(i).samples().clone() else {
            unreachable!()
        };
        let file = std::fs::File::create(dir.path().join(format!("f{i}.tiff"))).unwrap();
        let mut enc = tiff::encoder::TiffEncoder::new(file)
            .unwrap()
            .with_compression(tiff::encoder::Compression::Lzw);
        if i % 2 == 1 {
            enc = enc.with_predictor(tiff::encoder::Predictor::Horizontal);
        }
        enc.write_image::<tiff::encoder::colortype::RGB16>(45, 31, &data)
            .unwrap();
    }
    assert_planted_lowest(dir.path(), &set);
}

#[test]
fn lossless_webp() {
    let dir = tempfile::tempdir().unwrap();
    let set = SyntheticSet::new(Shape::new(40, 24, 3, 8).unwrap(), 5, 3, 22);
    for i in 0..set.frames {
        let Samples::U8(data) = set.frame(i).samples().clone() else {
            unreachable!()
        };
        image::RgbImage::from_raw(40, 24, data)
            .unwrap()
            .save(dir.path().join(format!("f{i}.webp")))
            .unwrap();
    }
    assert_planted_lowest(dir.path(), &set);
}

#[test]
fn grey_jpeg_keeps_a_constant_block_constant() {
    // JPEG is lossy, but an 8×8 block that is the same in every frame decodes the same: its
    // subpixels must come out with M2 = 0 and everything else above it.
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (64u32, 48u32);
    for f in 0..6u32 {
        let img = image::GrayImage::from_fn(w, h, |x, y| {
            if (16..24).contains(&x) && (8..16).contains(&y) {
                image::Luma([200])
            } else {
                image::Luma([((x * 7 + y * 3 + f * 41) % 200) as u8 + 20])
            }
        });
        let file = std::fs::File::create(dir.path().join(format!("f{f}.JPG"))).unwrap();
        image::codecs::jpeg::JpegEncoder::new_with_quality(file, 90)
            .encode_image(&img)
            .unwrap();
    }
    let options = ScanOptions { top: 64, ..cpu() };
    let report = scan(&[dir.path().display().to_string()], &options, &mut Silent).unwrap();
    assert_eq!(report.shape, Shape::new(w, h, 1, 8).unwrap());
    assert_eq!(report.frames_used, 6);
    for c in &report.lowest {
        assert!((16..24).contains(&c.x) && (8..16).contains(&c.y), "{c:?}");
        assert_eq!(c.m2, 0.0);
    }
}

/// A scan of JPEG files says their codec mixed the pixels in encoded values (kinds then compare
/// spreads in those); one of PNG files does not.
#[test]
fn jpeg_scans_are_marked_codec_mixed() {
    use hotpixels::synth::{write_set, SetFormat, SetSpec};
    for (format, mixed) in [(SetFormat::Jpeg, true), (SetFormat::Png, false)] {
        let dir = tempfile::tempdir().unwrap();
        let spec = SetSpec {
            width: 96,
            height: 64,
            frames: 4,
            format,
            ..Default::default()
        };
        write_set(&spec, dir.path()).unwrap();
        let report = scan(&[dir.path().display().to_string()], &cpu(), &mut Silent).unwrap();
        assert_eq!(report.levels.codec_mixed, mixed, "{format:?}");
    }
}
