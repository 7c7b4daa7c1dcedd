//! The mapping driver, and the library's front door: a [`Mapper`] takes reads (from FASTQ
//! readers or from memory, single or paired) and hands back, in input order, each read's
//! [`Placement`] and SAM records.
//!
//! A chunk of reads goes through the stages in the order of the algorithm:
//! **seed** (candidate windows, [`crate::seed`]) and **pack** (one [`AlignBatch`]), **align**
//! (the backend, every result checked against its task), **place** (hits, mate rescue,
//! pairing, MAPQ, supplementary and secondary choices, [`crate::place`]) and **format**
//! (SAM records, [`crate::sam::format`]). `map::pipeline` runs consecutive chunks through these
//! stages on their own threads at the same time; it holds the threads and channels and no
//! step of the algorithm.
//!
//! Pairs wait before placement until the insert-size model is fixed from the first
//! [`ESTIMATION_PAIRS`] pairs of the input (`ModelGate`), unless the options give the model
//! ([`MapOptions::insert_model`], bwa-mem's `-I`). Every decision about a read depends
//! only on that read, its mate and that model, so the output is the same for any chunk size,
//! thread count or backend.

mod pipeline;
mod spares;
mod stats;

pub use stats::{PipelineBusy, Stage, StageTimes, PIPELINE_THREADS};

use crate::align::Alignment;
use crate::backend::{align_checked_timed, AlignBackend, AlignPart, PartTimer};
use crate::batch::{AlignBatch, AlignTask, NO_ORIGIN};
use crate::dna;
use crate::error::{Error, Result};
use crate::index::Index;
use crate::io::read::Read;
use crate::io::read_source::ReadSource;
use crate::options::{InsertSizes, MapOptions};
use crate::place::hit::tie_seed;
use crate::place::pair::{InsertModel, Tandem, ESTIMATION_PAIRS};
use crate::place::rescue::Rescue;
use crate::place::{place_pair, place_single, Placement, ReadHits};
use crate::sam::{format, EncodeScratch, EncodedRecords, SamRecord, SamWriter, ENCODE_RUN};
use crate::seed::{find_candidates_block, Candidates, SeedScratch, SEED_BLOCK};
use rayon::prelude::*;
use smallvec::SmallVec;
use std::sync::Arc;

/// Counts reported at the end of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapStats {
    /// Reads in (mates count singly).
    pub reads: u64,
    /// Reads with a primary alignment.
    pub mapped: u64,
    /// Reads placed in proper pairs (`0x2`).
    pub proper: u64,
    /// Alignment tasks of the main batches (mate rescue not counted).
    pub alignments: u64,
    /// Dynamic-programming cells of those tasks.
    pub cells: u64,
    /// The insert-size model the pairs were placed with.
    pub insert_model: Option<InsertModel>,
    /// CPU time per stage, from a mapper made [`Mapper::with_stage_times`].
    pub stage_times: Option<StageTimes>,
    /// How busy each pipeline thread was, from a run with its stages overlapped (any mapper
    /// not made [`Mapper::with_stage_times`]).
    pub pipeline_busy: Option<PipelineBusy>,
}

/// One read as the mapper hands it back: the read, what was decided for it, and its records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappedRead {
    /// The read as it came in.
    pub read: Read,
    /// Every decision about the read: its hits, primary and other parts, MAPQs and mate.
    pub placement: Placement,
    /// The SAM records of the read, in output order (formatted from `placement`).
    pub records: Vec<SamRecord>,
}

