//! A JPEG file's structure, read without decoding it: its frame header (what discovery needs of
//! every file, from its first segments, where the decoder would read the whole file), and whether
//! it holds its whole image — its end-of-image marker after its first scan. The JPEG decoder fills
//! what a file cut short does not hold (an interrupted copy from a card, a download stopped
//! half-way) with grey, silently; such a frame would count a still grey patch in every statistic,
//! so it is refused, as libjpeg warns of it ("Premature end of JPEG file").

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read from the end of a file to find its end marker there, as most files have it: the
/// whole file is read only when they do not end with it (data appended after the image, as
/// phones append a motion clip, or an image cut short).
const TAIL_BYTES: u64 = 64 << 10;

/// The marker byte of the end of an image (after `0xFF`).
const EOI: u8 = 0xD9;
/// The marker byte of the start of a scan (after `0xFF`): entropy-coded data follows its header.
const SOS: u8 = 0xDA;
/// The two bytes a JPEG file starts with (its start-of-image marker).
pub const SOI: [u8; 2] = [0xFF, 0xD8];

/// Start-of-frame markers (after `0xFF`) whose header [`frame_header`] reads: baseline,
/// extended and progressive Huffman coding, what cameras and phones write. A file with another is
/// left to the decoder.
const READ_FRAMES: [u8; 3] = [0xC0, 0xC1, 0xC2];

/// Segments [`Segments`] walks past at most before it leaves a file to the decoder.
const MAX_SEGMENTS: usize = 256;

/// The marker byte of an APP1 segment, where EXIF lives.
const APP1: u8 = 0xE1;

/// How the content of an APP1 segment holding EXIF starts; the TIFF structure follows.
const EXIF_ID: &[u8; 6] = b"Exif\0\0";

/// What a JPEG's frame header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Colour components (1 grey; 3 YCbCr or RGB; 4 CMYK or YCCK).
    pub components: u8,
    /// Bits per sample.
    pub precision: u8,
}

/// The segments of a JPEG file from its start, each marker and content length read, the content
/// read or skipped (a seek, not a read) as the caller wants.
struct Segments {
    reader: BufReader<std::fs::File>,
    walked: usize,
}

impl Segments {
    /// The segments of the file at `path`; `None` when it does not start as a JPEG.
    fn open(path: &Path) -> std::io::Result<Option<Self>> {
        let mut reader = BufReader::new(std::fs::File::open(path)?);
        let mut soi = [0u8; 2];
        if reader.read_exact(&mut soi).is_err() || soi != SOI {
            return Ok(None);
        }
        Ok(Some(Segments { reader, walked: 0 }))
    }

    fn byte(&mut self) -> Option<u8> {
        let mut b = [0u8; 1];
        self.reader.read_exact(&mut b).ok().map(|_| b[0])
    }

    /// The next segment's marker and content length (0 for the end marker); `None` when the
    /// file ends, bytes out of place come first, or [`MAX_SEGMENTS`] were walked.
    fn next_segment(&mut self) -> Option<(u8, usize)> {
        loop {
            self.walked += 1;
            if self.walked > MAX_SEGMENTS || self.byte()? != 0xFF {
                return None;
            }
            let mut marker = 0xFF;
            while marker == 0xFF {
                marker = self.byte()?;
            }
            match marker {
                // Markers without a length: restart intervals, TEM.
                0xD0..=0xD7 | 0x01 => continue,
                EOI => return Some((EOI, 0)),
                _ => {
                    let mut length = [0u8; 2];
                    self.reader.read_exact(&mut length).ok()?;
                    let length = (u16::from_be_bytes(length) as usize).checked_sub(2)?;
                    return Some((marker, length));
                }
            }
        }
    }

    /// The current segment's content, `length` bytes; `None` when the file ends first.
    fn content(&mut self, length: usize) -> Option<Vec<u8>> {
        let mut content = vec![0u8; length];
        self.reader.read_exact(&mut content).ok()?;
        Some(content)
    }

    /// Skips the current segment's content, `length` bytes.
    fn skip(&mut self, length: usize) -> std::io::Result<()> {
        self.reader.seek_relative(length as i64)
    }
}

/// The frame header of the JPEG at `path`, found by walking its segments from the start: the
/// segments before it (EXIF, colour profiles, thumbnails) are skipped by their lengths, not read.
/// `None` when the file does not start as a JPEG, its frame is not baseline, extended or
/// progressive Huffman coded (what cameras and phones write), or its
/// headers are cut short or out of order: the decoder then reads it and says why.
pub fn frame_header(path: &Path) -> std::io::Result<Option<FrameHeader>> {
    let Some(mut segments) = Segments::open(path)? else {
        return Ok(None);
    };
    while let Some((marker, length)) = segments.next_segment() {
        if READ_FRAMES.contains(&marker) {
            let Some(f) = segments.content(length).filter(|f| f.len() >= 6) else {
                return Ok(None);
            };
            let header = FrameHeader {
                precision: f[0],
                height: u16::from_be_bytes([f[1], f[2]]) as u32,
                width: u16::from_be_bytes([f[3], f[4]]) as u32,
                components: f[5],
            };
            return Ok((header.height > 0).then_some(header));
        }
        // Another frame, a scan or the end before a frame header: the decoder's to judge.
        if matches!(marker, 0xC3..=0xCF | SOS | EOI) {
            return Ok(None);
        }
        segments.skip(length)?;
    }
    Ok(None)
}

