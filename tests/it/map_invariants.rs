//! The invariants of `swmap map`, each checked under every backend: identical output across
//! backends, thread counts and chunk sizes; every read exactly once; valid SAM/BAM.

use crate::sam_check::{body, picard_errors, records};
use crate::support::*;
use std::collections::HashMap;

fn map_paired(backend: &str, extra: &[&str]) -> Vec<u8> {
    map_ok(&test_index(), &[&data("reads_1.fq.gz"), &data("reads_2.fq.gz")], backend, extra)
}

#[test]
fn backends_threads_and_chunk_sizes_give_identical_output() {
    let reference = body(&map_paired("cpu", &["-t", "2"]));
    for b in backends() {
        for (t, chunk) in [("1", "1000000"), ("2", "200000"), ("2", "998"), ("1", "7")] {
            let out = body(&map_paired(b, &["-t", t, "--chunk-reads", chunk]));
            assert_same(
                "bundled pairs",
                ("cpu -t 2", &reference),
                (&format!("{b} -t {t} --chunk-reads {chunk}"), &out),
            );
        }
    }
}

/// With the insert-size model given (`-I`), chunks are placed as soon as they are aligned,
/// so later chunks are parsed, seeded and placed into the buffers of spent ones (the
/// mapper's spares): small chunks recycle them hundreds of times, and any content left over
/// from an earlier read would change the output.
#[test]
fn chunks_filled_into_spent_ones_give_identical_output() {
    let model = ["-I", "400,40"];
    let reference = body(&map_paired("cpu", &[&model[..], &["--chunk-reads", "1000000"]].concat()));
    for b in backends() {
        for (t, chunk) in [("2", "10"), ("1", "333")] {
            let out = body(&map_paired(b, &[&model[..], &["-t", t, "--chunk-reads", chunk]].concat()));
            assert_same(
                "bundled pairs, -I",
                ("one chunk", &reference),
                (&format!("{b} -t {t} --chunk-reads {chunk}"), &out),
            );
        }
    }
}

/// `--stats` (stages one after the other) and `--pipeline-busy` (stages overlapped, each
/// thread's busy share) report without changing a record; the busy line names the five
/// threads with shares of the run's wall time.
#[test]
fn measuring_runs_give_identical_output() {
    let reference = body(&map_paired("cpu", &[]));
    for b in backends() {
        for flag in ["--stats", "--pipeline-busy"] {
            let out = run(swmap()
                .arg("map")
                .arg(test_index())
                .arg(data("reads_1.fq.gz"))
                .arg(data("reads_2.fq.gz"))
                .args(["--backend", b, "-t", "2", flag]));
            assert!(out.status.success());
            assert_same("bundled pairs", ("plain", &reference), (&format!("{b} {flag}"), &body(&out.stdout)));
            let err = String::from_utf8_lossy(&out.stderr);
            let line = match flag {
                "--stats" => err.lines().find(|l| l.starts_with("[swmap] CPU us per read: ")),
                _ => err.lines().find(|l| l.starts_with("[swmap] pipeline threads busy: ")),
            };
            let line = line.unwrap_or_else(|| panic!("{b} {flag}: {err}"));
            if flag == "--pipeline-busy" {
                let shares: Vec<f64> = line
                    .split_whitespace()
                    .filter_map(|word| word.trim_end_matches(',').strip_suffix('%'))
                    .map(|n| n.parse().unwrap())
                    .collect();
                assert_eq!(shares.len(), 5, "{line}");
                assert!(shares.iter().all(|s| (0.0..=100.0).contains(s)) && shares.iter().any(|&s| s > 0.0), "{line}");
            }
        }
    }
}

