//! `simulate` and `eval` end to end: simulated files are deterministic and carry the truth
//! they claim; a SAM written from that truth scores 100%, a shifted one 0%; missing reads are
//! counted; dwgsim and wgsim names parse to the places bwa (checked-in data) or the reference
//! itself (when the simulators are installed) puts them.

use crate::sam_check::{fastq_records, parse_cigar};
use crate::support::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use swmap::dna;
use swmap::eval::TrueOrigin;
use swmap::eval::{evaluate, EvalOptions, ExpectedFrom};
use swmap::rng::Rng;
use swmap::simulate::SimulatedName;
use swmap::simulate::Strand;
use swmap::simulate::{simulate, InsertSize, SimulateOptions};

/// Two random contigs with N runs and scattered Ns; names with ':' and '_' on purpose.
fn write_reference(dir: &Path) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    let mut rng = Rng::new(12345);
    let mut contig = |len: usize| -> Vec<u8> { (0..len).map(|_| b"ACGT"[rng.base() as usize]).collect() };
    let mut a = contig(40_000);
    a[10_000..10_400].fill(b'N');
    a[25_000..25_050].fill(b'N');
    for i in (3_000..40_000).step_by(3_001) {
        a[i] = b'N';
    }
    let b = contig(6_000);
    let contigs = vec![("chr:1".to_string(), a), ("ctg_2".to_string(), b)];
    let mut text = String::new();
    for (name, seq) in &contigs {
        text.push_str(&format!(">{name} test contig\n"));
        for line in seq.chunks(70) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    let path = dir.join("ref.fa");
    fs::write(&path, text).unwrap();
    (path, contigs)
}

fn options(paired: bool, seed: u64) -> SimulateOptions {
    SimulateOptions {
        fragments: 400,
        read_len: 100,
        paired: paired.then_some(InsertSize { mean: 300.0, sd: 40.0 }),
        error_rate: 0.02,
        snp_rate: 0.005,
        indel_rate: 0.001,
        seed,
    }
}

/// One line of PREFIX.truth.tsv.
#[derive(Clone, Debug)]
struct Truth {
    name: String,
    mate: usize,
    contig: String,
    pos: u64,
    strand: char,
    cigar: Vec<(u32, u8)>,
    seq_subs: u32,
    seq_indels: u32,
    snps: u32,
    variant_indels: u32,
}

fn read_truth(path: &Path) -> Vec<Truth> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("#name\tmate\tcontig\tpos\tstrand\tcigar"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 10, "{line}");
            Truth {
                name: f[0].into(),
                mate: f[1].parse().unwrap(),
                contig: f[2].into(),
                pos: f[3].parse().unwrap(),
                strand: f[4].chars().next().unwrap(),
                cigar: parse_cigar(f[5]),
                seq_subs: f[6].parse().unwrap(),
                seq_indels: f[7].parse().unwrap(),
                snps: f[8].parse().unwrap(),
                variant_indels: f[9].parse().unwrap(),
            }
        })
        .collect()
}

/// SNPs of PREFIX.variants.tsv: (contig, 0-based position) to the haplotype's base.
fn read_snps(path: &Path) -> std::collections::HashMap<(String, usize), u8> {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.starts_with("#contig\tpos\tkind\tref\talt\n"));
    text.lines()
        .skip(1)
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|f| f[2] == "SNP")
        .map(|f| ((f[0].to_string(), f[1].parse::<usize>().unwrap() - 1), f[4].as_bytes()[0]))
        .collect()
}

fn cigar_text(ops: &[(u32, u8)]) -> String {
    ops.iter().map(|&(n, op)| format!("{n}{}", op as char)).collect()
}

fn simulate_into(dir: &Path, reference: &Path, name: &str, options: &SimulateOptions) -> PathBuf {
    let prefix = dir.join(name);
    simulate(reference, &prefix, options).unwrap();
    prefix
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", prefix.display()))
}

#[test]
fn same_seed_gives_the_same_files_and_another_seed_others() {
    let dir = scratch("seed");
    let (reference, _) = write_reference(&dir);
    let a = simulate_into(&dir, &reference, "a", &options(true, 1));
    let b = simulate_into(&dir, &reference, "b", &options(true, 1));
    let c = simulate_into(&dir, &reference, "c", &options(true, 2));
    for suffix in ["_1.fq", "_2.fq", ".truth.tsv", ".variants.tsv"] {
        let read = |p: &Path| fs::read(with_suffix(p, suffix)).unwrap();
        assert_eq!(read(&a), read(&b), "{suffix} differs with the same seed");
        assert_ne!(read(&a), read(&c), "{suffix} is the same with another seed");
    }
}

