//! Exports: every defect-list format agrees with the JSON report pixel for pixel, the report read
//! back gives the same list, Debian's dcraw, given the `dcraw` export of a DNG set with planted
//! defects, repairs exactly the listed photosites, and darktable renders a repaired DNG copy with
//! them repaired.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use hotpixels::detect::Kind;
use hotpixels::report::dcraw::Dcraw;
use hotpixels::report::list::{DefectList, ListExporter};
use hotpixels::report::pixels::{PixelCsv, HEADER};
use hotpixels::report::rawtherapee::RawTherapee;
use hotpixels::report::siril::Siril;
use hotpixels::scan::{scan, BackendChoice, ScanOptions, ScanReport, Silent};
use hotpixels::synth::{write_set, SetFormat, SetSpec, Truth};

fn dng_scan(dir: &Path, seed: u64) -> (Truth, ScanReport) {
    common::scan_planted(dir, SetFormat::Dng, [256, 192, 30], seed)
}

/// The `(x, y)` of every line of a list, skipping `#` comments, from the columns `x_at`, `y_at`.
fn points(text: &str, x_at: usize, y_at: usize) -> Vec<(u32, u32)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let w: Vec<&str> = l.split([' ', ',']).collect();
            (w[x_at].parse().unwrap(), w[y_at].parse().unwrap())
        })
        .collect()
}

#[test]
fn every_format_lists_the_reports_pixels_and_the_json_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, report) = dng_scan(&dir.path().join("set"), 41);
    let list = DefectList::of(&report);
    let want: Vec<(u32, u32)> = report
        .detection
        .defects
        .iter()
        .flat_map(|d| d.pixels.iter().map(|p| (p[0], p[1])))
        .collect();
    assert!(want.len() >= truth.defects.len(), "{want:?}");
    let text = |e: &dyn ListExporter| String::from_utf8(e.render_list(&list)).unwrap();
    assert_eq!(points(&text(&Dcraw), 0, 1), want);
    assert!(text(&Dcraw)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .all(|l| l.ends_with(" 0")));
    let rt = text(&RawTherapee);
    assert_eq!(points(&rt, 0, 1), want);
    assert!(
        rt.lines().all(|l| l.split(' ').count() == 2),
        "never a single number on a line (RawTherapee reads it as an offset)"
    );
    let siril = text(&Siril);
    assert_eq!(points(&siril, 1, 2), want);
    for (line, d) in siril.lines().filter(|l| l.starts_with("P ")).zip(
        report
            .detection
            .defects
            .iter()
            .flat_map(|d| d.pixels.iter().map(move |_| d)),
    ) {
        let class = if d.kind == Kind::Dead { "C" } else { "H" };
        if d.kind != Kind::Stuck {
            assert!(line.ends_with(class), "{line} for {:?}", d.kind);
        }
    }
    let csv = text(&PixelCsv);
    assert_eq!(csv.lines().next(), Some(HEADER));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), want.len());
    for t in &truth.defects {
        let row = rows
            .iter()
            .find(|r| {
                r.split(',').nth(1) == Some(&t.x.to_string())
                    && r.split(',').nth(2) == Some(&t.y.to_string())
            })
            .unwrap_or_else(|| panic!("({}, {}) not in the CSV", t.x, t.y));
        assert_eq!(
            row.split(',').nth(4),
            Some(t.cfa.as_str()),
            "colour of {row}"
        );
        assert_eq!(row.split(',').nth(5), Some(t.kind.name()), "kind of {row}");
    }
    let json = hotpixels::report::json::render(&report);
    assert_eq!(DefectList::from_json(&json).unwrap(), list);
    let mut hot = list.clone();
    hot.retain_kinds(&[Kind::Hot]);
    assert!(!hot.pixels.is_empty() && hot.pixels.len() < list.pixels.len());
    assert!(hot.pixels.iter().all(|p| p.kind == Kind::Hot));
}

/// Reads a 16-bit grey TIFF written by dcraw.
fn read_tiff16(path: &Path) -> (u32, u32, Vec<u16>) {
    let file = std::fs::File::open(path).unwrap();
    let mut decoder = tiff::decoder::Decoder::new(std::io::BufReader::new(file)).unwrap();
    let (w, h) = decoder.dimensions().unwrap();
    match decoder.read_image().unwrap() {
        tiff::decoder::DecodingResult::U16(v) => (w, h, v),
        _ => panic!("{}: not 16-bit", path.display()),
    }
}

