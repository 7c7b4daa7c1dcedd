//! What `-o` (and every other output name) does to what it names: inputs are refused before
//! any work, devices and FIFOs are written in place and never replaced, symlinks are followed,
//! read-only files are refused, and neither a failure nor a signal leaves a file behind. No
//! test here touches the system's `/dev/null`: the device test makes its own node.

use crate::sam_check::records;
use crate::support::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sh(script: &str, dir: &Path) -> std::process::Output {
    let out = Command::new("bash").arg("-c").arg(script).current_dir(dir).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{script}:\n{err}");
    out
}

fn map_args(dir: &Path) -> Vec<String> {
    std::fs::copy(data("reads_1.fq.gz"), dir.join("r1.fq.gz")).unwrap();
    vec!["map".into(), test_index().display().to_string(), "r1.fq.gz".into(), "--backend".into(), "cpu".into()]
}

#[test]
fn output_onto_a_character_device_writes_through_and_keeps_the_device() {
    let dir = scratch("out-device");
    // Our own node with /dev/null's numbers (1, 3): the real /dev/null is never at risk.
    let made = Command::new("mknod").arg(dir.join("null")).args(["c", "1", "3"]).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: mknod needs root");
        return;
    }
    for b in backends() {
        let mut args = map_args(&dir);
        args[4] = b.to_string();
        let out = run(swmap().args(&args).args(["-o", "null"]).current_dir(&dir));
        assert!(out.status.success(), "{b}: {}", String::from_utf8_lossy(&out.stderr));
        let meta = std::fs::symlink_metadata(dir.join("null")).unwrap();
        assert!(meta.file_type().is_char_device(), "{b}: -o replaced the device node with a regular file");
        assert!(temp_files(&dir).is_empty(), "{b}: {:?}", file_names(&dir));
    }
}

