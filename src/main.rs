//! The `hotpixels` binary: parses the command line, runs the library, maps the outcome to an exit code.

fn main() -> std::process::ExitCode {
    hotpixels::cli::main(std::env::args_os())
}
