//! Discovery: expands the inputs (files, directories, glob patterns) into a stable list of files,
//! reads their headers (and, for a photo library, their cameras), picks the frame shape most of
//! them share, and lists every file it skips.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::decode::{probe, within_limit};
use super::error::DecodeError;
use super::exif::{read_identity, Camera, CaptureTime, Exposure, Identity};
use super::formats::{has_image_extension, is_raw_file, unread_reason};
use super::{RawInfo, Shape};

impl Discovery {
    /// Keeps only the files taken on or after `since`; the others (and those without a capture
    /// time) are counted in [`Discovery::before_since`].
    pub fn keep_since(&mut self, since: CaptureTime) {
        let before = self.files.len();
        let taken = &self.taken;
        self.files
            .retain(|f| taken.get(f).is_some_and(|t| *t >= since));
        self.before_since += before - self.files.len();
    }

    /// Takes over what `other` left out (its skipped files, inputs that matched nothing, twins
    /// and files before `--since`), for a report that lists them once.
    pub fn absorb(&mut self, other: Discovery) {
        self.skipped.extend(other.skipped);
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.unmatched.extend(other.unmatched);
        self.twins_left_out += other.twins_left_out;
        self.before_since += other.before_since;
    }
}

/// A file left out of the scan, with the reason in one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file, as found.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: String,
}

/// Errors that stop discovery as a whole (a single bad file never does).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// No input was given.
    #[error("no input given: name files, directories or glob patterns")]
    NoInputs,
    /// A glob pattern is malformed.
    #[error("bad glob pattern '{pattern}': {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing matched any input.
    #[error("no files matched {0}")]
    NothingMatched(String),
}

/// Which file of a shot saved twice (a camera's "RAW+JPEG" setting: one stem, a RAW and an image
/// beside it) a scan reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// The RAW file: the sensor's own samples.
    #[default]
    Raw,
    /// The image (JPEG, or whatever the camera saved beside the RAW file).
    Jpeg,
}

/// The result of discovery: the files to decode, the shape they share, and what was skipped.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// The chosen frame shape; `None` when no file had a readable header.
    pub shape: Option<Shape>,
    /// For RAW frames: the camera, margins and levels of the first file of the chosen shape.
    pub raw: Option<RawInfo>,
    /// Files left out because the same shot is also saved in the preferred form (see [`Prefer`]):
    /// counted, not listed one by one.
    pub twins_left_out: usize,
    /// Files with that shape, in stable (sorted) order.
    pub files: Vec<PathBuf>,
    /// Files left out, with reasons, in stable order.
    pub skipped: Vec<Skipped>,
    /// Some of the chosen files have an alpha channel, which is ignored.
    pub alpha_ignored: bool,
    /// Inputs that matched nothing (each worth a warning).
    pub unmatched: Vec<String>,
    /// The camera body of every file, for a group of [`discover_groups`]; `None` otherwise.
    pub camera: Option<Camera>,
    /// The capture times of the files whose EXIF gives one.
    pub taken: HashMap<PathBuf, CaptureTime>,
    /// The exposure of the files whose EXIF gives one.
    pub exposures: HashMap<PathBuf, Exposure>,
    /// Files left out as taken before a given time (or without a capture time): see
    /// [`Discovery::keep_since`].
    pub before_since: usize,
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// What a walk does with an entry it meets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Take {
    /// Leave it (and, for a folder, everything in it).
    Nothing,
    /// Take the file, or look into the folder (each entry asked again).
    This,
    /// A folder whose image files are all taken.
    AllImages,
    /// A photo in a format not read, listed as skipped with why
    /// ([`unread_reason`](super::formats::unread_reason)).
    Unread,
}

/// A recursive walk that follows folder links but enters each folder (compared as a canonical
/// path) once, so a link to a parent folder neither loops nor counts a file twice.
struct Walker<'a> {
    files: &'a mut BTreeSet<PathBuf>,
    skipped: &'a mut Vec<Skipped>,
    visited: HashSet<PathBuf>,
}

