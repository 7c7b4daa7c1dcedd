//! Seeding and candidate windows: a read's minimizers are looked up in the index, hits are
//! grouped by strand and diagonal, and the best groups become reference windows to align.
//!
//! A hit of read minimizer at `qpos` on reference position `rpos` lies on the forward strand
//! when the two canonical orientations agree, and then on diagonal `rpos - qpos`; otherwise it
//! lies on the reverse strand, where the reverse-complemented read has the k-mer at
//! `qoff = len - k - qpos` and the diagonal is `rpos - qoff`. Hits on one strand whose sorted
//! diagonals are at most `band` apart form one group; a group's weight is the number of read
//! bases its seeds cover. A group wider than the band (copies of a tandem array chained
//! through a shorter repeat inside the unit) is cut wherever consecutive diagonals are more
//! than [`CLUSTER_GAP`] apart, and each piece is a window of its own, so that every copy is
//! aligned rather than only the best one in a long window; a cluster whose diagonals span more
//! than the read's length (a read inside a long microsatellite) is cut into pieces that do
//! not, so no window is longer than twice the read plus the padding. Minimizers with more than
//! `max_occ` hits are skipped (repeats); a read whose every minimizer is that frequent is
//! seeded from its rarest ones instead, however frequent (from an even sample of at most
//! [`FALLBACK_OCC`] times `max_occ` of their hits), so reads inside repeats are still placed
//! (with MAPQ 0), and the windows kept are capped as for any read ([`TIE_FACTOR`]). Between
//! the two, a stretch of `rare_gap` (40) or more read bases that no usable minimizer covers is
//! seeded from its rarest minimizer when that occurs at most ten times `max_occ` times: a read
//! half in a young repeat copy still hits its own copy there.
//!
//! Between the two, a minimizer with more than `rare_occ` (50) hits is *frequent*: its hits
//! are used only where the read's rare minimizers (at most `rare_occ` hits) leave a stretch of
//! `rare_gap` (40) or more read bases uncovered that its k-mer reaches into. A read half in an
//! Alu and half in unique sequence is placed by its unique half alone, without the hundreds of
//! Alu hits that would only make light windows elsewhere; a read wholly inside a repeat still
//! uses every minimizer up to `max_occ`. (minimap2 keeps its frequent minimizers in long gaps
//! between rare ones alike.) On 100,000 dwgsim chr20 pairs seeding takes 5.7 us per read this
//! way against 8.7 with every frequent minimizer used, for MAPQ different on 130 of 200,000
//! records (none wrong) and XS on about 8% (fewer suboptimal hits are found).
//!
//! When more windows are heavy than the cap allows (a read in a repeat family: every copy
//! has about as many seeds), the cap keeps those whose reference matches the read best: the
//! mismatches along each window's seed diagonals are counted on the packed read and reference,
//! 32 bases per word, for at most 1,024 windows (the heaviest). Keeping the heaviest and then
//! the leftmost instead aligned the same few copies of a satellite array for every read from
//! it. On the 500 Mbp repeat-rich reference of
//! `scripts/repeat-genome.py` (three sets of 100,000 dwgsim pairs) wrong reads fell from
//! 3,969/3,941/3,938 to 3,948/3,909/3,910 (bwa-mem: 3,946/3,891/3,903) and at MAPQ >= 20
//! from 6/10/2 to 3/5/0, for 9% more CPU time at 3.1 Gbp (5% at 500 Mbp), none measurable on
//! chr20 or E. coli.
//!
//! Two kinds of window are added after the capped set, which they never displace (so every
//! copy a read's `XA` lists is still aligned):
//! - **Chains**: consecutive pieces on one strand and contig, at most [`MAX_INDEL`] diagonals
//!   apart, whose seeds cover different read bases, are chained (the two sides of a deletion
//!   or an insertion up to 100 bases). A chain whose seeds cover more of the read than the best
//!   window's is one more window spanning both sides, so the alignment can take the indel
//!   where that scores more than clipping (at most [`MAX_CHAINS`] per read).
//! - **Split parts**: when the best window's seeds leave [`MIN_PART_BASES`] or more read
//!   bases uncovered, the heaviest windows left out (too light or past the cap) whose seeds lie
//!   mostly there are aligned too (at most [`MAX_PARTS`]): the short side of a fusion junction.
//!
//! Work per read is bounded: at most `max_candidates` times [`TIE_FACTOR`] windows, plus
//! [`MAX_CHAINS`] and [`MAX_PARTS`], each at most twice the read plus the padding long (a
//! chain's at most the read, [`MAX_INDEL`], the band and twice the padding).

