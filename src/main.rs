//! The `swmap` command: a thin layer over the library. Arguments are parsed by clap, turned
//! into validated options by each subcommand, and library errors become one line on stderr.

use clap::Parser;
use std::process::ExitCode;
use swmap::cli::{Cli, Command};

fn main() -> ExitCode {
    // First, while the process has one thread: every thread started later inherits the
    // blocked signals, which one thread of ours receives to remove temporary output files.
    swmap::io::output::remove_temporary_files_on_signals();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => swmap::cli::index::run(args),
        Command::Map(args) => swmap::cli::map::run(args),
        Command::Simulate(args) => swmap::cli::simulate::run(args),
        Command::Eval(args) => swmap::cli::eval::run(args),
        Command::Bench(args) => swmap::cli::bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            swmap::cli::print_stderr(format_args!("swmap: error: {e}"));
            ExitCode::FAILURE
        }
    }
}
