//! The `hotpixels` binary end to end: the table, the JSON and CSV reports, exit codes, and that
//! existing files are never overwritten without `--force`.

mod common;

use std::fs;
use std::path::Path;

use common::{bin, succeeded};
use hotpixels::synth::SetFormat;
use hotpixels::synth::{write_frame_png, SyntheticSet};
use hotpixels::Shape;
use predicates::prelude::*;

/// Runs the binary with `args`, expects success, and parses its standard output as JSON.
fn json_of(args: &[&str], dir: Option<&Path>) -> (serde_json::Value, String) {
    let mut cmd = bin();
    cmd.args(args);
    if let Some(d) = dir {
        cmd.arg(d);
    }
    let out = succeeded(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// A synthetic set of `format`, `width`×`height` and `frames` frames, written to `dir/set`.
fn synth_set(
    dir: &Path,
    format: hotpixels::synth::SetFormat,
    [width, height, frames]: [u32; 3],
) -> std::path::PathBuf {
    let set = dir.join("set");
    let spec = hotpixels::synth::SetSpec {
        width,
        height,
        frames: frames as usize,
        format,
        ..Default::default()
    };
    hotpixels::synth::write_set(&spec, &set).unwrap();
    set
}

fn photos(dir: &Path, frames: usize) -> SyntheticSet {
    let set = SyntheticSet::new(Shape::new(64, 48, 3, 8).unwrap(), frames, 5, 11);
    for i in 0..frames {
        write_frame_png(&set.frame(i), &dir.join(format!("IMG_{i:04}.PNG"))).unwrap();
    }
    set
}

#[test]
fn scan_prints_table_and_writes_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let set = photos(dir.path(), 8);
    fs::write(dir.path().join("IMG_9999.PNG"), "broken").unwrap();
    let json = dir.path().join("report.json");
    let csv = dir.path().join("top.csv");
    let pattern = format!("{}/*.png", dir.path().display());
    bin()
        .args(["scan", "--backend", "cpu", "--top", "7", "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg(&pattern)
        .assert()
        .success()
        .stdout(predicate::str::contains("frames: 8 used, 1 skipped"))
        .stdout(predicate::str::contains("lowest M2 (top 7)"))
        .stdout(predicate::str::contains("argmin:"))
        .stdout(predicate::str::contains("IMG_9999.PNG"));

    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["version"], 1);
    assert!(doc["tool"].as_str().unwrap().starts_with("hotpixels "));
    assert_eq!(doc["shape"]["width"], 64);
    assert_eq!(doc["shape"]["height"], 48);
    assert_eq!(doc["shape"]["channels"], 3);
    assert_eq!(doc["shape"]["bit_depth"], 8);
    assert_eq!(doc["frames"]["used"], 8);
    let skipped = doc["frames"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("IMG_9999.PNG"));
    assert!(!skipped[0]["reason"].as_str().unwrap().is_empty());
    assert_eq!(doc["backend"]["kind"], "cpu");
    assert!(doc["backend"]["adapter"].is_string());
    assert!(doc["backend"]["driver"].is_string());
    let defects = doc["defects"].as_array().unwrap();
    assert!(!defects.is_empty(), "the planted subpixels are defects");
    for d in defects {
        for key in [
            "x", "y", "channel", "kind", "score", "mean", "std", "residual", "pixels",
        ] {
            assert!(!d[key].is_null(), "defect without {key}: {d}");
        }
    }
    let lowest = doc["lowest_variance"].as_array().unwrap();
    assert_eq!(lowest.len(), 7);
    for key in ["x", "y", "channel", "m2", "variance", "mean"] {
        assert!(lowest[0][key].is_number(), "{key}");
    }
    for p in &set.planted {
        assert!(
            lowest
                .iter()
                .any(|c| c["x"] == p.x && c["y"] == p.y && c["channel"] == p.channel),
            "{p:?}"
        );
    }
    let csv = fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("rank,x,y,channel,channel_name,m2,variance,mean")
    );
    assert_eq!(lines.count(), 7);
}

#[test]
fn json_to_stdout_is_valid_json_and_table_goes_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 4);
    let (doc, stderr) = json_of(
        &["scan", "--backend", "cpu", "--json", "-"],
        Some(dir.path()),
    );
    assert_eq!(doc["frames"]["used"], 4);
    assert!(stderr.contains("lowest M2"));
}

#[test]
fn decode_failure_exits_1_with_one_line_error_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let set = photos(dir.path(), 5);
    let mut bytes = Vec::new();
    let tmp = dir.path().join("x.png");
    write_frame_png(&set.frame(0), &tmp).unwrap();
    bytes.extend_from_slice(&fs::read(&tmp).unwrap());
    fs::remove_file(&tmp).unwrap();
    fs::write(
        dir.path().join("IMG_0002b.png"),
        &bytes[..bytes.len() * 2 / 3],
    )
    .unwrap();
    let json = dir.path().join("r.json");
    bin()
        .args(["scan", "--backend", "cpu", "--quiet", "--json"])
        .arg(&json)
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("IMG_0002b.png: truncated"));
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["frames"]["used"], 5);
    assert_eq!(doc["frames"]["failed"], 1);
}

