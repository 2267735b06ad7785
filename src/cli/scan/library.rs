//! `hotpixels scan` over a photo library of several cameras: one scan per camera group, one after
//! another, every output but the JSON report and the HTML page written per camera (named after
//! it), and those two written once for all of them.

use std::io::Write;

use hotpixels::input::exif::group_name;
use hotpixels::input::Discovery;
use hotpixels::report::{self, json, Destination, Format, Output, OutputError};
use hotpixels::scan;

use super::config::ScanConfig;
use crate::cli::console::Console;
use crate::cli::{error, EXIT_FATAL, EXIT_OK, EXIT_SOME_FAILED};

/// The groups, and the JSON report and HTML page written once for all of them.
type Plan = (Vec<Group>, Option<Output>, Option<Output>);

/// One camera group with the outputs written for it.
struct Group {
    discovery: Discovery,
    name: String,
    outputs: Vec<Output>,
    exports: Vec<Output>,
}

/// Scans every group of `groups` (two or more) and writes its outputs; returns the exit status:
/// fatal when no group could be scanned or an output failed, some-failed when a group or a file
/// failed.
pub fn run(cfg: &ScanConfig, groups: Vec<Discovery>, console: &mut Console) -> u8 {
    let names: Vec<String> = groups
        .iter()
        .map(|g| group_name(g.camera.as_ref()))
        .collect();
    let (groups, json, html) = match plan(cfg, groups, &names) {
        Ok(plan) => plan,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let mut backend = match scan::Backend::open(cfg.options.backend, cfg.options.gpu) {
        Ok(backend) => backend,
        Err(e) => {
            error(e);
            return EXIT_FATAL;
        }
    };
    let count = groups.len();
    let mut status = EXIT_OK;
    let mut scanned = 0;
    let mut documents = Vec::new();
    let mut sections = Vec::new();
    for (i, g) in groups.into_iter().enumerate() {
        let memory = g.discovery.shape.map_or_else(String::new, |shape| {
            let dark = hotpixels::scan::exposure::choose(
                g.discovery.files.len(),
                &hotpixels::scan::exposure::exposures_of(
                    &g.discovery.files,
                    &g.discovery.exposures,
                )
                .into_values()
                .collect::<Vec<_>>(),
            )
            .is_dark_current();
            // The frames held as --max-memory allows (the machine's memory is checked later).
            let frames =
                scan::plan_frames(shape, cfg.options.jobs, false, dark, cfg.options.max_memory)
                    .unwrap_or_else(|_| scan::FramePlan::full(cfg.options.jobs, dark));
            let bytes = scan::memory_of(shape, frames, false, dark);
            format!(", memory up to {}", hotpixels::mem::describe_bytes(bytes))
        });
        let heading = format!(
            "camera {} of {count}: {}, {} files{memory}",
            i + 1,
            g.name,
            g.discovery.files.len()
        );
        if !write_heading(&g.outputs, &heading) {
            return status;
        }
        let result = scan::prepare_discovered(g.discovery, &cfg.options, console)
            .and_then(|p| p.run_on(&mut backend, &cfg.options, console));
        console.finish();
        let mut report = match result {
            Ok(report) => report,
            Err(e) => {
                error(format!("{}: {e}", g.name));
                status = status.max(EXIT_SOME_FAILED);
                continue;
            }
        };
        scanned += 1;
        if report.failed > 0 {
            status = status.max(EXIT_SOME_FAILED);
        }
        // The one document and page show what the per-camera outputs show.
        if let Some(at) = cfg.report.at {
            report.judge_at(at);
        }
        if json.is_some() {
            documents.push(json::group_value(&report));
        }
        if html.is_some() {
            let section = report::html::Section::of(
                json::group_value(&report),
                report::html::Pictures::of_scan(&report),
            );
            sections.extend(section.ok());
        }
        let (written, open) = cfg
            .report
            .write_batches(report, &g.outputs, &g.exports, EXIT_OK);
        status = status.max(written);
        if !open {
            return status;
        }
    }
    if scanned == 0 {
        return EXIT_FATAL;
    }
    let whole = json
        .map(|o| (o, json::render_library(documents)))
        .into_iter()
        .chain(html.map(|o| {
            let page = report::html::page::render(&sections, &cfg.report.report_name);
            (o, page)
        }));
    for (o, text) in whole {
        match report::write_to(&o.dest, text.as_bytes(), cfg.report.force) {
            Ok(()) | Err(OutputError::ClosedPipe) => {}
            Err(e) => {
                error(e);
                status = EXIT_FATAL;
            }
        }
    }
    status
}

/// The outputs of every group, checked before any work: no output on standard output but the
/// text and JSON reports (each camera has its own), no file that exists (without `--force`) or
/// is one of the files found, no state file (it holds one camera's statistics). Returns the
/// groups, and the JSON report and HTML page written for all of them.
fn plan(cfg: &ScanConfig, groups: Vec<Discovery>, names: &[String]) -> Result<Plan, String> {
    if cfg.options.state.is_some() {
        return Err(format!(
            "--state holds the statistics of one camera, and the inputs hold {}: {}; choose one with --camera",
            names.len(),
            names.join(", ")
        ));
    }
    let (outputs, exports) = cfg.report.split();
    let json = outputs.iter().find(|o| o.format == Format::Json).cloned();
    let html = outputs.iter().find(|o| o.format == Format::Html).cloned();
    let outputs: Vec<Output> = outputs
        .iter()
        .filter(|o| o.format != Format::Json && o.format != Format::Html)
        .cloned()
        .collect();
    if let Some(o) = outputs
        .iter()
        .chain(exports)
        .find(|o| o.dest == Destination::Stdout && o.format != Format::Text)
    {
        return Err(format!(
            "{} on standard output: the inputs hold {} cameras, each with its own; name a file (one is written per camera, named after it)",
            o.format.name(),
            names.len()
        ));
    }
    let groups: Vec<Group> = groups
        .into_iter()
        .zip(names)
        .map(|(discovery, name)| {
            let label = report::group_label(discovery.camera.as_ref());
            Group {
                outputs: report::outputs_for_group(&outputs, &label),
                exports: report::outputs_for_group(exports, &label),
                name: name.clone(),
                discovery,
            }
        })
        .collect();
    let files: Vec<Output> = groups
        .iter()
        .flat_map(|g| g.outputs.iter().chain(&g.exports))
        .filter(|o| matches!(o.dest, Destination::File(_)))
        .cloned()
        .collect();
    let given: Vec<std::path::PathBuf> = cfg.inputs.iter().map(Into::into).collect();
    report::check_outputs(&files, &given, cfg.report.force).map_err(|e| e.to_string())?;
    let found: Vec<std::path::PathBuf> = groups
        .iter()
        .flat_map(|g| g.discovery.files.iter().cloned())
        .collect();
    let all: Vec<Output> = files
        .into_iter()
        .chain(json.clone())
        .chain(html.clone())
        .collect();
    report::check_not_inputs(&all, &found).map_err(|e| e.to_string())?;
    Ok((groups, json, html))
}

/// Writes a group's heading before its scan (and so before its text report and the errors of
/// its files), on the stream the text report goes to; false when that stream is closed.
fn write_heading(outputs: &[Output], heading: &str) -> bool {
    let Some(text) = outputs.iter().find(|o| o.format == Format::Text) else {
        return true;
    };
    let line = format!("\n== {heading} ==\n");
    let written = match &text.dest {
        Destination::Stdout => std::io::stdout().write_all(line.as_bytes()),
        Destination::Stderr => std::io::stderr().write_all(line.as_bytes()),
        Destination::File(_) => Ok(()),
    };
    written.is_ok()
}
