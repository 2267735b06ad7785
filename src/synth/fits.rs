//! FITS files as astronomy cameras write them, for tests: a 16-bit plane (unsigned samples stored
//! signed with `BZERO` 32768), big-endian, with the header cards a caller gives.

use std::io::Write;
use std::path::Path;

use crate::input::fits::{header_bytes, BLOCK, UNSIGNED_16_ZERO};

/// Writes `samples` (`width` × `height`, row by row as stored) to a FITS file at `path`, with
/// `cards` (keyword, value as FITS writes it: quote a string, `'RGGB'`) after the mandatory ones.
pub fn write_fits(
    path: &Path,
    width: u32,
    height: u32,
    samples: &[u16],
    cards: &[(&str, String)],
) -> std::io::Result<()> {
    let zero = UNSIGNED_16_ZERO as i32;
    let mandatory = [
        ("SIMPLE", "T".to_string()),
        ("BITPIX", "16".into()),
        ("NAXIS", "2".into()),
        ("NAXIS1", width.to_string()),
        ("NAXIS2", height.to_string()),
        ("BZERO", zero.to_string()),
        ("BSCALE", "1".into()),
    ];
    let all: Vec<(&str, String)> = mandatory.iter().chain(cards).cloned().collect();
    let mut bytes = header_bytes(&all);
    for &s in samples {
        bytes.extend_from_slice(&((s as i32 - zero) as i16).to_be_bytes());
    }
    bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, 0);
    std::fs::File::create(path)?.write_all(&bytes)
}
