//! Kinds: what each defect is, from the numbers of its strongest subpixel.
//!
//! Offsets and levels are judged in linear light, as fractions of full scale, whatever the input:
//! a RAW value minus its black level over white minus black; an image value (JPEG, PNG, TIFF)
//! with the sRGB curve undone ([`Levels::linear`]). A dark-current offset is a size in linear
//! sensor units, so a kind means the same on every input. The offset of a defect is the linear
//! light of its mean minus that of its neighbours' (its mean minus its mean residual).
//!
//! A defect's kind is read at its strongest subpixel, but for its offset from the neighbours (hot
//! or warm) and the frames it reads below them: those are read where the photosite is, its
//! [`reading_point`] (in an RGB photo, where the luma of the residual peaks; elsewhere the
//! strongest subpixel).
//!
//! From photos (the residual is the value minus the median of its four same-colour neighbours at
//! distance 2; "its surroundings" are the same channel 4 pixels away):
//! - `stuck`: its value varies less than 0.7 times as much as its surroundings' values do in
//!   linear light (each spread times the transfer curve's slope at its level: the sRGB curve
//!   compresses a hot photosite's brighter values, so in sRGB levels one often looks still) —
//!   in encoded values for JPEG, whose codec mixes a photosite's pixel with its neighbours' in
//!   those values ([`Levels::codec_mixed`]) —, its
//!   mean is below 90 % of full scale (one pinned near full scale is called hot), and its offset
//!   from the neighbours changes sign and size with the scene: when brighter than them on
//!   average, its mean residual is below 1.1 times the residual's own spread, or it reads below
//!   them in at least 4 % of the frames (two frames at least), or it varies less than a fifth as
//!   much as its surroundings; when darker, the size of its mean residual is below half the
//!   residual's spread. (Candidates found by [`super::score::frozen`]'s second test —
//!   dull and swinging — are named by these rules too: a hot photosite often clipped looks so.)
//! - `dead`: darker than its neighbours (a negative score) and not stuck: consistently darker.
//!   A RAW photosite is not mixed with its neighbours by demosaicking or JPEG, so there a still
//!   one darker than its neighbours is dead when it reads below 5 % of full scale and stuck
//!   otherwise, however much the scene outshines it.
//! - `hot`: brighter than its neighbours by at least 25 % of full scale on average.
//! - `warm`: brighter than its neighbours by less than that.
//!
//! From dark frames (the score is the mean's distance from the dark level of its colour):
//! - `dead`: below the dark level; `stuck`: above it, and varying less than 0.7 times as much as
//!   its surroundings (their read noise: a hot photosite adds the noise of its dark current, a
//!   stuck one reads one level); `hot`: at least 25 % of full scale above it; `warm`: less.

use super::score::{surrounding, FROZEN_RATIO};
use super::{Defect, Kind, Scores};
use crate::geometry::Geometry;
use crate::input::Levels;
use crate::stats::Moments;

/// A hot photosite is at least this far above its neighbours (or, in dark frames, above the
/// dark level) on average: a fraction of full scale in linear light.
pub const HOT_OFFSET: f32 = 0.25;
/// A stuck photosite varies less than this fraction of its surroundings' variation.
pub const STUCK_STD_RATIO: f32 = 0.7;
/// A stuck photosite's mean residual is below this multiple of the residual's own spread (its
/// offset from the neighbours changes sign and size with the scene; a hot one's does not).
pub const STUCK_RESIDUAL_RATIO: f32 = 1.1;
/// A still photosite brighter than its neighbours on average is stuck when it reads below them
/// in at least this share of the frames: a stuck level falls under the scene whenever the scene
/// outshines it, while a hot or warm photosite's offset adds to the scene and almost never does.
/// (Counted where the photosite is, its [`reading_point`]; from 36 synthetic JPEG sets: a stuck
/// photosite's median share is 0.08, nine hot ones in ten read below in 2 % of the frames or
/// fewer.)
pub const STUCK_BELOW_SHARE: f32 = 0.04;
/// ... and in at least this many frames: one frame below may be noise, or a frame before a hot
/// photosite appeared.
pub const STUCK_BELOW_FRAMES: f32 = 2.0;
/// A stuck photosite darker than its neighbours on average: its mean residual is below this
/// multiple of the residual's own spread (a dead one's, smeared by JPEG, is about 1).
pub const STUCK_DARK_RESIDUAL_RATIO: f32 = 0.5;
/// A still RAW photosite darker than its neighbours that reads below this fraction of full scale
/// (linear light, above black) is dead; one that reads more is stuck.
pub const DEAD_MAX_LEVEL: f32 = 0.05;
/// A photosite pinned above this fraction of full scale (linear light) is hot rather than stuck.
pub const STUCK_MAX_LEVEL: f32 = 0.9;

