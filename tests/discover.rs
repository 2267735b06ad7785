//! Discovery and the library scan on files: globs, folders, mixed shapes, damaged and fake files,
//! empty patterns, a single frame, RGBA and grey+alpha input, and 16-bit TIFF.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use hotpixels::input::discover;
use hotpixels::scan::{scan, BackendChoice, ScanError, ScanOptions, Silent};
use hotpixels::synth::{write_frame_jpeg, write_frame_png, Chroma, SyntheticSet};
use hotpixels::Shape;

fn write_set(dir: &Path, shape: Shape, frames: usize, seed: u64, prefix: &str) -> SyntheticSet {
    let set = SyntheticSet::new(shape, frames, 4, seed);
    for i in 0..frames {
        write_frame_png(&set.frame(i), &dir.join(format!("{prefix}{i:03}.png"))).unwrap();
    }
    set
}

fn cpu() -> ScanOptions {
    ScanOptions {
        backend: BackendChoice::Cpu,
        jobs: 2,
        ..Default::default()
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn folder_is_walked_recursively_and_extensions_are_case_insensitive() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(40, 30, 3, 8).unwrap();
    write_set(dir.path(), shape, 3, 1, "a");
    fs::create_dir(dir.path().join("sub")).unwrap();
    let set = SyntheticSet::new(shape, 1, 0, 9);
    write_frame_png(&set.frame(0), &dir.path().join("sub/UPPER.PNG")).unwrap();
    fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    let d = discover(&[s(dir.path())]).unwrap();
    assert_eq!(d.shape, Some(shape));
    assert_eq!(d.files.len(), 4, "{:?}", d.files);
    assert!(d.files.iter().any(|f| f.ends_with("sub/UPPER.PNG")));
    // A folder walk only picks image extensions: the .txt file is not even listed.
    assert!(d.skipped.is_empty(), "{:?}", d.skipped);
    let mut sorted = d.files.clone();
    sorted.sort();
    assert_eq!(d.files, sorted, "stable order");
}

#[test]
fn quoted_glob_is_expanded_by_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(20, 10, 1, 8).unwrap();
    fs::create_dir_all(dir.path().join("day1/raw")).unwrap();
    fs::create_dir_all(dir.path().join("day2")).unwrap();
    let set = SyntheticSet::new(shape, 3, 0, 2);
    write_frame_png(&set.frame(0), &dir.path().join("day1/raw/IMG_1.PNG")).unwrap();
    write_frame_png(&set.frame(1), &dir.path().join("day2/img_2.png")).unwrap();
    write_frame_png(&set.frame(2), &dir.path().join("top.png")).unwrap();
    let pattern = format!("{}/**/*.PNG", dir.path().display());
    let d = discover(&[pattern]).unwrap();
    let names: Vec<String> = d
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["IMG_1.PNG", "img_2.png", "top.png"]);
}

/// Runs discovery on a thread and fails if it has not finished within a minute (a walk that
/// follows a link loop never does).
fn discover_in_time(inputs: Vec<String>) -> hotpixels::input::Discovery {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(discover(&inputs));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("discovery did not finish: a link loop?")
        .unwrap()
}

#[cfg(unix)]
#[test]
fn a_link_to_a_parent_folder_neither_loops_nor_counts_a_file_twice() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    fs::create_dir(&photos).unwrap();
    let shape = Shape::new(20, 10, 1, 8).unwrap();
    write_set(&photos, shape, 5, 3, "f");
    std::os::unix::fs::symlink("..", photos.join("up")).unwrap();
    std::os::unix::fs::symlink(".", photos.join("here")).unwrap();
    // A second link to the same folder from outside it: its files are the same files.
    std::os::unix::fs::symlink(&photos, dir.path().join("again")).unwrap();
    for input in [
        s(&photos),
        s(dir.path()),
        format!("{}/**/*.png", photos.display()),
        format!("{}/**/*.png", dir.path().display()),
    ] {
        let d = discover_in_time(vec![input.clone()]);
        assert_eq!(d.files.len(), 5, "{input}: {:?}", d.files);
    }
    // Two inputs naming the same files count them once too.
    let d = discover_in_time(vec![s(&photos), s(&dir.path().join("again/f000.png"))]);
    assert_eq!(d.files.len(), 5, "{:?}", d.files);
}

