//! `swmap bench` end to end: it runs, and where a GPU adapter works the two backends' results
//! are identical. Timings are printed but never asserted.

use crate::support::{backends, ok, run, shared_gpu, swmap};

fn bench(args: &[&str]) -> String {
    let out = ok(swmap().args(["bench", "--pairs", "200", "--repeats", "1"]).args(args));
    String::from_utf8(out).unwrap()
}

#[test]
fn bench_on_the_cpu_reports_its_throughput() {
    let out = bench(&["--backend", "cpu", "-t", "2"]);
    assert!(out.contains("200 alignments of 150 x 300"), "{out}");
    assert!(out.contains("GCUPS") && out.contains("on 2 threads"), "{out}");
    assert!(out.contains("identical:  not checked"), "{out}");
}

#[test]
fn bench_finds_the_gpu_and_cpu_results_identical() {
    if !backends().contains(&"gpu") {
        return;
    }
    let out = bench(&["--backend", "all", "--read-len", "100", "--window", "180"]);
    assert!(out.contains("adapter:") && out.contains("gpu total:"), "{out}");
    assert!(out.contains("identical:  yes (all 200 alignments)"), "{out}");
    // The mapper's band: 150-base reads in 190-base windows, 41 diagonals.
    let out = bench(&["--backend", "all", "--window", "190", "--banded"]);
    assert!(out.contains("150 x 190 in a band of 41 diagonals"), "{out}");
    assert!(out.contains("identical:  yes (all 200 alignments)"), "{out}");
}

#[test]
fn bench_without_an_adapter_fails_for_gpu_and_measures_the_cpu_for_all() {
    // An ICD list naming no file leaves the Vulkan loader with no driver.
    let no_driver = |c: &mut std::process::Command| {
        c.env("VK_DRIVER_FILES", "/nonexistent/icd.json").env("VK_ICD_FILENAMES", "/nonexistent/icd.json");
    };
    let mut gpu = swmap();
    no_driver(gpu.args(["bench", "--backend", "gpu", "--pairs", "10"]));
    let out = run(&mut gpu);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Vulkan adapter"), "{out:?}");

    let mut all = swmap();
    no_driver(all.args(["bench", "--pairs", "10", "--repeats", "1"]));
    let out = String::from_utf8(ok(&mut all)).unwrap();
    assert!(out.contains("gpu:        not measured") && out.contains("cpu:"), "{out}");
}

#[test]
fn bench_rejects_a_window_shorter_than_the_read() {
    let out = run(swmap().args(["bench", "--backend", "cpu", "--read-len", "150", "--window", "100"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--window 100 is shorter than --read-len 150"));
}

/// The GPU's tuning knobs (environment variables, set without a rebuild) change speed only; a
/// value out of range is a one-line error.
#[test]
fn gpu_tuning_knobs_keep_results_identical_and_refuse_nonsense() {
    if !backends().contains(&"gpu") {
        return;
    }
    for (knob, value) in [
        ("SWMAP_GPU_INTERLEAVE", "1"),
        ("SWMAP_GPU_INTERLEAVE", "64"),
        ("SWMAP_GPU_DISPATCH_TASKS", "7"),
        ("SWMAP_GPU_STRIP", "16"),
        ("SWMAP_GPU_STRIP", "32"),
        ("SWMAP_GPU_NARROW", "1"),
        ("SWMAP_GPU_SUBGROUPS", "1"),
    ] {
        if knob == "SWMAP_GPU_SUBGROUPS" && !shared_gpu().is_some_and(|g| g.info.subgroups) {
            continue; // no subgroup operations here: the kernel variants' test checks the error
        }
        let out = ok(swmap().args(["bench", "--backend", "all", "--pairs", "200", "--repeats", "1"]).env(knob, value));
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("identical:  yes (all 200 alignments)"), "{knob}={value}: {out}");
        if knob == "SWMAP_GPU_DISPATCH_TASKS" {
            assert!(out.contains("29 dispatches"), "{out}");
        }
        let strip = if knob == "SWMAP_GPU_STRIP" { value } else { "8" };
        assert!(out.contains(&format!("kernel:     strips of {strip} columns")), "{out}");
        assert_eq!(out.contains("16-bit boundary column"), knob == "SWMAP_GPU_NARROW", "{out}");
        assert_eq!(out.contains("subgroup atomics"), knob == "SWMAP_GPU_SUBGROUPS", "{out}");
    }
    for (knob, value) in [
        ("SWMAP_GPU_INTERLEAVE", "65"),
        ("SWMAP_GPU_DISPATCH_TASKS", "0"),
        ("SWMAP_GPU_INTERLEAVE", "x"),
        ("SWMAP_GPU_STRIP", "12"),
        ("SWMAP_GPU_NARROW", "2"),
        ("SWMAP_GPU_SUBGROUPS", "yes"),
    ] {
        let out = run(swmap().args(["bench", "--backend", "gpu", "--pairs", "10"]).env(knob, value));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{knob}={value}: {err}");
        assert!(err.contains(knob) && err.trim().lines().count() == 1, "{err}");
    }
}
