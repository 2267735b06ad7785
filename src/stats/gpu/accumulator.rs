//! The GPU accumulator: packed frames are written into a ring of mapped staging buffers, copied to
//! each tile's batch buffer, and `shaders/welford.wgsl` folds each batch into the tile's
//! mean and `M2` storage buffers (values and neighbour residuals), a batch of frames per dispatch,
//! following the [`TilePlan`]. The frame count is one number for every subpixel, passed in the
//! uniforms.

use std::mem::offset_of;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::dark::{take_array, DarkPass, DarkTile};
use super::faults::{allocating, out_of_memory, Faults};
use super::plan::{plan_tiles, DeviceLimits, TilePlan, RING};
use super::{
    GpuError, GpuOptions, DARK_POSITIONS_PER_INVOCATION, MAX_BATCH_FRAMES, MAX_DARK_CHANNELS,
    SUBPIXELS_PER_INVOCATION, WORKGROUP_SIZE,
};
use crate::geometry::NEIGHBOUR_DISTANCE;
use crate::input::{Frame, Samples, Shape};
use crate::stats::batch::{HIGH_WORD, RESIDUAL_SCALE};
use crate::stats::{
    check_shape, Accumulator, BackendInfo, BackendKind, Count, DarkSetup, Moments, StatsError,
    STATE_ARRAYS, STATE_ORDER, STATE_VALUE_BYTES,
};

/// The shader's source: the constants it shares with Rust, then `shaders/welford.wgsl`.
pub fn shader_source() -> String {
    use crate::stats::dark::{DARK_SUMS, LINEAR_DARK_SUMS};
    // A batch's per-frame numbers travel as vec4s.
    const FRAME_VEC4S: usize = MAX_BATCH_FRAMES / 4;
    const _: () = assert!(MAX_BATCH_FRAMES.is_multiple_of(4));
    // The shader's state arrays are `vec4`s: one per invocation.
    const _: () = assert!(SUBPIXELS_PER_INVOCATION == 4);
    format!(
        "// Generated from Rust: src/stats/gpu/accumulator.rs\n\
         const NEIGHBOUR_DISTANCE: i32 = {NEIGHBOUR_DISTANCE};\n\
         const WORKGROUP_SIZE: u32 = {WORKGROUP_SIZE}u;\n\
         const SUBPIXELS_PER_INVOCATION: u32 = {SUBPIXELS_PER_INVOCATION}u;\n\
         const HIGH_WORD: f32 = {HIGH_WORD:?};\n\
         const RESIDUAL_SCALE: f32 = {RESIDUAL_SCALE:?};\n\
         const DARK_POSITIONS_PER_INVOCATION: u32 = {DARK_POSITIONS_PER_INVOCATION}u;\n\
         const MAX_DARK_CHANNELS: u32 = {MAX_DARK_CHANNELS}u;\n\
         const DARK_SUMS: u32 = {DARK_SUMS}u;\n\
         const LINEAR_DARK_SUMS: u32 = {LINEAR_DARK_SUMS}u;\n\
         const FRAME_VEC4S: u32 = {FRAME_VEC4S}u;\n\n{}",
        include_str!("../../../shaders/welford.wgsl")
    )
}

/// Where a buffer mapping stands: asked for, done, or failed.
#[derive(Clone, Default)]
struct MapSignal(Arc<AtomicU8>);

impl MapSignal {
    const PENDING: u8 = 0;
    const DONE: u8 = 1;
    const FAILED: u8 = 2;

    /// A signal that says the buffer is mapped (a buffer created mapped).
    fn done() -> Self {
        MapSignal(Arc::new(AtomicU8::new(Self::DONE)))
    }