#[test]
fn patterns_reach_as_deep_as_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(20, 10, 1, 8).unwrap();
    fs::create_dir_all(dir.path().join("a/b")).unwrap();
    let set = SyntheticSet::new(shape, 3, 0, 2);
    write_frame_png(&set.frame(0), &dir.path().join("top.png")).unwrap();
    write_frame_png(&set.frame(1), &dir.path().join("a/one.png")).unwrap();
    write_frame_png(&set.frame(2), &dir.path().join("a/b/two.png")).unwrap();
    let count = |pattern: &str| {
        discover_in_time(vec![format!("{}/{pattern}", dir.path().display())])
            .files
            .len()
    };
    assert_eq!(count("*.png"), 1);
    assert_eq!(count("*/*.png"), 1);
    assert_eq!(count("*/*/*.png"), 1);
    assert_eq!(count("**/*.png"), 3);
    // A pattern that names a folder takes the images in it, however deep.
    assert_eq!(count("?"), 2);
}

#[test]
fn empty_glob_is_an_error_naming_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = format!("{}/*.jpg", dir.path().display());
    let err = discover(std::slice::from_ref(&pattern)).unwrap_err();
    assert!(err.to_string().contains(&pattern), "{err}");
}

#[test]
fn mixed_shapes_truncated_and_fake_files_are_listed_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(48, 32, 3, 8).unwrap();
    let set = write_set(dir.path(), shape, 5, 3, "f");
    // A portrait frame: other shape.
    let portrait = SyntheticSet::new(Shape::new(32, 48, 3, 8).unwrap(), 1, 0, 4);
    write_frame_png(&portrait.frame(0), &dir.path().join("portrait.png")).unwrap();
    // A text file named .jpg: not an image.
    fs::write(dir.path().join("fake.jpg"), "this is text, not a JPEG\n").unwrap();
    // A truncated PNG: its header is fine, its pixels are cut off.
    let whole = dir.path().join("whole.png");
    write_frame_png(&set.frame(0), &whole).unwrap();
    let bytes = fs::read(&whole).unwrap();
    fs::remove_file(&whole).unwrap();
    fs::write(dir.path().join("truncated.png"), &bytes[..bytes.len() / 2]).unwrap();

    let report = scan(&[s(dir.path())], &cpu(), &mut Silent).unwrap();
    assert_eq!(report.shape, shape);
    assert_eq!(report.frames_used, 5);
    assert_eq!(report.failed, 1, "the truncated file fails while decoding");
    let reason = |name: &str| common::skipped_reason(&report.skipped, name);
    assert_eq!(
        reason("portrait.png"),
        "32x48 RGB 8-bit, expected 48x32 RGB 8-bit"
    );
    assert!(reason("fake.jpg").contains("not"), "{}", reason("fake.jpg"));
    assert!(
        reason("truncated.png").contains("truncated"),
        "{}",
        reason("truncated.png")
    );
    for k in &report.skipped {
        assert!(!k.reason.contains('\n'), "one line: {:?}", k.reason);
    }
    // The planted subpixels are still the lowest.
    for p in &set.planted {
        assert!(report
            .lowest
            .iter()
            .any(|c| (c.x, c.y, c.channel) == (p.x, p.y, p.channel)));
    }
}

#[test]
fn one_frame_is_not_enough() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), Shape::new(16, 16, 1, 8).unwrap(), 1, 5, "only");
    let err = scan(&[s(dir.path())], &cpu(), &mut Silent).unwrap_err();
    assert!(matches!(err, ScanError::TooFewFrames(1, _)), "{err}");
    assert!(err.to_string().contains("at least two frames"));
}

#[test]
fn only_unreadable_files_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.jpg"), "text").unwrap();
    fs::write(dir.path().join("b.png"), "text").unwrap();
    let err = scan(&[s(dir.path())], &cpu(), &mut Silent).unwrap_err();
    assert!(matches!(err, ScanError::NoImages { files: 2, .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("a.jpg: not a valid image"),
        "the first file's reason is named: {message}"
    );
}

fn planted_rgba(dir: &Path, frames: usize, grey: bool) -> Vec<PathBuf> {
    // RGBA / grey+alpha frames whose alpha varies wildly: it must not count.
    (0..frames)
        .map(|f| {
            let (w, h) = (13u32, 7u32);
            let path = dir.join(format!("a{f}.png"));
            let v = |x: u32, y: u32, c: u32| -> u8 {
                if (x, y) == (5, 3) {
                    99
                } else {
                    (common::hash((f as u64) << 32 | (y * 64 + x * 4 + c) as u64) % 256) as u8
                }
            };
            if grey {
                image::GrayAlphaImage::from_fn(w, h, |x, y| image::LumaA([v(x, y, 0), v(x, y, 3)]))
                    .save(&path)
                    .unwrap();
            } else {
                image::RgbaImage::from_fn(w, h, |x, y| {
                    image::Rgba([v(x, y, 0), v(x, y, 1), v(x, y, 2), (f * 60 % 256) as u8])
                })
                .save(&path)
                .unwrap();
            }
            path
        })
        .collect()
}

#[test]
fn rgba_drops_alpha_and_says_so_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    planted_rgba(dir.path(), 6, false);
    let mut backends = vec![BackendChoice::Cpu];
    if common::gpu("rgba_drops_alpha_and_says_so_on_both_backends").is_some() {
        backends.push(BackendChoice::Gpu);
    }
    let mut results = Vec::new();
    for backend in backends {
        let options = ScanOptions { backend, ..cpu() };
        let report = scan(&[s(dir.path())], &options, &mut Silent).unwrap();
        assert_eq!(report.shape, Shape::new(13, 7, 3, 8).unwrap());
        assert!(report.alpha_ignored);
        let c = &report.lowest[0];
        assert_eq!((c.x, c.y, c.m2, c.mean), (5, 3, 0.0, 99.0), "{backend:?}");
        results.push(report.lowest);
    }
    if let [cpu, gpu] = results.as_slice() {
        let pos = |l: &Vec<hotpixels::detect::Candidate>| -> Vec<usize> {
            l.iter().map(|c| c.index).collect()
        };
        assert_eq!(pos(cpu), pos(gpu));
    }
}

