//! Fuzzes the readers of reports and library documents: the bytes are a JSON report as `export`
//! and `repair --map` read it — checked against its shape and the limits, then listed. Any
//! result is fine; a panic, a hang or an allocation sized by the document beyond its limits is a
//! finding. Run with `cargo +nightly fuzz run report NEW_DIR fuzz/corpus/report`.
#![no_main]

use hotpixels::report::list::DefectList;
use hotpixels::report::readback::ReadLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = ReadLimits::default();
    let _ = DefectList::from_json_within(text, None, &limits);
    if let Ok(lists) = DefectList::all_from_json(text, &limits) {
        for list in lists {
            // Everything listed is inside the frame the report describes.
            assert!(list
                .pixels
                .iter()
                .all(|p| p.x < list.shape.width && p.y < list.shape.height));
        }
    }
});
