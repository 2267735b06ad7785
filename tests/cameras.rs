//! Photo libraries: sets from the simulated camera naming their camera body and capture times,
//! read back from JPEG EXIF and DNG tags; a folder of several bodies scanned as one group per
//! body, each with the answer it gets alone; `--camera`; the library's JSON document and file
//! names.

mod common;

use std::path::Path;

use common::{bin, succeeded};
use hotpixels::detect::Kind;
use hotpixels::input::exif::{read_identity, Camera, CaptureTime};
use hotpixels::scan::{scan, scan_library, BackendChoice, ScanError, ScanOptions, Silent};
use hotpixels::synth::eval::evaluate;
use hotpixels::synth::{write_set, SetFormat, SetSpec, Truth};

/// A camera named as the files carry it.
fn body(make: &str, model: &str, serial: Option<&str>) -> Camera {
    Camera {
        make: make.into(),
        model: model.into(),
        serial: serial.map(str::to_string),
    }
}

/// A small set of `frames` frames from `camera`, shot over ten days from 2024-03-01.
fn spec(format: SetFormat, frames: usize, camera: Camera, seed: u64) -> SetSpec {
    SetSpec {
        width: 160,
        height: 120,
        frames,
        format,
        hot: 3,
        warm: 0,
        stuck: 0,
        dead: 0,
        pairs: 0,
        late_hot: 1,
        seed,
        camera: Some(camera),
        start: CaptureTime::parse("2024-03-01 09:00").unwrap(),
        period: 10 * 86_400,
        ..Default::default()
    }
}

#[test]
fn synthetic_files_name_their_camera_and_capture_time() {
    for format in [SetFormat::Jpeg, SetFormat::Dng] {
        let dir = tempfile::tempdir().unwrap();
        let camera = body("NIKON CORPORATION", "NIKON Z 6", Some("3004711"));
        let truth = write_set(&spec(format, 5, camera, 3), dir.path()).unwrap();
        for (i, name) in truth.files.iter().enumerate() {
            let id = read_identity(&dir.path().join(name));
            assert_eq!(
                id.camera,
                Some(Camera::from_exif("Nikon", "Z 6", Some("3004711".into()))),
                "{format:?} {name}"
            );
            assert_eq!(id.taken, Some(truth.taken[i]), "{format:?} {name}");
            assert_eq!(id.exposure.iso, Some(100), "{format:?} {name}");
            let seconds = id.exposure.seconds.expect("an exposure time");
            assert!(
                seconds > 0.0 && seconds < 1.0 / 50.0,
                "{format:?} {name}: {seconds}"
            );
        }
        assert_eq!(truth.taken[0].to_string(), "2024-03-01 09:00:00");
        assert_eq!(truth.taken[4].to_string(), "2024-03-11 09:00:00");
        let late: Vec<_> = truth.defects.iter().filter(|d| d.onset.is_some()).collect();
        assert_eq!(late.len(), 1, "one late hot photosite");
        assert_eq!(late[0].onset, Some(4), "at 80 % of 5 frames");
    }
}

#[test]
fn a_late_defect_is_bad_only_from_its_onset() {
    let dir = tempfile::tempdir().unwrap();
    let spec = SetSpec {
        dark: true,
        ..spec(SetFormat::Dng, 10, body("Canon", "EOS R6", None), 5)
    };
    let truth = write_set(&spec, dir.path()).unwrap();
    let late = truth.defects.iter().find(|d| d.onset.is_some()).unwrap();
    assert_eq!(late.onset, Some(8));
    let discovery = hotpixels::input::discover(&[dir.path().display().to_string()]).unwrap();
    let shape = discovery.shape.unwrap();
    for (i, name) in truth.files.iter().enumerate() {
        let frame = hotpixels::input::decode_file(&dir.path().join(name), shape).unwrap();
        // Dark frames read the black level plus noise; a hot photosite reads far above it.
        let v = frame.value(shape.index(late.x, late.y, 0));
        let bright = v > f64::from(hotpixels::synth::sensor::RAW_BLACK) + 500.0;
        assert_eq!(bright, i >= 8, "frame {i}: the late photosite reads {v}");
    }
}

