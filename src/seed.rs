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
//! (with MAPQ 0), and the windows kept are capped as for any read ([`TIE_FACTOR`]).
//!
//! Between the two, a minimizer with more than `rare_occ` (50) hits is *frequent*: its hits
//! are used only where the read's rare minimizers (at most `rare_occ` hits) leave a stretch of
//! `rare_gap` (40) or more read bases uncovered that its k-mer reaches into. A read half in an
//! Alu and half in unique sequence is placed by its unique half alone, without the hundreds of
//! Alu hits that would only make light windows elsewhere; a read wholly inside a repeat still
//! uses every minimizer up to `max_occ`. (minimap2 keeps its frequent minimizers in long gaps
//! between rare ones alike.) On 100,000 dwgsim chr20 pairs this cut seeding from 8.7 to 5.7 us
//! per read; it changed MAPQ on 130 of 200,000 records (40 more at 60, none wrong) and XS on
//! about 8% (fewer suboptimal hits are found).
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

use crate::index::minimizer::{minimizers, Minimizer};
use crate::index::Index;
use crate::options::SeedOptions;
use smallvec::SmallVec;

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

/// A seed hit, packed into one integer whose order is that of (strand, diagonal, read
/// offset): `reverse << 44 | (diag + 2^11) << 11 | qoff`. Read offsets are below 2^11
/// (reads are at most `MAX_READ_LEN` = 2,000 bases), diagonals at least `-2^11` and below
/// 2^32 (references under 4 Gbp), so every field fits and sorting the integers sorts the
/// hits, by radix where there are many ([`sort_hits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Hit(u64);

/// Bits of a read offset in [`Hit`], and the bias that makes a diagonal non-negative.
const QOFF_BITS: u32 = 11;
const DIAG_BIAS: i64 = 1 << QOFF_BITS;
const REVERSE_BIT: u32 = 44;

impl Hit {
    fn new(reverse: bool, diag: i64, qoff: u32) -> Hit {
        debug_assert!(qoff < 1 << QOFF_BITS && diag >= -DIAG_BIAS && diag + DIAG_BIAS < 1 << 33);
        Hit((reverse as u64) << REVERSE_BIT | ((diag + DIAG_BIAS) as u64) << QOFF_BITS | qoff as u64)
    }

    fn reverse(self) -> bool {
        self.0 >> REVERSE_BIT != 0
    }

    fn diag(self) -> i64 {
        ((self.0 & ((1 << REVERSE_BIT) - 1)) >> QOFF_BITS) as i64 - DIAG_BIAS
    }

    fn qoff(self) -> u32 {
        (self.0 & ((1 << QOFF_BITS) - 1)) as u32
    }
}

/// Sorts hits: a comparison sort for few, else a least-significant-digit radix sort in bytes
/// (a read in a repeat has thousands of hits; bytes that every key shares are skipped).
///
/// The radix sort orders by strand and diagonal only, on a key of just the bits the hits use
/// (the strand above the highest diagonal bit: 27 bits on a 63 Mbp chromosome, four passes).
/// That sorts the whole key because the sort is stable and [`collect_hits`] hands over the
/// hits of each strand and diagonal with their read offsets ascending.
fn sort_hits(hits: &mut Vec<Hit>, tmp: &mut Vec<Hit>) {
    if hits.len() < 256 {
        hits.sort_unstable();
        return;
    }
    const DIAG_MASK: u64 = (1 << REVERSE_BIT) - (1 << QOFF_BITS);
    let used = hits.iter().fold(0, |a, h| a | (h.0 & DIAG_MASK)) >> QOFF_BITS;
    let diag_bits = u64::BITS - used.leading_zeros();
    let key = |h: &Hit| (h.0 >> REVERSE_BIT) << diag_bits | (h.0 & DIAG_MASK) >> QOFF_BITS;
    tmp.clear();
    tmp.resize(hits.len(), Hit(0));
    for shift in (0..diag_bits + 1).step_by(8) {
        let mut counts = [0usize; 256];
        for h in hits.iter() {
            counts[(key(h) >> shift & 0xff) as usize] += 1;
        }
        if counts.contains(&hits.len()) {
            continue;
        }
        let mut at = 0;
        for c in counts.iter_mut() {
            (*c, at) = (at, at + *c);
        }
        for h in hits.iter() {
            let d = (key(h) >> shift & 0xff) as usize;
            tmp[counts[d]] = *h;
            counts[d] += 1;
        }
        std::mem::swap(hits, tmp);
    }
}

