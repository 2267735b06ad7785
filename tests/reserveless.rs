//! The global allocator for programs that read untrusted files ([`hotpixels::mem::Reserveless`]):
//! a request for far more memory than the machine has succeeds while it is not written, and blocks
//! keep their contents when they grow or shrink across its threshold.

use hotpixels::mem::{Reserveless, RESERVELESS_BYTES};

#[global_allocator]
static ALLOCATOR: Reserveless = Reserveless;

/// More than the memory of any machine this runs on: a crafted TIFF entry's 4 G values of 8 bytes.
const HUGE: usize = u32::MAX as usize * 8;

#[test]
fn an_unwritten_huge_buffer_is_granted() {
    let mut v = vec![0u8; HUGE];
    // Only the pages written are backed.
    v[0] = 1;
    v[HUGE - 1] = 2;
    assert_eq!((v[0], v[HUGE / 2], v[HUGE - 1]), (1, 0, 2));
}

#[test]
fn blocks_keep_their_bytes_across_the_threshold() {
    let mut v: Vec<u8> = (0..100u8).collect();
    // From the system allocator to a mapping, …
    v.reserve_exact(2 * RESERVELESS_BYTES);
    assert!(v.capacity() >= 2 * RESERVELESS_BYTES);
    assert!(v.iter().copied().eq(0..100u8));
    v.push(100);
    // … a mapping grown, …
    v.reserve_exact(3 * RESERVELESS_BYTES);
    assert!(v.iter().copied().eq(0..101u8));
    // … and back.
    v.shrink_to_fit();
    assert!(v.capacity() < RESERVELESS_BYTES);
    assert!(v.iter().copied().eq(0..101u8));
    let zeroed = vec![0u64; RESERVELESS_BYTES / 8];
    assert!(zeroed.iter().step_by(4096).all(|&x| x == 0));
}
