//! The GPU backend of a build without the `gpu` feature (no wgpu): [`GpuBackend::new`] says
//! so, and no value of the type can exist, so every other method is unreachable. The CPU
//! backend computes the same alignments.

use super::{AlignBackend, GpuInfo, GpuTiming};
use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use std::convert::Infallible;

/// A GPU backend that cannot be opened: this build has no GPU support.
pub struct GpuBackend {
    /// The adapter the backend opened (never set: no value of this type exists).
    pub info: GpuInfo,
    never: Infallible,
}

impl GpuBackend {
    /// Longest query the kernel aligns (as in a build with the `gpu` feature).
    pub const MAX_QUERY: usize = 512;

    /// Always an error: this swmap was built without the `gpu` feature.
    pub fn new(_allow_software: bool) -> Result<GpuBackend> {
        Err(Error::Gpu(
            "this swmap was built without the `gpu` feature (wgpu); rebuild with it, or use --backend cpu".into(),
        ))
    }

    /// No adapters: this build has no GPU support.
    pub fn count(_allow_software: bool) -> usize {
        0
    }

    /// Always an error, as [`GpuBackend::new`].
    pub fn nth(_n: usize, allow_software: bool) -> Result<GpuBackend> {
        GpuBackend::new(allow_software)
    }

    /// Unreachable: no value exists.
    pub fn with_max_tasks_per_dispatch(self, _tasks: usize) -> GpuBackend {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn with_max_work_buffer_bytes(self, _bytes: u64) -> GpuBackend {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn with_interleave(self, _tasks: u32) -> GpuBackend {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn with_strip(self, _strip: u32) -> Result<GpuBackend> {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn with_variants(self, _narrow: bool, _subgroups: bool) -> Result<GpuBackend> {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn strip(&self) -> u32 {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn kernel(&self) -> String {
        match self.never {}
    }

    /// Unreachable: no value exists.
    pub fn align_timed(&self, _batch: &AlignBatch, _scoring: &Scoring) -> Result<(Vec<Alignment>, GpuTiming)> {
        match self.never {}
    }
}

impl AlignBackend for GpuBackend {
    fn describe(&self) -> String {
        match self.never {}
    }

    fn align_tasks(&self, _batch: &AlignBatch, _scoring: &Scoring, _ids: &[usize]) -> Result<Vec<Alignment>> {
        match self.never {}
    }
}
