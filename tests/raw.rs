//! Camera RAW input: DNG sets from the simulated 12-bit RGGB camera (every kind found at its exact
//! photosite, with its colour, on both backends; dark frames), the real Canon CR2 from Debian's
//! `rawtran-doc`, RAW+JPEG twins, and damaged RAW files.

mod common;

use std::path::{Path, PathBuf};

use hotpixels::detect::Kind;
use hotpixels::input::{discover, discover_with, Cfa, Colour, DiscoverOptions, Encoding, Prefer};
use hotpixels::scan::{scan, BackendChoice, ScanOptions, ScanReport, Silent};
use hotpixels::synth::sensor::{RAW_BLACK, RAW_MARGINS};
use hotpixels::synth::{write_set, SetFormat, SetSpec, Truth};

/// The Canon EOS 30D CR2 Debian's `rawtran-doc` ships (`.ci/run` installs it).
const CANON_CR2: &str = "/usr/share/doc/rawtran/IMG_5952.CR2";

fn run(dir: &Path, backend: BackendChoice, dark: bool) -> ScanReport {
    let mut options = ScanOptions {
        backend,
        ..Default::default()
    };
    options.detect.dark = dark;
    scan(&[dir.display().to_string()], &options, &mut Silent).expect("scan")
}

/// A DNG `CFAPattern` code for a letter: 0 red, 1 green, 2 blue.
fn cfa_code(letter: &u8) -> u8 {
    match letter {
        b'R' => 0,
        b'G' => 1,
        _ => 2,
    }
}

fn dng_set(frames: usize, seed: u64, dark: bool) -> SetSpec {
    SetSpec {
        width: 320,
        height: 240,
        frames,
        format: SetFormat::Dng,
        hot: 4,
        warm: 4,
        stuck: 3,
        dead: if dark { 0 } else { 3 },
        pairs: 2,
        dark,
        seed,
        ..Default::default()
    }
}

/// Every true defect is a reported defect's pixel exactly, named with its kind and colour, and
/// every reported defect holds a true one.
fn check_exact(label: &str, report: &ScanReport, truth: &Truth) {
    let defects = &report.detection.defects;
    assert!(!truth.defects.is_empty());
    for t in &truth.defects {
        let d = defects
            .iter()
            .find(|d| d.pixels.contains(&[t.x, t.y]))
            .unwrap_or_else(|| panic!("{label}: {:?} at ({}, {}) not found", t.kind, t.x, t.y));
        assert_eq!(d.kind, t.kind, "{label}: kind at ({}, {})", t.x, t.y);
        if (d.x, d.y) == (t.x, t.y) {
            assert_eq!(
                d.colour.letter(),
                t.cfa,
                "{label}: colour at ({}, {})",
                t.x,
                t.y
            );
        }
    }
    for d in defects {
        assert!(
            truth.defects.iter().any(|t| d.pixels.contains(&[t.x, t.y])),
            "{label}: false defect at ({}, {}) {:?}",
            d.x,
            d.y,
            d.kind
        );
    }
}

#[test]
fn dng_set_every_kind_found_at_its_photosite_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dng_set(40, 31, false);
    let truth = write_set(&spec, dir.path()).unwrap();
    let cpu = run(dir.path(), BackendChoice::Cpu, false);
    assert_eq!(cpu.shape.describe(), "320x240 RAW RGGB 16-bit");
    let raw = cpu.raw.as_ref().expect("RAW information");
    assert_eq!(raw.visible_origin, RAW_MARGINS);
    assert_eq!(raw.levels.black, [RAW_BLACK as f32; 4]);
    assert_eq!(cpu.levels.encoding, Encoding::Linear);
    check_exact("dng cpu", &cpu, &truth);
    if common::gpu("dng_set_every_kind_found_at_its_photosite").is_some() {
        let gpu = run(dir.path(), BackendChoice::Gpu, false);
        let key = |r: &ScanReport| -> Vec<(u32, u32, Kind)> {
            r.detection
                .defects
                .iter()
                .map(|d| (d.x, d.y, d.kind))
                .collect()
        };
        assert_eq!(key(&gpu), key(&cpu), "GPU and CPU defects differ");
    }
}

#[test]
fn dark_dngs_name_hot_warm_and_stuck_photosites() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_set(&dng_set(20, 32, true), dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, true);
    assert_eq!(report.detection.thresholds.method, "dark");
    check_exact("dark dng", &report, &truth);
    assert!(truth.defects.iter().any(|t| t.kind == Kind::Stuck));
}

