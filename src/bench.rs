//! Alignment-kernel throughput (`swmap bench`): a seeded synthetic batch of read/window pairs,
//! aligned by the GPU and the CPU backend, timed, and checked to give identical results.
//!
//! Throughput is in GCUPS (giga cell updates per second): query length x target length summed
//! over the tasks, divided by seconds and 1e9, the unit Smith-Waterman kernels are compared in.
//! The GPU is timed twice: the kernels alone, from timestamp queries where the adapter has
//! them, and the whole call, uploads and readback included. Every backend runs the batch once
//! untimed first (a fresh GPU idles at a low clock and buffers grow on first use), then
//! `repeats` timed runs of which the best counts.
//!
//! [`run_bench`] measures and returns a [`BenchReport`]; printing is the CLI's business, and
//! tests assert on the results it carries, never on its timings.

use crate::align::{Alignment, Band, Scoring};
use crate::backend::{AlignBackend, CpuBackend, GpuBackend, GpuInfo};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use crate::index::Index;
use crate::io::read::Read;
use crate::options::MapOptions;
use crate::rng::Rng;
use crate::seed::{find_candidates_into, Candidates, SeedScratch};
use std::time::Instant;

/// Pairs that are a random read against a random window (most candidate windows of a real
/// mapper are wrong ones, and they cost the same cells).
const UNRELATED: f64 = 0.1;
/// Per read base: a substitution, an inserted run, a deleted run (runs of 1-3 bases). About
/// 1.5% of bases are touched, the level of a read's errors plus variants.
const SUBSTITUTION: f64 = 0.012;
const INSERTION: f64 = 0.0015;
const DELETION: f64 = 0.0015;
/// Ns in the windows, so the ambiguous-base path is timed and compared too.
const N_RATE: f64 = 0.0005;

/// Which backends `swmap bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BenchBackends {
    /// The GPU (any adapter, software ones included) if one works, and the CPU; compares them.
    All,
    /// The GPU only; an error when no adapter works.
    Gpu,
    /// The CPU only.
    Cpu,
}

/// What to measure. Build it, then [`BenchOptions::validate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// Which backends to time.
    pub backends: BenchBackends,
    /// Read/window pairs in the batch, one task each.
    pub pairs: usize,
    /// Query length in bases (at least 1).
    pub read_len: usize,
    /// Target (reference window) length in bases; at least `read_len`.
    pub window: usize,
    /// Confine each task to the band of diagonals `0..=window - read_len`, as the mapper does
    /// its windows (the read anywhere inside the window, never hanging off an end); otherwise
    /// the whole matrix.
    pub banded: bool,
    /// Seed of [`synthetic_batch`]: the same seed gives the same batch on every platform.
    pub seed: u64,
    /// Timed runs per backend after the warm-up; the best is reported.
    pub repeats: usize,
}

impl Default for BenchOptions {
    /// 20,000 pairs of 150 x 300: a few seconds per backend on a 2-core CPU.
    fn default() -> Self {
        BenchOptions {
            backends: BenchBackends::All,
            pairs: 20_000,
            read_len: 150,
            window: 300,
            banded: false,
            seed: 1,
            repeats: 3,
        }
    }
}

impl BenchOptions {
    /// Checks ranges, with a sentence a user can act on.
    pub fn validate(&self) -> Result<()> {
        if self.pairs == 0 || self.read_len == 0 || self.repeats == 0 {
            return Err(Error::Options("--pairs, --read-len and --repeats must be at least 1".into()));
        }
        if self.window < self.read_len {
            return Err(Error::Options(format!(
                "--window {} is shorter than --read-len {}: a window must be able to hold its read",
                self.window, self.read_len
            )));
        }
        let cells = self.pairs as u128 * self.read_len as u128 * self.window as u128;
        if self.pairs as u128 * self.window as u128 > u32::MAX as u128 || cells > u64::MAX as u128 {
            return Err(Error::Options("--pairs x --window must stay below 4 G bases (batch offsets are u32)".into()));
        }
        Ok(())
    }
}