/// What seeding found for a read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Candidates {
    /// Windows to align, best first.
    pub windows: Vec<CandidateWindow>,
    /// Read bases covered by minimizers skipped as too frequent and by no usable one.
    pub repetitive: u32,
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

/// Internal periods kept per read.
pub const MAX_PERIODS: usize = 4;

/// A read whose every seed is more frequent than `max_occ` is seeded from its rarest ones,
/// from at most this many times `max_occ` of their occurrences in all (sampled evenly).
pub const FALLBACK_OCC: usize = 20;

/// Buffers reused across reads of one thread.
#[derive(Default)]
pub struct SeedScratch {
    mins: Vec<Minimizer>,
    hits: Vec<Hit>,
    /// Reverse-strand hits while they are collected, in minimizer order.
    rev_hits: Vec<Hit>,
    /// The radix sort's other buffer.
    sorted: Vec<Hit>,
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
    pieces: Vec<Piece>,
    chains: Vec<Piece>,
    /// Candidate windows with the read bases their seeds span, and the light ones set aside.
    cands: Vec<(CandidateWindow, (u32, u32))>,
    light: Vec<(CandidateWindow, (u32, u32))>,
    /// Split parts and chains chosen beside the capped windows ([`choose_windows`]).
    parts: Vec<(CandidateWindow, (u32, u32))>,
    extra: Vec<(CandidateWindow, (u32, u32))>,
    /// Minimizers by hash, and the periods they repeat at ([`internal_periods`]).
    by_hash: Vec<(u64, u32)>,
    periods: Vec<u32>,
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
/// windows are found. The same results, faster: a read's lookups no longer wait for memory
/// in three rounds of their own. Blocks of about [`SEED_BLOCK`] reads.
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
    // Repetitive share: bases under skipped minimizers that no usable minimizer covers.
    let k = index.params.k;
    s.rep_spans.clear();
    s.spans.clear();
    for (m, &(lo, hi)) in s.mins.iter().zip(&s.ranges) {
        let n = (hi - lo) as usize;
        let span = (m.pos, m.pos + k);
        if n > opts.max_occ {
            s.rep_spans.push(span);
        } else {
            s.spans.push(span);
        }
    }
    c.repetitive = covered(&mut s.rep_spans).saturating_sub(overlap_with(&s.rep_spans, &s.spans));
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

/// Bases covered both by the (sorted, merged-on-the-fly) spans `a` and by any span of `b`.
fn overlap_with(a: &[(u32, u32)], b: &[(u32, u32)]) -> u32 {
    let mut total = 0u32;
    let mut reach = 0u32;
    for &(x, y) in a {
        let x = x.max(reach);
        for p in x..y {
            if b.iter().any(|&(c, d)| c <= p && p < d) {
                total += 1;
            }
        }
        reach = reach.max(y);
    }
    total
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
    let SeedScratch { hits, spans, pieces, chains, cands, light, parts, extra, .. } = s;
    chain_pieces(index, hits, read.len(), opts, pieces, chains);
    let maker = WindowMaker { index, hits, len: read.len(), opts };
    choose_windows(&maker, (pieces, chains), (cands, light, parts, extra), spans, left_out, out)
}

/// Fills `s.hits` with the read's seed hits, from its minimizers in `s.mins` and their table
/// entries in `s.ranges`. Returns how many occurrences of the rarest seeds the fallback left
/// out of its sample, or `None` when the read has no hit at all.
fn collect_hits(index: &Index, read: &[u8], opts: &SeedOptions, s: &mut SeedScratch) -> Option<usize> {
    let k = index.params.k as usize;
    let len = read.len();
    s.hits.clear();
    s.rev_hits.clear();
    if len < k {
        return None;
    }
    // Occurrences of the rarest seeds left out of the fallback's sample.
    let mut left_out = 0usize;
    // Read bases the rare minimizers cover, as merged spans in read order (minimizers come in
    // read order).
    let rare = &mut s.rare_cover;
    rare.clear();
    for (m, r) in s.mins.iter().zip(&s.ranges) {
        let n = (r.1 - r.0) as usize;
        if n > 0 && n <= opts.rare_occ {
            let (a, b) = (m.pos, m.pos + k as u32);
            match rare.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => rare.push((a, b)),
            }
        }
    }
    // The minimizers whose hits are used, their entries asked for from memory before any is
    // read. The first rare span not ending before the current minimizer is `rare[at]`.
    let mut at = 0usize;
    s.used.clear();
    for (i, (m, &range)) in s.mins.iter().zip(&s.ranges).enumerate() {
        let n = (range.1 - range.0) as usize;
        if n == 0 || n > opts.max_occ {
            continue;
        }
        if n > opts.rare_occ {
            while at < rare.len() && rare[at].1 <= m.pos {
                at += 1;
            }
            // The uncovered stretch this k-mer reaches into: after the span it starts in, or
            // before the next span.
            let next = at + rare.get(at).is_some_and(|c| c.0 <= m.pos) as usize;
            let gap_start = if next == 0 { 0 } else { rare[next - 1].1 };
            let gap_end = rare.get(next).map_or(len as u32, |c| c.0);
            if m.pos + k as u32 <= gap_start || gap_end.saturating_sub(gap_start) < opts.rare_gap {
                continue;
            }
        }
        index.prefetch_entries(range);
        s.used.push(i);
    }
    for &i in &s.used {
        push_hits((&mut s.hits, &mut s.rev_hits), index.entries_of(s.ranges[i]), &s.mins[i], len, k);
    }
    let any = !s.used.is_empty();
    if !any {
        // Every seed is repetitive: fall back to the rarest ones, however frequent (bwa-mem
        // likewise places such reads, at MAPQ 0). A k-mer repeated inside the read (a tandem
        // repeat: a (CA)n read has one minimizer every 2 bases) is used at its first position
        // only, as its other positions give the same diagonals shifted by a period; and at
        // most [`FALLBACK_OCC`] times `max_occ` occurrences are used in all, sampled evenly
        // along the reference, so that the work is bounded however long the repeat.
        let count = |r: &(u32, u32)| (r.1 - r.0) as usize;
        let rarest = s.ranges.iter().map(count).filter(|&n| n > 0).min();
        if let Some(n) = rarest {
            s.rarest.clear();
            for (m, r) in s.mins.iter().zip(&s.ranges) {
                if count(r) == n && !s.rarest.iter().any(|x| x.hash == m.hash) {
                    s.rarest.push(*m);
                }
            }
            let quota = (opts.max_occ.saturating_mul(FALLBACK_OCC) / s.rarest.len()).max(1);
            for m in &s.rarest {
                let range = index.lookup(m.hash);
                if n <= quota {
                    push_hits((&mut s.hits, &mut s.rev_hits), index.entries_of(range), m, len, k);
                } else {
                    left_out += n - quota;
                    let at = |i: usize| range.0 as usize + (i as u128 * n as u128 / quota as u128) as usize;
                    let sampled = (0..quota).map(|i| index.occurrence(at(i)));
                    push_hits((&mut s.hits, &mut s.rev_hits), sampled, m, len, k);
                }
            }
        }
    }
    // Minimizers come in read order, so forward hits of one diagonal have ascending read
    // offsets and reverse ones descending: reversed, they ascend too ([`sort_hits`]).
    s.hits.extend(s.rev_hits.iter().rev());
    (!s.hits.is_empty()).then_some(left_out)
}

