//! A catalogue of bad and unusual inputs, each run as a user would run it: under every backend
//! where the backend matters, asserting the exit code, that nothing panicked, that a failure is
//! one line naming the right file and record and leaves no output behind, and that a success
//! writes exactly one primary record per input read.

use crate::support::*;
use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;

/// What a case must do.
enum Expect {
    /// Exit 1 with one error line holding all of these (the file, the record, what is wrong).
    Fails(&'static [&'static str]),
    /// Exit 0 with `out.sam` holding exactly this many primary records.
    Maps(usize),
    /// Exit 0 (a command with no SAM output to count).
    Succeeds,
}

struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    /// `IDX` becomes the bundled index, `REF` the bundled reference FASTA.
    args: &'static [&'static str],
    stdin: Option<Vec<u8>>,
    expect: Expect,
}

const GOOD: &str = "@r1\nACGTACGTACGTACGTACGTAC\n+\nIIIIIIIIIIIIIIIIIIIIII\n";

fn fq(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, seq) in records {
        out += &format!("@{name}\n{seq}\n+\n{}\n", "I".repeat(seq.len()));
    }
    out.into_bytes()
}

/// `n` good reads named `p1`..`pn`.
fn reads(n: usize) -> Vec<u8> {
    let names: Vec<String> = (1..=n).map(|i| format!("p{i}")).collect();
    fq(&names.iter().map(|n| (n.as_str(), "ACGTTGCAACGTTGCAACGTTGCA")).collect::<Vec<_>>())
}

fn case(
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    args: &'static [&'static str],
    expect: Expect,
) -> Case {
    Case { name, files, args, stdin: None, expect }
}

