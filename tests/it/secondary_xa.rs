//! Alternative hits: the XA tag (up to 5 alternatives scoring at least 80% of the primary,
//! none when there are more) and `-a` secondary records, on a small reference written by the
//! test with a segment present twice and another present seven times.

use crate::sam_check::*;
use crate::support::*;
use std::path::{Path, PathBuf};
use swmap::rng::Rng;

/// Seeded random bases, so the reference is the same on every run.
fn seeded_bases(n: usize, seed: u64) -> Vec<u8> {
    random_bases(&mut Rng::new(seed), n)
}

/// Start of the two copies of the duplicated segment on `dup`, and of the copies of the unit
/// on `many`.
const DUP_COPIES: [usize; 2] = [1_000, 5_000];
const MANY_COPIES: usize = 7;
const UNIT: usize = 250;
const SPACER: usize = 600;

fn many_copy(c: usize) -> usize {
    SPACER + c * (SPACER + UNIT)
}

/// Writes `ref.fa` (contigs `dup`, `many`, `solo`) and `reads.fq`: 8 reads from the
/// duplicated segment, 4 from the 7-copy unit, 4 from unique sequence; odd ones reversed.
fn write_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let base = seeded_bases(8_000, 7);
    let segment = base[DUP_COPIES[0]..DUP_COPIES[0] + 400].to_vec();
    let dup = [&base[..DUP_COPIES[1]], &segment[..], &base[DUP_COPIES[1]..]].concat();
    let unit = seeded_bases(UNIT, 11);
    let mut many = Vec::new();
    for c in 0..MANY_COPIES {
        many.extend(seeded_bases(SPACER, 100 + c as u64));
        many.extend_from_slice(&unit);
    }
    many.extend(seeded_bases(SPACER, 99));
    let solo = seeded_bases(4_000, 13);
    let fasta: String = [("dup", &dup), ("many", &many), ("solo", &solo)]
        .iter()
        .map(|(name, seq)| format!(">{name}\n{}\n", String::from_utf8_lossy(seq)))
        .collect();
    let mut fq = String::new();
    let mut add = |name: String, seq: &[u8], n: usize| {
        let seq = if n % 2 == 1 { reverse_complement(seq) } else { seq.to_vec() };
        fq += &fastq_record(&name, &seq);
    };
    for n in 0..8 {
        let s = DUP_COPIES[0] + 20 * n;
        add(format!("dup{n}"), &dup[s..s + 150], n);
    }
    for n in 0..4 {
        let s = many_copy(0) + 20 * n;
        add(format!("many{n}"), &many[s..s + 150], n);
    }
    for n in 0..4 {
        let s = 500 + 700 * n;
        add(format!("solo{n}"), &solo[s..s + 150], n);
    }
    let (reference, reads) = (dir.join("ref.fa"), dir.join("reads.fq"));
    std::fs::write(&reference, fasta).unwrap();
    std::fs::write(&reads, fq).unwrap();
    (reference, reads)
}

const READS: usize = 16;

fn map(reference: &Path, reads: &Path, backend: &str, extra: &[&str]) -> Vec<u8> {
    map_ok(reference, &[reads], backend, extra)
}