mod chain;
mod hits;
mod windows;

use crate::index::minimizer::{minimizers, Minimizer};
use crate::index::Index;
use crate::options::SeedOptions;
use chain::{chain_pieces, HitCluster};
use hits::{collect_hits, sort_hits, SeedHit};
use smallvec::SmallVec;
use windows::{choose_windows, ScreenScratch, WindowMaker};

/// A reference window to align a read (or its reverse complement) against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CandidateWindow {
    /// The reverse-complemented read aligns here.
    pub reverse: bool,
    /// Index of the contig in [`crate::index::Index::contigs`]; the window never crosses into
    /// another contig.
    pub contig: usize,
    /// Global start and end (exclusive) in the index's concatenated reference.
    pub start: u64,
    /// Global end, exclusive.
    pub end: u64,
    /// Read bases covered by the group's seeds.
    pub weight: u32,
    /// The diagonals, lowest and highest (window position minus read position, on the read in
    /// the window's orientation), the alignment may use: those of the seeds, widened by the
    /// padding on each side. The DP computes only this band of the window
    /// (`crate::align::Band`).
    pub band: (i32, i32),
}

/// What seeding found for a read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Windows to align, best first.
    pub windows: Vec<CandidateWindow>,
    /// Read bases covered by minimizers of more than [`SHARED_OCC`] occurrences (or
    /// `max_occ`), whether or not a rarer one covers them too: how much of the read the other
    /// copies of its repeat share.
    pub frequent: u32,
    /// Windows left out by the cap whose seeds were as good as the best window's, and
    /// occurrences of the rarest seeds left out of the fallback's sample: copies of a repeat
    /// that were never aligned.
    pub unexamined: u32,
    /// Distances between repeats of one minimizer inside the read (at most
    /// [`MAX_PERIODS`], smallest first): the periods of a tandem repeat the read lies in.
    pub periods: SmallVec<[u32; MAX_PERIODS]>,
}

/// When more windows than `max_candidates` tie with the best, up to this many times as many
/// are aligned, so that a read in a repeat family or a tandem array sees more of its copies.
pub const TIE_FACTOR: usize = 4;

/// Windows whose seeds cover at least this share (percent) of the best window's count as
/// ties with it, for [`TIE_FACTOR`].
pub const TIE_PERCENT: u64 = 95;

/// In a group wider than the band, diagonals further apart than this start a new window.
pub const CLUSTER_GAP: i64 = 16;

/// Seeds occurring more than this (or than `max_occ`, if lower) are shared with enough other
/// places that the read bases under them count against its MAPQ ([`Candidates::frequent`],
/// `crate::place::mapq`). On the 500 Mbp and 3.1 Gbp references of `scripts/repeat-genome.py`
/// (dwgsim pairs), 500 left twice as many wrong reads at MAPQ >= 20 in satellite arrays at
/// 500 Mbp (21 against 11), and 200 or less gave fewer reads MAPQ >= 20 than minimap2 at
/// 3.1 Gbp; human chr20 is the same at 200 to 500.
pub const SHARED_OCC: usize = 300;

/// Internal periods kept per read.
pub const MAX_PERIODS: usize = 4;

/// A read whose every seed is more frequent than `max_occ` is seeded from its rarest ones,
/// from at most this many times `max_occ` of their occurrences in all (sampled evenly).
pub const FALLBACK_OCC: usize = 20;

