//! Hot and warm photosites as sensors make them — dark current, growing with exposure time × ISO —
//! on sets of the simulated camera exposed as a photo library is (`synth --exposures`: mostly
//! short daylight frames, some indoor and night ones): found by their rise with the exposure,
//! named by their rate, their rate measured, judged at a chosen exposure (`--at`) and dated from
//! the frames that could show them; dark frames at several exposure times give each photosite's
//! rate and offset at zero; on the CPU backend, and on the GPU backend with the same defects.

mod common;

use hotpixels::detect::dark::AtExposure;
use hotpixels::detect::{Defect, Kind};
use hotpixels::model::Model;
use hotpixels::scan::{scan, BackendChoice, ScanOptions, ScanReport, Silent};
use hotpixels::synth::eval::{evaluate, touches, Quality};
use hotpixels::synth::{write_set, Chroma, SetFormat, SetSpec, Truth, DARK_CONSTANT};

fn run(dir: &std::path::Path, backend: BackendChoice, dark: bool) -> ScanReport {
    let mut options = ScanOptions {
        backend,
        ..Default::default()
    };
    options.detect.dark = dark;
    scan(&[dir.display().to_string()], &options, &mut Silent).expect("scan")
}

/// A library's mix of `frames` frames of `format`, 640×480, with the default defects (ten hot,
/// three hot pairs, ten warm, five stuck, five dead).
fn library(format: SetFormat, frames: usize, seed: u64) -> SetSpec {
    SetSpec {
        width: 640,
        height: 480,
        frames,
        format,
        exposures: true,
        seed,
        ..Default::default()
    }
}

/// The set's first `frames` frames in a folder of their own.
fn first(dir: &std::path::Path, truth: &Truth, frames: usize) -> tempfile::TempDir {
    let part = tempfile::tempdir().unwrap();
    for name in &truth.files[..frames] {
        std::fs::copy(dir.join(name), part.path().join(name)).unwrap();
    }
    part
}

/// The reported defect that holds planted photosite `(x, y)`.
fn found(defects: &[Defect], x: u32, y: u32) -> Option<&Defect> {
    defects.iter().find(|d| touches(d, x, y))
}

/// Recall of `kind`, and the share of those found that were named so.
fn named(q: &Quality, kind: Kind) -> f64 {
    let k = &q.kinds.iter().find(|(k, _)| *k == kind).unwrap().1;
    k.named_right as f64 / k.found.max(1) as f64
}

/// Scans on the GPU too, when an adapter opens, and asserts it reports what the CPU did: the
/// same defects and kinds, and the same dark currents to f32 rounding (the backends sum a batch
/// of frames in their own order).
fn gpu_agrees(label: &str, dir: &std::path::Path, cpu: &ScanReport, dark: bool) {
    if common::gpu(label).is_none() {
        return;
    }
    let gpu = run(dir, BackendChoice::Gpu, dark);
    let key = |r: &ScanReport| -> Vec<(u32, u32, Kind, bool)> {
        r.detection
            .defects
            .iter()
            .map(|d| (d.x, d.y, d.kind, d.dark.is_some()))
            .collect()
    };
    assert_eq!(key(&gpu), key(cpu), "{label}: GPU and CPU defects differ");
    for (g, c) in gpu.detection.defects.iter().zip(&cpu.detection.defects) {
        if let (Some(g), Some(c)) = (g.dark, c.dark) {
            for (a, b) in [
                (g.dark_rate, c.dark_rate),
                (g.dark_offset, c.dark_offset),
                (g.visible_from, c.visible_from),
            ] {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(0.01),
                    "{label}: ({}, {}): GPU {g:?}, CPU {c:?}",
                    c.dark_rate,
                    c.visible_from
                );
            }
        }
    }
}

/// Every planted hot photosite (a pair's too) reported, its rate within 25 % of the planted one
/// (single ones: a pair's two rates share one report).
fn rates_hold(label: &str, report: &ScanReport, truth: &Truth) {
    for t in truth.defects.iter().filter(|t| t.kind == Kind::Hot) {
        let d = found(&report.detection.defects, t.x, t.y)
            .unwrap_or_else(|| panic!("{label}: hot photosite {t:?} not found"));
        if t.pair.is_some() {
            continue;
        }
        let planted = t.rate.expect("a dark current") as f32;
        let rate = d.dark.map(|c| c.dark_rate).unwrap_or(0.0);
        assert!(
            (rate / planted - 1.0).abs() <= 0.25,
            "{label}: {t:?} measured at {rate}"
        );
    }
}

