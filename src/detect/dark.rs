//! Dark current: a hot or warm photosite's offset grows with exposure time × gain (the dark
//! signal EMVA 1288 measures as a rise with the exposure time), so it is found by how its residual
//! rises with the frames' exposure `e` (seconds × ISO / 100), even when most frames, short ones,
//! do not show it.
//!
//! Per position ([`crate::stats::dark`]) a straight line `residual = offset + rate × e` is fitted by
//! weighted least squares to the frames that did not clip there — taken to be its shortest
//! exposures: a dark current clips the longest ones first. The rate's standard error comes from
//! the frames' own misfits to the line, each counted by how much it moves the slope (HC3), so a
//! bright detail of the scene in one or two long exposures, or a dark one in a short exposure,
//! makes the slope uncertain instead of steep. Frames that clipped there say the offset reached
//! the headroom: when the line reaches it at their exposures they agree with it and lend it their
//! leverage. The slope's significance (rate over error) is scored against the sensor's, per class
//! of position, in robust standard deviations, like the residual score.

use rayon::prelude::*;
use serde::Serialize;

use super::score::{median_spread, DEFAULT_K, MIN_SCORE_SPREAD, MIN_THRESHOLD};
use crate::geometry::Geometry;
use crate::input::Levels;
use crate::stats::dark::{leverage_weight, sum, MAX_LEVERAGE};
use crate::stats::{DarkMoments, Moments};

/// A frame exposed at 1 s at ISO 800, as seconds at ISO 100: where hot is told from warm.
pub const REFERENCE_EXPOSURE: f64 = 8.0;

/// A dark-current defect shows once its offset reaches this fraction of full scale (linear
/// light): 2 %, a step of about 25 levels of 8-bit sRGB over a dark scene.
pub const SHOW_OFFSET: f32 = 0.02;

/// Fewer unclipped frames than this fit no line.
pub const MIN_FIT_FRAMES: usize = 4;

/// The least misfit a frame is taken to have, in the residual's units (half a step of the
/// samples): a line through noiseless frames is not infinitely sure.
pub const MIN_MISFIT: f64 = 0.5;

/// Positions the sensor's robust statistics are drawn from, at most.
const SAMPLED_POSITIONS: usize = 500_000;

/// The straight line fitted to one position's residual against the exposure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DarkFit {
    /// Rise of the residual per unit of exposure (per second at ISO 100), in the frames' own
    /// residual units (channels summed).
    pub rate: f32,
    /// The residual at zero exposure, in the same units.
    pub offset: f32,
    /// The rate's standard error.
    pub error: f32,
    /// Frames the line was fitted to (those with an exposure that did not clip there).
    pub frames: u32,
}

impl DarkFit {
    /// How many standard errors the rate is from zero.
    pub fn significance(&self) -> f32 {
        self.rate / self.error
    }
}

/// The frames' exposures sorted from the shortest, as distances `d = e − reference` from the sums'
/// reference, with prefix sums over the first `k` of them: `[Σω, Σωd, Σωd², Σκ, Σκd, Σκd²]`, `ω`
/// being each frame's leverage weight and `κ` its misfit weight.
struct Design {
    distances: Vec<f64>,
    /// Each frame's leverage weight `ω`, in the same order.
    weights: Vec<f64>,
    prefix: Vec<[f64; 6]>,
    /// Per number `k` of frames kept (not clipped) at a position, what its fit needs of them
    /// ([`Kept`]): the same for every position that kept `k`. `None` where no line is fitted.
    kept: Vec<Option<Kept>>,
}

/// What the fit of a position that kept the first `k` frames needs of them, worked out once per
/// `k` rather than once per position.
#[derive(Clone, Copy, Debug)]
struct Kept {
    /// `Σω` of the `k` frames.
    sw: f64,
    /// `Σκ`, `Σκd`, `Σκd²` of the `k` frames.
    misfit: [f64; 3],
    /// Their weighted mean distance and spread ([`Design::line`]).
    mean: f64,
    spread: f64,
    /// The spread over the spread of all the frames: the error's factor when the clipped frames
    /// agree with the line.
    agreeing: f64,
    /// One frame carries the line ([`MAX_LEVERAGE`]).
    carried: bool,
}