/// The EXIF of the JPEG at `path` (the TIFF structure of its first APP1 segment that holds
/// EXIF), read by walking its segments up to its first scan; `None` when there is none before
/// it. A file without EXIF is not read to its end looking for one.
pub fn exif(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let Some(mut segments) = Segments::open(path)? else {
        return Ok(None);
    };
    while let Some((marker, length)) = segments.next_segment() {
        if matches!(marker, SOS | EOI) {
            return Ok(None);
        }
        if marker == APP1 && length >= EXIF_ID.len() {
            match segments.content(length) {
                Some(c) if c.starts_with(EXIF_ID) => return Ok(Some(c[EXIF_ID.len()..].to_vec())),
                Some(_) => continue,
                None => return Ok(None),
            }
        }
        segments.skip(length)?;
    }
    Ok(None)
}

/// True when the JPEG at `path` ends before its image does: no end-of-image marker after its
/// first scan.
pub fn is_cut_short(path: &Path) -> std::io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL_BYTES)))?;
    let mut tail = Vec::with_capacity(TAIL_BYTES.min(len) as usize);
    file.read_to_end(&mut tail)?;
    if tail.ends_with(&[0xFF, EOI]) {
        return Ok(false);
    }
    Ok(!holds_end(&std::fs::read(path)?))
}

/// True when `bytes`, a JPEG file, hold an end-of-image marker after the first scan's header
/// (segments before it, an EXIF thumbnail's markers among them, are skipped by their lengths).
/// Bytes that do not start as a JPEG are not judged here (true).
fn holds_end(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&SOI) {
        return true;
    }
    let length_at = |i: usize| {
        bytes
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
    };
    let mut i = SOI.len();
    loop {
        // A marker: 0xFF (fill bytes of 0xFF allowed), then its byte.
        while bytes.get(i).is_some_and(|&b| b != 0xFF) {
            i += 1;
        }
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = bytes.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            EOI => return true,
            // Markers without a length: restart intervals, TEM.
            0xD0..=0xD7 | 0x01 => {}
            _ => {
                let Some(length) = length_at(i) else {
                    return false;
                };
                i += length;
                if marker == SOS {
                    // Entropy-coded data stuffs every 0xFF with a zero byte: an 0xFF followed
                    // by the end marker's byte is the end.
                    return bytes
                        .get(i..)
                        .is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, EOI]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_header_is_found_past_the_segments_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        // SOI, an APP1 of 300 bytes (its content holds a frame marker a reader must not take),
        // then a baseline frame header: 8-bit, 1200 rows, 1600 columns, 3 components.
        let mut b = SOI.to_vec();
        b.extend_from_slice(&[0xFF, 0xE1, 0x01, 0x2C]);
        let mut app = vec![0u8; 298];
        app[10..18].copy_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00]);
        b.extend_from_slice(&app);
        let sof = b.len() + 2;
        b.extend_from_slice(&[
            0xFF, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x04, 0xB0, 0x06, 0x40, 0x03,
        ]);
        // Each component's id, sampling and table.
        b.extend_from_slice(&[1, 0x21, 0, 2, 0x11, 1, 3, 0x11, 1]);
        std::fs::write(&path, &b).unwrap();
        let header = FrameHeader {
            width: 1600,
            height: 1200,
            components: 3,
            precision: 8,
        };
        assert_eq!(frame_header(&path).unwrap(), Some(header));
        // Cut before the frame header ends, or with an arithmetic-coded frame: the decoder's.
        std::fs::write(&path, &b[..b.len() - 3]).unwrap();
        assert_eq!(frame_header(&path).unwrap(), None);
        b[sof] = 0xC9;
        std::fs::write(&path, &b).unwrap();
        assert_eq!(frame_header(&path).unwrap(), None);
    }

    /// A minimal JPEG's bytes: SOI, an APP1 segment holding a thumbnail's markers (its own end
    /// marker among them), a scan header and `data`, then the end marker when `ends`.
    fn jpeg(data: &[u8], ends: bool) -> Vec<u8> {
        let mut b = SOI.to_vec();
        let thumbnail = [0xFF, 0xD8, 0x12, 0x34, 0xFF, 0xD9];
        b.extend_from_slice(&[0xFF, 0xE1]);
        b.extend_from_slice(&((thumbnail.len() + 2) as u16).to_be_bytes());
        b.extend_from_slice(&thumbnail);
        b.extend_from_slice(&[0xFF, SOS, 0x00, 0x04, 0x01, 0x02]);
        b.extend_from_slice(data);
        if ends {
            b.extend_from_slice(&[0xFF, EOI]);
        }
        b
    }

    #[test]
    fn the_end_marker_after_the_scan_says_the_image_is_whole() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        assert!(holds_end(&jpeg(&data, true)));
        // Data appended after the image (a phone's motion clip) does not hide its end.
        let mut appended = jpeg(&data, true);
        appended.extend_from_slice(b"....ftypmp42 and more");
        assert!(holds_end(&appended));
    }

    #[test]
    fn a_thumbnail_s_end_marker_does_not_end_a_scan_cut_short() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56];
        assert!(!holds_end(&jpeg(&data, false)));
        // Cut inside the headers, or inside a segment's length.
        let whole = jpeg(&data, true);
        for cut in [3, 5, 9, 12] {
            assert!(!holds_end(&whole[..cut]), "cut at {cut}");
        }
    }
}
