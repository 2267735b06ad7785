//! Camera RAW files (through `rawler`, LGPL-2.1, behind the `raw` feature): the photosites of the
//! visible area as one 16-bit plane, with the colour filter pattern, the levels and the margins.
//!
//! Coordinates are LibRaw's and dcraw's: the stored raw frame with the masked left and top
//! margins removed (the decoder's active area), unrotated.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use rawler::decoders::RawDecodeParams;
use rawler::formats::tiff::reader::TiffReader;
use rawler::formats::tiff::GenericTiffReader;
use rawler::rawimage::{RawImage, RawPhotometricInterpretation};
use rawler::rawsource::RawSource;
use rawler::tags::{DngTag, ExifTag, TiffCommonTag};
use rawler::RawImageData;

use super::error::{one_line, DecodeError};
use super::levels::{tile_position, BAYER_PERIOD};
use super::{Cfa, Encoding, Frame, FramePool, Levels, RawInfo, Samples, Shape};

/// The side of an X-Trans sensor's repeating colour tile.
const XTRANS_PERIOD: usize = 6;

/// What a RAW header says: the frame shape, the camera and levels, and where the visible area is.
struct Layout {
    shape: Shape,
    info: RawInfo,
}

/// How much of a RAW file a header probe reads first: the metadata of most formats sits near the
/// start, so a scan of thousands of files does not read each one twice. A probe that needs more
/// reads the whole file.
const PROBE_PREFIX: u64 = 1 << 20;

/// Reads up to `limit` bytes of `path` (all of it for `None`). The file is read into memory rather
/// than mapped, so a file truncated or replaced while it is read is an error, not a crash.
fn read_raw(path: &Path, limit: Option<u64>) -> Result<Vec<u8>, DecodeError> {
    let io = |e: std::io::Error| DecodeError::io(path, e);
    match limit {
        None => std::fs::read(path).map_err(io),
        Some(n) => {
            let file = std::fs::File::open(path).map_err(io)?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::Read::take(file, n), &mut bytes)
                .map_err(io)?;
            Ok(bytes)
        }
    }
}

/// How a JPEG file with an EXIF segment starts (start of image, then APP1). rawler reads such a
/// file as a Konica Minolta RAW, and version 0.8 loops forever on one whose EXIF segment it cannot
/// read, so these bytes never reach it: such files are refused (the Konica Minolta JPEG-wrapped
/// RAW files with them).
const JPEG_WITH_EXIF: [u8; 4] = [0xFF, 0xD8, 0xFF, 0xE1];

/// The most image directories (IFDs) the main chain of a TIFF-based RAW file may hold: cameras
/// write a handful. rawler 0.8 follows the chain without looking for a loop, so a file whose chain
/// points back into itself makes it run forever, holding more memory at every turn; the chain is
/// first read here with this cap, by rawler's own reader.
const MAX_IFD_CHAIN: usize = 64;

/// True when `bytes` are a TIFF structure whose chain of image directories runs beyond
/// [`MAX_IFD_CHAIN`] (a loop, in any file a camera wrote).
fn endless_ifd_chain(bytes: &[u8]) -> bool {
    GenericTiffReader::new_with_buffer(bytes, 0, 0, Some(MAX_IFD_CHAIN))
        .is_ok_and(|tiff| tiff.chains().len() > MAX_IFD_CHAIN)
}

/// Decodes `bytes` (only the metadata when `dummy`).
fn decode_bytes(path: &Path, bytes: Vec<u8>, dummy: bool) -> Result<RawImage, DecodeError> {
    if bytes.starts_with(&JPEG_WITH_EXIF) {
        return Err(DecodeError::format(
            path,
            "a JPEG file, not a camera RAW file (give it a .jpg name to scan it as a JPEG)",
        ));
    }
    if endless_ifd_chain(&bytes) {
        return Err(DecodeError::format(
            path,
            format!("not a readable camera RAW file: its chain of TIFF image directories runs beyond {MAX_IFD_CHAIN} (it loops)"),
        ));
    }
    let source = RawSource::new_from_shared_vec(Arc::new(bytes));
    let params = RawDecodeParams::default();
    let image = if dummy {
        rawler::get_decoder(&source).and_then(|d| d.raw_image(&source, &params, true))
    } else {
        rawler::decode(&source, &params)
    };
    image.map_err(|e| {
        DecodeError::format(
            path,
            format!("not a readable camera RAW file: {}", one_line(e)),
        )
    })
}