#[test]
fn nothing_to_scan_exits_2_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["scan", "--backend", "cpu"])
        .arg(format!("{}/*.jpg", dir.path().display()))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no files matched"));
    photos(dir.path(), 1);
    bin()
        .args(["scan", "--backend", "cpu"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least two frames"));
    bin().args(["scan"]).assert().code(2);
    bin()
        .args(["scan", "--top", "0", "x.png"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--top"));
}

#[test]
fn existing_report_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    let json = dir.path().join("mine.json");
    fs::write(&json, "precious").unwrap();
    bin()
        .args(["scan", "--backend", "cpu", "--json"])
        .arg(&json)
        .arg(format!("{}/*.PNG", dir.path().display()))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read_to_string(&json).unwrap(), "precious");
    bin()
        .args(["scan", "--backend", "cpu", "--force", "--json"])
        .arg(&json)
        .arg(format!("{}/*.PNG", dir.path().display()))
        .assert()
        .success();
    assert!(fs::read_to_string(&json)
        .unwrap()
        .contains("\"version\": 1"));
}

#[test]
fn gpu_backend_end_to_end() {
    let Some(_) = common::gpu("gpu_backend_end_to_end") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 4);
    let (doc, _) = json_of(
        &["scan", "--backend", "gpu", "--json", "-"],
        Some(dir.path()),
    );
    assert_eq!(doc["backend"]["kind"], "gpu");
    assert!(!doc["backend"]["adapter"].as_str().unwrap().is_empty());
}

