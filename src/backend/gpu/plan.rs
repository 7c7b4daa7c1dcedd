//! Splitting a batch into dispatches: each one must fit every binding in the device's
//! per-binding limit and the work buffers in the memory budget.

use super::layout::{cigar_capacity, GpuTask, WorkLayout, FROM_REFERENCE, OUT_HEADER, RESULT_WORDS, WORK_BUFFERS};
use crate::batch::{AlignBatch, AlignTask, NO_ORIGIN};
use std::ops::Range;

/// What one dispatch may use.
#[derive(Clone, Copy, Debug)]
pub struct Capacity {
    /// Largest storage binding, in bytes.
    pub binding_bytes: u64,
    /// Words each work buffer may hold.
    pub work_words: u64,
    /// Work buffers that may be used (1 to [`WORK_BUFFERS`]).
    pub work_buffers: usize,
    pub max_tasks: usize,
    /// Tasks per interleave group, 1 to [`WORKGROUP`]: the adapter's subgroup size.
    pub interleave: u32,
}

/// One dispatch's share of the batch.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The chunk covers `ids[start..end]` of the list it was planned from.
    pub end: usize,
    /// Tasks as the shader reads them, rebased to the spans below.
    pub tasks: Vec<GpuTask>,
    /// Bytes of `batch.queries` and `batch.targets` the dispatch uploads.
    pub query_span: Range<usize>,
    pub target_span: Range<usize>,
    /// With windows from the device's reference: the windows that are not, gathered (the
    /// dispatch uploads these instead of `target_span`, which stays empty).
    pub gathered: Option<Vec<u8>>,
    /// Words used in each work buffer.
    pub work_used: [u64; WORK_BUFFERS],
    /// Words of `out` the dispatch may fill: header, results, CIGAR capacity.
    pub out_words: u64,
}

impl Chunk {
    /// Bytes of windows the dispatch uploads.
    pub fn target_bytes(&self) -> u64 {
        self.gathered.as_ref().map_or(self.target_span.len(), Vec::len) as u64
    }
}

/// Bytes a span occupies once uploaded (whole words).
fn span_bytes(span: &Range<usize>) -> u64 {
    (span.len() as u64).div_ceil(4) * 4
}

fn union(span: &Range<usize>, offset: u32, len: u32) -> Range<usize> {
    let (lo, hi) = (offset as usize, offset as usize + len as usize);
    if len == 0 {
        span.clone()
    } else if span.is_empty() {
        lo..hi
    } else {
        span.start.min(lo)..span.end.max(hi)
    }
}