#[test]
fn read_counts_are_right_and_mates_share_names() {
    let dir = scratch("counts");
    let (reference, _) = write_reference(&dir);
    let paired = simulate_into(&dir, &reference, "p", &options(true, 3));
    let r1 = fastq_records(&with_suffix(&paired, "_1.fq"));
    let r2 = fastq_records(&with_suffix(&paired, "_2.fq"));
    assert_eq!((r1.len(), r2.len()), (400, 400));
    for (i, (a, b)) in r1.iter().zip(&r2).enumerate() {
        assert_eq!(a.0, b.0);
        let name = SimulatedName::parse(&a.0).unwrap();
        assert_eq!(name.index, i as u64);
        let m2 = name.mate2.expect("paired names carry both mates");
        assert_eq!(m2.strand, name.mate1.strand.opposite(), "{}", a.0);
        assert_eq!((a.1.len(), a.2.len()), (100, 100));
    }
    let single = simulate_into(&dir, &reference, "s", &SimulateOptions { fragments: 321, ..options(false, 3) });
    let reads = fastq_records(&with_suffix(&single, ".fq"));
    assert_eq!(reads.len(), 321);
    assert!(reads.iter().all(|r| SimulatedName::parse(&r.0).is_some_and(|n| n.mate2.is_none())));
    assert_eq!(read_truth(&with_suffix(&single, ".truth.tsv")).len(), 321);
}

#[test]
fn reads_carry_the_recorded_errors_and_variants_and_avoid_ns() {
    let dir = scratch("truth");
    let (reference, contigs) = write_reference(&dir);
    let prefix = simulate_into(&dir, &reference, "t", &SimulateOptions { fragments: 1500, ..options(true, 4) });
    let truth = read_truth(&with_suffix(&prefix, ".truth.tsv"));
    let reads: Vec<_> = fastq_records(&with_suffix(&prefix, "_1.fq"))
        .into_iter()
        .zip(fastq_records(&with_suffix(&prefix, "_2.fq")))
        .collect();
    assert_eq!(truth.len(), 2 * reads.len());
    let snps = read_snps(&with_suffix(&prefix, ".variants.tsv"));
    assert!(snps.len() > 100, "{}", snps.len());
    let (mut exact_checked, mut total_subs, mut with_indels) = (0, 0, 0);
    let (mut q_start, mut q_end) = (0u64, 0u64);
    for t in &truth {
        let (m1, m2) = &reads[SimulatedName::parse(&t.name).unwrap().index as usize];
        let read = if t.mate == 1 { m1 } else { m2 };
        assert_eq!(read.0, t.name);
        // The name and the TSV agree.
        let name = SimulatedName::parse(&t.name).unwrap();
        let origin = if t.mate == 1 { name.mate1 } else { name.mate2.unwrap() };
        assert_eq!((origin.pos, origin.strand == Strand::Forward), (t.pos, t.strand == '+'));
        assert_eq!(name.contig, t.contig);
        // Walk the true CIGAR over the reference, read in reference orientation, counting
        // where the read differs from the haplotype (sequencing substitutions) and where the
        // haplotype differs from the reference (SNPs).
        let seq = &contigs.iter().find(|c| c.0 == t.contig).unwrap().1;
        let codes: Vec<u8> = read.1.bytes().map(|b| dna::encode(b).unwrap()).collect();
        let forward = if t.strand == '-' { dna::reverse_complement(&codes) } else { codes };
        let (mut r, mut q, mut seq_errors, mut snp_columns) = (t.pos as usize - 1, 0usize, 0, 0);
        for &(n, op) in &t.cigar {
            let n = n as usize;
            match op {
                b'M' => {
                    for k in 0..n {
                        assert_ne!(seq[r + k], b'N', "{} covers an N at {}", t.name, r + k + 1);
                        let alt = snps.get(&(t.contig.clone(), r + k)).copied();
                        let hap = dna::encode(alt.unwrap_or(seq[r + k])).unwrap();
                        seq_errors += (hap != forward[q + k]) as u32;
                        snp_columns += alt.is_some() as u32;
                    }
                    r += n;
                    q += n;
                }
                b'I' => q += n,
                b'D' => {
                    assert!(!seq[r..r + n].contains(&b'N'), "{} deletes an N", t.name);
                    r += n;
                }
                _ => panic!("unexpected op {} in {}", op as char, t.name),
            }
        }
        assert_eq!(q, forward.len(), "{}: CIGAR {} does not cover the read", t.name, cigar_text(&t.cigar));
        assert_eq!(snp_columns, t.snps, "{}: SNPs", t.name);
        assert!(seq_errors <= t.seq_subs, "{}: {seq_errors} substitutions", t.name);
        if t.cigar.len() == 1 {
            // No indel of any kind: every substitution shows, and nothing else.
            assert_eq!((t.seq_indels, t.variant_indels), (0, 0), "{}", t.name);
            assert_eq!(seq_errors, t.seq_subs, "{}", t.name);
            exact_checked += 1;
        } else {
            with_indels += 1;
        }
        total_subs += t.seq_subs as u64;
        q_start += read.2.as_bytes()[..10].iter().map(|&c| c as u64).sum::<u64>();
        q_end += read.2.as_bytes()[90..].iter().map(|&c| c as u64).sum::<u64>();
    }
    assert!(exact_checked > 2000 && with_indels > 100, "{exact_checked} {with_indels}");
    // 2% errors, 90% of them substitutions: about 1.8 per 100-base read.
    let per_read = total_subs as f64 / truth.len() as f64;
    assert!((1.4..2.2).contains(&per_read), "{per_read}");
    assert!(q_start > q_end + 10 * truth.len() as u64, "qualities should fall along the read");
}

