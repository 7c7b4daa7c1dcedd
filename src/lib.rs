#![warn(missing_docs)]
//! swmap: a short-read aligner whose Smith-Waterman kernels run on the GPU (WGSL through
//! wgpu) or on the CPU (rayon) with byte-identical output.
//!
//! # Embedding
//!
//! Build or load an [`index::Index`], pick a [`backend`], make a [`map::Mapper`] with
//! [`options::MapOptions`], and feed it reads: from FASTQ readers or from memory, single or
//! paired ([`io::fastq::ReadSource`]). Each read comes back, in input order and with bounded
//! memory, as a [`map::MappedRead`]: its [`place::Placement`] (every decision as a value:
//! primary hit, MAPQ, supplementary parts, `XS`/`XA`, mate fields) and its SAM records, which
//! [`sam::SamRecord::to_record_buf`] turns into noodles records. `examples/embed.rs` writes
//! exactly the records of `swmap map`.
//!
//! ```
//! use swmap::backend::CpuBackend;
//! use swmap::index::{Index, IndexParams};
//! use swmap::io::fasta::Contig;
//! use swmap::io::fastq::Read;
//! use swmap::map::Mapper;
//! use swmap::options::MapOptions;
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
//! Cargo features: `gpu` (the wgpu backend) and `cli` (the `swmap` binary's clap), both on
//! by default; with `default-features = false` the library is CPU-only and pulls in neither.
//!
//! # The stages
//!
//! Dependencies run one way, each module using only those before it:
//! [`error`], [`options`] and [`dna`] (leaves; and `simd`, which vector instructions the
//! CPU has) → [`io`] (FASTA, FASTQ, inputs and outputs) →
//! [`index`] → [`seed`] (candidate windows) → [`align`] (the recurrence, oracle and kernels),
//! [`batch`] (the one layout every backend takes) and [`backend`] (CPU, GPU) → [`place`]
//! (every decision about a read) → [`sam`] (formatting and writing) → [`map`] (the driver
//! and the API). [`simulate`], [`eval`] and [`mod@bench`] are the measuring tools the `swmap`
//! command ships.

pub mod align;
pub mod backend;
pub mod batch;
pub mod bench;
pub mod dna;
pub mod error;
pub mod eval;
pub mod index;
pub mod io;
pub mod map;
pub mod options;
pub mod place;
pub mod sam;
pub mod seed;
mod simd;
pub mod simulate;

pub use error::{Error, Result};

/// The version and the commit it was built from, as `swmap --version` and `@PG VN` give it
/// (semantic-versioning build metadata, no spaces): `0.1.0+git.0123456789ab`, with `.dirty`
/// when tracked files had uncommitted changes, or `0.1.0+built-without-git`.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("SWMAP_BUILD_COMMIT"));
