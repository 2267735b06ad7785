//! Ranking: the argmin and the top-k subpixels with the lowest `M2`, found without sorting the
//! whole sensor (a bounded heap per block, merged).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::Serialize;

use crate::stats::Moments;

/// A subpixel picked by the ranking, with the numbers behind it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Channel (0, 1, 2 for R, G, B; 0 for grey).
    pub channel: u32,
    /// Sum of squared deviations.
    pub m2: f32,
    /// `M2 / (n - 1)`.
    pub variance: f32,
    /// Mean value.
    pub mean: f32,
    /// Subpixel index into the statistics arrays.
    #[serde(skip)]
    pub index: usize,
}

/// Heap key: larger `M2` is "greater"; equal `M2` breaks by larger index, so the kept set is the
/// lowest `(M2, index)` pairs and the order is total and stable.
#[derive(Clone, Copy, PartialEq)]
struct Key(f32, usize);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1))
    }
}

const BLOCK: usize = 1 << 16;

fn block_lowest(m2: &[f32], offset: usize, k: usize) -> Vec<Key> {
    let mut heap: BinaryHeap<Key> = BinaryHeap::with_capacity(k + 1);
    for (i, &v) in m2.iter().enumerate() {
        let key = Key(v, offset + i);
        if heap.len() < k {
            heap.push(key);
        } else if let Some(top) = heap.peek() {
            if key < *top {
                heap.pop();
                heap.push(key);
            }
        }
    }
    heap.into_vec()
}

/// The `k` subpixels with the lowest `M2`, lowest first, ties by position (row, column, channel).
/// The first entry is the argmin. NaN sorts last.
pub fn lowest_m2(moments: &Moments, k: usize) -> Vec<Candidate> {
    if k == 0 {
        return Vec::new();
    }
    let mut keys: Vec<Key> = moments
        .m2
        .par_chunks(BLOCK)
        .enumerate()
        .flat_map_iter(|(b, chunk)| block_lowest(chunk, b * BLOCK, k))
        .collect();
    keys.sort_unstable();
    keys.truncate(k);
    keys.into_iter()
        .map(|Key(m2, index)| {
            let (x, y, channel) = moments.shape.position(index);
            Candidate {
                x,
                y,
                channel,
                m2,
                variance: moments.variance(index),
                mean: moments.mean[index],
                index,
            }
        })
        .collect()
}
