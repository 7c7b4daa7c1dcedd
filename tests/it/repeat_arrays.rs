//! Reads lying wholly inside long microsatellite arrays: every seed of such a read is the same
//! k-mer or two, far more frequent than `--max-occ`, so the read is seeded from its rarest
//! seeds (README, "How reads are mapped"), and it must be placed: a perfect alignment at some
//! copy, at MAPQ 0 since there are many equal copies (bwa-mem places them so): never left
//! unmapped when the arrays hold more than 20 x `--max-occ` occurrences of their seed, and
//! never aligned against a window the whole array long below that.

use crate::sam_check::*;
use crate::support::*;
use swmap::rng::Rng;

const READ_LEN: usize = 150;

/// Random sequence with (CA)n arrays of the given lengths (bases), each between 10 kb of
/// random sequence; returns it and the arrays' 0-based [start, end).
fn genome_with_ca_arrays(rng: &mut Rng, lengths: &[usize]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut random = |g: &mut Vec<u8>, n: usize| g.extend((0..n).map(|_| b"ACGT"[rng.base() as usize]));
    let (mut genome, mut arrays) = (Vec::new(), Vec::new());
    random(&mut genome, 10_000);
    for &len in lengths {
        let start = genome.len();
        genome.extend(b"CA".iter().cycle().take(len));
        arrays.push((start, genome.len()));
        random(&mut genome, 10_000);
    }
    (genome, arrays)
}

#[test]
fn perfect_reads_inside_a_ca_array_are_placed_at_mapq_0() {
    let dir = scratch("ca-arrays");
    let mut rng = Rng::new(2024);
    // Six arrays of 2-5 kb: 24 kb of (CA)n, about 12,000 occurrences of its minimizer, more than
    // 20 x the default --max-occ of 500: the rarest-seed fallback must not give up there.
    let (genome, arrays) = genome_with_ca_arrays(&mut rng, &[2_000, 5_000, 3_000, 4_000, 5_000, 5_000]);
    std::fs::write(dir.join("ref.fa"), format!(">ca\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    // Reads at the start, inside and at the end of the shortest and a longest array, both
    // strands, both phases of the repeat; and one read of unique sequence.
    let mut reads: Vec<(String, bool)> = Vec::new();
    let mut fq = String::new();
    for (a, &(start, end)) in [0, 5].iter().map(|&a| (a, &arrays[a])) {
        for (i, pos) in [start, start + 1, start + 777, (start + end) / 2 + 1, end - READ_LEN - 1, end - READ_LEN]
            .into_iter()
            .enumerate()
        {
            let reverse = i % 2 == 1;
            let seq = &genome[pos..pos + READ_LEN];
            let seq = if reverse { reverse_complement(seq) } else { seq.to_vec() };
            let name = format!("array{a}_{pos}_{}", if reverse { "rev" } else { "fwd" });
            fq += &fastq_record(&name, &seq);
            reads.push((name, reverse));
        }
    }
    let unique = arrays[2].0 - 3_000;
    fq += &fastq_record("unique", &genome[unique..unique + READ_LEN]);
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    let reference = load_fasta(&dir.join("ref.fa"));

    let mut outputs: Vec<(&str, Vec<u8>)> = Vec::new();
    for b in backends() {
        let out = dir.join(format!("{b}.sam"));
        ok(swmap().current_dir(&dir).args(["map", "ref.fa", "reads.fq", "--backend", b, "-o"]).arg(&out));
        let sam = std::fs::read(&out).unwrap();
        check_records(&sam, &reference);
        let recs = lines(&sam);
        assert_eq!(recs.len(), reads.len() + 1, "{b}: one record per read");
        for (name, reverse) in &reads {
            let r = recs.iter().find(|r| &r.name == name).unwrap();
            assert!(r.mapped(), "{b}: {name} is unmapped inside a (CA)n array");
            assert_eq!((r.cigar.as_str(), r.tag("NM")), ("150M", Some("0")), "{b}: {name}");
            assert_eq!(r.reverse(), *reverse, "{b}: {name} on the wrong strand");
            let pos0 = r.pos as usize - 1;
            assert!(
                arrays.iter().any(|&(s, e)| s <= pos0 && pos0 + READ_LEN <= e),
                "{b}: {name} placed at {} outside every array",
                r.pos
            );
            assert_eq!(r.mapq, 0, "{b}: {name} looked unique inside a (CA)n array");
            assert_eq!(r.tag("XS"), r.tag("AS"), "{b}: {name} sees no copy as good as its own");
        }
        let u = recs.iter().find(|r| r.name == "unique").unwrap();
        assert_eq!((u.pos as usize, u.mapq, u.cigar.as_str()), (unique + 1, 60, "150M"), "{b}: the unique read");
        outputs.push((b, body(&sam)));
    }
    for (b, o) in &outputs[1..] {
        assert_same("reads inside (CA)n arrays", (outputs[0].0, &outputs[0].1), (b, o));
    }
}

/// One array of 4 kb (about 2,000 occurrences of its seed, under 20 x `--max-occ`) is placed
/// the same way.
#[test]
fn reads_inside_a_single_ca_array_are_placed_at_mapq_0() {
    let dir = scratch("ca-array");
    let mut rng = Rng::new(7);
    let (genome, arrays) = genome_with_ca_arrays(&mut rng, &[4_000]);
    let (start, end) = arrays[0];
    std::fs::write(dir.join("ref.fa"), format!(">ca\n{}\n", String::from_utf8_lossy(&genome))).unwrap();
    let mut fq = String::new();
    for pos in (start..=end - READ_LEN).step_by(613) {
        fq += &fastq_record(&format!("r{pos}"), &genome[pos..pos + READ_LEN]);
    }
    std::fs::write(dir.join("reads.fq"), fq).unwrap();
    for b in backends() {
        let sam = ok(swmap().current_dir(&dir).args(["map", "ref.fa", "reads.fq", "--backend", b]));
        let recs = lines(&sam);
        assert!(recs.len() >= 6, "{b}");
        for r in &recs {
            assert!(r.mapped() && !r.reverse(), "{b}: {} unmapped or reversed", r.name);
            assert_eq!((r.cigar.as_str(), r.mapq), ("150M", 0), "{b}: {}", r.name);
            let pos0 = r.pos as usize - 1;
            assert!(start <= pos0 && pos0 + READ_LEN <= end, "{b}: {} placed at {}", r.name, r.pos);
        }
    }
}
