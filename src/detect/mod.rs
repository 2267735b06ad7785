//! Detection: turning per-subpixel statistics into candidate defects (ranking by `M2`).

pub mod rank;

pub use rank::{lowest_m2, Candidate};
