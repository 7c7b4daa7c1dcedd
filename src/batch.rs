//! The one batch layout every backend takes: queries and reference windows packed once into
//! flat arrays of base codes, and a list of tasks that point into them. A query is stored once
//! per orientation and shared by all of its windows.

use crate::align::{Alignment, Band, CigarOp, Scoring};
use crate::index::Reference;
use bytemuck::{Pod, Zeroable};
use std::ops::Range;

/// One alignment to compute: `queries[query_offset..+query_len]` against
/// `targets[target_offset..+target_len]`, within the diagonals `diag_lo..=diag_hi` (see
/// [`Band`]). The layout is the first six words of the GPU's `Task` struct.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct AlignTask {
    /// Start of the query in [`AlignBatch::queries`].
    pub query_offset: u32,
    /// Query length in bases.
    pub query_len: u32,
    /// Start of the window in [`AlignBatch::targets`].
    pub target_offset: u32,
    /// Window length in bases.
    pub target_len: u32,
    /// Lowest diagonal (`j - i`) of the band.
    pub diag_lo: i32,
    /// Highest diagonal of the band.
    pub diag_hi: i32,
}

impl AlignTask {
    /// The task's band.
    pub fn band(&self) -> Band {
        Band { lo: self.diag_lo, hi: self.diag_hi }
    }
}

/// Packed queries, windows and tasks of one batch.
#[derive(Clone, Debug, Default)]
pub struct AlignBatch {
    /// Base codes (0-4) of every query, back to back.
    pub queries: Vec<u8>,
    /// Base codes (0-4) of every reference window, back to back.
    pub targets: Vec<u8>,
    /// The alignments to compute; results come back in this order.
    pub tasks: Vec<AlignTask>,
    /// Per task, where its window starts in the reference [`AlignBatch::reference`] when it
    /// holds no N, else [`NO_ORIGIN`]: a backend with a copy of that reference (a GPU) may
    /// read the window there instead of receiving its bases.
    pub origins: Vec<u64>,
    /// The [`Reference::id`] of the reference the origins point into, if any task has one.
    pub reference: Option<u64>,
}

/// A task whose window is not (or not wholly, or not only) a stretch of the reference.
pub const NO_ORIGIN: u64 = u64::MAX;

impl AlignBatch {
    /// An empty batch.
    pub fn new() -> AlignBatch {
        AlignBatch::default()
    }

    /// Appends a query and returns its `(offset, len)` for [`AlignBatch::push_task`].
    pub fn push_query(&mut self, codes: &[u8]) -> (u32, u32) {
        let off = self.queries.len() as u32;
        self.queries.extend_from_slice(codes);
        (off, codes.len() as u32)
    }

    /// Appends a window for the query at `query` (from [`AlignBatch::push_query`]), the whole
    /// matrix open to the alignment, and returns the task's index.
    pub fn push_task(&mut self, query: (u32, u32), window: &[u8]) -> usize {
        self.push_banded_task(query, window, Band::full(query.1 as usize, window.len()))
    }

    /// [`AlignBatch::push_task`] with the alignment confined to `band`.
    pub fn push_banded_task(&mut self, query: (u32, u32), window: &[u8], band: Band) -> usize {
        self.origins.push(NO_ORIGIN);
        self.push_window(query, window, band)
    }

    /// [`AlignBatch::push_banded_task`] for the window `range` of `reference` (`window` is
    /// scratch): the task also records where the window starts, unless it holds an N. All
    /// such tasks of a batch must come from one reference.
    pub fn push_reference_task(
        &mut self,
        query: (u32, u32),
        reference: &Reference,
        range: Range<u64>,
        band: Band,
        window: &mut Vec<u8>,
    ) -> usize {
        let start = range.start;
        let bases = reference.fetch(range, window);
        let origin = if bases.contains(&4) { NO_ORIGIN } else { start };
        assert!(self.reference.is_none_or(|id| id == reference.id()), "windows of two references in one batch");
        self.reference = Some(reference.id());
        self.origins.push(origin);
        self.push_window(query, bases, band)
    }

    fn push_window(&mut self, query: (u32, u32), window: &[u8], band: Band) -> usize {
        let target_offset = self.targets.len() as u32;
        self.targets.extend_from_slice(window);
        self.tasks.push(AlignTask {
            query_offset: query.0,
            query_len: query.1,
            target_offset,
            target_len: window.len() as u32,
            diag_lo: band.lo,
            diag_hi: band.hi,
        });
        self.tasks.len() - 1
    }

