//! Read-to-window alignment: the recurrence every backend computes.
//!
//! # The problem
//! A *task* aligns a query `q[0..m)` (a read, already in the orientation of the candidate) to a
//! target `t[0..n)` (a reference window). The alignment is **local in the target** (free start
//! and end) and **local in the query with a clipping penalty** (as bwa-mem): leaving bases
//! unaligned at the query's start costs `clip`, and so does leaving bases at its end. Gaps are
//! affine: a gap of length `L` costs `gap_open + L * gap_extend` (6 + L by default).
//!
//! # Recurrence (integers, `i` over the query, `j` over the target)
//! ```text
//! s(i,j)   = ambiguous            if q[i] == N or t[j] == N   (N = code 4)
//!          = match                if q[i] == t[j]
//!          = -mismatch            otherwise
//! start(i) = 0 if i == 0 else -clip                       (value of starting a fresh alignment)
//! D(i,j)   = H(i-1,j-1) if i >= 1 and j >= 1 else -inf
//! diag     = max(D(i,j), start(i)) + s(i,j)              ties: start (clip, as bwa-mem)
//! E(i,j)   = max(H(i,j-1) - (open+ext), E(i,j-1) - ext)   gap in the query: CIGAR D
//! F(i,j)   = max(H(i-1,j) - (open+ext), F(i-1,j) - ext)   gap in the target: CIGAR I
//! H(i,j)   = max(diag, E(i,j), F(i,j))                    ties: diag, then E, then F
//! ```
//! Boundaries: `H(i,-1) = E(i,-1) = -inf` and `H(-1,j) = F(-1,j) = -inf` (the row above the
//! query exists only through `start(0) = 0`). In `E` and `F` ties go to the *open* move.
//! `-inf` is `NEG_INF`, far enough from `i32::MIN` that subtracting gap costs never wraps.
//!
//! # Band
//! A task may confine the alignment to a band of diagonals, `band.lo <= j - i <= band.hi`
//! (the mapper's band is the diagonals of a window's seeds plus the padding, see
//! `crate::seed`). Cells outside it do not exist: their `H`, `E` and `F` are `-inf` (so no
//! alignment starts, passes or ends there, and `start(i)` counts only inside the band). The
//! full band ([`Band::full`]) leaves the recurrence as above. Every backend computes only
//! the strips' rows that meet the band and masks the cells outside it, with the same results.
//!
//! # End cell and score
//! The alignment ends at the cell maximising `total(i,j) = H(i,j) - (i == m-1 ? 0 : clip)`.
//! Ties go to the smaller `i` (clipping rather than extending for nothing, as bwa-mem does at
//! both ends), then to the smaller `j` (leftmost). This order
//! depends only on the cell, never on the order cells are visited, so every backend and every
//! strip width agrees. The traceback follows the recorded moves from that cell back to a cell
//! whose `diag` took `start(i)`. The reported score ([`Alignment::score`]) is the raw
//! score of the aligned part, i.e. `total` plus the clip penalties it paid.
//!
//! # Traceback record (shared with the GPU kernel)
//! Each cell gets 4 bits: bits 0-1 the source of `H` (0 diag continuing, 1 diag starting,
//! 2 from E, 3 from F), bit 2 set when `E` extended, bit 3 set when `F` extended. The cells are
//! processed in vertical strips of `STRIP` target columns; the 8 cells of row `i` in strip
//! `k` form one `u32` (column `8k + c` in bits `4c..4c+4`), stored at word `k * m + i` of the
//! task's traceback area. `shaders/align.wgsl` states the same in its header.

mod cigar;
pub(crate) mod exact;
mod kernel;
pub(crate) mod lanes;
mod oracle;

pub use crate::options::Scoring;
pub use cigar::{Cigar, CigarOp};
pub(crate) use kernel::{align_task_banded, TracebackScratch};
pub(crate) use oracle::empty_alignment;
pub use oracle::{align_oracle, align_oracle_banded};

/// The diagonals (`j - i`, window position minus query position) a task's alignment may use,
/// `lo..=hi`; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Band {
    /// Lowest diagonal.
    pub lo: i32,
    /// Highest diagonal.
    pub hi: i32,
}

