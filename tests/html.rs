//! The HTML report in a real browser: headless Chromium opens the page from disk, runs its script,
//! and the DOM it leaves is checked against the JSON report — one section per camera body, one
//! row per defect in the same order, the exposure control hiding exactly the defects `--at`
//! leaves out — with no script error, nothing refused by the page's content security policy (a
//! request leaving the file would be), and a screenshot of the map that shows the marks. A large
//! synthetic report (5,000 defects, 100 MP) stays under the size bound and opens.
//!
//! Chromium is found as `$HOTPIXELS_CHROMIUM`, `chromium` or `chromium-browser`; without it the
//! tests say so and pass, unless `HOTPIXELS_REQUIRE_BROWSER=1` (CI) makes that a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hotpixels::input::exif::Camera;
use hotpixels::synth::{write_set, SetFormat, SetSpec};

/// The longest the browser may take to load, run and print a page.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// The largest page of the large report, bytes.
const MAX_PAGE_BYTES: u64 = 20 << 20;

fn bin() -> Command {
    Command::new(assert_cmd::cargo::cargo_bin("hotpixels"))
}

/// Runs `command` and asserts it succeeded; its standard output.
fn succeed(command: &mut Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The Chromium binary, or `None` (after saying so) when there is none and none is required.
fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("HOTPIXELS_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser"].map(PathBuf::from));
    for c in candidates {
        let found = Command::new(&c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if found {
            return Some(c);
        }
    }
    if std::env::var("HOTPIXELS_REQUIRE_BROWSER").as_deref() == Ok("1") {
        panic!("HOTPIXELS_REQUIRE_BROWSER=1 but no Chromium was found");
    }
    eprintln!("skipped: no Chromium (install chromium, or set HOTPIXELS_CHROMIUM)");
    None
}

/// Runs headless Chromium on `url` with `args`; its standard output and error. Killed after
/// [`BROWSER_TIMEOUT`].
fn browse(chromium: &Path, url: &str, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(url);
    let ran = common::run_within(&mut cmd, BROWSER_TIMEOUT, profile.path(), url);
    (ran.stdout, ran.stderr)
}

/// The DOM after the page's script ran, asserting it finished without an error and that the
/// browser refused nothing and logged no console error.
fn dom(chromium: &Path, page: &Path, hash: &str) -> String {
    let url = format!("file://{}{hash}", page.display());
    let (dom, log) = browse(chromium, &url, &["--dump-dom"]);
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not finish: {log}"
    );
    assert!(!dom.contains("data-errors"), "script errors: {dom:.2000}");
    for line in log.lines() {
        let refused = line.contains("Refused to");
        let console_error = line.contains("CONSOLE") && line.contains("rror");
        assert!(!refused && !console_error, "{line}");
    }
    dom
}

/// The value of attribute `name` in a tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(&tag[start..end])
}

/// The opening tags of the DOM's defect rows, per camera section, in document order.
fn rows_by_section(dom: &str) -> Vec<Vec<String>> {
    dom.split("<section class=\"camera\"")
        .skip(1)
        .map(|section| {
            section
                .split("<tr class=\"defect")
                .skip(1)
                .map(|row| row[..row.find('>').unwrap()].to_string())
                .collect()
        })
        .collect()
}

/// A library of two camera bodies: a RAW one exposed as a photo library is (dark current), a
/// JPEG one with capture times over enough frames for a timeline.
fn library(dir: &Path) {
    let body = |make: &str, model: &str| Camera {
        make: make.into(),
        model: model.into(),
        serial: None,
    };
    let sets = [
        (SetFormat::Dng, true, body("Canon", "Canon EOS R6"), 41),
        (
            SetFormat::Jpeg,
            false,
            body("NIKON CORPORATION", "NIKON Z 6"),
            42,
        ),
    ];
    for (k, (format, exposures, camera, seed)) in sets.into_iter().enumerate() {
        let spec = SetSpec {
            width: 320,
            height: 240,
            frames: 48,
            format,
            exposures,
            camera: Some(camera),
            seed,
            ..Default::default()
        };
        write_set(&spec, &dir.join(format!("body{k}"))).unwrap();
    }
}

