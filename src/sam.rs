//! SAM/BAM output through noodles: a [`crate::place::Placement`] formatted as records
//! ([`mod@format`]), the header (@HD, @SQ, @RG, @PG), the NM and MD tags computed against the
//! reference, and the writer (a file named with `-o` is opened as [`crate::io::output`]
//! decides).

use crate::align::Cigar;

/// One output line, in the mapper's terms. The writer turns it into a noodles record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SamRecord {
    /// Read name without a trailing `/1` or `/2`.
    pub name: Vec<u8>,
    /// FLAG bits, as in the SAM specification (0x1 paired ... 0x800 supplementary).
    pub flags: u16,
    /// Index of the contig in the header (`None`: `*`).
    pub ref_id: Option<usize>,
    /// 0-based leftmost reference position (`None`: 0 in SAM).
    pub pos: Option<u64>,
    /// MAPQ (0 for unmapped records).
    pub mapq: u8,
    /// Full CIGAR including soft clips; empty is `*`.
    pub cigar: Cigar,
    /// RNEXT: the mate's contig index in the header (`None`: `*`).
    pub mate_ref_id: Option<usize>,
    /// PNEXT: the mate's 0-based leftmost position (`None`: 0 in SAM).
    pub mate_pos: Option<u64>,
    /// TLEN: signed template length from the two 5' ends, as bwa-mem computes it; 0 when the
    /// mates are on different contigs or one is unmapped.
    pub tlen: i64,
    /// Bases as written (ASCII, upper case, reverse-complemented for reverse-strand records).
    pub seq: Vec<u8>,
    /// Raw Phred qualities (not +33), in the same orientation as `seq`; empty is `*`.
    pub qual: Vec<u8>,
    /// Optional fields.
    pub tags: Tags,
}

/// Optional fields, written in this order when present. `RG` is added by the writer to every
/// record when the header has a read group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    /// `NM`: edit distance to the reference over the aligned part (mismatched, inserted and
    /// deleted bases; an `N` never matches), see `nm_md`.
    pub nm: Option<u32>,
    /// `MD`: the reference bases at mismatches and deletions, as samtools calmd writes it.
    pub md: Option<String>,
    /// `MC`: the mate's CIGAR, clips included, on paired records whose mate is mapped.
    pub mc: Option<String>,
    /// Mate's MAPQ, on paired records whose mate is mapped.
    pub mq: Option<u8>,
    /// `AS`: the alignment's score (its best stretch, see `crate::align::best_stretch_score`).
    pub as_score: Option<i32>,
    /// `XS`: the best score of another alignment of the same read bases, 0 without one; on
    /// primary and supplementary records.
    pub xs_score: Option<i32>,
    /// The read's other parts (`rname,pos,strand,CIGAR,mapQ,NM;` each), on every part of a
    /// split read.
    pub sa: Option<String>,
    /// `pa:f`, in thousandths: the alignment's score over that of the ALT-contig hit it was
    /// chosen over, rounded to three decimals as bwa-mem rounds it when ALT contigs are known
    /// (written after `SA`, before `XA`, as a float: `0.95` where bwa writes `0.950`).
    pub pa: Option<u32>,
    /// Alternative hits (`rname,±pos,CIGAR,NM;` each), as bwa-mem writes them.
    pub xa: Option<String>,
    /// The read's FASTQ comment (`-C`), SAM tags as `crate::io::read::check_comment`
    /// passed them, written last (after `RG`); empty for none.
    pub extra: Vec<u8>,
}

/// What the header is made of.
#[derive(Clone, Debug, Default)]
pub struct HeaderInfo {
    /// `(name, length)` per contig, in index order.
    pub contigs: Vec<(String, u64)>,
    /// The `-R` argument as the user typed it (`\t` escapes allowed), already validated.
    pub read_group: Option<String>,
    /// The command line for @PG CL.
    pub command_line: String,
    /// Further header lines, as bwa mem's `-H` adds them: `@RG` lines (records name their read
    /// group with an `RG:Z` tag, e.g. from a FASTQ comment copied with `-C`) and `@CO` lines,
    /// checked when the header is built.
    pub header_lines: Vec<String>,
    /// The reference FASTA, needed to write CRAM (which is encoded against it): the file the
    /// index was built from.
    pub reference: Option<std::path::PathBuf>,
}

mod convert;
mod cram;
pub mod format;
mod header;
pub(crate) mod markdup;
mod raw;
pub mod sort;
mod tags;
mod text;
mod writer;

#[cfg(feature = "cli")]
pub(crate) use header::parse_read_group;
pub use markdup::{DuplicationMetrics, LibraryCounts, MarkdupOptions};
pub use tags::nm_md_into;
pub use writer::{EncodeScratch, EncodedRecords, OutputFormat, SamWriter, ENCODE_RUN};
