//! A synthetic test set: what to make ([`SetSpec`]), where its defects are planted, how each frame
//! is shot, and the set written — frames as JPEG, PNG, 16-bit TIFF or DNG, and `truth.json`
//! ([`Truth`]).

use std::path::Path;

use super::scene::{Photos, SceneSource};
use super::sensor::{cfa_channel, cfa_name, dng_layout, raw_frame, render, Lut8};
use super::spec::{
    DefectKind, SetFormat, SetSpec, Shot, ShotKind, SynthError, TrueDefect, Truth, DARK_SECONDS,
    DARK_TIMES, LIBRARY_MIX, PHOTO_SECONDS, REFERENCE_EXPOSURE,
};
use super::{write_frame_jpeg_exif, Rng};
use crate::input::exif::Exposure;
use crate::input::levels::linear_to_srgb;
use crate::input::{Frame, Shape};

/// Places the spec's defects: at least 8 pixels apart (pairs count as one place), away from the
/// outermost two rows and columns.
pub fn plant(spec: &SetSpec) -> Vec<TrueDefect> {
    let mut rng = Rng::new(spec.seed ^ 0x0D3F_EC75);
    let mut out: Vec<TrueDefect> = Vec::new();
    let mut places: Vec<(u32, u32)> = Vec::new();
    let mut free = |rng: &mut Rng| -> Option<(u32, u32)> {
        for _ in 0..10_000 {
            let x = 2 + rng.below(spec.width.saturating_sub(5).max(1) as u64) as u32;
            let y = 2 + rng.below(spec.height.saturating_sub(4).max(1) as u64) as u32;
            let far = places
                .iter()
                .all(|&(px, py)| px.abs_diff(x).max(py.abs_diff(y)) >= 8);
            if far {
                places.push((x, y));
                return Some((x, y));
            }
        }
        None
    };
    let mut add = |x: u32,
                   y: u32,
                   kind: DefectKind,
                   level: f64,
                   pair: Option<usize>,
                   onset: Option<usize>| {
        let channel = cfa_channel(x, y);
        let dark_current = spec.exposures && matches!(kind, DefectKind::Hot | DefectKind::Warm);
        out.push(TrueDefect {
            x,
            y,
            kind,
            cfa: cfa_name(channel).into(),
            channel,
            level,
            rate: dark_current.then_some(level / REFERENCE_EXPOSURE),
            pair,
            onset,
        });
    };
    let plan = [
        (DefectKind::Hot, spec.hot),
        (DefectKind::Warm, spec.warm),
        (DefectKind::Stuck, spec.stuck),
        (DefectKind::Dead, spec.dead),
    ];
    for (kind, count) in plan {
        for _ in 0..count {
            let Some((x, y)) = free(&mut rng) else { break };
            let level = match kind {
                DefectKind::Hot => 0.35 + 0.65 * rng.unit(),
                DefectKind::Warm => 0.08 + 0.10 * rng.unit(),
                DefectKind::Stuck => 0.2 + 0.6 * rng.unit(),
                // The plan holds the detected kinds only.
                DefectKind::Dead | DefectKind::Listed => 0.0,
            };
            add(x, y, kind, level, None, None);
        }
    }
    for p in 0..spec.pairs {
        let Some((x, y)) = free(&mut rng) else { break };
        let (a, b) = (0.35 + 0.65 * rng.unit(), 0.35 + 0.65 * rng.unit());
        add(x, y, DefectKind::Hot, a, Some(p), None);
        add(x + 1, y, DefectKind::Hot, b, Some(p), None);
    }
    for _ in 0..spec.late_hot {
        let Some((x, y)) = free(&mut rng) else { break };
        let level = 0.35 + 0.65 * rng.unit();
        add(x, y, DefectKind::Hot, level, None, Some(spec.onset_frame()));
    }
    out
}

/// A log-uniform draw from `lo` to `hi`.
fn log_uniform(rng: &mut Rng, (lo, hi): (f64, f64)) -> f64 {
    (lo.ln() + (hi.ln() - lo.ln()) * rng.unit()).exp()
}

/// A time as a camera sets and records it: the value its EXIF says
/// ([`super::seconds_rational`]).
fn nominal(seconds: f64) -> f64 {
    let (n, d) = super::seconds_rational(seconds);
    n as f64 / d as f64
}

