//! A read's alignments on the reference, after the backend has aligned its windows: one
//! [`Hit`] per alignment (made by [`Hit::new`] alone, from windows and from mate rescue
//! alike), and a read's [`ReadHits`], made once by [`ReadHits::new`] and grown only by
//! [`ReadHits::merge`].
//!
//! Positions: a hit's `pos` is 0-based on its contig. The index's concatenated reference
//! (where candidate windows live) is never seen past [`Hit::new`].

use crate::align::{Alignment, Cigar, Scoring};
use crate::batch::AlignBatch;
use crate::index::Index;
use crate::options::MapOptions;
use crate::seed::{Candidates, MAX_PERIODS};
use smallvec::SmallVec;

/// Hits whose diagonals differ by at most this much are one placement. Copies of a tandem
/// repeat further apart stay separate hits (bwa-mem likewise keeps hits unless they overlap by
/// 95% on the read and the reference, 7 bases of a 150-base read).
const SAME_DIAGONAL: i64 = 8;

/// One alignment of a read, in reference coordinates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Index of the contig in [`crate::index::Index::contigs`].
    pub contig: usize,
    /// 0-based start on the contig.
    pub pos: u64,
    /// The reverse-complemented read aligned.
    pub reverse: bool,
    /// Score of the alignment's best stretch (`crate::align::best_stretch_score`, SAM `AS`).
    pub score: i32,
    /// The score the alignment recurrence maximised, clip penalties paid
    /// ([`Alignment::total`]): of two overlapping alignments, the one kept is the one an
    /// alignment over both their windows would give (a deletion taken rather than the read
    /// clipped, where taking it scores more).
    pub total: i32,
    /// Aligned part of the (oriented) read.
    pub query_start: u32,
    /// One past the last aligned base of the (oriented) read.
    pub query_end: u32,
    /// Reference bases covered.
    pub ref_len: u32,
    /// M/I/D operations, clips excluded.
    pub cigar: Cigar,
}

impl Hit {
    /// The hit of `aln`, an alignment of the read (reverse-complemented when `reverse`) to a
    /// window of `contig` starting at contig position `window_start`, scored `score` (its best
    /// stretch, SAM `AS`) and `total` ([`Alignment::total`]).
    pub fn new(contig: usize, window_start: u64, reverse: bool, aln: &Alignment, score: i32, total: i32) -> Hit {
        Hit::taking(contig, window_start, reverse, &mut aln.clone(), score, total)
    }

    /// [`Hit::new`], moving the CIGAR out of `aln` rather than copying it (one allocation
    /// less per alignment on the mapper's path).
    pub(crate) fn taking(
        contig: usize,
        window_start: u64,
        reverse: bool,
        aln: &mut Alignment,
        score: i32,
        total: i32,
    ) -> Hit {
        Hit {
            contig,
            pos: window_start + aln.target_start as u64,
            reverse,
            score,
            total,
            query_start: aln.query_start,
            query_end: aln.query_end,
            ref_len: aln.target_end - aln.target_start,
            cigar: std::mem::take(&mut aln.cigar),
        }
    }

    /// One past the last reference base covered (0-based on the contig).
    pub(crate) fn end(&self) -> u64 {
        self.pos + self.ref_len as u64
    }

    /// 5' end of the read on the reference (0-based): start if forward, last base if reverse.
    pub fn five_prime(&self) -> u64 {
        if self.reverse {
            self.end() - 1
        } else {
            self.pos
        }
    }

    /// The part of the read as sequenced (0-based, end exclusive) this hit aligns: query
    /// coordinates are on the oriented read, so a reverse hit's count from the other end.
    pub fn read_span(&self, read_len: u32) -> (u32, u32) {
        if self.reverse {
            (read_len - self.query_end, read_len - self.query_start)
        } else {
            (self.query_start, self.query_end)
        }
    }

    /// Read bases both hits align (whatever their strands and places).
    pub fn read_overlap(&self, other: &Hit, read_len: u32) -> u32 {
        let (a, b) = (self.read_span(read_len), other.read_span(read_len));
        b.1.min(a.1).saturating_sub(b.0.max(a.0))
    }