#[test]
fn demo_on_raw_frames_scans_the_photosites() {
    bin()
        .args([
            "demo",
            "--backend",
            "cpu",
            "--format",
            "dng",
            "--frames",
            "20",
        ])
        .args(["--width", "256", "--height", "192"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shape: 256x192 RAW RGGB 16-bit"))
        .stdout(predicate::str::contains(
            "camera: hotpixels Simulated 12-bit RGGB  visible area at (8, 4)",
        ))
        .stdout(predicate::str::contains("FAILED").not());
}

/// `demo --exposures`: a library's mix of exposures, the dark-current model named, every planted
/// hot photosite found with its rate.
#[test]
fn demo_with_exposures_measures_the_dark_current() {
    let out = bin()
        .args(["demo", "--backend", "cpu", "--format", "dng", "--exposures"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("model: dark current: offsets grow with exposure time x ISO"),
        "{stdout}"
    );
    assert!(stdout.contains("hot 16/16"), "{stdout}");
    // The planted rows: `x y cfa kind level rate  found as`.
    let planted_hot: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 6 && f[3] == "hot" && f[2].len() == 1 && f[5].parse::<f64>().is_ok()
        })
        .collect();
    assert_eq!(planted_hot.len(), 16, "{stdout}");
    assert!(
        planted_hot.iter().all(|l| l.contains("hot, rate ")),
        "{stdout}"
    );
}

/// RAW+JPEG shots: the RAW files are read and one line counts the JPEGs left out.
#[test]
fn raw_and_jpeg_twins_are_counted_in_one_line() {
    use hotpixels::synth::{write_set, SetFormat, SetSpec};
    let dir = tempfile::tempdir().unwrap();
    let spec = |format| SetSpec {
        width: 64,
        height: 48,
        frames: 3,
        format,
        ..Default::default()
    };
    write_set(&spec(SetFormat::Dng), &dir.path().join("raw")).unwrap();
    write_set(&spec(SetFormat::Jpeg), &dir.path().join("jpeg")).unwrap();
    let shots = dir.path().join("shots");
    std::fs::create_dir(&shots).unwrap();
    for i in 1..=3 {
        for (from, ext) in [("raw", "dng"), ("jpeg", "jpg")] {
            let name = format!("frame_{i:04}.{ext}");
            std::fs::rename(dir.path().join(from).join(&name), shots.join(&name)).unwrap();
        }
    }
    let note = "note: 3 image files of shots also saved as RAW were left out (--prefer jpeg reads them instead)";
    let out = bin()
        .args(["scan", "--backend", "cpu"])
        .arg(&shots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches(note).count(), 1, "{stdout}");
    assert!(stdout.contains("shape: 64x48 RAW RGGB 16-bit"), "{stdout}");
    bin()
        .args(["scan", "--backend", "cpu", "--prefer", "jpeg"])
        .arg(&shots)
        .assert()
        .success()
        .stdout(predicate::str::contains("shape: 64x48 RGB 8-bit"))
        .stdout(predicate::str::contains(
            "note: 3 RAW files of shots also saved as images were left out (--prefer raw reads them instead)",
        ));
}

#[test]
fn demo_finds_the_planted_defects() {
    bin()
        .args([
            "demo",
            "--backend",
            "cpu",
            "--frames",
            "30",
            "--width",
            "256",
            "--height",
            "192",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("defects:"))
        .stdout(predicate::str::contains("FAILED").not());
    let out = bin()
        .args(["demo", "--backend", "cpu", "--frames", "30"])
        .args(["--width", "256", "--height", "192"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The summary: `hot 16/16  warm 7/10  stuck 5/5  dead 5/5  precision 30/30 = 1.000`.
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("hot "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let found = |kind: &str| -> (u32, u32) {
        let words: Vec<&str> = summary.split_whitespace().collect();
        let at = words.iter().position(|w| *w == kind).unwrap() + 1;
        let (a, b) = words[at].split_once('/').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    for kind in ["hot", "dead"] {
        let (hit, planted) = found(kind);
        assert!(planted > 0 && hit == planted, "{kind}: {summary}");
    }
    let (real, reported) = found("precision");
    assert!(
        reported > 0 && real as f64 >= 0.9 * reported as f64,
        "{summary}"
    );
}

#[test]
fn synth_then_scan_writes_defects_map_and_crops() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    bin()
        .arg("synth")
        .arg(&set)
        .args(["--frames", "24", "--width", "200", "--height", "150"])
        .args([
            "--hot", "3", "--warm", "0", "--stuck", "0", "--dead", "2", "--pairs", "1",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 24 frames"));
    // The simulated RGGB sensor needs whole 2×2 cells.
    for (w, h) in [("201", "150"), ("200", "151")] {
        bin()
            .arg("synth")
            .arg(dir.path().join("odd"))
            .args(["--frames", "2", "--width", w, "--height", h])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("even width and height"));
    }
    bin()
        .args(["demo", "--width", "257"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("even numbers"));
    // The set is never overwritten.
    bin()
        .arg("synth")
        .arg(&set)
        .args(["--frames", "2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    let truth: serde_json::Value =
        serde_json::from_slice(&fs::read(set.join("truth.json")).unwrap()).unwrap();
    assert_eq!(truth["defects"].as_array().unwrap().len(), 7);
    let (json, map, crops) = (
        dir.path().join("r.json"),
        dir.path().join("map.png"),
        dir.path().join("crops.png"),
    );
    bin()
        .args(["scan", "--backend", "cpu", "--json"])
        .arg(&json)
        .arg("--map")
        .arg(&map)
        .arg("--crops")
        .arg(&crops)
        .arg(set.join("*.jpg"))
        .assert()
        .success()
        .stdout(predicate::str::contains("defects:"));
    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    let defects = doc["defects"].as_array().unwrap();
    // Every hot and dead photosite is reported within 2 px (the pair as one defect).
    for t in truth["defects"].as_array().unwrap() {
        let (tx, ty) = (t["x"].as_i64().unwrap(), t["y"].as_i64().unwrap());
        let hit = defects.iter().any(|d| {
            d["pixels"].as_array().unwrap().iter().any(|p| {
                (p[0].as_i64().unwrap() - tx).abs() <= 2 && (p[1].as_i64().unwrap() - ty).abs() <= 2
            })
        });
        assert!(hit, "not found: {t}");
    }
    let map = image::open(&map).unwrap();
    assert_eq!((map.width(), map.height()), (200, 150));
    let crops = image::open(&crops).unwrap();
    assert!(crops.width() >= 120 && crops.height() >= 120);
    // Dark mode and a bad sensitivity.
    bin()
        .args(["scan", "--backend", "cpu", "--dark", "--sensitivity", "0"])
        .arg(set.join("*.jpg"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--sensitivity"));
}

#[test]
fn dark_frames_rank_by_mean() {
    let dir = tempfile::tempdir().unwrap();
    bin()
        .arg("synth")
        .arg(dir.path())
        .args([
            "--dark", "--frames", "12", "--width", "160", "--height", "120",
        ])
        .args([
            "--hot", "2", "--warm", "2", "--stuck", "0", "--dead", "0", "--pairs", "0",
        ])
        .assert()
        .success();
    bin()
        .args(["scan", "--backend", "cpu", "--dark", "--json", "-"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("\"method\": \"dark\""))
        .stdout(predicate::str::contains("\"kind\": \"hot\""));
}

#[test]
fn devices_lists_the_adapters_or_says_there_is_none() {
    let out = bin().arg("devices").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    match common::gpu("devices_lists_the_adapters_or_says_there_is_none") {
        Some(ctx) => {
            // The table names the adapter the tests use, as row 0 or later.
            let row = stdout
                .lines()
                .find(|l| l.contains(&ctx.info.name))
                .unwrap_or_else(|| panic!("{} not listed:\n{stdout}", ctx.info.name));
            assert!(row.trim_start().starts_with(char::is_numeric), "{row}");
            assert!(stdout.contains("--backend gpu uses #0"), "{stdout}");
            // Its memory: Vulkan says how much (other backends show `?`).
            if ctx.info.backend == wgpu::Backend::Vulkan {
                let bytes = ctx.memory.expect("a Vulkan adapter's memory heaps");
                let memory = hotpixels::mem::describe_bytes(bytes);
                assert!(row.contains(&format!(" {memory} ")), "{row}");
            }
        }
        None => assert!(stdout.starts_with("no GPU adapters found"), "{stdout}"),
    }
}

/// Inputs named relative to the working folder (`hotpixels scan .`) are scanned as absolute ones
/// are: the frames' exposures and capture times are found for the report and its timeline (a
/// scan of 48 dated frames named `.` stopped on a missing capture time).
#[test]
fn a_folder_named_relative_to_the_working_folder_gets_its_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let spec = hotpixels::synth::SetSpec {
        width: 160,
        height: 120,
        frames: 48,
        format: SetFormat::Dng,
        exposures: true,
        camera: Some(hotpixels::input::exif::Camera {
            make: "Canon".into(),
            model: "Canon EOS R6".into(),
            serial: None,
        }),
        ..Default::default()
    };
    hotpixels::synth::write_set(&spec, dir.path()).unwrap();
    let out = succeeded(
        bin()
            .current_dir(dir.path())
            .args(["scan", "--backend", "cpu", "."]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("timeline: 48 frames"), "{stdout}");
    assert!(stdout.contains("(from the EXIF of 48 frames)"), "{stdout}");
}

/// Without a display session (no `XDG_RUNTIME_DIR`: a service, a container, a remote shell), looking
/// for adapters prints no error about one: Mesa's device-select layer (installed with its Vulkan
/// drivers) would print `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` twice.
#[test]
fn no_display_session_errors_without_one() {
    let out = bin()
        .arg("devices")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("NODEVICE_SELECT")
        .env_remove("MESA_VK_DEVICE_SELECT")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
    // Where the tests must have an adapter, Vulkan was loaded, layers and all.
    if std::env::var_os("HOTPIXELS_REQUIRE_GPU").is_some() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("--backend gpu uses #0"), "{stdout}");
    }
}

/// Runs the binary with `args` and its standard output a pipe nobody reads (`| head` that has
/// already exited): the exit status and standard error.
fn with_closed_stdout(args: &[&std::ffi::OsStr]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("hotpixels"))
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_standard_output_is_a_quiet_exit() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    let runs: [Vec<&std::ffi::OsStr>; 3] = [
        vec![os("devices")],
        vec![
            os("scan"),
            os("--backend"),
            os("cpu"),
            dir.path().as_os_str(),
        ],
        vec![
            os("scan"),
            os("--backend"),
            os("cpu"),
            os("--json"),
            os("-"),
            dir.path().as_os_str(),
        ],
    ];
    for args in runs {
        let (status, stderr) = with_closed_stdout(&args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

/// `--max-memory` that holds the statistics and two frames: the scan holds two at a time, says
/// so, and finds the defects it finds with the memory it wants; below the statistics and one frame it is
/// refused before decoding, naming the option.
#[test]
fn a_memory_limit_holds_fewer_frames_and_keeps_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 12);
    // 64x48 RGB 8-bit: 18 bytes of state and one byte of a frame per subpixel, and the program.
    let subpixels = 64 * 48 * 3;
    let program = hotpixels::scan::PROGRAM_BYTES as usize;
    let limit = program + 18 * subpixels + 2 * subpixels + subpixels / 2;
    let scan = |extra: &[String], json: &Path| {
        bin()
            .args(["scan", "--backend", "cpu", "-j", "2", "--json"])
            .arg(json)
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let (free, limited) = (
        dir.path().join("free.json"),
        dir.path().join("limited.json"),
    );
    let out = scan(&[], &free);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = scan(&["--max-memory".into(), limit.to_string()], &limited);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
    };
    let (free, limited) = (read(&free), read(&limited));
    // The same defects; their values to f32 rounding (a batch folds its frames in at once).
    assert!(!free["defects"].as_array().unwrap().is_empty());
    assert_same_answer(&free, &limited);
    let warned = |r: &serde_json::Value| {
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("held 2 frames at a time"))
    };
    assert!(warned(&limited), "{}", limited["warnings"]);
    assert!(!warned(&free));

    let out = scan(
        &[
            "--max-memory".into(),
            (program + 18 * subpixels).to_string(),
        ],
        &dir.path().join("refused.json"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--max-memory"), "{stderr}");
    let out = bin()
        .args(["scan", "--max-memory", "lots"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a size"));
}

#[test]
fn two_outputs_on_one_file_or_on_an_input_are_refused_before_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    fs::create_dir(dir.path().join("out")).unwrap();
    let input = dir.path().join("IMG_0001.PNG");
    let before = fs::read(&input).unwrap();
    let clash = |args: &[&str], extra: &[&Path], says: &str| {
        let out = bin()
            .args(["scan", "--backend", "cpu"])
            .args(args)
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        // Refused before any frame was read: no table.
        assert!(out.stdout.is_empty(), "{args:?}");
    };
    let report = dir.path().join("out/report");
    let same = dir.path().join("out/../out/report");
    let (r, s) = (report.to_str().unwrap(), same.to_str().unwrap());
    clash(&["--json", r, "--csv", s], &[], "both write to");
    clash(&["--json", "-", "--csv", "-"], &[], "standard output");
    clash(&["--map", "-"], &[], "--map writes an image");
    // An input named on the command line, spelled another way.
    let spelled = dir.path().join("out/../IMG_0001.PNG");
    clash(
        &["--force", "--map"],
        &[&spelled, &input],
        "is also an input",
    );
    // An input found in a folder, with --force.
    clash(&["--force", "--crops"], &[&spelled], "is also an input");
    assert_eq!(fs::read(&input).unwrap(), before, "the input is untouched");
}

#[test]
fn top_beyond_the_subpixels_is_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    for top in ["9217", "5000000000", "18446744073709551615"] {
        let out = bin()
            .args(["scan", "--backend", "cpu", "--top", top])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{top}: {stderr}");
        assert!(
            stderr.contains("more than the 9216 subpixels of 64x48 RGB 8-bit"),
            "{top}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Every subpixel may be asked for.
    bin()
        .args([
            "scan",
            "--backend",
            "cpu",
            "--top",
            "9216",
            "-q",
            "--csv",
            "-",
        ])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::function(|s: &str| s.lines().count() == 9217));
}

#[test]
fn gpu_backend_without_a_matching_adapter_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    bin()
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .args(["scan", "--backend", "gpu"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no GPU adapter found"));
    // auto falls back to the CPU.
    bin()
        .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
        .args(["scan", "--backend", "auto", "--json", "-"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("\"kind\": \"cpu\""));
}

#[test]
fn bench_skips_what_does_not_fit_in_its_memory() {
    let stages_of = |doc: &serde_json::Value| -> Vec<(String, String)> {
        doc["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["stage"].to_string(), r["shape"].to_string()))
            .collect()
    };
    let common = ["bench", "--frames", "4", "--repeat", "1", "--gpu", "none"];
    // 200 MP statistics take 16 GB: that size is skipped, saying why; 1 MP is measured.
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--sizes", "1,200", "--accumulate-frames", "2"])
        .chain(["--max-memory", "1G", "--json", "-"])
        .collect();
    let (doc, stderr) = json_of(&args, None);
    assert!(
        stderr.contains("skipping 17312x11552 RGB 8-bit: the statistics")
            && stderr.contains("need 15.9 GB of memory"),
        "{stderr}"
    );
    let stages = stages_of(&doc);
    assert!(
        stages.iter().all(|(_, shape)| shape.contains("1232x816")),
        "{stages:?}"
    );
    assert!(
        stages.iter().any(|(stage, _)| stage == "\"accumulate\""),
        "{stages:?}"
    );
    // 32 frames of 1 MP and a copy of them do not fit in 300 MB beside the statistics: the
    // accumulate-only rows are left out, the scans are measured.
    let args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["--sizes", "1", "--accumulate-frames", "32"])
        .chain(["--max-memory", "300M", "--json", "-"])
        .collect();
    let (doc, stderr) = json_of(&args, None);
    assert!(
        stderr.contains("skipping the accumulate-only rows of 1232x816 RGB 8-bit: they need"),
        "{stderr}"
    );
    let stages = stages_of(&doc);
    assert!(
        stages.iter().any(|(stage, _)| stage == "\"scan\""),
        "{stages:?}"
    );
    assert!(
        !stages.iter().any(|(stage, _)| stage == "\"accumulate\""),
        "{stages:?}"
    );
}

#[test]
fn bench_measures_every_stage_and_writes_json() {
    let (doc, stderr) = json_of(
        &[
            "bench",
            "--sizes",
            "1",
            "--frames",
            "16",
            "--accumulate-frames",
            "2",
            "--repeat",
            "3",
            "--gpu",
            "none",
            "--json",
            "-",
        ],
        None,
    );
    let rows = doc["rows"].as_array().unwrap();
    let stages: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["stage"].as_str().unwrap(), r["backend"].as_str().unwrap()))
        .collect();
    assert!(stages.contains(&("decode", "-")), "{stages:?}");
    assert!(stages.contains(&("scan", "cpu")), "{stages:?}");
    assert!(stages.contains(&("accumulate", "cpu")), "{stages:?}");
    // The statistics of frames exposed as a library's are, dark-current sums and all; and whole
    // scans of the same frames with a library's EXIF, which keep them, with their steady state.
    assert!(stages.contains(&("accumulate", "cpu dark")), "{stages:?}");
    let dark_scan = rows
        .iter()
        .find(|r| r["stage"] == "scan" && r["backend"] == "cpu dark")
        .unwrap_or_else(|| panic!("no dark-current scan row: {stages:?}"));
    assert!(dark_scan["per_frame"]["statistics_ms"].as_f64().unwrap() > 0.0);
    // A steady state only where the larger runs took longer (files this small may not show it).
    for r in rows.iter().filter(|r| !r["steady"].is_null()) {
        assert!(
            r["steady"]["frames_per_second"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
    for r in rows {
        assert!(r["frames_per_second"].as_f64().unwrap() > 0.0);
        assert!(r["frames"].as_u64().unwrap() >= 2);
    }
    let scan_row = rows.iter().find(|r| r["stage"] == "scan").unwrap();
    assert!(scan_row["vs_decode"].as_f64().unwrap() > 0.0);
    // Where the time went, per frame: every frame was decoded and added to the statistics.
    let ms = |row: &serde_json::Value, part: &str| row["per_frame"][part].as_f64().unwrap();
    assert!(ms(scan_row, "decode_ms") > 0.0 && ms(scan_row, "statistics_ms") > 0.0);
    assert!(ms(scan_row, "wait_ms") >= 0.0 && ms(scan_row, "detect_ms") > 0.0);
    let decode_row = rows.iter().find(|r| r["stage"] == "decode").unwrap();
    assert!(ms(decode_row, "decode_ms") > 0.0);
    // Each part of a run fits in it: the accumulator's waiting and adding happen one after
    // the other within the run's wall time.
    let wall_ms =
        scan_row["seconds"].as_f64().unwrap() * 1e3 / scan_row["frames"].as_f64().unwrap();
    assert!(
        ms(scan_row, "wait_ms") + ms(scan_row, "statistics_ms") <= wall_ms,
        "{scan_row}"
    );
    // The steady state from 8 and 16 files (medians of three rounds), and the once-per-scan
    // cost by stage, each within the whole run.
    let steady = &scan_row["steady"];
    assert!(
        steady["frames_per_second"].as_f64().unwrap() > 0.0,
        "{steady}"
    );
    assert!(steady["vs_decode"].as_f64().unwrap() > 0.0, "{steady}");
    let seconds = scan_row["seconds"].as_f64().unwrap();
    let stages = ["allocate", "rank", "scenes", "detect", "timeline"];
    let split: f64 = stages
        .iter()
        .map(|s| steady[format!("{s}_seconds")].as_f64().unwrap())
        .sum();
    assert!(split > 0.0 && split <= seconds, "{steady}");
    assert!(steady["detect_seconds"].as_f64().unwrap() > 0.0, "{steady}");
    assert!(
        steady["allocate_seconds"].as_f64().unwrap() > 0.0,
        "{steady}"
    );
    // The table goes to stderr when the JSON takes stdout.
    assert!(stderr.contains("frames/s"));
    assert!(stderr.contains("steady state (from N and 2N files)"));
}

/// The bar's decision itself is tested in the binary (`cli::console`); this checks that a log
/// file gets no bar drawn into it.
#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    bin()
        .args(["scan", "--backend", "cpu"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("frames/s").not());
}

/// `scan --export` and `hotpixels export` write the same lists, the kinds chosen; the table moves
/// to standard error when an export takes standard output; bad requests are refused up front.
#[test]
fn exports_from_scan_and_from_the_json_report_agree() {
    use hotpixels::synth::{write_set, SetFormat, SetSpec};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("set");
    let spec = SetSpec {
        width: 128,
        height: 96,
        frames: 20,
        format: SetFormat::Dng,
        hot: 3,
        warm: 2,
        stuck: 2,
        dead: 2,
        pairs: 0,
        ..Default::default()
    };
    write_set(&spec, &set).unwrap();
    let report = dir.path().join("report.json");
    let siril = dir.path().join("list.siril");
    let out = bin()
        .args([
            "scan",
            "--backend",
            "cpu",
            "--kinds",
            "hot,dead",
            "--export",
            "dcraw=-",
        ])
        .arg("--export")
        .arg(format!("siril={}", siril.display()))
        .arg("--json")
        .arg(&report)
        .arg(&set)
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_scan = String::from_utf8(out.stdout).unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("defects:"),
        "the table is on stderr"
    );
    let listed: Vec<&str> = from_scan.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(listed.len() >= 5, "{from_scan}");
    let exported = bin()
        .args(["export", "--format", "dcraw", "--kinds", "dead,hot"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(exported.stdout).unwrap(), from_scan);
    let all = bin()
        .args(["export", "--format", "dcraw"])
        .arg(&report)
        .output()
        .unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(all.lines().filter(|l| !l.starts_with('#')).count() > listed.len());
    let siril_text = fs::read_to_string(&siril).unwrap();
    assert_eq!(
        siril_text.lines().filter(|l| l.starts_with("P ")).count(),
        listed.len()
    );
    bin()
        .args(["export", "--format", "csv", "-o"])
        .arg(&report)
        .arg(&report)
        .arg("--force")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is the report itself"));
    bin()
        .args(["export", "--format", "tiff"])
        .arg(&report)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "dcraw, rawtherapee, siril, csv, mask, json",
        ));
    bin()
        .args(["scan", "--export", "dcraw=-", "--export", "siril=-"])
        .arg(&set)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("both write to standard output"));
    // Siril's list read back (the frames' shape from one frame) lists the same photosites.
    let frame = set.join("frame_0001.dng");
    let imported = dir.path().join("imported.json");
    bin()
        .args(["import", "siril"])
        .arg(&siril)
        .arg("--like")
        .arg(&frame)
        .arg("-o")
        .arg(&imported)
        .assert()
        .success();
    let again = bin()
        .args(["export", "--format", "dcraw"])
        .arg(&imported)
        .output()
        .unwrap();
    let points = |text: &str| -> std::collections::BTreeSet<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(String::from)
            .collect()
    };
    assert_eq!(
        points(&String::from_utf8(again.stdout).unwrap()),
        points(&from_scan)
    );
    bin()
        .args(["import", "siril"])
        .arg(&siril)
        .arg("--like")
        .arg(&frame)
        .arg("-o")
        .arg(&siril)
        .arg("--force")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is an input"));
    assert_eq!(fs::read_to_string(&siril).unwrap(), siril_text);
    let preview = dir.path().join("preview.png");
    bin()
        .args(["scan", "--backend", "cpu", "-q", "--repair-preview"])
        .arg(&preview)
        .arg(&set)
        .assert()
        .success();
    let sheet = image::open(&preview).unwrap();
    assert!(sheet.width() > 200 && sheet.height() > 100);
    bin()
        .args(["scan", "--repair-preview", "-"])
        .arg(&set)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--repair-preview"));
}

/// Scan, repair the frames from the report, scan the copies: the defects are gone and the inputs
/// are unchanged.
#[test]
fn repaired_copies_scan_clean() {
    let dir = tempfile::tempdir().unwrap();
    let set = synth_set(dir.path(), SetFormat::Jpeg, [160, 120, 20]);
    let first = fs::read(set.join("frame_0001.jpg")).unwrap();
    let report = dir.path().join("r.json");
    let scan_defects = |input: &Path, json: &Path| -> usize {
        bin()
            .args(["scan", "--backend", "cpu", "-q", "--json"])
            .arg(json)
            .arg(input)
            .assert()
            .success();
        let doc: serde_json::Value = serde_json::from_slice(&fs::read(json).unwrap()).unwrap();
        doc["defects"].as_array().unwrap().len()
    };
    assert!(scan_defects(&set, &report) >= 10);
    let fixed = dir.path().join("fixed");
    let out = succeeded(
        bin()
            .args(["repair", "--map"])
            .arg(&report)
            .arg(&set)
            .arg("--out")
            .arg(&fixed),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 20);
    assert_eq!(scan_defects(&fixed, &dir.path().join("r2.json")), 0);
    assert_eq!(fs::read(set.join("frame_0001.jpg")).unwrap(), first);
}

/// A PNG whose header claims `width`×`height` RGB pixels, followed by a few bytes of data.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let chunk = common::png_chunk;
    let ihdr = [
        &width.to_be_bytes()[..],
        &height.to_be_bytes(),
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00]),
        &chunk(b"IEND", &[]),
    ]
    .concat()
}

/// Runs the binary and returns its exit code, standard error and peak resident memory in bytes
/// (the child's own, from `wait4`).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its resource use
fn run_measured(args: &[&std::ffi::OsStr]) -> (i32, String, u64) {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hotpixels"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.unwrap(), &mut stderr).unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for the child just spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, stderr, usage.ru_maxrss as u64 * 1024)
}

/// Headers claiming 100,000 × 100,000 pixels are refused, each naming its file, before anything of
/// that size is allocated; the other files are scanned. A state larger than the machine's memory
/// is refused naming both figures.
/// A RAW file whose TIFF entry claims 4 G values of 8 bytes (found by fuzzing) makes the decoder
/// ask for 34 GB that it never fills. The scan lists that file with its reason and goes on with
/// the others, instead of aborting when the allocation is refused.
#[cfg(feature = "raw")]
#[test]
fn a_crafted_raw_count_is_that_files_error() {
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    fs::copy(
        corpus.join("tiff-entry-of-34-gigabytes"),
        dir.path().join("crafted.cr2"),
    )
    .unwrap();
    let (report, _) = json_of(
        &["scan", "--backend", "cpu", "-q", "--json", "-"],
        Some(dir.path()),
    );
    assert_eq!(report["frames"]["used"], 3, "{report}");
    let skipped = report["frames"]["skipped"].as_array().unwrap();
    let entry = skipped
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("crafted.cr2"))
        .unwrap_or_else(|| panic!("crafted.cr2 not skipped: {report}"));
    assert!(
        entry["reason"].as_str().unwrap().contains("camera RAW"),
        "{entry}"
    );
}

/// A mask to import whose header claims 100,000 × 100,000 pixels is refused by its header's size
/// against the frames', before it is decoded.
#[cfg(target_os = "linux")]
#[test]
fn a_mask_bomb_is_refused_by_its_header() {
    const LIMIT: u64 = 200 << 20;
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 1);
    let bomb = dir.path().join("mask.png");
    fs::write(&bomb, png_bomb(100_000, 100_000)).unwrap();
    let like = dir.path().join("IMG_0000.PNG");
    let out = dir.path().join("map.json");
    let args = [
        "import".as_ref(),
        "mask".as_ref(),
        bomb.as_os_str(),
        "--like".as_ref(),
        like.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ];
    let (code, stderr, peak) = run_measured(&args);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("mask.png")
            && stderr.contains("the mask is 100000x100000, the frames 64x48"),
        "{stderr}"
    );
    assert!(peak < LIMIT, "peak {peak} bytes");
    assert!(!out.exists());
}

#[cfg(target_os = "linux")]
#[test]
fn decompression_bombs_are_refused_in_little_memory() {
    const LIMIT: u64 = 600 << 20;
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 3);
    for name in ["bomb_a.png", "bomb_b.png"] {
        fs::write(dir.path().join(name), png_bomb(100_000, 100_000)).unwrap();
    }
    // The fuzz corpus's TIFF and JPEG headers claiming 100,000² and 65,535² pixels.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    fs::copy(
        corpus.join("tiff-100000x100000"),
        dir.path().join("bomb_c.tif"),
    )
    .unwrap();
    fs::copy(
        corpus.join("jpeg-65535x65535"),
        dir.path().join("bomb_d.jpg"),
    )
    .unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);
    let args = [os("scan"), os("--backend"), os("cpu"), dir.path().into()];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr, peak) = run_measured(&refs);
    assert_eq!(code, 0, "{stderr}");
    assert!(peak < LIMIT, "peak {peak} bytes");
    let (report, _) = json_of(
        &["scan", "--backend", "cpu", "-q", "--json", "-"],
        Some(dir.path()),
    );
    let skipped = report["frames"]["skipped"].as_array().unwrap();
    for name in ["bomb_a.png", "bomb_b.png"] {
        let entry = skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not skipped: {report}"));
        let reason = entry["reason"].as_str().unwrap();
        assert!(
            reason.contains("claims 100000x100000 pixels") && reason.contains("--max-megapixels"),
            "{reason}"
        );
    }
    assert_eq!(report["frames"]["used"], 3);
    for name in ["bomb_c.tif", "bomb_d.jpg"] {
        assert!(
            skipped
                .iter()
                .any(|s| s["path"].as_str().unwrap().ends_with(name)),
            "{name} not skipped: {report}"
        );
    }
    // Allowed by the limit, the bombs are the frames; their state is refused before it exists.
    let bombs = tempfile::tempdir().unwrap();
    for k in 0..3 {
        fs::write(
            bombs.path().join(format!("{k}.png")),
            png_bomb(100_000, 100_000),
        )
        .unwrap();
    }
    let args = [
        os("scan"),
        os("--backend"),
        os("cpu"),
        os("--max-megapixels"),
        os("100000"),
        bombs.path().into(),
    ];
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (code, stderr, peak) = run_measured(&refs);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the statistics of 100000x100000 RGB 8-bit frames need")
            && stderr.contains("GB (what this machine has available"),
        "{stderr}"
    );
    assert!(peak < LIMIT, "peak {peak} bytes");
}

