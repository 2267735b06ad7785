//! hotpixels finds a camera sensor's defective pixels (hot, warm, stuck, dead) from many ordinary
//! photos or dark frames: it streams every frame once through per-subpixel Welford statistics on
//! the GPU or the CPU, then ranks the subpixels that do not change with the scene.
//!
//! The pipeline, module by module:
//! - [`input`]: expand files, folders and globs; read headers; pick the frame shape; decode.
//! - [`stats`]: the [`stats::Accumulator`] trait with its CPU and GPU (WGSL) backends.
//! - [`detect`]: the lowest-`M2` ranking (argmin and top-k), the residual score, clusters, kinds.
//! - [`report`]: the text table, JSON, CSV, the defect map and crops.
//! - [`mod@scan`]: the decode pool and the whole scan; [`demo`] and [`synth`]: the simulated camera.
//! - [`cli`]: the command line, used by the `hotpixels` binary.

pub mod bench;
pub mod cli;
pub mod demo;
pub mod detect;
pub mod input;
pub mod mem;
pub mod report;
pub mod scan;
pub mod stats;
pub mod synth;

pub use input::{Frame, Samples, Shape};
pub use scan::{scan, BackendChoice, ScanOptions, ScanReport};
pub use stats::{Accumulator, CpuAccumulator, GpuAccumulator, GpuContext, Moments};

/// `hotpixels <version>`, as reports name the tool.
pub fn tool_name() -> String {
    format!("hotpixels {}", env!("CARGO_PKG_VERSION"))
}
