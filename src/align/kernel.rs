//! The fast CPU form of the recurrence: strips of [`STRIP`] target columns, linear memory for
//! scores, 4 traceback bits per cell. It is the same algorithm, in the same order, with the
//! same traceback record as `shaders/align.wgsl`, so the two can be read side by side.

use super::oracle::empty_alignment;
use super::{Alignment, Band, Cigar, CigarOp, Scoring, NEG_INF, STRIP};

/// Per-thread buffers reused across tasks.
#[derive(Default)]
pub struct TracebackScratch {
    /// H and E of the last column of the previous strip, one entry per query row.
    h_left: Vec<i32>,
    e_left: Vec<i32>,
    /// Traceback words, `strips * m` of them.
    trace: Vec<u32>,
}

/// One cell of the recurrence, written once for the scalar and the lane kernels:
/// `cell!(d, start, s, h_left, e_left, h_up, f_up, oe, ext)` with `d` = H(i-1,j-1), `start` =
/// start(i), `s` the pair score, `h_left`/`e_left` = H and E of (i,j-1), `h_up`/`f_up` = H and F
/// of (i-1,j); gives `(h, e, f, code)` with the cell's 4-bit traceback code. Ties as stated in
/// `crate::align`. A macro rather than a function: through an inlined function returning a
/// struct, the lane kernel's auto-vectorization loses a third of its speed (measured).
macro_rules! cell {
    ($d:expr, $start:expr, $s:expr, $h_left:expr, $e_left:expr, $h_up:expr, $f_up:expr, $oe:expr, $ext:expr) => {{
        let (d, start) = ($d, $start);
        let dcode = (d <= start) as u32; // 0 continue, 1 start; ties start (clip)
        let diag = d.max(start) + $s;
        let e_open = $h_left - $oe;
        let e_ext = $e_left - $ext;
        let e = e_open.max(e_ext);
        let ebit = ((e_open < e_ext) as u32) << 2;
        let f_open = $h_up - $oe;
        let f_ext = $f_up - $ext;
        let f = f_open.max(f_ext);
        let fbit = ((f_open < f_ext) as u32) << 3;
        let hcode = if diag >= e && diag >= f {
            dcode
        } else if e >= f {
            2
        } else {
            3
        };
        (diag.max(e).max(f), e, f, hcode | ebit | fbit)
    }};
}
pub(crate) use cell;

/// Best end cell so far under the stated order: total, then smaller `i`, then smaller `j`.
struct Best {
    total: i32,
    i: usize,
    j: usize,
}

/// One vertical strip of the DP: its target bases and what every row of it needs.
struct Strip<'a> {
    t: [u8; STRIP],
    j0: usize,
    m: usize,
    oe: i32,
    ext: i32,
    clip: i32,
    profile: &'a [[i32; 5]; 5],
    query: &'a [u8],
    band: Band,
}

