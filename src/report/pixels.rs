//! The defect `csv` export: one row per pixel of every defect —
//! `defect,x,y,channel,colour,kind,score`.

use super::list::{DefectList, ListExporter};

/// The per-pixel CSV exporter.
pub struct PixelCsv;

/// The header row.
pub const HEADER: &str = "defect,x,y,channel,colour,kind,score";

impl ListExporter for PixelCsv {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        for p in &list.pixels {
            s += &format!(
                "{},{},{},{},{},{},{}\n",
                p.defect, p.x, p.y, p.channel, p.colour, p.kind, p.score
            );
        }
        s.into_bytes()
    }
}
