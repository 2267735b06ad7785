//! The scan state file (`--state`): the statistics of the frames counted so far and which files
//! they came from, so an interrupted scan resumes and shards of one collection merge.
//!
//! Layout (version [`STATE_VERSION`]), little-endian:
//! - 16 bytes: the magic `hotpixels state\n`;
//! - 8 bytes: the length `L` of the header, then `L` bytes of JSON ([`StateHeader`]: version,
//!   shape, which file of a RAW+JPEG pair was read, the frame count, the RAW camera and levels,
//!   and every file counted with its size and modification time);
//! - the f32 state arrays in [`STATE_ORDER`](crate::stats::STATE_ORDER), each one value per
//!   subpixel (`shape.subpixels()` values), then the frames-below count, a u16 per subpixel;
//! - with dark-current statistics (the header's `dark`: their setup — the scan's exposure design,
//!   clip level and floor — and every frame's exposure and misfit weight), their arrays, one
//!   value per position (`shape.pixels()`): the sums in
//!   [`DARK_SUM_NAMES`](crate::stats::dark::DARK_SUM_NAMES)' order (f32), the clipped frames
//!   (u16).
//!
//! A state is written to a temporary file beside its path and renamed into place, so a reader
//! never sees half of one.

use std::collections::HashSet;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::input::{Prefer, RawInfo, Shape};
use crate::stats::{Count, DarkSetup, Moments, STATE_VALUE_BYTES};

/// The state format's version; another is refused. Version 2 added the frames-below counts,
/// version 3 the dark-current statistics and the counts in 16 bits.
pub const STATE_VERSION: u32 = 4;
/// The first bytes of every state file.
pub const MAGIC: &[u8; 16] = b"hotpixels state\n";

/// A file whose frame is counted in a state: where it was and what it was then.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CountedFile {
    /// Its path, made absolute.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, nanoseconds since 1970.
    pub modified_ns: u128,
}

impl CountedFile {
    /// The file at `path` as it is now; `None` when it cannot be looked at.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(CountedFile {
            path: std::path::absolute(path).ok()?,
            size: meta.len(),
            modified_ns,
        })
    }
}

/// What a state says besides its arrays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateHeader {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// The frame shape.
    pub shape: Shape,
    /// Which file of a shot saved as RAW and image both was read.
    pub prefer: Prefer,
    /// Frames counted.
    pub frames: u32,
    /// For RAW frames: the camera, margins and levels.
    pub raw: Option<RawInfo>,
    /// The files counted, in the order they were.
    pub files: Vec<CountedFile>,
    /// The dark-current statistics' setup and exposures, when the state keeps them (written from
    /// the statistics themselves).
    #[serde(default)]
    pub dark: Option<StateDark>,
    /// The file holds the low parts of the means ([`Moments::mean_low`], 16-bit frames) after
    /// every other array (written from the statistics themselves).
    #[serde(default)]
    pub mean_low: bool,
}

/// What a state says of its dark-current statistics besides their arrays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDark {
    /// The exposure design the sums are taken with, the frames' clip level and floor.
    pub setup: DarkSetup,
    /// Every frame's exposure, in counting order.
    pub exposures: Vec<f32>,
    /// Every frame's misfit weight, in counting order.
    pub misfit_weights: Vec<f32>,
}

/// A value a state array holds, stored little-endian.
trait Stored: Copy {
    /// Bytes per value.
    const BYTES: usize;
    /// Appends the value's bytes.
    fn put(self, out: &mut Vec<u8>);
    /// The value of [`Stored::BYTES`] bytes.
    fn get(bytes: &[u8]) -> Self;
}

impl Stored for f32 {
    const BYTES: usize = STATE_VALUE_BYTES as usize;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        f32::from_le_bytes(bytes.try_into().expect("one f32's bytes"))
    }
}

impl Stored for Count {
    const BYTES: usize = std::mem::size_of::<Count>();
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn get(bytes: &[u8]) -> Self {
        Count::from_le_bytes(bytes.try_into().expect("one count's bytes"))
    }
}

/// Values written or read at a time.
const CHUNK: usize = 1 << 16;

/// Writes `array`'s values to `out`.
fn write_array<T: Stored>(out: &mut impl Write, array: &[T]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(CHUNK * T::BYTES);
    for chunk in array.chunks(CHUNK) {
        bytes.clear();
        chunk.iter().for_each(|v| v.put(&mut bytes));
        out.write_all(&bytes)?;
    }
    Ok(())
}

