//! Device faults: a lost device and errors raised outside any error scope are recorded (not
//! panicked on, wgpu's default) and turned into [`GpuError`]s by the accumulator; allocations are
//! checked against the adapter's memory and caught in error scopes, so an allocation that fails
//! names what was needed and what the adapter has.

use std::sync::{Arc, Mutex};

use super::GpuError;

/// The first fault a device reported on its own: its loss, or an uncaptured error. Installed once
/// per device, when it is opened ([`GpuContext`](super::GpuContext)), so that a loss is known to
/// every accumulator made on it later.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<Option<GpuError>>>);

impl Faults {
    /// Installs the recorder on `device`: a lost device and uncaptured errors are kept here.
    pub fn watch(device: &wgpu::Device) -> Self {
        let faults = Faults::default();
        let lost = faults.clone();
        device.set_device_lost_callback(move |reason, message| {
            let why = match reason {
                wgpu::DeviceLostReason::Destroyed => "destroyed",
                wgpu::DeviceLostReason::Unknown => "lost by the driver",
            };
            lost.record(GpuError::Lost(one_line(&format!("{why}: {message}"))));
        });
        let uncaptured = faults.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            uncaptured.record(match e {
                wgpu::Error::OutOfMemory { .. } => GpuError::Operation("out of GPU memory".into()),
                other => GpuError::Operation(one_line(&other.to_string())),
            });
        }));
        faults
    }

    fn record(&self, fault: GpuError) {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(fault);
    }

    /// The fault recorded, if any: once a device has failed, every later call fails with it.
    pub fn check(&self) -> Result<(), GpuError> {
        match &*self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            None => Ok(()),
            Some(fault) => Err(fault.clone()),
        }
    }
}

/// A driver's message on one line: its lines trimmed and joined, without wgpu's "Caused by:".
pub fn one_line(message: &str) -> String {
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Caused by:")
        .collect();
    if parts.is_empty() {
        "no reason given".into()
    } else {
        parts.join(": ")
    }
}

/// Bytes of the adapter's largest device-local memory heap, where the backend tells (Vulkan);
/// `None` elsewhere. Read once, when a context opens ([`super::GpuContext::memory`]) or adapters
/// are listed.
pub fn adapter_memory(adapter: &wgpu::Adapter) -> Option<u64> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        // SAFETY: the handles are only read, to ask the driver for its memory heaps, while the
        // guard keeps the adapter alive.
        let hal = unsafe { adapter.as_hal::<wgpu::hal::api::Vulkan>() }?;
        largest_heap(
            hal.shared_instance().raw_instance(),
            hal.raw_physical_device(),
        )
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = adapter;
        None
    }
}

/// The size of the largest device-local heap of `physical`.
#[cfg(not(target_arch = "wasm32"))]
fn largest_heap(instance: &ash::Instance, physical: ash::vk::PhysicalDevice) -> Option<u64> {
    // SAFETY: the physical device belongs to this instance, which outlives the call.
    let props = unsafe { instance.get_physical_device_memory_properties(physical) };
    props
        .memory_heaps_as_slice()
        .iter()
        .filter(|h| h.flags.contains(ash::vk::MemoryHeapFlags::DEVICE_LOCAL))
        .map(|h| h.size)
        .max()
}

/// Runs `create` (the accumulator's allocations) inside out-of-memory and validation error
/// scopes. A device that failed meanwhile gives its fault; an error caught in a scope becomes
/// [`GpuError::OutOfMemory`] naming `needed` and what the adapter has (`available`).
pub fn allocating<T>(
    device: &wgpu::Device,
    faults: &Faults,
    available: Option<u64>,
    needed: u64,
    create: impl FnOnce() -> T,
) -> Result<T, GpuError> {
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let made = create();
    let oom = pollster::block_on(memory.pop());
    let invalid = pollster::block_on(validation.pop());
    faults.check()?;
    match oom.or(invalid) {
        None => Ok(made),
        Some(e) => Err(out_of_memory(device, needed, available, &e.to_string())),
    }
}

/// The error for statistics that do not fit: what they need, what the adapter has (`available`),
/// and why.
pub fn out_of_memory(
    device: &wgpu::Device,
    needed: u64,
    available: Option<u64>,
    reason: &str,
) -> GpuError {
    GpuError::OutOfMemory {
        adapter: device.adapter_info().name,
        needed,
        available,
        reason: one_line(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_fault_is_returned_as_it_was_recorded_and_the_first_one_stays() {
        let faults = Faults::default();
        assert!(faults.check().is_ok());
        faults.record(GpuError::Operation("a validation error".into()));
        faults.record(GpuError::Lost("destroyed: later".into()));
        let err = faults.check().unwrap_err().to_string();
        assert_eq!(err, "GPU operation failed: a validation error");
        // Every later call fails the same way.
        assert_eq!(faults.check().unwrap_err().to_string(), err);
    }

    #[test]
    fn driver_messages_are_joined_on_one_line() {
        let message = "Validation Error\n\nCaused by:\n  Buffer 'params' is invalid\n";
        assert_eq!(
            one_line(message),
            "Validation Error: Buffer 'params' is invalid"
        );
        assert_eq!(one_line("\n \n"), "no reason given");
    }
}
