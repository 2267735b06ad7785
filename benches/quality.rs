//! Detection quality: synthetic sets of 30, 60 and 120 frames (JPEG 4:2:0, quality 85–92, bursts,
//! 15 % underexposed) are written by the simulated camera, scanned, and scored against their
//! truth — recall per kind, precision, and how often the kind was named right.
//!
//! `cargo bench --bench quality` uses procedural scenes; with `HOTPIXELS_SCENES=DIR` the scenes
//! are crops of the photos in DIR. Each set is scanned on the CPU and, when a GPU adapter opens
//! (software ones included), on the GPU too; the last column says whether both reported the same
//! defects.

use hotpixels::detect::Kind;
use hotpixels::scan::{scan, BackendChoice, ScanOptions, Silent};
use hotpixels::synth::eval::evaluate;
use hotpixels::synth::sensor::{write_set, SetSpec};

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
        "{:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10} {:>11} {:>9}",
        "frames", "seed", "hot", "warm", "stuck", "dead", "precision", "kind right", "gpu"
    );
    for frames in [30usize, 60, 120] {
        for seed in [1u64, 2, 3] {
            let spec = SetSpec {
                width: 1024,
                height: 768,
                frames,
                seed: seed * 1000 + frames as u64,
                scenes: scenes.clone(),
                ..Default::default()
            };
            let dir = tempfile::tempdir().expect("temporary folder");
            let truth = write_set(&spec, dir.path()).expect("synthetic set");
            let options = ScanOptions {
                backend: BackendChoice::Cpu,
                ..Default::default()
            };
            let report =
                scan(&[dir.path().display().to_string()], &options, &mut Silent).expect("scan");
            let gpu = ScanOptions {
                backend: BackendChoice::Gpu,
                ..Default::default()
            };
            let same = match scan(&[dir.path().display().to_string()], &gpu, &mut Silent) {
                Ok(g) if g.detection.defects == report.detection.defects => "same",
                Ok(_) => "DIFFERS",
                Err(_) => "n/a",
            };
            let q = evaluate(&report.detection.defects, &truth);
            let cell = |k: Kind| {
                let r = &q.kinds.iter().find(|(kk, _)| *kk == k).expect("kind").1;
                format!("{}/{}", r.found, r.total)
            };
            let (right, found) = q
                .kinds
                .iter()
                .fold((0, 0), |(a, b), (_, r)| (a + r.named_right, b + r.found));
            println!(
                "{:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>10.3} {:>11} {:>9}",
                frames,
                spec.seed,
                cell(Kind::Hot),
                cell(Kind::Warm),
                cell(Kind::Stuck),
                cell(Kind::Dead),
                q.precision(),
                format!("{right}/{found}"),
                same
            );
        }
    }
}
