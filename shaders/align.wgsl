// align.wgsl: one read-to-window alignment per invocation, DP and traceback on the GPU.
//
// This is the recurrence of `src/align.rs` (the authoritative statement) computed the way
// `src/align/kernel.rs` computes it; read the two side by side. Restated:
//
//   s(i,j)   = ambiguous if q[i] == N or t[j] == N (code 4); match if q[i] == t[j];
//              -mismatch otherwise
//   start(i) = 0 if i == 0 else -clip
//   D(i,j)   = H(i-1,j-1) if i >= 1 and j >= 1 else -inf
//   diag     = max(D, start(i)) + s(i,j)                 ties: start (clip, as bwa-mem)
//   E(i,j)   = max(H(i,j-1) - (open+ext), E(i,j-1) - ext)   ties: open   (CIGAR D)
//   F(i,j)   = max(H(i-1,j) - (open+ext), F(i-1,j) - ext)   ties: open   (CIGAR I)
//   H(i,j)   = max(diag, E, F)                             ties: diag, then E, then F
//   Boundaries: H(i,-1) = E(i,-1) = H(-1,j) = F(-1,j) = -inf (NEG_INF = -(1 << 29)).
//   Band: cells with j - i outside diag_lo..=diag_hi have H = -inf (E and F there are left
//   as computed: what a cell inside reads of them is far below any score; see the cell
//   loop). A strip computes only the rows that meet the band, and masks H outside it.
//
// End cell: the maximum of total(i,j) = H(i,j) - (i == m-1 ? 0 : clip); ties to the smaller i
// (clipping, as bwa-mem), then the smaller j. The reported score is total plus the clip
// penalties the alignment paid.
//
// Per cell, in a row of a strip of 8 / 16 / 32 columns: 108.0 / 98.9 / 94.3 SPIR-V
// instructions, 38.2 / 36.2 / 35.2 of them computing (arithmetic, comparisons, selects; the
// rest are loads and stores of function variables and control flow, which the driver keeps
// in registers or removes). Counted in naga's SPIR-V of the kernel as the device gets it (the
// strip's loops written out), over the whole row loop (the boundary column, the traceback
// stores, the end-cell search) divided by the strip's width, by the tests of
// src/backend/gpu/shader.rs, which fail when this line is out of date; the cell's work is
// written out in the loop, not in functions, so that all of it is counted. What keeps a cell
// short: s(i,j) takes three operations (each column's score against a different base is
// prepared once per strip, and an N of the query is re-coded once per row), H is
// max(diag, E, F) with one comparison for its source, the band test is one unsigned
// comparison against a per-row base, and only H is masked outside the band.
//
// Traceback record: 4 bits per cell, bits 0-1 the source of H (0 diag continuing, 1 diag
// starting, 2 from E, 3 from F), bit 2 set when E extended, bit 3 set when F extended. Cells
// are processed in strips of STRIP target columns (8 unless the host sets 16 or 32); the
// cells of row i in columns 8k..8k+8 form one u32, word column k (column 8k+c in bits
// 4c..4c+4), so a strip writes STRIP / 8 words per row. Bits of columns past the end of the
// target are zero, as on the CPU.
//
// Where the words go: the host cuts a dispatch's tasks (sorted by size) into interleave groups
// of at most WORKGROUP consecutive tasks, normally one workgroup's. A group shares one region
// of a WORK buffer in which its tasks' words are interleaved: word w of the task in lane l of
// a group of G tasks lies at base + w * G + l. Word w counts, for a group whose longest query
// has M bases: the CIGAR scratch first (w = r for run r < 2M + 2), then the traceback of
// word column k at w = 2M + 2 + k * M + s, where s = i - first is the row's rank among the
// rows its strip computes (first is the band's first row in the strip). So when the lanes of a
// warp compute the same step of similar tasks, their stores land on consecutive words: one
// transaction per warp instead of one per lane (each task's words stored contiguously would
// take 32 sectors per warp store). The host passes `work_offset` = base + l and
// `work_layout` = buffer | G << 2 | M << 9, plus FROM_REFERENCE (below) for a window read from
// the reference.
//
// After the traceback each invocation reserves room in `out` with one atomicAdd and copies
// its runs there in order, so the host reads back results and CIGARs only, never the matrices.
// No CIGAR of this recurrence has more than 2m + 1 runs: D runs are separated by M or I runs,
// which consume query bases.
//
// Queries longer than MAX_QUERY never reach this kernel: the host aligns them on the CPU
// (the boundary column lives in a fixed-size private array).

