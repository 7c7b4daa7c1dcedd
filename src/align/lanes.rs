//! The inter-task form of the strip kernel: `L` tasks at once, one per lane, every DP value an
//! `[i32; L]` array so that the compiler turns each cell update into a few vector
//! instructions (the way lavapipe vectorizes `shaders/align.wgsl` across invocations).
//!
//! Each lane computes exactly what [`super::align_task_banded`] computes for its task: the same
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
//! words where the group left them (copying each lane's words out first costs a quarter of
//! the kernel's time).

use super::kernel::{align_task_banded, cell, traceback_words, TracebackScratch};
use super::oracle::empty_alignment;
use super::{Alignment, Band, Scoring, NEG_INF, STRIP};
use std::ops::{Add, BitAnd, BitOr, Not, Shl, Sub};

/// Tasks per group of 32-bit lanes: 8 x i32 fill one AVX2 register (16 lanes measured twice
/// slower with AVX2: the DP state then does not fit the registers).
pub(crate) const LANES: usize = 8;

/// Tasks per group of 32-bit lanes where the CPU has AVX-512: 16 x i32 fill one of its 32
/// registers. Groups of 16-bit lanes hold twice as many tasks in the same registers.
pub(crate) const WIDE_LANES: usize = 16;

/// Query code of an N and of the padding rows: equal to no target code.
const QUERY_N: i32 = 7;
/// Target code of an N and of the padding columns: equal to no query code.
const TARGET_N: i32 = 6;

/// The integer type of a group's DP values: `i32`, or `i16` (twice the lanes per vector)
/// where every value of the group fits ([`fits_16`]). Each computes exactly the same values:
/// a real cell's H, E and F are the same integers, and values that descend from minus
/// infinity ([`Value::NEG_INF`] less gap costs) stay below every real value in both types, so
/// every comparison, and with it every traceback code and end cell, comes out the same.
pub(crate) trait Value:
    Copy
    + Ord
    + Add<Output = Self>
    + Sub<Output = Self>
    + Shl<i32, Output = Self>
    + BitOr<Output = Self>
    + BitAnd<Output = Self>
    + Not<Output = Self>
    + 'static
{
    /// Minus infinity.
    const NEG_INF: Self;
    /// Row keys (see [`dp`]) of masked cells: below the key of any real cell.
    const LOW_KEY: Self;
    /// Above every key: the cap of a column inside a lane's target.
    const MAX: Self;
    /// The value of `v`, which the caller has checked fits.
    fn of(v: i32) -> Self;
    /// The value as an i32.
    fn wide(self) -> i32;
    /// All bits set where `b`, none where not: selects by masks vectorize in every width
    /// (a select between a register and a load makes LLVM gather 16-bit lanes one by one).
    fn mask(b: bool) -> Self;
}

impl Value for i32 {
    const NEG_INF: i32 = NEG_INF;
    const LOW_KEY: i32 = i32::MIN / 2;
    const MAX: i32 = i32::MAX;
    fn of(v: i32) -> i32 {
        v
    }
    fn wide(self) -> i32 {
        self
    }
    fn mask(b: bool) -> i32 {
        -(b as i32)
    }
}

impl Value for i16 {
    /// Far enough below every real value of a group that [`fits_16`] accepts, and far enough
    /// above `i16::MIN` that subtracting its gap costs never wraps.
    const NEG_INF: i16 = -(1 << 13);
    const LOW_KEY: i16 = i16::MIN / 2;
    const MAX: i16 = i16::MAX;
    fn of(v: i32) -> i16 {
        v as i16
    }
    fn wide(self) -> i32 {
        self as i32
    }
    fn mask(b: bool) -> i16 {
        -(b as i16)
    }
}

/// Largest `H` the group may reach (query length x best pair score) for `H << 3` to stay far from
/// overflow in i32; larger groups go to the scalar kernel.
const MAX_H: i64 = 1 << 26;