/// Fills `array` from `input`, a chunk at a time (`exact` reads a whole buffer or fails).
fn read_array<T: Stored>(
    exact: &mut impl FnMut(&mut [u8]) -> Result<(), StateError>,
    array: &mut [T],
) -> Result<(), StateError> {
    let mut bytes = vec![0u8; CHUNK * T::BYTES];
    for chunk in array.chunks_mut(CHUNK) {
        let want = &mut bytes[..T::BYTES * chunk.len()];
        exact(want)?;
        for (v, b) in chunk.iter_mut().zip(want.chunks_exact(T::BYTES)) {
            *v = T::get(b);
        }
    }
    Ok(())
}

/// A whole state: the header and the statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// The header.
    pub header: StateHeader,
    /// The statistics of the frames counted.
    pub moments: Moments,
}

/// Why a state could not be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("{path}: {reason}")]
    Io {
        /// The state file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a state this version reads.
    #[error("{path}: not a hotpixels state file of version {STATE_VERSION}: {reason}")]
    Format {
        /// The state file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The state is of other frames or options than the scan's.
    #[error("{path}: the state is of {theirs}, this scan of {ours}; use another --state file")]
    Mismatch {
        /// The state file.
        path: PathBuf,
        /// What the state holds.
        theirs: String,
        /// What the scan reads.
        ours: String,
    },
}

impl State {
    /// Checks that this state can be continued by a scan of `shape` frames reading `prefer`.
    pub fn check(&self, path: &Path, shape: Shape, prefer: Prefer) -> Result<(), StateError> {
        let h = &self.header;
        let describe = |s: Shape, p: Prefer| format!("{} frames (--prefer {p:?})", s.describe());
        if h.shape != shape || h.prefer != prefer {
            return Err(StateError::Mismatch {
                path: path.to_path_buf(),
                theirs: describe(h.shape, h.prefer),
                ours: describe(shape, prefer),
            });
        }
        Ok(())
    }

    /// The files counted, as a set to look files up in.
    pub fn counted(&self) -> HashSet<CountedFile> {
        self.header.files.iter().cloned().collect()
    }
}

/// Writes `state` to `path` atomically (a temporary file beside it, renamed into place).
pub fn write(path: &Path, state: &State) -> Result<(), StateError> {
    write_parts(path, &state.header, &state.moments)
}

/// [`write()`] from a header and statistics held apart (no copy of the arrays is made).
pub fn write_parts(path: &Path, header: &StateHeader, m: &Moments) -> Result<(), StateError> {
    let io = |e: std::io::Error| StateError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let tmp = crate::atomic::temp_file_beside(path).map_err(io)?;
    let mut out = BufWriter::new(tmp);
    let header = StateHeader {
        dark: m.dark.as_ref().map(|d| StateDark {
            setup: d.setup,
            exposures: d.exposures.clone(),
            misfit_weights: d.misfit_weights.clone(),
        }),
        mean_low: !m.mean_low.is_empty(),
        ..header.clone()
    };
    let header = serde_json::to_vec(&header).expect("a state header serialises");
    out.write_all(MAGIC).map_err(io)?;
    out.write_all(&(header.len() as u64).to_le_bytes())
        .map_err(io)?;
    out.write_all(&header).map_err(io)?;
    for array in m.arrays() {
        write_array(&mut out, array).map_err(io)?;
    }
    write_array(&mut out, &m.below).map_err(io)?;
    if let Some(d) = &m.dark {
        for sums in &d.sums {
            write_array(&mut out, sums).map_err(io)?;
        }
        write_array(&mut out, &d.clipped).map_err(io)?;
    }
    write_array(&mut out, &m.mean_low).map_err(io)?;
    let tmp = out.into_inner().map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io)?;
    crate::atomic::persist(tmp, path, true).map_err(io)
}

/// Reads the state at `path`.
pub fn read(path: &Path) -> Result<State, StateError> {
    let (file, len) = open(path)?;
    read_from(std::io::BufReader::new(file), len, path)
}

