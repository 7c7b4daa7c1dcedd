//! Sharded mapping: `--estimate-insert-model` and `--insert-model` make the shards of an input
//! give the records of one run over it, and `workflow/Snakefile` (where snakemake and
//! samtools are installed, as in CI) splits, maps and merges into the BAM one
//! `swmap map --sort` run writes. Every mapping under every backend.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn pairs() -> [PathBuf; 2] {
    [data("reads_1.fq.gz"), data("reads_2.fq.gz")]
}

/// SAM records of a run (header left out).
fn records(args: &[&std::ffi::OsStr]) -> Vec<String> {
    let out = ok(swmap().arg("map").arg(test_index()).args(args).args(["-v", "1"]));
    crate::sam_check::records(&out)
}

/// Mate files of `text`'s records `from..to` (4 lines each).
fn shard(dir: &Path, name: &str, texts: &[String; 2], from: usize, to: usize) -> [PathBuf; 2] {
    let mut paths = [dir.join(format!("{name}_1.fq")), dir.join(format!("{name}_2.fq"))];
    for (path, text) in paths.iter_mut().zip(texts) {
        let lines: Vec<&str> = text.lines().collect();
        let part: String = lines[4 * from..4 * to].iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, part).unwrap();
    }
    paths
}

#[test]
fn shards_sharing_an_insert_model_give_the_records_of_one_run() {
    let dir = scratch("shards");
    let [r1, r2] = pairs();
    let texts = [String::from_utf8(gunzip(&r1)).unwrap(), String::from_utf8(gunzip(&r2)).unwrap()];
    let total = texts[0].lines().count() / 4;
    let model = dir.join("model.txt");
    ok(swmap().arg("map").arg(test_index()).args([&r1, &r2]).arg("--estimate-insert-model").arg(&model));
    let text = std::fs::read_to_string(&model).unwrap();
    assert!(text.starts_with("swmap insert-size model 1\norientation\tFR\nmean\t"), "{text}");
    for backend in backends() {
        let b = ["--backend", backend].map(std::ffi::OsStr::new);
        let whole = records(&[&b[..], &[r1.as_os_str(), r2.as_os_str()]].concat());
        let mut sharded = Vec::new();
        // Uneven shards, the last one too small (10 pairs) to estimate a model of its own.
        for (k, (from, to)) in [(0, 700), (700, total - 10), (total - 10, total)].into_iter().enumerate() {
            let [s1, s2] = shard(&dir, &format!("s{k}"), &texts, from, to);
            let m = [std::ffi::OsStr::new("--insert-model"), model.as_os_str()];
            sharded.extend(records(&[&b[..], &m[..], &[s1.as_os_str(), s2.as_os_str()]].concat()));
        }
        assert!(whole.len() >= 2 * total);
        assert!(sharded == whole, "{backend}: the shards' records differ from one run's");
        // Without the shared model the small shard places its pairs differently.
        let [s1, s2] = shard(&dir, "alone", &texts, total - 10, total);
        let alone = records(&[&b[..], &[s1.as_os_str(), s2.as_os_str()]].concat());
        assert!(
            alone[..] != whole[whole.len() - alone.len()..],
            "{backend}: the test needs a shard that differs alone"
        );
    }
}

#[test]
fn insert_model_files_are_checked() {
    let dir = scratch("model-file");
    let [r1, r2] = pairs();
    let cases = [
        ("garbage\n", "line 1"),
        ("swmap insert-size model 1\nmean\t400\nsd\tx\nlow\t1\nhigh\t800\n", "line 3"),
        ("swmap insert-size model 1\nmean\t400\n", "mean, sd, low and high"),
        ("swmap insert-size model 1\nmean\t400\nsd\t40\nlow\t900\nhigh\t800\n", "min <= max"),
    ];
    for (text, says) in cases {
        let file = dir.join("bad.txt");
        std::fs::write(&file, text).unwrap();
        let out = run(swmap().arg("map").arg(test_index()).args([&r1, &r2]).arg("--insert-model").arg(&file));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("bad.txt") && err.contains(says), "{text:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A model and a file naming one are one too many.
    let model = dir.join("m.txt");
    std::fs::write(&model, "swmap insert-size model 1\nnone\n").unwrap();
    let out = run(swmap()
        .arg("map")
        .arg(test_index())
        .args([&r1, &r2])
        .args(["-I", "400"])
        .arg("--insert-model")
        .arg(&model));
    assert!(!out.status.success());
    // 'none' places pairs without a model: no proper pairs.
    let recs = records(&[r1.as_os_str(), r2.as_os_str(), "--insert-model".as_ref(), model.as_os_str()]);
    assert!(recs.iter().all(|l| l.split('\t').nth(1).unwrap().parse::<u16>().unwrap() & 0x2 == 0));
}

/// Runs workflow/Snakefile in `dir` on the bundled reference: `reads` in `shards` shards into
/// `out`, with `extra` options for every swmap map (none when empty).
fn snakemake(dir: &Path, reads: [&Path; 2], shards: usize, out: &Path, extra: &str) {
    let snakefile = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow/Snakefile");
    let mut config = vec![
        format!("ref={}", test_index().display()),
        format!("r1={}", reads[0].display()),
        format!("r2={}", reads[1].display()),
        format!("shards={shards}"),
        format!("out={}", out.display()),
        format!("swmap={SWMAP}"),
    ];
    if !extra.is_empty() {
        config.push(format!("extra={extra}"));
    }
    ok(Command::new("snakemake")
        .arg("-s")
        .arg(&snakefile)
        .args(["--cores", "2", "--quiet", "--directory"])
        .arg(dir)
        .arg("--config")
        .args(&config));
}

#[test]
fn snakefile_merges_shards_into_the_bam_of_one_run() {
    if !has("snakemake") || !has("samtools") {
        eprintln!("snakemake or samtools not installed: skipped");
        return;
    }
    let dir = scratch("snakemake");
    let [r1, r2] = pairs();
    let view = |bam: &Path| ok(Command::new("samtools").arg("view").arg(bam));
    for backend in backends() {
        let single = dir.join(format!("{backend}-single.bam"));
        ok(swmap()
            .arg("map")
            .arg(test_index())
            .args([&r1, &r2])
            .args(["-v", "1", "--sort", "--backend", backend, "-o"])
            .arg(&single));
        for shards in [3, 7] {
            let out = dir.join(format!("{backend}-{shards}.bam"));
            snakemake(&dir, [&r1, &r2], shards, &out, &format!("--backend {backend}"));
            assert!(view(&out) == view(&single), "{backend}, {shards} shards: merged records differ from one run's");
            assert!(out.with_added_extension("bai").exists());
        }
    }
    // More shards than pairs: the empty shards map to header-only BAMs, and the three pairs
    // are too few for a model, in one run as in the shards.
    let texts = [String::from_utf8(gunzip(&r1)).unwrap(), String::from_utf8(gunzip(&r2)).unwrap()];
    let [t1, t2] = shard(&dir, "tiny", &texts, 0, 3);
    let (single, out) = (dir.join("tiny-single.bam"), dir.join("tiny.bam"));
    ok(swmap().arg("map").arg(test_index()).args([&t1, &t2]).args(["-v", "1", "--sort", "-o"]).arg(&single));
    snakemake(&dir, [&t1, &t2], 5, &out, "");
    assert!(view(&out) == view(&single) && view(&out).split(|&b| b == b'\n').count() > 6);
    let left: Vec<String> = file_names(&dir).into_iter().filter(|n| n.ends_with(".shards")).collect();
    assert!(left.is_empty(), "shard files left: {left:?}");
}
