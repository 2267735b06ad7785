//! The `dcraw` format: the bad-pixel list dcraw's `-P`, LibRaw and rawpy read — `col row time` per
//! line, `#` comments, time 0 meaning "always bad". Applied with `dcraw -P list -D -4 -T file`,
//! which replaces each listed photosite by the mean of its same-colour neighbours.

use super::list::{header_comments, DefectList, ListExporter};

/// The time a listed pixel went bad, in dcraw's list: 0 is "always", so every frame is fixed.
pub const ALWAYS_BAD: u32 = 0;

/// The dcraw exporter.
pub struct Dcraw;

impl ListExporter for Dcraw {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let mut s = header_comments(list, "dcraw -P bad-pixel list (col row time)");
        for p in &list.pixels {
            s += &format!("{} {} {ALWAYS_BAD}\n", p.x, p.y);
        }
        s.into_bytes()
    }
}
