//! A prepared scan run ([`Prepared::run`]): the files not counted yet are decoded and counted
//! stretch by stretch — one stretch per window of capture time when the timeline dates the
//! defects, one per checkpoint with a state file — each on an accumulator of the [`Backend`],
//! merged into the total, and the report assembled from it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::assemble::{detect_options, levels_of, Counted, Found};
use super::checkpoint::{interrupted, not_counted, save, Pacer, Resumed};
use super::window::accumulate_files;
use super::{exposure, Backend, Prepared, ScanError, ScanObserver, ScanOptions};
use crate::detect::detect_with;
use crate::detect::timeline::{self, Tracker};
use crate::input::{DecodeError, Discovery};
use crate::model::{Model, ScanReport, Timing};
use crate::stats::state::CountedFile;
use crate::stats::Moments;

/// The files to count and the stretches they are counted in.
struct Plan {
    /// The files not counted yet, in the order they are counted.
    todo: Vec<PathBuf>,
    /// Where each stretch ends in `todo`: the windows of capture time, or all of it.
    ends: Vec<usize>,
    /// Follows the defects window by window, when the timeline dates them.
    tracker: Option<Tracker>,
}

impl Plan {
    /// With capture times for every file (and no state file, whose stretches are checkpoints),
    /// the frames are counted in their order, window by window, each window's detection kept to
    /// date the defects; else in file order, in one stretch.
    fn new(mut todo: Vec<PathBuf>, discovery: &Discovery, options: &ScanOptions) -> Self {
        let windows = timeline::window_count(todo.len());
        let dated = options.timeline
            && options.state.is_none()
            && windows >= 2
            && todo.iter().all(|f| discovery.taken.contains_key(f));
        if !dated {
            let ends = vec![todo.len()];
            return Plan {
                todo,
                ends,
                tracker: None,
            };
        }
        todo.sort_by_key(|f| (discovery.taken[f], f.clone()));
        Plan {
            ends: (1..=windows)
                .map(|w| timeline::window_start(todo.len(), windows, w))
                .collect(),
            todo,
            tracker: Some(Tracker::new(options.detect.dark)),
        }
    }

    /// The end of the stretch that starts at `at`.
    fn end(&self, at: usize) -> usize {
        self.ends
            .iter()
            .copied()
            .find(|&e| e > at)
            .unwrap_or(self.todo.len())
    }
}

impl Prepared {
    /// Decodes and accumulates every file, then ranks and detects. With [`ScanOptions::state`],
    /// the files its state file counts already are not read again, and the state is written
    /// after every [`super::StateOptions::every_frames`] frames or [`super::StateOptions::every`]
    /// of time, at the end, and when [`super::interrupt`] was called (the scan then ends with
    /// [`ScanError::Interrupted`]).
    pub fn run(
        self,
        options: &ScanOptions,
        observer: &mut dyn ScanObserver,
    ) -> Result<ScanReport, ScanError> {
        let mut backend = Backend::open(options.backend, options.gpu)?;
        self.run_on(&mut backend, options, observer)
    }