/// The seeded batch: `pairs` tasks, each a `read_len` query against its own `window`-base
/// target. Nine in ten reads are copied from a random place in their window with
/// substitutions and small indels (a read running off the window's end is filled with random
/// bases, i.e. clipped); one in ten is unrelated. The same arguments give the same batch on
/// every platform, and a smaller `pairs` gives a prefix of a larger one. With `banded`, every
/// task has the band of diagonals `0..=window - read_len`.
pub fn synthetic_batch(pairs: usize, read_len: usize, window: usize, seed: u64, banded: bool) -> AlignBatch {
    let mut rng = Rng::new(seed);
    let mut batch = AlignBatch::new();
    let (mut target, mut read) = (Vec::with_capacity(window), Vec::with_capacity(read_len));
    for _ in 0..pairs {
        target.clear();
        target.extend((0..window).map(|_| if rng.chance(N_RATE) { 4 } else { rng.base() }));
        read.clear();
        if rng.chance(UNRELATED) {
            read.extend((0..read_len).map(|_| rng.base()));
        } else {
            sample_read(&target, read_len, &mut rng, &mut read);
        }
        let q = batch.push_query(&read);
        if banded {
            batch.push_banded_task(q, &target, Band { lo: 0, hi: (window - read_len) as i32 });
        } else {
            batch.push_task(q, &target);
        }
    }
    batch
}

/// Copies `read_len` bases of `target` from a random start into `out`, mutating as it goes.
fn sample_read(target: &[u8], read_len: usize, rng: &mut Rng, out: &mut Vec<u8>) {
    let mut j = rng.below((target.len().saturating_sub(read_len) + 1) as u64) as usize;
    while out.len() < read_len {
        let here = target.get(j).copied().unwrap_or_else(|| rng.base());
        let x = rng.uniform();
        if x < SUBSTITUTION {
            out.push(rng.other_base(here, here));
            j += 1;
        } else if x < SUBSTITUTION + INSERTION {
            let run = 1 + rng.below(3);
            out.extend((0..run).map(|_| rng.base()));
        } else if x < SUBSTITUTION + INSERTION + DELETION {
            j += 1 + rng.below(3) as usize;
        } else {
            out.push(here);
            j += 1;
        }
    }
    out.truncate(read_len);
}

/// The GPU's best times.
#[derive(Clone, Debug)]
pub struct GpuMeasurement {
    /// The adapter that ran.
    pub info: GpuInfo,
    /// Fastest kernel time over the repeats (timestamp queries); `None` where the adapter has
    /// no timestamps.
    pub kernel_ns: Option<u64>,
    /// Fastest whole call (upload, kernels, readback) over the repeats.
    pub total_ns: u64,
    /// Dispatches one run of the batch took.
    pub dispatches: usize,
    /// How the kernel was built ([`GpuBackend::kernel`]).
    pub kernel: String,
}

/// What became of the GPU side of the bench.
#[derive(Clone, Debug)]
pub enum GpuOutcome {
    /// `--backend cpu`.
    NotAsked,
    /// `--backend all` found no working adapter; the reason.
    Unavailable(String),
    /// The GPU ran the batch; its times.
    Measured(GpuMeasurement),
}

/// The CPU backend's best time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuMeasurement {
    /// Threads of the rayon pool it ran on.
    pub threads: usize,
    /// Fastest whole call over the repeats, in nanoseconds.
    pub ns: u64,
}

/// Whether the GPU and the CPU gave the same `Vec<Alignment>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Only one backend ran.
    NotCompared,
    /// Both ran and every alignment is equal.
    Identical,
    /// The first task whose results differ, with both results (`None` past a short vector's end).
    Differ {
        /// Index of the first differing task (or the shorter vector's length).
        task: usize,
        /// The GPU's result for that task.
        gpu: Option<Alignment>,
        /// The CPU's result for that task.
        cpu: Option<Alignment>,
    },
}

/// Everything [`run_bench`] measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    /// The options it ran with.
    pub options: BenchOptions,
    /// Tasks and DP cells of the batch.
    pub tasks: usize,
    /// DP cells of the batch (each task's band, the whole matrix unless banded, summed): the
    /// GCUPS numerator.
    pub cells: u64,
    /// The GPU side: not asked, unavailable, or its times.
    pub gpu: GpuOutcome,
    /// The CPU's times; `None` with [`BenchBackends::Gpu`].
    pub cpu: Option<CpuMeasurement>,
    /// Whether the two backends' results were identical.
    pub agreement: Agreement,
}

