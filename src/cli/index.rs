//! `swmap index`: build the on-disk index of a reference FASTA.

use crate::error::{Error, Result};
use crate::index::{default_index_path, Index, IndexParams};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Reference FASTA, plain or gzip/bgzip ('-' for stdin).
    pub reference: PathBuf,
    /// Index file to write [default: the reference's name with .swi instead of .fa/.fasta/.fna(.gz)].
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// k-mer length of the seeds.
    #[arg(short = 'k', default_value_t = IndexParams::default().k)]
    pub k: u32,
    /// Minimizer window (in k-mers).
    #[arg(short = 'w', default_value_t = IndexParams::default().w)]
    pub w: u32,
    /// Worker threads [default: all cores].
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
}

/// The most worker threads `-t` accepts: far beyond any machine's cores, and low enough that
/// creating them (twice: the rayon pool and the BAM compressors) takes moments, not minutes.
pub const MAX_THREADS: usize = 1024;

/// Sets the size of rayon's global pool (once per process; later calls keep the first size).
pub fn set_threads(threads: Option<usize>) -> Result<usize> {
    let n = thread_count(threads)?;
    let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    Ok(n)
}

/// The number of threads `-t` asks for, all cores when not given, checked.
pub fn thread_count(threads: Option<usize>) -> Result<usize> {
    Ok(match threads {
        Some(0) => return Err(Error::Options("--threads must be at least 1".into())),
        Some(n) if n > MAX_THREADS => {
            return Err(Error::Options(format!("--threads {n} is more than swmap runs ({MAX_THREADS} at most)")))
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

/// Peak resident memory of this process in MiB, where the OS tells it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(args: Args) -> Result<()> {
    set_threads(args.threads)?;
    let start = Instant::now();
    let output = match &args.output {
        Some(o) => o.clone(),
        None if args.reference.as_os_str() == "-" => {
            return Err(Error::Options("reading the reference from stdin needs -o to name the index file".into()))
        }
        None => default_index_path(&args.reference),
    };
    crate::io::output::check_not_an_input(&output, &[&args.reference])?;
    let index = Index::from_fasta(&args.reference, IndexParams { k: args.k, w: args.w })?;
    index.write(&output)?;
    super::message(format_args!(
        "[swmap index] {} contigs, {} bases, {} seeds ({:.1} bytes each) (k={}, w={}) -> {} in {:.1} s, peak memory {:.0} MiB",
        index.contigs.len(),
        index.total_len(),
        index.entries(),
        index.table_bytes() as f64 / index.entries().max(1) as f64,
        args.k,
        args.w,
        output.display(),
        start.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(0.0)
    ));
    Ok(())
}