/// A candidate window and the read bases its seeds span (on the read in the window's
/// orientation).
type Cand = (CandidateWindow, (u32, u32));

/// Makes the window of a piece (or chain) of one read's sorted hits.
struct WindowMaker<'a> {
    index: &'a Index,
    hits: &'a [Hit],
    len: usize,
    opts: &'a SeedOptions,
}

impl WindowMaker<'_> {
    /// The piece's diagonals widened by the padding, within its contig; its weight (read
    /// bases its seeds cover) and band. `None` for an empty window.
    fn window(&self, p: &Piece, spans: &mut Vec<(u32, u32)>) -> Option<Cand> {
        let (k, pad) = (self.index.params.k, self.opts.window_pad as i64);
        let c = &self.index.contigs[p.contig];
        let (cstart, cend) = (c.offset as i64, (c.offset + c.len) as i64);
        let start = (p.diag.0 - pad).clamp(cstart, cend);
        let end = (p.diag.1 + self.len as i64 + pad).clamp(cstart, cend);
        let weight = if p.lone() {
            k // a lone seed (most pieces of a read with repetitive seeds)
        } else {
            spans.clear();
            spans.extend(self.hits[p.hits.0..p.hits.1].iter().map(|h| (h.qoff(), h.qoff() + k)));
            covered(spans)
        };
        let band = ((p.diag.0 - pad - start) as i32, (p.diag.1 + pad - start) as i32);
        let (start, end) = (start as u64, end as u64);
        let w = CandidateWindow { reverse: p.reverse, contig: p.contig, start, end, weight, band };
        (end > start).then_some((w, p.read))
    }

    /// Read bases a window's seeds span, on the read as sequenced (a reverse window's spans
    /// are on the reverse-complemented read).
    fn sequenced(&self, w: &Cand) -> (u32, u32) {
        let len = self.len as u32;
        if w.0.reverse {
            (len - w.1 .1, len - w.1 .0)
        } else {
            w.1
        }
    }
}

