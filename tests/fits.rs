//! FITS input: the simulated camera's photosites written as an astronomy camera writes them
//! (16-bit, `BZERO` 32768, `BAYERPAT`, `EXPTIME`, `ISOSPEED`, `INSTRUME`, `DATE-OBS`, and the
//! levels as `PEDESTAL` and `DATAMAX`) give the defects the same frames give as DNG files, with the
//! dark-current model from their exposures, on both backends; repaired copies that keep their
//! headers and show no defect; a grey FITS frame; and the FITS files that are refused, each with
//! its reason.

mod common;

use std::path::Path;

use hotpixels::detect::Kind;
use hotpixels::input::exif::read_identity;
use hotpixels::input::fits::{header_bytes, BLOCK};
use hotpixels::input::{decode_file, discover, Encoding};
use hotpixels::model::Model;
use hotpixels::repair::{repair_file, repair_region, RepairOptions};
use hotpixels::report::list::DefectList;
use hotpixels::scan::{scan, BackendChoice, ScanOptions, ScanReport, Silent};
use hotpixels::synth::fits::write_fits;
use hotpixels::synth::sensor::{RAW_BLACK, RAW_WHITE};
use hotpixels::synth::{write_set, SetFormat, SetSpec};

fn run(dir: &Path, backend: BackendChoice) -> ScanReport {
    let options = ScanOptions {
        backend,
        ..Default::default()
    };
    scan(&[dir.display().to_string()], &options, &mut Silent).expect("scan")
}

fn key(r: &ScanReport) -> Vec<(u32, u32, Kind)> {
    r.detection
        .defects
        .iter()
        .map(|d| (d.x, d.y, d.kind))
        .collect()
}

/// A DNG set of the photo-library exposure mix, and its frames as FITS files in `fits` (with a
/// Bayer pattern when `bayer`).
fn dng_and_fits(dng: &Path, fits: &Path, bayer: bool) {
    let spec = SetSpec {
        width: 320,
        height: 240,
        frames: 48,
        format: SetFormat::Dng,
        hot: 4,
        warm: 2,
        stuck: 3,
        dead: 3,
        exposures: true,
        seed: 57,
        ..Default::default()
    };
    let truth = write_set(&spec, dng).unwrap();
    let shape = discover(&[dng.display().to_string()])
        .unwrap()
        .shape
        .unwrap();
    for name in &truth.files {
        let path = dng.join(name);
        let frame = decode_file(&path, shape).unwrap();
        let id = read_identity(&path);
        let mut cards = vec![
            ("EXPTIME", format!("{}", id.exposure.seconds.unwrap())),
            ("ISOSPEED", format!("{}", id.exposure.iso.unwrap())),
            ("INSTRUME", "'Simulated Astro 1'".to_string()),
            ("DATE-OBS", "'2026-01-15T21:33:12.250'".to_string()),
            ("PEDESTAL", format!("{RAW_BLACK}")),
            ("DATAMAX", format!("{RAW_WHITE}")),
        ];
        if bayer {
            cards.push(("BAYERPAT", format!("'{}'", shape.cfa.unwrap().name())));
        }
        let stem = Path::new(name).file_stem().unwrap().to_string_lossy();
        let samples = frame.as_u16().unwrap();
        write_fits(
            &fits.join(format!("{stem}.fits")),
            shape.width,
            shape.height,
            samples,
            &cards,
        )
        .unwrap();
    }
}

#[test]
fn fits_frames_give_the_dng_scans_defects_on_both_backends() {
    let (dng, fits) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    dng_and_fits(dng.path(), fits.path(), true);
    let from_dng = run(dng.path(), BackendChoice::Cpu);
    let from_fits = run(fits.path(), BackendChoice::Cpu);
    assert_eq!(from_fits.frames_used, 48);
    assert_eq!(from_fits.shape, from_dng.shape);
    assert_eq!(from_fits.shape.describe(), "320x240 RAW RGGB 16-bit");
    let raw = from_fits.raw.as_ref().unwrap();
    assert_eq!(
        (raw.make.as_str(), raw.model.as_str()),
        ("Simulated", "Astro 1")
    );
    assert_eq!(raw.levels.black, [RAW_BLACK as f32; 4]);
    assert_eq!(raw.levels.white, RAW_WHITE as f32);
    assert_eq!(raw.levels.encoding, Encoding::Linear);
    let id = read_identity(&fits.path().join("frame_0001.fits"));
    assert_eq!(id.camera.unwrap().body(), "Simulated Astro 1");
    assert_eq!(id.taken.unwrap().exif_text(), "2026:01:15 21:33:12");
    // The exposures make the dark-current model, as the DNG files' EXIF does.
    assert!(
        matches!(from_fits.model, Model::DarkCurrent { frames: 48, .. }),
        "{:?}",
        from_fits.model
    );
    assert_eq!(from_fits.model, from_dng.model);
    assert!(
        from_dng.detection.defects.len() >= 10,
        "{:?}",
        key(&from_dng)
    );
    assert_eq!(key(&from_fits), key(&from_dng));
    let text = hotpixels::report::text::render(&from_fits);
    assert!(
        text.contains("(from the FITS headers of 48 frames)"),
        "{text}"
    );
    if common::gpu("fits_frames_give_the_dng_scans_defects").is_some() {
        assert_eq!(key(&run(fits.path(), BackendChoice::Gpu)), key(&from_fits));
    }
}

