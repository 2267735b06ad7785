//! GPU faults on a real device (lavapipe in CI): a device lost in the middle of a scan, statistics
//! that do not fit the adapter's memory, an allocation that fails; what the user is told, and that
//! no counted frame is lost.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use hotpixels::scan::{prepare, Backend, ScanError, ScanObserver, Silent, StateOptions};
use hotpixels::stats::gpu::faults::{allocating, Faults};
use hotpixels::stats::{Accumulator, BackendKind, GpuContext, GpuError, GpuOptions};
use hotpixels::synth::SyntheticSet;
use hotpixels::{BackendChoice, ScanOptions, ScanReport, Shape};

const FRAMES: usize = 12;

/// A fresh context (a test that destroys its device must not share it).
fn context(test: &str) -> Option<GpuContext> {
    common::gpu(test)?;
    Some(GpuContext::open(true).expect("a second context on the adapter that opened"))
}

fn photos(dir: &Path) -> Vec<String> {
    let set = SyntheticSet::new(Shape::new(64, 48, 3, 8).unwrap(), FRAMES, 6, 11);
    set.write_png(dir).unwrap();
    vec![dir.display().to_string()]
}

fn options(state: Option<PathBuf>) -> ScanOptions {
    ScanOptions {
        backend: BackendChoice::Cpu,
        jobs: 2,
        state: state.map(|path| StateOptions {
            path,
            every_frames: 4,
            every: Duration::from_secs(3600),
        }),
        ..Default::default()
    }
}

/// An uninterrupted scan of `inputs` on the CPU: the answer a recovered scan must give.
fn cpu_scan(inputs: &[String]) -> ScanReport {
    prepare(inputs, &options(None), &mut Silent)
        .unwrap()
        .run(&options(None), &mut Silent)
        .unwrap()
}

/// Destroys the device when the scan has taken `at` files: a GPU lost mid-run. Keeps the files
/// reported as failed.
struct LoseDevice {
    device: wgpu::Device,
    at: usize,
    done: bool,
    failed: Vec<PathBuf>,
}

impl LoseDevice {
    fn at(device: wgpu::Device, at: usize) -> Self {
        LoseDevice {
            device,
            at,
            done: false,
            failed: Vec::new(),
        }
    }
}

impl ScanObserver for LoseDevice {
    fn decode_failed(&mut self, error: &hotpixels::input::DecodeError) {
        self.failed.push(error.path().to_path_buf());
    }
    fn progress(&mut self, done: usize, _total: usize, _bytes: u64) {
        if done >= self.at && !self.done {
            self.device.destroy();
            self.done = true;
        }
    }
}

fn positions(r: &ScanReport) -> Vec<(u32, u32, u32)> {
    let mut p: Vec<_> = r
        .detection
        .defects
        .iter()
        .map(|d| (d.x, d.y, d.channel))
        .collect();
    p.sort();
    p
}

#[test]
fn a_lost_device_is_an_error_naming_the_loss_not_a_panic() {
    let Some(ctx) = context("a_lost_device_is_an_error_naming_the_loss_not_a_panic") else {
        return;
    };
    let set = SyntheticSet::new(Shape::new(32, 16, 3, 8).unwrap(), 4, 2, 3);
    let mut acc = ctx.accumulator(set.shape, GpuOptions::default()).unwrap();
    acc.add(set.frame(0)).unwrap();
    ctx.device.destroy();
    let mut failure = None;
    for i in 1..4 {
        if let Err(e) = acc.add(set.frame(i)) {
            failure = Some(e);
            break;
        }
    }
    let err = match failure {
        Some(e) => e,
        None => Box::new(acc).finish().unwrap_err(),
    };
    assert!(
        err.to_string().starts_with("the GPU device was destroyed"),
        "{err}"
    );
    // A new accumulator on the lost device fails the same way.
    let again = ctx.accumulator(set.shape, GpuOptions::default()).err();
    let again = again.expect("no accumulator on a lost device").to_string();
    assert!(again.contains("destroyed"), "{again}");
}

