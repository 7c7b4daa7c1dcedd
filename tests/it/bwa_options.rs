//! bwa mem's command lines run unchanged, with bwa's meaning: `-M`, `-K`, `-v`, `-I`, `-h`
//! and the comma forms of `-O`/`-E`/`-L`; GATK's own command line; output names swmap does not
//! write are refused; `--version` and `@PG VN` name the build. Every mapping under every
//! backend.

use crate::sam_check::*;
use crate::support::*;
use std::path::Path;

fn map(backend: &str, args: &[&str], reads: &[&Path]) -> std::process::Output {
    run(&mut map_cmd(&test_index(), reads, backend, &[&["-t", "2"], args].concat()))
}

/// The records of a run that must succeed (header left out: its @PG CL differs).
fn records(backend: &str, args: &[&str], reads: &[&Path]) -> Vec<String> {
    let out = map(backend, args, reads);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    crate::sam_check::records(&out.stdout)
}

fn pairs() -> [std::path::PathBuf; 2] {
    [data("reads_1.fq.gz"), data("reads_2.fq.gz")]
}

/// `-M` changes exactly the supplementary flag of split parts into the secondary one.
#[test]
fn mark_split_secondary_flips_only_the_supplementary_flag() {
    let dir = scratch("bwa-M");
    let (r1, r2) = crate::split_reads::write_reads(&dir);
    for backend in backends() {
        let plain = records(backend, &[], &[&r1, &r2]);
        let marked = records(backend, &["-M"], &[&r1, &r2]);
        assert_eq!(plain.len(), marked.len());
        let mut flipped = 0;
        for (a, b) in plain.iter().zip(&marked) {
            let (la, lb) = (Line::parse(a), Line::parse(b));
            if la.flag & 0x800 != 0 {
                assert_eq!(lb.flag, la.flag & !0x800 | 0x100, "{backend}: {a}\n{b}");
                assert_eq!(a.split('\t').skip(2).collect::<Vec<_>>(), b.split('\t').skip(2).collect::<Vec<_>>());
                flipped += 1;
            } else {
                assert_eq!(a, b, "{backend}: only supplementary records change");
            }
        }
        assert!(flipped >= 20, "{backend}: {flipped} split parts");
    }
}

/// GATK's documented command line (`bwa mem -K 100000000 -p -v 3 -t 16 -Y -R ...`), with
/// the binary's name changed, maps an interleaved file as the plain options do.
#[test]
fn gatk_command_line_runs() {
    let dir = scratch("bwa-gatk");
    let [r1, r2] = pairs();
    let (a, b) = (String::from_utf8(gunzip(&r1)).unwrap(), String::from_utf8(gunzip(&r2)).unwrap());
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut inter = String::new();
    for (x, y) in a.chunks(4).zip(b.chunks(4)) {
        inter += &(x.join("\n") + "\n" + &y.join("\n") + "\n");
    }
    let path = dir.join("interleaved.fq");
    std::fs::write(&path, inter).unwrap();
    let rg = r"@RG\tID:lane1\tSM:tumour\tPL:ILLUMINA";
    for backend in backends() {
        let gatk = records(backend, &["-K", "100000000", "-p", "-v", "3", "-Y", "-R", rg], &[&path]);
        let plain = records(backend, &["-Y", "-R", rg], &[&r1, &r2]);
        assert_eq!(gatk, plain, "{backend}");
        assert!(gatk.iter().all(|l| l.ends_with("RG:Z:lane1")));
    }
}

