//! Chimeric libraries: when most of the first pairs are discordant (mates on different contigs
//! or far apart on one), the insert-size model must still be that of the concordant pairs, or
//! none at all (and the mapper says so), and mate rescue must stay small. A model with no cap
//! on the inserts it counts would learn a "proper" insert of contig distances and flag every
//! chimera proper, and mate rescue would align mates across whole contigs (a 30 GB allocation
//! on a human genome).

use crate::sam_check::*;
use crate::support::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use swmap::rng::Rng;

const READ_LEN: usize = 150;
/// Concordant fragments are `TRUE_INSERT` ± 20.
const TRUE_INSERT: usize = 400;

/// Uniform in `0..n`.
fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// Two random contigs (no repeats, so every read has one confident placement).
fn reference(rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    [("chrA", 400_000), ("chrB", 300_000)]
        .iter()
        .map(|&(name, len)| (name.to_string(), (0..len).map(|_| b"ACGT"[rng.base() as usize]).collect()))
        .collect()
}

/// Where a mate truly lies: contig, 0-based start, reverse strand.
type Truth = (usize, usize, bool);

/// A pair of the library: its name, whether it is chimeric, and where its mates lie.
type PairTruth = (String, bool, [Truth; 2]);

/// The library: `concordant` forward-reverse pairs with `TRUE_INSERT` ± 20 fragments, and
/// `chimeric` pairs whose mates lie 20-250 kb apart facing each other on one contig (every
/// other one) or on different contigs. Concordant and chimeric pairs are interleaved, so the
/// first pairs hold both. Returns the two FASTQ files, the reference file and each pair's
/// name, whether it is chimeric and where its mates lie.
fn write_library(dir: &Path, concordant: usize, chimeric: usize) -> (PathBuf, PathBuf, PathBuf, Vec<PairTruth>) {
    let mut rng = Rng::new(0x5eed_c41e);
    let contigs = reference(&mut rng);
    let fa = dir.join("ref.fa");
    let mut text = String::new();
    for (name, seq) in &contigs {
        text.push_str(&format!(">{name}\n"));
        for line in seq.chunks(80) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
    }
    std::fs::write(&fa, text).unwrap();

    let total = concordant + chimeric;
    let (mut r1, mut r2, mut pairs) = (String::new(), String::new(), Vec::new());
    let mut n_chim = 0;
    for i in 0..total {
        // The concordant pairs spread evenly among the chimeric ones.
        let is_chimeric = (i + 1) * concordant / total == i * concordant / total;
        let (c1, p1, c2, p2);
        if !is_chimeric {
            let frag = TRUE_INSERT - 20 + below(&mut rng, 41);
            c1 = below(&mut rng, 2);
            p1 = below(&mut rng, contigs[c1].1.len() - frag);
            c2 = c1;
            p2 = p1 + frag - READ_LEN;
        } else if n_chim % 2 == 0 {
            n_chim += 1;
            // One contig, facing each other, far beyond any library's insert.
            let dist = 20_000 + below(&mut rng, 230_000);
            c1 = 0;
            p1 = below(&mut rng, contigs[0].1.len() - dist);
            c2 = 0;
            p2 = p1 + dist - READ_LEN;
        } else {
            n_chim += 1;
            c1 = 0;
            p1 = below(&mut rng, contigs[0].1.len() - READ_LEN);
            c2 = 1;
            p2 = below(&mut rng, contigs[1].1.len() - READ_LEN);
        }
        let name = format!("{}{i}", if is_chimeric { "chim" } else { "conc" });
        r1.push_str(&fastq_record(&name, &contigs[c1].1[p1..p1 + READ_LEN]));
        r2.push_str(&fastq_record(&name, &reverse_complement(&contigs[c2].1[p2..p2 + READ_LEN])));
        pairs.push((name, is_chimeric, [(c1, p1, false), (c2, p2, true)]));
    }
    let (a, b) = (dir.join("r1.fq"), dir.join("r2.fq"));
    std::fs::write(&a, r1).unwrap();
    std::fs::write(&b, r2).unwrap();
    (fa, a, b, pairs)
}

/// Maps and returns the SAM text and stderr.
fn map(fa: &Path, r1: &Path, r2: &Path, backend: &str, dir: &Path) -> (Vec<u8>, String) {
    let out = dir.join(format!("out-{backend}.sam"));
    let res = run(map_cmd(fa, &[r1, r2], backend, &["-t", "2"]).arg("-o").arg(&out));
    let stderr = String::from_utf8_lossy(&res.stderr).to_string();
    assert!(res.status.success(), "swmap map failed:\n{stderr}");
    (std::fs::read(&out).unwrap(), stderr)
}

/// The number after `key` in the summary line.
fn summary_number(stderr: &str, key: &str) -> Option<f64> {
    let rest = &stderr[stderr.find(key)? + key.len()..];
    rest.split(|c: char| !c.is_ascii_digit() && c != '.').next()?.parse().ok()
}

/// Proper-pair bounds from the summary line (`insert size mean M (proper LO-HI)`).
fn proper_bounds(stderr: &str) -> Option<(i64, i64, i64)> {
    let rest = &stderr[stderr.find("insert size mean ")? + "insert size mean ".len()..];
    let (mean, rest) = rest.split_once(" (proper ")?;
    let (lo, rest) = rest.split_once('-')?;
    let hi = rest.split(')').next()?;
    Some((mean.parse().ok()?, lo.parse().ok()?, hi.parse().ok()?))
}

