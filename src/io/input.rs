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
        Box::new(BufReader::with_capacity(BUFFER_SIZE, MultiGzDecoder::new(buffered)))
    } else {
        Box::new(buffered)
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
}
