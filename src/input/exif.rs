//! Reading a file's EXIF (kamadak-exif: JPEG, TIFF and the TIFF-based RAW files — CR2, NEF,
//! ARW, DNG, PEF, …; PNG and WebP) for its [`Identity`]: the camera's make, model and body serial
//! number, when the shot was taken and how it was exposed; a FITS file's from its header. The
//! types are [`super::identity`]'s, named here too.

use std::io::{Read, Seek};
use std::path::Path;

use crate::input::chunks::PNG_SIGNATURE;
pub use crate::input::identity::{
    describe_seconds, group_name, Camera, CaptureTime, Exposure, ExposureRange, Identity,
    REFERENCE_ISO,
};

/// DNG's `CameraSerialNumber` tag, in IFD 0.
pub const DNG_CAMERA_SERIAL: u16 = 0xc62f;

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
    read_identity(path).camera
}

/// The field of `tag`, or of the tag of the same number in the first (TIFF) directory, where a
/// DNG may keep it.
fn field_anywhere(exif: &exif::Exif, tag: exif::Tag) -> Option<&exif::Field> {
    exif.get_field(tag, exif::In::PRIMARY).or_else(|| {
        exif.get_field(
            exif::Tag(exif::Context::Tiff, tag.number()),
            exif::In::PRIMARY,
        )
    })
}

/// The exposure the EXIF gives.
fn read_exposure(exif: &exif::Exif) -> Exposure {
    let seconds = field_anywhere(exif, exif::Tag::ExposureTime).and_then(|f| match &f.value {
        exif::Value::Rational(v) => v
            .first()
            .map(|r| r.to_f64())
            .filter(|s| s.is_finite() && *s > 0.0),
        _ => None,
    });
    let iso = field_anywhere(exif, exif::Tag::PhotographicSensitivity)
        .and_then(|f| f.value.get_uint(0))
        .filter(|&iso| iso > 0);
    Exposure { seconds, iso }
}

/// Bytes of a TIFF-based file (a camera RAW file) its EXIF is first read from. Cameras write the
/// image directories and their values ahead of the image data, so for a RAW file of 25 MB a
/// megabyte is read instead of the whole file, which the EXIF reader would otherwise read — at
/// discovery, for every file of a library, before any is decoded. A file whose directories or
/// values lie beyond (writers that put the image data first) is read whole: the prefix is taken
/// only when every part of the EXIF was in it, and then it gives what the whole file gives.
pub const EXIF_PREFIX: u64 = 1 << 20;

/// How a TIFF file starts: byte order, then 42.
const TIFF_STARTS: [[u8; 4]; 2] = [*b"II*\0", *b"MM\0*"];

/// The EXIF of the file at `path`: from its first [`EXIF_PREFIX`] bytes when it is a TIFF-based
/// file whose EXIF lies there, from its segments before its image for a JPEG
/// ([`crate::input::jpeg::exif`]), from its chunk headers for PNG and WebP
/// ([`crate::input::chunks::exif`]), else read as the EXIF reader reads files.
fn read_exif(path: &Path) -> Option<exif::Exif> {
    let mut file = std::fs::File::open(path).ok()?;
    let reader = exif::Reader::new();
    let mut start = [0u8; 4];
    let read = file.read_exact(&mut start).is_ok();
    file.rewind().ok()?;
    if read && (start == PNG_SIGNATURE[..4] || start == *b"RIFF") {
        // The EXIF reader would read every chunk before the EXIF one.
        return reader
            .read_raw(crate::input::chunks::exif(path).ok()??)
            .ok();
    }
    if read && start.starts_with(&crate::input::jpeg::SOI) {
        // The EXIF reader would read a JPEG without EXIF to its end looking for it.
        return reader.read_raw(crate::input::jpeg::exif(path).ok()??).ok();
    }
    if read && TIFF_STARTS.contains(&start) {
        let mut head = Vec::new();
        (&mut file).take(EXIF_PREFIX).read_to_end(&mut head).ok()?;
        // A truncated directory or value is an error, never a shorter answer.
        let whole = (head.len() as u64) < EXIF_PREFIX;
        match reader.read_raw(head) {
            Ok(exif) => return Some(exif),
            Err(_) if whole => return None,
            Err(_) => {}
        }
    }
    file.rewind().ok()?;
    reader
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()
}

/// The camera, capture time and exposure of the file at `path`, from its EXIF (read without
/// decoding the image) or a FITS file's header; empty when the file has neither.
pub fn read_identity(path: &Path) -> Identity {
    if crate::input::formats::is_fits_file(path) {
        return crate::input::fits::identity(path);
    }
    let Some(exif) = read_exif(path) else {
        return Identity::default();
    };
    let camera = ascii(&exif, exif::Tag::Make)
        .zip(ascii(&exif, exif::Tag::Model))
        .map(|(make, model)| {
            let serial = ascii(&exif, exif::Tag::BodySerialNumber)
                .or_else(|| ascii(&exif, exif::Tag(exif::Context::Tiff, DNG_CAMERA_SERIAL)));
            Camera::from_exif(&make, &model, serial)
        });
    let taken = [exif::Tag::DateTimeOriginal, exif::Tag::DateTime]
        .into_iter()
        .find_map(|tag| ascii(&exif, tag).and_then(|t| CaptureTime::parse(&t).ok()));
    Identity {
        camera,
        taken,
        exposure: read_exposure(&exif),
    }
}
