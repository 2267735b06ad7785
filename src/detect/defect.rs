//! A defect as detection reports it: where it is, its [`Kind`], its numbers and pixels, and when
//! it was seen ([`Seen`]) when the frames have capture times.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::input::exif::CaptureTime;
use crate::input::Colour;

/// The kinds of defective photosites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Much brighter than it should be (a large dark-current offset), or pinned near full scale.
    Hot,
    /// Somewhat brighter than it should be.
    Warm,
    /// Reads the same level whatever the light.
    Stuck,
    /// Reads 0 or far darker than it should.
    Dead,
    /// Named bad by an imported list that does not say how (dcraw, RawTherapee, a mask);
    /// detection never gives it.
    Listed,
}

impl Kind {
    /// Lower-case name, as reports write it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Hot => "hot",
            Kind::Warm => "warm",
            Kind::Stuck => "stuck",
            Kind::Dead => "dead",
            Kind::Listed => "listed",
        }
    }

    /// The kinds detection gives, in report order.
    pub const DETECTED: [Kind; 4] = [Kind::Hot, Kind::Warm, Kind::Stuck, Kind::Dead];

    /// Every kind: those detection gives, then [`Kind::Listed`].
    pub const ALL: [Kind; 5] = [Kind::Hot, Kind::Warm, Kind::Stuck, Kind::Dead, Kind::Listed];

    /// The kind named `name` (as [`Kind::name`] writes it).
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Kinds from a comma-separated list such as `hot,warm`.
    pub fn parse_list(list: &str) -> Result<Vec<Kind>, String> {
        list.split(',')
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .map(|w| {
                Kind::from_name(w)
                    .ok_or_else(|| format!("'{w}' is not a kind (hot, warm, stuck, dead, listed)"))
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|k| {
                if k.is_empty() {
                    Err("no kind given (hot, warm, stuck, dead, listed)".into())
                } else {
                    Ok(k)
                }
            })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One physical defect.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Defect {
    /// Column of its photosite ([`super::place`]): in an RGB photo the pixel where its luma
    /// residual peaks, elsewhere its strongest subpixel.
    pub x: u32,
    /// Row of its photosite, counted the same way.
    pub y: u32,
    /// Channel of its strongest subpixel (0 for a RAW photosite).
    pub channel: u32,
    /// The colour of its strongest subpixel: the channel, or the filter over a RAW photosite.
    pub colour: Colour,
    /// What kind of defect it is.
    pub kind: Kind,
    /// The strongest subpixel's score (signed: negative when darker than expected).
    pub score: f32,
    /// Mean value of the strongest subpixel over the frames.
    pub mean: f32,
    /// Its standard deviation over the frames.
    pub std: f32,
    /// Mean of its residual against its neighbours.
    pub residual: f32,
    /// Standard deviation of that residual.
    pub residual_std: f32,
    /// Every pixel of the defect, `[x, y]`: its photosite (`x`, `y`) first, then by score.
    pub pixels: Vec<[u32; 2]>,
    /// Subpixel index of the strongest subpixel.
    #[serde(skip)]
    pub index: usize,
    /// When it was first and last seen, for a scan of frames with capture times
    /// ([`super::timeline`]).
    #[serde(flatten)]
    pub seen: Option<Seen>,
    /// How it grows with the exposure, for a dark-current defect of frames of varied exposures
    /// ([`super::dark`]).
    #[serde(flatten)]
    pub dark: Option<DarkCurrent>,
}

/// How a dark-current defect grows with the exposure: its offset over its neighbours is
/// `dark_offset + dark_rate × seconds × ISO / 100`, in linear light.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct DarkCurrent {
    /// The offset's growth: fraction of full scale per second at ISO 100 (linear light; from
    /// images, an estimate through their transfer curve).
    pub dark_rate: f32,
    /// The offset at zero exposure: fraction of full scale.
    pub dark_offset: f32,
    /// The shortest exposure at ISO 100, seconds, at which it shows: its offset reaches
    /// [`super::dark::SHOW_OFFSET`] (0: always).
    pub visible_from: f32,
    /// How sure: its slope's score, in robust standard deviations of the sensor's.
    pub dark_score: f32,
}

impl DarkCurrent {
    /// Its offset at an exposure of `seconds` at ISO 100.
    pub fn offset_at(&self, exposure: f64) -> f64 {
        self.dark_offset as f64 + self.dark_rate as f64 * exposure
    }
}

/// A frame a defect was seen in.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sighting {
    /// Its capture time.
    pub taken: CaptureTime,
    /// Its file.
    pub file: PathBuf,
    /// Its place among the frames counted, in capture-time order (0-based).
    pub frame: usize,
}

/// When a defect was seen.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Seen {
    /// The first frame it stands out in: the first frame of the first window it stands out in;
    /// for a defect that appeared, estimated from how far that window's (and the earlier
    /// frames') level had moved towards its level since ([`super::timeline::Tracker::finish`]).
    pub first_seen: Sighting,
    /// The last frame of the last window it stands out in.
    pub last_seen: Sighting,
    /// Share of the frames from `first_seen` on that are in windows it stands out in (with, for
    /// a defect that appeared, the frames before its first such window estimated to have it).
    pub seen_share: f32,
    /// It appeared while the frames were taken: absent from the first window, it stands out in
    /// every window from its first to the last, and the frames before its first window mostly
    /// did not have it.
    pub appeared: bool,
    /// Whether it stands out, window by window.
    #[serde(skip)]
    pub windows: Vec<bool>,
}