#[test]
fn dcraw_repairs_exactly_the_listed_photosites() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let (truth, report) = dng_scan(&set, 42);
    let list = DefectList::of(&report);
    let listed: BTreeSet<(u32, u32)> = list.pixels.iter().map(|p| (p.x, p.y)).collect();
    for t in &truth.defects {
        assert!(
            listed.contains(&(t.x, t.y)),
            "({}, {}) is not listed",
            t.x,
            t.y
        );
    }
    let list_path = dir.path().join("bad.txt");
    std::fs::write(&list_path, Dcraw.render_list(&list)).unwrap();
    let frame = set.join("frame_0007.dng");
    let develop = |extra: &[&std::ffi::OsStr], out: &str| {
        let run = dir.path().join(out);
        std::fs::create_dir(&run).unwrap();
        let args: Vec<&std::ffi::OsStr> = extra
            .iter()
            .copied()
            .chain(["-D", "-4", "-T", "-c"].map(std::ffi::OsStr::new))
            .chain([frame.as_os_str()])
            .collect();
        common::dcraw(&args, &run);
        read_tiff16(&run.join("stdout"))
    };
    let (w, h, plain) = develop(&[], "plain.tiff");
    assert_eq!((w, h), (report.shape.width, report.shape.height));
    let (_, _, fixed) = develop(&["-P".as_ref(), list_path.as_os_str()], "fixed.tiff");
    let changed: BTreeSet<(u32, u32)> = (0..plain.len())
        .filter(|&i| plain[i] != fixed[i])
        .map(|i| ((i as u32) % w, (i as u32) / w))
        .collect();
    assert!(
        changed.is_subset(&listed),
        "dcraw changed unlisted photosites: {:?}",
        changed.difference(&listed).collect::<Vec<_>>()
    );
    for t in &truth.defects {
        assert!(
            changed.contains(&(t.x, t.y)),
            "dcraw left ({}, {}) as it was",
            t.x,
            t.y
        );
    }
}

/// The positions an image marks with `bad` (every other pixel holds `good`).
fn marked(bytes: &[u8], bad: u16, good: u16) -> (u32, u32, BTreeSet<(u32, u32)>) {
    let img = image::load_from_memory(bytes).unwrap();
    let (w, h) = (img.width(), img.height());
    let grey = img.into_luma16();
    let mut set = BTreeSet::new();
    for (x, y, p) in grey.enumerate_pixels() {
        let v = p.0[0] as u32;
        // 8-bit masks are widened by ×257 when read as 16-bit.
        let is = |want: u16| v == want as u32 || v == want as u32 * 257;
        if is(bad) {
            set.insert((x, y));
        } else {
            assert!(is(good), "({x}, {y}) holds {v}");
        }
    }
    (w, h, set)
}

#[test]
fn masks_mark_exactly_the_listed_pixels_in_either_polarity() {
    use hotpixels::report::list::ListedPixel;
    use hotpixels::report::mask::{Mask, MaskFile, Polarity};
    use hotpixels::{input::Colour, Shape};
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = dng_scan(&dir.path().join("set"), 43);
    let raw = DefectList::of(&report);
    let want: BTreeSet<(u32, u32)> = raw.pixels.iter().map(|p| (p.x, p.y)).collect();
    let tiff = Mask::new(Polarity::BadIsOne, MaskFile::Image).render_list(&raw);
    assert_eq!(&tiff[..2], b"II", "RAW masks are 16-bit TIFF");
    let (w, h, got) = marked(&tiff, 1, 0);
    assert_eq!((w, h), (report.shape.width, report.shape.height));
    assert_eq!(got, want);
    let (_, _, got) = marked(
        &Mask::new(Polarity::BadIsZero, MaskFile::Image).render_list(&raw),
        0,
        u16::MAX,
    );
    assert_eq!(got, want);
    let pixel = |x, y| ListedPixel {
        defect: 1,
        x,
        y,
        channel: 1,
        colour: Colour::Green,
        kind: Kind::Hot,
        score: 9.0,
        dark: None,
    };
    let jpeg = DefectList {
        shape: Shape::new(8, 6, 3, 8).unwrap(),
        camera: None,
        pixels: vec![pixel(3, 2), pixel(4, 2), pixel(7, 5)],
    };
    let png = Mask::new(Polarity::BadIsZero, MaskFile::Image).render_list(&jpeg);
    assert_eq!(&png[1..4], b"PNG");
    let (_, _, got) = marked(&png, 0, 255);
    assert_eq!(got, BTreeSet::from([(3, 2), (4, 2), (7, 5)]));
    for (polarity, bad) in [(Polarity::BadIsOne, 1), (Polarity::BadIsZero, 0)] {
        let fits = Mask::new(polarity, MaskFile::Fits).render_list(&raw);
        let (w, h, got) = fits_marked(&fits, bad);
        assert_eq!((w, h), (report.shape.width, report.shape.height));
        assert_eq!(got, want, "FITS, {polarity:?}");
    }
}