/// The bodies of the library tests: two of one model (serials differ), a third camera, and
/// files that name none; each with its folder and seed.
fn library() -> [(&'static str, Option<Camera>, u64); 4] {
    [
        (
            "r6-first",
            Some(body("Canon", "Canon EOS R6", Some("0123"))),
            11,
        ),
        (
            "r6-second",
            Some(body("Canon", "Canon EOS R6", Some("0456"))),
            12,
        ),
        ("z6", Some(body("NIKON CORPORATION", "NIKON Z 6", None)), 13),
        ("no-exif", None, 14),
    ]
}

/// Writes every body of [`library`] into its folder of `dir`: `frames` JPEG frames of
/// `width`×`height` with the default defects; returns their truths.
fn write_library(dir: &Path, [width, height, frames]: [u32; 3]) -> Vec<Truth> {
    library()
        .into_iter()
        .map(|(folder, camera, seed)| {
            let spec = SetSpec {
                width,
                height,
                frames: frames as usize,
                camera,
                seed,
                ..Default::default()
            };
            write_set(&spec, &dir.join(folder)).unwrap()
        })
        .collect()
}

fn cpu() -> ScanOptions {
    ScanOptions {
        backend: BackendChoice::Cpu,
        ..Default::default()
    }
}

#[test]
fn each_body_is_its_own_group_with_the_answer_it_gets_alone() {
    let dir = tempfile::tempdir().unwrap();
    let truths = write_library(dir.path(), [320, 240, 30]);
    let all = [dir.path().display().to_string()];
    let groups = scan_library(&all, &cpu(), &mut Silent).unwrap();
    let expected: Vec<Option<Camera>> = library()
        .into_iter()
        .map(|(_, c, _)| c.map(|c| Camera::from_exif(&c.make, &c.model, c.serial)))
        .collect();
    let cameras: Vec<Option<Camera>> = groups.iter().map(|g| g.camera.clone()).collect();
    assert_eq!(
        cameras, expected,
        "one group per body, the files naming none last"
    );
    for (((folder, _, _), group), truth) in library().iter().zip(&groups).zip(&truths) {
        let report = group.report.as_ref().unwrap();
        assert_eq!(report.files.len(), 30, "{folder}");
        assert!(
            report
                .files
                .iter()
                .all(|f| f.starts_with(dir.path().join(folder))),
            "{folder}: a group holds its body's files only"
        );
        let together = evaluate(&report.detection.defects, truth);
        let alone = scan(
            &[dir.path().join(folder).display().to_string()],
            &cpu(),
            &mut Silent,
        )
        .unwrap();
        let alone = evaluate(&alone.detection.defects, truth);
        assert_eq!(together.summary(), alone.summary(), "{folder}");
        eprintln!("{folder}: {}", together.summary());
        assert!(
            together.precision() >= 0.9 && together.recall(Kind::Hot) >= 0.9,
            "{folder}: {}",
            together.summary()
        );
    }
    // Mixed into one set of statistics, each body's defects are everybody's.
    let mixed = scan(&all, &cpu(), &mut Silent).unwrap();
    let mixed = evaluate(&mixed.detection.defects, &truths[0]);
    eprintln!("mixed, against the first body: {}", mixed.summary());
    assert!(mixed.precision() < 0.5, "mixed: {}", mixed.summary());
}

#[test]
fn camera_picks_the_bodies_whose_name_contains_it() {
    let dir = tempfile::tempdir().unwrap();
    write_library(dir.path(), [96, 64, 4]);
    let all = [dir.path().display().to_string()];
    let picked = |text: &str| {
        let options = ScanOptions {
            camera: Some(text.into()),
            ..cpu()
        };
        scan_library(&all, &options, &mut Silent).map(|groups| {
            groups
                .into_iter()
                .map(|g| {
                    let report = g.report.unwrap();
                    assert_eq!(report.files.len(), 4);
                    g.camera.unwrap().body()
                })
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        picked("CANON").unwrap(),
        ["Canon EOS R6 (serial 0123)", "Canon EOS R6 (serial 0456)"]
    );
    assert_eq!(picked("0456").unwrap(), ["Canon EOS R6 (serial 0456)"]);
    assert_eq!(picked("z 6").unwrap(), ["Nikon Z 6"]);
    match picked("Leica") {
        Err(e @ ScanError::NoCamera { .. }) => {
            assert!(
                e.to_string().contains("'Leica' matches none of the 4"),
                "{e}"
            )
        }
        other => panic!("expected NoCamera, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn a_library_scan_writes_one_document_and_a_file_per_camera() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    write_library(&photos, [96, 64, 4]);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let run = succeeded(
        bin()
            .arg("scan")
            .arg(&photos)
            .args(["--backend", "cpu", "--json", "-", "--map"])
            .arg(out.join("map.png"))
            .arg("--export")
            .arg(format!("dcraw={}", out.join("bad.txt").display())),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(doc["version"], 2);
    let groups = doc["groups"].as_array().unwrap();
    let serials: Vec<&serde_json::Value> = groups.iter().map(|g| &g["camera"]["serial"]).collect();
    assert_eq!(
        serials[..2],
        [&serde_json::json!("0123"), &serde_json::json!("0456")]
    );
    assert_eq!(groups[2]["camera"]["model"], "Z 6");
    assert!(groups[3]["camera"].is_null(), "the files naming no camera");
    for g in groups {
        assert_eq!(
            g["version"], 1,
            "each group is a report as a one-camera scan writes it"
        );
        assert_eq!(g["frames"]["used"], 4);
    }
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "bad-Canon_EOS_R6_0123.txt",
            "bad-Canon_EOS_R6_0456.txt",
            "bad-Nikon_Z_6.txt",
            "bad-no-camera.txt",
            "map-Canon_EOS_R6_0123.png",
            "map-Canon_EOS_R6_0456.png",
            "map-Nikon_Z_6.png",
            "map-no-camera.png",
        ]
    );
    // The table has a section per camera.
    assert_eq!(stderr.matches("== camera ").count(), 4, "{stderr}");
    assert!(stderr.contains("== camera 2 of 4: Canon EOS R6 (serial 0456), 4 files, memory up to "));

    // The library's document read by export and repair: one camera's, chosen by --camera.
    let library = dir.path().join("library.json");
    std::fs::write(&library, &run.stdout).unwrap();
    let listed = succeeded(
        bin()
            .args(["export", "--format", "dcraw", "--camera", "serial 0456"])
            .arg(&library),
    );
    let written = std::fs::read_to_string(out.join("bad-Canon_EOS_R6_0456.txt")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        written,
        "the camera's own export"
    );
    let none = bin()
        .args(["export", "--format", "dcraw"])
        .arg(&library)
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr)
        .contains("holds 4 cameras (Canon EOS R6 (serial 0123), Canon EOS R6 (serial 0456), Nikon Z 6, no camera): choose one with --camera"));
    let fixed = dir.path().join("fixed");
    succeeded(
        bin()
            .args(["repair", "--camera", "nikon", "--map"])
            .arg(&library)
            .arg(photos.join("z6"))
            .arg("--out")
            .arg(&fixed),
    );
    assert_eq!(
        std::fs::read_dir(&fixed).unwrap().count(),
        4,
        "every Z 6 frame repaired"
    );

    // One body picked: the report of a one-camera scan.
    let one = bin()
        .arg("scan")
        .arg(&photos)
        .args(["--backend", "cpu", "--json", "-", "-q", "--camera", "0456"])
        .output()
        .unwrap();
    assert!(one.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["camera"]["serial"], "0456");
}

#[test]
fn what_holds_one_camera_is_refused_for_several_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    write_library(&photos, [96, 64, 4]);
    let state = dir.path().join("scan.state");
    for (args, says) in [
        (
            vec!["--state", state.to_str().unwrap()],
            "--state holds the statistics of one camera, and the inputs hold 4",
        ),
        (
            vec!["--csv", "-"],
            "csv on standard output: the inputs hold 4 cameras",
        ),
        (
            vec!["--camera", "Leica"],
            "--camera 'Leica' matches none of the 4",
        ),
    ] {
        let run = bin()
            .arg("scan")
            .arg(&photos)
            .args(["--backend", "cpu"])
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(run.stdout.is_empty(), "{args:?}");
    }
    assert!(!state.exists());
}