#[test]
fn grey_alpha_drops_alpha() {
    let dir = tempfile::tempdir().unwrap();
    planted_rgba(dir.path(), 6, true);
    let report = scan(&[s(dir.path())], &cpu(), &mut Silent).unwrap();
    assert_eq!(report.shape, Shape::new(13, 7, 1, 8).unwrap());
    assert!(report.alpha_ignored);
    assert_eq!((report.lowest[0].x, report.lowest[0].y), (5, 3));
}

#[test]
fn pooled_decoding_reuses_buffers_without_mixing_frames() {
    use hotpixels::input::{decode_file, decode_file_pooled, FramePool};
    let dir = tempfile::tempdir().unwrap();
    let paths = planted_rgba(dir.path(), 4, false);
    let shape = Shape::new(13, 7, 3, 8).unwrap();
    let pool = FramePool::new(1);
    for p in paths.iter().chain(paths.iter().rev()) {
        let pooled = decode_file_pooled(p, shape, &pool).unwrap();
        let plain = decode_file(p, shape).unwrap();
        assert_eq!(pooled, plain, "{}", p.display());
    }
    let other = Shape::new(7, 13, 3, 8).unwrap();
    let err = decode_file_pooled(&paths[0], other, &pool).unwrap_err();
    assert!(err.to_string().contains("expected 7x13"), "{err}");
}

/// A file that vanishes, or turns into something else, between discovery and decoding is that
/// file's error with its path and reason; it adds nothing, and the scan goes on.
#[test]
fn files_that_vanish_or_change_after_discovery_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(40, 30, 3, 8).unwrap();
    write_set(dir.path(), shape, 6, 3, "f");
    let options = cpu();
    let prepared = hotpixels::scan::prepare(&[s(dir.path())], &options, &mut Silent).unwrap();
    assert_eq!(prepared.files().len(), 6);
    let gone = prepared.files()[1].clone();
    let changed = prepared.files()[4].clone();
    fs::remove_file(&gone).unwrap();
    fs::write(&changed, b"no longer an image").unwrap();
    let report = prepared.run(&options, &mut Silent).unwrap();
    assert_eq!(report.frames_used, 4);
    assert_eq!(report.failed, 2);
    let reason = |p: &Path| {
        report
            .skipped
            .iter()
            .find(|k| k.path == p)
            .map(|k| k.reason.clone())
            .unwrap_or_else(|| panic!("{} not reported", p.display()))
    };
    assert!(reason(&gone).contains("No such file"), "{}", reason(&gone));
    assert!(
        reason(&changed).contains("not a valid image"),
        "{}",
        reason(&changed)
    );
    assert!(!report.files.contains(&gone) && !report.files.contains(&changed));
}

/// A FIFO named like a photo, in a folder or named itself, is listed as skipped with its reason
/// instead of blocking the scan forever on its first read.
#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_photo_is_skipped_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(40, 30, 3, 8).unwrap();
    write_set(dir.path(), shape, 3, 4, "f");
    let fifo = dir.path().join("pipe.jpg");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
    for inputs in [vec![s(dir.path())], vec![s(dir.path()), s(&fifo)]] {
        let d = discover_in_time(inputs);
        assert_eq!(d.files.len(), 3);
        let skipped = d
            .skipped
            .iter()
            .find(|k| k.path == fifo)
            .expect("the FIFO listed");
        assert!(
            skipped.reason.contains("not a regular file"),
            "{}",
            skipped.reason
        );
    }
}

/// Records the progress a scan reports.
#[derive(Default)]
struct Progress(Vec<(usize, usize)>);

impl hotpixels::scan::ScanObserver for Progress {
    fn progress(&mut self, done: usize, total: usize, _bytes: u64) {
        self.0.push((done, total));
    }
}