/// Maps reads against an index on a backend, with fixed options.
///
/// # Examples
///
/// ```
/// use swmap::{Contig, CpuBackend, Index, IndexParams, MapOptions, Mapper, Read};
///
/// // A random 2 kb reference and a read copied from it.
/// let mut x = 12345u64;
/// let seq: Vec<u8> = (0..2000).map(|_| { x = x.wrapping_mul(6364136223846793005).wrapping_add(1); (x >> 62) as u8 }).collect();
/// let index = Index::build(vec![Contig { name: "chr1".into(), seq: seq.clone() }], IndexParams::default());
/// let read = Read { name: b"r1".to_vec(), codes: seq[500..600].to_vec(), qual: vec![30; 100], comment: vec![] };
///
/// let backend = CpuBackend::new();
/// let mapper = Mapper::new(&index, &backend, MapOptions::default()).unwrap();
/// let mapped = mapper.map_single(vec![read]).unwrap();
/// let primary = mapped[0].placement.primary().unwrap();
/// assert_eq!((primary.contig, primary.pos), (0, 500));
/// assert_eq!(mapped[0].records[0].cigar.to_string(), "100M");
/// ```
pub struct Mapper<'a> {
    index: &'a Index,
    backend: &'a dyn AlignBackend,
    opts: MapOptions,
    /// Set by [`Mapper::with_stage_times`].
    times: Option<StageTimes>,
    /// Spent chunks' buffers, filled again.
    spares: spares::Spares,
    /// Per contig, whether it is an ALT contig ([`Mapper::with_alt_contigs`]); empty: none.
    alt: Vec<bool>,
    /// The mapper's own threads ([`Mapper::with_threads`]); `None`: rayon's global pool.
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// A chunk after seeding: its reads, what seeding found for each, and the packed batch.
struct SeededChunk {
    reads: Vec<Read>,
    /// Each read's windows and seeding facts, in read order.
    seeds: Vec<Candidates>,
    /// Tasks of read `i` are `first_task[i]..first_task[i + 1]`, one per window, in order.
    first_task: Vec<usize>,
    batch: AlignBatch,
}

/// A chunk after alignment: its reads and their hits, ready to be placed.
struct AlignedChunk {
    reads: Vec<Read>,
    hits: Vec<ReadHits>,
    tasks: u64,
    cells: u64,
}