#[test]
fn a_fits_frame_without_a_bayer_pattern_is_grey_and_linear() {
    let (dng, fits) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    dng_and_fits(dng.path(), fits.path(), false);
    let report = run(fits.path(), BackendChoice::Cpu);
    assert_eq!(report.shape.describe(), "320x240 grey 16-bit");
    assert_eq!(report.frames_used, 48);
    assert_eq!(report.levels.encoding, Encoding::Linear);
    assert_eq!(report.levels.black, [RAW_BLACK as f32; 4]);
}

#[test]
fn fits_files_not_read_here_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (64u32, 48u32);
    let samples: Vec<u16> = (0..w * h).map(|i| (i * 37 % 4096) as u16).collect();
    let write = |name: &str, cards: &[(&str, String)]| {
        write_fits(&dir.path().join(name), w, h, &samples, cards).unwrap();
    };
    for i in 0..3 {
        write(&format!("good{i}.fits"), &[]);
    }
    // A later card does not override the mandatory ones: give each its own header.
    let header_with = |bitpix: &str, extra: &[(&str, String)]| {
        let mut cards: Vec<(&str, String)> = [
            ("SIMPLE", "T"),
            ("BITPIX", bitpix),
            ("NAXIS", "2"),
            ("NAXIS1", "64"),
            ("NAXIS2", "48"),
        ]
        .iter()
        .map(|&(k, v)| (k, v.to_string()))
        .collect();
        cards.extend_from_slice(extra);
        let mut bytes = header_bytes(&cards);
        bytes.resize(BLOCK + (w * h) as usize * 4, 0);
        bytes
    };
    std::fs::write(dir.path().join("float.fits"), header_with("-32", &[])).unwrap();
    let scaled = header_with("16", &[("BSCALE", "2".to_string())]);
    std::fs::write(dir.path().join("scaled.fit"), scaled).unwrap();
    let good = std::fs::read(dir.path().join("good0.fits")).unwrap();
    std::fs::write(dir.path().join("cut.fits"), &good[..good.len() - 4000]).unwrap();
    std::fs::write(dir.path().join("text.fts"), "SIMPLE? no, a text file\n").unwrap();
    let found = discover(&[dir.path().display().to_string()]).unwrap();
    assert_eq!(found.files.len(), 3, "{:?}", found.skipped);
    for (name, says) in [
        ("float.fits", "BITPIX -32"),
        ("scaled.fit", "BSCALE 2"),
        ("cut.fits", "cut short"),
        ("text.fts", "not a readable FITS file"),
    ] {
        let reason = common::skipped_reason(&found.skipped, name);
        assert!(reason.contains(says), "{name}: {reason}");
    }
    for s in &found.skipped {
        assert!(!s.reason.contains('\n'), "{}", s.reason);
    }
}

#[test]
fn repaired_fits_copies_keep_their_header_and_show_no_defect() {
    let (dng, fits) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    dng_and_fits(dng.path(), fits.path(), true);
    let report = run(fits.path(), BackendChoice::Cpu);
    assert!(report.detection.defects.len() >= 10);
    let map = DefectList::of(&report);
    let out = tempfile::tempdir().unwrap();
    let bad = repair_region(&map);
    for file in &report.files {
        let copy = repair_file(file, &map, out.path(), &RepairOptions::default()).unwrap();
        let (before, after) = (std::fs::read(file).unwrap(), std::fs::read(&copy).unwrap());
        assert_eq!(before.len(), after.len());
        // The header's blocks are the original's.
        assert_eq!(before[..BLOCK], after[..BLOCK]);
        let (a, b) = (
            decode_file(file, report.shape).unwrap(),
            decode_file(&copy, report.shape).unwrap(),
        );
        let (a, b) = (a.as_u16().unwrap(), b.as_u16().unwrap());
        for (i, (x, y)) in (0..report.shape.height)
            .flat_map(|y| (0..report.shape.width).map(move |x| (x, y)))
            .enumerate()
        {
            if !bad.contains(&(x, y)) {
                assert_eq!(a[i], b[i], "({x}, {y}) changed outside the repair region");
            }
        }
    }
    let repaired = run(out.path(), BackendChoice::Cpu);
    assert_eq!(repaired.frames_used, 48);
    assert_eq!(key(&repaired), [], "defects left in the repaired copies");
}
