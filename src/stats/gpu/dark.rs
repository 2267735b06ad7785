//! The GPU side of the dark-current statistics ([`crate::stats::dark`]): per tile, the positions'
//! sums and clipped counts in storage buffers and the `dark` entry point of
//! `shaders/welford.wgsl` that adds each batch to them, given the batch's frame weights.

use super::plan::TileSpec;
use super::{DARK_POSITIONS_PER_INVOCATION, MAX_BATCH_FRAMES, WORKGROUP_SIZE};
use crate::stats::dark::{DARK_SUMS, DARK_SUM_NAMES, LINEAR_DARK_SUMS};
use crate::stats::{DarkMoments, DarkSetup, FrameWeights, STATE_VALUE_BYTES};

/// The buffers of the dark pass, per position, in the order of the shader's bindings from 8: the
/// sums ([`DARK_SUM_NAMES`]), then the clipped frames (f32 each: exact counts to 2²⁴).
pub(super) const DARK_ARRAYS: usize = DARK_SUMS + 1;
/// Their labels.
const DARK_LABELS: [&str; DARK_ARRAYS] = {
    let mut labels = ["dark_clipped"; DARK_ARRAYS];
    let mut k = 0;
    while k < DARK_SUMS {
        labels[k] = DARK_SUM_NAMES[k];
        k += 1;
    }
    labels
};
/// The shader's binding of [`DarkParams`]; the arrays follow it.
const PARAMS_BINDING: u32 = 7;

/// The dark pass's uniforms (`DarkParams` in the shader).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DarkParams {
    clip: u32,
    mask: u32,
    positions: u32,
    row_threads: u32,
    /// Bit f: frame f may be counted as clipped.
    clips: u32,
    /// A residual below minus this counts as minus this.
    floor: f32,
    /// 1: the residual is read through the table (sRGB samples); 0: it is half the doubled one.
    table: u32,
    /// Where the table's entries for sums of two samples start (the largest sample plus one).
    middle: u32,
    /// Each frame's weight in each sum: `weights[k][f]`.
    weights: [[f32; MAX_BATCH_FRAMES]; DARK_SUMS],
}

/// Positions of a tile, and the bytes of one of its dark arrays (padded to whole invocations).
pub(super) fn tile_positions(spec: &TileSpec, channels: u32) -> (usize, u64) {
    let positions = spec.len / channels as usize;
    let padded = positions.div_ceil(DARK_POSITIONS_PER_INVOCATION as usize)
        * DARK_POSITIONS_PER_INVOCATION as usize;
    (positions, padded as u64 * STATE_VALUE_BYTES)
}

/// One tile's dark-pass buffers and bind group.
pub(super) struct DarkTile {
    arrays: [wgpu::Buffer; DARK_ARRAYS],
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    positions: usize,
    groups: (u32, u32),
}

/// The dark pass of an accumulator: its pipeline, its setup and residual table, the exposures
/// counted, and the weights of the frames of the batch being written.
pub(super) struct DarkPass {
    pipeline: wgpu::ComputePipeline,
    pub setup: DarkSetup,
    /// The table ([`crate::stats::dark::DarkTable`]: values, then sums of two), or one unread
    /// word for linear samples.
    table: wgpu::Buffer,
    /// Where the table's sums of two start, when there is a table.
    table_middle: Option<u32>,
    pub exposures: Vec<f32>,
    pub misfit_weights: Vec<f32>,
    weights: Vec<Option<FrameWeights>>,
}