/// Takes tasks `ids[start..]` in order while they fit; an empty chunk means `ids[start]` does
/// not fit even alone (the caller aligns it on the CPU). Consecutive tasks form interleave
/// groups ([`WorkLayout`]) of up to `cap.interleave` tasks, each region wholly in one buffer: a
/// group closes when it is full or the next task would not fit beside it, and the next one
/// starts where it ends, or in the next buffer.
///
/// With `from_reference`, tasks with an origin ([`AlignBatch::origins`]) take their windows
/// from the device's copy of the reference: their `target_offset` is the window's reference
/// position and they upload no bases.
pub fn next_chunk(batch: &AlignBatch, ids: &[usize], start: usize, cap: &Capacity, from_reference: bool) -> Chunk {
    let gathered = from_reference.then(Vec::new);
    let mut chunk = Chunk { end: start, out_words: OUT_HEADER, gathered, ..Chunk::default() };
    let word_limit = cap.binding_bytes / 4;
    // The open group: its layout, where its region starts, its first task in `chunk.tasks`.
    let mut group = WorkLayout::default();
    let mut base = 0u64;
    let mut first = 0usize;
    for &id in &ids[start..] {
        let t = &batch.tasks[id];
        let count = chunk.tasks.len() as u64 + 1;
        let needs_room = t.query_len > 0 && t.target_len > 0;
        let out_words = chunk.out_words + RESULT_WORDS + if needs_room { cigar_capacity(t) } else { 0 };
        let origin = batch.origins.get(id).copied().unwrap_or(NO_ORIGIN);
        let on_device = from_reference && origin != NO_ORIGIN && origin + t.target_len as u64 <= u32::MAX as u64;
        let query_span = union(&chunk.query_span, t.query_offset, t.query_len);
        let (target_span, target_bytes) = match &chunk.gathered {
            Some(g) => (0..0, g.len() as u64 + if on_device { 0 } else { t.target_len as u64 }),
            None => {
                let span = union(&chunk.target_span, t.target_offset, t.target_len);
                let bytes = span_bytes(&span);
                (span, bytes)
            }
        };
        if count > cap.max_tasks as u64
            || count * std::mem::size_of::<GpuTask>() as u64 > cap.binding_bytes
            || out_words > word_limit
            || span_bytes(&query_span) > cap.binding_bytes
            || target_bytes.next_multiple_of(4) > cap.binding_bytes
        {
            break;
        }
        let mut grown = group.with(t);
        if group.tasks >= cap.interleave || base + grown.words() > cap.work_words {
            // Close the group; the task opens the next one, in this buffer or the next.
            close(&mut chunk, first, &group, base);
            base = chunk.work_used[group.buffer as usize];
            let mut next = WorkLayout { buffer: group.buffer, ..WorkLayout::default() }.with(t);
            if base + next.words() > cap.work_words {
                next.buffer += 1;
                base = 0;
                if next.buffer as usize >= cap.work_buffers || next.words() > cap.work_words {
                    group = WorkLayout { tasks: 0, ..group };
                    break;
                }
            }
            first = chunk.tasks.len();
            grown = next;
        }
        group = grown;
        let task = match (on_device, &mut chunk.gathered) {
            (true, _) => GpuTask {
                task: AlignTask { target_offset: origin as u32, ..*t },
                work_offset: 0,
                work_layout: FROM_REFERENCE,
            },
            (false, Some(g)) => {
                let at = g.len() as u32;
                g.extend_from_slice(batch.target(t));
                GpuTask { task: AlignTask { target_offset: at, ..*t }, work_offset: 0, work_layout: 0 }
            }
            (false, None) => GpuTask { task: *t, work_offset: 0, work_layout: 0 },
        };
        chunk.tasks.push(task);
        chunk.out_words = out_words;
        chunk.query_span = query_span;
        chunk.target_span = target_span;
        chunk.end += 1;
    }
    close(&mut chunk, first, &group, base);
    let (q0, t0) = (chunk.query_span.start as u32, chunk.target_span.start as u32);
    let rebase_targets = chunk.gathered.is_none();
    for g in &mut chunk.tasks {
        let AlignTask { query_offset, query_len, target_offset, target_len, .. } = &mut g.task;
        *query_offset = if *query_len == 0 { 0 } else { *query_offset - q0 };
        if rebase_targets {
            *target_offset = if *target_len == 0 { 0 } else { *target_offset - t0 };
        }
    }
    chunk
}