/// Buffers reused across reads of one thread.
#[derive(Default)]
pub struct SeedScratch {
    mins: Vec<Minimizer>,
    hits: Vec<SeedHit>,
    /// Reverse-strand hits while they are collected, in minimizer order.
    rev_hits: Vec<SeedHit>,
    /// The radix sort's other buffer.
    sorted: Vec<SeedHit>,
    spans: Vec<(u32, u32)>,
    rep_spans: Vec<(u32, u32)>,
    /// Read bases covered by rare minimizers ([`collect_hits`]).
    rare_cover: Vec<(u32, u32)>,
    rarest: Vec<Minimizer>,
    /// The minimizers whose hits are used ([`collect_hits`]), by index.
    used: Vec<usize>,
    /// The minimizers' hashes, and their table entries ([`Index::lookup_stream`]): each
    /// minimizer is looked up once per read.
    hashes: Vec<u64>,
    ranges: Vec<(u32, u32)>,
    /// A block's minimizers, their table entries, and where each read's start in them
    /// ([`find_candidates_block`]).
    block_mins: Vec<Minimizer>,
    block_ranges: Vec<(u32, u32)>,
    block_starts: Vec<usize>,
    /// Pieces and chains of the sorted hits ([`chain_pieces`]).
    pieces: Vec<HitCluster>,
    chains: Vec<HitCluster>,
    /// Candidate windows with the read bases their seeds span, and the light ones set aside.
    cands: Vec<(CandidateWindow, (u32, u32))>,
    light: Vec<(CandidateWindow, (u32, u32))>,
    /// Split parts and chains chosen beside the capped windows ([`choose_windows`]).
    parts: Vec<(CandidateWindow, (u32, u32))>,
    extra: Vec<(CandidateWindow, (u32, u32))>,
    /// Minimizers by hash, and the periods they repeat at ([`internal_periods`]).
    by_hash: Vec<(u64, u32)>,
    periods: Vec<u32>,
    /// Windows screened by their mismatches ([`choose_windows`]).
    screen: ScreenScratch,
}

/// Candidate windows of a read (base codes, as sequenced), best first.
#[cfg(test)]
pub fn find_candidates(index: &Index, read: &[u8], opts: &SeedOptions, s: &mut SeedScratch) -> Candidates {
    let mut c = Candidates::default();
    find_candidates_into(index, read, opts, s, &mut c);
    c
}

/// [`find_candidates`] into `c`, whatever it held (a spent read's: its room is used again):
/// [`find_candidates_block`] with a block of one.
#[cfg(any(test, feature = "tools"))]
pub fn find_candidates_into(index: &Index, read: &[u8], opts: &SeedOptions, s: &mut SeedScratch, c: &mut Candidates) {
    find_candidates_block(index, &[read], opts, s, std::slice::from_mut(c));
}

/// Reads seeded together in [`find_candidates_block`]: enough for its lookups' pipeline to
/// run full most of the time, few enough that their table entries stay in the caches.
pub const SEED_BLOCK: usize = 32;

/// [`find_candidates_into`] for a block of reads (`out[i]` for `reads[i]`): the minimizers
/// of all of them are looked up in one stream ([`Index::lookup_stream`]), then each read's
/// windows are found. The same results as one read at a time, faster: a read's lookups do not
/// wait for memory in three rounds of their own. Blocks of about [`SEED_BLOCK`] reads.
pub fn find_candidates_block(
    index: &Index,
    reads: &[&[u8]],
    opts: &SeedOptions,
    s: &mut SeedScratch,
    out: &mut [Candidates],
) {
    assert_eq!(reads.len(), out.len(), "one Candidates per read");
    let (k, w) = (index.params.k as usize, index.params.w as usize);
    s.block_mins.clear();
    s.block_starts.clear();
    s.block_starts.push(0);
    for read in reads {
        if read.len() >= k {
            minimizers(read, k, w, 0, &mut s.block_mins);
        }
        s.block_starts.push(s.block_mins.len());
    }
    s.hashes.clear();
    s.hashes.extend(s.block_mins.iter().map(|m| m.hash));
    index.lookup_stream(&s.hashes, &mut s.block_ranges);
    for (i, (read, c)) in reads.iter().zip(out).enumerate() {
        let span = s.block_starts[i]..s.block_starts[i + 1];
        s.mins.clear();
        s.mins.extend_from_slice(&s.block_mins[span.clone()]);
        s.ranges.clear();
        s.ranges.extend_from_slice(&s.block_ranges[span]);
        candidates_of_lookups(index, read, opts, s, c);
    }
}

