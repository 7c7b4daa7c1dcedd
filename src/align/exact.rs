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
//!
//! **Two mismatches.** Under the same conditions, when no diagonal holds the query with fewer
//! than two mismatches and one diagonal `d` holds it with two (at rows `p < q`), count every
//! alignment by its deficit, `m a` less its total: `a` for each read base it leaves unaligned
//! (clipped or inserted), `a + b` for each mismatch, `c` for each clipped end, `o + L e` for
//! each gap of length `L`. On `d` the best is one of six runs (whole; from past `p` or past
//! `q`; up to before `q` or before `p`; between them; any other run is beaten by one of these
//! by at least `a`); call its deficit `D`, at most `2 (a + b)`, and it must be the only one of
//! the six at `D`. Every other alignment must cost more than `D`, and this is checked, not
//! assumed, where it can happen:
//! * another diagonal, whole: at least three mismatches, so `3 (a + b) > D`;
//! * another diagonal, clipped at both ends or clipped with a mismatch kept: at least `2 a +
//!   2 c` or `2 a + b + c`, both above `2 (a + b)` since `c > b`;
//! * another diagonal clipped at one end only, without mismatches: `c`, plus `a` for each base
//!   left out up to its last (or from its first) mismatched or off-window row, checked per
//!   diagonal;
//! * two gaps or more: at least `2 (o + e) > 2 (a + b)`;
//! * one gap with a mismatch or a clipped end: at least `o + e + a + b > 2 (a + b)`;
//! * one gap and nothing else: a mismatch-free prefix from row 0 on one diagonal, then a
//!   deletion of `L` (cost `o + L e`) or an insertion of `L` read bases (`o + L (e + a)`),
//!   then a mismatch-free suffix to row `m - 1` on the diagonal `L` above or below, or
//!   nothing (an insertion at the read's end, which the recurrence does not clip). For every
//!   pair of diagonals and every `L` whose cost is at most `D`, the prefix and suffix runs
//!   are checked against each diagonal's first and last mismatched row.
//!
//! If all pass, the run is the one alignment at the highest total, so the recurrence's best
//! cell is its end and its traceback is the run, clipped where the run is. Ties
//! (another alignment at `D`) go to the DP.

use super::{Alignment, Band, Cigar, CigarOp, Scoring};
use smallvec::SmallVec;

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
/// of the band exactly, or with one or two mismatches under the further conditions (see the
/// module documentation), else `None` (the caller runs the DP). Costs a comparison per
/// diagonal of the band, most ending within the first few bases; the two-mismatch case reads
/// both ends of every diagonal once more.
pub fn exact_alignment(query: &[u8], target: &[u8], band: Band, sc: &Scoring) -> Option<Alignment> {
    let (m, n) = (query.len(), target.len());
    if !exact_applies(sc) || m == 0 || m > n || any_not_base(query) {
        return None;
    }
    let band = band.clamp(m, n)?;
    // Diagonals where the whole query fits in the window.
    let (lo, hi) = (band.lo.max(0) as usize, (band.hi as i64).min((n - m) as i64));
    if hi < lo as i64 {
        return None;
    }
    // How many diagonals have no mismatch, one and two, and the last of each with where its
    // mismatches are.
    let (mut count, mut last) = ([0usize; 3], [(0usize, [0usize; 2]); 3]);
    // A diagonal whose first eight bases differ in three places or more (nearly every one off
    // the alignment) is passed over after one comparison of words.
    let head = (m >= 8).then(|| word(&query[..8]));
    for d in lo..=hi as usize {
        if let Some(head) = head {
            let differ = differing(head ^ word(&target[d..d + 8]));
            let rest = differ & differ.wrapping_sub(1);
            if rest & rest.wrapping_sub(1) != 0 {
                continue;
            }
        }
        let (k, at) = differences(query, &target[d..d + m]);
        if k < 3 {
            count[k] += 1;
            last[k] = (d, at);
        }
    }
    let whole = |d: usize, total: i32| {
        let mut cigar = Cigar::default();
        cigar.push(CigarOp::Match, m as u32);
        Some(Alignment::from_traceback(total, (0, d), (m - 1, d + m - 1), m, cigar, sc.clip))
    };
    match count {
        [1, ..] => whole(last[0].0, m as i32 * sc.match_score),
        [0, ..] if !one_mismatch_applies(sc) || any_not_base(target) => None,
        [0, 1, _] => whole(last[1].0, (m as i32 - 1) * sc.match_score - sc.mismatch),
        [0, 0, 1] => two_mismatches(query, target, band, last[2], sc),
        _ => None,
    }
}

