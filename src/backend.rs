//! Alignment backends. Each takes an [`AlignBatch`] and returns one [`Alignment`] per task, in
//! task order; all of them compute the recurrence of `crate::align` and must agree exactly.

mod cpu;
#[cfg(feature = "gpu")]
mod gpu;
#[cfg(not(feature = "gpu"))]
#[path = "backend/no_gpu.rs"]
mod gpu;
mod split;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;
pub use split::SplitBackend;

use crate::align::exact::exact_alignment;
use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use crate::index::Reference;
use rayon::prelude::*;

/// Adapter facts for the stderr line and `swmap bench`.
#[derive(Clone, Debug)]
pub struct GpuInfo {
    /// Adapter name, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Graphics API, e.g. "Vulkan".
    pub backend: String,
    /// "DiscreteGpu", "IntegratedGpu", "VirtualGpu", "Cpu" or "Other".
    pub device_type: String,
    /// Whether kernel time can be measured with timestamp queries.
    pub has_timestamps: bool,
    /// Invocations the adapter runs in lockstep at most (its subgroup size: 32 on NVIDIA, 8 on
    /// lavapipe); the GPU backend interleaves the work words of this many tasks.
    pub subgroup_size: u32,
    /// Whether the device runs subgroup operations (wgpu's optional subgroup feature), which
    /// the kernel with subgroup atomics needs.
    pub subgroups: bool,
}

/// Where the time of one [`GpuBackend::align_timed`] call went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuTiming {
    /// Kernel execution summed over the dispatches, from timestamp queries; `None` where the
    /// adapter has none.
    pub kernel_ns: Option<u64>,
    /// Wall time of the whole call: uploads, kernels, readback, CPU fallbacks.
    pub total_ns: u64,
    /// Kernel dispatches the batch took (0 when every task went to the CPU).
    pub dispatches: usize,
    /// Bytes of tasks, queries and windows sent to the device (windows read from the device's
    /// copy of the reference cost nothing here).
    pub uploaded_bytes: u64,
    /// Tasks the kernel aligned on the device.
    pub device_tasks: usize,
    /// Tasks aligned by the CPU kernel instead: queries longer than the kernel takes, loops
    /// past a driver's iteration limit, traceback larger than a dispatch may hold.
    pub cpu_tasks: usize,
}

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// A hardware GPU when one works, else the CPU.
    Auto,
    /// Any GPU adapter, software ones (lavapipe) included; an error when none works.
    Gpu,
    /// The rayon CPU backend, even when a GPU works.
    Cpu,
}

/// Reads per chunk on the CPU: 10,000 keeps the chunks in flight small (100k 2x150 pairs on
/// human chr20: about 700 MB peak against 1.6 GB at 200,000) and their memory out of the
/// kernel's page-fault path (system time 0.45 s instead of 0.9 s), at no cost in CPU time.
pub const CPU_CHUNK_READS: usize = 10_000;

/// Reads per chunk on a GPU: some 77,000 tasks a batch, about half an H200's resident
/// invocations, which is no loss while the host takes some 30 times the kernel's time per
/// read (docs/benchmarks.md). 200,000 keeps memory growing with the input (chr20 on lavapipe:
/// 945 MiB for 100k pairs, 1.77 GB for 400k: about five chunks of some 250 MB alive across
/// the stages); at 50,000 it is flat (see docs/benchmarks.md), lavapipe 3% slower.
pub const GPU_CHUNK_READS: usize = 50_000;

/// An alignment engine: the DP of `crate::align` for the tasks it is given. Engines never see
/// the tasks the exact shortcut answers ([`align_checked`] runs it first), so every engine
/// gains from it and none repeats it.
pub trait AlignBackend: Send + Sync {
    /// One line for stderr: which backend, which adapter.
    fn describe(&self) -> String;

    /// Aligns the tasks `ids` of `batch` (indices into [`AlignBatch::tasks`]) by DP, results
    /// in the order of `ids`.
    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Result<Vec<Alignment>>;

    /// Aligns every task of `batch` by DP, results in task order: the engine alone, without
    /// the exact shortcut (tests and benchmarks compare engines through it).
    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
        let all: Vec<usize> = (0..batch.len()).collect();
        self.align_tasks(batch, scoring, &all)
    }

    /// Offers the reference the batches' windows come from ([`AlignBatch::origins`]): a
    /// backend that keeps a copy of its own (the GPU, in device memory) then reads those
    /// windows there instead of receiving their bases. The default ignores it.
    fn use_reference(&self, _reference: &Reference) -> Result<()> {
        Ok(())
    }

    /// Reads per chunk this backend works best with, when
    /// [`crate::options::MapOptions::chunk_reads`] leaves it open: [`CPU_CHUNK_READS`] unless
    /// the backend says otherwise.
    fn chunk_reads(&self) -> usize {
        CPU_CHUNK_READS
    }

    /// How a backend of several engines ([`SplitBackend`]) has divided the work so far, as a
    /// line for stderr; `None` for a single engine.
    fn division(&self) -> Option<String> {
        None
    }
}