#[test]
fn output_onto_a_fifo_is_written_in_place() {
    let dir = scratch("out-fifo");
    let args = map_args(&dir).join(" ");
    // The reader's output goes to files (not this test's pipes), and a failed run opens the
    // FIFO once so that the reader ends: a failure is reported, never a hang.
    let script = format!(
        "mkfifo fifo && (wc -l < fifo > count 2> wc.err &) && {{ {SWMAP} {args} -o fifo || {{ : > fifo; exit 1; }}; }} && sleep 0.2"
    );
    let out = sh(&script, &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(dir.join("fifo")).unwrap().file_type().is_fifo());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut lines = String::new();
    while Instant::now() < deadline {
        lines = std::fs::read_to_string(dir.join("count")).unwrap_or_default();
        if !lines.trim().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Header (2 @SQ, @HD, @PG) and 2,000 reads.
    assert_eq!(lines.trim(), "2004");
}

#[test]
fn output_through_a_symlink_writes_the_target_and_keeps_the_link() {
    let dir = scratch("out-link");
    std::os::unix::fs::symlink("real.sam", dir.join("link.sam")).unwrap();
    ok(swmap().args(map_args(&dir)).args(["-o", "link.sam"]).current_dir(&dir));
    assert!(std::fs::symlink_metadata(dir.join("link.sam")).unwrap().file_type().is_symlink());
    assert_eq!(records(&std::fs::read(dir.join("real.sam")).unwrap()).len(), 2000);
    // A link into another directory: the temporary file goes beside the target.
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("sub/deep.sam", dir.join("deep-link.sam")).unwrap();
    ok(swmap().args(map_args(&dir)).args(["-o", "deep-link.sam"]).current_dir(&dir));
    assert_eq!(records(&std::fs::read(dir.join("sub/deep.sam")).unwrap()).len(), 2000);
}

#[test]
fn read_only_output_is_refused_and_left_alone() {
    let dir = scratch("out-ro");
    let path = dir.join("ro.sam");
    std::fs::write(&path, "keep me\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(swmap().args(map_args(&dir)).args(["-o", "ro.sam"]).current_dir(&dir));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ro.sam: exists and is read-only"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
}

#[test]
fn output_naming_an_input_is_refused_before_any_work_and_the_input_survives() {
    let dir = scratch("out-input");
    std::fs::copy(data("ref.fa.gz"), dir.join("ref.fa.gz")).unwrap();
    let before = std::fs::read(dir.join("ref.fa.gz")).unwrap();
    for args in [
        vec!["index", "ref.fa.gz", "-o", "ref.fa.gz"],
        vec!["index", "ref.fa.gz", "-o", "./ref.fa.gz"],
        vec!["map", "ref.fa.gz", "r1.fq.gz", "-o", "r1.fq.gz"],
        vec!["map", "ref.fa.gz", "r1.fq.gz", "-o", "sub/../ref.fa.gz"],
        // simulate -o sim writes sim.fq: here that is its reference.
        vec!["simulate", "sim.fq", "-n", "5", "-o", "sim"],
    ] {
        map_args(&dir);
        let _ = std::fs::create_dir(dir.join("sub"));
        std::fs::copy(data("ref.fa.gz"), dir.join("sim.fq")).unwrap();
        let files = file_names(&dir);
        let out = run(swmap().args(&args).current_dir(&dir));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("would destroy that input"), "{args:?}: {err}");
        // Refused before any work: the error is all it said (no index read, no backend
        // opened, no progress), and it wrote no file, temporary or other.
        assert_eq!(err.lines().count(), 1, "{args:?} did work before refusing: {err}");
        assert_eq!(file_names(&dir), files, "{args:?} wrote a file before refusing");
        assert_eq!(std::fs::read(dir.join("ref.fa.gz")).unwrap(), before, "{args:?}");
        assert_eq!(std::fs::read(dir.join("r1.fq.gz")).unwrap(), std::fs::read(data("reads_1.fq.gz")).unwrap());
    }
    // A hard link is the same file under another name.
    std::fs::hard_link(dir.join("r1.fq.gz"), dir.join("hard.sam")).unwrap();
    let out = run(swmap().args(map_args(&dir)).args(["-o", "hard.sam"]).current_dir(&dir));
    assert!(String::from_utf8_lossy(&out.stderr).contains("same file as the input r1.fq.gz"));
}

#[test]
fn signals_remove_temporary_files_and_leave_no_final_output() {
    let dir = scratch("out-signal");
    for (signal, code) in [("TERM", 143), ("INT", 130), ("HUP", 129)] {
        // simulate writes under temporary names from its start; 20 M pairs take minutes. The
        // signal goes only once a temporary file exists (said by 'seen'), so that the files
        // being gone afterwards is the handler's doing, not a death before any file.
        let script = format!(
            "{} simulate {} -n 20000000 --paired -o sim & pid=$!; \
             for i in $(seq 6000); do ls -a | grep -q swmap-tmp && echo seen && break; sleep 0.05; done; \
             kill -{signal} $pid; wait $pid; echo $?",
            SWMAP,
            data("ref.fa.gz").display()
        );
        let out = sh(&script, &dir);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("seen\n{code}"), "SIG{signal}");
        assert!(file_names(&dir).is_empty(), "SIG{signal} left {:?}", file_names(&dir));
    }
}

#[test]
fn failed_simulate_leaves_no_empty_files() {
    let dir = scratch("sim-fail");
    std::fs::write(dir.join("bad.fa"), ">a\nACGT\n").unwrap();
    // Reads longer than the genome: the simulator refuses after the files would have opened.
    let out = run(swmap().args(["simulate", "bad.fa", "-n", "10", "-l", "150", "-o", "sim"]).current_dir(&dir));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(file_names(&dir), vec!["bad.fa".to_string()]);
}

#[test]
fn closed_or_full_stderr_is_no_reason_to_panic() {
    let dir = scratch("stderr");
    let args = map_args(&dir).join(" ");
    let bin = SWMAP;
    let out = sh(&format!("{bin} {args} -o out.sam 2>/dev/full; echo $?"), &dir);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert_eq!(records(&std::fs::read(dir.join("out.sam")).unwrap()).len(), 2000);
    let out = sh(&format!("{bin} {args} -o out2.sam 2>&1 | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"), &dir);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    let out = sh(&format!("{bin} map missing.swi r1.fq.gz 2>/dev/full; echo $?"), &dir);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "an error still exits 1");
}

