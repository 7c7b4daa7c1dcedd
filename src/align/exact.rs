//! A shortcut around the DP for a query found whole in its window with at most one mismatch,
//! with the argument that the recurrence gives the same alignment. Write `a` for the match
//! score, `b` the mismatch penalty, `c` the clip penalty, `o` and `e` the gap costs.
//!
//! **Exact.** Under a scoring where a match scores more than anything else a pair can
//! (`a > 0`, `b >= 0`, ambiguous `< a`) and every gap costs something (`e > 0`, `o >= 0`, `c >=
//! 0`), an alignment's total reaches `m * a` only if it aligns all `m` query bases, each to an
//! equal base, without a gap: any clipped base, mismatch, N or gap leaves it lower. So when the
//! query (without N) equals the window at exactly one diagonal `d` inside the band, the cell
//! `(m - 1, d + m - 1)` is the only one whose total is `m * a`, and the alignment the
//! recurrence traces back from it has that total, so it is that path: `m` matches from
//! `(0, d)`. With two such diagonals the tie rule decides, and the DP runs.
//!
//! **One mismatch.** If instead the query differs from the window at one position `p` of one
//! diagonal `d`, the window holds no N, every other diagonal inside the window and the band has
//! at least two mismatches, and the scoring also has `c > b` and `a + b < o + e` (bwa-mem's
//! defaults, 5 > 4 and 5 < 7), that path's total `T = (m - 1) a - b` beats every other
//! alignment strictly: the same diagonal clipped before or after `p` totals `(m - 1 - p) a - c`
//! or `p a - c`, less since `c > b`; another full diagonal at most `(m - 2) a - 2 b`; a part of
//! one, clipped at least once, at most `(m - 1) a - c`; a diagonal running off the window is
//! clipped, likewise; and any path with a gap at most `m a - (o + e)`, less since `a + b < o +
//! e`. So the recurrence's best cell is the path's end and its traceback is the path: `m` M
//! from `(0, d)`, score `T`.

use super::{Alignment, Band, Cigar, CigarOp, Scoring};

/// Whether `sc` meets the conditions of the exact case.
fn exact_applies(sc: &Scoring) -> bool {
    sc.match_score > 0
        && sc.mismatch >= 0
        && sc.ambiguous < sc.match_score
        && sc.gap_extend > 0
        && sc.gap_open >= 0
        && sc.clip >= 0
}

/// Whether `sc` meets the conditions of the one-mismatch case too.
fn one_mismatch_applies(sc: &Scoring) -> bool {
    exact_applies(sc) && sc.clip > sc.mismatch && sc.match_score + sc.mismatch < sc.gap_open + sc.gap_extend
}

/// The alignment of `query` to `target` within `band` when the query occurs at one diagonal
/// of the band exactly, or with one mismatch under the further conditions (see the module
/// documentation), else `None` (the caller runs the DP). Costs a comparison per diagonal of
/// the band, most ending within the first few bases.
pub fn exact_alignment(query: &[u8], target: &[u8], band: Band, sc: &Scoring) -> Option<Alignment> {
    let (m, n) = (query.len(), target.len());
    if !exact_applies(sc) || m == 0 || m > n || query.iter().any(|&c| c > 3) {
        return None;
    }
    let band = band.clamp(m, n)?;
    // Diagonals where the whole query fits in the window.
    let (lo, hi) = (band.lo.max(0) as usize, (band.hi as i64).min((n - m) as i64));
    if hi < lo as i64 {
        return None;
    }
    // Per diagonal, its mismatches counted up to two: the exact ones, and those with one.
    let (mut exact, mut one) = ((0usize, None), (0usize, None));
    for d in lo..=hi as usize {
        match differences(query, &target[d..d + m]) {
            Differences::None => exact = (exact.0 + 1, Some(d)),
            Differences::One(p) => one = (one.0 + 1, Some((d, p))),
            Differences::More => {}
        }
    }
    let (d, score) = match (exact, one) {
        ((1, Some(d)), _) => (d, m as i32 * sc.match_score),
        ((0, _), (1, Some((d, _)))) if one_mismatch_applies(sc) && !target.contains(&4) => {
            (d, (m as i32 - 1) * sc.match_score - sc.mismatch)
        }
        _ => return None,
    };
    let mut cigar = Cigar::default();
    cigar.push(CigarOp::Match, m as u32);
    Some(Alignment::from_traceback(score, (0, d), (m - 1, d + m - 1), m, cigar, sc.clip))
}

/// How two equal-length sequences differ: nowhere, at one position, or at two or more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Differences {
    None,
    One(usize),
    More,
}

