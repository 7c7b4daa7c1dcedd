//! The `swmap` program: the library's command line ([`swmap::cli::main`]).

fn main() -> std::process::ExitCode {
    swmap::cli::main()
}
