//! Splitting a batch into dispatches: each one must fit every binding in the device's
//! per-binding limit and the work buffers in the memory budget.

use super::layout::{cigar_capacity, work_words, GpuTask, OUT_HEADER, RESULT_WORDS, WORK_BUFFERS};
use crate::batch::{AlignBatch, AlignTask};
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
    /// Words used in each work buffer.
    pub work_used: [u64; WORK_BUFFERS],
    /// Words of `out` the dispatch may fill: header, results, CIGAR capacity.
    pub out_words: u64,
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
/// not fit even alone (the caller aligns it on the CPU).
pub fn next_chunk(batch: &AlignBatch, ids: &[usize], start: usize, cap: &Capacity) -> Chunk {
    let mut chunk = Chunk { end: start, out_words: OUT_HEADER, ..Chunk::default() };
    let mut buf = 0;
    let word_limit = cap.binding_bytes / 4;
    for &id in &ids[start..] {
        let t = &batch.tasks[id];
        let count = chunk.tasks.len() as u64 + 1;
        let need = work_words(t);
        let out_words = chunk.out_words + RESULT_WORDS + if need > 0 { cigar_capacity(t) } else { 0 };
        let query_span = union(&chunk.query_span, t.query_offset, t.query_len);
        let target_span = union(&chunk.target_span, t.target_offset, t.target_len);
        if count > cap.max_tasks as u64
            || count * std::mem::size_of::<GpuTask>() as u64 > cap.binding_bytes
            || out_words > word_limit
            || span_bytes(&query_span) > cap.binding_bytes
            || span_bytes(&target_span) > cap.binding_bytes
        {
            break;
        }
        if chunk.work_used[buf] + need > cap.work_words {
            buf += 1;
            if buf >= cap.work_buffers || need > cap.work_words {
                break;
            }
        }
        chunk.tasks.push(GpuTask { task: *t, work_offset: chunk.work_used[buf] as u32, work_buffer: buf as u32 });
        chunk.work_used[buf] += need;
        chunk.out_words = out_words;
        chunk.query_span = query_span;
        chunk.target_span = target_span;
        chunk.end += 1;
    }
    let (q0, t0) = (chunk.query_span.start as u32, chunk.target_span.start as u32);
    for g in &mut chunk.tasks {
        let AlignTask { query_offset, query_len, target_offset, target_len, .. } = &mut g.task;
        *query_offset = if *query_len == 0 { 0 } else { *query_offset - q0 };
        *target_offset = if *target_len == 0 { 0 } else { *target_offset - t0 };
    }
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(sizes: &[(usize, usize)]) -> AlignBatch {
        let mut b = AlignBatch::new();
        for &(m, n) in sizes {
            let q = b.push_query(&vec![1; m]);
            b.push_task(q, &vec![2; n]);
        }
        b
    }

    fn roomy() -> Capacity {
        Capacity { binding_bytes: 1 << 20, work_words: 1 << 18, work_buffers: WORK_BUFFERS, max_tasks: 1 << 20 }
    }

    #[test]
    fn offsets_are_rebased_to_the_uploaded_spans() {
        let b = batch(&[(10, 20), (0, 5), (3, 0), (7, 9)]);
        let ids: Vec<usize> = (1..4).collect();
        let c = next_chunk(&b, &ids, 0, &roomy());
        assert_eq!(c.end, 3);
        assert_eq!(c.query_span, 10..20); // the empty query of task 2 adds nothing
        assert_eq!(c.target_span, 20..34);
        let t: Vec<_> = c.tasks.iter().map(|g| (g.task.query_offset, g.task.target_offset)).collect();
        assert_eq!(t, [(0, 0), (0, 0), (3, 5)]);
        assert_eq!(c.work_used[0], 7 * 2 + 16); // ceil(9/8) strips * 7 rows + 2*7+2
    }

    #[test]
    fn work_fills_buffers_in_turn_then_closes_the_chunk() {
        let b = batch(&[(8, 8); 10]); // 8 + 18 = 26 words each
        let cap = Capacity { work_words: 60, work_buffers: 2, ..roomy() };
        let ids: Vec<usize> = (0..10).collect();
        let c = next_chunk(&b, &ids, 0, &cap);
        assert_eq!(c.end, 4);
        let placed: Vec<_> = c.tasks.iter().map(|g| (g.work_buffer, g.work_offset)).collect();
        assert_eq!(placed, [(0, 0), (0, 26), (1, 0), (1, 26)]);
        assert_eq!(next_chunk(&b, &ids, 4, &cap).end, 8);
    }

    #[test]
    fn task_count_and_binding_limits_split_the_batch() {
        let b = batch(&[(4, 4); 10]);
        let ids: Vec<usize> = (0..10).collect();
        assert_eq!(next_chunk(&b, &ids, 0, &Capacity { max_tasks: 3, ..roomy() }).end, 3);
        // out: 8 header words, then 8 result words + 10 CIGAR words per task.
        let tight = Capacity { binding_bytes: 4 * (8 + 18 * 2), ..roomy() };
        assert_eq!(next_chunk(&b, &ids, 0, &tight).end, 2);
    }

    #[test]
    fn a_task_too_large_alone_gives_an_empty_chunk() {
        let b = batch(&[(4, 4), (100, 4000)]);
        let cap = Capacity { work_words: 1000, ..roomy() };
        let c = next_chunk(&b, &[1, 0], 0, &cap);
        assert_eq!((c.end, c.tasks.len()), (0, 0));
    }
}
