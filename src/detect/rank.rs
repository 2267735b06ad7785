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

/// Subpixels ranked per parallel task.
const BLOCK: usize = 1 << 16;

/// Values compared together before any of them is looked at one by one.
const CHUNK: usize = 32;

/// `v` as an integer in the order of [`f32::total_cmp`] (the order [`Key`] uses).
#[inline(always)]
fn total_order(v: f32) -> i32 {
    let bits = v.to_bits() as i32;
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// The `k` lowest keys of one block, unordered.
fn block_lowest(m2: &[f32], offset: usize, k: usize) -> Vec<Key> {
    let mut heap: BinaryHeap<Key> = BinaryHeap::with_capacity(k.min(m2.len()) + 1);
    // The largest kept value: anything above it is rejected with one comparison, a chunk at a
    // time (without branches, so the comparisons run side by side).
    let mut worst = i32::MAX;
    for (c, chunk) in m2.chunks(CHUNK).enumerate() {
        if heap.len() == k
            && chunk
                .iter()
                .fold(true, |all, &v| all & (total_order(v) > worst))
        {
            continue;
        }
        for (j, &v) in chunk.iter().enumerate() {
            if heap.len() == k && total_order(v) > worst {
                continue;
            }
            let key = Key(v, offset + c * CHUNK + j);
            if heap.len() < k {
                heap.push(key);
            } else if key < *heap.peek().expect("heap is full") {
                heap.pop();
                heap.push(key);
            }
            if heap.len() == k {
                worst = total_order(heap.peek().expect("heap is full").0);
            }
        }
    }
    heap.into_vec()
}

/// The lowest `k` of two ascending lists, ascending.
fn merge_lowest(a: Vec<Key>, b: Vec<Key>, k: usize) -> Vec<Key> {
    let mut out = Vec::with_capacity(k.min(a.len() + b.len()));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while out.len() < k {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x <= y => a.next(),
            (Some(_), Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, _) => b.next(),
        };
        match next {
            Some(key) => out.push(key),
            None => break,
        }
    }
    out
}

/// The `k` subpixels with the lowest `M2`, lowest first, ties by position (row, column, channel).
/// The first entry is the argmin. NaN sorts last. Memory beyond the result is a few lists of at
/// most `k` keys (one per thread), whatever the sensor's size; `k` beyond the number of subpixels
/// gives every subpixel.
pub fn lowest_m2(moments: &Moments, k: usize) -> Vec<Candidate> {
    let k = k.min(moments.m2.len());
    if k == 0 {
        return Vec::new();
    }
    let keys: Vec<Key> = moments
        .m2
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(b, chunk)| {
            let mut keys = block_lowest(chunk, b * BLOCK, k);
            keys.sort_unstable();
            keys
        })
        .reduce(Vec::new, |a, b| merge_lowest(a, b, k));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Shape;

    fn moments(m2: Vec<f32>) -> Moments {
        let shape = Shape::new(m2.len() as u32, 1, 1, 8).unwrap();
        let mut m = Moments::new(shape);
        m.n = 5;
        m.mean = (0..m2.len()).map(|i| i as f32).collect();
        m.m2 = m2;
        m
    }

    #[test]
    fn lowest_first_ties_by_position_nan_last() {
        let m = moments(vec![5.0, 0.0, f32::NAN, 3.0, 0.0, 3.0, 9.0]);
        let got: Vec<usize> = lowest_m2(&m, 6).iter().map(|c| c.index).collect();
        assert_eq!(got, [1, 4, 3, 5, 0, 6]);
        let all = lowest_m2(&m, 100);
        assert_eq!(all.len(), 7);
        assert_eq!(all[6].index, 2);
        assert_eq!(all[0].variance, 0.0);
        assert_eq!(all[2].variance, 3.0 / 4.0);
        assert!(lowest_m2(&m, 0).is_empty());
    }

    #[test]
    fn matches_a_full_sort_across_blocks() {
        let len = 3 * BLOCK + 123;
        let m2: Vec<f32> = (0..len)
            .map(|i| ((i as u64 * 2_654_435_761) % 1000) as f32)
            .collect();
        let m = moments(m2.clone());
        let mut idx: Vec<usize> = (0..len).collect();
        idx.sort_by(|&a, &b| m2[a].total_cmp(&m2[b]).then(a.cmp(&b)));
        for k in [1, 50, BLOCK + 7, len, len + 1000, usize::MAX] {
            let got: Vec<usize> = lowest_m2(&m, k).iter().map(|c| c.index).collect();
            assert_eq!(got, idx[..k.min(len)], "k = {k}");
        }
    }

    #[test]
    fn positions_follow_the_interleaved_layout() {
        let shape = Shape::new(5, 4, 3, 8).unwrap();
        let mut m = Moments::new(shape);
        m.n = 3;
        m.m2.fill(10.0);
        let i = shape.index(3, 2, 1);
        m.m2[i] = 0.5;
        let c = &lowest_m2(&m, 1)[0];
        assert_eq!((c.x, c.y, c.channel, c.index), (3, 2, 1, i));
    }
}
