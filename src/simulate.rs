//! Read simulation with known truth, to measure aligners (`swmap simulate`).
//!
//! The pipeline: `genome` draws SNPs and 1-5 base indels into a haplotype of each contig
//! (the variant list maps it back to the reference); fragments are drawn from the haplotype,
//! contigs weighted by length, either strand with equal chance; `sequencer` reads them with
//! Illumina-like errors and qualities. Paired fragments have length Normal(insert, sd),
//! clipped to at least the read length; mate 1 is read from the fragment's start on its
//! strand and mate 2 from the other end, reverse-complemented (FR, as Illumina). No read
//! overlaps an N of the reference. Everything follows from `--seed`.
//!
//! Output, for `-o PREFIX`:
//! - `PREFIX.fq` (single) or `PREFIX_1.fq` and `PREFIX_2.fq` (paired, in the same order, mates
//!   sharing one name, without `/1` `/2`). Names are described in `read_name`:
//!   `swmap:<index>:<pos1><strand1>[,<pos2><strand2>]:<contig>`.
//! - `PREFIX.truth.tsv`: one line per read, after a `#` header line, with the columns
//!   `name mate contig pos strand cigar seq_subs seq_indels snps variant_indels`: `mate` is 1
//!   or 2 (1 for single reads), `pos` 1-based as in the name, `cigar` the read's true
//!   alignment to the reference (see `sequencer::SimRead::cigar`), then the counts of
//!   sequencing substitutions, sequencing 1-base indels, SNPs and indel variants in the read.
//! - `PREFIX.variants.tsv`: the haplotype's variants, after a `#` header line, with the columns
//!   `contig pos kind ref alt`: `pos` is the 1-based first reference base affected (for an
//!   insertion, the base it precedes), `kind` is `SNP`, `INS` or `DEL`, and `ref`/`alt` are
//!   the reference and haplotype bases (`-` for none).

/// Variants and the mutated haplotype.
mod genome;
/// The read-name format.
pub(crate) mod read_name;
/// Sequencing errors, qualities and the true alignment of a read.
pub(crate) mod sequencer;
/// Fragments drawn from the haplotype and sequenced.
mod simulator;

use crate::error::{Error, Result};
use crate::io::fasta::{self, Contig};
use crate::io::output::{self, OutputFile};
pub use genome::{Variant, VariantKind};
pub use read_name::{MateOrigin, SimulatedName};
pub use sequencer::{ReadErrors, SimRead, Strand};
pub use simulator::{Fragment, Simulator};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Fragment-length distribution of paired reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsertSize {
    /// Mean fragment length in bases (`--insert`); above 0.
    pub mean: f64,
    /// Standard deviation in bases (`--insert-sd`); a fragment is never shorter than a read.
    pub sd: f64,
}

/// What to simulate. Build it, then [`SimulateOptions::validate`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimulateOptions {
    /// Number of fragments: reads when single, pairs when paired.
    pub fragments: u64,
    /// Length of every read, in bases (`-l`, at least 1).
    pub read_len: usize,
    /// `Some` for paired reads.
    pub paired: Option<InsertSize>,
    /// Mean sequencing error rate per base.
    pub error_rate: f64,
    /// SNP rate per reference base.
    pub snp_rate: f64,
    /// Indel-variant rate per reference base.
    pub indel_rate: f64,
    /// Random seed: the same seed and options give the same reads.
    pub seed: u64,
}

impl SimulateOptions {
    /// Checks ranges and combinations, with a sentence a user can act on.
    pub fn validate(&self) -> Result<()> {
        let rate_ok = |r: f64| (0.0..1.0).contains(&r);
        if self.read_len == 0 {
            return Err(Error::Options("the read length (-l) must be at least 1".into()));
        }
        if !rate_ok(self.error_rate) || self.error_rate > 0.5 {
            return Err(Error::Options(format!("--error {} is out of range: use 0 to 0.5", self.error_rate)));
        }
        if !rate_ok(self.snp_rate) || !rate_ok(self.indel_rate) || self.snp_rate + self.indel_rate > 0.5 {
            return Err(Error::Options(format!(
                "--snp {} and --indel {} must each be at least 0 and together at most 0.5",
                self.snp_rate, self.indel_rate
            )));
        }
        if let Some(InsertSize { mean, sd }) = self.paired {
            if !(mean.is_finite() && mean > 0.0 && sd.is_finite() && sd >= 0.0) {
                return Err(Error::Options(format!(
                    "--insert {mean} --insert-sd {sd}: the mean must be above 0 and the sd at least 0"
                )));
            }
        }
        Ok(())
    }
}

/// What [`simulate`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulationSummary {
    /// Fragments drawn (as asked).
    pub fragments: u64,
    /// Reads written: `fragments`, or twice that when paired.
    pub reads: u64,
    /// Variants put into the haplotype, all contigs together.
    pub variants: usize,
    /// The FASTQ files, the truth TSV, the variants TSV.
    pub files: Vec<PathBuf>,
}

