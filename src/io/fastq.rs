//! FASTQ reader: plain or gzip, single files, mate files or interleaved, `-` for stdin.
//!
//! A record is four lines (`@name`, bases, `+`, qualities); multi-line FASTQ is not accepted.
//! Every malformed record is an error that names the file, the record number and the line:
//! a truncated record, a header without `@`, a missing `+`, bases and qualities of different
//! lengths, a character that is not a base, a quality outside `!`..`~`, a read name SAM cannot
//! hold (see [`check_read_name`]) and a read longer than [`MAX_READ_LEN`]. They are refused
//! here, where the file and record are known, rather than when the output is written.

use crate::dna;
use crate::error::{Error, Result};
use crate::io::fasta::show_byte;
use crate::io::input;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The longest read swmap maps. Its alignment is full dynamic programming over the read and a
/// window around it (memory and time grow with the square of the length: a 100 kb read once
/// took 75 s and 4.9 GB), built for short reads: Illumina reads (50-300 bases) and merged
/// pairs fit with room to spare. A longer read is an error naming the file and record; long
/// reads belong to a long-read aligner such as minimap2.
pub const MAX_READ_LEN: usize = 2_000;

/// Checks a read name against SAM's QNAME rule (`[!-?A-~]{1,254}`: printable ASCII without
/// `@` or spaces, at most 254 characters), so that every read can be written.
pub fn check_read_name(name: &[u8]) -> Result<(), String> {
    if name.len() > 254 {
        return Err(format!("read name of {} characters; SAM allows at most 254", name.len()));
    }
    let allowed = |b: u8| (b'!'..=b'~').contains(&b) && b != b'@';
    // One pass without early exit (whole vectors at a time), the search only for the message.
    if name.iter().fold(true, |ok, &b| ok & allowed(b)) {
        return Ok(());
    }
    match name.iter().find(|&&b| !allowed(b)) {
        Some(&b) => Err(format!(
            "read name '{}' has {}, which SAM does not allow in a read name (printable ASCII without '@')",
            String::from_utf8_lossy(name),
            show_byte(b)
        )),
        None => Ok(()),
    }
}

/// One read. `name` has neither the `@`, nor the comment, nor a trailing `/1` or `/2`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// The QNAME: the header's first word, without `@` and without `/1` or `/2`.
    pub name: Vec<u8>,
    /// Base codes (see [`crate::dna`]).
    pub codes: Vec<u8>,
    /// Raw Phred qualities (ASCII minus 33).
    pub qual: Vec<u8>,
    /// SAM tags from the header's comment (`BC:Z:ACGT\tRX:Z:AAGT`), to be copied into every
    /// record of the read as bwa mem -C does; kept only by a reader made
    /// [`FastqReader::with_comments`], checked there (`check_comment`), else empty.
    pub comment: Vec<u8>,
}

/// Tags swmap writes itself: a comment may not repeat them.
const OWN_TAGS: [&[u8; 2]; 9] = [b"NM", b"MD", b"MC", b"MQ", b"AS", b"XS", b"SA", b"XA", b"RG"];

/// Checks a comment that -C copies into the records, and writes it as the records will carry
/// it (integers without leading zeros or '+'): tab-separated `TAG:TYPE:VALUE` fields, TAG a
/// letter then a letter or digit, TYPE `A` (one printable character), `i` (an integer of
/// SAM's range) or `Z` (printable characters and spaces), no tag twice nor one of those
/// swmap writes.
pub fn check_comment(comment: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let bad = |why: &str| {
        Err(format!(
            "-C copies the header's comment into the SAM records, so it must be SAM tags \
             (TAG:TYPE:VALUE, tab-separated; types A, i and Z): {why} in '{}'",
            String::from_utf8_lossy(comment)
        ))
    };
    let mut seen: Vec<[u8; 2]> = Vec::new();
    for field in comment.split(|&b| b == b'\t') {
        let [t0, t1, b':', kind, b':', value @ ..] = field else { return bad("a field is not TAG:TYPE:VALUE") };
        if !t0.is_ascii_alphabetic() || !t1.is_ascii_alphanumeric() {
            return bad("a tag is not a letter and a letter or digit");
        }
        let tag = [*t0, *t1];
        if seen.contains(&tag) || OWN_TAGS.contains(&&tag) {
            return bad(&format!("{} is given twice or is a tag swmap writes", String::from_utf8_lossy(&tag)));
        }
        seen.push(tag);
        if !out.is_empty() {
            out.push(b'\t');
        }
        out.extend_from_slice(&field[..5]);
        match kind {
            b'A' if value.len() == 1 && value[0].is_ascii_graphic() => out.extend_from_slice(value),
            b'Z' if value.iter().all(|&b| b == b' ' || b.is_ascii_graphic()) => out.extend_from_slice(value),
            b'i' => match std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok()) {
                Some(n) if (i32::MIN as i64..=u32::MAX as i64).contains(&n) => {
                    out.extend_from_slice(n.to_string().as_bytes())
                }
                _ => return bad("an i value is not an integer from -2^31 to 2^32-1"),
            },
            b'A' | b'Z' => return bad("an A or Z value has a character SAM does not allow"),
            _ => return bad("a type is not A, i or Z"),
        }
    }
    Ok(())
}

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
        let mut name = &self.line[1..name_end];
        if name.len() > 2 && (name.ends_with(b"/1") || name.ends_with(b"/2")) {
            name = &name[..name.len() - 2];
        }
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

