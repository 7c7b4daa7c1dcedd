//! Turning chosen hits into SAM records: orientation of SEQ and QUAL, clips, flags, mate
//! fields and tags, set as bwa-mem sets them.
//!
//! A mapped read gives its primary record, then one supplementary record (0x800) per other
//! part of a split read, then with `-a` one secondary record (0x100) per other hit; which hit
//! is which is decided in [`crate::split`]. The primary keeps the whole read (soft clips);
//! supplementary and secondary records are hard-clipped to their aligned part unless `-Y`,
//! and secondary records carry no SEQ or QUAL (`*`), as in bwa-mem. Every record of a mate
//! carries the same pairing flags and points at the other mate's primary record.

use crate::align::{Cigar, CigarOp, Scoring};
use crate::dna;
use crate::fastq::Read;
use crate::hit::{Hit, ReadHits};
use crate::index::Index;
use crate::pair::PairChoice;
use crate::sam::{nm_md, SamRecord, Tags};
use crate::split::ReadLayout;
use std::fmt::Write as _;

pub const PAIRED: u16 = 0x1;
pub const PROPER_PAIR: u16 = 0x2;
pub const UNMAPPED: u16 = 0x4;
pub const MATE_UNMAPPED: u16 = 0x8;
pub const REVERSE: u16 = 0x10;
pub const MATE_REVERSE: u16 = 0x20;
pub const FIRST: u16 = 0x40;
pub const LAST: u16 = 0x80;
pub const SECONDARY: u16 = 0x100;
pub const SUPPLEMENTARY: u16 = 0x800;

/// Which records a read gets besides its primary one, and how they are clipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// Soft-clip supplementary and secondary records, keeping the whole SEQ (`-Y`).
    pub soft_clip_supplementary: bool,
    /// Write every hit that is neither primary nor supplementary as a secondary record
    /// (`-a`); these replace the `XA` tag, which is then left out.
    pub all_alignments: bool,
    /// `XA` lists at most this many alternatives; a part with more gets none.
    pub max_xa_hits: usize,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions { soft_clip_supplementary: false, all_alignments: false, max_xa_hits: 5 }
    }
}

/// The CIGAR of a hit on the whole read: soft clips around the aligned part.
pub fn full_cigar(hit: &Hit, read_len: usize) -> Cigar {
    clipped_cigar(hit, read_len, CigarOp::SoftClip)
}

fn clipped_cigar(hit: &Hit, read_len: usize, clip: CigarOp) -> Cigar {
    let mut c = Cigar::default();
    c.push(clip, hit.query_start);
    for &w in &hit.cigar.0 {
        c.0.push(w);
    }
    c.push(clip, read_len as u32 - hit.query_end);
    c
}

/// A read's bases in both orientations, the reverse complement made only if needed.
struct Oriented<'r> {
    read: &'r Read,
    reverse: Option<Vec<u8>>,
}

impl<'r> Oriented<'r> {
    fn new(read: &'r Read, hits: &ReadHits) -> Self {
        let reverse = hits.hits.iter().any(|h| h.reverse).then(|| dna::reverse_complement(&read.codes));
        Oriented { read, reverse }
    }

    fn codes(&self, reverse: bool) -> &[u8] {
        if reverse {
            self.reverse.as_deref().expect("made for reverse hits")
        } else {
            &self.read.codes
        }
    }
}

/// NM and MD of a hit's aligned part.
fn edits(hit: &Hit, seq: &Oriented, index: &Index) -> (u32, String) {
    let query = &seq.codes(hit.reverse)[hit.query_start as usize..hit.query_end as usize];
    let start = (index.contigs[hit.contig].offset + hit.pos) as usize;
    nm_md(&hit.cigar, query, &index.seq[start..start + hit.ref_len as usize])
}

