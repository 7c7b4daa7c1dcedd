//! The one batch layout every backend takes: queries and reference windows packed once into
//! flat arrays of base codes, and a list of tasks that point into them. A query is stored once
//! per orientation and shared by all of its windows.

use crate::align::Alignment;
use bytemuck::{Pod, Zeroable};

/// One alignment to compute: `queries[query_offset..+query_len]` against
/// `targets[target_offset..+target_len]`. The layout is the GPU's `Task` struct.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct AlignTask {
    pub query_offset: u32,
    pub query_len: u32,
    pub target_offset: u32,
    pub target_len: u32,
}

/// Packed queries, windows and tasks of one batch.
#[derive(Clone, Debug, Default)]
pub struct AlignBatch {
    /// Base codes (0-4) of every query, back to back.
    pub queries: Vec<u8>,
    /// Base codes (0-4) of every reference window, back to back.
    pub targets: Vec<u8>,
    pub tasks: Vec<AlignTask>,
}

impl AlignBatch {
    pub fn new() -> AlignBatch {
        AlignBatch::default()
    }

    /// Appends a query and returns its `(offset, len)` for [`AlignBatch::push_task`].
    pub fn push_query(&mut self, codes: &[u8]) -> (u32, u32) {
        let off = self.queries.len() as u32;
        self.queries.extend_from_slice(codes);
        (off, codes.len() as u32)
    }

    /// Appends a window for the query at `query` (from [`AlignBatch::push_query`]) and returns
    /// the task's index.
    pub fn push_task(&mut self, query: (u32, u32), window: &[u8]) -> usize {
        let target_offset = self.targets.len() as u32;
        self.targets.extend_from_slice(window);
        self.tasks.push(AlignTask {
            query_offset: query.0,
            query_len: query.1,
            target_offset,
            target_len: window.len() as u32,
        });
        self.tasks.len() - 1
    }

    pub fn query(&self, task: &AlignTask) -> &[u8] {
        &self.queries[task.query_offset as usize..(task.query_offset + task.query_len) as usize]
    }

    pub fn target(&self, task: &AlignTask) -> &[u8] {
        &self.targets[task.target_offset as usize..(task.target_offset + task.target_len) as usize]
    }

    /// DP cells of the whole batch (query length x window length, summed).
    pub fn cells(&self) -> u64 {
        self.tasks.iter().map(|t| t.query_len as u64 * t.target_len as u64).sum()
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    pub fn clear(&mut self) {
        self.queries.clear();
        self.targets.clear();
        self.tasks.clear();
    }
}

/// Results of a batch, one per task, in task order.
pub type AlignResults = Vec<Alignment>;
