//! `hotpixels bench`: decode, accumulate and whole-scan throughput per backend, as a table or
//! JSON.

mod measure;

use std::io::Write;

use clap::ValueEnum;

use super::{error, print, stopped, EXIT_FATAL, EXIT_OK};
use hotpixels::report::{self, Destination};
use hotpixels::scan;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpuArg {
    /// Hardware adapters only.
    Hardware,
    /// Any adapter, software ones included.
    Any,
    /// No GPU measurements.
    None,
}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Files, folders or glob patterns to measure on (default: synthetic JPEGs of each --sizes).
    #[arg(value_name = "INPUT")]
    inputs: Vec<String>,
    /// Synthetic frame sizes in megapixels.
    #[arg(long, value_delimiter = ',', default_value = "12,24,45")]
    sizes: Vec<u32>,
    /// Synthetic JPEG files per size.
    #[arg(long, default_value_t = 16)]
    frames: usize,
    /// Frames held in memory for the accumulate-only rows.
    #[arg(long, default_value_t = 8)]
    accumulate_frames: usize,
    /// JPEG quality of the synthetic files.
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,
    /// Decoder threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// GPU adapters to measure: `hardware` only, `any` (software adapters such as llvmpipe too),
    /// or `none`.
    #[arg(long, value_enum, default_value = "hardware")]
    gpu: GpuArg,
    /// Runs of each decode and scan measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// The most memory the bench may take (e.g. 4G; default: what the machine has available).
    /// Sizes whose statistics do not fit are skipped, and so are accumulate-only rows that do
    /// not; scans hold fewer frames at once.
    #[arg(long, value_name = "SIZE", value_parser = crate::cli::parse_bytes)]
    max_memory: Option<u64>,
    /// Write the measurements as JSON to FILE (`-` for standard output).
    #[arg(long, value_name = "FILE")]
    json: Option<String>,
    /// Replace the JSON file if it exists.
    #[arg(long)]
    force: bool,
}

/// Runs `bench`.
pub fn run(a: BenchArgs) -> u8 {
    if a.jobs == Some(0) || a.frames < 2 || a.sizes.iter().any(|&s| s == 0 || s > 200) {
        error("--jobs must be at least 1, --frames at least 2, --sizes between 1 and 200 MP");
        return EXIT_FATAL;
    }
    let json = a.json.as_deref().map(Destination::parse);
    if let Some(Destination::File(p)) = &json {
        if let Err(e) = report::check_writable(p, a.force) {
            error(e);
            return EXIT_FATAL;
        }
    }
    let options = measure::BenchOptions {
        inputs: a.inputs,
        sizes_mp: a.sizes,
        frames: a.frames,
        accumulate_frames: a.accumulate_frames.max(2),
        quality: a.quality,
        jobs: a.jobs.unwrap_or_else(scan::default_jobs),
        gpu: match a.gpu {
            GpuArg::Hardware => measure::GpuChoice::Hardware,
            GpuArg::Any => measure::GpuChoice::Any,
            GpuArg::None => measure::GpuChoice::None,
        },
        repeat: a.repeat.max(1),
        max_memory: a.max_memory,
    };
    let mut say = |what: &str| {
        let _ = writeln!(std::io::stderr(), "bench: {what}");
    };
    let report = match measure::run(&options, &mut say) {
        Ok(r) => r,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let table = measure::render(&report);
    if json == Some(Destination::Stdout) {
        let _ = std::io::stderr().write_all(table.as_bytes());
    } else if let Err(stop) = print(&table) {
        return stopped(stop);
    }
    if let Some(dest) = &json {
        let mut text = serde_json::to_string_pretty(&report).expect("bench report serialises");
        text.push('\n');
        match report::write_to(dest, text.as_bytes(), a.force) {
            Ok(()) | Err(report::OutputError::ClosedPipe) => {}
            Err(e) => {
                error(e);
                return EXIT_FATAL;
            }
        }
    }
    EXIT_OK
}
