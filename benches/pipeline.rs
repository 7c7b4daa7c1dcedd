//! Pipeline stages on a bacterial genome: index build, seeding, and end-to-end mapping of a
//! fixed simulated read set to SAM. Criterion's `elem/s` are bases/s for `index` and reads/s
//! for `seed` and `map`.
//!
//! The genome is the FASTA that `SWMAP_BENCH_GENOME` names (E. coli K-12 MG1655, NCBI
//! U00096, for the figures in docs/benchmarks.md), else a seeded random 1 Mbp genome; the
//! bench says which. Reads are simulated in
//! memory with the library's simulator (2x150, insert 400 +- 50, the `swmap simulate`
//! defaults, seed 1), so every run maps the same reads.
//!
//! `cargo bench --bench pipeline`; add `-- seed` (or `index`, `map`) to run one group.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::io::Cursor;
use std::path::Path;
use std::time::Duration;
use swmap::bench::seed_reads;
use swmap::dna;
use swmap::rng::Rng;
use swmap::simulate::{InsertSize, SimulateOptions, Simulator};
use swmap::{read_fasta, Contig, FastqReader, Read, ReadSource};
use swmap::{AlignBackend, CpuBackend, GpuBackend, HeaderInfo, Index, IndexParams, MapOptions, Mapper, SamWriter};

/// Pairs simulated for seeding, and the first of them mapped end to end.
const SEED_PAIRS: u64 = 10_000;
const MAP_PAIRS: usize = 2_000;

/// The genome `SWMAP_BENCH_GENOME` names, else a random one; with a label for the output.
fn genome() -> (Vec<Contig>, String) {
    if let Some(path) = std::env::var_os("SWMAP_BENCH_GENOME") {
        let path = Path::new(&path);
        let contigs = read_fasta(path).expect("SWMAP_BENCH_GENOME names a readable FASTA");
        let bases: usize = contigs.iter().map(|c| c.seq.len()).sum();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("genome").split('.').next().unwrap_or("genome");
        return (contigs, format!("{name}_{:.1}Mbp", bases as f64 / 1e6));
    }
    eprintln!("SWMAP_BENCH_GENOME not set: using a random 1 Mbp genome");
    let mut rng = Rng::new(1);
    let seq = (0..1_000_000).map(|_| rng.base()).collect();
    (vec![Contig { name: "random".into(), seq }], "random_1Mbp".into())
}

/// Simulated pairs as reads, mates adjacent (as the mapper's chunks hold them).
fn simulate_pairs(contigs: &[Contig], pairs: u64) -> Vec<Read> {
    let options = SimulateOptions {
        fragments: pairs,
        read_len: 150,
        paired: Some(InsertSize { mean: 400.0, sd: 50.0 }),
        error_rate: 0.01,
        snp_rate: 0.001,
        indel_rate: 0.0002,
        seed: 1,
    };
    let mut sim = Simulator::new(contigs, &options).expect("simulator starts");
    let mut reads = Vec::new();
    for _ in 0..pairs {
        let fragment = sim.next_fragment().expect("fragment placed");
        let name = fragment.name(contigs).to_string().into_bytes();
        for r in fragment.reads {
            reads.push(Read { name: name.clone(), codes: r.bases, qual: r.quals, comment: vec![] });
        }
    }
    reads
}

/// Mate 1 and mate 2 as FASTQ text, for a `ReadSource` that reads from memory.
fn fastq_pair(reads: &[Read]) -> [Vec<u8>; 2] {
    let mut files = [Vec::new(), Vec::new()];
    for (i, r) in reads.iter().enumerate() {
        let f = &mut files[i % 2];
        f.push(b'@');
        f.extend_from_slice(&r.name);
        f.push(b'\n');
        f.extend(r.codes.iter().map(|&c| dna::decode(c)));
        f.extend_from_slice(b"\n+\n");
        f.extend(r.qual.iter().map(|&q| q + 33));
        f.push(b'\n');
    }
    files
}

fn map_to_sam(index: &Index, fastq: &[Vec<u8>; 2], backend: &dyn AlignBackend, sam: &Path) -> u64 {
    let reader = |i: usize, name: &str| FastqReader::new(Box::new(Cursor::new(fastq[i].clone())), Path::new(name));
    let source = ReadSource::Paired(reader(0, "mem_1.fq"), reader(1, "mem_2.fq"));
    let header = HeaderInfo {
        contigs: index.contigs.iter().map(|c| (c.name.clone(), c.len)).collect(),
        read_group: None,
        command_line: "cargo bench --bench pipeline".into(),
        header_lines: Vec::new(),
        reference: None,
    };
    let mut writer = SamWriter::create(Some(sam), &header, 1).expect("SAM opens");
    let mapper = Mapper::new(index, backend, MapOptions::default()).expect("options are valid");
    let stats = mapper.write_sam(source, &mut writer).expect("maps");
    writer.finish().expect("SAM closes");
    stats.reads
}

fn pipeline(c: &mut Criterion) {
    let (contigs, label) = genome();
    let bases: u64 = contigs.iter().map(|c| c.seq.len() as u64).sum();

    let mut group = c.benchmark_group("index");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(bases));
    group.bench_function(format!("build_{label}"), |b| {
        b.iter_batched(|| contigs.clone(), |c| Index::build(c, IndexParams::default()), BatchSize::LargeInput)
    });
    group.finish();

    let index = Index::build(contigs.clone(), IndexParams::default());
    let reads = simulate_pairs(&contigs, SEED_PAIRS);
    let opts = MapOptions::default();
    let mut group = c.benchmark_group("seed");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(reads.len() as u64));
    // One thread, read after read: the per-read cost of seeding.
    group.bench_function(format!("seed_{label}"), |b| b.iter(|| seed_reads(&index, &reads, &opts)));
    group.finish();

    let fastq = fastq_pair(&reads[..2 * MAP_PAIRS]);
    let dir = std::env::temp_dir().join(format!("swmap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sam = dir.join("out.sam");
    let mut group = c.benchmark_group("map");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(8));
    group.throughput(Throughput::Elements(2 * MAP_PAIRS as u64));
    let cpu = CpuBackend::new();
    group.bench_function(format!("paired_cpu_{label}"), |b| b.iter(|| map_to_sam(&index, &fastq, &cpu, &sam)));
    match GpuBackend::new(true) {
        Err(e) => eprintln!("skipping mapping on the GPU: no GPU adapter ({e})"),
        Ok(gpu) => {
            let kind = if gpu.info.device_type == "Cpu" { "gpu_software" } else { "gpu" };
            let name = format!("paired_{kind}_{label}");
            group.bench_function(name, |b| b.iter(|| map_to_sam(&index, &fastq, &gpu, &sam)));
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