#[test]
fn xa_lists_the_other_copy_and_only_a_few() {
    let dir = scratch("xa");
    let (reference, reads) = write_inputs(&dir);
    let fasta = load_fasta(&reference);
    let expected = body(&map(&reference, &reads, "cpu", &[]));
    for b in backends() {
        let got = body(&map(&reference, &reads, b, &["--chunk-reads", "3"]));
        assert_same("default output", ("cpu", &expected), (&format!("{b} --chunk-reads 3"), &got));
    }
    let recs = lines(&expected);
    assert_eq!(recs.len(), READS, "no records beyond the primary ones by default");
    check_records(&expected, &fasta);
    for r in &recs {
        let n: usize = r.name.trim_start_matches(char::is_alphabetic).parse().unwrap();
        let strand = if n % 2 == 1 { '-' } else { '+' };
        assert_eq!(r.reverse(), n % 2 == 1, "{}", r.name);
        if r.name.starts_with("dup") {
            // Both copies score the same: MAPQ 0, XS = AS, the other copy in XA.
            assert_eq!((r.mapq, r.tag("XS")), (0, r.tag("AS")), "{}", r.name);
            let copies = DUP_COPIES.map(|c| (c + 20 * n + 1) as u64);
            let other = if r.pos == copies[0] { copies[1] } else { copies[0] };
            assert!(copies.contains(&r.pos), "{}: at {}", r.name, r.pos);
            assert_eq!(r.tag("XA"), Some(format!("dup,{strand}{other},150M,0;").as_str()), "{}", r.name);
        } else if r.name.starts_with("many") {
            // Six alternatives: more than 5, so no XA at all.
            assert_eq!((r.mapq, r.tag("XS"), r.tag("XA")), (0, r.tag("AS"), None), "{}", r.name);
        } else {
            assert_eq!((r.mapq, r.tag("XS"), r.tag("XA")), (60, Some("0"), None), "{}", r.name);
        }
    }
    // With room for six, the 7-copy reads list all their other copies.
    for r in
        lines(&map(&reference, &reads, "cpu", &["--max-xa-hits", "6"])).iter().filter(|r| r.name.starts_with("many"))
    {
        let xa = r.tag("XA").unwrap_or_else(|| panic!("{}: no XA", r.name));
        let mut places: Vec<u64> =
            xa.split_terminator(';').map(|e| e.split(',').nth(1).unwrap()[1..].parse().unwrap()).collect();
        places.push(r.pos);
        places.sort_unstable();
        let n: usize = r.name[4..].parse().unwrap();
        let truth: Vec<u64> = (0..MANY_COPIES).map(|c| (many_copy(c) + 20 * n + 1) as u64).collect();
        assert_eq!(places, truth, "{}: {xa}", r.name);
    }
    let none = lines(&map(&reference, &reads, "cpu", &["--max-xa-hits", "0"]));
    assert!(none.iter().all(|r| r.tag("XA").is_none()), "--max-xa-hits 0 leaves XA out");
}

#[test]
fn all_alignments_adds_secondary_records_only() {
    let dir = scratch("secondary");
    let (reference, reads) = write_inputs(&dir);
    let fasta = load_fasta(&reference);
    let expected = body(&map(&reference, &reads, "cpu", &["-a"]));
    for b in backends() {
        let got = body(&map(&reference, &reads, b, &["-a", "--chunk-reads", "5"]));
        assert_same("-a", ("cpu", &expected), (&format!("{b} --chunk-reads 5"), &got));
    }
    let recs = lines(&expected);
    let c = check_records(&expected, &fasta);
    assert_eq!((c.secondary, c.supplementary), (8 + 4 * (MANY_COPIES - 1), 0), "{c:?}");
    assert_eq!(recs.iter().filter(|r| r.primary()).count(), READS, "primary records unchanged");
    assert!(recs.iter().all(|r| r.tag("XA").is_none()), "-a writes secondary records instead of XA");
    for r in recs.iter().filter(|r| r.flag & 0x100 != 0) {
        assert!(!r.name.starts_with("solo"), "{}: a unique read has no other hit", r.name);
        assert_eq!((r.flag & !0x10, r.mapq, r.seq.as_str()), (0x100, 0, "*"), "{}", r.name);
        assert!(r.tag("AS").is_some() && r.tag("XS").is_none(), "{}", r.name);
    }
    // The primary records are those of the default output but for XA.
    let without_xa = |sam: &[u8]| -> Vec<String> {
        lines(sam)
            .iter()
            .filter(|r| r.primary())
            .map(|r| format!("{} {} {} {} {}", r.name, r.flag, r.pos, r.mapq, r.cigar))
            .collect()
    };
    assert_eq!(without_xa(&expected), without_xa(&map(&reference, &reads, "cpu", &[])));

    let out = dir.join("all.sam");
    map(&reference, &reads, "cpu", &["-a", "-R", "@RG\\tID:g\\tSM:s\\tPL:ILLUMINA", "-o", out.to_str().unwrap()]);
    if has("samtools") {
        let n = ok(std::process::Command::new("samtools").args(["view", "-c", "-F", "0x900"]).arg(&out));
        assert_eq!(String::from_utf8_lossy(&n).trim(), READS.to_string());
    }
    if let Some(errors) = picard_errors(&out) {
        assert!(errors.is_empty(), "picard:\n{errors}");
    }
}

#[test]
fn all_alignments_keeps_one_primary_per_bundled_read() {
    let sam = ok(swmap().arg("map").arg(test_index()).arg(data("reads_1.fq.gz")).arg(data("reads_2.fq.gz")).args([
        "--backend",
        "cpu",
        "-a",
    ]));
    let recs = lines(&sam);
    assert_eq!(recs.iter().filter(|r| r.primary()).count(), 4000);
    assert!(recs.iter().any(|r| r.flag & 0x100 != 0), "the bundled reads include some with other hits");
}