/// Records to a piece of a [`RawChunk`]: each piece is parsed by one worker.
const PIECE_RECORDS: u64 = 2048;

/// Whole records of one file as text, not parsed yet, and where they start in the file.
struct Piece {
    text: Vec<u8>,
    /// Lines and records of the file before the piece.
    lines: u64,
    records: u64,
    /// Records cut into the piece (as the parser will count them, unless it finds one
    /// malformed, which is then an error).
    count: u64,
}

impl FastqReader {
    /// Appends the next line, newline included, to `text`; false at the end of the input.
    fn raw_line(&mut self, text: &mut Vec<u8>) -> Result<bool> {
        if !self.carry.is_empty() {
            text.append(&mut self.carry);
            return Ok(true);
        }
        let n = input::read_line_into(&mut self.inner, text).map_err(|e| self.read_error(e))?;
        self.line_no += (n > 0) as u64;
        Ok(n > 0)
    }

    /// Appends the lines of the next record to `text` without parsing them: the lines
    /// [`FastqReader::next_into`] would consume (blank lines before the header, the header
    /// and three more lines for FASTQ; for FASTA, the lines up to the next header, which is
    /// carried to the next record). False when the input ends before a header.
    fn cut_one(&mut self, text: &mut Vec<u8>) -> Result<bool> {
        let start = loop {
            let at = text.len();
            if !self.raw_line(text)? {
                return Ok(false);
            }
            if !text[at..].iter().all(|b| b.is_ascii_whitespace()) {
                break at;
            }
        };
        match text[start] {
            b'@' => {
                for _ in 0..3 {
                    if !self.raw_line(text)? {
                        break;
                    }
                }
            }
            b'>' => loop {
                let at = text.len();
                if !self.raw_line(text)? {
                    break;
                }
                if matches!(text[at], b'>' | b'@') {
                    self.carry = text.split_off(at);
                    break;
                }
            },
            // Not a header: the parser says so, at this record.
            _ => {}
        }
        self.records += 1;
        Ok(true)
    }

    /// Cuts up to `max` records into pieces of [`PIECE_RECORDS`]; a failed read ends the
    /// cutting with the error, to be reported after whatever the pieces hold.
    fn cut(&mut self, max: u64) -> (Vec<Piece>, Option<Error>) {
        if self.pending {
            // A FASTA record's end that `next_into` read: the next header, stripped.
            self.pending = false;
            self.carry = std::mem::take(&mut self.line);
            self.carry.push(b'\n');
        }
        let mut pieces = Vec::new();
        let mut cut = 0;
        while cut < max {
            let mut piece = self.piece_here();
            let mut error = None;
            let wanted = PIECE_RECORDS.min(max - cut);
            while piece.count < wanted {
                let at = piece.text.len();
                match self.cut_one(&mut piece.text) {
                    Ok(true) => piece.count += 1,
                    Ok(false) => break,
                    Err(e) => {
                        // The record the failure cut short is not parsed: the failure is
                        // its error, as when reading and parsing went together.
                        piece.text.truncate(at);
                        error = Some(e);
                        break;
                    }
                }
            }
            cut += piece.count;
            let full = piece.count == wanted;
            if !piece.text.is_empty() {
                pieces.push(piece);
            }
            if error.is_some() || !full {
                return (pieces, error);
            }
        }
        (pieces, None)
    }

