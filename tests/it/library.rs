//! The library as a pipeline embeds it (`swmap::Mapper`): reads from FASTQ readers or
//! from memory, records back in memory as noodles values, under every engine, exactly the
//! records the command line writes.

use crate::sam_check::records;
use crate::support::*;
use noodles_sam::alignment::io::Write as _;
use swmap::options::MapOptions;
use swmap::HeaderInfo;
use swmap::{FastqReader, Read, ReadSource};
use swmap::{Index, IndexParams};
use swmap::{MappedRead, Mapper};

fn bundled_index() -> Index {
    Index::from_fasta(&data("ref.fa.gz"), IndexParams::default()).unwrap()
}

fn mates() -> ReadSource {
    ReadSource::Paired(
        FastqReader::open(&data("reads_1.fq.gz")).unwrap(),
        FastqReader::open(&data("reads_2.fq.gz")).unwrap(),
    )
}

/// SAM text of `records` through noodles' writer, as examples/embed.rs writes it.
fn as_sam(info: &HeaderInfo, mapped: &[MappedRead]) -> Vec<u8> {
    let header = info.to_header().unwrap();
    let rg = info.read_group_id().unwrap();
    let mut out = noodles_sam::io::Writer::new(Vec::new());
    out.write_header(&header).unwrap();
    for rec in mapped.iter().flat_map(|m| &m.records) {
        out.write_alignment_record(&header, &rec.to_record_buf(rg.as_deref()).unwrap()).unwrap();
    }
    out.into_inner()
}

fn cli_records(args: &[&str]) -> Vec<String> {
    let mut cmd = swmap();
    cmd.arg("map").arg(data("ref.fa.gz")).arg(data("reads_1.fq.gz"));
    cmd.args(args).args(["--backend", "cpu"]);
    records(&ok(&mut cmd))
}

#[test]
fn records_from_the_library_are_the_cli_records_under_every_engine() {
    let index = bundled_index();
    let cli = cli_records(&[data("reads_2.fq.gz").to_str().unwrap(), "-R", "@RG\\tID:g1\\tSM:s"]);
    let info = HeaderInfo::for_index(&index, Some("@RG\\tID:g1\\tSM:s".into()), "test");
    for engine in engines() {
        let mapper = Mapper::new(&index, engine.backend, MapOptions::default()).unwrap();
        let mut mapped = Vec::new();
        let stats = mapper
            .map_source(mates(), |chunk| {
                mapped.extend(chunk);
                Ok(true)
            })
            .unwrap();
        assert_eq!(stats.reads, 4000);
        let lib = records(&as_sam(&info, &mapped));
        assert_same("records", ("cli cpu", cli.join("\n").as_bytes()), (engine.name, lib.join("\n").as_bytes()));
        // Placements agree with the records: mapped reads have a primary.
        let unmapped = mapped.iter().filter(|m| !m.placement.is_mapped()).count();
        assert_eq!(unmapped as u64, stats.reads - stats.mapped);
    }
}

#[test]
fn reads_and_pairs_from_memory_map_like_files() {
    let index = bundled_index();
    let backend = swmap::backend::CpuBackend::new();
    let mapper = Mapper::new(&index, &backend, MapOptions { chunk_reads: Some(300), ..MapOptions::default() }).unwrap();
    let read_all = |name: &str| {
        let mut r = FastqReader::open(&data(name)).unwrap();
        let mut v = Vec::new();
        let mut read = Read::default();
        while r.next_into(&mut read).unwrap() {
            v.push(read.clone());
        }
        v
    };
    let (r1, r2) = (read_all("reads_1.fq.gz"), read_all("reads_2.fq.gz"));
    let info = HeaderInfo::for_index(&index, None, "test");

    let single = mapper.map_single(r1.clone()).unwrap();
    assert_same(
        "single",
        ("cli", cli_records(&[]).join("\n").as_bytes()),
        ("memory", records(&as_sam(&info, &single)).join("\n").as_bytes()),
    );

    let pairs = mapper.map_pairs(r1.into_iter().zip(r2).collect()).unwrap();
    let flat: Vec<MappedRead> = pairs.into_iter().flatten().collect();
    let cli = cli_records(&[data("reads_2.fq.gz").to_str().unwrap()]);
    assert_same(
        "pairs",
        ("cli", cli.join("\n").as_bytes()),
        ("memory", records(&as_sam(&info, &flat)).join("\n").as_bytes()),
    );
}

#[test]
fn bad_reads_from_memory_are_refused_with_the_read_named() {
    let index = bundled_index();
    let backend = swmap::backend::CpuBackend::new();
    let mapper = Mapper::new(&index, &backend, MapOptions::default()).unwrap();
    let bad = Read { name: b"a@b".to_vec(), codes: vec![0, 1, 2, 3], qual: vec![30; 4], comment: vec![] };
    let e = mapper.map_single(vec![bad]).unwrap_err().to_string();
    assert!(e.contains("read 'a@b'") && e.contains("'@'"), "{e}");
    let a = Read { name: b"x".to_vec(), codes: vec![0; 40], qual: vec![], comment: vec![] };
    let b = Read { name: b"y".to_vec(), ..a.clone() };
    let e = mapper.map_pairs(vec![(a, b)]).unwrap_err().to_string();
    assert!(e.contains("mate names differ"), "{e}");
    let e =
        Mapper::new(&index, &backend, MapOptions { min_score: 0, ..MapOptions::default() }).err().unwrap().to_string();
    assert!(e.contains("-T"), "{e}");
}

/// `examples/embed.rs` (built by `cargo test` with the other targets) writes exactly the
/// records of `swmap map` on the bundled pairs, as its documentation says.
#[test]
fn the_embed_example_writes_the_records_of_swmap_map() {
    // The test binary is target/<profile>/deps/it-*; examples are built in target/<profile>/examples.
    let exe = std::env::current_exe().unwrap();
    let example = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples/embed");
    assert!(example.exists(), "{} not built (cargo test builds the examples)", example.display());
    let out = std::process::Command::new(&example).output().unwrap();
    assert!(out.status.success(), "embed: {}", String::from_utf8_lossy(&out.stderr));
    let embedded = records(&out.stdout);
    assert!(embedded.len() >= 4_000, "a record for each of the 4,000 bundled reads");
    let cli = cli_records(&[data("reads_2.fq.gz").to_str().unwrap()]);
    assert_same("records", ("swmap map", cli.join("\n").as_bytes()), ("embed", embedded.join("\n").as_bytes()));
}
