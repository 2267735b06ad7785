//! Fuzzes the discovery/decode front end: the bytes are a file, named with one of the extensions
//! the scan reads (chosen by the first byte), read as a scan reads it (header, size limit, frame).
//! Any result is fine; a panic escaping the guard, a hang or an allocation beyond the limits is a
//! finding. Run with `cargo fuzz run decode fuzz/corpus/decode` (nightly).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// The extensions tried, one per file.
const EXTENSIONS: [&str; 8] = ["png", "jpg", "tif", "webp", "dng", "cr2", "nef", "arw"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[pick as usize % EXTENSIONS.len()];
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("input.{ext}"));
    std::fs::write(&path, bytes).expect("writing the input");
    let _ = hotpixels::input::decode::check_file(
        &path,
        hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS,
    );
});
