//! The timeline of a camera's defects: the frames counted in windows of capture-time order, each
//! window's detection kept as candidates, so that a defect that appeared late is found, named by
//! what it has been since, and dated (first and last seen, and how often it stood out since).
//!
//! A dark current shows only in frames exposed long enough for its rate ([`DarkCurrent`]): it is
//! dated from those frames alone, first seen at the first that could show it. It appeared only
//! when it stands out in the last window and the frames before its first window, fitted alone,
//! rose with the exposure at less than [`APPEARED_SHARE`] of its rate in that window, by
//! [`APPEARED_CONFIDENCE`] standard errors: frames too short to show it say nothing of it.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::cluster::ECHO_DISTANCE;
use super::dark::{self, DarkFit};
use super::{DarkCurrent, Defect, Detection, Seen, Sighting};
use crate::geometry::Geometry;
use crate::input::exif::CaptureTime;
use crate::stats::Moments;

/// Frames per window at least: a window of fewer cannot tell a defect from the scene well, and
/// each window costs about as much as counting a dozen frames.
pub const MIN_WINDOW_FRAMES: usize = 24;

/// Windows at most, whatever the number of frames: each costs one detection.
pub const MAX_WINDOWS: usize = 16;

/// A defect absent from the first window appeared later when the frames before its first window
/// had less than this share of its level (else it was there, too faint to stand out in them).
pub const APPEARED_SHARE: f32 = 0.5;

/// ... and its level since stands this many standard errors beyond its level before (Welch's
/// t): a defect that stood out in no window before (a faint one, or a stuck one whose residual
/// follows the scene) is not taken for a new one by chance.
pub const APPEARED_CONFIDENCE: f32 = 4.0;

/// How many windows `frames` frames make: as many as hold [`MIN_WINDOW_FRAMES`] each, at most
/// [`MAX_WINDOWS`], at least one. A timeline needs two.
pub fn window_count(frames: usize) -> usize {
    (frames / MIN_WINDOW_FRAMES).clamp(1, MAX_WINDOWS)
}

/// The first of `files` files that window `w` of `count` holds: the windows split the files
/// evenly, in capture-time order (`w == count` gives `files`).
pub fn window_start(files: usize, count: usize, w: usize) -> usize {
    files * w / count
}

/// One window of frames, in capture-time order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// Its first frame.
    pub first: Sighting,
    /// Its last frame.
    pub last: Sighting,
    /// Frames counted in it.
    pub frames: u32,
}

/// What a scan of frames with capture times adds to its report: the windows its defects were
/// looked for in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    /// The windows, in capture-time order.
    pub windows: Vec<Window>,
}

impl Timeline {
    /// The first frame counted.
    pub fn first(&self) -> &Sighting {
        &self.windows[0].first
    }

    /// The last frame counted.
    pub fn last(&self) -> &Sighting {
        &self.windows[self.windows.len() - 1].last
    }
}

/// One subpixel's quantity scored (residual; value for dark frames) over a stretch of frames.
#[derive(Clone, Copy, Debug, Default)]
struct Stretch {
    /// Frames in the stretch.
    frames: u32,
    /// The mean over them.
    level: f32,
    /// The sample variance over them.
    variance: f32,
}

impl Stretch {
    /// Subpixel `i` of `m` (`dark`: the value is scored, else the residual).
    fn of(dark: bool, m: &Moments, i: usize) -> Self {
        let (level, variance) = if dark {
            (m.mean[i], m.variance(i))
        } else {
            (m.res_mean[i], m.res_variance(i))
        };
        Stretch {
            frames: m.n,
            level,
            variance,
        }
    }

    /// The stretches as one (Chan et al.'s merge of means and sums of squares).
    fn pooled<'a>(parts: impl IntoIterator<Item = &'a Stretch>) -> Stretch {
        let (mut n, mut mean, mut m2) = (0f64, 0f64, 0f64);
        for p in parts {
            let (nb, mb) = (f64::from(p.frames), f64::from(p.level));
            let m2b = f64::from(p.variance) * (nb - 1.0).max(0.0);
            let total = n + nb;
            if total == 0.0 {
                continue;
            }
            let delta = mb - mean;
            mean += delta * nb / total;
            m2 += m2b + delta * delta * n * nb / total;
            n = total;
        }
        Stretch {
            frames: n as u32,
            level: mean as f32,
            variance: if n > 1.0 {
                (m2 / (n - 1.0)) as f32
            } else {
                0.0
            },
        }
    }

    /// How many standard errors `self`'s level stands above `other`'s (Welch's t).
    fn above(&self, other: &Stretch) -> f32 {
        let se = |s: &Stretch| f64::from(s.variance) / f64::from(s.frames.max(1));
        let err = (se(self) + se(other)).sqrt().max(f64::from(f32::EPSILON));
        ((f64::from(self.level) - f64::from(other.level)) / err) as f32
    }
}

