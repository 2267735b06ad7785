//! Repaired DNG copies: the raw data left untouched, a DNG `FixBadPixelsList` opcode (ID 5) added
//! to the raw image's `OpcodeList1` (tag 51008), which Adobe's DNG SDK and rawspeed (darktable)
//! apply when they open the file. Opcodes already there are kept.
//!
//! The copy is the original file byte for byte, with a new raw IFD appended (the old entries,
//! whose values still point into the original bytes, plus the opcode list) and the one pointer to
//! the raw IFD moved to it.

use crate::input::Cfa;
use crate::report::list::DefectList;

/// TIFF and DNG tags by number (the `tiff` crate names only baseline TIFF tags); the simulated
/// camera's DNG writer uses them too.
pub mod tags {
    /// NewSubfileType: 0 for the main (raw) image.
    pub const NEW_SUBFILE_TYPE: u16 = 254;
    /// SubIFDs.
    pub const SUB_IFDS: u16 = 330;
    /// CFARepeatPatternDim.
    pub const CFA_REPEAT_PATTERN_DIM: u16 = 33421;
    /// CFAPattern.
    pub const CFA_PATTERN: u16 = 33422;
    /// DNGVersion.
    pub const DNG_VERSION: u16 = 50706;
    /// DNGBackwardVersion.
    pub const DNG_BACKWARD_VERSION: u16 = 50707;
    /// UniqueCameraModel.
    pub const UNIQUE_CAMERA_MODEL: u16 = 50708;
    /// CFAPlaneColor.
    pub const CFA_PLANE_COLOR: u16 = 50710;
    /// CFALayout.
    pub const CFA_LAYOUT: u16 = 50711;
    /// BlackLevelRepeatDim.
    pub const BLACK_LEVEL_REPEAT_DIM: u16 = 50713;
    /// BlackLevel.
    pub const BLACK_LEVEL: u16 = 50714;
    /// WhiteLevel.
    pub const WHITE_LEVEL: u16 = 50717;
    /// ColorMatrix1.
    pub const COLOR_MATRIX_1: u16 = 50721;
    /// AsShotNeutral.
    pub const AS_SHOT_NEUTRAL: u16 = 50728;
    /// CalibrationIlluminant1.
    pub const CALIBRATION_ILLUMINANT_1: u16 = 50778;
    /// ActiveArea: top, left, bottom, right.
    pub const ACTIVE_AREA: u16 = 50829;
    /// OpcodeList1: opcodes applied to the raw image as read from the file.
    pub const OPCODE_LIST_1: u16 = 51008;
}

/// DNG's opcode ID of `FixBadPixelsList`.
pub const FIX_BAD_PIXELS_LIST: u32 = 5;
/// The DNG version the opcode needs (1.3.0.0).
pub const OPCODE_MIN_VERSION: u32 = 0x0103_0000;
/// TIFF type UNDEFINED (bytes).
const TYPE_UNDEFINED: u16 = 7;
/// Bytes of one IFD entry.
const ENTRY: usize = 12;

/// A TIFF file's bytes and byte order.
struct Tiff<'a> {
    bytes: &'a [u8],
    little: bool,
}

/// One IFD entry: tag, type, count, and the 4-byte value-or-offset field's position.
#[derive(Clone, Copy)]
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    at: usize,
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Result<u16, String> {
        let b: [u8; 2] = self
            .bytes
            .get(at..at + 2)
            .and_then(|s| s.try_into().ok())
            .ok_or("truncated TIFF structure")?;
        Ok(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, at: usize) -> Result<u32, String> {
        let b: [u8; 4] = self
            .bytes
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or("truncated TIFF structure")?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn put_u32(&self, v: u32) -> [u8; 4] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }

    fn put_u16(&self, v: u16) -> [u8; 2] {
        if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        }
    }

    /// The entries of the IFD at `offset`.
    fn entries(&self, offset: usize) -> Result<Vec<Entry>, String> {
        let n = self.u16(offset)? as usize;
        (0..n)
            .map(|k| {
                let at = offset + 2 + k * ENTRY;
                Ok(Entry {
                    tag: self.u16(at)?,
                    kind: self.u16(at + 2)?,
                    count: self.u32(at + 4)?,
                    at: at + 8,
                })
            })
            .collect()
    }

    /// Bytes per value of a TIFF type.
    fn size(kind: u16) -> usize {
        match kind {
            3 | 8 => 2,
            4 | 9 | 11 | 13 => 4,
            5 | 10 | 12 => 8,
            _ => 1,
        }
    }

    /// Where an entry's values are: inline in its field, or at the offset the field holds.
    fn values_at(&self, e: &Entry) -> Result<usize, String> {
        if Self::size(e.kind) * e.count as usize <= 4 {
            Ok(e.at)
        } else {
            Ok(self.u32(e.at)? as usize)
        }
    }

    /// Integer value `k` of an entry (BYTE, SHORT or LONG).
    fn int(&self, e: &Entry, k: usize) -> Result<u32, String> {
        let base = self.values_at(e)?;
        match Self::size(e.kind) {
            1 => self
                .bytes
                .get(base + k)
                .map(|&b| b as u32)
                .ok_or_else(|| "truncated TIFF value".to_string()),
            2 => self.u16(base + 2 * k).map(u32::from),
            _ => self.u32(base + 4 * k),
        }
    }
}