/// The rest of [`find_candidates_block`] for one read, once `s.mins` holds its minimizers
/// and `s.ranges` their table entries.
fn candidates_of_lookups(index: &Index, read: &[u8], opts: &SeedOptions, s: &mut SeedScratch, c: &mut Candidates) {
    c.windows.clear();
    c.unexamined = find_windows(index, read, opts, s, &mut c.windows);
    // Bases under minimizers that many other places share.
    let k = index.params.k;
    s.rep_spans.clear();
    for (m, &(lo, hi)) in s.mins.iter().zip(&s.ranges) {
        if (hi - lo) as usize > opts.max_occ.min(SHARED_OCC) {
            s.rep_spans.push((m.pos, m.pos + k));
        }
    }
    c.frequent = covered(&mut s.rep_spans);
    c.periods.clear();
    c.periods.extend_from_slice(internal_periods(&s.mins, &mut s.by_hash, &mut s.periods));
}

/// Distances between occurrences of one minimizer within a read: a read inside a tandem repeat
/// contains the same k-mer once per period.
fn internal_periods<'p>(mins: &[Minimizer], by_hash: &mut Vec<(u64, u32)>, periods: &'p mut Vec<u32>) -> &'p [u32] {
    // Most reads have no repeated minimizer: one bit per hash (its low bits) finds that
    // without sorting; only a read where two hashes share a bit is sorted.
    let mut seen = [0u64; 16];
    let mut repeat = false;
    for m in mins {
        let (word, bit) = ((m.hash >> 6) as usize & 15, m.hash & 63);
        repeat |= seen[word] >> bit & 1 == 1;
        seen[word] |= 1 << bit;
    }
    periods.clear();
    if !repeat {
        return periods;
    }
    by_hash.clear();
    by_hash.extend(mins.iter().map(|m| (m.hash, m.pos)));
    by_hash.sort_unstable();
    periods.extend(by_hash.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| w[1].1 - w[0].1));
    periods.sort_unstable();
    periods.dedup();
    periods.truncate(MAX_PERIODS);
    periods
}

/// Bases covered by a set of spans (sorted in place).
fn covered(spans: &mut [(u32, u32)]) -> u32 {
    spans.sort_unstable();
    let (mut total, mut reach) = (0u32, 0u32);
    for &(a, b) in spans.iter() {
        let a = a.max(reach);
        if b > a {
            total += b - a;
        }
        reach = reach.max(b);
    }
    total
}

/// Bases two spans share.
fn overlap(a: (u32, u32), b: (u32, u32)) -> u32 {
    a.1.min(b.1).saturating_sub(a.0.max(b.0))
}

/// The windows, best first, into `out` (empty); how many windows as good as the best the
/// caps left out.
fn find_windows(
    index: &Index,
    read: &[u8],
    opts: &SeedOptions,
    s: &mut SeedScratch,
    out: &mut Vec<CandidateWindow>,
) -> u32 {
    let Some(left_out) = collect_hits(index, read, opts, s) else { return 0 };
    sort_hits(&mut s.hits, &mut s.sorted);
    let SeedScratch { hits, spans, pieces, chains, cands, light, parts, extra, screen, .. } = s;
    chain_pieces(index, hits, read.len(), opts, pieces, chains);
    let maker = WindowMaker { index, hits, read, opts };
    choose_windows(&maker, (pieces, chains), (cands, light, parts, extra), (spans, screen), left_out, out)
}

#[cfg(test)]
mod tests {
    use super::windows::{best_of, order, Cand};
    use super::*;
    use crate::index::IndexParams;
    use crate::io::fasta::Contig;

    #[test]
    fn packed_hits_sort_like_their_fields() {
        let mut rng = crate::rng::Rng::new(5);
        let mut next = |n: u64| rng.below(n);
        for (n, span) in [
            (0usize, 1 << 33),
            (1, 1 << 33),
            (10, 1 << 33),
            (255, 1 << 33),
            (256, 1 << 33),
            (3000, 1 << 33),
            (3000, 1 << 26),
            (3000, 3000),
        ] {
            let fields: Vec<(bool, i64, u32)> =
                (0..n).map(|_| (next(2) == 1, next(span) as i64 - 2048, next(2000) as u32)).collect();
            // As collect_hits hands them over: read offsets ascending within a diagonal.
            let mut given = fields.clone();
            given.sort_by_key(|f| f.2);
            let mut hits: Vec<SeedHit> = given.iter().map(|&(r, d, q)| SeedHit::new(r, d, q)).collect();
            sort_hits(&mut hits, &mut Vec::new());
            let mut want = fields.clone();
            want.sort_unstable();
            let got: Vec<(bool, i64, u32)> = hits.iter().map(|h| (h.reverse(), h.diag(), h.qoff())).collect();
            assert_eq!(got, want, "{n} hits");
        }
    }

