//! The inter-task form of the strip kernel: `L` tasks at once, one per lane, every DP value an
//! `[i32; L]` array so that the compiler turns each cell update into a few vector
//! instructions (the way lavapipe vectorizes `shaders/align.wgsl` across invocations).
//!
//! Each lane computes exactly what [`super::align_task`] computes for its task: the same
//! strips of [`STRIP`] columns, the same traceback words, the same end cell. Lanes may differ
//! in query length `m` and target length `n`; the group runs over the largest of each and
//! masks the rest:
//! * a column `j >= n` of a lane holds base code N, its cells never count for the end cell,
//!   and its bits in the traceback words are cleared (as the scalar kernel's partial last
//!   strip leaves them); nothing of a real cell depends on a column to its right;
//! * a row `i >= m` holds an N in the query and never counts for the end cell; nothing of a
//!   real cell depends on a row below it.
//!
//! After the DP each lane's path is followed by the scalar traceback, reading the lane's
//! words where the group left them (copying each lane's words out first took a quarter of the
//! kernel's time).

use super::kernel::{align_task, cell, traceback_words, TracebackScratch};
use super::reference::empty_alignment;
use super::{Alignment, Scoring, NEG_INF, STRIP};

/// Tasks per group: 8 x i32 fill one AVX2 register (16 lanes measured twice slower with
/// AVX2: the DP state no longer fits the registers).
pub(crate) const LANES: usize = 8;

/// Tasks per group where the CPU has AVX-512: 16 x i32 fill one of its 32 registers.
pub(crate) const WIDE_LANES: usize = 16;

/// Query code of an N and of the padding rows: equal to no target code.
const QUERY_N: i32 = 7;
/// Target code of an N and of the padding columns: equal to no query code.
const TARGET_N: i32 = 6;
/// Row keys (see [`dp`]) of masked cells: below the key of any real cell, whose H is at
/// least `-clip + ambiguous`, around -2000.
const LOW_KEY: i32 = i32::MIN / 2;
/// Largest `H` the group may reach (query length x best pair score) for `H << 3` to stay far from
/// overflow; larger groups go to the scalar kernel.
const MAX_H: i64 = 1 << 26;

/// A pair of values on a cache line (see [`dp`]).
#[repr(C, align(64))]
struct Aligned64<T>(T, T);

/// Per-thread buffers reused across groups.
#[derive(Default)]
pub(crate) struct LaneScratch<const L: usize> {
    /// Query codes per row, [`QUERY_N`] for N and beyond a lane's `m`.
    q: Vec<[i32; L]>,
    /// Target codes per column, [`TARGET_N`] for N and beyond a lane's `n`.
    t: Vec<[i32; L]>,
    /// H and E of the last column of the previous strip, per row.
    h_left: Vec<[i32; L]>,
    e_left: Vec<[i32; L]>,
    /// Traceback words of the group, word `k * mmax + i`.
    trace: Vec<[u32; L]>,
    /// Scalar kernel buffers, for groups the lanes cannot take.
    scalar: TracebackScratch,
}

/// Scores the DP needs, as plain integers.
#[derive(Clone, Copy)]
struct Params {
    oe: i32,
    ext: i32,
    clip: i32,
    matched: i32,
    mismatched: i32,
    ambiguous: i32,
}

impl Params {
    fn new(sc: &Scoring) -> Params {
        Params {
            oe: sc.gap_open + sc.gap_extend,
            ext: sc.gap_extend,
            clip: sc.clip,
            matched: sc.match_score,
            mismatched: -sc.mismatch,
            ambiguous: sc.ambiguous,
        }
    }
}

/// Best end cell per lane.
#[derive(PartialEq, Debug)]
struct Best<const L: usize> {
    total: [i32; L],
    i: [i32; L],
    j: [i32; L],
}