/// SAM text placing every read of `truth` at its true place, `shift` bases to the right,
/// leaving out the reads `keep` rejects. Every third read gets its first 4 bases soft-clipped
/// (POS moves right by 4), which must not change the score.
fn sam_from_truth(truth: &[Truth], contigs: &[(String, Vec<u8>)], shift: u64, keep: impl Fn(&Truth) -> bool) -> String {
    let mut sam = String::from("@HD\tVN:1.6\n");
    for (name, seq) in contigs {
        sam.push_str(&format!("@SQ\tSN:{name}\tLN:{}\n", seq.len()));
    }
    let paired = truth.iter().any(|t| t.mate == 2);
    for (i, t) in truth.iter().enumerate() {
        if !keep(t) {
            continue;
        }
        let mut flags = if t.strand == '-' { 0x10 } else { 0 };
        if paired {
            let mate_strand = truth[if t.mate == 1 { i + 1 } else { i - 1 }].strand;
            flags |= 0x1 | (if t.mate == 1 { 0x40 } else { 0x80 }) | (if mate_strand == '-' { 0x20 } else { 0 });
        }
        let mut cigar = t.cigar.clone();
        let mut pos = t.pos + shift;
        if i % 3 == 0 && cigar[0].1 == b'M' && cigar[0].0 > 10 {
            cigar[0].0 -= 4;
            cigar.insert(0, (4, b'S'));
            pos += 4;
        }
        let cigar = cigar_text(&cigar);
        sam.push_str(&format!("{}\t{flags}\t{}\t{pos}\t60\t{cigar}\t*\t0\t0\t*\t*\n", t.name, t.contig));
        // A secondary alignment far away must not count.
        if i % 11 == 0 {
            sam.push_str(&format!("{}\t{}\t{}\t1\t0\t{cigar}\t*\t0\t0\t*\t*\n", t.name, flags | 0x100, t.contig));
        }
    }
    sam
}