impl Band {
    /// Every cell of an `m x n` matrix.
    pub fn full(m: usize, n: usize) -> Band {
        Band { lo: -(m.min(i32::MAX as usize) as i32), hi: n.min(i32::MAX as usize) as i32 }
    }

    /// The band clamped to the diagonals an `m x n` matrix has; `None` when it meets none of
    /// its cells (then the task has no alignment).
    pub fn clamp(self, m: usize, n: usize) -> Option<Band> {
        let full = Band::full(m, n);
        let band = Band { lo: self.lo.max(full.lo + 1), hi: self.hi.min(full.hi - 1) };
        (m > 0 && n > 0 && band.lo <= band.hi).then_some(band)
    }

    /// Whether cell `(i, j)` lies in the band.
    #[inline(always)]
    pub fn contains(&self, i: usize, j: usize) -> bool {
        let d = j as i64 - i as i64;
        self.lo as i64 <= d && d <= self.hi as i64
    }

    /// Cells of an `m x n` matrix in the band: the diagonals' lengths summed in closed form
    /// (diagonal `d` has `min(m, n - d) - max(0, -d)` cells).
    pub fn cells(&self, m: usize, n: usize) -> u64 {
        let Some(b) = self.clamp(m, n) else { return 0 };
        let (m, n, lo, hi) = (m as i64, n as i64, b.lo as i64, b.hi as i64);
        // Sum of an arithmetic run of `count` terms from `first` to `last`.
        let run = |first: i64, last: i64, count: i64| (first + last) * count / 2;
        // min(m, n - d): m up to d = n - m, then n - d.
        let turn = n - m;
        let flat = (hi.min(turn) - lo + 1).max(0) * m;
        let from = lo.max(turn + 1);
        let sloped = if from <= hi { run(n - from, n - hi, hi - from + 1) } else { 0 };
        // max(0, -d): -d for the negative diagonals.
        let top = hi.min(-1);
        let below = if lo <= top { run(-lo, -top, top - lo + 1) } else { 0 };
        (flat + sloped - below) as u64
    }

    /// The rows of an `m`-row matrix that meet the band in columns `j0..j0 + width`.
    #[inline(always)]
    pub(crate) fn rows(&self, j0: usize, width: usize, m: usize) -> std::ops::Range<usize> {
        let first = (j0 as i64 - self.hi as i64).clamp(0, m as i64);
        let end = (j0 as i64 + width as i64 - self.lo as i64).clamp(first, m as i64);
        (first as usize)..(end as usize)
    }
}

/// Minus infinity in every DP matrix.
pub(crate) const NEG_INF: i32 = -(1 << 29);

/// Target columns per strip; one strip-row of traceback codes fills one `u32`.
pub(crate) const STRIP: usize = 8;

/// Result of one task. Coordinates are 0-based, ends exclusive: the alignment covers
/// `query[query_start..query_end]` and `target[target_start..target_end]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Alignment {
    /// Raw alignment score: matches, mismatches and gaps, clip penalties excluded. (The mapper
    /// scores a hit by its best stretch instead, `best_stretch_score`, which is SAM `AS`.)
    pub score: i32,
    /// First aligned query base (0-based).
    pub query_start: u32,
    /// One past the last aligned query base; `query_len - query_end` bases are clipped at the end.
    pub query_end: u32,
    /// First aligned window base (0-based, in window coordinates).
    pub target_start: u32,
    /// One past the last aligned window base.
    pub target_end: u32,
    /// M/I/D operations from `query_start`/`target_start` onwards (no clips).
    pub cigar: Cigar,
}

impl Alignment {
    /// An alignment from its traceback: cells `(query_start, target_start)` to
    /// `(end_i, end_j)` inclusive over a query of `m` bases, whose `total` (the maximised
    /// score, clip penalties included) becomes the raw score by adding back the penalties
    /// of the ends it clipped.
    pub(crate) fn from_traceback(
        total: i32,
        (query_start, target_start): (usize, usize),
        (end_i, end_j): (usize, usize),
        m: usize,
        cigar: Cigar,
        clip: i32,
    ) -> Alignment {
        let clipped_ends = (query_start > 0) as i32 + (end_i + 1 < m) as i32;
        Alignment {
            score: total + clipped_ends * clip,
            query_start: query_start as u32,
            query_end: end_i as u32 + 1,
            target_start: target_start as u32,
            target_end: end_j as u32 + 1,
            cigar,
        }
    }

