//! The command line: one module per subcommand, each turning its clap arguments into a validated
//! config before any work starts and printing what the library returns. Per-file errors are
//! counted, not fatal; a closed standard output ends the run quietly.

mod bench;
mod console;
mod demo;
mod devices;
mod export;
mod html;
mod import;
mod merge;
mod outputs;
mod repair;
mod scan;
mod synth;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use hotpixels::report::{self, Destination, OutputError};
use hotpixels::scan::BackendChoice;

/// Exit status: the run completed.
pub const EXIT_OK: u8 = 0;
/// Exit status: the run completed, but some files failed to decode.
pub const EXIT_SOME_FAILED: u8 = 1;
/// Exit status: nothing could be done (bad arguments, no input, no usable frame).
pub const EXIT_FATAL: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "hotpixels",
    version,
    about = "Find a camera sensor's hot, warm, stuck and dead pixels from many photos or dark frames"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan photos (files, folders or glob patterns) and rank the subpixels that never change.
    Scan(scan::ScanArgs),
    /// List the GPU adapters this machine offers.
    Devices,
    /// Scan a synthetic set from a simulated camera with planted defects and check what is found.
    Demo(demo::DemoArgs),
    /// Measure decode, accumulate and whole-scan throughput per backend.
    Bench(bench::BenchArgs),
    /// Write a synthetic test set: frames from a simulated camera with defects, and truth.json.
    Synth(synth::SynthArgs),
    /// Write a scan's JSON report as the defect list of another tool (dcraw, RawTherapee, Siril)
    /// or as CSV.
    Export(export::ExportArgs),
    /// Write a scan's JSON report (or a photo library's) as one self-contained HTML page.
    Html(html::HtmlArgs),
    /// Read a defect list written by another tool (dcraw, RawTherapee, Siril), a per-pixel CSV
    /// or a mask into a JSON report that `repair` and `export` take.
    Import(import::ImportArgs),
    /// Combine the state files of several scans (`scan --shard I/N --state FILE`) and report
    /// them as one scan.
    Merge(merge::MergeArgs),
    /// Write corrected copies of images (PNG, TIFF, JPEG), the defects of a scan's JSON report
    /// replaced from their clean neighbours.
    Repair(repair::RepairArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    /// Any GPU adapter, software ones included.
    Gpu,
    /// The CPU.
    Cpu,
}

impl From<BackendArg> for BackendChoice {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Gpu => BackendChoice::Gpu,
            BackendArg::Cpu => BackendChoice::Cpu,
        }
    }
}

/// The kinds named by a `--kinds` argument (comma-separated), or every kind when it is absent.
pub fn kinds_arg(arg: Option<&str>) -> Result<Vec<hotpixels::detect::Kind>, String> {
    use hotpixels::detect::Kind;
    match arg {
        Some(list) => Kind::parse_list(list).map_err(|e| format!("--kinds: {e}")),
        None => Ok(Kind::ALL.to_vec()),
    }
}

/// The exposure of `--at TIME@ISO`, when given.
pub fn at_arg(at: Option<&str>) -> Result<Option<hotpixels::detect::dark::AtExposure>, String> {
    at.map(|a| hotpixels::detect::dark::AtExposure::parse(a).map_err(|e| format!("--at {e}")))
        .transpose()
}

/// A size in bytes as people write it: `2G`, `2GB`, `1500M`, `800k`, or a number of bytes (powers
/// of ten, as the program prints sizes).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let bad = || format!("'{text}': expected a size such as 2G, 1500M or 800000000");
    let t = text.trim();
    let digits = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let scale: f64 = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1.0,
        "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return Err(bad()),
    };
    match number.parse::<f64>() {
        Ok(n) if n > 0.0 && (n * scale).is_finite() => Ok((n * scale) as u64),
        _ => Err(bad()),
    }
}

/// The limits a report read back is held to, from `--max-megapixels`.
pub fn limits_arg(max_megapixels: f64) -> Result<hotpixels::report::readback::ReadLimits, String> {
    if !(max_megapixels > 0.0 && max_megapixels.is_finite()) {
        return Err("--max-megapixels must be a positive number".into());
    }
    Ok(hotpixels::report::readback::ReadLimits { max_megapixels })
}

/// Prints `hotpixels: error: MSG` on standard error.
pub fn error(msg: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "hotpixels: error: {msg}");
}

/// What ends a command early besides its own errors.
#[derive(Debug)]
pub enum Stop {
    /// Standard output was closed by its reader: exit quietly.
    ClosedPipe,
    /// Writing failed otherwise; the message was printed.
    Failed,
}

/// Writes `text` to standard output. A closed pipe (`| head`) is [`Stop::ClosedPipe`], not a panic.
pub fn print(text: &str) -> Result<(), Stop> {
    match report::write_to(&Destination::Stdout, text.as_bytes(), false) {
        Ok(()) => Ok(()),
        Err(OutputError::ClosedPipe) => Err(Stop::ClosedPipe),
        Err(e) => {
            error(e);
            Err(Stop::Failed)
        }
    }
}

/// The exit status of a command that stopped early.
pub fn stopped(stop: Stop) -> u8 {
    match stop {
        Stop::ClosedPipe => EXIT_OK,
        Stop::Failed => EXIT_FATAL,
    }
}

/// Parses `args`, runs the command and returns its exit code.
pub fn main(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_FATAL } else { EXIT_OK });
        }
    };
    hotpixels::input::quiet_guarded_panics();
    let code = match cli.command {
        Command::Scan(a) => scan::run(a),
        Command::Devices => devices::run(),
        Command::Demo(a) => demo::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Synth(a) => synth::run(a),
        Command::Export(a) => export::run(a),
        Command::Html(a) => html::run(a),
        Command::Import(a) => import::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Repair(a) => repair::run(a),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_bytes("2G"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("1.5g"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("1500M"), Ok(1_500_000_000));
        assert_eq!(parse_bytes("800k"), Ok(800_000));
        assert_eq!(parse_bytes("123456"), Ok(123_456));
        for bad in ["", "G", "0", "-1G", "2X", "lots", "1e400"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}