/// Aligns `batch` as the mapper does: tasks the exact shortcut answers
/// (`crate::align::exact`: a query found in its band with at most two mismatches, where the
/// shortcut proves what the recurrence gives) are done without DP, the rest go to `backend`,
/// and every result is checked against its task (its score, its CIGAR against query and
/// window, its band), so a backend's bug becomes an error, never a SAM record that does not
/// fit its read.
pub fn align_checked(backend: &dyn AlignBackend, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
    align_checked_timed(backend, batch, scoring, &Untimed)
}

/// The parts of [`align_checked`]: the shortcut and the checks run on the CPU whatever the
/// backend, the kernels wherever the backend runs them (`swmap map --stats` gives each its
/// own stage, so that what a GPU leaves to the CPU can be read off).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AlignPart {
    /// The exact shortcut, the merging of its results with the kernels', the result checks.
    Shortcut,
    /// The backend's kernels.
    Kernels,
}

/// Takes the time of each [`AlignPart`] of [`align_checked_timed`].
pub(crate) trait PartTimer {
    /// Runs `f`, counting its time to `part`.
    fn time<T>(&self, part: AlignPart, f: impl FnOnce() -> T) -> T;
}

/// A [`PartTimer`] that takes no time.
struct Untimed;

impl PartTimer for Untimed {
    fn time<T>(&self, _: AlignPart, f: impl FnOnce() -> T) -> T {
        f()
    }
}

/// [`align_checked`], each part timed by `timer`.
pub(crate) fn align_checked_timed(
    backend: &dyn AlignBackend,
    batch: &AlignBatch,
    scoring: &Scoring,
    timer: &impl PartTimer,
) -> Result<Vec<Alignment>> {
    let alns = if batch.is_empty() { Vec::new() } else { align_with_shortcut(backend, batch, scoring, timer)? };
    timer
        .time(AlignPart::Shortcut, || batch.check_results(&alns, scoring))
        .map_err(|e| Error::Backend(backend.describe(), e))?;
    Ok(alns)
}

/// Tasks answered by the exact shortcut, the others by `backend`; results in task order.
/// (Half the tasks of dwgsim's 1%-error reads on human chr20 need no DP.)
fn align_with_shortcut(
    backend: &dyn AlignBackend,
    batch: &AlignBatch,
    scoring: &Scoring,
    timer: &impl PartTimer,
) -> Result<Vec<Alignment>> {
    let tasks = &batch.tasks;
    let (exact, answered, dp) = timer.time(AlignPart::Shortcut, || {
        let exact: Vec<Option<Alignment>> = tasks
            .par_iter()
            .with_min_len(256)
            .map(|t| exact_alignment(batch.query(t), batch.target(t), t.band(), scoring))
            .collect();
        let (answered, dp): (Vec<usize>, Vec<usize>) = (0..tasks.len()).partition(|&k| exact[k].is_some());
        (exact, answered, dp)
    });
    let by_dp = if dp.is_empty() {
        Vec::new()
    } else {
        timer.time(AlignPart::Kernels, || backend.align_tasks(batch, scoring, &dp))?
    };
    if answered.is_empty() {
        return Ok(by_dp);
    }
    if by_dp.len() != dp.len() {
        let e = format!("{} results for {} tasks", by_dp.len(), dp.len());
        return Err(Error::Backend(backend.describe(), e));
    }
    Ok(timer.time(AlignPart::Shortcut, || {
        let by_shortcut = exact.into_iter().flatten().collect();
        scatter(tasks.len(), [(answered, by_shortcut), (dp, by_dp)])
    }))
}

/// The results of a split put back in place: each part pairs the positions (in `0..len`) it
/// was given with its results, in that order; together the parts cover every position once.
/// Every path that splits tasks between engines and merges their results goes through it.
pub(crate) fn scatter<A>(len: usize, parts: impl IntoIterator<Item = (Vec<usize>, Vec<A>)>) -> Vec<A> {
    let mut slots: Vec<Option<A>> = std::iter::repeat_with(|| None).take(len).collect();
    for (positions, results) in parts {
        assert_eq!(positions.len(), results.len(), "one result per position");
        for (p, a) in positions.into_iter().zip(results) {
            assert!(slots[p].replace(a).is_none(), "position {p} given to two parts");
        }
    }
    slots.into_iter().map(|a| a.expect("every position in some part")).collect()
}

/// The message of a panic's payload, on one line (an engine's panic becomes an error).
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The slow oracle as a backend, so that tests can run the same checks over every engine.
pub struct OracleBackend;

impl AlignBackend for OracleBackend {
    fn describe(&self) -> String {
        "reference (full-matrix oracle)".to_string()
    }

    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Result<Vec<Alignment>> {
        Ok(ids
            .iter()
            .map(|&k| {
                let t = &batch.tasks[k];
                crate::align::align_oracle_banded(batch.query(t), batch.target(t), t.band(), scoring)
            })
            .collect())
    }
}

/// Which GPUs to align on (`--gpus`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Gpus {
    /// The best usable adapter.
    #[default]
    Best,
    /// Every usable adapter.
    All,
    /// The first N usable adapters.
    First(usize),
    /// These adapters, counted from 0 in the order of [`GpuBackend::nth`]; one named twice
    /// gets two devices.
    List(Vec<usize>),
}

