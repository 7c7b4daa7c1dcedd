//! Turning chosen hits into SAM records: orientation of SEQ and QUAL, clips, flags, mate
//! fields and tags, set as bwa-mem sets them.

use crate::align::{Cigar, CigarOp};
use crate::dna;
use crate::fastq::Read;
use crate::hit::{Hit, ReadHits};
use crate::index::Index;
use crate::pair::PairChoice;
use crate::sam::{nm_md, SamRecord, Tags};

pub const PAIRED: u16 = 0x1;
pub const PROPER_PAIR: u16 = 0x2;
pub const UNMAPPED: u16 = 0x4;
pub const MATE_UNMAPPED: u16 = 0x8;
pub const REVERSE: u16 = 0x10;
pub const MATE_REVERSE: u16 = 0x20;
pub const FIRST: u16 = 0x40;
pub const LAST: u16 = 0x80;

/// The CIGAR of a hit on the whole read: soft clips around the aligned part.
pub fn full_cigar(hit: &Hit, read_len: usize) -> Cigar {
    let mut c = Cigar::default();
    c.push(CigarOp::SoftClip, hit.query_start);
    for &w in &hit.cigar.0 {
        c.0.push(w);
    }
    c.push(CigarOp::SoftClip, read_len as u32 - hit.query_end);
    c
}

/// Record of a read at `hit` (or unmapped), without mate fields.
fn base_record(read: &Read, hits: &ReadHits, hit: Option<&Hit>, mapq: u8, index: &Index) -> SamRecord {
    let mut rec = SamRecord { name: read.name.clone(), ..SamRecord::default() };
    let Some(h) = hit else {
        rec.flags = UNMAPPED;
        rec.seq = read.codes.iter().map(|&c| dna::decode(c)).collect();
        rec.qual = read.qual.clone();
        return rec;
    };
    let oriented: Vec<u8> = if h.reverse { dna::reverse_complement(&read.codes) } else { read.codes.clone() };
    rec.flags = if h.reverse { REVERSE } else { 0 };
    rec.ref_id = Some(h.contig);
    rec.pos = Some(h.pos);
    rec.mapq = mapq;
    rec.cigar = full_cigar(h, read.codes.len());
    let start = (index.contigs[h.contig].offset + h.pos) as usize;
    let (nm, md) = nm_md(&rec.cigar, &oriented, &index.seq[start..start + h.ref_len as usize]);
    rec.seq = oriented.iter().map(|&c| dna::decode(c)).collect();
    rec.qual = if h.reverse { read.qual.iter().rev().copied().collect() } else { read.qual.clone() };
    let xs = hits.hits.iter().filter(|o| !std::ptr::eq(*o, h)).map(|o| o.score).max().unwrap_or(0);
    rec.tags = Tags { nm: Some(nm), md: Some(md), mc: None, as_score: Some(h.score), xs_score: Some(xs) };
    rec
}

/// Record of an unpaired read.
pub fn single(read: &Read, hits: &ReadHits, mapq: u8, index: &Index) -> SamRecord {
    base_record(read, hits, hits.best(), mapq, index)
}

/// Records of both mates of a pair.
pub fn pair(reads: [&Read; 2], hits: [&ReadHits; 2], choice: &PairChoice, index: &Index) -> [SamRecord; 2] {
    let chosen = [choice.hit[0].map(|i| &hits[0].hits[i]), choice.hit[1].map(|i| &hits[1].hits[i])];
    let mut recs = [
        base_record(reads[0], hits[0], chosen[0], choice.mapq[0], index),
        base_record(reads[1], hits[1], chosen[1], choice.mapq[1], index),
    ];
    for m in 0..2 {
        let o = 1 - m;
        let mut flags = recs[m].flags | PAIRED | if m == 0 { FIRST } else { LAST };
        if choice.proper {
            flags |= PROPER_PAIR;
        }
        match (chosen[m], chosen[o]) {
            (Some(me), Some(mate)) => {
                if mate.reverse {
                    flags |= MATE_REVERSE;
                }
                recs[m].mate_ref_id = Some(mate.contig);
                recs[m].mate_pos = Some(mate.pos);
                recs[m].tlen = if me.contig == mate.contig { tlen(me, mate) } else { 0 };
                recs[m].tags.mc = Some(full_cigar(mate, reads[o].codes.len()).to_string());
            }
            (Some(me), None) => {
                // The unmapped mate is placed at this read's position, as bwa-mem does.
                flags |= MATE_UNMAPPED;
                recs[m].mate_ref_id = Some(me.contig);
                recs[m].mate_pos = Some(me.pos);
            }
            (None, Some(mate)) => {
                if mate.reverse {
                    flags |= MATE_REVERSE;
                }
                recs[m].ref_id = Some(mate.contig);
                recs[m].pos = Some(mate.pos);
                recs[m].mate_ref_id = Some(mate.contig);
                recs[m].mate_pos = Some(mate.pos);
            }
            (None, None) => flags |= MATE_UNMAPPED,
        }
        recs[m].flags = flags;
    }
    recs
}

/// Signed observed template length from the two 5' ends, as bwa-mem computes it.
fn tlen(me: &Hit, mate: &Hit) -> i64 {
    let (p0, p1) = (me.five_prime() as i64, mate.five_prime() as i64);
    -(p0 - p1 + (p0 - p1).signum())
}
