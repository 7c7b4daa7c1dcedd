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
use crate::io::read::Read;
use crate::options::OutputOptions;
use crate::place::{Hit, Pairing, Placement};
use crate::sam::{nm_md_into, SamRecord, Tags};
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
    let mut c = Cigar::default();
    clipped_cigar_into(hit, read_len, clip, &mut c);
    c
}

/// [`clipped_cigar`] into `c` (empty).
fn clipped_cigar_into(hit: &Hit, read_len: usize, clip: CigarOp, c: &mut Cigar) {
    c.push(clip, hit.query_start);
    c.extend_words(hit.cigar.words());
    c.push(clip, read_len as u32 - hit.query_end);
}

/// A read's bases in both orientations, the reverse complement made only if needed.
struct Oriented<'r> {
    read: &'r Read,
    reverse: Option<Vec<u8>>,
}

impl<'r> Oriented<'r> {
    /// The reverse complement goes into `buf`'s buffer (given back by [`Oriented::give_back`]).
    fn new(read: &'r Read, hits: &[Hit], buf: &mut Vec<u8>) -> Self {
        let reverse = hits.iter().any(|h| h.reverse).then(|| {
            let mut rc = std::mem::take(buf);
            dna::reverse_complement_into(&read.codes, &mut rc);
            rc
        });
        Oriented { read, reverse }
    }

    fn give_back(self, buf: &mut Vec<u8>) {
        if let Some(rc) = self.reverse {
            *buf = rc;
        }
    }

    fn codes(&self, reverse: bool) -> &[u8] {
        if reverse {
            self.reverse.as_deref().expect("made for reverse hits")
        } else {
            &self.read.codes
        }
    }
}

