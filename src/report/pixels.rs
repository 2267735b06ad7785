//! The defect `csv` export: one row per pixel of every defect —
//! `defect,x,y,channel,colour,kind,score,dark_rate,visible_from` (the last two empty for a
//! defect that is not a dark current).

use super::list::{DefectList, ListExporter};

/// The per-pixel CSV exporter.
pub struct PixelCsv;

/// The header row.
pub const HEADER: &str = "defect,x,y,channel,colour,kind,score,dark_rate,visible_from";

/// The header row of files written before the dark-current columns, still read.
pub const HEADER_WITHOUT_DARK: &str = "defect,x,y,channel,colour,kind,score";

impl ListExporter for PixelCsv {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        for p in &list.pixels {
            let (rate, from) = match &p.dark {
                Some(d) => (d.dark_rate.to_string(), d.visible_from.to_string()),
                None => (String::new(), String::new()),
            };
            s += &format!(
                "{},{},{},{},{},{},{},{rate},{from}\n",
                p.defect, p.x, p.y, p.channel, p.colour, p.kind, p.score
            );
        }
        s.into_bytes()
    }
}