/// The subpixel a defect's offset and frames below its neighbours are read at: where the
/// photosite is. A RAW or grey sample is
/// the photosite itself: the defect's strongest subpixel. In an RGB photo, demosaicking and JPEG
/// spread a photosite over its neighbours, and the strongest score often sits a pixel off it
/// (where its residual swings less, and its offset looks smaller); the photosite is where the
/// luma of the residual peaks: of the defect's pixels, the one with the largest |mean residual|
/// weighted by [`LUMA`] (its subpixel in the defect's channel; [`offset`] reads all three). (On
/// 36 synthetic JPEG sets that pixel was the photosite for 1124 of 1241 defects found, the
/// strongest score's for 993.)
pub fn reading_point(m: &Moments, defect: &Defect) -> usize {
    let shape = m.shape;
    if shape.cfa.is_some() || shape.channels != 3 {
        return defect.index;
    }
    let strength = |[x, y]: [u32; 2]| luma(pixel_residual(m, x, y)).abs();
    let (x, y, channel) = shape.position(defect.index);
    let [px, py] = defect
        .pixels
        .iter()
        .copied()
        .fold(([x, y], strength([x, y])), |best, pixel| {
            let l = strength(pixel);
            if l > best.1 {
                (pixel, l)
            } else {
                best
            }
        })
        .0;
    shape.index(px, py, channel)
}

/// The kind of `defect` by the rules in this module's documentation: stillness at its strongest
/// subpixel, the offset and the frames below its neighbours at its [`reading_point`]; `levels`
/// turn its values into linear light.
pub fn classify(
    m: &Moments,
    scores: &Scores,
    defect: &Defect,
    dark: bool,
    levels: &Levels,
) -> Kind {
    let g = Geometry::of(m.shape);
    let linear = |v: f32| levels.linear(v, defect.x, defect.y);
    let hot_or_warm = |offset: f32| {
        if offset >= HOT_OFFSET {
            Kind::Hot
        } else {
            Kind::Warm
        }
    };
    if dark {
        if defect.score < 0.0 {
            return Kind::Dead;
        }
        if defect.std < STUCK_STD_RATIO * surrounding(m, g, defect.index) {
            return Kind::Stuck;
        }
        let level = scores.location[g.class_of(defect.index)];
        return hot_or_warm(linear(defect.mean) - linear(level));
    }
    let around = surrounding(m, g, defect.index);
    // Spreads in linear light: each times the transfer curve's slope at its level (the
    // surroundings' at the neighbours' level, its mean minus its mean residual); in encoded
    // values where the codec mixed the pixels in them.
    let slope = |v: f32| {
        if levels.codec_mixed {
            1.0
        } else {
            levels.linear_slope(v, defect.x, defect.y)
        }
    };
    let still = defect.std * slope(defect.mean)
        < STUCK_STD_RATIO * around * slope(defect.mean - defect.residual)
        && linear(defect.mean) < STUCK_MAX_LEVEL;
    if defect.score < 0.0 {
        if still && g.photosites() {
            // A RAW photosite reads itself, unmixed: a constant one darker than its neighbours
            // is dead when it reads black, stuck at any other level.
            return if linear(defect.mean) < DEAD_MAX_LEVEL {
                Kind::Dead
            } else {
                Kind::Stuck
            };
        }
        // Darker than its neighbours: dead, unless it is off them by turns (a stuck level that
        // most scenes happen to outshine). A dead photosite smeared by JPEG swings too, about as
        // much as its mean offset; a stuck one much more.
        return if still && -defect.residual < STUCK_DARK_RESIDUAL_RATIO * defect.residual_std {
            Kind::Stuck
        } else {
            Kind::Dead
        };
    }
    let frozen = defect.std * FROZEN_RATIO < around;
    let at = reading_point(m, defect);
    let swings = defect.residual < STUCK_RESIDUAL_RATIO * defect.residual_std
        || m.below[at] as f32 >= STUCK_BELOW_FRAMES.max(STUCK_BELOW_SHARE * m.n as f32);
    if still && (frozen || swings) {
        return Kind::Stuck;
    }
    hot_or_warm(offset(m, at, levels))
}

