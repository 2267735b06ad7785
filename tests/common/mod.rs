//! Helpers shared by the integration tests: the GPU gate, an exact f64 reference, test frames, and
//! running the binary.
#![allow(dead_code)]

use std::io::Write;
use std::sync::OnceLock;

use hotpixels::stats::{DarkSetup, GpuContext, Moments};
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

/// Statistics computed exactly: integer sums of x and x², and of twice the neighbour residual
/// and its square (the residual is a whole or half number), then one division in f64.
pub struct Reference {
    pub shape: Shape,
    pub n: u64,
    pub sum: Vec<u128>,
    pub sum_sq: Vec<u128>,
    pub sum_r2: Vec<i128>,
    pub sum_r2_sq: Vec<u128>,
    /// Frames in which the doubled residual was negative.
    pub below: Vec<u64>,
    /// The dark-current statistics, when kept.
    pub dark: Option<DarkReference>,
}

/// The dark-current statistics computed plainly (written here independently of the library): per
/// position, over the frames with an exposure, the frames in which a channel reads at or above
/// the clip level while its neighbours' median reads below half of it; over the others, the
/// doubled residual summed over the channels, times the frame's weight and times that weight and
/// `e − reference`, in f64.
pub struct DarkReference {
    pub setup: DarkSetup,
    pub exposures: Vec<f32>,
    pub sum2: Vec<f64>,
    pub weighted2: Vec<f64>,
    pub clipped: Vec<u64>,
}

/// Index `v` mirrored at the borders of `0..n` (written here independently of the library).
fn mirror(v: i64, n: i64) -> i64 {
    let m = if v < 0 {
        -v
    } else if v >= n {
        2 * (n - 1) - v
    } else {
        v
    };
    m.clamp(0, n - 1)
}

/// Twice the residual of subpixel `i`: 2·x − (sum of the four neighbours at distance 2 − the
/// smallest − the largest).
pub fn twice_residual(shape: Shape, values: &[i64], i: usize) -> i64 {
    let (w, h, c) = (
        shape.width as i64,
        shape.height as i64,
        shape.channels as i64,
    );
    let (x, y, ch) = shape.position(i);
    let (x, y, ch) = (x as i64, y as i64, ch as i64);
    let at = |xx: i64, yy: i64| values[((yy * w + xx) * c + ch) as usize];
    let mut nb = [
        at(mirror(x - 2, w), y),
        at(mirror(x + 2, w), y),
        at(x, mirror(y - 2, h)),
        at(x, mirror(y + 2, h)),
    ];
    nb.sort();
    2 * values[i] - (nb[1] + nb[2])
}

impl Reference {
    pub fn new(shape: Shape) -> Self {
        let len = shape.subpixels();
        Reference {
            shape,
            n: 0,
            sum: vec![0; len],
            sum_sq: vec![0; len],
            sum_r2: vec![0; len],
            sum_r2_sq: vec![0; len],
            below: vec![0; len],
            dark: None,
        }
    }

    /// A reference that also keeps the dark-current statistics taken with `setup`.
    pub fn with_dark(shape: Shape, setup: DarkSetup) -> Self {
        let positions = shape.pixels();
        Reference {
            dark: Some(DarkReference {
                setup,
                exposures: Vec::new(),
                sum2: vec![0.0; positions],
                weighted2: vec![0.0; positions],
                clipped: vec![0; positions],
            }),
            ..Reference::new(shape)
        }
    }

    pub fn add(&mut self, frame: &Frame) {
        self.n += 1;
        let values: Vec<i64> = match frame.samples() {
            Samples::U8(s) => s.iter().map(|&v| v as i64).collect(),
            Samples::U16(s) => s.iter().map(|&v| v as i64).collect(),
        };
        for (i, &v) in values.iter().enumerate() {
            self.sum[i] += v as u128;
            self.sum_sq[i] += (v * v) as u128;
            let r2 = twice_residual(self.shape, &values, i);
            self.sum_r2[i] += r2 as i128;
            self.sum_r2_sq[i] += (r2 * r2) as u128;
            self.below[i] += (r2 < 0) as u64;
        }
        let (Some(dark), Some(e)) = (self.dark.as_mut(), frame.exposure()) else {
            return;
        };
        dark.exposures.push(e);
        // Weighed as the library says (its `leverage_weight`), computed here in f64.
        let e = e as f64;
        let long = hotpixels::stats::dark::LEVERAGE_EXPOSURE;
        let omega = if e > long { (long / e).powi(2) } else { 1.0 };
        let w = omega * (e - dark.setup.reference);
        let clip = dark.setup.clip as i64;
        let c = self.shape.channels as usize;
        for p in 0..self.shape.pixels() {
            let mut cut = false;
            let mut sum = 0i64;
            for i in p * c..(p + 1) * c {
                let r2 = twice_residual(self.shape, &values, i);
                cut |= values[i] >= clip && 2 * values[i] - r2 < clip;
                sum += r2;
            }
            if cut {
                dark.clipped[p] += 1;
            } else {
                dark.sum2[p] += sum as f64 * omega;
                dark.weighted2[p] += sum as f64 * w;
            }
        }
    }