/// A window's look at one candidate subpixel.
#[derive(Clone, Copy, Debug)]
struct Look {
    /// The quantity scored over the window.
    stretch: Stretch,
    /// It stood out in the window (a pixel of one of the window's defects).
    stood_out: bool,
}

/// One candidate subpixel, from the window it first stood out in.
#[derive(Clone, Debug)]
struct Track {
    /// The window it first stood out in.
    first_window: usize,
    /// The quantity scored over the frames before that window.
    before: Stretch,
    /// One look per window from `first_window` on.
    looks: Vec<Look>,
    /// The window defect it stood out most in, and by how many times that window's threshold.
    best: Defect,
    ratio: f32,
    /// How its position rose with the exposure over the frames before its first window, and
    /// over that window.
    before_dark: Option<DarkFit>,
    first_dark: Option<DarkFit>,
}

/// Frame `frame` of `frames` (the last one when past the end) as a sighting.
fn sighting(frames: &[(PathBuf, CaptureTime)], frame: usize) -> Sighting {
    let frame = frame.min(frames.len() - 1);
    Sighting {
        taken: frames[frame].1,
        file: frames[frame].0.clone(),
        frame,
    }
}

impl Track {
    /// It stands out in every window from its first to the last of `count`.
    fn to_the_end(&self, count: usize) -> bool {
        self.first_window + self.looks.len() == count && self.looks.iter().all(|l| l.stood_out)
    }

    /// When it was seen, of `windows` windows over `frames`, with `off` the level of a subpixel
    /// of its class without a defect ([`Tracker::finish`] says how).
    fn seen(&self, off: f32, windows: usize, frames: &[(PathBuf, CaptureTime)]) -> Seen {
        let first = self.looks[0].stretch;
        let later: Vec<&Stretch> = self.looks[1..]
            .iter()
            .filter(|l| l.stood_out)
            .map(|l| &l.stretch)
            .collect();
        let before = self.before;
        // Its level in the windows after its first; when its first is the last, there (as
        // if the whole window had it: one that appeared within the last window is dated to
        // the window's start, or earlier).
        let on = if later.is_empty() {
            first
        } else {
            Stretch::pooled(later)
        };
        let share_of = |level: f32| {
            let delta = on.level - off;
            if delta.abs() <= f32::EPSILON {
                1.0
            } else {
                ((level - off) / delta).clamp(0.0, 1.0)
            }
        };
        let (start, before_level) = (before.frames as usize, before.level);
        let away = (on.level - off).signum() * on.above(&before);
        let appeared = self.first_window > 0
            && self.to_the_end(windows)
            && share_of(before_level) < APPEARED_SHARE
            && away >= APPEARED_CONFIDENCE;
        // Frames before the first window it stands out in that had it already.
        let (onset, early) = if appeared {
            let nk = f64::from(first.frames);
            let had = f64::from(share_of(first.level)) * nk;
            let earlier = if had >= nk - 0.5 {
                f64::from(share_of(before_level)) * start as f64
            } else {
                0.0
            };
            let onset = (start as f64 + nk - had - earlier).round().max(0.0) as usize;
            (onset, start.saturating_sub(onset))
        } else {
            (start, 0)
        };
        let onset = onset.min(frames.len() - 1);
        let mut stood = vec![false; windows];
        let mut last = onset;
        let mut seen_frames = early;
        let mut at = start;
        for (w, look) in self.looks.iter().enumerate() {
            let end = at + look.stretch.frames as usize;
            if look.stood_out {
                stood[self.first_window + w] = true;
                last = end - 1;
                seen_frames += end - at.max(onset).min(end);
            }
            at = end;
        }
        Seen {
            first_seen: sighting(frames, onset),
            last_seen: sighting(frames, last.max(onset)),
            seen_share: (seen_frames as f32 / (frames.len() - onset) as f32).min(1.0),
            appeared,
            windows: stood,
        }
    }
}

