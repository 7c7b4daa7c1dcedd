//! The sequencing machine: reads a template (haplotype bases in read order) into a read with
//! Illumina-like errors and qualities, and works out the read's true alignment to the
//! reference.
//!
//! Error model: the chance of an error at read position `i` of `L` is
//! `rate * (0.5 + 1.5 x^2)` with `x = i / (L - 1)`, which averages to `rate` over the read and
//! rises toward the 3' end as on Illumina machines. An error is a substitution 90% of the time,
//! an extra base (1-base insertion) 5% and a skipped template base (1-base deletion) 5%.
//! A substitution never turns a SNP back into the reference base, so that "mismatches against
//! the reference = substitutions + SNPs" holds exactly for reads without indels.
//!
//! Quality model: a correct base gets `37 - 10 x^2` plus Normal(0, 2) noise; an erroneous or
//! inserted base gets a uniform 3-20. Both are clamped to 2-41 (Phred).

use super::genome::HapBase;
use crate::align::{Cigar, CigarOp};
use crate::dna;
use crate::rng::Rng;

/// Share of errors that are substitutions; the rest split evenly into insertions and
/// deletions.
const SUBSTITUTION_SHARE: f64 = 0.9;

/// What happened to the read, counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadErrors {
    /// Sequencing substitutions.
    pub seq_subs: u32,
    /// Sequencing insertions plus deletions (each 1 base).
    pub seq_indels: u32,
    /// SNPs of the haplotype inside the read.
    pub snps: u32,
    /// Indel variants of the haplotype inside the read (each event once, whatever its length).
    pub variant_indels: u32,
}

/// Which reference strand a read comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strand {
    /// The reference as written (`+`; SAM flag 0x10 clear).
    Forward,
    /// Its reverse complement (`-`; SAM flag 0x10 set).
    Reverse,
}

impl Strand {
    /// `+` or `-`, as in read names.
    pub fn symbol(self) -> char {
        match self {
            Strand::Forward => '+',
            Strand::Reverse => '-',
        }
    }

    /// The other strand (a mate's, in FR pairs).
    pub fn opposite(self) -> Strand {
        match self {
            Strand::Forward => Strand::Reverse,
            Strand::Reverse => Strand::Forward,
        }
    }
}

/// One simulated read and its truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimRead {
    /// Base codes as sequenced (read orientation).
    pub bases: Vec<u8>,
    /// Raw Phred qualities, same orientation.
    pub quals: Vec<u8>,
    /// The strand the read was sequenced from.
    pub strand: Strand,
    /// 0-based leftmost reference position of the read's aligned part.
    pub pos: u32,
    /// True alignment to the reference, left to right on the forward strand (reverse-strand
    /// reads are reverse-complemented first, as in SAM). Hap insertions and sequencing
    /// insertions are `I`, hap deletions and skipped bases `D`; no clipping.
    pub cigar: Cigar,
    /// Sequencing errors and haplotype variants inside the read, counted.
    pub errors: ReadErrors,
}

/// What became of one template base or one read base, in read order.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// A template base read into the read.
    Read(HapBase),
    /// A template base the machine skipped.
    Skipped(HapBase),
    /// A read base with no template base.
    Extra,
}

/// Error model settings.
#[derive(Clone, Copy, Debug)]
pub struct Sequencer {
    /// Length of every read, in bases.
    pub read_len: usize,
    /// Mean per-base error rate.
    pub error_rate: f64,
}

impl Sequencer {
    /// Sequences `read_len` bases off `template` (already in read orientation: complemented
    /// and reversed for a reverse-strand read). `None` when the template runs out or the read
    /// would cover an N.
    pub fn read(&self, template: impl IntoIterator<Item = HapBase>, strand: Strand, rng: &mut Rng) -> Option<SimRead> {
        let len = self.read_len;
        let mut template = template.into_iter();
        let mut bases = Vec::with_capacity(len);
        let mut quals = Vec::with_capacity(len);
        let mut events = Vec::with_capacity(len + 4);
        let mut errors = ReadErrors::default();
        while bases.len() < len {
            let x = if len > 1 { bases.len() as f64 / (len - 1) as f64 } else { 0.0 };
            let mut error = rng.chance(self.error_rate * (0.5 + 1.5 * x * x));
            let kind = rng.uniform();
            let deletion = kind >= (1.0 + SUBSTITUTION_SHARE) / 2.0;
            if error && deletion && bases.is_empty() {
                error = false; // a skip before the first base would only move the read
            }
            if error && kind >= SUBSTITUTION_SHARE {
                errors.seq_indels += 1;
                if !deletion {
                    bases.push(rng.base());
                    quals.push(error_quality(rng));
                    events.push(Event::Extra);
                } else {
                    let t = template.next()?;
                    if t.base == dna::N {
                        return None;
                    }
                    events.push(Event::Skipped(t));
                }
                continue;
            }
            let t = template.next()?;
            if t.base == dna::N {
                return None;
            }
            if error {
                errors.seq_subs += 1;
                bases.push(rng.other_base(t.base, t.ref_base));
                quals.push(error_quality(rng));
            } else {
                bases.push(t.base);
                quals.push(correct_quality(x, rng));
            }
            events.push(Event::Read(t));
        }
        if strand == Strand::Reverse {
            events.reverse();
        }
        let (cigar, pos) = true_alignment(&events, &mut errors)?;
        Some(SimRead { bases, quals, strand, pos, cigar, errors })
    }
}