impl Design {
    fn of(dark: &DarkMoments) -> Self {
        let reference = dark.setup.reference();
        let mut frames: Vec<(f64, f64)> = dark
            .exposures
            .iter()
            .zip(&dark.misfit_weights)
            .map(|(&e, &k)| (e as f64, k as f64))
            .collect();
        frames.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut prefix = Vec::with_capacity(frames.len() + 1);
        let mut acc = [0.0f64; 6];
        prefix.push(acc);
        for &(e, k) in &frames {
            let (w, d) = (leverage_weight(e), e - reference);
            for (a, t) in acc
                .iter_mut()
                .zip([w, w * d, w * d * d, k, k * d, k * d * d])
            {
                *a += t;
            }
            prefix.push(acc);
        }
        let mut design = Design {
            distances: frames.iter().map(|&(e, _)| e - reference).collect(),
            weights: frames.iter().map(|&(e, _)| leverage_weight(e)).collect(),
            prefix,
            kept: Vec::new(),
        };
        design.kept = (0..=frames.len()).map(|k| design.kept_of(k)).collect();
        design
    }

    /// [`Kept`] of the first `k` frames; `None` when fewer than [`MIN_FIT_FRAMES`] or when they
    /// do not spread.
    fn kept_of(&self, k: usize) -> Option<Kept> {
        if k < MIN_FIT_FRAMES {
            return None;
        }
        let [sw, _, _, sk, skd, skdd] = self.prefix[k];
        let (mean, spread) = self.line(k);
        (spread > 0.0).then(|| Kept {
            sw,
            misfit: [sk, skd, skdd],
            mean,
            spread,
            agreeing: spread / self.line(self.frames()).1,
            carried: self.max_leverage(k) > MAX_LEVERAGE,
        })
    }

    fn frames(&self) -> usize {
        self.distances.len()
    }

    /// The largest leverage (hat value) among the first `k` frames on their line: the shortest's
    /// or the longest's.
    fn max_leverage(&self, k: usize) -> f64 {
        let sw = self.prefix[k][0];
        let (mean, spread) = self.line(k);
        [0, k - 1]
            .into_iter()
            .map(|i| {
                let (w, d) = (self.weights[i], self.distances[i] - mean);
                w / sw + w * d * d / spread
            })
            .fold(0.0, f64::max)
    }

    /// The weighted mean distance and the weighted spread `Σω(d − d̄)²` of the first `k` frames.
    fn line(&self, k: usize) -> (f64, f64) {
        let [sw, swd, swdd, ..] = self.prefix[k];
        let mean = swd / sw;
        (mean, swdd - swd * mean)
    }
}

/// The fit of position `p` ([module docs](self)); `None` when too few frames did not clip there.
fn fit_at(dark: &DarkMoments, design: &Design, p: usize) -> Option<DarkFit> {
    let frames = design.frames();
    let clipped = (dark.clipped[p] as usize).min(frames);
    let kept = frames - clipped;
    let Kept {
        sw,
        misfit: [sk, skd, skdd],
        mean,
        spread,
        agreeing,
        carried,
    } = design.kept[kept]?;
    let at = |k: usize| dark.sums[k][p] as f64;
    let rate = (at(sum::WEIGHTED) - at(sum::SUM) * mean) / spread;
    // The line's value at the reference (d = 0).
    let level = at(sum::SUM) / sw - rate * mean;
    // Σκ(r − level − rate·d)², expanded over the sums.
    let misfits = at(sum::MISFIT_SQUARES)
        - 2.0 * level * at(sum::MISFIT_SUM)
        - 2.0 * rate * at(sum::MISFIT_WEIGHTED)
        + level * level * sk
        + 2.0 * level * rate * skd
        + rate * rate * skdd;
    let misfits = misfits.max(MIN_MISFIT * MIN_MISFIT * sk);
    let mut error = misfits.sqrt() / spread;
    if clipped > 0 && level + rate * design.distances[kept] >= dark.setup.headroom() {
        // The clipped frames agree with the line: their leverage is the line's too.
        error *= agreeing;
    } else if carried {
        // One frame carries the line (a single long exposure): its misfit cannot show, and a
        // bright detail of the scene in it would pass for a dark current.
        return None;
    }
    Some(DarkFit {
        rate: rate as f32,
        offset: (level - rate * dark.setup.reference()) as f32,
        error: error as f32,
        frames: kept as u32,
    })
}

