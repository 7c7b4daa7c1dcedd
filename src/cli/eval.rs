//! `swmap eval`: score SAM/BAM files of simulated reads (see [`crate::eval`] for the
//! definitions and the read-name formats understood).

use crate::error::{Error, Result};
use crate::eval::{evaluate, plot, report, EvalOptions, Evaluation};
use crate::io::output::{check_not_an_input, OutputFile};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// SAM or BAM files (plain or gzip; '-' for stdin), each scored on its own.
    #[arg(required = true)]
    pub alignments: Vec<PathBuf>,
    /// Largest distance in bases from the true position for a read to count as correct.
    #[arg(long, default_value_t = 5)]
    pub tolerance: u64,
    /// Number of simulated reads, mates counted singly [default: inferred from the names].
    #[arg(long)]
    pub expected: Option<u64>,
    /// Also write the MAPQ tables of all files as TSV here.
    #[arg(long)]
    pub tsv: Option<PathBuf>,
    /// Also draw fraction mapped against error rate, one line per file, as SVG here.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Also list every wrong read (file, name, flag, contig, position, MAPQ) as TSV here.
    #[arg(long)]
    pub wrong: Option<PathBuf>,
}

/// Scores each file, prints its table on stdout, then writes the TSV and the plot if asked.
pub fn run(args: Args) -> Result<()> {
    if args.alignments.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Error::Options("standard input ('-') can be given only once".into()));
    }
    let inputs: Vec<&Path> = args.alignments.iter().map(PathBuf::as_path).collect();
    let outputs = [&args.tsv, &args.wrong, &args.plot];
    for output in outputs.into_iter().flatten() {
        check_not_an_input(output, &inputs)?;
    }
    let options = EvalOptions { tolerance: args.tolerance, expected: args.expected, keep_wrong: args.wrong.is_some() };
    let mut results: Vec<(String, Evaluation)> = Vec::new();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for (i, path) in args.alignments.iter().enumerate() {
        let eval = evaluate(path, &options)?;
        let label = path.display().to_string();
        if i > 0 {
            writeln!(out).map_err(|e| Error::io("-", e))?;
        }
        report::write_text(&mut out, &label, &eval).map_err(|e| Error::io("-", e))?;
        results.push((label, eval));
    }
    out.flush().map_err(|e| Error::io("-", e))?;
    let curves = || results.iter().map(|(label, e)| (label.as_str(), e));
    if let Some(path) = &args.tsv {
        write_file(path, |w| report::write_tsv(w, curves()))?;
    }
    if let Some(path) = &args.wrong {
        write_file(path, |w| report::write_wrong(w, curves()))?;
    }
    if let Some(path) = &args.plot {
        write_file(path, |w| w.write_all(plot::svg(curves()).as_bytes()))?;
    }
    Ok(())
}

/// Writes one output file (through a temporary name, see [`crate::io::output`]).
fn write_file(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> Result<()> {
    let (file, guard) = OutputFile::create(path, &[])?;
    let mut w = BufWriter::new(file);
    write(&mut w).and_then(|_| w.flush()).map_err(|e| Error::io(path, e))?;
    drop(w);
    guard.commit()
}
