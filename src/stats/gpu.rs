//! The GPU backend: packed frames are uploaded through a ring of mapped staging buffers and a WGSL
//! compute shader (`shaders/welford.wgsl`) applies Welford's update to `n`, `mean` and `M2` storage
//! buffers, and to the mean and `M2` of each subpixel's neighbour residual, tile by tile (bands of
//! rows uploaded with a two-row halo), a batch of frames per dispatch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::{check_shape, Accumulator, BackendInfo, BackendKind, Moments, StatsError};
use crate::input::{Frame, Shape};

/// Threads per workgroup; must match `@workgroup_size` in the shader.
const WORKGROUP: u32 = 256;
/// Staging slots in the upload ring: one filled by the CPU while the other is in flight.
const RING: usize = 2;
/// Offsets of bindings and copies are kept at this alignment.
const ALIGN: u64 = 256;
/// Rows uploaded above and below a tile: the neighbour distance of the residual.
const HALO: usize = super::cpu::NEIGHBOUR_DISTANCE;

/// Errors of the GPU backend, each one line.
#[derive(Debug, thiserror::Error)]
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
    /// Mapping, polling or another device operation failed.
    #[error("GPU operation failed: {0}")]
    Operation(String),
}

/// The adapter, device and queue a scan uses; created once per run.
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// What the adapter says of itself.
    pub info: wgpu::AdapterInfo,
}

/// The backends searched for adapters: `WGPU_BACKEND` if set, else Vulkan, Metal and DX12.
/// (GL is left out: its compute support is not what this work needs.)
pub fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env()
        .unwrap_or(wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12)
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = backends();
    wgpu::Instance::new(desc)
}

/// True for adapters that run on the CPU (llvmpipe, lavapipe, SwiftShader, WARP).
pub fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

fn preference(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Every adapter the searched backends offer, hardware first.
pub fn adapters() -> Vec<wgpu::AdapterInfo> {
    let mut list: Vec<_> = pollster::block_on(instance().enumerate_adapters(backends()))
        .iter()
        .map(|a| a.get_info())
        .collect();
    list.sort_by_key(|i| preference(i.device_type));
    list
}

/// One line describing an adapter's driver.
pub fn driver_string(info: &wgpu::AdapterInfo) -> String {
    match (info.driver.is_empty(), info.driver_info.is_empty()) {
        (false, false) => format!("{} ({})", info.driver, info.driver_info),
        (false, true) => info.driver.clone(),
        (true, false) => info.driver_info.clone(),
        (true, true) => format!("{:?}", info.backend),
    }
}

impl GpuContext {
    /// Opens the best adapter: hardware before software, honouring `WGPU_BACKEND` and
    /// `WGPU_ADAPTER_NAME` (a case-insensitive part of the name). With `allow_software` false,
    /// CPU adapters such as llvmpipe are not taken.
    pub fn open(allow_software: bool) -> Result<Self, GpuError> {
        let instance = instance();
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends()));
        adapters.sort_by_key(|a| preference(a.get_info().device_type));
        let wanted = std::env::var("WGPU_ADAPTER_NAME")
            .ok()
            .map(|s| s.to_lowercase());
        let seen = adapters.len();
        let adapter = adapters
            .into_iter()
            .filter(|a| allow_software || !is_software(&a.get_info()))
            .find(|a| {
                wanted
                    .as_ref()
                    .is_none_or(|w| a.get_info().name.to_lowercase().contains(w))
            });
        let adapter = adapter.ok_or_else(|| {
            let mut why = format!(" ({seen} adapters seen");
            if let Some(w) = &wanted {
                why += &format!(", none named like WGPU_ADAPTER_NAME='{w}'");
            }
            if !allow_software {
                why += ", software adapters not considered";
            }
            why += "; run `hotpixels devices`)";
            GpuError::NoAdapter(why)
        })?;
        Self::from_adapter(adapter)
    }

    /// Opens a device with the adapter's own limits (large storage bindings are what tiles need).
    pub fn from_adapter(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
        let info = adapter.get_info();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("hotpixels"),
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device {
            adapter: info.name.clone(),
            reason: e.to_string(),
        })?;
        Ok(GpuContext {
            device,
            queue,
            info,
        })
    }

    /// A GPU accumulator for `shape` on this device.
    pub fn accumulator(&self, shape: Shape, options: GpuOptions) -> GpuAccumulator {
        let mut acc = GpuAccumulator::new(&self.device, &self.queue, shape, options);
        acc.set_info(BackendInfo {
            kind: BackendKind::Gpu,
            adapter: self.info.name.clone(),
            driver: driver_string(&self.info),
        });
        acc
    }
}

