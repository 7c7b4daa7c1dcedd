//! Bad input: each case is a one-line error naming the file (and record where there is one)
//! and a non-zero exit, never a panic, and never an output file that looks complete.

use crate::support::*;
use std::path::Path;

/// Runs swmap with `args`, expects failure, and returns the single stderr line.
fn fails(args: &[&str], dir: &Path) -> String {
    let out = run(swmap().args(args).current_dir(dir));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{args:?} should fail; stderr:\n{err}");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("[swmap]")).collect();
    assert_eq!(lines.len(), 1, "{args:?} should print one error line, got:\n{err}");
    lines[0].to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

#[test]
fn bad_fastq_is_a_one_line_error_naming_file_and_record() {
    let dir = scratch("bad-fastq");
    let idx = test_index();
    let idx = idx.to_str().unwrap();
    let good = "@r1\nACGTACGTAC\n+\nIIIIIIIIII\n";
    let cases = [
        ("trunc.fq", format!("{good}@r2\nACGT\n+\n"), "record 2"),
        ("lens.fq", format!("{good}@r2\nACGT\n+\nIII\n"), "4 bases but 3 quality"),
        ("chars.fq", format!("{good}@r2\nAC*T\n+\nIIII\n"), "invalid base '*'"),
        ("header.fq", "r1\nACGT\n+\nIIII\n".to_string(), "expected a FASTQ header"),
    ];
    for (name, text, want) in cases {
        write(&dir, name, &text);
        for b in backends() {
            let e = fails(&["map", idx, name, "--backend", b, "-o", "out.sam"], &dir);
            assert!(e.contains(name) && e.contains(want), "{name}: {e}");
            assert!(!dir.join("out.sam").exists(), "{name}: a failed run left out.sam");
        }
    }
    write(&dir, "m1.fq", &format!("{good}{good}"));
    write(&dir, "m2.fq", good);
    let e = fails(&["map", idx, "m1.fq", "m2.fq"], &dir);
    assert!(e.contains("mate files differ in length"), "{e}");
    write(&dir, "m3.fq", "@other\nACGTACGTAC\n+\nIIIIIIIIII\n");
    let e = fails(&["map", idx, "m2.fq", "m3.fq"], &dir);
    assert!(e.contains("mate names differ"), "{e}");
}

#[test]
fn bad_reference_and_index_are_refused() {
    let dir = scratch("bad-ref");
    write(&dir, "notfasta.fa", "this is not\na fasta file\n");
    let e = fails(&["index", "notfasta.fa"], &dir);
    assert!(e.contains("notfasta.fa: line 1") && e.contains("not a FASTA"), "{e}");
    write(&dir, "reads.fq", "@r1\nACGTACGTAC\n+\nIIIIIIIIII\n");
    let e = fails(&["map", "notfasta.fa", "reads.fq"], &dir);
    assert!(e.contains("not a FASTA"), "{e}");
    let e = fails(&["map", "missing.swi", "reads.fq"], &dir);
    assert!(e.contains("missing.swi") && e.contains("No such file"), "{e}");
    let e = fails(&["map", test_index().to_str().unwrap(), "missing.fq"], &dir);
    assert!(e.contains("missing.fq"), "{e}");

    // An index of another format version, and a truncated one.
    let mut bytes = std::fs::read(test_index()).unwrap();
    bytes[8] = 99;
    std::fs::write(dir.join("old.swi"), &bytes).unwrap();
    let e = fails(&["map", "old.swi", "reads.fq"], &dir);
    assert!(e.contains("old.swi") && e.contains("format version 99"), "{e}");
    let bytes = std::fs::read(test_index()).unwrap();
    std::fs::write(dir.join("short.swi"), &bytes[..bytes.len() / 2]).unwrap();
    let e = fails(&["map", "short.swi", "reads.fq"], &dir);
    assert!(e.contains("short.swi") && e.contains("truncated"), "{e}");
}

#[test]
fn nonsense_options_are_refused() {
    let dir = scratch("bad-opts");
    let idx = test_index();
    let idx = idx.to_str().unwrap();
    write(&dir, "reads.fq", "@r1\nACGTACGTAC\n+\nIIIIIIIIII\n");
    for (args, want) in [
        (vec!["map", idx, "reads.fq", "-t", "0"], "threads"),
        (vec!["map", idx, "reads.fq", "-A", "0"], "match score"),
        (vec!["map", idx, "reads.fq", "reads.fq"], "same file"),
        (vec!["map", idx, "reads.fq", "reads.fq", "-p"], "--interleaved"),
        (vec!["map", idx, "reads.fq", "-R", "ID:x"], "@RG"),
        (vec!["index", "x.fa", "-k", "40"], "between 10 and 28"),
    ] {
        let e = fails(&args, &dir);
        assert!(e.contains(want), "{args:?}: {e}");
    }
}

/// A reader that stops early (`| head`) ends the run quietly: exit status 0, as bwa's, and no
/// error on stderr. bash reports swmap's own status through PIPESTATUS; the output is large
/// enough (4,000 records) that swmap is still writing when `head` leaves.
#[test]
fn broken_pipe_ends_quietly() {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "{} map {} {} {} --backend cpu | head -n 3 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"",
            SWMAP,
            test_index().display(),
            data("reads_1.fq.gz").display(),
            data("reads_2.fq.gz").display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error") && !err.contains("panicked"), "stderr: {err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "status=0", "stderr: {err}");
}

#[test]
fn version_and_help_list_options_with_defaults() {
    let v = ok(swmap().arg("--version"));
    assert!(String::from_utf8_lossy(&v).starts_with("swmap "));
    let h = String::from_utf8_lossy(&ok(swmap().args(["map", "--help"]))).to_string();
    for opt in ["--backend", "--threads", "--read-group", "--interleaved", "[default: auto]", "[default: 30]"] {
        assert!(h.contains(opt), "map --help lacks {opt}:\n{h}");
    }
}
