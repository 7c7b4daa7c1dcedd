//! Scoring alignments of simulated reads against the truth in their names (`swmap eval`), for
//! SAM or BAM from any aligner.
//!
//! Definitions:
//! - Only primary records count (flags 0x100 and 0x800 are skipped); each is one read. A
//!   second primary record for a read (the same name and the same mate: flags 0x40, 0x80) is
//!   an error naming the record, as is a file with no alignment records at all (or only
//!   secondary and supplementary ones): either would make the table silently wrong.
//! - A read is *mapped* when flag 0x4 is clear and it has a contig and a position.
//! - A mapped read is *correct* when its contig and strand are the true ones and its leftmost
//!   reference position, moved left by leading soft/hard clips (`POS - clip`), is within
//!   `tolerance` of the true leftmost position. (wgsim names give the reverse read's
//!   rightmost base instead; that is compared with the alignment's end plus trailing clips.)
//!   A random read (dwgsim `-y`) is never correct when mapped. Anything else mapped is *wrong*.
//! - MAPQ is capped at 60 for the table; MAPQ 255 ("not available") counts as 0.
//! - *Missing* reads are simulated reads with no primary record. The simulated count is
//!   `--expected` (reads, each mate counting once), or else inferred from the names: fragment
//!   indices are dense from 0 (over the file for swmap, over each contig for dwgsim and wgsim),
//!   so the count is the sum of (largest index + 1), doubled when the records are paired
//!   (flag 0x1). Inference cannot see reads missing after a contig's last present index; pass
//!   `--expected` to be exact.
//!
//! Name formats are in `truth`. [`evaluate`] returns an [`Evaluation`]; [`report`] prints it
//! like `paftools.js mapeval`, one row per MAPQ threshold, and [`plot`] draws the curves.

/// The SVG plot.
pub mod plot;
/// SAM/BAM input.
pub(crate) mod records;
/// Text and TSV output.
pub mod report;
/// Read-name formats.
pub(crate) mod truth;

use crate::error::{Error, Result};
use crate::simulate::sequencer::Strand;
use records::AlignedRead;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use truth::contig_matches;
pub use truth::{Anchor, NameFormat, ReadTruth, TrueOrigin};

/// MAPQ values above this count as this.
pub const MAX_MAPQ: u8 = 60;

/// How to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvalOptions {
    /// Largest distance, in bases, between the aligned and the true position of a correct read.
    pub tolerance: u64,
    /// Number of simulated reads (mates counted singly); `None` infers it from the names.
    pub expected: Option<u64>,
    /// Keep every wrong read in [`Evaluation::wrong_reads`].
    pub keep_wrong: bool,
}

impl Default for EvalOptions {
    fn default() -> EvalOptions {
        EvalOptions { tolerance: 5, expected: None, keep_wrong: false }
    }
}

/// Where the simulated read count came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedFrom {
    /// `--expected`.
    Given,
    /// The fragment indices in the names (or the record count, if larger).
    Names,
}

/// The scores of one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// Simulated reads: the denominator of every fraction.
    pub reads: u64,
    /// Whether `reads` was given or inferred from the names.
    pub expected_from: ExpectedFrom,
    /// Primary records in the file.
    pub records: u64,
    /// Primary records that are mapped (flag 0x4 clear, with a contig and a position).
    pub mapped: u64,
    /// Mapped reads on the true contig and strand, within `tolerance` of the true position (see
    /// the module documentation).
    pub correct: u64,
    /// Primary records that are not mapped.
    pub unmapped: u64,
    /// Simulated reads with no primary record.
    pub missing: u64,
    /// Random reads (no true origin) among the records.
    pub random: u64,
    /// Mapped reads by MAPQ (capped at [`MAX_MAPQ`]).
    pub mapped_by_mapq: Vec<u64>,
    /// Wrong reads by MAPQ.
    pub wrong_by_mapq: Vec<u64>,
    /// Each wrong read, in file order, when the scorer was asked to keep them
    /// (`swmap eval --wrong`); empty otherwise.
    pub wrong_reads: Vec<WrongRead>,
}

