//! What a file says about its shot — the camera body, when it was taken and how it was exposed —
//! whether from its EXIF ([`super::exif`]) or a FITS header ([`super::fits`]); and the camera
//! named the way dcraw, LibRaw and RawTherapee name cameras.

use serde::Serialize;

/// A camera body.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Camera {
    /// The maker, as dcraw names it (`Canon`, `Nikon`, `Sony`, …).
    pub make: String,
    /// The model without the maker's name (`EOS 30D`, `D850`).
    pub model: String,
    /// The body's serial number, when the file has one (EXIF `BodySerialNumber` or DNG
    /// `CameraSerialNumber`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

/// The makers whose EXIF names dcraw shortens to these (it looks for each inside the EXIF name,
/// without case: `NIKON CORPORATION` is `Nikon`).
const MAKERS: [&str; 21] = [
    "AgfaPhoto",
    "Canon",
    "Casio",
    "Epson",
    "Fujifilm",
    "Mamiya",
    "Minolta",
    "Motorola",
    "Kodak",
    "Konica",
    "Leica",
    "Nikon",
    "Nokia",
    "Olympus",
    "Ricoh",
    "Pentax",
    "Phase One",
    "Samsung",
    "Sigma",
    "Sinar",
    "Sony",
];

impl Camera {
    /// A camera named as dcraw names it from the EXIF `make` and `model`: the maker shortened
    /// (to one of the makers dcraw knows; a model starting with `PENTAX` is a Pentax), trailing
    /// spaces removed, and the maker's name removed from the front of the model.
    pub fn from_exif(make: &str, model: &str, serial: Option<String>) -> Self {
        // As dcraw does: each maker found in the name so far replaces it.
        let mut make = make.to_string();
        for m in MAKERS {
            if make.to_lowercase().contains(&m.to_lowercase()) {
                make = m.to_string();
            }
        }
        let mut make = make.trim().to_string();
        let mut model = model.trim().to_string();
        if model.to_lowercase().starts_with("pentax") {
            make = "Pentax".into();
        }
        let prefix = format!("{} ", make.to_lowercase());
        if model.to_lowercase().starts_with(&prefix) {
            model = model[prefix.len()..].trim_start().to_string();
        }
        Camera {
            make,
            model,
            serial: serial.filter(|s| !s.is_empty()),
        }
    }

    /// The body: `Make Model (serial S)`, or `Make Model` when the serial number is not known.
    pub fn body(&self) -> String {
        match &self.serial {
            Some(serial) => format!("{} (serial {serial})", self.name()),
            None => self.name(),
        }
    }

    /// `Make Model`, as RawTherapee and dcraw print it.
    pub fn name(&self) -> String {
        format!("{} {}", self.make, self.model)
    }
}

/// The name a camera group of a photo library goes by: the body ([`Camera::body`]), or
/// `no camera` for the files that name none.
pub fn group_name(camera: Option<&Camera>) -> String {
    camera.map_or_else(|| "no camera".into(), Camera::body)
}

/// What a file's EXIF or FITS header says about the shot: the camera, when, and how exposed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Identity {
    /// The camera body, when the file names its make and model.
    pub camera: Option<Camera>,
    /// When the shot was taken (`DateTimeOriginal`, else the file's `DateTime`).
    pub taken: Option<CaptureTime>,
    /// How it was exposed.
    pub exposure: Exposure,
}

/// How a shot was exposed: what makes a hot pixel's level (dark current grows with the
/// exposure time, and the gain with the ISO setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Exposure {
    /// Exposure time in seconds (`ExposureTime`).
    pub seconds: Option<f64>,
    /// ISO setting (`PhotographicSensitivity`, formerly `ISOSpeedRatings`).
    pub iso: Option<u32>,
}

/// The ISO setting a dark-current exposure is counted at: `e` is seconds at this ISO.
pub const REFERENCE_ISO: f64 = 100.0;

impl Exposure {
    /// The EXIF gives the exposure time or the ISO setting.
    pub fn is_known(&self) -> bool {
        self.seconds.is_some() || self.iso.is_some()
    }

    /// What a hot photosite's dark current grows with: the exposure time times the gain, as
    /// seconds at ISO 100 (`seconds × ISO / 100`); `None` unless the EXIF gives both, or when
    /// they are not positive.
    pub fn dark(&self) -> Option<f64> {
        let (seconds, iso) = (self.seconds?, self.iso?);
        (seconds > 0.0 && iso > 0 && seconds.is_finite())
            .then(|| seconds * iso as f64 / REFERENCE_ISO)
    }

