//! The console observer of a scan: per-file errors as they happen, warnings after discovery, and
//! a progress bar on standard error when it is a terminal.

use std::io::Write;

use hotpixels::input::{DecodeError, Discovery};
use hotpixels::scan::ScanObserver;

use super::error;

/// Prints per-file errors as they happen, warnings after discovery, and a progress bar on stderr
/// (only when stderr is a terminal and not `--quiet`).
pub struct Console {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    started: std::time::Instant,
}

impl Console {
    /// A console; `quiet` prints errors only.
    pub fn new(quiet: bool) -> Self {
        Console {
            quiet,
            bar: None,
            started: std::time::Instant::now(),
        }
    }

    /// Clears the progress bar.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

impl ScanObserver for Console {
    fn discovered(&mut self, d: &Discovery) {
        if self.quiet {
            return;
        }
        for u in &d.unmatched {
            let _ = writeln!(
                std::io::stderr(),
                "hotpixels: warning: '{u}' matched no image file"
            );
        }
        if d.before_since > 0 {
            let _ = writeln!(
                std::io::stderr(),
                "hotpixels: --since: {} files taken earlier (or without a capture time) left out",
                d.before_since
            );
        }
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        if wants_progress_bar(terminal, self.quiet, d.files.len()) {
            let bar = indicatif::ProgressBar::new(d.files.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} frames  {msg}  ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            self.started = std::time::Instant::now();
            self.bar = Some(bar);
        }
    }

    fn decode_failed(&mut self, e: &DecodeError) {
        match &self.bar {
            Some(bar) => bar.suspend(|| error(e)),
            None => error(e),
        }
    }

    fn progress(&mut self, done: usize, _total: usize, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{:.1} frames/s  {:.0} MB/s",
                done as f64 / secs,
                bytes as f64 / 1e6 / secs
            ));
        }
    }
}

/// A progress bar is drawn only on a terminal (never into a log or a pipe), not with `--quiet`,
/// and only when there is more than one file to show progress over.
fn wants_progress_bar(stderr_is_terminal: bool, quiet: bool, files: usize) -> bool {
    stderr_is_terminal && !quiet && files > 1
}

#[cfg(test)]
mod tests {
    use super::wants_progress_bar;

    #[test]
    fn the_bar_is_for_terminals_and_not_for_quiet_runs() {
        assert!(wants_progress_bar(true, false, 2));
        assert!(!wants_progress_bar(false, false, 2), "not into a log");
        assert!(!wants_progress_bar(true, true, 2), "not with --quiet");
        assert!(!wants_progress_bar(true, false, 1), "not for one file");
    }
}