#[test]
fn progress_counts_over_the_whole_scan_across_checkpoints_and_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    write_set(dir.path(), Shape::new(16, 12, 3, 8).unwrap(), 10, 5, "f");
    let out = tempfile::tempdir().unwrap();
    let state = out.path().join("s.state");
    let options = ScanOptions {
        state: Some(hotpixels::scan::StateOptions {
            path: state.clone(),
            every_frames: 3,
            every: std::time::Duration::from_secs(3600),
        }),
        ..cpu()
    };
    let inputs = [s(dir.path())];
    let mut progress = Progress::default();
    scan(&inputs, &options, &mut progress).unwrap();
    let expected: Vec<_> = (1..=10).map(|d| (d, 10)).collect();
    assert_eq!(progress.0, expected);

    // Two more files: a resumed scan counts on from the ten already in the state.
    write_set(dir.path(), Shape::new(16, 12, 3, 8).unwrap(), 2, 6, "g");
    let mut progress = Progress::default();
    let report = scan(&inputs, &options, &mut progress).unwrap();
    assert_eq!(report.moments.n, 12);
    assert_eq!(progress.0, [(11, 12), (12, 12)]);
}

/// A JPEG cut short (an interrupted copy from a card) decodes without complaint, the missing
/// part filled with grey: each is refused, naming the file, and adds nothing; a JPEG with data
/// appended after its image (as phones append a motion clip) is whole and counted.
#[test]
fn jpegs_cut_short_are_refused_and_data_after_the_image_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(64, 48, 3, 8).unwrap();
    let set = SyntheticSet::new(shape, 12, 4, 31);
    let mut cut = 0;
    for i in 0..set.frames {
        let path = dir.path().join(format!("f{i:03}.jpg"));
        write_frame_jpeg(&set.frame(i), &path, 95, Chroma::Sub422).unwrap();
        let bytes = fs::read(&path).unwrap();
        match i % 4 {
            // Cut at several places, from its headers to the end of its scan.
            1 | 2 => {
                let keep = bytes.len() * i / set.frames;
                fs::write(&path, &bytes[..keep]).unwrap();
                cut += 1;
            }
            3 => {
                let mut appended = bytes.clone();
                appended.extend_from_slice(b"\0\0\0\x18ftypmp42 a clip after the image");
                fs::write(&path, appended).unwrap();
            }
            _ => {}
        }
    }
    let report = scan(&[s(dir.path())], &cpu(), &mut Silent).unwrap();
    // Cut in its headers, a file is refused as discovery reads them; cut in its scan's data (the
    // last cuts), while decoding.
    assert_eq!(report.skipped.len(), cut, "{:?}", report.skipped);
    assert!(report.failed >= 2, "{:?}", report.skipped);
    assert_eq!(report.frames_used, set.frames - cut);
    for k in &report.skipped {
        let i: usize = k.path.file_stem().unwrap().to_string_lossy()[1..]
            .parse()
            .unwrap();
        assert!(matches!(i % 4, 1 | 2), "{} refused", k.path.display());
        assert!(k.reason.contains("cut short"), "{}", k.reason);
    }
}

/// Photos in formats not read (HEIF from a phone, AVIF, JPEG XL) in a folder are listed as
/// skipped with why, not passed over in silence; other files (clips, sidecars) are not listed; a
/// folder holding only such photos is an error that says so.
#[test]
fn photos_in_formats_not_read_are_listed_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape::new(32, 24, 3, 8).unwrap();
    write_set(dir.path(), shape, 3, 5, "f");
    for name in [
        "IMG_0001.HEIC",
        "IMG_0002.heif",
        "x.avif",
        "y.JXL",
        "clip.MOV",
        "f000.xmp",
    ] {
        fs::write(dir.path().join(name), b"not decoded here").unwrap();
    }
    let found = discover(&[s(dir.path())]).unwrap();
    assert_eq!(found.files.len(), 3);
    let mut listed = common::skipped_by_name(&found.skipped);
    listed.sort();
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["IMG_0001.HEIC", "IMG_0002.heif", "x.avif", "y.JXL"]);
    for (name, reason) in &listed {
        let format = if name.ends_with("avif") {
            "AVIF"
        } else if name.ends_with("JXL") {
            "JPEG XL"
        } else {
            "HEIF"
        };
        assert!(
            reason.contains(&format!("a {format} image, a format not read")),
            "{name}: {reason}"
        );
    }

    let only = tempfile::tempdir().unwrap();
    fs::write(only.path().join("IMG_0001.HEIC"), b"not decoded here").unwrap();
    let err = discover(&[s(only.path())]).unwrap_err().to_string();
    assert!(err.contains("HEIF image, a format not read"), "{err}");
}
