//! CRAM output (`-o NAME.cram`): the BAM's records back from samtools, Picard (htsjdk, as GATK
//! reads CRAM) and noodles, `@SQ M5` as `samtools dict` computes it, the index samtools makes,
//! a file about the size samtools makes, and a missing or different reference FASTA refused
//! before any read is mapped.

use crate::support::{data, gunzip, has, ok, run, scratch, swmap};
use std::path::Path;
use std::process::Command;

/// The records of `file` as `samtools view` prints them (with the reference for CRAM).
fn samtools_view(file: &Path, reference: &Path) -> Vec<String> {
    let out = ok(Command::new("samtools").arg("view").arg("-T").arg(reference).arg(file));
    String::from_utf8(out).unwrap().lines().map(String::from).collect()
}

/// `ours` equals `expected` line by line; a difference names the first differing line.
fn assert_same(ours: &[String], expected: &[String], what: &str) {
    if let Some(i) = (0..ours.len().max(expected.len())).find(|&i| ours.get(i) != expected.get(i)) {
        panic!(
            "{what}: line {} of {} differs:\n{:?}\nexpected\n{:?}",
            i + 1,
            expected.len(),
            ours.get(i),
            expected.get(i)
        );
    }
}

/// SAM lines with their tags in sorted order (Picard's writer orders tags its own way).
fn tags_sorted(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            let mut tags = fields[11..].to_vec();
            tags.sort_unstable();
            fields[..11].iter().chain(&tags).copied().collect::<Vec<_>>().join("\t")
        })
        .collect()
}

/// The records of `cram` as noodles decodes them, as SAM lines.
fn noodles_view(cram: &Path, reference: &Path) -> Vec<String> {
    // The reference upper-cased, as CRAM readers are to use it (htslib and htsjdk do so
    // themselves, noodles 0.102 does not).
    let fasta: Vec<_> = noodles_fasta::io::reader::Builder
        .build_from_path(reference)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            let bases = r.sequence().as_ref().to_ascii_uppercase();
            noodles_fasta::Record::new(r.definition().clone(), noodles_fasta::record::Sequence::from(bases))
        })
        .collect();
    let mut reader = noodles_cram::io::reader::Builder::default()
        .set_reference_sequence_repository(noodles_fasta::Repository::new(fasta))
        .build_from_path(cram)
        .unwrap();
    let header = reader.read_header().unwrap();
    let mut writer = noodles_sam::io::Writer::new(Vec::new());
    for record in reader.records(&header) {
        use noodles_sam::alignment::io::Write as _;
        writer.write_alignment_record(&header, &record.unwrap()).unwrap();
    }
    // CRAM stores no MAPQ for an unmapped record: noodles reads it as 255 (missing), htslib and
    // htsjdk as 0, which is what swmap writes.
    let unmapped_mapq = |l: &str| {
        let mut f: Vec<&str> = l.split('\t').collect();
        if f[1].parse::<u16>().unwrap() & 0x4 != 0 && f[4] == "255" {
            f[4] = "0";
        }
        f.join("\t")
    };
    String::from_utf8(writer.into_inner()).unwrap().lines().map(unmapped_mapq).collect()
}

