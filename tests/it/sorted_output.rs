//! `swmap map --sort -o NAME.bam`: a coordinate-sorted BAM whose records are those of the
//! unsorted output in samtools sort's order (checked against a stable sort written here, and
//! against samtools sort itself where it is installed), the same whether sorted in memory or
//! through runs spilled to scratch files, which are removed; its index is noodles' index of
//! the file and answers region queries as samtools' own index does. Every mapping under every
//! backend.

use crate::support::*;
use noodles_bam as bam;
use noodles_sam::alignment::RecordBuf;
use std::path::{Path, PathBuf};
use swmap::rng::Rng;

/// The bundled pairs plus pairs that cannot all map: random mates (unmapped pairs, sorted last)
/// and pairs with one random mate (placed at its mate's position: a tie the sort keeps in
/// input order).
fn reads(dir: &Path) -> [PathBuf; 2] {
    let mut rng = Rng::new(0x5eed);
    let mut random = |n: usize| -> String { (0..n).map(|_| swmap::dna::decode(rng.base()) as char).collect() };
    let mut out = [String::new(), String::new()];
    for (mate, file) in ["reads_1.fq.gz", "reads_2.fq.gz"].into_iter().enumerate() {
        out[mate] = String::from_utf8(gunzip(&data(file))).unwrap();
    }
    let bundled: Vec<String> = out[0].lines().take(40 * 4).map(str::to_string).collect();
    let q = "I".repeat(100);
    for i in 0..40 {
        let (seq, qual) = match i % 2 {
            0 => (random(100), q.clone()),
            _ => (bundled[4 * i + 1].clone(), bundled[4 * i + 3].clone()),
        };
        out[0] += &format!("@rand{i}\n{seq}\n+\n{qual}\n");
        out[1] += &format!("@rand{i}\n{}\n+\n{q}\n", random(100));
    }
    let paths = [dir.join("r1.fq"), dir.join("r2.fq")];
    for (p, text) in paths.iter().zip(&out) {
        std::fs::write(p, text).unwrap();
    }
    paths
}

fn map(backend: &str, args: &[&str], reads: &[PathBuf; 2], out: &Path) {
    let reads: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
    ok(map_cmd(&test_index(), &reads, backend, &["-v", "1"]).arg("-o").arg(out).args(args));
}

/// A BAM file's header text and records.
fn read_bam(path: &Path) -> (String, Vec<RecordBuf>) {
    let mut reader = bam::io::reader::Builder.build_from_path(path).unwrap();
    let header = reader.read_header().unwrap();
    let mut text = Vec::new();
    noodles_sam::io::Writer::new(&mut text).write_header(&header).unwrap();
    let records = reader.record_bufs(&header).collect::<Result<Vec<_>, _>>().unwrap();
    (String::from_utf8(text).unwrap(), records)
}

/// samtools sort's coordinate order: reference (none last), position, strand; stable.
fn stable_sort(mut records: Vec<RecordBuf>) -> Vec<RecordBuf> {
    records.sort_by_key(|r| {
        let tid = r.reference_sequence_id().map_or(u64::MAX, |id| id as u64);
        (tid, r.alignment_start().map_or(0, usize::from), r.flags().is_reverse_complemented())
    });
    records
}

