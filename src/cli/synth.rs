//! `hotpixels synth`: writes a synthetic test set from the simulated camera (frames with planted
//! defects, and truth.json).

use clap::ValueEnum;

use super::{error, print, stopped, EXIT_FATAL, EXIT_OK};

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatArg {
    /// Demosaicked, sRGB JPEG.
    Jpeg,
    /// Demosaicked, sRGB 8-bit PNG.
    Png,
    /// Demosaicked, sRGB 16-bit TIFF.
    Tiff,
    /// The photosites: 12-bit RGGB DNG (camera RAW).
    Dng,
}

impl From<FormatArg> for hotpixels::synth::SetFormat {
    fn from(f: FormatArg) -> Self {
        use hotpixels::synth::SetFormat;
        match f {
            FormatArg::Jpeg => SetFormat::Jpeg,
            FormatArg::Png => SetFormat::Png,
            FormatArg::Tiff => SetFormat::Tiff,
            FormatArg::Dng => SetFormat::Dng,
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChromaArg {
    #[value(name = "444")]
    S444,
    #[value(name = "422")]
    S422,
    #[value(name = "420")]
    S420,
}

#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Folder to write the frames and truth.json into (created; existing frames are not replaced).
    #[arg(value_name = "OUT_DIR")]
    out: std::path::PathBuf,
    /// Number of frames.
    #[arg(long, default_value_t = 60)]
    frames: usize,
    /// Frame width in pixels.
    #[arg(long, default_value_t = 1024)]
    width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 768)]
    height: u32,
    /// File format.
    #[arg(long, value_enum, default_value = "jpeg")]
    format: FormatArg,
    /// JPEG quality, one value or a range drawn per frame (`85-92`).
    #[arg(long, default_value = "85-92", value_name = "Q[-Q]")]
    quality: String,
    /// JPEG chroma subsampling.
    #[arg(long, value_enum, default_value = "420")]
    chroma: ChromaArg,
    /// Hot photosites (offset 35-100% of full scale; with --exposures, at 1 s ISO 800).
    #[arg(long, default_value_t = 10)]
    hot: usize,
    /// Warm photosites (offset 8-18%).
    #[arg(long, default_value_t = 10)]
    warm: usize,
    /// Stuck photosites (a constant level).
    #[arg(long, default_value_t = 5)]
    stuck: usize,
    /// Dead photosites (always 0).
    #[arg(long, default_value_t = 5)]
    dead: usize,
    /// Pairs of adjacent hot photosites.
    #[arg(long, default_value_t = 3)]
    pairs: usize,
    /// Fraction of frames shot in bursts of near-identical frames with small shifts.
    #[arg(long, default_value_t = 0.3)]
    bursts: f64,
    /// Fraction of very underexposed frames.
    #[arg(long, default_value_t = 0.15)]
    underexposed: f64,
    /// Dark frames (lens cap on) instead of scenes.
    #[arg(long)]
    dark: bool,
    /// Take scenes from the photos in DIR (random crops) instead of procedural ones.
    #[arg(long, value_name = "DIR")]
    scenes: Option<std::path::PathBuf>,
    /// Seed of everything random.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Name a camera in every file (JPEG EXIF, DNG tags), with a capture time per frame:
    /// `Make|Model|Serial` (the serial may be left out).
    #[arg(long, value_name = "MAKE|MODEL[|SERIAL]")]
    camera: Option<String>,
    /// Capture time of the first frame (with --camera).
    #[arg(long, default_value = "2024-01-01", value_name = "DATE")]
    start: String,
    /// Days from the first frame's capture time to the last's (with --camera).
    #[arg(long, default_value_t = 365.0, value_name = "DAYS")]
    days: f64,
    /// Hot photosites that appear only from --onset on.
    #[arg(long, default_value_t = 0)]
    late_hot: usize,
    /// When the --late-hot photosites appear, as a fraction of the frames.
    #[arg(long, default_value_t = hotpixels::synth::DEFAULT_ONSET, value_name = "F")]
    onset: f64,
    /// ISO setting written with --camera (with the exposure time: 1/125 s times each shot's
    /// exposure, 30 s for dark frames).
    #[arg(long, default_value_t = hotpixels::synth::DEFAULT_ISO, value_name = "N")]
    iso: u32,
    /// Expose the frames as a photo library's are — about 70 % daylight (1/2000-1/60 s, ISO
    /// 100-400), 20 % indoors (1/60-1/4 s, ISO 800-3200), 10 % night (0.5-30 s) — each with its
    /// exposure time and ISO in its EXIF; hot and warm photosites as dark current, growing with
    /// exposure time x ISO; noise growing with the ISO. With --dark: dark frames of 1/60-30 s at
    /// --iso. JPEG and DNG.
    #[arg(long)]
    exposures: bool,
}