impl DarkPass {
    /// The pass's pipeline on `module`'s `dark` entry point, for samples of at most `max`.
    pub fn new(
        device: &wgpu::Device,
        module: &wgpu::ShaderModule,
        setup: DarkSetup,
        max: u32,
    ) -> Self {
        use wgpu::util::DeviceExt;
        let table = setup.table(max);
        let words: Vec<f32> = match &table {
            Some(t) => [t.value.as_slice(), t.middle.as_slice()].concat(),
            None => vec![0.0],
        };
        let table_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dark table"),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("dark"),
            layout: None,
            module,
            entry_point: Some("dark"),
            compilation_options: Default::default(),
            cache: None,
        });
        DarkPass {
            pipeline,
            setup,
            table: table_buffer,
            table_middle: table.map(|t| t.value.len() as u32),
            exposures: Vec::new(),
            misfit_weights: Vec::new(),
            weights: Vec::with_capacity(MAX_BATCH_FRAMES),
        }
    }

    /// The buffers of tile `spec` (its main uniforms `params` and upload `batch` shared with the
    /// main pass), zeroed.
    pub fn tile(
        &self,
        device: &wgpu::Device,
        spec: &TileSpec,
        channels: u32,
        (max_groups, params, batch): (u32, &wgpu::Buffer, &wgpu::Buffer),
    ) -> DarkTile {
        let (positions, bytes) = tile_positions(spec, channels);
        let arrays = DARK_LABELS.map(|label| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes.max(STATE_VALUE_BYTES),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("dark params"),
            size: std::mem::size_of::<DarkParams>() as u64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let invocations = positions.div_ceil(DARK_POSITIONS_PER_INVOCATION as usize) as u64;
        let workgroups = invocations.div_ceil(WORKGROUP_SIZE as u64).max(1) as u32;
        let gx = workgroups.min(max_groups);
        let groups = (gx, workgroups.div_ceil(gx.max(1)));
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: params.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: batch.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: PARAMS_BINDING,
                resource: uniforms.as_entire_binding(),
            },
        ];
        entries.extend(
            arrays
                .iter()
                .enumerate()
                .map(|(k, b)| wgpu::BindGroupEntry {
                    binding: PARAMS_BINDING + 1 + k as u32,
                    resource: b.as_entire_binding(),
                }),
        );
        entries.push(wgpu::BindGroupEntry {
            binding: PARAMS_BINDING + 1 + DARK_ARRAYS as u32,
            resource: self.table.as_entire_binding(),
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("dark tile"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        DarkTile {
            arrays,
            params: uniforms,
            bind_group,
            positions,
            groups,
        }
    }

    /// A frame of the batch being written, with its exposure (`None`: it adds nothing); its
    /// exposure joins the state's.
    pub fn frame(&mut self, exposure: Option<f32>) {
        self.weights.push(exposure.map(|e| {
            let weights = self.setup.weights(e);
            self.exposures.push(e);
            self.misfit_weights.push(weights.squares);
            weights
        }));
    }

    /// Writes the batch's weights to every tile and records the pass after the main one; false
    /// (nothing recorded) when no frame of the batch has an exposure. The batch is then over.
    pub fn dispatch(
        &mut self,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        tiles: &[&DarkTile],
    ) -> bool {
        let weights = std::mem::take(&mut self.weights);
        if weights.iter().all(Option::is_none) {
            return false;
        }
        let mut params = DarkParams {
            clip: self.setup.clip,
            mask: 0,
            positions: 0,
            row_threads: 0,
            clips: 0,
            floor: self.setup.floor(),
            table: self.table_middle.is_some() as u32,
            middle: self.table_middle.unwrap_or(0),
            weights: [[0.0; MAX_BATCH_FRAMES]; DARK_SUMS],
        };
        for (f, w) in weights.iter().enumerate() {
            if let Some(w) = w {
                params.mask |= 1 << f;
                params.clips |= (w.clips as u32) << f;
                for (k, &weight) in w.linear.iter().enumerate() {
                    params.weights[k][f] = weight;
                }
                params.weights[LINEAR_DARK_SUMS][f] = w.squares;
            }
        }
        for tile in tiles {
            params.positions = tile.positions as u32;
            params.row_threads = tile.groups.0 * WORKGROUP_SIZE;
            queue.write_buffer(&tile.params, 0, bytemuck::bytes_of(&params));
        }
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("dark"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        for tile in tiles {
            pass.set_bind_group(0, &tile.bind_group, &[]);
            pass.dispatch_workgroups(tile.groups.0, tile.groups.1, 1);
        }
        true
    }
}

impl DarkTile {
    /// The tile's buffers in the order of [`DARK_ARRAYS`], with the positions they hold.
    pub fn arrays(&self) -> (&[wgpu::Buffer; DARK_ARRAYS], usize) {
        (&self.arrays, self.positions)
    }
}

/// Copies one tile's read-back dark array `k` (`values`, f32 per position) into `dark` from
/// position `first`: the sums as they are, the clipped counts stopping at their largest value.
pub(super) fn take_array(dark: &mut DarkMoments, k: usize, first: usize, values: &[f32]) {
    let range = first..first + values.len();
    if k < DARK_SUMS {
        dark.sums[k][range].copy_from_slice(values);
    } else {
        for (out, &v) in dark.clipped[range].iter_mut().zip(values) {
            *out = v.min(crate::stats::Count::MAX as f32) as crate::stats::Count;
        }
    }
}