#[test]
fn every_read_appears_exactly_once_as_primary() {
    for b in backends() {
        let sam = map_paired(b, &[]);
        let mut seen: HashMap<(String, u16), usize> = HashMap::new();
        for line in records(&sam) {
            let f: Vec<&str> = line.split('\t').collect();
            let flag: u16 = f[1].parse().unwrap();
            if flag & 0x900 == 0 {
                *seen.entry((f[0].to_string(), flag & 0xc0)).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 4000, "{b}: 2000 pairs in the input");
        assert!(seen.values().all(|&n| n == 1), "{b}: a read appears more than once");
    }
}

#[test]
fn fasta_reference_gives_the_same_output_as_its_index() {
    let from_index = body(&map_paired("cpu", &[]));
    let from_fasta = body(&ok(swmap()
        .arg("map")
        .arg(data("ref.fa.gz"))
        .arg(data("reads_1.fq.gz"))
        .arg(data("reads_2.fq.gz"))
        .args(["--backend", "cpu"])));
    assert_same("cpu, bundled pairs", ("index", &from_index), ("FASTA reference", &from_fasta));
}

#[test]
fn interleaved_input_equals_two_files() {
    let dir = scratch("interleaved");
    let two = body(&map_paired("cpu", &[]));
    let read = |p: &str| {
        let out = ok(std::process::Command::new("sh").arg("-c").arg(format!("gzip -dc {}", data(p).display())));
        String::from_utf8(out).unwrap()
    };
    let (a, b) = (read("reads_1.fq.gz"), read("reads_2.fq.gz"));
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut inter = String::new();
    for (ra, rb) in la.chunks(4).zip(lb.chunks(4)) {
        for l in ra.iter().chain(rb) {
            inter.push_str(l);
            inter.push('\n');
        }
    }
    let path = dir.join("inter.fq");
    std::fs::write(&path, inter).unwrap();
    let one = body(&ok(swmap().arg("map").arg(test_index()).arg(&path).args(["-p", "--backend", "cpu"])));
    assert_same("cpu, bundled pairs", ("two files", &two), ("interleaved", &one));
}

#[test]
fn single_end_from_stdin_matches_file_input() {
    let from_file =
        body(&ok(swmap().arg("map").arg(test_index()).arg(data("reads_1.fq.gz")).args(["--backend", "cpu"])));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "gzip -dc {} | {} map {} - --backend cpu",
            data("reads_1.fq.gz").display(),
            SWMAP,
            test_index().display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_same("cpu, bundled mate 1 reads", ("file", &from_file), ("stdin", &body(&out.stdout)));
    assert_eq!(records(&from_file).len(), 2000);
}

#[test]
fn samtools_accepts_sam_and_bam_and_counts_every_read() {
    if !has("samtools") {
        eprintln!("skipping: samtools not installed");
        return;
    }
    let dir = scratch("samtools");
    for b in backends() {
        for ext in ["sam", "bam"] {
            let out = dir.join(format!("out-{b}.{ext}"));
            map_paired(b, &["-o", out.to_str().unwrap(), "-R", "@RG\\tID:grp1\\tSM:sample1"]);
            let q = run(std::process::Command::new("samtools").arg("quickcheck").arg(&out));
            assert!(q.status.success(), "quickcheck rejects {}", out.display());
            let c = ok(std::process::Command::new("samtools").args(["view", "-c", "-F", "0x900"]).arg(&out));
            assert_eq!(String::from_utf8_lossy(&c).trim(), "4000", "{}", out.display());
            let rg = ok(std::process::Command::new("samtools").args(["view", "-c", "-r", "grp1"]).arg(&out));
            assert_eq!(String::from_utf8_lossy(&rg).trim(), "4000", "RG on every record");
            assert!(temp_files(&dir).is_empty(), "{b}: temporary files left behind: {:?}", temp_files(&dir));
        }
    }
}

#[test]
fn picard_validates_paired_output() {
    let dir = scratch("picard");
    let out = dir.join("out.sam");
    map_paired("cpu", &["-o", out.to_str().unwrap(), "-R", "@RG\\tID:g\\tSM:s\\tPL:ILLUMINA"]);
    if let Some(errors) = picard_errors(&out) {
        assert!(errors.is_empty(), "picard:\n{errors}");
    }
}

#[test]
fn accuracy_on_bundled_dwgsim_reads() {
    // dwgsim names: contig_pos1_pos2_strand1_strand2_random..._idx, pos 1-based leftmost of
    // each mate. Random reads (about 5%) have no true place and count as not correct.
    let sam = map_paired("cpu", &[]);
    let (mut total, mut correct) = (0, 0);
    for line in records(&sam) {
        let f: Vec<&str> = line.split('\t').collect();
        let flag: u16 = f[1].parse().unwrap();
        total += 1;
        let p: Vec<&str> = f[0].rsplitn(10, '_').collect();
        let (contig, pos1, pos2) = (p[9], p[8], p[7]);
        let truth: i64 = if flag & 0x40 != 0 { pos1.parse().unwrap() } else { pos2.parse().unwrap() };
        if flag & 4 == 0 && f[2] == contig && (f[3].parse::<i64>().unwrap() - truth).abs() <= 5 {
            correct += 1;
        }
    }
    let pct = 100.0 * correct as f64 / total as f64;
    // bwa-mem 0.7.17 on the same reads: see test-data/README.md.
    assert!(pct >= 93.0, "only {pct:.2}% of reads placed within 5 bp of the truth");
}
