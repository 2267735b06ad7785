//! A minimal DNG writer for the simulated camera: one uncompressed 16-bit Bayer plane with masked
//! margins around the visible area (DNG's `ActiveArea`), its pattern and levels — the file rawler,
//! dcraw and LibRaw read as a camera RAW.

use std::io::{Seek, SeekFrom, Write};

use tiff::encoder::{Rational, SRational, TiffEncoder};
use tiff::tags::Tag;

use crate::repair::dng::tags;

/// TIFF's photometric interpretation for a colour filter array.
const PHOTOMETRIC_CFA: u16 = 32803;
/// EXIF's light source code for D65.
const ILLUMINANT_D65: u16 = 21;
/// XYZ (D65) to linear sRGB, the colour matrix written (×[`MATRIX_SCALE`]): the simulated
/// sensor's colours are sRGB primaries.
const XYZ_TO_SRGB: [f32; 9] = [
    3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570,
];
const MATRIX_SCALE: i32 = 10_000;
/// DNG's `CameraSerialNumber` tag.
const DNG_CAMERA_SERIAL: u16 = crate::input::exif::DNG_CAMERA_SERIAL;

/// Where the samples start: the directory and its values come first, within this many bytes, as
/// in a camera's files (whose EXIF a reader then finds in the file's first bytes, see
/// [`crate::input::exif::EXIF_PREFIX`]).
pub const DATA_OFFSET: u32 = 1 << 16;

/// What a DNG file holds besides its samples.
#[derive(Clone, Debug)]
pub struct DngLayout {
    /// Size `[width, height]` of the stored frame, margins included.
    pub stored: [u32; 2],
    /// Offset `[left, top]` of the visible area.
    pub origin: [u32; 2],
    /// Size `[width, height]` of the visible area.
    pub visible: [u32; 2],
    /// The colour filter's repeating tile `[width, height]`: `[2, 2]` for Bayer.
    pub cfa_size: [u16; 2],
    /// The tile's colours, row by row from the visible area's top-left photosite (where dcraw,
    /// LibRaw and rawler place a DNG's `CFAPattern`): 0 red, 1 green, 2 blue.
    pub cfa: Vec<u8>,
    /// Black level.
    pub black: u16,
    /// White level.
    pub white: u16,
    /// Camera maker and model (TIFF `Make`, `Model`).
    pub make: String,
    /// Camera model.
    pub model: String,
    /// The body's serial number (DNG `CameraSerialNumber`).
    pub serial: Option<String>,
    /// When the frame was taken (TIFF `DateTime`).
    pub taken: Option<crate::input::exif::CaptureTime>,
    /// How it was exposed (`ExposureTime`, `PhotographicSensitivity`, in the first directory).
    pub exposure: crate::input::exif::Exposure,
}