// Target columns per DP strip. The host sets it when it builds the pipeline (8, 16 or 32;
// SWMAP_GPU_STRIP) and writes out every loop marked `// unroll` once per value of its
// variable (src/backend/gpu/shader.rs), so no driver has to unroll them and their indices into
// the strip's arrays are constants: registers, not memory.
const STRIP: u32 = 8u;
// Traceback cells per u32 word (4 bits each), and words per row of a strip.
const WORD_CELLS: u32 = 8u;
const WORDS: u32 = STRIP / WORD_CELLS;
const MAX_QUERY: u32 = 512u;
const NEG_INF: i32 = -536870912;
// Two forms of the kernel the host chooses between when it builds the pipeline
// (src/backend/gpu/shader.rs sets these and keeps only the chosen branch of each
// `// variant` block); results are identical either way, only the speed differs.
// NARROW: the boundary column holds H and E as 16-bit halves of one word, half the private
// memory a row reads and writes, and the DP's minus infinity is NEG_INF_16. The host gives
// such a kernel only tasks whose every value fits 16 bits with room to spare (`fits_16` of
// src/align/lanes.rs, the CPU's 16-bit lanes' rule): then every value either descends from a
// start or a clip and lies above -(NEG_INF_16 + 64), or descends from minus infinity by gap
// costs alone and lies at or below NEG_INF_16 and above -32,000; no value mixes the two (a
// cell only adds constants to one value and takes maxima), so every comparison, traceback bit
// and end cell comes out as with NEG_INF, and every stored value fits an i16. Per cell, counted
// as for the plain kernel in the header above, with NARROW: 108.0 / 98.9 / 94.3 and 39.0 /
// 36.6 / 35.4 (a load and a store fewer per row, the shifts that pack and unpack more).
// SUBGROUPS: a subgroup reserves its CIGAR room in `out` with one atomic instead of one per
// invocation (wgpu's optional subgroup feature).
const NARROW: bool = false;
const SUBGROUPS: bool = false;
const NEG_INF_16: i32 = -8192;
// Minus infinity of the DP.
const DP_NEG_INF: i32 = select(NEG_INF, NEG_INF_16, NARROW);
const WORKGROUP: u32 = 64u;
// Below any reachable total (which is at least NEG_INF - clip), so the first cell always wins.
const BEST_INIT: i32 = -2147483647;

// `out` layout, in u32 words: [0] the CIGAR cursor, [1..8) unused, then RESULT_WORDS words per
// task, then the CIGAR area starting at `params.cigar_base`.
const OUT_HEADER: u32 = 8u;
const RESULT_WORDS: u32 = 8u;

// Result status codes; anything but OK makes the host fail the batch with an error.
const STATUS_OK: u32 = 0u;
const STATUS_QUERY_TOO_LONG: u32 = 1u;
const STATUS_TRACEBACK_LOST: u32 = 2u;

struct Params {
    match_score: i32,
    mismatch: i32,
    gap_open: i32,
    gap_extend: i32,
    clip: i32,
    ambiguous: i32,
    task_count: u32,
    cigar_base: u32,
}

// The first six fields are `AlignTask` (src/batch.rs), offsets rebased to this dispatch's
// slices of the query and target arrays; the host adds where the task's work region lives.
struct Task {
    query_offset: u32,
    query_len: u32,
    target_offset: u32,
    target_len: u32,
    diag_lo: i32,
    diag_hi: i32,
    work_offset: u32,
    work_layout: u32,
}

