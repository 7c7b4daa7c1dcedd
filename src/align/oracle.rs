//! The slow, plain oracle: three full matrices, written for clarity. Every fast path (the CPU
//! kernel, the GPU kernel) must match it exactly; see the module `crate::align` for the
//! recurrence it spells out.

use super::{Alignment, Band, Cigar, CigarOp, Scoring, NEG_INF};

#[derive(Clone, Copy, PartialEq)]
enum State {
    H,
    E,
    F,
}

/// Aligns `query` to `target` by full dynamic programming over three `m x n` matrices.
pub fn align_oracle(query: &[u8], target: &[u8], sc: &Scoring) -> Alignment {
    align_oracle_banded(query, target, Band::full(query.len(), target.len()), sc)
}

/// [`align_oracle`] with the alignment confined to `band`: cells outside it stay `-inf`.
#[allow(clippy::needless_range_loop)] // indices mirror the equations on purpose
pub fn align_oracle_banded(query: &[u8], target: &[u8], band: Band, sc: &Scoring) -> Alignment {
    let (m, n) = (query.len(), target.len());
    if band.clamp(m, n).is_none() {
        return empty_alignment();
    }
    let oe = sc.gap_open + sc.gap_extend;
    let mut h = vec![vec![NEG_INF; n]; m];
    let mut e = vec![vec![NEG_INF; n]; m];
    let mut f = vec![vec![NEG_INF; n]; m];
    let at = |mat: &Vec<Vec<i32>>, i: isize, j: isize| -> i32 {
        if i < 0 || j < 0 {
            NEG_INF
        } else {
            mat[i as usize][j as usize]
        }
    };
    for i in 0..m {
        for j in 0..n {
            if !band.contains(i, j) {
                continue;
            }
            let (ii, jj) = (i as isize, j as isize);
            let start = if i == 0 { 0 } else { -sc.clip };
            let diag = at(&h, ii - 1, jj - 1).max(start) + sc.pair(query[i], target[j]);
            e[i][j] = (at(&h, ii, jj - 1) - oe).max(at(&e, ii, jj - 1) - sc.gap_extend);
            f[i][j] = (at(&h, ii - 1, jj) - oe).max(at(&f, ii - 1, jj) - sc.gap_extend);
            h[i][j] = diag.max(e[i][j]).max(f[i][j]);
        }
    }
    // End cell: max total, then smaller i, then smaller j.
    let (mut bi, mut bj, mut best) = (0usize, 0usize, i32::MIN);
    for i in 0..m {
        for j in (0..n).filter(|&j| band.contains(i, j)) {
            let total = h[i][j] - if i == m - 1 { 0 } else { sc.clip };
            if total > best || (total == best && (i < bi || (i == bi && j < bj))) {
                (bi, bj, best) = (i, j, total);
            }
        }
    }
    // Traceback, re-deriving each move from the matrices with the stated tie-breaks.
    let mut rev: Vec<(CigarOp, u32)> = Vec::new();
    let (mut i, mut j, mut state) = (bi as isize, bj as isize, State::H);
    let (query_start, target_start) = loop {
        match state {
            State::H => {
                let (iu, ju) = (i as usize, j as usize);
                let start = if i == 0 { 0 } else { -sc.clip };
                let dprev = at(&h, i - 1, j - 1);
                let diag = dprev.max(start) + sc.pair(query[iu], target[ju]);
                if diag >= e[iu][ju] && diag >= f[iu][ju] {
                    rev.push((CigarOp::Match, 1));
                    if i >= 1 && dprev > start {
                        i -= 1;
                        j -= 1;
                    } else {
                        break (iu, ju);
                    }
                } else if e[iu][ju] >= f[iu][ju] {
                    state = State::E;
                } else {
                    state = State::F;
                }
            }
            State::E => {
                rev.push((CigarOp::Deletion, 1));
                let open = at(&h, i, j - 1) - sc.gap_open - sc.gap_extend;
                let ext = at(&e, i, j - 1) - sc.gap_extend;
                if open < ext {
                    state = State::E;
                } else {
                    state = State::H;
                }
                j -= 1;
            }
            State::F => {
                rev.push((CigarOp::Insertion, 1));
                let open = at(&h, i - 1, j) - sc.gap_open - sc.gap_extend;
                let ext = at(&f, i - 1, j) - sc.gap_extend;
                if open < ext {
                    state = State::F;
                } else {
                    state = State::H;
                }
                i -= 1;
            }
        }
    };
    let mut cigar = Cigar::default();
    for &(op, len) in rev.iter().rev() {
        cigar.push(op, len);
    }
    Alignment::from_traceback(best, (query_start, target_start), (bi, bj), m, cigar, sc.clip)
}

/// What every backend returns for a task with an empty query or target.
pub(crate) fn empty_alignment() -> Alignment {
    Alignment { score: NEG_INF, query_start: 0, query_end: 0, target_start: 0, target_end: 0, cigar: Cigar::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(s: &str) -> Vec<u8> {
        s.bytes().map(|b| crate::dna::encode(b).unwrap()).collect()
    }

    #[test]
    fn exact_match_inside_window() {
        let sc = Scoring::default();
        let a = align_oracle(&codes("ACGTTGCA"), &codes("GGGACGTTGCAGGG"), &sc);
        assert_eq!(a.score, 8);
        assert_eq!((a.query_start, a.query_end, a.target_start, a.target_end), (0, 8, 3, 11));
        assert_eq!(a.cigar.to_string(), "8M");
    }

    #[test]
    fn deletion_costs_open_plus_length() {
        let sc = Scoring::default();
        let q = codes("ACGTACGTTTGACCAGTAGGCATCAG");
        //              ACGTACGTTTGAC--CAGTAGGCATCAG with "GA" inserted in the target
        let t = codes("ACGTACGTTTGACGACAGTAGGCATCAG");
        let a = align_oracle(&q, &t, &sc);
        assert_eq!(a.cigar.to_string(), "13M2D13M");
        assert_eq!(a.score, 26 - 8);
    }

    #[test]
    fn mismatch_near_end_is_clipped_when_cheaper() {
        let sc = Scoring::default();
        // Last base mismatches: keeping it costs 4, clipping it costs 5, so keep it.
        let a = align_oracle(&codes("ACGTACGTAC"), &codes("ACGTACGTAA"), &sc);
        assert_eq!(a.cigar.to_string(), "10M");
        assert_eq!(a.score, 9 - 4);
        // Two mismatches in the last three bases: 1 - 8 = -7 < -5, so clip three bases.
        let a = align_oracle(&codes("ACGTACGTACG"), &codes("ACGTACGTTCT"), &sc);
        assert_eq!(a.cigar.to_string(), "8M");
        assert_eq!((a.query_end, a.score), (8, 8));
    }
}
