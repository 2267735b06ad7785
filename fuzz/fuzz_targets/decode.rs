//! Fuzzes the discovery/decode front end: the bytes are a file, named with one of the extensions
//! the scan reads (chosen by the first byte), read as a scan reads it (header, size limit, frame).
//! Any result is fine, a decoder's panic caught by its guard included; a panic escaping the guard,
//! a hang or an allocation beyond the limits is a finding. Run with
//! `cargo +nightly fuzz run decode NEW_DIR fuzz/corpus/decode` (new inputs go to `NEW_DIR`).
#![no_main]

use libfuzzer_sys::fuzz_target;

/// As in the program: a decoder's huge unwritten buffer sized from a crafted count is granted,
/// and its read fails.
#[global_allocator]
static ALLOCATOR: hotpixels::mem::Reserveless = hotpixels::mem::Reserveless;

/// Installs, once, the panic hook a program using the library has: quiet for a panic inside a
/// guarded decoder, which becomes that file's error; any other panic goes on to the fuzzer's hook,
/// which reports it.
fn quiet_in_guarded_decoders() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(hotpixels::input::quiet_guarded_panics);
}

fuzz_target!(|data: &[u8]| {
    quiet_in_guarded_decoders();
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let extensions = hotpixels::input::formats::PROBE_EXTENSIONS;
    let ext = extensions[pick as usize % extensions.len()];
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("input.{ext}"));
    std::fs::write(&path, bytes).expect("writing the input");
    let _ = hotpixels::input::decode::check_file(
        &path,
        hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS,
    );
});