    /// An empty piece that starts where the cutting stands.
    fn piece_here(&self) -> Piece {
        let lines = self.line_no - !self.carry.is_empty() as u64;
        Piece { text: Vec::new(), lines, records: self.records, count: 0 }
    }

    /// Readers over pieces, each with the records cut into it.
    fn piece_readers(&self, pieces: Vec<Piece>) -> Vec<(FastqReader, u64)> {
        pieces
            .into_iter()
            .map(|p| {
                let count = p.count;
                (self.piece_reader(p), count)
            })
            .collect()
    }

    /// A reader over one piece, numbering records and lines as in the whole file.
    fn piece_reader(&self, piece: Piece) -> FastqReader {
        let mut r = FastqReader::new(Box::new(std::io::Cursor::new(piece.text)), &self.path);
        r.line_no = piece.lines;
        r.records = piece.records;
        r.comments = self.comments;
        r
    }
}

/// Records read but not parsed: the reading thread only cuts text into records
/// ([`ReadSource::next_raw`]), and [`RawChunk::parse`] parses the pieces in parallel on the
/// worker threads, with the errors the reading thread would have given, in the same order.
pub struct RawChunk {
    pieces: RawPieces,
    /// A failed read after the pieces' records.
    tail_error: Option<Error>,
}

enum RawPieces {
    /// Reads from memory, parsed already.
    Parsed(Vec<Read>),
    /// Readers over pieces of one file, with the records cut into each; `pairs` when mates
    /// follow each other.
    Single { readers: Vec<(FastqReader, u64)>, pairs: bool },
    /// Readers over the pieces of two mate files, piece k of each holding the same records.
    Mates(Vec<(FastqReader, FastqReader, u64)>),
}

impl RawChunk {
    /// Whether nothing was read (the input is exhausted).
    pub fn is_empty(&self) -> bool {
        self.tail_error.is_none()
            && match &self.pieces {
                RawPieces::Parsed(reads) => reads.is_empty(),
                RawPieces::Single { readers, .. } => readers.is_empty(),
                RawPieces::Mates(pieces) => pieces.is_empty(),
            }
    }

    /// Parses the records (pieces in parallel on the rayon pool) into `out`, mates adjacent;
    /// the first error in input order, if any. The reads `out` holds already are filled
    /// again (a spent chunk's: their buffers are reused, so parsing allocates nothing per
    /// read once they are large enough).
    pub fn parse(self, out: &mut Vec<Read>) -> Result<()> {
        use rayon::prelude::*;
        let mut spare = std::mem::take(out);
        // Each piece's share of the spare reads, as many as it has records (pairs: two each).
        let mut share = |records: u64| spare.split_off(spare.len().saturating_sub(records as usize));
        let parsed: Vec<Result<Vec<Read>>> = match self.pieces {
            RawPieces::Parsed(reads) => vec![Ok(reads)],
            RawPieces::Single { readers, pairs } => readers
                .into_iter()
                .map(|(r, count)| (r, share(count)))
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|(mut r, mut reads)| {
                    let mut n = 0;
                    while if pairs {
                        next_interleaved(&mut r, &mut reads, &mut n)?
                    } else {
                        next_single(&mut r, &mut reads, &mut n)?
                    } {}
                    reads.truncate(n);
                    Ok(reads)
                })
                .collect(),
            RawPieces::Mates(pieces) => {
                let cut_short = self.tail_error.is_some();
                pieces
                    .into_iter()
                    .map(|(r1, r2, both)| (r1, r2, both, share(2 * both)))
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|(mut r1, mut r2, both, mut reads)| {
                        // After a failed read only the pairs cut from both files are parsed:
                        // the failure, not a length difference, is the error.
                        let mut n = 0;
                        while !(cut_short && n as u64 == 2 * both) && next_mates(&mut r1, &mut r2, &mut reads, &mut n)?
                        {
                        }
                        reads.truncate(n);
                        Ok(reads)
                    })
                    .collect()
            }
        };
        for reads in parsed {
            let mut reads = reads?;
            if out.is_empty() {
                *out = reads;
            } else {
                out.append(&mut reads);
            }
        }
        self.tail_error.map_or(Ok(()), Err)
    }
}

