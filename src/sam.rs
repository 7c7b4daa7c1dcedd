//! SAM/BAM output through noodles: a [`crate::place::Placement`] formatted as records
//! ([`format`]), the header (@HD, @SQ, @RG, @PG), the NM and MD tags computed against the
//! reference, and the writer (a file named with `-o` is opened as [`crate::io::output`]
//! decides).

use crate::align::Cigar;

/// One output line, in the mapper's terms. The writer turns it into a noodles record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SamRecord {
    /// Read name without a trailing `/1` or `/2`.
    pub name: Vec<u8>,
    pub flags: u16,
    /// Index of the contig in the header (`None`: `*`).
    pub ref_id: Option<usize>,
    /// 0-based leftmost reference position (`None`: 0 in SAM).
    pub pos: Option<u64>,
    pub mapq: u8,
    /// Full CIGAR including soft clips; empty is `*`.
    pub cigar: Cigar,
    pub mate_ref_id: Option<usize>,
    pub mate_pos: Option<u64>,
    pub tlen: i64,
    /// Bases as written (ASCII, upper case, reverse-complemented for reverse-strand records).
    pub seq: Vec<u8>,
    /// Raw Phred qualities (not +33), in the same orientation as `seq`; empty is `*`.
    pub qual: Vec<u8>,
    pub tags: Tags,
}

/// Optional fields, written in this order when present. `RG` is added by the writer to every
/// record when the header has a read group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tags {
    pub nm: Option<u32>,
    pub md: Option<String>,
    pub mc: Option<String>,
    /// Mate's MAPQ, on paired records whose mate is mapped.
    pub mq: Option<u8>,
    pub as_score: Option<i32>,
    pub xs_score: Option<i32>,
    /// The read's other parts (`rname,pos,strand,CIGAR,mapQ,NM;` each), on every part of a
    /// split read.
    pub sa: Option<String>,
    /// Alternative hits (`rname,±pos,CIGAR,NM;` each), as bwa-mem writes them.
    pub xa: Option<String>,
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
}

pub mod format;
mod header;
mod tags;
mod writer;

pub use header::{parse_read_group, ReadGroup};
pub use tags::nm_md;
pub use writer::SamWriter;