impl<'a> Mapper<'a> {
    /// A mapper of `index` on `backend`; the options are checked here.
    pub fn new(index: &'a Index, backend: &'a dyn AlignBackend, opts: MapOptions) -> Result<Mapper<'a>> {
        opts.validate()?;
        backend.use_reference(index.reference())?;
        Ok(Mapper { index, backend, opts, times: None, spares: Default::default(), alt: Vec::new(), pool: None })
    }

    /// Treats the named contigs as ALT contigs, as bwa-mem does with an `.alt` file: a read's
    /// primary record goes to its best hit on the primary assembly when it has one, hits on ALT
    /// contigs lower no MAPQ of a primary-assembly hit and appear in `XA`, a primary-assembly
    /// hit chosen over a better ALT one carries `pa:f`, and pairs are made of primary-assembly
    /// hits. Names not among the index's contigs are an error.
    pub fn with_alt_contigs<S: AsRef<str>>(mut self, names: &[S]) -> Result<Mapper<'a>> {
        let mut alt = vec![false; self.index.contigs.len()];
        for name in names {
            let name = name.as_ref();
            let i = self
                .index
                .contigs
                .iter()
                .position(|c| c.name == name)
                .ok_or_else(|| Error::Options(format!("ALT contig {name} is not a contig of the index")))?;
            alt[i] = true;
        }
        self.alt = if alt.iter().any(|&a| a) { alt } else { Vec::new() };
        Ok(self)
    }

    /// Reads per chunk: the options' choice, else the backend's (at least 2, so a pair
    /// never straddles chunks).
    pub(crate) fn chunk_reads(&self) -> usize {
        self.opts.chunk_reads.unwrap_or_else(|| self.backend.chunk_reads()).max(2)
    }

    /// A mapper that does its parallel work (parsing, seeding, the CPU backend's alignment,
    /// placing, formatting) on `threads` threads of its own instead of rayon's global pool, so
    /// that mappers in one process can each have their own number of threads. The output is
    /// the same for any number.
    pub fn with_threads(self, threads: usize) -> Result<Mapper<'a>> {
        Ok(self.with_pool(Mapper::thread_pool(threads)?))
    }

    /// A pool of `threads` threads for [`Mapper::with_pool`].
    pub fn thread_pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
        if threads == 0 {
            return Err(Error::Options("a mapper needs at least 1 thread".into()));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("swmap-{i}"))
            .build()
            .map_err(|e| Error::Options(format!("cannot start {threads} threads: {e}")))?;
        Ok(Arc::new(pool))
    }

    /// A mapper that does its parallel work on `pool` ([`Mapper::thread_pool`]), which other
    /// mappers may share (a binding that makes a mapper per call keeps one pool for them all).
    pub fn with_pool(mut self, pool: Arc<rayon::ThreadPool>) -> Mapper<'a> {
        self.pool = Some(pool);
        self
    }

    /// Runs `f` on the mapper's threads ([`Mapper::with_threads`]), or as it is.
    pub(crate) fn pooled<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// A mapper that measures the CPU time of every stage ([`MapStats::stage_times`]). It
    /// runs the stages of a chunk one after the other rather than overlapped (see
    /// [`StageTimes`]), so it is a little slower; the output is the same.
    pub fn with_stage_times(mut self) -> Mapper<'a> {
        self.times = Some(StageTimes::default());
        self
    }

    /// Runs `f`, counting its CPU time to `stage` when stages are measured.
    fn timed<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        match &self.times {
            Some(t) => t.time(stage, f),
            None => f(),
        }
    }

    /// The index it maps against.
    pub fn index(&self) -> &Index {
        self.index
    }

    /// The options it maps with (validated by [`Mapper::new`]).
    pub fn options(&self) -> &MapOptions {
        &self.opts
    }

    /// Maps every read of `source` in chunks, handing each chunk's reads to `sink` in input
    /// order as soon as they are done; `sink` returns `false` to stop early (a closed pipe).
    /// Memory stays bounded: a few chunks are in flight at a time.
    pub fn map_source(
        &self,
        source: ReadSource,
        sink: impl FnMut(Vec<MappedRead>) -> Result<bool>,
    ) -> Result<MapStats> {
        let finish = |reads: &mut Vec<Read>, placements: &mut Vec<Placement>| {
            self.formatted(std::mem::take(reads), std::mem::take(placements))
        };
        pipeline::run(self, source, &finish, sink)
    }

    /// Maps `source` and writes every record to `writer`, in input order. The records are
    /// formatted and encoded on the worker threads, each run of `ENCODE_RUN` reads into
    /// its own bytes (the reads kept, to be parsed into again); `writer` only writes the bytes.
    pub fn write_sam(&self, source: ReadSource, writer: &mut SamWriter) -> Result<MapStats> {
        self.write_sam_reporting(source, writer, |_| {})
    }

    /// [`Mapper::write_sam`], calling `progress` with the number of reads written so far
    /// after each chunk (for a progress line).
    pub fn write_sam_reporting(
        &self,
        source: ReadSource,
        writer: &mut SamWriter,
        mut progress: impl FnMut(u64),
    ) -> Result<MapStats> {
        let (index, out, encoder) = (self.index, &self.opts.output, writer.encoder().clone());
        let finish = |reads: &mut Vec<Read>, placements: &mut Vec<Placement>| -> Vec<EncodedRecords> {
            reads
                .par_chunks(ENCODE_RUN)
                .zip(placements.par_chunks(ENCODE_RUN))
                // Per thread: the encoder's scratch, and records whose buffers are used again.
                .map_init(
                    || (EncodeScratch::default(), format::RecordPool::default(), Vec::new()),
                    |(scratch, pool, recs), (reads, placements)| {
                        let mut bytes = encoder.start(2 * reads.len());
                        for (i, (read, placement)) in reads.iter().zip(placements).enumerate() {
                            if let Some(ahead) = placements.get(i + FORMAT_PREFETCH) {
                                format::prefetch_reference(ahead, index);
                            }
                            format::records_into(read, placement, index, out, pool, recs);
                            // Duplicate marking scores a pair by both mates' qualities.
                            let mate =
                                placement.pairing.as_ref().filter(|_| encoder.wants_mate_scores()).and_then(|p| {
                                    let at = if p.first { i + 1 } else { i.checked_sub(1)? };
                                    reads.get(at).filter(|m| m.name == read.name)
                                });
                            for rec in recs.drain(..) {
                                encoder.push_with_mate(&mut bytes, &rec, scratch, mate.map(|m| m.qual.as_slice()));
                                pool.recycle(rec);
                            }
                        }
                        bytes.set_reads(reads.len() as u64);
                        bytes
                    },
                )
                .collect()
        };
        let mut written = 0u64;
        pipeline::run(self, source, &finish, |runs| {
            // On the mapper's threads: a sorted output sorts its records in parallel here.
            self.pooled(|| runs.iter().try_for_each(|run| writer.write_encoded(run)))?;
            written += runs.iter().map(|r| r.reads()).sum::<u64>();
            progress(written);
            Ok(true)
        })
    }

    /// The insert-size model a mapping run of `source` (pairs) would estimate, from the same
    /// first `ESTIMATION_PAIRS` pairs, reading no further than the chunk holding the last of
    /// them; `None` when too few pairs are usable (warned about as a run warns). Written to a
    /// file and given to every shard of an input (`--insert-model`), it makes the shards'
    /// records those of one run over the whole input.
    pub fn estimate_insert_model(&self, mut source: ReadSource) -> Result<Option<InsertModel>> {
        if !source.is_paired() {
            return Err(Error::Options(
                "an insert-size model is estimated from pairs: give two reads files, or -p".into(),
            ));
        }
        let sc = self.opts.scoring;
        let mut gate = ModelGate::new(true, InsertSizes::Estimated);
        while let ModelGate::Waiting { reads: held, .. } = gate {
            let mut reads = Vec::with_capacity(self.chunk_reads());
            let want = (2 * ESTIMATION_PAIRS - held).max(2);
            if !source.next_chunk(self.chunk_reads().min(want), &mut reads)? {
                gate.fix(&sc);
                break;
            }
            gate.push(self.pooled(|| self.align(self.seed(reads)))?, &sc);
        }
        Ok(gate.model().copied())
    }

    /// Maps single-end reads held in memory.
    pub fn map_single(&self, reads: Vec<Read>) -> Result<Vec<MappedRead>> {
        let n = reads.len();
        self.collect(ReadSource::Reads(Box::new(reads.into_iter())), n)
    }

    /// Maps pairs held in memory (mate 1, mate 2); the insert-size model comes from their
    /// first `ESTIMATION_PAIRS`. Mate 1's read is first in each returned pair.
    pub fn map_pairs(&self, pairs: Vec<(Read, Read)>) -> Result<Vec<[MappedRead; 2]>> {
        let n = 2 * pairs.len();
        let all = self.collect(ReadSource::Pairs(Box::new(pairs.into_iter()), 0), n)?;
        let mut it = all.into_iter();
        let mut out = Vec::with_capacity(it.len() / 2);
        while let (Some(a), Some(b)) = (it.next(), it.next()) {
            out.push([a, b]);
        }
        Ok(out)
    }

    /// Every read of `source`, `reads` of them, mapped: in one chunk on this thread when they
    /// fit one (a few reads at a time, as a binding maps them, start no pipeline threads).
    fn collect(&self, source: ReadSource, reads: usize) -> Result<Vec<MappedRead>> {
        let mut all = Vec::with_capacity(reads);
        let sink = |chunk: Vec<MappedRead>| {
            all.extend(chunk);
            Ok(true)
        };
        if reads <= self.chunk_reads() && self.times.is_none() {
            let finish = |reads: &mut Vec<Read>, placements: &mut Vec<Placement>| {
                self.formatted(std::mem::take(reads), std::mem::take(placements))
            };
            // On one of the mapper's threads from the start: the stages' parallel work then
            // runs there without a hand-over to the pool for each.
            self.pooled(|| pipeline::run_in_turn(self, None, source, &finish, sink))?;
        } else {
            self.map_source(source, sink)?;
        }
        Ok(all)
    }

    /// Format: each read with its placement and records.
    fn formatted(&self, reads: Vec<Read>, placements: Vec<Placement>) -> Vec<MappedRead> {
        let (index, out) = (self.index, &self.opts.output);
        reads
            .into_par_iter()
            .zip(placements)
            .map(|(read, placement)| {
                let records = format::records(&read, &placement, index, out);
                MappedRead { read, placement, records }
            })
            .collect()
    }

    /// Seed: every read's candidate windows; pack: one batch holding each read's orientations
    /// once and its windows, in read order.
    fn seed(&self, reads: Vec<Read>) -> SeededChunk {
        let (index, opts) = (self.index, &self.opts.seed);
        let seeds: Vec<Candidates> = self.timed(Stage::Seed, || {
            let mut seeds = self.spares.seeds.take();
            seeds.resize_with(reads.len(), Candidates::default);
            let blocks = reads.par_chunks(SEED_BLOCK).zip(seeds.par_chunks_mut(SEED_BLOCK));
            blocks.for_each_init(SeedScratch::default, |s, (reads, out)| {
                let codes: SmallVec<[&[u8]; SEED_BLOCK]> = reads.iter().map(|r| &r.codes[..]).collect();
                find_candidates_block(index, &codes, opts, s, out);
            });
            seeds
        });
        self.timed(Stage::Pack, || pack(index, reads, seeds, self.spares.batches.take()))
    }

    /// Align the batch on the backend, and turn each read's results into its hits.
    fn align(&self, chunk: SeededChunk) -> Result<AlignedChunk> {
        let mut alns: Vec<Alignment> = align_checked_timed(self.backend, &chunk.batch, &self.opts.scoring, self)?;
        let hits = self.timed(Stage::Hits, || {
            // Each read's results, to move their CIGARs into its hits.
            let mut per_read = Vec::with_capacity(chunk.reads.len());
            let mut rest = alns.as_mut_slice();
            for i in 0..chunk.reads.len() {
                let (mine, after) =
                    std::mem::take(&mut rest).split_at_mut(chunk.first_task[i + 1] - chunk.first_task[i]);
                per_read.push(mine);
                rest = after;
            }
            // Spent placements give their hits' room to this chunk's.
            let mut spent = self.spares.placements.take();
            spent.resize_with(chunk.reads.len(), Placement::default);
            let hits = per_read
                .into_par_iter()
                .zip(&mut spent)
                .enumerate()
                .map_init(Vec::new, |window, (i, (alns, spent))| {
                    let tasks = chunk.first_task[i]..chunk.first_task[i + 1];
                    let (read, seeds) = (&chunk.reads[i], &chunk.seeds[i]);
                    let (index, seed, opts) = (self.index, tie_seed(&read.name), &self.opts);
                    let (batch, room) = (&chunk.batch, std::mem::take(&mut spent.hits));
                    ReadHits::new(index, &read.codes, seed, seeds, batch, tasks, alns, opts, room, window)
                })
                .collect();
            // Emptied of their hits, they go (not back to the spares, where they would be
            // taken for full ones).
            drop(spent);
            hits
        });
        self.spares.seeds.give(chunk.seeds);
        let (tasks, cells) = (chunk.batch.len() as u64, chunk.batch.cells());
        self.spares.batches.give(chunk.batch);
        Ok(AlignedChunk { reads: chunk.reads, hits, tasks, cells })
    }

    /// Rescue mates (pairs with a model) and place every read; the reads come back with
    /// their placements, to be formatted.
    fn place(
        &self,
        chunk: AlignedChunk,
        paired: bool,
        model: Option<&InsertModel>,
    ) -> Result<(Vec<Read>, Vec<Placement>)> {
        let AlignedChunk { reads, mut hits, .. } = chunk;
        let opts = &self.opts;
        if let Some(m) = model.filter(|_| paired) {
            // The rescue windows' alignment is timed as the main batch's (shortcut, kernels).
            let rescue = self.timed(Stage::Rescue, || Rescue::prepare(self.index, &reads, &hits, m));
            let alns = align_checked_timed(self.backend, rescue.batch(), &opts.scoring, self)?;
            self.timed(Stage::Rescue, || rescue.merge(alns, &mut hits, opts));
        }
        let len = |r: &Read| r.codes.len() as u32;
        let placements: Vec<Placement> = self.timed(Stage::Place, || {
            if paired {
                let pairs: Vec<[ReadHits; 2]> = pair_up(hits);
                pairs
                    .into_par_iter()
                    .zip(reads.par_chunks(2))
                    .flat_map_iter(|(h, r)| {
                        let tandem = Tandem { index: self.index, reads: [&r[0].codes, &r[1].codes] };
                        place_pair(h, [len(&r[0]), len(&r[1])], model, opts, &self.alt, Some(&tandem))
                    })
                    .collect()
            } else {
                hits.into_par_iter().zip(&reads).map(|(h, r)| place_single(h, len(r), opts, &self.alt)).collect()
            }
        });
        Ok((reads, placements))
    }
}

