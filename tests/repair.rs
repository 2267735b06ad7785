//! Repair: copies of 8-bit PNG, 16-bit TIFF and JPEG frames with planted defects have those pixels
//! replaced from their clean neighbours, every other pixel of a lossless copy bit-identical, a
//! JPEG's EXIF kept, the inputs untouched; writing over inputs or copies is refused.

use std::collections::HashSet;
use std::path::Path;

use hotpixels::detect::Kind;
use hotpixels::input::{decode_file, Colour, Samples};
use hotpixels::repair::{
    repair_file, repair_region, RepairError, RepairOptions, MAX_REPAIR_RADIUS,
};
use hotpixels::report::list::{DefectList, ListedPixel};
use hotpixels::synth::{write_frame_png, SyntheticSet};
use hotpixels::{Frame, Shape};

/// Pixels planted at full scale: a lone one, a touching pair and one on the border.
const PLANTED: [(u32, u32); 4] = [(10, 7), (30, 20), (31, 20), (0, 5)];

fn planted_frame(shape: Shape) -> Frame {
    let mut frame = SyntheticSet::new(shape, 1, 0, 9).frame(0);
    let max = shape.max_value();
    for (x, y) in PLANTED {
        for c in 0..shape.channels {
            let i = shape.index(x, y, c);
            match frame.samples_mut() {
                Samples::U8(s) => s[i] = max as u8,
                Samples::U16(s) => s[i] = max as u16,
            }
        }
    }
    frame
}

fn map(shape: Shape) -> DefectList {
    DefectList {
        shape,
        camera: None,
        pixels: PLANTED
            .iter()
            .enumerate()
            .map(|(n, &(x, y))| ListedPixel {
                defect: n + 1,
                x,
                y,
                channel: 0,
                colour: Colour::Red,
                kind: Kind::Hot,
                score: 50.0,
                dark: None,
            })
            .collect(),
    }
}

/// The smallest and largest value outside `bad` around `(x, y)` in channel `c`, over the largest
/// window the repair may use.
fn clean_range(frame: &Frame, bad: &HashSet<(u32, u32)>, x: u32, y: u32, c: u32) -> (f64, f64) {
    let s = frame.shape();
    let mut lo = f64::MAX;
    let mut hi = f64::MIN;
    for dy in -MAX_REPAIR_RADIUS..=MAX_REPAIR_RADIUS {
        for dx in -MAX_REPAIR_RADIUS..=MAX_REPAIR_RADIUS {
            let (xx, yy) = (x as i64 + dx, y as i64 + dy);
            if xx < 0 || yy < 0 || xx >= s.width as i64 || yy >= s.height as i64 {
                continue;
            }
            if bad.contains(&(xx as u32, yy as u32)) {
                continue;
            }
            let v = frame.value(s.index(xx as u32, yy as u32, c));
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo, hi)
}

/// Repairs `input` into a fresh folder and checks the copy against the original frame: the
/// planted pixels and their blobs within their clean neighbours' range (± `slack`), the others
/// equal (± `slack`).
fn check(input: &Path, shape: Shape, slack: f64) -> std::path::PathBuf {
    let before = std::fs::read(input).unwrap();
    let original = decode_file(input, shape).unwrap();
    let out = input.parent().unwrap().join("fixed");
    std::fs::create_dir_all(&out).unwrap();
    let copy = repair_file(input, &map(shape), &out, &RepairOptions::default()).unwrap();
    assert_eq!(copy, out.join(input.file_name().unwrap()));
    assert_eq!(
        std::fs::read(input).unwrap(),
        before,
        "the input is untouched"
    );
    let fixed = decode_file(&copy, shape).unwrap();
    let bad = repair_region(&map(shape));
    assert!(PLANTED.iter().all(|p| bad.contains(p)));
    assert!(
        bad.contains(&(11, 8)),
        "a planted pixel's blob is repaired too"
    );
    let mut changed_elsewhere = 0;
    for y in 0..shape.height {
        for x in 0..shape.width {
            for c in 0..shape.channels {
                let i = shape.index(x, y, c);
                let v = fixed.value(i);
                if bad.contains(&(x, y)) {
                    let (lo, hi) = clean_range(&original, &bad, x, y, c);
                    assert!(
                        v >= lo - slack && v <= hi + slack,
                        "{}: ({x}, {y}, {c}) = {v}, clean neighbours {lo}..{hi}",
                        input.display()
                    );
                } else if (v - original.value(i)).abs() > slack {
                    changed_elsewhere += 1;
                }
            }
        }
    }
    assert_eq!(changed_elsewhere, 0, "{}", input.display());
    copy
}

#[test]
fn lossless_copies_change_the_defect_pixels_only() {
    let dir = tempfile::tempdir().unwrap();
    let png8 = Shape::new(48, 32, 3, 8).unwrap();
    let path = dir.path().join("a.png");
    write_frame_png(&planted_frame(png8), &path).unwrap();
    check(&path, png8, 0.0);
    let grey16 = Shape::new(48, 32, 1, 16).unwrap();
    let tiff_dir = dir.path().join("tiff");
    std::fs::create_dir(&tiff_dir).unwrap();
    let path = tiff_dir.join("b.tif");
    let frame = planted_frame(grey16);
    let img = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(
        48,
        32,
        frame.as_u16().unwrap().to_vec(),
    )
    .unwrap();
    img.save(&path).unwrap();
    let copy = check(&path, grey16, 0.0);
    let header = hotpixels::input::decode::probe(&copy).unwrap();
    assert_eq!(header.shape.bit_depth, 16, "16-bit stays 16-bit");
    // The other depth of each: a 16-bit RGB PNG and an 8-bit RGB TIFF.
    let rgb16 = Shape::new(48, 32, 3, 16).unwrap();
    let frame = planted_frame(rgb16);
    let png16 = dir.path().join("png16");
    std::fs::create_dir(&png16).unwrap();
    let path = png16.join("d.png");
    image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(48, 32, frame.as_u16().unwrap().to_vec())
        .unwrap()
        .save(&path)
        .unwrap();
    let copy = check(&path, rgb16, 0.0);
    assert_eq!(hotpixels::input::decode::probe(&copy).unwrap().shape, rgb16);
    let rgb8 = Shape::new(48, 32, 3, 8).unwrap();
    let frame = planted_frame(rgb8);
    let tiff8 = dir.path().join("tiff8");
    std::fs::create_dir(&tiff8).unwrap();
    let path = tiff8.join("e.tiff");
    image::RgbImage::from_raw(48, 32, frame.as_u8().unwrap().to_vec())
        .unwrap()
        .save(&path)
        .unwrap();
    let copy = check(&path, rgb8, 0.0);
    assert_eq!(hotpixels::input::decode::probe(&copy).unwrap().shape, rgb8);
    #[cfg(unix)]
    {
        // A copy has the permissions of any new file here, not a temporary file's owner-only ones.
        use std::os::unix::fs::PermissionsExt;
        let plain = tiff_dir.join("plain");
        std::fs::write(&plain, b"").unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&copy), mode(&plain));
    }
}

