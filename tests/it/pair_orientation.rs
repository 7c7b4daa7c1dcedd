//! Pair orientation inferred from the data, as bwa-mem does: the same fragments sequenced as
//! FR (paired-end), RF (mate-pair: both mates reverse-complemented) and FF (mate 2
//! reverse-complemented) are all placed as proper pairs at the same places, and the summary
//! names the orientation. Every mapping under every backend.

use crate::sam_check::*;
use crate::support::*;
use std::path::{Path, PathBuf};

/// The FASTQ `text` with the reads reverse-complemented (qualities reversed).
fn reverse_complemented(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(4)
        .map(|r| {
            let seq = String::from_utf8(crate::sam_check::reverse_complement(r[1].as_bytes())).unwrap();
            let qual: String = r[3].chars().rev().collect();
            format!("{}\n{seq}\n+\n{qual}\n", r[0])
        })
        .collect()
}

/// Each read's primary record by (name, mate bit), and the stderr of the run.
fn primaries(backend: &str, reads: &[PathBuf; 2]) -> (Vec<Line>, String) {
    let out = run(swmap().arg("map").arg(test_index()).args(reads).args(["--backend", backend, "-t", "2"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut lines: Vec<Line> = lines(&out.stdout).into_iter().filter(Line::primary).collect();
    lines.sort_by(|a, b| (&a.name, a.mate_bit()).cmp(&(&b.name, b.mate_bit())));
    (lines, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn write(dir: &Path, name: &str, texts: [String; 2]) -> [PathBuf; 2] {
    let paths = [dir.join(format!("{name}_1.fq")), dir.join(format!("{name}_2.fq"))];
    for (p, t) in paths.iter().zip(texts) {
        std::fs::write(p, t).unwrap();
    }
    paths
}

#[test]
fn fr_rf_and_ff_libraries_are_proper_pairs_at_the_same_places() {
    let dir = scratch("orientation");
    ok(swmap()
        .args(["simulate", "--paired", "-n", "1000", "--insert", "1500", "--insert-sd", "100", "--seed", "3", "-o"])
        .arg(dir.join("p"))
        .arg(data("ref.fa.gz")));
    let fr = [dir.join("p_1.fq"), dir.join("p_2.fq")];
    let text = |p: &PathBuf| std::fs::read_to_string(p).unwrap();
    let rf = write(&dir, "rf", [reverse_complemented(&text(&fr[0])), reverse_complemented(&text(&fr[1]))]);
    let ff = write(&dir, "ff", [text(&fr[0]), reverse_complemented(&text(&fr[1]))]);
    for backend in backends() {
        let (base, _) = primaries(backend, &fr);
        for (name, reads) in [("FR", &fr), ("RF", &rf), ("FF", &ff)] {
            let (got, stderr) = primaries(backend, reads);
            assert_eq!(got.len(), 2000, "{backend} {name}");
            let proper = got.iter().filter(|l| l.flag & 0x2 != 0).count();
            assert!(proper >= 1900, "{backend} {name}: {proper} of 2000 reads in proper pairs: {stderr}");
            let same = got.iter().zip(&base).filter(|(a, b)| (&a.rname, a.pos) == (&b.rname, b.pos)).count();
            assert!(same >= 1980, "{backend} {name}: {same} of 2000 primaries where the FR run put them");
            let says_orientation = stderr.contains(&format!("{name})"));
            assert_eq!(says_orientation, name != "FR", "{backend} {name}: {stderr}");
        }
    }
}

/// A mate-pair-like library: ordinary fragments of 300 +- 80 bases with both mates
/// reverse-complemented, so that the fragments shorter than the two reads face each other (FR)
/// while the longer ones face away (RF). Each orientation gets its own model, and nearly every
/// pair is proper, as bwa-mem makes them (a single RF model left a third improper).
#[test]
fn a_library_with_two_orientations_gets_a_model_for_each() {
    let dir = scratch("two-orientations");
    ok(swmap()
        .args(["simulate", "--paired", "-n", "1500", "--insert", "300", "--insert-sd", "80", "--seed", "4", "-o"])
        .arg(dir.join("p"))
        .arg(data("ref.fa.gz")));
    let text = |p: PathBuf| std::fs::read_to_string(p).unwrap();
    let both = write(
        &dir,
        "mp",
        [reverse_complemented(&text(dir.join("p_1.fq"))), reverse_complemented(&text(dir.join("p_2.fq")))],
    );
    for backend in backends() {
        let (got, stderr) = primaries(backend, &both);
        assert_eq!(got.len(), 3000, "{backend}");
        let proper = got.iter().filter(|l| l.flag & 0x2 != 0).count();
        assert!(proper >= 2940, "{backend}: {proper} of 3000 reads in proper pairs: {stderr}");
        // Both orientations are in the summary: RF, the most common, and FR beside it.
        assert!(stderr.contains(", RF)") && stderr.contains(", FR mean"), "{backend}: {stderr}");
    }
}