    /// Marks a mapping as asked for; returns the callback to hand to `map_async`.
    fn ask(&self) -> impl FnOnce(Result<(), wgpu::BufferAsyncError>) + Send + 'static {
        self.0.store(Self::PENDING, Ordering::Release);
        let state = self.0.clone();
        move |r| {
            let v = if r.is_ok() { Self::DONE } else { Self::FAILED };
            state.store(v, Ordering::Release);
        }
    }

    /// Polls with `poll` until the mapping of `what` is done; an error naming `what`, not an
    /// endless wait, when the mapping failed.
    fn wait(
        &self,
        what: &str,
        mut poll: impl FnMut() -> Result<(), GpuError>,
    ) -> Result<(), GpuError> {
        loop {
            match self.0.load(Ordering::Acquire) {
                Self::DONE => return Ok(()),
                Self::FAILED => return Err(GpuError::Operation(format!("mapping {what} failed"))),
                _ => poll()?,
            }
        }
    }
}

/// Copies samples `range` of a frame into `dest` as little-endian bytes, as the shader reads them:
/// a plain copy on little-endian hosts, each 16-bit sample byte-swapped on big-endian ones.
fn write_le(mut dest: wgpu::WriteOnly<[u8]>, samples: &Samples, range: std::ops::Range<usize>) {
    match samples {
        Samples::U8(v) => dest.copy_from_slice(&v[range]),
        Samples::U16(v) if cfg!(target_endian = "little") => {
            dest.copy_from_slice(bytemuck::cast_slice(&v[range]))
        }
        Samples::U16(v) => dest.write_iter(v[range].iter().flat_map(|s| s.to_le_bytes())),
    }
}

/// The binding of the value shifts in `shaders/welford.wgsl`.
const SHIFT_BINDING: u32 = 15;

/// The size of the shift buffer bound when the means are absolute (one vec4, never read).
const SHIFT_PLACEHOLDER_BYTES: u64 = 16;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    frames: u32,
    count: u32,
    stride_words: u32,
    bits: u32,
    row_threads: u32,
    width: u32,
    height: u32,
    channels: u32,
    first_row: u32,
    halo_row: u32,
    shifted: u32,
}

/// The buffers of one tile of the plan (`GpuAccumulator::plan.tiles`, in the same order).
struct Tile {
    /// The f32 state arrays, in the order of [`Moments::arrays`] (bindings 2 onwards).
    state: [wgpu::Buffer; STATE_ARRAYS],
    /// The frames-below count, as f32 (the binding after the state arrays).
    below: wgpu::Buffer,
    /// The value shifts ([`value_shift`]), as f32 (exact to 2²⁴); a placeholder when unused.
    shift: wgpu::Buffer,
    batch: wgpu::Buffer,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    /// The dark-current buffers, when the accumulator keeps those statistics.
    dark: Option<DarkTile>,
}

struct Slot {
    buffer: wgpu::Buffer,
    mapped: MapSignal,
    submission: Option<wgpu::SubmissionIndex>,
}

/// Welford statistics in GPU storage buffers, split into tiles that fit the binding limit.
pub struct GpuAccumulator {
    device: wgpu::Device,
    queue: wgpu::Queue,
    shape: Shape,
    pipeline: wgpu::ComputePipeline,
    plan: TilePlan,
    tiles: Vec<Tile>,
    slots: Vec<Slot>,
    current: usize,
    in_batch: usize,
    /// Frames applied so far (by every subpixel).
    count: u32,
    info: BackendInfo,
    /// What the device reported on its own (a loss, an uncaptured error).
    faults: Faults,
    /// The dark-current pass, when the accumulator keeps those statistics.
    dark: Option<DarkPass>,
}

