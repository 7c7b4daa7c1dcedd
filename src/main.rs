//! The `swmap` command: a thin layer over the library. Arguments are parsed by clap, turned
//! into validated options by each subcommand, and library errors become one line on stderr.

mod cli;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// glibc's allocator hands memory back to the system as soon as a thread's heap shrinks and
/// takes it again in 128 KiB steps, and puts large blocks in mappings of their own; a mapping
/// run allocates and frees the same few large buffers every chunk, so it kept growing and
/// shrinking its heaps (5,600 `mprotect` calls on 100,000 chr20 pairs, 60,000 page faults),
/// each change taking the process's memory-map lock that page faults on every thread need.
/// Freed memory is now kept for the next chunk, heaps grow 32 MiB at a time and only blocks
/// over 32 MiB are mapped apart: 1,250 `mprotect` calls and 49,000 page faults, system time
/// 0.21-0.27 -> 0.16-0.19 s of 2 s of CPU, peak memory 280 -> 290 MiB. For the program
/// only: a library leaves its host's allocator alone.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any other thread
    // exists. A value it refuses leaves that parameter as it was.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 32 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

fn main() -> ExitCode {
    // First, while the process has one thread: every thread started later inherits the
    // blocked signals, which one thread of ours receives to remove temporary output files.
    swmap::io::output::remove_temporary_files_on_signals();
    swmap::index::exit_on_bus_errors();
    keep_freed_memory();
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