/// How a shot is exposed with [`SetSpec::exposures`]: its kind drawn from [`LIBRARY_MIX`] (dark
/// frames: a time from [`DARK_TIMES`] at the set's ISO), its time (as the camera records it),
/// ISO and scene brightness.
fn library_exposure(spec: &SetSpec, rng: &mut Rng) -> (f64, u32, f64) {
    if spec.dark {
        return (nominal(log_uniform(rng, DARK_TIMES)), spec.iso, 0.0);
    }
    let mut pick = rng.unit();
    let kind: &ShotKind = LIBRARY_MIX
        .iter()
        .find(|k| {
            pick -= k.share;
            pick < 0.0
        })
        .unwrap_or(&LIBRARY_MIX[0]);
    let seconds = nominal(log_uniform(rng, kind.seconds));
    let iso = kind.iso[rng.below(kind.iso.len() as u64) as usize];
    let (lo, hi) = kind.brightness;
    (seconds, iso, lo + (hi - lo) * rng.unit())
}

fn plan_shots(spec: &SetSpec) -> Vec<Shot> {
    let mut rng = Rng::new(spec.seed ^ 0x0005_4075);
    // The library's exposures come from a stream of their own: the shots of a set without them
    // are the same as ever.
    let mut exposures = Rng::new(spec.seed ^ 0x0E5F_0CAE);
    let mut shots = Vec::with_capacity(spec.frames);
    let burst_len = spec.burst_len.max(1);
    let (lo, hi) = (
        spec.quality.0.min(spec.quality.1),
        spec.quality.0.max(spec.quality.1),
    );
    while shots.len() < spec.frames {
        let scene = rng.next_u64();
        let burst = rng.unit() < spec.burst_fraction / burst_len as f64 * 2.0;
        let len = if burst { burst_len } else { 1 };
        let mut base = 0.5 + 1.0 * rng.unit();
        let (mut seconds, mut iso) = (
            if spec.dark {
                DARK_SECONDS
            } else {
                PHOTO_SECONDS * base
            },
            spec.iso,
        );
        if spec.exposures {
            (seconds, iso, base) = library_exposure(spec, &mut exposures);
        }
        let (ox, oy) = (rng.unit() * 64.0, rng.unit() * 64.0);
        for _ in 0..len.min(spec.frames - shots.len()) {
            let under = rng.unit() < spec.underexposed;
            let exposure = if under {
                0.03 + 0.05 * rng.unit()
            } else if burst {
                base * (0.95 + 0.1 * rng.unit())
            } else {
                base
            };
            shots.push(Shot {
                scene,
                ox,
                oy,
                jx: if burst {
                    rng.below(5) as f64 - 2.0
                } else {
                    0.0
                },
                jy: if burst {
                    rng.below(5) as f64 - 2.0
                } else {
                    0.0
                },
                seconds: if spec.exposures || spec.dark {
                    seconds
                } else {
                    PHOTO_SECONDS * exposure
                },
                iso,
                exposure,
                quality: lo + rng.below((hi - lo) as u64 + 1) as u8,
            });
        }
    }
    shots
}