fn correct_quality(x: f64, rng: &mut Rng) -> u8 {
    (37.0 - 10.0 * x * x + 2.0 * rng.normal()).round().clamp(2.0, 41.0) as u8
}

fn error_quality(rng: &mut Rng) -> u8 {
    3 + rng.below(18) as u8
}

/// CIGAR and leftmost position from events in reference order; also counts the SNPs and
/// indel variants the read covers. Leading and trailing deletions are dropped (an aligner
/// could not see them either). `None` if no base aligns to the reference.
fn true_alignment(events: &[Event], errors: &mut ReadErrors) -> Option<(Cigar, u32)> {
    let mut ops: Vec<(CigarOp, u32)> = Vec::with_capacity(events.len());
    let mut last_ref: Option<u32> = None;
    let mut first_pos = None;
    let mut in_hap_insertion = false;
    for event in events {
        match *event {
            Event::Read(t) | Event::Skipped(t) if t.ref_pos.is_some() => {
                let r = t.ref_pos.unwrap_or_default();
                if let Some(gap) = last_ref.map(|l| r.saturating_sub(l + 1)).filter(|&gap| gap > 0) {
                    ops.push((CigarOp::Deletion, gap));
                    errors.variant_indels += 1;
                }
                last_ref = Some(r);
                in_hap_insertion = false;
                if let Event::Read(t) = event {
                    ops.push((CigarOp::Match, 1));
                    first_pos.get_or_insert(r);
                    errors.snps += t.is_snp() as u32;
                } else {
                    ops.push((CigarOp::Deletion, 1));
                }
            }
            Event::Read(_) => {
                ops.push((CigarOp::Insertion, 1));
                errors.variant_indels += !in_hap_insertion as u32;
                in_hap_insertion = true;
            }
            Event::Skipped(_) => {
                errors.variant_indels += !in_hap_insertion as u32;
                in_hap_insertion = true;
            }
            Event::Extra => ops.push((CigarOp::Insertion, 1)),
        }
    }
    let first = ops.iter().position(|(op, _)| *op != CigarOp::Deletion).unwrap_or(ops.len());
    let last = ops.iter().rposition(|(op, _)| *op != CigarOp::Deletion).map_or(first, |i| i + 1);
    let mut cigar = Cigar::default();
    for &(op, n) in &ops[first..last] {
        cigar.push(op, n);
    }
    first_pos.map(|pos| (cigar, pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(pos: u32, base: u8) -> HapBase {
        HapBase { base, ref_base: base, ref_pos: Some(pos) }
    }

    #[test]
    fn error_free_read_is_the_template() {
        let template: Vec<HapBase> = (0..30).map(|i| reference(100 + i, (i % 4) as u8)).collect();
        let seq = Sequencer { read_len: 20, error_rate: 0.0 };
        let mut rng = Rng::new(1);
        let read = seq.read(template.iter().copied(), Strand::Forward, &mut rng).unwrap();
        assert_eq!(read.bases, (0..20).map(|i| (i % 4) as u8).collect::<Vec<_>>());
        assert_eq!((read.pos, read.cigar.to_string()), (100, "20M".to_string()));
        assert!(read.quals.iter().all(|&q| (2..=41).contains(&q)));
        // Reverse strand: template read backwards from position 129, leftmost is 110.
        let rev = template.iter().rev().map(|h| h.complement());
        let read = seq.read(rev, Strand::Reverse, &mut rng).unwrap();
        assert_eq!((read.pos, read.cigar.to_string()), (110, "20M".to_string()));
        assert_eq!(read.errors, ReadErrors::default());
        // Too short a template, or an N: no read.
        assert!(seq.read(template[..19].iter().copied(), Strand::Forward, &mut rng).is_none());
        let mut with_n = template.clone();
        with_n[5].base = dna::N;
        assert!(seq.read(with_n, Strand::Forward, &mut rng).is_none());
    }

    #[test]
    fn variants_show_in_the_cigar_and_counts() {
        let mut template: Vec<HapBase> = (0..10).map(|i| reference(i, 0)).collect();
        template[2].base = 1; // SNP
        template.insert(5, HapBase { base: 2, ref_base: dna::N, ref_pos: None }); // 1-base insertion
        template.retain(|h| h.ref_pos != Some(7) && h.ref_pos != Some(8)); // 2-base deletion
        let seq = Sequencer { read_len: 9, error_rate: 0.0 };
        let read = seq.read(template, Strand::Forward, &mut Rng::new(1)).unwrap();
        assert_eq!(read.cigar.to_string(), "5M1I2M2D1M");
        assert_eq!(read.errors, ReadErrors { snps: 1, variant_indels: 2, ..Default::default() });
    }
}
