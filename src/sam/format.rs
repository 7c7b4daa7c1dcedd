//! Formatting a [`Placement`] as SAM records: orientation of SEQ and QUAL, clips, flags, mate
//! fields and tags, set as bwa-mem sets them. Nothing here decides: which hit is primary,
//! supplementary or secondary, every MAPQ, `XS` and the hits `XA` lists come in the
//! placement ([`crate::place`]); only facts of the alignment itself (NM, MD, CIGAR with clips)
//! are computed here.
//!
//! A mapped read gives its primary record, then one supplementary record (0x800) per other
//! part, then one secondary record (0x100) per secondary hit. The primary keeps the whole read
//! (soft clips); supplementary and secondary records are hard-clipped to their aligned part
//! unless `-Y`, and secondary records carry no SEQ or QUAL (`*`), as in bwa-mem. Every record
//! of a mate carries the same pairing flags and points at the other mate's primary record.

use crate::align::{Cigar, CigarOp};
use crate::dna;
use crate::index::Index;
use crate::io::fastq::Read;
use crate::options::OutputOptions;
use crate::place::{Hit, Pairing, Placement};
use crate::sam::{nm_md, SamRecord, Tags};
use std::fmt::Write as _;

// SAM FLAG bits, as the SAM specification numbers them.
pub(crate) const PAIRED: u16 = 0x1;
pub(crate) const PROPER_PAIR: u16 = 0x2;
pub(crate) const UNMAPPED: u16 = 0x4;
pub(crate) const MATE_UNMAPPED: u16 = 0x8;
pub(crate) const REVERSE: u16 = 0x10;
pub(crate) const MATE_REVERSE: u16 = 0x20;
pub(crate) const FIRST: u16 = 0x40;
pub(crate) const LAST: u16 = 0x80;
pub(crate) const SECONDARY: u16 = 0x100;
pub(crate) const SUPPLEMENTARY: u16 = 0x800;

/// The CIGAR of a hit on the whole read: soft clips around the aligned part.
pub fn full_cigar(hit: &Hit, read_len: usize) -> Cigar {
    clipped_cigar(hit, read_len, CigarOp::SoftClip)
}