/// The channel with the largest of three mean residuals.
fn strongest(residual: [f32; 3]) -> usize {
    (0..3)
        .max_by(|&a, &b| residual[a].total_cmp(&residual[b]))
        .unwrap_or(0)
}

/// Rec. 601 luma weights of R, G and B: what JPEG keeps at full resolution.
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// The mean residuals of the three channels of an RGB pixel.
fn pixel_residual(m: &Moments, x: u32, y: u32) -> [f32; 3] {
    std::array::from_fn(|c| m.res_mean[m.shape.index(x, y, c as u32)])
}

/// The [`LUMA`]-weighted sum of three channels' values.
fn luma(rgb: [f32; 3]) -> f32 {
    rgb.iter().zip(LUMA).map(|(v, w)| v * w).sum()
}

/// The mean offset from its neighbours in linear light (a fraction of full scale) of the defect
/// read at subpixel `at` ([`reading_point`]).
///
/// A RAW or grey sample is the photosite itself: the linear light of its mean minus that of its
/// neighbours'. In an RGB image the photosite's offset sits in one channel of one pixel after
/// demosaicking, and JPEG's chroma subsampling then smears the colour part of it over the
/// neighbouring pixels and channels, keeping only the luma part in place (to a third of the
/// offset for blue under 4:2:0). So the offset is read from the luma: the channels' mean
/// residuals weighted by [`LUMA`], over the luma weight of the photosite's colour (the channel
/// with the largest residual), added to that channel's neighbour level.
pub fn offset(m: &Moments, at: usize, levels: &Levels) -> f32 {
    let shape = m.shape;
    let (x, y, _) = shape.position(at);
    let linear = |v: f32| levels.linear(v, x, y);
    if shape.cfa.is_some() || shape.channels != 3 {
        return linear(m.mean[at]) - linear(m.mean[at] - m.res_mean[at]);
    }
    let residual = pixel_residual(m, x, y);
    let colour = strongest(residual);
    let own = luma(residual) / LUMA[colour];
    let around = m.mean[shape.index(x, y, colour as u32)] - residual[colour];
    linear(around + own.max(residual[colour])) - linear(around)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::score::Thresholds;
    use crate::input::{Colour, Shape};

    /// Frames seen by the statistics below.
    const FRAMES: u32 = 30;
    /// Spread of every subpixel's value but the defect's, in 8-bit levels.
    const SCENE_STD: f32 = 40.0;

    /// Statistics over [`FRAMES`] frames of `shape` whose subpixels all have the mean and spread
    /// `scene`, but the one at (8, 8): the mean and spread `value`, a residual of its mean minus
    /// the scene's varying by `residual_std`, and a defect there with `score` and `colour`.
    fn planted(
        shape: Shape,
        scene: [f32; 2],
        value: [f32; 2],
        residual_std: f32,
        score: f32,
        colour: Colour,
    ) -> (Moments, Defect) {
        let m2 = |std: f32| std * std * (FRAMES - 1) as f32;
        let mut m = Moments::new(shape);
        m.n = FRAMES;
        m.mean.fill(scene[0]);
        m.m2.fill(m2(scene[1]));
        let index = shape.index(8, 8, 0);
        let [mean, std] = value;
        m.mean[index] = mean;
        m.m2[index] = m2(std);
        m.res_mean[index] = mean - scene[0];
        m.res_m2[index] = m2(residual_std);
        let defect = Defect {
            x: 8,
            y: 8,
            channel: 0,
            colour,
            kind: Kind::Warm,
            score,
            mean,
            std,
            residual: mean - scene[0],
            residual_std,
            pixels: vec![[8, 8]],
            index,
            seen: None,
            dark: None,
        };
        (m, defect)
    }

    /// A grey 8-bit sRGB image whose subpixels all vary by [`SCENE_STD`] around 60 (about 4.5 %
    /// linear light), and a defect with `mean` and `std` that stands above its neighbours, its
    /// residual varying by 130.
    fn brighter(mean: f32, std: f32) -> (Moments, Defect) {
        let shape = Shape::new(16, 16, 1, 8).unwrap();
        planted(
            shape,
            [60.0, SCENE_STD],
            [mean, std],
            130.0,
            9.0,
            Colour::Grey,
        )
    }

    fn kind(m: &Moments, defect: &Defect) -> Kind {
        kind_with(m, defect, &Levels::encoded(8))
    }

    fn kind_with(m: &Moments, defect: &Defect, levels: &Levels) -> Kind {
        let scores = Scores {
            candidates: vec![defect.index],
            values: vec![defect.score],
            thresholds: Thresholds {
                method: "residual",
                median: 0.0,
                spread: 1.0,
                threshold: 7.0,
                sensitivity: 1.0,
            },
            location: vec![0.0],
            scale: vec![1.0],
        };
        classify(m, &scores, defect, false, levels)
    }

    /// JPEG spreads a hot blue photosite over its neighbours, and the strongest score can sit a
    /// pixel off it, where the offset looks warm: the offset is read where the luma of the
    /// residual peaks, at its strongest channel.
    #[test]
    fn the_offset_is_read_where_the_photosite_is() {
        let shape = Shape::new(16, 16, 3, 8).unwrap();
        let per = (FRAMES - 1) as f32;
        let mut m = Moments::new(shape);
        m.n = FRAMES;
        m.mean.fill(60.0);
        m.m2.fill(SCENE_STD * SCENE_STD * per);
        m.res_m2.fill(10.0 * 10.0 * per);
        let plant = |m: &mut Moments, x: u32, residual: [f32; 3]| {
            for (c, r) in residual.into_iter().enumerate() {
                let i = shape.index(x, 8, c as u32);
                m.res_mean[i] = r;
                m.mean[i] = 60.0 + r;
            }
        };
        plant(&mut m, 8, [20.0, 15.0, 60.0]);
        plant(&mut m, 9, [5.0, 4.0, 20.0]);
        let (photosite, beside) = (shape.index(8, 8, 2), shape.index(9, 8, 2));
        let defect = Defect {
            x: 9,
            y: 8,
            channel: 2,
            colour: Colour::Blue,
            kind: Kind::Warm,
            score: 12.0,
            mean: m.mean[beside],
            std: m.std(beside),
            residual: m.res_mean[beside],
            residual_std: m.res_std(beside),
            pixels: vec![[9, 8], [8, 8], [10, 8]],
            index: beside,
            seen: None,
            dark: None,
        };
        let levels = Levels::encoded(8);
        assert_eq!(reading_point(&m, &defect), photosite);
        assert!(offset(&m, beside, &levels) < HOT_OFFSET);
        assert!(offset(&m, photosite, &levels) >= HOT_OFFSET);
        assert_eq!(kind(&m, &defect), Kind::Hot);
        // The defect is reported there too, its photosite first among its pixels; its numbers
        // stay its strongest subpixel's.
        let mut placed = defect.clone();
        crate::detect::place(&m, &mut placed);
        assert_eq!((placed.x, placed.y), (8, 8));
        assert_eq!(placed.pixels, vec![[8, 8], [9, 8], [10, 8]]);
        assert_eq!((placed.index, placed.score), (beside, defect.score));
    }

    /// A hot photosite 140 levels above a dark scene varies half as much as its surroundings in
    /// sRGB levels (the curve compresses its brighter values) but more than they do in linear
    /// light: it is hot, not stuck. One that hardly varies at that level is stuck.
    #[test]
    fn stillness_is_judged_in_linear_light() {
        let (m, hot) = brighter(200.0, 0.5 * SCENE_STD);
        assert_eq!(kind(&m, &hot), Kind::Hot);
        let (m, stuck) = brighter(200.0, 0.1 * SCENE_STD);
        assert_eq!(kind(&m, &stuck), Kind::Stuck);
        // From JPEG, where the codec mixes pixels in encoded values, spreads are compared in
        // those: half the surroundings' spread is still.
        let (m, half) = brighter(200.0, 0.5 * SCENE_STD);
        assert_eq!(kind_with(&m, &half, &jpeg()), Kind::Stuck);
    }

    /// The levels of a JPEG: sRGB, mixed by the codec.
    fn jpeg() -> Levels {
        Levels {
            codec_mixed: true,
            ..Levels::encoded(8)
        }
    }

    /// The kind of a still JPEG pixel 140 levels above its neighbours on average, its residual
    /// steady next to that (a spread of 60), over `frames` frames of which it read below its
    /// neighbours in `below`.
    fn still_above(frames: u32, below: u16) -> Kind {
        let shape = Shape::new(16, 16, 1, 8).unwrap();
        let (mut m, defect) = planted(
            shape,
            [60.0, SCENE_STD],
            [200.0, 0.5 * SCENE_STD],
            60.0,
            9.0,
            Colour::Grey,
        );
        m.n = frames;
        m.below[defect.index] = below;
        kind_with(&m, &defect, &jpeg())
    }

    /// A still JPEG pixel well above its neighbours on average, its residual steady next to its
    /// size: hot while it never reads below them, stuck once it does so in a few frames in a
    /// hundred (a stuck level the brightest scenes outshine).
    #[test]
    fn a_still_photosite_that_sometimes_reads_below_its_neighbours_is_stuck() {
        assert_eq!(still_above(FRAMES, 0), Kind::Hot);
        assert_eq!(
            still_above(FRAMES, 1),
            Kind::Hot,
            "one frame in 30 is below the share"
        );
        assert_eq!(still_above(FRAMES, 2), Kind::Stuck);
        assert_eq!(still_above(FRAMES, 10), Kind::Stuck);
    }

    /// From few frames one frame below is 4 % and more, but one frame may be noise, or one
    /// before a hot photosite appeared: it takes two.
    #[test]
    fn one_frame_below_is_not_enough() {
        assert_eq!(still_above(24, 1), Kind::Hot);
        assert_eq!(still_above(24, 2), Kind::Stuck);
    }

    /// A still RAW photosite darker than a bright scene is stuck at 30 % of full scale (however
    /// far the scene outshines it) and dead at black; one that follows the scene is dead.
    #[test]
    fn a_still_raw_photosite_is_dead_only_at_black() {
        let levels = Levels {
            black: [256.0; 4],
            white: 4095.0,
            encoding: crate::input::Encoding::Linear,
            codec_mixed: false,
        };
        let shape = Shape::raw(16, 16, crate::input::Cfa::parse("RGGB").unwrap()).unwrap();
        let darker = |mean: f32, std: f32| {
            let (m, defect) = planted(
                shape,
                [3000.0, 400.0],
                [mean, std],
                400.0,
                -9.0,
                Colour::Red,
            );
            kind_with(&m, &defect, &levels)
        };
        assert_eq!(darker(256.0 + 0.3 * 3839.0, 3.0), Kind::Stuck);
        assert_eq!(darker(258.0, 3.0), Kind::Dead);
        assert_eq!(darker(1000.0, 380.0), Kind::Dead);
    }
}
