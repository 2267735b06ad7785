//! Which files are which, by name: the extensions of the images, camera RAW files and FITS files
//! a scan reads, compared without case.

use std::path::Path;

/// Extensions (lower case) of the image files a directory walk picks up.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "tif", "tiff", "webp"];

/// Extensions (lower case) of camera RAW files: read as RAW, and picked up by directory walks.
pub const RAW_EXTENSIONS: &[&str] = &[
    "3fr", "ari", "arw", "cr2", "cr3", "crw", "dcr", "dcs", "dng", "erf", "iiq", "kdc", "mef",
    "mos", "mrw", "nef", "nrw", "orf", "pef", "raf", "rw2", "rwl", "sr2", "srf", "srw",
];

fn extension_in(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| list.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// True when `path` has one of [`RAW_EXTENSIONS`], compared case-insensitively.
pub fn is_raw_file(path: &Path) -> bool {
    extension_in(path, RAW_EXTENSIONS)
}

/// Extensions (lower case) of JPEG files.
pub const JPEG_EXTENSIONS: &[&str] = &["jpg", "jpeg"];

/// True when `path` has one of [`JPEG_EXTENSIONS`], compared case-insensitively.
pub fn is_jpeg_file(path: &Path) -> bool {
    extension_in(path, JPEG_EXTENSIONS)
}

/// True when `path` has one of [`FITS_EXTENSIONS`](super::fits::FITS_EXTENSIONS), compared
/// case-insensitively.
pub fn is_fits_file(path: &Path) -> bool {
    extension_in(path, super::fits::FITS_EXTENSIONS)
}

/// True when `path` has one of [`IMAGE_EXTENSIONS`], [`RAW_EXTENSIONS`] or the FITS extensions,
/// compared case-insensitively: the files a directory walk picks up.
pub fn has_image_extension(path: &Path) -> bool {
    extension_in(path, IMAGE_EXTENSIONS) || is_raw_file(path) || is_fits_file(path)
}

/// Extensions (lower case) of photo formats a scan does not read, with the format's name: phones
/// and some cameras save HEIF; a folder walk lists such files as skipped, saying why, instead of
/// passing them over in silence.
pub const UNREAD_PHOTO_EXTENSIONS: &[(&str, &str)] = &[
    ("heic", "HEIF"),
    ("heif", "HEIF"),
    ("hif", "HEIF"),
    ("avif", "AVIF"),
    ("jxl", "JPEG XL"),
];

/// Why a file with one of [`UNREAD_PHOTO_EXTENSIONS`] is not read; `None` for other files.
pub fn unread_reason(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let (_, name) = UNREAD_PHOTO_EXTENSIONS.iter().find(|(e, _)| *e == ext)?;
    Some(format!(
        "a {name} image, a format not read: export the photos as JPEG or TIFF, or scan the camera's RAW files"
    ))
}

/// One extension per decoder a scan chooses by a file's name: what the fuzz target and the
/// crafted-file tests name their inputs with.
pub const PROBE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "tif", "webp", "dng", "cr2", "nef", "arw", "fits",
];
