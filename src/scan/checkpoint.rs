//! Checkpoints (`--state`): what a resumed scan takes from its state file, the state written after
//! every stretch of frames, the pacing of those stretches by frames and time ([`StateOptions`]),
//! and the interruption a signal asks for ([`interrupt`]).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{ScanError, ScanObserver};
use crate::input::{DecodeError, Discovery, Prefer, RawInfo, Shape};
use crate::stats::state::{self, CountedFile, StateError, StateHeader, STATE_VERSION};
use crate::stats::Moments;

/// Set when the scan is to stop at the next file (a signal's handler may set it).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks a running scan to stop after the frame in hand and write its state: safe to call from a
/// signal handler (it only stores to an atomic).
pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// True once [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Where and how often a scan checkpoints its state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateOptions {
    /// The state file: read when it exists, written after every stretch of frames.
    pub path: PathBuf,
    /// Frames between checkpoints.
    pub every_frames: usize,
    /// Time between checkpoints.
    pub every: Duration,
}

/// Frames between checkpoints unless told otherwise.
pub const DEFAULT_CHECKPOINT_FRAMES: usize = 500;
/// Time between checkpoints unless told otherwise.
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(120);

/// An observer that passes everything on and pauses the scan for checkpoints and interruptions.
/// Progress is passed on counted over the whole scan (`total` files), not over the stretch; a file
/// that fails again when a stretch is counted again (on the CPU, after the GPU failed) is reported
/// once.
pub(super) struct Pacer<'a> {
    inner: &'a mut dyn ScanObserver,
    /// Files whose failure was passed on.
    reported: HashSet<PathBuf>,
    every: Option<(usize, Duration)>,
    frames: usize,
    since: Instant,
    /// Files done before the current stretch (counted by earlier runs or stretches).
    before: usize,
    total: usize,
}

impl<'a> Pacer<'a> {
    pub(super) fn new(
        inner: &'a mut dyn ScanObserver,
        state: Option<&StateOptions>,
        total: usize,
    ) -> Self {
        Pacer {
            inner,
            reported: HashSet::new(),
            every: state.map(|s| (s.every_frames.max(1), s.every)),
            frames: 0,
            since: Instant::now(),
            before: 0,
            total,
        }
    }

    /// A new stretch between checkpoints begins, `before` files into the scan.
    pub(super) fn restart(&mut self, before: usize) {
        self.frames = 0;
        self.since = Instant::now();
        self.before = before;
    }
}

impl ScanObserver for Pacer<'_> {
    fn discovered(&mut self, discovery: &Discovery) {
        self.inner.discovered(discovery)
    }
    fn decode_failed(&mut self, error: &DecodeError) {
        if self.reported.insert(error.path().to_path_buf()) {
            self.inner.decode_failed(error)
        }
    }
    fn progress(&mut self, done: usize, _stretch: usize, bytes: u64) {
        self.frames += 1;
        self.inner.progress(self.before + done, self.total, bytes)
    }
    fn pause(&mut self) -> bool {
        let due = self
            .every
            .is_some_and(|(frames, time)| self.frames >= frames || self.since.elapsed() >= time);
        interrupted() || due || self.inner.pause()
    }
}

/// What a scan starts from: the statistics and files its state file counts already (nothing
/// without one, or when it does not exist yet), and the RAW camera and levels it names.
pub(super) struct Resumed {
    /// The statistics counted so far (`None` before the first frame).
    pub total: Option<Moments>,
    /// The files counted so far, in order.
    pub counted: Vec<CountedFile>,
    /// The RAW camera and levels: the discovery's, else the state's.
    pub raw: Option<RawInfo>,
    /// A state file was read.
    pub resumed: bool,
}

impl Resumed {
    /// Reads `state`'s file when it exists and checks that it is of `shape` frames and `prefer`.
    pub fn read(
        state: Option<&StateOptions>,
        shape: Shape,
        prefer: Prefer,
        raw: Option<RawInfo>,
    ) -> Result<Self, ScanError> {
        let Some(st) = state.filter(|st| st.path.exists()) else {
            return Ok(Resumed {
                total: None,
                counted: Vec::new(),
                raw,
                resumed: false,
            });
        };
        let saved = state::read(&st.path)?;
        saved.check(&st.path, shape, prefer)?;
        Ok(Resumed {
            raw: raw.or(saved.header.raw),
            counted: saved.header.files,
            total: (saved.moments.n > 0).then_some(saved.moments),
            resumed: true,
        })
    }
}

/// The files of `files` not among `counted` (as they are now: a file changed since it was counted
/// is counted again).
pub(super) fn not_counted(counted: &[CountedFile], files: &[PathBuf]) -> Vec<PathBuf> {
    let seen: HashSet<&CountedFile> = counted.iter().collect();
    files
        .iter()
        .filter(|f| CountedFile::of(f).is_none_or(|c| !seen.contains(&c)))
        .cloned()
        .collect()
}

/// Writes the state file at a checkpoint: `m`, the statistics of the `counted` files.
pub(super) fn save(
    st: &StateOptions,
    shape: Shape,
    prefer: Prefer,
    raw: Option<&RawInfo>,
    counted: &[CountedFile],
    m: &Moments,
) -> Result<(), StateError> {
    let header = StateHeader {
        version: STATE_VERSION,
        shape,
        prefer,
        frames: m.n,
        raw: raw.cloned(),
        files: counted.to_vec(),
        dark: None,
        mean_low: false,
    };
    state::write_parts(&st.path, &header, m)
}
