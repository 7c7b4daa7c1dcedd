//! The index file. All integers little-endian:
//!
//! ```text
//! magic      8 bytes  "SWMAPIDX"
//! version    u32      FORMAT_VERSION
//! k, w       u32, u32
//! contigs    u32 count, then per contig: u32 name length, name bytes, u64 length
//! reference  u64 total length, pad, 2-bit packed bases (A0 C1 G2 T3, 4 per byte, first base
//!            in the low bits; an N is stored as A), then u64 count of N runs, each (u64
//!            start, u64 length)
//! seed table u32 bucket_bits, u64 entries, pad, (2^bucket_bits + 1) u32 bucket starts,
//!            u32 key width (2 or 4 bytes: 2 when 2k - bucket_bits <= 16), pad, entries keys
//!            of that width, pad, entries u32 positions, pad, ceil(entries / 64) u64 strand
//!            words
//! checksum   u64      over every byte before it ([`Checksum`])
//! ```
//! where `pad` is zero bytes up to the next multiple of 8 from the file's start, so that each
//! large array can be used where it lies in a mapped file.
//!
//! [`Index::load`] maps a file read-only ([`Mapping`]) and uses its arrays in place: processes
//! mapping one index share one copy in the page cache, and a second run starts without
//! reading the file into memory of its own. A pipe, or a platform without mappings, is read
//! as a stream instead, each array straight into its memory, in bounded steps, so a damaged
//! length cannot make the reader allocate more than the input holds. Either way the checksum
//! is checked, and every length and position cross-checked, before the index is used, so a
//! truncated, damaged or foreign file is refused with a message rather than mapped against.

use super::table::{Mapping, Table};
use super::{ContigInfo, Index, IndexParams, Keys, Reference};
use crate::error::{Error, Result};
use crate::io::fasta::{parse_fasta, read_fasta, Contig};
use crate::io::input;
use crate::io::output::OutputFile;
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) const MAGIC: &[u8; 8] = b"SWMAPIDX";
/// The version of the layout above, bumped on any change of it: a file of another version is
/// refused with a message to rebuild it, never misread.
pub const FORMAT_VERSION: u32 = 4;

/// Arrays start at multiples of this many bytes from the start of the file.
const ALIGN: u64 = 8;

/// Bytes read or converted per step: bounds what a damaged length can make the reader hold.
const STEP: usize = 1 << 24;

/// A fast 64-bit checksum over 8-byte little-endian words in four interleaved lanes (word i
/// into lane i % 4, so that the four multiply chains run side by side: about 4x the speed of
/// one), the last block of 32 bytes zero-padded, then the byte count (corruption detection,
/// not cryptography); fed in pieces of any size.
struct Checksum {
    h: [u64; 4],
    len: u64,
    pending: [u8; 32],
    filled: usize,
}

const MIX: u64 = 0x9e37_79b9_7f4a_7c15;

impl Checksum {
    fn new() -> Checksum {
        let seed = 0x243f_6a88_85a3_08d3u64;
        Checksum { h: [seed, seed ^ 1, seed ^ 2, seed ^ 3], len: 0, pending: [0; 32], filled: 0 }
    }