impl GpuAccumulator {
    /// Plans the tiles ([`plan_tiles`]) and creates the pipeline, the state buffers (zeroed) and
    /// the staging ring on `device`. Fails when the shape cannot be tiled on this device, and with
    /// [`GpuError::OutOfMemory`] when the buffers need more than the adapter's memory or their
    /// allocation fails. From here on, a lost device or an error the device raises on its own is
    /// an error of the next call, not a panic.
    ///
    /// `faults` is the device's recorder ([`Faults::watch`], installed when the device was opened)
    /// and `memory` the bytes of the adapter's largest memory heap, when known
    /// ([`super::GpuContext::memory`]). With `dark`, the accumulator also keeps the dark-current
    /// statistics ([`crate::stats::dark`]) of the frames that carry an exposure.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        faults: &Faults,
        memory: Option<u64>,
        shape: Shape,
        options: GpuOptions,
        dark: Option<DarkSetup>,
    ) -> Result<Self, GpuError> {
        let faults = faults.clone();
        faults.check()?;
        if dark.is_some() && shape.channels > MAX_DARK_CHANNELS {
            return Err(GpuError::TooLarge(format!(
                "{} frames: the dark-current pass takes up to {MAX_DARK_CHANNELS} channels",
                shape.describe()
            )));
        }
        let plan = plan_tiles(DeviceLimits::of(device), shape, options, dark.is_some())?;
        let needed = plan.device_bytes();
        if memory.is_some_and(|available| needed > available) {
            return Err(out_of_memory(
                device,
                needed,
                memory,
                "more than its largest memory heap",
            ));
        }
        let (pipeline, tiles, slots, dark) = allocating(device, &faults, memory, needed, || {
            Self::create(device, queue, shape, &plan, dark)
        })?;
        Ok(GpuAccumulator {
            device: device.clone(),
            queue: queue.clone(),
            shape,
            pipeline,
            plan,
            tiles,
            slots,
            current: 0,
            in_batch: 0,
            count: 0,
            info: BackendInfo {
                kind: BackendKind::Gpu,
                adapter: "GPU".into(),
                driver: String::new(),
            },
            faults,
            dark,
        })
    }

    /// The pipeline, the tiles' buffers and the staging ring of `plan`, and the dark pass with
    /// `dark`.
    fn create(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        shape: Shape,
        plan: &TilePlan,
        dark: Option<DarkSetup>,
    ) -> (
        wgpu::ComputePipeline,
        Vec<Tile>,
        Vec<Slot>,
        Option<DarkPass>,
    ) {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("welford"),
            source: wgpu::ShaderSource::Wgsl(shader_source().into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("welford"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let dark = dark.map(|setup| DarkPass::new(device, &module, setup, shape.max_value()));
        let max_groups = device.limits().max_compute_workgroups_per_dimension.max(1);
        let storage = |label: &str, size: u64| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let tiles = plan
            .tiles
            .iter()
            .map(|spec| {
                let state = STATE_ORDER.map(|label| storage(label, spec.state_bytes));
                let below = storage("below", spec.state_bytes);
                let shift = storage(
                    "shift",
                    if plan.shift {
                        spec.state_bytes
                    } else {
                        SHIFT_PLACEHOLDER_BYTES
                    },
                );
                let batch = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("batch"),
                    size: spec.stride * plan.batch as u64,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let params = Params {
                    len: spec.len as u32,
                    frames: plan.batch as u32,
                    count: 0,
                    stride_words: (spec.stride / 4) as u32,
                    bits: shape.bit_depth,
                    row_threads: spec.groups.0 * WORKGROUP_SIZE,
                    width: shape.width,
                    height: shape.height,
                    channels: shape.channels,
                    first_row: spec.first_row as u32,
                    halo_row: spec.halo_row as u32,
                    shifted: plan.shift as u32,
                };
                // Written through the queue: a mapped initial write panics on a lost device.
                let uniform = device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("params"),
                    size: std::mem::size_of::<Params>() as u64,
                    usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                queue.write_buffer(&uniform, 0, bytemuck::bytes_of(&params));
                let params = uniform;
                let entries: Vec<wgpu::BindGroupEntry> = [&params, &batch]
                    .into_iter()
                    .chain(&state)
                    .chain([&below])
                    .enumerate()
                    .map(|(binding, b)| wgpu::BindGroupEntry {
                        binding: binding as u32,
                        resource: b.as_entire_binding(),
                    })
                    .chain([wgpu::BindGroupEntry {
                        binding: SHIFT_BINDING,
                        resource: shift.as_entire_binding(),
                    }])
                    .collect();
                let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                    label: Some("welford tile"),
                    layout: &layout,
                    entries: &entries,
                });
                let dark = dark
                    .as_ref()
                    .map(|d| d.tile(device, spec, shape.channels, (max_groups, &params, &batch)));
                Tile {
                    state,
                    below,
                    shift,
                    batch,
                    params,
                    bind_group,
                    dark,
                }
            })
            .collect();
        let slots = (0..RING)
            .map(|_| Slot {
                buffer: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("staging"),
                    size: plan.staging_bytes,
                    usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: true,
                }),
                mapped: MapSignal::done(),
                submission: None,
            })
            .collect();
        (pipeline, tiles, slots, dark)
    }

    /// Sets what [`Accumulator::info`] reports.
    pub fn set_info(&mut self, info: BackendInfo) {
        self.info = info;
    }

    /// The plan this accumulator follows: its tiles and batch size.
    pub fn plan(&self) -> &TilePlan {
        &self.plan
    }

    /// The fault the device reported on its own, if any, else `error`: a lost device is named as
    /// such, not as the failed mapping it caused.
    fn fault_or(&self, error: GpuError) -> GpuError {
        self.faults.check().err().unwrap_or(error)
    }

    /// Polls the device: until `submission` is done, until all work is done (`None`), or once
    /// without blocking (`wait` false). A fault the device recorded is an error here.
    fn poll(&self, submission: Option<wgpu::SubmissionIndex>, wait: bool) -> Result<(), GpuError> {
        self.faults.check()?;
        let poll = match (wait, submission) {
            (false, _) => wgpu::PollType::Poll,
            (true, Some(index)) => wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            },
            (true, None) => wgpu::PollType::wait_indefinitely(),
        };
        self.device
            .poll(poll)
            .map(|_| ())
            .map_err(|e| self.fault_or(GpuError::Operation(e.to_string())))?;
        self.faults.check()
    }

    /// Waits until the current staging slot is mapped and writable again.
    fn wait_for_slot(&mut self) -> Result<(), GpuError> {
        if let Some(index) = self.slots[self.current].submission.take() {
            self.poll(Some(index), true)?;
        }
        let mapped = self.slots[self.current].mapped.clone();
        mapped
            .wait("a staging buffer", || self.poll(None, true))
            .map_err(|e| self.fault_or(e))
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), GpuError> {
        if self.in_batch == 0 {
            self.wait_for_slot()?;
        }
        if let Some(dark) = self.dark.as_mut() {
            dark.frame(frame.exposure());
        }
        let bps = self.shape.bytes_per_sample();
        let slot = &self.slots[self.current];
        for t in &self.plan.tiles {
            let range = t.upload_start..t.upload_start + t.upload_len;
            let bytes = t.upload_len * bps;
            let offset = t.staging_offset + t.stride * self.in_batch as u64;
            let size = (bytes as u64).div_ceil(4) * 4;
            let mut view = slot
                .buffer
                .get_mapped_range_mut(offset..offset + size)
                .map_err(|e| self.fault_or(GpuError::Operation(e.to_string())))?;
            write_le(view.slice(..bytes), frame.samples(), range);
        }
        self.in_batch += 1;
        Ok(())
    }

    /// Submits the frames written to the current slot and moves on to the next slot.
    fn flush(&mut self) -> Result<(), GpuError> {
        if self.in_batch == 0 {
            return Ok(());
        }
        let frames = self.in_batch;
        let slot = &mut self.slots[self.current];
        slot.buffer.unmap();
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("batch"),
            });
        // `frames` and `count` are adjacent: one write of both per tile and batch.
        const _: () = assert!(offset_of!(Params, count) == offset_of!(Params, frames) + 4);
        let counts = [frames as u32, self.count];
        for (spec, tile) in self.plan.tiles.iter().zip(&self.tiles) {
            self.queue.write_buffer(
                &tile.params,
                offset_of!(Params, frames) as u64,
                bytemuck::bytes_of(&counts),
            );
            encoder.copy_buffer_to_buffer(
                &slot.buffer,
                spec.staging_offset,
                &tile.batch,
                0,
                spec.stride * frames as u64,
            );
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("welford"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            for (spec, tile) in self.plan.tiles.iter().zip(&self.tiles) {
                pass.set_bind_group(0, &tile.bind_group, &[]);
                pass.dispatch_workgroups(spec.groups.0, spec.groups.1, 1);
            }
        }
        if let Some(dark) = self.dark.as_mut() {
            let tiles: Vec<&DarkTile> = self.tiles.iter().filter_map(|t| t.dark.as_ref()).collect();
            dark.dispatch(&self.queue, &mut encoder, &tiles);
        }
        let index = self.queue.submit([encoder.finish()]);
        slot.buffer
            .map_async(wgpu::MapMode::Write, .., slot.mapped.ask());
        slot.submission = Some(index);
        self.in_batch = 0;
        self.count += frames as u32;
        self.current = (self.current + 1) % self.slots.len();
        // Let finished work release its callbacks without blocking.
        self.poll(None, false)
    }

    fn read_back(&mut self) -> Result<Moments, GpuError> {
        self.flush()?;
        self.poll(None, true)?;
        // Upload buffers are no longer needed: free them before the read-back copies exist.
        self.slots.clear();
        let largest =
            self.plan.tiles.iter().map(|t| t.len).max().unwrap_or(0) as u64 * STATE_VALUE_BYTES;
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: largest.max(STATE_VALUE_BYTES),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut out = Moments::with_dark(self.shape, self.dark.as_ref().map(|d| d.setup));
        out.n = self.count;
        let tiles = std::mem::take(&mut self.tiles);
        let channels = self.shape.channels as usize;
        for (spec, tile) in self.plan.tiles.iter().zip(tiles) {
            let range = spec.start..spec.start + spec.len;
            for (buffer, dest) in tile.state.iter().zip(out.arrays_mut()) {
                self.copy_out(&readback, buffer, spec.len, |b| {
                    dest[range.clone()].copy_from_slice(bytemuck::cast_slice(b))
                })?;
            }
            if self.plan.shift {
                // The value means made absolute again, every digit kept (`Moments::mean_low`).
                let start = spec.start;
                self.copy_out(&readback, &tile.shift, spec.len, |b| {
                    let shift: &[f32] = bytemuck::cast_slice(b);
                    for (i, &k) in shift.iter().take(spec.len).enumerate() {
                        let exact = k as f64 + out.mean[start + i] as f64;
                        out.set_mean(start + i, exact);
                    }
                })?;
            }
            let below = &mut out.below[range];
            self.copy_out(&readback, &tile.below, spec.len, |b| {
                let counts: &[f32] = bytemuck::cast_slice(b);
                for (out, &v) in below.iter_mut().zip(counts) {
                    *out = v.min(Count::MAX as f32) as Count;
                }
            })?;
            if let (Some(tile), Some(dark)) = (tile.dark.as_ref(), out.dark.as_mut()) {
                let (buffers, positions) = tile.arrays();
                for (k, buffer) in buffers.iter().enumerate() {
                    self.copy_out(&readback, buffer, positions, |b| {
                        take_array(dark, k, spec.start / channels, bytemuck::cast_slice(b))
                    })?;
                }
            }
        }
        if let (Some(pass), Some(dark)) = (self.dark.as_mut(), out.dark.as_mut()) {
            dark.exposures = std::mem::take(&mut pass.exposures);
            dark.misfit_weights = std::mem::take(&mut pass.misfit_weights);
        }
        Ok(out)
    }

    fn copy_out(
        &self,
        readback: &wgpu::Buffer,
        source: &wgpu::Buffer,
        len: usize,
        take: impl FnOnce(&[u8]),
    ) -> Result<(), GpuError> {
        let size = len as u64 * STATE_VALUE_BYTES;
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        encoder.copy_buffer_to_buffer(source, 0, readback, 0, size);
        let index = self.queue.submit([encoder.finish()]);
        let mapped = MapSignal::default();
        readback.map_async(wgpu::MapMode::Read, 0..size, mapped.ask());
        self.poll(Some(index), true)?;
        mapped
            .wait("the read-back buffer", || self.poll(None, true))
            .map_err(|e| self.fault_or(e))?;
        {
            let view = readback
                .get_mapped_range(0..size)
                .map_err(|e| self.fault_or(GpuError::Operation(e.to_string())))?;
            take(&view);
        }
        readback.unmap();
        Ok(())
    }
}

