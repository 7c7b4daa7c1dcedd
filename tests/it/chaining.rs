//! What colinear chaining and the tie-break give, under every backend: reads across a deletion
//! of 30-70 bases or an insertion of 40 are aligned through it (not clipped at it), the short
//! side of a split read (35 bases) gets its supplementary record, and reads in an exact
//! duplicate are placed on both copies (a hash of the name chooses), the same way every time.

use crate::sam_check::*;
use crate::support::*;
use std::path::Path;

const ECOLI: &str = "ecoli_k12_1_150000";

fn ecoli() -> Vec<u8> {
    load_fasta(&data("ref.fa.gz")).remove(ECOLI).unwrap()
}

fn map(dir: &Path, reference: &str, reads: &str, backend: &str, extra: &[&str]) -> Vec<u8> {
    ok(swmap().current_dir(dir).args(["map", reference, reads, "--backend", backend]).args(extra))
}

#[test]
fn reads_across_long_indels_are_aligned_through_them() {
    let dir = scratch("long-indels");
    let genome = ecoli();
    // (name, where the read starts, deleted bases, inserted bases); the read's two sides are
    // 75 bases each (a deletion longer than about 73 bases scores below clipping, for bwa-mem
    // as for swmap, with a 150-base read).
    let cases: Vec<(String, usize, usize, usize)> = (0..6)
        .flat_map(|i| {
            let start = 10_000 + 12_000 * i;
            [30, 50, 70].map(|d| (format!("del{d}_{i}"), start + d * 100, d, 0)).into_iter().chain([(
                format!("ins40_{i}"),
                start + 9_000,
                0,
                40,
            )])
        })
        .collect();
    let mut fq = String::new();
    for (name, start, del, ins) in &cases {
        let mut read = genome[*start..start + 75].to_vec();
        if *ins > 0 {
            // 55 bases, 40 from far away (they seed nowhere near), then 55 bases.
            read.truncate(55);
            read.extend_from_slice(&genome[start + 50_000..start + 50_000 + ins]);
            read.extend_from_slice(&genome[start + 55..start + 110]);
        } else {
            read.extend_from_slice(&genome[start + 75 + del..start + 150 + del]);
        }
        fq += &fastq_record(name, &read);
    }
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    std::fs::write(dir.join("ref.fa"), format!(">{ECOLI}\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    let expected = map(&dir, "ref.fa", "reads.fq", "cpu", &[]);
    for b in backends() {
        let sam = map(&dir, "ref.fa", "reads.fq", b, &[]);
        assert_same("indel reads", ("cpu", &body(&expected)), (b, &body(&sam)));
        let recs = lines(&sam);
        for (name, start, del, ins) in &cases {
            let r = recs.iter().find(|r| &r.name == name && r.primary()).unwrap();
            assert_eq!(r.pos, *start as u64 + 1, "{b} {name}: {}", r.cigar);
            let ops = r.ops();
            if *del > 0 {
                // The junction may move a base or two where a base matches on both sides.
                let through = ops.len() == 3
                    && (ops[0].1, ops[1], ops[2].1) == (b'M', (*del as u32, b'D'), b'M')
                    && ops[0].0.abs_diff(75) <= 3
                    && ops[0].0 + ops[2].0 == 150;
                assert!(through, "{b} {name}: {}", r.cigar);
            } else {
                assert!(ops.iter().any(|&(n, op)| op == b'I' && n == *ins as u32), "{b} {name}: {}", r.cigar);
                assert!(!ops.iter().any(|&(_, op)| op == b'S'), "{b} {name}: clipped: {}", r.cigar);
            }
            assert!(r.mapq >= 30, "{b} {name}: MAPQ {}", r.mapq);
        }
    }
}

#[test]
fn a_35_base_split_part_gets_its_supplementary_record() {
    let dir = scratch("short-part");
    let genome = ecoli();
    let mut fq = String::new();
    for i in 0..8 {
        let (a, b) = (5_000 + 15_000 * i, 80_000 + 7_000 * i);
        let mut read = genome[a..a + 115].to_vec();
        read.extend_from_slice(&genome[b..b + 35]);
        fq += &fastq_record(&format!("part{i}"), &read);
    }
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    std::fs::write(dir.join("ref.fa"), format!(">{ECOLI}\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    for b in backends() {
        let recs = lines(&map(&dir, "ref.fa", "reads.fq", b, &[]));
        for i in 0..8usize {
            let name = format!("part{i}");
            let part = recs.iter().find(|r| r.name == name && r.flag & 0x800 != 0);
            let part = part.unwrap_or_else(|| panic!("{b} {name}: no supplementary record"));
            // The junction may move a base or two where a base matches on both sides.
            let at = 80_000 + 7_000 * i as u64 + 1;
            assert!(part.pos.abs_diff(at) <= 2, "{b} {name}: {} at {}", part.cigar, part.pos);
            let primary = recs.iter().find(|r| r.name == name && r.primary()).unwrap();
            let sa = primary.tag("SA").unwrap_or("");
            assert!(sa.starts_with(&format!("{ECOLI},{},", part.pos)), "{b} {name}: SA {sa}");
        }
    }
}

#[test]
fn reads_in_an_exact_duplicate_are_placed_on_both_copies() {
    let dir = scratch("duplicate");
    let genome = ecoli();
    // 60 kb of E. coli, then its 3 kb at 20,000-23,000 again: two equal copies 40 kb apart.
    let mut reference = genome[..60_000].to_vec();
    reference.extend_from_slice(&genome[20_000..23_000]);
    reference.extend_from_slice(&genome[60_000..80_000]);
    std::fs::write(dir.join("ref.fa"), format!(">dup\n{}\n", String::from_utf8_lossy(&reference))).unwrap();
    let n = 200;
    let fq: String =
        (0..n).map(|i| fastq_record(&format!("r{i}"), &genome[20_100 + 13 * i..20_250 + 13 * i])).collect();
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    let expected = map(&dir, "ref.fa", "reads.fq", "cpu", &[]);
    for b in backends() {
        for chunk in ["1000", "7"] {
            let sam = map(&dir, "ref.fa", "reads.fq", b, &["--chunk-reads", chunk]);
            assert_same("duplicate reads", ("cpu", &body(&expected)), (&format!("{b} {chunk}"), &body(&sam)));
        }
    }
    let recs = lines(&expected);
    let left = recs.iter().filter(|r| r.pos < 30_000).count();
    assert!(recs.iter().all(|r| r.mapped() && r.mapq == 0 && r.tag("XA").is_some()));
    assert!((n / 4..=3 * n / 4).contains(&left), "{left} of {n} reads on the left copy");
}