fn fastq_cases() -> Vec<Case> {
    use Expect::*;
    let t = |s: &str| s.as_bytes().to_vec();
    let map = &["map", "IDX", "r.fq", "-o", "out.sam"];
    let long_read = format!("@long\n{}\n+\n{}\n", "A".repeat(2001), "I".repeat(2001));
    let name_255 = format!("@{}\nACGT\n+\nIIII\n", "n".repeat(255));
    let mut name_254 = format!("@{}\nACGT\n+\nIIII\n", "n".repeat(254));
    name_254.push_str(GOOD);
    let mut truncated_gz = gzip(&reads(200));
    truncated_gz.truncate(truncated_gz.len() / 2);
    let two_members = [gzip(&reads(3)), gzip(&reads(2))].concat();
    vec![
        case(
            "fastq_truncated_record",
            vec![("r.fq", t(&format!("{GOOD}@r2\nACGT\n+\n")))],
            map,
            Fails(&["r.fq", "record 2", "truncated"]),
        ),
        case(
            "fastq_lengths_differ",
            vec![("r.fq", t(&format!("{GOOD}@r2\nACGT\n+\nIII\n")))],
            map,
            Fails(&["r.fq", "record 2", "4 bases but 3 quality"]),
        ),
        case(
            "fastq_invalid_base",
            vec![("r.fq", t(&format!("{GOOD}@r2\nAC*T\n+\nIIII\n")))],
            map,
            Fails(&["r.fq", "record 2", "invalid base '*'"]),
        ),
        case(
            "fastq_header_without_at",
            vec![("r.fq", t("r1\nACGT\n+\nIIII\n"))],
            map,
            Fails(&["r.fq", "record 1", "expected a FASTQ header"]),
        ),
        case(
            "fastq_missing_plus",
            vec![("r.fq", t("@r1\nACGT\nIIII\n@r2\nACGT\n+\nIIII\n"))],
            map,
            Fails(&["r.fq", "record 1", "'+' separator"]),
        ),
        case(
            "fastq_quality_space",
            vec![("r.fq", t("@r1\nACGT\n+\nII I\n"))],
            map,
            Fails(&["r.fq", "record 1", "invalid quality character 0x20"]),
        ),
        case(
            "fastq_quality_del",
            vec![("r.fq", b"@r1\nACGT\n+\nII\x7fI\n".to_vec())],
            map,
            Fails(&["r.fq", "record 1", "0x7f"]),
        ),
        case(
            "fastq_empty_name",
            vec![("r.fq", t("@\nACGT\n+\nIIII\n"))],
            map,
            Fails(&["r.fq", "record 1", "no read name"]),
        ),
        case(
            "fastq_name_with_at",
            vec![("r.fq", t(&format!("{GOOD}@a@b\nACGT\n+\nIIII\n")))],
            map,
            Fails(&["r.fq", "record 2", "'@'"]),
        ),
        case(
            "fastq_name_non_ascii",
            vec![("r.fq", b"@r\xc3\xa9\nACGT\n+\nIIII\n".to_vec())],
            map,
            Fails(&["r.fq", "record 1", "0xc3"]),
        ),
        case("fastq_name_255_chars", vec![("r.fq", t(&name_255))], map, Fails(&["r.fq", "record 1", "255 characters"])),
        case("fastq_name_254_chars", vec![("r.fq", t(&name_254))], map, Maps(2)),
        case(
            "fastq_read_over_max_length",
            vec![("r.fq", t(&format!("{GOOD}{long_read}")))],
            map,
            Fails(&["r.fq", "record 2", "2001 bases", "at most 2000"]),
        ),
        case("fastq_empty_file", vec![("r.fq", Vec::new())], map, Maps(0)),
        case("fastq_only_blank_lines", vec![("r.fq", t("\n\n\n"))], map, Maps(0)),
        case(
            "fastq_blank_lines_between_records",
            vec![("r.fq", t(&format!("{GOOD}\n\n@r2\nACGT\n+\nIIII\n")))],
            map,
            Maps(2),
        ),
        case(
            "fastq_crlf",
            vec![("r.fq", t("@r1\r\nACGTACGT\r\n+\r\nIIIIIIII\r\n@r2\r\nACGT\r\n+\r\nIIII\r\n"))],
            map,
            Maps(2),
        ),
        case("fastq_no_final_newline", vec![("r.fq", t("@r1\nACGT\n+\nIIII"))], map, Maps(1)),
        case("fastq_lower_case_and_iupac", vec![("r.fq", t("@r1\nacgtRYKMNn\n+\nIIIIIIIIII\n"))], map, Maps(1)),
        case("fastq_empty_sequence", vec![("r.fq", t(&format!("@e\n\n+\n\n{GOOD}")))], map, Maps(2)),
        case(
            "fastq_comment_and_mate_suffix",
            vec![("r.fq", t("@r1/1 BC:Z:ACGT extra words\nACGT\n+\nIIII\n"))],
            map,
            Maps(1),
        ),
        case("fastq_gzip", vec![("r.fq", gzip(&reads(5)))], map, Maps(5)),
        case("fastq_gzip_two_members", vec![("r.fq", two_members)], map, Maps(5)),
        case(
            "fastq_gzip_truncated",
            vec![("r.fq", truncated_gz)],
            map,
            Fails(&["r.fq", "record ", "truncated or damaged gzip"]),
        ),
        case(
            "fastq_gzip_garbage",
            vec![("r.fq", b"\x1f\x8b\x08\x00garbage bytes here".to_vec())],
            map,
            Fails(&["r.fq", "record 1", "gzip"]),
        ),
        case(
            "fastq_binary_garbage",
            vec![("r.fq", vec![0u8, 1, 2, 3, 255, 254, 10, 9])],
            map,
            Fails(&["r.fq", "record 1", "expected a FASTQ header"]),
        ),
        // FASTA reads, as bwa and minimap2 take them: one or several sequence lines, QUAL `*`.
        case(
            "fasta_reads",
            vec![("r.fq", t(">r1 x\nACGTTGCAACGTTG\nCAACGTTGCA\n\n>r2\nACGTTGCAACGTTGCA\n"))],
            map,
            Maps(2),
        ),
        case(
            "fasta_read_without_sequence",
            vec![("r.fq", t(">r1\n>r2\nACGT\n"))],
            map,
            Fails(&["r.fq", "record 1", "has no sequence"]),
        ),
        case(
            "fasta_read_invalid_base",
            vec![("r.fq", t(">r1\nACGT\nAC-T\n"))],
            map,
            Fails(&["r.fq", "record 1", "invalid base '-' at position 7"]),
        ),
        case("fastq_missing_file", vec![], map, Fails(&["r.fq", "No such file"])),
        case("fastq_is_a_directory", vec![("r.fq/x", Vec::new())], map, Fails(&["r.fq", "directory"])),
        Case {
            name: "fastq_from_stdin",
            files: vec![],
            args: &["map", "IDX", "-", "-o", "out.sam"],
            stdin: Some(reads(4)),
            expect: Maps(4),
        },
    ]
}

