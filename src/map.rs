//! The mapping driver: reads stream in chunks, and each chunk goes through the stages in
//! order — seed (find candidate windows), pack one batch, align it on the backend, collect
//! hits, pair mates, score MAPQ, build records — and out to the writer in input order.
//!
//! Every stage runs on its own thread (see [`map_reads`]), so reading, seeding, aligning and
//! writing overlap. Every decision about a read depends only on that read (and its mate, and for pairs
//! the insert-size model, fixed from the first pairs of the input), so the output is the same
//! for any chunk size, thread count or backend.

use crate::align::{Alignment, Scoring};
use crate::backend::AlignBackend;
use crate::batch::AlignBatch;
use crate::dna;
use crate::error::{Error, Result};
use crate::fastq::{Read, ReadSource};
use crate::hit::ReadHits;
use crate::index::Index;
use crate::mapq;
use crate::pair::{self, InsertModel, ESTIMATION_PAIRS};
use crate::records;
use crate::rescue::rescue_mates;
use crate::sam::{SamRecord, SamWriter};
use crate::seed::{find_candidates, Candidates, SeedOptions, SeedScratch};
use crate::split;
use rayon::prelude::*;
use std::sync::mpsc::sync_channel;

/// Options of `swmap map` that shape the output.
#[derive(Clone, Debug)]
pub struct MapOptions {
    pub scoring: Scoring,
    pub seed: SeedOptions,
    /// Alignments scoring below this are not reported (`-T`, default 30).
    pub min_score: i32,
    /// Reads per chunk (pairs count twice). Changes speed and memory, never the output.
    pub chunk_reads: usize,
    /// Supplementary and secondary records, XA (`-Y`, `-a`, `--max-xa-hits`).
    pub output: records::OutputOptions,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            scoring: Scoring::default(),
            seed: SeedOptions::default(),
            min_score: 30,
            chunk_reads: 200_000,
            output: records::OutputOptions::default(),
        }
    }
}

/// Counts reported at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    pub reads: u64,
    pub mapped: u64,
    pub alignments: u64,
    pub cells: u64,
    pub insert_model: Option<(i64, i64, i64)>,
}

/// A chunk after seeding: its reads, what seeding found for each, and the packed batch to align.
pub struct SeededChunk {
    pub reads: Vec<Read>,
    /// Each read's windows and seeding facts, in read order.
    pub seeds: Vec<Candidates>,
    /// Tasks of read `i` are `first_task[i]..first_task[i + 1]`, one per window, in order.
    pub first_task: Vec<usize>,
    pub batch: AlignBatch,
}

/// Finds every read's candidate windows and packs them into one batch.
pub fn seed_chunk(index: &Index, reads: Vec<Read>, opts: &MapOptions) -> SeededChunk {
    let seeds: Vec<_> = reads
        .par_iter()
        .map_init(SeedScratch::default, |s, r| find_candidates(index, &r.codes, &opts.seed, s))
        .collect();
    // Pack the batch: each read's orientations once, then its windows, in read order.
    let mut batch = AlignBatch::new();
    let mut first_task = Vec::with_capacity(reads.len() + 1);
    let mut rc = Vec::new();
    for (read, c) in reads.iter().zip(&seeds) {
        first_task.push(batch.len());
        let mut fwd = None;
        let mut rev = None;
        for w in &c.windows {
            let q = if w.reverse {
                *rev.get_or_insert_with(|| {
                    dna::reverse_complement_into(&read.codes, &mut rc);
                    batch.push_query(&rc)
                })
            } else {
                *fwd.get_or_insert_with(|| batch.push_query(&read.codes))
            };
            batch.push_task(q, &index.seq[w.start as usize..w.end as usize]);
        }
    }
    first_task.push(batch.len());
    SeededChunk { reads, seeds, first_task, batch }
}

