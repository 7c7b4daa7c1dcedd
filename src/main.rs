//! The `swmap` command: a thin layer over the library. Arguments are parsed by clap, turned
//! into validated options by each subcommand, and library errors become one line on stderr.

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // First, while the process has one thread: every thread started later inherits the
    // blocked signals, which one thread of ours receives to remove temporary output files.
    swmap::io::output::remove_temporary_files_on_signals();
    swmap::index::exit_on_bus_errors();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => cli::index::run(args),
        Command::Map(args) => cli::map::run(*args),
        Command::Simulate(args) => cli::simulate::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Bench(args) => cli::bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            cli::print_stderr(format_args!("swmap: error: {e}"));
            ExitCode::FAILURE
        }
    }
}