/// The two-mismatch case (see the module documentation): diagonal `d` of the (clamped) band
/// holds the whole query with mismatches at rows `p < q`, and no diagonal holds it with fewer
/// or with two. Returns the best ungapped alignment on `d` where it beats every other
/// alignment strictly, else `None`. Scores are counted as deficits: `m * a` less the total.
fn two_mismatches(
    query: &[u8],
    target: &[u8],
    band: Band,
    (d, [p, q]): (usize, [usize; 2]),
    sc: &Scoring,
) -> Option<Alignment> {
    let m = query.len() as i64;
    let (a, b, c) = (sc.match_score as i64, sc.mismatch as i64, sc.clip as i64);
    let (o, e) = (sc.gap_open as i64, sc.gap_extend as i64);
    let (p, q) = (p as i64, q as i64);
    // The ungapped alignments on `d` that start at row 0 or just past a mismatch and end at
    // row m - 1 or just before one (any other is beaten by one of these), as (deficit, first
    // row, last row): the best must be the only one at its deficit.
    let runs = [
        (2 * (a + b), 0, m - 1),
        (a * (p + 1) + c + a + b, p + 1, m - 1),
        (a * (q + 1) + c, q + 1, m - 1),
        (a * (m - q) + c + a + b, 0, q - 1),
        (a * (m - p) + c, 0, p - 1),
        (a * (p + 1) + a * (m - q) + 2 * c, p + 1, q - 1),
    ];
    let runs = runs.iter().filter(|r| r.1 <= r.2);
    let best = runs.clone().map(|r| r.0).min()?;
    let mut at_best = runs.filter(|r| r.0 == best);
    let &(_, first, last) = at_best.next()?;
    if at_best.next().is_some() {
        return None;
    }
    // Every diagonal's first and last row that no mismatch-free run may hold (off the window,
    // or mismatched); another diagonal's run without them, clipped at one end, must cost more.
    let (blo, bhi) = (band.lo as i64, band.hi as i64);
    let rows = |k: i64| if k == d as i64 { (p, q) } else { bad_rows(query, target, k) };
    let (mut max_first, mut min_last) = (p, q);
    for k in (blo..=bhi).filter(|&k| k != d as i64) {
        let (f, l) = rows(k);
        let clipped_start = l + 1 < m && a * (l + 1) + c <= best;
        let clipped_end = f >= 1 && a * (m - f) + c <= best;
        if l < 0 || clipped_start || clipped_end {
            return None;
        }
        (max_first, min_last) = (max_first.max(f), min_last.min(l));
    }
    // Gapped alignments within the deficit: one gap between a mismatch-free prefix (rows
    // 0..=r of d1, r < its first bad row) and a mismatch-free suffix of d2 (past its last
    // bad row), or a trailing insertion after such a prefix. Gaps of up to `reach` bases
    // cost at most `best`; unless some suffix starts within `reach` rows of the longest
    // prefix's end, none joins (nearly every read: both ends of nearly every diagonal
    // mismatch), else every pair is checked.
    let reach = if o + e > best { 0 } else { (best - o) / e };
    if min_last < max_first + reach || max_first + reach >= m {
        let bad: SmallVec<[(i64, i64); 64]> = (blo..=bhi).map(rows).collect();
        let at = |k: i64| bad[(k - blo) as usize];
        for d1 in blo..=bhi {
            let f1 = at(d1).0;
            // A deletion of `len` target bases: rows r + 1.. on d1 + len.
            let mut len = 1;
            while o + len * e <= best && d1 + len <= bhi {
                let l2 = at(d1 + len).1;
                if l2.max(0) <= (f1 - 1).min(m - 2) {
                    return None;
                }
                len += 1;
            }
            // An insertion of `len` read bases (each also unaligned): rows r + len + 1.. on
            // d1 - len, or none.
            let mut len = 1;
            while o + len * (e + a) <= best && len < m {
                if m - 1 - len < f1 {
                    return None;
                }
                if d1 - len >= blo && (at(d1 - len).1 - len).max(0) <= (f1 - 1).min(m - 2 - len) {
                    return None;
                }
                len += 1;
            }
        }
    }
    let mut cigar = Cigar::default();
    cigar.push(CigarOp::Match, (last - first + 1) as u32);
    let (first, last, d) = (first as usize, last as usize, d);
    Some(Alignment::from_traceback(
        (m * a - best) as i32,
        (first, d + first),
        (last, d + last),
        m as usize,
        cigar,
        sc.clip,
    ))
}

