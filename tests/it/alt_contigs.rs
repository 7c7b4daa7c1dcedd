//! ALT contigs, as bwa-mem treats those its `.alt` file lists: a reference with three ALT
//! copies (1% diverged) of stretches of the bundled E. coli contig. Reads from the copies get
//! their primary record on the primary assembly at a confident MAPQ, the better ALT hit as a
//! supplementary record and `pa:f` on the primary, as bwa-mem 0.7.17 writes them; without the
//! `.alt` file the same reads sit on the ALT contigs or at MAPQ 0. Compared record by record with
//! bwa mem where it is installed. Every mapping under every backend.

use crate::sam_check::{lines, load_fasta, Line};
use crate::support::{backends, data, has, ok, scratch, swmap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use swmap::rng::Rng;

const PRIMARY: &str = "ecoli_k12_1_150000";
/// (start, length) of the stretches the ALT contigs copy.
const COPIES: [(usize, usize); 3] = [(10_000, 20_000), (60_000, 15_000), (100_000, 25_000)];

/// The reference with ALT copies, its `.alt` file beside it, and simulated pairs from it.
fn alt_reference(dir: &Path) -> (PathBuf, [PathBuf; 2]) {
    let reference = load_fasta(&data("ref.fa.gz"));
    let mut rng = Rng::new(8);
    let (mut fasta, mut alt) = (String::new(), String::new());
    let mut names: Vec<&String> = reference.keys().collect();
    names.sort();
    for name in names {
        let _ = writeln!(fasta, ">{name}\n{}", String::from_utf8_lossy(&reference[name]));
    }
    for (k, &(start, len)) in COPIES.iter().enumerate() {
        let copy: Vec<u8> = reference[PRIMARY][start..start + len]
            .iter()
            .map(|&b| if rng.chance(0.01) { b"ACGT".iter().copied().find(|&c| c != b).unwrap() } else { b })
            .collect();
        let _ = writeln!(fasta, ">ecoli_alt{}\n{}", k + 1, String::from_utf8_lossy(&copy));
        let _ = writeln!(alt, "ecoli_alt{}\t0\t{PRIMARY}\t{}\t255\t{len}M\t*\t0\t0\t*\t*", k + 1, start + 1);
    }
    let path = dir.join("ref.fa");
    std::fs::write(&path, fasta).unwrap();
    std::fs::write(dir.join("ref.fa.alt"), alt).unwrap();
    ok(swmap().args(["simulate", "--paired", "-n", "4000", "--seed", "3", "-o"]).arg(dir.join("sim")).arg(&path));
    (path, [dir.join("sim_1.fq"), dir.join("sim_2.fq")])
}

fn primaries(sam: &[u8]) -> Vec<Line> {
    let mut l: Vec<Line> = lines(sam).into_iter().filter(Line::primary).collect();
    l.sort_by(|a, b| (&a.name, a.mate_bit()).cmp(&(&b.name, b.mate_bit())));
    l
}

fn from_copy(l: &Line) -> bool {
    l.name.contains("ecoli_alt")
}

#[test]
fn reads_of_alt_copies_stay_on_the_primary_assembly_with_confidence() {
    let dir = scratch("alt");
    let (fasta, reads) = alt_reference(&dir);
    for backend in backends() {
        let sam = ok(swmap().arg("map").arg(&fasta).args(&reads).args(["--backend", backend, "-t", "2"]));
        let all = lines(&sam);
        let prim = primaries(&sam);
        assert_eq!(prim.len(), 8000);
        let on_alt = prim.iter().filter(|l| l.rname.starts_with("ecoli_alt")).count();
        assert_eq!(on_alt, 0, "{backend}: primaries on ALT contigs");
        let copies: Vec<&Line> = prim.iter().filter(|l| from_copy(l)).collect();
        assert!(copies.len() > 1000, "{backend}: {} reads from the copies", copies.len());
        let confident = copies.iter().filter(|l| l.mapq >= 20).count();
        assert!(confident * 100 >= copies.len() * 99, "{backend}: {confident} of {} at MAPQ >= 20", copies.len());
        let with_pa = copies.iter().filter(|l| l.tag("pa").is_some()).count();
        assert!(with_pa * 10 >= copies.len() * 7, "{backend}: pa:f on {with_pa} of {}", copies.len());
        let alt_supp = all.iter().filter(|l| l.flag & 0x800 != 0 && l.rname.starts_with("ecoli_alt")).count();
        let pa_all = prim.iter().filter(|l| l.tag("pa").is_some()).count();
        assert_eq!(alt_supp, pa_all, "{backend}: each primary with pa:f has its ALT hit as a supplementary record");
        let xa_alt = prim.iter().filter(|l| l.tag("XA").is_some_and(|x| x.contains("ecoli_alt"))).count();
        assert!(xa_alt > 1000, "{backend}: {xa_alt} primaries list an ALT hit in XA");
    }
    // Without the .alt file, reads of the copies go to the copies or lose their MAPQ.
    std::fs::rename(dir.join("ref.fa.alt"), dir.join("off.alt")).unwrap();
    let sam = ok(swmap().arg("map").arg(&fasta).args(&reads).args(["-t", "2"]));
    let prim = primaries(&sam);
    assert!(prim.iter().filter(|l| l.rname.starts_with("ecoli_alt")).count() > 1000);
    assert!(prim.iter().all(|l| l.tag("pa").is_none()));
    // --alt names the file.
    let sam = ok(swmap().arg("map").arg("--alt").arg(dir.join("off.alt")).arg(&fasta).args(&reads).args(["-t", "2"]));
    assert!(primaries(&sam).iter().all(|l| !l.rname.starts_with("ecoli_alt")));
    std::fs::rename(dir.join("off.alt"), dir.join("ref.fa.alt")).unwrap();

    // Beside bwa mem in its ALT mode (it reads ref.fa.alt beside its index).
    if !has("bwa") {
        return;
    }
    let quiet = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    quiet(Command::new("bwa").arg("index").arg(&fasta));
    let bwa = primaries(&quiet(Command::new("bwa").args(["mem", "-t", "2"]).arg(&fasta).args(&reads)));
    let ours = primaries(&ok(swmap().arg("map").arg(&fasta).args(&reads).args(["-t", "2"])));
    assert_eq!(bwa.len(), ours.len());
    let same_place = ours.iter().zip(&bwa).filter(|(a, b)| (&a.rname, a.pos) == (&b.rname, b.pos)).count();
    let same_pa = ours.iter().zip(&bwa).filter(|(a, b)| a.tag("pa").is_some() == b.tag("pa").is_some()).count();
    assert!(same_place * 1000 >= ours.len() * 999, "{same_place} of {} primaries where bwa puts them", ours.len());
    assert!(same_pa * 1000 >= ours.len() * 998, "pa:f on the same records as bwa: {same_pa} of {}", ours.len());
}