fn paired_cases() -> Vec<Case> {
    use Expect::*;
    let map2 = &["map", "IDX", "m1.fq", "m2.fq", "-o", "out.sam"];
    let mut bad_tenth = reads(12);
    let tenth = String::from_utf8(bad_tenth.clone()).unwrap().replace("@p10\n", "@p10@x\n");
    bad_tenth = tenth.into_bytes();
    let mut renamed = String::from_utf8(reads(5)).unwrap();
    renamed = renamed.replace("@p4\n", "@q4\n");
    vec![
        case(
            "pair_mate2_shorter",
            vec![("m1.fq", reads(3)), ("m2.fq", reads(2))],
            map2,
            Fails(&["m2.fq", "after record 2", "differ in length"]),
        ),
        case(
            "pair_mate1_shorter",
            vec![("m1.fq", reads(2)), ("m2.fq", reads(3))],
            map2,
            Fails(&["m1.fq", "after record 2", "differ in length"]),
        ),
        case(
            "pair_names_differ",
            vec![("m1.fq", reads(5)), ("m2.fq", renamed.into_bytes())],
            map2,
            Fails(&["m2.fq", "record 4", "mate names differ"]),
        ),
        case(
            "pair_tenth_mate_bad_name",
            vec![("m1.fq", reads(12)), ("m2.fq", bad_tenth)],
            map2,
            Fails(&["m2.fq", "record 10", "'@'"]),
        ),
        case("pair_both_empty", vec![("m1.fq", Vec::new()), ("m2.fq", Vec::new())], map2, Maps(0)),
        case("pair_ok", vec![("m1.fq", reads(6)), ("m2.fq", reads(6))], map2, Maps(12)),
        case(
            "pair_same_file_through_dot_dot",
            vec![("in/m.fq", reads(2))],
            &["map", "IDX", "in/m.fq", "in/../in/m.fq"],
            Fails(&["same file"]),
        ),
        case("pair_both_stdin", vec![], &["map", "IDX", "-", "-"], Fails(&["standard input"])),
        case(
            "interleaved_odd",
            vec![("i.fq", fq(&[("a", "ACGT"), ("a", "ACGT"), ("b", "ACGT")]))],
            &["map", "IDX", "i.fq", "-p", "-o", "out.sam"],
            Fails(&["i.fq", "record 3", "odd number"]),
        ),
        case(
            "interleaved_names_differ",
            vec![("i.fq", reads(4))],
            &["map", "IDX", "i.fq", "-p", "-o", "out.sam"],
            Fails(&["i.fq", "record 2", "mate names differ"]),
        ),
        case(
            "interleaved_with_mates",
            vec![("i.fq", reads(2)), ("m.fq", reads(2))],
            &["map", "IDX", "i.fq", "m.fq", "-p"],
            Fails(&["--interleaved"]),
        ),
    ]
}

