//! Several engines sharing every batch (`SplitBackend`, `--gpus`, `--cpu-share`): the results
//! are the oracle's whatever the split, a failing engine's tasks are redone by the others and
//! it gets no more (with shares fixed or learnt), and only when every engine fails does the
//! batch fail.

use crate::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use swmap::align::{Alignment, Scoring};
use swmap::backend::{align_checked, AlignBackend, CpuBackend, GpuBackend, SplitBackend};
use swmap::batch::AlignBatch;
use swmap::Error;

/// An engine that fails every call after its first `works` calls, counting its calls.
struct Failing {
    works: usize,
    calls: Arc<AtomicUsize>,
}

impl AlignBackend for Failing {
    fn describe(&self) -> String {
        "failing test engine".into()
    }

    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> swmap::Result<Vec<Alignment>> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < self.works {
            CpuBackend.align_tasks(batch, scoring, ids)
        } else {
            Err(Error::Gpu("device lost (test)".into()))
        }
    }
}

/// The engines to split between: two devices where a GPU adapter works, and the CPU.
fn engines_to_split() -> Vec<(&'static str, Box<dyn AlignBackend>)> {
    let mut engines: Vec<(&'static str, Box<dyn AlignBackend>)> = Vec::new();
    if shared_gpu().is_some() {
        for name in ["gpu 0", "gpu 1"] {
            engines.push((name, Box::new(GpuBackend::new(true).expect("a GPU device opens where one did"))));
        }
    }
    engines.push(("cpu", Box::new(CpuBackend::new())));
    engines
}

#[test]
fn every_split_gives_the_oracles_alignments() {
    for (seed, sc) in scorings().into_iter().enumerate() {
        let batch = random_batch(100 + seed as u64, 600);
        let expected = oracle().backend.align(&batch, &sc).unwrap();
        let n = engines_to_split().len();
        // Each engine alone, each pair, all equally, and lopsided shares; then learnt ones.
        let mut splits: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| (i == j) as u8 as f64).collect()).collect();
        splits.push(vec![1.0; n]);
        splits.push((0..n).map(|i| (i * i + 1) as f64).collect());
        splits.extend(
            (0..n)
                .map(|i| (0..n).map(|j| (i != j) as u8 as f64).collect::<Vec<f64>>())
                .filter(|s| s.iter().sum::<f64>() > 0.0),
        );
        for shares in splits {
            let (names, engines): (Vec<&str>, Vec<Box<dyn AlignBackend>>) = engines_to_split().into_iter().unzip();
            let split = SplitBackend::new(engines).unwrap().with_shares(&shares).unwrap();
            let got = split.align(&batch, &sc).unwrap();
            assert_same_items(
                "alignments",
                ("oracle", &expected),
                (&format!("{names:?} shares {shares:?}"), &got),
                task_inputs(&batch, &sc),
            );
            // Through the mapper's path too: the exact shortcut first, every result checked.
            assert_eq!(align_checked(&split, &batch, &sc).unwrap(), align_checked(&CpuBackend, &batch, &sc).unwrap());
            // Every engine with a share got work.
            let division = split.division().unwrap();
            for (name, share) in names.iter().zip(&shares) {
                let part = division
                    .trim_start_matches("alignment cells by engine: ")
                    .split(", ")
                    .find(|p| p.starts_with(name))
                    .unwrap_or_else(|| panic!("{name} missing from {division}"));
                assert_eq!(*share > 0.0, !part.ends_with(" 0.0%"), "{division} for shares {shares:?}");
            }
        }
        let (_, engines): (Vec<&str>, Vec<Box<dyn AlignBackend>>) = engines_to_split().into_iter().unzip();
        let learnt = SplitBackend::new(engines).unwrap();
        for _ in 0..3 {
            assert_eq!(learnt.align(&batch, &sc).unwrap(), expected, "learnt shares {:?}", learnt.shares());
        }
    }
}

#[test]
fn a_failing_engines_tasks_are_redone_by_the_others_and_it_gets_no_more() {
    let sc = Scoring::default();
    let batch = random_batch(7, 400);
    let expected = CpuBackend.align(&batch, &sc).unwrap();
    for fixed in [true, false] {
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = Box::new(Failing { works: 1, calls: calls.clone() });
        let split = SplitBackend::new(vec![failing, Box::new(CpuBackend::new())]).unwrap();
        let split = if fixed { split.with_shares(&[3.0, 1.0]).unwrap() } else { split };
        // Its first call aligns; the second fails midway and its tasks go to the CPU.
        for round in 0..4 {
            assert_eq!(split.align(&batch, &sc).unwrap(), expected, "round {round}, fixed shares {fixed}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "no work after it failed (fixed shares {fixed})");
        assert!(split.division().unwrap().contains("failed"), "{}", split.division().unwrap());
        assert_eq!(split.shares()[0], 0.0);
    }

    let all_fail: Vec<Box<dyn AlignBackend>> = (0..2)
        .map(|_| Box::new(Failing { works: 0, calls: Arc::new(AtomicUsize::new(0)) }) as Box<dyn AlignBackend>)
        .collect();
    let split = SplitBackend::new(all_fail).unwrap();
    let e = split.align(&batch, &sc).unwrap_err().to_string();
    assert!(e.contains("every engine failed") && e.contains("device lost (test)"), "{e}");
    let e =
        SplitBackend::new(vec![Box::new(CpuBackend::new())]).unwrap().with_shares(&[0.0]).err().unwrap().to_string();
    assert!(e.contains("shares"), "{e}");
}

#[test]
fn map_on_several_gpus_and_the_cpu_writes_the_cpus_records() {
    let reads = [data("reads_1.fq.gz"), data("reads_2.fq.gz")];
    let reads: Vec<&std::path::Path> = reads.iter().map(|p| p.as_path()).collect();
    let expected = crate::sam_check::records(&map_ok(&data("ref.fa.gz"), &reads, "cpu", &[]));
    if shared_gpu().is_some() {
        for extra in [
            &["--gpus", "0,0"][..],
            &["--gpus", "0,0", "--cpu-share", "0.5"],
            &["--cpu-share", "auto"],
            &["--gpus", "all", "--cpu-share", "1"],
        ] {
            let out = run(map_cmd(&data("ref.fa.gz"), &reads, "gpu", extra).args(["--chunk-reads", "700"]));
            assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("split between") && stderr.contains("alignment cells by engine"),
                "{extra:?}: {stderr}"
            );
            let got = crate::sam_check::records(&out.stdout);
            assert_same(
                "records",
                ("cpu", expected.join("\n").as_bytes()),
                (&format!("{extra:?}"), got.join("\n").as_bytes()),
            );
        }
        let out = run(&mut map_cmd(&data("ref.fa.gz"), &reads, "gpu", &["--gpus", "99"]));
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--gpus 99"));
    }
    for (extra, says) in [
        (&["--backend", "cpu", "--gpus", "2"][..], "need --backend gpu or auto"),
        (&["--gpus", "x"], "--gpus x"),
        (&["--gpus", "0"], "--gpus 0"),
        (&["--cpu-share", "1.5"], "--cpu-share 1.5"),
    ] {
        let mut cmd = swmap();
        cmd.arg("map").arg(data("ref.fa.gz")).args(&reads).args(extra);
        let out = run(&mut cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says) && out.stdout.is_empty(), "{extra:?}: {stderr}");
    }
}