impl Walker<'_> {
    fn cannot_read(&mut self, path: &Path, what: &str, e: std::io::Error) {
        self.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason: format!("cannot read {what}: {e}"),
        });
    }

    /// Takes `path` when it is a regular file (or a link to one); lists it as skipped otherwise: a
    /// FIFO, socket or device would block or never end when read.
    fn take_file(&mut self, path: PathBuf) {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => {
                self.files.insert(path);
            }
            Ok(_) => self.skipped.push(Skipped {
                path,
                reason: "not a regular file (a FIFO, socket or device); not read".into(),
            }),
            Err(e) => self.cannot_read(&path, "file", e),
        }
    }

    /// Walks `dir` (the current folder when empty), at most `depth` levels down, asking `take`
    /// about every entry: `take(path, is_folder)`.
    fn walk(&mut self, dir: &Path, depth: usize, take: &dyn Fn(&Path, bool) -> Take) {
        let here = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        match here.canonicalize() {
            Ok(real) => {
                if !self.visited.insert(real) {
                    return;
                }
            }
            Err(e) => return self.cannot_read(dir, "directory", e),
        }
        let entries = match std::fs::read_dir(here) {
            Ok(e) => e,
            Err(e) => return self.cannot_read(dir, "directory", e),
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    self.cannot_read(dir, "directory entry", e);
                    continue;
                }
            };
            let path = dir.join(entry.file_name());
            let is_dir = path.is_dir();
            match take(&path, is_dir) {
                Take::Nothing => {}
                Take::This if !is_dir => self.take_file(path),
                Take::This if depth > 0 => self.walk(&path, depth - 1, take),
                Take::This => {}
                Take::AllImages => self.walk(&path, usize::MAX, &all_images),
                Take::Unread => {
                    if let Some(reason) = unread_reason(&path) {
                        self.skipped.push(Skipped { path, reason });
                    }
                }
            }
        }
    }
}

/// The walk of a folder input: every image file, however deep.
fn all_images(path: &Path, is_dir: bool) -> Take {
    if is_dir || has_image_extension(path) {
        Take::This
    } else if unread_reason(path).is_some() {
        Take::Unread
    } else {
        Take::Nothing
    }
}

/// The folder a pattern's walk starts from (its components before the first wildcard) and how
/// many levels below it the pattern reaches (unlimited with `**`).
fn pattern_root(pattern: &str) -> (PathBuf, usize) {
    let mut root = PathBuf::new();
    let mut rest = Vec::new();
    for c in Path::new(pattern).components() {
        let text = c.as_os_str().to_string_lossy();
        if rest.is_empty() && !is_glob(&text) {
            root.push(c);
        } else {
            rest.push(text.into_owned());
        }
    }
    let depth = if rest.iter().any(|c| c.contains("**")) {
        usize::MAX
    } else {
        rest.len().saturating_sub(1)
    };
    (root, depth)
}

/// `files` (sorted) with every file that another, earlier-sorted path already names (through a
/// link, `..` or a second input) left out.
fn once_each(files: BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut seen = HashSet::new();
    files
        .into_iter()
        .filter(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())))
        .collect()
}

/// Files found by [`expand_inputs`], the entries it could not read, and the inputs that matched nothing.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    /// Files, sorted and de-duplicated.
    pub files: Vec<PathBuf>,
    /// Paths that could not be read, with reasons.
    pub skipped: Vec<Skipped>,
    /// Inputs that matched no file.
    pub unmatched: Vec<String>,
}

/// Expands inputs into a sorted, de-duplicated list of files.
///
/// An existing file is taken as it is; a directory is walked recursively for image files
/// ([`IMAGE_EXTENSIONS`](super::formats::IMAGE_EXTENSIONS), any case); anything else containing `*`, `?` or `[` is a glob pattern,
/// expanded here (so quoted patterns work) and matched case-insensitively, `**` spanning any
/// number of folders. Directories a pattern matches are walked too. Walks follow folder links but
/// enter each folder once, so a link to a parent folder does not loop; a file reached by two
/// paths (links, `..`, overlapping inputs) is listed once.
pub fn expand_inputs(inputs: &[String]) -> Result<Expanded, InputError> {
    if inputs.is_empty() {
        return Err(InputError::NoInputs);
    }
    let mut files = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut unmatched = Vec::new();
    let options = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    for input in inputs {
        let before = files.len();
        let path = Path::new(input);
        let mut walker = Walker {
            files: &mut files,
            skipped: &mut skipped,
            visited: HashSet::new(),
        };
        if path.is_dir() {
            walker.walk(path, usize::MAX, &all_images);
        } else if path.exists() {
            walker.take_file(path.to_path_buf());
        } else if is_glob(input) {
            let pattern = glob::Pattern::new(input).map_err(|e| InputError::BadPattern {
                pattern: input.clone(),
                reason: e.msg.to_string(),
            })?;
            let (root, depth) = pattern_root(input);
            let take =
                |p: &Path, is_dir: bool| match (pattern.matches_path_with(p, options), is_dir) {
                    (true, true) => Take::AllImages,
                    (true, false) | (false, true) => Take::This,
                    (false, false) => Take::Nothing,
                };
            if root.as_os_str().is_empty() || root.is_dir() {
                walker.walk(&root, depth, &take);
            }
        } else {
            walker.skipped.push(Skipped {
                path: path.to_path_buf(),
                reason: "no such file or directory".into(),
            });
        }
        if files.len() == before {
            unmatched.push(input.clone());
        }
    }
    Ok(Expanded {
        files: once_each(files),
        skipped,
        unmatched,
    })
}