fn reference_cases() -> Vec<Case> {
    use Expect::*;
    let t = |s: &str| s.as_bytes().to_vec();
    let index = &["index", "ref.fa", "-o", "ref.swi"];
    let map_fa = &["map", "ref.fa", "r.fq", "-o", "out.sam"];
    let seq = "ACGTTGCAAGCTTAGCCGATAGGCTAACGTTAGCAGGCTTACGATCG";
    vec![
        case(
            "reference_not_fasta",
            vec![("ref.fa", t("this is not\nfasta\n"))],
            index,
            Fails(&["ref.fa", "line 1", "not a FASTA"]),
        ),
        case("reference_empty", vec![("ref.fa", Vec::new())], index, Fails(&["ref.fa", "no sequence"])),
        case("reference_missing", vec![], index, Fails(&["ref.fa", "No such file"])),
        case(
            "reference_duplicate_name",
            vec![("ref.fa", t(&format!(">a\n{seq}\n>a\n{seq}\n")))],
            index,
            Fails(&["ref.fa", "line 3", "duplicate"]),
        ),
        case(
            "reference_empty_contig",
            vec![("ref.fa", t(&format!(">a\n>b\n{seq}\n")))],
            index,
            Fails(&["ref.fa", "'a' is empty"]),
        ),
        case(
            "reference_name_with_comma",
            vec![("ref.fa", t(&format!(">chr,1\n{seq}\n")))],
            index,
            Fails(&["ref.fa", "line 1", "','"]),
        ),
        case(
            "reference_name_star_first",
            vec![("ref.fa", t(&format!(">*chr\n{seq}\n")))],
            index,
            Fails(&["ref.fa", "line 1", "'*'"]),
        ),
        case(
            "reference_name_equals_first",
            vec![("ref.fa", t(&format!(">a\n{seq}\n>=b\n{seq}\n")))],
            index,
            Fails(&["ref.fa", "line 3", "'='"]),
        ),
        case("reference_name_star_inside_ok", vec![("ref.fa", t(&format!(">HLA-A*01:01\n{seq}\n")))], index, Succeeds),
        case(
            "reference_invalid_char",
            vec![("ref.fa", t(">a\nACGT\nAC1T\n"))],
            index,
            Fails(&["ref.fa", "line 3, column 3", "'1'"]),
        ),
        case(
            "reference_crlf_lower_case_n_runs",
            vec![("ref.fa", t(&format!(">a x\r\n{}\r\nNNNNNNNN\r\n{seq}\r\n", seq.to_lowercase())))],
            index,
            Succeeds,
        ),
        case("reference_gzip", vec![("ref.fa", gzip(format!(">a\n{seq}\n").as_bytes()))], index, Succeeds),
        case("reference_is_a_directory", vec![("ref.fa/x", Vec::new())], index, Fails(&["ref.fa", "directory"])),
        case(
            "reference_fasta_to_map",
            vec![("ref.fa", t(&format!(">a\n{seq}{seq}\n"))), ("r.fq", reads(3))],
            map_fa,
            Maps(3),
        ),
        Case {
            name: "reference_from_stdin",
            files: vec![("r.fq", reads(3))],
            args: &["map", "-", "r.fq", "-o", "out.sam"],
            stdin: Some(t(&format!(">a\n{seq}{seq}\n"))),
            expect: Maps(3),
        },
        case(
            "index_wrong_magic",
            vec![("x.swi", t(">not an index but FASTA-like\nACGT\n")), ("r.fq", reads(1))],
            &["map", "x.swi", "r.fq", "-o", "out.sam"],
            Maps(1),
        ),
    ]
}

fn option_cases() -> Vec<Case> {
    use Expect::*;
    let r = || vec![("r.fq", reads(2))];
    vec![
        case("threads_zero", r(), &["map", "IDX", "r.fq", "-t", "0"], Fails(&["--threads must be at least 1"])),
        case("threads_huge", r(), &["map", "IDX", "r.fq", "-t", "100000"], Fails(&["--threads 100000", "1024 at most"])),
        case("index_threads_huge", vec![], &["index", "REF", "-t", "100000", "-o", "x.swi"], Fails(&["1024 at most"])),
        case("min_score_zero", r(), &["map", "IDX", "r.fq", "-T", "0"], Fails(&["-T must be at least 1"])),
        case("match_score_zero", r(), &["map", "IDX", "r.fq", "-A", "0"], Fails(&["match score"])),
        case("reference_and_reads_both_stdin", vec![], &["map", "-", "-"], Fails(&["standard input"])),
        case("output_is_a_directory", vec![("r.fq", reads(2)), ("outdir/x", Vec::new())], &["map", "IDX", "r.fq", "-o", "outdir"], Fails(&["outdir", "directory"])),
        case("output_dir_missing", r(), &["map", "IDX", "r.fq", "-o", "no/such/dir/out.sam"], Fails(&["no/such/dir/out.sam", "No such file"])),
        case("output_is_the_reads", r(), &["map", "IDX", "r.fq", "-o", "r.fq"], Fails(&["output r.fq", "input"])),
        case("output_is_the_mates_by_another_path", vec![("m1.fq", reads(2)), ("d/m2.fq", reads(2))], &["map", "IDX", "m1.fq", "d/m2.fq", "-o", "d/../d/m2.fq"], Fails(&["d/../d/m2.fq", "same file as the input d/m2.fq"])),
        case("output_is_the_reference", vec![("r.fq", reads(2)), ("ref.fa", b">a\nACGTACGTAACCGGTT\n".to_vec())], &["map", "ref.fa", "r.fq", "-o", "./ref.fa"], Fails(&["./ref.fa", "input ref.fa"])),
        case("index_output_is_the_reference", vec![("ref.fa", b">a\nACGTACGTAACCGGTT\n".to_vec())], &["index", "ref.fa", "-o", "ref.fa"], Fails(&["output ref.fa", "input"])),
        case("output_name_250_chars", r(), &["map", "IDX", "r.fq", "-o", "oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo.sam"], Succeeds),
        case("output_bam", r(), &["map", "IDX", "r.fq", "-o", "out.bam"], Succeeds),
        case("output_dev_stdout", r(), &["map", "IDX", "r.fq", "-o", "/dev/stdout"], Succeeds),
    ]
}

