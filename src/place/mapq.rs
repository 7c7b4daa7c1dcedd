//! Mapping quality: every formula, after bwa-mem's model (`mem_approx_mapq_se` and the
//! paired-end part of `mem_sam_pe`). Each is written here once; [`crate::place`] says which
//! hits it is applied to.
//!
//! **Single end** ([`single_end`]), for a hit scoring `S` against its rivals (the hits that
//! align the same read bases, see [`crate::place::layout`]):
//! ```text
//! sub   = max(best rival's score, tandem_sub, 19 * match)
//! q     = 0                                             if S <= 0 or sub >= S
//! l     = max(aligned read bases, aligned reference bases)
//! id    = 1 - (l * match - S) / (match + mismatch) / l  (identity the score implies)
//! scale = (l < 50 ? 1 : ln 50 / ln l) * id^2
//! q     = 6.02 * (S - sub) / match * scale^2 + 0.499 - (4.343 * ln(near + 1) + 0.499)
//! MAPQ  = clamp(q, 0, 60)      (each term truncated to an integer, as bwa-mem does)
//! ```
//! - `6.02` per point of score gap: a mismatch costs `match + mismatch` = 5 points, about 30
//!   (a Phred 30, one wrong read in a thousand, for one mismatch between best and second).
//! - `19 * match`: a score any placement reaches by chance (bwa-mem's minimum seed length), so
//!   a read with no rival is not more certain than its gap to that.
//! - `tandem_sub`: the read's best score one tandem period away from its best hit; copies of a
//!   short tandem repeat share one window, and this is how their existence is seen.
//! - `scale`: a long alignment or a poor identity makes a score gap less telling.
//! - `near`: rivals within one mismatch (`match + mismatch`) of `S`; each halves the odds.
//!
//! **Repeats** ([`in_repeats`]): the hits of a read are only those of the windows seeding
//! chose, and a read in a repeat has rivals that no hit shows, so its score gap to the rivals
//! it has says less. Applied to every read's own MAPQ (a single read's, each mate's before the
//! pair is weighed in):
//! ```text
//! shared = F / (F + W)   F: read bases under seeds of more than `crate::seed::SHARED_OCC`
//!                           (300) occurrences, which many other copies of its repeat share;
//!                           W: bases the best window's seeds cover, the evidence that places
//!                           it there
//! q = 0                     when seeding saw copies as good as the best window that were
//!                           never aligned (the window cap, the fallback's sample)
//! q = q * (1 - shared) + 0.499
//! ```
//! `shared` is minimap2's ratio of repetitive length to chaining score in other units. A read
//! wholly inside a young repeat or a satellite array, placed by a few rare seeds among
//! thousands of copies that share its other k-mers, gets little confidence from its score
//! gap; a read half in unique sequence keeps about half.
//!
//! **Pair** ([`pair`]), for a pair scoring `P = S1 + S2 + insert penalty`:
//! ```text
//! sub  = max(second-best proper pair score, S1best + S2best - 17)   (17: unpaired penalty)
//! q_pe = 6.02 * (P - sub) / match + 0.499 - (4.343 * ln(max(near_pairs, 1)) + 0.499)
//! q_pe = clamp(q_pe, 0, 60) * (1 - sqrt(shared1 * shared2)) + 0.499
//!        (a mate outside the repeat anchors the pair: its shared is 0)
//! q_pe = 0 when both mates have copies as good as their best that seeding saw but never
//!        aligned
//! ```
//! **Each mate of a pair** ([`mate`]): with `q_se` its own single-end MAPQ (0 when the pair
//! placed it at a hit other than its best),
//! `q = q_se > q_pe ? q_se : min(q_pe, q_se + 40)`, then capped at
//! `6.02 * (S - tandem_sub) / match` when its best hit has tandem copies (bwa-mem caps a
//! mate by its own sub-optimal score the same way).
//!
//! **Supplementary part**: [`single_end`] of the part against its own rivals, at most the
//! primary's MAPQ (bwa-mem, without `-q`).

use crate::align::Scoring;
use crate::place::hit::{Hit, ReadHits};

/// Score any placement of a read is assumed to reach by chance (bwa-mem: min seed length x match).
const CHANCE_SCORE_BASES: i32 = 19;

/// Highest MAPQ given.
pub const MAX_MAPQ: i32 = 60;

/// A mate's own MAPQ may raise the pair's by at most this much (bwa-mem's rule).
const MATE_BONUS: i32 = 40;