/// Giga cell updates per second.
pub fn gcups(cells: u64, ns: u64) -> f64 {
    cells as f64 / ns.max(1) as f64
}

impl BenchReport {
    /// Kernel-only GCUPS, where the adapter has timestamps and the kernel ran at all.
    pub fn gpu_kernel_gcups(&self) -> Option<f64> {
        let g = self.measured_gpu().filter(|g| g.dispatches > 0)?;
        g.kernel_ns.map(|ns| gcups(self.cells, ns))
    }

    /// GCUPS of the whole GPU call, transfers included.
    pub fn gpu_total_gcups(&self) -> Option<f64> {
        self.measured_gpu().map(|g| gcups(self.cells, g.total_ns))
    }

    /// GCUPS of the CPU backend's whole call; `None` when the CPU did not run.
    pub fn cpu_gcups(&self) -> Option<f64> {
        self.cpu.map(|c| gcups(self.cells, c.ns))
    }

    fn measured_gpu(&self) -> Option<&GpuMeasurement> {
        match &self.gpu {
            GpuOutcome::Measured(g) => Some(g),
            _ => None,
        }
    }
}

/// Builds the batch, then warms up, times and compares the backends `options` names, with
/// default scoring. The CPU runs on rayon's current pool.
pub fn run_bench(options: &BenchOptions) -> Result<BenchReport> {
    options.validate()?;
    let batch = synthetic_batch(options.pairs, options.read_len, options.window, options.seed, options.banded);
    let scoring = Scoring::default();
    let (gpu, gpu_results) = match options.backends {
        BenchBackends::Cpu => (GpuOutcome::NotAsked, None),
        BenchBackends::Gpu => {
            let (m, r) = time_gpu(&GpuBackend::new(true)?, &batch, &scoring, options.repeats)?;
            (GpuOutcome::Measured(m), Some(r))
        }
        BenchBackends::All => match GpuBackend::new(true) {
            Ok(backend) => {
                let (m, r) = time_gpu(&backend, &batch, &scoring, options.repeats)?;
                (GpuOutcome::Measured(m), Some(r))
            }
            Err(e) => (GpuOutcome::Unavailable(e.to_string()), None),
        },
    };
    let (cpu, cpu_results) = match options.backends {
        BenchBackends::Gpu => (None, None),
        _ => {
            let (m, r) = time_cpu(&batch, &scoring, options.repeats)?;
            (Some(m), Some(r))
        }
    };
    let agreement = match (&gpu_results, &cpu_results) {
        (Some(g), Some(c)) => compare(g, c),
        _ => Agreement::NotCompared,
    };
    Ok(BenchReport { options: options.clone(), tasks: batch.len(), cells: batch.cells(), gpu, cpu, agreement })
}

/// Warm-up, then the best of `repeats`; returns the last run's results.
fn time_gpu(
    backend: &GpuBackend,
    batch: &AlignBatch,
    sc: &Scoring,
    repeats: usize,
) -> Result<(GpuMeasurement, Vec<Alignment>)> {
    let (mut results, _) = backend.align_timed(batch, sc)?;
    let (mut kernel_ns, mut total_ns, mut dispatches) = (None::<u64>, u64::MAX, 0);
    for _ in 0..repeats {
        let (r, t) = backend.align_timed(batch, sc)?;
        results = r;
        kernel_ns = t.kernel_ns.map(|k| kernel_ns.map_or(k, |best| best.min(k)));
        total_ns = total_ns.min(t.total_ns);
        dispatches = t.dispatches;
    }
    Ok((
        GpuMeasurement { info: backend.info.clone(), kernel_ns, total_ns, dispatches, kernel: backend.kernel() },
        results,
    ))
}

