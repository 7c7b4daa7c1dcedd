//! Split reads: reads across a synthetic fusion junction (E. coli 80 bp + lambda 70 bp, from
//! the bundled reference) get one primary and one supplementary record, with SA tags that
//! point at each other, under every backend, single and paired.

use crate::sam_check::*;
use crate::support::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const ECOLI: &str = "ecoli_k12_1_150000";
const READS: usize = 24;

/// Where read `j`'s two parts come from (0-based starts): E. coli then lambda.
fn origin(j: usize) -> (usize, usize) {
    (20_000 + 1_013 * j, 10_000 + 997 * j)
}

/// Junction reads (80 + 70 bp; odd ones reverse-complemented) and, as their mates, 150 bp
/// reads from lambda downstream of the junction, reverse strand (so the pair faces inwards).
pub(crate) fn write_reads(dir: &Path) -> (PathBuf, PathBuf) {
    let reference = load_fasta(&data("ref.fa.gz"));
    let (ecoli, lambda) = (&reference[ECOLI], &reference["lambda"]);
    let (mut r1, mut r2) = (String::new(), String::new());
    for j in 0..READS {
        let (e, l) = origin(j);
        let mut read = ecoli[e..e + 80].to_vec();
        read.extend_from_slice(&lambda[l..l + 70]);
        let mate = reverse_complement(&lambda[l + 250..l + 400]);
        let (read, mate) =
            if j % 2 == 1 { (reverse_complement(&read), reverse_complement(&mate)) } else { (read, mate) };
        r1 += &fastq_record(&format!("fusion{j}"), &read);
        r2 += &fastq_record(&format!("fusion{j}"), &mate);
    }
    let (p1, p2) = (dir.join("fusion_1.fq"), dir.join("fusion_2.fq"));
    std::fs::write(&p1, r1).unwrap();
    std::fs::write(&p2, r2).unwrap();
    (p1, p2)
}

fn map(reads: &[&Path], backend: &str, extra: &[&str]) -> Vec<u8> {
    map_ok(&test_index(), reads, backend, extra)
}

/// An SA entry as written for `r`: `rname,pos,strand,CIGAR,mapQ,NM;` with soft clips.
fn sa_entry(r: &Line) -> String {
    let strand = if r.reverse() { '-' } else { '+' };
    format!("{},{},{strand},{},{},{};", r.rname, r.pos, soft(&r.cigar), r.mapq, r.tag("NM").unwrap())
}

/// Read bases a record aligns, counted in the orientation its CIGAR reads the read: for every
/// read here, forward or reverse-complemented, that is the fusion as built (E. coli first).
fn fusion_span(r: &Line) -> (u32, u32) {
    let ops = r.ops();
    let len: u32 = ops.iter().filter(|(_, op)| b"MISH".contains(op)).map(|(n, _)| n).sum();
    let lead = ops.first().filter(|(_, op)| b"SH".contains(op)).map_or(0, |(n, _)| *n);
    let tail = ops.last().filter(|(_, op)| b"SH".contains(op)).map_or(0, |(n, _)| *n);
    (lead, len - tail)
}

/// The assertions on the junction reads (mate 1 when paired) of one output.
fn check_split(sam: &[u8], soft_clipped: bool, what: &str) {
    let mut by_read: HashMap<String, Vec<Line>> = HashMap::new();
    for r in lines(sam).into_iter().filter(|r| r.flag & 0x80 == 0) {
        by_read.entry(r.name.clone()).or_default().push(r);
    }
    assert_eq!(by_read.len(), READS, "{what}");
    for (name, recs) in &by_read {
        let j: usize = name.trim_start_matches("fusion").parse().unwrap();
        let (p, s): (Vec<&Line>, Vec<&Line>) = recs.iter().partition(|r| r.primary());
        assert!(p.len() == 1 && s.len() == 1, "{what} {name}: {} primary, {} other records", p.len(), s.len());
        let (p, s) = (p[0], s[0]);
        assert_eq!(s.flag & 0x900, 0x800, "{what} {name}: the other record is supplementary");
        // Both on the read's strand; one part on each contig, where it came from (the
        // junction may shift a base or two, as a base may match on both sides).
        let reverse = j % 2 == 1;
        assert!(p.reverse() == reverse && s.reverse() == reverse, "{what} {name}: strands");
        let (e, l) = origin(j);
        let (ecoli, lambda) = if p.rname == ECOLI { (p, s) } else { (s, p) };
        assert_eq!((ecoli.rname.as_str(), lambda.rname.as_str()), (ECOLI, "lambda"), "{what} {name}");
        assert_eq!(ecoli.pos, e as u64 + 1, "{what} {name}: E. coli part");
        assert!(lambda.pos.abs_diff(l as u64 + 1) <= 3, "{what} {name}: lambda part at {}", lambda.pos);
        // The parts split the read between them.
        let (a, b) = (fusion_span(ecoli), fusion_span(lambda));
        assert!(
            a.0 == 0 && b.1 == 150 && a.1 >= 77 && b.0 <= 83 && a.1.abs_diff(b.0) <= 3,
            "{what} {name}: {a:?} {b:?}"
        );
        // SA on each names the other exactly.
        assert_eq!(p.tag("SA"), Some(sa_entry(s).as_str()), "{what} {name}: SA of the primary");
        assert_eq!(s.tag("SA"), Some(sa_entry(p).as_str()), "{what} {name}: SA of the supplementary");
        assert!(!p.cigar.contains('H'), "{what} {name}: the primary soft-clips");
        if soft_clipped {
            assert!(!s.cigar.contains('H') && s.seq.len() == 150, "{what} {name}: -Y soft-clips: {}", s.cigar);
        } else {
            assert!(s.cigar.contains('H') && !s.cigar.contains('S'), "{what} {name}: hard clips: {}", s.cigar);
            assert!(s.seq.len() < 100, "{what} {name}: SEQ without the hard-clipped bases");
        }
        assert!(p.mapq >= 30 && s.mapq <= p.mapq, "{what} {name}: MAPQ {} and {}", p.mapq, s.mapq);
        assert_eq!(p.tag("XS"), Some("0"), "{what} {name}: the other part is no rival");
    }
}