/// NM of a hit's aligned part, and its MD in `md`.
fn edits(hit: &Hit, seq: &Oriented, index: &Index, md: &mut String) -> u32 {
    let query = &seq.codes(hit.reverse)[hit.query_start as usize..hit.query_end as usize];
    thread_local! {
        /// The reference bases of the hit, decoded (one buffer per thread, reused).
        static WINDOW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let start = index.contigs[hit.contig].offset + hit.pos;
    WINDOW.with_borrow_mut(|buf| {
        nm_md_into(&hit.cigar, query, index.reference().fetch(start..start + hit.ref_len as u64, buf), md)
    })
}

/// Record of a read aligned at `hit`, with NM, MD and AS; no mate fields. Unaligned ends are
/// clipped with `clip`; SEQ and QUAL are the bases the CIGAR keeps, or `*` without `with_seq`.
fn aligned_record(
    seq: &Oriented,
    hit: &Hit,
    clip: CigarOp,
    with_seq: bool,
    index: &Index,
    pool: &mut RecordPool,
) -> SamRecord {
    let read = seq.read;
    let oriented = seq.codes(hit.reverse);
    let mut rec = pool.record();
    let mut md = pool.string();
    let nm = edits(hit, seq, index, &mut md);
    let shown = match (with_seq, clip) {
        (false, _) => 0..0,
        (true, CigarOp::HardClip) => hit.query_start as usize..hit.query_end as usize,
        (true, _) => 0..oriented.len(),
    };
    // QUAL in the record's orientation, over the bases shown; a read without qualities
    // keeps `*`.
    let n = read.qual.len();
    match n >= shown.end {
        false => {}
        true if hit.reverse => rec.qual.extend(read.qual[n - shown.end..n - shown.start].iter().rev()),
        true => rec.qual.extend_from_slice(&read.qual[shown.clone()]),
    }
    rec.name.extend_from_slice(&read.name);
    rec.flags = if hit.reverse { REVERSE } else { 0 };
    rec.ref_id = Some(hit.contig);
    rec.pos = Some(hit.pos);
    clipped_cigar_into(hit, oriented.len(), clip, &mut rec.cigar);
    rec.seq.extend(oriented[shown].iter().map(|&c| dna::decode(c)));
    rec.tags.nm = Some(nm);
    rec.tags.md = Some(md);
    rec.tags.as_score = Some(hit.score);
    rec
}

fn unmapped_record(read: &Read, pool: &mut RecordPool) -> SamRecord {
    let mut rec = pool.record();
    rec.name.extend_from_slice(&read.name);
    rec.flags = UNMAPPED;
    rec.seq.extend(read.codes.iter().map(|&c| dna::decode(c)));
    rec.qual.extend_from_slice(&read.qual);
    rec
}

/// Records and strings whose buffers are used again (one pool per thread): a formatted record
/// handed back with [`RecordPool::recycle`] once written, its buffers keep their room, and
/// the next records of the thread allocate nothing.
#[derive(Default)]
pub struct RecordPool {
    records: Vec<SamRecord>,
    strings: Vec<String>,
    /// The read's reverse complement.
    reverse: Vec<u8>,
}

impl RecordPool {
    /// An empty record (as `SamRecord::default()`), with room from an earlier one if any.
    fn record(&mut self) -> SamRecord {
        self.records.pop().unwrap_or_default()
    }

    /// An empty string, with room from an earlier one if any.
    fn string(&mut self) -> String {
        self.strings.pop().unwrap_or_default()
    }

    /// Takes back a record that has been written: emptied, its buffers kept for the next one.
    pub fn recycle(&mut self, mut rec: SamRecord) {
        // Every field named, so that a field added to SamRecord or Tags must be emptied here.
        let SamRecord { name, flags, ref_id, pos, mapq, cigar, mate_ref_id, mate_pos, tlen, seq, qual, tags } =
            &mut rec;
        let Tags { nm, md, mc, mq, as_score, xs_score, sa, pa, xa, extra } = tags;
        for s in [md, mc, sa, xa] {
            if let Some(mut s) = s.take() {
                s.clear();
                self.strings.push(s);
            }
        }
        (*flags, *ref_id, *pos, *mapq, *mate_ref_id, *mate_pos, *tlen) = (0, None, None, 0, None, None, 0);
        (*nm, *mq, *as_score, *xs_score, *pa) = (None, None, None, None, None);
        for v in [name, seq, qual, extra] {
            v.clear();
        }
        cigar.clear();
        debug_assert_eq!(rec, SamRecord::default());
        // A read has a handful of records; more kept would only hold memory.
        if self.records.len() < 16 {
            self.records.push(rec);
        }
    }
}

/// The records of `read` as `placement` decided them: primary (or unmapped), supplementary,
/// secondary, each with its mate fields when the read is a mate.
pub fn records(read: &Read, placement: &Placement, index: &Index, opts: &OutputOptions) -> Vec<SamRecord> {
    let mut out = Vec::new();
    records_into(read, placement, index, opts, &mut RecordPool::default(), &mut out);
    out
}

/// Asks the CPU to bring in the reference bases the records of `placement` will compare
/// against for NM and MD, without waiting: a formatting loop calls it a few reads ahead.
pub fn prefetch_reference(placement: &Placement, index: &Index) {
    let hits = placement.parts.iter().map(|p| p.hit).chain(placement.secondary.iter().copied());
    for hit in hits.filter_map(|i| placement.hits.get(i)) {
        let start = index.contigs[hit.contig].offset + hit.pos;
        index.reference().prefetch(start..start + hit.ref_len as u64);
    }
}

/// [`records`], appended to `out`, the records' buffers taken from `pool` (hand them back
/// with [`RecordPool::recycle`] once written).
pub fn records_into(
    read: &Read,
    placement: &Placement,
    index: &Index,
    opts: &OutputOptions,
    pool: &mut RecordPool,
    out: &mut Vec<SamRecord>,
) {
    let first = out.len();
    records_without_comment(read, placement, index, opts, pool, out);
    if !read.comment.is_empty() {
        // bwa mem -C: the comment on every record of the read.
        out[first..].iter_mut().for_each(|rec| rec.tags.extra.extend_from_slice(&read.comment));
    }
}

fn records_without_comment(
    read: &Read,
    placement: &Placement,
    index: &Index,
    opts: &OutputOptions,
    pool: &mut RecordPool,
    all_out: &mut Vec<SamRecord>,
) {
    if placement.parts.is_empty() {
        let mut rec = unmapped_record(read, pool);
        if let Some(pairing) = &placement.pairing {
            set_mate_fields(&mut rec, None, None, pairing, pool);
        }
        all_out.push(rec);
        return;
    }
    let first = all_out.len();
    let all = &placement.hits;
    let read_len = read.codes.len();
    let seq = Oriented::new(read, all, &mut pool.reverse);
    // Clipping of every record but the primary, which always soft-clips.
    let clip = if opts.soft_clip_supplementary { CigarOp::SoftClip } else { CigarOp::HardClip };
    for (k, part) in placement.parts.iter().enumerate() {
        let h = &all[part.hit];
        let mut rec = aligned_record(&seq, h, if k == 0 { CigarOp::SoftClip } else { clip }, true, index, pool);
        if k > 0 {
            rec.flags |= if opts.mark_split_secondary { SECONDARY } else { SUPPLEMENTARY };
        }
        rec.mapq = part.mapq;
        rec.tags.xs_score = Some(part.xs);
        // As bwa-mem prints it: the ratio with three decimals.
        rec.tags.pa = part.alt_score.filter(|&a| a > 0).map(|a| {
            // bwa-mem's printf("%.3f"), which rounds the double's exact value as Rust does.
            let text = format!("{:.3}", h.score.max(0) as f64 / a as f64);
            text.replace('.', "").parse().expect("digits")
        });
        rec.tags.xa = xa_tag(part.xa.iter().map(|&i| &all[i]), &seq, index, pool);
        all_out.push(rec);
    }
    let out = &mut all_out[first..];
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
        let mut rec = aligned_record(&seq, &all[i], clip, false, index, pool);
        rec.flags |= SECONDARY;
        all_out.push(rec);
    }
    if let Some(pairing) = &placement.pairing {
        let own = placement.primary();
        let hits = placement.parts.iter().map(|p| p.hit).chain(placement.secondary.iter().copied());
        for (rec, i) in all_out[first..].iter_mut().zip(hits) {
            set_mate_fields(rec, Some(&all[i]), own, pairing, pool);
        }
    }
    seq.give_back(&mut pool.reverse);
}

