//! Detection: from per-subpixel statistics to physical defects — the lowest-`M2` ranking, the
//! neighbour-residual score with automatic thresholds, the rise with the exposure of a dark
//! current, clustering and kinds.

pub mod classify;
pub mod cluster;
pub mod dark;
pub mod defect;
pub mod rank;
pub mod score;
pub mod timeline;
pub mod variety;

pub use cluster::cluster;
pub use defect::{DarkCurrent, Defect, Kind, Seen, Sighting};
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
    /// The threshold of the dark-current score, when the statistics have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dark_threshold: Option<f32>,
    /// The score of the steepest falling slope, when falls as steep as the drawn threshold were
    /// too many beside the rises and the threshold was raised ([`dark::score`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dark_falls: Option<f32>,
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
    let mut scores = score(m, options, levels);
    let dark = dark::score(m, options.sensitivity);
    if let Some(d) = &dark {
        scores.add(dark_candidates(m, d, levels));
    }
    let mut defects = cluster(m, &scores);
    for d in &mut defects {
        d.kind = classify::classify(m, &scores, d, options.dark, levels);
        place(m, d);
        // A dark current is a brighter offset: hot or warm, not a stuck or dead photosite.
        if let (Some(dark), Kind::Hot | Kind::Warm) = (&dark, d.kind) {
            d.dark = dark_current(m, dark, d, levels);
            if let (Some(dc), Kind::Hot | Kind::Warm) = (d.dark, d.kind) {
                // A dark current is hot or warm by what it reaches at 1 s, ISO 800.
                d.kind = if dc.offset_at(dark::REFERENCE_EXPOSURE) >= classify::HOT_OFFSET as f64 {
                    Kind::Hot
                } else {
                    Kind::Warm
                };
            }
        }
    }
    Detection {
        defects,
        thresholds: scores.thresholds,
        dark_threshold: dark.as_ref().map(|d| d.threshold),
        dark_falls: dark.as_ref().and_then(|d| d.falls),
        location: scores.location,
    }
}

/// The subpixels of the dark-current candidate positions that show in the frames
/// ([`dark_current_at`]), with their scores: a RAW photosite itself; of a pixel, the channel whose
/// mean residual is the largest.
fn dark_candidates(m: &Moments, dark: &dark::DarkScores, levels: &Levels) -> Vec<(usize, f32)> {
    let c = m.shape.channels as usize;
    dark.candidates
        .iter()
        .zip(&dark.values)
        .filter(|&(&p, _)| dark_current_at(m, dark, p, levels).is_some())
        .map(|(&p, &s)| {
            let best = (p * c..(p + 1) * c)
                .max_by(|&a, &b| m.res_mean[a].total_cmp(&m.res_mean[b]))
                .expect("a pixel has a channel");
            (best, s)
        })
        .collect()
}

/// How defect `d` grows with the exposure ([`dark_current_at`] its photosite).
fn dark_current(
    m: &Moments,
    scores: &dark::DarkScores,
    d: &Defect,
    levels: &Levels,
) -> Option<DarkCurrent> {
    let p = (d.y as usize) * m.shape.width as usize + d.x as usize;
    dark_current_at(m, scores, p, levels)
}

/// How position `p` grows with the exposure, when its slope is significant and rising and its
/// offset reaches [`dark::SHOW_OFFSET`] within the frames' exposures (a rise none of them shows
/// is not reported): its rate and offset in linear light, where it shows, and its score.
fn dark_current_at(
    m: &Moments,
    scores: &dark::DarkScores,
    p: usize,
    levels: &Levels,
) -> Option<DarkCurrent> {
    let fit = scores.fit(p)?;
    let score = scores.score(p)?;
    if score < scores.threshold || fit.rate <= 0.0 {
        return None;
    }
    let (x, y) = (
        (p % m.shape.width as usize) as u32,
        (p / m.shape.width as usize) as u32,
    );
    let (rate, offset) = dark::linear(&fit, levels, x, y);
    let visible_from = dark::visible_from(rate, offset)?;
    (visible_from as f64 <= scores.longest()).then_some(DarkCurrent {
        dark_rate: rate,
        dark_offset: offset,
        visible_from,
        dark_score: score,
    })
}
