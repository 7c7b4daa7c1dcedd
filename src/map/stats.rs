//! Where the CPU time goes, stage by stage (`swmap map --stats`): each stage's process CPU
//! time, summed over the run. Stages run concurrently in the pipeline, so a measuring run
//! ([`super::Mapper::with_stage_times`]) takes the chunks through the stages one after the
//! other instead, each stage still using every thread; the process's CPU time over a stage is
//! then that stage's alone. BGZF compression of BAM output runs on its own threads and is
//! counted in whichever stage runs meanwhile: measure with SAM output.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The stages, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Reading the input, decompression included, cut into whole records (the reading thread).
    Read,
    /// Parsing the records (on the worker threads).
    Parse,
    /// Minimizer lookup, hit grouping, candidate windows.
    Seed,
    /// Packing reads and windows into the batch.
    Pack,
    /// The exact shortcut (tasks answered without DP) and the checks of every result: on the
    /// CPU, whatever runs the kernels.
    Shortcut,
    /// The alignment kernels (the backend's work).
    Align,
    /// Alignments to hits: best-stretch scores, merging, tandem copies.
    Hits,
    /// Mate rescue: its windows and their alignment.
    Rescue,
    /// Pairing, MAPQ, supplementary and secondary choices.
    Place,
    /// SAM records from placements (NM, MD, tags), and their bytes (SAM text or BAM
    /// encoding) when writing a file; dropping the chunk's reads.
    Format,
    /// Handing the chunk to the sink: the SAM/BAM writer writing bytes.
    Write,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 11] = [
        Stage::Read,
        Stage::Parse,
        Stage::Seed,
        Stage::Pack,
        Stage::Shortcut,
        Stage::Align,
        Stage::Hits,
        Stage::Rescue,
        Stage::Place,
        Stage::Format,
        Stage::Write,
    ];

    /// The stage's name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Parse => "parse",
            Stage::Seed => "seed",
            Stage::Pack => "pack",
            Stage::Shortcut => "shortcut",
            Stage::Align => "align",
            Stage::Hits => "hits",
            Stage::Rescue => "rescue",
            Stage::Place => "place",
            Stage::Format => "format",
            Stage::Write => "write",
        }
    }
}

/// CPU time per stage over a run.
#[derive(Debug, Default)]
pub struct StageTimes {
    ns: [AtomicU64; Stage::ALL.len()],
}

impl Clone for StageTimes {
    fn clone(&self) -> StageTimes {
        let t = StageTimes::default();
        for (a, b) in t.ns.iter().zip(&self.ns) {
            a.store(b.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        t
    }
}

impl PartialEq for StageTimes {
    fn eq(&self, other: &StageTimes) -> bool {
        Stage::ALL.iter().all(|&s| self.get(s) == other.get(s))
    }
}

impl Eq for StageTimes {}

impl StageTimes {
    /// CPU time spent in `stage`.
    pub fn get(&self, stage: Stage) -> Duration {
        Duration::from_nanos(self.ns[stage as usize].load(Ordering::Relaxed))
    }

    /// CPU time of every stage but the alignment kernels.
    pub fn outside_kernels(&self) -> Duration {
        Stage::ALL.iter().filter(|&&s| s != Stage::Align).map(|&s| self.get(s)).sum()
    }

    /// Runs `f`, adding the process CPU time it took to `stage`.
    pub(crate) fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let start = process_cpu();
        let out = f();
        let spent = process_cpu().saturating_sub(start);
        self.ns[stage as usize].fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        out
    }

    /// One line: microseconds of CPU per read for each stage, as `--stats` prints it.
    pub fn per_read_line(&self, reads: u64) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6 / reads.max(1) as f64;
        let stages: Vec<String> = Stage::ALL.iter().map(|&s| format!("{} {:.2}", s.name(), us(self.get(s)))).collect();
        let total: Duration = Stage::ALL.iter().map(|&s| self.get(s)).sum();
        format!(
            "CPU us per read: {}; outside the kernels {:.2}, total {:.2}",
            stages.join(", "),
            us(self.outside_kernels()),
            us(total)
        )
    }
}

/// CPU time of the whole process so far (every thread).
fn process_cpu() -> Duration {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0 {
            return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    // No process clock: wall time since the first call (exact when one thread works).
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The threads of the overlapped pipeline, in order ([`PipelineBusy`]).
pub const PIPELINE_THREADS: [&str; 5] =
    ["read", "seed (parse, seed, pack)", "align (kernels, hits)", "place (rescue, place, format)", "write"];

/// How busy each thread of the overlapped pipeline was over a run: the time it spent on its
/// chunks (the work it hands to the pool included), out of the run's wall time; the rest it
/// waited on its neighbours. The thread near 100% is the one that bounds the run; on a machine
/// with cores to spare, making the others faster changes nothing. Work a thread hands to the
/// pool counts while it waits for it, so where the pool has no core to spare (2 cores, a
/// CPU-bound run) every thread that uses it looks busy: the figure tells most on a machine
/// whose cores outnumber what the run keeps busy (a GPU server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PipelineBusy {
    /// Each thread's time on its chunks, in [`PIPELINE_THREADS`] order.
    pub busy: [Duration; PIPELINE_THREADS.len()],
    /// The run's wall time.
    pub wall: Duration,
}

/// Adds up each pipeline thread's busy time while a run goes ([`PipelineBusy`]).
#[derive(Default)]
pub(crate) struct BusyClock([AtomicU64; PIPELINE_THREADS.len()]);

impl BusyClock {
    /// Runs `f` on thread `thread` ([`PIPELINE_THREADS`]), counting its wall time.
    pub(crate) fn time<T>(&self, thread: usize, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = f();
        self.0[thread].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    /// The times counted, over a run of `wall`.
    pub(crate) fn read(&self, wall: Duration) -> PipelineBusy {
        PipelineBusy { busy: std::array::from_fn(|i| Duration::from_nanos(self.0[i].load(Ordering::Relaxed))), wall }
    }
}

impl PipelineBusy {
    /// Each thread's busy share of the run's wall time, in [`PIPELINE_THREADS`] order.
    pub fn shares(&self) -> [f64; PIPELINE_THREADS.len()] {
        let wall = self.wall.as_secs_f64().max(1e-9);
        self.busy.map(|b| b.as_secs_f64() / wall)
    }

    /// One line, as `swmap map --pipeline-busy` prints it.
    pub fn line(&self) -> String {
        let shares: Vec<String> =
            PIPELINE_THREADS.iter().zip(self.shares()).map(|(name, s)| format!("{name} {:.0}%", 100.0 * s)).collect();
        format!("pipeline threads busy: {}", shares.join(", "))
    }
}
