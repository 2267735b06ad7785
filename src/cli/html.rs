//! `hotpixels html`: a saved JSON report or library document written as the one-page HTML report
//! (without the pictures a scan draws from its frames).

use std::path::PathBuf;

use hotpixels::report::{self, Destination, OutputError};

use super::{error, EXIT_FATAL, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct HtmlArgs {
    /// The JSON report of a scan or a photo library's document (`-` for standard input).
    #[arg(value_name = "REPORT.json")]
    report: PathBuf,
    /// The page to write.
    #[arg(long, short = 'o', value_name = "FILE.html")]
    output: PathBuf,
    /// Replace FILE.html if it exists.
    #[arg(long)]
    force: bool,
    /// Refuse a report whose frame is larger than this many megapixels (a report is read as
    /// untrusted input).
    #[arg(long, default_value_t = hotpixels::input::discover::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    max_megapixels: f64,
}

fn html(a: &HtmlArgs) -> Result<(), String> {
    let limits = super::limits_arg(a.max_megapixels)?;
    let dest = Destination::parse(&a.output);
    if let Destination::File(p) = &dest {
        report::check_writable(p, a.force).map_err(|e| e.to_string())?;
    }
    let text = report::readback::read_report_text(&a.report)?;
    let name = if a.report.as_os_str() == "-" {
        report::html::REPORT_PLACEHOLDER.to_string()
    } else {
        a.report.display().to_string()
    };
    let page = report::html::render_json(&text, &name, &limits)
        .map_err(|e| format!("{}: {e}", a.report.display()))?;
    match report::write_to(&dest, page.as_bytes(), a.force) {
        Ok(()) | Err(OutputError::ClosedPipe) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `html`.
pub fn run(a: HtmlArgs) -> u8 {
    match html(&a) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}
