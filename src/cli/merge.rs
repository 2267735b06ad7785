//! `hotpixels merge`: the states of several scans (shards of one collection, written with
//! `scan --shard I/N --state FILE`) combined and reported exactly as one scan of them all.

use std::path::PathBuf;

use hotpixels::scan::{report_of, Counted, Found, ScanOptions};
use hotpixels::stats::state;
use hotpixels::stats::{BackendInfo, BackendKind};

use super::outputs::{ReportArgs, ReportConfig};
use super::{error, EXIT_FATAL, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// State files of scans of disjoint files (`scan --state`), of one frame shape.
    #[arg(required = true, value_name = "STATE")]
    states: Vec<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
}

/// Runs `merge`.
pub fn run(a: MergeArgs) -> u8 {
    let started = std::time::Instant::now();
    let cfg = match ReportConfig::from_args(a.report, &a.states) {
        Ok(c) => c,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let merged = match state::merge(&a.states) {
        Ok(m) => m,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    if merged.moments.n < 2 {
        error(format!(
            "the states hold {} frame(s): variance needs at least two",
            merged.moments.n
        ));
        return EXIT_FATAL;
    }
    let options = ScanOptions {
        top: cfg.top.min(merged.moments.shape.subpixels()),
        detect: cfg.detect,
        prefer: merged.header.prefer,
        ..Default::default()
    };
    let counted = Counted {
        files: merged.header.files.into_iter().map(|f| f.path).collect(),
        raw: merged.header.raw,
        prefer: merged.header.prefer,
        backend: BackendInfo {
            kind: BackendKind::Cpu,
            adapter: format!("{} merged states", a.states.len()),
            driver: String::new(),
        },
        moments: merged.moments,
    };
    let report = report_of(counted, Found::default(), &options, started);
    cfg.write(report, EXIT_OK)
}