    /// The score the recurrence maximised: the raw score less `clip` for each end of the
    /// `query_len`-base query left unaligned.
    pub fn total(&self, query_len: u32, clip: i32) -> i32 {
        self.score - clip * ((self.query_start > 0) as i32 + (self.query_end < query_len) as i32)
    }

    /// Best score of any stretch of this alignment's path (`best_stretch_score`) over the
    /// task's `query` and `target`.
    pub fn best_stretch(&self, query: &[u8], target: &[u8], sc: &Scoring) -> i32 {
        let q = &query[self.query_start as usize..self.query_end as usize];
        let t = &target[self.target_start as usize..self.target_end as usize];
        best_stretch_score(q, t, &self.cigar, sc)
    }
}

/// The best score of any contiguous stretch of an alignment path (`cigar` over `query` and
/// `target`, both starting at the path's first column; clips excluded): the maximum-sum
/// segment of its columns, a gap run counting as one element of cost `gap_open + L *
/// gap_extend`. This is the alignment's score as a purely local one, with no clip penalty:
/// where the recurrence extended to a read end only because clipping would have cost more,
/// the bases it took up add nothing here. bwa-mem likewise keeps the local maximum as a hit's
/// score (SAM `AS`) when it extends to the end, so copies of a repeat that differ only near a
/// read end score alike, and MAPQ does not tell them apart on that.
pub(crate) fn best_stretch_score(query: &[u8], target: &[u8], cigar: &Cigar, sc: &Scoring) -> i32 {
    let (mut i, mut j) = (0usize, 0usize);
    let (mut run, mut best) = (0i32, 0i32);
    let add = |x: i32, run: &mut i32, best: &mut i32| {
        *run = (*run + x).max(0);
        *best = (*best).max(*run);
    };
    for (op, len) in cigar.runs() {
        let len = len as usize;
        match op {
            CigarOp::Match => {
                let (q, t) = (&query[i..i + len], &target[j..j + len]);
                let columns = |q: &[u8], t: &[u8], run: &mut i32, best: &mut i32| {
                    for (&a, &b) in q.iter().zip(t) {
                        add(sc.pair(a, b), run, best);
                    }
                };
                let (wq, wt) = (q.chunks_exact(8), t.chunks_exact(8));
                let tail = len - wq.remainder().len();
                for (x, y) in wq.zip(wt) {
                    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("eight bytes"));
                    // Eight equal bases, none an N (codes are 0-4: bit 2 marks an N), with a
                    // positive match score: the stretch grows by eight matches at once.
                    let (a, b) = (word(x), word(y));
                    if a == b && a & 0x0404_0404_0404_0404 == 0 && sc.match_score > 0 {
                        run += 8 * sc.match_score;
                        best = best.max(run);
                    } else {
                        columns(x, y, &mut run, &mut best);
                    }
                }
                columns(&q[tail..], &t[tail..], &mut run, &mut best);
                i += len;
                j += len;
            }
            CigarOp::Insertion | CigarOp::Deletion => {
                add(-(sc.gap_open + len as i32 * sc.gap_extend), &mut run, &mut best);
                if op == CigarOp::Insertion {
                    i += len;
                } else {
                    j += len;
                }
            }
            CigarOp::SoftClip | CigarOp::HardClip => {}
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cigar(runs: &[(CigarOp, u32)]) -> Cigar {
        let mut c = Cigar::default();
        for &(op, len) in runs {
            c.push(op, len);
        }
        c
    }

    #[test]
    fn band_cells_count_the_cells_in_the_band() {
        for m in 1..12 {
            for n in 1..12 {
                for lo in -14..14 {
                    for hi in lo - 1..15 {
                        let band = Band { lo, hi };
                        let mut count = 0;
                        for i in 0..m {
                            for j in 0..n {
                                count += band.contains(i, j) as u64;
                            }
                        }
                        assert_eq!(band.cells(m, n), count, "{m} x {n} {band:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn best_stretch_drops_what_only_the_clip_penalty_paid_for() {
        let sc = Scoring::default();
        let t: Vec<u8> = (0..40).map(|i| (i * 7 % 4) as u8).collect();
        let m20 = cigar(&[(CigarOp::Match, 20)]);
        assert_eq!(best_stretch_score(&t[..20], &t[..20], &m20, &sc), 20);
        // A mismatch two bases from the end: the whole path scores 15, its best stretch 18.
        let mut q = t[..20].to_vec();
        q[18] = (q[18] + 1) % 4;
        assert_eq!(best_stretch_score(&q, &t[..20], &m20, &sc), 18);
        // A 2-base deletion between 10-base matches pays off (12 > 10) and stays.
        let q: Vec<u8> = t[..10].iter().chain(&t[12..22]).copied().collect();
        let c = cigar(&[(CigarOp::Match, 10), (CigarOp::Deletion, 2), (CigarOp::Match, 10)]);
        assert_eq!(best_stretch_score(&q, &t[..22], &c, &sc), 12);
        // A 10-base deletion after 5 matches does not (5 - 16 < 0): the stretch is the 20 after.
        let q: Vec<u8> = t[..5].iter().chain(&t[15..35]).copied().collect();
        let c = cigar(&[(CigarOp::Match, 5), (CigarOp::Deletion, 10), (CigarOp::Match, 20)]);
        assert_eq!(best_stretch_score(&q, &t[..35], &c, &sc), 20);
        // An insertion consumes the query only; N scores `ambiguous`.
        let mut q: Vec<u8> = t[..15].iter().chain(&[0, 0]).chain(&t[15..27]).copied().collect();
        q[20] = 4;
        let c = cigar(&[(CigarOp::Match, 15), (CigarOp::Insertion, 2), (CigarOp::Match, 12)]);
        assert_eq!(best_stretch_score(&q, &t[..27], &c, &sc), 15 - 8 + 11 + sc.ambiguous);
    }

    /// The word-at-a-time best stretch against the maximum-sum segment of the path's columns
    /// listed one by one: random paths of matches (long equal runs, mismatches, Ns on either
    /// side) and gaps, under the default scores and under inverted ones (matches cost,
    /// mismatches pay: the shortcut must stay off).
    #[test]
    fn best_stretch_equals_the_column_by_column_maximum() {
        let mut rng = crate::rng::Rng::new(21);
        for sc in [Scoring::default(), Scoring { match_score: -1, mismatch: -3, ..Scoring::default() }] {
            for round in 0..2000 {
                let (mut q, mut t, mut c, mut columns) = (Vec::new(), Vec::new(), Cigar::default(), Vec::new());
                // After a gap, a match run (two gap runs in a row would be one in the CIGAR).
                let mut gap = true;
                for _ in 0..1 + rng.below(5) {
                    let len = 1 + rng.below(40) as u32;
                    gap = !gap && rng.chance(0.3);
                    if !gap {
                        for _ in 0..len {
                            let a = if rng.chance(0.02) { 4 } else { rng.base() };
                            let b = match rng.below(20) {
                                0 => rng.other_base(a, a),
                                1 => 4,
                                _ => a,
                            };
                            q.push(a);
                            t.push(b);
                            columns.push(sc.pair(a, b));
                        }
                        c.push(CigarOp::Match, len);
                    } else {
                        let (op, side) =
                            if rng.chance(0.5) { (CigarOp::Insertion, &mut q) } else { (CigarOp::Deletion, &mut t) };
                        side.extend((0..len).map(|_| rng.base()));
                        c.push(op, len);
                        columns.push(-(sc.gap_open + len as i32 * sc.gap_extend));
                    }
                }
                let (mut run, mut want) = (0, 0);
                for x in columns {
                    run = (run + x).max(0);
                    want = want.max(run);
                }
                assert_eq!(best_stretch_score(&q, &t, &c, &sc), want, "round {round}: {c:?}");
            }
        }
    }
}
