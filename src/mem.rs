//! Memory: how much the machine can still give, large buffers — allocated untouched, then first
//! written on all cores —, and the global allocator of programs that read untrusted files.
//!
//! The buffers are not advised as transparent huge pages (`MADV_HUGEPAGE`): a fault in an advised
//! range takes a whole 2 MB page, and in a virtual machine whose memory the host backs lazily that
//! page is often memory the host has not backed yet, while freed 4 KB pages are reused at once. On
//! a 2-core VM (Firecracker, 24 GiB) a 24 MP scan with advised buffers spent 2.7–4.4 s of system
//! time on first touches, against 0.7 s without, and took 4.3–5.3 s instead of 3.4–3.7 s. Huge
//! pages made the statistics 15–20 % faster, but only in a second scan of the same process, when
//! the first had left backed huge pages behind. Where the system backs every allocation with
//! huge pages (`enabled` = `always`), it still does.

use rayon::prelude::*;

/// A vector of `len` copies of `value`, first written in parallel (first written, not first read:
/// a read maps the shared zero page, and the later write then costs a copy-on-write fault and a
/// TLB shootdown on every core).
pub fn filled<T: Copy + Send + Sync>(len: usize, value: T) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    v.spare_capacity_mut()
        .par_chunks_mut(1 << 16)
        .for_each(|c| c.fill(std::mem::MaybeUninit::new(value)));
    // SAFETY: every element up to `len` was initialised just above.
    unsafe { v.set_len(len) };
    v
}

/// The first number of the line of `text` that starts with `key` (a `/proc/meminfo` line:
/// `MemAvailable:   123456 kB`).
fn meminfo_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Bytes of memory this process can still be given: the kernel's `MemAvailable`, or the control
/// group's limit less its use when that is lower (a container). `None` where neither is known
/// (other systems than Linux).
pub fn available_bytes() -> Option<u64> {
    let system = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| meminfo_kib(&t, "MemAvailable:"))
        .map(|kib| kib * 1024);
    let read = |p: &str| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    let group = read("/sys/fs/cgroup/memory.max")
        .zip(read("/sys/fs/cgroup/memory.current"))
        .map(|(max, used)| max.saturating_sub(used));
    match (system, group) {
        (Some(s), Some(g)) => Some(s.min(g)),
        (s, g) => s.or(g),
    }
}

/// A byte count for people: `12.3 GB`, `240 MB`, `12 kB` or `512 bytes` (powers of ten).
pub fn describe_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        1_000_000_000.. => format!("{:.1} GB", b / 1e9),
        1_000_000.. => format!("{:.0} MB", b / 1e6),
        1_000.. => format!("{:.0} kB", b / 1e3),
        _ => format!("{bytes} bytes"),
    }
}

/// Tells the C library's allocator (glibc's) to keep the memory freed by blocks smaller than
/// [`RESERVELESS_BYTES`] for the next ones instead of giving it back to the system: such blocks
/// come from one heap that is never trimmed, not from mappings of their own, and every thread
/// allocates from that one heap (a thread's own arena holds at most 64 MB, and maps anything
/// larger afresh). True when the allocator took the settings; false where there is none to tell
/// (other C libraries and systems).
///
/// A RAW decoder allocates buffers of a frame's size for every file it reads and frees them after:
/// mapped afresh each time, each of their pages was faulted in and zeroed anew, at the cost of the
/// first touch of fresh memory — on a 2-core VM, 24 MP DNG files took 86 ms of system time a
/// frame against 40 ms of the decoding's and the statistics' own, and with the settings 3 ms.
/// Call it once, at the start of a program, before it starts threads (the `hotpixels` binary
/// does); the memory held is the most the program ever held at once, as before.
pub fn reuse_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let threshold = libc::c_int::try_from(RESERVELESS_BYTES).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets the allocator's parameters; each call is checked.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, threshold) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Allocations of at least this many bytes go to [`Reserveless`]'s own mappings.
pub const RESERVELESS_BYTES: usize = 1 << 30;

/// The page size the mappings are aligned to: larger alignments go to the system allocator.
const MAPPING_ALIGN: usize = 4096;

