//! Import: every list format written by `export` reads back to the same pixels (and the kinds the
//! format carries), on a RAW scan and on an RGB image scan; a map imported from another tool's
//! list drives `repair` to the same copies as the scan's own report.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use hotpixels::detect::Kind;
use hotpixels::input::decode::probe;
use hotpixels::report::import::{import, ImportFormat};
use hotpixels::report::list::{DefectList, ListExporter, ListedPixel};
use hotpixels::report::mask::{Mask, MaskFile, Polarity};
use hotpixels::report::Format;
use hotpixels::scan::ScanReport;
use hotpixels::synth::SetFormat;

fn scan_set(dir: &Path, format: SetFormat, seed: u64) -> ScanReport {
    common::scan_planted(dir, format, [192, 144, 30], seed).1
}

fn at(list: &DefectList) -> BTreeSet<(u32, u32)> {
    list.pixels.iter().map(|p| (p.x, p.y)).collect()
}

/// What a listed pixel keeps through the CSV: everything but the defect's number.
fn full(p: &ListedPixel) -> (u32, u32, u32, String, Kind, u32) {
    (
        p.x,
        p.y,
        p.channel,
        p.colour.to_string(),
        p.kind,
        p.score.to_bits(),
    )
}

/// Exports `list` in every format and imports it back.
fn round_trip(list: &DefectList) {
    assert!(list.pixels.len() >= 10, "a list worth checking: {list:?}");
    let back = |format: ImportFormat, bytes: Vec<u8>| {
        import(format, &bytes, list.shape, list.camera.clone())
            .unwrap_or_else(|e| panic!("{format:?}: {e}"))
    };
    let exporter = |name: &str| Format::export(name).unwrap().list_exporter().unwrap();
    for name in ["dcraw", "rawtherapee"] {
        let got = back(
            ImportFormat::parse(name).unwrap(),
            exporter(name).render_list(list),
        );
        assert_eq!(at(&got), at(list), "{name}");
        assert!(got.pixels.iter().all(|p| p.kind == Kind::Listed), "{name}");
        assert_eq!(got.shape, list.shape);
        assert_eq!(got.camera, list.camera);
    }
    let got = back(ImportFormat::Siril, exporter("siril").render_list(list));
    assert_eq!(at(&got), at(list), "siril");
    for p in &list.pixels {
        let q = got
            .pixels
            .iter()
            .find(|q| (q.x, q.y) == (p.x, p.y))
            .unwrap();
        let cold = p.kind == Kind::Dead || p.score < 0.0;
        assert_eq!(q.kind, if cold { Kind::Dead } else { Kind::Hot }, "{p:?}");
    }
    let again = String::from_utf8(exporter("siril").render_list(&got)).unwrap();
    let first = String::from_utf8(exporter("siril").render_list(list)).unwrap();
    let lines = |s: &str| -> BTreeSet<String> {
        s.lines()
            .filter(|l| l.starts_with("P "))
            .map(String::from)
            .collect()
    };
    assert_eq!(lines(&again), lines(&first), "siril, written again");
    let got = back(ImportFormat::Csv, exporter("csv").render_list(list));
    assert_eq!(
        got.pixels.iter().map(full).collect::<Vec<_>>(),
        list.pixels.iter().map(full).collect::<Vec<_>>(),
        "csv keeps every field"
    );
    let groups = |l: &DefectList| -> BTreeSet<Vec<(u32, u32)>> {
        let mut by: std::collections::BTreeMap<usize, Vec<(u32, u32)>> = Default::default();
        for p in &l.pixels {
            by.entry(p.defect).or_default().push((p.x, p.y));
        }
        by.into_values().collect()
    };
    assert_eq!(groups(&got), groups(list), "csv keeps the defects");
    for polarity in [Polarity::BadIsOne, Polarity::BadIsZero] {
        for file in [MaskFile::Image, MaskFile::Fits] {
            let mask = Mask::new(polarity, file).render_list(list);
            let got = back(ImportFormat::Mask(polarity), mask.clone());
            assert_eq!(at(&got), at(list), "mask {polarity:?} {file:?}");
            let other = match polarity {
                Polarity::BadIsOne => Polarity::BadIsZero,
                Polarity::BadIsZero => Polarity::BadIsOne,
            };
            let wrong = back(ImportFormat::Mask(other), mask);
            assert!(
                at(&wrong).is_disjoint(&at(list)),
                "the other polarity reads the good pixels"
            );
        }
    }
    let json = list.to_json("csv", "list.csv");
    let read = DefectList::from_json(&json).unwrap();
    assert_eq!(
        read.pixels.iter().map(full).collect::<Vec<_>>(),
        list.pixels.iter().map(full).collect::<Vec<_>>()
    );
    assert_eq!(
        (read.shape, read.camera.clone()),
        (list.shape, list.camera.clone())
    );
}

#[test]
fn every_format_reads_back_the_raw_scans_photosites() {
    let dir = tempfile::tempdir().unwrap();
    let report = scan_set(&dir.path().join("set"), SetFormat::Dng, 51);
    let list = DefectList::of(&report);
    assert!(list.shape.cfa.is_some() && list.camera.is_some());
    round_trip(&list);
}

#[test]
fn every_format_reads_back_the_image_scans_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let report = scan_set(&dir.path().join("set"), SetFormat::Png, 52);
    let list = DefectList::of(&report);
    assert_eq!(list.shape.channels, 3);
    assert!(
        list.pixels.iter().any(|p| p.channel != 0),
        "RGB channels kept"
    );
    round_trip(&list);
}

/// `import` with `--like` a frame of the set gives a map that repairs exactly as the scan's
/// report does: repair reads positions only.
#[test]
fn an_imported_list_repairs_like_the_report() {
    use hotpixels::repair::{repair_file, RepairOptions};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let report = scan_set(&set, SetFormat::Png, 53);
    let list = DefectList::of(&report);
    let frame = std::fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .unwrap();
    let header = probe(&frame).unwrap();
    let dcraw = Format::Dcraw.list_exporter().unwrap().render_list(&list);
    let imported = import(ImportFormat::Dcraw, &dcraw, header.shape, None).unwrap();
    let options = RepairOptions::default();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    let from_report = repair_file(&frame, &list, &a, &options).unwrap();
    let from_import = repair_file(&frame, &imported, &b, &options).unwrap();
    assert_eq!(
        std::fs::read(from_report).unwrap(),
        std::fs::read(from_import).unwrap()
    );
    assert_ne!(
        std::fs::read(&frame).unwrap(),
        std::fs::read(a.join(frame.file_name().unwrap())).unwrap(),
        "the copy is repaired"
    );
}
