//! Why a file could not be read: [`DecodeError`], one line naming the file and the reason.

use std::path::{Path, PathBuf};

use super::Shape;

/// Why a file could not be read as a frame. Its message is one line that names the reason.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not an image in a supported format, or is damaged.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file decoded, but not to the shape the scan uses.
    #[error("{path}: {found}, expected {expected}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// The file's shape.
        found: String,
        /// The scan's shape.
        expected: String,
    },
}

impl DecodeError {
    /// A [`DecodeError::Io`] about `path`: the operating system's reason `e`, on one line.
    pub fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        DecodeError::Io {
            path: path.to_path_buf(),
            reason: one_line(e),
        }
    }

    /// A [`DecodeError::Format`] about `path`: what is wrong with it.
    pub fn format(path: &Path, reason: impl Into<String>) -> Self {
        DecodeError::Format {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DecodeError::Io { path, .. }
            | DecodeError::Format { path, .. }
            | DecodeError::Shape { path, .. } => path,
        }
    }

    /// Checks that the file at `path` has the `expected` shape: a [`DecodeError::Shape`] naming
    /// both when it does not.
    pub fn expect_shape(path: &Path, found: Shape, expected: Shape) -> Result<(), DecodeError> {
        if found == expected {
            Ok(())
        } else {
            Err(DecodeError::Shape {
                path: path.to_path_buf(),
                found: found.describe(),
                expected: expected.describe(),
            })
        }
    }

    /// The reason alone, without the path (for the report's `skipped` list).
    pub fn reason(&self) -> String {
        match self {
            DecodeError::Io { reason, .. } => format!("cannot read: {reason}"),
            DecodeError::Format { reason, .. } => reason.clone(),
            DecodeError::Shape {
                found, expected, ..
            } => format!("{found}, expected {expected}"),
        }
    }
}

/// The first line of `text`, trimmed (a decoder's message can span lines): one line for an
/// error.
pub(crate) fn one_line(text: impl std::fmt::Display) -> String {
    let s = text.to_string();
    let line = s.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        "unknown error".to_string()
    } else {
        line.to_string()
    }
}
