//! A shortcut around the DP for a query found whole and exactly in its window, with the proof
//! that the recurrence gives the same alignment.
//!
//! Under a scoring where a match scores more than anything else a pair can (`match > 0`,
//! `mismatch >= 0`, `ambiguous < match`) and every gap costs something (`gap_extend > 0`,
//! `gap_open >= 0`, `clip >= 0`), an alignment's total reaches `m * match` only if it aligns
//! all `m` query bases, each to an equal base, without a gap: any clipped base, mismatch, N or
//! gap leaves it lower. So when the query (without N) equals the window at exactly one
//! diagonal `d` inside the band, the cell `(m - 1, d + m - 1)` is the only one whose total is
//! `m * match`, and the recurrence's end cell is that one whatever its tie rule. On the way
//! back every cell `(i, d + i)` takes its value from the diagonal: `E` and `F` there are at most
//! `(i + 1) * match - (open + ext)`, below the diagonal's `(i + 1) * match`; the diagonal
//! continues (`D = i * match > -clip`) for `i >= 1` and starts at `i = 0`. The alignment is
//! therefore `m` matches from `(0, d)`, as the DP finds it. With two or more such diagonals
//! the tie rule decides, and the DP runs.

use super::{Alignment, Band, Cigar, CigarOp, Scoring};

/// Whether `sc` meets the conditions of the module's argument.
pub fn applies(sc: &Scoring) -> bool {
    sc.match_score > 0
        && sc.mismatch >= 0
        && sc.ambiguous < sc.match_score
        && sc.gap_extend > 0
        && sc.gap_open >= 0
        && sc.clip >= 0
}

/// The alignment of `query` to `target` within `band` when the query occurs exactly, without
/// N, at one diagonal of the band (see the module documentation), else `None` (the caller
/// runs the DP). Costs a comparison per diagonal of the band, most ending at the first base.
pub fn exact_alignment(query: &[u8], target: &[u8], band: Band, sc: &Scoring) -> Option<Alignment> {
    let (m, n) = (query.len(), target.len());
    if !applies(sc) || m == 0 || m > n || query.iter().any(|&c| c > 3) {
        return None;
    }
    let band = band.clamp(m, n)?;
    // Diagonals where the whole query fits in the window.
    let (lo, hi) = (band.lo.max(0) as usize, (band.hi as i64).min((n - m) as i64));
    if hi < lo as i64 {
        return None;
    }
    let mut found = None;
    for d in lo..=hi as usize {
        if target[d] == query[0] && target[d..d + m] == *query {
            if found.is_some() {
                return None; // two: the tie rule decides
            }
            found = Some(d);
        }
    }
    let d = found?;
    let mut cigar = Cigar(Vec::with_capacity(1));
    cigar.push(CigarOp::Match, m as u32);
    let total = m as i32 * sc.match_score;
    Some(Alignment::from_traceback(total, (0, d), (m - 1, d + m - 1), m, cigar, sc.clip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_reference_banded;
    use crate::simulate::rng::Rng;

    /// Against the full-matrix oracle: queries planted exactly (once, twice at a period, in
    /// tandem repeats, with an N), nearly (one mismatch), in bands that do or do not hold
    /// them. Wherever the shortcut answers, it answers what the oracle does; and it answers
    /// for the plain exact cases.
    #[test]
    fn the_shortcut_equals_the_oracle_wherever_it_answers() {
        let mut rng = Rng::new(31);
        let sc = Scoring::default();
        let (mut answered, mut tried) = (0, 0);
        for round in 0..3000 {
            let m = 1 + rng.below(60) as usize;
            let n = m + rng.below(80) as usize;
            let mut target: Vec<u8> = (0..n).map(|_| rng.base()).collect();
            if round % 5 == 0 {
                // A tandem repeat: the window is one short unit over and over.
                let unit = 1 + rng.below(4) as usize;
                for j in unit..n {
                    target[j] = target[j - unit];
                }
            }
            let d = rng.below((n - m + 1) as u64) as usize;
            let mut query = target[d..d + m].to_vec();
            match round % 7 {
                0 => query[rng.below(m as u64) as usize] ^= 1, // one mismatch
                1 => {
                    let k = rng.below(m as u64) as usize;
                    query[k] = 4; // an N in the read
                }
                2 => {
                    let k = d + rng.below(m as u64) as usize;
                    target[k] = 4; // an N in the window
                }
                3 if d + 2 * m <= n => target[d + m..d + 2 * m].copy_from_slice(&query.clone()), // a second copy
                _ => {}
            }
            let lo = d as i32 - rng.below(20) as i32 + if round % 11 == 0 { 15 } else { 0 };
            let band = Band { lo, hi: lo + rng.below(50) as i32 };
            tried += 1;
            if let Some(a) = exact_alignment(&query, &target, band, &sc) {
                answered += 1;
                let want = align_reference_banded(&query, &target, band, &sc);
                assert_eq!(a, want, "round {round}: m {m} n {n} d {d} band {band:?}");
            }
        }
        assert!(answered > tried / 4, "the shortcut answered {answered} of {tried}");
        // Scorings outside the argument are left to the DP.
        let q = [0u8, 1, 2, 3];
        assert!(exact_alignment(&q, &q, Band::full(4, 4), &sc).is_some());
        for bad in [Scoring { gap_extend: 0, ..sc }, Scoring { match_score: 0, ..sc }, Scoring { ambiguous: 1, ..sc }] {
            assert!(exact_alignment(&q, &q, Band::full(4, 4), &bad).is_none());
        }
    }
}