impl Track {
    /// When a dark current `dark` was seen ([module docs](self)), of `windows` windows over
    /// `frames` (with their exposures, seconds at ISO 100, when known; `starts` the first frame of
    /// every window, then the end).
    fn seen_dark(
        &self,
        dark: &DarkCurrent,
        frames: &[(PathBuf, CaptureTime)],
        exposures: &[Option<f64>],
        starts: &[usize],
    ) -> Seen {
        let windows = starts.len() - 1;
        let shows = |f: usize| {
            exposures
                .get(f)
                .copied()
                .flatten()
                .is_some_and(|e| e >= dark.visible_from as f64)
        };
        let standing_at_the_end = self.first_window + self.looks.len() == windows
            && self.looks.last().is_some_and(|l| l.stood_out);
        let appeared = self.first_window > 0
            && standing_at_the_end
            && match (self.before_dark, self.first_dark) {
                (Some(before), Some(on)) => {
                    before.rate + APPEARED_CONFIDENCE * before.error < APPEARED_SHARE * on.rate
                }
                _ => false,
            };
        let from = if appeared {
            starts[self.first_window]
        } else {
            0
        };
        let onset = (from..frames.len()).find(|&f| shows(f)).unwrap_or(from);
        let mut stood = vec![false; windows];
        let (mut last, mut seen, mut could) = (onset, 0usize, 0usize);
        for w in 0..windows {
            let stood_out = w
                .checked_sub(self.first_window)
                .and_then(|k| self.looks.get(k))
                .is_some_and(|l| l.stood_out);
            stood[w] = stood_out;
            for f in (starts[w]..starts[w + 1]).filter(|&f| f >= onset && shows(f)) {
                could += 1;
                if stood_out {
                    seen += 1;
                    last = f;
                }
            }
        }
        Seen {
            first_seen: sighting(frames, onset),
            last_seen: sighting(frames, last.max(onset)),
            seen_share: if could == 0 {
                1.0
            } else {
                seen as f32 / could as f32
            },
            appeared,
            windows: stood,
        }
    }
}

/// Follows the candidates of every window through the windows after it; [`Tracker::finish`]
/// turns them into the defects' timelines.
pub struct Tracker {
    dark: bool,
    tracks: HashMap<usize, Track>,
    frames: Vec<u32>,
}

/// By how many times its detection's threshold `d` stands out.
fn ratio(d: &Defect, detection: &Detection) -> f32 {
    let t = &detection.thresholds;
    (d.score - t.median).abs() / t.threshold.max(f32::EPSILON)
}

impl Tracker {
    /// A tracker for frames (`dark`: dark frames, whose mean is scored) counted window by window.
    pub fn new(dark: bool) -> Self {
        Tracker {
            dark,
            tracks: HashMap::new(),
            frames: Vec::new(),
        }
    }

    /// Takes the next window: its statistics and detection, and the statistics of the frames
    /// before it (`None` for the first window).
    pub fn window(&mut self, before: Option<&Moments>, window: &Moments, detection: &Detection) {
        let w = self.frames.len();
        self.frames.push(window.n);
        let dark = self.dark;
        let before_at = |i: usize| before.map_or(Stretch::default(), |b| Stretch::of(dark, b, i));
        let mut new = Vec::new();
        for d in &detection.defects {
            let r = ratio(d, detection);
            match self.tracks.get_mut(&d.index) {
                Some(t) if r > t.ratio => {
                    t.best = d.clone();
                    t.ratio = r;
                }
                Some(_) => {}
                None => new.push((
                    d.index,
                    Track {
                        first_window: w,
                        before: before_at(d.index),
                        looks: Vec::new(),
                        best: d.clone(),
                        ratio: r,
                        before_dark: before
                            .and_then(|b| dark::fit(b, d.index / b.shape.channels as usize)),
                        first_dark: dark::fit(window, d.index / window.shape.channels as usize),
                    },
                )),
            }
        }
        self.tracks.extend(new);
        let standing: std::collections::HashSet<[u32; 2]> = detection
            .defects
            .iter()
            .flat_map(|d| d.pixels.iter().copied())
            .collect();
        let shape = window.shape;
        for (&i, t) in self.tracks.iter_mut() {
            let (x, y, _) = shape.position(i);
            t.looks.push(Look {
                stretch: Stretch::of(dark, window, i),
                stood_out: standing.contains(&[x, y]),
            });
        }
    }

