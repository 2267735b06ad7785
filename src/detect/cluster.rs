//! Clustering: candidate subpixels that touch (8-connected, across channels) are one physical
//! defect — a JPEG-smeared blob, or two neighbouring defective photosites — positioned at its
//! strongest subpixel. Fainter echoes within 4 pixels of a defect, and faint satellites within a
//! JPEG block of a much stronger one (ringing), join it.

use std::collections::HashMap;

use super::{Defect, Kind, Scores};
use crate::stats::Moments;

/// A satellite within this many pixels of a defect at least [`SATELLITE_RATIO`] times stronger
/// joins it.
pub const SATELLITE_DISTANCE: u32 = 8;
/// See [`SATELLITE_DISTANCE`].
pub const SATELLITE_RATIO: f32 = 2.0;
/// A fainter blob within this many pixels of a stronger one joins it whatever their ratio: a
/// defect skews the neighbour estimate of the subpixels whose ring it is on (2 pixels away) and
/// JPEG spreads that a pixel further, so its echo sits 3–4 pixels away. (Two real defects this
/// close are reported as one, with the pixels of both.)
pub const ECHO_DISTANCE: u32 = 4;

/// A pixel's position, `(x, y)`.
type Pixel = (u32, u32);

/// A touching group of candidate pixels: each pixel's strength and position, strongest first.
type Blob = Vec<(f32, Pixel)>;

/// How far from a defect, in pixels, a `blob` joins it ([`SATELLITE_DISTANCE`], [`ECHO_DISTANCE`]):
/// `host` and `blob` are given by their strongest pixel's strength.
fn reach(host: f32, blob: f32) -> u32 {
    if host >= SATELLITE_RATIO * blob {
        SATELLITE_DISTANCE.max(ECHO_DISTANCE)
    } else {
        ECHO_DISTANCE
    }
}

/// Echoes and satellites: a blob whose pixels come within [`reach`] of a stronger defect's joins
/// the first such defect (`blobs` come strongest first), else it is a defect of its own.
///
/// The defects' pixels are kept in a grid of cells as wide as the longest reach, so a blob looks
/// only at the pixels of the cells around its own: a scan of a few frames, where tens of
/// thousands of blobs stand out, joins them in linear time, not in the square of their number.
fn join_echoes(blobs: Vec<Blob>) -> Vec<Blob> {
    let cell_size = SATELLITE_DISTANCE.max(ECHO_DISTANCE);
    let cell = |(x, y): Pixel| (x / cell_size, y / cell_size);
    // Per cell, the pixels of defects in it, with their defect's index.
    let mut grid: HashMap<(u32, u32), Vec<(usize, Pixel)>> = HashMap::new();
    let mut merged: Vec<Blob> = Vec::new();
    for blob in blobs {
        let strength = blob[0].0;
        let mut host: Option<usize> = None;
        for &(_, q) in &blob {
            let (cx, cy) = cell(q);
            for gy in cy.saturating_sub(1)..=cy + 1 {
                for gx in cx.saturating_sub(1)..=cx + 1 {
                    for &(h, p) in grid.get(&(gx, gy)).into_iter().flatten() {
                        if host.is_some_and(|best| h >= best) {
                            continue;
                        }
                        let distance = p.0.abs_diff(q.0).max(p.1.abs_diff(q.1));
                        if distance <= reach(merged[h][0].0, strength) {
                            host = Some(h);
                        }
                    }
                }
            }
        }
        let h = host.unwrap_or_else(|| {
            merged.push(Vec::new());
            merged.len() - 1
        });
        for &(_, p) in &blob {
            grid.entry(cell(p)).or_default().push((h, p));
        }
        merged[h].extend(blob);
    }
    merged
}