    /// [`best_of`] picks what sorting all and taking the first accepted ones picks, ties in
    /// weight, strand and start included.
    #[test]
    fn best_of_picks_what_a_full_sort_picks() {
        let mut rng = crate::rng::Rng::new(8);
        let mut small = |n: u64| (rng.next_u64() % n) as u32;
        for round in 0..300 {
            let n = 1 + small(40) as usize;
            let cands: Vec<Cand> = (0..n)
                .map(|_| {
                    // Starts on both sides of 2^31, weights up to the longest read.
                    let start = small(4) as u64 + [0, (1 << 31) - 2, u32::MAX as u64 - 4][small(3) as usize];
                    let w = CandidateWindow {
                        reverse: small(2) == 1,
                        contig: 0,
                        start,
                        end: start + 1 + small(3) as u64,
                        weight: [small(5), 1999 + small(2)][small(2) as usize],
                        band: (0, small(3) as i32),
                    };
                    (w, (small(3), 3 + small(3)))
                })
                .collect();
            // The packed order is the one its documentation states, field by field.
            let mut by_fields = cands.clone();
            by_fields.sort_by_key(|c| {
                (std::cmp::Reverse(c.0.weight), c.0.reverse, c.0.start, c.0.end, c.0.contig, c.0.band, c.1)
            });
            let mut by_order = cands.clone();
            by_order.sort_by(order);
            assert_eq!(by_order, by_fields, "round {round}");
            let accept = |c: &Cand| c.1 .0 != 1;
            for want_n in [1, 2, 5] {
                let mut sorted = cands.clone();
                sorted.sort_by(order);
                let want: Vec<Cand> = sorted.into_iter().filter(accept).take(want_n).collect();
                let mut got = vec![cands[0]; round % 3];
                best_of(cands.iter(), accept, want_n, &mut got);
                assert_eq!(&got[round % 3..], &want[..], "round {round}, {want_n} wanted");
            }
        }
    }

    #[test]
    fn finds_both_strands_at_the_true_place() {
        let mut rng = crate::rng::Rng::new(99);
        let genome: Vec<u8> = (0..20000).map(|_| rng.base()).collect();
        let idx = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let mut s = SeedScratch::default();
        let read = genome[7000..7150].to_vec();
        let c = find_candidates(&idx, &read, &SeedOptions::default(), &mut s).windows;
        assert!(!c[0].reverse && c[0].start <= 7000 && c[0].end >= 7150, "{c:?}");
        let rc = crate::dna::reverse_complement(&read);
        let c = find_candidates(&idx, &rc, &SeedOptions::default(), &mut s).windows;
        assert!(c[0].reverse && c[0].start <= 7000 && c[0].end >= 7150, "{c:?}");
        assert!(find_candidates(&idx, &[4; 150], &SeedOptions::default(), &mut s).windows.is_empty());
    }

    /// A 300-base element copied 100 times between unique stretches of `gap` bases, after
    /// `head` unique bases (from a generator seeded with `seed`): the element and the genome.
    fn genome_with_copies(seed: u64, head: usize, gap: usize) -> (Vec<u8>, Vec<u8>) {
        let mut rng = crate::rng::Rng::new(seed);
        let mut random = |n: usize| -> Vec<u8> { (0..n).map(|_| rng.base()).collect() };
        let element = random(300);
        let mut genome = random(head);
        for _ in 0..100 {
            genome.extend(&element);
            genome.extend(random(gap));
        }
        (element, genome)
    }