/// 120 frames of one body over a year, two hot photosites appearing at `onset` of them; the
/// files are named so that their names sort against their capture times (the last shot first).
fn aging_body(dir: &Path, seed: u64, onset: f64) -> Truth {
    let spec = SetSpec {
        width: 320,
        height: 240,
        frames: 120,
        late_hot: 2,
        onset,
        seed,
        camera: Some(body("Canon", "Canon EOS R6", Some("0123"))),
        ..Default::default()
    };
    let truth = write_set(&spec, dir).unwrap();
    for (i, name) in truth.files.iter().enumerate() {
        let renamed = format!("shot_{:04}.jpg", truth.files.len() - i);
        std::fs::rename(dir.join(name), dir.join(renamed)).unwrap();
    }
    truth
}

/// Scans `dir` and checks that each late hot photosite of `truth` is found, named hot, marked
/// as appeared and first seen within `within` frames of its onset; returns the report.
fn check_late(dir: &Path, truth: &Truth, within: usize) -> hotpixels::scan::ScanReport {
    let report = scan(&[dir.display().to_string()], &cpu(), &mut Silent).unwrap();
    let late: Vec<_> = truth.defects.iter().filter(|d| d.onset.is_some()).collect();
    assert_eq!(late.len(), 2);
    for t in &late {
        let onset = t.onset.unwrap();
        let d = report
            .detection
            .defects
            .iter()
            .find(|d| hotpixels::synth::eval::touches(d, t.x, t.y))
            .unwrap_or_else(|| panic!("the late hot photosite at ({}, {}) is found", t.x, t.y));
        assert_eq!(
            d.kind,
            Kind::Hot,
            "({}, {}) is named by what it is now",
            t.x,
            t.y
        );
        let seen = d.seen.as_ref().expect("dated");
        assert!(seen.appeared, "({}, {}) appeared", t.x, t.y);
        let first = seen.first_seen.frame;
        assert!(
            first.abs_diff(onset) <= within,
            "({}, {}): first seen at frame {first}, appeared at {onset}",
            t.x,
            t.y
        );
        assert_eq!(seen.first_seen.taken, truth.taken[first]);
        assert_eq!(seen.last_seen.frame, 119);
        assert!(seen.seen_share >= 0.9, "{}", seen.seen_share);
    }
    report
}