/// Seconds in a day.
const DAY_SECONDS: f64 = 86_400.0;

/// `Make|Model[|Serial]` of `--camera`.
fn parse_camera(text: &str) -> Result<hotpixels::input::exif::Camera, String> {
    let parts: Vec<&str> = text.split('|').map(str::trim).collect();
    match parts[..] {
        [make, model] | [make, model, ""] if !make.is_empty() && !model.is_empty() => {
            Ok(camera(make, model, None))
        }
        [make, model, serial] if !make.is_empty() && !model.is_empty() => {
            Ok(camera(make, model, Some(serial.to_string())))
        }
        _ => Err(format!(
            "--camera '{text}': expected MAKE|MODEL or MAKE|MODEL|SERIAL"
        )),
    }
}

/// A camera named exactly as given (the files carry these strings).
fn camera(make: &str, model: &str, serial: Option<String>) -> hotpixels::input::exif::Camera {
    hotpixels::input::exif::Camera {
        make: make.into(),
        model: model.into(),
        serial,
    }
}

fn parse_quality(q: &str) -> Result<(u8, u8), String> {
    let bad = || format!("--quality '{q}': expected a number 1-100 or a range like 85-92");
    let mut parts = q.splitn(2, '-').map(|p| p.trim().parse::<u8>());
    let lo = parts.next().and_then(|p| p.ok()).ok_or_else(bad)?;
    let hi = match parts.next() {
        Some(p) => p.map_err(|_| bad())?,
        None => lo,
    };
    if lo == 0 || hi > 100 || lo > hi {
        return Err(bad());
    }
    Ok((lo, hi))
}

fn synth_spec(a: &SynthArgs) -> Result<hotpixels::synth::SetSpec, String> {
    use hotpixels::synth::SetSpec;
    if a.frames == 0 || a.width < 8 || a.height < 8 {
        return Err("--frames must be at least 1, --width and --height at least 8".into());
    }
    if ![a.bursts, a.underexposed, a.onset]
        .iter()
        .all(|f| (0.0..=1.0).contains(f))
    {
        return Err("--bursts, --underexposed and --onset are fractions between 0 and 1".into());
    }
    if !(a.days >= 0.0 && a.days.is_finite()) {
        return Err(format!("--days {}: a number of days, 0 or more", a.days));
    }
    let camera = a.camera.as_deref().map(parse_camera).transpose()?;
    let start =
        hotpixels::input::exif::CaptureTime::parse(&a.start).map_err(|e| format!("--start {e}"))?;
    let scenes = match &a.scenes {
        None => Vec::new(),
        Some(dir) => {
            let found = hotpixels::input::discover::expand_inputs(&[dir.display().to_string()])
                .map_err(|e| e.to_string())?
                .files;
            if found.is_empty() {
                return Err(format!("{}: no photos found for --scenes", dir.display()));
            }
            found
        }
    };
    Ok(SetSpec {
        width: a.width,
        height: a.height,
        frames: a.frames,
        format: a.format.into(),
        quality: parse_quality(&a.quality)?,
        chroma: match a.chroma {
            ChromaArg::S444 => hotpixels::synth::Chroma::Full,
            ChromaArg::S422 => hotpixels::synth::Chroma::Sub422,
            ChromaArg::S420 => hotpixels::synth::Chroma::Sub420,
        },
        hot: a.hot,
        warm: a.warm,
        stuck: a.stuck,
        dead: a.dead,
        pairs: a.pairs,
        burst_fraction: a.bursts,
        underexposed: a.underexposed,
        dark: a.dark,
        scenes,
        seed: a.seed,
        camera,
        start,
        period: (a.days * DAY_SECONDS).round() as i64,
        late_hot: a.late_hot,
        onset: a.onset,
        iso: a.iso,
        exposures: a.exposures,
        ..Default::default()
    })
}

/// Runs `synth`.
pub fn run(a: SynthArgs) -> u8 {
    let spec = match synth_spec(&a) {
        Ok(s) => s,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    match hotpixels::synth::write_set(&spec, &a.out) {
        Ok(truth) => {
            let done = format!(
                "wrote {} frames ({}x{}) and truth.json with {} defective photosites to {}\n",
                truth.files.len(),
                truth.width,
                truth.height,
                truth.defects.len(),
                a.out.display()
            );
            match print(&done) {
                Ok(()) => EXIT_OK,
                Err(stop) => stopped(stop),
            }
        }
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}