/// Record of a read aligned at `hit`, with NM, MD and AS; no mate fields. Unaligned ends are
/// clipped with `clip`; SEQ and QUAL are the bases the CIGAR keeps, or `*` without `with_seq`.
fn aligned_record(seq: &Oriented, hit: &Hit, clip: CigarOp, with_seq: bool, index: &Index) -> SamRecord {
    let read = seq.read;
    let oriented = seq.codes(hit.reverse);
    let (nm, md) = edits(hit, seq, index);
    let shown = match (with_seq, clip) {
        (false, _) => 0..0,
        (true, CigarOp::HardClip) => hit.query_start as usize..hit.query_end as usize,
        (true, _) => 0..oriented.len(),
    };
    let qual: Vec<u8> = if hit.reverse { read.qual.iter().rev().copied().collect() } else { read.qual.clone() };
    SamRecord {
        name: read.name.clone(),
        flags: if hit.reverse { REVERSE } else { 0 },
        ref_id: Some(hit.contig),
        pos: Some(hit.pos),
        cigar: clipped_cigar(hit, oriented.len(), clip),
        seq: oriented[shown.clone()].iter().map(|&c| dna::decode(c)).collect(),
        // A read without qualities keeps `*`.
        qual: qual.get(shown).map(<[u8]>::to_vec).unwrap_or_default(),
        tags: Tags { nm: Some(nm), md: Some(md), as_score: Some(hit.score), ..Tags::default() },
        ..SamRecord::default()
    }
}

fn unmapped_record(read: &Read) -> SamRecord {
    SamRecord {
        name: read.name.clone(),
        flags: UNMAPPED,
        seq: read.codes.iter().map(|&c| dna::decode(c)).collect(),
        qual: read.qual.clone(),
        ..SamRecord::default()
    }
}

/// Records of a read placed at `hits[primary]`: primary, supplementary, then secondary, each
/// with its hit; no mate fields.
fn mapped_records<'h>(
    read: &Read,
    hits: &'h ReadHits,
    primary: usize,
    mapq: u8,
    index: &Index,
    sc: &Scoring,
    opts: &OutputOptions,
) -> Vec<(SamRecord, &'h Hit)> {
    let all = &hits.hits;
    let read_len = read.codes.len();
    let layout = ReadLayout::new(all, primary, read_len as u32);
    let seq = Oriented::new(read, hits);
    // Clipping of every record but the primary, which always soft-clips.
    let clip = if opts.soft_clip_supplementary { CigarOp::SoftClip } else { CigarOp::HardClip };
    let mut out = Vec::with_capacity(layout.parts.len());
    for (k, &i) in layout.parts.iter().enumerate() {
        let h = &all[i];
        let mut rec = aligned_record(&seq, h, if k == 0 { CigarOp::SoftClip } else { clip }, true, index);
        if k == 0 {
            rec.mapq = mapq;
        } else {
            rec.flags |= SUPPLEMENTARY;
            rec.mapq = layout.supplementary_mapq(hits, k, mapq, sc);
        }
        // The best hit also competes with its own tandem copies (see `ReadHits::tandem_sub`).
        let tandem = if i == 0 { hits.tandem_sub } else { 0 };
        rec.tags.xs_score = Some(layout.sub_score(all, k).max(tandem));
        if !opts.all_alignments {
            rec.tags.xa = xa_tag(&layout.xa_hits(all, k, opts.max_xa_hits), &seq, index);
        }
        out.push((rec, h));
    }
    if out.len() > 1 {
        // bwa-mem's SA entries: each other part, primary first, with soft clips.
        let entries: Vec<String> = out
            .iter()
            .map(|(rec, h)| {
                let (name, cigar) = (&index.contigs[h.contig].name, full_cigar(h, read_len));
                let strand = if h.reverse { '-' } else { '+' };
                format!("{name},{},{strand},{cigar},{},{};", h.pos + 1, rec.mapq, rec.tags.nm.unwrap_or(0))
            })
            .collect();
        for (k, (rec, _)) in out.iter_mut().enumerate() {
            let others = entries.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, e)| e.as_str());
            rec.tags.sa = Some(others.collect());
        }
    }
    if opts.all_alignments {
        for &(i, _) in &layout.others {
            // bwa-mem writes no SEQ or QUAL on secondary records.
            let mut rec = aligned_record(&seq, &all[i], clip, false, index);
            rec.flags |= SECONDARY;
            out.push((rec, &all[i]));
        }
    }
    out
}

