//! Mate rescue: a mate with no usable seed is found by aligning it where the insert-size model
//! says it must be, next to its confidently placed partner, under every backend.

use crate::sam_check::*;
use crate::support::*;
use std::path::{Path, PathBuf};

/// Every 12th base changed, so no 19-mer of the read matches the reference exactly (no seed),
/// while the read still aligns with a score far above the reporting threshold.
fn unseedable(seq: &[u8]) -> Vec<u8> {
    let change = |b: u8| match b {
        b'A' => b'C',
        b'C' => b'G',
        b'G' => b'T',
        _ => b'A',
    };
    seq.iter().enumerate().map(|(i, &b)| if i % 12 == 6 { change(b) } else { b }).collect()
}

/// 70 pairs with 400 bp fragments on the bundled E. coli contig; every 7th pair's second mate is
/// unseedable. Returns the two files and the 0-based starts of the rescued mates.
fn write_pairs(dir: &Path) -> (PathBuf, PathBuf, Vec<usize>) {
    let reference = load_fasta(&data("ref.fa.gz"));
    let ecoli = &reference["ecoli_k12_1_150000"];
    let (mut r1, mut r2, mut rescued) = (String::new(), String::new(), Vec::new());
    for i in 0..70 {
        let p = 1000 + i * 2000;
        let mut mate = ecoli[p + 250..p + 400].to_vec();
        if i % 7 == 3 {
            mate = unseedable(&mate);
            rescued.push(p + 250);
        }
        r1.push_str(&fastq_record(&format!("pair{i}"), &ecoli[p..p + 150]));
        r2.push_str(&fastq_record(&format!("pair{i}"), &reverse_complement(&mate)));
    }
    let (a, b) = (dir.join("r1.fq"), dir.join("r2.fq"));
    std::fs::write(&a, r1).unwrap();
    std::fs::write(&b, r2).unwrap();
    (a, b, rescued)
}

#[test]
fn unseedable_mates_are_rescued_next_to_their_partner() {
    let dir = scratch("rescue");
    let (r1, r2, rescued) = write_pairs(&dir);
    for b in backends() {
        let sam = ok(swmap().arg("map").arg(data("ref.fa.gz")).arg(&r1).arg(&r2).args(["--backend", b]));
        let recs: Vec<Line> = lines(&sam).into_iter().filter(|l| l.primary()).collect();
        assert_eq!(recs.len(), 140, "{b}");
        for (k, start) in rescued.iter().enumerate() {
            let name = format!("pair{}", 7 * k + 3);
            let mate = recs.iter().find(|l| l.name == name && l.mate_bit() == 0x80).unwrap();
            assert!(mate.mapped() && mate.reverse(), "{b} {name}: rescued mate unmapped or on the wrong strand");
            assert_eq!(mate.pos, *start as u64 + 1, "{b} {name}: rescued mate misplaced");
            assert!(mate.flag & 0x2 != 0, "{b} {name}: rescued pair not proper");
        }
    }
    // On their own the same reads have no seed, so it is the rescue that placed them.
    let single = ok(swmap().arg("map").arg(data("ref.fa.gz")).arg(&r2).args(["--backend", "cpu"]));
    for k in 0..rescued.len() {
        let name = format!("pair{}", 7 * k + 3);
        let rec = lines(&single).into_iter().find(|l| l.name == name).unwrap();
        assert!(!rec.mapped(), "{name} mapped without its mate: the test read is not unseedable");
    }
}

/// Trimmed mates of 30 to 50 bases, some with a mismatch (scoring under `-T`, as a 31-base
/// mate with one mismatch scores 26): each is placed beside its partner as a proper pair at its
/// true place, as bwa-mem places them; mapped alone, the mismatched ones stay unmapped.
#[test]
fn short_mates_are_placed_beside_their_partner() {
    let dir = scratch("short-mates");
    let reference = load_fasta(&data("ref.fa.gz"));
    let ecoli = &reference["ecoli_k12_1_150000"];
    let (mut r1, mut r2, mut truth) = (String::new(), String::new(), Vec::new());
    for i in 0..60usize {
        let p = 1500 + i * 2300;
        let len = 30 + i % 21;
        // The mate's 5' end is the fragment's end, p + 400: the trimmed read keeps it.
        let mut mate = ecoli[p + 400 - len..p + 400].to_vec();
        if i % 2 == 0 {
            let at = len / 2;
            mate[at] = if mate[at] == b'A' { b'C' } else { b'A' };
        }
        r1.push_str(&fastq_record(&format!("pair{i}"), &ecoli[p..p + 150]));
        r2.push_str(&fastq_record(&format!("pair{i}"), &reverse_complement(&mate)));
        truth.push(p + 400 - len);
    }
    let (a, b) = (dir.join("r1.fq"), dir.join("r2.fq"));
    std::fs::write(&a, r1).unwrap();
    std::fs::write(&b, r2).unwrap();
    // Enough ordinary pairs first for an insert-size model (fragments of 400).
    let mut fill1 = String::new();
    let mut fill2 = String::new();
    for i in 0..200usize {
        let p = 700 + i * 700;
        fill1.push_str(&fastq_record(&format!("fill{i}"), &ecoli[p..p + 150]));
        fill2.push_str(&fastq_record(&format!("fill{i}"), &reverse_complement(&ecoli[p + 250..p + 400])));
    }
    std::fs::write(&a, fill1 + &std::fs::read_to_string(&a).unwrap()).unwrap();
    std::fs::write(&b, fill2 + &std::fs::read_to_string(&b).unwrap()).unwrap();
    for backend in backends() {
        let sam = ok(swmap().arg("map").arg(data("ref.fa.gz")).arg(&a).arg(&b).args(["--backend", backend]));
        let recs: Vec<Line> = lines(&sam).into_iter().filter(|l| l.primary()).collect();
        for (i, start) in truth.iter().enumerate() {
            let name = format!("pair{i}");
            let mate = recs.iter().find(|l| l.name == name && l.mate_bit() == 0x80).unwrap();
            assert!(mate.mapped() && mate.reverse(), "{backend} {name}: short mate unmapped or on the wrong strand");
            assert_eq!(mate.pos, *start as u64 + 1, "{backend} {name}: short mate misplaced");
            assert!(mate.flag & 0x2 != 0, "{backend} {name}: not a proper pair");
        }
    }
    // Alone, a 30-base mate with a mismatch scores under -T and stays unmapped.
    let single = ok(swmap().arg("map").arg(data("ref.fa.gz")).arg(&b).args(["--backend", "cpu"]));
    let rec = lines(&single).into_iter().find(|l| l.name == "pair0").unwrap();
    assert!(!rec.mapped(), "pair0's mate mapped alone: the test read scores above -T");
}