/// The metadata of a RAW file: from its first [`PROBE_PREFIX`] bytes (`prefix`) when they hold
/// it, else from the whole file.
fn probe_raw(path: &Path, prefix: Vec<u8>) -> Result<RawImage, DecodeError> {
    let whole = (prefix.len() as u64) < PROBE_PREFIX;
    match decode_bytes(path, prefix, true) {
        Ok(image) => Ok(image),
        Err(e) if whole => Err(e),
        Err(_) => decode_bytes(path, read_raw(path, None)?, true),
    }
}

/// The shape, camera, levels and visible area of a decoded (or header-only) RAW image; a
/// sensor this tool cannot read photosite by photosite is refused with the reason.
fn layout(path: &Path, image: &RawImage) -> Result<Layout, DecodeError> {
    let refuse = |reason: String| DecodeError::format(path, reason);
    let config = match &image.photometric {
        RawPhotometricInterpretation::Cfa(config) if image.cpp == 1 => config,
        _ => {
            return Err(refuse(format!(
                "a RAW file with {} samples per pixel and no colour filter array (already \
                 demosaicked, or a Foveon sensor) is not supported",
                image.cpp
            )))
        }
    };
    let cfa = &config.cfa;
    if cfa.width == XTRANS_PERIOD && cfa.height == XTRANS_PERIOD {
        return Err(refuse(
            "X-Trans sensors (6x6 colour filter) are not supported yet; only Bayer (2x2)".into(),
        ));
    }
    if cfa.width != BAYER_PERIOD as usize || cfa.height != BAYER_PERIOD as usize {
        return Err(refuse(format!(
            "a {}x{} colour filter pattern ({}) is not supported; only Bayer (2x2)",
            cfa.width, cfa.height, cfa.name
        )));
    }
    let (width, height) = (image.width, image.height);
    let (left, top, w, h) = match image.active_area {
        Some(a) if a.p.x + a.d.w <= width && a.p.y + a.d.h <= height && a.d.w > 0 && a.d.h > 0 => {
            (a.p.x, a.p.y, a.d.w, a.d.h)
        }
        _ => (0, 0, width, height),
    };
    let pattern = Cfa::parse(&cfa.shift(left, top).name).map_err(refuse)?;
    let too_big = || refuse(format!("{width}x{height} photosites is too large"));
    let dim = |v: usize| u32::try_from(v).map_err(|_| too_big());
    let shape = Shape::raw(dim(w)?, dim(h)?, pattern).map_err(refuse)?;
    Ok(Layout {
        shape,
        info: RawInfo {
            make: image.clean_make.clone(),
            model: image.clean_model.clone(),
            visible_origin: [dim(left)?, dim(top)?],
            raw_size: [dim(width)?, dim(height)?],
            levels: levels(image, left, top),
        },
    })
}

/// The black level of each position of the visible area's 2×2 tile and the white level.
fn levels(image: &RawImage, left: usize, top: usize) -> Levels {
    let b = &image.blacklevel;
    let black = std::array::from_fn(|p| {
        let (px, py) = (p % 2, p / 2);
        debug_assert_eq!(tile_position(px as u32, py as u32), p);
        let (bw, bh) = (b.width.max(1), b.height.max(1));
        let at = ((top + py) % bh) * bw + (left + px) % bw;
        let cpp = b.cpp.max(1);
        b.levels
            .get(at * cpp)
            .or(b.levels.first())
            .map(|r| r.as_f32())
            .unwrap_or(0.0)
    });
    let white = image
        .whitelevel
        .0
        .first()
        .copied()
        .unwrap_or(u16::MAX as u32) as f32;
    Levels {
        black,
        white,
        encoding: Encoding::Linear,
        codec_mixed: false,
    }
}