/// `-v 1` prints nothing on a good run, `-v 2` warnings only, the default messages too;
/// errors are printed at every level.
#[test]
fn verbosity_levels() {
    let dir = scratch("bwa-v");
    // Pairs whose second mate is random sequence (unmapped): no insert-size model, a warning.
    let reads = dir.join("r.fq");
    let [first, _] = pairs();
    let text = String::from_utf8(gunzip(&first)).unwrap();
    let lines: Vec<&str> = text.lines().take(400).collect();
    let mut rng = swmap::rng::Rng::new(9);
    let doubled: String = lines
        .chunks(4)
        .map(|r| {
            let random: String = (0..r[1].len()).map(|_| swmap::dna::decode(rng.base()) as char).collect();
            format!("{}\n{}\n{random}\n+\n{}\n", r.join("\n"), r[0], r[3])
        })
        .collect();
    std::fs::write(&reads, doubled).unwrap();
    for backend in backends() {
        let stderr = |v: &str| {
            let out = map(backend, &["-v", v, "-p"], &[&reads]);
            assert!(out.status.success());
            String::from_utf8_lossy(&out.stderr).to_string()
        };
        assert_eq!(stderr("1"), "", "{backend}");
        let warn = stderr("2");
        assert!(warn.contains("warning: insert-size model") && !warn.contains("backend:"), "{backend}: {warn}");
        let all = stderr("3");
        assert!(all.contains("warning") && all.contains("backend:") && all.contains("reads/s"), "{backend}: {all}");
    }
    // --progress prints a line per interval: none when the interval is longer than any run
    // can take, one per chunk of 1,000 reads when it is 0.
    let [r1, r2] = pairs();
    let out = map("cpu", &["--progress", "--progress-seconds", "1000000"], &[&r1, &r2]);
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.lines().count() == 2 && text.contains("properly paired"), "{text}");
    let out = map("cpu", &["--progress", "--progress-seconds", "0", "--chunk-reads", "1000"], &[&r1, &r2]);
    let text = String::from_utf8_lossy(&out.stderr);
    let progress: Vec<&str> = text.lines().filter(|l| l.ends_with(" s") && l.contains("reads/s")).collect();
    assert_eq!(progress.len(), 4, "{text}");
    assert!(progress[3].starts_with("[swmap] 4000 reads, "), "{text}");
    let out = run(swmap().args(["map", "-v", "0"]).arg(test_index()).arg(dir.join("missing.fq")));
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("missing.fq"));
}

