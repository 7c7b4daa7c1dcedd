//! A read inside a short tandem repeat (period below the seed grouping band, so every copy
//! falls in one window) must not look unique: XS sees the copy one period away and MAPQ is 0,
//! as bwa-mem's tandem sub-score makes it, never MAPQ 60 as on a unique read.

use crate::sam_check::*;
use crate::support::*;

#[test]
fn reads_inside_a_microsatellite_get_mapq_zero() {
    let dir = scratch("tandem");
    let ecoli = load_fasta(&data("ref.fa.gz"))["ecoli_k12_1_150000"][..20_000].to_vec();
    // 16 copies of a 19-base unit (304 bp) inserted into unique sequence.
    let unit = b"AGGGAGACGGGAGAGGGAG";
    let mut genome = ecoli[..10_000].to_vec();
    genome.extend(unit.repeat(16));
    genome.extend_from_slice(&ecoli[10_000..]);
    std::fs::write(dir.join("ref.fa"), format!(">g\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    let inside = genome[10_050..10_200].to_vec();
    let unique = genome[3_000..3_150].to_vec();
    let fq = fastq_record("inside", &inside) + &fastq_record("unique", &unique);
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    for b in backends() {
        let sam = ok(swmap().current_dir(&dir).args(["map", "ref.fa", "reads.fq", "--backend", b]));
        let recs = lines(&sam);
        let inside = recs.iter().find(|l| l.name == "inside").unwrap();
        let unique = recs.iter().find(|l| l.name == "unique").unwrap();
        assert!(inside.mapped(), "{b}: the tandem read is still placed");
        assert_eq!(inside.mapq, 0, "{b}: a read inside a microsatellite looked unique");
        let (as_, xs): (i32, i32) =
            (inside.tag("AS").unwrap().parse().unwrap(), inside.tag("XS").unwrap().parse().unwrap());
        assert!(xs >= as_ - 5, "{b}: XS {xs} does not see the copy one period away (AS {as_})");
        assert_eq!(unique.mapq, 60, "{b}: a unique read lost its confidence");
    }
}

/// Reads inside tandem arrays of human chr20 whose copies are further apart than the grouping
/// band, chained into one seed group through a shorter repeat inside the unit (see
/// test-data/README.md). Each copy must be aligned on its own so that XS sees the others.
#[test]
fn reads_in_tandem_arrays_see_every_copy() {
    let dir = scratch("tandem-arrays");
    for b in backends() {
        let sam = ok(swmap()
            .current_dir(&dir)
            .args(["map", "--backend", b])
            .arg(data("tandem_arrays.fa"))
            .arg(data("tandem_arrays.fq")));
        let recs = lines(&sam);
        assert_eq!(recs.len(), 3, "{b}");
        for r in &recs {
            assert!(r.mapped(), "{b}: {} unmapped", r.name);
            let (as_, xs): (i32, i32) = (r.tag("AS").unwrap().parse().unwrap(), r.tag("XS").unwrap().parse().unwrap());
            assert_eq!(xs, as_, "{b}: {} sees no copy as good as its own", r.name);
            assert_eq!(r.mapq, 0, "{b}: {} looked unique inside a tandem array", r.name);
        }
    }
}

/// A mate inside a microsatellite that its pair places (the copy beside its unique mate, found
/// by mate rescue or among its hits, while its own best hit may be another copy of the
/// microsatellite) competes with its tandem copies there: MAPQ 0, not the pair's confidence.
#[test]
fn a_mate_placed_inside_a_microsatellite_by_its_pair_gets_mapq_zero() {
    let dir = scratch("tandem-mate");
    let ecoli = load_fasta(&data("ref.fa.gz"))["ecoli_k12_1_150000"][..30_000].to_vec();
    // A short period: each copy of the microsatellite is one window, one hit.
    let unit = b"TCAG";
    // The microsatellite at 10,000 and again at 20,304 (after the first's 304 bases).
    let mut genome = ecoli[..10_000].to_vec();
    genome.extend(unit.repeat(76));
    genome.extend_from_slice(&ecoli[10_000..20_000]);
    genome.extend(unit.repeat(76));
    genome.extend_from_slice(&ecoli[20_000..]);
    std::fs::write(dir.join("ref.fa"), format!(">g\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    // Mate 1 unique 500 bases before the first copy; mate 2 inside it, on the reverse strand.
    let mate1 = genome[9_500..9_650].to_vec();
    let mate2 = reverse_complement(&genome[10_050..10_200]);
    let (mut r1, mut r2) = (String::new(), String::new());
    // Names decide which equal copy is a read's first hit: many pairs, so both happen.
    for i in 0..40 {
        r1 += &fastq_record(&format!("p{i}"), &mate1);
        r2 += &fastq_record(&format!("p{i}"), &mate2);
    }
    std::fs::write(dir.join("r1.fq"), r1).unwrap();
    std::fs::write(dir.join("r2.fq"), r2).unwrap();
    for b in backends() {
        let sam =
            ok(swmap().current_dir(&dir).args(["map", "ref.fa", "r1.fq", "r2.fq", "-I", "700,50", "--backend", b]));
        let recs = lines(&sam);
        assert_eq!(recs.len(), 80, "{b}");
        for r in &recs {
            assert!(r.mapped() && r.flag & 0x2 != 0, "{b}: {} not a proper pair", r.name);
            if r.flag & 0x80 != 0 {
                assert!((9_990..10_304).contains(&(r.pos - 1)), "{b}: {} mate 2 at {}", r.name, r.pos);
                assert_eq!(r.mapq, 0, "{b}: {} mate 2 inside the microsatellite got MAPQ {}", r.name, r.mapq);
            } else {
                assert_eq!((r.pos, r.mapq), (9_501, 60), "{b}: {} mate 1", r.name);
            }
        }
    }
}