impl Accumulator for GpuAccumulator {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn add(&mut self, frame: Frame) -> Result<(), StatsError> {
        check_shape(self.shape, &frame)?;
        self.write_frame(&frame)?;
        drop(frame);
        if self.in_batch == self.plan.batch {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Moments, StatsError> {
        Ok(self.read_back()?)
    }

    fn info(&self) -> BackendInfo {
        self.info.clone()
    }

    fn frames_held(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_mapping_is_an_error_not_an_endless_wait() {
        let signal = MapSignal::default();
        let callback = signal.ask();
        let mut polls = 0;
        // The driver reports the failure on the third poll; polling goes on no further.
        let mut fail_later = Some(callback);
        let result = signal.wait("a staging buffer", || {
            polls += 1;
            assert!(polls < 100, "still waiting after a failed mapping");
            if polls == 3 {
                (fail_later.take().unwrap())(Err(wgpu::BufferAsyncError));
            }
            Ok(())
        });
        let err = result.unwrap_err().to_string();
        assert!(err.contains("mapping a staging buffer failed"), "{err}");
        assert_eq!(polls, 3);
    }

    #[test]
    fn a_finished_mapping_ends_the_wait() {
        let signal = MapSignal::default();
        let callback = signal.ask();
        callback(Ok(()));
        assert!(signal.wait("x", || panic!("no poll needed")).is_ok());
    }

    #[test]
    fn samples_are_written_little_endian() {
        let mut dest = [0u8; 4];
        let samples = Samples::U16(vec![0xffff, 0x0102, 0x0304]);
        write_le(wgpu::WriteOnly::from_mut(&mut dest[..]), &samples, 1..3);
        assert_eq!(dest, [0x02, 0x01, 0x04, 0x03]);
        let mut dest = [0u8; 2];
        let samples = Samples::U8(vec![7, 8, 9]);
        write_le(wgpu::WriteOnly::from_mut(&mut dest[..]), &samples, 1..3);
        assert_eq!(dest, [8, 9]);
    }

    #[test]
    fn the_shader_is_given_the_shared_constants() {
        let src = shader_source();
        assert!(src.contains(&format!(
            "const NEIGHBOUR_DISTANCE: i32 = {NEIGHBOUR_DISTANCE};"
        )));
        assert!(src.contains(&format!("const WORKGROUP_SIZE: u32 = {WORKGROUP_SIZE}u;")));
        assert!(src.contains(&format!("const HIGH_WORD: f32 = {HIGH_WORD:?};")));
        assert!(src.contains(&format!("const RESIDUAL_SCALE: f32 = {RESIDUAL_SCALE:?};")));
        let body = include_str!("../../../shaders/welford.wgsl");
        // The shader names these numbers and never writes them out.
        assert!(body.contains("@workgroup_size(WORKGROUP_SIZE)"));
        assert!(!body.contains("@workgroup_size(256"));
        assert!(!body.contains("- 2,") && !body.contains("+ 2,"));
        assert!(!body.contains("4294967296") && !body.contains("0.5"));
    }
}
