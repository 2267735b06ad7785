//! Reports, library documents and state files read back are untrusted input: the fuzz corpora
//! (`fuzz/corpus/report`, `fuzz/corpus/state`) each end in a list or one error line naming the
//! field, and every refusal of `export`, `repair --map`, `merge` and `scan --state` comes before
//! anything the file sizes is allocated — the 10⁹-wide mask under a small address-space limit, so
//! that a regression fails fast instead of exhausting the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use hotpixels::report::list::DefectList;
use hotpixels::report::readback::ReadLimits;
use hotpixels::stats::state;

/// The address space the refusing commands run in: far below what the crafted files ask for.
#[cfg(target_os = "linux")]
const ADDRESS_SPACE: u64 = 1 << 30;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name)
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// What each crafted report of the corpus is refused for (`None`: it is read).
fn expected_report(name: &str) -> Option<&'static str> {
    Some(match name {
        "report-jpeg" | "report-dark-current" | "library-two-cameras" => return None,
        "shape-a-billion-wide" => "shape: 1000000000x48 pixels",
        "pixel-outside-the-frame" => "defect 1: pixel (64, 0) outside the 64x48 frame",
        "negative-coordinate" => "defect 1: invalid value: integer `-1`",
        "fractional-coordinate" => "defect 1: invalid type: floating point `1.5`",
        "unknown-version" => "version: 7, not a hotpixels JSON report",
        "no-version" => "version: missing",
        "library-same-camera-twice" => "groups 1 and 2 are both of",
        "more-defects-than-pixels" => "defects: 5, more than the frame's 4 pixels",
        "channel-beyond-the-shape" => "defect 1: channel 9, but the shape has 3",
        "no-channels" => "shape:",
        "groups-not-a-list" => "groups is not a list",
        "empty" | "not-json" | "nested" => "not a hotpixels JSON report",
        other => panic!("{other}: a corpus file without an expectation"),
    })
}

#[test]
fn every_report_of_the_corpus_is_read_or_refused_for_its_field() {
    let files = files(&corpus("report"));
    assert!(files.len() >= 17, "the corpus is there: {}", files.len());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        let read = DefectList::all_from_json(&text, &ReadLimits::default());
        match (expected_report(&name), read) {
            (None, Ok(lists)) => assert!(
                lists.iter().any(|l| !l.pixels.is_empty()),
                "{name}: no pixel listed"
            ),
            (None, Err(e)) => panic!("{name}: refused: {e}"),
            (Some(why), Ok(_)) => panic!("{name}: read, expected '{why}'"),
            (Some(why), Err(e)) => {
                assert!(e.contains(why), "{name}: '{e}', expected '{why}'");
                assert_eq!(e.lines().count(), 1, "{name}: {e}");
            }
        }
    }
}

/// What each crafted state of the corpus is refused for (`None`: it is read).
fn expected_state(name: &str) -> Option<&'static str> {
    Some(match name {
        "state-jpeg" | "state-dark-current" => return None,
        "cut-in-half" => "the file is cut short: its shape 64x48 RGB 8-bit takes 166700 bytes, the file has 83350",
        "header-of-16-exabytes" => "its header claims 9223372036854775808 bytes",
        "shape-100000x100000" => "the file is cut short: its shape 100000x100000 RGB 8-bit takes",
        "magic-only" | "empty" => "the file is cut short",
        "unknown-version" => "it is of version 99",
        "more-exposures-than-frames" => "48 exposures for 16 frames",
        other => panic!("{other}: a corpus file without an expectation"),
    })
}

#[test]
fn every_state_of_the_corpus_is_read_or_refused_before_allocating() {
    let files = files(&corpus("state"));
    assert!(files.len() >= 9, "the corpus is there: {}", files.len());
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let read = state::read_from(&bytes[..], bytes.len() as u64, file);
        match (expected_state(&name), read) {
            (None, Ok(s)) => assert!(s.moments.n > 0, "{name}: no frame"),
            (None, Err(e)) => panic!("{name}: refused: {e}"),
            (Some(why), Ok(_)) => panic!("{name}: read, expected '{why}'"),
            (Some(why), Err(e)) => {
                let e = e.to_string();
                assert!(e.contains(why), "{name}: '{e}', expected '{why}'");
                assert!(e.contains(&name), "{name}: the file is not named: {e}");
                assert_eq!(e.lines().count(), 1, "{name}: {e}");
            }
        }
    }
}

