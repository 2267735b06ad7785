//! The `hotpixels` binary: the command line in front of the library. Parses the arguments into a
//! validated config per subcommand ([`cli`]), runs it, and maps the outcome to an exit code.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main(std::env::args_os())
}
