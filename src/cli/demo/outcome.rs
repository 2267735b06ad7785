//! The demo: writes a synthetic set from the simulated camera (JPEG, bursts, underexposed frames,
//! planted hot, warm, stuck and dead photosites) to a temporary folder, scans it, and prints what
//! was found beside what was planted.

use std::fmt::Write;

use hotpixels::detect::Kind;
use hotpixels::scan::{scan, ScanError, ScanObserver, ScanOptions, ScanReport};
use hotpixels::synth::eval::{evaluate, touches, Quality, MATCH_RADIUS};
use hotpixels::synth::{write_set, SetSpec, SynthError, Truth};

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The temporary folder or a frame could not be written.
    #[error("cannot write the demo frames: {0}")]
    Write(String),
    /// The synthetic set could not be made.
    #[error(transparent)]
    Synth(#[from] SynthError),
    /// The scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// The demo's outcome: the scan report, the truth, and how well they match.
pub struct DemoOutcome {
    /// The scan's report.
    pub report: ScanReport,
    /// The planted defects.
    pub truth: Truth,
    /// Recall per kind and precision.
    pub quality: Quality,
}

impl DemoOutcome {
    /// True when every hot and dead photosite was found and at least 90 % of the reported defects
    /// are real.
    pub fn passed(&self) -> bool {
        self.quality.recall(Kind::Hot) == 1.0
            && self.quality.recall(Kind::Dead) == 1.0
            && self.quality.precision() >= 0.9
    }

    /// The planted-versus-found table and the summary.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "planted defects (photosites) and what the scan reported within {MATCH_RADIUS} px:"
        );
        let _ = writeln!(
            s,
            "{:>6} {:>6} {:>3} {:>6} {:>6} {:>8}  found as",
            "x", "y", "cfa", "kind", "level", "rate %/s"
        );
        let defects = &self.report.detection.defects;
        for t in &self.truth.defects {
            let hit = defects.iter().position(|d| touches(d, t.x, t.y));
            let _ = writeln!(
                s,
                "{:>6} {:>6} {:>3} {:>6} {:>6.2} {:>8}  {}",
                t.x,
                t.y,
                t.cfa,
                t.kind.name(),
                t.level,
                t.rate
                    .map(|r| format!("{:.2}", r * 100.0))
                    .unwrap_or_default(),
                match hit {
                    Some(k) => {
                        let d = &defects[k];
                        let rate = d
                            .dark
                            .map(|dc| format!(", rate {:.2} %/s", dc.dark_rate * 100.0));
                        format!("#{} {}{}", k + 1, d.kind.name(), rate.unwrap_or_default())
                    }
                    None => "not found".to_string(),
                }
            );
        }
        let _ = writeln!(
            s,
            "{}{}",
            self.quality.summary(),
            if self.passed() { "" } else { " — FAILED" }
        );
        s
    }
}

/// Writes the set `spec` describes to a temporary folder, scans it with `options`, scores the
/// detection against the truth, and removes the folder.
pub fn run_demo(
    spec: &SetSpec,
    options: ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<DemoOutcome, DemoError> {
    let dir = tempfile::Builder::new()
        .prefix("hotpixels-demo-")
        .tempdir()
        .map_err(|e| DemoError::Write(e.to_string()))?;
    let truth = write_set(spec, dir.path())?;
    let report = scan(&[dir.path().display().to_string()], &options, observer)?;
    let quality = evaluate(&report.detection.defects, &truth);
    Ok(DemoOutcome {
        report,
        truth,
        quality,
    })
}