/// A global allocator for programs that read untrusted files (the `hotpixels` binary uses it):
/// the system's, except that allocations of [`RESERVELESS_BYTES`] or more are mappings made
/// with `MAP_NORESERVE` (Linux), which the kernel backs only where they are written.
///
/// A decoder that sizes a buffer from a count in a crafted file (rawler 0.8 allocates a TIFF
/// entry's values before reading them: up to 4 G × 8 bytes) then asks for tens of gigabytes
/// that it never fills: the read fails at the end of the file. Under the kernel's usual
/// overcommit rule such a request beyond the machine's memory is refused, and a refused
/// allocation aborts the whole process; as a mapping without reserve it succeeds, the read fails,
/// and the file is that file's error. Large buffers this program fills itself are checked against
/// the memory the machine has before they are allocated.
pub struct Reserveless;

impl Reserveless {
    /// True when `layout` is served by a mapping.
    fn mapped(layout: std::alloc::Layout) -> bool {
        cfg!(target_os = "linux")
            && layout.size() >= RESERVELESS_BYTES
            && layout.align() <= MAPPING_ALIGN
    }

    /// A fresh mapping of `bytes` (zeroed), or null.
    fn map(bytes: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: an anonymous private mapping owned by nobody else; failure is MAP_FAILED.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            mapping_or_null(p)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = bytes;
            std::ptr::null_mut()
        }
    }
}

/// The block `mmap` or `mremap` returned, or null where they failed, as an allocator answers.
#[cfg(target_os = "linux")]
fn mapping_or_null(p: *mut libc::c_void) -> *mut u8 {
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p as *mut u8
    }
}

// SAFETY: every block is served either by `System` or by a mapping of exactly its size, decided
// by its layout alone (`Reserveless::mapped`), so it is freed and resized by the same means;
// mappings are page-aligned and zeroed, meeting the alignments they accept.
unsafe impl std::alloc::GlobalAlloc for Reserveless {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if Self::mapped(layout) {
            Self::map(layout.size())
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { std::alloc::System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if Self::mapped(layout) {
            Self::map(layout.size())
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { std::alloc::System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if Self::mapped(layout) {
            #[cfg(target_os = "linux")]
            // SAFETY: `ptr` is a mapping of `layout.size()` bytes made by `map`.
            unsafe {
                libc::munmap(ptr as *mut libc::c_void, layout.size());
            }
        } else {
            // SAFETY: the caller's contract, passed on.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`, fits isize.
        let new =
            unsafe { std::alloc::Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (Self::mapped(layout), Self::mapped(new)) {
            // SAFETY: the caller's contract, passed on.
            (false, false) => unsafe { std::alloc::System.realloc(ptr, layout, new_size) },
            #[cfg(target_os = "linux")]
            (true, true) => {
                // SAFETY: `ptr` is a mapping of `layout.size()` bytes made by `map`; the moved or
                // grown mapping keeps its flags.
                let p = unsafe {
                    libc::mremap(
                        ptr as *mut libc::c_void,
                        layout.size(),
                        new_size,
                        libc::MREMAP_MAYMOVE,
                    )
                };
                mapping_or_null(p)
            }
            _ => {
                // SAFETY: a fresh block of the new layout, the old one's bytes copied into it,
                // then the old one freed by the means that made it.
                unsafe {
                    let fresh = self.alloc(new);
                    if !fresh.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    fresh
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn meminfo_lines_are_read_in_kib() {
        let text = "MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(super::meminfo_kib(text, "MemAvailable:"), Some(20_000_000));
        assert_eq!(super::meminfo_kib(text, "Cached:"), None);
    }

    #[test]
    fn byte_counts_are_described_in_the_unit_that_fits() {
        assert_eq!(super::describe_bytes(12_345_678_901), "12.3 GB");
        assert_eq!(super::describe_bytes(240_400_000), "240 MB");
        assert_eq!(super::describe_bytes(12_300), "12 kB");
        assert_eq!(super::describe_bytes(512), "512 bytes");
    }
}