    pub fn res_mean(&self, i: usize) -> f64 {
        self.sum_r2[i] as f64 / (2 * self.n) as f64
    }

    pub fn res_m2(&self, i: usize) -> f64 {
        let n = self.n as i128;
        let num = n * self.sum_r2_sq[i] as i128 - self.sum_r2[i] * self.sum_r2[i];
        num as f64 / (4 * self.n) as f64
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
    assert_eq!(m.n as u64, r.n, "{label}: n");
    for i in 0..m.mean.len() {
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
        // Residuals span −max..max: tolerances as for values of twice the range.
        let dr = (m.res_mean[i] as f64 - r.res_mean(i)).abs();
        assert!(
            dr <= 2.0 * mean_tol,
            "{label}: residual mean at {i}: {} vs {}",
            m.res_mean[i],
            r.res_mean(i)
        );
        let rm2_tol = 1e-4 * r.res_m2(i) + 4e-6 * max * max * frames.sqrt();
        let dr2 = (m.res_m2[i] as f64 - r.res_m2(i)).abs();
        assert!(
            dr2 <= rm2_tol,
            "{label}: residual M2 at {i}: {} vs {} (tolerance {rm2_tol})",
            m.res_m2[i],
            r.res_m2(i)
        );
        assert_eq!(
            m.below[i] as u64, r.below[i],
            "{label}: frames below the neighbours at {i}"
        );
    }
    assert_dark_close(label, m, r);
}

/// The dark-current statistics against the reference: exposures and clipped counts exactly, the
/// sums within f32 rounding of their batches (1e-6 of the largest term per frame).
pub fn assert_dark_close(label: &str, m: &Moments, r: &Reference) {
    let (Some(md), Some(rd)) = (m.dark.as_ref(), r.dark.as_ref()) else {
        assert_eq!(
            m.dark.is_some(),
            r.dark.is_some(),
            "{label}: dark statistics kept"
        );
        return;
    };
    assert_eq!(md.exposures, rd.exposures, "{label}: exposures");
    let max = m.shape.max_value() as f64 * m.shape.channels as f64;
    let frames = rd.exposures.len() as f64;
    let reach = rd
        .exposures
        .iter()
        .map(|&e| (e as f64 - rd.setup.reference).abs())
        .fold(0.0, f64::max);
    for p in 0..md.sum.len() {
        assert_eq!(
            md.clipped[p] as u64, rd.clipped[p],
            "{label}: clipped frames at {p}"
        );
        let sum = rd.sum2[p] / 2.0;
        let tol = 1e-6 * max * frames;
        assert!(
            (md.sum[p] as f64 - sum).abs() <= tol,
            "{label}: dark sum at {p}: {} vs {sum} (tolerance {tol})",
            md.sum[p]
        );
        let weighted = rd.weighted2[p] / 2.0;
        let tol = 1e-6 * max * reach * frames;
        assert!(
            (md.weighted[p] as f64 - weighted).abs() <= tol,
            "{label}: dark weighted sum at {p}: {} vs {weighted} (tolerance {tol})",
            md.weighted[p]
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

/// Writes a synthetic set of `format` into `dir` — `width`×`height`, 4 hot, 3 warm, 3 stuck and 3
/// dead photosites and one hot pair, `frames` frames from `seed` — and scans it on the CPU.
pub fn scan_planted(
    dir: &std::path::Path,
    format: hotpixels::synth::SetFormat,
    [width, height, frames]: [u32; 3],
    seed: u64,
) -> (hotpixels::synth::Truth, hotpixels::scan::ScanReport) {
    use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
    use hotpixels::synth::{write_set, SetSpec};
    let spec = SetSpec {
        width,
        height,
        frames: frames as usize,
        format,
        hot: 4,
        warm: 3,
        stuck: 3,
        dead: 3,
        pairs: 1,
        seed,
        ..Default::default()
    };
    let truth = write_set(&spec, dir).unwrap();
    let options = ScanOptions {
        backend: BackendChoice::Cpu,
        ..Default::default()
    };
    let report = scan(&[dir.display().to_string()], &options, &mut Silent).unwrap();
    (truth, report)
}

/// The `hotpixels` binary built for the tests.
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("hotpixels").unwrap()
}

/// The output of `cmd`, which must succeed (its standard error is shown when it does not).
pub fn succeeded(cmd: &mut assert_cmd::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
