//! What sample values mean: the colour of each subpixel (a RAW frame's colour filter array), the
//! black and white levels, and the transfer curve that turns a value into linear light.

use serde::Serialize;

/// The colour a subpixel records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Colour {
    /// Red.
    #[serde(rename = "R")]
    Red,
    /// Green.
    #[serde(rename = "G")]
    Green,
    /// Blue.
    #[serde(rename = "B")]
    Blue,
    /// The one channel of a grey image.
    #[serde(rename = "L")]
    Grey,
}

impl Colour {
    /// One letter: `R`, `G`, `B`, or `L` for grey.
    pub fn letter(self) -> &'static str {
        match self {
            Colour::Red => "R",
            Colour::Green => "G",
            Colour::Blue => "B",
            Colour::Grey => "L",
        }
    }

    fn from_letter(c: char) -> Option<Self> {
        match c.to_ascii_uppercase() {
            'R' => Some(Colour::Red),
            'G' => Some(Colour::Green),
            'B' => Some(Colour::Blue),
            _ => None,
        }
    }
}

impl std::fmt::Display for Colour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.letter())
    }
}

/// Side of the repeating tile of a Bayer colour filter array.
pub const BAYER_PERIOD: u32 = 2;

/// A Bayer colour filter array: the colours of the 2×2 tile that repeats over the photosites,
/// row by row from the top-left photosite (`RGGB`, `BGGR`, `GRBG`, `GBRG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cfa([Colour; 4]);

impl Cfa {
    /// A pattern from its four letters, e.g. `"RGGB"`; it must hold one red, two greens and one
    /// blue, with the greens on a diagonal.
    pub fn parse(name: &str) -> Result<Self, String> {
        let colours: Vec<Option<Colour>> = name.chars().map(Colour::from_letter).collect();
        let bad = || format!("'{name}' is not a Bayer pattern (RGGB, BGGR, GRBG or GBRG)");
        let [Some(a), Some(b), Some(c), Some(d)] = colours[..] else {
            return Err(bad());
        };
        let cfa = Cfa([a, b, c, d]);
        let count = |k| cfa.0.iter().filter(|&&x| x == k).count();
        let diagonal_greens = (a == Colour::Green && d == Colour::Green)
            || (b == Colour::Green && c == Colour::Green);
        if count(Colour::Red) == 1 && count(Colour::Blue) == 1 && diagonal_greens {
            Ok(cfa)
        } else {
            Err(bad())
        }
    }

    /// The colour over the photosite at `(x, y)`.
    #[inline(always)]
    pub fn colour_at(&self, x: u32, y: u32) -> Colour {
        self.0[tile_position(x, y)]
    }

    /// The same array seen from `(dx, dy)`: the pattern of a frame cropped at that offset.
    pub fn shifted(&self, dx: u32, dy: u32) -> Cfa {
        Cfa(std::array::from_fn(|p| {
            let (x, y) = (p as u32 % BAYER_PERIOD, p as u32 / BAYER_PERIOD);
            self.colour_at(x + dx, y + dy)
        }))
    }

    /// The four letters, e.g. `RGGB`.
    pub fn name(&self) -> String {
        self.0.iter().map(|c| c.letter()).collect()
    }
}

/// Where `(x, y)` sits in the repeating 2×2 tile: 0 top-left, 1 top-right, 2 and 3 below.
#[inline(always)]
pub fn tile_position(x: u32, y: u32) -> usize {
    ((y % BAYER_PERIOD) * BAYER_PERIOD + x % BAYER_PERIOD) as usize
}

impl std::fmt::Display for Cfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&self.name())
    }
}

impl Serialize for Cfa {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Cfa {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Cfa::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// How a sample value relates to the light that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// sRGB-encoded (JPEG, PNG, TIFF from a raw converter): linear light is the sRGB curve undone.
    Srgb,
    /// Linear sensor units above a black level (camera RAW).
    Linear,
}

/// The black and white levels of the samples and their encoding: what turns a value into a
/// fraction of full scale in linear light, the unit defect kinds are judged in.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Levels {
    /// The value that means no light, per position of the 2×2 tile of a RAW frame (row by row);
    /// 0 for images.
    pub black: [f32; 4],
    /// The value of full scale (the sensor's saturation for RAW).
    pub white: f32,
    /// How values between the two relate to light.
    pub encoding: Encoding,
    /// The frames went through a codec that mixes neighbouring pixels in encoded values (JPEG:
    /// shared chroma, quantised blocks), so a photosite's pixel follows its neighbours' in
    /// encoded values rather than in linear light.
    #[serde(default)]
    pub codec_mixed: bool,
}

