//! SAM and BAM files written by `SamWriter`: the exact SAM text, samtools' opinion of both
//! formats, and the temporary-name handling of `-o`.

use crate::support::*;
use std::fs;
use std::path::Path;
use std::process::Command;
use swmap::align::{Cigar, CigarOp};
use swmap::{HeaderInfo, SamRecord, SamWriter, Tags};

fn cigar(ops: &[(CigarOp, u32)]) -> Cigar {
    let mut c = Cigar::default();
    for &(op, len) in ops {
        c.push(op, len);
    }
    c
}

fn header() -> HeaderInfo {
    HeaderInfo {
        contigs: vec![("chr1".into(), 1000), ("chr2".into(), 500)],
        read_group: Some(r"@RG\tID:grp1\tSM:sample1".into()),
        command_line: "swmap map ref.fa r1.fq r2.fq".into(),
        header_lines: Vec::new(),
        reference: None,
    }
}

/// A proper pair (forward + reverse), a reverse single with a deletion, an unmapped read.
fn records() -> Vec<SamRecord> {
    use CigarOp::*;
    let q30 = |n| vec![30u8; n];
    vec![
        SamRecord {
            name: b"pair1".to_vec(),
            flags: 99,
            ref_id: Some(0),
            pos: Some(99),
            mapq: 60,
            cigar: cigar(&[(SoftClip, 2), (Match, 8)]),
            mate_ref_id: Some(0),
            mate_pos: Some(199),
            tlen: 110,
            seq: b"TTACGTTCGT".to_vec(),
            qual: q30(10),
            tags: Tags {
                nm: Some(1),
                md: Some("4A3".into()),
                mc: Some("10M".into()),
                as_score: Some(11),
                xs_score: Some(0),
                ..Tags::default()
            },
        },
        SamRecord {
            name: b"pair1".to_vec(),
            flags: 147,
            ref_id: Some(0),
            pos: Some(199),
            mapq: 60,
            cigar: cigar(&[(Match, 10)]),
            mate_ref_id: Some(0),
            mate_pos: Some(99),
            tlen: -110,
            seq: b"GGGGGCCCCC".to_vec(),
            qual: vec![2, 10, 20, 30, 40, 41, 42, 30, 20, 10],
            tags: Tags {
                nm: Some(0),
                md: Some("10".into()),
                mc: Some("2S8M".into()),
                as_score: Some(10),
                xs_score: None,
                ..Tags::default()
            },
        },
        SamRecord {
            name: b"single2".to_vec(),
            flags: 16,
            ref_id: Some(1),
            pos: Some(0),
            mapq: 0,
            cigar: cigar(&[(Match, 5), (Deletion, 2), (Match, 5)]),
            seq: b"ACGTAACGTA".to_vec(),
            qual: q30(10),
            tags: Tags { nm: Some(2), md: Some("5^GG5".into()), as_score: Some(-3), ..Tags::default() },
            ..SamRecord::default()
        },
        SamRecord { name: b"lost3".to_vec(), flags: 4, seq: b"NNACGT".to_vec(), ..SamRecord::default() },
    ]
}

