//! The `rawtherapee` format: a `.badpixels` file — `x y` per line, nothing else. RawTherapee reads
//! it from its dark-frame folder as `<Make> <Model> <Serial>.badpixels` or
//! `<Make> <Model>.badpixels` (the folder is set in its Preferences › Image Processing › Dark
//! frame › Directory; Make and Model as dcraw names them — [`crate::input::exif::Camera`]); a
//! first line holding a single number would be an offset added to
//! every entry, so none is ever written.

use super::list::{DefectList, ListExporter};

/// The RawTherapee exporter.
pub struct RawTherapee;

impl RawTherapee {
    /// The file names RawTherapee looks for, in its order, when the camera is known: this body's
    /// `<Make> <Model> <Serial>.badpixels` (when the serial number is known), then any body's
    /// `<Make> <Model>.badpixels`.
    pub fn file_names(list: &DefectList) -> Vec<String> {
        let Some(camera) = &list.camera else {
            return Vec::new();
        };
        let name = camera.name();
        let mut names: Vec<String> = camera
            .serial
            .iter()
            .map(|serial| format!("{name} {serial}.badpixels"))
            .collect();
        names.push(format!("{name}.badpixels"));
        names
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