#[test]
fn eval_scores_true_places_right_and_shifted_ones_wrong() {
    let dir = scratch("eval");
    let (reference, contigs) = write_reference(&dir);
    let prefix = simulate_into(&dir, &reference, "e", &options(true, 5));
    let truth = read_truth(&with_suffix(&prefix, ".truth.tsv"));
    let sam = dir.join("a.sam");
    let opts = EvalOptions::default();

    fs::write(&sam, sam_from_truth(&truth, &contigs, 0, |_| true)).unwrap();
    let e = evaluate(&sam, &opts).unwrap();
    assert_eq!((e.reads, e.records, e.mapped, e.correct, e.missing), (800, 800, 800, 800, 0));
    assert_eq!(e.rows()[0].min_mapq, 60);
    assert_eq!(e.correct_at(60), 800);
    // The same records in BAM score the same.
    let bam = dir.join("a.bam");
    sam_to_bam(&sam, &bam);
    assert_eq!(evaluate(&bam, &opts).unwrap(), e);

    fs::write(&sam, sam_from_truth(&truth, &contigs, opts.tolerance, |_| true)).unwrap();
    assert_eq!(evaluate(&sam, &opts).unwrap().correct, 800, "a shift of exactly the tolerance is still correct");
    fs::write(&sam, sam_from_truth(&truth, &contigs, opts.tolerance + 1, |_| true)).unwrap();
    let e = evaluate(&sam, &opts).unwrap();
    assert_eq!((e.mapped, e.correct, e.wrong()), (800, 0, 800));
    assert_eq!(e.rows().last().unwrap().error_rate, 1.0);
    assert!(e.wrong_reads.is_empty(), "wrong reads are listed only when asked");
    // `--wrong` lists each wrong read once, with where it was placed.
    let listed = dir.join("wrong.tsv");
    let out = swmap().args(["eval", "--wrong"]).arg(&listed).arg(&sam).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = fs::read_to_string(&listed).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 800);
    let names: std::collections::HashSet<(&str, &str)> = rows.iter().map(|r| (r[1], r[2])).collect();
    assert_eq!(names.len(), 800, "a read listed twice");
    let t = &truth[1]; // not clipped by sam_from_truth
    let segment = if t.mate == 1 { 0x40 } else { 0x80 };
    let row = rows.iter().find(|r| r[1] == t.name && r[2].parse::<u16>().unwrap() & segment != 0).unwrap();
    assert_eq!(row[4].parse::<u64>().unwrap(), t.pos + opts.tolerance + 1, "{row:?}");
    fs::write(&sam, sam_from_truth(&truth, &contigs, 0, |_| true)).unwrap();
    let out = swmap().args(["eval", "--wrong"]).arg(&listed).arg(&sam).output().unwrap();
    assert!(out.status.success());
    assert_eq!(fs::read_to_string(&listed).unwrap().lines().count(), 1, "only the header when nothing is wrong");
}

#[test]
fn eval_counts_missing_reads() {
    let dir = scratch("missing");
    let (reference, contigs) = write_reference(&dir);
    let prefix = simulate_into(&dir, &reference, "m", &options(true, 6));
    let truth = read_truth(&with_suffix(&prefix, ".truth.tsv"));
    let index = |t: &Truth| SimulatedName::parse(&t.name).unwrap().index;
    // Drop whole pairs 5, 10, ... and mate 2 of pairs 7, 14, ...; the last pair stays.
    let keep = |t: &Truth| {
        let i = index(t);
        i == 399 || !(i % 5 == 0 && i > 0 || i % 7 == 0 && t.mate == 2)
    };
    let dropped = truth.iter().filter(|t| !keep(t)).count() as u64;
    assert!(dropped > 100);
    let sam = dir.join("m.sam");
    fs::write(&sam, sam_from_truth(&truth, &contigs, 0, keep)).unwrap();
    let e = evaluate(&sam, &EvalOptions::default()).unwrap();
    assert_eq!((e.reads, e.missing, e.correct, e.expected_from), (800, dropped, 800 - dropped, ExpectedFrom::Names));
    // With --expected the count is taken as given.
    let e = evaluate(&sam, &EvalOptions { expected: Some(1000), ..Default::default() }).unwrap();
    assert_eq!((e.reads, e.missing, e.expected_from), (1000, 200 + dropped, ExpectedFrom::Given));
    assert!(evaluate(&sam, &EvalOptions { expected: Some(10), ..Default::default() }).is_err());
}

/// BAM through noodles, record for record.
fn sam_to_bam(sam: &Path, bam: &Path) {
    use noodles_sam::alignment::io::Write as _;
    let mut reader = noodles_sam::io::reader::Builder::default().build_from_path(sam).unwrap();
    let header = reader.read_header().unwrap();
    let mut writer = noodles_bam::io::Writer::new(fs::File::create(bam).unwrap());
    writer.write_header(&header).unwrap();
    for record in reader.record_bufs(&header) {
        writer.write_alignment_record(&header, &record.unwrap()).unwrap();
    }
    writer.try_finish().unwrap();
}

#[test]
fn checked_in_dwgsim_and_wgsim_names_match_bwa() {
    // test-data/README.md: real dwgsim and wgsim reads on lambda phage, placed by bwa mem.
    let e = evaluate(&data("dwgsim_lambda_bwa.sam"), &EvalOptions { tolerance: 0, ..Default::default() }).unwrap();
    assert_eq!((e.reads, e.missing, e.random), (160, 0, 2));
    assert_eq!(e.correct, e.records - e.random, "every non-random dwgsim read is where bwa put it");
    let e = evaluate(&data("wgsim_lambda_bwa.sam"), &EvalOptions { tolerance: 0, ..Default::default() }).unwrap();
    assert_eq!((e.reads, e.correct, e.missing), (80, 80, 0));
}

