//! Mate rescue: when one mate has a hit and the other has none that pairs with it, the other
//! mate is aligned (Smith-Waterman, on the same backend as everything else) across the whole
//! reference stretch where the insert-size model says it must lie, on the facing strand.
//!
//! For a forward hit starting at `p`, the mate is reverse and ends within `p + [low, high]`,
//! so its window is `[p + low - len, p + high)`; for a reverse hit ending at `e`, the mate is
//! forward and starts within `e - [high, low]`, so its window is `[e - high, e - low + len)`.
//! Anchors are a mate's hits scoring within the unpaired penalty of its best (as bwa-mem),
//! at most [`MAX_ANCHORS`] of them, so a mate whose best score ties between copies of a
//! repeat is rescued next to each copy. What a rescue finds joins the mate's hits
//! and the pair is then chosen as usual; it depends only on the pair and the (fixed) model.

use crate::align::Alignment;
use crate::backend::AlignBackend;
use crate::batch::AlignBatch;
use crate::dna;
use crate::error::Result;
use crate::fastq::Read;
use crate::hit::{Hit, ReadHits};
use crate::index::Index;
use crate::map::MapOptions;
use crate::pair::{fragment_len, InsertModel, UNPAIRED_PENALTY};

/// Hits of one mate used as anchors, at most.
pub const MAX_ANCHORS: usize = 32;

/// A rescue window for read `read` of the chunk.
struct RescueTask {
    read: usize,
    contig: usize,
    /// Contig-relative start of the window.
    start: u64,
    reverse: bool,
}

/// Runs mate rescue over a chunk of pairs (mates adjacent) and merges what it finds.
pub fn rescue_mates(
    index: &Index,
    reads: &[Read],
    hits: &mut [ReadHits],
    model: &InsertModel,
    backend: &dyn AlignBackend,
    opts: &MapOptions,
) -> Result<()> {
    let mut batch = AlignBatch::new();
    let mut tasks = Vec::new();
    let mut rc = Vec::new();
    for pair in 0..reads.len() / 2 {
        for m in 0..2 {
            let (a, b) = (2 * pair + m, 2 * pair + 1 - m);
            let Some(best) = hits[a].best() else { continue };
            let floor = best.score - UNPAIRED_PENALTY;
            for anchor in hits[a].hits.iter().take(MAX_ANCHORS).take_while(|h| h.score >= floor) {
                let paired = hits[b]
                    .hits
                    .iter()
                    .any(|h| fragment_len(anchor, h).is_some_and(|len| (model.low..=model.high).contains(&len)));
                if paired || reads[b].codes.is_empty() {
                    continue;
                }
                let len = reads[b].codes.len() as i64;
                let contig = &index.contigs[anchor.contig];
                let (lo, hi) = if anchor.reverse {
                    let e = anchor.end() as i64;
                    (e - model.high, e - model.low + len)
                } else {
                    let p = anchor.pos as i64;
                    (p + model.low - len, p + model.high)
                };
                let (lo, hi) = (lo.clamp(0, contig.len as i64), hi.clamp(0, contig.len as i64));
                if hi - lo < len / 2 {
                    continue;
                }
                let reverse = !anchor.reverse;
                let query = if reverse {
                    dna::reverse_complement_into(&reads[b].codes, &mut rc);
                    batch.push_query(&rc)
                } else {
                    batch.push_query(&reads[b].codes)
                };
                let g = (contig.offset + lo as u64) as usize;
                batch.push_task(query, &index.seq[g..g + (hi - lo) as usize]);
                tasks.push(RescueTask { read: b, contig: anchor.contig, start: lo as u64, reverse });
            }
        }
    }
    if batch.is_empty() {
        return Ok(());
    }
    let alns: Vec<Alignment> = backend.align(&batch, &opts.scoring)?;
    for (k, (t, a)) in tasks.iter().zip(alns).enumerate() {
        if a.cigar.is_empty() {
            continue;
        }
        let task = &batch.tasks[k];
        let score = a.best_stretch(batch.query(task), batch.target(task), &opts.scoring);
        if score < opts.min_score {
            continue;
        }
        let hit = Hit {
            contig: t.contig,
            pos: t.start + a.target_start as u64,
            reverse: t.reverse,
            score,
            query_start: a.query_start,
            query_end: a.query_end,
            ref_len: a.target_end - a.target_start,
            cigar: a.cigar,
        };
        hits[t.read].merge(vec![hit]);
    }
    Ok(())
}
