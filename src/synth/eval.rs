//! Scoring a detection against a synthetic set's truth: recall per kind, precision, and how often
//! the kind was named right (and what the others were named).

use std::collections::BTreeMap;

use serde::Serialize;

use super::spec::Truth;
use crate::detect::{Defect, Kind};

/// A true defect counts as found when a reported defect, or one of its pixels, lies within this
/// many pixels of it (Chebyshev distance).
pub const MATCH_RADIUS: u32 = 2;

/// Recall of one kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct KindRecall {
    /// Defective photosites of this kind in the truth.
    pub total: usize,
    /// How many were found.
    pub found: usize,
    /// How many of those were reported with this kind.
    pub named_right: usize,
    /// The kinds the found ones were reported with, and how many each (`named_right` of them
    /// with this kind).
    pub named_as: BTreeMap<Kind, usize>,
}

impl KindRecall {
    /// `found / total` (1 when there were none).
    pub fn recall(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.found as f64 / self.total as f64
        }
    }
}

/// How well a detection matches the truth.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quality {
    /// Recall per kind, in [`Kind::DETECTED`] order.
    pub kinds: Vec<(Kind, KindRecall)>,
    /// Defects reported.
    pub reported: usize,
    /// Reported defects that match a true one.
    pub correct: usize,
    /// Reported defects that match none, as `(x, y)`.
    pub false_positives: Vec<[u32; 2]>,
}

impl Quality {
    /// `correct / reported` (1 when nothing was reported).
    pub fn precision(&self) -> f64 {
        if self.reported == 0 {
            1.0
        } else {
            self.correct as f64 / self.reported as f64
        }
    }

    /// Recall of `kind`.
    pub fn recall(&self, kind: Kind) -> f64 {
        self.kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| r.recall())
            .unwrap_or(1.0)
    }

    /// One line: recall per kind and precision.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for (k, r) in &self.kinds {
            s += &format!("{} {}/{}  ", k, r.found, r.total);
        }
        s + &format!(
            "precision {}/{} = {:.3}",
            self.correct,
            self.reported,
            self.precision()
        )
    }
}

fn near(a: [u32; 2], x: u32, y: u32) -> bool {
    a[0].abs_diff(x).max(a[1].abs_diff(y)) <= MATCH_RADIUS
}

/// True when `d`, or one of its pixels, lies within [`MATCH_RADIUS`] of `(x, y)`.
pub fn touches(d: &Defect, x: u32, y: u32) -> bool {
    near([d.x, d.y], x, y) || d.pixels.iter().any(|&p| near(p, x, y))
}

/// Matches `defects` against `truth`.
pub fn evaluate(defects: &[Defect], truth: &Truth) -> Quality {
    let mut kinds: Vec<(Kind, KindRecall)> = Kind::DETECTED
        .iter()
        .map(|&k| (k, KindRecall::default()))
        .collect();
    for t in &truth.defects {
        let slot = &mut kinds
            .iter_mut()
            .find(|(k, _)| *k == t.kind)
            .expect("kind")
            .1;
        slot.total += 1;
        if let Some(d) = defects.iter().find(|d| touches(d, t.x, t.y)) {
            slot.found += 1;
            *slot.named_as.entry(d.kind).or_default() += 1;
            if d.kind == t.kind {
                slot.named_right += 1;
            }
        }
    }
    let false_positives: Vec<[u32; 2]> = defects
        .iter()
        .filter(|d| !truth.defects.iter().any(|t| touches(d, t.x, t.y)))
        .map(|d| [d.x, d.y])
        .collect();
    Quality {
        kinds,
        reported: defects.len(),
        correct: defects.len() - false_positives.len(),
        false_positives,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Colour;
    use crate::synth::TrueDefect;

    fn truth(kind: Kind, x: u32) -> TrueDefect {
        TrueDefect {
            x,
            y: 10,
            kind,
            cfa: "R".into(),
            channel: 0,
            level: 0.5,
            rate: None,
            pair: None,
            onset: None,
        }
    }

    fn reported(kind: Kind, x: u32) -> Defect {
        Defect {
            x,
            y: 10,
            channel: 0,
            colour: Colour::Red,
            kind,
            score: 9.0,
            mean: 0.0,
            std: 0.0,
            residual: 0.0,
            residual_std: 0.0,
            pixels: vec![[x, 10]],
            index: 0,
            seen: None,
            dark: None,
        }
    }

    /// Each found defect is counted under its true kind with the kind it was reported as; one
    /// reported far from every true defect is a false positive.
    #[test]
    fn kinds_are_tallied_by_what_they_were_named() {
        let truth = Truth {
            width: 100,
            height: 20,
            files: Vec::new(),
            dark: false,
            defects: vec![
                truth(Kind::Stuck, 10),
                truth(Kind::Stuck, 30),
                truth(Kind::Hot, 50),
            ],
            camera: None,
            taken: Vec::new(),
            exposures: Vec::new(),
        };
        let defects = [
            reported(Kind::Hot, 10),
            reported(Kind::Stuck, 31),
            reported(Kind::Hot, 50),
            reported(Kind::Dead, 90),
        ];
        let q = evaluate(&defects, &truth);
        let of = |k: Kind| q.kinds.iter().find(|(kk, _)| *kk == k).unwrap().1.clone();
        let stuck = of(Kind::Stuck);
        assert_eq!((stuck.total, stuck.found, stuck.named_right), (2, 2, 1));
        assert_eq!(
            stuck.named_as,
            BTreeMap::from([(Kind::Hot, 1), (Kind::Stuck, 1)])
        );
        assert_eq!(of(Kind::Hot).named_as, BTreeMap::from([(Kind::Hot, 1)]));
        assert!(of(Kind::Dead).named_as.is_empty());
        assert_eq!(q.false_positives, vec![[90, 10]]);
        assert_eq!((q.reported, q.correct), (4, 3));
    }
}