/// Expands the inputs, reads every header (in parallel) and picks the shape most files share.
///
/// Ties between shapes go to the one whose first file comes first. Every other file is
/// listed in [`Discovery::skipped`] with its reason; an error is returned only when the
/// inputs are malformed or match no file at all.
pub fn discover(inputs: &[String]) -> Result<Discovery, InputError> {
    discover_with(inputs, &DiscoverOptions::default())
}

/// The largest frame a header may claim unless told otherwise, in megapixels: well above any
/// camera (the largest sensors sold have about 150 MP; 400 MP is also the size of the largest
/// pixel-shift composites).
pub const DEFAULT_MAX_MEGAPIXELS: f64 = 400.0;

/// How discovery chooses and checks files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscoverOptions {
    /// Which file of a shot saved as RAW and image both is read.
    pub prefer: Prefer,
    /// A header claiming a larger frame (width × height, in millions) is refused before any
    /// frame-sized allocation.
    pub max_megapixels: f64,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        DiscoverOptions {
            prefer: Prefer::default(),
            max_megapixels: DEFAULT_MAX_MEGAPIXELS,
        }
    }
}

/// Leaves out the image files that have a RAW twin (same folder and name, compared
/// case-insensitively, other extension), or the RAW files that have an image twin, as `prefer`
/// says. Returns the files kept and how many were left out.
pub fn drop_twins(files: Vec<PathBuf>, prefer: Prefer) -> (Vec<PathBuf>, usize) {
    let key = |p: &Path| {
        (
            p.parent().map(Path::to_path_buf),
            p.file_stem().map(|s| s.to_string_lossy().to_lowercase()),
        )
    };
    let raw_shots: HashSet<_> = files
        .iter()
        .filter(|p| is_raw_file(p))
        .map(|p| key(p))
        .collect();
    let image_shots: HashSet<_> = files
        .iter()
        .filter(|p| !is_raw_file(p))
        .map(|p| key(p))
        .collect();
    let before = files.len();
    let kept: Vec<PathBuf> = files
        .into_iter()
        .filter(|p| match (prefer, is_raw_file(p)) {
            (Prefer::Raw, false) => !raw_shots.contains(&key(p)),
            (Prefer::Jpeg, true) => !image_shots.contains(&key(p)),
            _ => true,
        })
        .collect();
    let left_out = before - kept.len();
    (kept, left_out)
}

/// One file found, with its header (or why it has none) and its EXIF identity.
struct Probed {
    path: PathBuf,
    header: Result<super::decode::Header, DecodeError>,
    identity: Identity,
}

/// The files the inputs name, twins dropped, each with its header read (in parallel) and its
/// camera and capture time; with the inputs that matched nothing, the
/// files skipped while expanding and the number of twins left out.
fn probe_inputs(
    inputs: &[String],
    options: &DiscoverOptions,
) -> Result<(Vec<Probed>, Discovery), InputError> {
    let Expanded {
        files,
        skipped,
        unmatched,
    } = expand_inputs(inputs)?;
    let (files, twins_left_out) = drop_twins(files, options.prefer);
    if files.is_empty() {
        let named = inputs
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(InputError::NothingMatched(match skipped.first() {
            Some(first) => format!(
                "{named} ({} skipped: {}{})",
                skipped.len(),
                first.reason,
                if skipped.len() > 1 { ", …" } else { "" }
            ),
            None => named,
        }));
    }
    let probed = files
        .into_par_iter()
        .map(|path| {
            let header = super::decode::guard_decoder(&path, || probe(&path)).and_then(|h| {
                within_limit(&path, h.shape, options.max_megapixels)?;
                Ok(h)
            });
            let identity = match &header {
                Ok(h) => {
                    let mut id = read_identity(&path);
                    // A RAW file whose EXIF is not read names its camera through the decoder.
                    if id.camera.is_none() {
                        id.camera = h
                            .raw
                            .as_ref()
                            .map(|r| Camera::from_exif(&r.make, &r.model, None));
                    }
                    id
                }
                _ => Identity::default(),
            };
            Probed {
                path,
                header,
                identity,
            }
        })
        .collect();
    let rest = Discovery {
        skipped,
        unmatched,
        twins_left_out,
        ..Default::default()
    };
    Ok((probed, rest))
}