// A task's place in its group's interleaved region (see the header).
struct Region {
    base: u32,
    stride: u32,
    rows: u32,
    buf: u32,
}

fn region_of(task: Task) -> Region {
    return Region(task.work_offset, (task.work_layout >> 2u) & 0x7fu, (task.work_layout >> 9u) & 0x3ffu, task.work_layout & 3u);
}

// Word of the traceback record of strip k, row rank s.
fn tb_word(r: Region, k: u32, s: u32) -> u32 {
    return r.base + r.stride * (2u * r.rows + 2u + k * r.rows + s);
}

// Word of CIGAR scratch run `run`.
fn scratch_word(r: Region, run: u32) -> u32 {
    return r.base + r.stride * run;
}

struct Out {
    cigar_cursor: atomic<u32>,
    words: array<u32>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> tasks: array<Task>;
// Base codes, four per word, little-endian.
@group(0) @binding(2) var<storage, read> queries: array<u32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: Out;
// Four work buffers, so that one dispatch can hold more than one binding's worth of
// traceback; a task's region lies wholly inside one of them.
@group(0) @binding(5) var<storage, read_write> work0: array<u32>;
@group(0) @binding(6) var<storage, read_write> work1: array<u32>;
@group(0) @binding(7) var<storage, read_write> work2: array<u32>;
@group(0) @binding(8) var<storage, read_write> work3: array<u32>;
// The reference, uploaded once per run: 2-bit codes (A0 C1 G2 T3), 16 per word, the first in
// the low bits (the packing of src/index/reference.rs). A task whose `work_layout` has
// FROM_REFERENCE set reads its window here from position `target_offset`; the host sets it
// only for windows without N (the packing has no N).
@group(0) @binding(9) var<storage, read> reference: array<u32>;

const FROM_REFERENCE: u32 = 2147483648u;

fn query_base(pos: u32) -> u32 {
    return (queries[pos >> 2u] >> ((pos & 3u) * 8u)) & 0xffu;
}

fn target_base(pos: u32) -> u32 {
    return (targets[pos >> 2u] >> ((pos & 3u) * 8u)) & 0xffu;
}

// Base j of the task's window, from the targets array or the reference.
fn target_code(task: Task, j: u32) -> u32 {
    if ((task.work_layout & FROM_REFERENCE) != 0u) {
        let p = task.target_offset + j;
        return (reference[p >> 4u] >> ((p & 15u) * 2u)) & 3u;
    }
    return target_base(task.target_offset + j);
}

fn work_store(buf: u32, idx: u32, value: u32) {
    switch buf {
        case 0u: { work0[idx] = value; }
        case 1u: { work1[idx] = value; }
        case 2u: { work2[idx] = value; }
        default: { work3[idx] = value; }
    }
}

fn work_load(buf: u32, idx: u32) -> u32 {
    switch buf {
        case 0u: { return work0[idx]; }
        case 1u: { return work1[idx]; }
        case 2u: { return work2[idx]; }
        default: { return work3[idx]; }
    }
}

fn write_result(id: u32, score: i32, qs: u32, qe: u32, ts: u32, te: u32, len: u32, off: u32, status: u32) {
    let r = OUT_HEADER + id * RESULT_WORDS - 1u; // `words` starts at word 1 of `out`
    out.words[r] = bitcast<u32>(score);
    out.words[r + 1u] = qs;
    out.words[r + 2u] = qe;
    out.words[r + 3u] = ts;
    out.words[r + 4u] = te;
    out.words[r + 5u] = len;
    out.words[r + 6u] = off;
    out.words[r + 7u] = status;
}

// H and E of the last column of the previous strip, one entry per query row (with NARROW,
// both in h_col: H in the low 16 bits, E in the high ones, each sign-extended when read).
var<private> h_col: array<i32, MAX_QUERY>;
var<private> e_col: array<i32, MAX_QUERY>;

@compute @workgroup_size(WORKGROUP)
fn align(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // 2D dispatches when the task count exceeds one dimension's workgroup limit.
    let id = gid.y * groups.x * WORKGROUP + gid.x;
    if (id >= arrayLength(&tasks) || id >= params.task_count) {
        return;
    }
    let task = tasks[id];
    let m = task.query_len;
    let n = task.target_len;
    if (m == 0u || n == 0u) {
        // empty_alignment() of src/align/reference.rs.
        write_result(id, NEG_INF, 0u, 0u, 0u, 0u, 0u, 0u, STATUS_OK);
        return;
    }
    if (m > MAX_QUERY) {
        write_result(id, NEG_INF, 0u, 0u, 0u, 0u, 0u, 0u, STATUS_QUERY_TOO_LONG);
        return;
    }
    // The band clamped to the matrix's diagonals; one that meets no cell is an empty task.
    let lo = max(task.diag_lo, 1 - i32(m));
    let hi = min(task.diag_hi, i32(n) - 1);
    if (lo > hi) {
        write_result(id, NEG_INF, 0u, 0u, 0u, 0u, 0u, 0u, STATUS_OK);
        return;
    }
    let span = u32(hi - lo);
    let oe = params.gap_open + params.gap_extend;
    let ext = params.gap_extend;
    let strips = (n + STRIP - 1u) / STRIP;
    let reg = region_of(task);

    var best = BEST_INIT;
    var bi = 0u;
    var bj = 0u;
    for (var k = 0u; k < strips; k++) {
        let j0 = k * STRIP;
        let width = min(STRIP, n - j0);
        // Columns past the target's end compute garbage that nothing reads: their cells feed
        // only later columns of the same strip, the strip is the last one, their bits are
        // masked off, and their H is -inf (outside the row's `limit`), so no end cell is there.
        var t: array<u32, STRIP>;
        // A column's score for a query base other than its own: -mismatch, or ambiguous
        // under an N. With it, s(i,j) costs a cell three operations (below).
        var miss: array<i32, STRIP>;
        // unroll
        for (var c = 0u; c < STRIP; c++) {
            t[c] = 0u;
            if (c < width) {
                t[c] = target_code(task, j0 + c);
            }
            miss[c] = select(-params.mismatch, params.ambiguous, t[c] > 3u);
        }
        var h_up: array<i32, STRIP>; // H(i-1, j0+c)
        var f_up: array<i32, STRIP>; // F(i-1, j0+c)
        // unroll
        for (var c = 0u; c < STRIP; c++) {
            h_up[c] = DP_NEG_INF;
            f_up[c] = DP_NEG_INF;
        }
        // The rows that meet the band in this strip; the previous strip computed rows up to
        // `prev_end` (exclusive), the row above `first` among them.
        let first = min(u32(max(i32(j0) - hi, 0)), m);
        let end = u32(clamp(i32(j0 + width) - lo, i32(first), i32(m)));
        let prev_end = u32(clamp(i32(j0) - lo, 0, i32(m)));
        // tb_word(reg, k * WORDS + w, i - first) is tb_row0 + stride * (w * rows + i).
        let tb_row0 = tb_word(reg, k * WORDS, 0u) - reg.stride * first;
        var h_diag_left = DP_NEG_INF; // H(i-1, j0-1)
        if (k > 0u && first > 0u) {
            // variant NARROW
            if (NARROW) {
                h_diag_left = (h_col[first - 1u] << 16u) >> 16u;
            } else {
                h_diag_left = h_col[first - 1u];
            }
        }
        for (var i = first; i < end; i++) {
            // An N of the query (4) becomes 5, which no target code equals; `qn` makes its
            // whole row ambiguous.
            let q = query_base(task.query_offset + i);
            let qn = q > 3u;
            let qi = select(q, 5u, qn);
            let start = select(-params.clip, 0, i == 0u);
            let end_pen = select(params.clip, 0, i == m - 1u);
            // The first strip's left boundary is -inf. Testing k instead of initialising the
            // column removes two sites that index it: lavapipe's compile time grows steeply
            // with those (measured: 7.5 s against 12 s with them), and the kernel runs faster
            // there too.
            var h_left = DP_NEG_INF; // H(i, j-1)
            var e_left = DP_NEG_INF; // E(i, j-1)
            if (k > 0u && i < prev_end) {
                // variant NARROW
                if (NARROW) {
                    let he = h_col[i];
                    h_left = (he << 16u) >> 16u;
                    e_left = he >> 16u;
                } else {
                    h_left = h_col[i];
                    e_left = e_col[i];
                }
            }
            var d = h_diag_left; // H(i-1, j-1)
            h_diag_left = h_left;
            var words = array<u32, WORDS>();
            // Column c is inside the band when its diagonal j0 + c - i lies in lo..=hi, that is
            // when (j0 + c - i - lo) as unsigned is at most span: one addition and one
            // comparison per cell (u32 arithmetic wraps, so a negative dl0 works too). Columns
            // past the target's end count as outside too: `limit` is span cut to the last
            // column, dl0 + width - 1, which is at least 0 for every row the strip computes
            // (`end` above), so that their H is -inf and the end-cell search needs no test of
            // the width.
            let dl0 = u32(i32(j0) - i32(i) - lo);
            let limit = min(span, dl0 + width - 1u);
            // unroll
            for (var c = 0u; c < STRIP; c++) {
                let dstart = d <= start;
                let s = select(select(miss[c], params.match_score, qi == t[c]), params.ambiguous, qn);
                let diag = select(d, start, dstart) + s;
                let e_open = h_left - oe;
                let e_ext = e_left - ext;
                let e = max(e_open, e_ext);
                let f_open = h_up[c] - oe;
                let f_ext = f_up[c] - ext;
                let f = max(f_open, f_ext);
                // H's value is the maximum whichever source the ties give it.
                let ef = max(e, f);
                let diag_wins = diag >= ef;
                let hcode = select(select(3u, 2u, e >= f), select(0u, 1u, dstart), diag_wins);
                let inside = dl0 + c <= limit;
                let h = select(DP_NEG_INF, max(diag, ef), inside);
                // Bits of cells outside the band are left as computed: no traceback reaches
                // them (their H is -inf, so no best path runs through them).
                let bits = hcode | select(0u, 4u, e_open < e_ext) | select(0u, 8u, f_open < f_ext);
                words[c / WORD_CELLS] |= bits << (4u * (c % WORD_CELLS));
                d = h_up[c];
                h_up[c] = h;
                // E and F of cells outside the band are left as computed: no cell inside reads
                // a finite one. E runs along a row and F down a column, and both leave the
                // band only towards cells further outside (to the right of its upper edge,
                // below its lower one); what flows in from the other side started at H = -inf
                // there and stays far below any score, so it never wins a cell or a traceback.
                f_up[c] = f;
                h_left = h;
                e_left = e;
            }
            // variant NARROW
            if (NARROW) {
                h_col[i] = (h_left & 0xffff) | (e_left << 16u);
            } else {
                h_col[i] = h_left;
                e_col[i] = e_left;
            }
            // Word w holds columns j0 + 8w.. of the row; a word wholly past the target's end
            // has no slot (the host sizes regions in words of the target's columns), and the
            // bits of columns past the end within a word are zero.
            // unroll
            for (var w = 0u; w < WORDS; w++) {
                let cells = i32(width) - i32(w * WORD_CELLS);
                if (cells > 0) {
                    let mask = select((1u << (4u * u32(cells))) - 1u, 0xffffffffu, cells >= i32(WORD_CELLS));
                    work_store(reg.buf, tb_row0 + reg.stride * (w * reg.rows + i), words[w] & mask);
                }
            }

            // End cell: the row's leftmost maximum is its only candidate under the stated
            // order, so the full comparison runs once per row and only when it can win.
            var row_max = h_up[0];
            // unroll
            for (var c = 1u; c < STRIP; c++) {
                row_max = max(row_max, h_up[c]);
            }
            let total = row_max - end_pen;
            if (total >= best) {
                var cbest = 0u;
                // unroll
                for (var r = 0u; r < STRIP; r++) {
                    let c = STRIP - 1u - r; // right to left, so the leftmost match stays
                    if (h_up[c] == row_max) {
                        cbest = c;
                    }
                }
                let j = j0 + cbest;
                if (total > best || i < bi || (i == bi && j < bj)) {
                    best = total;
                    bi = i;
                    bj = j;
                }
            }
        }
    }
    traceback(id, task, hi, best, bi, bj);
}

// `hi` is the band's highest diagonal, clamped as in `align`.
fn traceback(id: u32, task: Task, hi: i32, best: i32, bi: u32, bj: u32) {
    let m = task.query_len;
    let n = task.target_len;
    let reg = region_of(task);
    var i = bi;
    var j = bj;
    var state = 0u; // 0 in H, 2 in E, 3 in F
    var runs = 0u;
    var run = 0u; // the run being built, (len << 4) | op; 0 before the first
    // A valid record ends within m + n moves and as many changes of state; the bound only
    // guards the device against a corrupt one (this module runs without wgpu's loop bounding).
    var steps = 0u;
    let max_steps = 2u * (m + n) + 2u;
    var lost = false;
    loop {
        steps++;
        let k = j / STRIP;
        let first = min(u32(max(i32(k * STRIP) - hi, 0)), m);
        if (steps > max_steps || i >= m || j >= n || i < first) {
            lost = true;
            break;
        }
        let cell = (work_load(reg.buf, tb_word(reg, j / WORD_CELLS, i - first)) >> (4u * (j % WORD_CELLS))) & 0xfu;
        var op = 0u; // CIGAR M
        var stop = false;
        if (state == 0u) {
            let src = cell & 3u;
            if (src >= 2u) {
                state = src;
                continue;
            }
            if (src == 1u) {
                stop = true;
            } else {
                i -= 1u;
                j -= 1u;
            }
        } else if (state == 2u) {
            op = 2u; // CIGAR D
            if ((cell & 4u) == 0u) {
                state = 0u;
            }
            j -= 1u;
        } else {
            op = 1u; // CIGAR I
            if ((cell & 8u) == 0u) {
                state = 0u;
            }
            i -= 1u;
        }
        if (run != 0u && (run & 0xfu) == op) {
            run += 16u;
        } else {
            if (run != 0u) {
                work_store(reg.buf, scratch_word(reg, runs), run);
                runs++;
            }
            run = (1u << 4u) | op;
        }
        if (stop) {
            break;
        }
    }
    if (lost) {
        write_result(id, NEG_INF, 0u, 0u, 0u, 0u, 0u, 0u, STATUS_TRACEBACK_LOST);
        return;
    }
    work_store(reg.buf, scratch_word(reg, runs), run);
    runs++;

    var at = 0u;
    // variant SUBGROUPS
    if (SUBGROUPS) {
        // The invocations here together (a subgroup's, or those of it that reconverged) take
        // consecutive room: the first of them reserves the sum, each starts after those
        // before it.
        let before = subgroupExclusiveAdd(runs);
        let total = subgroupAdd(runs);
        var base = 0u;
        if (subgroupExclusiveAdd(1u) == 0u) {
            base = atomicAdd(&out.cigar_cursor, total);
        }
        at = subgroupBroadcastFirst(base) + before;
    } else {
        at = atomicAdd(&out.cigar_cursor, runs);
    }
    let dst = params.cigar_base + at - 1u; // `words` starts at word 1 of `out`
    for (var r = 0u; r < runs; r++) {
        out.words[dst + r] = work_load(reg.buf, scratch_word(reg, runs - 1u - r));
    }
    var score = best;
    if (i > 0u) {
        score += params.clip;
    }
    if (bi + 1u < m) {
        score += params.clip;
    }
    write_result(id, score, i, bi + 1u, j, bj + 1u, runs, at, STATUS_OK);
}
