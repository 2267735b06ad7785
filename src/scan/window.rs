//! The decoders and the accumulator: a pool of decoder threads reads files ahead, at most a
//! window of frames alive counting the ones the accumulator holds, and the accumulator takes the
//! frames in file order, so the results do not depend on thread timing and memory is bounded by
//! the window. A decoder that panics fails its file only; an accumulator that fails stops the
//! decoders.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::ScanObserver;
use crate::input::{decode_file_pooled, guard_decoder, DecodeError, Frame, FramePool, Shape};
use crate::model::Timing;
use crate::stats::{Accumulator, StatsError};

/// What [`accumulate_with`] did.
#[derive(Debug)]
pub struct Accumulated {
    /// Frames added.
    pub used: usize,
    /// Files that failed to decode.
    pub failed: Vec<DecodeError>,
    /// How many of the files, from the first, were taken (all of them unless paused).
    pub taken: usize,
    /// Where the time went.
    pub timing: Timing,
}

/// How far decoders may run ahead of the accumulator: at most `size` files past the last one
/// consumed (whose frame the accumulator no longer holds). Waiting and aborting go through one
/// mutex, so an abort cannot slip between a decoder's check and its wait.
struct Window {
    size: usize,
    state: Mutex<WindowState>,
    moved: Condvar,
}

struct WindowState {
    consumed: usize,
    aborted: bool,
}