/// One primary record per read, each mapped where the read came from; returns the primaries
/// by (name, mate bit).
fn check_primaries(sam: &[u8], pairs: &[(String, bool, [Truth; 2])], what: &str) -> HashMap<(String, u16), Line> {
    let names = ["chrA", "chrB"];
    let mut primaries = HashMap::new();
    for l in lines(sam).into_iter().filter(Line::primary) {
        let key = (l.name.clone(), l.mate_bit());
        assert!(primaries.insert(key, l).is_none(), "{what}: two primary records for one read");
    }
    assert_eq!(primaries.len(), 2 * pairs.len(), "{what}: not one primary record per read");
    for (name, _, truth) in pairs {
        for (m, &(c, p, rev)) in truth.iter().enumerate() {
            let l = &primaries[&(name.clone(), [0x40, 0x80][m])];
            assert!(l.mapped(), "{what} {name}/{}: unmapped", m + 1);
            assert_eq!(
                (l.rname.as_str(), l.pos, l.reverse()),
                (names[c], p as u64 + 1, rev),
                "{what} {name}/{}",
                m + 1
            );
        }
    }
    primaries
}

/// 70% of the first pairs chimeric: the model must be that of the concordant 30%,
/// chimeras must not be proper, and rescue (which runs for every chimeric mate) must stay
/// small.
#[test]
fn chimeric_majority_does_not_learn_contig_distances_as_the_insert() {
    let dir = scratch("chimeric-majority");
    let (fa, r1, r2, pairs) = write_library(&dir, 300, 700);
    for b in backends() {
        let (sam, stderr) = map(&fa, &r1, &r2, b, &dir);
        assert!(!stderr.contains("warning"), "{b}: {stderr}");
        let (mean, lo, hi) = proper_bounds(&stderr).unwrap_or_else(|| panic!("{b}: no insert-size model: {stderr}"));
        assert!((mean - TRUE_INSERT as i64).abs() <= 5, "{b}: insert mean {mean}: {stderr}");
        assert!(
            (250..=TRUE_INSERT as i64 - 20).contains(&lo) && (TRUE_INSERT as i64 + 20..=600).contains(&hi),
            "{b}: proper bounds {lo}-{hi} are not near the true insert: {stderr}"
        );
        let peak = summary_number(&stderr, "peak memory ").unwrap_or_else(|| panic!("{b}: no peak memory: {stderr}"));
        assert!(peak < 300.0, "{b}: peak memory {peak} MiB: rescue windows follow contig distances");
        let primaries = check_primaries(&sam, &pairs, b);
        // The summary's share of properly paired reads is the records' (a 30% concordant
        // library: 30.00%).
        let proper = primaries.values().filter(|l| l.flag & 0x2 != 0).count();
        let said = summary_number(&stderr, "mapped (100.00%), ").unwrap_or_else(|| panic!("{b}: {stderr}"));
        assert!(stderr.contains("% properly paired"), "{b}: {stderr}");
        assert!((said - 100.0 * proper as f64 / primaries.len() as f64).abs() < 0.01, "{b}: {said}% vs {proper}");
        for (name, chimeric, _) in &pairs {
            for bit in [0x40, 0x80] {
                let l = &primaries[&(name.clone(), bit)];
                if *chimeric {
                    assert_eq!(l.flag & 0x2, 0, "{b} {name}: chimeric pair flagged proper");
                } else {
                    assert_ne!(l.flag & 0x2, 0, "{b} {name}: concordant pair not proper");
                }
            }
        }
    }
}

/// No concordant pair at all: no model can be estimated; the mapper says so once, flags no
/// pair proper, and still writes one primary record per read, each where it belongs.
#[test]
fn library_without_concordant_pairs_warns_that_no_insert_model_was_estimated() {
    let dir = scratch("no-concordant");
    let (fa, r1, r2, pairs) = write_library(&dir, 0, 200);
    for b in backends() {
        let (sam, stderr) = map(&fa, &r1, &r2, b, &dir);
        let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(
            warnings,
            ["[swmap] warning: insert-size model could not be estimated from the first 200 pairs (0 usable, \
              25 needed); pairs are not flagged proper and mates are not rescued"],
            "{b}: {stderr}"
        );
        assert!(proper_bounds(&stderr).is_none(), "{b}: {stderr}");
        let primaries = check_primaries(&sam, &pairs, b);
        assert!(primaries.values().all(|l| l.flag & 0x2 == 0), "{b}: a pair flagged proper without a model");
    }
}

/// Fewer concordant pairs than a model needs (10 of 25): the warning counts them.
#[test]
fn too_few_concordant_pairs_warn_with_their_count() {
    let dir = scratch("few-concordant");
    let (fa, r1, r2, pairs) = write_library(&dir, 10, 190);
    let (sam, stderr) = map(&fa, &r1, &r2, "cpu", &dir);
    assert!(
        stderr.contains("insert-size model could not be estimated from the first 200 pairs (10 usable, 25 needed)"),
        "{stderr}"
    );
    let primaries = check_primaries(&sam, &pairs, "cpu");
    assert!(primaries.values().all(|l| l.flag & 0x2 == 0), "a pair flagged proper without a model");
}