/// Best first: heavier, then forward before reverse, then leftmost; the remaining fields break
/// what ties are left (windows clamped to a contig's start), so the order is total and the
/// windows chosen never depend on the order pieces came in or on how they are selected.
fn order(a: &Cand, b: &Cand) -> std::cmp::Ordering {
    // Weight (below 2^16: at most the read's length), strand and start (below 2^32: global
    // positions) packed into one integer in that order: one comparison decides nearly every
    // pair (a read in a repeat has hundreds of windows to select from).
    let key = |c: &Cand| (0xffff - c.0.weight as u64) << 33 | (c.0.reverse as u64) << 32 | c.0.start;
    let rest = |c: &Cand| (c.0.end, c.0.contig, c.0.band, c.1);
    key(a).cmp(&key(b)).then_with(|| rest(a).cmp(&rest(b)))
}

/// The first `n` of `items` in [`order`] that `keep` accepts, best first, into `out`, in one
/// pass (without sorting all of them: a read in a repeat has hundreds of windows).
fn best_of<'c>(items: impl Iterator<Item = &'c Cand>, keep: impl Fn(&Cand) -> bool, n: usize, out: &mut Vec<Cand>) {
    let first = out.len();
    for c in items.filter(|c| keep(c)) {
        let chosen = &out[first..];
        if chosen.len() == n && order(c, &chosen[n - 1]).is_ge() {
            continue;
        }
        let at = first + chosen.partition_point(|x| order(x, c).is_lt());
        out.insert(at, *c);
        out.truncate(first + n);
    }
}