/// Tuning of the GPU backend; the defaults suit every adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuOptions {
    /// Largest tile in subpixels (the device's binding limit always applies too). Tests force
    /// small tiles with it.
    pub max_tile_subpixels: Option<usize>,
    /// Frames per dispatch; `None` picks from `staging_budget`.
    pub batch_frames: Option<usize>,
    /// Bytes one staging slot may take when choosing the batch size.
    pub staging_budget: usize,
}

impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            max_tile_subpixels: None,
            batch_frames: None,
            staging_budget: 256 << 20,
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    len: u32,
    frames: u32,
    stride_words: u32,
    bits: u32,
    row_threads: u32,
    width: u32,
    height: u32,
    channels: u32,
    first_row: u32,
    halo_row: u32,
    _pad: [u32; 2],
}

struct Tile {
    start: usize,
    len: usize,
    /// Subpixels uploaded per frame: the tile's rows and their halo, from subpixel `upload_start`.
    upload_start: usize,
    upload_len: usize,
    /// Bytes between frames in the batch buffer (the uploaded samples, padded to [`ALIGN`]).
    stride: u64,
    /// Where this tile's batch region starts in a staging slot.
    staging_offset: u64,
    n: wgpu::Buffer,
    mean: wgpu::Buffer,
    m2: wgpu::Buffer,
    res_mean: wgpu::Buffer,
    res_m2: wgpu::Buffer,
    batch: wgpu::Buffer,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    groups: (u32, u32),
}

struct Slot {
    buffer: wgpu::Buffer,
    ready: Arc<AtomicBool>,
    submission: Option<wgpu::SubmissionIndex>,
}

/// Welford statistics in GPU storage buffers, split into tiles that fit the binding limit.
pub struct GpuAccumulator {
    device: wgpu::Device,
    queue: wgpu::Queue,
    shape: Shape,
    pipeline: wgpu::ComputePipeline,
    tiles: Vec<Tile>,
    slots: Vec<Slot>,
    current: usize,
    in_batch: usize,
    batch: usize,
    info: BackendInfo,
}

fn round_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

