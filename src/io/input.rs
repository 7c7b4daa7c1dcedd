//! Opening input files: a path or `-` for stdin, plain or gzip (BGZF included), decided by the
//! file's first bytes rather than its name.
//!
//! Every input is opened once and read once, front to back: the first bytes are read, looked
//! at, and put back in front of the rest ([`peek`]), never re-read by reopening the path. So a
//! pipe (`<(zcat ref.fa.gz)`, `/dev/stdin`) works wherever a file does.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

/// An input whose first bytes have been read and are replayed before the rest.
pub type Peeked = io::Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>;

const BUFFER_SIZE: usize = 1 << 20;

/// Opens `path` (`-` is stdin) for buffered reading, decompressing gzip or BGZF if the data
/// starts with the gzip magic number.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let (head, input) = peek(open_raw(path)?, BGZF_HEAD, path)?;
    Ok(decompress(head, input))
}

/// Bytes that tell BGZF from plain gzip: a gzip header with an extra field whose first
/// subfield is `BC` (the block size).
const BGZF_HEAD: usize = 14;

/// True when `head` starts a BGZF file (bgzip's output).
fn is_bgzf(head: &[u8]) -> bool {
    head.len() >= BGZF_HEAD && head[..3] == [0x1f, 0x8b, 8] && head[3] & 4 != 0 && head[12..14] == *b"BC"
}

/// Opens `path` (`-` is stdin) without buffering or decompression.
pub fn open_raw(path: &Path) -> Result<Box<dyn Read + Send>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin()))
    } else {
        Ok(Box::new(File::open(path).map_err(|e| Error::io(path, e))?))
    }
}

/// Reads up to `n` bytes (fewer only at end of input, however the reads are split, as on a
/// pipe) and returns them with a reader that yields them again, then the rest.
pub fn peek(mut raw: Box<dyn Read + Send>, n: usize, path: &Path) -> Result<(Vec<u8>, Peeked)> {
    let mut head = Vec::with_capacity(n);
    (&mut raw).take(n as u64).read_to_end(&mut head).map_err(|e| Error::io(path, e))?;
    Ok((head.clone(), Cursor::new(head).chain(raw)))
}

/// Buffers `input`, decompressing it when `head` (its first bytes) is the gzip magic number:
/// BGZF by parallel workers, other gzip in order.
pub fn decompress(head: Vec<u8>, input: Peeked) -> Box<dyn BufRead + Send> {
    if is_bgzf(&head) {
        // BGZF blocks are independent: inflated by as many workers as the mapping has
        // threads (plain gzip can only be inflated in order, on one).
        let workers = std::num::NonZero::new(rayon::current_num_threads()).unwrap_or(std::num::NonZero::<usize>::MIN);
        let reader = noodles_bgzf::io::MultithreadedReader::with_worker_count(workers, input);
        return Box::new(BufReader::with_capacity(BUFFER_SIZE, reader));
    }
    let buffered = BufReader::with_capacity(BUFFER_SIZE, input);
    if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(BUFFER_SIZE, ReadAhead::new(MultiGzDecoder::new(buffered))))
    } else {
        Box::new(buffered)
    }
}

/// Blocks of inflated text a [`ReadAhead`] holds ready, at most.
const READ_AHEAD_BLOCKS: usize = 4;

/// A reader whose source is read on a thread of its own, a few blocks of [`BUFFER_SIZE`]
/// ahead: plain gzip, which only inflates in order, then inflates while the reading thread
/// cuts records (inflating on that thread would take half its time and cap a paired run's
/// reads/s). A read error comes through in its place; so does a panic of the source, as
/// an error, never as an early end of input. The thread ends at the end of the input, after an
/// error, or when the reader is dropped.
struct ReadAhead {
    blocks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    at: usize,
}

