//! hotpixels finds a camera sensor's defective pixels (hot, warm, stuck, dead) from many ordinary
//! photos or dark frames: it streams every frame once through per-subpixel Welford statistics on
//! the GPU or the CPU, then finds the subpixels that do not follow the scene.
//!
//! The library is the product; the `hotpixels` command line is a thin front end over it (behind
//! the default `cli` feature, which alone brings in clap and indicatif). The pipeline, module by
//! module:
//! - [`input`]: expand files, folders and globs; read headers; pick the frame shape; decode.
//! - [`geometry`]: where a subpixel's same-colour neighbours are, for every backend and detector.
//! - [`stats`]: the [`Moments`] state, the [`Accumulator`] trait, its CPU and GPU (WGSL) backends.
//! - [`detect`]: the lowest-`M2` ranking (argmin and top-k), the residual score, clusters, kinds.
//! - [`report`]: one [`report::Exporter`] per output format (text, JSON, CSV, map, crops) and the
//!   defect lists other tools read (dcraw, RawTherapee, Siril, CSV, mask).
//! - [`repair`]: corrected copies of images, defect pixels replaced from clean neighbours.
//! - [`mod@scan`]: the pipeline: discovery, the decoder pool feeding an accumulator, detection.
//! - [`state`]: the state file a scan checkpoints to, resumes from, and shards merge through.
//! - `synth` (feature `synth`, on by default): the simulated camera for tests, benches and `demo`.

pub mod detect;
pub mod geometry;
pub mod input;
pub mod mem;
pub mod repair;
pub mod report;
pub mod scan;
pub mod state;
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