    /// The batches `parts` one after the other, as if their queries and tasks had been pushed
    /// into one: task `k` of the second part is task `parts[0].len() + k`. Parts built in
    /// parallel (the mapper's pack stage) are joined with this.
    pub fn concat(parts: Vec<AlignBatch>) -> AlignBatch {
        let sum = |f: fn(&AlignBatch) -> usize| parts.iter().map(f).sum::<usize>();
        let mut out = AlignBatch {
            queries: Vec::with_capacity(sum(|b| b.queries.len())),
            targets: Vec::with_capacity(sum(|b| b.targets.len())),
            tasks: Vec::with_capacity(sum(|b| b.tasks.len())),
            origins: Vec::with_capacity(sum(|b| b.origins.len())),
            reference: None,
        };
        for part in parts {
            let (q, t) = (out.queries.len() as u32, out.targets.len() as u32);
            out.tasks.extend(part.tasks.iter().map(|task| AlignTask {
                query_offset: task.query_offset + q,
                target_offset: task.target_offset + t,
                ..*task
            }));
            out.queries.extend_from_slice(&part.queries);
            out.targets.extend_from_slice(&part.targets);
            out.origins.extend_from_slice(&part.origins);
            if let Some(id) = part.reference {
                assert!(out.reference.is_none_or(|r| r == id), "windows of two references in one batch");
                out.reference = Some(id);
            }
        }
        out
    }

    /// The query bases (codes 0-4) of `task`.
    pub fn query(&self, task: &AlignTask) -> &[u8] {
        &self.queries[task.query_offset as usize..(task.query_offset + task.query_len) as usize]
    }

    /// The window bases (codes 0-4) of `task`.
    pub fn target(&self, task: &AlignTask) -> &[u8] {
        &self.targets[task.target_offset as usize..(task.target_offset + task.target_len) as usize]
    }