    /// Reads seeded in blocks get what each gets alone: reads from unique sequence, from an
    /// element copied a hundred times, with Ns, shorter than k and empty, in blocks of
    /// several sizes.
    #[test]
    fn blocks_of_reads_get_what_each_read_gets_alone() {
        let (_, genome) = genome_with_copies(5, 3000, 400);
        let idx = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let opts = SeedOptions::default();
        let mut reads: Vec<Vec<u8>> = Vec::new();
        for i in 0..150usize {
            let (start, len) = ((i * 997) % (genome.len() - 300), [150, 100, 250, 12, 0][i % 5]);
            let mut read = genome[start..start + len].to_vec();
            if i % 7 == 0 && len > 50 {
                read[40] = 4;
            }
            if i % 2 == 1 {
                read = crate::dna::reverse_complement(&read);
            }
            reads.push(read);
        }
        let mut s = SeedScratch::default();
        let alone: Vec<Candidates> = reads.iter().map(|r| find_candidates(&idx, r, &opts, &mut s)).collect();
        assert!(alone.iter().filter(|c| c.windows.len() > 1).count() > 10, "some reads have several windows");
        for block in [1, 3, SEED_BLOCK, 200] {
            let mut got = vec![Candidates::default(); reads.len()];
            for (rs, out) in reads.chunks(block).zip(got.chunks_mut(block)) {
                let rs: Vec<&[u8]> = rs.iter().map(|r| &r[..]).collect();
                find_candidates_block(&idx, &rs, &opts, &mut s, out);
            }
            assert_eq!(got, alone, "blocks of {block}");
        }
    }

    /// Frequent minimizers (more than `rare_occ` hits) are used in a long stretch rare ones
    /// leave uncovered, and not in a short one.
    #[test]
    fn frequent_minimizers_only_fill_long_gaps_between_rare_ones() {
        let (element, genome) = genome_with_copies(31, 2000, 500);
        let last_copy = genome.len() - 500 - 300;
        let idx = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let opts = SeedOptions::default();
        let mut s = SeedScratch::default();
        // Unique sequence then 30 element bases (a stretch shorter than rare_gap), and unique
        // sequence then 100 element bases (longer).
        for (element_bases, frequent_used) in [(30usize, false), (100, true)] {
            let read = genome[last_copy - (150 - element_bases)..last_copy + element_bases].to_vec();
            find_candidates_into(&idx, &read, &opts, &mut s, &mut Candidates::default());
            let true_diag = (last_copy - (150 - element_bases)) as i64;
            let elsewhere = s.hits.iter().filter(|h| h.diag() != true_diag).count();
            assert_eq!(elsewhere > 50, frequent_used, "{element_bases} element bases: {elsewhere} hits elsewhere");
        }
        // A read wholly inside the element uses its minimizers (at most max_occ hits each).
        let read = element[100..250].to_vec();
        find_candidates_into(&idx, &read, &opts, &mut s, &mut Candidates::default());
        assert!(s.hits.len() >= 100, "{} hits", s.hits.len());
    }

    /// A read half in unique sequence and half in an element copied more often than `max_occ`
    /// (but not ten times as often) seeds the element's stretch from its rarest minimizer: the
    /// element's copies are hit, and the best window's seeds cover both halves. With the
    /// element copied more often than that, the stretch stays unseeded.
    #[test]
    fn a_stretch_of_too_frequent_minimizers_is_seeded_from_its_rarest() {
        let (_, genome) = genome_with_copies(37, 2000, 500);
        let last_copy = genome.len() - 500 - 300;
        let idx = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let mut s = SeedScratch::default();
        let read = genome[last_copy - 75..last_copy + 75].to_vec();
        let true_diag = (last_copy - 75) as i64;
        // 100 copies: above max_occ 50, within 10 x 50; above max_occ 5, beyond 10 x 5.
        let mut weights = Vec::new();
        for (max_occ, seeded) in [(50usize, true), (5, false)] {
            let opts = SeedOptions { max_occ, rare_occ: max_occ.min(50), ..SeedOptions::default() };
            let mut c = Candidates::default();
            find_candidates_into(&idx, &read, &opts, &mut s, &mut c);
            let elsewhere = s.hits.iter().filter(|h| h.diag() != true_diag).count();
            assert_eq!(elsewhere >= 99, seeded, "max_occ {max_occ}: {elsewhere} hits elsewhere");
            let best = &c.windows[0];
            assert!(best.start <= last_copy as u64 - 75 && best.end >= last_copy as u64 + 75, "max_occ {max_occ}");
            weights.push(best.weight);
        }
        // The stretch's seed adds at least a k-mer of the element half to the best window.
        assert!(weights[0] >= weights[1] + 19, "best window's seeds cover {weights:?}");
    }