/// Whether a group of tasks with queries of at most `mmax` bases and targets of at most `nmax`
/// can run in 16-bit lanes with the results of 32-bit ones: every key `H << 3` fits (H is at
/// most `mmax` matches), and the lowest real value (a start, a mismatch, a gap opened and
/// extended across the whole matrix) stays above [`Value::NEG_INF`] of i16, which itself never
/// wraps however many gap costs it loses.
pub(crate) fn fits_16(mmax: usize, nmax: usize, sc: &Scoring) -> bool {
    let (m, n) = (mmax as i64, nmax as i64);
    let top = m * sc.match_score.max(sc.ambiguous).max(1) as i64;
    let worst_pair = (sc.mismatch as i64).max(-sc.ambiguous as i64).max(0);
    let gaps = (sc.gap_open + sc.gap_extend) as i64 + sc.gap_extend as i64 * (m + n);
    let low = sc.clip as i64 + worst_pair + gaps;
    let neg = -(<i16 as Value>::NEG_INF as i64);
    top < 4000 && low < neg - 64 && neg + gaps < 32_000 && sc.match_score >= 0
}

/// A pair of values on a cache line (see [`dp`]).
#[repr(C, align(64))]
struct Aligned64<T>(T, T);

/// Per-thread buffers reused across groups.
pub(crate) struct LaneScratch<V: Value, const L: usize> {
    /// Query codes per row, [`QUERY_N`] for N and beyond a lane's `m`.
    q: Vec<[V; L]>,
    /// Target codes per column, [`TARGET_N`] for N and beyond a lane's `n`.
    t: Vec<[V; L]>,
    /// H and E of the last column of the previous strip, per row.
    h_left: Vec<[V; L]>,
    e_left: Vec<[V; L]>,
    /// Traceback words of the group, word `k * mmax + i`.
    trace: Vec<[u32; L]>,
    /// Scalar kernel buffers, for groups the lanes cannot take.
    scalar: TracebackScratch,
}

impl<V: Value, const L: usize> Default for LaneScratch<V, L> {
    fn default() -> Self {
        LaneScratch {
            q: Vec::new(),
            t: Vec::new(),
            h_left: Vec::new(),
            e_left: Vec::new(),
            trace: Vec::new(),
            scalar: TracebackScratch::default(),
        }
    }
}

impl<V: Value, const L: usize> LaneScratch<V, L> {
    /// Bytes its traceback words hold on to.
    pub(crate) fn trace_bytes(&self) -> usize {
        self.trace.capacity() * std::mem::size_of::<[u32; L]>()
    }
}

/// Scores the DP needs, as plain integers.
#[derive(Clone, Copy)]
struct Params<V> {
    oe: V,
    ext: V,
    matched: V,
    mismatched: V,
    ambiguous: V,
}

