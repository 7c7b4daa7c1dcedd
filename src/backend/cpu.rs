//! CPU backend: rayon over groups of tasks. Where the CPU has AVX2, tasks are sorted by size
//! and aligned by the inter-task kernel of `crate::align::lanes` (one task per vector lane):
//! 16-bit lanes where the group's scores fit (2 x [`LANES`] tasks a group, 2 x [`WIDE_LANES`]
//! with AVX-512), else 32-bit ones; groups too ragged for it, and every task on other CPUs,
//! take the scalar strip kernel task by task. All compute the recurrence of `crate::align`
//! exactly, so neither the grouping nor the CPU ever changes a result.

use super::AlignBackend;
use crate::align::lanes::{
    align_lanes, fits_16, lanes_pay_off, wide_lanes_pay_off, LaneScratch, LaneTask, LANES, WIDE_LANES,
};
use crate::align::{align_task_banded, empty_alignment, Alignment, Scoring, TracebackScratch};
use crate::batch::AlignBatch;
use crate::error::Result;
use rayon::prelude::*;
use std::cell::RefCell;
use std::thread::LocalKey;

/// The rayon CPU backend: the same alignments as every other backend, on all cores of the
/// current rayon pool (AVX2 lanes where the CPU has them). Stateless; scratch buffers are
/// per thread.
pub struct CpuBackend;

impl CpuBackend {
    /// The backend. It holds no state, so building one costs nothing.
    pub fn new() -> CpuBackend {
        CpuBackend
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend::new()
    }
}

/// Per-thread buffers of the kernels: `L` lanes of 32 bits, `W` (twice as many) of 16.
#[derive(Default)]
struct Scratch<const L: usize, const W: usize> {
    lanes: LaneScratch<i32, L>,
    narrow: LaneScratch<i16, W>,
    scalar: TracebackScratch,
}

/// Traceback words a thread keeps between groups, at most: an ordinary group needs 0.5 MB, a
/// long rescue window's up to 25 MB, which are given back after use.
const KEEP_TRACE_BYTES: usize = 4 << 20;

impl<const L: usize, const W: usize> Scratch<L, W> {
    /// Lets go of the kernels' buffers when they grew past [`KEEP_TRACE_BYTES`].
    fn trim(&mut self) {
        if self.lanes.trace_bytes() + self.narrow.trace_bytes() > KEEP_TRACE_BYTES {
            *self = Scratch::default();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch<LANES, { 2 * LANES }>> = RefCell::default();
    static WIDE_SCRATCH: RefCell<Scratch<WIDE_LANES, { 2 * WIDE_LANES }>> = RefCell::default();
}

/// A thread's kernel buffers, kept from group to group and chunk to chunk: rayon runs a
/// parallel loop's per-thread setup once per piece it splits the work into (dozens per
/// chunk), and buffers made there would grow their matrices from nothing (and clear them)
/// each time: 16M of 1,450M instructions on E. coli reads.
trait ThreadScratch: Sized + 'static {
    /// This thread's buffers of this type.
    const KEY: &'static LocalKey<RefCell<Self>>;
}

impl ThreadScratch for Scratch<LANES, { 2 * LANES }> {
    const KEY: &'static LocalKey<RefCell<Self>> = &SCRATCH;
}

impl ThreadScratch for Scratch<WIDE_LANES, { 2 * WIDE_LANES }> {
    const KEY: &'static LocalKey<RefCell<Self>> = &WIDE_SCRATCH;
}

impl<const L: usize, const W: usize> Scratch<L, W>
where
    Scratch<L, W>: ThreadScratch,
{
    /// Runs `f` on this thread's buffers (on new ones if they are in use, which no caller
    /// does), then trims them.
    fn with<R>(f: impl FnOnce(&mut Self) -> R) -> R {
        Self::KEY.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => {
                let r = f(&mut s);
                s.trim();
                r
            }
            Err(_) => f(&mut Self::default()),
        })
    }
}

/// A group takes the lane kernel when its tasks fill at least this share of the cells the
/// group computes (lanes x longest query x longest target); a lane cell costs a fraction of
/// a scalar one.
const MIN_LANE_FILL: f64 = 0.25;

impl AlignBackend for CpuBackend {
    fn describe(&self) -> String {
        format!("cpu (rayon, {} threads, {} kernels)", rayon::current_num_threads(), crate::simd::tier())
    }

    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Result<Vec<Alignment>> {
        Ok(align_dp(batch, scoring, ids))
    }
}