/// Reads a RAW file's header: the shape of its visible area and its [`RawInfo`]. A DNG whose
/// layout matches one already read in this process (its raw directory's size, samples, colour
/// filter, levels and areas, and its camera) is not decoded again.
pub fn probe(path: &Path) -> Result<(Shape, RawInfo), DecodeError> {
    let prefix = read_raw(path, Some(PROBE_PREFIX))?;
    let dng = dng_layout(&prefix);
    let data_end = match &dng {
        Some(layout) => Some(layout.data_end),
        None => match tiff_data_end(&prefix) {
            Some(end) => Some(end),
            None => super::chunks::bmff_end(path).map_err(|e| DecodeError::io(path, e))?,
        },
    };
    if let Some(data_end) = data_end {
        let size = std::fs::metadata(path)
            .map_err(|e| DecodeError::io(path, e))?
            .len();
        if data_end > size {
            return Err(DecodeError::format(
                path,
                format!("not a readable camera RAW file: its image data runs to byte {data_end}, past the end of the file ({size} bytes): it is cut short"),
            ));
        }
    }
    if let Some(known) = dng
        .as_ref()
        .and_then(|d| known_layouts().get(&d.key).cloned())
    {
        return Ok(known);
    }
    let image = probe_raw(path, prefix)?;
    let Layout { shape, info } = layout(path, &image)?;
    if let Some(DngLayout { key, .. }) = dng {
        known_layouts().insert(key, (shape, info.clone()));
    }
    Ok((shape, info))
}

/// Tags of a DNG's raw image directory that decide how its photosites are laid out: size,
/// samples, compression, tiling, colour filter, linearisation, levels, scale, crop, active and
/// masked areas.
const DNG_LAYOUT_TAGS: [u16; 27] = [
    TiffCommonTag::NewSubFileType as u16,
    TiffCommonTag::ImageWidth as u16,
    TiffCommonTag::ImageLength as u16,
    TiffCommonTag::BitsPerSample as u16,
    TiffCommonTag::Compression as u16,
    TiffCommonTag::PhotometricInt as u16,
    TiffCommonTag::SamplesPerPixel as u16,
    TiffCommonTag::RowsPerStrip as u16,
    ExifTag::PlanarConfiguration as u16,
    TiffCommonTag::TileWidth as u16,
    TiffCommonTag::TileLength as u16,
    TiffCommonTag::SampleFormat as u16,
    TiffCommonTag::CFARepeatPatternDim as u16,
    TiffCommonTag::CFAPattern as u16,
    DngTag::CFAPlaneColor as u16,
    DngTag::CFALayout as u16,
    DngTag::LinearizationTable as u16,
    DngTag::BlackLevelRepeatDim as u16,
    DngTag::BlackLevel as u16,
    DngTag::BlackLevelDeltaH as u16,
    DngTag::BlackLevelDeltaV as u16,
    DngTag::WhiteLevel as u16,
    DngTag::DefaultScale as u16,
    DngTag::DefaultCropOrigin as u16,
    DngTag::DefaultCropSize as u16,
    DngTag::ActiveArea as u16,
    DngTag::MaskedAreas as u16,
];

/// Tags of a DNG's first directory that name its camera and format version (rawler looks a camera
/// up by its name).
const DNG_CAMERA_TAGS: [u16; 4] = [
    TiffCommonTag::Make as u16,
    TiffCommonTag::Model as u16,
    DngTag::DNGVersion as u16,
    DngTag::UniqueCameraModel as u16,
];

/// Where a DNG's strips or tiles start, and how long each is: the raw image data.
const DNG_DATA_TAGS: [(u16, u16); 2] = [
    (
        TiffCommonTag::StripOffsets as u16,
        TiffCommonTag::StripByteCounts as u16,
    ),
    (
        TiffCommonTag::TileOffsets as u16,
        TiffCommonTag::TileByteCounts as u16,
    ),
];

/// The compressions rawler decodes a DNG's raw image in: none, (lossless) JPEG, deflate, lossy
/// JPEG, JPEG XL. Its raw directory is the first full-resolution one with one of them.
const DNG_RAW_COMPRESSIONS: [u32; 5] = [1, 7, 8, 0x884c, 52546];

/// A DNG's layout read from its first bytes: what decides the shape and [`RawInfo`] rawler gives
/// it, as a key, and where its image data ends.
struct DngLayout {
    key: String,
    data_end: u64,
}