impl GpuAccumulator {
    /// Creates the pipeline, the state buffers (zeroed) and the staging ring on `device`.
    pub fn new(
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        shape: Shape,
        options: GpuOptions,
    ) -> Self {
        let limits = device.limits();
        let max_bind = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let bps = shape.bytes_per_sample() as u64;
        let total = shape.subpixels();
        let batch = options
            .batch_frames
            .unwrap_or_else(|| options.staging_budget / shape.frame_bytes().max(1))
            .clamp(1, 16);

        // Tiles are bands of whole rows: the most rows whose state arrays, and whose batch region
        // (the band and its halo), fit one binding.
        let row = shape.width as usize * shape.channels as usize;
        let height = shape.height as usize;
        let state_rows = (max_bind / 4) as usize / row;
        let batch_rows = ((max_bind / batch as u64).saturating_sub(ALIGN) / bps) as usize / row;
        let mut tile_rows = state_rows.min(batch_rows.saturating_sub(2 * HALO));
        if let Some(t) = options.max_tile_subpixels {
            tile_rows = tile_rows.min(t / row);
        }
        let tile_rows = tile_rows.clamp(1, height);

        let module = device.create_shader_module(wgpu::include_wgsl!("../../shaders/welford.wgsl"));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("welford"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        let max_groups = limits.max_compute_workgroups_per_dimension.max(1);

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

        let mut tiles = Vec::new();
        let mut staging_offset = 0u64;
        let mut first_row = 0usize;
        while first_row < height {
            let rows = tile_rows.min(height - first_row);
            let (start, len) = (first_row * row, rows * row);
            let halo_row = first_row.saturating_sub(HALO);
            let end_row = (first_row + rows + HALO).min(height);
            let (upload_start, upload_len) = (halo_row * row, (end_row - halo_row) * row);
            let stride = round_up(upload_len as u64 * bps, ALIGN);
            // Four subpixels per invocation: state padded to whole vec4s.
            let state_bytes = round_up(len as u64, 4) * 4;
            let n = storage("n", state_bytes);
            let mean = storage("mean", state_bytes);
            let m2 = storage("m2", state_bytes);
            let res_mean = storage("res_mean", state_bytes);
            let res_m2 = storage("res_m2", state_bytes);
            let batch_buf = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("batch"),
                size: stride * batch as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let workgroups = (len as u32).div_ceil(4).div_ceil(WORKGROUP);
            let gx = workgroups.min(max_groups);
            let gy = workgroups.div_ceil(gx);
            let params = Params {
                len: len as u32,
                frames: batch as u32,
                stride_words: (stride / 4) as u32,
                bits: shape.bit_depth,
                row_threads: gx * WORKGROUP,
                width: shape.width,
                height: shape.height,
                channels: shape.channels,
                first_row: first_row as u32,
                halo_row: halo_row as u32,
                _pad: [0; 2],
            };
            let params_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytemuck::bytes_of(&params),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("welford tile"),
                layout: &layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: params_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: batch_buf.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: n.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: mean.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: m2.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 5,
                        resource: res_mean.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 6,
                        resource: res_m2.as_entire_binding(),
                    },
                ],
            });
            tiles.push(Tile {
                start,
                len,
                upload_start,
                upload_len,
                stride,
                staging_offset,
                n,
                mean,
                m2,
                res_mean,
                res_m2,
                batch: batch_buf,
                params: params_buf,
                bind_group,
                groups: (gx, gy),
            });
            staging_offset += stride * batch as u64;
            first_row += rows;
        }
        debug_assert_eq!(tiles.iter().map(|t| t.len).sum::<usize>(), total);

        let slots = (0..RING)
            .map(|_| Slot {
                buffer: device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("staging"),
                    size: staging_offset,
                    usage: wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: true,
                }),
                ready: Arc::new(AtomicBool::new(true)),
                submission: None,
            })
            .collect();

        GpuAccumulator {
            device: device.clone(),
            queue: queue.clone(),
            shape,
            pipeline,
            tiles,
            slots,
            current: 0,
            in_batch: 0,
            batch,
            info: BackendInfo {
                kind: BackendKind::Gpu,
                adapter: "GPU".into(),
                driver: String::new(),
            },
        }
    }

    /// Sets what [`Accumulator::info`] reports.
    pub fn set_info(&mut self, info: BackendInfo) {
        self.info = info;
    }

    /// Number of tiles the state is split into.
    pub fn tiles(&self) -> usize {
        self.tiles.len()
    }

    /// Frames applied per dispatch.
    pub fn batch_frames(&self) -> usize {
        self.batch
    }

    fn poll(&self, submission: Option<wgpu::SubmissionIndex>) -> Result<(), GpuError> {
        let poll = match submission {
            Some(index) => wgpu::PollType::Wait {
                submission_index: Some(index),
                timeout: None,
            },
            None => wgpu::PollType::wait_indefinitely(),
        };
        self.device
            .poll(poll)
            .map(|_| ())
            .map_err(|e| GpuError::Operation(e.to_string()))
    }

    /// Waits until the current staging slot is mapped and writable again.
    fn wait_for_slot(&mut self) -> Result<(), GpuError> {
        let slot = &self.slots[self.current];
        if let Some(index) = slot.submission.clone() {
            self.poll(Some(index))?;
        }
        while !self.slots[self.current].ready.load(Ordering::Acquire) {
            self.poll(None)?;
        }
        self.slots[self.current].submission = None;
        Ok(())
    }

    fn write_frame(&mut self, frame: &Frame) -> Result<(), GpuError> {
        if self.in_batch == 0 {
            self.wait_for_slot()?;
        }
        let bytes = frame.as_bytes();
        let bps = self.shape.bytes_per_sample();
        let slot = &self.slots[self.current];
        for tile in &self.tiles {
            let src = &bytes[tile.upload_start * bps..(tile.upload_start + tile.upload_len) * bps];
            let offset = tile.staging_offset + tile.stride * self.in_batch as u64;
            let size = round_up(src.len() as u64, 4);
            let mut view = slot
                .buffer
                .get_mapped_range_mut(offset..offset + size)
                .map_err(|e| GpuError::Operation(e.to_string()))?;
            view.slice(..src.len()).copy_from_slice(src);
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
        for tile in &self.tiles {
            if frames != self.batch {
                // Only the last, partial batch changes the frame count.
                self.queue
                    .write_buffer(&tile.params, 4, bytemuck::bytes_of(&(frames as u32)));
            }
            encoder.copy_buffer_to_buffer(
                &slot.buffer,
                tile.staging_offset,
                &tile.batch,
                0,
                tile.stride * frames as u64,
            );
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("welford"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            for tile in &self.tiles {
                pass.set_bind_group(0, &tile.bind_group, &[]);
                pass.dispatch_workgroups(tile.groups.0, tile.groups.1, 1);
            }
        }
        let index = self.queue.submit([encoder.finish()]);
        let ready = slot.ready.clone();
        ready.store(false, Ordering::Release);
        slot.buffer.map_async(wgpu::MapMode::Write, .., move |r| {
            if r.is_ok() {
                ready.store(true, Ordering::Release);
            }
        });
        slot.submission = Some(index);
        self.in_batch = 0;
        self.current = (self.current + 1) % self.slots.len();
        // Let finished work release its callbacks without blocking.
        self.device
            .poll(wgpu::PollType::Poll)
            .map_err(|e| GpuError::Operation(e.to_string()))?;
        Ok(())
    }

    fn read_back(&mut self) -> Result<Moments, GpuError> {
        self.flush()?;
        self.poll(None)?;
        // Upload buffers are no longer needed: free them before the read-back copies exist.
        self.slots.clear();
        let largest = self.tiles.iter().map(|t| t.len).max().unwrap_or(0) as u64 * 4;
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: largest.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut out = Moments::new(self.shape);
        // Counts stay one number unless some subpixel disagrees.
        let mut uniform: Option<u32> = None;
        let mut per_subpixel: Option<Vec<u32>> = None;
        for tile in std::mem::take(&mut self.tiles) {
            let range = tile.start..tile.start + tile.len;
            self.copy_out(&readback, &tile.n, tile.len, |b| {
                let counts: &[u32] = bytemuck::cast_slice(b);
                if per_subpixel.is_none() {
                    let first = counts[0];
                    let same = counts.iter().all(|&c| c == first);
                    if same && uniform.is_none_or(|u| u == first) {
                        uniform = Some(first);
                        return;
                    }
                    per_subpixel = Some(vec![uniform.unwrap_or(0); self.shape.subpixels()]);
                }
                if let Some(v) = per_subpixel.as_mut() {
                    v[range.clone()].copy_from_slice(counts);
                }
            })?;
            let arrays = [
                (&tile.mean, &mut out.mean),
                (&tile.m2, &mut out.m2),
                (&tile.res_mean, &mut out.res_mean),
                (&tile.res_m2, &mut out.res_m2),
            ];
            for (buffer, dest) in arrays {
                self.copy_out(&readback, buffer, tile.len, |b| {
                    dest[range.clone()].copy_from_slice(bytemuck::cast_slice(b))
                })?;
            }
        }
        out.n = match per_subpixel {
            Some(v) => super::Counts::PerSubpixel(v),
            None => super::Counts::Uniform(uniform.unwrap_or(0)),
        };
        Ok(out)
    }

    fn copy_out(
        &self,
        readback: &wgpu::Buffer,
        source: &wgpu::Buffer,
        len: usize,
        take: impl FnOnce(&[u8]),
    ) -> Result<(), GpuError> {
        let size = len as u64 * 4;
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("readback"),
            });
        encoder.copy_buffer_to_buffer(source, 0, readback, 0, size);
        let index = self.queue.submit([encoder.finish()]);
        let done = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        {
            let (done, failed) = (done.clone(), failed.clone());
            readback.map_async(wgpu::MapMode::Read, 0..size, move |r| {
                failed.store(r.is_err(), Ordering::Release);
                done.store(true, Ordering::Release);
            });
        }
        self.poll(Some(index))?;
        while !done.load(Ordering::Acquire) {
            self.poll(None)?;
        }
        if failed.load(Ordering::Acquire) {
            return Err(GpuError::Operation(
                "mapping the read-back buffer failed".into(),
            ));
        }
        {
            let view = readback
                .get_mapped_range(0..size)
                .map_err(|e| GpuError::Operation(e.to_string()))?;
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
        if self.in_batch == self.batch {
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
}
