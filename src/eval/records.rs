//! Alignment records from SAM or BAM, reduced to what scoring needs. The format is told by the
//! content, not the name: after gzip/BGZF decompression ([`crate::io::input::open`]), BAM starts
//! with the magic `BAM\1`; anything else is read as SAM (plain or gzip).

use crate::error::{Error, Result};
use crate::io::input;
use noodles_bam as bam;
use noodles_sam as sam;
use noodles_sam::alignment::record::cigar::op::{Kind, Op};
use std::io::{self, BufRead};
use std::path::Path;

/// One record's facts, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlignedRead<'a> {
    /// QNAME as written (`/1` `/2` included, if the aligner kept them).
    pub name: &'a [u8],
    /// SAM FLAG.
    pub flags: u16,
    /// Reference sequence name; `None` for `*`.
    pub contig: Option<&'a [u8]>,
    /// 1-based POS; `None` for 0.
    pub pos: Option<u64>,
    /// MAPQ; `None` for 255 (not available).
    pub mapq: Option<u8>,
    /// Soft- and hard-clipped bases before the first aligned base.
    pub leading_clip: u64,
    /// Reference bases the alignment covers.
    pub ref_span: u64,
    /// Soft- and hard-clipped bases after the last aligned base.
    pub trailing_clip: u64,
}

/// Calls `visit` on every record of the SAM or BAM file at `path` (`-` is stdin), in file
/// order. An `Err(message)` from `visit` stops the reading and becomes an input error naming
/// the file and record.
pub fn read_alignments(
    path: &Path,
    mut visit: impl FnMut(&AlignedRead<'_>) -> std::result::Result<(), String>,
) -> Result<()> {
    let mut reader = input::open(path)?;
    let is_bam = reader.fill_buf().map_err(|e| Error::io(path, e))?.starts_with(b"BAM\x01");
    let mut n = 0u64;
    let mut check = |result: io::Result<AlignedRead<'_>>, n: u64| {
        let location = || format!("record {n}");
        let read = result.map_err(|e| Error::input(path, location(), e.to_string()))?;
        visit(&read).map_err(|message| {
            Error::input(path, format!("{} ({})", location(), String::from_utf8_lossy(read.name)), message)
        })
    };
    if is_bam {
        let mut reader = bam::io::Reader::from(reader);
        let header = reader.read_header().map_err(|e| read_error(path, "BAM header", e))?;
        let mut record = bam::Record::default();
        loop {
            n += 1;
            if reader.read_record(&mut record).map_err(|e| read_error(path, &format!("record {n}"), e))? == 0 {
                return Ok(());
            }
            check(bam_facts(&record, &header), n)?;
        }
    } else {
        let mut reader = sam::io::Reader::new(reader);
        reader.read_header().map_err(|e| read_error(path, "SAM header", e))?;
        let mut record = sam::Record::default();
        loop {
            n += 1;
            if reader.read_record(&mut record).map_err(|e| read_error(path, &format!("record {n}"), e))? == 0 {
                return Ok(());
            }
            check(sam_facts(&record), n)?;
        }
    }
}

/// Malformed data is an input error at `location`; anything else an I/O error.
fn read_error(path: &Path, location: &str, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => Error::input(path, location, e.to_string()),
        _ => Error::io(path, e),
    }
}

fn sam_facts(record: &sam::Record) -> io::Result<AlignedRead<'_>> {
    let ops = record.cigar();
    let ops = ops.iter().map(|op| op.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)));
    let (leading_clip, ref_span, trailing_clip) = cigar_facts(ops)?;
    Ok(AlignedRead {
        name: record.name().map_or(&[][..], |n| n.as_ref()),
        flags: u16::from(record.flags()?),
        contig: record.reference_sequence_name().map(|n| n.as_ref()),
        pos: record.alignment_start().transpose()?.map(|p| usize::from(p) as u64),
        mapq: record.mapping_quality().transpose()?.map(|q| q.get()),
        leading_clip,
        ref_span,
        trailing_clip,
    })
}

fn bam_facts<'a>(record: &'a bam::Record, header: &'a sam::Header) -> io::Result<AlignedRead<'a>> {
    let (leading_clip, ref_span, trailing_clip) = cigar_facts(record.cigar().iter())?;
    let contig = match record.reference_sequence_id().transpose()? {
        Some(id) => {
            Some(header.reference_sequences().get_index(id).map(|(name, _)| name.as_ref()).ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidData, format!("no reference sequence {id} in the header"))
            })?)
        }
        None => None,
    };
    Ok(AlignedRead {
        name: record.name().map_or(&[][..], |n| n.as_ref()),
        flags: u16::from(record.flags()),
        contig,
        pos: record.alignment_start().transpose()?.map(|p| usize::from(p) as u64),
        mapq: record.mapping_quality().map(|q| q.get()),
        leading_clip,
        ref_span,
        trailing_clip,
    })
}

/// (leading clip, reference span, trailing clip) of a CIGAR.
fn cigar_facts(ops: impl Iterator<Item = io::Result<Op>>) -> io::Result<(u64, u64, u64)> {
    let (mut leading, mut span, mut trailing) = (0, 0, 0);
    let mut aligned_yet = false;
    for op in ops {
        let op = op?;
        let len = op.len() as u64;
        if matches!(op.kind(), Kind::SoftClip | Kind::HardClip) {
            if aligned_yet {
                trailing += len;
            } else {
                leading += len;
            }
        } else {
            aligned_yet = true;
            trailing = 0; // a clip is trailing only if nothing aligned follows it
            if op.kind().consumes_reference() {
                span += len;
            }
        }
    }
    Ok((leading, span, trailing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clips_on_both_sides() {
        let ops = [
            (Kind::HardClip, 2),
            (Kind::SoftClip, 3),
            (Kind::Match, 10),
            (Kind::Deletion, 2),
            (Kind::Insertion, 1),
            (Kind::Match, 5),
            (Kind::SoftClip, 4),
        ];
        let iter = ops.iter().map(|&(k, n)| Ok(Op::new(k, n)));
        assert_eq!(cigar_facts(iter).unwrap(), (5, 17, 4));
        assert_eq!(cigar_facts(std::iter::empty()).unwrap(), (0, 0, 0));
    }
}
