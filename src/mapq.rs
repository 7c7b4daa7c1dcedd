//! Mapping quality, after bwa-mem's model: the gap between the best and the second-best
//! score, scaled by how well the best alignment matches, less a term for how many other
//! places score nearly as well.

use crate::align::Scoring;
use crate::hit::ReadHits;

/// Score any placement of a read is assumed to reach by chance (bwa-mem: min seed length x match).
const CHANCE_SCORE_BASES: i32 = 19;

/// MAPQ (0-60) of a single read's best hit.
pub fn single_end(hits: &ReadHits, sc: &Scoring) -> u8 {
    let Some(best) = hits.best() else { return 0 };
    let score = best.score;
    let sub = hits.second_score().unwrap_or(0).max(hits.tandem_sub).max(CHANCE_SCORE_BASES * sc.match_score);
    if score <= 0 || sub >= score {
        return 0;
    }
    let len = (best.query_end - best.query_start).max(best.ref_len) as f64;
    let identity = 1.0 - (len * sc.match_score as f64 - score as f64) / (sc.match_score + sc.mismatch) as f64 / len;
    let mut scale = if len < 50.0 { 1.0 } else { 50f64.ln() / len.ln() };
    scale *= identity * identity;
    let mut q = (6.02 * (score - sub) as f64 / sc.match_score as f64 * scale * scale + 0.499) as i32;
    q -= (4.343 * (near_best(hits, sc) as f64 + 1.0).ln() + 0.499) as i32;
    q.clamp(0, 60) as u8
}

/// Other hits within a mismatch of the best: each makes the placement less certain.
fn near_best(hits: &ReadHits, sc: &Scoring) -> usize {
    let best = hits.hits[0].score;
    hits.hits[1..].iter().filter(|h| h.score >= best - (sc.match_score + sc.mismatch)).count()
}

/// MAPQ from a score difference alone (bwa-mem's `raw_mapq`), for pairs.
pub fn from_score_gap(gap: i32, sc: &Scoring) -> i32 {
    (6.02 * gap as f64 / sc.match_score as f64 + 0.499) as i32
}

/// Share (0 to 1) of a read covered only by over-frequent seeds.
pub fn repetitive_fraction(hits: &ReadHits) -> f64 {
    hits.repetitive.min(1000) as f64 / 1000.0
}
