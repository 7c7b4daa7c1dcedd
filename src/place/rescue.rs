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
//!
//! **Window cap.** The stretch of fragment lengths searched is the model's `[low, high]`, but
//! never longer than [`MAX_RESCUE_SPAN`] (= [`MAX_INSERT`], 10,000): when the model's is
//! longer, the search covers the `MAX_RESCUE_SPAN` fragment lengths centred on the model's
//! mean (kept inside `[low, high]`). A window is thus at most `MAX_RESCUE_SPAN` plus the
//! mate's length long, whatever the model says (a model estimated by `crate::place::pair` already
//! keeps `high` below `4 * MAX_INSERT`; one built by hand may hold anything): memory and work
//! follow read lengths, never contig distances. Windows of ordinary libraries, whose proper
//! range spans a few hundred bases, are untouched.

use crate::align::{Alignment, Band};
use crate::batch::AlignBatch;
use crate::dna;
use crate::index::Index;
use crate::io::read::Read;
use crate::options::MapOptions;
use crate::place::hit::{Hit, ReadHits};
use crate::place::pair::{InsertModel, Orientation, OrientationModel, MAX_INSERT, UNPAIRED_PENALTY};

/// Lowest score a rescued mate may have (bwa-mem's minimum seed length, 19, or `-T` when
/// lower): a short mate (30-50 bases) with a mismatch or two scores under `-T` but is placed
/// beside its mate, and only there (`crate::place::pair::choose`).
pub const RESCUE_MIN_SCORE: i32 = 19;
/// Hits of one mate used as anchors, at most.
pub const MAX_ANCHORS: usize = 32;
/// Longest stretch of fragment lengths one rescue searches: a window is at most this plus the
/// mate's length (see the module documentation).
pub const MAX_RESCUE_SPAN: i64 = MAX_INSERT;

/// The fragment lengths a rescue searches: the model's proper range, narrowed to
/// [`MAX_RESCUE_SPAN`] around its mean when longer. `None` when the range is empty.
fn rescue_range(model: &OrientationModel) -> Option<(i64, i64)> {
    let (low, high) = (model.low.max(1), model.high);
    if high < low {
        return None;
    }
    if high - low <= MAX_RESCUE_SPAN {
        return Some((low, high));
    }
    // `as` saturates (NaN gives 0), and the clamp keeps the range inside [low, high].
    let start = (model.mean.round() as i64).saturating_sub(MAX_RESCUE_SPAN / 2).clamp(low, high - MAX_RESCUE_SPAN);
    Some((start, start + MAX_RESCUE_SPAN))
}

/// The contig-relative window `[lo, hi)` where the mate (`len` bases) of `anchor` must lie,
/// and its strand (reverse or not), for an insert in `range` in `orientation`
/// ([`crate::place::pair::pair_geometry`]: the distance between the 5' ends, both counted),
/// clipped to the contig (`contig_len`); `None` when too little of it is on the contig.
fn rescue_window(
    anchor: &Hit,
    orientation: Orientation,
    range: (i64, i64),
    len: i64,
    contig_len: u64,
) -> Option<(u64, u64, bool)> {
    let (low, high) = range;
    // The anchor's 5' end, and where the mate's 5' end may lie: `d` = low - 1 ..= high - 1
    // bases away, downstream (+) or upstream (-) of it.
    let a5 = anchor.five_prime() as i64;
    let (mate_reverse, lo, hi) = match (orientation, anchor.reverse) {
        // FR: a forward anchor's mate is reverse, downstream; a reverse one's is forward,
        // upstream.
        (Orientation::FR, false) => (true, a5 + low - len, a5 + high),
        (Orientation::FR, true) => (false, a5 - high + 1, a5 - low + 1 + len),
        // RF: a forward anchor's mate is reverse, upstream; a reverse one's forward, downstream.
        (Orientation::RF, false) => (true, a5 - high + 2 - len, a5 - low + 2),
        (Orientation::RF, true) => (false, a5 + low - 1, a5 + high - 1 + len),
        // FF: the mate is on the anchor's strand, on either side.
        (Orientation::FF, false) => (false, a5 - high + 1, a5 + high - 1 + len),
        (Orientation::FF, true) => (true, a5 - high + 2 - len, a5 + high),
    };
    let (lo, hi) = (lo.clamp(0, contig_len as i64), hi.clamp(0, contig_len as i64));
    (hi - lo >= len / 2).then_some((lo as u64, hi as u64, mate_reverse))
}

/// A rescue window for read `read` of the chunk.
struct RescueTask {
    read: usize,
    contig: usize,
    /// Contig-relative start of the window.
    start: u64,
    reverse: bool,
}

/// Pairs a piece of the rescue's batch covers: its windows are found and fetched on the pool.
const RESCUE_PIECE: usize = 512;

/// A chunk's mate rescue: [`Rescue::prepare`] finds the windows, the caller aligns their
/// batch on its backend (checked, as [`crate::backend::align_checked`] does), and
/// [`Rescue::merge`] adds what they found to the mates' hits.
pub struct Rescue {
    batch: AlignBatch,
    tasks: Vec<RescueTask>,
}

