//! Output: the human table, the JSON and CSV reports, the defect map and crops, and safe writing
//! of report files.

pub mod csv;
pub mod image;
pub mod json;
pub mod text;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output (`-`).
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
}

impl Destination {
    /// `-` is standard output, anything else a file.
    pub fn parse(s: &str) -> Self {
        if s == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(s))
        }
    }
}

/// Errors writing a report.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file exists and overwriting was not asked for.
    #[error("{0}: already exists (pass --force to replace it)")]
    Exists(PathBuf),
    /// Writing failed.
    #[error("{path}: cannot write: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Checks, before any work, that `path` may be written: it must not exist unless `force`, and its
/// folder must exist.
pub fn check_writable(path: &Path, force: bool) -> Result<(), OutputError> {
    if path.exists() && !force {
        return Err(OutputError::Exists(path.to_path_buf()));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = parent {
        if !dir.is_dir() {
            return Err(OutputError::Io {
                path: path.to_path_buf(),
                reason: format!("folder {} does not exist", dir.display()),
            });
        }
    }
    Ok(())
}

/// Writes `contents` to a new file beside `path` and renames it into place, so a reader never sees a
/// half-written report. An existing file is replaced only when `force` is set.
pub fn write_file(path: &Path, contents: &[u8], force: bool) -> Result<(), OutputError> {
    check_writable(path, force)?;
    let io = |e: std::io::Error| OutputError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    if force {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    }
    Ok(())
}

/// Writes `contents` to `dest`.
pub fn write_to(dest: &Destination, contents: &[u8], force: bool) -> Result<(), OutputError> {
    match dest {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(contents)
                .and_then(|_| out.flush())
                .map_err(|e| OutputError::Io {
                    path: PathBuf::from("-"),
                    reason: e.to_string(),
                })
        }
        Destination::File(p) => write_file(p, contents, force),
    }
}