    /// On a reference of many contigs, every piece's hits lie on the piece's contig, found as
    /// a search per hit would find it: reads across two neighbouring contigs (one diagonal in
    /// the concatenated reference, cut at the boundary) and reads of an element copied into
    /// every contig (hits jumping between contigs, on both strands).
    #[test]
    fn pieces_keep_to_the_contig_of_each_of_their_hits() {
        let mut rng = crate::rng::Rng::new(41);
        let mut random = |n: usize| -> Vec<u8> { (0..n).map(|_| rng.base()).collect() };
        let element = random(150);
        let contigs: Vec<Contig> = (0..40)
            .map(|i| {
                let mut seq = random(100 + 37 * (i % 5));
                seq.extend(&element);
                seq.extend(random(60 + 23 * (i % 3)));
                Contig { name: format!("c{i}"), seq }
            })
            .collect();
        let idx = Index::build(contigs, IndexParams::default());
        let whole: Vec<u8> = idx.reference().fetch(0..idx.reference().len(), &mut Vec::new()).to_vec();
        let mut reads: Vec<Vec<u8>> = vec![element.clone(), crate::dna::reverse_complement(&element)];
        for c in &idx.contigs[1..] {
            let at = c.offset as usize;
            reads.push(whole[at - 75..at + 75].to_vec());
            reads.push(crate::dna::reverse_complement(&whole[at - 40..at + 110]));
        }
        let opts = SeedOptions { max_occ: 100, rare_occ: 100, ..SeedOptions::default() };
        let mut s = SeedScratch::default();
        let (mut pieces, mut contigs_seen) = (0, std::collections::BTreeSet::new());
        for read in &reads {
            let c = find_candidates(&idx, read, &opts, &mut s);
            assert!(!c.windows.is_empty());
            for p in &s.pieces {
                for h in &s.hits[p.hits.0..p.hits.1] {
                    let gpos = (h.diag() + h.qoff() as i64) as u64;
                    assert_eq!(idx.contig_of(gpos), p.contig, "{p:?} holds a hit at {gpos}");
                }
                contigs_seen.insert(p.contig);
                pieces += 1;
            }
            for w in &c.windows {
                let contig = &idx.contigs[w.contig];
                assert!(w.start >= contig.offset && w.end <= contig.offset + contig.len, "{w:?}");
            }
        }
        // The element's reads have a piece on every contig; the boundary reads one each side.
        assert_eq!(contigs_seen.len(), 40);
        assert!(pieces >= 2 * 40 + 4 * 39, "{pieces} pieces");
    }

    /// A read inside a (CA)n array whose seed is far more frequent than `max_occ` (and than
    /// [`FALLBACK_OCC`] times it) still gets windows, and no more or longer ones than the caps.
    #[test]
    fn reads_inside_a_long_microsatellite_get_bounded_windows() {
        let mut rng = crate::rng::Rng::new(7);
        let mut random = |n: usize| -> Vec<u8> { (0..n).map(|_| rng.base()).collect() };
        let ca = |n: usize| -> Vec<u8> { [1u8, 0].iter().cycle().take(n).copied().collect() };
        let mut genome = random(5000);
        let arrays: Vec<(u64, u64)> = (0..3)
            .map(|_| {
                let start = genome.len() as u64;
                genome.extend(ca(4000));
                let end = genome.len() as u64;
                genome.extend(random(5000));
                (start, end)
            })
            .collect();
        let idx = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let read = genome[7001..7151].to_vec();
        let mut s = SeedScratch::default();
        for max_occ in [500, 50, 1] {
            let opts = SeedOptions { max_occ, ..SeedOptions::default() };
            for (read, reverse) in [(read.clone(), false), (crate::dna::reverse_complement(&read), true)] {
                let c = find_candidates(&idx, &read, &opts, &mut s);
                assert!(!c.windows.is_empty(), "max_occ {max_occ}: no window");
                assert!(c.windows.len() <= opts.max_candidates * TIE_FACTOR, "{}", c.windows.len());
                assert!(c.unexamined > 0, "max_occ {max_occ}: copies left out are not counted");
                for w in &c.windows {
                    assert_eq!(w.reverse, reverse);
                    assert!(w.end - w.start <= 2 * 150 + 2 * opts.window_pad as u64, "{w:?}");
                    assert!(arrays.iter().any(|&(a, b)| w.start < b && a < w.end), "{w:?} outside the arrays");
                }
            }
        }
    }
}
