//! Detection quality: synthetic sets of 30, 60 and 120 frames (JPEG 4:2:0, quality 85–92, bursts,
//! 15 % underexposed; the same camera's 12-bit RAW as DNG; and RAW dark frames scanned with
//! `dark`) are written by the simulated camera, scanned, and scored against their truth — recall
//! per kind, precision, how often the kind was named right, how many defective photosites were
//! among a reported defect's pixels (`exact`), and how many were the position (`x`, `y`) a defect
//! was reported at (`placed`).
//!
//! `cargo bench --bench quality` uses procedural scenes; with `HOTPIXELS_SCENES=DIR` the scenes
//! are crops of the photos in DIR. `HOTPIXELS_SEEDS=4,5,6` draws other sets than the default seeds
//! 1, 2 and 3. After each format's rows, a table says what the defects of each true kind were
//! named. Each set is scanned on the CPU and, when a GPU adapter opens
//! (software ones included), on the GPU too; the last column says whether both reported the same
//! defects (up to f32 rounding of their numbers). The `exp` sets are exposed as a photo library is
//! (`SetSpec::exposures`: mostly short daylight frames, some indoor and night ones, hot and warm
//! photosites as dark current; DNG at 40 and 80 frames, JPEG 4:2:2 at 60 and 120, dark frames at
//! 1/60–30 s); their `rate` column is the median ratio of the measured to the planted dark rate
//! over the hot photosites found.

use std::collections::BTreeMap;

use hotpixels::detect::{Defect, Kind};
use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
use hotpixels::synth::eval::{evaluate, touches};
use hotpixels::synth::{write_set, Chroma, SetFormat, SetSpec, Truth};

/// The same defects: the same photosites, kinds and pixels, and numbers equal up to f32 rounding
/// (each backend folds its own batches of frames into the statistics: the CPU four at a time, the
/// GPU as many as a dispatch takes). A dark-current score is a slope over its error, and the
/// error of a near-perfect fit (dark frames: a score in the hundreds) comes out of f32 sums that
/// cancel to a small fraction of their size, so it is compared to 1 %.
fn same_defects(a: &[Defect], b: &[Defect]) -> bool {
    const DARK_SCORE_TOLERANCE: f32 = 1e-2;
    let within = |x: f32, y: f32, r: f32| (x - y).abs() <= r * x.abs().max(y.abs()).max(1.0);
    let close = |x: f32, y: f32| within(x, y, 1e-4);
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            let score = if a.dark.is_some() {
                DARK_SCORE_TOLERANCE
            } else {
                1e-4
            };
            (a.x, a.y, a.channel, a.kind, &a.pixels) == (b.x, b.y, b.channel, b.kind, &b.pixels)
                && within(a.score, b.score, score)
                && [
                    (a.mean, b.mean),
                    (a.std, b.std),
                    (a.residual, b.residual),
                    (a.residual_std, b.residual_std),
                ]
                .iter()
                .all(|&(x, y)| close(x, y))
        })
}

fn main() {
    let scenes: Vec<std::path::PathBuf> = std::env::var_os("HOTPIXELS_SCENES")
        .map(|d| {
            hotpixels::input::discover::expand_inputs(&[d.to_string_lossy().into_owned()])
                .map(|e| e.files)
                .unwrap_or_default()
        })
        .unwrap_or_default();
    println!(
        "scenes: {}",
        if scenes.is_empty() {
            "procedural".to_string()
        } else {
            format!("{} photos", scenes.len())
        }
    );
    println!(
        "{:>8} {:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11} {:>7} {:>7} {:>9} {:>5}",
        "set",
        "frames",
        "seed",
        "hot",
        "warm",
        "stuck",
        "dead",
        "precision",
        "kind right",
        "exact",
        "placed",
        "gpu",
        "rate"
    );
    let seeds: Vec<u64> = match std::env::var("HOTPIXELS_SEEDS") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("HOTPIXELS_SEEDS: numbers separated by commas")
            })
            .collect(),
        Err(_) => vec![1, 2, 3],
    };
    let sets: [Set; 6] = [
        ("jpeg", SetFormat::Jpeg, false, false, &CONSTANT_FRAMES),
        ("dng", SetFormat::Dng, false, false, &CONSTANT_FRAMES),
        ("dng dark", SetFormat::Dng, true, false, &CONSTANT_FRAMES),
        ("dng exp", SetFormat::Dng, false, true, &[40, 80]),
        ("jpeg exp", SetFormat::Jpeg, false, true, &[60, 120]),
        ("dark exp", SetFormat::Dng, true, true, &[30]),
    ];
    for (label, format, dark, exposures, sizes) in sets {
        let mut named: Named = BTreeMap::new();
        for &frames in sizes {
            for &seed in &seeds {
                let kind = SetKind {
                    format,
                    dark,
                    exposures,
                };
                row(label, &scenes, kind, frames, seed, &mut named);
            }
        }
        print_named(label, &named);
    }
}