#[test]
fn reference_through_a_pipe_maps_like_the_file() {
    let dir = scratch("ref-pipe");
    map_args(&dir);
    let bin = SWMAP;
    let reference = data("ref.fa.gz");
    let r = reference.display();
    let out = sh(&format!("{bin} map <(zcat {r}) r1.fq.gz --backend cpu -o pipe.sam && {bin} map {r} r1.fq.gz --backend cpu -o file.sam"), &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let body = |name: &str| records(&std::fs::read(dir.join(name)).unwrap()).join("\n").into_bytes();
    assert_same(
        "cpu, bundled mate 1 reads",
        ("reference from a pipe", &body("pipe.sam")),
        ("from the file", &body("file.sam")),
    );
    // An index through a pipe too.
    let out = sh(&format!("{bin} map <(cat {}) r1.fq.gz --backend cpu -o idx.sam", test_index().display()), &dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(records(&std::fs::read(dir.join("idx.sam")).unwrap()).len(), 2000);
}

#[test]
fn huge_thread_count_is_refused_at_once() {
    let dir = scratch("threads");
    let args = map_args(&dir);
    let files = file_names(&dir);
    let out = run(swmap().args(args).args(["-t", "100000"]).current_dir(&dir));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    // At once: the error is all it said (no index read, no threads started), and no file.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--threads 100000"), "{err}");
    assert_eq!(file_names(&dir), files);
}

#[test]
fn eval_outputs_never_overwrite_its_inputs() {
    let dir = scratch("eval-out");
    std::fs::copy(data("wgsim_lambda_bwa.sam"), dir.join("in.sam")).unwrap();
    let before = std::fs::read(dir.join("in.sam")).unwrap();
    for flag in ["--tsv", "--plot", "--wrong"] {
        let out = run(swmap().args(["eval", "in.sam", flag, "./in.sam"]).current_dir(&dir));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag}: {err}");
        assert!(err.contains("would destroy that input"), "{flag}: {err}");
        assert_eq!(std::fs::read(dir.join("in.sam")).unwrap(), before, "{flag}");
    }
    ok(swmap().args(["eval", "in.sam", "--tsv", "t.tsv", "--plot", "p.svg"]).current_dir(&dir));
    assert!(dir.join("t.tsv").exists() && dir.join("p.svg").exists());
}

/// An index file truncated while a run has it mapped (`cp` over it in place) is a one-line
/// error and a failed exit, not "Bus error"; the temporary output is removed and no final
/// output appears.
#[test]
fn index_truncated_while_mapped_is_an_error_and_leaves_nothing() {
    let dir = scratch("index-truncated");
    let bin = SWMAP;
    let r = data("ref.fa.gz");
    let r = r.display();
    // The first progress line (after the first 2,000-read chunk) says mapping is under way.
    let script = format!(
        "{bin} simulate {r} -n 200000 --paired -o sim 2>/dev/null && {bin} index {r} -o idx.swi 2>/dev/null && \
         {{ {bin} map idx.swi sim_1.fq sim_2.fq --backend cpu -t 2 --chunk-reads 2000 --progress --progress-seconds 0 \
            -o out.sam 2> err & pid=$!; \
           for i in $(seq 30000); do grep -q ' reads/s, ' err && echo seen && break; sleep 0.01; done; \
           truncate -s 100 idx.swi; wait $pid; echo $?; }}"
    );
    let out = sh(&script, &dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let status = stdout.trim().strip_prefix("seen\n").expect("truncated after the first progress line");
    let status: i32 = status.parse().expect("an exit status");
    let err = std::fs::read_to_string(dir.join("err")).unwrap();
    assert_ne!(status, 0, "{err}");
    assert!(err.contains("swmap: error: a mapped index file was truncated or overwritten while in use"), "{err}");
    let left: Vec<String> = file_names(&dir).into_iter().filter(|f| f.contains("out.sam")).collect();
    assert!(left.is_empty(), "left {left:?}");
}