/// Where reads come from: one file, two mate files, one interleaved file, or memory.
pub enum ReadSource {
    /// Single-end reads from one file.
    Single(FastqReader),
    /// Mate 1 from the first file, mate 2 from the second, in step. A file ending before the
    /// other, or mates with different names, is an error.
    Paired(FastqReader, FastqReader),
    /// Pairs in one file, mate 1 then mate 2. An odd record count, or mates with different
    /// names, is an error.
    Interleaved(FastqReader),
    /// Single reads held in memory (checked as a FASTQ record would be).
    Reads(Box<dyn Iterator<Item = Read> + Send>),
    /// Pairs held in memory, mate 1 then mate 2, and the number taken so far.
    Pairs(Box<dyn Iterator<Item = (Read, Read)> + Send>, u64),
}

/// What errors about reads from memory name as their file.
const MEMORY: &str = "<reads in memory>";

impl ReadSource {
    /// Whether the reads come in mate pairs.
    pub(crate) fn is_paired(&self) -> bool {
        !matches!(self, ReadSource::Single(_) | ReadSource::Reads(_))
    }

    /// Fills `out` with up to `max_reads` reads (pairs count as two, mates adjacent: read 2k
    /// and 2k+1). Returns false when the input is exhausted and nothing was read.
    pub fn next_chunk(&mut self, max_reads: usize, out: &mut Vec<Read>) -> Result<bool> {
        self.next_raw(max_reads)?.parse(out)?;
        Ok(!out.is_empty())
    }

