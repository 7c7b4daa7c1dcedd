//! Where reads come from: one FASTQ file, two mate files, one interleaved file, or memory;
//! mates checked to belong together, and reads from memory checked as a file's would be.

use crate::error::{Error, Result};
use crate::io::fastq::raw::RawPieces;
use crate::io::fastq::{FastqReader, RawChunk};
use crate::io::read::{check_read_name, Read, MAX_READ_LEN};
use std::path::Path;

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
                // is most of the reading thread's work, and both files' on one thread would cap
                // a paired run's reads/s.
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
pub(crate) fn next_single(r: &mut FastqReader, reads: &mut Vec<Read>, n: &mut usize) -> Result<bool> {
    let more = r.next_into(slot(reads, *n))?;
    *n += more as usize;
    Ok(more)
}

/// The next pair from two mate files, which must end together, into `reads[*n]` and the
/// read after it (counted in `n`).
pub(crate) fn next_mates(
    r1: &mut FastqReader,
    r2: &mut FastqReader,
    reads: &mut Vec<Read>,
    n: &mut usize,
) -> Result<bool> {
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
pub(crate) fn next_interleaved(r: &mut FastqReader, reads: &mut Vec<Read>, n: &mut usize) -> Result<bool> {
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