/// DNG frames of a library's mix: from 80, every hot photosite and at least 80 % of the warm
/// ones, at precision 0.97, hot ones named hot and measured within 25 %; from their first 40,
/// at least 90 % of the hot ones. The scan says it used the dark-current model.
#[test]
fn dng_library_mix() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_set(&library(SetFormat::Dng, 80, 31), dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert!(
        matches!(report.model, Model::DarkCurrent { frames: 80, .. }),
        "{:?}",
        report.model
    );
    let q = evaluate(&report.detection.defects, &truth);
    eprintln!("dng 80: {}", q.summary());
    assert_eq!(q.recall(Kind::Hot), 1.0, "{}", q.summary());
    assert!(q.recall(Kind::Warm) >= 0.8, "{}", q.summary());
    assert!(
        q.precision() >= 0.97,
        "{} {:?}",
        q.summary(),
        q.false_positives
    );
    assert!(named(&q, Kind::Hot) >= 0.9, "{}", q.summary());
    rates_hold("dng 80", &report, &truth);
    gpu_agrees("dng 80", dir.path(), &report, false);

    let part = first(dir.path(), &truth, 40);
    let report = run(part.path(), BackendChoice::Cpu, false);
    let q = evaluate(&report.detection.defects, &truth);
    eprintln!("dng 40: {}", q.summary());
    assert!(q.recall(Kind::Hot) >= 0.9, "{}", q.summary());
    assert!(
        q.precision() >= 0.97,
        "{} {:?}",
        q.summary(),
        q.false_positives
    );
}

/// Judged at 30 s ISO 1600, every planted hot and warm photosite shows; at 1/1000 s ISO 100 the
/// stuck and dead ones do, and no warm one.
#[test]
fn judged_at_an_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_set(&library(SetFormat::Dng, 80, 33), dir.path()).unwrap();
    let whole = run(dir.path(), BackendChoice::Cpu, false);
    let mut night = whole.clone();
    night.judge_at(AtExposure::parse("30s@1600").unwrap());
    for t in &truth.defects {
        if matches!(t.kind, Kind::Hot | Kind::Warm) {
            assert!(
                found(&night.detection.defects, t.x, t.y).is_some(),
                "30 s ISO 1600: {t:?} left out"
            );
        }
    }
    let mut day = whole.clone();
    day.judge_at(AtExposure::parse("1/1000@100").unwrap());
    assert_eq!(day.shown_at.unwrap().of, whole.detection.defects.len());
    for t in &truth.defects {
        let listed = found(&day.detection.defects, t.x, t.y);
        match t.kind {
            Kind::Stuck | Kind::Dead => {
                assert!(listed.is_some(), "1/1000 s: {t:?} left out")
            }
            Kind::Warm => assert!(listed.is_none(), "1/1000 s: {t:?} listed"),
            _ => {}
        }
    }
    assert!(day.detection.defects.len() < night.detection.defects.len());
}

/// JPEG 4:2:2 frames of a library's mix: at least 90 % of the hot photosites from 60 frames,
/// every one from 120; the defects the same on both backends.
#[test]
fn jpeg_library_mix() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        chroma: Chroma::Sub422,
        ..library(SetFormat::Jpeg, 120, 34)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    let q = evaluate(&report.detection.defects, &truth);
    eprintln!("jpeg 120: {}", q.summary());
    assert_eq!(q.recall(Kind::Hot), 1.0, "{}", q.summary());
    assert!(
        q.precision() >= 0.9,
        "{} {:?}",
        q.summary(),
        q.false_positives
    );
    // The rate, an estimate from JPEG: the median over the single hot photosites within 25 %.
    let mut ratios: Vec<f32> = truth
        .defects
        .iter()
        .filter(|t| t.kind == Kind::Hot && t.pair.is_none())
        .filter_map(|t| {
            let planted = t.rate? as f32;
            Some(found(&report.detection.defects, t.x, t.y)?.dark?.dark_rate / planted)
        })
        .collect();
    ratios.sort_by(f32::total_cmp);
    assert!(ratios.len() >= 8, "{ratios:?}");
    let median = ratios[ratios.len() / 2];
    assert!(
        (median - 1.0).abs() <= 0.25,
        "median rate ratio {median}: {ratios:?}"
    );
    gpu_agrees("jpeg 120", dir.path(), &report, false);
    let part = first(dir.path(), &truth, 60);
    let report = run(part.path(), BackendChoice::Cpu, false);
    let q = evaluate(&report.detection.defects, &truth);
    eprintln!("jpeg 60: {}", q.summary());
    assert!(q.recall(Kind::Hot) >= 0.9, "{}", q.summary());
}