/// A mapped read that is not correct: where it was placed, for a look at why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrongRead {
    /// QNAME, which holds the truth.
    pub name: String,
    /// SAM FLAG of the record.
    pub flags: u16,
    /// RNAME it was placed on.
    pub contig: String,
    /// 1-based POS.
    pub pos: u64,
    /// MAPQ (255 for "not available").
    pub mapq: u8,
}

/// One line of the table: the reads mapped with MAPQ at least `min_mapq`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapqRow {
    /// The MAPQ threshold of the row (0 to [`MAX_MAPQ`]).
    pub min_mapq: u8,
    /// Reads mapped with MAPQ at least `min_mapq`.
    pub mapped: u64,
    /// Of those, reads that are not correct.
    pub wrong: u64,
    /// `wrong / mapped` (0 when nothing is mapped).
    pub error_rate: f64,
    /// `mapped / reads`.
    pub fraction_mapped: f64,
}

impl Evaluation {
    /// Mapped reads that are not correct.
    pub fn wrong(&self) -> u64 {
        self.mapped - self.correct
    }

    /// Correct reads with MAPQ at least `q`.
    pub fn correct_at(&self, q: u8) -> u64 {
        let q = q.min(MAX_MAPQ) as usize;
        (q..=MAX_MAPQ as usize).map(|i| self.mapped_by_mapq[i] - self.wrong_by_mapq[i]).sum()
    }

    /// Cumulative rows from MAPQ 60 down to 0: one per MAPQ that some read has, and always
    /// 60, 20 and 0.
    pub fn rows(&self) -> Vec<MapqRow> {
        let (mut mapped, mut wrong) = (0, 0);
        let mut rows = Vec::new();
        for q in (0..=MAX_MAPQ).rev() {
            mapped += self.mapped_by_mapq[q as usize];
            wrong += self.wrong_by_mapq[q as usize];
            if self.mapped_by_mapq[q as usize] > 0 || matches!(q, MAX_MAPQ | 20 | 0) {
                rows.push(MapqRow {
                    min_mapq: q,
                    mapped,
                    wrong,
                    error_rate: ratio(wrong, mapped),
                    fraction_mapped: ratio(mapped, self.reads),
                });
            }
        }
        rows
    }
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Scores a SAM or BAM file (`-` is stdin).
/// An error if a read has two primary records, or if the file has no alignment records.
pub fn evaluate(path: &Path, options: &EvalOptions) -> Result<Evaluation> {
    let mut scorer = Scorer::new(options.tolerance);
    scorer.keep_wrong = options.keep_wrong;
    let mut all = 0u64;
    records::read_alignments(path, |read| {
        all += 1;
        scorer.add(read)
    })?;
    let end = |message: String| Error::input(path, "end of file", message);
    if all == 0 {
        return Err(end("no alignment records (a header at most): nothing to evaluate".into()));
    }
    if scorer.eval.records == 0 {
        return Err(end(format!(
            "no primary alignment records: all {all} are secondary or supplementary (flag 0x100 or 0x800)"
        )));
    }
    scorer.finish(options.expected).map_err(end)
}

/// Accumulates the scores record by record, for any source of records.
#[derive(Clone, Debug)]
pub(crate) struct Scorer {
    tolerance: u64,
    eval: Evaluation,
    /// Largest fragment index per format and contig, for the missing-read count.
    largest_index: HashMap<(NameFormat, String), u64>,
    paired: bool,
    /// (name, mate flags 0x40/0x80) of every primary record so far, to refuse a second one.
    primaries: HashSet<(Box<[u8]>, u16)>,
    /// Keep every wrong read in [`Evaluation::wrong_reads`].
    pub keep_wrong: bool,
}

impl Scorer {
    /// A scorer that allows `tolerance` bases between the aligned and the true position.
    pub fn new(tolerance: u64) -> Scorer {
        let slots = MAX_MAPQ as usize + 1;
        Scorer {
            tolerance,
            eval: Evaluation {
                reads: 0,
                expected_from: ExpectedFrom::Names,
                records: 0,
                mapped: 0,
                correct: 0,
                unmapped: 0,
                missing: 0,
                random: 0,
                mapped_by_mapq: vec![0; slots],
                wrong_by_mapq: vec![0; slots],
                wrong_reads: Vec::new(),
            },
            largest_index: HashMap::new(),
            paired: false,
            primaries: HashSet::new(),
            keep_wrong: false,
        }
    }

