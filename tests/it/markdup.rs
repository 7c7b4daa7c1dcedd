//! Duplicate marking (`map --sort --markdup`) against Picard MarkDuplicates run on swmap's own
//! sorted output: pairs with PCR and optical copies under Illumina names (copies with equal
//! and with different qualities, so that both Picard's score and its tie order decide),
//! clipped mates, unmapped mates and single reads. Every record's flags, the records
//! themselves and the metrics file must be Picard's, sorted in memory or through spilled runs.

use crate::sam_check::fastq_records;
use crate::support::{data, has, missing_tool, ok, picard, random_bases, scratch, swmap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use swmap::rng::Rng;

/// `n` random bases as text.
fn random_text(rng: &mut Rng, n: usize) -> String {
    String::from_utf8(random_bases(rng, n)).unwrap()
}

/// Simulated pairs given Illumina names and copies: about a sixth of the pairs are PCR or
/// optical copies (same bases, same or other qualities); some mates get junk ends (clips) or
/// are junk altogether (unmapped, so their mates are single fragments at a pair's position).
fn duplicated_pairs(dir: &Path, pairs: u64) -> (PathBuf, PathBuf) {
    let prefix = dir.join("sim");
    ok(swmap()
        .args(["simulate", "--paired", "-n", &pairs.to_string(), "--seed", "5", "-o"])
        .arg(&prefix)
        .arg(data("ref.fa.gz")));
    let (r1, r2) = (fastq_records(&dir.join("sim_1.fq")), fastq_records(&dir.join("sim_2.fq")));
    let mut rng = Rng::new(11);
    let (mut out1, mut out2) = (String::new(), String::new());
    let mut taken = std::collections::HashSet::new();
    for ((_, s1, q1), (_, s2, q2)) in r1.iter().zip(&r2) {
        let (mut s1, mut s2) = (s1.clone(), s2.clone());
        match rng.below(20) {
            0 => s2 = random_text(&mut rng, s2.len()),
            1 => {
                let k = 10 + rng.below(30) as usize;
                s1 = random_text(&mut rng, k) + &s1[k..];
            }
            2 => {
                let k = 10 + rng.below(30) as usize;
                s2 = s2[..s2.len() - k].to_string() + &random_text(&mut rng, k);
            }
            _ => {}
        }
        let mut spot = |near: Option<(u64, u64, u64)>, rng: &mut Rng| loop {
            let s = match near {
                None => (1101 + rng.below(4), 1000 + rng.below(20_000), 1000 + rng.below(20_000)),
                Some((t, x, y)) => (t, x + rng.below(120) - 60, y + rng.below(120) - 60),
            };
            if taken.insert(s) {
                return s;
            }
        };
        let first = spot(None, &mut rng);
        let mut copies = vec![(first, q1.clone(), q2.clone())];
        while rng.chance(if copies.len() == 1 { 0.15 } else { 0.4 }) {
            let at = spot(rng.chance(0.4).then_some(first), &mut rng);
            let requal = |q: &str, rng: &mut Rng| -> String {
                q.bytes().map(|c| (c as i64 + rng.below(11) as i64 - 5).clamp(35, 73) as u8 as char).collect()
            };
            // Half the copies keep the qualities: equal scores, decided by Picard's tie order.
            let (c1, c2) =
                if rng.chance(0.5) { (q1.clone(), q2.clone()) } else { (requal(q1, &mut rng), requal(q2, &mut rng)) };
            copies.push((at, c1, c2));
        }
        for ((t, x, y), c1, c2) in copies {
            let name = format!("SIM:1:FC:1:{t}:{x}:{y}");
            let _ = write!(out1, "@{name}\n{s1}\n+\n{c1}\n");
            let _ = write!(out2, "@{name}\n{s2}\n+\n{c2}\n");
        }
    }
    let (p1, p2) = (dir.join("d_1.fq"), dir.join("d_2.fq"));
    std::fs::write(&p1, out1).unwrap();
    std::fs::write(&p2, out2).unwrap();
    (p1, p2)
}

/// `samtools view` of a BAM: the records' first eleven fields (Picard adds a PG tag).
fn records(bam: &Path) -> Vec<String> {
    let text = String::from_utf8(ok(Command::new("samtools").arg("view").arg(bam))).unwrap();
    text.lines().map(|l| l.split('\t').take(11).collect::<Vec<_>>().join("\t")).collect()
}

/// A metrics file without its `#` lines (command line and date).
fn metrics_body(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n")
}

/// The fields of `library`'s row in swmap's metrics file in `dir`.
fn metrics_row(dir: &Path, library: &str) -> Vec<String> {
    let metrics = metrics_body(&dir.join("swmap.metrics"));
    let row = metrics.lines().find(|l| l.starts_with(library)).expect("a row for the library");
    row.split('\t').map(String::from).collect()
}

/// Maps `reads` sorted without marking, runs Picard on that, and maps again with `--markdup`
/// (and `extra` options); asserts the records and metrics are Picard's. Returns the number
/// of duplicates.
fn check_against_picard(dir: &Path, reads: &[&Path], picard_args: &[&str], extra: &[&str]) -> usize {
    check_groups_against_picard(dir, reads, &["-R", r"@RG\tID:run1\tSM:s1\tLB:lib1"], picard_args, extra)
}

/// [`check_against_picard`] with the read groups `groups` sets (`-R`, or `-C -H`).
fn check_groups_against_picard(
    dir: &Path,
    reads: &[&Path],
    groups: &[&str],
    picard_args: &[&str],
    extra: &[&str],
) -> usize {
    let (plain, marked, theirs) = (dir.join("plain.bam"), dir.join("marked.bam"), dir.join("picard.bam"));
    let (ours_m, theirs_m) = (dir.join("swmap.metrics"), dir.join("picard.metrics"));
    let map = |out: &Path, more: &[&str]| {
        let mut cmd = swmap();
        cmd.args(["map", "-t", "2", "--sort"]).args(groups).arg("-o").arg(out);
        cmd.args(more).arg(data("ref.fa.gz")).args(reads);
        ok(&mut cmd);
    };
    map(&plain, &[]);
    let mut more = vec!["--markdup", "--markdup-metrics", ours_m.to_str().unwrap()];
    more.extend_from_slice(extra);
    map(&marked, &more);
    let mut p = picard().expect("checked by the caller");
    p.arg("MarkDuplicates").arg(format!("I={}", plain.display())).arg(format!("O={}", theirs.display()));
    p.arg(format!("M={}", theirs_m.display())).args(picard_args);
    ok(&mut p);
    let (ours, picards) = (records(&marked), records(&theirs));
    assert_eq!(ours.len(), picards.len(), "record counts");
    let differ: Vec<_> = ours.iter().zip(&picards).filter(|(a, b)| a != b).take(5).collect();
    assert!(differ.is_empty(), "records differing from Picard's (swmap, Picard): {differ:#?}");
    assert_eq!(metrics_body(&ours_m), metrics_body(&theirs_m), "metrics");
    // Unmarked, the records are those of the plain sorted output.
    let unmarked: Vec<String> = ours
        .iter()
        .map(|l| {
            let mut f: Vec<String> = l.split('\t').map(String::from).collect();
            f[1] = (f[1].parse::<u16>().unwrap() & !0x400).to_string();
            f.join("\t")
        })
        .collect();
    if picard_args.is_empty() {
        assert_eq!(unmarked, records(&plain), "marking changes the flags only");
    }
    ours.iter().filter(|l| l.split('\t').nth(1).unwrap().parse::<u16>().unwrap() & 0x400 != 0).count()
}

fn tools_present() -> bool {
    let samtools = has("samtools");
    if picard().is_none() {
        missing_tool("picard");
        return false;
    }
    samtools
}

#[test]
fn pairs_are_marked_as_picard_marks_them() {
    if !tools_present() {
        return;
    }
    let dir = scratch("markdup-pairs");
    let (r1, r2) = duplicated_pairs(&dir, 3000);
    let dups = check_against_picard(&dir, &[&r1, &r2], &[], &[]);
    assert!(dups > 800, "the reads hold many duplicates ({dups})");
    let row = metrics_row(&dir, "lib1");
    assert!(row[1].parse::<u64>().unwrap() > 100, "unpaired reads examined: {row:?}");
    assert!(row[7].parse::<u64>().unwrap() > 50, "optical duplicate pairs: {row:?}");
    // The same through sorted runs spilled to disk.
    let spilled = check_against_picard(&dir, &[&r1, &r2], &[], &["--sort-mem", "200K"]);
    assert_eq!(spilled, dups);
}

#[test]
fn single_reads_and_removal_as_picard() {
    if !tools_present() {
        return;
    }
    let dir = scratch("markdup-single");
    let (r1, r2) = duplicated_pairs(&dir, 1500);
    let dups = check_against_picard(&dir, &[&r1], &[], &[]);
    assert!(dups > 300, "single reads hold many duplicates ({dups})");
    // Removed: the records Picard keeps with REMOVE_DUPLICATES=true, pairs and single reads.
    for reads in [vec![r1.as_path(), r2.as_path()], vec![r1.as_path()]] {
        let left = check_against_picard(&dir, &reads, &["REMOVE_DUPLICATES=true"], &["--remove-duplicates"]);
        assert_eq!(left, 0);
    }
}

/// Two libraries in one run (read groups from the FASTQ comments, declared with -H): copies
/// of one fragment in different libraries are no duplicates of each other, and each library
/// has its row in the metrics, as Picard makes them.
#[test]
fn libraries_stay_apart_as_picard_keeps_them() {
    if !tools_present() {
        return;
    }
    let dir = scratch("markdup-libraries");
    let (r1, r2) = duplicated_pairs(&dir, 2000);
    let mut rng = Rng::new(21);
    let groups: Vec<&str> = fastq_records(&r1).iter().map(|_| if rng.chance(0.5) { "gA" } else { "gB" }).collect();
    for (i, path) in [&r1, &r2].into_iter().enumerate() {
        let mut text = String::new();
        for ((name, seq, qual), group) in fastq_records(path).into_iter().zip(&groups) {
            let _ = write!(text, "@{name} RG:Z:{group}\n{seq}\n+\n{qual}\n");
        }
        std::fs::write(dir.join(format!("l_{}.fq", i + 1)), text).unwrap();
    }
    let header = dir.join("groups.txt");
    std::fs::write(&header, "@RG\tID:gA\tSM:s1\tLB:libA\n@RG\tID:gB\tSM:s1\tLB:libB\n").unwrap();
    let (l1, l2) = (dir.join("l_1.fq"), dir.join("l_2.fq"));
    let h = header.to_str().unwrap();
    let dups = check_groups_against_picard(&dir, &[&l1, &l2], &["-C", "-H", h], &[], &[]);
    assert!(dups > 200, "{dups} duplicates");
    for library in ["libA", "libB"] {
        let row = metrics_row(&dir, library);
        assert!(row[6].parse::<u64>().unwrap() > 50, "{library}: {row:?}");
    }
    // A read group the header does not declare, or one beside -R, is refused, naming the record.
    for args in [&["-C"][..], &["-C", "-R", r"@RG\tID:gA\tSM:s1"][..]] {
        let out = crate::support::run(swmap().arg("map").args(args).arg(data("ref.fa.gz")).arg(&l1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("record 1 (SIM:"), "{args:?}: {err}");
    }
    let out = crate::support::run(swmap().args(["map", "-H", "@SQ\tSN:x\tLN:5"]).arg(data("ref.fa.gz")).arg(&l1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only @RG and @CO"));
}

#[test]
fn markdup_needs_sorted_output() {
    let out = crate::support::run(
        swmap().args(["map", "--markdup", "-o", "x.bam"]).arg(data("ref.fa.gz")).arg(data("reads_1.fq.gz")),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--sort"), "{}", String::from_utf8_lossy(&out.stderr));
}
