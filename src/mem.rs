//! Large buffers: allocated untouched, backed by transparent huge pages where Linux allows it
//! (fewer page faults and TLB misses on arrays of hundreds of megabytes), then filled.

use rayon::prelude::*;

/// Asks the kernel to back `[ptr, ptr + bytes)` with huge pages (Linux, when transparent huge pages
/// are in `madvise` or `always` mode). Harmless elsewhere or when refused.
fn advise_huge_pages(ptr: *const u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (ptr as usize).div_ceil(PAGE) * PAGE;
        let end = (ptr as usize + bytes) / PAGE * PAGE;
        if end > start + (2 << 20) {
            // SAFETY: the range lies inside an allocation this process owns; MADV_HUGEPAGE only
            // changes how its pages are backed, never their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, bytes);
}

/// A vector of `len` copies of `value`, its pages advised as huge and first written in parallel
/// (first written, not first read: a read maps the shared zero page, and the later write then
/// costs a copy-on-write fault and a TLB shootdown on every core).
pub fn filled<T: Copy + Send + Sync>(len: usize, value: T) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    advise_huge_pages(v.as_ptr() as *const u8, len * std::mem::size_of::<T>());
    v.spare_capacity_mut()
        .par_chunks_mut(1 << 16)
        .for_each(|c| c.fill(std::mem::MaybeUninit::new(value)));
    // SAFETY: every element up to `len` was initialised just above.
    unsafe { v.set_len(len) };
    v
}