impl<V: Value> Params<V> {
    fn new(sc: &Scoring) -> Params<V> {
        Params {
            oe: V::of(sc.gap_open + sc.gap_extend),
            ext: V::of(sc.gap_extend),
            matched: V::of(sc.match_score),
            mismatched: V::of(-sc.mismatch),
            ambiguous: V::of(sc.ambiguous),
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
    fn update<V: Value>(&mut self, key: &[V; L], i: i32, m: &[i32; L], j0: i32, clip: i32) {
        for l in 0..L {
            let counts = (key[l] != V::LOW_KEY) & (i < m[l]);
            let key = key[l].wide();
            let clipped = -((i != m[l] - 1) as i32) & clip;
            let total = (key >> 3) - clipped;
            let wins = counts & ((total > self.total[l]) | ((total == self.total[l]) & (i < self.i[l])));
            let w = -(wins as i32);
            self.total[l] = (total & w) | (self.total[l] & !w);
            self.i[l] = (i & w) | (self.i[l] & !w);
            self.j[l] = ((j0 + 7 - (key & 7)) & w) | (self.j[l] & !w);
        }
    }
}

/// A lane's task: its query, its window and its band.
pub(crate) type LaneTask<'a> = (&'a [u8], &'a [u8], Band);

/// The shape of each lane's task: query and target lengths (0 for an empty task, one whose
/// band meets no cell, or an unused lane) and band (clamped to the matrix).
#[derive(Clone, Copy)]
struct Shape<const L: usize> {
    m: [i32; L],
    n: [i32; L],
    lo: [i32; L],
    hi: [i32; L],
}

impl<const L: usize> Shape<L> {
    /// The lowest `hi` of the lanes in use.
    fn min_hi(&self) -> i32 {
        (0..L).filter(|&l| self.m[l] > 0).map(|l| self.hi[l]).min().unwrap_or(i32::MAX / 2)
    }

    /// The highest `lo` of the lanes in use.
    fn max_lo(&self) -> i32 {
        (0..L).filter(|&l| self.m[l] > 0).map(|l| self.lo[l]).max().unwrap_or(i32::MIN / 2)
    }

    /// The rows that meet some lane's band in columns `j0..j0 + STRIP`, within `0..mmax`.
    /// Both ends only grow from one strip to the next.
    fn rows(&self, j0: usize, mmax: usize) -> std::ops::Range<usize> {
        let (mut first, mut end) = (mmax, 0);
        for l in 0..L {
            if self.m[l] > 0 {
                let r = Band { lo: self.lo[l], hi: self.hi[l] }.rows(j0, STRIP, self.m[l] as usize);
                first = first.min(r.start);
                end = end.max(r.end);
            }
        }
        first.min(end)..end
    }
}

/// The shape of every lane, after filling `s.q` and `s.t` and clearing the DP buffers.
fn load<V: Value, const L: usize>(tasks: &[LaneTask], s: &mut LaneScratch<V, L>) -> Shape<L> {
    let mut shape = Shape { m: [0; L], n: [0; L], lo: [0; L], hi: [0; L] };
    for (l, (q, t, band)) in tasks.iter().enumerate() {
        if let Some(b) = band.clamp(q.len(), t.len()) {
            shape.m[l] = q.len() as i32;
            shape.n[l] = t.len() as i32;
            (shape.lo[l], shape.hi[l]) = (b.lo, b.hi);
        }
    }
    let (m, n) = (shape.m, shape.n);
    let mmax = m.iter().copied().max().unwrap_or(0) as usize;
    let nmax = n.iter().copied().max().unwrap_or(0) as usize;
    let strips = nmax.div_ceil(STRIP);
    s.q.clear();
    s.q.resize(mmax, [V::of(QUERY_N); L]);
    s.t.clear();
    s.t.resize(strips * STRIP, [V::of(TARGET_N); L]);
    for (l, (q, t, _)) in tasks.iter().enumerate() {
        if m[l] == 0 {
            continue;
        }
        for (row, &b) in s.q.iter_mut().zip(q.iter()) {
            row[l] = V::of(if b > 3 { QUERY_N } else { b as i32 });
        }
        for (col, &b) in s.t.iter_mut().zip(t.iter()) {
            col[l] = V::of(if b > 3 { TARGET_N } else { b as i32 });
        }
    }
    s.h_left.clear();
    s.h_left.resize(mmax, [V::NEG_INF; L]);
    s.e_left.clear();
    s.e_left.resize(mmax, [V::NEG_INF; L]);
    // The DP writes every word a lane's traceback reads (its band's rows in every strip it
    // meets); the rest keep what an earlier group left, not cleared: clearing would write the
    // whole matrix's words per group (0.3 to 1.5 MB; 6% of a run's instructions on E. coli
    // reads).
    // Unit tests fill them with ones instead, so that reading one would show.
    let words = strips * mmax;
    if s.trace.len() < words {
        s.trace.resize(words, [0; L]);
    }
    if cfg!(test) {
        s.trace[..words].fill([u32::MAX; L]);
    }
    shape
}

/// Aligns up to `L` tasks (query, target, band) at once, appending the results to `out` in
/// the order given; each is identical to [`super::align_task_banded`]'s. With `V = i16` the
/// caller has checked [`fits_16`].
pub(crate) fn align_lanes<V: Value, const L: usize>(
    tasks: &[LaneTask],
    sc: &Scoring,
    s: &mut LaneScratch<V, L>,
    out: &mut Vec<Alignment>,
) {
    assert!(tasks.len() <= L, "{} tasks for {L} lanes", tasks.len());
    let mmax = tasks.iter().map(|(q, _, _)| q.len()).max().unwrap_or(0);
    if mmax as i64 * sc.match_score.max(sc.ambiguous).max(1) as i64 >= MAX_H {
        out.extend(tasks.iter().map(|&(q, t, b)| align_task_banded(q, t, b, sc, &mut s.scalar)));
        return;
    }
    if std::mem::size_of::<V>() < 4 {
        let nmax = tasks.iter().map(|(_, t, _)| t.len()).max().unwrap_or(0);
        assert!(fits_16(mmax, nmax, sc), "a group that does not fit 16-bit lanes");
    }
    let shape = load(tasks, s);
    let m = shape.m;
    let mmax = s.q.len();
    let best = dp_dispatch(&s.q, &s.t, &mut s.h_left, &mut s.e_left, &mut s.trace, &shape, &Params::new(sc), sc.clip);

    for l in 0..tasks.len() {
        if m[l] == 0 {
            out.push(empty_alignment());
            continue;
        }
        let trace = &s.trace;
        let word = |k: usize, i: usize| trace[k * mmax + i][l];
        out.push(traceback_words(word, m[l] as usize, best.i[l] as usize, best.j[l] as usize, best.total[l], sc));
    }
}

/// Whether the lane kernel beats the scalar one on this CPU: where it is compiled for AVX2.
/// Without AVX2 the compiler leaves [`dp`] mostly scalar (measured on x86-64 baseline and
/// SSE4.1 builds: slower than [`super::align_task_banded`]), so callers should take the scalar
/// kernel; the results are the same either way.
pub(crate) fn lanes_pay_off() -> bool {
    crate::simd::avx2()
}

/// Whether the CPU has the AVX-512 subsets [`dp_avx512`] is compiled for: groups of
/// [`WIDE_LANES`] then pay off. Detected at run time, so that one build runs on AVX2-only and
/// AVX-512 CPUs alike.
pub(crate) fn wide_lanes_pay_off() -> bool {
    crate::simd::avx512()
}

/// Runs [`dp`] compiled for AVX-512 (groups that fill 512 bits: [`WIDE_LANES`] x i32 or twice
/// as many i16) or AVX2 where the CPU has it, else for the baseline target; the code is the
/// same, so are the results.
#[allow(clippy::too_many_arguments)]
fn dp_dispatch<V: Value, const L: usize>(
    q: &[[V; L]],
    t: &[[V; L]],
    h_left: &mut [[V; L]],
    e_left: &mut [[V; L]],
    trace: &mut [[u32; L]],
    shape: &Shape<L>,
    p: &Params<V>,
    clip: i32,
) -> Best<L> {
    #[cfg(target_arch = "x86_64")]
    {
        // A group fills 512-bit vectors where it holds 16 x 32 or 32 x 16 bits.
        if L * std::mem::size_of::<V>() >= 64 && wide_lanes_pay_off() {
            // SAFETY: the CPU has every feature `dp_avx512` is compiled for.
            return unsafe { dp_avx512(q, t, h_left, e_left, trace, shape, p, clip) };
        }
        if crate::simd::avx2() {
            // SAFETY: the CPU has AVX2, the only feature `dp_avx2` is compiled for.
            return unsafe { dp_avx2(q, t, h_left, e_left, trace, shape, p, clip) };
        }
    }
    dp(q, t, h_left, e_left, trace, shape, p, clip)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn dp_avx512<V: Value, const L: usize>(
    q: &[[V; L]],
    t: &[[V; L]],
    h_left: &mut [[V; L]],
    e_left: &mut [[V; L]],
    trace: &mut [[u32; L]],
    shape: &Shape<L>,
    p: &Params<V>,
    clip: i32,
) -> Best<L> {
    dp(q, t, h_left, e_left, trace, shape, p, clip)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn dp_avx2<V: Value, const L: usize>(
    q: &[[V; L]],
    t: &[[V; L]],
    h_left: &mut [[V; L]],
    e_left: &mut [[V; L]],
    trace: &mut [[u32; L]],
    shape: &Shape<L>,
    p: &Params<V>,
    clip: i32,
) -> Best<L> {
    dp(q, t, h_left, e_left, trace, shape, p, clip)
}

/// What the cells of one strip column need, per lane.
struct Column<V, const L: usize> {
    /// Target codes.
    t: [V; L],
    /// Score of a pair that is not a match: `ambiguous` for an N (or padding), else
    /// `-mismatch`.
    other: [V; L],
    /// [`Value::MAX`] inside the lane's target, [`Value::LOW_KEY`] beyond it: the row key is
    /// capped by it.
    cap: [V; L],
}

/// What the cells of one row need, per lane, and what runs along the row.
struct Row<V, const L: usize> {
    q: [V; L],
    /// All bits set where the query base is an N (or padding), see [`Value::mask`].
    q_n: [V; L],
    start: V,
    /// H(i, j-1), E(i, j-1), H(i-1, j-1).
    h_left: [V; L],
    e_left: [V; L],
    d: [V; L],
    /// The row's traceback codes: columns 0-3 in the first half-word, 4-7 in the second (two
    /// u16 rather than one u32, so that 16-bit lanes never widen per cell).
    word: [[u16; L]; 2],
    /// Best cell of the row so far as `H << 3 | (7 - c)`: the maximum is the highest H and,
    /// among equal ones, the smallest c, as the scalar kernel's strict `>` picks.
    key: [V; L],
}

/// The columns of a row inside each lane's band: `c` from `first` to `last` (clamped to
/// -1..=8, so they fit any width); what cells that mask need.
struct RowBand<V, const L: usize> {
    first: [V; L],
    last: [V; L],
}

/// One cell per lane: column `c` of the strip, in the current row. With `MASK`, a lane's cell
/// outside its band becomes minus infinity with code 0 (rows wholly inside every band skip
/// that work).
#[inline(always)]
fn cell<V: Value, const L: usize, const MASK: bool>(
    c: usize,
    col: &Column<V, L>,
    p: Params<V>,
    r: &mut Row<V, L>,
    band: &RowBand<V, L>,
    h_up: &mut [V; L],
    f_up: &mut [V; L],
) {
    for l in 0..L {
        let eq = V::mask(r.q[l] == col.t[l]);
        let pair = (p.matched & eq) | (col.other[l] & !eq);
        let s = (p.ambiguous & r.q_n[l]) | (pair & !r.q_n[l]);
        let (mut h, mut e, mut f, mut code) =
            cell!(r.d[l], r.start, s, r.h_left[l], r.e_left[l], h_up[l], f_up[l], p.oe, p.ext);
        let mut cap = col.cap[l];
        if MASK {
            let c = V::of(c as i32);
            let inside = V::mask((c >= band.first[l]) & (c <= band.last[l]));
            let outside = V::NEG_INF & !inside;
            h = (h & inside) | outside;
            e = (e & inside) | outside;
            f = (f & inside) | outside;
            code &= inside.wide() as u32;
            cap = (cap & inside) | (V::LOW_KEY & !inside);
        }
        r.word[c / 4][l] |= (code as u16) << (4 * (c % 4));
        let key = ((h << 3) | V::of(7 - c as i32)).min(cap);
        r.key[l] = r.key[l].max(key);
        r.d[l] = h_up[l];
        h_up[l] = h;
        f_up[l] = f;
        r.h_left[l] = h;
        r.e_left[l] = e;
    }
}

/// The 8 cells of a row, on all lanes.
#[inline(always)]
fn row<V: Value, const L: usize, const MASK: bool>(
    cols: &[Column<V, L>; STRIP],
    p: &Params<V>,
    r: &mut Row<V, L>,
    band: &RowBand<V, L>,
    h_up: &mut [[V; L]; STRIP],
    f_up: &mut [[V; L]; STRIP],
) {
    let [c0, c1, c2, c3, c4, c5, c6, c7] = h_up;
    let [g0, g1, g2, g3, g4, g5, g6, g7] = f_up;
    cell::<V, L, MASK>(0, &cols[0], *p, r, band, c0, g0);
    cell::<V, L, MASK>(1, &cols[1], *p, r, band, c1, g1);
    cell::<V, L, MASK>(2, &cols[2], *p, r, band, c2, g2);
    cell::<V, L, MASK>(3, &cols[3], *p, r, band, c3, g3);
    cell::<V, L, MASK>(4, &cols[4], *p, r, band, c4, g4);
    cell::<V, L, MASK>(5, &cols[5], *p, r, band, c5, g5);
    cell::<V, L, MASK>(6, &cols[6], *p, r, band, c6, g6);
    cell::<V, L, MASK>(7, &cols[7], *p, r, band, c7, g7);
}

/// The DP of a group: strips left to right, rows top to bottom, the 8 columns of a strip
/// one after the other, every step on all lanes. Per lane it is `Strip::run` of the scalar
/// kernel.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dp<V: Value, const L: usize>(
    q: &[[V; L]],
    t: &[[V; L]],
    h_left: &mut [[V; L]],
    e_left: &mut [[V; L]],
    trace: &mut [[u32; L]],
    shape: &Shape<L>,
    p: &Params<V>,
    clip: i32,
) -> Best<L> {
    const { assert!(STRIP == 8) };
    let mmax = q.len();
    let strips = t.len() / STRIP;
    let h_left = &mut h_left[..mmax];
    let e_left = &mut e_left[..mmax];
    let mut best = Best { total: [i32::MIN; L], i: [0; L], j: [0; L] };
    let no_band = RowBand { first: [V::of(0); L], last: [V::of(7); L] };
    // Row i of the strip at j0 lies wholly inside every lane's band when j0 + 7 - i <= the
    // lowest hi and j0 - i >= the highest lo.
    let (min_hi, max_lo) = (shape.min_hi(), shape.max_lo());
    for k in 0..strips {
        let j0 = (k * STRIP) as i32;
        let cols: [Column<V, L>; STRIP] = std::array::from_fn(|c| {
            let t = t[k * STRIP + c];
            Column {
                t,
                other: t.map(|b| if b == V::of(TARGET_N) { p.ambiguous } else { p.mismatched }),
                cap: std::array::from_fn(|l| if j0 + (c as i32) < shape.n[l] { V::MAX } else { V::LOW_KEY }),
            }
        });
        // Bits of the columns inside each lane's target: the scalar kernel leaves the others 0.
        let wmask: [u32; L] = std::array::from_fn(|l| {
            let w = (shape.n[l] - j0).clamp(0, STRIP as i32);
            if w as usize == STRIP {
                u32::MAX
            } else {
                (1u32 << (4 * w)) - 1
            }
        });
        // H(i-1, j0+c) and F(i-1, j0+c), on a cache line of the frame. The DP state does not
        // fit the 16 vector registers, so vectors are spilled to the stack; without a frame
        // realigned to 64 bytes, whether those spills straddle cache lines depends on the
        // callers' stack depth, and with it the kernel's speed, by a quarter (3.8 against 2.8
        // GCUPS, identical machine code). This over-aligned local, kept in memory, makes the
        // compiler realign the frame: about 4 GCUPS whatever the caller.
        let mut up = Aligned64([[V::NEG_INF; L]; STRIP], [[V::NEG_INF; L]; STRIP]);
        // Its address escapes, so it stays in the frame with its alignment.
        std::hint::black_box(&mut up);
        let Aligned64(h_up, f_up) = &mut up;
        let trace_k = &mut trace[k * mmax..(k + 1) * mmax];
        // The rows that meet some lane's band; the previous strip computed the row above
        // them (see `Shape::rows`), whose H(i-1, j0-1) the first row needs.
        let rows = shape.rows(j0 as usize, mmax);
        // The rows whose 8 cells lie inside every lane's band, which need no masking.
        let whole = j0 + 7 - min_hi..=j0 - max_lo;
        let mut h_diag_left = if rows.start > 0 { h_left[rows.start - 1] } else { [V::NEG_INF; L] };
        for i in rows {
            let mut r = Row {
                q: q[i],
                q_n: q[i].map(|b| V::mask(b == V::of(QUERY_N))),
                start: if i == 0 { V::of(0) } else { V::of(-clip) },
                h_left: h_left[i],
                e_left: e_left[i],
                d: h_diag_left,
                word: [[0; L]; 2],
                key: [V::LOW_KEY; L],
            };
            h_diag_left = h_left[i];
            if whole.contains(&(i as i32)) {
                row::<V, L, false>(&cols, p, &mut r, &no_band, h_up, f_up);
            } else {
                // Columns of this row inside each lane's band: j0 + c - i from lo to hi.
                let band = RowBand {
                    first: std::array::from_fn(|l| V::of((shape.lo[l] - j0 + i as i32).clamp(-1, 8))),
                    last: std::array::from_fn(|l| V::of((shape.hi[l] - j0 + i as i32).clamp(-1, 8))),
                };
                row::<V, L, true>(&cols, p, &mut r, &band, h_up, f_up);
            }
            h_left[i] = r.h_left;
            e_left[i] = r.e_left;
            let ii = i as i32;
            trace_k[i] = std::array::from_fn(|l| (r.word[0][l] as u32 | (r.word[1][l] as u32) << 16) & wmask[l]);
            best.update(&r.key, ii, &shape.m, j0, clip);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::align_oracle_banded;

    /// The crate's generator, with the sequences these tests draw.
    struct TestRng(crate::rng::Rng);
    impl TestRng {
        fn new(seed: u64) -> TestRng {
            TestRng(crate::rng::Rng::new(seed))
        }
        fn below(&mut self, n: u64) -> u64 {
            self.0.below(n)
        }
        /// `len` bases, an N one time in `n_rate`.
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
    fn task(rng: &mut TestRng, m: usize, n: usize) -> (Vec<u8>, Vec<u8>) {
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

    /// The full band a third of the time, else a random band (around the diagonals a window
    /// is cut for, sometimes off the matrix or meeting none of it).
    fn random_band(rng: &mut TestRng, m: usize, n: usize) -> Band {
        let (m, n) = (m as i64, n as i64);
        match rng.below(6) {
            0 | 1 => Band::full(m as usize, n as usize),
            2 => {
                let lo = rng.below((m + n + 2) as u64) as i64 - m - 1;
                let hi = lo + rng.below(64) as i64;
                Band { lo: lo as i32, hi: hi as i32 }
            }
            _ => {
                let spread = (n - m).max(0);
                let lo = rng.below(8) as i64 - 4;
                Band { lo: lo as i32, hi: (spread + rng.below(8) as i64 - 4).max(lo) as i32 }
            }
        }
    }

    fn check_groups<V: Value, const L: usize>(seed: u64) {
        let mut rng = TestRng::new(seed);
        let mut scratch = LaneScratch::<V, L>::default();
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
                        let n = match rng.below(7) {
                            0 => 1 + rng.below(7) as usize,
                            6 if group % 4 == 0 => 1000 + rng.below(1000) as usize,
                            1 => 8 * (1 + rng.below(20) as usize),
                            2 if group % 3 == 0 => 0,
                            _ => 1 + rng.below(320) as usize,
                        };
                        task(&mut rng, m, n)
                    })
                    .collect();
                let refs: Vec<LaneTask> =
                    tasks.iter().map(|(q, t)| (&q[..], &t[..], random_band(&mut rng, q.len(), t.len()))).collect();
                let mut got = vec![empty_alignment()];
                align_lanes(&refs, &sc, &mut scratch, &mut got);
                let got = &got[1..];
                assert_eq!(got.len(), tasks.len());
                for (&(q, t, band), a) in refs.iter().zip(got) {
                    let want = align_oracle_banded(q, t, band, &sc);
                    assert_eq!(a, &want, "{sc:?} {band:?}\nquery  {q:?}\ntarget {t:?}");
                }
            }
        }
    }

    #[test]
    fn lanes_match_the_oracle_on_mixed_sizes() {
        check_groups::<i32, LANES>(7);
        check_groups::<i32, WIDE_LANES>(9);
        check_groups::<i32, 4>(8);
        check_groups::<i16, { 2 * LANES }>(10);
        check_groups::<i16, { 2 * WIDE_LANES }>(11);
    }

    #[test]
    fn baseline_dp_matches_the_dispatched_one() {
        check_dispatch::<i32, LANES>();
        check_dispatch::<i32, WIDE_LANES>();
        check_dispatch::<i16, { 2 * LANES }>();
        check_dispatch::<i16, { 2 * WIDE_LANES }>();
    }

    #[test]
    fn sixteen_bits_take_only_groups_whose_values_fit() {
        let sc = Scoring::default();
        assert!(fits_16(150, 300, &sc) && fits_16(2000, 2100, &sc));
        assert!(!fits_16(4000, 4100, &sc), "H << 3 would overflow");
        let wide_gaps = Scoring { gap_extend: 4, ..Scoring::default() };
        assert!(!fits_16(1000, 1200, &wide_gaps), "a gap across the matrix would reach minus infinity");
    }

    /// 16-bit lanes at the edge of what [`fits_16`] lets through, under every scoring: the
    /// longest query (and a target 100 bases longer) it accepts, one query copied from its
    /// target with a few edits (the highest scores, near the `H << 3` bound) and one random
    /// (the lowest values, near minus infinity), against the oracle; one base more is refused.
    #[test]
    fn sixteen_bit_lanes_at_the_edge_of_fits_16_match_the_oracle() {
        let mut rng = TestRng::new(11);
        let mut scratch = LaneScratch::<i16, { 2 * LANES }>::default();
        for sc in scorings() {
            let m = (1..10_000).take_while(|&m| fits_16(m, m + 100, &sc)).last().unwrap();
            assert!(!fits_16(m + 1, m + 101, &sc));
            let target = rng.seq(m + 100, 30);
            let mut copied: Vec<u8> = target[50..50 + m].to_vec();
            for k in (0..m).step_by(997) {
                copied[k] = (copied[k] + 1) % 4;
            }
            let tasks = [(copied, target.clone()), (rng.seq(m, 30), target)];
            let refs: Vec<LaneTask> =
                tasks.iter().map(|(q, t)| (&q[..], &t[..], Band::full(q.len(), t.len()))).collect();
            let mut got = vec![];
            align_lanes(&refs, &sc, &mut scratch, &mut got);
            for (k, (&(q, t, band), a)) in refs.iter().zip(&got).enumerate() {
                assert_eq!(a, &align_oracle_banded(q, t, band, &sc), "{sc:?}: task {k}, {m} x {}", t.len());
            }
        }
    }

    /// The portable code path, whatever the CPU: the same words and end cells as dispatch
    /// (AVX2 for 8 lanes, AVX-512 for 16 where the CPU has them).
    /// The portable kernel and each vector build of it this CPU runs (AVX2, AVX-512) give the
    /// same words and end cells; which builds were compared is printed, so that a CPU without
    /// them (the portable kernel alone) is seen, not passed over.
    fn check_dispatch<V: Value, const L: usize>() {
        let mut rng = TestRng::new(3);
        let tasks: Vec<(Vec<u8>, Vec<u8>)> = (0..L)
            .map(|l| {
                let (m, n) = (1 + rng.below(150) as usize, 1 + 37 * l + rng.below(100) as usize);
                task(&mut rng, m, n)
            })
            .collect();
        let refs: Vec<LaneTask> =
            tasks.iter().map(|(q, t)| (&q[..], &t[..], random_band(&mut rng, q.len(), t.len()))).collect();
        let mut tiers = vec!["portable"];
        if crate::simd::avx2() {
            tiers.push("AVX2");
        }
        if crate::simd::avx512() {
            tiers.push("AVX-512");
        }
        for sc in scorings() {
            let p = Params::<V>::new(&sc);
            let run = |tier: &str| {
                let mut s = LaneScratch::<V, L>::default();
                let shape = load(&refs, &mut s);
                let (q, t, h, e, tr) = (&s.q, &s.t, &mut s.h_left, &mut s.e_left, &mut s.trace);
                let best = match tier {
                    // SAFETY: each build is run only where the CPU has its features (above).
                    #[cfg(target_arch = "x86_64")]
                    "AVX2" => unsafe { dp_avx2(q, t, h, e, tr, &shape, &p, sc.clip) },
                    #[cfg(target_arch = "x86_64")]
                    "AVX-512" => unsafe { dp_avx512(q, t, h, e, tr, &shape, &p, sc.clip) },
                    _ => dp(q, t, h, e, tr, &shape, &p, sc.clip),
                };
                (s.trace, best)
            };
            let portable = run("portable");
            for tier in &tiers[1..] {
                assert!(run(tier) == portable, "the {tier} build differs from the portable kernel");
            }
        }
        eprintln!("lane kernels compared ({L} lanes of {} bytes): {tiers:?}", std::mem::size_of::<V>());
    }
}
