//! The threads and channels that run [`Mapper`]'s steps on consecutive chunks at the same
//! time, and nothing of the algorithm: read (input decompressed and cut into whole records) →
//! parse, seed and pack → align → place and the caller's `finish` (formatting) → the caller's
//! sink (on the calling thread). Stages are joined by channels of one chunk, so at most about
//! six chunks are alive at once; the parsing, seeding, placing and formatting inside a stage
//! run on rayon's pool. Chunks pass every stage in input order.
//!
//! A stage that fails sends its error downstream and stops; the sink's thread returns the
//! first error. A sink that stops early (a closed pipe) drops its receiver, and every stage
//! upstream stops at its next send.

use super::stats::BusyClock;
use super::{AlignedChunk, MapStats, Mapper, ModelGate, Stage};
use crate::error::Result;
use crate::io::fastq::RawChunk;
use crate::io::read::Read;
use crate::io::read_source::ReadSource;
use crate::place::Placement;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Runs `step` on every item of `input`, sending results on; stops after the first error or
/// when the next stage is gone.
fn stage<A, B>(input: Receiver<Result<A>>, output: SyncSender<Result<B>>, mut step: impl FnMut(A) -> Result<B>) {
    for item in input {
        let result = item.and_then(&mut step);
        let failed = result.is_err();
        if output.send(result).is_err() || failed {
            break;
        }
    }
}

/// What the placing stage does last with a chunk's reads and placements, on its thread (in
/// parallel inside): formatting, whose result goes to the sink. What it leaves of them is
/// filled again by later chunks (`super::spares`); it takes them to keep them.
pub(super) type Finish<'f, T> = &'f (dyn Fn(&mut Vec<Read>, &mut Vec<Placement>) -> T + Sync);

/// Formats a placed chunk with `finish`, and gives what it leaves to the mapper's spares.
fn finished<T>(mapper: &Mapper, finish: Finish<T>, mut reads: Vec<Read>, mut placements: Vec<Placement>) -> T {
    let out = finish(&mut reads, &mut placements);
    mapper.spares.reads.give(reads);
    mapper.spares.placements.give(placements);
    out
}

/// Reads, mapped reads and reads in proper pairs among `placements`.
fn counts(placements: &[Placement]) -> [u64; 3] {
    let proper = placements.iter().filter(|p| p.pairing.as_ref().is_some_and(|m| m.proper)).count();
    [placements.len() as u64, placements.iter().filter(|p| p.is_mapped()).count() as u64, proper as u64]
}

pub(super) fn run<T: Send>(
    mapper: &Mapper,
    source: ReadSource,
    finish: Finish<T>,
    sink: impl FnMut(T) -> Result<bool>,
) -> Result<MapStats> {
    match &mapper.times {
        Some(times) => run_in_turn(mapper, Some(times), source, finish, sink),
        None => run_overlapped(mapper, source, finish, sink),
    }
}

/// `f`, its CPU time counted for `stage` when `times` is given.
fn timed<T>(times: Option<&super::StageTimes>, stage: Stage, f: impl FnOnce() -> T) -> T {
    match times {
        Some(times) => times.time(stage, f),
        None => f(),
    }
}