#[test]
fn sorted_bam_holds_the_unsorted_records_in_samtools_order_in_memory_or_spilled() {
    let dir = scratch("sort");
    let reads = reads(&dir);
    for backend in backends() {
        let unsorted = dir.join(format!("{backend}.bam"));
        map(backend, &[], &reads, &unsorted);
        let (_, records) = read_bam(&unsorted);
        assert!(records.iter().any(|r| r.reference_sequence_id().is_none()), "some pairs are unmapped");
        let expected = stable_sort(records);
        // Ties at one position are there to be kept in order.
        let ties = expected.windows(2).filter(|w| w[0].alignment_start() == w[1].alignment_start()).count();
        assert!(ties > 20, "{ties} ties");
        for (name, args) in [("memory", &[][..]), ("spilled", &["--sort-mem", "40K", "-t", "1"][..])] {
            let sorted = dir.join(format!("{backend}-{name}.sorted.bam"));
            map(backend, &[&["--sort"][..], args].concat(), &reads, &sorted);
            let (header, records) = read_bam(&sorted);
            assert!(header.starts_with("@HD\tVN:1.6\tSO:coordinate\n"), "{header}");
            assert!(records == expected, "{backend}, {name}: records differ from the stable sort");
            // The index (built reading the file back on several threads) is the one noodles
            // builds reading it on one.
            let ours = std::fs::read(sorted.with_added_extension("bai")).expect("an index");
            let bam::Index::Bai(bai) = bam::fs::index(&sorted).unwrap() else { panic!("a BAI for a small contig") };
            let mut theirs = Vec::new();
            bam::bai::io::Writer::new(&mut theirs).write_index(&bai).unwrap();
            assert!(ours == theirs, "{backend}, {name}: the index differs from noodles' bam::fs::index");
            let left: Vec<String> = file_names(&dir).into_iter().filter(|n| n.contains("swmap-")).collect();
            assert!(left.is_empty(), "scratch files left: {left:?}");
        }
    }
}

/// samtools sort of the unsorted output gives the same records; samtools' index and ours
/// answer region queries alike.
#[test]
fn samtools_sort_and_index_agree() {
    if !has("samtools") {
        eprintln!("samtools not installed: skipped");
        return;
    }
    let dir = scratch("sort-samtools");
    let reads = reads(&dir);
    let (unsorted, sorted, theirs) = (dir.join("u.bam"), dir.join("s.bam"), dir.join("theirs.bam"));
    map("cpu", &[], &reads, &unsorted);
    map("cpu", &["--sort", "--sort-mem", "100K"], &reads, &sorted);
    ok(std::process::Command::new("samtools").args(["sort", "-o"]).arg(&theirs).arg(&unsorted));
    ok(std::process::Command::new("samtools").arg("index").arg(&theirs));
    let view =
        |bam: &Path, region: &[&str]| ok(std::process::Command::new("samtools").arg("view").arg(bam).args(region));
    assert!(view(&sorted, &[]) == view(&theirs, &[]), "records differ from samtools sort's");
    assert!(run(std::process::Command::new("samtools").arg("quickcheck").arg(&sorted)).status.success());
    let (header, _) = read_bam(&sorted);
    let contig =
        header.lines().find_map(|l| l.strip_prefix("@SQ\tSN:")).unwrap().split('\t').next().unwrap().to_string();
    let mut queried = 0;
    for (start, end) in [(1, 500), (1000, 1200), (20_000, 26_000), (40_000, 48_000), (47_000, 60_000)] {
        let region = format!("{contig}:{start}-{end}");
        let ours = view(&sorted, &[&region]);
        assert!(ours == view(&theirs, &[&region]), "{region}: our index and samtools' differ");
        queried += ours.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
    }
    assert!(queried > 100, "{queried} records in the regions");
}

#[test]
fn sort_needs_a_bam_file() {
    let dir = scratch("sort-bad");
    let reads = reads(&dir);
    for out in [None, Some("out.sam"), Some("-")] {
        let mut cmd = swmap();
        cmd.arg("map").arg(test_index()).args(&reads).args(["--backend", "cpu", "--sort"]);
        if let Some(o) = out {
            cmd.arg("-o").arg(if o == "-" { PathBuf::from("-") } else { dir.join(o) });
        }
        let res = run(&mut cmd);
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success() && err.contains("--sort") && err.contains(".bam"), "{out:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let res = run(swmap().arg("map").arg(test_index()).args(&reads).args(["--sort-mem", "lots"]));
    assert!(!res.status.success() && String::from_utf8_lossy(&res.stderr).contains("768M"));
}
