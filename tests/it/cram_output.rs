//! CRAM output (`-o NAME.cram`): readable by samtools, records equal to the BAM's, `@SQ M5` as
//! `samtools dict` computes it, an index beside a sorted CRAM, and a missing or different
//! reference FASTA refused before any read is mapped.

use crate::support::{data, gunzip, has, ok, run, scratch, swmap};
use std::path::Path;
use std::process::Command;

/// samtools view of `file` (with the reference for CRAM): each record's fields, the tags sorted
/// (samtools writes a CRAM's MD and NM where it likes) and each tag once.
fn normalized(file: &Path, reference: &Path) -> Vec<String> {
    let out = ok(Command::new("samtools").arg("view").arg("-T").arg(reference).arg(file));
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            let mut tags: Vec<&str> = fields[11..].to_vec();
            tags.sort_unstable();
            tags.dedup();
            fields[..11].join("\t") + "\t" + &tags.join("\t")
        })
        .collect()
}

#[test]
fn cram_holds_the_records_of_the_bam() {
    if !has("samtools") {
        return;
    }
    let dir = scratch("cram");
    let fasta = dir.join("ref.fa");
    std::fs::write(&fasta, gunzip(&data("ref.fa.gz"))).unwrap();
    let bundled = [data("reads_1.fq.gz"), data("reads_2.fq.gz")];
    // 12,000 pairs: 24,000 records, three containers of 10,240 (encoded on threads of their own
    // and put in order), with mates split across containers.
    ok(swmap().args(["simulate", "--paired", "-n", "12000", "--seed", "2", "-o"]).arg(dir.join("sim")).arg(&fasta));
    let simulated = [dir.join("sim_1.fq"), dir.join("sim_2.fq")];
    let rg = r"@RG\tID:run1\tSM:s1\tLB:lib1\tPL:ILLUMINA";
    for (reads, records, sorted) in [(&bundled, 4000, false), (&bundled, 4000, true), (&simulated, 24_000, true)] {
        let (bam, cram) = (dir.join("x.bam"), dir.join("x.cram"));
        for out in [&bam, &cram] {
            let mut cmd = swmap();
            cmd.args(["map", "-t", "2", "-R", rg]).args(if sorted { &["--sort", "--markdup"][..] } else { &[] });
            ok(cmd.arg("-o").arg(out).arg(&fasta).args(reads));
        }
        assert!(run(Command::new("samtools").arg("quickcheck").arg(&cram)).status.success());
        let (from_bam, from_cram) = (normalized(&bam, &fasta), normalized(&cram, &fasta));
        assert!(from_bam.len() >= records);
        assert_eq!(from_cram, from_bam, "sorted: {sorted}, {records} records");
        assert_eq!(dir.join("x.cram.crai").exists(), sorted, "an index beside the sorted CRAM only");
        if sorted {
            // The index answers a region query as the records say.
            let region =
                ok(Command::new("samtools").args(["view", "-c", "-T"]).arg(&fasta).arg(&cram).arg("lambda:1-20000"));
            let count: usize = String::from_utf8(region).unwrap().trim().parse().unwrap();
            let expected = from_bam.iter().filter(|l| l.split('\t').nth(2) == Some("lambda")).count();
            assert!(count > 100 && count <= expected, "{count} of {expected}");
            // The index is the one samtools makes of the file.
            let theirs = dir.join("samtools.crai");
            ok(Command::new("samtools").arg("index").arg("-o").arg(&theirs).arg(&cram));
            assert_eq!(gunzip(&dir.join("x.cram.crai")), gunzip(&theirs), "index lines differ from samtools index's");
            std::fs::remove_file(dir.join("x.cram.crai")).unwrap();
        }
        // Picard (htsjdk, as GATK reads CRAM) decodes it and finds nothing wrong: asked of the
        // one-container files only, since noodles-cram leaves CRAM's mate-flags series empty and
        // htsjdk takes a mate's strand from it for pairs split across containers (samtools
        // takes it from the record's flags; see README).
        if records > 10_240 {
            continue;
        }
        match crate::support::picard() {
            None => crate::support::missing_tool("picard"),
            Some(mut picard) => {
                ok(Command::new("samtools").arg("faidx").arg(&fasta));
                let dict = ok(Command::new("samtools").arg("dict").arg(&fasta));
                std::fs::write(dir.join("ref.dict"), dict).unwrap();
                let v = picard
                    .args(["ValidateSamFile", "--MODE", "SUMMARY", "-R"])
                    .arg(&fasta)
                    .arg("-I")
                    .arg(&cram)
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&v.stdout).to_string() + &String::from_utf8_lossy(&v.stderr);
                assert!(v.status.success() && text.contains("No errors found"), "sorted: {sorted}: {text}");
            }
        }
    }
    // @SQ M5 as samtools dict has it.
    let header = String::from_utf8(ok(Command::new("samtools").arg("view").arg("-H").arg(dir.join("x.cram")))).unwrap();
    let dict = String::from_utf8(ok(Command::new("samtools").arg("dict").arg(&fasta))).unwrap();
    let m5 = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("@SQ"))
            .filter_map(|l| l.split('\t').find(|f| f.starts_with("M5:")))
            .map(String::from)
            .collect()
    };
    assert_eq!(m5(&header), m5(&dict));
    assert_eq!(m5(&header).len(), 2);
}

#[test]
fn cram_needs_the_exact_reference_before_any_work() {
    let dir = scratch("cram-reference");
    let index = dir.join("ref.swi");
    ok(swmap().arg("index").arg("-o").arg(&index).arg(data("ref.fa.gz")));
    let out = dir.join("x.cram");
    // An index alone: the FASTA is missing.
    let r = run(swmap().arg("map").arg("-o").arg(&out).arg(&index).arg(data("reads_1.fq.gz")));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("--reference"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    // Another FASTA: refused, naming it.
    let other = dir.join("other.fa");
    std::fs::write(&other, ">lambda\nACGTACGTAC\n").unwrap();
    let r = run(swmap()
        .arg("map")
        .arg("-o")
        .arg(&out)
        .arg("--reference")
        .arg(&other)
        .arg(&index)
        .arg(data("reads_1.fq.gz")));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("other.fa") && err.contains("not the FASTA"), "{err}");
    assert!(!out.exists(), "no output left behind");
    // The right one given beside the index works.
    let fasta = dir.join("ref.fa");
    std::fs::write(&fasta, gunzip(&data("ref.fa.gz"))).unwrap();
    ok(swmap().arg("map").arg("-o").arg(&out).arg("--reference").arg(&fasta).arg(&index).arg(data("reads_1.fq.gz")));
    assert!(out.exists());
}