/// Simulates reads from the FASTA at `reference` into files named from `prefix` (see the
/// module documentation).
pub fn simulate(reference: &Path, prefix: &Path, options: &SimulateOptions) -> Result<SimulationSummary> {
    options.validate()?;
    let contigs = fasta::read_fasta(reference)?;
    let mut sim = Simulator::new(&contigs, options)?;
    let with_suffix = |suffix: &str| {
        let mut p = prefix.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let mut files = match options.paired {
        Some(_) => vec![with_suffix("_1.fq"), with_suffix("_2.fq")],
        None => vec![with_suffix(".fq")],
    };
    files.push(with_suffix(".truth.tsv"));
    let variants_path = with_suffix(".variants.tsv");
    for file in files.iter().chain([&variants_path]) {
        output::check_not_an_input(file, &[reference])?;
    }
    // Every file is written under a temporary name and all are renamed together at the end:
    // a failed or killed run leaves none of them, rather than a complete-looking FASTQ.
    let (mut writers, mut guards): (Vec<_>, Vec<_>) =
        files.iter().map(|p| create(p)).collect::<Result<Vec<_>>>()?.into_iter().unzip();
    let (fastqs, truth) = writers.split_at_mut(files.len() - 1);
    let truth_path = &files[files.len() - 1];
    writeln!(truth[0], "#name\tmate\tcontig\tpos\tstrand\tcigar\tseq_subs\tseq_indels\tsnps\tvariant_indels")
        .map_err(|e| Error::io(truth_path, e))?;
    let mut line = Vec::new();
    let mut reads = 0;
    for _ in 0..options.fragments {
        let fragment = sim.next_fragment()?;
        let name = fragment.name(&contigs).to_string();
        for (mate, read) in fragment.reads.iter().enumerate() {
            line.clear();
            fastq_record(&name, read, &mut line);
            fastqs[mate].write_all(&line).map_err(|e| Error::io(&files[mate], e))?;
            let e = read.errors;
            writeln!(
                truth[0],
                "{name}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                mate + 1,
                contigs[fragment.contig].name,
                read.pos + 1,
                read.strand.symbol(),
                read.cigar,
                e.seq_subs,
                e.seq_indels,
                e.snps,
                e.variant_indels
            )
            .map_err(|e| Error::io(truth_path, e))?;
            reads += 1;
        }
    }
    for (writer, path) in writers.iter_mut().zip(&files) {
        writer.flush().map_err(|e| Error::io(path, e))?;
    }
    drop(writers);
    guards.push(write_variants(&variants_path, &contigs, &sim)?);
    for guard in guards {
        guard.commit()?;
    }
    files.push(variants_path);
    let variants = (0..contigs.len()).map(|i| sim.variants(i).len()).sum();
    Ok(SimulationSummary { fragments: options.fragments, reads, variants, files })
}

fn write_variants(path: &Path, contigs: &[Contig], sim: &Simulator<'_>) -> Result<OutputFile> {
    let (mut w, guard) = create(path)?;
    let text = |codes: &[u8]| -> String {
        if codes.is_empty() {
            "-".into()
        } else {
            codes.iter().map(|&c| crate::dna::decode(c) as char).collect()
        }
    };
    let mut write = || -> std::io::Result<()> {
        writeln!(w, "#contig\tpos\tkind\tref\talt")?;
        for (i, contig) in contigs.iter().enumerate() {
            for v in sim.variants(i) {
                let p = v.pos as usize;
                let (kind, reference, alt) = match &v.kind {
                    VariantKind::Snp(alt) => ("SNP", &contig.seq[p..p + 1], std::slice::from_ref(alt)),
                    VariantKind::Insertion(bases) => ("INS", &[][..], &bases[..]),
                    VariantKind::Deletion(len) => ("DEL", &contig.seq[p..p + *len as usize], &[][..]),
                };
                writeln!(w, "{}\t{}\t{kind}\t{}\t{}", contig.name, p + 1, text(reference), text(alt))?;
            }
        }
        w.flush()
    };
    write().map_err(|e| Error::io(path, e))?;
    Ok(guard)
}

fn create(path: &Path) -> Result<(BufWriter<File>, OutputFile)> {
    let (file, guard) = OutputFile::create(path, &[])?;
    Ok((BufWriter::with_capacity(1 << 16, file), guard))
}

/// Appends one FASTQ record (qualities as Phred+33).
fn fastq_record(name: &str, read: &SimRead, out: &mut Vec<u8>) {
    out.push(b'@');
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    out.extend(read.bases.iter().map(|&b| crate::dna::decode(b)));
    out.extend_from_slice(b"\n+\n");
    out.extend(read.quals.iter().map(|&q| q + 33));
    out.push(b'\n');
}

/// Small options shared by the simulator's unit tests.
#[cfg(test)]
pub(crate) fn test_options(paired: bool) -> SimulateOptions {
    SimulateOptions {
        fragments: 200,
        read_len: 100,
        paired: paired.then_some(InsertSize { mean: 300.0, sd: 30.0 }),
        error_rate: 0.02,
        snp_rate: 0.01,
        indel_rate: 0.002,
        seed: 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(paired: bool) -> SimulateOptions {
        test_options(paired)
    }

    #[test]
    fn validation_rejects_nonsense() {
        let mut o = options(false);
        o.read_len = 0;
        assert!(o.validate().is_err());
        let mut o = options(true);
        o.paired = Some(InsertSize { mean: -1.0, sd: 1.0 });
        assert!(o.validate().unwrap_err().to_string().contains("--insert"));
        let mut o = options(false);
        o.error_rate = 1.5;
        assert!(o.validate().is_err());
    }
}