#[test]
fn a_jpeg_copy_keeps_its_exif() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(64, 48, 3, 8).unwrap();
    let path = dir.path().join("c.jpg");
    // A minimal EXIF block: a little-endian TIFF header and an empty IFD.
    let exif: Vec<u8> = b"II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    {
        let frame = planted_frame(shape);
        let mut enc = jpeg_encoder::Encoder::new_file(&path, 98).unwrap();
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&exif);
        enc.add_app_segment(1, app1).unwrap();
        enc.encode(frame.as_u8().unwrap(), 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
    }
    // Re-encoding moves every pixel a little; the planted ones come down to their surroundings.
    let copy = check(&path, shape, 24.0);
    use image::ImageDecoder;
    let mut decoder = image::ImageReader::open(&copy)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    assert_eq!(decoder.exif_metadata().unwrap(), Some(exif));
}

#[test]
fn inputs_and_existing_copies_are_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(32, 24, 3, 8).unwrap();
    let path = dir.path().join("d.png");
    write_frame_png(&planted_frame(shape), &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let options = RepairOptions::default();
    let err = repair_file(&path, &map(shape), dir.path(), &options).unwrap_err();
    assert!(matches!(err, RepairError::IsInput(_)), "{err}");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("d.png"), b"mine").unwrap();
    let err = repair_file(&path, &map(shape), &out, &options).unwrap_err();
    assert!(matches!(err, RepairError::Exists(_)), "{err}");
    assert_eq!(std::fs::read(out.join("d.png")).unwrap(), b"mine");
    let overwrite = RepairOptions {
        overwrite: true,
        ..options
    };
    repair_file(&path, &map(shape), &out, &overwrite).unwrap();
    assert_ne!(std::fs::read(out.join("d.png")).unwrap(), b"mine");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    // A write that fails at the end (the copy's name is taken by a folder) leaves nothing behind.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("d.png")).unwrap();
    let err = repair_file(&path, &map(shape), &blocked, &overwrite).unwrap_err();
    assert!(matches!(err, RepairError::Write { .. }), "{err}");
    let names: Vec<_> = std::fs::read_dir(&blocked)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["d.png"], "no partial file");
    assert_eq!(std::fs::read_dir(blocked.join("d.png")).unwrap().count(), 0);
    let raw = dir.path().join("e.CR2");
    std::fs::write(&raw, b"raw").unwrap();
    let err = repair_file(&raw, &map(shape), &out, &options).unwrap_err();
    assert!(
        err.to_string()
            .contains("camera RAW files other than DNG are not rewritten"),
        "{err}"
    );
    let wrong = Shape::new(16, 16, 3, 8).unwrap();
    let err = repair_file(&path, &map(wrong), &out, &overwrite).unwrap_err();
    assert!(
        matches!(err, RepairError::Decode(_)),
        "another shape: {err}"
    );
}

