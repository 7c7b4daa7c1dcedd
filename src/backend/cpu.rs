//! CPU backend: rayon over the tasks of a batch, the strip kernel of `crate::align` per task.

use super::AlignBackend;
use crate::align::{align_task, Alignment, Scoring, TracebackScratch};
use crate::batch::AlignBatch;
use crate::error::Result;
use rayon::prelude::*;

pub struct CpuBackend;

impl CpuBackend {
    pub fn new() -> CpuBackend {
        CpuBackend
    }
}

impl Default for CpuBackend {
    fn default() -> Self {
        CpuBackend::new()
    }
}

impl AlignBackend for CpuBackend {
    fn describe(&self) -> String {
        format!("cpu (rayon, {} threads)", rayon::current_num_threads())
    }

    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
        Ok(batch
            .tasks
            .par_iter()
            .with_min_len(16)
            .map_init(TracebackScratch::default, |scratch, t| {
                align_task(batch.query(t), batch.target(t), scoring, scratch)
            })
            .collect())
    }
}
