//! GPU backend (placeholder until the WGSL kernel lands).

use super::AlignBackend;
use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};

/// Adapter facts for the stderr line and `swmap bench`.
#[derive(Clone, Debug)]
pub struct GpuInfo {
    pub name: String,
    pub backend: String,
    pub device_type: String,
}

pub struct GpuBackend {
    pub info: GpuInfo,
}

impl GpuBackend {
    /// Opens the first usable adapter; `allow_software` admits CPU adapters such as lavapipe.
    pub fn new(_allow_software: bool) -> Result<GpuBackend> {
        Err(Error::Gpu("not built yet".into()))
    }
}

impl AlignBackend for GpuBackend {
    fn describe(&self) -> String {
        format!("gpu ({}, {}, {})", self.info.name, self.info.backend, self.info.device_type)
    }

    fn align(&self, _batch: &AlignBatch, _scoring: &Scoring) -> Result<Vec<Alignment>> {
        Err(Error::Gpu("not built yet".into()))
    }
}