    /// Scores one record; an error (a message) if its name holds no truth, or if it is a
    /// second primary record for a read (same name, same mate).
    pub fn add(&mut self, read: &AlignedRead<'_>) -> std::result::Result<(), String> {
        if read.flags & (0x100 | 0x800) != 0 {
            return Ok(());
        }
        let name = std::str::from_utf8(read.name).map_err(|_| "the read name is not UTF-8".to_string())?;
        let mate = read.flags & (0x40 | 0x80);
        if !self.primaries.insert((read.name.into(), mate)) {
            let which = match mate {
                0x40 => " (first mate)",
                0x80 => " (last mate)",
                0 => "",
                _ => " (first and last mate flags both set)",
            };
            return Err(format!(
                "second primary record for read '{name}'{which}: a read has one primary record, \
                 any other is flagged secondary (0x100) or supplementary (0x800)"
            ));
        }
        let origin = TrueOrigin::parse(name)
            .ok_or_else(|| format!("read name '{name}' is in none of the simulator formats swmap, dwgsim or wgsim"))?;
        let e = &mut self.eval;
        e.records += 1;
        self.paired |= read.flags & 0x1 != 0;
        if origin.is_random() {
            e.random += 1;
        } else {
            let group = if origin.format == NameFormat::Swmap { String::new() } else { origin.contig.clone() };
            let largest = self.largest_index.entry((origin.format, group)).or_insert(0);
            *largest = (*largest).max(origin.index);
        }
        let (Some(contig), Some(pos), false) = (read.contig, read.pos, read.flags & 0x4 != 0) else {
            e.unmapped += 1;
            return Ok(());
        };
        let strand = if read.flags & 0x10 != 0 { Strand::Reverse } else { Strand::Forward };
        let segment = if read.flags & 0x80 != 0 || (read.flags & 0x40 == 0 && name.ends_with("/2")) { 1 } else { 0 };
        let contig = String::from_utf8_lossy(contig);
        let correct = origin
            .read(segment, strand)
            .is_some_and(|truth| is_correct(&truth, origin.format, &contig, pos, strand, read, self.tolerance));
        let q = read.mapq.unwrap_or(0).min(MAX_MAPQ) as usize;
        e.mapped += 1;
        e.mapped_by_mapq[q] += 1;
        if correct {
            e.correct += 1;
        } else {
            e.wrong_by_mapq[q] += 1;
            if self.keep_wrong {
                let (name, contig) = (name.to_string(), contig.into_owned());
                e.wrong_reads.push(WrongRead { name, flags: read.flags, contig, pos, mapq: read.mapq.unwrap_or(255) });
            }
        }
        Ok(())
    }