/// The state file at `path`, opened for reading, and its length.
fn open(path: &Path) -> Result<(std::fs::File, u64), StateError> {
    let io = |e: std::io::Error| StateError::Io {
        path: path.to_path_buf(),
        reason: format!("cannot read: {e}"),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok((file, len))
}

/// Bytes of a state file's statistics for `shape`, with dark-current sums or not, with the
/// means' low parts or not: what its header promises to follow.
pub fn array_bytes(shape: Shape, dark: bool, mean_low: bool) -> u64 {
    let subpixels = shape.subpixels() as u64;
    let dark = if dark {
        shape.pixels() as u64 * crate::stats::dark::DARK_BYTES_PER_POSITION
    } else {
        0
    };
    let low = if mean_low {
        subpixels * STATE_VALUE_BYTES
    } else {
        0
    };
    subpixels * crate::stats::STATE_BYTES_PER_SUBPIXEL + dark + low
}

/// Reads the header of the state at `path`, not its statistics: what a scan needs to know of
/// the state it will count on before it plans its memory.
pub fn read_header(path: &Path) -> Result<StateHeader, StateError> {
    let (file, len) = open(path)?;
    read_header_from(&mut std::io::BufReader::new(file), len, path).map(|(header, _)| header)
}

/// Reads a state's header from `input` (the file `len` bytes long, named `path` in errors): the
/// header and the bytes before the statistics (magic, length, header), the header's length
/// checked against `len` before it is allocated.
fn read_header_from(
    input: &mut impl Read,
    len: u64,
    path: &Path,
) -> Result<(StateHeader, u64), StateError> {
    let format = |reason: String| StateError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let mut exact = |buf: &mut [u8]| {
        input
            .read_exact(buf)
            .map_err(|_| format("the file is cut short".into()))
    };
    let mut magic = [0u8; 16];
    exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(format("it does not start as one".into()));
    }
    let mut len_bytes = [0u8; 8];
    exact(&mut len_bytes)?;
    let header_len = u64::from_le_bytes(len_bytes);
    let prefix = (MAGIC.len() + 8) as u64;
    if header_len > len.saturating_sub(prefix) {
        return Err(format(format!(
            "its header claims {header_len} bytes, more than the file's {len}"
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    exact(&mut header)?;
    let header: StateHeader =
        serde_json::from_slice(&header).map_err(|e| format(format!("bad header: {e}")))?;
    if header.version != STATE_VERSION {
        return Err(format(format!(
            "it is of version {} (written by another hotpixels release: count its files again)",
            header.version
        )));
    }
    Ok((header, prefix + header_len))
}

/// Reads a state of `len` bytes from `input` (named `path` in errors). The file is untrusted:
/// its header's length and the arrays its shape promises are checked against `len` before
/// anything is allocated for them.
pub fn read_from(mut input: impl Read, len: u64, path: &Path) -> Result<State, StateError> {
    let format = |reason: String| StateError::Format {
        path: path.to_path_buf(),
        reason,
    };
    let (header, before_arrays) = read_header_from(&mut input, len, path)?;
    let mut exact = |buf: &mut [u8]| {
        input
            .read_exact(buf)
            .map_err(|_| format("the file is cut short".into()))
    };
    let s = header.shape;
    let shape = match s.cfa {
        Some(cfa) => Shape::raw(s.width, s.height, cfa),
        None => Shape::new(s.width, s.height, s.channels, s.bit_depth),
    }
    .map_err(&format)?;
    if shape != s {
        return Err(format(format!("an impossible shape {}", s.describe())));
    }
    let expected = before_arrays + array_bytes(shape, header.dark.is_some(), header.mean_low);
    if expected != len {
        let how = if expected > len {
            "the file is cut short"
        } else {
            "more bytes than its shape holds"
        };
        return Err(format(format!(
            "{how}: its shape {} takes {expected} bytes, the file has {len}",
            shape.describe()
        )));
    }
    if let Some(d) = &header.dark {
        if d.exposures.len() > header.frames as usize {
            return Err(format(format!(
                "{} exposures for {} frames",
                d.exposures.len(),
                header.frames
            )));
        }
    }
    let setup = header.dark.as_ref().map(|d| d.setup);
    let mut moments = Moments::with_dark(shape, setup);
    moments.n = header.frames;
    for array in moments.arrays_mut() {
        read_array(&mut exact, array)?;
    }
    read_array(&mut exact, &mut moments.below)?;
    if let (Some(d), Some(h)) = (moments.dark.as_mut(), header.dark.as_ref()) {
        for sums in &mut d.sums {
            read_array(&mut exact, sums)?;
        }
        read_array(&mut exact, &mut d.clipped)?;
        if h.exposures.len() != h.misfit_weights.len() {
            return Err(format(format!(
                "{} exposures but {} misfit weights",
                h.exposures.len(),
                h.misfit_weights.len()
            )));
        }
        d.exposures = h.exposures.clone();
        d.misfit_weights = h.misfit_weights.clone();
    }
    moments.mean_low = if header.mean_low {
        let mut low = crate::mem::filled(shape.subpixels(), 0.0f32);
        read_array(&mut exact, &mut low)?;
        low
    } else {
        Vec::new()
    };
    let mut rest = [0u8; 1];
    if input.read(&mut rest).map_err(|e| format(e.to_string()))? != 0 {
        return Err(format("more bytes than its shape holds".into()));
    }
    Ok(State { header, moments })
}

/// The states at `paths` combined into one (Chan et al.'s formula, [`Moments::merge`]): they must
/// be of one shape and `prefer`, and no file may be counted in two of them.
pub fn merge(paths: &[PathBuf]) -> Result<State, StateError> {
    let mut merged: Option<(State, PathBuf)> = None;
    let mut seen: std::collections::HashMap<PathBuf, PathBuf> = Default::default();
    for path in paths {
        let next = read(path)?;
        for f in &next.header.files {
            if let Some(first) = seen.insert(f.path.clone(), path.clone()) {
                return Err(StateError::Format {
                    path: path.clone(),
                    reason: format!(
                        "{} is counted in {} too; merge states of disjoint files (shards)",
                        f.path.display(),
                        first.display()
                    ),
                });
            }
        }
        merged = Some(match merged {
            None => (next, path.clone()),
            Some((mut total, first)) => {
                next.check(path, total.header.shape, total.header.prefer)
                    .map_err(|_| StateError::Mismatch {
                        path: path.clone(),
                        theirs: next.header.shape.describe(),
                        ours: format!("{} in {}", total.header.shape.describe(), first.display()),
                    })?;
                if next.moments.n > 0 {
                    if total.moments.n == 0 {
                        total.moments = next.moments;
                    } else {
                        total
                            .moments
                            .merge(&next.moments)
                            .expect("shapes checked above");
                    }
                }
                total.header.frames = total.moments.n;
                total.header.files.extend(next.header.files);
                total.header.raw = total.header.raw.or(next.header.raw);
                (total, first)
            }
        });
    }
    merged.map(|(s, _)| s).ok_or_else(|| StateError::Io {
        path: PathBuf::new(),
        reason: "no state to merge".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_reads_back_as_written_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.state");
        let shape = Shape::new(5, 3, 3, 8).unwrap();
        let setup = DarkSetup::new(&[0.01, 8.0, 30.5], 0, 255, crate::input::Encoding::Srgb);
        let mut moments = Moments::with_dark(shape, Some(setup));
        moments.n = 7;
        for (i, v) in moments.m2.iter_mut().enumerate() {
            *v = i as f32 * 0.25 + 1e-7;
        }
        moments.res_mean[4] = -3.5;
        moments.below[3] = 6;
        let dark = moments.dark.as_mut().unwrap();
        for e in [0.01, 8.0, 30.5, 0.002, 1.0, 2.0, 4.0] {
            dark.count_frame(e);
        }
        dark.sums[0][2] = -4.5;
        dark.sums[1][14] = 1e6;
        dark.sums[3][9] = -0.125;
        dark.sums[4][1] = 2.5e9;
        dark.clipped[7] = 3;
        let (exposures, misfit_weights) = (dark.exposures.clone(), dark.misfit_weights.clone());
        let state = State {
            header: StateHeader {
                version: STATE_VERSION,
                shape,
                prefer: Prefer::Raw,
                frames: 7,
                raw: None,
                files: vec![CountedFile {
                    path: PathBuf::from("/a/b.jpg"),
                    size: 10,
                    modified_ns: 123,
                }],
                dark: Some(StateDark {
                    setup,
                    exposures,
                    misfit_weights,
                }),
                mean_low: false,
            },
            moments,
        };
        write(&path, &state).unwrap();
        assert_eq!(read(&path).unwrap(), state);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("cut short"));
        std::fs::write(&path, [&bytes[..], &[0]].concat()).unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("more bytes"));
        let mut other_version = state.clone();
        other_version.header.version = STATE_VERSION + 1;
        write(&path, &other_version).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(
            err.contains(&format!("it is of version {}", STATE_VERSION + 1)),
            "{err}"
        );
        let other = Shape::new(5, 3, 1, 8).unwrap();
        let err = state.check(&path, other, Prefer::Raw).unwrap_err();
        assert!(
            err.to_string().contains("the state is of 5x3 RGB 8-bit"),
            "{err}"
        );
    }
}
