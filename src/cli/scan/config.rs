//! `hotpixels scan`'s arguments ([`ScanArgs`]) and their validation into a [`ScanConfig`]: every
//! output checked before any work.

use std::path::PathBuf;

use hotpixels::report::Destination;
use hotpixels::scan::{self, ScanOptions};

use crate::cli::outputs::{ReportArgs, ReportConfig};
use crate::cli::BackendArg;

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Image or camera RAW files, folders (searched recursively) or glob patterns such as
    /// 'photos/**/*.JPG'.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,
    /// Statistics backend.
    #[arg(long, value_enum, default_value = "auto")]
    backend: BackendArg,
    /// Decoder threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// For shots saved as RAW and JPEG both (same name): read the RAW files (the sensor's own
    /// photosites) or the JPEGs.
    #[arg(long, value_parser = ["raw", "jpeg"], default_value = "raw")]
    prefer: String,
    /// Refuse files whose header claims a larger frame, in megapixels (before anything of that
    /// size is allocated).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
    /// The most memory the scan may take (e.g. 2G, 1500M; default: what the machine has
    /// available). Beside the statistics, which it must hold, the scan then holds fewer frames
    /// at once: slower, the same answer.
    #[arg(long, value_name = "SIZE", value_parser = crate::cli::parse_bytes)]
    max_memory: Option<u64>,
    /// Checkpoint the statistics to FILE and resume from it: a scan run again with the same
    /// FILE reads only the files it has not counted. Ctrl-C or SIGTERM writes it and exits 130.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Frames between checkpoints of --state.
    #[arg(long, default_value_t = scan::DEFAULT_CHECKPOINT_FRAMES, value_name = "N")]
    checkpoint_frames: usize,
    /// Seconds between checkpoints of --state.
    #[arg(long, default_value_t = scan::DEFAULT_CHECKPOINT_EVERY.as_secs(), value_name = "S")]
    checkpoint_seconds: u64,
    /// Scan shard I of N (1-based): the files whose path below the inputs' common folder hashes
    /// to it, the same on every machine. Write each shard's --state and `hotpixels merge` them.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Scan only the camera bodies whose name (make, model, serial number, as the report
    /// prints them) contains TEXT, compared without case. Every body found is scanned on its
    /// own; this picks some.
    #[arg(long, value_name = "TEXT")]
    camera: Option<String>,
    /// Scan only the frames taken on or after DATE (EXIF capture time; `YYYY-MM-DD`, or with
    /// `HH:MM[:SS]`): the sensor as it is now. Files without a capture time are left out.
    #[arg(long, value_name = "DATE", value_parser = hotpixels::input::exif::CaptureTime::parse)]
    since: Option<hotpixels::input::exif::CaptureTime>,
    /// Do not date the defects: count the frames in file order, without windows of capture
    /// time (a little faster; a defect that appeared late is then diluted by the frames before).
    #[arg(long)]
    no_timeline: bool,
    #[command(flatten)]
    report: ReportArgs,
}

/// A scan's validated configuration.
#[derive(Debug)]
pub struct ScanConfig {
    /// The inputs.
    pub inputs: Vec<String>,
    /// Options passed to the library.
    pub options: ScanOptions,
    /// The report options.
    pub report: ReportConfig,
}

/// `I/N` of `--shard`: 1 ≤ I ≤ N.
fn parse_shard(spec: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--shard '{spec}': expected I/N with 1 <= I <= N, e.g. 2/8");
    let (i, n) = spec.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

impl ScanConfig {
    /// Validates the arguments and checks every output: files writable, no two outputs on one file
    /// or on standard output, no output that is an input. Nothing is read or written yet.
    pub fn from_args(a: ScanArgs) -> Result<Self, String> {
        if a.jobs == Some(0) {
            return Err("--jobs must be at least 1".into());
        }
        let max_megapixels = crate::cli::limits_arg(a.max_megapixels)?.max_megapixels;
        if a.checkpoint_frames == 0 || a.checkpoint_seconds == 0 {
            return Err("--checkpoint-frames and --checkpoint-seconds must be at least 1".into());
        }
        let shard = a.shard.as_deref().map(parse_shard).transpose()?;
        let given: Vec<PathBuf> = a.inputs.iter().map(PathBuf::from).collect();
        let report = ReportConfig::from_args(a.report, &given)?;
        if let Some(state) = &a.state {
            if report
                .outputs
                .iter()
                .any(|o| o.dest == Destination::File(state.clone()))
            {
                return Err(format!("{}: is both --state and a report", state.display()));
            }
        }
        Ok(ScanConfig {
            inputs: a.inputs,
            options: ScanOptions {
                backend: a.backend.into(),
                top: report.top,
                jobs: a.jobs.unwrap_or_else(scan::default_jobs),
                detect: report.detect,
                max_megapixels,
                prefer: if a.prefer == "jpeg" {
                    hotpixels::input::Prefer::Jpeg
                } else {
                    hotpixels::input::Prefer::Raw
                },
                state: a.state.map(|path| scan::StateOptions {
                    path,
                    every_frames: a.checkpoint_frames,
                    every: std::time::Duration::from_secs(a.checkpoint_seconds),
                }),
                shard,
                camera: a.camera.filter(|c| !c.is_empty()),
                since: a.since,
                timeline: !a.no_timeline,
                max_memory: a.max_memory,
                ..Default::default()
            },
            report,
        })
    }
}