/// The windows of a read's pieces into `out` (empty): the heavy ones, best first and capped,
/// then the heaviest chains and split parts (see the module documentation); returns how many
/// windows as good as the best the caps left out (`left_out` more from the fallback's sample).
fn choose_windows(
    maker: &WindowMaker,
    (pieces, chains): (&[Piece], &[Piece]),
    (windows, light, parts, extra): (&mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>),
    spans: &mut Vec<(u32, u32)>,
    left_out: usize,
    out: &mut Vec<CandidateWindow>,
) -> u32 {
    let (opts, pct) = (maker.opts, maker.opts.min_weight_percent as u64);
    // Windows of pieces of two seeds or more first. A lone seed's window weighs k; when the
    // heaviest of those outweighs it more than `min_weight_percent` allows, no lone-seed window
    // can be heavy (or the best), so they are made only if split parts are sought (a read
    // with repetitive seeds has hundreds of them; chains already took them into account).
    let lone = |p: &&Piece| p.lone();
    windows.clear();
    windows.extend(pieces.iter().filter(|p| !lone(p)).filter_map(|p| maker.window(p, spans)));
    let top = windows.iter().map(|w| w.0.weight as u64).max().unwrap_or(0);
    let lone_light = top * pct > maker.index.params.k as u64 * 100;
    if !lone_light {
        windows.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
    }
    if windows.is_empty() {
        return left_out.min(u32::MAX as usize) as u32;
    }
    // Only the heavy windows (at least `min_weight_percent` of the best) are sorted: a read
    // with repetitive seeds has hundreds of light ones, sorted only when split parts are sought.
    let top = windows.iter().map(|w| w.0.weight).max().unwrap_or(0) as u64;
    light.clear();
    windows.retain(|w| {
        let heavy = w.0.weight as u64 * 100 >= top * pct;
        if !heavy {
            light.push(*w);
        }
        heavy
    });
    // The `keep` best, sorted; a read in a repeat has hundreds of windows as heavy, and only
    // these few are sorted (the rest are only searched for split parts, below).
    let best = top as u32;
    let ties = windows.iter().filter(|w| w.0.weight as u64 * 100 >= best as u64 * TIE_PERCENT).count();
    let keep = opts.max_candidates.max(ties.min(opts.max_candidates * TIE_FACTOR)).min(windows.len());
    if keep < windows.len() {
        windows.select_nth_unstable_by(keep, order);
    }
    windows[..keep].sort_unstable_by(order);
    let best_read = maker.sequenced(&windows[0]);
    let unaligned = maker.len as u32 - (best_read.1 - best_read.0);
    let unexamined = ties.saturating_sub(keep).saturating_add(left_out).min(u32::MAX as usize) as u32;
    // Windows left out (too light, or past the cap) whose seeds lie mostly on read bases the
    // best window's do not cover: the other side of a fusion junction. The heaviest are added
    // after the capped set, which stays as it was.
    parts.clear();
    if unaligned >= MIN_PART_BASES {
        if lone_light {
            light.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
        }
        let part = |w: &Cand| overlap(maker.sequenced(w), best_read) * 2 < w.1 .1 - w.1 .0;
        best_of(windows[keep..].iter().chain(light.iter()), part, MAX_PARTS, parts);
    }
    windows.truncate(keep);
    // Chains that explain more of the read than any one window (both sides of an indel), best
    // first, and the heaviest split parts: extra windows, so the capped set above, and with it
    // every copy a read's XA lists, stays as it was.
    extra.clear();
    extra.extend(chains.iter().filter_map(|p| maker.window(p, spans)).filter(|w| w.0.weight > best));
    extra.sort_unstable_by(order);
    extra.truncate(MAX_CHAINS);
    let chosen = windows.iter().chain(extra.iter()).chain(parts.iter());
    out.extend(chosen.map(|&(w, _)| w));
    unexamined
}

/// Bases two spans share.
fn overlap(a: (u32, u32), b: (u32, u32)) -> u32 {
    a.1.min(b.1).saturating_sub(a.0.max(b.0))
}