/// Aligns a seeded chunk's batch.
pub fn align_seeded(chunk: &SeededChunk, backend: &dyn AlignBackend, opts: &MapOptions) -> Result<Vec<Alignment>> {
    crate::backend::align_checked(backend, &chunk.batch, &opts.scoring)
}

/// Every read's hits from its windows' alignments.
pub fn collect_hits(index: &Index, chunk: &SeededChunk, alns: &[Alignment], opts: &MapOptions) -> Vec<ReadHits> {
    (0..chunk.reads.len())
        .into_par_iter()
        .map(|i| {
            let r = chunk.first_task[i]..chunk.first_task[i + 1];
            let (read, seeds) = (&chunk.reads[i].codes, &chunk.seeds[i]);
            let tasks = &chunk.batch.tasks[r.clone()];
            let mut hits = ReadHits::from_alignments(index, &chunk.batch, tasks, &seeds.windows, &alns[r], opts);
            hits.repetitive = (seeds.repetitive as usize * 1000 / read.len().max(1)) as u32;
            hits.unexamined = seeds.unexamined;
            hits.score_tandem_copies(index, read, &seeds.periods, &opts.scoring);
            hits
        })
        .collect()
}

/// Builds the records of a chunk (single reads, or mates adjacent when paired).
fn chunk_records(
    index: &Index,
    reads: &[Read],
    hits: &[ReadHits],
    paired: bool,
    model: Option<&InsertModel>,
    opts: &MapOptions,
) -> Vec<SamRecord> {
    let (sc, out) = (&opts.scoring, &opts.output);
    if !paired {
        return reads
            .par_iter()
            .zip(hits)
            .flat_map_iter(|(r, h)| {
                // The read's other parts (split reads) are no rivals to its primary.
                let q = h.best().map_or(0, |_| mapq::single_end(&split::competing(h, 0, r.codes.len() as u32), sc));
                records::single(r, h, q, index, sc, out)
            })
            .collect();
    }
    reads
        .par_chunks(2)
        .zip(hits.par_chunks(2))
        .flat_map_iter(|(r, h)| {
            let choice = pair::choose([&h[0], &h[1]], [r[0].codes.len() as u32, r[1].codes.len() as u32], model, sc);
            records::pair([&r[0], &r[1]], [&h[0], &h[1]], &choice, index, sc, out)
        })
        .collect()
}