/// Where the pointer to the raw IFD sits (to be moved) and where the IFD is.
struct RawIfd {
    pointer: usize,
    offset: usize,
}

/// Finds the raw image's IFD: IFD0 when its `NewSubFileType` is 0, else the sub-IFD that is.
fn find_raw_ifd(t: &Tiff) -> Result<RawIfd, String> {
    let ifd0 = t.u32(4)? as usize;
    let is_raw = |entries: &[Entry]| -> Result<bool, String> {
        match entries.iter().find(|e| e.tag == tags::NEW_SUBFILE_TYPE) {
            Some(e) => Ok(t.int(e, 0)? == 0),
            None => Ok(true),
        }
    };
    let entries = t.entries(ifd0)?;
    if let Some(sub) = entries.iter().find(|e| e.tag == tags::SUB_IFDS) {
        let base = t.values_at(sub)?;
        for k in 0..sub.count as usize {
            let offset = t.u32(base + 4 * k)? as usize;
            if is_raw(&t.entries(offset)?)? {
                return Ok(RawIfd {
                    pointer: base + 4 * k,
                    offset,
                });
            }
        }
    }
    if is_raw(&entries)? {
        return Ok(RawIfd {
            pointer: 4,
            offset: ifd0,
        });
    }
    Err("no raw image IFD (NewSubFileType 0) found".into())
}

/// The `FixBadPixelsList` opcode for `points` (`(row, col)` in the stored image), big-endian as
/// DNG opcode lists always are.
pub fn fix_bad_pixels_opcode(bayer_phase: u32, points: &[(u32, u32)]) -> Vec<u8> {
    let mut op = Vec::with_capacity(28 + 8 * points.len());
    let body = 12 + 8 * points.len() as u32;
    for v in [FIX_BAD_PIXELS_LIST, OPCODE_MIN_VERSION, 0, body] {
        op.extend_from_slice(&v.to_be_bytes());
    }
    for v in [bayer_phase, points.len() as u32, 0] {
        op.extend_from_slice(&v.to_be_bytes());
    }
    for &(row, col) in points {
        op.extend_from_slice(&row.to_be_bytes());
        op.extend_from_slice(&col.to_be_bytes());
    }
    op
}

/// DNG's BayerPhase codes, by the stored image's 2×2 pattern: 0 red at the top-left, 1 green on a
/// red row, 2 green on a blue row, 3 blue.
const BAYER_PHASES: [&str; 4] = ["RGGB", "GRBG", "GBRG", "BGGR"];

/// The BayerPhase of the stored image whose active area, `left` and `top` into it, starts with
/// the pattern `codes` (a DNG `CFAPattern`: 0 red, 1 green, 2 blue).
fn bayer_phase(codes: [u32; 4], left: u32, top: u32) -> Result<u32, String> {
    let letters: String = codes
        .iter()
        .map(|&c| ['R', 'G', 'B'].get(c as usize).copied().unwrap_or('?'))
        .collect();
    // Stored (x, y) is visible (x − left, y − top), of the same parity as (x + left, y + top).
    let stored = Cfa::parse(&letters)?.shifted(left, top).name();
    BAYER_PHASES
        .iter()
        .position(|p| *p == stored)
        .map(|p| p as u32)
        .ok_or_else(|| format!("{stored} is not a Bayer pattern"))
}