/// The JSON report of `scan` with `args` and the set in `dir`.
fn report_of_scan(args: &[&str], dir: &Path) -> serde_json::Value {
    let mut all = vec!["scan", "--backend", "cpu", "-q", "--json", "-"];
    all.extend_from_slice(args);
    json_of(&all, Some(dir)).0
}

/// What two reports must share to be the same answer: frames, defects (place, kind, pixels) and
/// the lowest-variance subpixels, their M2 within float rounding of a merge.
fn assert_same_answer(a: &serde_json::Value, b: &serde_json::Value) {
    assert_eq!(a["frames"]["used"], b["frames"]["used"]);
    let defects = |r: &serde_json::Value| -> Vec<(u64, u64, String, String)> {
        r["defects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["x"].as_u64().unwrap(),
                    d["y"].as_u64().unwrap(),
                    d["kind"].to_string(),
                    d["pixels"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(defects(a), defects(b));
    assert!(!defects(a).is_empty());
    let lowest = |r: &serde_json::Value| -> Vec<(u64, u64, u64, f64)> {
        r["lowest_variance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["x"].as_u64().unwrap(),
                    c["y"].as_u64().unwrap(),
                    c["channel"].as_u64().unwrap(),
                    c["m2"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    for (p, q) in lowest(a).iter().zip(&lowest(b)) {
        assert_eq!((p.0, p.1, p.2), (q.0, q.1, q.2));
        assert!(
            (p.3 - q.3).abs() <= 1e-4 * p.3.abs().max(1.0),
            "{p:?} {q:?}"
        );
    }
}

/// A scan stopped by SIGINT writes its state and exits 130; run again, it reads only the files
/// it had not counted, and answers as one uninterrupted run. A state of other frames is refused.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_scan_resumes_to_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let set = synth_set(dir.path(), SetFormat::Jpeg, [320, 240, 120]);
    let whole = report_of_scan(&[], &set);
    let state = dir.path().join("scan.state");
    let args = |extra: &[&str]| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> = ["scan", "--backend", "cpu", "-q", "-j", "1"]
            .iter()
            .chain(extra)
            .map(Into::into)
            .collect();
        v.push("--state".into());
        v.push(state.clone().into());
        v.push(set.clone().into());
        v
    };
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hotpixels"))
        .args(args(&["--checkpoint-frames", "10"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // Held still at its first checkpoint, the scan is signalled mid-run for certain.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint written"
        );
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    // SAFETY: signals to the child this test spawned and has not reaped.
    unsafe {
        libc::kill(pid, libc::SIGSTOP);
        libc::kill(pid, libc::SIGINT);
        libc::kill(pid, libc::SIGCONT);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted after") && stderr.contains("to resume"),
        "{stderr}"
    );
    let saved = hotpixels::stats::state::read(&state).unwrap();
    let counted = saved.header.files.len();
    assert!(
        (10..120).contains(&counted),
        "{counted} frames counted before the signal"
    );
    assert_eq!(saved.moments.n as usize, counted);
    // Run again: the rest only, and the same answer.
    let resumed = json_of(
        &[
            "scan",
            "--backend",
            "cpu",
            "-q",
            "--json",
            "-",
            "--state",
            state.to_str().unwrap(),
        ],
        Some(&set),
    )
    .0;
    assert_same_answer(&whole, &resumed);
    let saved = hotpixels::stats::state::read(&state).unwrap();
    let unique: std::collections::HashSet<_> = saved.header.files.iter().collect();
    assert_eq!(
        (saved.header.files.len(), unique.len()),
        (120, 120),
        "each frame once"
    );
    // A state of other frames is refused with both shapes named.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    photos(&other, 3);
    bin()
        .args(["scan", "--backend", "cpu", "-q", "--state"])
        .arg(&state)
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the state is of 320x240 RGB 8-bit frames",
        ))
        .stderr(predicate::str::contains(
            "this scan of 64x48 RGB 8-bit frames",
        ));
}

/// Two shards scanned apart (`--shard I/2 --state`) and merged answer as the whole run.
#[test]
fn shards_merged_give_the_whole_runs_answer() {
    let dir = tempfile::tempdir().unwrap();
    let set = synth_set(dir.path(), SetFormat::Dng, [256, 192, 40]);
    let whole = report_of_scan(&[], &set);
    let mut states = Vec::new();
    let mut frames = 0;
    for i in 1..=2 {
        let state = dir.path().join(format!("shard{i}.state"));
        let shard = format!("{i}/2");
        let part = report_of_scan(
            &["--shard", &shard, "--state", state.to_str().unwrap()],
            &set,
        );
        frames += part["frames"]["used"].as_u64().unwrap();
        assert!(
            part["frames"]["used"].as_u64().unwrap() >= 10,
            "a fair share"
        );
        states.push(state);
    }
    assert_eq!(frames, 40, "every file in one shard");
    let out = succeeded(bin().args(["merge", "-q", "--json", "-"]).args(&states));
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_same_answer(&whole, &merged);
    assert_eq!(
        merged["shape"]["cfa"], whole["shape"]["cfa"],
        "the RAW levels and pattern kept"
    );
    assert_eq!(
        merged["shape"]["black_level"],
        whole["shape"]["black_level"]
    );
    // A state merged twice would count its files twice: refused.
    bin()
        .args(["merge", "-q"])
        .arg(&states[0])
        .arg(&states[0])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is counted in"));
}

/// The binary as a user without the right to read what its permissions forbid: as root (CI),
/// through `setpriv` without the capabilities that override file permissions.
#[cfg(unix)]
fn unprivileged() -> std::process::Command {
    let exe = assert_cmd::cargo::cargo_bin("hotpixels");
    // SAFETY: geteuid only reads the process's effective user id.
    if unsafe { libc::geteuid() } != 0 {
        return std::process::Command::new(exe);
    }
    let mut cmd = std::process::Command::new("setpriv");
    cmd.arg("--bounding-set=-dac_override,-dac_read_search")
        .arg(exe);
    cmd
}

/// A photo and a folder the user may not read are listed as skipped with the reason; the scan
/// counts the rest and succeeds.
#[cfg(unix)]
#[test]
fn files_and_folders_without_read_permission_are_skipped_with_the_reason() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    photos(dir.path(), 6);
    let locked = dir.path().join("IMG_0002.PNG");
    let closed = dir.path().join("older");
    fs::create_dir(&closed).unwrap();
    fs::copy(dir.path().join("IMG_0000.PNG"), closed.join("IMG_0100.PNG")).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o000)).unwrap();
    let out = unprivileged()
        .args(["scan", "--backend", "cpu", "-q", "--json", "-"])
        .arg(dir.path())
        .output()
        .unwrap();
    // Let the temporary folder be removed.
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["frames"]["used"], 5);
    let skipped = report["frames"]["skipped"].as_array().unwrap();
    let reason = |p: &Path| {
        skipped
            .iter()
            .find(|k| k["path"] == p.display().to_string())
            .map(|k| k["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{} not listed: {skipped:?}", p.display()))
    };
    assert!(
        reason(&locked).contains("Permission denied"),
        "{}",
        reason(&locked)
    );
    assert!(
        reason(&closed).contains("Permission denied"),
        "{}",
        reason(&closed)
    );
}