    /// `1/250 s ISO 800`, `30 s ISO 1600`; the parts known.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.seconds {
            parts.push(describe_seconds(s));
        }
        if let Some(iso) = self.iso {
            parts.push(format!("ISO {iso}"));
        }
        parts.join(" ")
    }
}

/// An exposure time as cameras show it: `1/250 s` below half a second, else `2.5 s`, `30 s`.
pub fn describe_seconds(seconds: f64) -> String {
    if seconds > 0.0 && seconds < 0.5 {
        format!("1/{} s", (1.0 / seconds).round())
    } else {
        format!("{} s", (seconds * 10.0).round() / 10.0)
    }
}

/// How a set of frames was exposed: the range of exposure times and ISO settings, over the frames
/// whose EXIF gives them, and the distinct settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExposureRange {
    /// Shortest and longest exposure time, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<[f64; 2]>,
    /// Lowest and highest ISO setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso: Option<[u32; 2]>,
    /// Frames whose EXIF gives either.
    pub frames: usize,
    /// The distinct settings (exposure time and ISO together), in order.
    #[serde(skip)]
    pub settings: Vec<Exposure>,
}

impl ExposureRange {
    /// The range of `exposures` (the frames' own; unknown ones left out); `None` when none is
    /// known.
    pub fn of<'a>(exposures: impl IntoIterator<Item = &'a Exposure>) -> Option<Self> {
        let known: Vec<Exposure> = exposures
            .into_iter()
            .filter(|e| e.is_known())
            .copied()
            .collect();
        if known.is_empty() {
            return None;
        }
        let range = |v: Vec<f64>| {
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (!v.is_empty()).then_some([lo, hi])
        };
        let seconds = range(known.iter().filter_map(|e| e.seconds).collect());
        let iso = range(known.iter().filter_map(|e| e.iso.map(f64::from)).collect())
            .map(|[lo, hi]| [lo as u32, hi as u32]);
        let key = |e: &Exposure| (e.seconds.map(f64::to_bits), e.iso);
        let mut settings = known.clone();
        settings.sort_by(|a, b| {
            a.seconds
                .partial_cmp(&b.seconds)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.iso.cmp(&b.iso))
        });
        settings.dedup_by(|a, b| key(a) == key(b));
        Some(ExposureRange {
            seconds,
            iso,
            frames: known.len(),
            settings,
        })
    }

    /// `1/4000–30 s, ISO 100–6400`; one value where the range is one.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some([lo, hi]) = self.seconds {
            parts.push(if lo == hi {
                describe_seconds(lo)
            } else {
                format!(
                    "{}–{}",
                    describe_seconds(lo).trim_end_matches(" s"),
                    describe_seconds(hi)
                )
            });
        }
        if let Some([lo, hi]) = self.iso {
            parts.push(if lo == hi {
                format!("ISO {lo}")
            } else {
                format!("ISO {lo}–{hi}")
            });
        }
        parts.join(", ")
    }
}