/// A RAW frame's photosite is repaired from the photosites under its own colour filter, alone:
/// its neighbours of other colours, and every other photosite, are left as they are.
#[test]
fn a_raw_photosite_is_repaired_from_its_own_colour() {
    use hotpixels::input::Cfa;
    use hotpixels::repair::repair_frame;
    let shape = Shape::raw(16, 12, Cfa::parse("RGGB").unwrap()).unwrap();
    let level = |c: Colour| match c {
        Colour::Red => 1000u16,
        Colour::Green => 2000,
        _ => 3000,
    };
    let values: Vec<u16> = (0..12)
        .flat_map(|y| (0..16).map(move |x| (x, y)))
        .map(|(x, y)| level(shape.colour(x, y, 0)))
        .collect();
    let mut frame = Frame::from_u16(shape, values.clone()).unwrap();
    let hot = (4, 4);
    assert_eq!(shape.colour(hot.0, hot.1, 0), Colour::Red);
    let i = shape.index(hot.0, hot.1, 0);
    if let Samples::U16(s) = frame.samples_mut() {
        s[i] = 4000;
    }
    let list = DefectList {
        shape,
        camera: None,
        pixels: vec![ListedPixel {
            defect: 1,
            x: hot.0,
            y: hot.1,
            channel: 0,
            colour: Colour::Red,
            kind: Kind::Hot,
            score: 9.0,
            dark: None,
        }],
    };
    let region = repair_region(&list);
    assert_eq!(region, HashSet::from([hot]), "a photosite alone, no blob");
    repair_frame(&mut frame, &region);
    assert_eq!(frame.as_u16().unwrap(), values.as_slice());
}

/// `scan --repair-preview`: every shown defect's crop changes where it is repaired and nowhere
/// else, on an image scan and on a RAW scan.
#[test]
fn the_repair_preview_shows_each_defect_before_and_after() {
    use hotpixels::report::crops::CROP_RADIUS;
    use hotpixels::report::preview::{preview, PREVIEW_DEFECTS};
    use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
    use hotpixels::synth::{write_set, SetFormat, SetSpec};
    for format in [SetFormat::Png, SetFormat::Dng] {
        let dir = tempfile::tempdir().unwrap();
        let spec = SetSpec {
            width: 192,
            height: 144,
            frames: 20,
            format,
            hot: 6,
            warm: 3,
            stuck: 2,
            dead: 3,
            pairs: 1,
            ..Default::default()
        };
        write_set(&spec, dir.path()).unwrap();
        let options = ScanOptions {
            backend: BackendChoice::Cpu,
            ..Default::default()
        };
        let report = scan(&[dir.path().display().to_string()], &options, &mut Silent).unwrap();
        let defects = &report.detection.defects;
        let shown = preview(&report).expect("a preview");
        assert_eq!(shown.pairs.len(), defects.len().min(PREVIEW_DEFECTS));
        assert!(shown.frame.starts_with("frame_"), "{}", shown.frame);
        let region = repair_region(&DefectList::of(&report));
        let side = 2 * CROP_RADIUS + 1;
        for pair in &shown.pairs {
            let d = &defects[pair.defect];
            let centre = (CROP_RADIUS * side + CROP_RADIUS) as usize;
            if matches!(d.kind, Kind::Hot | Kind::Dead) {
                assert_ne!(pair.before[centre], pair.after[centre], "{format:?} {d:?}");
            }
            for (k, (b, a)) in pair.before.iter().zip(&pair.after).enumerate() {
                let x = (d.x + k as u32 % side).checked_sub(CROP_RADIUS);
                let y = (d.y + k as u32 / side).checked_sub(CROP_RADIUS);
                let repaired = x.zip(y).is_some_and(|p| region.contains(&p));
                if !repaired {
                    assert_eq!(b, a, "{format:?}: ({x:?}, {y:?}) is not repaired");
                }
            }
        }
    }
}
