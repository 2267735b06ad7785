//! The groups a scan reads: the inputs discovered and grouped by camera body (a photo library,
//! [`discover_library`]), filtered by camera (`--camera`) and capture time (`--since`), and the
//! files of one shard kept (`--shard`, [`in_shard`]).

use std::path::{Path, PathBuf};

use super::{absolute, ScanError, ScanOptions};
use crate::input::discover::discover_groups;
use crate::input::exif::{group_name, CaptureTime};
use crate::input::{DiscoverOptions, Discovery, Skipped};

/// What [`discover_with`] needs of the scan's options.
pub(super) fn discover_options(options: &ScanOptions) -> DiscoverOptions {
    DiscoverOptions {
        prefer: options.prefer,
        max_megapixels: options.max_megapixels,
    }
}

/// Keeps in every group only the files of `shard` (`I` of `N`), the shard computed over the
/// files of all groups (their common folder).
pub(super) fn keep_shard(groups: &mut [Discovery], (index, count): (u32, u32)) {
    let all: Vec<PathBuf> = groups
        .iter()
        .flat_map(|g| g.files.iter().map(|f| absolute(f)))
        .collect();
    let root = common_root(&all);
    for g in groups {
        g.files
            .retain(|f| in_shard(&absolute(f), &root, index, count));
    }
}

/// Discovers a photo library: one discovery per camera body ([`discover_groups`]), each to be
/// scanned on its own ([`super::prepare_discovered`]). `options.camera` keeps only the bodies whose
/// name ([`crate::input::exif::Camera::body`]) contains its text, compared without case; `options.shard` keeps the
/// shard's files of every group. When there are several groups, a group with a single frame is
/// not scanned: its files are listed as skipped, with the first group's (which also carries
/// the files and inputs that belong to no group). Each file belongs to one group, so scanning
/// the groups one after another still reads every file once, with the memory of the largest
/// group's scan.
pub fn discover_library(
    inputs: &[String],
    options: &ScanOptions,
) -> Result<Vec<Discovery>, ScanError> {
    let mut groups = discover_groups(inputs, &discover_options(options))?;
    if let Some(text) = &options.camera {
        groups = keep_cameras(groups, text)?;
    }
    if let Some(since) = options.since {
        groups = keep_since(groups, since)?;
    }
    if let Some(shard) = options.shard {
        keep_shard(&mut groups, shard);
    }
    if groups.len() > 1 {
        let (single, mut scanned): (Vec<Discovery>, Vec<Discovery>) = groups
            .into_iter()
            .partition(|g| g.files.len() < 2 && g.shape.is_some());
        if scanned.is_empty() {
            scanned.push(single.into_iter().next().expect("one group at least"));
        } else {
            for mut g in single {
                let reason = format!(
                    "the only frame of {}: a camera needs two frames at least",
                    group_name(g.camera.as_ref())
                );
                let files = std::mem::take(&mut g.files);
                g.skipped.extend(files.into_iter().map(|path| Skipped {
                    path,
                    reason: reason.clone(),
                }));
                scanned[0].absorb(g);
            }
        }
        groups = scanned;
    }
    Ok(groups)
}

/// Every group with only its files taken on or after `since`; groups left without a file are
/// dropped, what they left out counted with the first group kept.
fn keep_since(groups: Vec<Discovery>, since: CaptureTime) -> Result<Vec<Discovery>, ScanError> {
    let mut kept: Vec<Discovery> = Vec::new();
    let mut dropped = Discovery::default();
    for mut g in groups {
        g.keep_since(since);
        if g.files.is_empty() {
            dropped.absorb(g);
        } else {
            kept.push(g);
        }
    }
    let Some(head) = kept.first_mut() else {
        return Err(ScanError::NothingSince {
            since,
            left_out: dropped.before_since,
        });
    };
    head.absorb(dropped);
    Ok(kept)
}

/// The groups whose camera's name contains `text` (without case); what the first group carried
/// for all of them (files and inputs of no group) moves to the first kept.
fn keep_cameras(groups: Vec<Discovery>, text: &str) -> Result<Vec<Discovery>, ScanError> {
    let wanted = text.to_lowercase();
    let found = groups.len();
    let mut groups = groups.into_iter();
    let Some(mut first) = groups.next() else {
        return Ok(Vec::new());
    };
    let carried = Discovery {
        skipped: std::mem::take(&mut first.skipped),
        unmatched: std::mem::take(&mut first.unmatched),
        twins_left_out: std::mem::take(&mut first.twins_left_out),
        before_since: std::mem::take(&mut first.before_since),
        ..Default::default()
    };
    let matches = |g: &Discovery| {
        g.camera
            .as_ref()
            .is_some_and(|c| c.body().to_lowercase().contains(&wanted))
    };
    let mut kept: Vec<Discovery> = std::iter::once(first)
        .chain(groups)
        .filter(matches)
        .collect();
    let Some(head) = kept.first_mut() else {
        return Err(ScanError::NoCamera {
            text: text.into(),
            groups: found,
        });
    };
    head.absorb(carried);
    Ok(kept)
}

/// FNV-1a, 64-bit: a hash every machine computes alike, for choosing shards.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ b as u64).wrapping_mul(PRIME))
}

/// Shard `index` (1-based) of `count`: the files whose path relative to `root`, with `/`
/// between its parts, hashes (FNV-1a) to `index − 1` modulo `count`. Stable under reordering
/// and on every machine that sees the same tree under its own root.
pub fn in_shard(path: &Path, root: &Path, index: u32, count: u32) -> bool {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let key: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    fnv1a(key.join("/").as_bytes()) % count as u64 == (index - 1) as u64
}

/// The deepest folder holding every one of `files` (absolute paths).
pub fn common_root(files: &[PathBuf]) -> PathBuf {
    let mut root: Option<PathBuf> = None;
    for f in files {
        let dir = f.parent().unwrap_or(f);
        root = Some(match root {
            None => dir.to_path_buf(),
            Some(r) => r
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    root.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_a_collection_whatever_its_root() {
        let files: Vec<PathBuf> = (0..200)
            .map(|k| PathBuf::from(format!("/x/set/d{}/f{k}.jpg", k % 3)))
            .collect();
        let root = common_root(&files);
        assert_eq!(root, PathBuf::from("/x/set"));
        let mut seen = 0;
        for i in 1..=3 {
            let shard: Vec<&PathBuf> = files.iter().filter(|f| in_shard(f, &root, i, 3)).collect();
            assert!(shard.len() > 40, "shard {i}: {}", shard.len());
            seen += shard.len();
            // The same tree elsewhere gives the same shard.
            for f in &shard {
                let moved = Path::new("/mnt/other").join(f.strip_prefix(&root).unwrap());
                assert!(in_shard(&moved, Path::new("/mnt/other"), i, 3));
            }
        }
        assert_eq!(seen, files.len(), "each file in one shard");
    }
}
