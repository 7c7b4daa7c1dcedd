//! NM, MD, MC and MQ of every mapped record, supplementary and secondary ones included,
//! recomputed in the test from the reference FASTA, the CIGAR and the read (see
//! `sam_check::check_records`), under every backend; and the order tags are written in.

use crate::sam_check::*;
use crate::support::*;
use swmap::align::{Cigar, CigarOp};
use swmap::{HeaderInfo, SamRecord, SamWriter, Tags};

#[test]
fn tags_are_exact_on_bundled_pairs() {
    let reference = load_fasta(&data("ref.fa.gz"));
    for b in backends() {
        for extra in [&[][..], &["-a"][..]] {
            let sam = ok(swmap()
                .arg("map")
                .arg(test_index())
                .arg(data("reads_1.fq.gz"))
                .arg(data("reads_2.fq.gz"))
                .args(["--backend", b])
                .args(extra));
            let c = check_records(&sam, &reference);
            assert!(c.mapped >= 3800 && c.with_mate_tags >= 3800, "{b} {extra:?}: {c:?}");
            assert!(c.with_indels > 0, "{b} {extra:?}: the bundled reads have indels: {c:?}");
            if !extra.is_empty() {
                assert!(c.secondary > 0, "{b} -a: some reads of the bundled data have other hits: {c:?}");
            }
        }
    }
}

#[test]
fn tags_are_exact_on_simulated_reads_with_indels() {
    let dir = scratch("tags-sim");
    let prefix = dir.join("sim");
    ok(swmap()
        .args(["simulate", "-n", "400", "--paired", "--error", "0.02", "--indel", "0.004", "--seed", "11", "-o"])
        .arg(&prefix)
        .arg(data("ref.fa.gz")));
    let reference = load_fasta(&data("ref.fa.gz"));
    let (r1, r2) = (dir.join("sim_1.fq"), dir.join("sim_2.fq"));
    for b in backends() {
        for extra in [&[][..], &["-a", "-Y"][..]] {
            let sam = ok(swmap().arg("map").arg(test_index()).arg(&r1).arg(&r2).args(["--backend", b]).args(extra));
            let c = check_records(&sam, &reference);
            assert!(c.mapped >= 780, "{b} {extra:?}: {c:?}");
            assert!(c.with_indels >= 20, "{b} {extra:?}: too few indels to test: {c:?}");
        }
        // Single-end too: no mate fields, same NM and MD.
        let sam = ok(swmap().arg("map").arg(test_index()).arg(&r1).args(["--backend", b, "-a"]));
        let c = check_records(&sam, &reference);
        assert!(c.mapped >= 390 && c.with_mate_tags == 0, "{b} single: {c:?}");
    }
}

#[test]
fn writer_puts_tags_in_order() {
    let dir = scratch("tag-order");
    let path = dir.join("out.sam");
    let header = HeaderInfo {
        contigs: vec![("chr1".into(), 1000)],
        read_group: Some(r"@RG\tID:g".into()),
        command_line: "swmap".into(),
        header_lines: Vec::new(),
        reference: None,
    };
    let mut cigar = Cigar::default();
    cigar.push(CigarOp::HardClip, 2);
    cigar.push(CigarOp::Match, 4);
    let rec = SamRecord {
        name: b"r".to_vec(),
        flags: 0x800 | 0x41,
        ref_id: Some(0),
        pos: Some(9),
        mapq: 17,
        cigar,
        mate_ref_id: Some(0),
        mate_pos: Some(99),
        seq: b"ACGT".to_vec(),
        qual: vec![30; 4],
        tags: Tags {
            nm: Some(0),
            md: Some("4".into()),
            mc: Some("6M".into()),
            mq: Some(60),
            as_score: Some(4),
            xs_score: Some(0),
            sa: Some("chr1,101,+,4M2S,60,0;".into()),
            pa: Some(950),
            xa: Some("chr1,-501,2S4M,1;".into()),
            extra: b"BC:Z:ACGT".to_vec(),
        },
        ..SamRecord::default()
    };
    let mut out = SamWriter::create(Some(&path), &header, 1).unwrap();
    out.write(&rec).unwrap();
    out.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| !l.starts_with('@')).unwrap();
    assert_eq!(
        line,
        "r\t2113\tchr1\t10\t17\t2H4M\t=\t100\t0\tACGT\t????\tNM:i:0\tMD:Z:4\tMC:Z:6M\tMQ:i:60\tAS:i:4\tXS:i:0\
         \tSA:Z:chr1,101,+,4M2S,60,0;\tpa:f:0.95\tXA:Z:chr1,-501,2S4M,1;\tRG:Z:g\tBC:Z:ACGT"
    );
}
