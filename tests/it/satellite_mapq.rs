//! Pairs from a satellite array whose copies differ by less than the reads' own errors: no
//! aligner can tell the copies apart, so some pairs land on the wrong copy, and their MAPQ must
//! say so. A read placed by a few rare seeds among hundreds of copies that share its other
//! k-mers gets little confidence from its score gap to the few copies it was aligned to
//! (`src/place/mapq.rs`, "Repeats"); pairs of unique sequence keep MAPQ 60.

use crate::sam_check::*;
use crate::support::*;
use swmap::rng::Rng;

const READ_LEN: usize = 150;
const UNIT: usize = 1_200;
const COPIES: usize = 1_500;
const VARIANTS: usize = 6;

/// `n` random bases as letters.
fn random(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| b"ACGT"[rng.base() as usize]).collect()
}

/// `seq` with each base substituted at rate `per_mille` / 1000.
fn mutate(rng: &mut Rng, seq: &[u8], per_mille: u64) -> Vec<u8> {
    seq.iter().map(|&b| if rng.below(1000) < per_mille { b"ACGT"[(rng.base() as usize + 1) % 4] } else { b }).collect()
}

#[test]
fn pairs_inside_a_satellite_array_are_never_confidently_wrong() {
    let dir = scratch("satellite");
    let mut rng = Rng::new(171);
    // 40 kb of unique sequence, an array of 1,500 copies of a 1.2 kb unit, 40 kb more. As in
    // a centromere's higher-order repeats, the copies are of a few variants of the unit (1%
    // apart) with a few changes of their own (0.1%): most k-mers occur in hundreds or
    // thousands of copies, and those that tell a variant apart in hundreds.
    let unit = random(&mut rng, UNIT);
    let variants: Vec<Vec<u8>> = (0..VARIANTS).map(|_| mutate(&mut rng, &unit, 10)).collect();
    let mut genome = random(&mut rng, 40_000);
    let array_start = genome.len();
    for _ in 0..COPIES {
        let variant = &variants[rng.below(VARIANTS as u64) as usize];
        let copy = mutate(&mut rng, variant, 1);
        genome.extend(copy);
    }
    let array_end = genome.len();
    genome.extend(random(&mut rng, 40_000));
    std::fs::write(dir.join("ref.fa"), format!(">sat\n{}\n", String::from_utf8_lossy(&genome))).unwrap();

    // Pairs of 400 bp fragments with 1% sequencing errors: 200 from the array, 20 from the
    // unique flanks; names carry the true position of each mate.
    let (mut fq1, mut fq2) = (String::new(), String::new());
    let mut pair = |rng: &mut Rng, name: String, start: usize| {
        let end = start + 400;
        let m1 = mutate(rng, &genome[start..start + READ_LEN], 10);
        let m2 = mutate(rng, &reverse_complement(&genome[end - READ_LEN..end]), 10);
        let name = format!("{name}_{}_{}", start + 1, end - READ_LEN + 1);
        fq1 += &fastq_record(&name, &m1);
        fq2 += &fastq_record(&name, &m2);
    };
    for i in 0..200 {
        let start = array_start + rng.below((array_end - array_start - 400) as u64) as usize;
        pair(&mut rng, format!("array{i}"), start);
    }
    for i in 0..20 {
        let flank = if i % 2 == 0 { 1_000 } else { array_end + 1_000 };
        pair(&mut rng, format!("unique{i}"), flank + i * 1_500);
    }
    std::fs::write(dir.join("r1.fq"), fq1).unwrap();
    std::fs::write(dir.join("r2.fq"), fq2).unwrap();

    let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
    for b in backends() {
        let sam = ok(swmap().current_dir(&dir).args(["map", "ref.fa", "r1.fq", "r2.fq", "--backend", b]));
        let (mut wrong, mut confidently_wrong, mut unique_mapq) = (0, Vec::new(), Vec::new());
        for r in lines(&sam).iter().filter(|r| r.primary()) {
            let fields: Vec<&str> = r.name.split('_').collect();
            let truth: u64 = fields[if r.mate_bit() == 0x40 { 1 } else { 2 }].parse().unwrap();
            if r.name.starts_with("unique") {
                unique_mapq.push(r.mapq);
                continue;
            }
            if !r.mapped() || r.pos.abs_diff(truth) > 5 {
                wrong += 1;
                if r.mapq >= 20 {
                    confidently_wrong.push(format!("{} at {} (true {truth}) MAPQ {}", r.name, r.pos, r.mapq));
                }
            }
        }
        // The situation the test is about: copies the reads' errors cannot tell apart.
        assert!(wrong >= 20, "{b}: only {wrong} of 400 array reads placed wrongly; the array is too easy");
        assert!(confidently_wrong.is_empty(), "{b}: wrong at MAPQ >= 20: {confidently_wrong:?}");
        assert_eq!(unique_mapq.len(), 40, "{b}");
        assert!(unique_mapq.iter().all(|&q| q == 60), "{b}: unique pairs {unique_mapq:?}");
        outputs.push((b, body(&sam)));
    }
    for (b, o) in &outputs[1..] {
        assert_same("pairs in a satellite array", (outputs[0].0, &outputs[0].1), (b, o));
    }
}
