//! `hotpixels scan`: the arguments validated into a [`ScanConfig`] ([`config`]), the scan — of one
//! camera here, of a photo library's several cameras in [`library`] — and the outputs written in
//! one loop.

mod config;
mod library;

pub use config::{ScanArgs, ScanConfig};

use hotpixels::report;
use hotpixels::scan;

use super::console::Console;
use super::{error, EXIT_FATAL, EXIT_OK, EXIT_SOME_FAILED};

/// Exit status of a scan interrupted by a signal (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// On SIGINT or SIGTERM, the scan stops after the frame in hand and writes its state; a second
/// signal ends the program at once.
fn stop_on_signals() {
    #[cfg(unix)]
    install();
}

#[cfg(unix)]
fn install() {
    extern "C" fn on_signal(signal: libc::c_int) {
        scan::interrupt();
        // SAFETY: signal() is async-signal-safe; the default action applies to the next one.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic and resets the disposition, both
        // async-signal-safe.
        unsafe {
            libc::signal(signal, on_signal as *const () as libc::sighandler_t);
        }
    }
}

/// Runs `scan`.
pub fn run(a: ScanArgs) -> u8 {
    match ScanConfig::from_args(a) {
        Ok(cfg) => run_config(cfg),
        Err(e) => {
            error(e);
            EXIT_FATAL
        }
    }
}

fn run_config(cfg: ScanConfig) -> u8 {
    if cfg.options.state.is_some() {
        stop_on_signals();
    }
    let mut console = Console::new(cfg.report.quiet);
    let mut groups = match scan::discover_library(&cfg.inputs, &cfg.options) {
        Ok(groups) => groups,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    if groups.len() > 1 {
        return library::run(&cfg, groups, &mut console);
    }
    let discovery = groups.pop().expect("one group at least");
    let result = (|| -> Result<_, scan::ScanError> {
        let prepared = scan::prepare_discovered(discovery, &cfg.options, &mut console)?;
        // Inputs found inside folders and patterns are known now: no output may replace one.
        if let Err(e) = report::check_not_inputs(&cfg.report.outputs, prepared.files()) {
            return Err(scan::ScanError::Output(e.to_string()));
        }
        prepared.run(&cfg.options, &mut console)
    })();
    console.finish();
    let report = match result {
        Ok(r) => r,
        Err(e @ scan::ScanError::Interrupted { .. }) => {
            error(e);
            return EXIT_INTERRUPTED;
        }
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let ok = if report.failed > 0 {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    };
    cfg.report.write(report, ok)
}