/// The shapes and RAW information of the DNG layouts read so far, by [`DngLayout::key`]. rawler
/// 0.8 reads a DNG's header only by decoding its whole image (its DNG decoder ignores the
/// header-only mode), which made discovering a folder of DNG files cost as much as decoding them;
/// files from one camera share a layout, so it is read once.
fn known_layouts() -> std::sync::MutexGuard<'static, HashMap<String, (Shape, RawInfo)>> {
    static KNOWN: LazyLock<Mutex<HashMap<String, (Shape, RawInfo)>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The number of entries the directory `ifd` announces at its start in `prefix`.
fn announced_entries(prefix: &[u8], ifd: &rawler::formats::tiff::IFD) -> Option<usize> {
    let at = ifd.offset as usize;
    let bytes: [u8; 2] = prefix.get(at..at + 2)?.try_into().ok()?;
    Some(match ifd.endian {
        rawler::bits::Endian::Little => u16::from_le_bytes(bytes),
        rawler::bits::Endian::Big => u16::from_be_bytes(bytes),
    } as usize)
}

/// The layout of the DNG file whose first bytes are `prefix`: the values of
/// [`DNG_LAYOUT_TAGS`] in its raw image directory (the first full-resolution one with a
/// compression rawler reads, chosen as rawler chooses it) and of [`DNG_CAMERA_TAGS`] in its first
/// directory, and the end of its strips or tiles. `None` when it is not a DNG or those
/// directories or their values reach beyond `prefix`.
fn dng_layout(prefix: &[u8]) -> Option<DngLayout> {
    let tiff = GenericTiffReader::new_with_buffer(prefix, 0, 0, Some(MAX_IFD_CHAIN)).ok()?;
    tiff.root_ifd().get_entry(DngTag::DNGVersion)?;
    let raw = tiff
        .find_ifds_with_tag(TiffCommonTag::Compression)
        .into_iter()
        .find(|ifd| {
            let compression = ifd
                .get_entry(TiffCommonTag::Compression)
                .map_or(0, |e| e.force_u32(0));
            let reduced = ifd
                .get_entry(TiffCommonTag::NewSubFileType)
                .is_some_and(|e| e.force_u32(0) & 1 != 0);
            !reduced && DNG_RAW_COMPRESSIONS.contains(&compression)
        })?;
    // rawler's reader keeps what it could read of a directory cut off by the prefix: both
    // directories must hold every entry they announce.
    if ![tiff.root_ifd(), raw]
        .iter()
        .all(|ifd| announced_entries(prefix, ifd) == Some(ifd.entries().len()))
    {
        return None;
    }
    let mut key = String::new();
    for (ifd, tags) in [
        (tiff.root_ifd(), &DNG_CAMERA_TAGS[..]),
        (raw, &DNG_LAYOUT_TAGS[..]),
    ] {
        for &tag in tags {
            if let Some(e) = ifd.get_entry(tag) {
                key.push_str(&format!("{tag}={:?};", e.value));
            }
        }
        key.push('|');
    }
    let (_, data_end) = image_data(raw)?;
    Some(DngLayout { key, data_end })
}

/// The bytes of image data directory `ifd` names (its strips or tiles, [`DNG_DATA_TAGS`]) and
/// where the last of them ends; `None` when it names none or their values are not in reach.
fn image_data(ifd: &rawler::formats::tiff::IFD) -> Option<(u64, u64)> {
    DNG_DATA_TAGS.iter().find_map(|&(offsets, counts)| {
        let (o, c) = (ifd.get_entry(offsets)?, ifd.get_entry(counts)?);
        (0..o.value.count())
            .map(|i| {
                Some((
                    o.value.get_usize(i).ok()?? as u64,
                    c.value.get_usize(i).ok()?? as u64,
                ))
            })
            .try_fold((0u64, 0u64), |(bytes, end), part| {
                let (offset, count) = part?;
                Some((bytes + count, end.max(offset + count)))
            })
    })
}

