//! swmap: a short-read aligner whose Smith-Waterman kernels run on the GPU (WGSL through
//! wgpu) or on the CPU (rayon) with byte-identical output.
//!
//! The pipeline, one module per stage: [`fasta`]/[`fastq`] read input, [`index`] builds and
//! loads the on-disk index, [`seed`] finds seed hits and candidate windows, [`batch`] packs
//! reads and windows for a [`backend`] to align with the recurrence of [`align`], [`pair`]
//! pairs mates, [`mapq`] scores confidence, [`sam`] writes SAM/BAM, and [`map`] drives them.

pub mod align;
pub mod backend;
pub mod batch;
pub mod bench;
pub mod dna;
pub mod error;

pub use error::{Error, Result};
pub mod cli;
pub mod eval;
pub mod index;
pub mod io;
pub mod map;
pub mod options;
pub mod place;
pub mod sam;
pub mod seed;
pub mod simulate;
