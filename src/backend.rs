//! Alignment backends. Each takes an [`AlignBatch`] and returns one [`Alignment`] per task, in
//! task order; all of them compute the recurrence of `crate::align` and must agree exactly.

mod cpu;
#[cfg(feature = "gpu")]
mod gpu;
#[cfg(not(feature = "gpu"))]
#[path = "backend/no_gpu.rs"]
mod gpu;

pub use cpu::CpuBackend;
pub use gpu::GpuBackend;

use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use crate::index::Reference;

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

/// Reads per chunk on the CPU: 10,000 keeps the chunks in flight small (measured with the
/// format-1 index: about 700 MB peak for 100k 2x150 pairs on human chr20, index included,
/// against 1.6 GB at 200,000) and their memory out of the kernel's page-fault path (system
/// time 0.45 s instead of 0.9 s), at no cost in CPU time.
pub const CPU_CHUNK_READS: usize = 10_000;

/// Reads per chunk on a GPU: some 77,000 tasks a batch, about half an H200's resident
/// invocations, which is no loss while the host takes some 30 times the kernel's time per
/// read (docs/benchmarks.md). 200,000 kept memory growing with the input (chr20 on lavapipe:
/// 945 MiB for 100k pairs, 1.77 GB for 400k: about five chunks of some 250 MB alive across
/// the stages); at 50,000 it is flat (see docs/benchmarks.md), lavapipe 3% slower.
pub const GPU_CHUNK_READS: usize = 50_000;

/// The interface the mapper aligns through.
pub trait AlignBackend: Send + Sync {
    /// One line for stderr: which backend, which adapter.
    fn describe(&self) -> String;

    /// Aligns every task of `batch`.
    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>>;

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
}

/// Aligns `batch` on `backend` and checks every result against its task
/// ([`AlignBatch::check_results`]): the mapper aligns only through this, so a backend's bug
/// becomes an error, never a SAM record that does not fit its read.
pub fn align_checked(backend: &dyn AlignBackend, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
    let alns = if batch.is_empty() { Vec::new() } else { backend.align(batch, scoring)? };
    batch.check_results(&alns, scoring).map_err(|e| Error::Backend(backend.describe(), e))?;
    Ok(alns)
}

/// The slow oracle as a backend, so that tests can run the same checks over every engine.
pub struct ReferenceBackend;

impl AlignBackend for ReferenceBackend {
    fn describe(&self) -> String {
        "reference (full-matrix oracle)".to_string()
    }

    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>> {
        Ok(batch
            .tasks
            .iter()
            .map(|t| crate::align::align_reference_banded(batch.query(t), batch.target(t), t.band(), scoring))
            .collect())
    }
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