impl Levels {
    /// The levels of an encoded image of `bit_depth` bits: black 0, white the largest value, sRGB.
    pub fn encoded(bit_depth: u32) -> Self {
        Levels {
            black: [0.0; 4],
            white: ((1u32 << bit_depth) - 1) as f32,
            encoding: Encoding::Srgb,
            codec_mixed: false,
        }
    }

    /// Full scale in sample values: white minus the lowest black level.
    pub fn full_scale(&self) -> f32 {
        let black = self.black.iter().copied().fold(f32::INFINITY, f32::min);
        (self.white - black).max(1.0)
    }

    /// The black level at `(x, y)`.
    #[inline]
    pub fn black_at(&self, x: u32, y: u32) -> f32 {
        self.black[tile_position(x, y)]
    }

    /// White minus the black level at `(x, y)`: the values from no light to full scale there.
    pub fn range_at(&self, x: u32, y: u32) -> f32 {
        (self.white - self.black_at(x, y)).max(1.0)
    }

    /// `value` at `(x, y)` from black (0) to white (1), in the samples' own encoding.
    fn fraction(&self, value: f32, x: u32, y: u32) -> f32 {
        (value - self.black_at(x, y)) / self.range_at(x, y)
    }

    /// `value` at `(x, y)` as linear light, a fraction of full scale (0 black, 1 white; below 0
    /// for a RAW value under the black level).
    pub fn linear(&self, value: f32, x: u32, y: u32) -> f32 {
        let v = self.fraction(value, x, y);
        match self.encoding {
            Encoding::Linear => v,
            Encoding::Srgb => srgb_to_linear(v),
        }
    }

    /// How much linear light one sample value is worth at `value`, `(x, y)`: the slope of
    /// [`Levels::linear`] there. A spread of values times this slope is (to first order) a spread
    /// in linear light.
    pub fn linear_slope(&self, value: f32, x: u32, y: u32) -> f32 {
        let range = self.range_at(x, y);
        match self.encoding {
            Encoding::Linear => 1.0 / range,
            Encoding::Srgb => srgb_to_linear_slope(self.fraction(value, x, y)) / range,
        }
    }