/// The alignment stage's parts are counted to their own stages: the shortcut and the checks
/// to [`Stage::Shortcut`], the kernels to [`Stage::Align`].
impl PartTimer for Mapper<'_> {
    fn time<T>(&self, part: AlignPart, f: impl FnOnce() -> T) -> T {
        let stage = match part {
            AlignPart::Shortcut => Stage::Shortcut,
            AlignPart::Kernels => Stage::Align,
        };
        self.timed(stage, f)
    }
}

/// Reads a pack piece holds: enough to amortise a piece's start, small enough that 16 threads
/// share a 50,000-read chunk.
const PACK_PIECE: usize = 1024;

/// Pack: one batch holding each read's orientations once and its windows, in read order. The
/// place of every read's queries, windows and tasks is counted first, and the pieces of the
/// chunk then write theirs in place on the pool (each window's bases decoded from the 2-bit
/// reference straight into the batch), into `batch`: a spent chunk's, whose room is used
/// again (a chunk's batch is tens of megabytes, which a fresh allocation takes from the
/// system page by page).
fn pack(index: &Index, reads: Vec<Read>, seeds: Vec<Candidates>, mut batch: AlignBatch) -> SeededChunk {
    // Where each read's queries, windows and tasks start, and where the last one ends.
    let mut first_task = Vec::with_capacity(reads.len() + 1);
    let mut starts = Vec::with_capacity(reads.len() + 1);
    let (mut queries, mut targets, mut tasks) = (0usize, 0usize, 0usize);
    for (read, c) in reads.iter().zip(&seeds) {
        first_task.push(tasks);
        starts.push((queries, targets));
        let (fwd, rev) = (c.windows.iter().any(|w| !w.reverse), c.windows.iter().any(|w| w.reverse));
        queries += read.codes.len() * (fwd as usize + rev as usize);
        targets += c.windows.iter().map(|w| (w.end - w.start) as usize).sum::<usize>();
        tasks += c.windows.len();
    }
    first_task.push(tasks);
    starts.push((queries, targets));
    // Every element is written below; what the spent batch held is only overwritten.
    batch.queries.resize(queries, 0);
    batch.queries.truncate(queries);
    batch.targets.resize(targets, 0);
    batch.targets.truncate(targets);
    batch.tasks.resize(tasks, AlignTask::default());
    batch.tasks.truncate(tasks);
    batch.origins.resize(tasks, NO_ORIGIN);
    batch.origins.truncate(tasks);
    batch.reference = (tasks > 0).then(|| index.reference().id());
    // The pieces, each with its own part of the four arrays.
    let mut parts = Vec::with_capacity(reads.len().div_ceil(PACK_PIECE));
    let (mut q, mut t) = (&mut batch.queries[..], &mut batch.targets[..]);
    let (mut k, mut o) = (&mut batch.tasks[..], &mut batch.origins[..]);
    for first in (0..reads.len()).step_by(PACK_PIECE) {
        let end = (first + PACK_PIECE).min(reads.len());
        let (qa, qb) = std::mem::take(&mut q).split_at_mut(starts[end].0 - starts[first].0);
        let (ta, tb) = std::mem::take(&mut t).split_at_mut(starts[end].1 - starts[first].1);
        let (ka, kb) = std::mem::take(&mut k).split_at_mut(first_task[end] - first_task[first]);
        let (oa, ob) = std::mem::take(&mut o).split_at_mut(first_task[end] - first_task[first]);
        parts.push((first..end, PackPart { queries: qa, targets: ta, tasks: ka, origins: oa }));
        (q, t, k, o) = (qb, tb, kb, ob);
    }
    parts.into_par_iter().for_each(|(range, part)| {
        let at = starts[range.start];
        pack_piece(index, &reads[range.clone()], &seeds[range], at, part);
    });
    SeededChunk { reads, seeds, first_task, batch }
}

