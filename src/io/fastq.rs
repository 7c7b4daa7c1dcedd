//! FASTQ reader: plain or gzip, single files, mate files or interleaved, `-` for stdin.
//!
//! A record is four lines (`@name`, bases, `+`, qualities); multi-line FASTQ is not accepted.
//! Every malformed record is an error that names the file, the record number and the line:
//! a truncated record, a header without `@`, a missing `+`, bases and qualities of different
//! lengths, a character that is not a base, a quality outside `!`..`~`, a read name SAM cannot
//! hold (see `check_read_name`) and a read longer than [`crate::io::read::MAX_READ_LEN`].
//! They are refused here, where the file and record are known, rather than when the output is
//! written.

pub(crate) mod raw;

use crate::dna;
use crate::error::{Error, Result};
use crate::io::fasta::show_byte;
use crate::io::input;
use crate::io::read::{check_comment, check_read_name, Read, MAX_READ_LEN};
pub(crate) use raw::RawChunk;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Streams records from one FASTQ file. FASTA records (`>name`, then sequence lines, as bwa
/// and minimap2 accept them) are read too, without qualities (QUAL `*` in the output).
pub struct FastqReader {
    inner: Box<dyn BufRead + Send>,
    path: PathBuf,
    line: Vec<u8>,
    line_no: u64,
    records: u64,
    /// `line` already holds the next record's header (read while looking for a FASTA
    /// record's end).
    pending: bool,
    /// Keep each header's comment as SAM tags ([`FastqReader::with_comments`]).
    comments: bool,
    /// While cutting records ([`RawChunk`]): the line that ended a FASTA record, counted
    /// already, which starts the next one.
    carry: Vec<u8>,
}

impl FastqReader {
    /// Opens `path` (`-` is stdin; gzip detected from the data).
    pub fn open(path: &Path) -> Result<FastqReader> {
        Ok(FastqReader::new(input::open(path)?, path))
    }

    /// Reads from any reader; `path` names it in error messages.
    pub fn new(inner: Box<dyn BufRead + Send>, path: &Path) -> FastqReader {
        FastqReader {
            inner,
            path: path.to_path_buf(),
            line: Vec::new(),
            line_no: 0,
            records: 0,
            pending: false,
            comments: false,
            carry: Vec::new(),
        }
    }

    /// Keeps each record's header comment in [`Read::comment`], checked as SAM tags (bwa
    /// mem -C); a comment that is not is an error naming the file and record.
    pub fn with_comments(mut self) -> FastqReader {
        self.comments = true;
        self
    }

    /// The file named in error messages (`-` for stdin).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn read_line(&mut self) -> Result<bool> {
        self.line.clear();
        let n = input::read_line_into(&mut self.inner, &mut self.line).map_err(|e| self.read_error(e))?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        while matches!(self.line.last(), Some(b'\n' | b'\r')) {
            self.line.pop();
        }
        Ok(true)
    }

    /// A failed read (a damaged or truncated gzip stream, an I/O error), placed at the record
    /// it interrupted.
    fn read_error(&self, e: std::io::Error) -> Error {
        let location = format!("record {} (line {})", self.records + 1, self.line_no + 1);
        Error::input(&self.path, location, crate::io::input::describe_read_error(&e))
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::input(&self.path, format!("record {} (line {})", self.records + 1, self.line_no), message)
    }

    fn truncated(&self, what: &str) -> Error {
        Error::input(
            &self.path,
            format!("record {} (line {})", self.records + 1, self.line_no + 1),
            format!("truncated FASTQ: end of file where the {what} line should be"),
        )
    }

    /// Reads the next record into `read`; `Ok(false)` at a clean end of file.
    pub fn next_into(&mut self, read: &mut Read) -> Result<bool> {
        // Header, skipping blank lines between records.
        while !std::mem::take(&mut self.pending) {
            if !self.read_line()? {
                return Ok(false);
            }
            if !self.line.iter().all(|b| b.is_ascii_whitespace()) {
                break;
            }
        }
        let kind = match self.line.first() {
            Some(b'@') => "FASTQ",
            Some(b'>') => "FASTA",
            other => {
                return Err(self.error(format!(
                    "expected a FASTQ header starting with '@' (or a FASTA one with '>'), found {}",
                    other.map_or("an empty line".into(), |&b| show_byte(b))
                )))
            }
        };
        let name_end = self.line.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(self.line.len());
        let name = crate::io::read::without_mate_suffix(&self.line[1..name_end]);
        if name.is_empty() {
            return Err(self.error(format!("{kind} header has no read name")));
        }
        check_read_name(name).map_err(|e| self.error(e))?;
        read.name.clear();
        read.name.extend_from_slice(name);
        read.comment.clear();
        if self.comments {
            let rest = self.line[name_end..].trim_ascii();
            if !rest.is_empty() {
                check_comment(rest, &mut read.comment).map_err(|e| self.error(e))?;
            }
        }
        read.codes.clear();
        if kind == "FASTA" {
            return self.fasta_sequence(read);
        }

        if !self.read_line()? {
            return Err(self.truncated("sequence"));
        }
        self.append_bases(read)?;

        if !self.read_line()? {
            return Err(self.truncated("'+' separator"));
        }
        if self.line.first() != Some(&b'+') {
            return Err(self.error("expected the '+' separator line (multi-line FASTQ is not supported)"));
        }

        if !self.read_line()? {
            return Err(self.truncated("quality"));
        }
        if self.line.len() != read.codes.len() {
            return Err(self.error(format!(
                "read '{}' has {} bases but {} quality scores",
                String::from_utf8_lossy(&read.name),
                read.codes.len(),
                self.line.len()
            )));
        }
        // One pass that vectorizes to find whether any character is out of range, then the
        // conversion; the slow search runs only for the error message.
        if !self.line.iter().fold(true, |ok, &b| ok & (b'!'..=b'~').contains(&b)) {
            let &b = self.line.iter().find(|&&b| !(b'!'..=b'~').contains(&b)).expect("a bad character");
            return Err(self.error(format!("invalid quality character {}", show_byte(b))));
        }
        read.qual.clear();
        read.qual.extend(self.line.iter().map(|&b| b - 33));
        self.records += 1;
        Ok(true)
    }

    /// The sequence lines of a FASTA record, up to the next header, `>` or `@` (kept for the
    /// next call), or the end of the file; blank lines are skipped.
    fn fasta_sequence(&mut self, read: &mut Read) -> Result<bool> {
        while self.read_line()? {
            if matches!(self.line.first(), Some(b'>' | b'@')) {
                self.pending = true;
                break;
            }
            if !self.line.iter().all(|b| b.is_ascii_whitespace()) {
                self.append_bases(read)?;
            }
        }
        if read.codes.is_empty() {
            return Err(self.error(format!("FASTA read '{}' has no sequence", String::from_utf8_lossy(&read.name))));
        }
        read.qual.clear();
        self.records += 1;
        Ok(true)
    }

    /// Appends the line's bases to `read`, refusing an invalid base or a read too long.
    fn append_bases(&mut self, read: &mut Read) -> Result<()> {
        let len = read.codes.len() + self.line.len();
        if len > MAX_READ_LEN {
            // A FASTA read is refused at the line that takes it past the limit.
            let more = if read.codes.is_empty() { "" } else { "at least " };
            return Err(self.error(format!(
                "read '{}' has {more}{len} bases; swmap maps reads of at most {MAX_READ_LEN} bases (use a long-read aligner such as minimap2)",
                String::from_utf8_lossy(&read.name),
            )));
        }
        let start = read.codes.len();
        read.codes.extend(self.line.iter().map(|&b| dna::CODES[b as usize]));
        // A byte search (memchr) first; the position only for the message.
        if memchr::memchr(dna::INVALID, &read.codes[start..]).is_none() {
            return Ok(());
        }
        let col = read.codes[start..].iter().position(|&c| c == dna::INVALID).unwrap_or(0);
        Err(self.error(format!(
            "invalid base {} at position {} of read '{}'",
            show_byte(self.line[col]),
            start + col + 1,
            String::from_utf8_lossy(&read.name)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::read_source::{next_interleaved, next_mates, next_single, ReadSource};

    fn reader(text: &'static str) -> FastqReader {
        FastqReader::new(Box::new(text.as_bytes()), Path::new("r.fq"))
    }

    fn read_all(text: &'static str) -> Result<Vec<Read>> {
        let mut r = reader(text);
        let mut v = Vec::new();
        let mut rec = Read::default();
        while r.next_into(&mut rec)? {
            v.push(rec.clone());
        }
        Ok(v)
    }

    #[test]
    fn parses_records_and_strips_mate_suffix() {
        let v = read_all("@r1/1 comment\nACGTN\n+\nIIII#\n\n@r2\nac\n+r2\n!~\n").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, b"r1");
        assert_eq!(v[0].codes, vec![0, 1, 2, 3, 4]);
        assert_eq!(v[0].qual, vec![40, 40, 40, 40, 2]);
        assert_eq!(v[1].qual, vec![0, 93]);
    }

    #[test]
    fn fasta_records_span_lines_and_have_no_qualities() {
        let reads = read_all(">r1/1 comment\nACGT\nTTGA\n\n>r2\nGGCC\n").unwrap();
        assert_eq!(reads.len(), 2);
        assert_eq!((reads[0].name.as_slice(), reads[0].codes.len(), reads[0].qual.len()), (&b"r1"[..], 8, 0));
        assert_eq!((reads[1].name.as_slice(), reads[1].codes.len()), (&b"r2"[..], 4));
        // FASTQ and FASTA records may follow each other.
        assert_eq!(read_all("@a\nACGT\n+\nIIII\n>b\nACGT\n@c\nACGT\n+\nIIII\n").unwrap().len(), 3);
        let e = read_all(">r1\nACGT\n>r2\n").unwrap_err().to_string();
        assert!(e.contains("record 2") && e.contains("no sequence"), "{e}");
    }

    #[test]
    fn malformed_records_name_record_and_line() {
        let e = read_all("@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\n").unwrap_err().to_string();
        assert!(e.contains("r.fq: record 2 (line 8)") && e.contains("truncated"), "{e}");
        let e = read_all("@r1\nACGT\n+\nIII\n").unwrap_err().to_string();
        assert!(e.contains("record 1 (line 4)") && e.contains("4 bases but 3 quality"), "{e}");
        let e = read_all("r1\nACGT\n+\nIIII\n").unwrap_err().to_string();
        assert!(e.contains("expected a FASTQ header"), "{e}");
        let e = read_all("@r1\nAC-T\n+\nIIII\n").unwrap_err().to_string();
        assert!(e.contains("invalid base '-' at position 3"), "{e}");
        let e = read_all("@r1\nACGT\nIIII\n").unwrap_err().to_string();
        assert!(e.contains("'+' separator"), "{e}");
    }

    #[test]
    fn mates_must_match() {
        let mut src = ReadSource::Paired(reader("@a/1\nA\n+\nI\n@b/1\nA\n+\nI\n"), reader("@a/2\nC\n+\nI\n"));
        let mut out = Vec::new();
        let e = src.next_chunk(10, &mut out).unwrap_err().to_string();
        assert!(e.contains("mate files differ in length"), "{e}");
        let mut src = ReadSource::Interleaved(reader("@a/1\nA\n+\nI\n@b/2\nA\n+\nI\n"));
        let e = src.next_chunk(10, &mut out).unwrap_err().to_string();
        assert!(e.contains("mate names differ"), "{e}");
    }

    /// A file of `n` records, FASTQ mostly, some FASTA over several lines, blank lines and
    /// CRLF here and there; with `defect`, record `defect` is broken one of several ways;
    /// `per_name` records share each name (2: interleaved pairs).
    fn random_file(rng: &mut crate::rng::Rng, n: usize, mate: u8, defect: Option<usize>, per_name: usize) -> Vec<u8> {
        let mut text = Vec::new();
        let eol = |rng: &mut crate::rng::Rng| if rng.below(20) == 0 { &b"\r\n"[..] } else { &b"\n"[..] };
        for k in 0..n {
            if rng.below(30) == 0 {
                text.extend_from_slice(b"\n");
            }
            let len = 1 + rng.below(12) as usize;
            let bases: Vec<u8> = (0..len).map(|_| b"ACGTN"[rng.below(5) as usize]).collect();
            let broken = defect == Some(k);
            let name = k / per_name;
            if rng.below(10) == 0 && !broken {
                text.extend_from_slice(format!(">r{name}/{mate}").as_bytes());
                text.extend_from_slice(eol(rng));
                for line in bases.chunks(5) {
                    text.extend_from_slice(line);
                    text.extend_from_slice(eol(rng));
                }
                continue;
            }
            let mut record =
                format!("@r{name}/{mate} c\n{}\n+\n{}\n", String::from_utf8_lossy(&bases), "I".repeat(len));
            if broken {
                record = match rng.below(4) {
                    0 => record.replace('+', "-"),
                    1 => record.replacen('@', "", 1),
                    2 => record.replace("II", "I"),
                    _ => format!("@r{name}/{mate}\nAC"), // truncated: the file ends here
                };
            }
            text.extend_from_slice(record.as_bytes());
            if broken && record.ends_with("AC") {
                break;
            }
        }
        text
    }

    fn file(text: Vec<u8>) -> FastqReader {
        FastqReader::new(Box::new(std::io::Cursor::new(text)), Path::new("r.fq"))
    }

    /// Every read, or the first error, through `source` in chunks of `chunk` reads. Each
    /// chunk is parsed into the reads of the one before (as the mapper recycles them), so
    /// stale names, bases, qualities and comments must all be replaced.
    fn chunked(mut source: ReadSource, chunk: usize) -> std::result::Result<Vec<Read>, String> {
        let (mut all, mut out) = (Vec::new(), Vec::new());
        loop {
            match source.next_chunk(chunk, &mut out) {
                Ok(true) => all.extend_from_slice(&out),
                Ok(false) => return Ok(all),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// The same, one record after the other on one thread (the parser alone, no cutting).
    fn serial(mut r: FastqReader) -> std::result::Result<Vec<Read>, String> {
        let (mut all, mut n) = (Vec::new(), 0);
        loop {
            match next_single(&mut r, &mut all, &mut n) {
                Ok(true) => {}
                Ok(false) => return Ok(all[..n].to_vec()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Cut on one thread and parsed in pieces on many, records come out as the parser alone
    /// gives them, and errors name the same record and line: across piece and chunk
    /// boundaries, FASTA records spanning them, blank lines, mate files of different lengths.
    #[test]
    fn pieces_parsed_in_parallel_equal_the_serial_parser() {
        let mut rng = crate::rng::Rng::new(7);
        for round in 0..12 {
            let n = 1500 + rng.below(6000) as usize;
            let defect = (round % 3 != 0).then(|| rng.below(n as u64) as usize);
            let text = random_file(&mut rng, n, 1, defect, 1);
            let want = serial(file(text.clone()));
            for chunk in [700, 4096, 10_000] {
                let got = chunked(ReadSource::Single(file(text.clone())), chunk);
                assert_eq!(got, want, "round {round}, chunks of {chunk}");
            }
            // The same file read as interleaved pairs (an odd count, or names that differ,
            // are errors found by the parser at the same record).
            let text = random_file(&mut crate::rng::Rng::new(round + 100), n, 1, defect, 2);
            let (mut all, mut n) = (Vec::new(), 0);
            let mut r = file(text.clone());
            let want = loop {
                match next_interleaved(&mut r, &mut all, &mut n) {
                    Ok(true) => {}
                    Ok(false) => break Ok(all[..n].to_vec()),
                    Err(e) => break Err(e.to_string()),
                }
            };
            for chunk in [999, 4096] {
                assert_eq!(
                    chunked(ReadSource::Interleaved(file(text.clone())), chunk),
                    want,
                    "round {round}, interleaved"
                );
            }
            // Mates: file 2 sometimes shorter or longer, sometimes broken.
            let m = if round % 4 == 1 {
                n - 1 - rng.below(3000.min(n as u64 - 1)) as usize
            } else {
                n + (round % 4 == 2) as usize * 2500
            };
            let text1 = random_file(&mut crate::rng::Rng::new(round), n, 1, None, 1);
            let text2 = random_file(&mut crate::rng::Rng::new(round), m, 2, defect, 1);
            let (mut all, mut n) = (Vec::new(), 0);
            let (mut a, mut b) = (file(text1.clone()), file(text2.clone()));
            let want = loop {
                match next_mates(&mut a, &mut b, &mut all, &mut n) {
                    Ok(true) => {}
                    Ok(false) => break Ok(all[..n].to_vec()),
                    Err(e) => break Err(e.to_string()),
                }
            };
            for chunk in [1000, 4097, 9000] {
                let got = chunked(ReadSource::Paired(file(text1.clone()), file(text2.clone())), chunk);
                assert_eq!(
                    got.as_ref().map(Vec::len),
                    want.as_ref().map(Vec::len),
                    "round {round}, pairs, chunks of {chunk}"
                );
                assert_eq!(got, want, "round {round}, pairs, chunks of {chunk}");
            }
        }
    }
}