/// `XA:Z` of the given alternatives, as bwa-mem writes it: `contig,±pos,CIGAR,NM;` each.
fn xa_tag(alts: &[&Hit], seq: &Oriented, index: &Index) -> Option<String> {
    if alts.is_empty() {
        return None;
    }
    let mut xa = String::new();
    for h in alts {
        let strand = if h.reverse { '-' } else { '+' };
        let cigar = full_cigar(h, seq.read.codes.len());
        let _ =
            write!(xa, "{},{strand}{},{cigar},{};", index.contigs[h.contig].name, h.pos + 1, edits(h, seq, index).0);
    }
    Some(xa)
}

/// Records of an unpaired read.
pub fn single(
    read: &Read,
    hits: &ReadHits,
    mapq: u8,
    index: &Index,
    sc: &Scoring,
    opts: &OutputOptions,
) -> Vec<SamRecord> {
    if hits.hits.is_empty() {
        return vec![unmapped_record(read)];
    }
    mapped_records(read, hits, 0, mapq, index, sc, opts).into_iter().map(|(rec, _)| rec).collect()
}

/// What every record of a read says about its mate.
struct MateInfo<'h> {
    /// Flags shared by all records of the read: paired, first/last, proper.
    flags: u16,
    /// This read's primary hit, where an unmapped mate is placed.
    own: Option<&'h Hit>,
    /// The mate's primary hit, CIGAR and MAPQ.
    mate: Option<&'h Hit>,
    mate_cigar: String,
    mate_mapq: u8,
}

/// Records of both mates of a pair: mate 1's records, then mate 2's.
pub fn pair(
    reads: [&Read; 2],
    hits: [&ReadHits; 2],
    choice: &PairChoice,
    index: &Index,
    sc: &Scoring,
    opts: &OutputOptions,
) -> Vec<SamRecord> {
    let chosen = [choice.hit[0].map(|i| &hits[0].hits[i]), choice.hit[1].map(|i| &hits[1].hits[i])];
    let mut out = Vec::with_capacity(2);
    for m in 0..2 {
        let o = 1 - m;
        let mate = MateInfo {
            flags: PAIRED | if m == 0 { FIRST } else { LAST } | if choice.proper { PROPER_PAIR } else { 0 },
            own: chosen[m],
            mate: chosen[o],
            mate_cigar: chosen[o].map(|h| full_cigar(h, reads[o].codes.len()).to_string()).unwrap_or_default(),
            mate_mapq: choice.mapq[o],
        };
        match choice.hit[m] {
            Some(i) => {
                for (mut rec, h) in mapped_records(reads[m], hits[m], i, choice.mapq[m], index, sc, opts) {
                    set_mate_fields(&mut rec, Some(h), &mate);
                    out.push(rec);
                }
            }
            None => {
                let mut rec = unmapped_record(reads[m]);
                set_mate_fields(&mut rec, None, &mate);
                out.push(rec);
            }
        }
    }
    out
}

/// Flags, RNEXT, PNEXT, TLEN, MC and MQ of one record of a mate aligned at `me` (`None`:
/// unmapped).
fn set_mate_fields(rec: &mut SamRecord, me: Option<&Hit>, info: &MateInfo) {
    rec.flags |= info.flags;
    if let Some(mate) = info.mate {
        if mate.reverse {
            rec.flags |= MATE_REVERSE;
        }
        rec.mate_ref_id = Some(mate.contig);
        rec.mate_pos = Some(mate.pos);
        rec.tags.mc = Some(info.mate_cigar.clone());
        rec.tags.mq = Some(info.mate_mapq);
        match me {
            Some(me) => rec.tlen = if me.contig == mate.contig { tlen(me, mate) } else { 0 },
            None => {
                // An unmapped read is placed at its mate's position, as bwa-mem does.
                rec.ref_id = Some(mate.contig);
                rec.pos = Some(mate.pos);
            }
        }
    } else {
        rec.flags |= MATE_UNMAPPED;
        // The unmapped mate is placed at this read's primary position.
        if let Some(own) = info.own {
            rec.mate_ref_id = Some(own.contig);
            rec.mate_pos = Some(own.pos);
        }
    }
}

/// Signed observed template length from the two 5' ends, as bwa-mem computes it.
fn tlen(me: &Hit, mate: &Hit) -> i64 {
    let (p0, p1) = (me.five_prime() as i64, mate.five_prime() as i64);
    -(p0 - p1 + (p0 - p1).signum())
}
