//! The `siril` format: a cosmetic-correction list — `P x y H` for a pixel brighter than it should
//! be (hot, warm, a stuck one above its neighbours), `P x y C` for a darker one (cold: dead, a
//! stuck one below them; an imported dead one), `#` comments, 0-based, y from the top. Applied with Siril's
//! `calibrate … -cc=bpm FILE`.

use super::list::{header_comments, DefectList, ListExporter};
use crate::detect::Kind;

/// The Siril exporter.
pub struct Siril;

impl ListExporter for Siril {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let mut s = header_comments(list, "Siril cosmetic-correction list (P x y H|C)");
        for p in &list.pixels {
            let cold = p.kind == Kind::Dead || p.score < 0.0;
            let class = if cold { 'C' } else { 'H' };
            s += &format!("P {} {} {class}\n", p.x, p.y);
        }
        s.into_bytes()
    }
}