/// Maps every read of `source` and writes the records; returns counts for the summary line.
///
/// Five stages on their own threads, joined by bounded channels so that each works on a
/// different chunk at the same time: read, seed (rayon), align (the backend), finish (hits,
/// pairing, MAPQ and records, rayon) and write. Chunks pass through every stage in input
/// order.
pub fn map_reads(
    index: &Index,
    mut source: ReadSource,
    backend: &dyn AlignBackend,
    opts: &MapOptions,
    writer: &mut SamWriter,
) -> Result<MapStats> {
    let paired = source.is_paired();
    let chunk_reads = opts.chunk_reads.max(2);
    let mut stats = MapStats::default();
    std::thread::scope(|scope| -> Result<MapStats> {
        let (chunk_tx, chunk_rx) = sync_channel::<Result<Vec<Read>>>(1);
        let (seeded_tx, seeded_rx) = sync_channel::<Result<SeededChunk>>(1);
        let (aligned_tx, aligned_rx) = sync_channel::<Result<(SeededChunk, Vec<Alignment>)>>(1);
        let (rec_tx, rec_rx) = sync_channel::<Vec<SamRecord>>(2);
        scope.spawn(move || loop {
            let mut chunk = Vec::with_capacity(chunk_reads);
            let item = match source.next_chunk(chunk_reads, &mut chunk) {
                Ok(false) => break,
                Ok(true) => Ok(chunk),
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if chunk_tx.send(item).is_err() || failed {
                break;
            }
        });
        scope.spawn(move || {
            for item in chunk_rx {
                let seeded = item.map(|reads| seed_chunk(index, reads, opts));
                let failed = seeded.is_err();
                if seeded_tx.send(seeded).is_err() || failed {
                    break;
                }
            }
        });
        scope.spawn(move || {
            for item in seeded_rx {
                let aligned = item.and_then(|c| align_seeded(&c, backend, opts).map(|a| (c, a)));
                let failed = aligned.is_err();
                if aligned_tx.send(aligned).is_err() || failed {
                    break;
                }
            }
        });
        let write_thread = scope.spawn(move || -> Result<()> {
            for recs in rec_rx {
                for r in &recs {
                    writer.write(r)?;
                }
            }
            Ok(())
        });

        let mut run = || -> Result<()> {
            // Pairs wait here until the insert-size model is fixed from the first pairs.
            let mut pending: Vec<(Vec<Read>, Vec<ReadHits>)> = Vec::new();
            let mut pending_reads = 0usize;
            let mut model: Option<Option<InsertModel>> = if paired { None } else { Some(None) };
            let emit = |reads: &[Read], mut hits: Vec<ReadHits>, model: Option<&InsertModel>, stats: &mut MapStats| {
                if let Some(m) = model {
                    rescue_mates(index, reads, &mut hits, m, backend, opts)?;
                }
                let recs = chunk_records(index, reads, &hits, paired, model, opts);
                // Primary records only: supplementary and secondary ones are extra lines, not reads.
                let not_primary_or_unmapped = records::UNMAPPED | records::SECONDARY | records::SUPPLEMENTARY;
                stats.mapped += recs.iter().filter(|r| r.flags & not_primary_or_unmapped == 0).count() as u64;
                Ok::<bool, Error>(rec_tx.send(recs).is_ok())
            };
            for item in aligned_rx.iter() {
                let (chunk, alns) = item?;
                stats.reads += chunk.reads.len() as u64;
                stats.alignments += chunk.batch.len() as u64;
                stats.cells += chunk.batch.cells();
                let hits = collect_hits(index, &chunk, &alns, opts);
                let reads = chunk.reads;
                match &model {
                    Some(m) => {
                        if !emit(&reads, hits, m.as_ref(), &mut stats)? {
                            return Ok(());
                        }
                    }
                    None => {
                        pending_reads += reads.len();
                        pending.push((reads, hits));
                        if pending_reads >= 2 * ESTIMATION_PAIRS {
                            let m = estimate(&pending, &opts.scoring);
                            for (r, h) in pending.drain(..) {
                                if !emit(&r, h, m.as_ref(), &mut stats)? {
                                    return Ok(());
                                }
                            }
                            model = Some(m);
                        }
                    }
                }
            }
            if model.is_none() {
                let m = estimate(&pending, &opts.scoring);
                for (r, h) in pending.drain(..) {
                    if !emit(&r, h, m.as_ref(), &mut stats)? {
                        return Ok(());
                    }
                }
                model = Some(m);
            }
            stats.insert_model = model.flatten().map(|m| (m.mean.round() as i64, m.low, m.high));
            Ok(())
        };
        let result = run();
        drop(rec_tx);
        // Dropping the receiver unblocks the upstream stages if we stopped early.
        drop(aligned_rx);
        let written = write_thread.join().expect("writer thread never panics");
        result?;
        written?;
        Ok(stats.clone())
    })
}

/// The insert-size model from the first `ESTIMATION_PAIRS` pairs of the pending chunks.
fn estimate(pending: &[(Vec<Read>, Vec<ReadHits>)], sc: &Scoring) -> Option<InsertModel> {
    let pairs: Vec<(&ReadHits, &ReadHits)> =
        pending.iter().flat_map(|(_, h)| h.chunks(2).map(|p| (&p[0], &p[1]))).take(ESTIMATION_PAIRS).collect();
    InsertModel::fit(&pairs, sc).inspect_err(pair::NoModel::warn).ok()
}