impl ReadAhead {
    fn new(mut source: impl Read + Send + 'static) -> ReadAhead {
        let (tx, blocks) = std::sync::mpsc::sync_channel(READ_AHEAD_BLOCKS);
        let err_tx = tx.clone();
        let run = move || -> io::Result<()> {
            loop {
                let mut block = vec![0; BUFFER_SIZE];
                let (mut len, mut failed) = (0, None);
                while len < block.len() {
                    match source.read(&mut block[len..]) {
                        Ok(0) => break,
                        Ok(n) => len += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                let end = len < block.len();
                block.truncate(len);
                // What was read before a failure comes first, as from the source itself.
                if len > 0 && tx.send(Ok(block)).is_err() {
                    return Ok(()); // the reader was dropped
                }
                match failed {
                    Some(e) => return Err(e),
                    None if end => return Ok(()),
                    None => {}
                }
            }
        };
        let spawned = std::thread::Builder::new().name("swmap-inflate".into()).spawn(move || {
            let failure = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(_) => io::Error::other("the decompressor failed"),
            };
            let _ = err_tx.send(Err(failure));
        });
        let blocks = match spawned {
            Ok(_) => blocks,
            Err(e) => {
                // No thread: the first read reports it.
                let (tx, blocks) = std::sync::mpsc::sync_channel(1);
                let _ = tx.send(Err(e));
                blocks
            }
        };
        ReadAhead { blocks, block: Vec::new(), at: 0 }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.block.len() {
            match self.blocks.recv() {
                Ok(Ok(block)) => (self.block, self.at) = (block, 0),
                Ok(Err(e)) => return Err(e),
                // The thread ended: the end of the input.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A read error as a message for the record it interrupted: the decompressor's terse words
/// ("incomplete deflate stream", "corrupt deflate stream") say what a user would do about it.
pub fn describe_read_error(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("deflate") || text.contains("gzip") || e.kind() == io::ErrorKind::UnexpectedEof {
        format!("cannot read on: {text} (a truncated or damaged gzip file?)")
    } else {
        format!("cannot read on: {text}")
    }
}

/// [`BufRead::read_until`] a newline: appends to `out` up to and including the next `\n`, or
/// to the end of the input; the bytes appended (0 at the end). The newline is found by the
/// `memchr` crate's vector search, where the standard library's goes two words at a time.
pub fn read_line_into<R: BufRead + ?Sized>(reader: &mut R, out: &mut Vec<u8>) -> io::Result<usize> {
    let mut read = 0;
    loop {
        let (done, used) = {
            let available = match reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            match memchr::memchr(b'\n', available) {
                Some(at) => {
                    out.extend_from_slice(&available[..=at]);
                    (true, at + 1)
                }
                None => {
                    out.extend_from_slice(available);
                    (available.is_empty(), available.len())
                }
            }
        };
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per call, as a slow pipe may.
    struct Trickle(Vec<u8>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 >= self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    /// Bytes, then an error; not to be read after it.
    struct Failing(Vec<u8>, usize);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.1 == self.0.len() {
                self.1 += 1;
                return Err(io::Error::other("broken"));
            }
            let n = buf.len().min(self.0.len().min(self.1 + 1000) - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    struct Panicking;

    impl Read for Panicking {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("a decompressor bug");
        }
    }

    #[test]
    fn read_ahead_gives_every_byte_then_the_error_or_the_end() {
        let data: Vec<u8> = (0..3 * BUFFER_SIZE + 12_345).map(|i| (i * 7 % 251) as u8).collect();
        let mut all = Vec::new();
        ReadAhead::new(Trickle(data[..5000].to_vec(), 0)).read_to_end(&mut all).unwrap();
        assert_eq!(all, data[..5000]);
        all.clear();
        ReadAhead::new(Cursor::new(data.clone())).read_to_end(&mut all).unwrap();
        assert!(all == data);
        let mut failing = ReadAhead::new(Failing(data.clone(), 0));
        all.clear();
        let err = failing.read_to_end(&mut all).unwrap_err();
        assert_eq!(err.to_string(), "broken");
        // Every byte before the failure came through; the failure is never an end.
        assert!(all == data);
        all.clear();
        let err = ReadAhead::new(Panicking).read_to_end(&mut all).unwrap_err();
        assert!(err.to_string().contains("decompressor failed"), "{err}");
        // Dropped before the end: dropping does not wait for the thread, which stops at its
        // next block.
        drop(ReadAhead::new(Cursor::new(data)));
    }

    #[test]
    fn peek_sees_the_whole_head_of_a_trickling_pipe_and_replays_it() {
        let (head, mut rest) = peek(Box::new(Trickle(b"SWMAPIDX and more".to_vec(), 0)), 8, Path::new("p")).unwrap();
        assert_eq!(head, b"SWMAPIDX");
        let mut all = String::new();
        rest.read_to_string(&mut all).unwrap();
        assert_eq!(all, "SWMAPIDX and more");
        let (head, _) = peek(Box::new(Trickle(b"A".to_vec(), 0)), 8, Path::new("p")).unwrap();
        assert_eq!(head, b"A");
    }

    /// The vector line search reads what `read_until` reads, line by line, whatever the
    /// buffer size (lines across refills), with and without a final newline, with CRLF.
    #[test]
    fn read_line_into_reads_what_read_until_reads() {
        let mut rng = crate::rng::Rng::new(9);
        for round in 0..300 {
            let len = rng.below(400) as usize;
            let text: Vec<u8> = (0..len).map(|_| [b'A', b'\n', b'\r', b'x'][rng.below(4) as usize]).collect();
            let cap = 1 + round % 37;
            let (mut a, mut b) =
                (io::BufReader::with_capacity(cap, &text[..]), io::BufReader::with_capacity(cap, &text[..]));
            loop {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                let (n, m) = (read_line_into(&mut a, &mut x).unwrap(), b.read_until(b'\n', &mut y).unwrap());
                assert_eq!((n, &x), (m, &y), "round {round}");
                if n == 0 {
                    break;
                }
            }
        }
    }
}