#[test]
fn a_hot_pixel_that_appeared_within_a_window_is_dated_within_it() {
    // Onset at frame 84, half-way through the window of frames 72 to 95: the window's first
    // frame (72), or the next window's (96), would be 12 frames off.
    let dir = tempfile::tempdir().unwrap();
    let truth = aging_body(dir.path(), 24, 0.7);
    check_late(dir.path(), &truth, 3);
}

#[test]
fn a_hot_pixel_that_appeared_late_is_found_named_and_dated() {
    let dir = tempfile::tempdir().unwrap();
    let truth = aging_body(dir.path(), 21, 0.8);
    let inputs = [dir.path().display().to_string()];
    // Within 5 % of the 120 frames.
    let report = check_late(dir.path(), &truth, 6);
    let timeline = report
        .timeline
        .as_ref()
        .expect("capture times give a timeline");
    assert_eq!(timeline.windows.len(), 5, "120 frames in windows of 24");
    assert_eq!(timeline.first().taken, truth.taken[0]);
    assert_eq!(timeline.last().taken, truth.taken[119]);
    let appeared = report
        .detection
        .defects
        .iter()
        .filter(|d| d.seen.as_ref().is_some_and(|s| s.appeared))
        .count();
    assert_eq!(appeared, 2, "only the late ones appeared");
    let quality = evaluate(&report.detection.defects, &truth);
    assert!(quality.precision() >= 0.9, "{}", quality.summary());
    // Counted in file order, without windows, the late ones are diluted by the frames before.
    let plain = ScanOptions {
        timeline: false,
        ..cpu()
    };
    let plain = scan(&inputs, &plain, &mut Silent).unwrap();
    assert!(plain.timeline.is_none());
    assert!(plain.detection.defects.iter().all(|d| d.seen.is_none()));

    if common::gpu("a_hot_pixel_that_appeared_late").is_some() {
        let gpu = ScanOptions {
            backend: BackendChoice::Gpu,
            ..Default::default()
        };
        let gpu = scan(&inputs, &gpu, &mut Silent).unwrap();
        let key = |r: &hotpixels::scan::ScanReport| -> Vec<_> {
            r.detection
                .defects
                .iter()
                .map(|d| {
                    (
                        d.x,
                        d.y,
                        d.kind,
                        d.seen.as_ref().map(|s| s.first_seen.frame),
                    )
                })
                .collect()
        };
        assert_eq!(
            key(&gpu),
            key(&report),
            "GPU and CPU date the same defects alike"
        );
    }
}

