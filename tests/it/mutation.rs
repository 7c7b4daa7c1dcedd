//! Seeded mutations of real FASTQ, FASTA and index files, read through the same readers
//! `swmap map` and `swmap index` use. For every mutant: no panic, no hang, and either a
//! message naming the file and where in it, or a result that accounts for every line of input
//! (no silent loss). An index has a checksum: any change must be refused.

use crate::support::*;
use std::sync::mpsc;
use std::time::Duration;
use swmap::read_fasta;
use swmap::rng::Rng;
use swmap::{FastqReader, Read};
use swmap::{Index, IndexParams};

/// Mutants per format: about 600 in all, a few seconds.
const MUTANTS: usize = 200;

/// One random change: a byte replaced (often by a character that means something to a
/// parser), bytes deleted, a stretch duplicated, bytes inserted, the end cut off, or a line
/// break added.
fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    let at = rng.below(d.len() as u64) as usize;
    let span = (1 + rng.below(40) as usize).min(d.len() - at);
    match rng.below(7) {
        0 => d[at] = b"@+>\n\r \t*N-:,=\x00\xff"[rng.below(15) as usize],
        1 => d[at] = rng.below(256) as u8,
        2 => {
            d.drain(at..at + span);
        }
        3 => {
            let copy = d[at..at + span].to_vec();
            d.splice(at..at, copy);
        }
        4 => {
            let junk: Vec<u8> = (0..span).map(|_| rng.below(256) as u8).collect();
            d.splice(at..at, junk);
        }
        5 => d.truncate(at),
        _ => d.insert(at, b'\n'),
    }
    d
}

/// Runs `f` on its own thread: a panic or a run past 20 s is a test failure naming `what`.
fn guarded<T: Send + 'static>(what: String, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: hung"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = handle.join();
            panic!("{what}: panicked")
        }
    }
}

fn lines_of(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

#[test]
fn mutated_fastq_is_refused_with_file_and_record_or_read_whole() {
    let dir = scratch("fastq");
    let original: Vec<u8> =
        lines_of(&gunzip(&data("reads_1.fq.gz"))).take(120).flat_map(|l| [l, b"\n"].concat()).collect();
    let mut rng = Rng::new(0xf457);
    let (mut refused, mut accepted) = (0, 0);
    for k in 0..MUTANTS {
        let mutant = mutate(&mut rng, &original);
        // Every fourth mutant is read through gzip, so damaged compressed streams are tried too.
        let gzipped = k % 4 == 0;
        let path = dir.join(format!("m{k}.fq"));
        let bytes = if gzipped { gzip_then_damage(&mut rng, &original) } else { mutant.clone() };
        std::fs::write(&path, &bytes).unwrap();
        let p = path.clone();
        let result = guarded(format!("fastq mutant {k}"), move || -> Result<usize, String> {
            let mut reader = FastqReader::open(&p).map_err(|e| e.to_string())?;
            let mut read = Read::default();
            let mut n = 0;
            while reader.next_into(&mut read).map_err(|e| e.to_string())? {
                n += 1;
            }
            Ok(n)
        });
        match result {
            Err(message) => {
                assert!(message.contains(&format!("m{k}.fq")), "mutant {k}: {message}");
                assert!(message.contains("record ") || message.contains("os error"), "mutant {k}: {message}");
                assert!(!message.contains('\n'), "mutant {k}: more than one line: {message}");
                refused += 1;
            }
            Ok(records) if !gzipped => {
                accepted += 1;
                let lines = lines_of(&mutant).filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
                assert_eq!(lines, 4 * records, "mutant {k}: {records} records read from {lines} lines");
            }
            Ok(_) => {}
        }
    }
    assert!(refused > MUTANTS / 4 && accepted > 10, "{refused} refused, {accepted} accepted");
}

/// A gzip stream of `plain` with a byte changed or the end cut off.
fn gzip_then_damage(rng: &mut Rng, plain: &[u8]) -> Vec<u8> {
    let mut z = gzip(plain);
    let at = 10 + rng.below(z.len() as u64 - 10) as usize;
    if rng.below(2) == 0 {
        z.truncate(at);
    } else {
        z[at] ^= 1 << rng.below(8);
    }
    z
}

#[test]
fn mutated_fasta_is_refused_with_file_and_line_or_read_whole() {
    let dir = scratch("fasta");
    let mut original = Vec::new();
    for (name, line) in
        [("chrA", "ACGTTGCAAGGCTTAACGGT"), ("chrB", "TTGACCAGTAGGCATCGATT"), ("chrC", "GGGCATTACAGATTACAGCA")]
    {
        original.extend_from_slice(format!(">{name} a description\n").as_bytes());
        for _ in 0..6 {
            original.extend_from_slice(format!("{line}\n").as_bytes());
        }
    }
    let mut rng = Rng::new(0xfa57a);
    let (mut refused, mut accepted) = (0, 0);
    for k in 0..MUTANTS {
        let mutant = mutate(&mut rng, &original);
        let path = dir.join(format!("m{k}.fa"));
        std::fs::write(&path, &mutant).unwrap();
        let p = path.clone();
        let result = guarded(format!("fasta mutant {k}"), move || read_fasta(&p).map_err(|e| e.to_string()));
        match result {
            Err(message) => {
                assert!(message.contains(&format!("m{k}.fa")), "mutant {k}: {message}");
                assert!(message.contains("line ") || message.contains("end of file"), "mutant {k}: {message}");
                refused += 1;
            }
            Ok(contigs) => {
                accepted += 1;
                let headers = lines_of(&mutant).filter(|l| l.first() == Some(&b'>')).count();
                let bases: usize = lines_of(&mutant)
                    .filter(|l| l.first() != Some(&b'>'))
                    .map(|l| l.iter().filter(|b| !b" \t".contains(b)).count())
                    .sum();
                assert_eq!(contigs.len(), headers, "mutant {k}");
                assert_eq!(contigs.iter().map(|c| c.seq.len()).sum::<usize>(), bases, "mutant {k}: bases lost");
            }
        }
    }
    assert!(refused > MUTANTS / 4 && accepted > 10, "{refused} refused, {accepted} accepted");
}

#[test]
fn any_change_to_an_index_is_refused() {
    let dir = scratch("index");
    let contigs = read_fasta(&data("tandem_arrays.fa")).unwrap();
    let original_path = dir.join("orig.swi");
    Index::build(contigs, IndexParams::default()).write(&original_path).unwrap();
    let original = std::fs::read(&original_path).unwrap();
    let mut rng = Rng::new(0x1de5);
    let mut tried = 0;
    for k in 0..MUTANTS {
        let mutant = mutate(&mut rng, &original);
        if mutant == original {
            continue;
        }
        tried += 1;
        let path = dir.join(format!("m{k}.swi"));
        std::fs::write(&path, &mutant).unwrap();
        let p = path.clone();
        let result =
            guarded(format!("index mutant {k}"), move || Index::load(&p).map(|_| ()).map_err(|e| e.to_string()));
        let message = result.expect_err(&format!("index mutant {k} was accepted"));
        assert!(message.contains(&format!("m{k}.swi")), "mutant {k}: {message}");
        // And read as a stream (as from a pipe), not mapped.
        let (p, bytes) = (path.clone(), mutant.clone());
        let result = guarded(format!("streamed index mutant {k}"), move || {
            Index::from_bytes(&bytes, &p).map(|_| ()).map_err(|e| e.to_string())
        });
        result.expect_err(&format!("index mutant {k} was accepted as a stream"));
    }
    assert!(tried > MUTANTS / 2);
}
