//! Drawing fragments from the mutated genome and sequencing them (see [`super`] for the
//! model).

use super::genome::{self, HapBase, Variant};
use super::read_name::{MateOrigin, SimulatedName};
use super::sequencer::{Sequencer, SimRead, Strand};
use super::{InsertSize, SimulateOptions};
use crate::error::{Error, Result};
use crate::io::fasta::Contig;
use crate::rng::Rng;

/// One fragment's reads: one read, or mate 1 then mate 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// 0-based, dense.
    pub index: u64,
    /// Index into the contigs given to [`Simulator::new`].
    pub contig: usize,
    /// The reads: one, or mate 1 then mate 2.
    pub reads: Vec<SimRead>,
}

/// Haplotype bases read past a fragment's end, for reads that skip template bases.
const SLACK: usize = 32;
/// Tries to place one fragment before giving up on the reference.
const MAX_TRIES: u32 = 100_000;

/// Draws fragments one after another from a mutated copy of the contigs.
pub struct Simulator<'a> {
    contigs: &'a [Contig],
    variants: Vec<Vec<Variant>>,
    /// Cumulative contig lengths, for drawing a position weighted by length.
    ends: Vec<u64>,
    options: SimulateOptions,
    sequencer: Sequencer,
    rng: Rng,
    next_index: u64,
    hap: Vec<HapBase>,
}

impl<'a> Simulator<'a> {
    /// Mutates the contigs (the variants depend on the seed only, not on the read settings).
    pub fn new(contigs: &'a [Contig], options: &SimulateOptions) -> Result<Simulator<'a>> {
        options.validate()?;
        if !contigs.iter().any(|c| c.seq.len() >= options.read_len) {
            return Err(Error::Options(format!(
                "no reference sequence is as long as a read ({} bases)",
                options.read_len
            )));
        }
        let mut variant_rng = Rng::new(options.seed);
        let variants = contigs
            .iter()
            .map(|c| genome::mutate(&c.seq, options.snp_rate, options.indel_rate, &mut variant_rng))
            .collect();
        let ends = contigs
            .iter()
            .scan(0u64, |end, c| {
                *end += c.seq.len() as u64;
                Some(*end)
            })
            .collect();
        Ok(Simulator {
            contigs,
            variants,
            ends,
            options: options.clone(),
            sequencer: Sequencer { read_len: options.read_len, error_rate: options.error_rate },
            rng: Rng::new(options.seed ^ 0x5eed_5eed_5eed_5eed),
            next_index: 0,
            hap: Vec::new(),
        })
    }

    /// The variants of contig `i`, sorted by position.
    pub fn variants(&self, i: usize) -> &[Variant] {
        &self.variants[i]
    }

    /// The next fragment; an error if none can be placed (reference too short or too full of
    /// Ns for the read and fragment lengths).
    pub fn next_fragment(&mut self) -> Result<Fragment> {
        let read_len = self.options.read_len;
        let total = *self.ends.last().unwrap_or(&0);
        for _ in 0..MAX_TRIES {
            let frag_len = match self.options.paired {
                Some(InsertSize { mean, sd }) => {
                    ((mean + sd * self.rng.normal()).round().max(0.0) as usize).max(read_len)
                }
                None => read_len,
            };
            let global = self.rng.below(total);
            let contig = self.ends.partition_point(|&end| end <= global);
            let start = global - contig.checked_sub(1).map_or(0, |i| self.ends[i]);
            let seq = &self.contigs[contig].seq;
            genome::haplotype_from(seq, &self.variants[contig], start as u32, frag_len + SLACK, &mut self.hap);
            if self.hap.len() < frag_len {
                continue;
            }
            let strand = if self.rng.chance(0.5) { Strand::Forward } else { Strand::Reverse };
            if let Some(reads) = self.read_fragment(frag_len, strand) {
                let index = self.next_index;
                self.next_index += 1;
                return Ok(Fragment { index, contig, reads });
            }
        }
        Err(Error::Options(format!(
            "could not place a fragment in {MAX_TRIES} tries: the reference is too short or has too many Ns for \
             reads of {read_len} bases{}",
            if self.options.paired.is_some() { " and this insert size" } else { "" }
        )))
    }

    /// Sequences the fragment in `self.hap[..frag_len]`; `None` if a read fails (covers an N,
    /// or runs out of template).
    fn read_fragment(&mut self, frag_len: usize, strand: Strand) -> Option<Vec<SimRead>> {
        let hap = &self.hap;
        let forward = || hap.iter().copied();
        let reverse = || hap[..frag_len].iter().rev().map(|h| h.complement());
        let (seq, rng) = (&self.sequencer, &mut self.rng);
        if self.options.paired.is_none() {
            return Some(vec![match strand {
                Strand::Forward => seq.read(forward(), strand, rng)?,
                Strand::Reverse => seq.read(reverse(), strand, rng)?,
            }]);
        }
        let from_start = seq.read(forward(), Strand::Forward, rng)?;
        let from_end = seq.read(reverse(), Strand::Reverse, rng)?;
        Some(match strand {
            Strand::Forward => vec![from_start, from_end],
            Strand::Reverse => vec![from_end, from_start],
        })
    }
}

impl Fragment {
    /// The read name shared by the fragment's reads.
    pub fn name(&self, contigs: &[Contig]) -> SimulatedName {
        let origin = |r: &SimRead| MateOrigin { pos: r.pos as u64 + 1, strand: r.strand };
        SimulatedName {
            index: self.index,
            contig: contigs[self.contig].name.clone(),
            mate1: origin(&self.reads[0]),
            mate2: self.reads.get(1).map(origin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(paired: bool) -> SimulateOptions {
        crate::simulate::test_options(paired)
    }

    #[test]
    fn pairs_face_each_other_and_lie_inside_the_contig() {
        let mut rng = Rng::new(9);
        let contigs = vec![Contig { name: "c".into(), seq: (0..5000).map(|_| rng.base()).collect() }];
        let mut sim = Simulator::new(&contigs, &options(true)).unwrap();
        for i in 0..200 {
            let f = sim.next_fragment().unwrap();
            assert_eq!(f.index, i);
            let (a, b) = (&f.reads[0], &f.reads[1]);
            assert_eq!(a.strand, b.strand.opposite());
            let (left, right) = if a.strand == Strand::Forward { (a, b) } else { (b, a) };
            let right_end = right.pos + right.cigar.reference_len();
            assert!(left.pos <= right.pos && right_end as usize <= 5000);
            // The outer distance is the fragment length, within what indels allow.
            let outer = (right_end - left.pos) as i64;
            assert!((90..700).contains(&outer), "{outer}");
            assert_eq!(a.cigar.query_len() as usize, 100);
        }
    }

    #[test]
    fn too_short_or_all_n_references_are_errors() {
        let contigs = vec![Contig { name: "c".into(), seq: vec![0; 50] }];
        assert!(Simulator::new(&contigs, &options(false)).is_err());
        let contigs = vec![Contig { name: "c".into(), seq: vec![crate::dna::N; 500] }];
        assert!(Simulator::new(&contigs, &options(false)).unwrap().next_fragment().is_err());
    }
}