impl<const L: usize> Best<L> {
    /// Takes the best cell of row `i` of the strip at `j0` (`key` as in [`Row`]) where it
    /// wins under the scalar kernel's order: a later cell wins on a higher total or, on a tie,
    /// a smaller `i`. Padding rows and all-padding strips never count. Written with masks so
    /// that it vectorizes.
    #[inline(always)]
    fn update(&mut self, key: &[i32; L], i: i32, m: &[i32; L], j0: i32, clip: i32) {
        for l in 0..L {
            let key = key[l];
            let clipped = -((i != m[l] - 1) as i32) & clip;
            let total = (key >> 3) - clipped;
            let counts = (key != LOW_KEY) & (i < m[l]);
            let wins = counts & ((total > self.total[l]) | ((total == self.total[l]) & (i < self.i[l])));
            let w = -(wins as i32);
            self.total[l] = (total & w) | (self.total[l] & !w);
            self.i[l] = (i & w) | (self.i[l] & !w);
            self.j[l] = ((j0 + 7 - (key & 7)) & w) | (self.j[l] & !w);
        }
    }
}

/// Query and target lengths per lane (0 for an empty task or an unused lane), after filling
/// `s.q` and `s.t` and clearing the DP buffers.
fn load<const L: usize>(tasks: &[(&[u8], &[u8])], s: &mut LaneScratch<L>) -> ([i32; L], [i32; L]) {
    let mut m = [0i32; L];
    let mut n = [0i32; L];
    for (l, (q, t)) in tasks.iter().enumerate() {
        if !q.is_empty() && !t.is_empty() {
            m[l] = q.len() as i32;
            n[l] = t.len() as i32;
        }
    }
    let mmax = m.iter().copied().max().unwrap_or(0) as usize;
    let nmax = n.iter().copied().max().unwrap_or(0) as usize;
    let strips = nmax.div_ceil(STRIP);
    s.q.clear();
    s.q.resize(mmax, [QUERY_N; L]);
    s.t.clear();
    s.t.resize(strips * STRIP, [TARGET_N; L]);
    for (l, (q, t)) in tasks.iter().enumerate() {
        if m[l] == 0 {
            continue;
        }
        for (row, &b) in s.q.iter_mut().zip(q.iter()) {
            row[l] = if b > 3 { QUERY_N } else { b as i32 };
        }
        for (col, &b) in s.t.iter_mut().zip(t.iter()) {
            col[l] = if b > 3 { TARGET_N } else { b as i32 };
        }
    }
    s.h_left.clear();
    s.h_left.resize(mmax, [NEG_INF; L]);
    s.e_left.clear();
    s.e_left.resize(mmax, [NEG_INF; L]);
    s.trace.clear();
    s.trace.resize(strips * mmax, [0; L]);
    (m, n)
}

/// Aligns up to `L` tasks (query, target) at once; the results are in the order given and
/// identical to [`super::align_task`] on each.
pub(crate) fn align_lanes<const L: usize>(
    tasks: &[(&[u8], &[u8])],
    sc: &Scoring,
    s: &mut LaneScratch<L>,
) -> Vec<Alignment> {
    assert!(tasks.len() <= L, "{} tasks for {L} lanes", tasks.len());
    let mmax = tasks.iter().map(|(q, _)| q.len()).max().unwrap_or(0);
    if mmax as i64 * sc.match_score.max(sc.ambiguous).max(1) as i64 >= MAX_H {
        return tasks.iter().map(|(q, t)| align_task(q, t, sc, &mut s.scalar)).collect();
    }
    let (m, n) = load(tasks, s);
    let mmax = s.q.len();
    let best = dp_dispatch(&s.q, &s.t, &mut s.h_left, &mut s.e_left, &mut s.trace, &m, &n, &Params::new(sc));

    let mut out = Vec::with_capacity(tasks.len());
    for l in 0..tasks.len() {
        if m[l] == 0 {
            out.push(empty_alignment());
            continue;
        }
        let trace = &s.trace;
        let word = |k: usize, i: usize| trace[k * mmax + i][l];
        out.push(traceback_words(word, m[l] as usize, best.i[l] as usize, best.j[l] as usize, best.total[l], sc));
    }
    out
}

