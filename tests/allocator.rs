//! The allocator settings of the `hotpixels` binary ([`hotpixels::mem::reuse_freed_memory`]): a
//! freed frame-sized block is reused by the next one, whose pages then need no new faults. Its own
//! program (no test harness), so that the settings are made before any thread starts, as the
//! binary makes them.

use hotpixels::mem::{Reserveless, RESERVELESS_BYTES};

#[global_allocator]
static ALLOCATOR: Reserveless = Reserveless;

/// A RAW decoder's frame-sized buffer: more than glibc ever takes from its heap by itself (32 MB).
const FRAME_BYTES: usize = 64 << 20;

/// Page faults this process has taken that needed no disk (a fresh page's first touch).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn minor_faults() -> i64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    usage.ru_minflt
}

/// Allocates and writes a frame-sized block, then frees it.
fn decode_like() {
    let block = std::hint::black_box(vec![1u8; FRAME_BYTES]);
    assert_eq!(block[FRAME_BYTES - 1], 1);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn main() {
    const { assert!(FRAME_BYTES < RESERVELESS_BYTES) };
    print!("test a_freed_frame_sized_block_is_reused_without_new_faults ... ");
    assert!(
        hotpixels::mem::reuse_freed_memory(),
        "glibc refused the settings"
    );
    decode_like();
    let before = minor_faults();
    decode_like();
    let faults = minor_faults() - before;
    // A block mapped afresh faults in every one of its pages.
    let pages = (FRAME_BYTES / 4096) as i64;
    assert!(
        faults < pages / 16,
        "the second block took {faults} page faults ({pages} pages): it was not the first one's memory"
    );
    println!("ok");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() {
    assert!(!hotpixels::mem::reuse_freed_memory());
    let _ = RESERVELESS_BYTES;
    decode_like();
}
