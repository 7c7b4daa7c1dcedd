//! Opening input files: a path or `-` for stdin, plain or gzip (BGZF included), decided by the
//! file's first bytes rather than its name.

use crate::error::{Error, Result};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// Opens `path` (`-` is stdin) for buffered reading, decompressing gzip or BGZF if the data
/// starts with the gzip magic number.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).map_err(|e| Error::io(path, e))?)
    };
    let mut buffered = BufReader::with_capacity(1 << 20, raw);
    let head = buffered.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        Ok(Box::new(BufReader::with_capacity(1 << 20, MultiGzDecoder::new(buffered))))
    } else {
        Ok(Box::new(buffered))
    }
}