/// The fit of position `p` of `m` (with dark-current sums: `None` without), one position alone.
pub fn fit(m: &Moments, p: usize) -> Option<DarkFit> {
    let dark = m.dark.as_ref()?;
    fit_at(dark, &Design::of(dark), p)
}

/// The class of position `p`: its Bayer position for RAW photosites, one class for pixels.
fn class(g: Geometry, channels: usize, p: usize) -> usize {
    if channels == 1 {
        g.class_of(p)
    } else {
        0
    }
}

/// Every position's dark-current score: its fit's significance against the sensor's, per class
/// of position ([module docs](self)).
pub struct DarkScores<'a> {
    dark: &'a DarkMoments,
    design: Design,
    geometry: Geometry,
    channels: usize,
    /// The robust location and spread of the significance per class.
    usual: Vec<(f32, f32)>,
    /// A position whose score reaches this is a candidate: the threshold drawn as the residual
    /// score's is, or higher when slopes fall as steeply ([`score`]).
    pub threshold: f32,
    /// When the threshold was raised for the falls: the steepest one's score, negated (how far
    /// below the sensor's usual it fell).
    pub falls: Option<f32>,
    /// Candidate positions, ascending.
    pub candidates: Vec<usize>,
    /// Their scores, in the same order.
    pub values: Vec<f32>,
}

impl DarkScores<'_> {
    /// The fit at position `p`, when one can be made.
    pub fn fit(&self, p: usize) -> Option<DarkFit> {
        fit_at(self.dark, &self.design, p)
    }

    /// The longest exposure of the frames (seconds at ISO 100).
    pub fn longest(&self) -> f64 {
        self.design
            .distances
            .last()
            .map_or(0.0, |d| d + self.dark.setup.reference())
    }

    /// Position `p`'s score: its significance over the sensor's, in robust standard deviations.
    pub fn score(&self, p: usize) -> Option<f32> {
        let (median, spread) = self.usual[class(self.geometry, self.channels, p)];
        self.fit(p).map(|f| (f.significance() - median) / spread)
    }
}

/// Scores every position of `m` (with dark-current sums: `None` without) and keeps those whose
/// score reaches the threshold, drawn as the residual score's is, at `sensitivity` — raised when
/// slopes *fall* as far below the sensor's usual as that threshold is above it
/// (until such falls are at most [`FALSE_RISE_SHARE`] of the rises kept, from [`MIN_FALLS`] of
/// them on). A dark current only rises; a fall that steep is a detail of the scene
/// in the few frames that carry the slopes (a night burst, one or two long exposures), and such
/// details rise as often as they fall: measured on a set whose two longest frames carry every
/// slope, 2,969 positions rose 7 robust spreads or more and 2,443 fell as far, 9 and 7 at 20; on
/// sets with frames enough, none fell 7.
pub fn score(m: &Moments, sensitivity: f32) -> Option<DarkScores<'_>> {
    let dark = m.dark.as_ref()?;
    let design = Design::of(dark);
    let g = Geometry::of(m.shape);
    let channels = m.shape.channels as usize;
    let positions = m.shape.pixels();
    let classes = if channels == 1 { g.classes() } else { 1 };
    let stride = (positions / SAMPLED_POSITIONS).max(1) | 1;
    let mut by_class = vec![Vec::new(); classes];
    for p in (0..positions).step_by(stride) {
        if let Some(fit) = fit_at(dark, &design, p) {
            by_class[class(g, channels, p)].push(fit.significance());
        }
    }
    let usual = by_class
        .iter_mut()
        .map(|v| {
            let (median, spread) = median_spread(v);
            (median, spread.max(MIN_SCORE_SPREAD))
        })
        .collect();
    let sensitivity = if sensitivity > 0.0 { sensitivity } else { 1.0 };
    let mut scores = DarkScores {
        dark,
        design,
        geometry: g,
        channels,
        usual,
        threshold: (DEFAULT_K / sensitivity).max(MIN_THRESHOLD / sensitivity),
        falls: None,
        candidates: Vec::new(),
        values: Vec::new(),
    };
    // Rises that reach the drawn threshold, and falls as steep, in one pass.
    let drawn = scores.threshold;
    let (mut hits, mut falls) = (0..positions)
        .into_par_iter()
        .filter_map(|p| scores.score(p).map(|s| (p, s)))
        .filter(|&(_, s)| s.abs() >= drawn)
        .fold(
            || (Vec::new(), Vec::new()),
            |(mut hits, mut falls), (p, s)| {
                if s > 0.0 {
                    hits.push((p, s));
                } else {
                    falls.push(-s);
                }
                (hits, falls)
            },
        )
        .reduce(
            || (Vec::new(), Vec::new()),
            |(mut a, mut fa), (b, fb)| {
                a.extend(b);
                fa.extend(fb);
                (a, fa)
            },
        );
    hits.sort_unstable_by_key(|&(p, _)| p);
    if let Some(t) = mirrored_threshold(drawn, &hits, &mut falls) {
        scores.falls = falls.iter().copied().reduce(f32::max);
        scores.threshold = t;
        hits.retain(|&(_, s)| s >= t);
    }
    (scores.candidates, scores.values) = hits.into_iter().unzip();
    Some(scores)
}

