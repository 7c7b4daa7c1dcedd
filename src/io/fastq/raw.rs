//! Records cut but not parsed: the reading thread only cuts a file's text into whole records
//! ([`super::ReadSource::next_raw`]), and the worker threads parse the pieces in parallel
//! ([`RawChunk::parse`]), with the errors the reading thread would have given, in the same
//! order.

use super::FastqReader;
use crate::error::{Error, Result};
use crate::io::input;
use crate::io::read::Read;
use crate::io::read_source::{next_interleaved, next_mates, next_single};

/// Records to a piece of a [`RawChunk`]: each piece is parsed by one worker.
const PIECE_RECORDS: u64 = 2048;

/// Whole records of one file as text, not parsed yet, and where they start in the file.
pub(crate) struct RecordText {
    text: Vec<u8>,
    /// Lines and records of the file before the piece.
    lines: u64,
    records: u64,
    /// Records cut into the piece (as the parser will count them, unless it finds one
    /// malformed, which is then an error).
    pub(crate) count: u64,
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
    pub(crate) fn cut(&mut self, max: u64) -> (Vec<RecordText>, Option<Error>) {
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
    pub(crate) fn piece_here(&self) -> RecordText {
        let lines = self.line_no - !self.carry.is_empty() as u64;
        RecordText { text: Vec::new(), lines, records: self.records, count: 0 }
    }

    /// Readers over pieces, each with the records cut into it.
    pub(crate) fn piece_readers(&self, pieces: Vec<RecordText>) -> Vec<(FastqReader, u64)> {
        pieces
            .into_iter()
            .map(|p| {
                let count = p.count;
                (self.piece_reader(p), count)
            })
            .collect()
    }

    /// A reader over one piece, numbering records and lines as in the whole file.
    pub(crate) fn piece_reader(&self, piece: RecordText) -> FastqReader {
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
    pub(crate) pieces: RawPieces,
    /// A failed read after the pieces' records.
    pub(crate) tail_error: Option<Error>,
}

pub(crate) enum RawPieces {
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
