//! The index file. All integers little-endian:
//!
//! ```text
//! magic      8 bytes  "SWMAPIDX"
//! version    u32      FORMAT_VERSION
//! k, w       u32, u32
//! contigs    u32 count, then per contig: u32 name length, name bytes, u64 length
//! reference  u64 total length, 2-bit packed bases (A0 C1 G2 T3, 4 per byte, first base in
//!            the low bits; an N is stored as A), then u64 count of N runs, each (u64 start,
//!            u64 length)
//! seed table u32 bucket_bits, u64 entries, (2^bucket_bits + 1) u32 bucket starts,
//!            u32 key width (2 or 4 bytes: 2 when 2k - bucket_bits <= 16), entries keys of
//!            that width, entries u32 positions, ceil(entries / 64) u64 strand words
//! checksum   u64      over every byte before it ([`Checksum`])
//! ```
//! The file is written and read as a stream: no second copy of the index is ever held (a
//! human genome's index is several GB), and a pipe works as well as a file. Every section is
//! read straight into its array, in bounded steps, so a damaged length cannot make the reader
//! allocate more than the file holds; the checksum is checked, and every length and position
//! cross-checked, before the index is used, so a truncated, damaged or foreign file is refused
//! with a message rather than mapped against.

use super::{ContigInfo, Index, IndexParams, Keys, Reference};
use crate::error::{Error, Result};
use crate::io::fasta::{parse_fasta, read_fasta, Contig};
use crate::io::input;
use crate::io::output::OutputFile;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

pub(crate) const MAGIC: &[u8; 8] = b"SWMAPIDX";
/// Bump on any change of the layout above (2: 16- or 32-bit keys, 32-bit positions and a
/// strand bit per entry, instead of 64-bit keys and values; 3: the checksum takes the length
/// at its end, so that it is computed while streaming).
pub const FORMAT_VERSION: u32 = 3;

/// Bytes read or converted per step: bounds what a damaged length can make the reader hold.
const STEP: usize = 1 << 24;

/// A fast 64-bit checksum over 8-byte little-endian words, the last one zero-padded, and the
/// byte count (corruption detection, not cryptography); fed in pieces of any size.
struct Checksum {
    h: u64,
    len: u64,
    pending: [u8; 8],
    filled: usize,
}

impl Checksum {
    fn new() -> Checksum {
        Checksum { h: 0x243f_6a88_85a3_08d3, len: 0, pending: [0; 8], filled: 0 }
    }

    #[inline(always)]
    fn word(&mut self, w: u64) {
        self.h = (self.h.rotate_left(23) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.filled > 0 {
            let n = (8 - self.filled).min(data.len());
            self.pending[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.pending));
            self.filled = 0;
        }
        let mut words = data.chunks_exact(8);
        for c in &mut words {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    fn finish(mut self) -> u64 {
        let mut tail = [0u8; 8];
        tail[..self.filled].copy_from_slice(&self.pending[..self.filled]);
        self.word(u64::from_le_bytes(tail));
        self.word(self.len);
        self.h ^ (self.h >> 29)
    }
}

/// A writer that checksums what passes through it.
struct Summing<W: Write> {
    inner: W,
    sum: Checksum,
}

impl<W: Write> Summing<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sum.update(bytes);
        self.inner.write_all(bytes)
    }

    /// Plain integers, little-endian: their memory as it is on a little-endian machine.
    fn put_ints<T: bytemuck::Pod, const N: usize>(&mut self, xs: &[T], le: impl Fn(T) -> [u8; N]) -> io::Result<()> {
        if cfg!(target_endian = "little") {
            xs.chunks((STEP / N).max(1)).try_for_each(|c| self.put(bytemuck::cast_slice(c)))
        } else {
            self.put_all(xs, le)
        }
    }

    /// Integers of any width, little-endian, in steps.
    fn put_all<T: Copy, const N: usize>(&mut self, xs: &[T], le: impl Fn(T) -> [u8; N]) -> io::Result<()> {
        let mut buf = Vec::with_capacity(STEP.min(xs.len() * N));
        for chunk in xs.chunks((STEP / N).max(1)) {
            buf.clear();
            chunk.iter().for_each(|&x| buf.extend_from_slice(&le(x)));
            self.put(&buf)?;
        }
        Ok(())
    }
}

