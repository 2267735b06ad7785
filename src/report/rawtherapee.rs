//! The `rawtherapee` format: a `.badpixels` file — `x y` per line, nothing else. RawTherapee reads
//! it from its dark-frame folder as `<Make> <Model> <Serial>.badpixels` or
//! `<Make> <Model>.badpixels`; a first line holding a single number would be an offset added to
//! every entry, so none is ever written.

use super::list::{DefectList, ListExporter};

/// The RawTherapee exporter.
pub struct RawTherapee;

impl RawTherapee {
    /// The file name RawTherapee looks for, `<Make> <Model>.badpixels`, when the camera is known.
    pub fn file_name(list: &DefectList) -> Option<String> {
        list.camera_name().map(|c| format!("{c}.badpixels"))
    }
}

impl ListExporter for RawTherapee {
    fn render_list(&self, list: &DefectList) -> Vec<u8> {
        let mut s = String::new();
        for p in &list.pixels {
            s += &format!("{} {}\n", p.x, p.y);
        }
        s.into_bytes()
    }
}