/// The least threshold, above the drawn one, at which the falls as steep (`falls`, their scores
/// negated) are at most [`FALSE_RISE_SHARE`] of the rises that reach it (`hits`): `None` when the
/// drawn threshold already is, or when fewer than [`MIN_FALLS`] fall that steeply. Scene detail
/// rises as often as it falls, so the falls count the rises that are not dark current.
fn mirrored_threshold(drawn: f32, hits: &[(usize, f32)], falls: &mut [f32]) -> Option<f32> {
    let mut rises: Vec<f32> = hits.iter().map(|&(_, s)| s).collect();
    rises.sort_unstable_by(|a, b| b.total_cmp(a));
    falls.sort_unstable_by(|a, b| b.total_cmp(a));
    let false_share = |t: f32| {
        let r = rises.partition_point(|&s| s >= t);
        let f = falls.partition_point(|&s| s >= t);
        f as f32 <= FALSE_RISE_SHARE * r as f32
    };
    if falls.len() < MIN_FALLS || false_share(drawn) {
        return None;
    }
    // Candidate thresholds: just above each fall, steepest last; the least that holds.
    falls
        .iter()
        .rev()
        .map(|&f| f.next_up())
        .find(|&t| false_share(t))
}

/// The most the falls as steep as a threshold may be of the rises that reach it.
pub const FALSE_RISE_SHARE: f32 = 0.05;

/// Falls as steep as the drawn threshold that say the slopes are scene detail: fewer are a few
/// odd positions (a photosite whose neighbour is defective, a clipped corner), not a pattern.
pub const MIN_FALLS: usize = 10;

/// A fit's rate and offset in linear light, as fractions of full scale (per second at ISO 100
/// for the rate), at `(x, y)`: the sums are of residuals in linear light already (an image's
/// samples through the sRGB curve, [`crate::stats::dark::DarkTable`]), in units of the samples'
/// range, so this is their share of it. From an image it stays an estimate: the camera's
/// rendering and JPEG's compression reshape an offset before the file holds it.
pub fn linear(fit: &DarkFit, levels: &Levels, x: u32, y: u32) -> (f32, f32) {
    let per_value = 1.0 / levels.range_at(x, y);
    (fit.rate * per_value, fit.offset * per_value)
}

/// The shortest exposure (seconds at ISO 100) at which an offset of `offset` plus `rate` per
/// second (linear light) reaches [`SHOW_OFFSET`]: 0 when it always does, `None` when it never
/// rises.
pub fn visible_from(rate: f32, offset: f32) -> Option<f32> {
    if offset >= SHOW_OFFSET {
        return Some(0.0);
    }
    (rate > 0.0).then(|| (SHOW_OFFSET - offset) / rate)
}

/// An exposure the defects are judged at (`--at 30s@1600`, `--at 1/250@100`): only those that
/// would show in a frame exposed so are kept ([`AtExposure::shows`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct AtExposure {
    /// Exposure time, seconds.
    pub seconds: f64,
    /// ISO setting.
    pub iso: u32,
}