fn clipped_cigar(hit: &Hit, read_len: usize, clip: CigarOp) -> Cigar {
    let mut c = Cigar(Vec::with_capacity(hit.cigar.0.len() + 2));
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
    fn new(read: &'r Read, hits: &[Hit]) -> Self {
        let reverse = hits.iter().any(|h| h.reverse).then(|| dna::reverse_complement(&read.codes));
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
    thread_local! {
        /// The reference bases of the hit, decoded (one buffer per thread, reused).
        static WINDOW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let start = index.contigs[hit.contig].offset + hit.pos;
    WINDOW.with_borrow_mut(|buf| {
        nm_md(&hit.cigar, query, index.reference().fetch(start..start + hit.ref_len as u64, buf))
    })
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
    // QUAL in the record's orientation, over the bases shown; a read without qualities
    // keeps `*`.
    let n = read.qual.len();
    let qual: Vec<u8> = match n >= shown.end {
        false => Vec::new(),
        true if hit.reverse => read.qual[n - shown.end..n - shown.start].iter().rev().copied().collect(),
        true => read.qual[shown.clone()].to_vec(),
    };
    SamRecord {
        name: read.name.clone(),
        flags: if hit.reverse { REVERSE } else { 0 },
        ref_id: Some(hit.contig),
        pos: Some(hit.pos),
        cigar: clipped_cigar(hit, oriented.len(), clip),
        seq: oriented[shown].iter().map(|&c| dna::decode(c)).collect(),
        qual,
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

/// The records of `read` as `placement` decided them: primary (or unmapped), supplementary,
/// secondary, each with its mate fields when the read is a mate.
pub fn records(read: &Read, placement: &Placement, index: &Index, opts: &OutputOptions) -> Vec<SamRecord> {
    let mut out = records_without_comment(read, placement, index, opts);
    if !read.comment.is_empty() {
        // bwa mem -C: the comment on every record of the read.
        out.iter_mut().for_each(|rec| rec.tags.extra = read.comment.clone());
    }
    out
}

fn records_without_comment(read: &Read, placement: &Placement, index: &Index, opts: &OutputOptions) -> Vec<SamRecord> {
    let mut out = Vec::with_capacity(placement.parts.len().max(1) + placement.secondary.len());
    if placement.parts.is_empty() {
        let mut rec = unmapped_record(read);
        if let Some(pairing) = &placement.pairing {
            set_mate_fields(&mut rec, None, None, pairing);
        }
        out.push(rec);
        return out;
    }
    let all = &placement.hits;
    let read_len = read.codes.len();
    let seq = Oriented::new(read, all);
    // Clipping of every record but the primary, which always soft-clips.
    let clip = if opts.soft_clip_supplementary { CigarOp::SoftClip } else { CigarOp::HardClip };
    for (k, part) in placement.parts.iter().enumerate() {
        let h = &all[part.hit];
        let mut rec = aligned_record(&seq, h, if k == 0 { CigarOp::SoftClip } else { clip }, true, index);
        if k > 0 {
            rec.flags |= if opts.mark_split_secondary { SECONDARY } else { SUPPLEMENTARY };
        }
        rec.mapq = part.mapq;
        rec.tags.xs_score = Some(part.xs);
        rec.tags.xa = xa_tag(part.xa.iter().map(|&i| &all[i]), &seq, index);
        out.push(rec);
    }
    if out.len() > 1 {
        // bwa-mem's SA entries: each other part, primary first, with soft clips.
        let entries: Vec<String> = out
            .iter()
            .zip(&placement.parts)
            .map(|(rec, part)| {
                let h = &all[part.hit];
                let (name, cigar) = (&index.contigs[h.contig].name, full_cigar(h, read_len));
                let strand = if h.reverse { '-' } else { '+' };
                format!("{name},{},{strand},{cigar},{},{};", h.pos + 1, rec.mapq, rec.tags.nm.unwrap_or(0))
            })
            .collect();
        for (k, rec) in out.iter_mut().enumerate() {
            let others = entries.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, e)| e.as_str());
            rec.tags.sa = Some(others.collect());
        }
    }
    for &i in &placement.secondary {
        // bwa-mem writes no SEQ or QUAL on secondary records.
        let mut rec = aligned_record(&seq, &all[i], clip, false, index);
        rec.flags |= SECONDARY;
        out.push(rec);
    }
    if let Some(pairing) = &placement.pairing {
        let own = placement.primary();
        let hits = placement.parts.iter().map(|p| p.hit).chain(placement.secondary.iter().copied());
        for (rec, i) in out.iter_mut().zip(hits) {
            set_mate_fields(rec, Some(&all[i]), own, pairing);
        }
    }
    out
}

/// `XA:Z` of the given rivals, as bwa-mem writes it: `contig,±pos,CIGAR,NM;` each.
fn xa_tag<'h>(alts: impl Iterator<Item = &'h Hit>, seq: &Oriented, index: &Index) -> Option<String> {
    let mut xa = String::new();
    for h in alts {
        let strand = if h.reverse { '-' } else { '+' };
        let cigar = full_cigar(h, seq.read.codes.len());
        let _ =
            write!(xa, "{},{strand}{},{cigar},{};", index.contigs[h.contig].name, h.pos + 1, edits(h, seq, index).0);
    }
    (!xa.is_empty()).then_some(xa)
}

/// Flags, RNEXT, PNEXT, TLEN, MC and MQ of one record of a mate aligned at `me` (`None`:
/// unmapped) whose primary is `own`.
fn set_mate_fields(rec: &mut SamRecord, me: Option<&Hit>, own: Option<&Hit>, pairing: &Pairing) {
    rec.flags |= PAIRED | if pairing.first { FIRST } else { LAST } | if pairing.proper { PROPER_PAIR } else { 0 };
    if let Some(mate) = &pairing.mate {
        let (hit, read_len) = (&mate.hit, mate.read_len as usize);
        if hit.reverse {
            rec.flags |= MATE_REVERSE;
        }
        rec.mate_ref_id = Some(hit.contig);
        rec.mate_pos = Some(hit.pos);
        let mut mc = String::with_capacity(16);
        let _ = write!(mc, "{}", full_cigar(hit, read_len));
        rec.tags.mc = Some(mc);
        rec.tags.mq = Some(mate.mapq);
        match me {
            Some(me) => rec.tlen = if me.contig == hit.contig { tlen(me, hit) } else { 0 },
            None => {
                // An unmapped read is placed at its mate's position, as bwa-mem does.
                rec.ref_id = Some(hit.contig);
                rec.pos = Some(hit.pos);
            }
        }
    } else {
        rec.flags |= MATE_UNMAPPED;
        // The unmapped mate is placed at this read's primary position.
        if let Some(own) = own {
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
