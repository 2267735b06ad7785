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
/// position, over the frames with an exposure, the frames long enough to clip (from 8 s at ISO 100,
/// or from 0.85 of the scan's longest exposure) in which a channel
/// reads at or above the clip level with a residual of at least the floor; over the others, each channel's residual in linear light
/// (sRGB samples and their neighbours' median through the sRGB curve) raised to minus the floor,
/// summed over the channels: times the frame's leverage weight ω, times ω(e − reference), times
/// its misfit weight κ (HC3: (ω(e − reference))² / (1 − h)², h its leverage, at most 0.9), times
/// κ(e − reference); and its square times κ; in f64.
pub struct DarkReference {
    pub setup: DarkSetup,
    pub exposures: Vec<f32>,
    pub misfit_weights: Vec<f64>,
    pub sums: [Vec<f64>; 5],
    /// Per sum, the sum over the frames of |weight| (the bound of its rounding).
    pub weight_bounds: [f64; 5],
    pub clipped: Vec<u64>,
}

/// The sRGB curve undone (IEC 61966-2-1), `v` encoded 0‥1 (written here independently of the
/// library).
fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
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
                misfit_weights: Vec::new(),
                sums: std::array::from_fn(|_| vec![0.0; positions]),
                weight_bounds: [0.0; 5],
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
        // Weighed as the library says, computed here in f64.
        let e = e as f64;
        let long = hotpixels::stats::dark::LEVERAGE_EXPOSURE;
        let omega = if e > long { (long / e).powi(2) } else { 1.0 };
        let design = dark.setup.design;
        let d = e - design.reference;
        let h = (omega / design.weight + omega * d * d / design.spread).min(0.9);
        let kappa = (omega * d).powi(2) / (1.0 - h).powi(2);
        dark.misfit_weights.push(kappa);
        let weights = [omega, omega * d, kappa, kappa * d, kappa];
        for (bound, w) in dark.weight_bounds.iter_mut().zip(weights) {
            *bound += w.abs();
        }
        let clip = dark.setup.clip as i64;
        let floor = -(dark.setup.floor() as f64);
        let srgb = dark.setup.encoding == hotpixels::input::Encoding::Srgb;
        let (max, range) = (self.shape.max_value() as f64, dark.setup.range as f64);
        // In linear light: a RAW residual as it is; an image's sample and its neighbours' median
        // through the sRGB curve.
        let linear = |v: f64| range * srgb_to_linear(v / max);
        let c = self.shape.channels as usize;
        // A frame long enough to clip: from 8 s at ISO 100, or near the scan's longest exposure.
        let longest = dark.setup.longest;
        let long_enough = e >= hotpixels::stats::dark::DARK_CLIP_MIN_EXPOSURE
            || (longest > 0.0 && e >= hotpixels::stats::dark::NEAR_LONGEST * longest);
        for p in 0..self.shape.pixels() {
            let mut cut = false;
            let mut sum = 0f64;
            for i in p * c..(p + 1) * c {
                let r2 = twice_residual(self.shape, &values, i);
                let residual = if srgb {
                    linear(values[i] as f64) - linear((2 * values[i] - r2) as f64 / 2.0)
                } else {
                    r2 as f64 / 2.0
                };
                cut |= long_enough && values[i] >= clip && residual >= -floor;
                sum += residual.max(floor);
            }
            if cut {
                dark.clipped[p] += 1;
            } else {
                for (k, w) in weights.iter().enumerate() {
                    dark.sums[k][p] += if k == 4 { sum * sum * w } else { sum * w };
                }
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
    assert_eq!(md.misfit_weights.len(), rd.misfit_weights.len());
    for (f, (&a, &b)) in md.misfit_weights.iter().zip(&rd.misfit_weights).enumerate() {
        assert!(
            (a as f64 - b).abs() <= 1e-6 * b.abs().max(1e-3),
            "{label}: misfit weight of frame {f}: {a} vs {b}"
        );
    }
    let max = m.shape.max_value() as f64 * m.shape.channels as f64;
    for p in 0..md.clipped.len() {
        assert_eq!(
            md.clipped[p] as u64, rd.clipped[p],
            "{label}: clipped frames at {p}"
        );
        for (k, name) in hotpixels::stats::dark::DARK_SUM_NAMES.iter().enumerate() {
            let expected = rd.sums[k][p];
            let reach = if k == 4 { max * max } else { max };
            let tol = 1e-6 * reach * rd.weight_bounds[k];
            assert!(
                (md.sums[k][p] as f64 - expected).abs() <= tol,
                "{label}: dark {name} at {p}: {} vs {expected} (tolerance {tol})",
                md.sums[k][p]
            );
        }
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

/// What a program run by [`run_within`] did: its exit status and its standard output and error.
pub struct Ran {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// How long dcraw may take for one file before a test fails: it reads a RAW file in well under a
/// second.
pub const DCRAW_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs dcraw with `args` within [`DCRAW_TIMEOUT`], its output in files in `dir` (its standard
/// output in `dir/stdout`); the test fails if it does not end or does not succeed.
pub fn dcraw(args: &[&std::ffi::OsStr], dir: &std::path::Path) -> Ran {
    let mut cmd = std::process::Command::new("dcraw");
    cmd.args(args);
    let ran = run_within(
        &mut cmd,
        DCRAW_TIMEOUT,
        dir,
        "dcraw (Debian package dcraw; .ci/run installs it)",
    );
    assert!(ran.status.success(), "dcraw {args:?}: {}", ran.stderr);
    ran
}

/// Runs `cmd` to its end, killed (and the test failed, naming `what`) after `limit`: a program
/// another project ships must not hang the tests. Its output goes to files in `dir`, not pipes,
/// which fill while nobody reads them.
pub fn run_within(
    cmd: &mut std::process::Command,
    limit: std::time::Duration,
    dir: &std::path::Path,
    what: &str,
) -> Ran {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = cmd
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start it: {e}"));
    let began = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: ran over {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let read = |path: &std::path::Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
    };
    Ran {
        status,
        stdout: read(&out),
        stderr: read(&err),
    }
}

/// A PNG chunk: its data's length, its type, the data and the CRC-32 (IEEE) of type and data.
pub fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in kind.iter().chain(data) {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    [
        &(data.len() as u32).to_be_bytes()[..],
        kind,
        data,
        &(!crc).to_be_bytes(),
    ]
    .concat()
}

/// The reason `skipped` gives for the file whose path ends with `name`; the test fails, listing
/// them, when it is not there.
pub fn skipped_reason(skipped: &[hotpixels::input::Skipped], name: &str) -> String {
    skipped
        .iter()
        .find(|k| k.path.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not listed as skipped: {skipped:?}"))
        .reason
        .clone()
}

/// Each file of `skipped` by its name, with its reason, in their order.
pub fn skipped_by_name(skipped: &[hotpixels::input::Skipped]) -> Vec<(String, String)> {
    skipped
        .iter()
        .map(|k| {
            (
                k.path.file_name().unwrap().to_string_lossy().into_owned(),
                k.reason.clone(),
            )
        })
        .collect()
}