    /// Whether two hits are the same placement: same strand, overlapping on the reference and
    /// on nearly the same diagonal (within [`SAME_DIAGONAL`] of the diagonals a hit spans: an
    /// alignment through a long deletion or insertion spans those of both its sides, so a
    /// clipped alignment of one side is the same placement). Copies of a tandem repeat overlap
    /// on the reference but sit on diagonals a period apart, and stay separate hits (they are
    /// what XS and MAPQ see).
    fn overlaps(&self, other: &Hit) -> bool {
        let diagonals = |h: &Hit| {
            let (start, end) = (h.pos as i64 - h.query_start as i64, h.end() as i64 - h.query_end as i64);
            (start.min(end), start.max(end))
        };
        let (a, b) = (diagonals(self), diagonals(other));
        self.contig == other.contig
            && self.reverse == other.reverse
            && self.pos < other.end()
            && other.pos < self.end()
            && a.0.max(b.0) - a.1.min(b.1) <= SAME_DIAGONAL
    }
}

/// [`ReadHits::shared`] of a read's seeds.
fn shared_per_mille(seeds: &Candidates) -> u32 {
    let frequent = seeds.frequent as u64;
    let best = seeds.windows.first().map_or(0, |w| w.weight) as u64;
    if frequent == 0 {
        0
    } else {
        (frequent * 1000 / (frequent + best)) as u32
    }
}

/// Every alignment of one read, best first, with overlapping duplicates removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadHits {
    /// The hits, best first (by the total order of the module documentation of
    /// [`crate::place`]).
    pub hits: Vec<Hit>,
    /// Copies of the read's repeat that seeding found as good as its best but never aligned
    /// (the window cap): other placements exist that no hit here shows.
    pub unexamined: u32,
    /// How much of the evidence for the read's place its repeat shares with other copies, per
    /// mille: `F / (F + W)`, with `F` the read bases under seeds that many other places share
    /// and `W` those the best window's seeds cover (see `crate::place::mapq`).
    pub shared: u32,
    /// Best ungapped score of the read one tandem period away from its best hit (0 when the
    /// read has no internal period): copies of a short tandem repeat share one window, so
    /// this is how XS and MAPQ see them (bwa-mem's tandem sub-score).
    pub tandem_sub: i32,
    /// The read's internal periods (from seeding), at which [`ReadHits::tandem_score`]
    /// looks for tandem copies of a hit.
    pub periods: SmallVec<[u32; MAX_PERIODS]>,
    /// Hash of the read's name ([`tie_seed`]): orders hits of equal score, so that among
    /// equal copies each read picks its own, deterministically.
    pub tie_seed: u64,
}

