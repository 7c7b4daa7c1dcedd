#![warn(missing_docs)]
#![warn(unnameable_types)]
//! swmap: a short-read aligner whose Smith-Waterman kernels run on the GPU (WGSL through
//! wgpu) or on the CPU (rayon) with byte-identical output.
//!
//! # Embedding
//!
//! Build or load an [`Index`], pick a backend ([`CpuBackend`], [`GpuBackend`], or
//! [`backend::open`] to take a GPU when one works), make a [`Mapper`] with [`MapOptions`],
//! and feed it reads: from FASTQ readers or from memory, single or paired ([`ReadSource`]).
//! Each read comes back, in input order and with bounded memory, as a [`MappedRead`]: its
//! [`Placement`] (every decision as a value: primary hit, MAPQ, supplementary parts,
//! `XS`/`XA`, mate fields) and its [`SamRecord`]s, which [`SamRecord::to_record_buf`] turns
//! into noodles records or a [`SamWriter`] writes as SAM or (sorted) BAM. `examples/embed.rs`
//! writes exactly the records of `swmap map`.
//!
//! ```
//! use swmap::{Contig, CpuBackend, Index, IndexParams, MapOptions, Mapper, Read};
//!
//! // A random 3 kb reference (a linear congruential generator's top two bits as bases).
//! let mut x = 7u64;
//! let mut base = || { x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (x >> 62) as u8 };
//! let seq: Vec<u8> = (0..3000).map(|_| base()).collect();
//! let index = Index::build(vec![Contig { name: "chr1".into(), seq: seq.clone() }], IndexParams::default());
//! let backend = CpuBackend::new();
//! let mapper = Mapper::new(&index, &backend, MapOptions::default())?;
//! let mate1 = Read { name: b"p".to_vec(), codes: seq[1000..1150].to_vec(), qual: vec![30; 150], comment: vec![] };
//! let mut mate2 = Read { name: b"p".to_vec(), codes: seq[1300..1450].to_vec(), qual: vec![30; 150], comment: vec![] };
//! mate2.codes = swmap::dna::reverse_complement(&mate2.codes);
//! let [m1, m2] = mapper.map_pairs(vec![(mate1, mate2)])?.remove(0);
//! assert_eq!(m1.placement.primary().map(|h| h.pos), Some(1000));
//! assert_eq!(m2.records[0].pos, Some(1300));
//! # Ok::<(), swmap::Error>(())
//! ```
//!
//! Warnings (an insert-size model that could not be estimated) go to the `log` facade; the
//! `swmap` program prints them on stderr. Errors are [`Error`] values whose message names the
//! file and the record or line.
//!
//! # Cargo features
//!
//! - `gpu` (default): the wgpu backend. Without it the library is CPU-only and
//!   [`GpuBackend::new`] says so.
//! - `cli` (default): the `swmap` program (`cli::main`); turns on `tools`.
//! - `tools`: the measuring tools the program ships: `simulate` (reads with their true
//!   origin), `eval` (any aligner's SAM/BAM scored against it) and `bench` (kernel
//!   throughput), with the seeded random generator `rng` they share.
//!
//! An embedding of the mapper takes `default-features = false, features = ["gpu"]` (or
//! neither) and builds none of clap or the tools.
//!
//! # Inside
//!
//! Dependencies run one way, each module using only those before it: `error`, [`options`]
//! and [`dna`] (leaves; and `simd`, which vector instructions the CPU has) → `io` (FASTA,
//! FASTQ, inputs and outputs) → `index` → `seed` (candidate windows) → [`align`] (the
//! recurrence, its oracle, the exact shortcut and the kernels), [`batch`] (the one layout
//! every backend takes) and [`backend`] (the shortcut before the engines, CPU, GPU) → `place`
//! (every decision about a read) → `sam` (formatting and writing) → `map` (the driver). The
//! tools and the command line come last and use any of them.

pub mod align;
pub mod backend;
pub mod batch;
#[cfg(feature = "tools")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod dna;
mod error;
#[cfg(feature = "tools")]
pub mod eval;
mod index;
mod io;
mod map;
pub mod options;
mod place;
#[cfg(any(test, feature = "tools"))]
pub mod rng;
mod sam;
mod seed;
mod simd;
#[cfg(feature = "tools")]
pub mod simulate;

pub use backend::{AlignBackend, BackendChoice, CpuBackend, GpuBackend};
pub use error::{Error, Result};
pub use index::{default_index_path, Beside, ContigInfo, Index, IndexParams, Reference};
pub use io::fasta::{read_fasta, Contig};
pub use io::fastq::FastqReader;
pub use io::read::Read;
pub use io::read_source::ReadSource;
pub use map::{MapStats, MappedRead, Mapper, PipelineBusy, Stage, StageTimes, PIPELINE_THREADS};
pub use options::MapOptions;
pub use place::{Hit, MateHit, Pairing, Part, Placement};
pub use sam::{
    DuplicationMetrics, HeaderInfo, LibraryCounts, MarkdupOptions, OutputFormat, SamRecord, SamWriter, Tags,
};

/// The noodles SAM crate at the version swmap is built with, re-exported on purpose:
/// [`SamRecord::to_record_buf`] and [`HeaderInfo::to_header`] hand records and headers over
/// as its types, so an embedding that writes them uses the same version.
pub use noodles_sam;

/// The version and the commit it was built from, as `swmap --version` and `@PG VN` give it
/// (semantic-versioning build metadata, no spaces): `0.1.0+git.0123456789ab`, with `.dirty`
/// when tracked files had uncommitted changes, or `0.1.0+built-without-git`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("SWMAP_BUILD_COMMIT"));