/// A pack piece's part of the batch's arrays.
struct PackPart<'b> {
    queries: &'b mut [u8],
    targets: &'b mut [u8],
    tasks: &'b mut [AlignTask],
    origins: &'b mut [u64],
}

/// How many reads ahead the formatting asks for the reference bases of MD and NM.
const FORMAT_PREFETCH: usize = 4;

/// How many reads ahead [`pack_piece`] asks for the windows' bases.
const PACK_PREFETCH: usize = 4;

/// One piece of [`pack`]: its reads' queries (each orientation once, in the order its windows
/// first ask for it), windows and tasks, written into `part`, whose queries and targets start
/// at `(query, target)` in the batch's.
fn pack_piece(index: &Index, reads: &[Read], seeds: &[Candidates], (query, target): (usize, usize), part: PackPart) {
    let reference = index.reference();
    let (mut q, mut t, mut k) = (0usize, 0usize, 0usize);
    for (i, (read, c)) in reads.iter().zip(seeds).enumerate() {
        // The windows of a read a few reads on are fetched from memory meanwhile.
        for w in seeds.get(i + PACK_PREFETCH).map_or(&[][..], |c| &c.windows) {
            reference.prefetch(w.start..w.end);
        }
        let len = read.codes.len();
        let (mut fwd, mut rev) = (None, None);
        for w in &c.windows {
            let written = if w.reverse { &mut rev } else { &mut fwd };
            let query_offset = match *written {
                Some(at) => at,
                None => {
                    let out = &mut part.queries[q..q + len];
                    if w.reverse {
                        dna::reverse_complement_to(&read.codes, out);
                    } else {
                        out.copy_from_slice(&read.codes);
                    }
                    let at = (query + q) as u32;
                    q += len;
                    *written = Some(at);
                    at
                }
            };
            let n = (w.end - w.start) as usize;
            let has_n = reference.fetch_into(w.start..w.end, &mut part.targets[t..t + n]);
            part.tasks[k] = AlignTask {
                query_offset,
                query_len: len as u32,
                target_offset: (target + t) as u32,
                target_len: n as u32,
                diag_lo: w.band.0,
                diag_hi: w.band.1,
            };
            part.origins[k] = if has_n { NO_ORIGIN } else { w.start };
            t += n;
            k += 1;
        }
    }
    debug_assert_eq!((q, t, k), (part.queries.len(), part.targets.len(), part.tasks.len()));
}