    #[inline(always)]
    fn block(&mut self, b: &[u8]) {
        for (l, h) in self.h.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[8 * l..8 * l + 8].try_into().expect("8 bytes"));
            *h = (h.rotate_left(23) ^ w).wrapping_mul(MIX);
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if self.filled > 0 {
            let n = (32 - self.filled).min(data.len());
            self.pending[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled < 32 {
                return;
            }
            let block = self.pending;
            self.block(&block);
            self.filled = 0;
        }
        let mut blocks = data.chunks_exact(32);
        for c in &mut blocks {
            self.block(c);
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    fn finish(mut self) -> u64 {
        if self.filled > 0 {
            let mut tail = [0u8; 32];
            tail[..self.filled].copy_from_slice(&self.pending[..self.filled]);
            self.block(&tail);
        }
        let mut h = self.len;
        for lane in self.h {
            h = (h.rotate_left(23) ^ lane).wrapping_mul(MIX);
        }
        h ^ (h >> 29)
    }

    /// The checksum of `data`, in one call.
    fn of(data: &[u8]) -> u64 {
        let mut sum = Checksum::new();
        sum.update(data);
        sum.finish()
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

    /// Zeros up to the next multiple of [`ALIGN`] bytes of the file.
    fn pad(&mut self) -> io::Result<()> {
        let n = self.sum.len.next_multiple_of(ALIGN) - self.sum.len;
        self.put(&[0u8; ALIGN as usize][..n as usize])
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

/// Where [`read_body`] takes the fields from: a stream read into memory of the index's own
/// ([`Summed`]) or a mapped file whose arrays are used in place ([`Mapped`]).
trait Fields {
    /// `buf.len()` bytes.
    fn bytes(&mut self, buf: &mut [u8]) -> Got<()>;

    /// Skips the zeros up to the next multiple of [`ALIGN`] bytes of the file.
    fn pad(&mut self) -> Got<()>;

    /// `n` plain integers, a large array.
    fn table<T: bytemuck::Pod, const N: usize>(&mut self, n: u64, from_le: impl Fn([u8; N]) -> T) -> Got<Table<T>>;

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

    /// `n` integers of `N` bytes each, a small array, in steps (so a damaged `n` ends at the
    /// input's end, not in an allocation of its size).
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

impl<R: Read> Fields for Summed<R> {
    fn bytes(&mut self, buf: &mut [u8]) -> Got<()> {
        self.inner.read_exact(buf)?;
        self.sum.update(buf);
        Ok(())
    }

    fn pad(&mut self) -> Got<()> {
        let n = self.sum.len.next_multiple_of(ALIGN) - self.sum.len;
        self.bytes(&mut [0u8; ALIGN as usize][..n as usize])
    }

    /// Read straight into the array's memory on a little-endian machine, in steps, else as
    /// [`Fields::array`] reads them.
    fn table<T: bytemuck::Pod, const N: usize>(&mut self, n: u64, from_le: impl Fn([u8; N]) -> T) -> Got<Table<T>> {
        if !cfg!(target_endian = "little") {
            return self.array(n, from_le).map(Table::from);
        }
        let n = usize::try_from(n).map_err(|_| Bad::Damaged)?;
        let mut out: Vec<T> = Vec::with_capacity(n.min(STEP / N));
        while out.len() < n {
            let take = (n - out.len()).min(STEP / N);
            let at = out.len();
            out.resize(at + take, T::zeroed());
            self.bytes(bytemuck::cast_slice_mut(&mut out[at..]))?;
        }
        Ok(out.into())
    }
}

/// A mapped index file read in place; `end` is where the checksum starts.
struct Mapped {
    map: Arc<Mapping>,
    at: usize,
    end: usize,
}

impl Mapped {
    /// The next `n` bytes' range, or the end of the input.
    fn take(&mut self, n: u64) -> Got<std::ops::Range<usize>> {
        let n = usize::try_from(n).map_err(|_| Bad::Damaged)?;
        match self.at.checked_add(n) {
            Some(e) if e <= self.end => Ok(std::mem::replace(&mut self.at, e)..e),
            _ => Err(Bad::Io(io::ErrorKind::UnexpectedEof.into())),
        }
    }
}

impl Fields for Mapped {
    fn bytes(&mut self, buf: &mut [u8]) -> Got<()> {
        let r = self.take(buf.len() as u64)?;
        buf.copy_from_slice(&self.map.bytes()[r]);
        Ok(())
    }

    fn pad(&mut self) -> Got<()> {
        let n = (self.at as u64).next_multiple_of(ALIGN) - self.at as u64;
        self.take(n).map(drop)
    }

    /// A view into the mapping on a little-endian machine (where the file's integers are the
    /// machine's), else a copy as [`Fields::array`] makes it.
    fn table<T: bytemuck::Pod, const N: usize>(&mut self, n: u64, from_le: impl Fn([u8; N]) -> T) -> Got<Table<T>> {
        if !cfg!(target_endian = "little") {
            return self.array(n, from_le).map(Table::from);
        }
        let r = self.take(n.checked_mul(N as u64).ok_or(Bad::Damaged)?)?;
        Table::view(&self.map, r.start, n as usize).ok_or(Bad::Damaged)
    }
}

/// True when the file at `path` starts with the index magic number (it is not a FASTA).
pub fn is_index_file(path: &Path) -> bool {
    let mut head = [0u8; 8];
    fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == MAGIC
}

/// Where `swmap index REF` writes REF's index unless told otherwise: the reference's name with
/// `.swi` instead of `.fa`, `.fasta`, `.fna` or `.fas` (and `.gz` or `.bgz`), beside it
/// (`ref.fa.gz` -> `ref.swi`).
pub fn default_index_path(reference: &Path) -> PathBuf {
    let mut name = reference.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for ext in [".gz", ".bgz"] {
        if let Some(s) = name.strip_suffix(ext) {
            name = s.to_string();
        }
    }
    for ext in [".fa", ".fasta", ".fna", ".fas"] {
        if let Some(s) = name.strip_suffix(ext) {
            name = s.to_string();
            break;
        }
    }
    reference.with_file_name(format!("{name}.swi"))
}

/// What [`Index::find_beside`] found beside a FASTA.
pub enum Beside {
    /// No index file there (or the path is no regular file, or is an index itself).
    Nothing,
    /// This index file, checked and loaded.
    Found(PathBuf, Box<Index>),
    /// This index file is there but not for this FASTA or these parameters: why, in words.
    PassedOver(PathBuf, String),
}

/// The contigs a samtools `.fai` lists (name, length), or `None` for a file that is no .fai.
fn fai_contigs(text: &str) -> Option<Vec<(&str, u64)>> {
    text.lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next()?;
            let len = fields.next()?.parse().ok()?;
            Some((name, len))
        })
        .collect()
}

impl Index {
    /// The index of the FASTA at `fasta` that `swmap index` left beside it, as bwa mem finds
    /// its index from the FASTA's name: `ref.swi` ([`default_index_path`]) or `ref.fa.swi`.
    /// It is used only when it is a swmap index no older than the FASTA, built with `params`,
    /// and, where samtools' `ref.fa.fai` is there too (GATK needs one), of exactly the contigs
    /// and lengths it lists; otherwise [`Beside::PassedOver`] says why, and the caller
    /// indexes the FASTA itself.
    pub fn find_beside(fasta: &Path, params: IndexParams) -> Beside {
        let Ok(meta) = fs::metadata(fasta) else { return Beside::Nothing };
        if !meta.is_file() || is_index_file(fasta) {
            return Beside::Nothing;
        }
        let mut first_passed = Beside::Nothing;
        for path in [default_index_path(fasta), fasta.with_added_extension("swi")] {
            if path == fasta || !path.is_file() {
                continue;
            }
            match Index::check_beside(fasta, &meta, &path, params) {
                Ok(index) => return Beside::Found(path, Box::new(index)),
                Err(why) if matches!(first_passed, Beside::Nothing) => first_passed = Beside::PassedOver(path, why),
                Err(_) => {}
            }
        }
        first_passed
    }

    /// The index at `path` if it may stand for the FASTA ([`Index::find_beside`]), or why not.
    fn check_beside(
        fasta: &Path,
        meta: &fs::Metadata,
        path: &Path,
        params: IndexParams,
    ) -> std::result::Result<Index, String> {
        if !is_index_file(path) {
            return Err("it is not a swmap index".into());
        }
        let modified = fs::metadata(path).and_then(|m| m.modified()).ok();
        if let (Some(index_time), Ok(fasta_time)) = (modified, meta.modified()) {
            if index_time < fasta_time {
                return Err(format!("it is older than {}", fasta.display()));
            }
        }
        let index = Index::load(path).map_err(|e| e.to_string())?;
        if index.params != params {
            let (i, p) = (index.params, params);
            return Err(format!("it was built with -k {} -w {}, not -k {} -w {}", i.k, i.w, p.k, p.w));
        }
        if let Ok(text) = fs::read_to_string(fasta.with_added_extension("fai")) {
            let ours: Vec<(&str, u64)> = index.contigs.iter().map(|c| (c.name.as_str(), c.len)).collect();
            if fai_contigs(&text).as_ref() != Some(&ours) {
                return Err(format!("its contigs are not those {}.fai lists", fasta.display()));
            }
        }
        Ok(index)
    }

    /// Writes the index to `path` (through a temporary file renamed at the end; see
    /// `crate::io::output` for what is refused), as a stream.
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
        w.pad()?;
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
        w.pad()?;
        w.put_ints(&self.buckets, u32::to_le_bytes)?;
        match &self.keys {
            Keys::Narrow(k) => {
                w.put(&2u32.to_le_bytes())?;
                w.pad()?;
                w.put_ints(k, u16::to_le_bytes)?;
            }
            Keys::Wide(k) => {
                w.put(&4u32.to_le_bytes())?;
                w.pad()?;
                w.put_ints(k, u32::to_le_bytes)?;
            }
        }
        w.pad()?;
        w.put_ints(&self.pos, u32::to_le_bytes)?;
        w.pad()?;
        w.put_ints(&self.strand, u64::to_le_bytes)
    }

    /// Loads and checks an index file: mapped read-only where it can be (see the module
    /// notes), else read into memory.
    pub fn load(path: &Path) -> Result<Index> {
        let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        match Mapping::new(&file) {
            Some(map) => map_index(Arc::new(map), path),
            None => read_index(BufReader::with_capacity(1 << 20, file), path),
        }
    }

    /// Whether the index's arrays are views into a mapped file ([`Index::load`]).
    pub fn is_mapped(&self) -> bool {
        self.pos.is_mapped()
    }

    /// Reads a FASTA (plain or gzip) and builds its index in memory.
    pub fn from_fasta(path: &Path, params: IndexParams) -> Result<Index> {
        params.validate()?;
        index_contigs(read_fasta(path)?, path, params)
    }

    /// Loads an index file, or reads a FASTA (plain or gzip) and indexes it in memory: decided
    /// by the first bytes, and the input is read once, so a pipe (`<(zcat ref.fa.gz)`) works.
    pub fn load_or_build(path: &Path, params: IndexParams) -> Result<Index> {
        params.validate()?;
        // A regular file may be looked at twice (and an index in one is mapped); a pipe is
        // read once, from the bytes peeked.
        if fs::metadata(path).is_ok_and(|m| m.is_file()) && is_index_file(path) {
            return Index::load(path);
        }
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
    let mut r = Summed { inner: input, sum: Checksum::new() };
    let mut head = [0u8; 12];
    let n = read_up_to(&mut r.inner, &mut head).map_err(|e| Error::io(path, e))?;
    r.sum.update(&head[..n]);
    check_head(&head[..n], path)?;
    let index = body_or_error(read_body(&mut r), path)?;
    let bad = |msg: &str| Error::index(path, msg);
    let mut stored = [0u8; 8];
    let mut extra = [0u8; 1];
    let ended = r.inner.read_exact(&mut stored).and_then(|()| read_up_to(&mut r.inner, &mut extra));
    match ended {
        Ok(0) if u64::from_le_bytes(stored) == r.sum.finish() => index.ok_or_else(|| bad(DAMAGED)),
        Ok(_) | Err(_) => Err(bad(DAMAGED)),
    }
}

const DAMAGED: &str = "index file is truncated or damaged; rebuild it with `swmap index`";

/// Checks the magic number and the format version at the head of a file.
fn check_head(head: &[u8], path: &Path) -> Result<()> {
    let bad = |msg: &str| Error::index(path, msg);
    if head.len() < 8 || &head[..8] != MAGIC {
        return Err(bad("not a swmap index (wrong magic number); build one with `swmap index`"));
    }
    if head.len() < 12 {
        return Err(bad("index file is truncated; rebuild it with `swmap index`"));
    }
    let version = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "index format version {version}, but this swmap reads version {FORMAT_VERSION}; rebuild it with `swmap index`"
        )));
    }
    Ok(())
}