/// The first and last row of diagonal `k` (`j - i`, inside the matrix) that lie off the
/// window or mismatch, or `(m, -1)` when every row matches.
fn bad_rows(query: &[u8], target: &[u8], k: i64) -> (i64, i64) {
    let (m, n) = (query.len() as i64, target.len() as i64);
    let (r0, r1) = ((-k).max(0), (m - 1).min(n - 1 - k));
    let len = (r1 - r0 + 1) as usize;
    let (qs, ts) = (&query[r0 as usize..][..len], &target[(r0 + k) as usize..][..len]);
    let first = if r0 > 0 { 0 } else { first_difference(qs, ts).map_or(r1 + 1, |x| x as i64) };
    let last = if r1 < m - 1 { m - 1 } else { last_difference(qs, ts).map_or(r0 - 1, |x| r0 + x as i64) };
    (first, last)
}

/// Whether any code is not a base (an N, or anything above 3), eight at a time without an
/// early exit (reads and windows are short, and nearly all hold bases only).
fn any_not_base(codes: &[u8]) -> bool {
    const HIGH: u64 = 0xfcfc_fcfc_fcfc_fcfc;
    let words = codes.chunks_exact(8);
    let tail = words.remainder().iter().any(|&c| c > 3);
    words.fold(0, |acc, w| acc | word(w)) & HIGH != 0 || tail
}

/// Eight bytes as one word.
pub(crate) fn word(s: &[u8]) -> u64 {
    u64::from_le_bytes(s.try_into().expect("eight bytes"))
}

/// The high bit of each byte of `d` that is not zero: for `d = x ^ y`, of each byte where the
/// words `x` and `y` differ (no carry crosses a byte: 0x7f + 0x7f fits in one).
pub(crate) fn differing(d: u64) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    (((d & LOW) + LOW) | d) & !LOW
}

/// How many positions two equal-length sequences differ at, counted up to three, and the
/// first two of them; eight bytes at a time: a diagonal off the alignment usually shows three
/// mismatches in its first eight bases, so it costs one comparison of words, where a byte
/// loop takes a few unpredictable branches.
fn differences(a: &[u8], b: &[u8]) -> (usize, [usize; 2]) {
    debug_assert_eq!(a.len(), b.len());
    let (mut count, mut at) = (0, [0; 2]);
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a.len() - wa.remainder().len();
    for (k, (x, y)) in wa.zip(wb).enumerate() {
        let mut differ = differing(word(x) ^ word(y));
        if differ != 0 {
            // Past the lowest differences the count may still take, any other makes three.
            let mut rest = differ;
            for _ in count..2 {
                rest &= rest.wrapping_sub(1);
            }
            if rest != 0 {
                return (3, at);
            }
            while differ != 0 {
                at[count] = 8 * k + differ.trailing_zeros() as usize / 8;
                count += 1;
                differ &= differ - 1;
            }
        }
    }
    for (k, (x, y)) in a[tail..].iter().zip(&b[tail..]).enumerate() {
        if x != y {
            if count == 2 {
                return (3, at);
            }
            at[count] = tail + k;
            count += 1;
        }
    }
    (count, at)
}