/// Frames with capture times: no photosite present from the first frame is reported as
/// appeared, and each is first seen at the first frame exposed long enough to show it; three hot
/// photosites that turn bad halfway are found, standing out at the end.
#[test]
fn dated_from_the_frames_that_could_show_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        camera: Some(hotpixels::input::exif::Camera {
            make: "Canon".into(),
            model: "EOS 6D".into(),
            serial: None,
        }),
        period: 60 * 86_400,
        late_hot: 3,
        onset: 0.5,
        ..library(SetFormat::Dng, 120, 35)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert!(report.timeline.is_some(), "the frames have capture times");
    let exposure = |name: &str| {
        let k = truth.files.iter().position(|f| f == name).unwrap();
        let (seconds, iso) = truth.exposures[k];
        seconds * iso as f64 / 100.0
    };
    let late_found = truth
        .defects
        .iter()
        .filter(|t| t.onset.is_some())
        .filter(|t| found(&report.detection.defects, t.x, t.y).is_some())
        .count();
    assert_eq!(late_found, 3, "the hot photosites that turned bad halfway");
    for t in &truth.defects {
        let Some(d) = found(&report.detection.defects, t.x, t.y) else {
            continue;
        };
        let seen = d.seen.as_ref().expect("dated");
        if t.onset.is_some() {
            // Found; dated as appeared only when the frames before its first window show it
            // absent, which those that hold its onset blur.
            assert!(seen.windows.last() == Some(&true), "{t:?}: {seen:?}");
            continue;
        }
        assert!(!seen.appeared, "{t:?}: {seen:?}");
        if let Some(c) = d.dark {
            // The first frame (in capture order) that could show it.
            let could = report
                .files
                .iter()
                .position(|f| {
                    exposure(&f.file_name().unwrap().to_string_lossy()) >= c.visible_from as f64
                })
                .unwrap();
            assert_eq!(seen.first_seen.frame, could, "{t:?}");
        }
    }
}

/// Dark frames at exposure times from 1/60 s to 30 s (ISO 800): each hot and warm photosite's
/// rate within 10 % and its offset at zero exposure near the planted one; no warning that the
/// settings are mixed (the model fits them).
#[test]
fn dark_frames_at_several_exposure_times() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        dark: true,
        iso: 800,
        ..library(SetFormat::Dng, 40, 36)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, true);
    assert!(report.model.is_dark_current(), "{:?}", report.model);
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("exposure settings")),
        "{:?}",
        report.warnings
    );
    let mut measured = 0;
    for t in truth.defects.iter().filter(|t| t.pair.is_none()) {
        let Some(planted) = t.rate else { continue };
        let d =
            found(&report.detection.defects, t.x, t.y).unwrap_or_else(|| panic!("{t:?} not found"));
        let c = d.dark.unwrap_or_else(|| panic!("{t:?}: no dark current"));
        assert!(
            (c.dark_rate as f64 / planted - 1.0).abs() <= 0.1,
            "{t:?}: rate {}",
            c.dark_rate
        );
        assert!(
            (c.dark_offset as f64 - DARK_CONSTANT).abs() <= 0.01,
            "{t:?}: offset at zero {}",
            c.dark_offset
        );
        measured += 1;
    }
    assert!(measured >= 16, "{measured} measured");
    gpu_agrees("dark frames", dir.path(), &report, true);
}

/// Frames without exposures in their EXIF, and frames all exposed alike, are judged as constant
/// offsets, and the report says why.
#[test]
fn without_exposures_the_model_is_constant_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        exposures: false,
        ..library(SetFormat::Jpeg, 20, 37)
    };
    write_set(&spec, dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    let Model::Constant { reason } = &report.model else {
        panic!("{:?}", report.model)
    };
    assert!(reason.contains("0 of the 20 frames"), "{reason}");
    let dark = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        dark: true,
        exposures: false,
        camera: Some(hotpixels::input::exif::Camera {
            make: "Canon".into(),
            model: "EOS 6D".into(),
            serial: None,
        }),
        ..library(SetFormat::Dng, 12, 38)
    };
    write_set(&spec, dark.path()).unwrap();
    let report = run(dark.path(), BackendChoice::Cpu, true);
    let Model::Constant { reason } = &report.model else {
        panic!("{:?}", report.model)
    };
    assert!(reason.contains("hardly vary"), "{reason}");
}

