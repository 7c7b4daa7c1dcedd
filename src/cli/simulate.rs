//! `swmap simulate`: Illumina-like reads with their true origin in the read names (see
//! [`crate::simulate`] for the model and the output files).

use crate::error::{Error, Result};
use crate::simulate::{simulate, InsertSize, SimulateOptions};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Reference FASTA (plain or gzip).
    pub reference: PathBuf,
    /// Number of reads (of pairs with --paired).
    #[arg(short = 'n', long = "reads", value_name = "N")]
    pub fragments: u64,
    /// Read length.
    #[arg(short = 'l', long = "length", default_value_t = 150)]
    pub read_len: usize,
    /// Simulate pairs: PREFIX_1.fq and PREFIX_2.fq, FR orientation.
    #[arg(long)]
    pub paired: bool,
    /// Mean fragment length of pairs [default: 400].
    #[arg(long)]
    pub insert: Option<f64>,
    /// Standard deviation of the fragment length [default: 50].
    #[arg(long = "insert-sd")]
    pub insert_sd: Option<f64>,
    /// Mean sequencing error rate per base (90% substitutions, 10% 1-base indels).
    #[arg(long, default_value_t = 0.01)]
    pub error: f64,
    /// SNP rate per reference base.
    #[arg(long, default_value_t = 0.001)]
    pub snp: f64,
    /// Indel rate per reference base (1-5 bases).
    #[arg(long, default_value_t = 0.0002)]
    pub indel: f64,
    /// Random seed; the same seed and settings give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output prefix: writes PREFIX.fq (or PREFIX_1.fq, PREFIX_2.fq), PREFIX.truth.tsv and
    /// PREFIX.variants.tsv.
    #[arg(short = 'o', long = "output")]
    pub prefix: PathBuf,
}

impl Args {
    fn options(&self) -> Result<SimulateOptions> {
        if !self.paired && (self.insert.is_some() || self.insert_sd.is_some()) {
            return Err(Error::Options("--insert and --insert-sd only apply with --paired".into()));
        }
        let insert = InsertSize { mean: self.insert.unwrap_or(400.0), sd: self.insert_sd.unwrap_or(50.0) };
        let options = SimulateOptions {
            fragments: self.fragments,
            read_len: self.read_len,
            paired: self.paired.then_some(insert),
            error_rate: self.error,
            snp_rate: self.snp,
            indel_rate: self.indel,
            seed: self.seed,
        };
        options.validate()?;
        Ok(options)
    }
}

/// Validates the arguments, simulates, and reports the files written on stderr.
pub fn run(args: Args) -> Result<()> {
    let options = args.options()?;
    let summary = simulate(&args.reference, &args.prefix, &options)?;
    let files: Vec<String> = summary.files.iter().map(|p| p.display().to_string()).collect();
    super::message(format_args!(
        "swmap simulate: {} reads from {} fragments, {} variants in the haplotype; wrote {}",
        summary.reads,
        summary.fragments,
        summary.variants,
        files.join(", ")
    ));
    Ok(())
}