fn find(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// Groups the candidates of `scores` into defects, strongest first. Kinds are left as
/// [`Kind::Hot`] for [`super::classify::classify`] to decide.
pub fn cluster(m: &Moments, scores: &Scores) -> Vec<Defect> {
    let shape = m.shape;
    // Strongest subpixel per pixel.
    let mut pixels: HashMap<(u32, u32), (f32, usize, f32)> = HashMap::new();
    for (&i, &s) in scores.candidates.iter().zip(&scores.values) {
        let (x, y, _) = shape.position(i);
        let e = pixels.entry((x, y)).or_insert((0.0, i, s));
        if s.abs() > e.0 {
            *e = (s.abs(), i, s);
        }
    }
    let mut keys: Vec<(u32, u32)> = pixels.keys().copied().collect();
    keys.sort_unstable_by_key(|&(x, y)| (y, x));
    let slot: HashMap<(u32, u32), usize> = keys.iter().enumerate().map(|(k, &p)| (p, k)).collect();
    let mut parent: Vec<usize> = (0..keys.len()).collect();
    for (k, &(x, y)) in keys.iter().enumerate() {
        for dy in -1i64..=1 {
            for dx in -1i64..=1 {
                let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                if (dx, dy) == (0, 0) || nx < 0 || ny < 0 {
                    continue;
                }
                if let Some(&j) = slot.get(&(nx as u32, ny as u32)) {
                    union(&mut parent, k, j);
                }
            }
        }
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for k in 0..keys.len() {
        let root = find(&mut parent, k);
        groups.entry(root).or_default().push(k);
    }
    // Each group: its pixels by strength, strongest first.
    let mut blobs: Vec<Blob> = groups
        .into_values()
        .map(|g| {
            let mut v: Blob = g
                .into_iter()
                .map(|k| (pixels[&keys[k]].0, keys[k]))
                .collect();
            v.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then((a.1 .1, a.1 .0).cmp(&(b.1 .1, b.1 .0)))
            });
            v
        })
        .collect();
    blobs.sort_by(|a, b| {
        b[0].0
            .total_cmp(&a[0].0)
            .then((a[0].1 .1, a[0].1 .0).cmp(&(b[0].1 .1, b[0].1 .0)))
    });
    let merged = join_echoes(blobs);
    merged
        .into_iter()
        .map(|blob| {
            let (_, index, score) = pixels[&blob[0].1];
            let (x, y, channel) = shape.position(index);
            Defect {
                x,
                y,
                channel,
                colour: shape.colour(x, y, channel),
                kind: Kind::Hot,
                score,
                mean: m.mean[index],
                std: m.std(index),
                residual: m.res_mean[index],
                residual_std: m.res_std(index),
                pixels: blob.iter().map(|(_, (x, y))| [*x, *y]).collect(),
                index,
                seen: None,
                dark: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every defect compared with every blob: what [`join_echoes`] must give.
    fn join_echoes_pairwise(blobs: Vec<Blob>) -> Vec<Blob> {
        let mut merged: Vec<Blob> = Vec::new();
        for blob in blobs {
            let host = merged.iter().position(|h| {
                let reach = reach(h[0].0, blob[0].0);
                h.iter().any(|(_, p)| {
                    blob.iter()
                        .any(|(_, q)| p.0.abs_diff(q.0).max(p.1.abs_diff(q.1)) <= reach)
                })
            });
            match host {
                Some(h) => merged[h].extend(blob),
                None => merged.push(blob),
            }
        }
        merged
    }

    /// Blobs of 1 to 4 pixels scattered over a `side`-pixel square, strongest first, drawn from
    /// `seed`.
    fn random_blobs(count: usize, side: u32, seed: u64) -> Vec<Blob> {
        let mut rng = crate::synth::Rng::new(seed);
        let mut blobs: Vec<Blob> = (0..count)
            .map(|_| {
                let (x, y) = (rng.below(side as u64) as u32, rng.below(side as u64) as u32);
                let strength = 5.0 + 50.0 * rng.unit() as f32;
                let pixels = 1 + rng.below(4) as u32;
                (0..pixels)
                    .map(|k| (strength / (1 + k) as f32, (x + k % 2, y + k / 2)))
                    .collect()
            })
            .collect();
        blobs.sort_by(|a, b| b[0].0.total_cmp(&a[0].0));
        blobs
    }

    #[test]
    fn the_grid_joins_echoes_as_comparing_every_pair_does() {
        // Sparse (most blobs alone), dense (chains of joins) and in between, across cell edges.
        for (count, side, seed) in [(400, 600, 1), (3000, 300, 2), (800, 120, 3), (500, 40, 4)] {
            let blobs = random_blobs(count, side, seed);
            let joined = join_echoes(blobs.clone());
            assert_eq!(
                joined,
                join_echoes_pairwise(blobs),
                "{count} blobs in {side} px"
            );
            assert!(
                joined.len() > 1 && joined.len() < count,
                "{count} blobs in {side} px: some joined, not all ({})",
                joined.len()
            );
        }
    }

    #[test]
    fn a_satellite_joins_a_much_stronger_defect_from_further_than_an_echo() {
        let strong = vec![(40.0, (100, 100))];
        // 7 pixels away: beyond an echo's reach, within a satellite's.
        let faint = vec![(10.0, (107, 100))];
        let near_peer = vec![(30.0, (107, 100))];
        assert_eq!(join_echoes(vec![strong.clone(), faint]).len(), 1);
        assert_eq!(join_echoes(vec![strong, near_peer]).len(), 2);
    }
}