    /// The next chunk of up to `max_reads` reads (as [`ReadSource::next_chunk`]) cut from the
    /// input but not parsed: the cheap half, for the reading thread. Reads from memory come
    /// parsed (and checked) already.
    pub(crate) fn next_raw(&mut self, max_reads: usize) -> Result<RawChunk> {
        let want = max_reads.max(2) as u64;
        let (pieces, tail_error) = match self {
            ReadSource::Single(r) => {
                let (pieces, error) = r.cut(want);
                let readers = r.piece_readers(pieces);
                (RawPieces::Single { readers, pairs: false }, error)
            }
            ReadSource::Interleaved(r) => {
                let (pieces, error) = r.cut(want.div_ceil(2) * 2);
                let readers = r.piece_readers(pieces);
                (RawPieces::Single { readers, pairs: true }, error)
            }
            ReadSource::Paired(r1, r2) => {
                // The two files are cut at once, file 2 on a thread of its own: inflating gzip
                // is most of the reading thread's work, and it capped a paired run's reads/s.
                // After a failed read of file 1, file 2 may be cut further than file 1 got:
                // only the pairs cut from both are parsed then (`RawChunk::parse`), and the
                // failure is the error.
                let half = want.div_ceil(2);
                let ((p1, e1), (p2, e2)) = std::thread::scope(|scope| {
                    let second = scope.spawn(|| r2.cut(half));
                    let first = r1.cut(half);
                    (first, second.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                });
                let mut p2 = p2.into_iter();
                let mut mates = Vec::with_capacity(p1.len() + 1);
                for a in p1 {
                    // File 2 ended before this piece: an empty one where it ended.
                    let b = p2.next().unwrap_or_else(|| r2.piece_here());
                    let both = a.count.min(b.count);
                    mates.push((r1.piece_reader(a), r2.piece_reader(b), both));
                }
                // File 2 may hold records past file 1's end: the parser reports the difference.
                for b in p2 {
                    let a = r1.piece_here();
                    mates.push((r1.piece_reader(a), r2.piece_reader(b), 0));
                }
                (RawPieces::Mates(mates), e1.or(e2))
            }
            ReadSource::Reads(_) | ReadSource::Pairs(..) => {
                let mut reads = Vec::new();
                self.next_parsed(max_reads, &mut reads)?;
                (RawPieces::Parsed(reads), None)
            }
        };
        Ok(RawChunk { pieces, tail_error })
    }

    /// [`ReadSource::next_chunk`] for reads from memory.
    fn next_parsed(&mut self, max_reads: usize, out: &mut Vec<Read>) -> Result<()> {
        out.clear();
        while out.len() < max_reads.max(2) {
            let more = match self {
                ReadSource::Reads(it) => match it.next() {
                    Some(read) => {
                        check_memory_read(&read, out.len())?;
                        out.push(read);
                        true
                    }
                    None => false,
                },
                ReadSource::Pairs(it, taken) => match it.next() {
                    Some((a, b)) => {
                        *taken += 1;
                        check_memory_read(&a, out.len()).and_then(|_| check_memory_read(&b, out.len() + 1))?;
                        check_mates(&a, &b, Path::new(MEMORY), *taken)?;
                        out.extend([a, b]);
                        true
                    }
                    None => false,
                },
                _ => unreachable!("files are cut, not parsed here"),
            };
            if !more {
                break;
            }
        }
        Ok(())
    }
}

/// The read at `n` in `reads` to parse into: a spare one's buffers reused, or a new one.
fn slot(reads: &mut Vec<Read>, n: usize) -> &mut Read {
    if n == reads.len() {
        reads.push(Read::default());
    }
    &mut reads[n]
}

/// The next read of a file into `reads[*n]` (counted in `n`).
fn next_single(r: &mut FastqReader, reads: &mut Vec<Read>, n: &mut usize) -> Result<bool> {
    let more = r.next_into(slot(reads, *n))?;
    *n += more as usize;
    Ok(more)
}

/// The next pair from two mate files, which must end together, into `reads[*n]` and the
/// read after it (counted in `n`).
fn next_mates(r1: &mut FastqReader, r2: &mut FastqReader, reads: &mut Vec<Read>, n: &mut usize) -> Result<bool> {
    let got1 = r1.next_into(slot(reads, *n))?;
    let got2 = r2.next_into(slot(reads, *n + 1))?;
    match (got1, got2) {
        (false, false) => return Ok(false),
        (true, false) | (false, true) => {
            let (short, long) = if got1 { (&*r2, &*r1) } else { (&*r1, &*r2) };
            return Err(Error::input(
                short.path(),
                format!("after record {}", short.records()),
                format!("mate files differ in length: this file ends while {} has more reads", long.path().display()),
            ));
        }
        (true, true) => {}
    }
    check_mates(&reads[*n], &reads[*n + 1], r2.path(), r2.records())?;
    *n += 2;
    Ok(true)
}

/// The next pair of an interleaved file, which must hold an even number of records, into
/// `reads[*n]` and the read after it (counted in `n`).
fn next_interleaved(r: &mut FastqReader, reads: &mut Vec<Read>, n: &mut usize) -> Result<bool> {
    if !r.next_into(slot(reads, *n))? {
        return Ok(false);
    }
    if !r.next_into(slot(reads, *n + 1))? {
        return Err(Error::input(
            r.path(),
            format!("record {}", r.records()),
            "interleaved FASTQ has an odd number of records: the last read has no mate",
        ));
    }
    check_mates(&reads[*n], &reads[*n + 1], r.path(), r.records())?;
    *n += 2;
    Ok(true)
}

/// A read from memory passes the checks a FASTQ record does.
fn check_memory_read(read: &Read, in_chunk: usize) -> Result<()> {
    let location = || format!("read '{}'", String::from_utf8_lossy(&read.name));
    let _ = in_chunk;
    if read.name.is_empty() {
        return Err(Error::input(MEMORY, location(), "a read has no name"));
    }
    check_read_name(&read.name).map_err(|e| Error::input(MEMORY, location(), e))?;
    if read.codes.len() > MAX_READ_LEN {
        let message = format!("{} bases; swmap maps reads of at most {MAX_READ_LEN} bases", read.codes.len());
        return Err(Error::input(MEMORY, location(), message));
    }
    if read.codes.iter().any(|&c| c > 4) || (!read.qual.is_empty() && read.qual.len() != read.codes.len()) {
        return Err(Error::input(MEMORY, location(), "base codes must be 0-4, and qualities one per base or none"));
    }
    Ok(())
}

fn check_mates(a: &Read, b: &Read, path: &Path, record: u64) -> Result<()> {
    if a.name != b.name {
        return Err(Error::input(
            path,
            format!("record {record}"),
            format!(
                "mate names differ: '{}' and '{}'",
                String::from_utf8_lossy(&a.name),
                String::from_utf8_lossy(&b.name)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