impl AtExposure {
    /// Parses `TIME@ISO`: TIME in seconds as a number (`30`, `0.5`, with or without an `s`) or a
    /// fraction (`1/250`); ISO a whole number.
    pub fn parse(text: &str) -> Result<Self, String> {
        let wrong =
            |why: &str| format!("'{text}': {why} (expected TIME@ISO, as 30s@1600 or 1/250@100)");
        let (time, iso) = text.split_once('@').ok_or_else(|| wrong("no '@'"))?;
        let time = time.trim().trim_end_matches('s');
        let seconds = match time.split_once('/') {
            Some((n, d)) => {
                let (n, d): (f64, f64) = (
                    n.trim().parse().map_err(|_| wrong("not a time"))?,
                    d.trim().parse().map_err(|_| wrong("not a time"))?,
                );
                n / d
            }
            None => time.parse().map_err(|_| wrong("not a time"))?,
        };
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(wrong("the time must be positive"));
        }
        let iso: u32 = iso.trim().parse().map_err(|_| wrong("not an ISO"))?;
        if iso == 0 {
            return Err(wrong("the ISO must be positive"));
        }
        Ok(AtExposure { seconds, iso })
    }

    /// The exposure as seconds at ISO 100.
    pub fn exposure(&self) -> f64 {
        self.seconds * self.iso as f64 / 100.0
    }

    /// True when a defect that grows as `dark` says (`None`: a constant offset, which always
    /// shows) shows at this exposure: its offset reaches [`SHOW_OFFSET`] by then.
    pub fn shows(&self, dark: Option<&crate::detect::DarkCurrent>) -> bool {
        dark.is_none_or(|d| d.visible_from as f64 <= self.exposure())
    }

    /// `30 s at ISO 1600`, `1/250 s at ISO 100`.
    pub fn describe(&self) -> String {
        let time = if self.seconds < 1.0
            && (1.0 / self.seconds - (1.0 / self.seconds).round()).abs() < 1e-6
        {
            format!("1/{}", (1.0 / self.seconds).round())
        } else {
            format!("{}", (self.seconds * 1000.0).round() / 1000.0)
        };
        format!("{time} s at ISO {}", self.iso)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Encoding, Frame, Shape};
    use crate::stats::{Accumulator, CpuAccumulator, DarkSetup};

    /// Side of the frames of [`moments`].
    const SIDE: u32 = 8;
    /// The photosite that rises, at (`RISING`, `RISING`).
    const RISING: usize = 4;

    /// The statistics of flat 16-bit frames exposed `exposures` (seconds at ISO 100), in which
    /// one photosite reads `rate × e` above its neighbours.
    fn moments(exposures: &[f64], rate: f64) -> Moments {
        let shape = Shape::new(SIDE, SIDE, 1, 16).unwrap();
        let setup = DarkSetup::new(exposures, 0, 4095, Encoding::Linear);
        let mut acc = Box::new(CpuAccumulator::with_dark(shape, Some(setup)));
        for &e in exposures {
            let mut samples = vec![1000u16; shape.subpixels()];
            samples[RISING * SIDE as usize + RISING] += (rate * e).round() as u16;
            let frame = Frame::from_u16(shape, samples).unwrap();
            acc.add(frame.with_exposure(Some(e))).unwrap();
        }
        acc.finish().unwrap()
    }

    /// A rise that a single long exposure carries (its leverage beyond [`MAX_LEVERAGE`]) fits no
    /// line: its misfit cannot show. With a second long exposure the same rise fits, at its rate.
    #[test]
    fn a_rise_one_long_exposure_carries_fits_no_line() {
        let p = RISING * SIDE as usize + RISING;
        let short = [0.01; 10];
        let one: Vec<f64> = short.iter().copied().chain([30.0]).collect();
        let two: Vec<f64> = short.iter().copied().chain([30.0, 25.0]).collect();
        assert_eq!(fit(&moments(&one, 40.0), p), None);
        let line = fit(&moments(&two, 40.0), p).expect("two long exposures fit a line");
        assert!((line.rate - 40.0).abs() < 0.5, "{line:?}");
        assert!(line.significance() > 100.0, "{line:?}");
    }
}
