//! hotpixels finds a camera sensor's defective pixels (hot, warm, stuck, dead) from many ordinary
//! photos or dark frames: it streams every frame once through per-subpixel Welford statistics on
//! the GPU or the CPU, then finds the subpixels that do not follow the scene.
//!
//! The library is the product; the `hotpixels` command line is a thin front end over it (behind
//! the default `cli` feature, which alone brings in clap and indicatif). The pipeline, module by
//! module, each using only those above it:
//! - [`input`]: expand files, folders and globs; read headers and EXIF; pick the frame shape;
//!   decode images and camera RAW files.
//! - [`geometry`]: where a subpixel's same-colour neighbours are, for every backend and detector.
//! - [`stats`]: the [`Moments`] state, the [`Accumulator`] trait, its CPU and GPU (WGSL) backends,
//!   and the state file a scan checkpoints to and shards merge through ([`stats::state`]).
//! - [`detect`]: the lowest-`M2` ranking (argmin and top-k), the residual score, clusters, kinds,
//!   the timeline.
//! - [`model`]: what a scan found ([`ScanReport`]), the data every writer reads.
//! - [`report`]: one [`report::Exporter`] per output format (text, JSON, CSV, map, crops) and the
//!   defect lists other tools read (dcraw, RawTherapee, Siril, CSV, mask).
//! - [`repair`]: corrected copies of images, defect pixels replaced from clean neighbours.
//! - [`mod@scan`]: the pipeline: groups, checks, the decoder pool feeding an accumulator,
//!   checkpoints, the report's assembly.
//! - [`atomic`] and [`mem`]: files written whole or not at all; memory available and allocated.
//! - `synth` (feature `synth`, on by default): the simulated camera for tests, benches and `demo`.

pub mod atomic;
pub mod detect;
pub mod geometry;
pub mod input;
pub mod mem;
pub mod model;
pub mod repair;
pub mod report;
pub mod scan;
pub mod stats;
#[cfg(feature = "synth")]
pub mod synth;

pub use input::{Frame, Samples, Shape};
pub use scan::{scan, BackendChoice, ScanOptions, ScanReport};
pub use stats::{Accumulator, CpuAccumulator, GpuAccumulator, GpuContext, Moments};

/// `hotpixels <version>`, as reports name the tool.
pub fn tool_name() -> String {
    format!("hotpixels {}", env!("CARGO_PKG_VERSION"))
}
