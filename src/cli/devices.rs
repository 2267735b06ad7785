//! `hotpixels devices`: the GPU adapters this machine offers, their memory, and which one each
//! backend choice takes.

use std::fmt::Write;

use hotpixels::stats::gpu;

use super::{print, stopped, EXIT_OK};

/// The adapter table, or why there is none.
fn render() -> String {
    let mut s = String::new();
    let list = gpu::adapters();
    if list.is_empty() {
        let _ = writeln!(
            s,
            "no GPU adapters found (backends searched: {:?})",
            gpu::backends()
        );
        let _ = writeln!(s, "scans will run on the CPU backend");
        return s;
    }
    let _ = writeln!(
        s,
        "{:>3}  {:<40} {:<14} {:<8} {:>8}  driver",
        "#", "adapter", "type", "backend", "memory"
    );
    for (n, (info, memory)) in list.iter().enumerate() {
        let _ = writeln!(
            s,
            "{:>3}  {:<40} {:<14} {:<8} {:>8}  {}",
            n,
            info.name,
            format!("{:?}", info.device_type),
            format!("{:?}", info.backend),
            memory.map_or("?".to_string(), hotpixels::mem::describe_bytes),
            gpu::driver_string(info)
        );
    }
    let _ = match list.iter().position(|(i, _)| !gpu::is_software(i)) {
        Some(i) => writeln!(s, "--backend auto uses #{i}; --backend gpu uses #0"),
        None => writeln!(
            s,
            "--backend auto uses the CPU (only software adapters); --backend gpu uses #0"
        ),
    };
    s
}

/// Runs `devices`.
pub fn run() -> u8 {
    match print(&render()) {
        Ok(()) => EXIT_OK,
        Err(stop) => stopped(stop),
    }
}