/// The first position where two equal-length sequences differ, eight bytes at a time.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let len = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= len {
        let differ = differing(word(&a[i..i + 8]) ^ word(&b[i..i + 8]));
        if differ != 0 {
            return Some(i + differ.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    (i..len).find(|&i| a[i] != b[i])
}

/// The last position where two equal-length sequences differ, eight bytes at a time from the
/// end.
fn last_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let mut end = a.len().min(b.len());
    while end >= 8 {
        let differ = differing(word(&a[end - 8..end]) ^ word(&b[end - 8..end]));
        if differ != 0 {
            return Some(end - 8 + (63 - differ.leading_zeros() as usize) / 8);
        }
        end -= 8;
    }
    (0..end).rev().find(|&i| a[i] != b[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_oracle_banded;
    use crate::rng::Rng;

    /// The word-at-a-time comparisons against byte loops, at every length up to 40 and every
    /// placement of up to four differences (bytes differing in one bit or in all).
    #[test]
    fn differences_match_a_byte_loop() {
        let mut rng = Rng::new(5);
        for len in 0..40usize {
            for _ in 0..200 {
                let a: Vec<u8> = (0..len).map(|_| rng.below(5) as u8).collect();
                let mut b = a.clone();
                for _ in 0..rng.below(5) {
                    if len > 0 {
                        let at = rng.below(len as u64) as usize;
                        b[at] ^= [1u8, 0x80, 0xff, 4][rng.below(4) as usize];
                    }
                }
                let at: Vec<usize> = (0..len).filter(|&k| a[k] != b[k]).collect();
                let (count, first) = differences(&a, &b);
                assert_eq!(count, at.len().min(3), "{a:?} {b:?}");
                if count < 3 {
                    assert_eq!(first[..count], at[..], "{a:?} {b:?}");
                }
                assert_eq!(first_difference(&a, &b), at.first().copied(), "{a:?} {b:?}");
                assert_eq!(last_difference(&a, &b), at.last().copied(), "{a:?} {b:?}");
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
                let want = align_oracle_banded(&query, &target, band, &sc);
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
            for _ in 0..round % 3 {
                query[rng.below(m as u64) as usize] ^= 1;
            }
            let band = Band::full(m, n);
            tried += 1;
            if let Some(a) = exact_alignment(&query, &target, band, &sc) {
                answered += 1;
                one_off += (a.score < m as i32 * sc.match_score) as usize;
                assert_eq!(a, align_oracle_banded(&query, &target, band, &sc), "{query:?} {target:?} {sc:?}");
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

    /// The two-mismatch case against the oracle, where it is hardest: mismatches at the ends
    /// and side by side (where clipping competes), windows of two letters or of long runs,
    /// a second copy of the read's end a few bases along (a gapped path that competes), bands
    /// reaching off the window. Wherever the shortcut answers, it answers what the oracle does;
    /// and it answers often, clipped answers among them.
    #[test]
    fn two_mismatches_equal_the_oracle_wherever_answered() {
        let mut rng = Rng::new(77);
        let scorings = [
            Scoring::default(),
            Scoring { clip: 6, ..Scoring::default() },
            Scoring { gap_open: 5, gap_extend: 1, ..Scoring::default() },
            Scoring { match_score: 2, mismatch: 3, gap_open: 4, gap_extend: 2, clip: 4, ambiguous: -1 },
            Scoring { match_score: 1, mismatch: 2, gap_open: 0, gap_extend: 4, clip: 3, ambiguous: -1 },
            Scoring { match_score: 3, mismatch: 1, gap_open: 2, gap_extend: 3, clip: 2, ambiguous: 0 },
            // A gap at the read's end costs less than clipping it.
            Scoring { match_score: 1, mismatch: 2, gap_open: 0, gap_extend: 4, clip: 6, ambiguous: -1 },
            // Outside the conditions: only the exact case may answer.
            Scoring { clip: 4, ..Scoring::default() },
        ];
        let (mut tried, mut two, mut clipped) = (0, 0, 0);
        for round in 0..60_000usize {
            let sc = scorings[(round / 5) % scorings.len()];
            let m = 2 + rng.below(if round % 2 == 0 { 30 } else { 160 }) as usize;
            let n = m + rng.below(50) as usize;
            let letters = if round % 3 == 0 { 2 } else { 4 };
            let mut target: Vec<u8> = Vec::with_capacity(n);
            while target.len() < n {
                // Runs of one base in every fifth window.
                let run = if round % 5 == 1 { 1 + rng.below(6) as usize } else { 1 };
                let base = rng.below(letters) as u8;
                target.extend(std::iter::repeat_n(base, run.min(n - target.len())));
            }
            let d = rng.below((n - m + 1) as u64) as usize;
            let mut query = target[d..d + m].to_vec();
            let pick = |rng: &mut Rng| match rng.below(4) {
                0 => [0, 1, m - 2, m - 1][rng.below(4) as usize],
                _ => rng.below(m as u64) as usize,
            };
            let p = pick(&mut rng);
            let q = if rng.below(3) == 0 { (p + 1).min(m - 1) } else { pick(&mut rng) };
            query[p] = (query[p] + 1 + rng.below(3) as u8) % 4;
            query[q] = (query[q] + 1 + rng.below(3) as u8) % 4;
            if round % 4 == 1 {
                // The read's end again a few bases along: a gapped path that competes.
                let from = rng.below(m as u64) as usize;
                let shift = [-4i64, -3, -2, -1, 1, 2, 3, 4][rng.below(8) as usize];
                let at = d as i64 + from as i64 + shift;
                if at >= 0 && at as usize + (m - from) <= n {
                    target[at as usize..at as usize + m - from].copy_from_slice(&query[from..]);
                }
            }
            let lo = d as i32 - rng.below(25) as i32;
            let band = Band { lo, hi: lo + rng.below(60) as i32 };
            tried += 1;
            if let Some(a) = exact_alignment(&query, &target, band, &sc) {
                let want = align_oracle_banded(&query, &target, band, &sc);
                assert_eq!(a, want, "round {round}: {query:?} {target:?} {band:?} {sc:?}");
                let planted = differences(&query, &target[d..d + m]).0;
                two += (planted == 2) as usize;
                clipped += (planted == 2 && (a.query_start > 0 || a.query_end < m as u32)) as usize;
            }
        }
        // An insertion of the read's last base after a prefix that runs to the window's end
        // costs less (0 + 4 + 1) than both the planted diagonal's two mismatches (2 x 3) and
        // clipping that base (6 + 1): the DP's answer, so the shortcut must decline.
        let sc = Scoring { match_score: 1, mismatch: 2, gap_open: 0, gap_extend: 4, clip: 6, ambiguous: -1 };
        let code = |b: u8| crate::dna::encode(b).expect("a base");
        let (query, target) = (b"ACACACACAG".map(code), b"GCACACACACA".map(code));
        let band = Band { lo: 0, hi: 2 };
        assert_eq!(differences(&query, &target[..10]).0, 2);
        assert_eq!(align_oracle_banded(&query, &target, band, &sc).cigar.to_string(), "9M1I");
        assert_eq!(exact_alignment(&query, &target, band, &sc), None);
        assert!(two > tried / 10, "{two} answers with two mismatches of {tried}");
        assert!(clipped > two / 100, "{clipped} of {two} two-mismatch answers clipped");
    }
}