impl Gpus {
    /// `all`, a count, or a comma-separated list of adapter numbers.
    pub fn parse(text: &str) -> Result<Gpus> {
        let bad = || Error::Options(format!("--gpus {text}: expected 'all', a count, or adapter numbers such as 0,1"));
        if text == "all" {
            return Ok(Gpus::All);
        }
        if text.contains(',') {
            let list: Vec<usize> =
                text.split(',').map(|n| n.trim().parse().map_err(|_| bad())).collect::<Result<_>>()?;
            return Ok(Gpus::List(list));
        }
        match text.trim().parse::<usize>() {
            Ok(0) | Err(_) => Err(bad()),
            Ok(n) => Ok(Gpus::First(n)),
        }
    }
}

/// The CPU's part of the alignment beside the GPUs (`--cpu-share`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum CpuShare {
    /// The GPUs align everything.
    #[default]
    None,
    /// This share (0 to 1) of each batch's DP cells; the GPUs share the rest equally.
    Fixed(f64),
    /// As measured: each engine's share follows its speed ([`SplitBackend`]).
    Measured,
}

impl CpuShare {
    /// A share from 0 to 1, or `auto`.
    pub fn parse(text: &str) -> Result<CpuShare> {
        if text == "auto" {
            return Ok(CpuShare::Measured);
        }
        match text.trim().parse::<f64>() {
            Ok(0.0) => Ok(CpuShare::None),
            Ok(f) if (0.0..=1.0).contains(&f) => Ok(CpuShare::Fixed(f)),
            _ => Err(Error::Options(format!("--cpu-share {text}: expected a share from 0 to 1, or 'auto'"))),
        }
    }
}

/// Whether `--gpus` and `--cpu-share` fit `--backend`: they choose GPUs, so not with the CPU.
pub fn check_engines(choice: BackendChoice, gpus: &Gpus, cpu: CpuShare) -> Result<()> {
    if choice == BackendChoice::Cpu && (*gpus != Gpus::Best || cpu != CpuShare::None) {
        return Err(Error::Options("--gpus and --cpu-share choose GPUs: they need --backend gpu or auto".into()));
    }
    Ok(())
}

/// Opens the engines the user chose: [`open`] for one GPU or the CPU; with several GPUs or a
/// CPU share, a [`SplitBackend`] over them (the same output, see its documentation).
pub fn open_engines(choice: BackendChoice, gpus: &Gpus, cpu: CpuShare) -> Result<(Box<dyn AlignBackend>, String)> {
    if *gpus == Gpus::Best && cpu == CpuShare::None {
        return open(choice);
    }
    check_engines(choice, gpus, cpu)?;
    let allow_software = choice == BackendChoice::Gpu;
    let count = GpuBackend::count(allow_software);
    if count == 0 && choice == BackendChoice::Auto {
        return open(choice);
    }
    let numbers: Vec<usize> = match gpus {
        Gpus::Best => vec![0],
        Gpus::All => (0..count).collect(),
        Gpus::First(n) if *n > count => {
            return Err(Error::Gpu(format!("--gpus {n}: {count} usable GPU adapters found")));
        }
        Gpus::First(n) => (0..*n).collect(),
        Gpus::List(list) => list.clone(),
    };
    let mut engines: Vec<Box<dyn AlignBackend>> = Vec::new();
    for n in numbers {
        engines.push(Box::new(GpuBackend::nth(n, allow_software)?));
    }
    let gpu_count = engines.len();
    if cpu != CpuShare::None {
        engines.push(Box::new(CpuBackend::new()));
    }
    if engines.len() == 1 {
        let line = engines[0].describe();
        return Ok((engines.pop().expect("one engine"), line));
    }
    let split = SplitBackend::new(engines)?;
    let split = match cpu {
        CpuShare::Fixed(f) => {
            let mut shares = vec![(1.0 - f) / gpu_count as f64; gpu_count];
            shares.push(f);
            split.with_shares(&shares)?
        }
        CpuShare::None | CpuShare::Measured => split,
    };
    let line = split.describe();
    Ok((Box::new(split), line))
}

/// Opens the backend the user chose. Returns it with the one line stderr should show: which
/// backend and adapter, and for `Auto` without a hardware GPU, why the CPU runs instead.
pub fn open(choice: BackendChoice) -> Result<(Box<dyn AlignBackend>, String)> {
    let opened = |b: Box<dyn AlignBackend>| {
        let line = b.describe();
        (b, line)
    };
    match choice {
        BackendChoice::Cpu => Ok(opened(Box::new(CpuBackend))),
        BackendChoice::Gpu => Ok(opened(Box::new(GpuBackend::new(true)?))),
        BackendChoice::Auto => match GpuBackend::new(false) {
            Ok(gpu) => Ok(opened(Box::new(gpu))),
            Err(e) => {
                let cpu = CpuBackend::new();
                let line = format!("{} (no hardware GPU: {e})", cpu.describe());
                Ok((Box::new(cpu), line))
            }
        },
    }
}
