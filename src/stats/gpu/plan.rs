//! The tile planner: from the device's limits, a frame shape and the options to the tiles the
//! state is split into (bands of whole rows, each uploaded with a halo of neighbour rows) and the
//! frames per batch. Pure arithmetic, no device: the accumulator follows the plan, and tests ask it
//! where the tile borders are.

use super::{GpuError, GpuOptions, MAX_BATCH_FRAMES, SUBPIXELS_PER_INVOCATION, WORKGROUP_SIZE};
use crate::geometry::NEIGHBOUR_DISTANCE;
use crate::input::Shape;
use crate::stats::STATE_VALUE_BYTES;

/// Offsets of bindings and copies are kept at this alignment (the largest
/// `min_storage_buffer_offset_alignment` wgpu allows).
pub const ALIGN: u64 = 256;
/// Rows uploaded above and below a tile: the neighbour distance of the residual.
pub const HALO_ROWS: usize = NEIGHBOUR_DISTANCE;
/// State buffers per tile: the f32 arrays of [`crate::stats::Moments`] and its frames-below
/// count (an f32 on the GPU, exact to 2²⁴).
pub const STATE_BUFFERS: u64 = crate::stats::STATE_ARRAYS as u64 + 1;
/// Staging slots in the upload ring: one filled by the CPU while the other is in flight.
pub const RING: usize = 2;

/// The device limits the plan depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceLimits {
    /// The largest storage binding (the smaller of `max_storage_buffer_binding_size` and
    /// `max_buffer_size`).
    pub max_binding: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_workgroups_per_dimension: u32,
}

impl DeviceLimits {
    /// The limits of an open device.
    pub fn of(device: &wgpu::Device) -> Self {
        let l = device.limits();
        DeviceLimits {
            max_binding: l.max_storage_buffer_binding_size.min(l.max_buffer_size),
            max_workgroups_per_dimension: l.max_compute_workgroups_per_dimension.max(1),
        }
    }
}

/// One tile: a band of whole rows of the state, and what is uploaded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileSpec {
    /// The band's first row.
    pub first_row: usize,
    /// Rows in the band.
    pub rows: usize,
    /// Index of the band's first subpixel.
    pub start: usize,
    /// Subpixels in the band.
    pub len: usize,
    /// The first row uploaded (the band's first row minus the halo above, at the frame's edge 0).
    pub halo_row: usize,
    /// First subpixel uploaded per frame.
    pub upload_start: usize,
    /// Subpixels uploaded per frame: the band and its halo above and below.
    pub upload_len: usize,
    /// Bytes between frames in the batch buffer (the uploaded samples, padded to [`ALIGN`]).
    pub stride: u64,
    /// Where the tile's batch region starts in a staging slot.
    pub staging_offset: u64,
    /// Bytes of each state array (padded to whole invocations).
    pub state_bytes: u64,
    /// Workgroups dispatched in x and y.
    pub groups: (u32, u32),
}

/// The whole plan: the tiles in row order and the frames per batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TilePlan {
    /// Frames applied per dispatch.
    pub batch: usize,
    /// The tiles, top to bottom; together they cover every row once.
    pub tiles: Vec<TileSpec>,
    /// Bytes of one staging slot (every tile's batch region).
    pub staging_bytes: u64,
    /// Bytes of the dark-current buffers of every tile (0 without them).
    pub dark_bytes: u64,
    /// The value means are kept relative to each subpixel's first value
    /// ([`crate::stats::batch::value_shift`]): one more state buffer per tile.
    pub shift: bool,
}

impl TilePlan {
    /// The rows where a tile starts, after the first tile: where the halo matters.
    pub fn borders(&self) -> Vec<usize> {
        self.tiles.iter().skip(1).map(|t| t.first_row).collect()
    }

    /// Bytes of device memory an accumulator following the plan allocates: every tile's state
    /// arrays and batch buffer, and the staging ring.
    pub fn device_bytes(&self) -> u64 {
        let tiles: u64 = self
            .tiles
            .iter()
            .map(|t| {
                (STATE_BUFFERS + self.shift as u64) * t.state_bytes + t.stride * self.batch as u64
            })
            .sum();
        tiles + RING as u64 * self.staging_bytes + self.dark_bytes
    }
}

