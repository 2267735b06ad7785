//! The GPU backend: [`GpuContext`] opens the adapter and device once per run, [`plan`] splits a
//! frame shape into tiles and batches that fit the device's limits (pure, unit-tested), and
//! [`GpuAccumulator`] uploads packed frames and runs `shaders/welford.wgsl` over the tiles.

mod accumulator;
mod context;
mod dark;
pub mod faults;
pub mod plan;

pub use accumulator::{shader_source, GpuAccumulator};
pub use context::{
    adapters, backends, driver_string, is_software, quiet_headless_vulkan, GpuContext,
};
pub use plan::{plan_tiles, DeviceLimits, TilePlan, TileSpec};

/// Threads per workgroup (the shader's `@workgroup_size`, given to it by [`shader_source`]).
pub const WORKGROUP_SIZE: u32 = 256;
/// Consecutive subpixels one shader invocation updates: one `vec4` of each state array.
pub const SUBPIXELS_PER_INVOCATION: u32 = 4;
/// Consecutive positions (pixels, RAW photosites) one invocation of the dark-current pass
/// updates: one `vec4` of each of its arrays.
pub const DARK_POSITIONS_PER_INVOCATION: u32 = 4;
/// The most channels a position has in the dark-current pass (its per-channel sums are arrays).
pub const MAX_DARK_CHANNELS: u32 = 4;
/// Frames applied per dispatch at most: more brings no speed and costs staging memory.
pub const MAX_BATCH_FRAMES: usize = 16;
// A dispatch's batch sums must stay exact (`crate::stats::batch`).
const _: () = assert!(MAX_BATCH_FRAMES <= crate::stats::batch::MAX_BATCH);
/// Bytes one staging slot may take when the batch size is chosen automatically.
pub const DEFAULT_STAGING_BUDGET: usize = 256 << 20;

/// Errors of the GPU backend, each one line.
#[derive(Clone, Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter fits the request.
    #[error("no GPU adapter found{0}")]
    NoAdapter(String),
    /// The adapter refused to open a device.
    #[error("cannot open a device on {adapter}: {reason}")]
    Device {
        /// The adapter's name.
        adapter: String,
        /// Its reason.
        reason: String,
    },
    /// The frame shape cannot be split into tiles this adapter can bind.
    #[error("frame too large for this GPU: {0}")]
    TooLarge(String),
    /// Mapping, polling or another device operation failed.
    #[error("GPU operation failed: {0}")]
    Operation(String),
    /// The statistics do not fit the adapter's memory: an allocation failed, or would.
    #[error(
        "the statistics need {} of GPU memory and {adapter} {}: {reason}",
        crate::mem::describe_bytes(*needed),
        available.map_or("does not say how much it has".to_string(),
            |a| format!("has {}", crate::mem::describe_bytes(a)))
    )]
    OutOfMemory {
        /// The adapter's name.
        adapter: String,
        /// Bytes of device memory the accumulator allocates.
        needed: u64,
        /// Bytes of the adapter's largest device-local memory heap, where the backend tells.
        available: Option<u64>,
        /// What the driver or the check said.
        reason: String,
    },
    /// The device was lost (a driver reset, a removed GPU, a destroyed device).
    #[error("the GPU device was {0}")]
    Lost(String),
}

/// Tuning of the GPU backend; the defaults suit every adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuOptions {
    /// Largest tile in subpixels (the device's binding limit always applies too). Tests force
    /// small tiles with it.
    pub max_tile_subpixels: Option<usize>,
    /// Frames per dispatch (1 to [`MAX_BATCH_FRAMES`]); `None` picks from `staging_budget`.
    pub batch_frames: Option<usize>,
    /// Bytes one staging slot may take when choosing the batch size.
    pub staging_budget: usize,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            max_tile_subpixels: None,
            batch_frames: None,
            staging_budget: DEFAULT_STAGING_BUDGET,
        }
    }
}
