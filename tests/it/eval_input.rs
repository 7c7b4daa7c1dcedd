//! `swmap eval` refuses inputs that would make its table silently wrong: a read with two
//! primary records (it would be counted twice) and a file with no alignment records (a table of
//! zeros). Each is an error naming the file (and the record), with exit status 1; an ordinary
//! file is still scored.

use crate::support::*;
use std::path::Path;

const HEADER: &str = "@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr\tLN:10000\n";

fn record(name: &str, flags: u16, pos: u64) -> String {
    format!("{name}\t{flags}\tchr\t{pos}\t60\t100M\t*\t0\t0\t*\t*\n")
}

/// Runs `swmap eval` on `sam`; (exit status, stdout, stderr).
fn eval(sam: &Path) -> (Option<i32>, String, String) {
    let out = run(swmap().arg("eval").arg(sam));
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_second_primary_record_for_a_read_is_an_error_naming_file_and_record() {
    let dir = scratch("eval-duplicate");
    let pair = "swmap:0:100+,400-:chr";
    // Records 1-2 a pair; 3 a secondary and 4 a supplementary of mate 2 (fine); 5 mate 2 again.
    let body = record(pair, 0x41, 100)
        + &record(pair, 0x91, 400)
        + &record(pair, 0x191, 5001)
        + &record(pair, 0x891, 6001)
        + &record(pair, 0x91, 400);
    let sam = dir.join("dup.sam");
    std::fs::write(&sam, format!("{HEADER}{body}")).unwrap();
    let (code, stdout, stderr) = eval(&sam);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "a table was printed: {stdout}");
    let line = stderr.trim_end();
    assert!(line.starts_with("swmap: error: "), "{line}");
    assert!(line.contains(&sam.display().to_string()), "the file is not named: {line}");
    assert!(
        line.contains(&format!("record 5 ({pair}): second primary record for read '{pair}' (last mate)")),
        "{line}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // Single-end: one primary record per name.
    let body =
        record("swmap:0:100+:chr", 0, 101) + &record("swmap:1:300-:chr", 16, 301) + &record("swmap:0:100+:chr", 0, 101);
    std::fs::write(&sam, format!("{HEADER}{body}")).unwrap();
    let (code, _, stderr) = eval(&sam);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("record 3 (swmap:0:100+:chr): second primary record for read 'swmap:0:100+:chr'"),
        "{stderr}"
    );
}

#[test]
fn a_file_with_no_alignment_records_is_an_error() {
    let dir = scratch("eval-empty");
    let header_only = dir.join("header-only.sam");
    std::fs::write(&header_only, HEADER).unwrap();
    let empty = dir.join("empty.sam");
    std::fs::write(&empty, "").unwrap();
    for sam in [&header_only, &empty] {
        let (code, stdout, stderr) = eval(sam);
        assert_eq!(code, Some(1), "{}: {stderr}", sam.display());
        assert!(stdout.is_empty(), "a table was printed: {stdout}");
        assert!(stderr.starts_with("swmap: error: "), "{stderr}");
        assert!(stderr.contains(&sam.display().to_string()), "the file is not named: {stderr}");
        assert!(stderr.contains("no alignment records"), "{stderr}");
    }
    // Only secondary and supplementary records: nothing to score either.
    let secondary = dir.join("secondary.sam");
    std::fs::write(&secondary, format!("{HEADER}{}", record("swmap:0:100+:chr", 0x100, 101))).unwrap();
    let (code, _, stderr) = eval(&secondary);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("secondary.sam") && stderr.contains("no primary alignment records"), "{stderr}");
}

#[test]
fn an_ordinary_file_is_still_scored() {
    // bwa's alignments of 40 wgsim pairs (test-data/README.md): all 80 reads where the names say.
    let (code, stdout, stderr) = eval(&data("wgsim_lambda_bwa.sam"));
    assert_eq!(code, Some(0), "{stderr}");
    let count = |label: &str| -> u64 {
        let line = stdout.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no '{label}' in {stdout}"));
        line[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    assert_eq!(
        (count("total reads"), count("mapped"), count("correct"), count("missing")),
        (80, 80, 80, 0),
        "{stdout}"
    );

    // A pair with secondary and supplementary records besides its primaries.
    let dir = scratch("eval-ordinary");
    let pair = "swmap:0:100+,400-:chr";
    let body =
        record(pair, 0x41, 100) + &record(pair, 0x151, 5001) + &record(pair, 0x891, 6001) + &record(pair, 0x91, 400);
    let sam = dir.join("ok.sam");
    std::fs::write(&sam, format!("{HEADER}{body}")).unwrap();
    let (code, stdout, stderr) = eval(&sam);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("correct ") && l.split_whitespace().nth(1) == Some("2")), "{stdout}");
}
