//! Helpers shared by the integration tests: the GPU gate, an exact f64 reference, and test frames.
#![allow(dead_code)]

use std::io::Write;
use std::sync::OnceLock;

use hotpixels::stats::{GpuContext, Moments};
use hotpixels::{Frame, Samples, Shape};

/// The GPU context for tests, opened once. With `HOTPIXELS_REQUIRE_GPU` set (as CI does) a missing
/// adapter fails the test; otherwise the test is skipped and says so on the terminal.
pub fn gpu(test: &str) -> Option<&'static GpuContext> {
    static CTX: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    match CTX.get_or_init(|| GpuContext::open(true).map_err(|e| e.to_string())) {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            if std::env::var_os("HOTPIXELS_REQUIRE_GPU").is_some() {
                panic!("{test}: HOTPIXELS_REQUIRE_GPU is set but no GPU adapter opened: {e}");
            }
            // Written to the terminal directly so the skip is visible even when output is captured.
            let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {e}");
            None
        }
    }
}

/// Statistics computed exactly: integer sums of x and x², then one division in f64.
pub struct Reference {
    pub n: u64,
    pub sum: Vec<u128>,
    pub sum_sq: Vec<u128>,
}

impl Reference {
    pub fn new(len: usize) -> Self {
        Reference {
            n: 0,
            sum: vec![0; len],
            sum_sq: vec![0; len],
        }
    }

    pub fn add(&mut self, frame: &Frame) {
        self.n += 1;
        let mut add = |i: usize, v: u128| {
            self.sum[i] += v;
            self.sum_sq[i] += v * v;
        };
        match frame.samples() {
            Samples::U8(s) => s.iter().enumerate().for_each(|(i, &v)| add(i, v as u128)),
            Samples::U16(s) => s.iter().enumerate().for_each(|(i, &v)| add(i, v as u128)),
        }
    }

    pub fn mean(&self, i: usize) -> f64 {
        self.sum[i] as f64 / self.n as f64
    }

    /// M2 = Σx² − (Σx)²/n = (n·Σx² − (Σx)²) / n, exact until the last division.
    pub fn m2(&self, i: usize) -> f64 {
        let n = self.n as u128;
        (n * self.sum_sq[i] - self.sum[i] * self.sum[i]) as f64 / self.n as f64
    }

    /// Indices of the k lowest M2, ties by index.
    pub fn lowest(&self, k: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.sum.len()).collect();
        idx.sort_by(|&a, &b| self.m2(a).total_cmp(&self.m2(b)).then(a.cmp(&b)));
        idx.truncate(k);
        idx
    }
}

/// Tolerances the backends are held to against the exact reference, for `frames` frames of samples
/// up to `max`: the mean within 1e-5·max·√frames, M2 within 1e-4 relative plus 1e-6·max²·√frames.
pub fn assert_close(label: &str, m: &Moments, r: &Reference) {
    let max = m.shape.max_value() as f64;
    let frames = r.n as f64;
    let mean_tol = 1e-5 * max * frames.sqrt();
    for i in 0..m.mean.len() {
        assert_eq!(m.n.get(i) as u64, r.n, "{label}: n at {i}");
        let dm = (m.mean[i] as f64 - r.mean(i)).abs();
        assert!(
            dm <= mean_tol,
            "{label}: mean at {i}: {} vs {} (tolerance {mean_tol})",
            m.mean[i],
            r.mean(i)
        );
        let m2_tol = 1e-4 * r.m2(i) + 1e-6 * max * max * frames.sqrt();
        let d2 = (m.m2[i] as f64 - r.m2(i)).abs();
        assert!(
            d2 <= m2_tol,
            "{label}: M2 at {i}: {} vs {} (tolerance {m2_tol})",
            m.m2[i],
            r.m2(i)
        );
    }
}

/// A cheap deterministic hash, for filling large frames fast.
pub fn hash(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Frame `f` of a test sequence: pseudo-random samples over the full range, with every
/// `planted` subpixel held at a constant and every `quiet[k]` subpixel alternating ±(k+1)·step
/// around mid-scale, so the lowest-M2 order is known and well separated.
pub fn test_frame(shape: Shape, f: usize, planted: &[usize], quiet: &[usize]) -> Frame {
    let len = shape.subpixels();
    let max = shape.max_value() as u64;
    let step = (max + 1) / 256;
    let mid = max.div_ceil(2);
    let sign = |f: usize| if f.is_multiple_of(2) { 1i64 } else { -1 };
    let value = |i: usize| -> u64 {
        if let Some(k) = planted.iter().position(|&p| p == i) {
            return (k as u64 * 37 * step) % (max + 1);
        }
        if let Some(k) = quiet.iter().position(|&q| q == i) {
            return (mid as i64 + sign(f) * (k as i64 + 1) * step as i64) as u64;
        }
        hash((f as u64) << 32 | i as u64) % (max + 1)
    };
    if shape.bit_depth == 8 {
        Frame::from_u8(shape, (0..len).map(|i| value(i) as u8).collect()).unwrap()
    } else {
        Frame::from_u16(shape, (0..len).map(|i| value(i) as u16).collect()).unwrap()
    }
}