#[test]
fn fusion_reads_get_a_primary_and_a_supplementary_record() {
    let dir = scratch("fusion-single");
    let (r1, _) = write_reads(&dir);
    let reference = load_fasta(&data("ref.fa.gz"));
    let expected = body(&map(&[&r1], "cpu", &[]));
    for b in backends() {
        for chunk in ["1000", "5"] {
            let sam = map(&[&r1], b, &["--chunk-reads", chunk]);
            assert_same("fusion reads", ("cpu", &expected), (&format!("{b} --chunk-reads {chunk}"), &body(&sam)));
        }
        check_split(&expected, false, b);
        let c = check_records(&expected, &reference);
        assert_eq!((c.mapped, c.supplementary, c.secondary), (2 * READS, READS, 0), "{b}: {c:?}");
        let soft = map(&[&r1], b, &["-Y"]);
        check_split(&soft, true, &format!("{b} -Y"));
        check_records(&soft, &reference);
    }
}

#[test]
fn fusion_pairs_carry_mate_fields_on_the_supplementary() {
    let dir = scratch("fusion-paired");
    let (r1, r2) = write_reads(&dir);
    let reference = load_fasta(&data("ref.fa.gz"));
    let expected = body(&map(&[&r1, &r2], "cpu", &[]));
    for b in backends() {
        let sam = map(&[&r1, &r2], b, &["--chunk-reads", "6"]);
        assert_same("fusion pairs", ("cpu", &expected), (&format!("{b} --chunk-reads 6"), &body(&sam)));
    }
    check_split(&expected, false, "paired");
    // MC, MQ, RNEXT and PNEXT of every record, the supplementary ones included.
    let c = check_records(&expected, &reference);
    assert_eq!((c.supplementary, c.with_mate_tags), (READS, 3 * READS), "{c:?}");
    for r in lines(&expected).iter().filter(|r| r.flag & 0x800 != 0) {
        assert_eq!(r.flag & 0xc1, 0x41, "{}: a supplementary of mate 1 is flagged paired, first", r.name);
    }
}

#[test]
fn samtools_and_picard_accept_split_output() {
    let dir = scratch("fusion-tools");
    let (r1, r2) = write_reads(&dir);
    let read_group = "@RG\\tID:g\\tSM:s\\tPL:ILLUMINA";
    for (name, reads, extra) in [
        ("single.sam", vec![r1.as_path()], vec![]),
        ("paired.bam", vec![r1.as_path(), r2.as_path()], vec![]),
        ("paired.sam", vec![r1.as_path(), r2.as_path()], vec![]),
        ("paired-all.sam", vec![r1.as_path(), r2.as_path()], vec!["-a"]),
        ("paired-soft.sam", vec![r1.as_path(), r2.as_path()], vec!["-Y"]),
    ] {
        let out = dir.join(name);
        map(&reads, "cpu", &[&["-o", out.to_str().unwrap(), "-R", read_group][..], &extra[..]].concat());
        if has("samtools") {
            assert!(run(std::process::Command::new("samtools").arg("quickcheck").arg(&out)).status.success(), "{name}");
            let c = ok(std::process::Command::new("samtools").args(["view", "-c", "-F", "0x900"]).arg(&out));
            assert_eq!(String::from_utf8_lossy(&c).trim(), (READS * reads.len()).to_string(), "{name}: primaries");
            let s = ok(std::process::Command::new("samtools").args(["view", "-c", "-f", "0x800"]).arg(&out));
            assert_eq!(String::from_utf8_lossy(&s).trim(), READS.to_string(), "{name}: supplementaries");
        }
        if !name.ends_with(".bam") {
            if let Some(errors) = picard_errors(&out) {
                assert!(errors.is_empty(), "picard on {name}:\n{errors}");
            }
        }
    }
}