/// A reader that checksums what it reads; the end of the input is "truncated".
struct Summed<R: Read> {
    inner: R,
    sum: Checksum,
}

/// Why a read stopped: the input ended or failed, or what it holds is inconsistent.
enum Bad {
    Io(io::Error),
    Damaged,
}

impl From<io::Error> for Bad {
    fn from(e: io::Error) -> Bad {
        Bad::Io(e)
    }
}

type Got<T> = std::result::Result<T, Bad>;

impl<R: Read> Summed<R> {
    fn bytes(&mut self, buf: &mut [u8]) -> Got<()> {
        self.inner.read_exact(buf)?;
        self.sum.update(buf);
        Ok(())
    }

    fn u32(&mut self) -> Got<u32> {
        let mut b = [0u8; 4];
        self.bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Got<u64> {
        let mut b = [0u8; 8];
        self.bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// `n` plain integers: read straight into their memory on a little-endian machine, in
    /// steps, else as [`Summed::array`] reads them.
    fn ints<T: bytemuck::Pod, const N: usize>(&mut self, n: u64, from_le: impl Fn([u8; N]) -> T) -> Got<Vec<T>> {
        if !cfg!(target_endian = "little") {
            return self.array(n, from_le);
        }
        let n = usize::try_from(n).map_err(|_| Bad::Damaged)?;
        let mut out: Vec<T> = Vec::with_capacity(n.min(STEP / N));
        while out.len() < n {
            let take = (n - out.len()).min(STEP / N);
            let at = out.len();
            out.resize(at + take, T::zeroed());
            self.bytes(bytemuck::cast_slice_mut(&mut out[at..]))?;
        }
        Ok(out)
    }

    /// `n` integers of `N` bytes each, read in steps (so a damaged `n` ends at the input's
    /// end, not in an allocation of its size).
    fn array<T, const N: usize>(&mut self, n: u64, from_le: impl Fn([u8; N]) -> T) -> Got<Vec<T>> {
        let n = usize::try_from(n).map_err(|_| Bad::Damaged)?;
        let mut out = Vec::with_capacity(n.min(STEP / N));
        let mut buf = vec![0u8; STEP.min(n.saturating_mul(N))];
        while out.len() < n {
            let take = (n - out.len()).min(STEP / N);
            let bytes = &mut buf[..take * N];
            self.bytes(bytes)?;
            out.extend(bytes.chunks_exact(N).map(|c| from_le(c.try_into().expect("N bytes"))));
        }
        Ok(out)
    }
}

/// True when the file at `path` starts with the index magic number (it is not a FASTA).
pub fn is_index_file(path: &Path) -> bool {
    let mut head = [0u8; 8];
    fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == MAGIC
}

impl Index {
    /// Writes the index to `path` (through a temporary file renamed at the end; see
    /// [`crate::io::output`] for what is refused), as a stream.
    pub fn write(&self, path: &Path) -> Result<()> {
        let (file, guard) = OutputFile::create(path, &[])?;
        let mut w = Summing { inner: BufWriter::with_capacity(1 << 20, file), sum: Checksum::new() };
        self.write_to(&mut w).map_err(|e| Error::io(path, e))?;
        let sum = w.sum.finish();
        let mut file = w.inner.into_inner().map_err(|e| Error::io(path, e.into_error()))?;
        file.write_all(&sum.to_le_bytes()).and_then(|_| file.sync_all()).map_err(|e| Error::io(path, e))?;
        drop(file);
        guard.commit()
    }

    fn write_to<W: Write>(&self, w: &mut Summing<W>) -> io::Result<()> {
        w.put(MAGIC)?;
        for x in [FORMAT_VERSION, self.params.k, self.params.w, self.contigs.len() as u32] {
            w.put(&x.to_le_bytes())?;
        }
        for c in &self.contigs {
            w.put(&(c.name.len() as u32).to_le_bytes())?;
            w.put(c.name.as_bytes())?;
            w.put(&c.len.to_le_bytes())?;
        }
        let r = &self.reference;
        w.put(&r.len().to_le_bytes())?;
        w.put_ints(r.packed(), |b: u8| [b])?;
        w.put(&(r.n_runs().len() as u64).to_le_bytes())?;
        w.put_all(r.n_runs(), |(s, l): (u64, u64)| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&s.to_le_bytes());
            b[8..].copy_from_slice(&l.to_le_bytes());
            b
        })?;
        w.put(&self.bucket_bits.to_le_bytes())?;
        w.put(&(self.pos.len() as u64).to_le_bytes())?;
        w.put_ints(&self.buckets, u32::to_le_bytes)?;
        match &self.keys {
            Keys::Narrow(k) => {
                w.put(&2u32.to_le_bytes())?;
                w.put_ints(k, u16::to_le_bytes)?;
            }
            Keys::Wide(k) => {
                w.put(&4u32.to_le_bytes())?;
                w.put_ints(k, u32::to_le_bytes)?;
            }
        }
        w.put_ints(&self.pos, u32::to_le_bytes)?;
        w.put_ints(&self.strand, u64::to_le_bytes)
    }