/// The records of `cram` as Picard decodes them (SamFormatConverter to SAM), tags sorted;
/// `None` without Picard.
fn picard_view(cram: &Path, reference: &Path, dir: &Path) -> Option<Vec<String>> {
    let Some(mut picard) = crate::support::picard() else {
        crate::support::missing_tool("picard");
        return None;
    };
    let dict = reference.with_extension("dict");
    if !dict.exists() {
        std::fs::write(&dict, ok(Command::new("samtools").arg("dict").arg(reference))).unwrap();
    }
    let sam = dir.join("picard.sam");
    let r = run(picard.args(["SamFormatConverter", "-R"]).arg(reference).arg("-I").arg(cram).arg("-O").arg(&sam));
    assert!(r.status.success(), "Picard: {}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&sam).unwrap();
    let lines: Vec<String> = text.lines().filter(|l| !l.starts_with('@')).map(String::from).collect();
    Some(tags_sorted(&lines))
}

/// The lambda FASTA with soft-masked (lower-case) stretches and IUPAC codes (R, Y) under some
/// reads: CRAM is encoded against exactly these bases.
fn masked_reference(dir: &Path) -> std::path::PathBuf {
    let text = String::from_utf8(gunzip(&data("ref.fa.gz"))).unwrap();
    let mut out = String::new();
    let mut at = 0usize;
    for line in text.lines() {
        if line.starts_with('>') {
            out += line;
        } else {
            for b in line.chars() {
                at += 1;
                out.push(match at {
                    _ if at.is_multiple_of(997) => 'R',
                    _ if at.is_multiple_of(1499) => 'Y',
                    1000..=3000 | 20_000..=20_100 => b.to_ascii_lowercase(),
                    _ => b,
                });
            }
        }
        out.push('\n');
    }
    let path = dir.join("ref.fa");
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn cram_holds_the_records_of_the_bam() {
    if !has("samtools") {
        return;
    }
    let dir = scratch("cram");
    let fasta = masked_reference(&dir);
    let bundled = [data("reads_1.fq.gz"), data("reads_2.fq.gz")];
    // 12,000 pairs: 24,000 records, three containers of 10,240 (encoded on threads of their own
    // and put in order), with mates split across containers.
    ok(swmap().args(["simulate", "--paired", "-n", "12000", "--seed", "2", "-o"]).arg(dir.join("sim")).arg(&fasta));
    let simulated = [dir.join("sim_1.fq"), dir.join("sim_2.fq")];
    let rg = r"@RG\tID:run1\tSM:s1\tLB:lib1\tPL:ILLUMINA";
    // Secondary records without SEQ (-a on tandem copies), on their own reference.
    let tandem_fasta = dir.join("tandem.fa");
    std::fs::copy(data("tandem_arrays.fa"), &tandem_fasta).unwrap();
    let tandem = [data("tandem_arrays.fq")];
    let cases: [(&Path, &[std::path::PathBuf], usize, &[&str]); 4] = [
        (&fasta, &bundled, 4000, &[]),
        (&fasta, &bundled, 4000, &["--sort", "--markdup"]),
        (&fasta, &simulated, 24_000, &["--sort", "--markdup"]),
        (&tandem_fasta, &tandem, 20, &["-a"]),
    ];
    for (reference, reads, records, options) in cases {
        let (bam, cram) = (dir.join("x.bam"), dir.join("x.cram"));
        for out in [&bam, &cram] {
            ok(swmap().args(["map", "-t", "2", "-R", rg]).args(options).arg("-o").arg(out).arg(reference).args(reads));
        }
        let what = format!("{options:?}, {records} records");
        assert!(run(Command::new("samtools").arg("quickcheck").arg(&cram)).status.success());
        let from_bam = samtools_view(&bam, reference);
        assert!(from_bam.len() >= records);
        // samtools gives back the BAM's lines exactly, tags in their order; so does noodles,
        // but for records without SEQ (it gives them qualities of the CIGAR's length, 0xff each,
        // which its own SAM writer then refuses).
        assert_same(&samtools_view(&cram, reference), &from_bam, &format!("samtools, {what}"));
        if !options.contains(&"-a") {
            assert_same(&noodles_view(&cram, reference), &from_bam, &format!("noodles, {what}"));
        }
        if options.contains(&"-a") {
            let no_seq = from_bam.iter().filter(|l| l.split('\t').nth(9) == Some("*")).count();
            assert!(no_seq >= 10, "{no_seq} secondary records without SEQ");
        }
        if let Some(picard) = picard_view(&cram, reference, &dir) {
            assert_same(&picard, &tags_sorted(&from_bam), &format!("Picard, {what}"));
        }
        let sorted = options.contains(&"--sort");
        assert_eq!(dir.join("x.cram.crai").exists(), sorted, "an index beside the sorted CRAM only");
        if sorted {
            // The index answers a region query as the records say.
            let region =
                ok(Command::new("samtools").args(["view", "-c", "-T"]).arg(reference).arg(&cram).arg("lambda:1-20000"));
            let count: usize = String::from_utf8(region).unwrap().trim().parse().unwrap();
            let expected = from_bam.iter().filter(|l| l.split('\t').nth(2) == Some("lambda")).count();
            assert!(count > 100 && count <= expected, "{count} of {expected}");
            // The index is the one samtools makes of the file.
            let theirs = dir.join("samtools.crai");
            ok(Command::new("samtools").arg("index").arg("-o").arg(&theirs).arg(&cram));
            assert_eq!(gunzip(&dir.join("x.cram.crai")), gunzip(&theirs), "index lines differ from samtools index's");
            std::fs::remove_file(dir.join("x.cram.crai")).unwrap();
        }
        if records == 24_000 {
            // Within 10% of the file samtools makes of the same records.
            let theirs = dir.join("samtools.cram");
            ok(Command::new("samtools").args(["view", "-C", "-T"]).arg(reference).arg("-o").arg(&theirs).arg(&bam));
            let (ours, theirs) = (std::fs::metadata(&cram).unwrap().len(), std::fs::metadata(&theirs).unwrap().len());
            assert!(ours * 10 <= theirs * 11, "{ours} bytes against samtools' {theirs}");
        }
    }
    // @SQ M5 as samtools dict has it.
    let header = String::from_utf8(ok(Command::new("samtools").arg("view").arg("-H").arg(dir.join("x.cram")))).unwrap();
    let dict = String::from_utf8(ok(Command::new("samtools").arg("dict").arg(&tandem_fasta))).unwrap();
    let m5 = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("@SQ"))
            .filter_map(|l| l.split('\t').find(|f| f.starts_with("M5:")))
            .map(String::from)
            .collect()
    };
    assert_eq!(m5(&header), m5(&dict));
    assert!(!m5(&header).is_empty());
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