/// The binary with `args`, in an address space of [`ADDRESS_SPACE`]: its exit code and standard
/// error.
#[cfg(target_os = "linux")]
fn run_confined(args: &[&std::ffi::OsStr]) -> (i32, String) {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("hotpixels"));
    command.args(args);
    // SAFETY: setrlimit is async-signal-safe and touches only the child about to exec.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts one error line on `stderr` holding `file`'s name and `why`, and the fatal exit code.
#[cfg(target_os = "linux")]
fn refused(code: i32, stderr: &str, file: &Path, why: &str) {
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&*file.to_string_lossy()), "{stderr}");
    assert!(stderr.contains(why), "{stderr}");
}

/// The report whose `shape.width` was edited to 10⁹: `export --format mask` and `repair --map`
/// refuse it in one line, in an address space of 1 GiB (the mask would take 48 GB).
#[cfg(target_os = "linux")]
#[test]
fn a_billion_wide_report_is_one_line_in_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let report = corpus("report").join("shape-a-billion-wide");
    let mask = dir.path().join("mask.png");
    let (code, stderr) = run_confined(&[
        "export".as_ref(),
        "--format".as_ref(),
        "mask".as_ref(),
        report.as_os_str(),
        "-o".as_ref(),
        mask.as_os_str(),
    ]);
    refused(code, &stderr, &report, "shape: 1000000000x48 pixels");
    assert!(!mask.exists());
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let out = dir.path().join("fixed");
    let (code, stderr) = run_confined(&[
        "repair".as_ref(),
        "--map".as_ref(),
        report.as_os_str(),
        photos.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    refused(code, &stderr, &report, "more than the limit of 400 MP");
    // Within a raised limit the shape passes, and the mask's memory is what is refused.
    let (code, stderr) = run_confined(&[
        "export".as_ref(),
        "--format".as_ref(),
        "mask".as_ref(),
        "--max-megapixels".as_ref(),
        "100000".as_ref(),
        report.as_os_str(),
        "-o".as_ref(),
        mask.as_os_str(),
    ]);
    refused(code, &stderr, &report, "the mask needs");
}

/// Each crafted report of the corpus is refused by `export` in one line naming the file and the
/// field; the good ones are exported.
#[cfg(target_os = "linux")]
#[test]
fn export_refuses_each_crafted_report_in_one_line() {
    for file in files(&corpus("report")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let (code, stderr) = run_confined(&[
            "export".as_ref(),
            "--format".as_ref(),
            "dcraw".as_ref(),
            file.as_os_str(),
        ]);
        match expected_report(&name) {
            Some(why) => refused(code, &stderr, &file, why),
            // A library of two cameras needs --camera; the others export.
            None if name.starts_with("library") => {
                refused(code, &stderr, &file, "choose one with --camera")
            }
            None => assert_eq!(code, 0, "{name}: {stderr}"),
        }
    }
}

/// `merge` and `scan --state` refuse a crafted state in one line naming it, before allocating
/// what its header claims.
#[cfg(target_os = "linux")]
#[test]
fn merge_and_resume_refuse_a_crafted_state() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    hotpixels::synth::write_set(
        &hotpixels::synth::SetSpec {
            width: 64,
            height: 48,
            frames: 3,
            ..Default::default()
        },
        &photos,
    )
    .unwrap();
    for name in ["shape-100000x100000", "header-of-16-exabytes"] {
        let crafted = dir.path().join(format!("{name}.state"));
        std::fs::copy(corpus("state").join(name), &crafted).unwrap();
        let why = expected_state(name).unwrap();
        let (code, stderr) = run_confined(&["merge".as_ref(), crafted.as_os_str()]);
        refused(code, &stderr, &crafted, why);
        let (code, stderr) = run_confined(&[
            "scan".as_ref(),
            "--backend".as_ref(),
            "cpu".as_ref(),
            "-q".as_ref(),
            photos.as_os_str(),
            "--state".as_ref(),
            crafted.as_os_str(),
        ]);
        assert_ne!(code, 0, "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains(&*crafted.to_string_lossy()), "{stderr}");
        // The user's file is left as it was.
        assert_eq!(
            std::fs::read(&crafted).unwrap(),
            std::fs::read(corpus("state").join(name)).unwrap()
        );
    }
}

/// A report file larger than a report can be is refused before it is read (a sparse file: no
/// disk space taken).
#[cfg(target_os = "linux")]
#[test]
fn an_oversized_report_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(hotpixels::report::readback::MAX_REPORT_BYTES + 1)
        .unwrap();
    let (code, stderr) = run_confined(&[
        "export".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
        huge.as_os_str(),
    ]);
    refused(code, &stderr, &huge, "more than a report holds");
}