    /// Loads and checks an index file.
    pub fn load(path: &Path) -> Result<Index> {
        let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        read_index(BufReader::with_capacity(1 << 20, file), path)
    }

    /// Reads a FASTA (plain or gzip) and builds its index in memory.
    pub fn from_fasta(path: &Path, params: IndexParams) -> Result<Index> {
        params.validate().map_err(Error::Options)?;
        index_contigs(read_fasta(path)?, path, params)
    }

    /// Loads an index file, or reads a FASTA (plain or gzip) and indexes it in memory: decided
    /// by the first bytes, and the input is read once, so a pipe (`<(zcat ref.fa.gz)`) works.
    pub fn load_or_build(path: &Path, params: IndexParams) -> Result<Index> {
        params.validate().map_err(Error::Options)?;
        let (head, input) = input::peek(input::open_raw(path)?, MAGIC.len(), path)?;
        if head == MAGIC {
            return read_index(BufReader::with_capacity(1 << 20, input), path);
        }
        let contigs = parse_fasta(input::decompress(head, input), path)?;
        index_contigs(contigs, path, params)
    }

    /// Checks and parses an index file's bytes; `path` names it in errors.
    pub fn from_bytes(data: &[u8], path: &Path) -> Result<Index> {
        read_index(data, path)
    }
}

/// Reads an index from `input` as [`Index::write`] writes it; `path` names it in errors.
fn read_index(input: impl Read, path: &Path) -> Result<Index> {
    let bad = |msg: &str| Error::index(path, msg);
    let mut r = Summed { inner: input, sum: Checksum::new() };
    let mut head = [0u8; 12];
    let n = read_up_to(&mut r.inner, &mut head).map_err(|e| Error::io(path, e))?;
    r.sum.update(&head[..n]);
    if n < 8 || &head[..8] != MAGIC {
        return Err(bad("not a swmap index (wrong magic number); build one with `swmap index`"));
    }
    if n < 12 {
        return Err(bad("index file is truncated; rebuild it with `swmap index`"));
    }
    let version = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "index format version {version}, but this swmap reads version {FORMAT_VERSION}; rebuild it with `swmap index`"
        )));
    }
    let damaged = "index file is truncated or damaged; rebuild it with `swmap index`";
    let index = match read_body(&mut r) {
        Ok(index) => index,
        Err(Bad::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(bad(damaged)),
        Err(Bad::Io(e)) => return Err(Error::io(path, e)),
        // Inconsistent lengths: most likely damage the checksum would show too.
        Err(Bad::Damaged) => return Err(bad(damaged)),
    };
    let mut stored = [0u8; 8];
    let mut extra = [0u8; 1];
    let ended = r.inner.read_exact(&mut stored).and_then(|()| read_up_to(&mut r.inner, &mut extra));
    match ended {
        Ok(0) if u64::from_le_bytes(stored) == r.sum.finish() => index.ok_or_else(|| bad(damaged)),
        Ok(_) | Err(_) => Err(bad(damaged)),
    }
}

