//! The fast CPU form of the recurrence: strips of [`STRIP`] target columns, linear memory for
//! scores, 4 traceback bits per cell. It is the same algorithm, in the same order, with the
//! same traceback record as `shaders/align.wgsl`, so the two can be read side by side.

use super::reference::empty_alignment;
use super::{Alignment, Cigar, CigarOp, Scoring, NEG_INF, STRIP};

/// Per-thread buffers reused across tasks.
#[derive(Default)]
pub struct TracebackScratch {
    /// H and E of the last column of the previous strip, one entry per query row.
    h_left: Vec<i32>,
    e_left: Vec<i32>,
    /// Traceback words, `strips * m` of them.
    trace: Vec<u32>,
}

/// Best end cell so far under the stated order: total, then larger `i`, then smaller `j`.
#[inline(always)]
fn better(total: i32, i: usize, j: usize, best: i32, bi: usize, bj: usize) -> bool {
    total > best || (total == best && (i > bi || (i == bi && j < bj)))
}

/// Aligns `query` to `target`; identical results to [`super::align_reference`].
pub fn align_task(query: &[u8], target: &[u8], sc: &Scoring, scratch: &mut TracebackScratch) -> Alignment {
    let (m, n) = (query.len(), target.len());
    if m == 0 || n == 0 {
        return empty_alignment();
    }
    let strips = n.div_ceil(STRIP);
    let oe = sc.gap_open + sc.gap_extend;
    let ext = sc.gap_extend;
    scratch.h_left.clear();
    scratch.h_left.resize(m, NEG_INF);
    scratch.e_left.clear();
    scratch.e_left.resize(m, NEG_INF);
    scratch.trace.clear();
    scratch.trace.resize(strips * m, 0);

    let (mut best, mut bi, mut bj) = (i32::MIN, 0usize, 0usize);
    for k in 0..strips {
        let j0 = k * STRIP;
        let width = STRIP.min(n - j0);
        let mut t = [0u8; STRIP];
        t[..width].copy_from_slice(&target[j0..j0 + width]);
        let mut h_up = [NEG_INF; STRIP]; // H(i-1, j0+c)
        let mut f_up = [NEG_INF; STRIP]; // F(i-1, j0+c)
        let mut h_diag_left = NEG_INF; // H(i-1, j0-1)
        for i in 0..m {
            let qi = query[i];
            let start = if i == 0 { 0 } else { -sc.clip };
            let end_pen = if i == m - 1 { 0 } else { sc.clip };
            let mut h_left = scratch.h_left[i]; // H(i, j-1)
            let mut e_left = scratch.e_left[i]; // E(i, j-1)
            let mut d = h_diag_left; // H(i-1, j-1)
            h_diag_left = h_left;
            let mut word = 0u32;
            for c in 0..width {
                let (dcode, dval) = if d >= start { (0u32, d) } else { (1u32, start) };
                let diag = dval + sc.pair(qi, t[c]);
                let e_open = h_left - oe;
                let e_ext = e_left - ext;
                let (e, ebit) = if e_open >= e_ext { (e_open, 0u32) } else { (e_ext, 4u32) };
                let f_open = h_up[c] - oe;
                let f_ext = f_up[c] - ext;
                let (f, fbit) = if f_open >= f_ext { (f_open, 0u32) } else { (f_ext, 8u32) };
                let (h, hcode) = if diag >= e && diag >= f {
                    (diag, dcode)
                } else if e >= f {
                    (e, 2)
                } else {
                    (f, 3)
                };
                word |= (hcode | ebit | fbit) << (4 * c);
                let j = j0 + c;
                let total = h - end_pen;
                if better(total, i, j, best, bi, bj) {
                    (best, bi, bj) = (total, i, j);
                }
                d = h_up[c];
                h_up[c] = h;
                f_up[c] = f;
                h_left = h;
                e_left = e;
            }
            scratch.h_left[i] = h_left;
            scratch.e_left[i] = e_left;
            scratch.trace[k * m + i] = word;
        }
    }
    traceback(&scratch.trace, m, bi, bj, best, sc)
}

/// Follows the traceback record from the end cell `(bi, bj)`; shared by the CPU kernel and
/// the unit tests of the GPU record layout.
pub(crate) fn traceback(trace: &[u32], m: usize, bi: usize, bj: usize, best: i32, sc: &Scoring) -> Alignment {
    let code = |i: usize, j: usize| (trace[(j / STRIP) * m + i] >> (4 * (j % STRIP))) & 0xf;
    let mut rev: Vec<u32> = Vec::new();
    let mut push = |op: CigarOp| match rev.last_mut() {
        Some(w) if *w & 0xf == op as u32 => *w += 1 << 4,
        _ => rev.push((1 << 4) | op as u32),
    };
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
    let cigar = Cigar(rev.into_iter().rev().collect());
    let mut score = best;
    if i > 0 {
        score += sc.clip;
    }
    if bi + 1 < m {
        score += sc.clip;
    }
    Alignment {
        score,
        query_start: i as u32,
        query_end: bi as u32 + 1,
        target_start: j as u32,
        target_end: bj as u32 + 1,
        cigar,
    }
}