#[test]
fn a_late_defect_diluted_over_all_frames_is_named_by_what_it_has_been_since() {
    let dir = tempfile::tempdir().unwrap();
    let truth = aging_body(dir.path(), 24, 0.8);
    let inputs = [dir.path().display().to_string()];
    let plain = ScanOptions {
        timeline: false,
        ..cpu()
    };
    let plain = scan(&inputs, &plain, &mut Silent).unwrap();
    let dated = scan(&inputs, &cpu(), &mut Silent).unwrap();
    for t in truth.defects.iter().filter(|d| d.onset.is_some()) {
        let at = |r: &hotpixels::scan::ScanReport| {
            r.detection
                .defects
                .iter()
                .find(|d| hotpixels::synth::eval::touches(d, t.x, t.y))
                .cloned()
                .unwrap_or_else(|| panic!("({}, {}) is found", t.x, t.y))
        };
        assert_eq!(at(&plain).kind, Kind::Warm, "over all frames it looks warm");
        let d = at(&dated);
        assert_eq!(
            d.kind,
            Kind::Hot,
            "({}, {}) is hot since it appeared",
            t.x,
            t.y
        );
        let seen = d.seen.unwrap();
        assert!(seen.appeared);
        let (first, onset) = (seen.first_seen.frame, t.onset.unwrap());
        assert!(
            first.abs_diff(onset) <= 6,
            "first seen at {first}, appeared at {onset}"
        );
    }
}

#[test]
fn since_scans_the_frames_taken_from_that_day() {
    let dir = tempfile::tempdir().unwrap();
    let truth = aging_body(&dir.path().join("r6"), 21, 0.8);
    // Files that name no camera and carry no capture time are left out too.
    write_set(
        &SetSpec {
            width: 320,
            height: 240,
            frames: 4,
            ..Default::default()
        },
        &dir.path().join("plain"),
    )
    .unwrap();
    let since = truth.taken[60];
    let options = ScanOptions {
        since: Some(since),
        ..cpu()
    };
    let groups =
        hotpixels::scan::discover_library(&[dir.path().display().to_string()], &options).unwrap();
    assert_eq!(
        groups.len(),
        1,
        "the files without a capture time are left out"
    );
    assert_eq!(groups[0].files.len(), 60);
    assert_eq!(groups[0].before_since, 64);
    assert!(groups[0].files.iter().all(|f| groups[0].taken[f] >= since));
    let report = scan_library(&[dir.path().display().to_string()], &options, &mut Silent)
        .unwrap()
        .remove(0)
        .report
        .unwrap();
    assert_eq!(report.frames_used, 60);
    assert_eq!(report.timeline.unwrap().first().taken, since);
}

#[test]
fn the_table_and_the_timeline_picture_show_what_appeared_when() {
    let dir = tempfile::tempdir().unwrap();
    aging_body(&dir.path().join("r6"), 21, 0.8);
    let picture = dir.path().join("timeline.png");
    let run = succeeded(
        bin()
            .arg("scan")
            .arg(dir.path().join("r6"))
            .args(["--backend", "cpu", "--timeline"])
            .arg(&picture),
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("timeline: 120 frames taken from 2024-01-01 00:00:00 to 2024-12-30"),
        "{stdout}"
    );
    let appeared: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("  2024-") && l.contains(" appeared: "))
        .collect();
    assert_eq!(appeared.len(), 1, "{stdout}");
    assert!(
        appeared[0].starts_with("  2024-10  2 appeared: #"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pixels  first seen"),
        "the table dates each defect"
    );
    let img = image::open(&picture).unwrap();
    let dated = stdout
        .lines()
        .filter(|l| l.ends_with(" 2024-01-01"))
        .count();
    assert!(dated > 10, "{stdout}");
    assert!(
        img.height() > dated as u32 * hotpixels::report::timeline::ROW_HEIGHT,
        "a row per dated defect"
    );
}