/// Places the tasks `chunk.tasks[first..]` in the group `layout` whose region starts at word
/// `base` of its buffer (nothing when the group is empty).
fn close(chunk: &mut Chunk, first: usize, layout: &WorkLayout, base: u64) {
    if layout.tasks == 0 {
        return;
    }
    debug_assert_eq!(chunk.tasks.len() - first, layout.tasks as usize);
    let packed = layout.pack();
    for (lane, g) in chunk.tasks[first..].iter_mut().enumerate() {
        g.work_offset = (base + lane as u64) as u32;
        g.work_layout = packed | g.work_layout & FROM_REFERENCE;
    }
    chunk.work_used[layout.buffer as usize] = base + layout.words();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::gpu::layout::WORKGROUP;

    fn batch(sizes: &[(usize, usize)]) -> AlignBatch {
        let mut b = AlignBatch::new();
        for &(m, n) in sizes {
            let q = b.push_query(&vec![1; m]);
            b.push_task(q, &vec![2; n]);
        }
        b
    }

    fn roomy() -> Capacity {
        Capacity {
            binding_bytes: 1 << 20,
            work_words: 1 << 18,
            work_buffers: WORK_BUFFERS,
            max_tasks: 1 << 20,
            interleave: WORKGROUP,
        }
    }

    #[test]
    fn offsets_are_rebased_to_the_uploaded_spans() {
        let b = batch(&[(10, 20), (0, 5), (3, 0), (7, 9)]);
        let ids: Vec<usize> = (1..4).collect();
        let c = next_chunk(&b, &ids, 0, &roomy(), false);
        assert_eq!(c.end, 3);
        assert_eq!(c.query_span, 10..20); // the empty query of task 2 adds nothing
        assert_eq!(c.target_span, 20..34);
        let t: Vec<_> = c.tasks.iter().map(|g| (g.task.query_offset, g.task.target_offset)).collect();
        assert_eq!(t, [(0, 0), (0, 0), (3, 5)]);
        // One group of three lanes, each 2*7+2 scratch words and 2 word columns of 7 rows.
        assert_eq!(c.work_used[0], 3 * (2 * 7 + 2 + 2 * 7));
        let lanes: Vec<_> = c.tasks.iter().map(|g| g.work_offset).collect();
        assert_eq!(lanes, [0, 1, 2]);
    }

    #[test]
    fn work_fills_buffers_in_turn_then_closes_the_chunk() {
        let b = batch(&[(8, 8); 10]); // 18 + 8 = 26 words each
        let cap = Capacity { work_words: 60, work_buffers: 2, ..roomy() };
        let ids: Vec<usize> = (0..10).collect();
        let c = next_chunk(&b, &ids, 0, &cap, false);
        assert_eq!(c.end, 4);
        // Two groups of two interleaved lanes, one per buffer.
        let two = |buffer| WorkLayout { buffer, tasks: 2, rows: 8, columns: 1 }.pack();
        let placed: Vec<_> = c.tasks.iter().map(|g| (g.work_layout, g.work_offset)).collect();
        assert_eq!(placed, [(two(0), 0), (two(0), 1), (two(1), 0), (two(1), 1)]);
        assert_eq!(c.work_used[..2], [52, 52]);
        assert_eq!(next_chunk(&b, &ids, 4, &cap, false).end, 8);
    }

    #[test]
    fn full_groups_are_one_workgroup_each() {
        let b = batch(&[(4, 4); 150]); // 10 + 4 = 14 words each
        let ids: Vec<usize> = (0..150).collect();
        let c = next_chunk(&b, &ids, 0, &roomy(), false);
        assert_eq!(c.end, 150);
        let layout = |k: usize| c.tasks[k].work_layout;
        let full = WorkLayout { buffer: 0, tasks: WORKGROUP, rows: 4, columns: 1 }.pack();
        assert!((0..128).all(|k| layout(k) == full));
        assert_eq!(layout(128), WorkLayout { buffer: 0, tasks: 22, rows: 4, columns: 1 }.pack());
        let offsets: Vec<u32> = [0, 63, 64, 127, 128, 149].iter().map(|&k| c.tasks[k].work_offset).collect();
        assert_eq!(offsets, [0, 63, 64 * 14, 64 * 14 + 63, 128 * 14, 128 * 14 + 21]);
        assert_eq!(c.work_used[0], 150 * 14);
        // One task a group: each task's words contiguous.
        let c = next_chunk(&b, &ids, 0, &Capacity { interleave: 1, ..roomy() }, false);
        assert!(c.tasks.iter().enumerate().all(|(k, g)| g.work_offset == 14 * k as u32));
        assert!(c
            .tasks
            .iter()
            .all(|g| g.work_layout == WorkLayout { buffer: 0, tasks: 1, rows: 4, columns: 1 }.pack()));
    }

    #[test]
    fn task_count_and_binding_limits_split_the_batch() {
        let b = batch(&[(4, 4); 10]);
        let ids: Vec<usize> = (0..10).collect();
        assert_eq!(next_chunk(&b, &ids, 0, &Capacity { max_tasks: 3, ..roomy() }, false).end, 3);
        // out: 8 header words, then 8 result words + 10 CIGAR words per task.
        let tight = Capacity { binding_bytes: 4 * (8 + 18 * 2), ..roomy() };
        assert_eq!(next_chunk(&b, &ids, 0, &tight, false).end, 2);
    }

    #[test]
    fn a_task_too_large_alone_gives_an_empty_chunk() {
        let b = batch(&[(4, 4), (100, 4000)]);
        let cap = Capacity { work_words: 1000, ..roomy() };
        let c = next_chunk(&b, &[1, 0], 0, &cap, false);
        assert_eq!((c.end, c.tasks.len()), (0, 0));
    }
}