/// The seed of a read's tie-breaks: a hash (FNV-1a) of its name. Mates share a name, so a
/// pair's ties are broken alike.
pub fn tie_seed(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The order of a read's hits: best score (`AS`) first, then the higher [`Hit::total`], then
/// by [`tie_key`], then place and CIGAR (a total order).
fn hit_order(seed: u64, a: &Hit, b: &Hit) -> std::cmp::Ordering {
    b.score
        .cmp(&a.score)
        .then(b.total.cmp(&a.total))
        .then(tie_key(seed, a).cmp(&tie_key(seed, b)))
        .then(a.contig.cmp(&b.contig))
        .then(a.pos.cmp(&b.pos))
        .then(a.reverse.cmp(&b.reverse))
        .then(a.cigar.words().cmp(b.cigar.words()))
}

/// Where a hit falls among others of equal score for a read whose [`tie_seed`] is `seed`:
/// a mix (splitmix64's finaliser) of the seed and the hit's place.
fn tie_key(seed: u64, h: &Hit) -> u64 {
    let mut x = seed ^ (h.contig as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ h.pos ^ (h.reverse as u64) << 63;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl ReadHits {
    /// The read's facts without its hits (to pair a subset of them).
    pub(crate) fn clone_without_hits(&self) -> ReadHits {
        ReadHits {
            hits: Vec::new(),
            unexamined: self.unexamined,
            shared: self.shared,
            tandem_sub: self.tandem_sub,
            periods: self.periods.clone(),
            tie_seed: self.tie_seed,
        }
    }

    /// A read's hits from the backend's results for its windows: `tasks` are the read's
    /// tasks in `batch` (one per window of `seeds`, in order), `alns` their results. Each
    /// alignment is scored by its best stretch ([`crate::align::best_stretch_score`]); those
    /// below `-T` are dropped; of overlapping ones on one strand the one with the highest
    /// [`Hit::total`] is kept; the rest are ordered by score, then by [`Hit::total`], then by a
    /// hash of the read's name (`tie_seed`) and the hit's place (so equal copies of a repeat
    /// are chosen evenly, not always the leftmost), then position (a total order, so no tie
    /// depends on scheduling). What seeding learnt of the read's repeats comes along, and its
    /// tandem copies are scored. The hits are kept in `hits` (emptied first: a spent read's,
    /// so that its room is used again); reference bases are fetched into `window` (a thread's
    /// buffer).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: &Index,
        read: &[u8],
        tie_seed: u64,
        seeds: &Candidates,
        batch: &AlignBatch,
        tasks: std::ops::Range<usize>,
        alns: &mut [Alignment],
        opts: &MapOptions,
        mut hits: Vec<Hit>,
        window: &mut Vec<u8>,
    ) -> ReadHits {
        hits.clear();
        hits.extend(
            seeds
                .windows
                .iter()
                .zip(&batch.tasks[tasks])
                .zip(alns)
                .filter(|(_, a)| !a.cigar.is_empty())
                .map(|((w, task), a)| {
                    let score = a.best_stretch(batch.query(task), batch.target(task), &opts.scoring);
                    let total = a.total(read.len() as u32, opts.scoring.clip);
                    Hit::taking(w.contig, w.start - index.contigs[w.contig].offset, w.reverse, a, score, total)
                })
                .filter(|h| h.score >= opts.min_score),
        );
        let mut hits = ReadHits {
            hits,
            unexamined: seeds.unexamined,
            shared: shared_per_mille(seeds),
            tandem_sub: 0,
            periods: seeds.periods.clone(),
            tie_seed,
        };
        hits.dedup_and_order();
        if let Some(best) = hits.hits.first() {
            hits.tandem_sub = hits.tandem_score_into(best, index, read, &opts.scoring, window);
        }
        hits
    }

    /// Adds alignments (e.g. from mate rescue), keeping the order and the deduplication rule
    /// of [`ReadHits::new`]: of overlapping alignments the one with the highest
    /// [`Hit::total`] stays (then the first in hit order).
    pub fn merge(&mut self, more: impl IntoIterator<Item = Hit>) {
        self.hits.extend(more);
        self.dedup_and_order();
    }

    /// Of overlapping hits keeps the one with the highest [`Hit::total`] (then the first in
    /// hit order), and puts the rest in hit order.
    fn dedup_and_order(&mut self) {
        let all = &mut self.hits;
        let seed = self.tie_seed;
        all.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| hit_order(seed, a, b)));
        // In that order, each hit overlapping none kept before it is kept (moved down to the
        // kept ones' end; what it displaces was looked at already).
        let mut kept = 0;
        for i in 0..all.len() {
            if !all[..kept].iter().any(|k| k.overlaps(&all[i])) {
                all.swap(kept, i);
                kept += 1;
            }
        }
        all.truncate(kept);
        all.sort_by(|a, b| hit_order(seed, a, b));
    }

    /// The best score of the read (`codes`, as sequenced) one of its internal periods away
    /// from `hit`: ungapped, the best-scoring stretch (maximum-sum segment) on `hit`'s diagonal
    /// shifted by each period both ways, within the contig; 0 for a read without periods.
    /// Copies of a short tandem repeat share one window, so this is how XS and MAPQ see them
    /// (bwa-mem's tandem sub-score).
    pub fn tandem_score(&self, hit: &Hit, index: &Index, codes: &[u8], sc: &Scoring) -> i32 {
        if self.periods.is_empty() {
            return 0;
        }
        self.tandem_score_into(hit, index, codes, sc, &mut Vec::new())
    }

    /// [`ReadHits::tandem_score`], the reference bases fetched into `window`.
    fn tandem_score_into(&self, hit: &Hit, index: &Index, codes: &[u8], sc: &Scoring, window: &mut Vec<u8>) -> i32 {
        // The read in the hit's orientation, base by base.
        let n = codes.len();
        let query = (0..n).map(|i| if hit.reverse { crate::dna::complement(codes[n - 1 - i]) } else { codes[i] });
        let contig = &index.contigs[hit.contig];
        let diag = hit.pos as i64 - hit.query_start as i64;
        let mut sub = 0;
        for &p in &self.periods {
            for shifted in [diag - p as i64, diag + p as i64] {
                // The reference bases this diagonal meets within the contig.
                let lo = shifted.clamp(0, contig.len as i64);
                let hi = (shifted + n as i64).clamp(lo, contig.len as i64);
                let bases = index.reference().fetch(contig.offset + lo as u64..contig.offset + hi as u64, window);
                let (mut run, mut top) = (0i32, 0i32);
                for (i, q) in query.clone().enumerate() {
                    let j = shifted + i as i64;
                    if j < lo || j >= hi {
                        run = 0;
                        continue;
                    }
                    run = (run + sc.pair(q, bases[(j - lo) as usize])).max(0);
                    top = top.max(run);
                }
                sub = sub.max(top);
            }
        }
        sub
    }

    /// The best hit; `None` when the read has none.
    pub(crate) fn best(&self) -> Option<&Hit> {
        self.hits.first()
    }
}