/// The pixels of an 8-bit FITS mask whose value is `bad`, read by hand from the standard's
/// layout: 80-byte header cards up to `END`, then the data from the next 2880-byte block, rows
/// stored top row first as its `ROWORDER` card says.
fn fits_marked(bytes: &[u8], bad: u8) -> (u32, u32, BTreeSet<(u32, u32)>) {
    const BLOCK: usize = 2880;
    let cards: Vec<String> = bytes
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .take_while(|c| c.trim_end() != "END")
        .collect();
    let value = |key: &str| -> String {
        let card = cards
            .iter()
            .find(|c| c[..8].trim_end() == key)
            .unwrap_or_else(|| panic!("no {key} card"));
        card[10..].split('/').next().unwrap().trim().to_string()
    };
    assert_eq!(value("SIMPLE"), "T");
    assert_eq!(value("BITPIX"), "8");
    assert_eq!(value("NAXIS"), "2");
    assert_eq!(value("ROWORDER"), "'TOP-DOWN'");
    let (w, h): (u32, u32) = (
        value("NAXIS1").parse().unwrap(),
        value("NAXIS2").parse().unwrap(),
    );
    let start = (cards.len() * 80 + 80).div_ceil(BLOCK) * BLOCK;
    let data = &bytes[start..start + (w * h) as usize];
    assert_eq!(bytes.len() % BLOCK, 0, "whole blocks");
    let set = (0..w * h)
        .filter(|&i| data[i as usize] == bad)
        .map(|i| (i % w, i / w))
        .collect();
    (w, h, set)
}

/// A repaired DNG keeps its raw data and gains a `FixBadPixelsList` opcode listing the report's
/// photosites in the stored image's coordinates; opcodes already there are kept.
#[test]
fn a_dng_copy_gets_the_bad_pixel_opcode() {
    use hotpixels::repair::dng::read_bad_pixel_opcode;
    use hotpixels::repair::{repair_file, RepairOptions};
    use hotpixels::synth::sensor::RAW_MARGINS;
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let (_, report) = dng_scan(&set, 44);
    let list = DefectList::of(&report);
    let input = set.join("frame_0003.dng");
    let before = std::fs::read(&input).unwrap();
    let out = dir.path().join("fixed");
    std::fs::create_dir(&out).unwrap();
    let copy = repair_file(&input, &list, &out, &RepairOptions::default()).unwrap();
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );
    let bytes = std::fs::read(&copy).unwrap();
    let op = read_bad_pixel_opcode(&bytes).unwrap();
    assert_eq!(
        (op.bayer_phase, op.opcodes),
        (0, 1),
        "RGGB stored image, one opcode"
    );
    let [left, top] = RAW_MARGINS;
    let want: Vec<(u32, u32)> = list
        .pixels
        .iter()
        .map(|p| (p.y + top, p.x + left))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(op.points, want);
    let shape = report.shape;
    assert_eq!(
        hotpixels::input::decode_file(&copy, shape).unwrap(),
        hotpixels::input::decode_file(&input, shape).unwrap(),
        "the raw data is left as it was"
    );
    let again = dir.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let twice = repair_file(&copy, &list, &again, &RepairOptions::default()).unwrap();
    let op = read_bad_pixel_opcode(&std::fs::read(twice).unwrap()).unwrap();
    assert_eq!(
        (op.opcodes, op.points),
        (2, want),
        "the first opcode is kept"
    );
}