    /// DP cells of the whole batch: the cells of each task's band, summed.
    pub fn cells(&self) -> u64 {
        self.tasks.iter().map(|t| t.band().cells(t.query_len as usize, t.target_len as usize)).sum()
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the batch has no tasks (it may still hold queries).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl AlignBatch {
    /// Checks that `alns` can be the results of this batch: one per task; ends inside the
    /// task's query and window; a CIGAR of M, I and D runs that spans exactly the aligned
    /// query and window bases; a raw score equal to the path's. Whatever a backend computes,
    /// a result that fails here is an error naming the task, never a SAM record (a kernel cut
    /// short by a driver's loop limit, such as lavapipe's, can give `248S1M` for a 250-base
    /// read).
    /// Costs one pass over each CIGAR, next to the task's DP.
    pub(crate) fn check_results(&self, alns: &[Alignment], sc: &Scoring) -> Result<(), String> {
        if alns.len() != self.len() {
            return Err(format!("{} results for {} tasks", alns.len(), self.len()));
        }
        // On the rayon pool (it runs on a pipeline stage's thread otherwise); the error named
        // is the first failing task's, whatever the scheduling.
        use rayon::prelude::*;
        let first_bad =
            self.tasks.par_iter().zip(alns).enumerate().with_min_len(1024).find_map_first(|(k, (task, aln))| {
                check_one(self.query(task), self.target(task), task.band(), aln, sc)
                    .err()
                    .map(|e| format!("task {k} ({} x {} bases): {e}", task.query_len, task.target_len))
            });
        first_bad.map_or(Ok(()), Err)
    }
}

fn check_one(query: &[u8], target: &[u8], band: Band, aln: &Alignment, sc: &Scoring) -> Result<(), String> {
    let (qs, qe, ts, te) =
        (aln.query_start as usize, aln.query_end as usize, aln.target_start as usize, aln.target_end as usize);
    if band.clamp(query.len(), target.len()).is_none() {
        // The empty alignment of an empty task (see `align::reference`).
        return match aln.cigar.is_empty() && qe == 0 && te == 0 {
            true => Ok(()),
            false => Err("an alignment for an empty task".into()),
        };
    }
    if qs >= qe || qe > query.len() || ts >= te || te > target.len() {
        return Err(format!("ends {qs}..{qe} x {ts}..{te} outside the task"));
    }
    let (mut i, mut j, mut score) = (qs, ts, 0i64);
    // The path's diagonal is extreme at the first cell and at the last cell of each run.
    let outside = |i: usize, j: usize| !band.contains(i, j);
    if outside(qs, ts) {
        return Err(format!("the alignment starts at {qs} x {ts}, outside the band {band:?}"));
    }
    for &word in aln.cigar.words() {
        let len = (word >> 4) as usize;
        let op = CigarOp::from_code(word & 0xf).filter(|_| len > 0);
        let Some(op @ (CigarOp::Match | CigarOp::Insertion | CigarOp::Deletion)) = op else {
            return Err(format!("CIGAR word {word:#x} is not an M, I or D run"));
        };
        let (di, dj) = (op.consumes_query() as usize * len, op.consumes_reference() as usize * len);
        if i + di > qe || j + dj > te {
            return Err(format!("CIGAR {} runs past the aligned bases", aln.cigar));
        }
        score += match op {
            CigarOp::Match => pairs_score(&query[i..i + len], &target[j..j + len], sc),
            _ => -(sc.gap_open as i64 + len as i64 * sc.gap_extend as i64),
        };
        (i, j) = (i + di, j + dj);
        if outside(i - 1, j - 1) {
            return Err(format!("CIGAR {} leaves the band {band:?}", aln.cigar));
        }
    }
    if (i, j) != (qe, te) {
        return Err(format!("CIGAR {} spans {} x {} bases, not {} x {}", aln.cigar, i - qs, j - ts, qe - qs, te - ts));
    }
    if score != aln.score as i64 {
        return Err(format!("score {} but its path {} scores {score}", aln.score, aln.cigar));
    }
    Ok(())
}

/// The score of aligning `query` and `target` (equal lengths) pair by pair, as
/// [`Scoring::pair`] sums it: eight pairs at a time where neither side holds an N (every code
/// at most 3), by counting the bytes that differ. Every result is checked with this, so it
/// runs over every aligned base.
fn pairs_score(query: &[u8], target: &[u8], sc: &Scoring) -> i64 {
    use crate::align::exact::{differing, word};
    const NOT_BASE: u64 = 0xfcfc_fcfc_fcfc_fcfc;
    let bytewise = |q: &[u8], t: &[u8]| q.iter().zip(t).map(|(&a, &b)| sc.pair(a, b) as i64).sum::<i64>();
    let (wq, wt) = (query.chunks_exact(8), target.chunks_exact(8));
    let tail = query.len() - wq.remainder().len();
    let mut score = bytewise(&query[tail..], &target[tail..]);
    for (x, y) in wq.zip(wt) {
        let (a, b) = (word(x), word(y));
        if (a | b) & NOT_BASE != 0 {
            score += bytewise(x, y);
        } else {
            let differ = differing(a ^ b).count_ones() as i64;
            score += (8 - differ) * sc.match_score as i64 - differ * sc.mismatch as i64;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Reference;

    /// Parts joined by [`AlignBatch::concat`] are the batch their pushes make into one.
    #[test]
    fn concatenated_parts_are_the_batch_pushed_whole() {
        let codes: Vec<u8> = (0..400u32).map(|i| if (200..205).contains(&i) { 4 } else { (i * 7 % 4) as u8 }).collect();
        let reference = Reference::from_codes(&codes);
        let mut window = Vec::new();
        let push = |b: &mut AlignBatch, k: u64, window: &mut Vec<u8>| {
            let q = b.push_query(&codes[k as usize..k as usize + 30]);
            b.push_reference_task(q, &reference, k * 10..k * 10 + 50, Band { lo: -5, hi: 20 }, window);
            if k.is_multiple_of(2) {
                b.push_banded_task(q, &codes[..40], Band { lo: 0, hi: 9 });
            }
        };
        let mut whole = AlignBatch::new();
        let mut parts = vec![AlignBatch::new(), AlignBatch::new(), AlignBatch::new()];
        for k in 0..30u64 {
            push(&mut whole, k, &mut window);
            push(&mut parts[(k / 11) as usize], k, &mut window);
        }
        parts.insert(1, AlignBatch::new()); // an empty part
        let joined = AlignBatch::concat(parts);
        assert_eq!(joined.queries, whole.queries);
        assert_eq!(joined.targets, whole.targets);
        assert_eq!(joined.tasks, whole.tasks);
        assert_eq!(joined.origins, whole.origins);
        assert!(joined.origins.contains(&NO_ORIGIN) && joined.reference == Some(reference.id()));
    }

    /// The word-at-a-time sum of pair scores against [`Scoring::pair`] one pair at a time:
    /// lengths up to 40, Ns on either side, two scorings.
    #[test]
    fn pairs_score_sums_what_pair_gives() {
        let mut rng = crate::rng::Rng::new(21);
        let scorings =
            [Scoring::default(), Scoring { match_score: 2, mismatch: 3, ambiguous: 1, ..Scoring::default() }];
        for round in 0..4000 {
            let sc = &scorings[round % 2];
            let len = rng.below(41) as usize;
            let n_rate = [0, 3, 40][round % 3];
            let code = |rng: &mut crate::rng::Rng| {
                if n_rate > 0 && rng.below(n_rate) == 0 {
                    4
                } else {
                    rng.below(4) as u8
                }
            };
            let q: Vec<u8> = (0..len).map(|_| code(&mut rng)).collect();
            let t: Vec<u8> = q.iter().map(|&b| if rng.below(5) == 0 { code(&mut rng) } else { b }).collect();
            let want: i64 = q.iter().zip(&t).map(|(&a, &b)| sc.pair(a, b) as i64).sum();
            assert_eq!(pairs_score(&q, &t, sc), want, "{q:?} {t:?}");
        }
    }
}