/// Aligns the tasks `ids` of `batch` by the DP kernels, results in the order of `ids`: the
/// CPU backend's work, and the GPU backend's for the tasks its kernel cannot take.
pub(crate) fn align_dp(batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Vec<Alignment> {
    let tasks = &batch.tasks;
    if !lanes_pay_off() {
        return ids
            .par_iter()
            .with_min_len(16)
            .map_init(TracebackScratch::default, |scratch, &k| {
                let t = &tasks[k];
                align_task_banded(batch.query(t), batch.target(t), t.band(), scoring, scratch)
            })
            .collect();
    }
    // Similar sizes side by side, so that a group wastes few padded cells; the position in
    // `ids` breaks ties, so the grouping is deterministic.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_unstable_by_key(|&p| (tasks[ids[p]].query_len, tasks[ids[p]].target_len, p));
    // The results in `order`'s order, each group's written in place, then put back.
    let mut sorted = vec![empty_alignment(); ids.len()];
    if wide_lanes_pay_off() {
        align_groups::<WIDE_LANES, { 2 * WIDE_LANES }>(batch, scoring, ids, &order, &mut sorted);
    } else {
        align_groups::<LANES, { 2 * LANES }>(batch, scoring, ids, &order, &mut sorted);
    }
    let mut out = vec![empty_alignment(); ids.len()];
    for (&p, a) in order.iter().zip(sorted) {
        out[p] = a;
    }
    out
}

/// The tasks `ids[order[..]]` in groups of `W` consecutive ones, their results written to
/// `out` (in `order`'s order): each group on the 16-bit lane kernel when its values fit
/// ([`fits_16`]: reads up to some 4,000 bases) and it fills its lanes well enough; else each
/// half of it on the 32-bit lane kernel, or task by task on the scalar kernel where the half
/// is too ragged.
fn align_groups<const L: usize, const W: usize>(
    batch: &AlignBatch,
    scoring: &Scoring,
    ids: &[usize],
    order: &[usize],
    out: &mut [Alignment],
) where
    Scratch<L, W>: ThreadScratch,
{
    const { assert!(W == 2 * L) };
    let tasks = &batch.tasks;
    // Whether the lanes of a group of `lanes` compute enough real cells to pay off.
    let fills = |pairs: &[LaneTask], lanes: usize| {
        let cells: u64 = pairs.iter().map(|(q, t, _)| q.len() as u64 * t.len() as u64).sum();
        let (mmax, nmax) = extent(pairs);
        pairs.len() > 1 && cells as f64 >= MIN_LANE_FILL * (lanes * mmax * nmax) as f64
    };
    order.par_chunks(W).zip(out.par_chunks_mut(W)).for_each_init(
        // Per piece of the work: a group's tasks and its results; the kernels' buffers are
        // the thread's.
        || (Vec::with_capacity(W), Vec::with_capacity(W)),
        |(pairs, results), (group, slots)| {
            Scratch::<L, W>::with(|scratch| {
                pairs.clear();
                pairs.extend(group.iter().map(|&p| {
                    let t = &tasks[ids[p]];
                    (batch.query(t), batch.target(t), t.band())
                }));
                results.clear();
                let (mmax, nmax) = extent(pairs);
                if fits_16(mmax, nmax, scoring) && fills(pairs, W) {
                    align_lanes(pairs, scoring, &mut scratch.narrow, results);
                } else {
                    for half in pairs.chunks(L) {
                        if fills(half, L) {
                            align_lanes(half, scoring, &mut scratch.lanes, results);
                        } else {
                            let scalar = &mut scratch.scalar;
                            results.extend(half.iter().map(|&(q, t, b)| align_task_banded(q, t, b, scoring, scalar)));
                        }
                    }
                }
                for (slot, a) in slots.iter_mut().zip(results.drain(..)) {
                    *slot = a;
                }
            })
        },
    );
}

/// The longest query and the longest target of a group.
fn extent(pairs: &[LaneTask]) -> (usize, usize) {
    let mmax = pairs.iter().map(|(q, _, _)| q.len()).max().unwrap_or(0);
    let nmax = pairs.iter().map(|(_, t, _)| t.len()).max().unwrap_or(0);
    (mmax, nmax)
}
