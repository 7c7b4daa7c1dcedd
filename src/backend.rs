//! Alignment backends. Each takes an [`AlignBatch`] and returns one [`Alignment`] per task, in
//! task order; all of them compute the recurrence of `crate::align` and must agree exactly.

mod cpu;
mod gpu;

pub use cpu::CpuBackend;
pub use gpu::{GpuBackend, GpuInfo};

use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::Result;

/// What the user asked for with `--backend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// A hardware GPU when one works, else the CPU.
    Auto,
    /// Any GPU adapter, software ones (lavapipe) included; an error when none works.
    Gpu,
    Cpu,
}

/// The interface the mapper aligns through.
pub trait AlignBackend: Send + Sync {
    /// One line for stderr: which backend, which adapter.
    fn describe(&self) -> String;

    /// Aligns every task of `batch`.
    fn align(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<Vec<Alignment>>;
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
            .map(|t| crate::align::align_reference(batch.query(t), batch.target(t), scoring))
            .collect())
    }
}

/// Opens the backend the user chose. `threads` sizes the CPU backend's pool (the caller has
/// already configured rayon's global pool with it). Returns the backend and its stderr line.
pub fn open(choice: BackendChoice) -> Result<Box<dyn AlignBackend>> {
    match choice {
        BackendChoice::Cpu => Ok(Box::new(CpuBackend::new())),
        BackendChoice::Gpu => Ok(Box::new(GpuBackend::new(true)?)),
        BackendChoice::Auto => match GpuBackend::new(false) {
            Ok(gpu) => Ok(Box::new(gpu)),
            Err(e) => {
                eprintln!("[swmap] no usable hardware GPU ({e}); using the CPU backend");
                Ok(Box::new(CpuBackend::new()))
            }
        },
    }
}