impl Window {
    fn new(size: usize) -> Self {
        Window {
            size,
            state: Mutex::new(WindowState {
                consumed: 0,
                aborted: false,
            }),
            moved: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WindowState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until file `i` is within the window; false when the scan was aborted.
    fn wait_turn(&self, i: usize) -> bool {
        let mut s = self.lock();
        while i >= s.consumed + self.size && !s.aborted {
            s = self.moved.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        !s.aborted
    }

    /// The frames of files before `consumed` have been consumed by the accumulator.
    fn advance(&self, consumed: usize) {
        self.lock().consumed = consumed;
        self.moved.notify_all();
    }

    /// Stops every decoder: waiting ones wake and give up, running ones stop after their file.
    fn abort(&self) {
        self.lock().aborted = true;
        self.moved.notify_all();
    }
}

/// Frames alive at once in a scan with `jobs` decoders and an accumulator that holds `held`
/// ([`Accumulator::frames_held`]): the decoders' frames and the accumulator's share one window,
/// so the decoders run ahead only into the room the accumulator's batch leaves (on two cores the
/// batch's pass takes both anyway), and never fewer than one frame per decoder.
pub fn window_size(jobs: usize, held: usize) -> usize {
    jobs.max(held)
}

/// Decodes `files` on `jobs` threads and adds the frames to `acc` in file order, until the
/// observer asks to [pause](ScanObserver::pause).
///
/// Decoders run ahead of the accumulator only while fewer than a window of frames
/// ([`window_size`]) is alive: decoded, waiting, or held by the accumulator
/// ([`Accumulator::frames_pending`]).
///
/// Each frame carries the exposure `exposure` gives for its file ([`Frame::with_exposure`]).
pub fn accumulate_files(
    files: &[PathBuf],
    shape: Shape,
    exposure: &(dyn Fn(&Path) -> Option<f64> + Sync),
    acc: &mut dyn Accumulator,
    jobs: usize,
    observer: &mut dyn ScanObserver,
) -> Result<Accumulated, StatsError> {
    accumulate_with(files, acc, jobs, observer, &|path, pool| {
        decode_file_pooled(path, shape, pool).map(|f| f.with_exposure(exposure(path)))
    })
}

/// A decoder: reads one file into a frame, its buffer taken from the pool.
pub type DecodeFn<'a> = dyn Fn(&Path, &Arc<FramePool>) -> Result<Frame, DecodeError> + Sync + 'a;

/// [`accumulate_files`] with any decoder. A decoder that panics fails that file only
/// ([`guard_decoder`]); an accumulator that fails stops the decoders and is returned.
pub fn accumulate_with(
    files: &[PathBuf],
    acc: &mut dyn Accumulator,
    jobs: usize,
    observer: &mut dyn ScanObserver,
    decode: &DecodeFn,
) -> Result<Accumulated, StatsError> {
    let jobs = jobs.max(1).min(files.len().max(1));
    let window = Window::new(window_size(jobs, acc.frames_held()));
    let next = AtomicUsize::new(0);
    let decode_nanos = AtomicU64::new(0);
    let (tx, rx) = mpsc::sync_channel::<(usize, Result<_, DecodeError>)>(window.size);
    // A buffer for every frame that can be alive at once.
    let pool = FramePool::new(window.size);

    std::thread::scope(|s| {
        for k in 0..jobs {
            let tx = tx.clone();
            let (next, window, pool, decode_nanos) = (&next, &window, &pool, &decode_nanos);
            std::thread::Builder::new()
                .name(format!("hotpixels-decode-{k}"))
                .spawn_scoped(s, move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= files.len() || !window.wait_turn(i) {
                        break;
                    }
                    let path = &files[i];
                    let began = Instant::now();
                    let result = guard_decoder(path, || decode(path, pool));
                    decode_nanos.fetch_add(began.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    if tx.send((i, result)).is_err() {
                        break;
                    }
                })
                .expect("spawning a decoder thread");
        }
        drop(tx);

        let mut pending = BTreeMap::new();
        let mut expected = 0usize;
        let mut used = 0usize;
        let mut failed = Vec::new();
        let mut bytes = 0u64;
        let mut timing = Timing::default();
        let outcome = (|| {
            let mut waiting = Instant::now();
            'files: for (i, result) in rx.iter() {
                timing.wait += waiting.elapsed();
                pending.insert(i, result);
                while let Some(result) = pending.remove(&expected) {
                    match result {
                        Ok(frame) => {
                            bytes += frame.as_bytes().len() as u64;
                            let adding = Instant::now();
                            acc.add(frame)?;
                            timing.statistics += adding.elapsed();
                            used += 1;
                        }
                        Err(e) => {
                            observer.decode_failed(&e);
                            failed.push(e);
                        }
                    }
                    expected += 1;
                    // The frames the accumulator still holds stay in the window.
                    window.advance(expected - acc.frames_pending());
                    observer.progress(expected, files.len(), bytes);
                    if expected < files.len() && observer.pause() {
                        break 'files;
                    }
                }
                waiting = Instant::now();
            }
            Ok(())
        })();
        if outcome.is_err() || expected < files.len() {
            window.abort();
            drop(rx);
        }
        timing.decode = Duration::from_nanos(decode_nanos.load(Ordering::Relaxed));
        outcome.map(|()| Accumulated {
            used,
            failed,
            taken: expected,
            timing,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Silent;
    use crate::stats::{BackendInfo, BackendKind, CpuAccumulator, Moments};

    const NO_HANG: Duration = Duration::from_secs(60);

    fn shape() -> Shape {
        Shape::new(8, 6, 1, 8).unwrap()
    }

    fn frame(i: usize) -> Frame {
        Frame::from_u8(shape(), vec![(i * 7 % 251) as u8; 48]).unwrap()
    }

    fn paths(n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| PathBuf::from(format!("f{i:03}.png")))
            .collect()
    }

    /// Runs `f` on a thread and fails the test if it has not finished within [`NO_HANG`].
    fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(NO_HANG).expect("the scan hung")
    }

    #[test]
    fn a_decoder_panic_fails_that_file_only() {
        let (used, failed) = within_a_minute(|| {
            let files = paths(40);
            let mut acc = CpuAccumulator::with_options(shape(), 3, Some(1));
            let decode = |p: &Path, _: &Arc<FramePool>| {
                let i: usize = p.to_str().unwrap()[1..4].parse().unwrap();
                if i == 5 {
                    panic!("crafted file");
                }
                Ok(frame(i))
            };
            let done = accumulate_with(&files, &mut acc, 3, &mut Silent, &decode).unwrap();
            assert_eq!(done.taken, files.len());
            (done.used, done.failed)
        });
        assert_eq!(used, 39);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].path(), Path::new("f005.png"));
        assert!(
            failed[0].to_string().contains("crafted file"),
            "{}",
            failed[0]
        );
    }

    /// An accumulator that fails on its third frame.
    struct Failing(usize);

    impl Accumulator for Failing {
        fn shape(&self) -> Shape {
            shape()
        }
        fn add(&mut self, _: Frame) -> Result<(), StatsError> {
            self.0 += 1;
            if self.0 == 3 {
                return Err(StatsError::ShapeMismatch {
                    expected: "a".into(),
                    found: "b".into(),
                });
            }
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<Moments, StatsError> {
            Ok(Moments::new(shape()))
        }
        fn info(&self) -> BackendInfo {
            BackendInfo {
                kind: BackendKind::Cpu,
                adapter: String::new(),
                driver: String::new(),
            }
        }
        fn frames_held(&self) -> usize {
            0
        }
    }

    #[test]
    fn a_failing_accumulator_stops_the_decoders() {
        for _ in 0..20 {
            let result = within_a_minute(|| {
                let files = paths(200);
                let decode = |p: &Path, _: &Arc<FramePool>| {
                    let i: usize = p.to_str().unwrap()[1..4].parse().unwrap();
                    Ok(frame(i))
                };
                accumulate_with(&files, &mut Failing(0), 4, &mut Silent, &decode).is_err()
            });
            assert!(result);
        }
    }

    /// An accumulator that holds frames in batches of `batch`, as the CPU backend does, and counts
    /// the frames it let go.
    struct Holding {
        batch: usize,
        pending: Vec<Frame>,
        released: Arc<AtomicUsize>,
    }

    impl Accumulator for Holding {
        fn shape(&self) -> Shape {
            shape()
        }
        fn add(&mut self, frame: Frame) -> Result<(), StatsError> {
            self.pending.push(frame);
            if self.pending.len() == self.batch {
                // Slow, as a batch's pass over the state is, while the decoders are quick.
                std::thread::sleep(Duration::from_millis(5));
                self.released.fetch_add(self.batch, Ordering::SeqCst);
                self.pending.clear();
            }
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<Moments, StatsError> {
            Ok(Moments::new(shape()))
        }
        fn info(&self) -> BackendInfo {
            Failing(0).info()
        }
        fn frames_held(&self) -> usize {
            self.batch
        }
        fn frames_pending(&self) -> usize {
            self.pending.len()
        }
    }

    #[test]
    fn the_frames_alive_at_once_are_one_window_counting_the_accumulators_batch() {
        for (jobs, batch) in [(2, 4), (3, 2), (2, 8)] {
            let most = within_a_minute(move || {
                let released = Arc::new(AtomicUsize::new(0));
                let mut acc = Holding {
                    batch,
                    pending: Vec::new(),
                    released: released.clone(),
                };
                let (started, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
                let decode = |p: &Path, _: &Arc<FramePool>| {
                    let alive = started.fetch_add(1, Ordering::SeqCst) + 1
                        - released.load(Ordering::SeqCst);
                    most.fetch_max(alive, Ordering::SeqCst);
                    let i: usize = p.to_str().unwrap()[1..4].parse().unwrap();
                    Ok(frame(i))
                };
                let done = accumulate_with(&paths(64), &mut acc, jobs, &mut Silent, &decode);
                assert_eq!(done.unwrap().used, 64);
                most.load(Ordering::SeqCst)
            });
            let window = window_size(jobs, batch);
            assert!(
                most <= window,
                "{most} frames alive with {jobs} decoders and a batch of {batch}: more than {window}"
            );
            assert!(most >= batch, "the batch never filled: {most} frames alive");
        }
    }

    /// The race an abort must not lose: a decoder has checked the window under the lock and is
    /// about to wait. An abort that does not take the lock would set the flag and notify in that
    /// gap, and the decoder would then wait forever.
    #[test]
    fn an_abort_waits_for_a_decoder_between_its_check_and_its_wait() {
        let window = Arc::new(Window::new(2));
        let held = window.lock();
        let aborter = {
            let window = window.clone();
            std::thread::spawn(move || window.abort())
        };
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !aborter.is_finished(),
            "abort went ahead while a decoder held the window"
        );
        drop(held);
        aborter.join().unwrap();
        assert!(!window.wait_turn(100), "an aborted window lets nobody on");
    }

    #[test]
    fn an_abort_wakes_a_waiting_decoder() {
        let window = Arc::new(Window::new(2));
        let waiter = {
            let window = window.clone();
            std::thread::spawn(move || window.wait_turn(10))
        };
        std::thread::sleep(Duration::from_millis(50));
        window.abort();
        assert!(!within_a_minute(move || waiter.join().unwrap()));
        window.advance(0);
        assert!(!window.wait_turn(0));
        let open = Window::new(2);
        assert!(open.wait_turn(1));
    }
}
