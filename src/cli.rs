//! The `swmap` command line: one file per subcommand, each with its clap arguments and a
//! `run` that validates them into library options before any work starts. The program
//! (`src/main.rs`) is [`main`] and nothing else; library errors become one line on stderr
//! here.
//!
//! A binding that takes `swmap map`'s options by name (the Python module) reads them through
//! the program's own parser and checks: [`map_flag`] names an option's flag, [`map_setup`]
//! turns a command line into mapping options, and [`map_with`] runs a whole `swmap map`
//! against an index and backend the binding already holds.

mod bench;
mod eval;
mod index;
mod log;
mod map;
mod simulate;

pub use map::{map_flag, map_setup, map_with, MapSetup};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The `swmap` program: parses the command line, runs the subcommand, and turns its result
/// into an exit code (a closed output pipe is a normal end; any other error is one line on
/// stderr and exit code 1).
pub fn main() -> ExitCode {
    // First, while the process has one thread: every thread started later inherits the
    // blocked signals, which one thread of ours receives to remove temporary output files.
    crate::io::output::remove_temporary_files_on_signals();
    crate::index::exit_on_bus_errors();
    keep_freed_memory();
    log::install();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => index::run(args),
        Command::Map(args) => map::run(*args),
        Command::Simulate(args) => simulate::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            print_stderr(format_args!("swmap: error: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// Keeps freed memory in the process for the next chunk. glibc's allocator otherwise hands
/// memory back as soon as a thread's heap shrinks, takes it again in 128 KiB steps and maps
/// large blocks apart; a mapping run allocates and frees the same few large buffers every
/// chunk, and each heap change takes the process's memory-map lock that page faults on every
/// thread wait for. Heaps then grow 32 MiB at a time and only blocks over 32 MiB are mapped
/// apart (on 100,000 chr20 pairs: about a quarter of the `mprotect` calls and a sixth fewer
/// page faults, for 10 MiB more peak memory). For the program only: the library leaves its
/// host's allocator alone.
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

/// Prints one line on stderr, always (errors). A closed or full stderr (`2>/dev/full`,
/// `2>&1 | head -1`) is not an error worth dying for once the output is written, so failures
/// are ignored (where `eprintln!` would panic).
fn print_stderr(line: std::fmt::Arguments<'_>) {
    log::line(log::ERROR, line);
}

/// A progress or summary line, unless `-v` is below 3 ([`log`]).
fn message(line: std::fmt::Arguments<'_>) {
    log::line(log::MESSAGE, line);
}

/// A warning, unless `-v` is below 2.
fn warning(line: std::fmt::Arguments<'_>) {
    log::line(log::WARNING, line);
}

#[derive(Parser, Debug)]
#[command(
    name = "swmap",
    version = crate::VERSION,
    about = "GPU-accelerated short-read aligner (Smith-Waterman in WGSL through wgpu, byte-identical CPU backend)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build an on-disk index from a reference FASTA (plain or gzip).
    Index(index::Args),
    /// Align single or paired reads (FASTQ or FASTA, plain or gzip, or stdin) to SAM or BAM.
    #[command(disable_help_flag = true)]
    Map(Box<map::Args>),
    /// Simulate Illumina-like reads with their true origin in the read names.
    Simulate(simulate::Args),
    /// Score a SAM/BAM from any aligner against the true origins in the read names.
    Eval(eval::Args),
    /// Measure alignment-kernel throughput (GCUPS) on the GPU and the CPU.
    Bench(bench::Args),
}
