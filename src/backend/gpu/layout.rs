//! The records the host shares with `shaders/align.wgsl`; field order and sizes must match the
//! WGSL structs of the same names, and the constants its `const`s.

use crate::align::{Scoring, STRIP};
use crate::batch::AlignTask;
use bytemuck::{Pod, Zeroable};

/// Longest query the kernel takes (its boundary column is a fixed-size private array); longer
/// ones are aligned on the CPU.
pub const MAX_QUERY: usize = 512;

/// Invocations per workgroup (`WORKGROUP` in the shader).
pub const WORKGROUP: u32 = 64;

/// Work buffers bound per dispatch (`work0`..`work3`).
pub const WORK_BUFFERS: usize = 4;

/// Words of `out` before the first result (word 0 is the CIGAR cursor).
pub const OUT_HEADER: u64 = 8;

/// Words per task result in `out`.
pub const RESULT_WORDS: u64 = 8;

/// Result status: aligned.
pub const STATUS_OK: u32 = 0;

/// The shader's uniform `Params`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct Params {
    pub match_score: i32,
    pub mismatch: i32,
    pub gap_open: i32,
    pub gap_extend: i32,
    pub clip: i32,
    pub ambiguous: i32,
    pub task_count: u32,
    /// Word of `out` where the CIGAR area starts.
    pub cigar_base: u32,
}

impl Params {
    pub fn new(sc: &Scoring, task_count: u32) -> Params {
        Params {
            match_score: sc.match_score,
            mismatch: sc.mismatch,
            gap_open: sc.gap_open,
            gap_extend: sc.gap_extend,
            clip: sc.clip,
            ambiguous: sc.ambiguous,
            task_count,
            cigar_base: (OUT_HEADER + RESULT_WORDS * task_count as u64) as u32,
        }
    }
}

/// The shader's `Task`: an [`AlignTask`] with offsets rebased to the dispatch's slices of the
/// query and target arrays, and where its work region lies.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuTask {
    pub task: AlignTask,
    /// First word of the task's region in its work buffer.
    pub work_offset: u32,
    /// Which of the [`WORK_BUFFERS`] holds the region.
    pub work_buffer: u32,
}

/// Words a task needs in a work buffer: its traceback record, then room for its CIGAR runs.
pub fn work_words(task: &AlignTask) -> u64 {
    let (m, n) = (task.query_len as u64, task.target_len as u64);
    if m == 0 || n == 0 {
        return 0;
    }
    n.div_ceil(STRIP as u64) * m + cigar_capacity(task)
}

/// Most CIGAR runs a task can produce: D runs are separated by M or I runs, and those consume
/// at least one query base each, so at most `2m + 1`; one more word keeps the bound obvious.
pub fn cigar_capacity(task: &AlignTask) -> u64 {
    2 * task.query_len as u64 + 2
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHADER: &str = include_str!("../../../shaders/align.wgsl");

    #[test]
    fn constants_match_the_shader() {
        for line in [
            format!("const STRIP: u32 = {STRIP}u;"),
            format!("const MAX_QUERY: u32 = {MAX_QUERY}u;"),
            format!("const NEG_INF: i32 = {};", crate::align::NEG_INF),
            format!("const WORKGROUP: u32 = {WORKGROUP}u;"),
            format!("const OUT_HEADER: u32 = {OUT_HEADER}u;"),
            format!("const RESULT_WORDS: u32 = {RESULT_WORDS}u;"),
            format!("const STATUS_OK: u32 = {STATUS_OK}u;"),
            format!(
                "@group(0) @binding({}) var<storage, read_write> work{}: array<u32>;",
                4 + WORK_BUFFERS,
                WORK_BUFFERS - 1
            ),
        ] {
            assert!(SHADER.contains(&line), "shaders/align.wgsl lacks `{line}`");
        }
    }

    #[test]
    fn records_have_the_wgsl_sizes() {
        assert_eq!(std::mem::size_of::<Params>(), 32);
        assert_eq!(std::mem::size_of::<GpuTask>(), 32);
    }
}