impl Strip<'_> {
    /// Runs the rows that meet the band over `width` columns, updating the left boundary
    /// (`h_left`, `e_left`: H and E of the strip's last column per row), the strip's
    /// traceback words and the best end cell. Rows above the band's rows here were its rows
    /// in earlier strips only and are never read again; rows below have never been computed
    /// and still hold minus infinity. Cells of these rows outside the band are masked to
    /// minus infinity, with traceback code 0.
    #[inline(always)]
    fn run(&self, width: usize, h_left_col: &mut [i32], e_left_col: &mut [i32], trace: &mut [u32], best: &mut Best) {
        let mut h_up = [NEG_INF; STRIP]; // H(i-1, j0+c)
        let mut f_up = [NEG_INF; STRIP]; // F(i-1, j0+c)
        let m = self.m;
        let rows = self.band.rows(self.j0, width, m);
        // H(i-1, j0-1): the previous strip computed that row (it meets the band there).
        let mut h_diag_left = if rows.start > 0 { h_left_col[rows.start - 1] } else { NEG_INF };
        // Column c of row i lies on diagonal j0 + c - i.
        let (lo, hi) = (self.band.lo as i64, self.band.hi as i64);
        for i in rows {
            let prof = &self.profile[self.query[i] as usize];
            let start = if i == 0 { 0 } else { -self.clip };
            let mut h_left = h_left_col[i]; // H(i, j-1)
            let mut e_left = e_left_col[i]; // E(i, j-1)
            let mut d = h_diag_left; // H(i-1, j-1)
            h_diag_left = h_left;
            let mut word = 0u32;
            let (mut row_max, mut row_c) = (i32::MIN, 0usize);
            let d0 = self.j0 as i64 - i as i64;
            for c in 0..width {
                let (mut h, mut e, mut f, mut code) =
                    cell!(d, start, prof[self.t[c] as usize], h_left, e_left, h_up[c], f_up[c], self.oe, self.ext);
                let diagonal = d0 + c as i64;
                if diagonal < lo || diagonal > hi {
                    (h, e, f, code) = (NEG_INF, NEG_INF, NEG_INF, 0);
                }
                word |= code << (4 * c);
                if h > row_max {
                    row_max = h;
                    row_c = c;
                }
                d = h_up[c];
                h_up[c] = h;
                f_up[c] = f;
                h_left = h;
                e_left = e;
            }
            h_left_col[i] = h_left;
            e_left_col[i] = e_left;
            trace[i] = word;
            // Cells are visited with j ascending within a row, rows in order and strips left to
            // right, so a later cell can only win on a higher total or, on a tie, a smaller i
            // (in a later strip).
            let total = row_max - if i == m - 1 { 0 } else { self.clip };
            if total > best.total || (total == best.total && i < best.i) {
                *best = Best { total, i, j: self.j0 + row_c };
            }
        }
    }
}

/// Aligns `query` to `target` within `band`; identical results to
/// [`super::align_oracle_banded`].
pub fn align_task_banded(
    query: &[u8],
    target: &[u8],
    band: Band,
    sc: &Scoring,
    scratch: &mut TracebackScratch,
) -> Alignment {
    let (m, n) = (query.len(), target.len());
    let Some(band) = band.clamp(m, n) else {
        return empty_alignment();
    };
    let strips = n.div_ceil(STRIP);
    let oe = sc.gap_open + sc.gap_extend;
    let ext = sc.gap_extend;
    scratch.h_left.clear();
    scratch.h_left.resize(m, NEG_INF);
    scratch.e_left.clear();
    scratch.e_left.resize(m, NEG_INF);
    scratch.trace.clear();
    scratch.trace.resize(strips * m, 0);

    // One row of pair scores per query base code, indexed by target code.
    let mut profile = [[0i32; 5]; 5];
    for (q, row) in profile.iter_mut().enumerate() {
        for (t, v) in row.iter_mut().enumerate() {
            *v = sc.pair(q as u8, t as u8);
        }
    }
    let mut best = Best { total: i32::MIN, i: 0, j: 0 };
    for k in 0..strips {
        let j0 = k * STRIP;
        let width = STRIP.min(n - j0);
        let mut t = [0u8; STRIP];
        t[..width].copy_from_slice(&target[j0..j0 + width]);
        let strip = Strip { t, j0, m, oe, ext, clip: sc.clip, profile: &profile, query, band };
        // Full strips take the constant-width path, which the compiler unrolls.
        if width == STRIP {
            strip.run(
                STRIP,
                &mut scratch.h_left,
                &mut scratch.e_left,
                &mut scratch.trace[k * m..(k + 1) * m],
                &mut best,
            );
        } else {
            strip.run(
                width,
                &mut scratch.h_left,
                &mut scratch.e_left,
                &mut scratch.trace[k * m..(k + 1) * m],
                &mut best,
            );
        }
    }
    let (bi, bj, best) = (best.i, best.j, best.total);
    traceback(&scratch.trace, m, bi, bj, best, sc)
}

/// Follows the traceback record from the end cell `(bi, bj)`; shared by the CPU kernel and
/// the unit tests of the GPU record layout.
pub(crate) fn traceback(trace: &[u32], m: usize, bi: usize, bj: usize, best: i32, sc: &Scoring) -> Alignment {
    traceback_words(|k, i| trace[k * m + i], m, bi, bj, best, sc)
}

