//! Camera identity from a file's EXIF (kamadak-exif: JPEG, TIFF and the TIFF-based RAW files —
//! CR2, NEF, ARW, DNG, PEF, …; PNG and WebP): make, model and the body's serial number, named the
//! way dcraw, LibRaw and RawTherapee name cameras.

use std::path::Path;

use serde::Serialize;

/// A camera body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Camera {
    /// The maker, as dcraw names it (`Canon`, `Nikon`, `Sony`, …).
    pub make: String,
    /// The model without the maker's name (`EOS 30D`, `D850`).
    pub model: String,
    /// The body's serial number, when the file has one (EXIF `BodySerialNumber` or DNG
    /// `CameraSerialNumber`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

/// The makers whose EXIF names dcraw shortens to these (it looks for each inside the EXIF name,
/// without case: `NIKON CORPORATION` is `Nikon`).
const MAKERS: [&str; 21] = [
    "AgfaPhoto",
    "Canon",
    "Casio",
    "Epson",
    "Fujifilm",
    "Mamiya",
    "Minolta",
    "Motorola",
    "Kodak",
    "Konica",
    "Leica",
    "Nikon",
    "Nokia",
    "Olympus",
    "Ricoh",
    "Pentax",
    "Phase One",
    "Samsung",
    "Sigma",
    "Sinar",
    "Sony",
];

/// DNG's `CameraSerialNumber` tag, in IFD 0.
const DNG_CAMERA_SERIAL: u16 = 0xc62f;

impl Camera {
    /// A camera named as dcraw names it from the EXIF `make` and `model`: the maker shortened
    /// (to one of the makers dcraw knows; a model starting with `PENTAX` is a Pentax), trailing
    /// spaces removed, and the maker's name removed from the front of the model.
    pub fn from_exif(make: &str, model: &str, serial: Option<String>) -> Self {
        // As dcraw does: each maker found in the name so far replaces it.
        let mut make = make.to_string();
        for m in MAKERS {
            if make.to_lowercase().contains(&m.to_lowercase()) {
                make = m.to_string();
            }
        }
        let mut make = make.trim().to_string();
        let mut model = model.trim().to_string();
        if model.to_lowercase().starts_with("pentax") {
            make = "Pentax".into();
        }
        let prefix = format!("{} ", make.to_lowercase());
        if model.to_lowercase().starts_with(&prefix) {
            model = model[prefix.len()..].trim_start().to_string();
        }
        Camera {
            make,
            model,
            serial: serial.filter(|s| !s.is_empty()),
        }
    }

    /// `Make Model`, as RawTherapee and dcraw print it.
    pub fn name(&self) -> String {
        format!("{} {}", self.make, self.model)
    }
}

/// The text of an ASCII field, without trailing NULs and spaces.
fn ascii(exif: &exif::Exif, tag: exif::Tag) -> Option<String> {
    let field = exif.get_field(tag, exif::In::PRIMARY)?;
    match &field.value {
        exif::Value::Ascii(parts) => parts.first().map(|p| {
            String::from_utf8_lossy(p)
                .trim_end_matches(['\0', ' '])
                .trim()
                .to_string()
        }),
        _ => None,
    }
}

/// The camera that made the file at `path`, from its EXIF; `None` when the file has no readable
/// EXIF or no make and model.
pub fn read_camera(path: &Path) -> Option<Camera> {
    let file = std::fs::File::open(path).ok()?;
    let exif = exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()?;
    let make = ascii(&exif, exif::Tag::Make)?;
    let model = ascii(&exif, exif::Tag::Model)?;
    let serial = ascii(&exif, exif::Tag::BodySerialNumber)
        .or_else(|| ascii(&exif, exif::Tag(exif::Context::Tiff, DNG_CAMERA_SERIAL)));
    Some(Camera::from_exif(&make, &model, serial))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cameras_are_named_as_dcraw_names_them() {
        let name = |make, model| Camera::from_exif(make, model, None).name();
        assert_eq!(name("Canon", "Canon EOS 30D"), "Canon EOS 30D");
        assert_eq!(name("NIKON CORPORATION", "NIKON D850"), "Nikon D850");
        assert_eq!(name("SONY", "ILCE-7M3"), "Sony ILCE-7M3");
        assert_eq!(name("FUJIFILM", "X-T30 "), "Fujifilm X-T30");
        assert_eq!(
            name("RICOH IMAGING COMPANY, LTD.", "PENTAX K-1"),
            "Pentax K-1"
        );
        assert_eq!(name("OLYMPUS IMAGING CORP.  ", "E-M5"), "Olympus E-M5");
        assert_eq!(name("Panasonic", "DC-G9"), "Panasonic DC-G9");
        assert_eq!(name("KONICA MINOLTA", "DYNAX 7D"), "Minolta DYNAX 7D");
        let serial = Camera::from_exif("Canon", "Canon EOS R5", Some(String::new()));
        assert_eq!(serial.serial, None, "an empty serial is none");
    }
}