    /// Dates the defects of `detection` (the verdict over all frames, `total`) and adds those
    /// that appeared late ([`Seen::appeared`]: from some window to the last) and do not stand out
    /// over all frames. `frames` are the frames counted, in capture-time order, with their
    /// capture times.
    ///
    /// With `off` the level of a subpixel without a defect ([`Detection::location`]) and `on` a
    /// defect's level in the windows after its first (or in its first, when that is the last:
    /// a defect that appeared within the last window is dated to that window's start or a little
    /// before), the share
    /// `(level − off) / (on − off)` of a stretch of frames had it. A defect appeared
    /// ([`Seen::appeared`]) when the frames before its first window had less than
    /// [`APPEARED_SHARE`]; then that share of its first window's frames had it, and when all had,
    /// that share of the frames before too: its first frame is placed so. Any other defect is
    /// first seen at its first window's first frame (the first frame, when that is the first
    /// window). A defect that appeared is named by the window it stands out most in. A dark
    /// current is dated from the frames whose exposure (`exposures`, in the same order) could
    /// show it instead ([module docs](self)).
    pub fn finish(
        self,
        total: &Moments,
        detection: &mut Detection,
        frames: &[(PathBuf, CaptureTime)],
        exposures: &[Option<f64>],
    ) -> Option<Timeline> {
        if self.frames.len() < 2 || frames.is_empty() {
            return None;
        }
        let mut windows = Vec::with_capacity(self.frames.len());
        let mut start = 0usize;
        for &n in &self.frames {
            windows.push(Window {
                first: sighting(frames, start),
                last: sighting(frames, start + n as usize - 1),
                frames: n,
            });
            start += n as usize;
        }
        let count = self.frames.len();
        let starts: Vec<usize> = std::iter::once(0)
            .chain(self.frames.iter().scan(0usize, |at, &n| {
                *at += n as usize;
                Some(*at)
            }))
            .collect();
        let shape = total.shape;
        let geometry = Geometry::of(shape);
        let mut tracks: Vec<(usize, Track)> = self.tracks.into_iter().collect();
        // Earliest first, then by subpixel, so that matching is the same on every run.
        tracks.sort_by_key(|(i, t)| (t.first_window, *i));
        let mut used = vec![false; tracks.len()];
        let off = |index: usize| {
            detection
                .location
                .get(geometry.class_of(index))
                .copied()
                .unwrap_or(0.0)
        };
        // The defects over all frames: each dated by the track of its strongest subpixel, else by
        // the earliest track on one of its pixels.
        for d in &mut detection.defects {
            let own = tracks
                .iter()
                .position(|(i, _)| *i == d.index)
                .filter(|&k| !used[k]);
            let found = own
                .or_else(|| {
                    tracks.iter().enumerate().position(|(k, (i, _))| {
                        let (x, y, _) = shape.position(*i);
                        !used[k] && d.pixels.contains(&[x, y])
                    })
                })
                .map(|k| (k, &tracks[k]));
            let Some((k, (i, t))) = found else {
                continue;
            };
            used[k] = true;
            let seen = match &d.dark {
                Some(dc) => t.seen_dark(dc, frames, exposures, &starts),
                None => t.seen(off(*i), count, frames),
            };
            if seen.appeared {
                d.kind = t.best.kind;
            }
            d.seen = Some(seen);
        }
        // Tracks on the pixels of a defect already dated are that defect.
        let near = |defects: &[Defect], x: u32, y: u32| {
            defects.iter().any(|d| {
                d.pixels
                    .iter()
                    .any(|p| p[0].abs_diff(x) <= ECHO_DISTANCE && p[1].abs_diff(y) <= ECHO_DISTANCE)
            })
        };
        for (k, (i, t)) in tracks.iter().enumerate() {
            if used[k] {
                continue;
            }
            let (x, y, _) = shape.position(*i);
            if near(&detection.defects, x, y) {
                continue;
            }
            if t.first_window == 0 || !t.to_the_end(count) {
                continue;
            }
            let seen = match &t.best.dark {
                Some(dc) => t.seen_dark(dc, frames, exposures, &starts),
                None => t.seen(off(*i), count, frames),
            };
            // A dark current that turned up late is fitted badly over all frames, which mix its
            // absence with it: one that stands out from a window to the last is a defect even
            // when the frames before cannot say that it was absent.
            if seen.appeared || t.best.dark.is_some() {
                let mut d = t.best.clone();
                d.seen = Some(seen);
                detection.defects.push(d);
            }
        }
        detection
            .defects
            .sort_by(|a, b| b.score.abs().total_cmp(&a.score.abs()));
        Some(Timeline { windows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_hold_twenty_four_frames_or_more_and_are_sixteen_at_most() {
        assert_eq!(window_count(47), 1);
        assert_eq!(window_count(48), 2);
        assert_eq!(window_count(120), 5);
        assert_eq!(window_count(100_000), MAX_WINDOWS);
        assert_eq!(window_start(120, 5, 4), 96);
        assert_eq!(window_start(121, 5, 5), 121);
    }

    /// A grey 8-bit frame's statistics over `n` frames, every residual mean 0 but `(x, y)`'s.
    fn moments(n: u32, lit: &[(u32, u32, f32)]) -> Moments {
        let shape = crate::Shape::new(16, 16, 1, 8).unwrap();
        let mut m = Moments::new(shape);
        m.n = n;
        m.res_m2.fill(n as f32);
        for &(x, y, level) in lit {
            m.res_mean[shape.index(x, y, 0)] = level;
        }
        m
    }

    /// A detection of one defect at `(x, y)` holding `pixels`.
    fn detection(m: &Moments, (x, y): (u32, u32), pixels: &[[u32; 2]]) -> Detection {
        let index = m.shape.index(x, y, 0);
        Detection {
            defects: vec![Defect {
                x,
                y,
                channel: 0,
                colour: m.shape.colour(x, y, 0),
                kind: crate::detect::Kind::Hot,
                score: 20.0,
                mean: 0.0,
                std: 0.0,
                residual: m.res_mean[index],
                residual_std: 1.0,
                pixels: pixels.to_vec(),
                index,
                seen: None,
                dark: None,
            }],
            dark_threshold: None,
            dark_falls: None,
            thresholds: crate::detect::Thresholds {
                method: "residual",
                median: 0.0,
                spread: 1.0,
                threshold: 5.0,
                sensitivity: 1.0,
            },
            location: vec![0.0],
        }
    }

    #[test]
    fn a_defect_is_dated_by_its_own_subpixel_before_a_neighbours() {
        // A neighbour at (4, 5) stood out in the first window only; the defect at (5, 5)
        // appeared in the second window and stands out in both after.
        let windows = [
            moments(24, &[(4, 5, 30.0)]),
            moments(24, &[(5, 5, 50.0)]),
            moments(24, &[(5, 5, 50.0)]),
        ];
        let mut tracker = Tracker::new(false);
        let mut total: Option<Moments> = None;
        for (w, m) in windows.iter().enumerate() {
            let found = if w == 0 {
                detection(m, (4, 5), &[[4, 5]])
            } else {
                detection(m, (5, 5), &[[5, 5]])
            };
            tracker.window(total.as_ref(), m, &found);
            match total.as_mut() {
                Some(t) => t.merge(m).unwrap(),
                None => total = Some(m.clone()),
            }
        }
        let total = total.unwrap();
        let mut over_all = detection(&total, (5, 5), &[[5, 5], [4, 5]]);
        let frames: Vec<(PathBuf, CaptureTime)> = (0..72)
            .map(|i| {
                (
                    PathBuf::from(format!("{i}.jpg")),
                    CaptureTime::from_seconds(i),
                )
            })
            .collect();
        tracker
            .finish(&total, &mut over_all, &frames, &vec![None; frames.len()])
            .unwrap();
        let seen = over_all.defects[0].seen.as_ref().unwrap();
        assert!(seen.appeared, "{seen:?}");
        assert_eq!(seen.first_seen.frame, 24);
        assert_eq!(seen.windows, [false, true, true]);
    }

    /// A stretch of `values` computed directly.
    fn stretch(values: &[f32]) -> Stretch {
        let n = values.len() as f32;
        let mean = values.iter().sum::<f32>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / (n - 1.0);
        Stretch {
            frames: values.len() as u32,
            level: mean,
            variance,
        }
    }

    #[test]
    fn stretches_pool_as_their_frames_together_and_compare_by_standard_errors() {
        let (a, b) = ([1.0, 2.0, 4.0], [10.0, 12.0, 11.0, 15.0]);
        let pooled = Stretch::pooled(&[stretch(&a), stretch(&b)]);
        let whole = stretch(&[1.0, 2.0, 4.0, 10.0, 12.0, 11.0, 15.0]);
        assert_eq!(pooled.frames, 7);
        assert!((pooled.level - whole.level).abs() < 1e-5);
        assert!((pooled.variance - whole.variance).abs() < 1e-4);
        // Means 12 and 7/3, variances 14/3 and 7/3: (12 - 7/3) / sqrt(14/3 / 4 + 7/3 / 3).
        let t = stretch(&b).above(&stretch(&a));
        let expected = (12.0 - 7.0 / 3.0) / (35.0f32 / 18.0).sqrt();
        assert!((t - expected).abs() < 1e-4, "{t} against {expected}");
        assert!((stretch(&a).above(&stretch(&b)) + t).abs() < 1e-6);
    }
}