fn body_or_error(body: Got<Option<Index>>, path: &Path) -> Result<Option<Index>> {
    match body {
        Ok(index) => Ok(index),
        Err(Bad::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => Err(Error::index(path, DAMAGED)),
        Err(Bad::Io(e)) => Err(Error::io(path, e)),
        // Inconsistent lengths: most likely damage the checksum would show too.
        Err(Bad::Damaged) => Err(Error::index(path, DAMAGED)),
    }
}

/// An index whose arrays are views into the mapped file: the checksum first (every page
/// read once, from the page cache when another process has the file mapped), then the fields.
fn map_index(map: Arc<Mapping>, path: &Path) -> Result<Index> {
    let bytes = map.bytes();
    check_head(&bytes[..bytes.len().min(12)], path)?;
    let end = bytes.len().checked_sub(8).filter(|&e| e >= 12).ok_or_else(|| Error::index(path, DAMAGED))?;
    let stored = u64::from_le_bytes(bytes[end..].try_into().expect("8 bytes"));
    if Checksum::of(&bytes[..end]) != stored {
        return Err(Error::index(path, DAMAGED));
    }
    let mut r = Mapped { map: Arc::clone(&map), at: 12, end };
    let index = body_or_error(read_body(&mut r), path)?;
    match index {
        Some(index) if r.at == end => Ok(index),
        _ => Err(Error::index(path, DAMAGED)),
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
fn read_body(r: &mut impl Fields) -> Got<Option<Index>> {
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
    r.pad()?;
    let packed = r.table(total.div_ceil(4), |[b]: [u8; 1]| b)?;
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
    r.pad()?;
    let buckets = r.table((1u64 << bucket_bits) + 1, u32::from_le_bytes)?;
    if *buckets.last().expect("at least two") as u64 != entries || buckets.windows(2).any(|p| p[0] > p[1]) {
        return Err(Bad::Damaged);
    }
    let low_bits = 2 * params.k - bucket_bits;
    let width = r.u32()?;
    r.pad()?;
    let keys = match width {
        2 if low_bits <= 16 => Keys::Narrow(r.table(entries, u16::from_le_bytes)?),
        4 if low_bits <= 32 => Keys::Wide(r.table(entries, u32::from_le_bytes)?),
        _ => return Err(Bad::Damaged),
    };
    r.pad()?;
    let pos = r.table(entries, u32::from_le_bytes)?;
    r.pad()?;
    let strand = r.table(entries.div_ceil(64), u64::from_le_bytes)?;
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
        // 16-bit keys (k = 10) and 32-bit keys (k = 15) round-trip, mapped from a file and
        // read as a stream.
        for k in [10, 15] {
            let idx = Index::build(test_contigs(), IndexParams { k, w: 5 });
            idx.write(&path).unwrap();
            let mapped = Index::load(&path).unwrap();
            assert_eq!(mapped.is_mapped(), cfg!(unix));
            let streamed = Index::from_bytes(&fs::read(&path).unwrap(), &path).unwrap();
            assert!(!streamed.is_mapped() && !idx.is_mapped());
            for back in [mapped, streamed] {
                assert_eq!(back.reference(), idx.reference());
                assert_eq!(back.contigs, idx.contigs);
                assert_eq!((&back.keys, &back.pos, &back.strand), (&idx.keys, &idx.pos, &idx.strand));
                assert_eq!((back.bucket_bits, &back.buckets), (idx.bucket_bits, &idx.buckets));
            }
        }
        assert!(is_index_file(&path));

        // Every refusal, whether the file is mapped or read as a stream.
        let data = fs::read(&path).unwrap();
        let refused = |bytes: &[u8], why: &str| {
            fs::write(&path, bytes).unwrap();
            let mapped = Index::load(&path).unwrap_err().to_string();
            let streamed = Index::from_bytes(bytes, &path).unwrap_err().to_string();
            assert!(mapped.contains(why) && streamed.contains(why), "{mapped} / {streamed}");
        };
        refused(&data[..data.len() - 100], "truncated or damaged");
        refused(&data[..data.len() - 1], "truncated or damaged");
        let mut longer = data.clone();
        longer.extend_from_slice(&[0; 8]);
        refused(&longer, "truncated or damaged");
        let mut flipped = data.clone();
        flipped[data.len() / 2] ^= 1;
        refused(&flipped, "truncated or damaged");
        let mut old = data.clone();
        old[8] = 0;
        refused(&old, "format version 0");
        refused(b">chr1\nACGT\n", "not a swmap index");
        refused(b"SWMAPI", "not a swmap index");
        refused(b"SWMAPIDX\x04\0", "truncated");
        fs::write(&path, b"").unwrap();
        assert!(Index::load(&path).is_err(), "an empty file");
        fs::remove_dir_all(&dir).unwrap();
    }
}
