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

/// Every bundled pair through `mapper`, the run's counts and the reads in order.
fn map_all(mapper: &Mapper) -> (swmap::MapStats, Vec<MappedRead>) {
    let mut mapped = Vec::new();
    let stats = mapper
        .map_source(mates(), |chunk| {
            mapped.extend(chunk);
            Ok(true)
        })
        .unwrap();
    (stats, mapped)
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
        let (stats, mapped) = map_all(&mapper);
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

#[test]
fn reads_from_text_are_checked_as_the_fastq_reader_checks_them() {
    let read = Read::from_text(b"r1/1", b"ACGTNacgtRu", Some(b"IIIII#####I")).unwrap();
    assert_eq!(read.name, b"r1", "the mate suffix is taken off, as the FASTQ reader does");
    assert_eq!(read.codes, vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 3]);
    assert_eq!(read.qual, vec![40, 40, 40, 40, 40, 2, 2, 2, 2, 2, 40]);
    assert!(Read::from_text(b"r2", b"ACGT", None).unwrap().qual.is_empty());
    let error = |name: &[u8], seq: &[u8], qual: Option<&[u8]>| Read::from_text(name, seq, qual).unwrap_err();
    assert!(error(b"", b"ACGT", None).contains("name"));
    assert!(error(b"a b", b"ACGT", None).contains("0x20"), "{}", error(b"a b", b"ACGT", None));
    let e = error(b"r3", b"ACXT", None);
    assert!(e.contains("'X'") && e.contains("position 3") && e.contains("'r3'"), "{e}");
    let e = error(b"r4", b"ACGT", Some(b"III"));
    assert!(e.contains("4 bases but 3 quality"), "{e}");
    let e = error(b"r5", b"ACGT", Some(b"II I"));
    assert!(e.contains("quality") && e.contains("'r5'"), "{e}");
    assert!(error(b"r6", &vec![b'A'; 100_000], None).contains("at most"));
}

#[test]
fn a_mapper_on_threads_of_its_own_writes_what_the_global_pool_writes() {
    let index = bundled_index();
    let backend = swmap::backend::CpuBackend::new();
    let info = HeaderInfo::for_index(&index, None, "test");
    let opts = || MapOptions { chunk_reads: Some(500), ..MapOptions::default() };
    let (global, expected) = map_all(&Mapper::new(&index, &backend, opts()).unwrap());
    for threads in [1, 3] {
        let (stats, mapped) = map_all(&Mapper::new(&index, &backend, opts()).unwrap().with_threads(threads).unwrap());
        assert_eq!((stats.reads, stats.mapped, stats.proper), (global.reads, global.mapped, global.proper));
        assert_same(
            "records",
            ("global pool", &as_sam(&info, &expected)),
            (&format!("{threads} threads"), &as_sam(&info, &mapped)),
        );
    }
    let e = Mapper::new(&index, &backend, opts()).unwrap().with_threads(0).err().unwrap().to_string();
    assert!(e.contains("at least 1 thread"), "{e}");
}