/// Warm-up, then the best of `repeats`; returns the last run's results.
fn time_cpu(batch: &AlignBatch, sc: &Scoring, repeats: usize) -> Result<(CpuMeasurement, Vec<Alignment>)> {
    let backend = CpuBackend::new();
    let mut results = backend.align(batch, sc)?;
    let mut ns = u64::MAX;
    for _ in 0..repeats {
        let start = Instant::now();
        results = backend.align(batch, sc)?;
        ns = ns.min(start.elapsed().as_nanos() as u64);
    }
    Ok((CpuMeasurement { threads: rayon::current_num_threads(), ns }, results))
}

/// The whole vectors must be equal; otherwise the first task where they are not.
fn compare(gpu: &[Alignment], cpu: &[Alignment]) -> Agreement {
    if gpu == cpu {
        return Agreement::Identical;
    }
    let task = gpu.iter().zip(cpu).position(|(g, c)| g != c).unwrap_or(gpu.len().min(cpu.len()));
    Agreement::Differ { task, gpu: gpu.get(task).cloned(), cpu: cpu.get(task).cloned() }
}

/// Seeds `reads` one after the other on this thread and returns how many candidate windows
/// they have: the per-read cost of seeding alone (`cargo bench --bench pipeline -- seed`).
pub fn seed_reads(index: &Index, reads: &[Read], opts: &MapOptions) -> usize {
    let mut scratch = SeedScratch::default();
    let mut found = Candidates::default();
    reads
        .iter()
        .map(|r| {
            find_candidates_into(index, &r.codes, &opts.seed, &mut scratch, &mut found);
            found.windows.len()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_batch_is_deterministic_per_seed() {
        let a = synthetic_batch(300, 150, 300, 7, false);
        let b = synthetic_batch(300, 150, 300, 7, false);
        assert_eq!((&a.queries, &a.targets, &a.tasks), (&b.queries, &b.targets, &b.tasks));
        let c = synthetic_batch(300, 150, 300, 8, false);
        assert_ne!(a.queries, c.queries);
        assert_ne!(a.targets, c.targets);
    }

    #[test]
    fn synthetic_batch_has_the_asked_shape_and_a_smaller_one_is_a_prefix() {
        let big = synthetic_batch(500, 150, 300, 3, false);
        assert_eq!(big.len(), 500);
        assert!(big.tasks.iter().all(|t| t.query_len == 150 && t.target_len == 300));
        assert_eq!(big.cells(), 500 * 150 * 300);
        assert!(big.queries.iter().chain(&big.targets).all(|&c| c <= 4));
        let small = synthetic_batch(100, 150, 300, 3, false);
        assert_eq!(small.tasks[..], big.tasks[..100]);
        assert_eq!(small.queries[..], big.queries[..small.queries.len()]);
    }

    #[test]
    fn most_reads_align_well_to_their_windows() {
        // Guards the mutation model: reads taken from their window should score near their
        // length, as in mapping, not like random pairs.
        let batch = synthetic_batch(200, 150, 300, 5, false);
        let results = CpuBackend::new().align(&batch, &Scoring::default()).unwrap();
        let good = results.iter().filter(|a| a.score >= 100).count();
        assert!((150..=195).contains(&good), "{good} of 200 reads align with score >= 100");
    }

    #[test]
    fn compare_names_the_first_differing_task() {
        let batch = synthetic_batch(20, 50, 80, 1, false);
        let a = CpuBackend::new().align(&batch, &Scoring::default()).unwrap();
        assert_eq!(compare(&a, &a), Agreement::Identical);
        let mut b = a.clone();
        b[7].score += 1;
        b[12].score += 1;
        assert!(matches!(compare(&b, &a), Agreement::Differ { task: 7, .. }));
        assert!(matches!(compare(&a[..5], &a), Agreement::Differ { task: 5, gpu: None, cpu: Some(_) }));
    }

    #[test]
    fn options_are_checked() {
        let bad = |f: fn(&mut BenchOptions)| {
            let mut o = BenchOptions::default();
            f(&mut o);
            o.validate().is_err()
        };
        assert!(!bad(|_| {}));
        assert!(bad(|o| o.pairs = 0));
        assert!(bad(|o| o.repeats = 0));
        assert!(bad(|o| o.window = 100));
    }
}