impl Rescue {
    /// The windows to align, each holding its mate's query; [`Rescue::merge`] takes their
    /// results in this order.
    pub fn batch(&self) -> &AlignBatch {
        &self.batch
    }

    /// The rescue windows of a chunk of pairs (mates adjacent in `reads` and `hits`), found
    /// and fetched on the pool in pieces. The batch is empty when no mate needs rescuing.
    pub fn prepare(index: &Index, reads: &[Read], hits: &[ReadHits], model: &InsertModel) -> Rescue {
        use rayon::prelude::*;
        // Each orientation of the model with a range to search.
        let ranges: Vec<(OrientationModel, (i64, i64))> =
            model.orientations().filter_map(|m| rescue_range(&m).map(|r| (m, r))).collect();
        let pieces: Vec<(AlignBatch, Vec<RescueTask>)> = reads
            .par_chunks(2 * RESCUE_PIECE)
            .zip(hits.par_chunks(2 * RESCUE_PIECE))
            .enumerate()
            .map(|(p, (reads, hits))| rescue_piece(index, reads, hits, model, &ranges, 2 * RESCUE_PIECE * p))
            .collect();
        let mut tasks = Vec::with_capacity(pieces.iter().map(|(_, t)| t.len()).sum());
        let mut parts = Vec::with_capacity(pieces.len());
        for (batch, piece_tasks) in pieces {
            parts.push(batch);
            tasks.extend(piece_tasks);
        }
        Rescue { batch: AlignBatch::concat(parts), tasks }
    }

    /// Adds what the alignments of the batch (`alns`, checked, in task order) found to the
    /// mates' hits: each alignment scoring at least `min_score` on its best stretch. The
    /// results are turned into hits on the pool; only adding them to their reads is left to
    /// the calling thread.
    pub fn merge(self, alns: Vec<Alignment>, hits: &mut [ReadHits], opts: &MapOptions) {
        use rayon::prelude::*;
        let Rescue { batch, tasks } = self;
        let found: Vec<Option<(usize, Hit)>> = tasks
            .par_iter()
            .zip(alns)
            .enumerate()
            .map(|(k, (t, mut a))| {
                if a.cigar.is_empty() {
                    return None;
                }
                let task = &batch.tasks[k];
                let score = a.best_stretch(batch.query(task), batch.target(task), &opts.scoring);
                if score < opts.min_score.min(RESCUE_MIN_SCORE) {
                    return None;
                }
                let total = a.total(batch.query(task).len() as u32, opts.scoring.clip);
                Some((t.read, Hit::taking(t.contig, t.start, t.reverse, &mut a, score, total)))
            })
            .collect();
        for (read, hit) in found.into_iter().flatten() {
            hits[read].merge([hit]);
        }
    }
}

