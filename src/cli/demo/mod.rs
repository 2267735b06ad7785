//! `hotpixels demo`: a synthetic set from the simulated camera, scanned and scored against what
//! was planted.

mod outcome;

use super::console::Console;
use super::{error, print, stopped, BackendArg, EXIT_FATAL, EXIT_OK, EXIT_SOME_FAILED};
use hotpixels::report;
use hotpixels::scan::ScanOptions;

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Statistics backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Frames in the synthetic set.
    #[arg(long, default_value_t = 60)]
    frames: usize,
    /// Frame width.
    #[arg(long, default_value_t = 640)]
    width: u32,
    /// Frame height.
    #[arg(long, default_value_t = 480)]
    height: u32,
    /// Seed of the synthetic set.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// File format of the synthetic frames (`dng`: the camera's RAW photosites).
    #[arg(long, value_enum, default_value = "jpeg")]
    format: super::synth::FormatArg,
    /// Frames exposed as a photo library's are (mostly short daylight exposures, some indoor and
    /// night ones), exposure time and ISO in each, the hot and warm photosites dark current that
    /// grows with them: the dark-current model, with each defect's rate.
    #[arg(long)]
    exposures: bool,
}

/// Runs `demo`.
pub fn run(a: DemoArgs) -> u8 {
    let fits = |v: u32| (16..=8000).contains(&v) && v.is_multiple_of(2);
    if !fits(a.width) || !fits(a.height) {
        error("--width and --height must be even numbers between 16 and 8000");
        return EXIT_FATAL;
    }
    if a.frames < 2 {
        error("--frames must be at least 2");
        return EXIT_FATAL;
    }
    let options = ScanOptions {
        backend: a.backend.into(),
        ..Default::default()
    };
    let spec = hotpixels::synth::SetSpec {
        width: a.width,
        height: a.height,
        frames: a.frames,
        seed: a.seed,
        format: a.format.into(),
        exposures: a.exposures,
        ..Default::default()
    };
    let intro = format!(
        "demo: {} synthetic {}x{} {} frames from a simulated RGGB camera with {} defective \
         photosites ({}), written to a temporary folder",
        spec.frames,
        spec.width,
        spec.height,
        format!("{:?}", a.format).to_uppercase(),
        spec.hot + spec.warm + spec.stuck + spec.dead + 2 * spec.pairs,
        if a.exposures {
            "exposed as a photo library is: hot and warm ones as dark current"
        } else {
            "bursts, underexposed frames"
        }
    );
    if let Err(stop) = print(&(intro + "\n")) {
        return stopped(stop);
    }
    let mut console = Console::new(false);
    let result = outcome::run_demo(&spec, options, &mut console);
    console.finish();
    match result {
        Ok(outcome) => {
            let text = report::text::render(&outcome.report) + &outcome.render();
            if let Err(stop) = print(&text) {
                return stopped(stop);
            }
            if outcome.passed() {
                EXIT_OK
            } else {
                EXIT_SOME_FAILED
            }
        }
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}
