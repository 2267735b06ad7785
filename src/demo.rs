//! The demo: writes a synthetic set with planted defects to a temporary folder, scans it, and
//! prints what was found beside what was planted.

use std::fmt::Write;

use crate::input::{channel_name, Shape};
use crate::scan::{scan, ScanError, ScanObserver, ScanOptions, ScanReport};
use crate::synth::SyntheticSet;

/// Errors of the demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The temporary folder or a frame could not be written.
    #[error("cannot write the demo frames: {0}")]
    Write(String),
    /// The scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// The demo's outcome: the scan report, the set, and whether every planted defect was found.
pub struct DemoOutcome {
    /// The scan's report.
    pub report: ScanReport,
    /// The synthetic set.
    pub set: SyntheticSet,
    /// Rank (1-based) at which each planted defect was found in the lowest-`M2` list.
    pub found: Vec<Option<usize>>,
}

impl DemoOutcome {
    /// True when every planted defect is in the lowest-`M2` list.
    pub fn all_found(&self) -> bool {
        self.found.iter().all(|f| f.is_some())
    }

    /// The planted-versus-found table.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let shape = self.set.shape;
        let _ = writeln!(s, "planted defects and where the scan ranked them:");
        let _ = writeln!(
            s,
            "{:>6} {:>6} {:>3} {:>6} {:>7}  found",
            "x", "y", "ch", "kind", "value"
        );
        for (p, f) in self.set.planted.iter().zip(&self.found) {
            let _ = writeln!(
                s,
                "{:>6} {:>6} {:>3} {:>6} {:>7}  {}",
                p.x,
                p.y,
                channel_name(&shape, p.channel),
                p.kind,
                p.value,
                match f {
                    Some(r) => format!("yes, rank {r}"),
                    None => "NO".to_string(),
                }
            );
        }
        let found = self.found.iter().filter(|f| f.is_some()).count();
        let _ = writeln!(
            s,
            "{found} of {} planted defects found{}",
            self.found.len(),
            if self.all_found() { "" } else { " — FAILED" }
        );
        s
    }
}

/// Writes `frames` synthetic frames of `shape` with `defects` planted subpixels to a temporary
/// folder, scans them with `options`, and removes the folder.
pub fn run_demo(
    shape: Shape,
    frames: usize,
    defects: usize,
    seed: u64,
    mut options: ScanOptions,
    observer: &mut dyn ScanObserver,
) -> Result<DemoOutcome, DemoError> {
    let dir = tempfile::Builder::new()
        .prefix("hotpixels-demo-")
        .tempdir()
        .map_err(|e| DemoError::Write(e.to_string()))?;
    let set = SyntheticSet::new(shape, frames, defects, seed);
    set.write_png(dir.path())
        .map_err(|e| DemoError::Write(e.to_string()))?;
    options.top = options.top.max(set.planted.len());
    let report = scan(&[dir.path().display().to_string()], &options, observer)?;
    let found = set
        .planted
        .iter()
        .map(|p| {
            report
                .lowest
                .iter()
                .position(|c| c.x == p.x && c.y == p.y && c.channel == p.channel)
                .map(|r| r + 1)
        })
        .collect();
    Ok(DemoOutcome { report, set, found })
}