#[test]
fn bindings_read_map_options_by_name_through_the_programs_parser() {
    use std::ffi::OsString;
    assert_eq!(swmap::cli::map_flag("min_score"), Some(("-T".to_string(), true)));
    assert_eq!(swmap::cli::map_flag("all_alignments"), Some(("-a".to_string(), false)));
    assert_eq!(swmap::cli::map_flag("max_occ"), Some(("--max-occ".to_string(), true)));
    assert_eq!(swmap::cli::map_flag("reference"), None, "positional arguments are not options");
    assert_eq!(swmap::cli::map_flag("no_such_option"), None);

    let argv = |args: &[&str]| -> Vec<OsString> { args.iter().map(OsString::from).collect() };
    let reference = data("ref.fa.gz");
    let reference = reference.to_str().unwrap();
    let setup = swmap::cli::map_setup(&argv(&[
        reference,
        "-",
        "-T",
        "45",
        "-t",
        "3",
        "--backend",
        "cpu",
        "-R",
        "@RG\\tID:a\\tSM:b",
    ]))
    .unwrap();
    assert_eq!((setup.options.min_score, setup.threads), (45, 3));
    assert_eq!(setup.backend, swmap::BackendChoice::Cpu);
    assert_eq!(setup.read_group.as_deref(), Some("@RG\tID:a\tSM:b"));
    assert!(setup.alt_contigs.is_empty());
    let e = swmap::cli::map_setup(&argv(&[reference, "-", "-T", "x"])).unwrap_err().to_string();
    assert!(e.contains("'x'") && e.contains("-T"), "{e}");
    let e = swmap::cli::map_setup(&argv(&[reference, "-", "--sort"])).unwrap_err().to_string();
    assert!(e.contains("--sort"), "{e}");
    let e = swmap::cli::map_setup(&argv(&[reference, "-", "-t", "0"])).unwrap_err().to_string();
    assert!(e.contains("at least 1"), "{e}");

    // A whole run against an index already held writes what the program writes.
    let index = bundled_index();
    let backend = swmap::backend::CpuBackend::new();
    let dir = scratch("map_with");
    let out = dir.join("out.sam");
    let (r1, r2) = (data("reads_1.fq.gz"), data("reads_2.fq.gz"));
    let stats = swmap::cli::map_with(
        &index,
        &backend,
        &argv(&[
            reference,
            r1.to_str().unwrap(),
            r2.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-t",
            "2",
            "-v",
            "1",
        ]),
    )
    .unwrap();
    assert_eq!(stats.reads, 4000);
    let cli = cli_records(&[r2.to_str().unwrap()]);
    let written = records(&std::fs::read(&out).unwrap());
    assert_same("records", ("swmap map", cli.join("\n").as_bytes()), ("map_with", written.join("\n").as_bytes()));
}

/// `--stats`' stages take the alignment apart: a backend that spends a known amount of CPU
/// time per call has it counted to the kernels' stage (`align`), none of it to the shortcut's,
/// which still gets the time of the shortcut and the checks; and the records are those of
/// the backend alone. (Unix: the spin is measured on the thread's own CPU clock, so that a
/// loaded machine cannot make it shorter than it says.)
#[cfg(unix)]
#[test]
fn stage_times_count_the_backends_work_to_the_kernels_alone() {
    use std::time::Duration;
    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        assert_eq!(unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) }, 0);
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
    use swmap::align::{Alignment, Scoring};
    use swmap::backend::{AlignBackend, CpuBackend};
    use swmap::batch::AlignBatch;
    use swmap::Stage;
    /// `SPIN` of this thread's CPU time per call, then the CPU backend.
    struct Spinning(CpuBackend, std::sync::atomic::AtomicU32);
    const SPIN: Duration = Duration::from_millis(30);
    impl AlignBackend for Spinning {
        fn describe(&self) -> String {
            "spinning CPU backend".into()
        }
        fn align_tasks(&self, batch: &AlignBatch, sc: &Scoring, ids: &[usize]) -> swmap::Result<Vec<Alignment>> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let start = thread_cpu();
            while thread_cpu() - start < SPIN {
                std::hint::spin_loop();
            }
            self.0.align_tasks(batch, sc, ids)
        }
    }
    let index = bundled_index();
    let backend = Spinning(CpuBackend::new(), Default::default());
    let opts = || MapOptions { chunk_reads: Some(500), ..MapOptions::default() };
    let (stats, mapped) = map_all(&Mapper::new(&index, &backend, opts()).unwrap().with_stage_times());
    let (_, expected) = map_all(&Mapper::new(&index, &CpuBackend::new(), opts()).unwrap());
    let info = HeaderInfo::for_index(&index, None, "test");
    assert_same("records", ("CPU backend", &as_sam(&info, &expected)), ("timed", &as_sam(&info, &mapped)));
    let times = stats.stage_times.expect("stage times measured");
    let calls = backend.1.load(std::sync::atomic::Ordering::Relaxed);
    assert!(calls >= 2, "{calls} backend calls");
    // The spin is CPU time of the process; other tests' threads only add to either stage.
    let spun = SPIN * calls;
    let (kernels, shortcut) = (times.get(Stage::Align), times.get(Stage::Shortcut));
    assert!(kernels >= spun, "kernels {kernels:?}, {calls} calls spinning {spun:?}");
    assert!(shortcut > Duration::ZERO && shortcut < spun / 2, "shortcut {shortcut:?}, spinning {spun:?}");
    let all: Duration = Stage::ALL.iter().map(|&s| times.get(s)).sum();
    assert_eq!(times.outside_kernels(), all - kernels, "every stage but the kernels is outside them");
    let line = times.per_read_line(stats.reads);
    assert!(line.contains("shortcut ") && line.contains("align "), "{line}");
}