#[test]
fn a_real_canon_cr2_has_libraw_margins_pattern_and_levels() {
    let path = Path::new(CANON_CR2);
    assert!(
        path.exists(),
        "{CANON_CR2} is missing: install Debian's rawtran-doc (.ci/run does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let copies: Vec<PathBuf> = ["a.CR2", "b.cr2"]
        .iter()
        .map(|name| {
            let to = dir.path().join(name);
            std::fs::copy(path, &to).unwrap();
            to
        })
        .collect();
    let d = discover(&[dir.path().display().to_string()]).unwrap();
    assert_eq!(d.files, copies, "both extensions, any case, are RAW");
    let shape = d.shape.unwrap();
    assert_eq!((shape.width, shape.height), (3522, 2348));
    assert_eq!(shape.cfa, Some(Cfa::parse("RGGB").unwrap()));
    assert_eq!((shape.channels, shape.bit_depth), (1, 16));
    let raw = d.raw.unwrap();
    assert_eq!(
        (raw.make.as_str(), raw.model.as_str()),
        ("Canon", "EOS 30D")
    );
    assert_eq!(raw.visible_origin, [74, 12]);
    assert_eq!(raw.raw_size, [3596, 2360]);
    // LibRaw's ChannelBlackLevel (R 127, G 128, B 128, G2 127) in the tile's order.
    assert_eq!(raw.levels.black, [127.0, 128.0, 127.0, 128.0]);
    assert_eq!(raw.levels.white, 3398.0);

    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert_eq!(report.frames_used, 2);
    assert_eq!(report.shape.describe(), "3522x2348 RAW RGGB 16-bit");
    let json = hotpixels::report::json::render(&report);
    for field in [
        "\"cfa\": \"RGGB\"",
        "\"visible_origin\": [\n      74,\n      12\n    ]",
        "\"white_level\": 3398.0",
    ] {
        assert!(json.contains(field), "report lacks {field}");
    }
    // The top-left photosite of the visible area is red.
    assert_eq!(report.shape.colour(0, 0, 0), Colour::Red);
    assert_eq!(report.shape.colour(1, 1, 0), Colour::Blue);

    // Copies cut short (an interrupted copy from the card) decode without complaint, the
    // photosites they lack filled in: each is refused, naming the file, and the scan goes on.
    let bytes = std::fs::read(path).unwrap();
    for (name, keep) in [
        ("cut_end.CR2", bytes.len() - 1000),
        ("cut_third.CR2", bytes.len() * 2 / 3),
    ] {
        std::fs::write(dir.path().join(name), &bytes[..keep]).unwrap();
    }
    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert_eq!(report.frames_used, 2, "{:?}", report.skipped);
    let mut refused: Vec<_> = report
        .skipped
        .iter()
        .map(|s| {
            assert!(s.reason.contains("cut short"), "{}", s.reason);
            s.path.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    refused.sort();
    assert_eq!(refused, ["cut_end.CR2", "cut_third.CR2"]);
}

/// A folder of RAW+JPEG twins: the RAW files by default, the JPEGs with `Prefer::Jpeg`, the
/// others counted once.
#[test]
fn raw_and_jpeg_twins_are_read_once_in_the_preferred_form() {
    let dir = tempfile::tempdir().unwrap();
    let (raws, jpegs) = (dir.path().join("raw"), dir.path().join("jpeg"));
    write_set(&dng_set(3, 33, false), &raws).unwrap();
    let jpeg_spec = SetSpec {
        format: SetFormat::Jpeg,
        ..dng_set(4, 33, false)
    };
    write_set(&jpeg_spec, &jpegs).unwrap();
    let shots = dir.path().join("shots");
    std::fs::create_dir(&shots).unwrap();
    for (from, count, ext) in [(&raws, 3, "dng"), (&jpegs, 4, "jpg")] {
        for i in 1..=count {
            let name = format!("frame_{i:04}");
            let to = shots.join(format!("{name}.{}", ext.to_uppercase()));
            std::fs::rename(from.join(format!("{name}.{ext}")), to).unwrap();
        }
    }
    let input = [shots.display().to_string()];
    let d = discover(&input).unwrap();
    assert_eq!(d.twins_left_out, 3);
    assert!(d.shape.unwrap().cfa.is_some(), "the RAW shape wins");
    assert_eq!(d.files.len(), 3);
    assert!(d.files.iter().all(|f| f.extension().unwrap() == "DNG"));
    assert_eq!(
        d.skipped.len(),
        1,
        "the JPEG without a twin is another shape"
    );
    let options = DiscoverOptions {
        prefer: Prefer::Jpeg,
        ..Default::default()
    };
    let jpeg = discover_with(&input, &options).unwrap();
    assert_eq!(jpeg.files.len(), 4);
    assert!(jpeg.files.iter().all(|f| f.extension().unwrap() == "JPG"));
    assert_eq!(jpeg.twins_left_out, 3);
    assert_eq!(jpeg.shape.unwrap().cfa, None);
}

/// An X-Trans sensor (6×6 colour filter) is refused with that reason, not misread as Bayer.
#[test]
fn an_xtrans_raw_file_is_refused_with_its_reason() {
    use hotpixels::synth::dng::write_dng;
    use hotpixels::synth::sensor::dng_layout;
    const XTRANS: &[u8; 36] = b"GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG";
    let dir = tempfile::tempdir().unwrap();
    let spec = dng_set(1, 35, false);
    let mut layout = dng_layout(&spec);
    layout.cfa_size = [6, 6];
    layout.cfa = XTRANS.iter().map(cfa_code).collect();
    let [w, h] = layout.stored;
    let samples = vec![RAW_BLACK; (w * h) as usize];
    for name in ["a.dng", "b.dng"] {
        let file = std::fs::File::create(dir.path().join(name)).unwrap();
        write_dng(std::io::BufWriter::new(file), &layout, &samples).unwrap();
    }
    let err = scan(
        &[dir.path().display().to_string()],
        &ScanOptions::default(),
        &mut Silent,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("X-Trans sensors (6x6 colour filter) are not supported"),
        "{err}"
    );
}

/// With odd margins the pattern seen from the visible area differs from the stored frame's; the
/// shape names the one dcraw reads (`dcraw -i -v`: `Filter pattern: BG/GR`).
#[test]
fn odd_margins_give_the_visible_areas_pattern_as_dcraw_reads_it() {
    use hotpixels::input::decode::probe;
    use hotpixels::synth::dng::write_dng;
    use hotpixels::synth::sensor::dng_layout;
    let dir = tempfile::tempdir().unwrap();
    for (origin, pattern) in [([1, 1], "BGGR"), ([1, 0], "GRBG"), ([3, 2], "GBRG")] {
        let mut layout = dng_layout(&dng_set(1, 36, false));
        layout.origin = origin;
        layout.stored = [layout.visible[0] + origin[0], layout.visible[1] + origin[1]];
        layout.cfa = pattern.as_bytes().iter().map(cfa_code).collect();
        let path = dir
            .path()
            .join(format!("odd_{}_{}.dng", origin[0], origin[1]));
        let [w, h] = layout.stored;
        let file = std::fs::File::create(&path).unwrap();
        write_dng(
            std::io::BufWriter::new(file),
            &layout,
            &vec![RAW_BLACK; (w * h) as usize],
        )
        .unwrap();
        let header = probe(&path).unwrap();
        assert_eq!(header.raw.unwrap().visible_origin, origin);
        let ours = header.shape.cfa.unwrap().name();
        let run = tempfile::tempdir().unwrap();
        let text = common::dcraw(
            &["-i".as_ref(), "-v".as_ref(), path.as_os_str()],
            run.path(),
        )
        .stdout;
        let theirs: String = text
            .lines()
            .find_map(|l| l.strip_prefix("Filter pattern: "))
            .unwrap_or_else(|| panic!("no pattern in: {text}"))
            .chars()
            .filter(|c| *c != '/')
            .collect();
        assert_eq!(ours, theirs, "origin {origin:?}");
        assert_eq!(ours, pattern);
    }
}

#[test]
fn a_damaged_raw_file_is_one_files_error_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write_set(&dng_set(4, 34, false), dir.path()).unwrap();
    let good = dir.path().join("frame_0001.dng");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(dir.path().join("cut.dng"), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(dir.path().join("noise.nef"), b"not a camera file at all").unwrap();
    // A CR3's boxes (ISO base media) whose image data box runs past the end of the file.
    let mut cr3 = 24u32.to_be_bytes().to_vec();
    cr3.extend_from_slice(b"ftypcrx \0\0\0\x01crx isom");
    cr3.extend_from_slice(&1_000_000u32.to_be_bytes());
    cr3.extend_from_slice(b"mdat");
    cr3.resize(4096, 0x5A);
    std::fs::write(dir.path().join("cut.cr3"), &cr3).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert_eq!(report.frames_used, 4);
    let reasons = common::skipped_by_name(&report.skipped);
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    for (name, reason) in &reasons {
        assert!(
            reason.contains("camera RAW") && !reason.contains('\n'),
            "{name}: {reason}"
        );
        if name.starts_with("cut") {
            assert!(reason.contains("cut short"), "{name}: {reason}");
        }
    }
}