/// The longest darktable may take to export one small DNG (about a second here).
const DARKTABLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// A listed photosite standing out from its same-colour neighbours by this share of the range
/// in a frame ...
const DARKTABLE_STANDOUT: f32 = 1.0 / 8.0;
/// ... changes a rendered pixel next to it by at least this many levels (8-bit) when darktable
/// repairs it (15 and more seen).
const DARKTABLE_CLEAR_CHANGE: u8 = 4;
/// Levels (8-bit) a rendered pixel may change by anywhere: darktable's pipeline moves pixels far
/// from any repair by one level or two.
const DARKTABLE_FAINT_CHANGE: u8 = 2;
/// How far (pixels, either axis) darktable's demosaicking and sharpening carry a repair: changes
/// of more than [`DARKTABLE_FAINT_CHANGE`] were seen up to 5 px from a listed photosite.
const DARKTABLE_SPREAD: u32 = 6;

/// darktable (rawspeed, which applies DNG opcodes) renders the repaired copy of a DNG with every
/// listed photosite repaired and nothing else changed: the copy and the original, each exported
/// by `darktable-cli`, differ clearly next to every listed photosite that stands out in the frame,
/// and more than faintly nowhere farther from a listed one. An opcode darktable ignored, or one whose points missed the stored
/// image's margins, would fail it.
#[test]
fn darktable_renders_the_dng_copy_repaired() {
    use hotpixels::repair::{repair_file, RepairOptions};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let (_, report) = dng_scan(&set, 45);
    let list = DefectList::of(&report);
    let input = set.join("frame_0004.dng");
    let out = dir.path().join("fixed");
    std::fs::create_dir(&out).unwrap();
    let copy = repair_file(&input, &list, &out, &RepairOptions::default()).unwrap();
    // darktable keeps its configuration, cache and library here, none in the user's home.
    let home = dir.path().join("darktable");
    let render = |dng: &Path, name: &str| -> image::RgbImage {
        let png = dir.path().join(name);
        let mut cmd = Command::new("darktable-cli");
        cmd.arg(dng)
            .arg(&png)
            .arg("--core")
            .arg("--configdir")
            .arg(home.join("config"))
            .arg("--cachedir")
            .arg(home.join("cache"))
            .args(["--library", ":memory:"])
            .env("XDG_RUNTIME_DIR", dir.path());
        let what = "darktable-cli (Debian package darktable; .ci/run installs it)";
        let ran = common::run_within(&mut cmd, DARKTABLE_TIMEOUT, dir.path(), what);
        assert!(
            ran.status.success() && png.exists(),
            "darktable-cli {}: {}",
            dng.display(),
            ran.stderr
        );
        image::open(&png).unwrap().into_rgb8()
    };
    let plain = render(&input, "plain.png");
    let fixed = render(&copy, "fixed.png");
    let shape = report.shape;
    assert_eq!(plain.dimensions(), (shape.width, shape.height));
    assert_eq!(fixed.dimensions(), plain.dimensions());
    let change = |x: u32, y: u32| {
        let (a, b) = (plain.get_pixel(x, y).0, fixed.get_pixel(x, y).0);
        (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap()
    };
    let listed: Vec<(u32, u32)> = list.pixels.iter().map(|p| (p.x, p.y)).collect();
    assert!(!listed.is_empty());
    // The photosites that stand out in this frame: a hot one in a region at white, or a dead one
    // in a black one, repaired, looks the same.
    let frame = hotpixels::input::decode_file(&input, shape).unwrap();
    let hotpixels::input::Samples::U16(raw) = frame.samples() else {
        panic!("a DNG frame has 16-bit samples")
    };
    let at = |x: u32, y: u32| raw[(y * shape.width + x) as usize] as f32;
    let levels = &report.levels;
    let standout = (levels.white - levels.black[0]) * DARKTABLE_STANDOUT;
    let standing_out: Vec<(u32, u32)> = listed
        .iter()
        .copied()
        .filter(|&(x, y)| x >= 2 && y >= 2 && x + 2 < shape.width && y + 2 < shape.height)
        .filter(|&(x, y)| {
            let mut n = [at(x - 2, y), at(x + 2, y), at(x, y - 2), at(x, y + 2)];
            n.sort_by(f32::total_cmp);
            (at(x, y) - (n[1] + n[2]) / 2.0).abs() >= standout
        })
        .collect();
    assert!(standing_out.len() >= 3, "{standing_out:?} of {listed:?}");
    for &(x, y) in &standing_out {
        let around = (x - 1..=x + 1)
            .flat_map(|nx| (y - 1..=y + 1).map(move |ny| change(nx, ny)))
            .max()
            .unwrap();
        assert!(
            around >= DARKTABLE_CLEAR_CHANGE,
            "darktable left ({x}, {y}) as it was (largest change around it: {around})"
        );
    }
    let far: Vec<(u32, u32, u8)> = (0..shape.height)
        .flat_map(|y| (0..shape.width).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            listed
                .iter()
                .all(|&(px, py)| x.abs_diff(px).max(y.abs_diff(py)) > DARKTABLE_SPREAD)
        })
        .map(|(x, y)| (x, y, change(x, y)))
        .filter(|&(_, _, c)| c > DARKTABLE_FAINT_CHANGE)
        .collect();
    assert!(
        far.is_empty(),
        "changed far from every listed photosite: {far:?}"
    );
}

