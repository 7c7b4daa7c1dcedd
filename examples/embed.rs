//! Embedding swmap in a pipeline: index a reference, map paired FASTQ through the library,
//! and receive every read's records in memory, as noodles records, in input order. Here they
//! are printed as SAM on stdout (with the header); the records are exactly those of
//! `swmap map test-data/ref.fa.gz test-data/reads_1.fq.gz test-data/reads_2.fq.gz`.
//!
//! ```text
//! cargo run --release --example embed > embed.sam
//! ```
//!
//! The backend is the CPU's here; `swmap::backend::open(BackendChoice::Auto)` picks a GPU
//! when one works, with the same output.

use noodles_sam::alignment::io::Write as _;
use std::io::{BufWriter, Write};
use std::path::Path;
use swmap::backend::CpuBackend;
use swmap::options::MapOptions;
use swmap::HeaderInfo;
use swmap::Mapper;
use swmap::{FastqReader, ReadSource};
use swmap::{Index, IndexParams};

fn main() -> swmap::Result<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data");
    let index = Index::from_fasta(&data.join("ref.fa.gz"), IndexParams::default())?;
    let source = ReadSource::Paired(
        FastqReader::open(&data.join("reads_1.fq.gz"))?,
        FastqReader::open(&data.join("reads_2.fq.gz"))?,
    );
    let backend = CpuBackend::new();
    let mapper = Mapper::new(&index, &backend, MapOptions::default())?;

    let info = HeaderInfo::for_index(&index, None, "examples/embed.rs");
    let header = info.to_header()?;
    let read_group = info.read_group_id()?;
    let mut out = noodles_sam::io::Writer::new(BufWriter::new(std::io::stdout().lock()));
    let io_error = |e| swmap::Error::io("-", e);
    out.write_header(&header).map_err(io_error)?;

    // Chunks arrive in input order as soon as they are mapped; memory stays bounded.
    let stats = mapper.map_source(source, |chunk| {
        for mapped in &chunk {
            // mapped.placement holds the decisions (primary hit, MAPQ, parts, mate) as values.
            for record in &mapped.records {
                let record = record.to_record_buf(read_group.as_deref())?;
                out.write_alignment_record(&header, &record).map_err(io_error)?;
            }
        }
        Ok(true)
    })?;
    out.get_mut().flush().map_err(io_error)?;
    eprintln!("embed: {} reads, {} mapped", stats.reads, stats.mapped);
    Ok(())
}
