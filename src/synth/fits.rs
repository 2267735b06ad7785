//! FITS files as astronomy cameras write them, for tests: a 16-bit plane (unsigned samples stored
//! signed with `BZERO` 32768), big-endian, with the header cards a caller gives.

use std::io::Write;
use std::path::Path;

/// FITS headers and data come in blocks of this many bytes.
const BLOCK: usize = 2880;

/// One header card's text: `KEYWORD = value`, padded to 80 characters. `value` is written as
/// given: quote a string (`'RGGB'`).
fn card(keyword: &str, value: &str) -> String {
    let text = if keyword == "END" {
        "END".to_string()
    } else {
        format!("{keyword:<8}= {value:>20}")
    };
    format!("{text:<80}")
}

/// Writes `samples` (`width` × `height`, row by row as stored) to a FITS file at `path`, with
/// `cards` (keyword, value as FITS writes it) after the mandatory ones.
pub fn write_fits(
    path: &Path,
    width: u32,
    height: u32,
    samples: &[u16],
    cards: &[(&str, String)],
) -> std::io::Result<()> {
    let mut header = String::new();
    for (k, v) in [
        ("SIMPLE", "T".to_string()),
        ("BITPIX", "16".into()),
        ("NAXIS", "2".into()),
        ("NAXIS1", width.to_string()),
        ("NAXIS2", height.to_string()),
        ("BZERO", "32768".into()),
        ("BSCALE", "1".into()),
    ]
    .iter()
    .chain(cards)
    {
        header += &card(k, v);
    }
    header += &card("END", "");
    let mut bytes = header.into_bytes();
    bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, b' ');
    for &s in samples {
        bytes.extend_from_slice(&((s as i32 - 32768) as i16).to_be_bytes());
    }
    bytes.resize(bytes.len().div_ceil(BLOCK) * BLOCK, 0);
    std::fs::File::create(path)?.write_all(&bytes)
}