/// The reference bases a read's truth points at, in read orientation.
fn reference_at(
    contigs: &[(String, Vec<u8>)],
    origin: &TrueOrigin,
    segment: usize,
    strand: Strand,
    len: usize,
) -> Option<Vec<u8>> {
    use swmap::eval::Anchor;
    let t = origin.read(segment, strand)?;
    let seq = &contigs.iter().find(|c| Some(&c.0) == t.contig.as_ref())?.1;
    let start = match t.anchor {
        Anchor::Leftmost => t.pos as usize - 1,
        Anchor::Rightmost => (t.pos as usize).checked_sub(len)?,
    };
    let codes: Vec<u8> = seq.get(start..start + len)?.iter().map(|&b| dna::encode(b).unwrap()).collect();
    Some(if t.strand == Strand::Reverse { dna::reverse_complement(&codes) } else { codes })
}

#[test]
fn dwgsim_names_point_at_the_reads_bases_when_dwgsim_is_installed() {
    if !has("dwgsim") {
        eprintln!("dwgsim is not installed: skipping (the checked-in example still runs)");
        return;
    }
    let dir = scratch("dwgsim");
    let (reference, contigs) = write_reference(&dir);
    let prefix = dir.join("dw");
    let status = Command::new("dwgsim")
        .args(["-N", "300", "-1", "100", "-2", "100", "-d", "300", "-s", "30", "-e", "0.01", "-E", "0.01"])
        .args(["-r", "0.002", "-R", "0.3", "-y", "0.05", "-z", "3"])
        .arg(&reference)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let fastq = |mate: u8| {
        let plain = with_suffix(&prefix, &format!(".bwa.read{mate}.fastq"));
        fastq_records(&if plain.exists() { plain } else { with_suffix(&plain, ".gz") })
    };
    let (r1, r2) = (fastq(1), fastq(2));
    let mut exact = 0;
    let mut sam = String::new();
    for (segment, reads) in [(0, &r1), (1, &r2)] {
        for (name, bases, _) in reads.iter() {
            let origin = TrueOrigin::parse(name).unwrap_or_else(|| panic!("{name}"));
            let clean = name.split('_').rev().nth(2 - segment).unwrap() == "0:0:0";
            if !origin.is_random() && clean {
                let codes: Vec<u8> = bases.bytes().map(|b| dna::encode(b).unwrap()).collect();
                // dwgsim's ends are told by the segment; the strand argument is not used.
                assert_eq!(
                    reference_at(&contigs, &origin, segment, Strand::Forward, codes.len()),
                    Some(codes),
                    "{name}"
                );
                exact += 1;
            }
            // Every read unmapped: only the counting of reads is exercised.
            let flags = 0x1 | 0x4 | 0x8 | (if segment == 0 { 0x40 } else { 0x80 });
            let name = name.strip_suffix(&format!("/{}", segment + 1)).unwrap_or(name);
            sam.push_str(&format!("{name}\t{flags}\t*\t0\t0\t*\t*\t0\t0\t*\t*\n"));
        }
    }
    assert!(exact > 100, "{exact}");
    // dwgsim numbers fragments per contig; the inference adds the contigs up.
    let path = dir.join("unmapped.sam");
    fs::write(&path, &sam).unwrap();
    let e = evaluate(&path, &EvalOptions::default()).unwrap();
    assert_eq!((e.reads, e.records, e.missing, e.unmapped), (600, 600, 0, 600));
}

#[test]
fn wgsim_names_point_at_the_reads_bases_when_wgsim_is_installed() {
    if !has("wgsim") {
        eprintln!("wgsim is not installed: skipping (the checked-in example still runs)");
        return;
    }
    let dir = scratch("wgsim");
    let (reference, contigs) = write_reference(&dir);
    let (fq1, fq2) = (dir.join("w1.fq"), dir.join("w2.fq"));
    let out = Command::new("wgsim")
        .args(["-N", "200", "-1", "100", "-2", "100", "-d", "300", "-s", "30", "-e", "0", "-r", "0", "-S", "3"])
        .args([&reference, &fq1, &fq2])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for path in [&fq1, &fq2] {
        for (name, bases, _) in fastq_records(path) {
            let origin = TrueOrigin::parse(&name).unwrap_or_else(|| panic!("{name}"));
            let codes: Vec<u8> = bases.bytes().map(|b| dna::encode(b).unwrap()).collect();
            let matches = [Strand::Forward, Strand::Reverse]
                .iter()
                .filter(|&&s| reference_at(&contigs, &origin, 0, s, codes.len()).as_ref() == Some(&codes))
                .count();
            assert_eq!(matches, 1, "{name}: exactly one end of the fragment must be this read");
        }
    }
}