/// A run of sorted seed hits that becomes one window: on one strand of one contig, its
/// diagonals `diag.0..=diag.1`, the read bases its seeds span, and its hits `hits.0..hits.1`.
#[derive(Clone, Copy, Debug)]
struct Piece {
    reverse: bool,
    contig: usize,
    diag: (i64, i64),
    read: (u32, u32),
    hits: (usize, usize),
}

impl Piece {
    /// A piece of one seed hit.
    fn lone(&self) -> bool {
        self.hits.1 - self.hits.0 == 1
    }
}

/// Colinear pieces further apart than this on the diagonal (an indel longer than this) stay
/// apart: 100 bases, as the issue of long deletions asks (EGFR exon 19, MET exon 14 sizes).
pub const MAX_INDEL: i64 = 100;

/// When the best window's seeds leave at least this many read bases uncovered, windows left
/// out whose seeds lie mostly in them are aligned too: the other side of a split read. (A
/// part needs 30 aligned bases to reach bwa-mem's minimum score, and may share a few with its
/// neighbour across the junction.)
pub const MIN_PART_BASES: u32 = 25;

/// Split-part windows aligned per read at most (the heaviest).
pub const MAX_PARTS: usize = 2;

/// Chain windows aligned per read at most (the heaviest).
pub const MAX_CHAINS: usize = 2;

/// Groups the sorted hits into pieces, then chains colinear neighbours.
///
/// Hits on one strand of one contig whose sorted diagonals are at most `band` apart form a
/// group. A group wider than the band holds several placements (copies of a tandem array, or
/// a short tandem repeat inside the read): each cluster of nearby diagonals (at most
/// [`CLUSTER_GAP`] apart) becomes a piece, so every copy is aligned and seen by XS and MAPQ,
/// not only the best one; and a cluster is cut where its diagonals would span more than the
/// read's length (a read inside a long microsatellite has seeds on every diagonal of the
/// array), so no window is longer than twice the read plus the padding.
///
/// Then consecutive pieces on one strand and contig, at most [`MAX_INDEL`] diagonals apart,
/// whose seeds cover different parts of the read (sharing fewer bases than a seed) are one
/// chain: the two sides of a deletion (the right side on a higher diagonal) or of an insertion
/// (on a lower one). Fills `pieces`, and `chains` with the chains of two or more pieces: each is one
/// more window holding both sides, so the alignment can take the indel; its pieces stay
/// windows of their own too, since nearby copies of a repeat whose seeds happen to fall on
/// different read bases chain the same way, and each copy must still be aligned for XS and XA.
/// Copies whose seeds share read bases are never chained.
fn chain_pieces(
    index: &Index,
    hits: &[Hit],
    len: usize,
    opts: &SeedOptions,
    pieces: &mut Vec<Piece>,
    chains: &mut Vec<Piece>,
) {
    let k = index.params.k;
    let contig_of = |h: &Hit| index.contig_of((h.diag() + h.qoff() as i64) as u64);
    let max_span = (len as i64).max(opts.band as i64);
    pieces.clear();
    chains.clear();
    // The chain being extended and how many pieces it holds; chains of two or more.
    let mut chain: Option<(Piece, usize)> = None;
    let mut i = 0;
    while i < hits.len() {
        let (first, contig) = (hits[i], contig_of(&hits[i]));
        let mut j = i + 1;
        while j < hits.len()
            && hits[j].reverse() == first.reverse()
            && hits[j].diag() - hits[j - 1].diag() <= opts.band as i64
            && contig_of(&hits[j]) == contig
        {
            j += 1;
        }
        let group = &hits[i..j];
        let split = group[group.len() - 1].diag() - group[0].diag() > opts.band as i64;
        let mut a = 0;
        while a < group.len() {
            let mut b = a + 1;
            while b < group.len()
                && (!split || group[b].diag() - group[b - 1].diag() <= CLUSTER_GAP)
                && group[b].diag() - group[a].diag() <= max_span
            {
                b += 1;
            }
            let cluster = &group[a..b];
            let qlo = cluster.iter().map(|h| h.qoff()).min().unwrap_or(0);
            let qhi = cluster.iter().map(|h| h.qoff() + k).max().unwrap_or(0);
            let piece = Piece {
                reverse: first.reverse(),
                contig,
                diag: (cluster[0].diag(), cluster[cluster.len() - 1].diag()),
                read: (qlo, qhi),
                hits: (i + a, i + b),
            };
            match &mut chain {
                Some((c, n)) if colinear(c, &piece, k, opts.band) => {
                    c.diag.1 = piece.diag.1;
                    c.read = (c.read.0.min(piece.read.0), c.read.1.max(piece.read.1));
                    c.hits.1 = piece.hits.1;
                    *n += 1;
                }
                _ => {
                    chains.extend(chain.filter(|&(_, n)| n > 1).map(|(c, _)| c));
                    chain = Some((piece, 1));
                }
            }
            pieces.push(piece);
            a = b;
        }
        i = j;
    }
    chains.extend(chain.filter(|&(_, n)| n > 1).map(|(c, _)| c));
}

