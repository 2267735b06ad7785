//! Fuzzes the state-file reader (`scan --state`, `merge`): the bytes are a state file, read as
//! those commands read one — its header's length and the arrays its shape promises checked
//! against the file's length before anything is allocated. Any result is fine; a panic, a hang
//! or an allocation beyond the file's own size is a finding. Run with
//! `cargo +nightly fuzz run state NEW_DIR fuzz/corpus/state`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hotpixels::stats::state::read_from(
        data,
        data.len() as u64,
        std::path::Path::new("fuzzed.state"),
    );
});