/// Whether the lane kernel beats the scalar one on this CPU: where it is compiled for AVX2.
/// Without AVX2 the compiler leaves [`dp`] mostly scalar (measured on x86-64 baseline and
/// SSE4.1 builds: slower than [`align_task`]), so callers should take the scalar kernel;
/// the results are the same either way.
pub(crate) fn lanes_pay_off() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the CPU has the AVX-512 subsets [`dp_avx512`] is compiled for: groups of
/// [`WIDE_LANES`] then pay off. Detected at run time (the development machines' CPU changes
/// between an AVX2 AMD EPYC and an AVX-512 Intel Xeon).
pub(crate) fn wide_lanes_pay_off() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs [`dp`] compiled for AVX-512 (groups of [`WIDE_LANES`]) or AVX2 where the CPU has it,
/// else for the baseline target; the code is the same, so are the results.
#[allow(clippy::too_many_arguments)]
fn dp_dispatch<const L: usize>(
    q: &[[i32; L]],
    t: &[[i32; L]],
    h_left: &mut [[i32; L]],
    e_left: &mut [[i32; L]],
    trace: &mut [[u32; L]],
    m: &[i32; L],
    n: &[i32; L],
    p: &Params,
) -> Best<L> {
    #[cfg(target_arch = "x86_64")]
    {
        if L == WIDE_LANES && wide_lanes_pay_off() {
            // SAFETY: the CPU has every feature `dp_avx512` is compiled for.
            return unsafe { dp_avx512(q, t, h_left, e_left, trace, m, n, p) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, the only feature `dp_avx2` is compiled for.
            return unsafe { dp_avx2(q, t, h_left, e_left, trace, m, n, p) };
        }
    }
    dp(q, t, h_left, e_left, trace, m, n, p)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn dp_avx512<const L: usize>(
    q: &[[i32; L]],
    t: &[[i32; L]],
    h_left: &mut [[i32; L]],
    e_left: &mut [[i32; L]],
    trace: &mut [[u32; L]],
    m: &[i32; L],
    n: &[i32; L],
    p: &Params,
) -> Best<L> {
    dp(q, t, h_left, e_left, trace, m, n, p)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn dp_avx2<const L: usize>(
    q: &[[i32; L]],
    t: &[[i32; L]],
    h_left: &mut [[i32; L]],
    e_left: &mut [[i32; L]],
    trace: &mut [[u32; L]],
    m: &[i32; L],
    n: &[i32; L],
    p: &Params,
) -> Best<L> {
    dp(q, t, h_left, e_left, trace, m, n, p)
}

/// What the cells of one strip column need, per lane.
struct Column<const L: usize> {
    /// Target codes.
    t: [i32; L],
    /// Score of a pair that is not a match: `ambiguous` for an N (or padding), else
    /// `-mismatch`.
    other: [i32; L],
    /// `i32::MAX` inside the lane's target, [`LOW_KEY`] beyond it: the row key is capped by it.
    cap: [i32; L],
}

/// What the cells of one row need, per lane, and what runs along the row.
struct Row<const L: usize> {
    q: [i32; L],
    /// Where the query base is an N (or padding).
    q_n: [bool; L],
    start: i32,
    /// H(i, j-1), E(i, j-1), H(i-1, j-1).
    h_left: [i32; L],
    e_left: [i32; L],
    d: [i32; L],
    word: [u32; L],
    /// Best cell of the row so far as `H << 3 | (7 - c)`: the maximum is the highest H and,
    /// among equal ones, the smallest c, as the scalar kernel's strict `>` picks.
    key: [i32; L],
}

/// One cell per lane: column `c` of the strip, in the current row.
#[inline(always)]
fn cell<const L: usize>(
    c: usize,
    col: &Column<L>,
    p: Params,
    r: &mut Row<L>,
    h_up: &mut [i32; L],
    f_up: &mut [i32; L],
) {
    for l in 0..L {
        let pair = if r.q[l] == col.t[l] { p.matched } else { col.other[l] };
        let s = if r.q_n[l] { p.ambiguous } else { pair };
        let (h, e, f, code) = cell!(r.d[l], r.start, s, r.h_left[l], r.e_left[l], h_up[l], f_up[l], p.oe, p.ext);
        r.word[l] |= code << (4 * c);
        let key = ((h << 3) | (7 - c as i32)).min(col.cap[l]);
        r.key[l] = r.key[l].max(key);
        r.d[l] = h_up[l];
        h_up[l] = h;
        f_up[l] = f;
        r.h_left[l] = h;
        r.e_left[l] = e;
    }
}

/// The DP of a group: strips left to right, rows top to bottom, the 8 columns of a strip
/// one after the other, every step on all lanes. Per lane it is `Strip::run` of the scalar
/// kernel.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dp<const L: usize>(
    q: &[[i32; L]],
    t: &[[i32; L]],
    h_left: &mut [[i32; L]],
    e_left: &mut [[i32; L]],
    trace: &mut [[u32; L]],
    m: &[i32; L],
    n: &[i32; L],
    p: &Params,
) -> Best<L> {
    const { assert!(STRIP == 8) };
    let mmax = q.len();
    let strips = t.len() / STRIP;
    let h_left = &mut h_left[..mmax];
    let e_left = &mut e_left[..mmax];
    let mut best = Best { total: [i32::MIN; L], i: [0; L], j: [0; L] };
    for k in 0..strips {
        let j0 = (k * STRIP) as i32;
        let cols: [Column<L>; STRIP] = std::array::from_fn(|c| {
            let t = t[k * STRIP + c];
            Column {
                t,
                other: t.map(|b| if b == TARGET_N { p.ambiguous } else { p.mismatched }),
                cap: std::array::from_fn(|l| if j0 + (c as i32) < n[l] { i32::MAX } else { LOW_KEY }),
            }
        });
        // Bits of the columns inside each lane's target: the scalar kernel leaves the others 0.
        let wmask: [u32; L] = std::array::from_fn(|l| {
            let w = (n[l] - j0).clamp(0, STRIP as i32);
            if w as usize == STRIP {
                u32::MAX
            } else {
                (1u32 << (4 * w)) - 1
            }
        });
        // H(i-1, j0+c) and F(i-1, j0+c), on a cache line of the frame. The DP state does not
        // fit the 16 vector registers, so vectors are spilled to the stack; without a frame
        // realigned to 64 bytes, whether those spills straddled cache lines depended on the
        // callers' stack depth, and unrelated changes anywhere moved the kernel's speed by a
        // quarter (3.8 vs 2.8 GCUPS, identical machine code). This over-aligned local, kept
        // in memory, makes the compiler realign the frame: about 4 GCUPS whatever the caller.
        let mut up = Aligned64([[NEG_INF; L]; STRIP], [[NEG_INF; L]; STRIP]);
        // Its address escapes, so it stays in the frame with its alignment.
        std::hint::black_box(&mut up);
        let Aligned64(h_up, f_up) = &mut up;
        let mut h_diag_left = [NEG_INF; L]; // H(i-1, j0-1)
        let trace_k = &mut trace[k * mmax..(k + 1) * mmax];
        for i in 0..mmax {
            let mut r = Row {
                q: q[i],
                q_n: q[i].map(|b| b == QUERY_N),
                start: if i == 0 { 0 } else { -p.clip },
                h_left: h_left[i],
                e_left: e_left[i],
                d: h_diag_left,
                word: [0; L],
                key: [LOW_KEY; L],
            };
            h_diag_left = h_left[i];
            let [c0, c1, c2, c3, c4, c5, c6, c7] = h_up;
            let [g0, g1, g2, g3, g4, g5, g6, g7] = f_up;
            cell(0, &cols[0], *p, &mut r, c0, g0);
            cell(1, &cols[1], *p, &mut r, c1, g1);
            cell(2, &cols[2], *p, &mut r, c2, g2);
            cell(3, &cols[3], *p, &mut r, c3, g3);
            cell(4, &cols[4], *p, &mut r, c4, g4);
            cell(5, &cols[5], *p, &mut r, c5, g5);
            cell(6, &cols[6], *p, &mut r, c6, g6);
            cell(7, &cols[7], *p, &mut r, c7, g7);
            h_left[i] = r.h_left;
            e_left[i] = r.e_left;
            let ii = i as i32;
            trace_k[i] = std::array::from_fn(|l| r.word[l] & wmask[l]);
            best.update(&r.key, ii, m, j0, p.clip);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_reference;

    /// splitmix64, so the inputs are the same everywhere.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            (z ^ (z >> 31)) % n
        }
        fn seq(&mut self, len: usize, n_rate: u64) -> Vec<u8> {
            (0..len).map(|_| if self.below(n_rate) == 0 { 4 } else { self.below(4) as u8 }).collect()
        }
    }

    fn scorings() -> Vec<Scoring> {
        vec![
            Scoring::default(),
            Scoring { match_score: 2, mismatch: 3, gap_open: 5, gap_extend: 2, clip: 0, ambiguous: -2 },
            Scoring { match_score: 1, mismatch: 1, gap_open: 0, gap_extend: 1, clip: 100, ambiguous: 0 },
        ]
    }

    /// A query taken from the target with edits, or a random one.
    fn task(rng: &mut Rng, m: usize, n: usize) -> (Vec<u8>, Vec<u8>) {
        let target = rng.seq(n, 30);
        let query = if rng.below(3) == 0 || n == 0 {
            rng.seq(m, 30)
        } else {
            let mut j = rng.below(n as u64) as usize;
            let mut q = Vec::with_capacity(m);
            while q.len() < m {
                match rng.below(25) {
                    0 => q.push(rng.below(5) as u8),
                    1 => j += 1 + rng.below(3) as usize,
                    2 => {
                        let len = 1 + rng.below(3) as usize;
                        q.extend(rng.seq(len, 5))
                    }
                    _ => {
                        q.push(target.get(j).copied().unwrap_or(rng.below(4) as u8));
                        j += 1;
                    }
                }
            }
            q.truncate(m);
            q
        };
        (query, target)
    }

    fn check_groups<const L: usize>(seed: u64) {
        let mut rng = Rng(seed);
        let mut scratch = LaneScratch::<L>::default();
        for sc in scorings() {
            for group in 0..120 {
                let lanes = if group % 10 == 0 { 1 + rng.below(L as u64) as usize } else { L };
                let tasks: Vec<(Vec<u8>, Vec<u8>)> = (0..lanes)
                    .map(|_| {
                        let m = match rng.below(6) {
                            0 => 1,
                            1 => 1 + rng.below(8) as usize,
                            2 => 0,
                            _ => 1 + rng.below(160) as usize,
                        };
                        let n = match rng.below(6) {
                            0 => 1 + rng.below(7) as usize,
                            1 => 8 * (1 + rng.below(20) as usize),
                            2 if group % 3 == 0 => 0,
                            _ => 1 + rng.below(320) as usize,
                        };
                        task(&mut rng, m, n)
                    })
                    .collect();
                let refs: Vec<(&[u8], &[u8])> = tasks.iter().map(|(q, t)| (&q[..], &t[..])).collect();
                let got = align_lanes(&refs, &sc, &mut scratch);
                assert_eq!(got.len(), tasks.len());
                for ((q, t), a) in tasks.iter().zip(&got) {
                    assert_eq!(a, &align_reference(q, t, &sc), "{sc:?}\nquery  {q:?}\ntarget {t:?}");
                }
            }
        }
    }

    #[test]
    fn lanes_match_the_oracle_on_mixed_sizes() {
        check_groups::<LANES>(7);
        check_groups::<WIDE_LANES>(9);
        check_groups::<4>(8);
    }

    #[test]
    fn baseline_dp_matches_the_dispatched_one() {
        check_dispatch::<LANES>();
        check_dispatch::<WIDE_LANES>();
    }

    /// The portable code path, whatever the CPU: the same words and end cells as dispatch
    /// (AVX2 for 8 lanes, AVX-512 for 16 where the CPU has them).
    fn check_dispatch<const L: usize>() {
        // The portable code path, whatever the CPU: the same words and end cells as dispatch.
        let mut rng = Rng(3);
        let tasks: Vec<(Vec<u8>, Vec<u8>)> = (0..L)
            .map(|l| {
                let (m, n) = (1 + rng.below(150) as usize, 1 + 37 * l + rng.below(100) as usize);
                task(&mut rng, m, n)
            })
            .collect();
        let refs: Vec<(&[u8], &[u8])> = tasks.iter().map(|(q, t)| (&q[..], &t[..])).collect();
        for sc in scorings() {
            let p = Params::new(&sc);
            let run = |portable: bool| {
                let mut s = LaneScratch::<L>::default();
                let (m, n) = load(&refs, &mut s);
                let best = if portable {
                    dp(&s.q, &s.t, &mut s.h_left, &mut s.e_left, &mut s.trace, &m, &n, &p)
                } else {
                    dp_dispatch(&s.q, &s.t, &mut s.h_left, &mut s.e_left, &mut s.trace, &m, &n, &p)
                };
                (s.trace, best)
            };
            assert!(run(true) == run(false));
        }
    }
}
