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
    let mut blobs: Vec<Vec<(f32, (u32, u32))>> = groups
        .into_values()
        .map(|g| {
            let mut v: Vec<(f32, (u32, u32))> = g
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
    // Echoes and satellites: a blob whose pixels come within ECHO_DISTANCE of a stronger one, or
    // within SATELLITE_DISTANCE of a much stronger one, joins it (blobs come strongest first).
    let mut merged: Vec<Vec<(f32, (u32, u32))>> = Vec::new();
    for blob in blobs {
        let host = merged.iter().position(|h| {
            let reach = if h[0].0 >= SATELLITE_RATIO * blob[0].0 {
                SATELLITE_DISTANCE.max(ECHO_DISTANCE)
            } else {
                ECHO_DISTANCE
            };
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