/// `XA:Z` of the given rivals, as bwa-mem writes it: `contig,±pos,CIGAR,NM;` each.
fn xa_tag<'h>(
    alts: impl Iterator<Item = &'h Hit>,
    seq: &Oriented,
    index: &Index,
    pool: &mut RecordPool,
) -> Option<String> {
    let (mut xa, mut md) = (pool.string(), pool.string());
    for h in alts {
        let strand = if h.reverse { '-' } else { '+' };
        let cigar = full_cigar(h, seq.read.codes.len());
        let nm = edits(h, seq, index, &mut md);
        let _ = write!(xa, "{},{strand}{},{cigar},{nm};", index.contigs[h.contig].name, h.pos + 1);
    }
    md.clear();
    pool.strings.push(md);
    if xa.is_empty() {
        pool.strings.push(xa);
        return None;
    }
    Some(xa)
}

/// Flags, RNEXT, PNEXT, TLEN, MC and MQ of one record of a mate aligned at `me` (`None`:
/// unmapped) whose primary is `own`.
fn set_mate_fields(rec: &mut SamRecord, me: Option<&Hit>, own: Option<&Hit>, pairing: &Pairing, pool: &mut RecordPool) {
    rec.flags |= PAIRED | if pairing.first { FIRST } else { LAST } | if pairing.proper { PROPER_PAIR } else { 0 };
    if let Some(mate) = &pairing.mate {
        let (hit, read_len) = (&mate.hit, mate.read_len as usize);
        if hit.reverse {
            rec.flags |= MATE_REVERSE;
        }
        rec.mate_ref_id = Some(hit.contig);
        rec.mate_pos = Some(hit.pos);
        let mut mc = pool.string();
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