/// The stages of each chunk one after the other on this thread (each still parallel inside):
/// so that each stage's CPU time can be told apart ([`super::StageTimes`]), or for reads that
/// make one chunk, where the overlapped pipeline's threads would cost more than they save.
pub(super) fn run_in_turn<T: Send>(
    mapper: &Mapper,
    times: Option<&super::StageTimes>,
    mut source: ReadSource,
    finish: Finish<T>,
    mut sink: impl FnMut(T) -> Result<bool>,
) -> Result<MapStats> {
    let paired = source.is_paired();
    let chunk_reads = mapper.chunk_reads();
    let sc = mapper.opts.scoring;
    let mut gate = ModelGate::new(paired, mapper.opts.insert_model);
    let mut stats = MapStats::default();
    let mut place = |ready: Vec<AlignedChunk>, gate: &ModelGate, stats: &mut MapStats| -> Result<bool> {
        for chunk in ready {
            stats.alignments += chunk.tasks;
            stats.cells += chunk.cells;
            let (reads, placements) = mapper.pooled(|| mapper.place(chunk, paired, gate.model()))?;
            let [n, mapped, proper] = counts(&placements);
            stats.reads += n;
            stats.mapped += mapped;
            stats.proper += proper;
            let out = timed(times, Stage::Format, || mapper.pooled(|| finished(mapper, finish, reads, placements)));
            if !timed(times, Stage::Write, || sink(out))? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    loop {
        let raw = timed(times, Stage::Read, || source.next_raw(chunk_reads))?;
        if raw.is_empty() {
            break;
        }
        let mut reads = mapper.spares.reads.take();
        timed(times, Stage::Parse, || mapper.pooled(|| raw.parse(&mut reads)))?;
        let aligned = mapper.pooled(|| mapper.align(mapper.seed(reads)))?;
        let ready = gate.push(aligned, &sc);
        if !place(ready, &gate, &mut stats)? {
            return Ok(with_model(stats, &gate, times));
        }
    }
    let held = gate.fix(&sc);
    place(held, &gate, &mut stats)?;
    Ok(with_model(stats, &gate, times))
}

fn with_model(mut stats: MapStats, gate: &ModelGate, times: Option<&super::StageTimes>) -> MapStats {
    stats.insert_model = gate.model().copied();
    stats.stage_times = times.cloned();
    stats
}

/// Chunks waiting between two stages: one for chunks up to 50,000 reads (the CPU backend's
/// 10,000 and a GPU's 50,000), so that a stage finds work ready; none for larger ones (set
/// with `--chunk-reads`; 200,000 reads are some 250 MB at their largest), each stage then
/// handing its chunk straight to the next (chr20, 400k pairs on lavapipe with 200,000-read
/// chunks: 1.77 GB peak with one queued, 1.69 GB with none; see docs/benchmarks.md).
fn queued_chunks(chunk_reads: usize) -> usize {
    if chunk_reads > 50_000 {
        0
    } else {
        1
    }
}

/// Starts a pipeline stage's thread, named `swmap-STAGE` (so that `top -H` and per-thread
/// CPU times tell the stages apart). Failing to start a thread is fatal, as for any
/// `std::thread::scope` spawn.
fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    stage: &str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    std::thread::Builder::new()
        .name(format!("swmap-{stage}"))
        .spawn_scoped(scope, f)
        .unwrap_or_else(|e| panic!("cannot start the {stage} thread: {e}"))
}

/// The stages on their own threads, consecutive chunks in flight at once.
fn run_overlapped<T: Send>(
    mapper: &Mapper,
    mut source: ReadSource,
    finish: Finish<T>,
    mut sink: impl FnMut(T) -> Result<bool>,
) -> Result<MapStats> {
    let paired = source.is_paired();
    let chunk_reads = mapper.chunk_reads();
    let sc = mapper.opts.scoring;
    let (busy, start) = (&BusyClock::default(), std::time::Instant::now());
    std::thread::scope(|scope| {
        let queued = queued_chunks(chunk_reads);
        let (read_tx, read_rx) = sync_channel::<Result<RawChunk>>(queued);
        let (seed_tx, seed_rx) = sync_channel(queued);
        let (align_tx, align_rx) = sync_channel::<Result<AlignedChunk>>(queued);
        let (done_tx, done_rx) = sync_channel::<Result<(T, [u64; 5])>>(queued);
        // The reading thread only reads and cuts records; the seeding stage parses them on
        // the pool.
        spawn(scope, "read", move || loop {
            let (stop, item) = match busy.time(0, || source.next_raw(chunk_reads)) {
                Ok(raw) if raw.is_empty() => break,
                Ok(raw) => (false, Ok(raw)),
                Err(e) => (true, Err(e)),
            };
            if read_tx.send(item).is_err() || stop {
                break;
            }
        });
        spawn(scope, "seed", move || {
            stage(read_rx, seed_tx, |raw| {
                busy.time(1, || {
                    mapper.pooled(|| {
                        let mut reads = mapper.spares.reads.take();
                        raw.parse(&mut reads)?;
                        Ok(mapper.seed(reads))
                    })
                })
            })
        });
        spawn(scope, "align", move || {
            stage(seed_rx, align_tx, |chunk| busy.time(2, || mapper.pooled(|| mapper.align(chunk))))
        });
        let finisher = spawn(scope, "place", move || {
            let mut gate = ModelGate::new(paired, mapper.opts.insert_model);
            let place = |ready: Vec<AlignedChunk>, gate: &ModelGate| -> bool {
                for chunk in ready {
                    let (tasks, cells) = (chunk.tasks, chunk.cells);
                    let placed = busy.time(3, || {
                        mapper.pooled(|| {
                            mapper.place(chunk, paired, gate.model()).map(|(reads, placements)| {
                                let [n, mapped, proper] = counts(&placements);
                                (finished(mapper, finish, reads, placements), [n, mapped, proper, tasks, cells])
                            })
                        })
                    });
                    let failed = placed.is_err();
                    if done_tx.send(placed).is_err() || failed {
                        return false;
                    }
                }
                true
            };
            for item in align_rx {
                match item {
                    Ok(chunk) => {
                        let ready = gate.push(chunk, &sc);
                        if !place(ready, &gate) {
                            return None;
                        }
                    }
                    Err(e) => {
                        let _ = done_tx.send(Err(e));
                        return None;
                    }
                }
            }
            let held = gate.fix(&sc);
            place(held, &gate);
            gate.model().copied()
        });

        let mut stats = MapStats::default();
        for item in done_rx.iter() {
            let (out, [reads, mapped, proper, tasks, cells]) = item?;
            stats.reads += reads;
            stats.mapped += mapped;
            stats.proper += proper;
            stats.alignments += tasks;
            stats.cells += cells;
            if !busy.time(4, || sink(out))? {
                break;
            }
        }
        // Dropping the receiver unblocks every stage upstream if the sink stopped early.
        drop(done_rx);
        let model = finisher.join().expect("the placing stage does not panic");
        stats.insert_model = model;
        Ok(stats)
    })
    .map(|mut stats: MapStats| {
        stats.pipeline_busy = Some(busy.read(start.elapsed()));
        stats
    })
}
