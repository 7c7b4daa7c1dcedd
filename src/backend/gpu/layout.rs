//! The records the host shares with `shaders/align.wgsl`; field order and sizes must match the
//! WGSL structs of the same names, and the constants its `const`s.

use crate::align::Scoring;
use crate::batch::AlignTask;
use bytemuck::{Pod, Zeroable};

/// Longest query the kernel takes (its boundary column is a fixed-size private array); longer
/// ones are aligned on the CPU.
pub const MAX_QUERY: usize = 512;

/// Traceback cells per work word, 4 bits each (`WORD_CELLS` in the shader): a row of a DP strip
/// of 8, 16 or 32 columns writes one to four words, one per word column.
pub const WORD_CELLS: u32 = 8;

/// Invocations per workgroup (`WORKGROUP` in the shader).
pub const WORKGROUP: u32 = 64;

/// Work buffers bound per dispatch (`work0`..`work3`).
pub const WORK_BUFFERS: usize = 4;

/// Binding of the device's copy of the reference (2-bit codes, 16 per word).
pub const REFERENCE_BINDING: u32 = 9;

/// Words of `out` before the first result (word 0 is the CIGAR cursor).
pub const OUT_HEADER: u64 = 8;

/// Words per task result in `out`.
pub const RESULT_WORDS: u64 = 8;

/// Bit of `work_layout` set when the task's window is read from the device's copy of the
/// reference, `target_offset` then being the window's reference position.
pub const FROM_REFERENCE: u32 = 1 << 31;

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
/// query and target arrays, and where its words lie in its group's interleaved work region.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuTask {
    pub task: AlignTask,
    /// The group's first word in its work buffer plus the task's lane in the group.
    pub work_offset: u32,
    /// [`WorkLayout::pack`]: buffer, group size, row stride.
    pub work_layout: u32,
}

/// An interleave group (see the header of `shaders/align.wgsl`): up to [`WORKGROUP`]
/// consecutive tasks of a dispatch whose work words are interleaved in one region, word `w`
/// of lane `l` at `w * tasks + l`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkLayout {
    /// Which of the [`WORK_BUFFERS`] holds the region.
    pub buffer: u32,
    /// Tasks in the group, 1 to [`WORKGROUP`].
    pub tasks: u32,
    /// The group's longest query: the rows of each word column, and half its CIGAR scratch.
    pub rows: u32,
    /// The group's most word columns (target columns / [`WORD_CELLS`], rounded up), whatever
    /// the kernel's strip width.
    pub columns: u32,
}

impl WorkLayout {
    /// The shader's `work_layout` word.
    pub fn pack(&self) -> u32 {
        debug_assert!(self.buffer < 4 && self.tasks <= WORKGROUP && self.rows as usize <= MAX_QUERY);
        self.buffer | self.tasks << 2 | self.rows << 9
    }

    /// Words of the group's region: per task, CIGAR scratch for `2 * rows + 2` runs (see
    /// [`cigar_capacity`]) and `rows` traceback words per word column.
    pub fn words(&self) -> u64 {
        let (rows, columns) = (self.rows as u64, self.columns as u64);
        self.tasks as u64 * (2 * rows + 2 + columns * rows)
    }

    /// The group grown by `task`; a task with nothing to align takes a lane but no room.
    pub fn with(&self, task: &AlignTask) -> WorkLayout {
        let (m, n) = (task.query_len, task.target_len);
        let needs_room = m > 0 && n > 0;
        WorkLayout {
            buffer: self.buffer,
            tasks: self.tasks + 1,
            rows: if needs_room { self.rows.max(m) } else { self.rows },
            columns: if needs_room { self.columns.max(n.div_ceil(WORD_CELLS)) } else { self.columns },
        }
    }
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
            format!("const STRIP: u32 = {}u;", crate::align::STRIP),
            format!("const WORD_CELLS: u32 = {WORD_CELLS}u;"),
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
            format!("@group(0) @binding({REFERENCE_BINDING}) var<storage, read> reference: array<u32>;"),
            format!("const FROM_REFERENCE: u32 = {FROM_REFERENCE}u;"),
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