/// Reads until `buf` is full or the input ends; how many bytes were read.
fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Everything after the version. `Ok(None)` when the sections disagree with each other
/// (a damaged file whose checksum is still to be checked).
fn read_body<R: Read>(r: &mut Summed<R>) -> Got<Option<Index>> {
    let params = IndexParams { k: r.u32()?, w: r.u32()? };
    if params.validate().is_err() {
        return Err(Bad::Damaged);
    }
    let n_contigs = r.u32()?;
    let mut contigs = Vec::with_capacity((n_contigs as usize).min(1 << 16));
    let mut offset = 0u64;
    for _ in 0..n_contigs {
        let name_len = r.u32()?;
        let name = String::from_utf8(r.array(name_len as u64, |[b]: [u8; 1]| b)?).map_err(|_| Bad::Damaged)?;
        let len = r.u64()?;
        contigs.push(ContigInfo { name, len, offset });
        offset = offset.checked_add(len).ok_or(Bad::Damaged)?;
    }
    let total = r.u64()?;
    if total != offset {
        return Err(Bad::Damaged);
    }
    let packed = r.ints(total.div_ceil(4), |[b]: [u8; 1]| b)?;
    let n_runs = r.u64()?;
    let runs = r.array(n_runs, |b: [u8; 16]| {
        (u64::from_le_bytes(b[..8].try_into().expect("8")), u64::from_le_bytes(b[8..].try_into().expect("8")))
    })?;
    let reference = Reference::from_parts(packed, total, runs).ok_or(Bad::Damaged)?;
    let bucket_bits = r.u32()?;
    if !(1..=2 * params.k).contains(&bucket_bits) || bucket_bits > 32 {
        return Err(Bad::Damaged);
    }
    let entries = r.u64()?;
    let buckets = r.ints((1u64 << bucket_bits) + 1, u32::from_le_bytes)?;
    if *buckets.last().expect("at least two") as u64 != entries || buckets.windows(2).any(|p| p[0] > p[1]) {
        return Err(Bad::Damaged);
    }
    let low_bits = 2 * params.k - bucket_bits;
    let keys = match r.u32()? {
        2 if low_bits <= 16 => Keys::Narrow(r.ints(entries, u16::from_le_bytes)?),
        4 if low_bits <= 32 => Keys::Wide(r.ints(entries, u32::from_le_bytes)?),
        _ => return Err(Bad::Damaged),
    };
    let pos = r.ints(entries, u32::from_le_bytes)?;
    let strand = r.ints(entries.div_ceil(64), u64::from_le_bytes)?;
    if pos.iter().any(|&p| p as u64 >= total) {
        return Ok(None);
    }
    Ok(Some(Index { params, contigs, reference, bucket_bits, buckets, keys, pos, strand }))
}

fn index_contigs(contigs: Vec<Contig>, path: &Path, params: IndexParams) -> Result<Index> {
    let total: u64 = contigs.iter().map(|c| c.seq.len() as u64).sum();
    if total >= u32::MAX as u64 {
        return Err(Error::input(path, "whole file", "references of 4 Gbp or more are not supported"));
    }
    Ok(Index::build(contigs, params))
}

#[cfg(test)]
mod tests {
    use super::super::tests::test_contigs;
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let dir = std::env::temp_dir().join(format!("swmap-index-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.swi");
        // 16-bit keys (k = 10) and 32-bit keys (k = 15) round-trip.
        for k in [10, 15] {
            let idx = Index::build(test_contigs(), IndexParams { k, w: 5 });
            idx.write(&path).unwrap();
            let back = Index::load(&path).unwrap();
            assert_eq!(back.reference(), idx.reference());
            assert_eq!(back.contigs, idx.contigs);
            assert_eq!((&back.keys, &back.pos, &back.strand), (&idx.keys, &idx.pos, &idx.strand));
        }
        assert!(is_index_file(&path));

        let data = fs::read(&path).unwrap();
        fs::write(&path, &data[..data.len() - 100]).unwrap();
        assert!(Index::load(&path).unwrap_err().to_string().contains("truncated or damaged"));
        let mut flipped = data.clone();
        flipped[data.len() / 2] ^= 1;
        fs::write(&path, &flipped).unwrap();
        assert!(Index::load(&path).unwrap_err().to_string().contains("truncated or damaged"));
        let mut old = data.clone();
        old[8] = 0;
        fs::write(&path, &old).unwrap();
        assert!(Index::load(&path).unwrap_err().to_string().contains("format version 0"));
        fs::write(&path, b">chr1\nACGT\n").unwrap();
        assert!(Index::load(&path).unwrap_err().to_string().contains("not a swmap index"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