    /// [`Prepared::run`] on a backend already open (`options.backend` and `options.gpu` are not
    /// looked at).
    pub fn run_on(
        self,
        backend: &mut Backend,
        options: &ScanOptions,
        observer: &mut dyn ScanObserver,
    ) -> Result<ScanReport, ScanError> {
        let Prepared {
            discovery,
            shape,
            started,
            model,
            exposures,
            frames,
            dark_sums,
        } = self;
        // What the scan would hold with memory to spare, by the model its frames were planned for.
        let full = super::FramePlan::full(options.jobs, dark_sums);
        let Resumed {
            mut total,
            mut counted,
            raw,
            resumed,
        } = Resumed::read(
            options.state.as_ref(),
            shape,
            options.prefer,
            discovery.raw.clone(),
        )?;
        let mut plan = Plan::new(not_counted(&counted, &discovery.files), &discovery, options);
        let levels = levels_of(raw.as_ref(), &plan.todo, shape);
        // Dark current when the frames can show it (a resumed state keeps the model it began
        // with); each frame counted with its exposure.
        let (model, dark) = match (&total, resumed) {
            (Some(t), true) => (Model::of(t), t.dark_setup()),
            _ => {
                let values: Vec<f64> = exposures.values().copied().collect();
                let dark = model
                    .is_dark_current()
                    .then(|| exposure::setup(&values, &levels));
                (model, dark)
            }
        };
        let exposure_of = exposure::lookup(&exposures);
        let mut pacer = Pacer::new(observer, options.state.as_ref(), discovery.files.len());
        let already = discovery.files.len() - plan.todo.len();
        let mut timing = Timing::default();
        let mut failures: Vec<DecodeError> = Vec::new();
        let mut info = None;
        let mut at = 0;
        loop {
            let allocating = Instant::now();
            let mut acc = backend.accumulator(shape, dark, frames.batch)?;
            timing.allocate += allocating.elapsed();
            let acc_info = acc.info();
            pacer.restart(already + at);
            let stretch = &plan.todo[at..plan.end(at)];
            let result = accumulate_files(
                stretch,
                shape,
                &exposure_of,
                acc.as_mut(),
                frames.jobs,
                &mut pacer,
            )
            .and_then(|mut done| {
                let finishing = Instant::now();
                let part = acc.finish()?;
                done.timing.statistics += finishing.elapsed();
                Ok((done, part))
            });
            let (done, part) = match result {
                Ok(counted) => counted,
                // The CPU counts the stretch again.
                Err(e) if backend.recover(&e) => continue,
                Err(source) => {
                    return Err(match (&options.state, &total) {
                        (Some(st), Some(m)) if st.path.exists() => ScanError::Failed {
                            source,
                            frames: m.n,
                            state: st.path.clone(),
                        },
                        _ => source.into(),
                    })
                }
            };
            info.get_or_insert(acc_info);
            timing.add(&done.timing);
            if let Some(tracker) = plan.tracker.as_mut().filter(|_| part.n >= 2) {
                let detecting = Instant::now();
                let (detect, _, _) = detect_options(&part, options);
                tracker.window(total.as_ref(), &part, &detect_with(&part, &detect, &levels));
                timing.timeline += detecting.elapsed();
            }
            if part.n > 0 {
                match total.as_mut() {
                    Some(t) => {
                        t.merge(&part)?;
                        // The next stretch counts into this one's memory.
                        if at + done.taken < plan.todo.len() {
                            backend.recycle(part);
                        }
                    }
                    None => total = Some(part),
                }
            }
            let failed: HashSet<&Path> = done.failed.iter().map(|e| e.path()).collect();
            counted.extend(
                plan.todo[at..at + done.taken]
                    .iter()
                    .filter(|f| !failed.contains(f.as_path()))
                    .filter_map(|f| CountedFile::of(f)),
            );
            failures.extend(done.failed);
            at += done.taken;
            // A resumed scan with nothing new to count leaves its state as it was.
            let changed = done.taken > 0 || !resumed;
            if let (Some(st), Some(m), true) = (&options.state, &total, changed) {
                save(st, shape, options.prefer, raw.as_ref(), &counted, m)?;
            }
            if interrupted() {
                return Err(ScanError::Interrupted {
                    frames: total.as_ref().map_or(0, |m| m.n),
                    state: options.state.as_ref().map(|st| st.path.clone()),
                });
            }
            if at >= plan.todo.len() {
                break;
            }
        }
        let moments = total.unwrap_or_else(|| Moments::new(shape));
        if moments.n < 2 {
            return Err(ScanError::TooFewFrames(
                moments.n as usize,
                shape.describe(),
            ));
        }
        let counted = Counted {
            moments,
            files: counted.into_iter().map(|c| c.path).collect(),
            raw,
            prefer: options.prefer,
            backend: info.expect("a backend counted the frames"),
        };
        let found = Found::of(&discovery, &failures);
        let mut report = super::report_of(counted, found, options, started);
        report.warnings.extend(backend.note().map(str::to_string));
        if frames.frames() < full.frames() {
            let held = match frames.frames() {
                1 => "1 frame".to_string(),
                n => format!("{n} frames"),
            };
            report.warnings.push(format!(
                "the memory available held {held} at a time beside the statistics, not {}: the scan was slower, its answer the same to rounding",
                full.frames()
            ));
        }
        if !report.model.is_dark_current() {
            report.model = model;
        }
        report.timing.add(&timing);
        let dating = Instant::now();
        super::assemble::describe_frames(&mut report, &discovery, plan.tracker, options);
        report.timing.timeline += dating.elapsed();
        Ok(report)
    }
}