/// The bytes of a copy of the DNG `original` whose raw IFD's `OpcodeList1` also fixes every
/// pixel of `map` (visible-area coordinates, moved to the stored image by the `ActiveArea`).
pub fn with_bad_pixel_opcode(original: &[u8], map: &DefectList) -> Result<Vec<u8>, String> {
    let little = match original.get(0..2) {
        Some(b"II") => true,
        Some(b"MM") => false,
        _ => return Err("not a TIFF/DNG file".into()),
    };
    let t = Tiff {
        bytes: original,
        little,
    };
    let raw = find_raw_ifd(&t)?;
    let entries = t.entries(raw.offset)?;
    let (top, left) = match entries.iter().find(|e| e.tag == tags::ACTIVE_AREA) {
        Some(e) => (t.int(e, 0)?, t.int(e, 1)?),
        None => (0, 0),
    };
    // The stored image's pattern: a DNG's CFAPattern is given for its active area.
    let phase = match entries.iter().find(|e| e.tag == tags::CFA_PATTERN) {
        Some(e) if e.count == 4 => {
            let codes = [t.int(e, 0)?, t.int(e, 1)?, t.int(e, 2)?, t.int(e, 3)?];
            bayer_phase(codes, left, top)?
        }
        _ => return Err("not a 2x2 colour filter array".into()),
    };
    let points: Vec<(u32, u32)> = map.pixels.iter().map(|p| (p.y + top, p.x + left)).collect();
    let ours = fix_bad_pixels_opcode(phase, &points);
    // An opcode list already there keeps its opcodes, ours after them.
    let list = match entries.iter().find(|e| e.tag == tags::OPCODE_LIST_1) {
        Some(e) => {
            let at = t.values_at(e)?;
            let old = original
                .get(at..at + e.count as usize)
                .ok_or("truncated opcode list")?;
            let count = u32::from_be_bytes(
                old.get(0..4)
                    .ok_or("empty opcode list")?
                    .try_into()
                    .map_err(|_| "bad opcode list")?,
            );
            let mut list = (count + 1).to_be_bytes().to_vec();
            list.extend_from_slice(&old[4..]);
            list.extend_from_slice(&ours);
            list
        }
        None => {
            let mut list = 1u32.to_be_bytes().to_vec();
            list.extend_from_slice(&ours);
            list
        }
    };
    let mut out = original.to_vec();
    let pad = |out: &mut Vec<u8>| {
        if out.len() % 2 == 1 {
            out.push(0);
        }
    };
    pad(&mut out);
    let list_at = u32::try_from(out.len()).map_err(|_| "file too large for TIFF")?;
    out.extend_from_slice(&list);
    pad(&mut out);
    let ifd_at = u32::try_from(out.len()).map_err(|_| "file too large for TIFF")?;
    let mut kept: Vec<Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.tag != tags::OPCODE_LIST_1)
        .collect();
    let insert_at = kept
        .iter()
        .position(|e| e.tag > tags::OPCODE_LIST_1)
        .unwrap_or(kept.len());
    let count = kept.len() + 1;
    out.extend_from_slice(&t.put_u16(count as u16));
    let next = t.u32(raw.offset + 2 + entries.len() * ENTRY)?;
    let new_entry = {
        let mut e = Vec::with_capacity(ENTRY);
        e.extend_from_slice(&t.put_u16(tags::OPCODE_LIST_1));
        e.extend_from_slice(&t.put_u16(TYPE_UNDEFINED));
        e.extend_from_slice(&t.put_u32(list.len() as u32));
        e.extend_from_slice(&t.put_u32(list_at));
        e
    };
    kept.insert(
        insert_at,
        Entry {
            tag: tags::OPCODE_LIST_1,
            kind: TYPE_UNDEFINED,
            count: 0,
            at: usize::MAX,
        },
    );
    for e in &kept {
        if e.at == usize::MAX {
            out.extend_from_slice(&new_entry);
        } else {
            out.extend_from_slice(&original[e.at - 8..e.at + 4]);
        }
    }
    out.extend_from_slice(&t.put_u32(next));
    out[raw.pointer..raw.pointer + 4].copy_from_slice(&t.put_u32(ifd_at));
    Ok(out)
}

/// A `FixBadPixelsList` opcode read back from a DNG file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPixelOpcode {
    /// Its BayerPhase (0 red at the top-left, 1 green on a red row, 2 green on a blue row, 3 blue).
    pub bayer_phase: u32,
    /// Its points, `(row, col)` in the stored image.
    pub points: Vec<(u32, u32)>,
    /// How many opcodes the whole list holds.
    pub opcodes: u32,
}