/// Writes the set described by `spec` into `dir` (created if missing; existing frames of the same
/// names are refused): the frames and `truth.json`. Returns the truth.
pub fn write_set(spec: &SetSpec, dir: &Path) -> Result<Truth, SynthError> {
    if spec.width < 8 || spec.height < 8 || spec.frames == 0 {
        return Err(SynthError::Spec(
            "a set needs at least 8x8 pixels and one frame".into(),
        ));
    }
    if !spec.width.is_multiple_of(2) || !spec.height.is_multiple_of(2) {
        return Err(SynthError::Spec(format!(
            "{}x{}: the simulated RGGB sensor needs an even width and height",
            spec.width, spec.height
        )));
    }
    if (spec.camera.is_some() || spec.exposures)
        && !matches!(spec.format, SetFormat::Jpeg | SetFormat::Dng)
    {
        return Err(SynthError::Spec(
            "a camera and exposures are written into JPEG and DNG files only".into(),
        ));
    }
    if !(0.0..=1.0).contains(&spec.onset) {
        return Err(SynthError::Spec(format!(
            "onset {}: a fraction of the frames, between 0 and 1",
            spec.onset
        )));
    }
    if spec.format == SetFormat::Jpeg && (spec.width > 65_535 || spec.height > 65_535) {
        return Err(SynthError::Spec(
            "JPEG frames are at most 65535 pixels a side".into(),
        ));
    }
    let write_err = |path: &Path, e: &dyn std::fmt::Display| SynthError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, &e))?;
    let ext = match spec.format {
        SetFormat::Jpeg => "jpg",
        SetFormat::Png => "png",
        SetFormat::Tiff => "tif",
        SetFormat::Dng => "dng",
    };
    let names: Vec<String> = (0..spec.frames)
        .map(|i| format!("frame_{:04}.{ext}", i + 1))
        .collect();
    for name in names
        .iter()
        .chain(std::iter::once(&"truth.json".to_string()))
    {
        let path = dir.join(name);
        if path.exists() {
            return Err(write_err(&path, &"already exists (choose an empty folder)"));
        }
    }
    let source = if spec.scenes.is_empty() {
        SceneSource::Procedural
    } else {
        SceneSource::Photos(Photos::load(&spec.scenes, spec.width, spec.height)?)
    };
    let defects = plant(spec);
    let shots = plan_shots(spec);
    let shape = Shape::new(spec.width, spec.height, 3, 8).expect("valid shape");
    let lut = Lut8::new();
    // Frames are rendered one at a time (each render is parallel inside), so memory stays small.
    for (i, shot) in shots.iter().enumerate() {
        let path = dir.join(&names[i]);
        let camera = spec.camera.as_ref().map(|c| (c, spec.taken(i)));
        let exposure = Exposure {
            seconds: Some(shot.seconds),
            iso: Some(shot.iso),
        };
        // Files carry EXIF when they name a camera or their exposures are the point.
        let exif = camera.is_some() || spec.exposures;
        if spec.format == SetFormat::Dng {
            let samples = raw_frame(spec, shot, i, &source, &defects);
            let file = std::fs::File::create(&path).map_err(|e| write_err(&path, &e))?;
            let layout = super::dng::DngLayout {
                taken: camera.map(|(_, t)| t),
                exposure: if exif { exposure } else { Exposure::default() },
                ..dng_layout(spec)
            };
            super::dng::write_dng(std::io::BufWriter::new(file), &layout, &samples)
                .map_err(|e| write_err(&path, &e))?;
            continue;
        }
        let rgb = render(spec, shot, i, &source, &defects);
        match spec.format {
            SetFormat::Jpeg | SetFormat::Png => {
                let data: Vec<u8> = rgb.iter().flat_map(|p| p.map(|v| lut.encode(v))).collect();
                let frame = Frame::from_u8(shape, data).expect("frame matches its shape");
                if spec.format == SetFormat::Jpeg {
                    let exif = exif.then(|| {
                        super::exif_block(camera.map(|(c, _)| c), camera.map(|(_, t)| t), exposure)
                    });
                    write_frame_jpeg_exif(
                        &frame,
                        &path,
                        shot.quality,
                        spec.chroma,
                        exif.as_deref(),
                    )
                    .map_err(|e| write_err(&path, &e))?;
                } else {
                    super::write_frame_png(&frame, &path).map_err(|e| write_err(&path, &e))?;
                }
            }
            SetFormat::Tiff => {
                let data: Vec<u16> = rgb
                    .iter()
                    .flat_map(|p| p.map(|v| (linear_to_srgb(v) * 65535.0).round() as u16))
                    .collect();
                let img = image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(
                    spec.width,
                    spec.height,
                    data,
                )
                .expect("buffer matches its size");
                img.save(&path).map_err(|e| write_err(&path, &e))?;
            }
            SetFormat::Dng => unreachable!("written above"),
        }
    }
    let truth = Truth {
        width: spec.width,
        height: spec.height,
        files: names,
        dark: spec.dark,
        defects,
        camera: spec.camera.clone(),
        taken: match spec.camera {
            Some(_) => (0..spec.frames).map(|i| spec.taken(i)).collect(),
            None => Vec::new(),
        },
        exposures: if spec.exposures {
            shots.iter().map(|s| (s.seconds, s.iso)).collect()
        } else {
            Vec::new()
        },
    };
    let path = dir.join("truth.json");
    let json = serde_json::to_string_pretty(&truth).expect("truth serialises");
    std::fs::write(&path, json + "\n").map_err(|e| write_err(&path, &e))?;
    Ok(truth)
}