#[test]
fn statistics_larger_than_the_adapters_memory_are_refused_naming_both() {
    let Some(ctx) = common::gpu("statistics_larger_than_the_adapters_memory") else {
        return;
    };
    let available = ctx.memory.expect("Vulkan adapters say how much they have");
    // A shape whose state alone is twice the adapter's memory.
    let per_pixel = 3 * hotpixels::stats::STATE_BYTES_PER_SUBPIXEL;
    let side = ((available as f64 * 2.0 / per_pixel as f64).sqrt() as u32).max(1);
    let huge = Shape::new(side, side, 3, 8).unwrap();
    let err = ctx
        .accumulator(huge, GpuOptions::default())
        .err()
        .expect("refused");
    let GpuError::OutOfMemory {
        needed,
        available: said,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert!(*needed >= huge.subpixels() as u64 * 16, "{err}");
    // Refused before any allocation was tried.
    assert!(err
        .to_string()
        .contains("more than its largest memory heap"));
    assert_eq!(*said, Some(available));
    let text = err.to_string();
    assert!(
        text.contains(&hotpixels::mem::describe_bytes(*needed))
            && text.contains(&format!(
                "has {}",
                hotpixels::mem::describe_bytes(available)
            )),
        "{text}"
    );
}

#[test]
fn a_failed_allocation_is_caught_and_names_what_was_needed() {
    let Some(ctx) = common::gpu("a_failed_allocation_is_caught") else {
        return;
    };
    let device = &ctx.device;
    let too_big = device.limits().max_buffer_size + 4;
    let faults = Faults::default();
    let err = allocating(device, &faults, ctx.memory, too_big, || {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("too big"),
            size: too_big,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    })
    .unwrap_err();
    assert!(matches!(err, GpuError::OutOfMemory { needed, .. } if needed == too_big));
    // A buffer that fits is made, and the device goes on working.
    let fine = allocating(device, &faults, ctx.memory, 1024, || {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("fits"),
            size: 1024,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    });
    assert!(fine.is_ok());
}

#[test]
fn auto_hands_a_lost_gpu_over_to_the_cpu_which_counts_every_frame() {
    let Some(ctx) = context("auto_hands_a_lost_gpu_over_to_the_cpu") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inputs = photos(dir.path());
    // A file that fails to decode (its header is whole, its data cut) before the device is lost,
    // so the CPU meets it again.
    let broken = dir.path().join("frame_0002_broken.png");
    let whole = std::fs::read(dir.path().join("frame_0002.png")).unwrap();
    std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
    let cpu = cpu_scan(&inputs);

    let device = ctx.device.clone();
    let mut backend = Backend::on_gpu(ctx, GpuOptions::default(), true);
    let mut lose = LoseDevice::at(device, 5);
    let report = prepare(&inputs, &options(None), &mut Silent)
        .unwrap()
        .run_on(&mut backend, &options(None), &mut lose)
        .unwrap();
    assert!(lose.done, "the device was destroyed during the scan");
    assert!(backend.gpu().is_none(), "the GPU is no longer used");
    assert_eq!(
        lose.failed,
        vec![broken],
        "the broken file is reported once"
    );
    assert_eq!(report.failed, 1);
    assert_eq!(report.frames_used, FRAMES);
    assert_eq!(report.moments.n as usize, FRAMES);
    assert_eq!(report.backend.kind, BackendKind::Cpu);
    let notes: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| w.contains("the GPU could not run the statistics"))
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", report.warnings);
    assert!(notes[0].contains("destroyed"), "{}", notes[0]);
    assert_eq!(report.moments.mean, cpu.moments.mean);
    assert_eq!(report.moments.m2, cpu.moments.m2);
    assert_eq!(positions(&report), positions(&cpu));
    assert!(!positions(&cpu).is_empty());
}

#[test]
fn a_lost_gpu_with_a_state_file_keeps_every_checkpointed_frame() {
    let Some(ctx) = context("a_lost_gpu_with_a_state_file_keeps_every_checkpointed_frame") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inputs = photos(dir.path());
    let whole = cpu_scan(&inputs);

    let out = tempfile::tempdir().unwrap();
    let state = out.path().join("scan.state");
    let device = ctx.device.clone();
    let mut backend = Backend::on_gpu(ctx, GpuOptions::default(), false);
    let mut lose = LoseDevice::at(device, 6);
    let with_state = options(Some(state.clone()));
    let err = prepare(&inputs, &with_state, &mut Silent)
        .unwrap()
        .run_on(&mut backend, &with_state, &mut lose)
        .unwrap_err();
    let ScanError::Failed { frames, .. } = &err else {
        panic!("{err}");
    };
    // The first stretch of four frames was checkpointed before the device was lost.
    assert_eq!(*frames, 4);
    let text = err.to_string();
    assert!(
        text.starts_with("the GPU device was destroyed")
            && text.contains(&format!("{} keeps the 4 frames", state.display())),
        "{text}"
    );
    assert_eq!(hotpixels::stats::state::read(&state).unwrap().moments.n, 4);

    // The same command again (on the CPU) goes on from the checkpoint.
    let resumed = prepare(&inputs, &with_state, &mut Silent)
        .unwrap()
        .run(&with_state, &mut Silent)
        .unwrap();
    assert_eq!(resumed.moments.n as usize, FRAMES);
    assert_eq!(resumed.files.len(), FRAMES);
    assert_eq!(positions(&resumed), positions(&whole));
    for (a, b) in resumed.moments.mean.iter().zip(&whole.moments.mean) {
        assert!((a - b).abs() <= 1e-3 * b.abs().max(1.0), "{a} vs {b}");
    }
}