/// An EXIF block (little-endian TIFF) naming the camera, its serial number included.
fn exif_block(make: &str, model: &str, serial: &str) -> Vec<u8> {
    use exif::{Field, In, Tag, Value};
    let field = |tag, text: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    };
    let fields = [
        field(Tag::Make, make),
        field(Tag::Model, model),
        field(Tag::BodySerialNumber, serial),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, true).unwrap();
    out.into_inner()
}

/// RawTherapee's file names come from the frames' EXIF, the camera named as dcraw names it, this
/// body's name (with its serial number) first; the JSON report keeps the camera.
#[test]
fn rawtherapee_names_the_camera_from_exif() {
    use hotpixels::input::exif::{read_camera, Camera};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let spec = SetSpec {
        width: 128,
        height: 96,
        frames: 12,
        ..Default::default()
    };
    write_set(&spec, &set).unwrap();
    let mut app1 = vec![0xFF, 0xE1, 0, 0];
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend(exif_block("NIKON CORPORATION", "NIKON D850", "6012345"));
    let len = (app1.len() - 2) as u16;
    app1[2..4].copy_from_slice(&len.to_be_bytes());
    for entry in std::fs::read_dir(&set).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "jpg") {
            let jpeg = std::fs::read(&path).unwrap();
            let with_exif = [&jpeg[..2], &app1, &jpeg[2..]].concat();
            std::fs::write(&path, with_exif).unwrap();
        }
    }
    let options = ScanOptions {
        backend: BackendChoice::Cpu,
        ..Default::default()
    };
    let report = scan(&[set.display().to_string()], &options, &mut Silent).unwrap();
    let nikon = Camera {
        make: "Nikon".into(),
        model: "D850".into(),
        serial: Some("6012345".into()),
    };
    assert_eq!(report.camera.as_ref(), Some(&nikon));
    let list = DefectList::of(&report);
    assert_eq!(
        RawTherapee::file_names(&list),
        ["Nikon D850 6012345.badpixels", "Nikon D850.badpixels"]
    );
    let json = hotpixels::report::json::render(&report);
    assert_eq!(DefectList::from_json(&json).unwrap().camera, Some(nikon));
    // A real camera RAW file: the name dcraw prints for it.
    let cr2 = Path::new("/usr/share/doc/rawtran/IMG_5952.CR2");
    let camera = read_camera(cr2).expect("the CR2's EXIF");
    let run = tempfile::tempdir().unwrap();
    let printed = common::dcraw(&["-i".as_ref(), cr2.as_os_str()], run.path()).stdout;
    assert!(
        printed.contains(&format!("is a {} image", camera.name())),
        "dcraw: {printed}, ours: {camera:?}"
    );
}
