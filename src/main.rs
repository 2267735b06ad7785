//! The `hotpixels` binary: the command line in front of the library. Parses the arguments into a
//! validated config per subcommand ([`cli`]), runs it, and maps the outcome to an exit code.

mod cli;

/// Huge buffers a decoder sizes from a crafted file's counts do not abort the program
/// ([`hotpixels::mem::Reserveless`]).
#[global_allocator]
static ALLOCATOR: hotpixels::mem::Reserveless = hotpixels::mem::Reserveless;

fn main() -> std::process::ExitCode {
    cli::main(std::env::args_os())
}