#[test]
fn dark_frames_of_several_exposure_settings_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    for (folder, iso, seed) in [("iso800", 800, 41), ("iso1600", 1600, 42)] {
        let spec = SetSpec {
            dark: true,
            iso,
            ..spec(
                SetFormat::Dng,
                8,
                body("Canon", "EOS R6", Some("0123")),
                seed,
            )
        };
        write_set(&spec, &dir.path().join(folder)).unwrap();
    }
    let dark = ScanOptions {
        detect: hotpixels::detect::DetectOptions {
            dark: true,
            ..Default::default()
        },
        ..cpu()
    };
    let both = scan(&[dir.path().display().to_string()], &dark, &mut Silent).unwrap();
    let exposure = both
        .exposure
        .as_ref()
        .expect("the DNG files say how they were exposed");
    assert_eq!(exposure.describe(), "30 s, ISO 800–1600");
    assert_eq!(exposure.frames, 16);
    assert!(
        both.warnings.iter().any(|w| w.contains(
            "the dark frames were taken at 2 exposure settings (30 s ISO 800, 30 s ISO 1600)"
        )),
        "{:?}",
        both.warnings
    );
    let one = dir.path().join("iso800").display().to_string();
    let one = scan(&[one], &dark, &mut Silent).unwrap();
    assert_eq!(one.exposure.unwrap().describe(), "30 s, ISO 800");
    assert!(
        !one.warnings.iter().any(|w| w.contains("exposure settings")),
        "{:?}",
        one.warnings
    );
}

/// `repair` of a folder that mixes cameras, with a library's document: each DNG copy gets the
/// opcode of its own body's defects; a file of a body the document does not list is left out
/// with that reason, and the others are repaired (exit status 1).
#[test]
fn repair_of_a_mixed_folder_gives_each_file_its_own_cameras_defects() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    let bodies = [
        ("r6", body("Canon", "Canon EOS R6", Some("0123")), 21),
        ("z6", body("NIKON CORPORATION", "NIKON Z 6", None), 22),
    ];
    // Named apart, as cameras name their files (the copies share one folder).
    let write_named = |dir: &Path, spec: &SetSpec, prefix: &str| {
        let truth = write_set(spec, dir).unwrap();
        for name in &truth.files {
            std::fs::rename(dir.join(name), dir.join(format!("{prefix}{name}"))).unwrap();
        }
    };
    for (folder, camera, seed) in &bodies {
        let spec = spec(SetFormat::Dng, 8, camera.clone(), *seed);
        write_named(&photos.join(folder), &spec, folder);
    }
    let library = dir.path().join("library.json");
    succeeded(
        bin()
            .arg("scan")
            .arg(&photos)
            .args(["--backend", "cpu", "-q", "--json"])
            .arg(&library),
    );
    let text = std::fs::read_to_string(&library).unwrap();
    let lists =
        hotpixels::report::list::DefectList::all_from_json(&text, &Default::default()).unwrap();
    assert_eq!(lists.len(), 2, "one list per body");
    // A third body, never scanned.
    let stranger = dir.path().join("a1");
    let spec_a1 = spec(SetFormat::Dng, 2, body("SONY", "ILCE-1", None), 23);
    write_named(&stranger, &spec_a1, "a1");
    let fixed = dir.path().join("fixed");
    let run = bin()
        .args(["repair", "--map"])
        .arg(&library)
        .arg(&photos)
        .arg(&stranger)
        .arg("--out")
        .arg(&fixed)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.matches("left out: taken with Sony ILCE-1, which the report has no defects for (Canon EOS R6 (serial 0123), Nikon Z 6)").count(),
        2,
        "{stderr}"
    );
    let [left, top] = hotpixels::synth::sensor::RAW_MARGINS;
    let points = |list: &hotpixels::report::list::DefectList| {
        let mut p: Vec<(u32, u32)> = list
            .pixels
            .iter()
            .map(|p| (p.y + top, p.x + left))
            .collect();
        p.sort();
        p
    };
    let mut copies = 0;
    for (folder, camera, _) in &bodies {
        let named = Camera::from_exif(&camera.make, &camera.model, camera.serial.clone());
        let own = lists
            .iter()
            .find(|l| l.camera.as_ref() == Some(&named))
            .unwrap();
        assert!(!own.pixels.is_empty(), "{folder}: defects found");
        for entry in std::fs::read_dir(photos.join(folder)).unwrap() {
            let name = entry.unwrap().file_name();
            if !name.to_string_lossy().ends_with(".dng") {
                continue;
            }
            let copy = std::fs::read(fixed.join(&name)).unwrap();
            let opcode = hotpixels::repair::dng::read_bad_pixel_opcode(&copy).unwrap();
            let mut got = opcode.points.clone();
            got.sort();
            assert_eq!(got, points(own), "{folder}/{}", name.to_string_lossy());
            copies += 1;
        }
    }
    assert_eq!(copies, 16, "every frame of both bodies repaired");
    assert_eq!(std::fs::read_dir(&fixed).unwrap().count(), 16);
}