/// [`traceback`] over traceback words however stored: `word(k, i)` is the word of strip `k`,
/// row `i` (the lane kernel reads its lanes' words in place with it, rather than copying each
/// lane's out first).
#[inline(always)]
pub(crate) fn traceback_words(
    word: impl Fn(usize, usize) -> u32,
    m: usize,
    bi: usize,
    bj: usize,
    best: i32,
    sc: &Scoring,
) -> Alignment {
    let code = |i: usize, j: usize| (word(j / STRIP, i) >> (4 * (j % STRIP))) & 0xf;
    let mut cigar = Cigar::default();
    let mut push = |op: CigarOp| cigar.push(op, 1);
    let (mut i, mut j) = (bi, bj);
    let mut state = 0u32; // 0 H, 2 E, 3 F
    loop {
        let cell = code(i, j);
        match state {
            0 => match cell & 3 {
                0 => {
                    push(CigarOp::Match);
                    i -= 1;
                    j -= 1;
                }
                1 => {
                    push(CigarOp::Match);
                    break;
                }
                s => state = s,
            },
            2 => {
                push(CigarOp::Deletion);
                if cell & 4 == 0 {
                    state = 0;
                }
                j -= 1;
            }
            _ => {
                push(CigarOp::Insertion);
                if cell & 8 == 0 {
                    state = 0;
                }
                i -= 1;
            }
        }
    }
    cigar.reverse();
    Alignment::from_traceback(best, (i, j), (bi, bj), m, cigar, sc.clip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_oracle_banded;
    use crate::rng::Rng;

    /// The scalar kernel against the full-matrix oracle, result by result: queries mutated into
    /// their windows (substitutions, indels, Ns) and unrelated ones, bands around the true
    /// diagonal, anywhere, or missing the matrix, under three scorings; one scratch reused
    /// across every task, as the CPU backend reuses it.
    #[test]
    fn scalar_banded_kernel_matches_the_oracle() {
        let mut rng = Rng::new(2_024);
        let mut scratch = TracebackScratch::default();
        let scorings = [
            Scoring::default(),
            Scoring { match_score: 2, mismatch: 3, gap_open: 5, gap_extend: 2, clip: 0, ambiguous: 0 },
            Scoring { match_score: 1, mismatch: 1, gap_open: 0, gap_extend: 1, clip: 20, ambiguous: -2 },
        ];
        for task in 0..3_000 {
            let sc = &scorings[task % scorings.len()];
            let n = 1 + rng.below(260) as usize;
            let target: Vec<u8> = (0..n).map(|_| if rng.below(100) == 0 { 4 } else { rng.base() }).collect();
            let start = rng.below(n as u64 / 2 + 1) as usize;
            let mut query = Vec::new();
            if task % 6 == 5 {
                query.extend((0..1 + rng.below(150)).map(|_| rng.base()));
            } else {
                let mut j = start;
                while j < n && query.len() < 200 {
                    match rng.below(30) {
                        0 => query.push(rng.base()),
                        1 => j += 1 + rng.below(3) as usize,
                        2 => query.push(4),
                        _ => {
                            query.push(target[j]);
                            j += 1;
                        }
                    }
                }
                if query.is_empty() {
                    query.push(rng.base());
                }
            }
            let band = match task % 3 {
                0 => Band::full(query.len(), n),
                1 => {
                    let margin = rng.below(20) as i32;
                    Band { lo: start as i32 - margin, hi: start as i32 + margin }
                }
                _ => {
                    let lo = rng.below(2 * n as u64 + 40) as i32 - n as i32 - 20;
                    Band { lo, hi: lo + rng.below(30) as i32 }
                }
            };
            let want = align_oracle_banded(&query, &target, band, sc);
            let got = align_task_banded(&query, &target, band, sc, &mut scratch);
            assert_eq!(got, want, "task {task}: {} x {n}, {band:?}, {sc:?}", query.len());
        }
    }
}