/// The last `FixBadPixelsList` opcode in the raw IFD's `OpcodeList1` of `dng`.
pub fn read_bad_pixel_opcode(dng: &[u8]) -> Result<BadPixelOpcode, String> {
    let little = dng.get(0..2) == Some(b"II");
    let t = Tiff { bytes: dng, little };
    let raw = find_raw_ifd(&t)?;
    let entries = t.entries(raw.offset)?;
    let e = entries
        .iter()
        .find(|e| e.tag == tags::OPCODE_LIST_1)
        .ok_or("no OpcodeList1")?;
    let at = t.values_at(e)?;
    let list = dng
        .get(at..at + e.count as usize)
        .ok_or("truncated opcode list")?;
    let be = |k: usize| -> Result<u32, String> {
        list.get(k..k + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| "truncated opcode".to_string())
    };
    let count = be(0)?;
    let mut pos = 4;
    let mut last = None;
    for _ in 0..count {
        let (id, bytes) = (be(pos)?, be(pos + 12)? as usize);
        if id == FIX_BAD_PIXELS_LIST {
            let body = pos + 16;
            let (phase, n) = (be(body)?, be(body + 4)? as usize);
            let points = (0..n)
                .map(|k| Ok((be(body + 12 + 8 * k)?, be(body + 16 + 8 * k)?)))
                .collect::<Result<Vec<_>, String>>()?;
            last = Some((phase, points));
        }
        pos += 16 + bytes;
    }
    let (bayer_phase, points) = last.ok_or("no FixBadPixelsList opcode")?;
    Ok(BadPixelOpcode {
        bayer_phase,
        points,
        opcodes: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Colour, Shape};
    use crate::report::list::ListedPixel;

    /// A big-endian TIFF entry: tag, type, count, value or offset.
    fn be_entry(tag: u16, kind: u16, count: u32, value: u32) -> Vec<u8> {
        [
            &tag.to_be_bytes()[..],
            &kind.to_be_bytes(),
            &count.to_be_bytes(),
            &value.to_be_bytes(),
        ]
        .concat()
    }

    /// An opcode list holding one opcode someone else wrote (ID 9, `GainMap`-sized body of 4
    /// bytes), big-endian.
    fn their_opcodes() -> Vec<u8> {
        let mut list = 1u32.to_be_bytes().to_vec();
        for v in [9u32, OPCODE_MIN_VERSION, 1, 4, 0xDEAD_BEEF] {
            list.extend_from_slice(&v.to_be_bytes());
        }
        list
    }

    /// A big-endian DNG laid out as cameras and converters write them: IFD 0 a preview
    /// (NewSubFileType 1) pointing to the raw image's IFD through SubIFDs; the raw IFD has an
    /// ActiveArea of (top 2, left 3) into the stored image, a CFAPattern RGGB for that area, and
    /// an OpcodeList1 already. Returns the file and where the raw IFD starts.
    fn big_endian_dng() -> (Vec<u8>, usize) {
        const SHORT: u16 = 3;
        const LONG: u16 = 4;
        let opcodes = their_opcodes();
        // Header (8) | IFD 0 at 8: 2 entries | raw IFD at 40: 4 entries | values.
        let ifd0 = 8usize;
        let raw = ifd0 + 2 + 2 * ENTRY + 4;
        let values = raw + 2 + 4 * ENTRY + 4;
        let active_at = values;
        let opcodes_at = active_at + 8;
        let mut f = b"MM\0\x2a".to_vec();
        f.extend_from_slice(&(ifd0 as u32).to_be_bytes());
        f.extend_from_slice(&2u16.to_be_bytes());
        f.extend(be_entry(tags::NEW_SUBFILE_TYPE, LONG, 1, 1));
        f.extend(be_entry(tags::SUB_IFDS, LONG, 1, raw as u32));
        f.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(f.len(), raw);
        f.extend_from_slice(&4u16.to_be_bytes());
        f.extend(be_entry(tags::NEW_SUBFILE_TYPE, LONG, 1, 0));
        f.extend(be_entry(
            tags::CFA_PATTERN,
            1,
            4,
            u32::from_be_bytes([0, 1, 1, 2]),
        ));
        f.extend(be_entry(tags::ACTIVE_AREA, SHORT, 4, active_at as u32));
        f.extend(be_entry(
            tags::OPCODE_LIST_1,
            TYPE_UNDEFINED,
            opcodes.len() as u32,
            opcodes_at as u32,
        ));
        f.extend_from_slice(&0u32.to_be_bytes());
        assert_eq!(f.len(), values);
        for v in [2u16, 3, 62, 83] {
            f.extend_from_slice(&v.to_be_bytes());
        }
        f.extend(opcodes);
        (f, raw)
    }

    #[test]
    fn a_big_endian_dng_with_its_raw_image_in_a_sub_ifd_keeps_its_opcodes() {
        let (original, old_raw) = big_endian_dng();
        let shape = Shape::raw(80, 60, Cfa::parse("RGGB").unwrap()).unwrap();
        let pixel = |x, y| ListedPixel {
            defect: 1,
            x,
            y,
            channel: 0,
            colour: Colour::Red,
            kind: crate::detect::Kind::Hot,
            score: 9.0,
            dark: None,
        };
        let map = DefectList {
            shape,
            camera: None,
            pixels: vec![pixel(10, 4), pixel(0, 0)],
        };
        let copy = with_bad_pixel_opcode(&original, &map).unwrap();
        // Read by hand, big-endian: IFD 0's SubIFDs entry now points to a new raw IFD, and every
        // other byte of the original is kept.
        let be16 = |at: usize| u16::from_be_bytes([copy[at], copy[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes(copy[at..at + 4].try_into().unwrap());
        let sub_ifds = 8 + 2 + ENTRY;
        let pointer = sub_ifds + 8..sub_ifds + 12;
        for (k, (a, b)) in original.iter().zip(&copy).enumerate() {
            if !pointer.contains(&k) {
                assert_eq!(a, b, "byte {k} of the original");
            }
        }
        assert_eq!(be16(sub_ifds), tags::SUB_IFDS);
        let raw = be32(sub_ifds + 8) as usize;
        assert!(raw >= original.len() && raw != old_raw);
        let n = be16(raw) as usize;
        let tags: Vec<u16> = (0..n).map(|k| be16(raw + 2 + k * ENTRY)).collect();
        assert_eq!(
            tags,
            [
                tags::NEW_SUBFILE_TYPE,
                tags::CFA_PATTERN,
                tags::ACTIVE_AREA,
                tags::OPCODE_LIST_1
            ],
            "the old entries, in order, and one opcode list"
        );
        let list_entry = raw + 2 + 3 * ENTRY;
        assert_eq!(be16(list_entry + 2), TYPE_UNDEFINED);
        let (count, at) = (be32(list_entry + 4) as usize, be32(list_entry + 8) as usize);
        let list = &copy[at..at + count];
        assert_eq!(&list[..4], &2u32.to_be_bytes(), "two opcodes");
        assert_eq!(
            &list[4..24],
            &their_opcodes()[4..],
            "theirs first, unchanged"
        );
        let ours = &list[24..];
        let word = |k: usize| u32::from_be_bytes(ours[4 * k..4 * k + 4].try_into().unwrap());
        assert_eq!(
            (word(0), word(1), word(3)),
            (FIX_BAD_PIXELS_LIST, OPCODE_MIN_VERSION, 12 + 8 * 2)
        );
        // The stored image starts 2 rows (even) and 3 columns (odd) before the RGGB active area:
        // its top-left is a green on a red row, BayerPhase 1.
        assert_eq!(word(4), 1);
        assert_eq!((word(5), word(6)), (2, 0), "two points, no rectangle");
        assert_eq!(
            (word(7), word(8)),
            (4 + 2, 10 + 3),
            "row, col in the stored image"
        );
        assert_eq!((word(9), word(10)), (2, 3));
        let read = read_bad_pixel_opcode(&copy).unwrap();
        assert_eq!(read.points, [(6, 13), (2, 3)]);
        assert_eq!(read.opcodes, 2);
    }

    #[test]
    fn the_bayer_phase_is_the_stored_images() {
        let rggb = [0, 1, 1, 2];
        assert_eq!(bayer_phase(rggb, 0, 0), Ok(0));
        assert_eq!(bayer_phase(rggb, 8, 4), Ok(0));
        // One column of margin: the stored image starts on the green before the red.
        assert_eq!(bayer_phase(rggb, 1, 0), Ok(1));
        assert_eq!(bayer_phase(rggb, 0, 1), Ok(2));
        assert_eq!(bayer_phase(rggb, 1, 1), Ok(3));
        assert_eq!(bayer_phase([2, 1, 1, 0], 1, 1), Ok(0));
        assert!(bayer_phase([0, 0, 1, 2], 0, 0).is_err());
    }
}
