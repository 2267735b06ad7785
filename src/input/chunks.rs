//! Containers walked by seeking from chunk header to chunk header, their data not read: the EXIF
//! of PNG and WebP files (the EXIF reader reads every chunk before the EXIF one — all of a file's
//! image data where the EXIF follows it, as WebP's container puts it, or where there is none — at
//! discovery, for every file), and where an ISO base media file (Canon's CR3) ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How a PNG file starts.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Chunks walked past at most before a file is given up on (a PNG's image data comes in many).
const MAX_CHUNKS: usize = 1 << 16;

/// The payload of the EXIF chunk (a TIFF structure) of `file`, whose chunks start at byte
/// `start` and are laid out as `container` says; `None` when the walk ends without one.
fn walk(file: &mut File, start: u64, container: &Walk) -> std::io::Result<Option<Vec<u8>>> {
    let len = file.metadata()?.len();
    let mut at = start;
    for _ in 0..MAX_CHUNKS {
        let mut header = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        if file.read_exact(&mut header).is_err() {
            return Ok(None);
        }
        let (kind, size) = (container.chunk)(&header);
        let data = at + header.len() as u64;
        if kind == container.exif {
            if data + size > len {
                return Ok(None);
            }
            let mut payload = vec![0u8; size as usize];
            file.read_exact(&mut payload)?;
            return Ok(Some(payload));
        }
        if container.end.is_some_and(|end| kind == end) {
            return Ok(None);
        }
        at = data + size + (container.after)(size);
    }
    Ok(None)
}

/// How one container's chunks are walked.
struct Walk {
    /// A chunk's type and data length from its 8-byte header.
    chunk: fn(&[u8; 8]) -> ([u8; 4], u64),
    /// The EXIF chunk's type.
    exif: [u8; 4],
    /// The type of the chunk that ends the file, if the container has one.
    end: Option<[u8; 4]>,
    /// Bytes after a chunk's data of `size` bytes before the next header.
    after: fn(u64) -> u64,
}

/// PNG: length (big-endian), type, data, CRC.
const PNG: Walk = Walk {
    chunk: |h| {
        (
            [h[4], h[5], h[6], h[7]],
            u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64,
        )
    },
    exif: *b"eXIf",
    end: Some(*b"IEND"),
    after: |_| 4,
};

/// WebP (RIFF): type, length (little-endian), data padded to an even length.
const WEBP: Walk = Walk {
    chunk: |h| {
        (
            [h[0], h[1], h[2], h[3]],
            u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as u64,
        )
    },
    exif: *b"EXIF",
    end: None,
    after: |size| size % 2,
};

/// The EXIF of the PNG or WebP file at `path`; `None` when it is neither or has none.
pub fn exif(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let mut file = File::open(path)?;
    let mut start = [0u8; 12];
    if file.read_exact(&mut start).is_err() {
        return Ok(None);
    }
    if start.starts_with(&PNG_SIGNATURE) {
        walk(&mut file, PNG_SIGNATURE.len() as u64, &PNG)
    } else if start.starts_with(b"RIFF") && &start[8..12] == b"WEBP" {
        walk(&mut file, start.len() as u64, &WEBP)
    } else {
        Ok(None)
    }
}

/// The type of the first box of an ISO base media file.
const FTYP: [u8; 4] = *b"ftyp";

/// Where the top-level boxes of the ISO base media file at `path` (Canon's CR3) say it ends:
/// past its length when it is cut short. `None` when it is not one (its first box is not
/// `ftyp`) or a box's size is malformed (the decoder's to judge).
pub fn bmff_end(path: &Path) -> std::io::Result<Option<u64>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut at = 0u64;
    for box_index in 0..MAX_CHUNKS {
        if at >= len {
            return Ok(Some(at));
        }
        let mut header = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        if file.read_exact(&mut header).is_err() {
            // Cut within a box's header.
            return Ok(Some(at + header.len() as u64));
        }
        if box_index == 0 && header[4..] != FTYP {
            return Ok(None);
        }
        let size = match u32::from_be_bytes([header[0], header[1], header[2], header[3]]) {
            // The last box, to the end of the file.
            0 => return Ok(Some(len)),
            // A 64-bit size follows the type.
            1 => {
                let mut large = [0u8; 8];
                if file.read_exact(&mut large).is_err() {
                    return Ok(Some(at + 16));
                }
                u64::from_be_bytes(large)
            }
            n => n as u64,
        };
        if size < header.len() as u64 {
            return Ok(None);
        }
        at = at.saturating_add(size);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG's bytes: its signature, chunks of `(type, data)` with a CRC of zeros.
    fn png(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut b = PNG_SIGNATURE.to_vec();
        for (kind, data) in chunks {
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            b.extend_from_slice(*kind);
            b.extend_from_slice(data);
            b.extend_from_slice(&[0; 4]);
        }
        b
    }

    #[test]
    fn the_exif_chunk_is_found_past_the_image_data_and_not_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let exif_data = b"MM\0*\0\0\0\x08 a TIFF".to_vec();
        let image = vec![7u8; 100_000];
        let chunks = [
            (b"IHDR", vec![0; 13]),
            (b"IDAT", image.clone()),
            (b"IDAT", image.clone()),
            (b"eXIf", exif_data.clone()),
            (b"IEND", vec![]),
        ];
        std::fs::write(&path, png(&chunks)).unwrap();
        assert_eq!(exif(&path).unwrap(), Some(exif_data.clone()));
        // After the end chunk, or cut short: none.
        let mut late = chunks.to_vec();
        late.swap(3, 4);
        std::fs::write(&path, png(&late)).unwrap();
        assert_eq!(exif(&path).unwrap(), None);
        let whole = png(&chunks);
        std::fs::write(&path, &whole[..whole.len() - 20]).unwrap();
        assert_eq!(exif(&path).unwrap(), None);

        // WebP: an odd-sized chunk padded to even before the EXIF one.
        let mut w = b"RIFF\0\0\0\0WEBP".to_vec();
        for (kind, data) in [(b"VP8L", vec![1u8; 1001]), (b"EXIF", exif_data.clone())] {
            w.extend_from_slice(kind);
            w.extend_from_slice(&(data.len() as u32).to_le_bytes());
            w.extend_from_slice(&data);
            if data.len() % 2 == 1 {
                w.push(0);
            }
        }
        let path = dir.path().join("a.webp");
        std::fs::write(&path, &w).unwrap();
        assert_eq!(exif(&path).unwrap(), Some(exif_data));
    }

    #[test]
    fn an_iso_media_file_ends_where_its_boxes_say() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.cr3");
        let boxed = |kind: &[u8; 4], data: usize| {
            let mut b = ((data + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(kind);
            b.resize(data + 8, 0);
            b
        };
        let mut file = boxed(b"ftyp", 16);
        file.extend(boxed(b"moov", 1000));
        // A 64-bit size: the image data.
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        file.extend_from_slice(&(16u64 + 50_000).to_be_bytes());
        file.resize(file.len() + 50_000, 7);
        std::fs::write(&path, &file).unwrap();
        assert_eq!(bmff_end(&path).unwrap(), Some(file.len() as u64));
        for cut in [file.len() - 1, 24 + 1008 + 10, 30] {
            std::fs::write(&path, &file[..cut]).unwrap();
            let end = bmff_end(&path).unwrap().unwrap();
            assert!(end > cut as u64, "cut at {cut}: ends at {end}");
        }
        std::fs::write(&path, b"\0\0\0\x10moov and more").unwrap();
        assert_eq!(bmff_end(&path).unwrap(), None);
    }
}
