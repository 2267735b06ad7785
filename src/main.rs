//! The `hotpixels` binary: the command line in front of the library. Parses the arguments into a
//! validated config per subcommand ([`cli`]), runs it, and maps the outcome to an exit code.

mod cli;

/// Huge buffers a decoder sizes from a crafted file's counts do not abort the program
/// ([`hotpixels::mem::Reserveless`]).
#[global_allocator]
static ALLOCATOR: hotpixels::mem::Reserveless = hotpixels::mem::Reserveless;

fn main() -> std::process::ExitCode {
    // Frame-sized buffers a decoder frees are reused, not faulted in anew for every file.
    hotpixels::mem::reuse_freed_memory();
    // No display session: Mesa's Vulkan layers print no errors about one.
    hotpixels::stats::gpu::quiet_headless_vulkan();
    cli::main(std::env::args_os())
}
