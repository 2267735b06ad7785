//! Adapter and device selection: which backends are searched, which adapter a scan takes
//! (hardware before software, `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` honoured), and the
//! [`GpuContext`] that holds the device and queue for a whole run.

use super::faults::Faults;
use super::{GpuAccumulator, GpuError, GpuOptions};
use crate::input::Shape;
use crate::stats::{BackendInfo, BackendKind, DarkSetup};

/// The adapter, device and queue a scan uses; created once per run.
pub struct GpuContext {
    /// The device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    /// What the adapter says of itself.
    pub info: wgpu::AdapterInfo,
    /// What the device reports on its own: its loss, errors outside any scope.
    pub faults: Faults,
    /// Bytes of the adapter's largest device-local memory heap, where the backend tells
    /// ([`super::faults::adapter_memory`]): what the statistics are checked against.
    pub memory: Option<u64>,
}

/// The backends searched for adapters: `WGPU_BACKEND` if set, else Vulkan, Metal and DX12.
/// (GL is left out: its compute support is not what this work needs.)
pub fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env()
        .unwrap_or(wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12)
}

/// Mesa's Vulkan layer that picks the GPU driving the display session (an implicit layer every
/// Mesa driver package installs) asks the Wayland session at instance creation and, where there is
/// none (`XDG_RUNTIME_DIR` unset: a service, a container, a remote shell), prints
/// `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` on standard error, twice —
/// words of no error of ours. The adapter is chosen here anyway ([`GpuContext::open`]); Mesa
/// skips the layer when this variable is set.
const MESA_SKIP_DEVICE_SELECT: &str = "NODEVICE_SELECT";

/// The variable with which a user picks a GPU through that layer: when set, the layer is kept.
const MESA_DEVICE_SELECT: &str = "MESA_VK_DEVICE_SELECT";

/// Keeps Mesa's device-select layer (an implicit Vulkan layer its drivers install) from printing
/// `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` where there is no display
/// session: without `XDG_RUNTIME_DIR`, and unless the user picks a device through the layer
/// (`MESA_VK_DEVICE_SELECT`) or has said whether to skip it (`NODEVICE_SELECT`), the process
/// environment tells Mesa to skip it; the adapter is chosen by [`GpuContext::open`] anyway. It changes the environment, so call it before any other thread starts (the
/// `hotpixels` binary does first thing).
pub fn quiet_headless_vulkan() {
    let set = |name: &str| std::env::var_os(name).is_some();
    if !set("XDG_RUNTIME_DIR") && !set(MESA_DEVICE_SELECT) && !set(MESA_SKIP_DEVICE_SELECT) {
        std::env::set_var(MESA_SKIP_DEVICE_SELECT, "1");
    }
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

/// Every adapter the searched backends offer, hardware first, each with the bytes of its largest
/// device-local memory heap where the backend tells ([`super::faults::adapter_memory`]).
pub fn adapters() -> Vec<(wgpu::AdapterInfo, Option<u64>)> {
    let mut list: Vec<_> = pollster::block_on(instance().enumerate_adapters(backends()))
        .iter()
        .map(|a| (a.get_info(), super::faults::adapter_memory(a)))
        .collect();
    list.sort_by_key(|(i, _)| preference(i.device_type));
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
        let memory = super::faults::adapter_memory(&adapter);
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
            faults: Faults::watch(&device),
            device,
            queue,
            info,
            memory,
        })
    }

    /// A GPU accumulator for `shape` on this device.
    pub fn accumulator(
        &self,
        shape: Shape,
        options: GpuOptions,
    ) -> Result<GpuAccumulator, GpuError> {
        self.accumulator_with_dark(shape, options, None)
    }

    /// [`GpuContext::accumulator`] keeping dark-current statistics taken with `dark` (none when
    /// `None`).
    pub fn accumulator_with_dark(
        &self,
        shape: Shape,
        options: GpuOptions,
        dark: Option<DarkSetup>,
    ) -> Result<GpuAccumulator, GpuError> {
        let mut acc = GpuAccumulator::new(
            &self.device,
            &self.queue,
            &self.faults,
            self.memory,
            shape,
            options,
            dark,
        )?;
        acc.set_info(BackendInfo {
            kind: BackendKind::Gpu,
            adapter: self.info.name.clone(),
            driver: driver_string(&self.info),
        });
        Ok(acc)
    }
}