/// Frame counts of the sets without exposures.
const CONSTANT_FRAMES: [usize; 3] = [30, 60, 120];

/// A row's label, format, whether dark frames, whether exposed as a library, and frame counts.
type Set = (&'static str, SetFormat, bool, bool, &'static [usize]);

/// How a set's frames are made.
#[derive(Clone, Copy)]
struct SetKind {
    format: SetFormat,
    dark: bool,
    exposures: bool,
}

/// The median ratio of the measured to the planted dark rate over the planted photosites with a
/// rate that a defect with a rate touches; `-` when none.
fn rate_ratio(defects: &[Defect], truth: &Truth) -> String {
    let mut ratios: Vec<f64> = truth
        .defects
        .iter()
        .filter(|t| t.kind == Kind::Hot)
        .filter_map(|t| {
            let planted = t.rate?;
            let d = defects.iter().find(|d| touches(d, t.x, t.y))?;
            Some(d.dark?.dark_rate as f64 / planted)
        })
        .collect();
    if ratios.is_empty() {
        return "-".into();
    }
    ratios.sort_by(f64::total_cmp);
    format!("{:.2}", ratios[ratios.len() / 2])
}

/// For each true kind, the kinds its found defects were named and how many each.
type Named = BTreeMap<Kind, BTreeMap<Kind, usize>>;

/// One line per true kind: `stuck found as: stuck 21, hot 16, warm 3 (52 % right)`.
fn print_named(label: &str, named: &Named) {
    for (truth, names) in named {
        let found: usize = names.values().sum();
        let right = names.get(truth).copied().unwrap_or(0);
        let list: Vec<String> = names.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "{label:>8} {truth:>5} found as: {} ({:.0} % right)",
            list.join(", "),
            100.0 * right as f64 / found.max(1) as f64
        );
    }
}

/// Writes one set, scans it on both backends and prints its row.
fn row(
    label: &str,
    scenes: &[std::path::PathBuf],
    kind: SetKind,
    frames: usize,
    seed: u64,
    named: &mut Named,
) {
    let SetKind {
        format,
        dark,
        exposures,
    } = kind;
    {
        {
            let spec = SetSpec {
                width: 1024,
                height: 768,
                frames,
                format,
                dark,
                dead: if dark { 0 } else { 5 },
                exposures,
                chroma: if exposures {
                    Chroma::Sub422
                } else {
                    Chroma::Sub420
                },
                seed: seed * 1000 + frames as u64,
                scenes: scenes.to_vec(),
                ..Default::default()
            };
            let dir = tempfile::tempdir().expect("temporary folder");
            let truth = write_set(&spec, dir.path()).expect("synthetic set");
            let mut options = ScanOptions {
                backend: BackendChoice::Cpu,
                ..Default::default()
            };
            options.detect.dark = dark;
            let report =
                scan(&[dir.path().display().to_string()], &options, &mut Silent).expect("scan");
            let gpu = ScanOptions {
                backend: BackendChoice::Gpu,
                ..options.clone()
            };
            let same = match scan(&[dir.path().display().to_string()], &gpu, &mut Silent) {
                Ok(g) if same_defects(&g.detection.defects, &report.detection.defects) => "same",
                Ok(_) => "DIFFERS",
                Err(_) => "n/a",
            };
            let q = evaluate(&report.detection.defects, &truth);
            for (kind, recall) in &q.kinds {
                for (name, count) in &recall.named_as {
                    *named.entry(*kind).or_default().entry(*name).or_default() += count;
                }
            }
            let cell = |k: Kind| {
                let r = &q.kinds.iter().find(|(kk, _)| *kk == k).expect("kind").1;
                format!("{}/{}", r.found, r.total)
            };
            let (right, found) = q
                .kinds
                .iter()
                .fold((0, 0), |(a, b), (_, r)| (a + r.named_right, b + r.found));
            // True photosites some reported defect holds (`exact`), or is placed at (`placed`).
            let held = |holds: &dyn Fn(&Defect, u32, u32) -> bool| {
                truth
                    .defects
                    .iter()
                    .filter(|t| report.detection.defects.iter().any(|d| holds(d, t.x, t.y)))
                    .count()
            };
            let exact = held(&|d, x, y| d.pixels.contains(&[x, y]));
            let placed = held(&|d, x, y| (d.x, d.y) == (x, y));
            println!(
                "{:>8} {:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10.3} {:>11} {:>7} {:>7} {:>9} {:>5}",
                label,
                frames,
                spec.seed,
                cell(Kind::Hot),
                cell(Kind::Warm),
                cell(Kind::Stuck),
                cell(Kind::Dead),
                q.precision(),
                format!("{right}/{found}"),
                format!("{exact}/{}", truth.defects.len()),
                format!("{placed}/{}", truth.defects.len()),
                same,
                rate_ratio(&report.detection.defects, &truth)
            );
        }
    }
}