/// Whether `next` (later in diagonal order) continues the chain `last`: same strand and
/// contig, at most [`MAX_INDEL`] diagonals on, the chain then spanning at most `MAX_INDEL +
/// band` diagonals (so a chain window is bounded), and other read bases (sharing fewer than
/// `k`).
fn colinear(last: &Piece, next: &Piece, k: u32, band: u32) -> bool {
    last.reverse == next.reverse
        && last.contig == next.contig
        && next.diag.0 > last.diag.1
        && next.diag.0 - last.diag.1 <= MAX_INDEL
        && next.diag.1 - last.diag.0 <= MAX_INDEL + band as i64
        && overlap(last.read, next.read) < k
}

/// Appends the hits of minimizer `m` at the occurrences `hits` to `fwd` and `rev` by strand.
/// A repeat's occurrences fall on either strand at random, so rather than branch on the
/// strand (a misprediction every other hit) each hit is written to the end of both vectors
/// and only the one it belongs to grows.
fn push_hits(
    (fwd, rev): (&mut Vec<Hit>, &mut Vec<Hit>),
    hits: impl ExactSizeIterator<Item = u64>,
    m: &Minimizer,
    len: usize,
    k: usize,
) {
    let n = hits.len();
    fwd.reserve(n);
    rev.reserve(n);
    let (f, r) = (fwd.spare_capacity_mut(), rev.spare_capacity_mut());
    let qoff = (len - k) as u32 - m.pos;
    let (mut nf, mut nr) = (0, 0);
    for v in hits.take(n) {
        let rpos = (v >> 1) as i64;
        let reverse = ((v & 1) == 1) != m.reverse;
        f[nf].write(Hit::new(false, rpos - m.pos as i64, m.pos));
        r[nr].write(Hit::new(true, rpos - qoff as i64, qoff));
        nf += !reverse as usize;
        nr += reverse as usize;
    }
    // SAFETY: the first `nf` spare slots of `fwd` and `nr` of `rev` were written just above
    // (each within the `n` reserved: `nf + nr` hits were taken from `n`).
    unsafe {
        fwd.set_len(fwd.len() + nf);
        rev.set_len(rev.len() + nr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexParams;
    use crate::io::fasta::Contig;

    #[test]
    fn packed_hits_sort_like_their_fields() {
        let mut x = 5u64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
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
            let mut hits: Vec<Hit> = given.iter().map(|&(r, d, q)| Hit::new(r, d, q)).collect();
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
        let mut x = 99u64;
        let genome: Vec<u8> = (0..20000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 4) as u8
            })
            .collect();
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

    /// A read inside a (CA)n array whose seed is far more frequent than `max_occ` (and than
    /// [`FALLBACK_OCC`] times it) still gets windows, and no more or longer ones than the caps.
    #[test]
    fn reads_inside_a_long_microsatellite_get_bounded_windows() {
        let mut x = 7u64;
        let mut random = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 4) as u8
                })
                .collect()
        };
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