/// Chooses the shape most of `probed` share (the first to appear wins a tie) and makes the
/// discovery: the files of that shape, and every other file skipped with its reason, added to
/// what `rest` holds.
fn choose_shape(probed: Vec<Probed>, rest: Discovery) -> Discovery {
    // Count shapes; remember where each first appeared so ties are stable.
    let mut counts: HashMap<Shape, (usize, usize)> = HashMap::new();
    for (i, p) in probed.iter().enumerate() {
        if let Ok(h) = &p.header {
            counts.entry(h.shape).or_insert((0, i)).0 += 1;
        }
    }
    let shape = counts
        .iter()
        .max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(b.1 .1.cmp(&a.1 .1)))
        .map(|(s, _)| *s);
    let mut out = Discovery { shape, ..rest };
    for p in probed {
        match p.header {
            Ok(h) if Some(h.shape) == shape => {
                out.alpha_ignored |= h.has_alpha;
                if out.raw.is_none() {
                    out.raw = h.raw;
                }
                if let Some(t) = p.identity.taken {
                    out.taken.insert(p.path.clone(), t);
                }
                if p.identity.exposure.is_known() {
                    out.exposures.insert(p.path.clone(), p.identity.exposure);
                }
                out.files.push(p.path);
            }
            Ok(h) => out.skipped.push(Skipped {
                path: p.path,
                reason: format!(
                    "{}, expected {}",
                    h.shape.describe(),
                    shape.map(|s| s.describe()).unwrap_or_default()
                ),
            }),
            Err(e) => out.skipped.push(Skipped {
                path: p.path,
                reason: e.reason(),
            }),
        }
    }
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// [`discover`], choosing between the RAW and image files of the same shots as `options.prefer`
/// says and refusing headers larger than `options.max_megapixels`; the files' capture times are
/// read too ([`Discovery::taken`]), whatever their camera.
pub fn discover_with(
    inputs: &[String],
    options: &DiscoverOptions,
) -> Result<Discovery, InputError> {
    let (probed, rest) = probe_inputs(inputs, options)?;
    Ok(choose_shape(probed, rest))
}

/// Discovery of a photo library: the files are grouped by camera body (make, model and serial
/// number from their EXIF — a RAW file's decoder names make and model when its EXIF is not
/// read — make and model when there is no serial), and each group is discovered as
/// [`discover_with`] does (the shape most of the group's files share; the others skipped). Files
/// that name no camera form one more group, the last. Groups come in order of their cameras'
/// names. What belongs to no group — files without a readable header, inputs that matched
/// nothing, twins left out — is reported with the first group. At least one discovery is
/// returned (without a shape when no file had a readable header).
pub fn discover_groups(
    inputs: &[String],
    options: &DiscoverOptions,
) -> Result<Vec<Discovery>, InputError> {
    let (probed, mut rest) = probe_inputs(inputs, options)?;
    let mut bodies: BTreeMap<Option<Camera>, Vec<Probed>> = BTreeMap::new();
    for p in probed {
        if let Err(e) = &p.header {
            rest.skipped.push(Skipped {
                path: p.path.clone(),
                reason: e.reason(),
            });
            continue;
        }
        bodies.entry(p.identity.camera.clone()).or_default().push(p);
    }
    // Files without a camera last.
    let mut bodies: Vec<_> = bodies.into_iter().collect();
    let nameless = bodies.first().is_some_and(|(c, _)| c.is_none());
    bodies.rotate_left(usize::from(nameless));
    let mut groups: Vec<Discovery> = Vec::with_capacity(bodies.len().max(1));
    for (camera, files) in bodies {
        let rest = if groups.is_empty() {
            std::mem::take(&mut rest)
        } else {
            Discovery::default()
        };
        groups.push(Discovery {
            camera,
            ..choose_shape(files, rest)
        });
    }
    if groups.is_empty() {
        rest.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        groups.push(rest);
    }
    Ok(groups)
}