/// bwa's comma forms of `-O`, `-E` and `-L` with equal values mean the single value; unequal
/// ones are refused, saying why; `-h` is the XA limit (its second number accepted).
#[test]
fn comma_forms_and_xa_limit() {
    let [r1, r2] = pairs();
    for backend in backends() {
        let base = records(backend, &[], &[&r1, &r2]);
        assert_eq!(records(backend, &["-O", "6,6", "-E", "1,1", "-L", "5,5", "-h", "5,200"], &[&r1, &r2]), base);
        assert_eq!(
            records(backend, &["-h", "1"], &[&r1, &r2]),
            records(backend, &["--max-xa-hits", "1"], &[&r1, &r2]),
            "{backend}"
        );
    }
    for (opt, value, want) in [
        ("-O", "6,7", "one value for both"),
        ("-L", "5,10", "one value for both"),
        ("-E", "1,x", "integer"),
        ("-h", "5,x", "INT,INT"),
        ("-I", "400,50,300,350,1", "MEAN[,SD[,MAX[,MIN]]]"),
        ("-I", "400,50,300,350", "1 <= min <= max"),
        ("-I", "0", "mean >= 1"),
    ] {
        let out = run(swmap().arg("map").arg(opt).arg(value).arg(test_index()).arg(&r1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{opt} {value}: {err}");
        assert!(out.stdout.is_empty(), "{opt} {value}: refused before any output");
    }
    let help = String::from_utf8_lossy(&ok(swmap().args(["map", "--help"]))).to_string();
    assert!(help.contains("-h, --max-xa-hits") && help.contains("-M") && help.contains("-K <INT>"), "{help}");
}

/// `-I` gives the model instead of estimating it: pairs are proper by the given bounds.
#[test]
fn insert_size_given() {
    let [r1, r2] = pairs();
    for backend in backends() {
        let proper = |args: &[&str]| {
            let out = map(backend, args, &[&r1, &r2]);
            assert!(out.status.success());
            let recs = lines(&out.stdout);
            let n = recs.iter().filter(|r| r.flag & 0x900 == 0 && r.flag & 0x2 != 0).count();
            (n, String::from_utf8_lossy(&out.stderr).to_string())
        };
        let (estimated, _) = proper(&[]);
        let (wide, log) = proper(&["-I", "400,50"]);
        assert!(log.contains("insert size mean 400 (proper 200-600)"), "{backend}: {log}");
        assert!(wide * 100 >= estimated * 98, "{backend}: {wide} vs {estimated} proper");
        let (narrow, log) = proper(&["-I", "150,5,151,149"]);
        assert!(log.contains("insert size mean 150 (proper 149-151)"), "{backend}: {log}");
        assert!(narrow * 10 < estimated, "{backend}: {narrow} proper of {estimated} with a 149-151 model");
    }
}

/// Output names: an extension swmap does not write is refused before any work (nothing
/// created); `.sam`, `.bam` and a name without an extension are written (`.cram` in
/// `cram_output`).
#[test]
fn output_extension_decides_or_refuses() {
    let dir = scratch("bwa-ext");
    let [r1, r2] = pairs();
    for name in ["out.sam.gz", "out.txt", "out.crai"] {
        let out = run(swmap().arg("map").arg(test_index()).arg(&r1).arg(&r2).arg("-o").arg(dir.join(name)));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("swmap writes SAM") && err.contains(name), "{name}: {err}");
        assert!(file_names(&dir).is_empty(), "{name}: {:?}", file_names(&dir));
    }
    for name in ["out", "out.SAM", "out.bam"] {
        ok(swmap().arg("map").arg(test_index()).arg(&r1).arg(&r2).arg("-o").arg(dir.join(name)));
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let bgzf = bytes.starts_with(&[0x1f, 0x8b]);
        assert_eq!(bgzf, name.ends_with(".bam"), "{name}");
        assert!(bgzf || bytes.starts_with(b"@HD"), "{name}");
    }
}

/// `--version` names the commit (or says there was no git), and `@PG VN` says the same.
#[test]
fn version_names_the_build() {
    let v = String::from_utf8(ok(swmap().arg("--version"))).unwrap();
    let version = v.trim().strip_prefix("swmap ").expect("swmap VERSION").to_string();
    assert!(version.starts_with(env!("CARGO_PKG_VERSION")), "{version}");
    assert!(version.contains("+git.") || version.ends_with("+built-without-git"), "{version}");
    let out = ok(swmap().arg("map").arg(test_index()).arg(data("reads_1.fq.gz")));
    let pg = String::from_utf8_lossy(&out).lines().find(|l| l.starts_with("@PG")).unwrap().to_string();
    assert!(pg.contains(&format!("\tVN:{version}\t")), "{pg} vs {version}");
}

/// FASTA reads (as bwa and minimap2 take them) map as their FASTQ records do, with QUAL `*`.
#[test]
fn fasta_reads_map_like_fastq() {
    let dir = scratch("bwa-fasta");
    let [r1, r2] = pairs();
    let fasta = |fq: &Path, name: &str| {
        let text = String::from_utf8(gunzip(fq)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Sequences over two lines, to be read as one.
        let out: String =
            lines.chunks(4).map(|r| format!(">{}\n{}\n{}\n", &r[0][1..], &r[1][..60], &r[1][60..])).collect();
        let path = dir.join(name);
        std::fs::write(&path, out).unwrap();
        path
    };
    let (f1, f2) = (fasta(&r1, "r1.fa"), fasta(&r2, "r2.fa"));
    for backend in backends() {
        let fq = records(backend, &[], &[&r1, &r2]);
        let fa = records(backend, &[], &[&f1, &f2]);
        assert_eq!(fq.len(), fa.len(), "{backend}");
        for (q, a) in fq.iter().zip(&fa) {
            let (mut q, a): (Vec<&str>, Vec<&str>) = (q.split('\t').collect(), a.split('\t').collect());
            assert_eq!(a[10], "*", "{backend}: {a:?}");
            q[10] = "*";
            assert_eq!(q, a, "{backend}");
        }
    }
}

/// `-C` copies each read's FASTQ comment (SAM tags) onto every record of the read, after
/// swmap's own tags, in SAM and BAM alike; without `-C` comments are ignored; a comment that
/// is not SAM tags is an error naming the file and record.
#[test]
fn copy_comment_appends_the_tags_to_every_record() {
    let dir = scratch("bwa-C");
    let [r1, r2] = pairs();
    let comment = "BC:Z:ACGT+TTGA\tRX:Z:AAGT CCA\tXN:i:+007\tXC:A:q";
    let written = "BC:Z:ACGT+TTGA\tRX:Z:AAGT CCA\tXN:i:7\tXC:A:q";
    let mut with = Vec::new();
    for (mate, r) in [&r1, &r2].into_iter().enumerate() {
        let text = String::from_utf8(gunzip(r)).unwrap();
        let commented: String = text
            .lines()
            .enumerate()
            .map(|(i, l)| if i % 4 == 0 { format!("{l} {comment}\n") } else { format!("{l}\n") })
            .collect();
        let path = dir.join(format!("c{}.fq", mate + 1));
        std::fs::write(&path, commented).unwrap();
        with.push(path);
    }
    let (c1, c2) = (with[0].as_path(), with[1].as_path());
    for backend in backends() {
        let plain = records(backend, &[], &[&r1, &r2]);
        assert_eq!(records(backend, &[], &[c1, c2]), plain, "{backend}: comments are ignored without -C");
        let copied = records(backend, &["-C"], &[c1, c2]);
        assert_eq!(copied.len(), plain.len());
        for (a, b) in plain.iter().zip(&copied) {
            assert_eq!(*b, format!("{a}\t{written}"), "{backend}");
        }
        if has("samtools") {
            let bam = dir.join(format!("{backend}.bam"));
            let out = map(backend, &["-C", "-o", bam.to_str().unwrap()], &[c1, c2]);
            assert!(out.status.success());
            let view = String::from_utf8(ok(std::process::Command::new("samtools").arg("view").arg(&bam))).unwrap();
            assert_eq!(view.lines().collect::<Vec<_>>(), copied, "{backend}: BAM holds the same tags");
        }
    }
    for (bad, says) in [
        ("1:N:0:ATCACG", "not TAG:TYPE:VALUE"),
        ("NM:i:3", "swmap writes"),
        ("BC:Z:A\tBC:Z:C", "twice"),
        ("XF:f:1.5", "not A, i or Z"),
        ("XN:i:9999999999", "integer"),
    ] {
        let path = dir.join("bad.fq");
        std::fs::write(&path, format!("@r1 {bad}\nACGTACGTACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIIIIIIIIIII\n")).unwrap();
        let out = map("cpu", &["-C"], &[&path]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("bad.fq: record 1") && err.contains(says), "{bad}: {err}");
        assert_eq!(err.lines().filter(|l| l.contains("error")).count(), 1, "{err}");
        assert!(map("cpu", &[], &[&path]).status.success(), "{bad}: fine without -C");
    }
}

/// bgzip'd FASTQ (BGZF, inflated by several workers) maps as plain gzip does; a truncated one
/// is an error naming the file and the record it cut.
#[test]
fn bgzf_reads_map_like_plain_gzip() {
    use std::io::Write as _;
    let dir = scratch("bwa-bgzf");
    let [r1, r2] = pairs();
    let mut bgzf = Vec::new();
    for (mate, r) in [&r1, &r2].into_iter().enumerate() {
        let path = dir.join(format!("r{}.fq.bgz", mate + 1));
        let mut w = noodles_bgzf::io::Writer::new(std::fs::File::create(&path).unwrap());
        w.write_all(&gunzip(r)).unwrap();
        w.finish().unwrap();
        bgzf.push(path);
    }
    let head = std::fs::read(&bgzf[0]).unwrap();
    assert_eq!(&head[12..14], b"BC", "the test writes BGZF");
    for backend in backends() {
        assert_eq!(records(backend, &[], &[&bgzf[0], &bgzf[1]]), records(backend, &[], &[&r1, &r2]), "{backend}");
    }
    let cut = dir.join("cut.fq.bgz");
    std::fs::write(&cut, &head[..head.len() / 2]).unwrap();
    let out = map("cpu", &[], &[&cut]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("cut.fq.bgz: record"), "{err}");
}

/// bwa mem takes the FASTA's name and finds its index beside it; so does `swmap map` once
/// `swmap index ref.fa` has run (bwa's `bwa index ref.fa; bwa mem ref.fa ...` with only the
/// program changed). An index that may not be that FASTA's (older than it, other `-k`/`-w`,
/// other contigs than its `.fai` lists) is passed over with a warning, and the FASTA indexed
/// in memory: the records never change.
#[test]
fn the_fasta_name_finds_the_index_beside_it() {
    let dir = scratch("bwa-beside");
    let fasta = dir.join("ref.fa.gz");
    std::fs::copy(data("ref.fa.gz"), &fasta).unwrap();
    let [r1, r2] = pairs();
    let map = |args: &[&str]| {
        let out =
            run(swmap().arg("map").arg(&fasta).arg(&r1).arg(&r2).args(["--backend", "cpu", "-t", "2"]).args(args));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        (crate::sam_check::records(&out.stdout), err)
    };
    let (alone, err) = map(&[]);
    assert!(!err.contains("index:") && !err.contains("warning"), "{err}");
    ok(swmap().arg("index").arg(&fasta));
    let index = dir.join("ref.swi");
    let (beside, err) = map(&[]);
    assert!(err.contains(&format!("[swmap] index: {} (beside", index.display())), "{err}");
    assert!(beside == alone);
    // GATK's command line with the FASTA's name, as it gives it to bwa.
    let (gatk, err) = map(&["-K", "100000000", "-v", "3", "-Y"]);
    assert!(err.contains("[swmap] index:") && gatk.len() == alone.len(), "{err}");

    let passed_over = |args: &[&str], why: &str| {
        let (recs, err) = map(args);
        assert!(err.contains("warning: not using") && err.contains(why), "{why}: {err}");
        assert!(!err.contains("[swmap] index:"), "{err}");
        recs
    };
    // Other seeds asked for: the FASTA indexed with them (other records, as without the index).
    assert!(passed_over(&["-k", "21"], "built with -k 19 -w 10, not -k 21 -w 10").len() >= alone.len() / 2);
    // A .fai listing other contigs, then the right ones.
    let fai = dir.join("ref.fa.gz.fai");
    std::fs::write(&fai, "other\t100\t7\t60\t61\n").unwrap();
    assert!(passed_over(&[], "its contigs are not those") == alone);
    let text = String::from_utf8(gunzip(&fasta)).unwrap();
    let mut listed = String::new();
    for record in text.split('>').skip(1) {
        let (header, seq) = record.split_once('\n').unwrap();
        let name = header.split_whitespace().next().unwrap();
        listed += &format!("{name}\t{}\t0\t60\t61\n", seq.bytes().filter(|b| !b.is_ascii_whitespace()).count());
    }
    std::fs::write(&fai, listed).unwrap();
    let (_, err) = map(&[]);
    assert!(err.contains("[swmap] index:"), "a .fai of the same contigs: {err}");
    // The FASTA changed after the index was built.
    let later = std::fs::metadata(&index).unwrap().modified().unwrap() + std::time::Duration::from_secs(60);
    std::fs::File::options().append(true).open(&fasta).unwrap().set_modified(later).unwrap();
    assert!(passed_over(&[], "older than") == alone);
}
