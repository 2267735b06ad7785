//! Atomic file writes: a file is written beside its target and renamed into place, so a reader
//! never sees half of it and a failed write leaves what was there. The state file, the reports
//! and the repaired copies are all written so.

use std::io::Write;
use std::path::Path;

use tempfile::NamedTempFile;

/// The mode a new file is created with before the umask, as `open(2)` callers usually ask.
#[cfg(unix)]
const NEW_FILE_MODE: u32 = 0o666;

/// A temporary file in `path`'s folder, to be renamed to `path` once written ([`persist`]), with a
/// new file's usual permissions (the umask applies), not a temporary file's owner-only ones.
pub fn temp_file_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(NEW_FILE_MODE));
    builder.tempfile_in(dir)
}

/// Renames a written temporary file ([`temp_file_beside`]) to `path`: over a file there only when
/// `replace` is set, else failing when `path` exists (checked and renamed in one step).
pub fn persist(tmp: NamedTempFile, path: &Path, replace: bool) -> std::io::Result<()> {
    if replace {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    Ok(())
}

/// Writes `contents` to a new file beside `path` and renames it into place ([`persist`]).
pub fn write(path: &Path, contents: &[u8], replace: bool) -> std::io::Result<()> {
    let mut tmp = temp_file_beside(path)?;
    tmp.write_all(contents)?;
    persist(tmp, path, replace)
}
