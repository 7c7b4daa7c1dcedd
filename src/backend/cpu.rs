//! CPU backend: rayon over groups of tasks. Where the CPU has AVX2, tasks are sorted by size
//! and aligned [`LANES`] at a time by the inter-task kernel of `crate::align::lanes` (one
//! task per vector lane); groups too ragged for it, and every task on other CPUs, take the
//! scalar strip kernel task by task. Both compute the recurrence of `crate::align` exactly,
//! so neither the grouping nor the CPU ever changes a result.

use super::AlignBackend;
use crate::align::lanes::{align_lanes, lanes_pay_off, wide_lanes_pay_off, LaneScratch, LANES, WIDE_LANES};
use crate::align::{align_task, Alignment, Scoring, TracebackScratch};
use crate::batch::AlignBatch;
use crate::error::Result;
use rayon::prelude::*;

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

/// Per-thread buffers of both kernels.
#[derive(Default)]
struct Scratch<const L: usize> {
    lanes: LaneScratch<L>,
    scalar: TracebackScratch,
}

/// A group takes the lane kernel when its tasks fill at least this share of the cells the
/// group computes (lanes x longest query x longest target); a lane cell costs a fraction of
/// a scalar one.
const MIN_LANE_FILL: f64 = 0.25;

impl AlignBackend for CpuBackend {
    fn describe(&self) -> String {
        format!("cpu (rayon, {} threads)", rayon::current_num_threads())
    }

    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
        let all: Vec<usize> = (0..batch.len()).collect();
        Ok(align_tasks(batch, scoring, &all))
    }
}

/// Aligns the tasks `ids` of `batch` on the CPU, results in the order of `ids`: the CPU
/// backend with every task, the GPU backend with those its kernel cannot take.
pub(crate) fn align_tasks(batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Vec<Alignment> {
    let tasks = &batch.tasks;
    if !lanes_pay_off() {
        return ids
            .par_iter()
            .with_min_len(16)
            .map_init(TracebackScratch::default, |scratch, &k| {
                let t = &tasks[k];
                align_task(batch.query(t), batch.target(t), scoring, scratch)
            })
            .collect();
    }
    // Similar sizes side by side, so that a group wastes few padded cells; the position in
    // `ids` breaks ties, so the grouping is deterministic.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_unstable_by_key(|&p| (tasks[ids[p]].query_len, tasks[ids[p]].target_len, p));
    let groups = if wide_lanes_pay_off() {
        align_groups::<WIDE_LANES>(batch, scoring, ids, &order)
    } else {
        align_groups::<LANES>(batch, scoring, ids, &order)
    };
    let mut out: Vec<Option<Alignment>> = vec![None; ids.len()];
    for (&p, a) in order.iter().zip(groups.into_iter().flatten()) {
        out[p] = Some(a);
    }
    out.into_iter().map(|a| a.expect("every task is in one group")).collect()
}

/// The tasks `ids[order[..]]` in groups of `L` consecutive ones, each group on the lane
/// kernel when it fills its lanes well enough, else task by task on the scalar kernel.
fn align_groups<const L: usize>(
    batch: &AlignBatch,
    scoring: &Scoring,
    ids: &[usize],
    order: &[usize],
) -> Vec<Vec<Alignment>> {
    let tasks = &batch.tasks;
    order
        .par_chunks(L)
        .map_init(Scratch::<L>::default, |scratch, group| {
            let pairs: Vec<(&[u8], &[u8])> =
                group.iter().map(|&p| (batch.query(&tasks[ids[p]]), batch.target(&tasks[ids[p]]))).collect();
            let cells: u64 = pairs.iter().map(|(q, t)| q.len() as u64 * t.len() as u64).sum();
            let mmax = pairs.iter().map(|(q, _)| q.len()).max().unwrap_or(0) as u64;
            let nmax = pairs.iter().map(|(_, t)| t.len()).max().unwrap_or(0) as u64;
            let padded = (L as u64 * mmax * nmax) as f64;
            if group.len() > 1 && cells as f64 >= MIN_LANE_FILL * padded {
                align_lanes(&pairs, scoring, &mut scratch.lanes)
            } else {
                pairs.iter().map(|(q, t)| align_task(q, t, scoring, &mut scratch.scalar)).collect()
            }
        })
        .collect()
}