/// The rescue windows of a piece of pairs (`reads` and their `hits`, mates adjacent; the
/// piece's first read is read `first` of the chunk): the batch and each task's read.
fn rescue_piece(
    index: &Index,
    reads: &[Read],
    hits: &[ReadHits],
    model: &InsertModel,
    ranges: &[(OrientationModel, (i64, i64))],
    first: usize,
) -> (AlignBatch, Vec<RescueTask>) {
    let mut batch = AlignBatch::new();
    let mut tasks = Vec::new();
    let (mut rc, mut window) = (Vec::new(), Vec::new());
    for pair in 0..reads.len() / 2 {
        for m in 0..2 {
            let (a, b) = (2 * pair + m, 2 * pair + 1 - m);
            let Some(best) = hits[a].best() else { continue };
            let floor = best.score - UNPAIRED_PENALTY;
            for anchor in hits[a].hits.iter().take(MAX_ANCHORS).take_while(|h| h.score >= floor) {
                let paired = hits[b].hits.iter().any(|h| model.proper(anchor, h).is_some());
                if paired || reads[b].codes.is_empty() {
                    continue;
                }
                let len = reads[b].codes.len() as i64;
                let contig = &index.contigs[anchor.contig];
                for &(m, range) in ranges {
                    let Some((lo, hi, reverse)) = rescue_window(anchor, m.orientation, range, len, contig.len) else {
                        continue;
                    };
                    let query = if reverse {
                        dna::reverse_complement_into(&reads[b].codes, &mut rc);
                        batch.push_query(&rc)
                    } else {
                        batch.push_query(&reads[b].codes)
                    };
                    let g = contig.offset + lo;
                    let band = Band::full(query.1 as usize, (hi - lo) as usize);
                    batch.push_reference_task(query, index.reference(), g..g + (hi - lo), band, &mut window);
                    tasks.push(RescueTask { read: first + b, contig: anchor.contig, start: lo, reverse });
                }
            }
        }
    }
    (batch, tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::Cigar;

    fn hit(pos: u64, reverse: bool) -> Hit {
        Hit {
            contig: 0,
            pos,
            reverse,
            score: 150,
            total: 150,
            query_start: 0,
            query_end: 150,
            ref_len: 150,
            cigar: Cigar::default(),
        }
    }

    #[test]
    fn ordinary_model_windows_are_unchanged() {
        let m = OrientationModel { orientation: Orientation::FR, mean: 400.0, sd: 50.0, low: 165, high: 634 };
        let range = rescue_range(&m).unwrap();
        assert_eq!(range, (165, 634));
        // Forward anchor at p: [p + low - len, p + high); reverse anchor ending at e:
        // [e - high, e - low + len).
        assert_eq!(
            rescue_window(&hit(10_000, false), Orientation::FR, range, 150, 1_000_000),
            Some((10_015, 10_634, true))
        );
        assert_eq!(
            rescue_window(&hit(10_000, true), Orientation::FR, range, 150, 1_000_000),
            Some((9_516, 10_135, false))
        );
        // Clipped to the contig, and dropped when too little of it is left.
        assert_eq!(rescue_window(&hit(10, true), Orientation::FR, range, 150, 1_000_000), Some((0, 145, false)));
        assert_eq!(rescue_window(&hit(0, true), Orientation::FR, (600, 634), 150, 1_000_000), None);
    }

    /// In every orientation, every mate placement whose insert is in range lies inside the
    /// window, on the window's strand; the window is no wider than the range needs.
    #[test]
    fn windows_hold_every_mate_of_the_range_in_every_orientation() {
        let range = (300, 500);
        for orientation in [Orientation::FR, Orientation::RF, Orientation::FF] {
            for anchor_reverse in [false, true] {
                let anchor = hit(100_000, anchor_reverse);
                let (lo, hi, mate_reverse) =
                    rescue_window(&anchor, orientation, range, 150, 1_000_000).expect("a window");
                let mut inside = 0;
                for pos in 99_000..101_500u64 {
                    for reverse in [false, true] {
                        let mate = hit(pos, reverse);
                        let Some(len) = crate::place::pair::fragment_len(&anchor, &mate, orientation) else { continue };
                        if (range.0..=range.1).contains(&len) {
                            assert_eq!(reverse, mate_reverse, "{orientation:?}, anchor reverse {anchor_reverse}");
                            assert!(
                                lo <= pos && pos + 150 <= hi,
                                "{orientation:?} {anchor_reverse}: {pos} outside {lo}-{hi}"
                            );
                            inside += 1;
                        }
                    }
                }
                let sides = if orientation == Orientation::FF { 2 } else { 1 };
                assert_eq!(inside, sides * 201, "{orientation:?} {anchor_reverse}");
                assert!(hi - lo <= sides * 500 + 150, "{orientation:?} {anchor_reverse}: {lo}-{hi}");
            }
        }
    }

    /// The chimeric-library bug: a model learnt from discordant pairs (a 20 Mb "proper"
    /// insert) made every rescue window as long as the contig, and the alignment asked for
    /// tens of gigabytes.
    #[test]
    fn rescue_window_of_a_20_mb_model_is_capped() {
        let m = OrientationModel {
            orientation: Orientation::FR,
            mean: 10_000_000.0,
            sd: 5_000_000.0,
            low: 1,
            high: 20_000_000,
        };
        let range = rescue_range(&m).unwrap();
        assert_eq!(range.1 - range.0, MAX_RESCUE_SPAN);
        assert_eq!(range, (10_000_000 - MAX_RESCUE_SPAN / 2, 10_000_000 + MAX_RESCUE_SPAN / 2));
        for reverse in [false, true] {
            let (lo, hi, _) =
                rescue_window(&hit(30_000_000, reverse), Orientation::FR, range, 150, 60_000_000).unwrap();
            assert!(hi - lo <= (MAX_RESCUE_SPAN + 150) as u64, "{lo}-{hi}");
        }
        // The range stays inside the model's even when its mean does not.
        let low_mean =
            OrientationModel { orientation: Orientation::FR, mean: -5.0e18, sd: f64::NAN, low: 1, high: 20_000_000 };
        assert_eq!(rescue_range(&low_mean), Some((1, 1 + MAX_RESCUE_SPAN)));
        let nan_mean =
            OrientationModel { orientation: Orientation::FR, mean: f64::NAN, sd: 1.0, low: 500, high: 20_000_000 };
        assert_eq!(rescue_range(&nan_mean), Some((500, 500 + MAX_RESCUE_SPAN)));
        let high_mean =
            OrientationModel { orientation: Orientation::FR, mean: 1.0e30, sd: 1.0, low: 1, high: 20_000_000 };
        assert_eq!(rescue_range(&high_mean), Some((20_000_000 - MAX_RESCUE_SPAN, 20_000_000)));
        let empty = OrientationModel { orientation: Orientation::FR, mean: 400.0, sd: 1.0, low: 700, high: 600 };
        assert_eq!(rescue_range(&empty), None);
    }
}