fn all_cases() -> Vec<Case> {
    [fastq_cases(), paired_cases(), reference_cases(), option_cases()].into_iter().flatten().collect()
}

fn write_files(dir: &Path, files: &[(&'static str, Vec<u8>)]) {
    for (name, data) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

/// Primary records (neither secondary nor supplementary) of a SAM file.
fn primary_records(sam: &Path) -> usize {
    crate::sam_check::lines(&std::fs::read(sam).unwrap()).iter().filter(|l| l.flag & 0x900 == 0).count()
}

/// Runs one case in a scratch directory of its own, kept when the case fails.
fn run_case(c: &Case, backend: Option<&str>) -> Result<(), String> {
    let dir = scratch(&format!("cat-{}-{}", c.name, backend.unwrap_or("x")));
    run_case_in(c, backend, &dir).map_err(|e| format!("{e}\n  (files kept in {})", dir.keep().display()))
}

fn run_case_in(c: &Case, backend: Option<&str>, dir: &Path) -> Result<(), String> {
    let label = format!("{} [{}]", c.name, backend.unwrap_or("no backend"));
    write_files(dir, &c.files);
    let idx = test_index();
    let reference = data("ref.fa.gz");
    let mut cmd = swmap();
    for a in c.args {
        match *a {
            "IDX" => cmd.arg(&idx),
            "REF" => cmd.arg(&reference),
            _ => cmd.arg(a),
        };
    }
    if let Some(b) = backend {
        cmd.args(["--backend", b]);
    }
    cmd.current_dir(dir).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if c.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.spawn().map_err(|e| format!("{label}: spawn: {e}"))?;
    if let Some(input) = &c.stdin {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if err.contains("panicked") || out.status.code() == Some(101) {
        return Err(format!("{label}: panicked:\n{err}"));
    }
    let leftovers = temp_files(dir);
    if !leftovers.is_empty() {
        return Err(format!("{label}: temporary files left: {leftovers:?}"));
    }
    match &c.expect {
        Expect::Fails(wants) => {
            if out.status.code() != Some(1) {
                return Err(format!("{label}: expected exit 1, got {:?}; stderr:\n{err}", out.status.code()));
            }
            let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("swmap: error: ")).collect();
            if lines.len() != 1 || err.lines().any(|l| !l.starts_with("[swmap]") && !l.starts_with("swmap: error: ")) {
                return Err(format!("{label}: expected one error line, got:\n{err}"));
            }
            if let Some(missing) = wants.iter().find(|w| !lines[0].contains(*w)) {
                return Err(format!("{label}: error lacks {missing:?}: {}", lines[0]));
            }
            if dir.join("out.sam").exists() {
                return Err(format!("{label}: a failed run left out.sam"));
            }
        }
        Expect::Maps(_) | Expect::Succeeds if !out.status.success() => {
            return Err(format!("{label}: failed: {err}"));
        }
        Expect::Maps(n) => {
            let got = primary_records(&dir.join("out.sam"));
            if got != *n {
                return Err(format!("{label}: {got} primary records for {n} reads"));
            }
        }
        Expect::Succeeds => {}
    }
    Ok(())
}

#[test]
fn catalogue_of_bad_and_unusual_inputs() {
    let cases = all_cases();
    assert!(cases.len() >= 60, "the catalogue holds {} cases", cases.len());
    let mut failures = Vec::new();
    let mut runs = 0;
    for c in &cases {
        let backends: Vec<Option<&str>> = match c.args.first() == Some(&"map") {
            true => backends().into_iter().map(Some).collect(),
            false => vec![None],
        };
        for b in backends {
            runs += 1;
            if let Err(e) = run_case(c, b) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{} of {runs} runs failed:\n{}", failures.len(), failures.join("\n"));
}