/// A capture time as the camera's clock gave it (local time, no zone), to the second; ordered
/// by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaptureTime {
    /// Seconds since 1970-01-01 00:00:00 of the same clock.
    seconds: i64,
}

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day counted from 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl CaptureTime {
    /// The time `seconds` after 1970-01-01 00:00:00.
    pub fn from_seconds(seconds: i64) -> Self {
        CaptureTime { seconds }
    }

    /// Seconds since 1970-01-01 00:00:00.
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// Reads `YYYY-MM-DD`, optionally followed by ` HH:MM[:SS]` or `THH:MM[:SS]`; EXIF's
    /// `YYYY:MM:DD HH:MM:SS` too.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("'{text}': expected a date YYYY-MM-DD, optionally with a time HH:MM[:SS]");
        let text = text.trim();
        let (date, time) = match text.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let number = |s: &str| s.parse::<u32>().map_err(|_| bad());
        let date: Vec<&str> = date.split(['-', ':']).collect();
        let [year, month, day] = date[..] else {
            return Err(bad());
        };
        let (year, month, day) = (number(year)?, number(month)?, number(day)?);
        let (hour, minute, second) = match time {
            None => (0, 0, 0),
            Some(t) => match t.split(':').collect::<Vec<_>>()[..] {
                [h, m] => (number(h)?, number(m)?, 0),
                [h, m, s] => (number(h)?, number(m)?, number(s)?),
                _ => return Err(bad()),
            },
        };
        let days_in_month = |y: i64, m: u32| {
            days_from_civil(y + i64::from(m == 12), m % 12 + 1, 1) - days_from_civil(y, m, 1)
        };
        let valid = (1..=12).contains(&month)
            && day >= 1
            && i64::from(day) <= days_in_month(year as i64, month.clamp(1, 12))
            && hour < 24
            && minute < 60
            && second < 60;
        if !valid {
            return Err(bad());
        }
        let days = days_from_civil(year as i64, month, day);
        Ok(CaptureTime {
            seconds: days * DAY + i64::from(hour * 3600 + minute * 60 + second),
        })
    }

    /// Date and time of day: `(year, month, day, hour, minute, second)`.
    fn parts(self) -> (i64, u32, u32, i64, i64, i64) {
        let (y, mo, d) = civil_from_days(self.seconds.div_euclid(DAY));
        let s = self.seconds.rem_euclid(DAY);
        (y, mo, d, s / 3600, s / 60 % 60, s % 60)
    }

    /// As EXIF writes it: `YYYY:MM:DD HH:MM:SS`.
    pub fn exif_text(self) -> String {
        let (y, mo, d, h, mi, s) = self.parts();
        format!("{y:04}:{mo:02}:{d:02} {h:02}:{mi:02}:{s:02}")
    }

    /// The day: `YYYY-MM-DD`.
    pub fn date(self) -> String {
        let (y, mo, d, ..) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}")
    }

    /// `YYYY-MM`: the month.
    pub fn month(self) -> String {
        let (y, mo, ..) = self.parts();
        format!("{y:04}-{mo:02}")
    }
}

impl std::fmt::Display for CaptureTime {
    /// `YYYY-MM-DD HH:MM:SS`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, mo, d, h, mi, s) = self.parts();
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

impl<'de> serde::Deserialize<'de> for CaptureTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CaptureTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for CaptureTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cameras_are_named_as_dcraw_names_them() {
        let name = |make, model| Camera::from_exif(make, model, None).name();
        assert_eq!(name("Canon", "Canon EOS 30D"), "Canon EOS 30D");
        assert_eq!(name("NIKON CORPORATION", "NIKON D850"), "Nikon D850");
        assert_eq!(name("SONY", "ILCE-7M3"), "Sony ILCE-7M3");
        assert_eq!(name("FUJIFILM", "X-T30 "), "Fujifilm X-T30");
        assert_eq!(
            name("RICOH IMAGING COMPANY, LTD.", "PENTAX K-1"),
            "Pentax K-1"
        );
        assert_eq!(name("OLYMPUS IMAGING CORP.  ", "E-M5"), "Olympus E-M5");
        assert_eq!(name("Panasonic", "DC-G9"), "Panasonic DC-G9");
        assert_eq!(name("KONICA MINOLTA", "DYNAX 7D"), "Minolta DYNAX 7D");
        let serial = Camera::from_exif("Canon", "Canon EOS R5", Some(String::new()));
        assert_eq!(serial.serial, None, "an empty serial is none");
    }

    #[test]
    fn capture_times_read_and_write_the_calendar() {
        let t = CaptureTime::parse("2024-02-29T23:59:58").unwrap();
        assert_eq!(t.to_string(), "2024-02-29 23:59:58");
        assert_eq!(t.exif_text(), "2024:02:29 23:59:58");
        assert_eq!(CaptureTime::parse(&t.exif_text()), Ok(t));
        assert_eq!(
            CaptureTime::from_seconds(t.seconds() + 2).to_string(),
            "2024-03-01 00:00:00"
        );
        assert_eq!(t.month(), "2024-02");
        assert_eq!(CaptureTime::parse("1970-01-01").unwrap().seconds(), 0);
        assert_eq!(
            CaptureTime::parse("2000-03-01 12:30").unwrap().seconds(),
            951_913_800
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01 24:00",
            "yesterday",
            "2024-01",
        ] {
            assert!(CaptureTime::parse(bad).is_err(), "{bad} is not a time");
        }
        assert!(
            CaptureTime::parse("2023-12-31").unwrap() < CaptureTime::parse("2024-01-01").unwrap()
        );
    }
}