#[test]
fn the_page_agrees_with_the_json_report_in_a_browser() {
    let Some(chromium) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    library(&photos);
    let (json, page) = (dir.path().join("lib.json"), dir.path().join("lib.html"));
    succeed(
        bin()
            .args(["scan", "--backend", "cpu", "-q"])
            .arg(&photos)
            .arg("--json")
            .arg(&json)
            .arg("--html")
            .arg(&page),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let html = std::fs::read_to_string(&page).unwrap();
    // Nothing is fetched: the policy forbids it and the page names no address.
    assert!(html.contains(hotpixels::report::html::page::CONTENT_SECURITY_POLICY));
    for scheme in ["http://", "https://", "//fonts", "src=\"/", "href=\"/"] {
        assert!(!html.contains(scheme), "the page names {scheme}");
    }

    let loaded = dom(&chromium, &page, "");
    let sections = rows_by_section(&loaded);
    assert_eq!(sections.len(), groups.len());
    for (rows, group) in sections.iter().zip(groups) {
        let defects = group["defects"].as_array().unwrap();
        assert!(!defects.is_empty());
        assert_eq!(rows.len(), defects.len());
        for (row, d) in rows.iter().zip(defects) {
            for field in ["x", "y", "kind"] {
                assert_eq!(
                    attribute(row, &format!("data-{field}")).unwrap(),
                    d[field].to_string().trim_matches('"'),
                    "{row}"
                );
            }
            assert!(!row.contains("hidden"), "{row}");
        }
        let name = group["camera"]["model"].as_str().unwrap();
        assert!(loaded.contains(name), "{name}");
    }
    // The RAW body's section has dark-current rates, and its details crops.
    assert!(groups[0]["defects"][0]["dark_rate"].is_number());
    assert!(loaded.matches("data:image/png;base64,").count() >= 2 * 4);

    // The exposure control hides exactly what `--at` leaves out: at 1/1000 s, at 30 s, and at
    // an exposure between the RAW body's dark currents (half of them show).
    let mut from: Vec<f64> = groups[0]["defects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["visible_from"].as_f64())
        .collect();
    from.sort_by(f64::total_cmp);
    assert!(from.len() >= 4, "{from:?}");
    let between = format!("{:.4}@100", from[from.len() / 2] * 1.01);
    for at in ["1/1000@100", "30s@1600", between.as_str()] {
        let dom = dom(&chromium, &page, &format!("#at={at}"));
        for (k, (rows, group)) in rows_by_section(&dom).iter().zip(groups).enumerate() {
            let model = group["camera"]["model"].as_str().unwrap();
            let out = succeed(
                bin()
                    .args(["export", "--format", "json", "--at", at, "--camera", model])
                    .arg(&json),
            );
            let kept: serde_json::Value = serde_json::from_slice(&out).unwrap();
            let kept: Vec<(u64, u64)> = kept["defects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d["x"].as_u64().unwrap(), d["y"].as_u64().unwrap()))
                .collect();
            let shown: Vec<(u64, u64)> = rows
                .iter()
                .filter(|r| !r.contains("hidden-at"))
                .map(|r| {
                    let at = |f| attribute(r, f).unwrap().parse().unwrap();
                    (at("data-x"), at("data-y"))
                })
                .collect();
            assert_eq!(shown, kept, "camera {k} at {at}");
            if at == "1/1000@100" && k == 0 {
                // At 1/1000 s the dark currents do not show: something is hidden.
                assert!(shown.len() < rows.len(), "{at}: nothing hidden");
            }
        }
        assert!(dom.contains(&format!(
            "--at {}",
            at.replace("@", "s@").replace("ss@", "s@")
        )));
    }

    // A library scan judged at an exposure: its one document (and page) keeps what shows then,
    // as each camera's outputs do.
    let judged = dir.path().join("judged.json");
    succeed(
        bin()
            .args(["scan", "--backend", "cpu", "-q", "--at", "1/1000@100"])
            .arg(&photos)
            .arg("--json")
            .arg(&judged),
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&judged).unwrap()).unwrap();
    let first = &doc["groups"][0];
    let of = first["shown_at"]["of"].as_u64().unwrap() as usize;
    let kept = first["defects"].as_array().unwrap();
    assert!(kept.len() < of, "{} of {of}", kept.len());
    assert_eq!(of, groups[0]["defects"].as_array().unwrap().len());
    assert!(kept
        .iter()
        .all(|d| d["visible_from"].as_f64().is_none_or(|v| v <= 0.001)));

    // A screenshot of the map shows the marks in their kinds' colours.
    let shot = dir.path().join("shot.png");
    browse(
        &chromium,
        &format!("file://{}", page.display()),
        &[
            "--window-size=1200,1400",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let img = image::open(&shot).unwrap().to_rgb8();
    let hot = img
        .pixels()
        .filter(|p| p[0] > 220 && p[1] < 80 && p[2] < 80)
        .count();
    assert!(hot > 20, "{hot} pixels of the hot mark's colour");
}

/// A page from a saved report of 5,000 defects on a 100 MP sensor: under 20 MB, and every row
/// is in the browser's DOM once its script has run (the time it took is the page's
/// `data-load-ms`; timed in the benchmarks' notes, not here).
#[test]
fn a_large_report_makes_a_page_within_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = (12_000u32, 8_400u32);
    let kinds = ["hot", "warm", "stuck", "dead"];
    let defects: Vec<serde_json::Value> = (0..5000u32)
        .map(|i| {
            let (x, y) = ((i * 7919) % width, (i * 104_729) % height);
            serde_json::json!({
                "x": x, "y": y, "channel": 0, "colour": "G", "kind": kinds[i as usize % 4],
                "score": 100.0 - i as f64 / 100.0, "pixels": [[x, y]],
                "dark_rate": 0.01 + i as f64 * 1e-5, "visible_from": 1.0 + i as f64 / 100.0
            })
        })
        .collect();
    let report = serde_json::json!({
        "version": 1, "tool": "hotpixels",
        "shape": {"width": width, "height": height, "channels": 1, "bit_depth": 16, "cfa": "RGGB"},
        "defects": defects
    });
    let json = dir.path().join("big.json");
    std::fs::write(&json, report.to_string()).unwrap();
    let page = dir.path().join("big.html");
    succeed(bin().arg("html").arg(&json).arg("-o").arg(&page));
    let bytes = std::fs::metadata(&page).unwrap().len();
    assert!(bytes < MAX_PAGE_BYTES, "{bytes} bytes");
    let Some(chromium) = chromium() else {
        return;
    };
    let dom = dom(&chromium, &page, "#at=2s@100");
    let rows = &rows_by_section(&dom)[0];
    assert_eq!(rows.len(), 5000);
    // visible_from = 1 + i/100 ≤ 2: the first 101 defects show.
    assert_eq!(
        rows.iter().filter(|r| !r.contains("hidden-at")).count(),
        101
    );
    let ms = attribute(&dom[dom.find("<html").unwrap()..], "data-load-ms").unwrap();
    eprintln!("5,000 defects, 100 MP: the page's script was done {ms} ms after navigation");
}