/// Mates' hits, adjacent in `hits`, as pairs.
fn pair_up(hits: Vec<ReadHits>) -> Vec<[ReadHits; 2]> {
    let mut it = hits.into_iter();
    let mut out = Vec::with_capacity(it.len() / 2);
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push([a, b]);
    }
    out
}

/// Holds aligned chunks of pairs back until the insert-size model is fixed from the first
/// [`ESTIMATION_PAIRS`] pairs of the input (or all of a shorter input), then lets every
/// chunk through with it. Single reads pass at once, without a model.
enum ModelGate {
    Waiting { chunks: Vec<AlignedChunk>, reads: usize },
    Fixed(Option<InsertModel>),
}

impl ModelGate {
    /// A gate for pairs (`paired`) whose model comes from `sizes`.
    fn new(paired: bool, sizes: InsertSizes) -> ModelGate {
        match (paired, sizes) {
            (true, InsertSizes::Given(model)) => ModelGate::Fixed(Some(model)),
            (true, InsertSizes::Without) | (false, _) => ModelGate::Fixed(None),
            (true, InsertSizes::Estimated) => ModelGate::Waiting { chunks: Vec::new(), reads: 0 },
        }
    }

    /// Takes a chunk; returns the chunks that may be placed now, in input order.
    fn push(&mut self, chunk: AlignedChunk, sc: &crate::align::Scoring) -> Vec<AlignedChunk> {
        let ModelGate::Waiting { chunks, reads } = self else { return vec![chunk] };
        *reads += chunk.reads.len();
        chunks.push(chunk);
        if *reads >= 2 * ESTIMATION_PAIRS {
            self.fix(sc)
        } else {
            Vec::new()
        }
    }

    /// At the end of the input: fixes the model if still waiting; returns what was held.
    fn fix(&mut self, sc: &crate::align::Scoring) -> Vec<AlignedChunk> {
        let ModelGate::Waiting { chunks, .. } = self else { return Vec::new() };
        let chunks = std::mem::take(chunks);
        let pairs: Vec<(&ReadHits, &ReadHits)> =
            chunks.iter().flat_map(|c| c.hits.chunks(2).map(|p| (&p[0], &p[1]))).take(ESTIMATION_PAIRS).collect();
        let model = InsertModel::fit(&pairs, sc).inspect_err(|no| no.warn()).ok();
        *self = ModelGate::Fixed(model);
        chunks
    }

    fn model(&self) -> Option<&InsertModel> {
        match self {
            ModelGate::Fixed(m) => m.as_ref(),
            ModelGate::Waiting { .. } => None,
        }
    }
}