    /// `value` at `(x, y)` as an 8-bit sRGB grey for pictures: an image's value as it is, a RAW
    /// value from black to white through the sRGB curve.
    pub fn display(&self, value: f32, x: u32, y: u32) -> u8 {
        let v = self.fraction(value, x, y);
        let encoded = match self.encoding {
            Encoding::Linear => linear_to_srgb(v),
            Encoding::Srgb => v,
        };
        (encoded.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

// The sRGB curve (IEC 61966-2-1): encoded = SRGB_TOE_SLOPE × linear near black, up to the knee;
// above it, encoded = SRGB_SCALE × linear^(1 / SRGB_GAMMA) − SRGB_OFFSET.
/// Slope of the sRGB curve's straight part near black.
const SRGB_TOE_SLOPE: f32 = 12.92;
/// The encoded value where the straight part ends.
const SRGB_KNEE: f32 = 0.04045;
/// The linear value where the straight part ends.
const SRGB_LINEAR_KNEE: f32 = 0.003_130_8;
/// Exponent of the sRGB curve's power part.
const SRGB_GAMMA: f32 = 2.4;
/// Scale of the power part.
const SRGB_SCALE: f32 = 1.055;
/// Offset of the power part.
const SRGB_OFFSET: f32 = 0.055;

/// The sRGB transfer curve undone: encoded 0‥1 to linear 0‥1 (IEC 61966-2-1).
pub fn srgb_to_linear(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= SRGB_KNEE {
        v / SRGB_TOE_SLOPE
    } else {
        ((v + SRGB_OFFSET) / SRGB_SCALE).powf(SRGB_GAMMA)
    }
}

/// The slope of [`srgb_to_linear`] at `v` (encoded 0‥1).
fn srgb_to_linear_slope(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= SRGB_KNEE {
        1.0 / SRGB_TOE_SLOPE
    } else {
        SRGB_GAMMA / SRGB_SCALE * ((v + SRGB_OFFSET) / SRGB_SCALE).powf(SRGB_GAMMA - 1.0)
    }
}

/// The sRGB transfer curve: linear 0‥1 to encoded 0‥1.
pub fn linear_to_srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= SRGB_LINEAR_KNEE {
        v * SRGB_TOE_SLOPE
    } else {
        SRGB_SCALE * v.powf(1.0 / SRGB_GAMMA) - SRGB_OFFSET
    }
}

/// What a camera RAW file says beyond its [`super::Shape`]: the camera, where the visible area
/// sits in the stored frame, and the levels.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct RawInfo {
    /// The camera maker, as the decoder names it.
    pub make: String,
    /// The camera model, as the decoder names it.
    pub model: String,
    /// Offset `[left, top]` of the visible (active) area in the stored raw frame: LibRaw's and
    /// dcraw's margins. Photosite coordinates are counted from there.
    pub visible_origin: [u32; 2],
    /// Size `[width, height]` of the stored raw frame, masked margins included.
    pub raw_size: [u32; 2],
    /// Black and white levels, in raw numbers.
    pub levels: Levels,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_parse_and_shift_like_a_crop() {
        let rggb = Cfa::parse("RGGB").unwrap();
        assert_eq!(rggb.colour_at(0, 0), Colour::Red);
        assert_eq!(rggb.colour_at(3, 0), Colour::Green);
        assert_eq!(rggb.colour_at(3, 5), Colour::Blue);
        assert_eq!(rggb.shifted(1, 0).name(), "GRBG");
        assert_eq!(rggb.shifted(0, 1).name(), "GBRG");
        assert_eq!(rggb.shifted(1, 1).name(), "BGGR");
        assert_eq!(rggb.shifted(74, 12), rggb);
        for bad in ["RGBG", "RRGB", "RGG", "XTRANS", "RGGBR"] {
            assert!(Cfa::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn linear_light_undoes_the_encoding() {
        let raw = Levels {
            black: [100.0, 200.0, 200.0, 100.0],
            white: 4100.0,
            encoding: Encoding::Linear,
            codec_mixed: false,
        };
        assert_eq!(raw.linear(2100.0, 0, 0), 0.5);
        assert_eq!(raw.linear(200.0, 1, 0), 0.0);
        let jpeg = Levels::encoded(8);
        // sRGB 188/255 is about 50 % linear light; 128/255 about 21.6 %.
        assert!((jpeg.linear(188.0, 5, 5) - 0.5).abs() < 0.01);
        assert!((jpeg.linear(128.0, 0, 0) - 0.216).abs() < 0.002);
        for v in [0.0, 0.002, 0.2, 0.7, 1.0] {
            assert!((srgb_to_linear(linear_to_srgb(v)) - v).abs() < 1e-5);
        }
    }

    /// The slope is that of `linear`: a central difference agrees on either side of the sRGB
    /// curve's knee, and a RAW frame's is one over its range at each tile position.
    #[test]
    fn linear_slope_is_the_slope_of_linear_light() {
        let image = Levels::encoded(16);
        for v in [500.0, 2000.0, 20_000.0, 50_000.0, 65_000.0] {
            let h = 8.0;
            let difference = (image.linear(v + h, 0, 0) - image.linear(v - h, 0, 0)) / (2.0 * h);
            let slope = image.linear_slope(v, 0, 0);
            assert!(
                (slope - difference).abs() <= 1e-3 * difference,
                "{v}: slope {slope}, difference {difference}"
            );
        }
        // sRGB compresses bright values: one level near white is worth far more light.
        assert!(image.linear_slope(60_000.0, 0, 0) > 4.0 * image.linear_slope(15_000.0, 0, 0));
        let raw = Levels {
            black: [100.0, 200.0, 200.0, 100.0],
            white: 4100.0,
            encoding: Encoding::Linear,
            codec_mixed: false,
        };
        assert_eq!(raw.linear_slope(3000.0, 0, 0), 1.0 / 4000.0);
        assert_eq!(raw.linear_slope(300.0, 1, 0), 1.0 / 3900.0);
    }
}