/// Where the image data of a TIFF-based RAW file (CR2, NEF, ARW, PEF, …) whose first bytes are
/// `prefix` ends: the strips or tiles of its directory naming the most bytes, the raw image's
/// (its previews are smaller). `None` when it is not TIFF-based or its directories reach beyond
/// `prefix`.
fn tiff_data_end(prefix: &[u8]) -> Option<u64> {
    let tiff = GenericTiffReader::new_with_buffer(prefix, 0, 0, Some(MAX_IFD_CHAIN)).ok()?;
    DNG_DATA_TAGS
        .iter()
        .flat_map(|&(offsets, _)| tiff.find_ifds_with_tag(offsets))
        .filter(|ifd| announced_entries(prefix, ifd) == Some(ifd.entries().len()))
        .filter_map(image_data)
        .max_by_key(|&(bytes, _)| bytes)
        .map(|(_, end)| end)
}

/// Decodes a RAW file's visible photosites into a buffer from `pool`, checking the shape.
pub fn decode_pooled(
    path: &Path,
    expected: Shape,
    pool: &Arc<FramePool>,
) -> Result<Frame, DecodeError> {
    let image = decode_bytes(path, read_raw(path, None)?, false)?;
    let Layout { shape, info } = layout(path, &image)?;
    DecodeError::expect_shape(path, shape, expected)?;
    let RawImageData::Integer(data) = &image.data else {
        return Err(DecodeError::format(
            path,
            "floating-point RAW samples are not supported",
        ));
    };
    let [left, top] = info.visible_origin.map(|v| v as usize);
    let (w, h) = (shape.width as usize, shape.height as usize);
    let stride = image.width;
    if data.len() < stride * image.height {
        return Err(DecodeError::format(
            path,
            "the decoder returned fewer samples than its size",
        ));
    }
    let mut samples = pool.take(16, w * h);
    let Samples::U16(out) = &mut samples else {
        unreachable!("a 16-bit buffer was asked for")
    };
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let from = (top + y) * stride + left;
        row.copy_from_slice(&data[from..from + w]);
    }
    let frame = Frame::new(expected, samples).map_err(|r| DecodeError::format(path, r))?;
    Ok(frame.recycle_into(pool))
}

#[cfg(all(test, feature = "synth"))]
mod tests {
    use super::*;
    use crate::synth::{sensor, SetSpec};

    /// A small DNG of the simulated camera, as bytes.
    fn dng_bytes() -> Vec<u8> {
        let spec = SetSpec {
            width: 64,
            height: 48,
            ..Default::default()
        };
        let layout = sensor::dng_layout(&spec);
        let [w, h] = layout.stored;
        let samples = vec![300u16; (w * h) as usize];
        let mut out = std::io::Cursor::new(Vec::new());
        crate::synth::dng::write_dng(&mut out, &layout, &samples).unwrap();
        out.into_inner()
    }

    /// A DNG's layout is read from its first bytes when they hold its directory whole; a prefix
    /// that cuts the directory short (rawler's reader keeps the entries it could read) gives
    /// none, so no layout of a part of a directory is ever matched.
    #[test]
    fn a_dng_layout_comes_only_from_whole_directories() {
        let bytes = dng_bytes();
        let whole = dng_layout(&bytes).expect("the layout of a whole file");
        assert_eq!(whole.data_end, bytes.len() as u64);
        let head = dng_layout(&bytes[..crate::synth::dng::DATA_OFFSET as usize])
            .expect("the directory lies before the samples");
        assert_eq!(head.key, whole.key);
        let tiff = GenericTiffReader::new_with_buffer(&bytes, 0, 0, None).unwrap();
        let at = tiff.root_ifd().offset as usize;
        let entries = tiff.root_ifd().entries().len();
        assert_eq!(announced_entries(&bytes, tiff.root_ifd()), Some(entries));
        // The directory without its last three entries (the active area among them).
        assert!(dng_layout(&bytes[..at + 2 + 12 * (entries - 3)]).is_none());
        // A file of another size has another layout.
        let mut other = bytes.clone();
        let w_at = tiff
            .root_ifd()
            .get_entry(TiffCommonTag::ImageWidth)
            .unwrap()
            .offset()
            .unwrap();
        other[w_at] ^= 2;
        let other = dng_layout(&other).expect("the layout of the other file");
        assert_ne!(other.key, whole.key);
    }
}
