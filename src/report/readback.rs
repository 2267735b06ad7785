//! What a report or library document read back must hold before anything is sized by it: a file
//! people mail, edit and keep for years is untrusted input, so its size, version, shape, defect
//! and pixel counts and coordinates are checked first, and a wrong one is refused in one line
//! naming the field (and the defect).

use std::io::Read;
use std::path::Path;

use crate::input::discover::DEFAULT_MAX_MEGAPIXELS;
use crate::input::Shape;

/// A report or library document larger than this is refused before it is read: a scan of a
/// 100 MP sensor with 100,000 defects writes a few tens of MB.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// The limits a report read back is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReadLimits {
    /// The largest frame a report's shape may describe, in megapixels (`--max-megapixels`).
    pub max_megapixels: f64,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
        }
    }
}

impl ReadLimits {
    /// Refuses a shape larger than [`ReadLimits::max_megapixels`].
    pub fn check_shape(&self, shape: Shape) -> Result<(), String> {
        let megapixels = shape.pixels() as f64 / 1e6;
        if megapixels <= self.max_megapixels {
            return Ok(());
        }
        Err(format!(
            "shape: {}x{} pixels ({megapixels:.0} MP), more than the limit of {} MP (--max-megapixels)",
            shape.width, shape.height, self.max_megapixels
        ))
    }
}

/// Reads the bytes of a report, library document or list at `path` (`-`: standard input),
/// refusing one over [`MAX_REPORT_BYTES`] before reading it.
pub fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    let name = path.display();
    let too_large = |bytes: u64| {
        format!("{name}: {bytes} bytes, more than a report holds ({MAX_REPORT_BYTES} at most)")
    };
    let cannot = |e: std::io::Error| format!("{name}: cannot read: {e}");
    let reader: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let file = std::fs::File::open(path).map_err(cannot)?;
        let len = file.metadata().map_err(cannot)?.len();
        if len > MAX_REPORT_BYTES {
            return Err(too_large(len));
        }
        Box::new(file)
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_capped`] as text.
pub fn read_report_text(path: &Path) -> Result<String, String> {
    String::from_utf8(read_capped(path)?).map_err(|_| {
        format!(
            "{}: not a hotpixels JSON report: not UTF-8 text",
            path.display()
        )
    })
}

/// Refuses a document whose `version` is not `expected` (missing, another number, not a number).
pub fn check_version(doc: &serde_json::Value, expected: u32, what: &str) -> Result<(), String> {
    match doc.get("version") {
        Some(v) if v.as_u64() == Some(expected as u64) => Ok(()),
        Some(v) => Err(format!(
            "version: {v}, not a {what} this hotpixels reads (version {expected})"
        )),
        None => Err(format!("version: missing, not a {what}")),
    }
}

/// Refuses a defect (number `n`, 1-based) whose channel, position or pixels do not fit `shape`,
/// or that holds more pixels than the frame.
pub fn check_defect(
    n: usize,
    shape: Shape,
    channel: u32,
    at: Option<[u32; 2]>,
    pixels: &[[u32; 2]],
) -> Result<(), String> {
    let wrong = |why: String| format!("defect {n}: {why}");
    if channel >= shape.channels {
        return Err(wrong(format!(
            "channel {channel}, but the shape has {}",
            shape.channels
        )));
    }
    if pixels.len() > shape.pixels() {
        return Err(wrong(format!(
            "{} pixels, more than the frame's {}",
            pixels.len(),
            shape.pixels()
        )));
    }
    for &[x, y] in at.iter().chain(pixels) {
        if x >= shape.width || y >= shape.height {
            return Err(wrong(format!(
                "pixel ({x}, {y}) outside the {}x{} frame",
                shape.width, shape.height
            )));
        }
    }
    Ok(())
}

/// Refuses an image of `pixels` pixels at `bytes_per_pixel` when it needs more memory than is
/// available (not checked when that is unknown).
pub fn check_memory(what: &str, pixels: usize, bytes_per_pixel: u64) -> Result<(), String> {
    let needed = pixels as u64 * bytes_per_pixel;
    match crate::mem::available_bytes() {
        Some(available) if needed > available => Err(format!(
            "{what} needs {}, more than the {} available",
            crate::mem::describe_bytes(needed),
            crate::mem::describe_bytes(available)
        )),
        _ => Ok(()),
    }
}