/// A set whose two long exposures are night frames of different scenes, one with bright points
/// (seed 41, 320×240): each window of the timeline holds one of them, and a rise carried by a
/// single frame — a bright point of its scene — is no evidence of a dark current (it listed 104
/// such points before). Every planted hot photosite is still found.
#[test]
fn a_rise_one_frame_carries_is_not_a_dark_current() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        width: 320,
        height: 240,
        camera: Some(hotpixels::input::exif::Camera {
            make: "Canon".into(),
            model: "Canon EOS R6".into(),
            serial: None,
        }),
        ..library(SetFormat::Dng, 48, 41)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    assert!(report.timeline.is_some(), "the set is dated");
    let q = evaluate(&report.detection.defects, &truth);
    assert!(
        q.precision() >= 0.97,
        "precision {:.3}: {}",
        q.precision(),
        q.summary()
    );
    assert_eq!(q.recall(Kind::Hot), 1.0, "{}", q.summary());
}

/// A scan whose longest frames are a few seconds at ISO 100 (no night frame): a hot photosite cut
/// at white in one of them (a glint on it, 0.87 of the longest exposure) is counted as clipped
/// there, so that its line is fitted to the other frames and keeps its rate, instead of taking
/// that frame's residual (the whole range) as a point of the line.
#[test]
fn a_frame_nearly_as_long_as_the_longest_may_clip() {
    use hotpixels::input::{Encoding, Frame, Samples};
    use hotpixels::stats::{Accumulator, CpuAccumulator, DarkSetup};
    let shape = hotpixels::Shape::new(16, 16, 1, 16).unwrap();
    let exposures: Vec<f64> = (0..24)
        .map(|i| 0.001 * (1 + i % 5) as f64)
        .chain([2.0, 2.0, 2.0, 2.29, 2.29, 2.29])
        .collect();
    let glint = 25;
    let setup = DarkSetup::new(&exposures, 0, u16::MAX.into(), Encoding::Linear);
    assert!(setup.may_clip(exposures[glint]) && !setup.may_clip(exposures[0]));
    let mut acc: Box<dyn Accumulator> = Box::new(CpuAccumulator::with_dark(shape, Some(setup)));
    let (hot, rate) = (8 * 16 + 8, 2000.0);
    for (f, &e) in exposures.iter().enumerate() {
        // A flat scene with a little noise, the hot photosite rising with the exposure.
        let mut v: Vec<u16> = (0..256)
            .map(|i| 1000 + ((i * 7919 + f * 104_729) % 41) as u16)
            .collect();
        v[hot] += (rate * e) as u16;
        if f == glint {
            v[hot] = u16::MAX;
        }
        let frame = Frame::new(shape, Samples::U16(v)).unwrap();
        acc.add(frame.with_exposure(Some(e))).unwrap();
    }
    let m = acc.finish().unwrap();
    let fit = hotpixels::detect::dark::fit(&m, hot).expect("a line");
    assert_eq!(
        fit.frames as usize,
        exposures.len() - 1,
        "the glint's frame clipped"
    );
    assert!(
        (fit.rate as f64 / rate - 1.0).abs() < 0.1,
        "rate {} against {rate}",
        fit.rate
    );
}

/// A library whose two longest frames carry every slope (seed 909: 6.4 and 4.6 s at ISO 100, the
/// rest 2.1 s and shorter): the details of their scenes rise at hundreds of positions and fall at
/// as many, and a dark current only rises; the threshold goes above the falls, and what is left
/// is defects.
#[test]
fn scene_detail_that_falls_as_often_as_it_rises_is_not_dark_current() {
    let dir = tempfile::tempdir().unwrap();
    let truth = write_set(&library(SetFormat::Dng, 40, 909), dir.path()).unwrap();
    let report = run(dir.path(), BackendChoice::Cpu, false);
    let q = evaluate(&report.detection.defects, &truth);
    assert!(
        q.precision() >= 0.9,
        "precision {:.3}: {}",
        q.precision(),
        q.summary()
    );
    let raised = report
        .detection
        .dark_threshold
        .expect("dark-current scores");
    assert!(raised > hotpixels::detect::score::DEFAULT_K, "{raised}");
    let falls = report
        .detection
        .dark_falls
        .expect("the falls that raised it");
    assert!(raised > falls, "{raised} against the steepest fall {falls}");
}