/// [`Differences`] of `a` and `b`, eight bytes at a time: a diagonal off the alignment
/// usually shows two mismatches in its first eight bases, so it costs one comparison of
/// words, where a byte loop took a few unpredictable branches.
fn differences(a: &[u8], b: &[u8]) -> Differences {
    debug_assert_eq!(a.len(), b.len());
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut first = None;
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a.len() - wa.remainder().len();
    for (k, (x, y)) in wa.zip(wb).enumerate() {
        let word = |s: &[u8]| u64::from_le_bytes(s.try_into().expect("eight bytes"));
        let d = word(x) ^ word(y);
        if d != 0 {
            // The high bit of each byte that differs (no carry crosses a byte: 0x7f + 0x7f
            // fits in one).
            let differ = (((d & LOW) + LOW) | d) & !LOW;
            if first.is_some() || differ.count_ones() > 1 {
                return Differences::More;
            }
            first = Some(8 * k + differ.trailing_zeros() as usize / 8);
        }
    }
    for (k, (x, y)) in a[tail..].iter().zip(&b[tail..]).enumerate() {
        if x != y {
            if first.is_some() {
                return Differences::More;
            }
            first = Some(tail + k);
        }
    }
    first.map_or(Differences::None, Differences::One)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_reference_banded;
    use crate::simulate::rng::Rng;

    /// The word-at-a-time comparison against a byte loop, at every length up to 40 and every
    /// placement of up to three differences (bytes differing in one bit or in all).
    #[test]
    fn differences_match_a_byte_loop() {
        let mut rng = Rng::new(5);
        for len in 0..40usize {
            for _ in 0..200 {
                let a: Vec<u8> = (0..len).map(|_| rng.below(5) as u8).collect();
                let mut b = a.clone();
                for _ in 0..rng.below(4) {
                    if len > 0 {
                        let at = rng.below(len as u64) as usize;
                        b[at] ^= [1u8, 0x80, 0xff, 4][rng.below(4) as usize];
                    }
                }
                let at: Vec<usize> = (0..len).filter(|&k| a[k] != b[k]).collect();
                let want = match at[..] {
                    [] => Differences::None,
                    [p] => Differences::One(p),
                    _ => Differences::More,
                };
                assert_eq!(differences(&a, &b), want, "{a:?} {b:?}");
            }
        }
    }

    /// Against the full-matrix oracle: queries planted exactly (once, twice at a period, in
    /// tandem repeats, with an N), nearly (one mismatch), in bands that do or do not hold
    /// them. Wherever the shortcut answers, it answers what the oracle does; and it answers
    /// for the plain exact cases.
    #[test]
    fn the_shortcut_equals_the_oracle_wherever_it_answers() {
        let mut rng = Rng::new(31);
        let (mut answered, mut tried, mut one_off) = (0, 0, 0);
        // bwa-mem's defaults, and scorings at and past the one-mismatch conditions' edges.
        let scorings = [
            Scoring::default(),
            Scoring { clip: 4, ..Scoring::default() },
            Scoring { clip: 5, gap_open: 3, gap_extend: 2, ..Scoring::default() },
            Scoring { clip: 0, mismatch: 0, ..Scoring::default() },
            Scoring { match_score: 2, mismatch: 1, gap_open: 1, gap_extend: 1, clip: 3, ambiguous: -1 },
            // Just inside both one-mismatch conditions.
            Scoring { match_score: 2, mismatch: 3, gap_open: 4, gap_extend: 2, clip: 4, ambiguous: -1 },
            Scoring { match_score: 1, mismatch: 1, gap_open: 1, gap_extend: 2, clip: 2, ambiguous: 0 },
        ];
        for round in 0..6000 {
            // Not `round % len`: the cases below go by `round % 7`.
            let sc = scorings[(round / 7) % scorings.len()];
            let m = 1 + rng.below(60) as usize;
            let n = m + rng.below(80) as usize;
            let mut target: Vec<u8> = (0..n).map(|_| rng.base()).collect();
            if round % 13 == 0 {
                // A tandem repeat: the window is one short unit over and over.
                let unit = 1 + rng.below(4) as usize;
                for j in unit..n {
                    target[j] = target[j - unit];
                }
            }
            let d = rng.below((n - m + 1) as u64) as usize;
            let mut query = target[d..d + m].to_vec();
            match round % 7 {
                // One mismatch, often at an end (where clipping competes with it).
                0 => query[[0, m - 1, rng.below(m as u64) as usize][rng.below(3) as usize]] ^= 1,
                4 => {
                    // two mismatches (or one, when they fall together)
                    query[rng.below(m as u64) as usize] ^= 2;
                    query[rng.below(m as u64) as usize] ^= 3;
                }
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
                one_off += (a.score < m as i32 * sc.match_score) as usize;
                let want = align_reference_banded(&query, &target, band, &sc);
                assert_eq!(a, want, "round {round}: m {m} n {n} d {d} band {band:?} {sc:?}");
            }
        }
        // Two-letter windows and reads, short: repeats everywhere, so gapped paths and other
        // diagonals compete with the planted one.
        for round in 0..20_000 {
            let sc = scorings[round % scorings.len()];
            let m = 1 + rng.below(12) as usize;
            let n = m + rng.below(10) as usize;
            let target: Vec<u8> = (0..n).map(|_| rng.below(2) as u8).collect();
            let d = rng.below((n - m + 1) as u64) as usize;
            let mut query = target[d..d + m].to_vec();
            if round % 2 == 0 {
                query[rng.below(m as u64) as usize] ^= 1;
            }
            let band = Band::full(m, n);
            tried += 1;
            if let Some(a) = exact_alignment(&query, &target, band, &sc) {
                answered += 1;
                one_off += (a.score < m as i32 * sc.match_score) as usize;
                assert_eq!(a, align_reference_banded(&query, &target, band, &sc), "{query:?} {target:?} {sc:?}");
            }
        }
        assert!(answered > tried / 5, "the shortcut answered {answered} of {tried}");
        assert!(one_off > answered / 20, "{one_off} of {answered} answers had one mismatch");
        // Scorings outside the argument are left to the DP.
        let sc = Scoring::default();
        let q = [0u8, 1, 2, 3];
        assert!(exact_alignment(&q, &q, Band::full(4, 4), &sc).is_some());
        for bad in [Scoring { gap_extend: 0, ..sc }, Scoring { match_score: 0, ..sc }, Scoring { ambiguous: 1, ..sc }] {
            assert!(exact_alignment(&q, &q, Band::full(4, 4), &bad).is_none());
        }
    }
}