fn round_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// Plans tiles and batches for frames of `shape` on a device with `limits`.
///
/// The batch is `options.batch_frames`, or as many frames as fit `options.staging_budget`, within
/// 1 to [`MAX_BATCH_FRAMES`]. A tile is the most whole rows whose state arrays, and whose batch
/// region (the rows, their halo and the alignment padding, times the batch), fit one binding, and
/// no more than `options.max_tile_subpixels` allows. With `dark`, each tile also has the buffers of
/// the dark-current statistics. Fails when not even one row fits.
pub fn plan_tiles(
    limits: DeviceLimits,
    shape: Shape,
    options: GpuOptions,
    dark: bool,
) -> Result<TilePlan, GpuError> {
    let bps = shape.bytes_per_sample() as u64;
    let batch = options
        .batch_frames
        .unwrap_or_else(|| options.staging_budget / shape.frame_bytes().max(1))
        .clamp(1, MAX_BATCH_FRAMES);
    let row = shape.width as usize * shape.channels as usize;
    let height = shape.height as usize;
    let max_bind = limits.max_binding;

    let state_rows = (max_bind / STATE_VALUE_BYTES) as usize / row;
    let batch_rows = ((max_bind / batch as u64).saturating_sub(ALIGN) / bps) as usize / row;
    let mut tile_rows = state_rows.min(batch_rows.saturating_sub(2 * HALO_ROWS));
    if let Some(t) = options.max_tile_subpixels {
        tile_rows = tile_rows.min((t / row).max(1));
    }
    if tile_rows == 0 {
        return Err(GpuError::TooLarge(format!(
            "a row of {} ({} subpixels) with its halo does not fit the adapter's {} MiB storage \
             binding at {batch} frame(s) per batch",
            shape.describe(),
            row,
            max_bind >> 20
        )));
    }
    let tile_rows = tile_rows.min(height);

    let per_invocation = SUBPIXELS_PER_INVOCATION as u64;
    let mut tiles = Vec::new();
    let mut staging_offset = 0u64;
    let mut first_row = 0usize;
    while first_row < height {
        let rows = tile_rows.min(height - first_row);
        let (start, len) = (first_row * row, rows * row);
        let halo_row = first_row.saturating_sub(HALO_ROWS);
        let end_row = (first_row + rows + HALO_ROWS).min(height);
        let (upload_start, upload_len) = (halo_row * row, (end_row - halo_row) * row);
        let stride = round_up(upload_len as u64 * bps, ALIGN);
        let invocations = (len as u64).div_ceil(per_invocation);
        let workgroups = invocations.div_ceil(WORKGROUP_SIZE as u64) as u32;
        let gx = workgroups.min(limits.max_workgroups_per_dimension);
        let gy = workgroups.div_ceil(gx.max(1));
        tiles.push(TileSpec {
            first_row,
            rows,
            start,
            len,
            halo_row,
            upload_start,
            upload_len,
            stride,
            staging_offset,
            state_bytes: invocations * per_invocation * STATE_VALUE_BYTES,
            groups: (gx, gy),
        });
        staging_offset += stride * batch as u64;
        first_row += rows;
    }
    let dark_bytes = if dark {
        tiles
            .iter()
            .map(|t| {
                super::dark::DARK_ARRAYS as u64 * super::dark::tile_positions(t, shape.channels).1
            })
            .sum()
    } else {
        0
    };
    Ok(TilePlan {
        batch,
        tiles,
        staging_bytes: staging_offset,
        dark_bytes,
        shift: crate::stats::batch::value_shift(shape, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lavapipe's limits: 128 MiB per binding, 65535 workgroups per dimension.
    const LAVAPIPE: DeviceLimits = DeviceLimits {
        max_binding: 128 << 20,
        max_workgroups_per_dimension: 65535,
    };

    fn shape(w: u32, h: u32, c: u32, bits: u32) -> Shape {
        Shape::new(w, h, c, bits).unwrap()
    }

    /// Every plan must cover each row exactly once, keep every binding within the limit and
    /// upload each band with its halo.
    fn check(plan: &TilePlan, s: Shape, limits: DeviceLimits) {
        let row = (s.width * s.channels) as usize;
        let bps = s.bytes_per_sample() as u64;
        let mut next = 0;
        let mut offset = 0;
        for t in &plan.tiles {
            assert_eq!(t.first_row, next, "tiles are contiguous");
            assert_eq!((t.start, t.len), (t.first_row * row, t.rows * row));
            assert!(t.state_bytes <= limits.max_binding, "state fits a binding");
            assert!(t.state_bytes >= t.len as u64 * 4);
            assert!(
                t.stride * plan.batch as u64 <= limits.max_binding,
                "batch fits"
            );
            assert!(t.stride >= t.upload_len as u64 * bps && t.stride % ALIGN == 0);
            assert_eq!(t.halo_row, t.first_row.saturating_sub(HALO_ROWS));
            let end = (t.first_row + t.rows + HALO_ROWS).min(s.height as usize);
            assert_eq!(t.upload_len, (end - t.halo_row) * row);
            assert_eq!(t.staging_offset, offset, "staging regions do not overlap");
            offset += t.stride * plan.batch as u64;
            let invocations = t.groups.0 as u64 * t.groups.1 as u64 * WORKGROUP_SIZE as u64;
            assert!(invocations * SUBPIXELS_PER_INVOCATION as u64 >= t.len as u64);
            assert!(t.groups.0 <= limits.max_workgroups_per_dimension);
            next += t.rows;
        }
        assert_eq!(next, s.height as usize, "every row is covered");
        assert_eq!(plan.staging_bytes, offset);
        assert_eq!(plan.borders().len(), plan.tiles.len() - 1);
    }

    #[test]
    fn a_24mp_rgb_frame_is_tiled_under_lavapipes_binding_limit() {
        let s = shape(6000, 4000, 3, 8);
        let plan = plan_tiles(LAVAPIPE, s, GpuOptions::default(), false).unwrap();
        check(&plan, s, LAVAPIPE);
        // 288 MB per state array needs at least three 128 MiB bindings.
        assert!(plan.tiles.len() >= 3, "{} tiles", plan.tiles.len());
        // 72 MB frames: the 256 MiB staging budget holds three.
        assert_eq!(plan.batch, 3);
        // The state limits the rows: 128 MiB of f32 over rows of 18 000 subpixels.
        assert_eq!(plan.tiles[0].rows, (128 << 20) / 4 / 18_000);
        assert_eq!(plan.borders(), [1864, 3728]);
        // Device memory: five state arrays of 288 MB, a batch buffer of three 72 MB frames (and
        // their halo rows), and two staging slots of the same three frames.
        let bytes = plan.device_bytes();
        assert!((2_085_000_000..2_095_000_000).contains(&bytes), "{bytes}");
    }

    #[test]
    fn small_tiles_batches_and_the_last_partial_tile() {
        let s = shape(61, 23, 3, 16);
        let options = GpuOptions {
            max_tile_subpixels: Some(1024),
            batch_frames: Some(3),
            ..Default::default()
        };
        let plan = plan_tiles(LAVAPIPE, s, options, false).unwrap();
        check(&plan, s, LAVAPIPE);
        assert_eq!(plan.batch, 3);
        // 1024 / 183 = 5 rows a tile: 5 tiles, the last of 3 rows.
        assert_eq!(plan.tiles.len(), 5);
        assert_eq!(plan.tiles[4].rows, 3);
        assert_eq!(plan.borders(), [5, 10, 15, 20]);
        assert_eq!(plan.tiles[1].halo_row, 3);
        assert_eq!(plan.tiles[0].halo_row, 0);
    }

    #[test]
    fn batch_is_clamped_and_a_tile_below_one_row_takes_one_row() {
        let s = shape(10, 4, 1, 8);
        let many = GpuOptions {
            batch_frames: Some(1000),
            max_tile_subpixels: Some(3),
            ..Default::default()
        };
        let plan = plan_tiles(LAVAPIPE, s, many, false).unwrap();
        check(&plan, s, LAVAPIPE);
        assert_eq!(plan.batch, MAX_BATCH_FRAMES);
        assert_eq!(plan.tiles.len(), 4);
        let none = GpuOptions {
            batch_frames: Some(0),
            ..Default::default()
        };
        assert_eq!(plan_tiles(LAVAPIPE, s, none, false).unwrap().batch, 1);
    }

    #[test]
    fn workgroups_wrap_into_a_second_dimension() {
        let small = DeviceLimits {
            max_binding: 1 << 30,
            max_workgroups_per_dimension: 7,
        };
        let s = shape(1000, 20, 1, 8);
        let plan = plan_tiles(small, s, GpuOptions::default(), false).unwrap();
        check(&plan, s, small);
        // 20 000 subpixels: 5 000 invocations, 20 workgroups as 7 × 3.
        assert_eq!(plan.tiles[0].groups, (7, 3));
    }

    #[test]
    fn a_row_wider_than_a_binding_is_refused() {
        let tiny = DeviceLimits {
            max_binding: 4096,
            max_workgroups_per_dimension: 65535,
        };
        let err =
            plan_tiles(tiny, shape(2000, 10, 3, 8), GpuOptions::default(), false).unwrap_err();
        assert!(err.to_string().contains("does not fit"), "{err}");
    }
}
