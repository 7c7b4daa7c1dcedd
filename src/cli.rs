//! Command-line front end: one file per subcommand, each with its clap arguments and a `run`
//! that validates them into library options before any work starts.

pub mod bench;
pub mod eval;
pub mod index;
pub mod map;
pub mod simulate;

use clap::{Parser, Subcommand};

/// Prints one line on stderr, always (errors). A closed or full stderr (`2>/dev/full`,
/// `2>&1 | head -1`) is not an error worth dying for once the output is written, so failures
/// are ignored (where `eprintln!` would panic).
pub fn print_stderr(line: std::fmt::Arguments<'_>) {
    swmap::io::log::line(swmap::io::log::ERROR, line);
}

/// A progress or summary line, unless `-v` is below 3 ([`swmap::io::log`]).
pub fn message(line: std::fmt::Arguments<'_>) {
    swmap::io::log::line(swmap::io::log::MESSAGE, line);
}

/// A warning, unless `-v` is below 2.
pub fn warning(line: std::fmt::Arguments<'_>) {
    swmap::io::log::line(swmap::io::log::WARNING, line);
}

#[derive(Parser, Debug)]
#[command(
    name = "swmap",
    version = swmap::VERSION,
    about = "GPU-accelerated short-read aligner (Smith-Waterman in WGSL through wgpu, byte-identical CPU backend)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