/// Writes `samples` (the stored frame, row by row) as a DNG file to `out`.
pub fn write_dng<W: Write + Seek>(
    mut out: W,
    layout: &DngLayout,
    samples: &[u16],
) -> tiff::TiffResult<()> {
    let [w, h] = layout.stored;
    let mut encoder = TiffEncoder::new(&mut out)?;
    let mut dir = encoder.image_directory()?;
    dir.write_tag(Tag::NewSubfileType, 0u32)?;
    dir.write_tag(Tag::ImageWidth, w)?;
    dir.write_tag(Tag::ImageLength, h)?;
    dir.write_tag(Tag::BitsPerSample, 16u16)?;
    dir.write_tag(Tag::Compression, 1u16)?;
    dir.write_tag(Tag::SamplesPerPixel, 1u16)?;
    dir.write_tag(Tag::PlanarConfiguration, 1u16)?;
    // One strip per frame: RowsPerStrip beyond the height is legal TIFF, but rawspeed
    // (darktable) refuses it.
    dir.write_tag(Tag::RowsPerStrip, h)?;
    dir.write_tag(Tag::StripOffsets, DATA_OFFSET)?;
    let bytes = u32::try_from(std::mem::size_of_val(samples)).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "a frame of 4 GB or more")
    })?;
    dir.write_tag(Tag::StripByteCounts, bytes)?;
    dir.write_tag(Tag::PhotometricInterpretation, PHOTOMETRIC_CFA)?;
    dir.write_tag(Tag::Make, layout.make.as_str())?;
    dir.write_tag(Tag::Model, layout.model.as_str())?;
    dir.write_tag(Tag::Orientation, 1u16)?;
    if let Some(serial) = &layout.serial {
        dir.write_tag(Tag::Unknown(DNG_CAMERA_SERIAL), serial.as_str())?;
    }
    if let Some(taken) = layout.taken {
        dir.write_tag(Tag::DateTime, taken.exif_text().as_str())?;
    }
    if let Some(seconds) = layout.exposure.seconds {
        let (n, d) = super::seconds_rational(seconds);
        dir.write_tag(
            Tag::Unknown(exif::Tag::ExposureTime.number()),
            tiff::encoder::Rational { n, d },
        )?;
    }
    if let Some(iso) = layout.exposure.iso {
        dir.write_tag(
            Tag::Unknown(exif::Tag::PhotographicSensitivity.number()),
            iso.min(u32::from(u16::MAX)) as u16,
        )?;
    }
    dir.write_tag(Tag::Unknown(tags::DNG_VERSION), &[1u8, 4, 0, 0][..])?;
    dir.write_tag(
        Tag::Unknown(tags::DNG_BACKWARD_VERSION),
        &[1u8, 1, 0, 0][..],
    )?;
    let unique = format!("{} {}", layout.make, layout.model);
    dir.write_tag(Tag::Unknown(tags::UNIQUE_CAMERA_MODEL), unique.as_str())?;
    let [cfa_w, cfa_h] = layout.cfa_size;
    dir.write_tag(
        Tag::Unknown(tags::CFA_REPEAT_PATTERN_DIM),
        &[cfa_h, cfa_w][..],
    )?;
    dir.write_tag(Tag::Unknown(tags::CFA_PATTERN), &layout.cfa[..])?;
    dir.write_tag(Tag::Unknown(tags::CFA_PLANE_COLOR), &[0u8, 1, 2][..])?;
    dir.write_tag(Tag::Unknown(tags::CFA_LAYOUT), 1u16)?;
    dir.write_tag(Tag::Unknown(tags::BLACK_LEVEL_REPEAT_DIM), &[1u16, 1][..])?;
    dir.write_tag(Tag::Unknown(tags::BLACK_LEVEL), layout.black)?;
    dir.write_tag(Tag::Unknown(tags::WHITE_LEVEL), layout.white)?;
    let matrix: Vec<SRational> = XYZ_TO_SRGB
        .iter()
        .map(|v| SRational {
            n: (v * MATRIX_SCALE as f32).round() as i32,
            d: MATRIX_SCALE,
        })
        .collect();
    dir.write_tag(Tag::Unknown(tags::COLOR_MATRIX_1), &matrix[..])?;
    dir.write_tag(Tag::Unknown(tags::CALIBRATION_ILLUMINANT_1), ILLUMINANT_D65)?;
    let neutral: [Rational; 3] = std::array::from_fn(|_| Rational { n: 1, d: 1 });
    dir.write_tag(Tag::Unknown(tags::AS_SHOT_NEUTRAL), &neutral[..])?;
    let [left, top] = layout.origin;
    let [vw, vh] = layout.visible;
    dir.write_tag(
        Tag::Unknown(tags::ACTIVE_AREA),
        &[top, left, top + vh, left + vw][..],
    )?;
    dir.finish()?;
    if out.stream_position()? > u64::from(DATA_OFFSET) {
        return Err(std::io::Error::other("the directory runs past the samples' offset").into());
    }
    out.seek(SeekFrom::Start(u64::from(DATA_OFFSET)))?;
    // The file's byte order is the machine's (the encoder writes its header so).
    out.write_all(bytemuck::cast_slice(samples))?;
    Ok(())
}