    /// The scores, with the simulated read count `expected` or, if `None`, the one the names
    /// imply. An error if `expected` is below the number of records.
    pub fn finish(mut self, expected: Option<u64>) -> std::result::Result<Evaluation, String> {
        let records = self.eval.records;
        let mates = if self.paired { 2 } else { 1 };
        let inferred: u64 = self.largest_index.values().map(|&i| (i + 1) * mates).sum();
        let (reads, from) = match expected {
            Some(n) if n < records => {
                return Err(format!("the file has {records} primary records, more than --expected {n}"))
            }
            Some(n) => (n, ExpectedFrom::Given),
            None => (inferred.max(records), ExpectedFrom::Names),
        };
        self.eval.reads = reads;
        self.eval.expected_from = from;
        self.eval.missing = reads - records;
        Ok(self.eval)
    }
}

fn is_correct(
    truth: &ReadTruth,
    format: NameFormat,
    contig: &str,
    pos: u64,
    strand: Strand,
    read: &AlignedRead<'_>,
    tolerance: u64,
) -> bool {
    let Some(true_contig) = &truth.contig else { return false };
    let aligned = match truth.anchor {
        Anchor::Leftmost => pos as i64 - read.leading_clip as i64,
        Anchor::Rightmost => (pos + read.ref_span.max(1) - 1 + read.trailing_clip) as i64,
    };
    contig_matches(format, true_contig, contig)
        && truth.strand == strand
        && aligned.abs_diff(truth.pos as i64) <= tolerance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<'a>(name: &'a str, flags: u16, pos: u64, mapq: u8) -> AlignedRead<'a> {
        AlignedRead {
            name: name.as_bytes(),
            flags,
            contig: Some(b"chr"),
            pos: Some(pos),
            mapq: Some(mapq),
            ref_span: 100,
            ..Default::default()
        }
    }

    #[test]
    fn counts_rows_clips_and_missing_reads() {
        let mut s = Scorer::new(5);
        // Correct after undoing a 3-base soft clip; mate 2 reverse at 400.
        s.add(&AlignedRead { leading_clip: 3, ..read("swmap:0:100+,400-:chr", 0x41, 103, 60) }).unwrap();
        s.add(&read("swmap:0:100+,400-:chr", 0x91, 400, 60)).unwrap();
        // Wrong: 6 bases off, at MAPQ 7.
        s.add(&read("swmap:2:100+,400-:chr", 0x41, 106, 7)).unwrap();
        // Wrong strand, MAPQ 255 counts as 0.
        s.add(&AlignedRead { mapq: None, ..read("swmap:2:100+,400-:chr", 0x81, 400, 0) }).unwrap();
        // Secondary: ignored. Unmapped: counted.
        s.add(&read("swmap:2:100+,400-:chr", 0x141, 1, 0)).unwrap();
        s.add(&AlignedRead { contig: None, pos: None, ..read("swmap:3:100+,400-:chr", 0x45, 0, 0) }).unwrap();
        assert!(s.add(&read("SRR1.1", 0, 1, 0)).unwrap_err().contains("SRR1.1"));
        let e = s.finish(None).unwrap();
        // Indices 0..3 of pairs: 8 reads, 5 records, 3 missing (index 1, and a mate of 3).
        assert_eq!((e.reads, e.records, e.mapped, e.correct, e.unmapped, e.missing), (8, 5, 4, 2, 1, 3));
        let rows: Vec<(u8, u64, u64)> = e.rows().iter().map(|r| (r.min_mapq, r.mapped, r.wrong)).collect();
        assert_eq!(rows, vec![(60, 2, 0), (20, 2, 0), (7, 3, 1), (0, 4, 2)]);
        assert_eq!(e.correct_at(20), 2);
        assert_eq!(e.rows()[3].fraction_mapped, 0.5);
    }

    #[test]
    fn wgsim_reverse_reads_score_by_their_right_end() {
        let mut s = Scorer::new(0);
        let name = "chr_1000_1499_0:0:0_0:0:0_0";
        s.add(&read(name, 0x51, 1400, 60)).unwrap(); // 1400 + 100 - 1 = 1499
        let other = "chr_1000_1499_0:0:0_0:0:0_1"; // the same fragment, simulated twice
        s.add(&AlignedRead { trailing_clip: 2, ..read(other, 0xa1, 1, 60) }).unwrap(); // wrong strand end
        s.add(&AlignedRead { trailing_clip: 2, ref_span: 98, ..read(name, 0x91, 1400, 60) }).unwrap();
        let e = s.finish(Some(3)).unwrap();
        assert_eq!((e.correct, e.mapped, e.missing, e.expected_from), (2, 3, 0, ExpectedFrom::Given));
        assert!(Scorer::new(0).finish(Some(0)).is_ok());
    }

    #[test]
    fn a_second_primary_record_for_a_read_is_an_error() {
        let mut s = Scorer::new(5);
        let name = "swmap:0:100+,400-:chr";
        s.add(&read(name, 0x41, 100, 60)).unwrap();
        s.add(&read(name, 0x91, 400, 60)).unwrap();
        // Secondary and supplementary records of either mate are fine.
        s.add(&read(name, 0x141, 900, 0)).unwrap();
        s.add(&read(name, 0x891, 900, 0)).unwrap();
        let e = s.add(&read(name, 0x41, 100, 60)).unwrap_err();
        assert!(e.contains("second primary record for read 'swmap:0:100+,400-:chr' (first mate)"), "{e}");
        // Unpaired: one primary per name.
        let mut s = Scorer::new(5);
        s.add(&read("swmap:0:100+:chr", 0, 100, 60)).unwrap();
        s.add(&read("swmap:1:100+:chr", 0, 100, 60)).unwrap();
        assert!(s.add(&read("swmap:0:100+:chr", 0x10, 100, 60)).unwrap_err().contains("second primary record"));
    }
}