fn expected_sam() -> Vec<String> {
    let version = swmap::VERSION;
    [
        "@HD\tVN:1.6\tSO:unsorted\tGO:query",
        "@SQ\tSN:chr1\tLN:1000",
        "@SQ\tSN:chr2\tLN:500",
        "@RG\tID:grp1\tSM:sample1",
        &format!("@PG\tID:swmap\tPN:swmap\tVN:{version}\tCL:swmap map ref.fa r1.fq r2.fq"),
        "pair1\t99\tchr1\t100\t60\t2S8M\t=\t200\t110\tTTACGTTCGT\t??????????\
         \tNM:i:1\tMD:Z:4A3\tMC:Z:10M\tAS:i:11\tXS:i:0\tRG:Z:grp1",
        "pair1\t147\tchr1\t200\t60\t10M\t=\t100\t-110\tGGGGGCCCCC\t#+5?IJK?5+\
         \tNM:i:0\tMD:Z:10\tMC:Z:2S8M\tAS:i:10\tRG:Z:grp1",
        "single2\t16\tchr2\t1\t0\t5M2D5M\t*\t0\t0\tACGTAACGTA\t??????????\
         \tNM:i:2\tMD:Z:5^GG5\tAS:i:-3\tRG:Z:grp1",
        "lost3\t4\t*\t0\t0\t*\t*\t0\t0\tNNACGT\t*\tRG:Z:grp1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn write_all(path: &Path, threads: usize) {
    let mut out = SamWriter::create(Some(path), &header(), threads).unwrap();
    for rec in records() {
        out.write(&rec).unwrap();
    }
    out.finish().unwrap();
}

fn samtools(args: &[&str], path: &Path) -> String {
    let out = Command::new("samtools").args(args).arg(path).output().unwrap();
    assert!(out.status.success(), "samtools {args:?} {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sam_text_is_exactly_as_expected() {
    let dir = scratch("text");
    let path = dir.join("out.sam");
    write_all(&path, 1);
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let expected = expected_sam();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (i, (got, want)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "line {}", i + 1);
    }
}

#[test]
fn samtools_reads_sam_and_bam_alike() {
    let dir = scratch("samtools");
    let sam = dir.join("out.sam");
    let bam = dir.join("out.bam");
    let bam4 = dir.join("threads4.bam");
    write_all(&sam, 1);
    write_all(&bam, 1);
    write_all(&bam4, 4);
    // Same blocks at the same compression level, whichever BGZF writer made them.
    assert_eq!(fs::read(&bam).unwrap(), fs::read(&bam4).unwrap());
    // Also over many BGZF blocks (64 KiB of records each; 20,000 records make about 30), where
    // the threaded writer's blocks are compressed out of order and put back in order.
    let many: Vec<SamRecord> = (0..20_000)
        .map(|i| {
            let mut r = records()[i % 4].clone();
            r.name = format!("r{i}").into_bytes();
            r
        })
        .collect();
    let refs: Vec<&SamRecord> = many.iter().collect();
    let files: Vec<Vec<u8>> = [1, 4]
        .iter()
        .map(|&threads| {
            let path = dir.join(format!("many{threads}.bam"));
            let mut out = SamWriter::create(Some(&path), &header(), threads).unwrap();
            out.write_all(&refs).unwrap();
            out.finish().unwrap();
            fs::read(&path).unwrap()
        })
        .collect();
    let blocks = files[0].windows(4).filter(|w| *w == [0x1f, 0x8b, 0x08, 0x04]).count();
    assert!(blocks > 10, "{blocks} BGZF blocks");
    assert!(files[0] == files[1], "1 and 4 threads write different BAM bytes");
    if !has("samtools") {
        return;
    }
    for path in [&sam, &bam] {
        samtools(&["quickcheck", "-v"], path);
        assert_eq!(samtools(&["view", "-c"], path).trim(), "4", "{}", path.display());
    }
    // BAM decoded by samtools gives back the SAM text, header and tag types included.
    let decoded = samtools(&["view", "-h", "--no-PG"], &bam);
    assert_eq!(decoded.lines().collect::<Vec<_>>(), expected_sam());
}

#[test]
fn file_appears_under_its_name_only_after_finish() {
    let dir = scratch("rename");
    for name in ["out.sam", "out.bam"] {
        let path = dir.join(name);
        let mut out = SamWriter::create(Some(&path), &header(), 2).unwrap();
        out.write(&records()[0]).unwrap();
        let temp = format!(".{name}.swmap-tmp-{}", std::process::id());
        assert_eq!(file_names(&dir), vec![temp]);
        out.finish().unwrap();
        assert_eq!(file_names(&dir), vec![name.to_string()]);
        fs::remove_file(&path).unwrap();
    }
}

#[test]
fn dropped_writer_leaves_nothing_behind() {
    let dir = scratch("drop");
    for (name, threads) in [("out.sam", 1), ("out.bam", 1), ("out.bam", 3)] {
        let mut out = SamWriter::create(Some(&dir.join(name)), &header(), threads).unwrap();
        out.write(&records()[0]).unwrap();
        drop(out);
        assert!(file_names(&dir).is_empty(), "{name} with {threads} threads: {:?}", file_names(&dir));
    }
}

#[test]
fn existing_file_is_kept_until_finish_replaces_it() {
    let dir = scratch("replace");
    let path = dir.join("out.sam");
    fs::write(&path, "old contents\n").unwrap();
    let out = SamWriter::create(Some(&path), &header(), 1).unwrap();
    drop(out);
    assert_eq!(fs::read_to_string(&path).unwrap(), "old contents\n");
    write_all(&path, 1);
    assert!(fs::read_to_string(&path).unwrap().starts_with("@HD"));
}

#[test]
fn missing_directory_is_an_io_error_naming_the_output() {
    let dir = scratch("missing");
    let path = dir.join("no/such/dir/out.bam");
    let err = SamWriter::create(Some(&path), &header(), 1).err().expect("an error");
    assert!(matches!(&err, swmap::Error::Io { path: p, .. } if *p == path), "{err}");
}

/// Set in the child process that the two stdout tests start; says what the child should do.
const STDOUT_CHILD: &str = "SWMAP_SAM_STDOUT_CHILD";

/// Writes SAM to the real stdout, which the test harness does not capture, so it only acts
/// inside a child process started by the tests below; it reports on stderr.
#[test]
fn stdout_child() {
    let Ok(mode) = std::env::var(STDOUT_CHILD) else { return };
    let rounds = if mode == "flood" { 100_000 } else { 1 };
    let result = (|| {
        let mut out = SamWriter::create(None, &header(), 1)?;
        for _ in 0..rounds {
            for rec in records() {
                out.write(&rec)?;
            }
        }
        out.finish()
    })();
    match result {
        Ok(()) => eprintln!("child: finished"),
        Err(e) => eprintln!("child: error, broken pipe: {}", e.is_broken_pipe()),
    }
}

fn stdout_child_command(mode: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    // The test's name in this binary: its path, less the crate's name.
    let name = format!("{}::stdout_child", module_path!().split_once("::").unwrap().1);
    cmd.args(["--exact", &name, "--nocapture", "--test-threads=1"]).env(STDOUT_CHILD, mode);
    cmd
}

#[test]
fn sam_goes_to_stdout_without_a_path() {
    let out = stdout_child_command("once").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("child: finished"), "{stderr}");
    // The harness prints its own lines around ours ("test stdout_child ... ", "ok").
    let stdout = String::from_utf8(out.stdout).unwrap();
    let sam = &stdout[stdout.find("@HD\t").expect("a SAM header on stdout")..];
    let lines: Vec<&str> = sam.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(lines, expected_sam());
}

#[test]
fn closed_stdout_is_a_broken_pipe_error() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = stdout_child_command("flood").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 4096];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is closed here, like `swmap map ... | head`.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("child: error, broken pipe: true"), "{stderr}");
}