/// Single-end MAPQ (0-60) of `hit` against its `rivals` (best first) and the read's
/// `tandem_sub` (see the module documentation).
pub fn single_end<'h>(hit: &Hit, rivals: impl Iterator<Item = &'h Hit>, tandem_sub: i32, sc: &Scoring) -> u8 {
    let score = hit.score;
    let near_cut = score - (sc.match_score + sc.mismatch);
    let (mut second, mut near) = (None, 0usize);
    for r in rivals {
        second.get_or_insert(r.score);
        near += (r.score >= near_cut) as usize;
    }
    let sub = second.unwrap_or(0).max(tandem_sub).max(CHANCE_SCORE_BASES * sc.match_score);
    if score <= 0 || sub >= score {
        return 0;
    }
    let len = (hit.query_end - hit.query_start).max(hit.ref_len) as f64;
    let identity = 1.0 - (len * sc.match_score as f64 - score as f64) / (sc.match_score + sc.mismatch) as f64 / len;
    let mut scale = if len < 50.0 { 1.0 } else { 50f64.ln() / len.ln() };
    scale *= identity * identity;
    let mut q = (6.02 * (score - sub) as f64 / sc.match_score as f64 * scale * scale + 0.499) as i32;
    q -= (4.343 * (near as f64 + 1.0).ln() + 0.499) as i32;
    q.clamp(0, MAX_MAPQ) as u8
}

/// A read's own MAPQ `q` (from [`single_end`]) lowered for what seeding could not look at
/// (see the module documentation).
pub fn in_repeats(q: u8, hits: &ReadHits) -> u8 {
    if hits.unexamined > 0 {
        return 0;
    }
    // At most `q` (shared is 0 to 1), so no clamp is needed.
    (q as f64 * (1.0 - shared_share(hits)) + 0.499) as u8
}

/// [`crate::place::hit::ReadHits::shared`] as a share, 0 to 1.
pub fn shared_share(hits: &ReadHits) -> f64 {
    hits.shared.min(1000) as f64 / 1000.0
}

/// MAPQ from a score difference alone (bwa-mem's `raw_mapq`), unclamped.
pub fn from_score_gap(gap: i32, sc: &Scoring) -> i32 {
    (6.02 * gap as f64 / sc.match_score as f64 + 0.499) as i32
}

/// What the pair MAPQ is computed from.
#[derive(Clone, Copy, Debug)]
pub struct PairFacts {
    /// The chosen pair's score `P` (see the module documentation).
    pub score: i32,
    /// Its best alternative's score, `sub` of the module documentation.
    pub sub: i32,
    /// Proper pairs scoring within a mismatch of the chosen one, itself included.
    pub near: usize,
    /// Geometric mean of the two mates' [`shared_share`].
    pub shared: f64,
    /// Both mates have copies seeding found but never aligned.
    pub both_unexamined: bool,
}

/// The pair's MAPQ, before each mate's own is weighed in ([`mate`]).
pub fn pair(f: &PairFacts, sc: &Scoring) -> i32 {
    let mut q = from_score_gap(f.score - f.sub, sc);
    q -= (4.343 * (f.near as f64).max(1.0).ln() + 0.499) as i32;
    let q = (q.clamp(0, MAX_MAPQ) as f64 * (1.0 - f.shared) + 0.499) as i32;
    if f.both_unexamined {
        0
    } else {
        q
    }
}

/// A mate's MAPQ from its own (`q_se`, already 0 when the pair placed it away from its best
/// hit), the pair's (`q_pe`), and the gap from its hit's score to its tandem copies'.
pub fn mate(q_se: i32, q_pe: i32, score: i32, tandem_sub: i32, sc: &Scoring) -> u8 {
    let q = if q_se > q_pe { q_se } else { q_pe.min(q_se + MATE_BONUS) };
    let cap = if tandem_sub > 0 { from_score_gap(score - tandem_sub, sc).clamp(0, MAX_MAPQ) } else { MAX_MAPQ };
    q.min(cap) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_lower_a_reads_own_mapq() {
        let with = |shared: u32, unexamined: u32| ReadHits { shared, unexamined, ..ReadHits::default() };
        assert_eq!(in_repeats(60, &with(0, 0)), 60, "a read without frequent seeds keeps its MAPQ");
        assert_eq!(in_repeats(60, &with(500, 0)), 30, "half the evidence shared: half the MAPQ");
        assert_eq!(in_repeats(37, &with(1000, 0)), 0);
        assert_eq!(in_repeats(60, &with(0, 3)), 0, "copies as good, never aligned");
    }

    #[test]
    fn pair_mapq_scales_with_the_shared_evidence() {
        let sc = Scoring::default();
        let facts = |shared: f64| PairFacts { score: 290, sub: 200, near: 1, shared, both_unexamined: false };
        assert_eq!(pair(&facts(0.0), &sc), 60);
        assert_eq!(pair(&facts(0.5), &sc), 30);
        assert_eq!(pair(&facts(1.0), &sc), 0);
        assert_eq!(pair(&PairFacts { both_unexamined: true, ..facts(0.0) }, &sc), 0);
    }
}
