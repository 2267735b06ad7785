//! Detection: from per-subpixel statistics to physical defects — the lowest-`M2` ranking, the
//! neighbour-residual score with automatic thresholds, clustering and kinds.

pub mod classify;
pub mod cluster;
pub mod defect;
pub mod rank;
pub mod score;
pub mod timeline;
pub mod variety;

pub use cluster::cluster;
pub use defect::{Defect, Kind, Seen, Sighting};
pub use rank::{lowest_m2, Candidate};
pub use score::{score, Scores, Thresholds};

use serde::Serialize;

use crate::input::{Encoding, Levels};
use crate::stats::Moments;

/// How detection looks for frozen subpixels ([`score::frozen`]): stuck (or dead) photosites that
/// vary far less than their surroundings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FrozenSearch {
    /// Not at all.
    Off,
    /// Only those whose score also reaches [`score::FROZEN_SUPPORT`] of the threshold: what a
    /// scan uses when the frames are too few, or show too few scenes, to trust the spreads alone
    /// (a still patch of the scene varies as little, but does not also stand out).
    Supported,
    /// Every one ([`score::frozen_counts`]).
    Full,
}

/// How detection runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectOptions {
    /// Multiplies how far from the sensor's typical score a subpixel must be to count: above 1
    /// finds fainter defects (and more false ones), below 1 only clear ones.
    pub sensitivity: f32,
    /// The frames are dark frames (lens cap on): rank by how far the mean stands above or below
    /// the sensor's dark level instead of by the neighbour residual.
    pub dark: bool,
    /// How to look for subpixels that vary far less than their surroundings (stuck ones): this
    /// needs frames of varied scenes, as in one scene a still patch looks the same.
    pub frozen: FrozenSearch,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            sensitivity: 1.0,
            dark: false,
            frozen: FrozenSearch::Full,
        }
    }
}

/// Detection's verdict: the defects, strongest first, and the thresholds that chose them.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// One entry per physical defect, ordered by score (highest first).
    pub defects: Vec<Defect>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// Robust location of the quantity scored per class of subpixels ([`Scores::location`]):
    /// where a subpixel without a defect sits.
    #[serde(skip)]
    pub location: Vec<f32>,
}

/// Puts a defect's `x`, `y` where its photosite is, its [`classify::reading_point`] — in an RGB
/// photo the pixel its luma residual peaks at, as demosaicking and JPEG spread a photosite over
/// its neighbours and the strongest score often sits a pixel off it; elsewhere its strongest
/// subpixel — and lists that pixel first among its `pixels`, so that lists made from the photos
/// name the photosite first. Its numbers stay those of its strongest subpixel.
pub fn place(m: &Moments, defect: &mut Defect) {
    let (x, y, _) = m.shape.position(classify::reading_point(m, defect));
    defect.x = x;
    defect.y = y;
    if let Some(k) = defect.pixels.iter().position(|&p| p == [x, y]) {
        defect.pixels[..=k].rotate_right(1);
    }
}

/// [`detect_with`] on the levels an image of `m`'s shape usually has: sRGB-encoded from 0 to the
/// largest value; for a RAW shape (whose levels only its files know), linear from 0.
pub fn detect(m: &Moments, options: &DetectOptions) -> Detection {
    let mut levels = Levels::encoded(m.shape.bit_depth);
    if m.shape.cfa.is_some() {
        levels.encoding = Encoding::Linear;
    }
    detect_with(m, options, &levels)
}

/// Scores every subpixel, keeps those over the automatic threshold, clusters them into defects
/// and names each defect's kind, judging offsets in linear light through `levels`; then places
/// each defect where its photosite is ([`place`]).
pub fn detect_with(m: &Moments, options: &DetectOptions, levels: &Levels) -> Detection {
    let scores = score(m, options, levels);
    let mut defects = cluster(m, &scores);
    for d in &mut defects {
        d.kind = classify::classify(m, &scores, d, options.dark, levels);
        place(m, d);
    }
    Detection {
        defects,
        thresholds: scores.thresholds,
        location: scores.location,
    }
}
