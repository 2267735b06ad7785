//! The fuzz target's corpus (`fuzz/corpus/decode`: headers claiming 100,000 × 100,000 pixels, files
//! cut short, bytes flipped, noise, an empty file, and what fuzzing found) read as a scan reads
//! files, under every extension the fuzz target tries: each is a frame or one error naming the
//! file, never a panic, an abort or a hang.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use hotpixels::input::decode::check_file;
use hotpixels::mem::Reserveless;

/// As in the program: a decoder's huge unwritten buffer sized from a crafted count is granted,
/// and its read fails.
#[global_allocator]
static ALLOCATOR: Reserveless = Reserveless;
use hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS;
use hotpixels::input::formats::PROBE_EXTENSIONS;

/// The longest one file may take.
const NO_HANG: Duration = Duration::from_secs(60);

#[test]
fn crafted_files_fail_alone_and_quickly() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus is there: {}", files.len());
    let dir = tempfile::tempdir().unwrap();
    let mut frames = 0;
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for ext in PROBE_EXTENSIONS {
            let name = file.file_name().unwrap().to_string_lossy();
            let path = dir.path().join(format!("{name}.{ext}"));
            std::fs::write(&path, &bytes).unwrap();
            let (tx, rx) = mpsc::channel();
            let p = path.clone();
            std::thread::spawn(move || {
                let _ = tx.send(check_file(&p, DEFAULT_MAX_MEGAPIXELS));
            });
            match rx.recv_timeout(NO_HANG) {
                Ok(Ok(_)) => frames += 1,
                Ok(Err(e)) => {
                    let message = e.to_string();
                    assert!(message.contains(&*name), "{message}");
                    assert_eq!(message.lines().count(), 1, "{message}");
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{}: still reading after {NO_HANG:?}", path.display())
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("{}: a panic escaped the decoder's guard", path.display())
                }
            }
        }
    }
    // The whole files decode under their own extension at least.
    assert!(frames >= 3, "{frames} frames decoded");
}
