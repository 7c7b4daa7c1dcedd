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
//! checksum   u64      over every byte before it
//! ```
//! The whole file is read and checked before any of it is used, so a truncated, damaged or
//! foreign file is refused with a message rather than mapped against.

use super::{ContigInfo, Index, IndexParams, Keys};
use crate::error::{Error, Result};
use crate::io::fasta::{parse_fasta, read_fasta, Contig};
use crate::io::input;
use crate::io::output::OutputFile;
use std::fs;
use std::io::{Read, Write};
use std::path::Path;

pub(crate) const MAGIC: &[u8; 8] = b"SWMAPIDX";
/// Bump on any change of the layout above (2: 16- or 32-bit keys, 32-bit positions and a
/// strand bit per entry, instead of 64-bit keys and values).
pub const FORMAT_VERSION: u32 = 2;

/// A fast 64-bit checksum over 8-byte words (corruption detection, not cryptography).
fn checksum(data: &[u8]) -> u64 {
    let mut h = 0x243f_6a88_85a3_08d3u64 ^ data.len() as u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap());
        h = (h.rotate_left(23) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h ^ (h >> 29)
}

/// Appends `words` little-endian.
fn extend_le(b: &mut Vec<u8>, words: &[u32]) {
    b.reserve(4 * words.len());
    words.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
}

/// True when the file at `path` starts with the index magic number (it is not a FASTA).
pub fn is_index_file(path: &Path) -> bool {
    let mut head = [0u8; 8];
    fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == MAGIC
}

impl Index {
    /// Writes the index to `path` (through a temporary file renamed at the end; see
    /// [`crate::io::output`] for what is refused).
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut b: Vec<u8> = Vec::with_capacity(64 + self.seq.len() / 4 + self.table_bytes());
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&self.params.k.to_le_bytes());
        b.extend_from_slice(&self.params.w.to_le_bytes());
        b.extend_from_slice(&(self.contigs.len() as u32).to_le_bytes());
        for c in &self.contigs {
            b.extend_from_slice(&(c.name.len() as u32).to_le_bytes());
            b.extend_from_slice(c.name.as_bytes());
            b.extend_from_slice(&c.len.to_le_bytes());
        }
        b.extend_from_slice(&(self.seq.len() as u64).to_le_bytes());
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for chunk in self.seq.chunks(4) {
            let mut byte = 0u8;
            for (i, &c) in chunk.iter().enumerate() {
                byte |= (c & 3) << (2 * i);
            }
            b.push(byte);
        }
        for (i, &c) in self.seq.iter().enumerate() {
            if c > 3 {
                match runs.last_mut() {
                    Some((s, l)) if *s + *l == i as u64 => *l += 1,
                    _ => runs.push((i as u64, 1)),
                }
            }
        }
        b.extend_from_slice(&(runs.len() as u64).to_le_bytes());
        for (s, l) in runs {
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(&l.to_le_bytes());
        }
        b.extend_from_slice(&self.bucket_bits.to_le_bytes());
        b.extend_from_slice(&(self.pos.len() as u64).to_le_bytes());
        extend_le(&mut b, &self.buckets);
        match &self.keys {
            Keys::Narrow(k) => {
                b.extend_from_slice(&2u32.to_le_bytes());
                k.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
            }
            Keys::Wide(k) => {
                b.extend_from_slice(&4u32.to_le_bytes());
                extend_le(&mut b, k);
            }
        }
        extend_le(&mut b, &self.pos);
        self.strand.iter().for_each(|x| b.extend_from_slice(&x.to_le_bytes()));
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());

        let (mut file, guard) = OutputFile::create(path, &[])?;
        file.write_all(&b).and_then(|_| file.sync_all()).map_err(|e| Error::io(path, e))?;
        drop(file);
        guard.commit()
    }

    /// Loads and checks an index file.
    pub fn load(path: &Path) -> Result<Index> {
        let data = fs::read(path).map_err(|e| Error::io(path, e))?;
        Index::from_bytes(&data, path)
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
        let (head, mut input) = input::peek(input::open_raw(path)?, MAGIC.len(), path)?;
        if head == MAGIC {
            let mut data = Vec::new();
            input.read_to_end(&mut data).map_err(|e| Error::io(path, e))?;
            return Index::from_bytes(&data, path);
        }
        let contigs = parse_fasta(input::decompress(head, input), path)?;
        index_contigs(contigs, path, params)
    }

    /// Checks and parses an index file's bytes; `path` names it in errors.
    pub fn from_bytes(data: &[u8], path: &Path) -> Result<Index> {
        let bad = |msg: String| Error::index(path, msg);
        if data.len() < 12 || &data[..8] != MAGIC {
            return Err(bad("not a swmap index (wrong magic number); build one with `swmap index`".into()));
        }
        let version = u32::from_le_bytes(data[8..12].try_into().unwrap());
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "index format version {version}, but this swmap reads version {FORMAT_VERSION}; rebuild it with `swmap index`"
            )));
        }
        if data.len() < 20 {
            return Err(bad("index file is truncated".into()));
        }
        let (body, tail) = data.split_at(data.len() - 8);
        if checksum(body) != u64::from_le_bytes(tail.try_into().unwrap()) {
            return Err(bad(
                "index file is truncated or damaged (checksum mismatch); rebuild it with `swmap index`".into()
            ));
        }
        parse(body)
            .ok_or_else(|| bad("index file is damaged (inconsistent lengths); rebuild it with `swmap index`".into()))
    }
}

fn index_contigs(contigs: Vec<Contig>, path: &Path, params: IndexParams) -> Result<Index> {
    let total: u64 = contigs.iter().map(|c| c.seq.len() as u64).sum();
    if total >= u32::MAX as u64 {
        return Err(Error::input(path, "whole file", "references of 4 Gbp or more are not supported"));
    }
    Ok(Index::build(contigs, params))
}

/// Cursor over the checked body; `None` on any inconsistency.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn vec_u64(&mut self, n: usize) -> Option<Vec<u64>> {
        Some(self.take(n.checked_mul(8)?)?.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
    }
    fn vec_u32(&mut self, n: usize) -> Option<Vec<u32>> {
        Some(self.take(n.checked_mul(4)?)?.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect())
    }
    fn vec_u16(&mut self, n: usize) -> Option<Vec<u16>> {
        Some(self.take(n.checked_mul(2)?)?.chunks_exact(2).map(|c| u16::from_le_bytes(c.try_into().unwrap())).collect())
    }
}

fn parse(body: &[u8]) -> Option<Index> {
    let mut c = Cursor(&body[12..]);
    let params = IndexParams { k: c.u32()?, w: c.u32()? };
    params.validate().ok()?;
    let n_contigs = c.u32()? as usize;
    let mut contigs = Vec::with_capacity(n_contigs.min(1 << 20));
    let mut offset = 0u64;
    for _ in 0..n_contigs {
        let nl = c.u32()? as usize;
        let name = String::from_utf8(c.take(nl)?.to_vec()).ok()?;
        let len = c.u64()?;
        contigs.push(ContigInfo { name, len, offset });
        offset = offset.checked_add(len)?;
    }
    let total = c.u64()?;
    if total != offset {
        return None;
    }
    let packed = c.take(total.div_ceil(4) as usize)?;
    let mut seq = Vec::with_capacity(total as usize);
    for &byte in packed {
        for i in 0..4 {
            seq.push((byte >> (2 * i)) & 3);
        }
    }
    seq.truncate(total as usize);
    let n_runs = c.u64()? as usize;
    for _ in 0..n_runs {
        let (s, l) = (c.u64()? as usize, c.u64()? as usize);
        seq.get_mut(s..s.checked_add(l)?)?.fill(4);
    }
    let bucket_bits = c.u32()?;
    if !(1..=2 * params.k).contains(&bucket_bits) || bucket_bits > 32 {
        return None;
    }
    let entries = c.u64()? as usize;
    let nb = (1usize << bucket_bits) + 1;
    let buckets: Vec<u32> =
        c.take(nb * 4)?.chunks_exact(4).map(|x| u32::from_le_bytes(x.try_into().unwrap())).collect();
    if *buckets.last()? as usize != entries || buckets.windows(2).any(|p| p[0] > p[1]) {
        return None;
    }
    let low_bits = 2 * params.k - bucket_bits;
    let keys = match c.u32()? {
        2 if low_bits <= 16 => Keys::Narrow(c.vec_u16(entries)?),
        4 if low_bits <= 32 => Keys::Wide(c.vec_u32(entries)?),
        _ => return None,
    };
    let pos = c.vec_u32(entries)?;
    let strand = c.vec_u64(entries.div_ceil(64))?;
    if !c.0.is_empty() || pos.iter().any(|&p| p as u64 >= total) {
        return None;
    }
    Some(Index { params, contigs, seq, bucket_bits, buckets, keys, pos, strand })
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
            assert_eq!(back.seq, idx.seq);
            assert_eq!(back.contigs, idx.contigs);
            assert_eq!((&back.keys, &back.pos, &back.strand), (&idx.keys, &idx.pos, &idx.strand));
        }
        assert!(is_index_file(&path));

        let data = fs::read(&path).unwrap();
        fs::write(&path, &data[..data.len() - 100]).unwrap();
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
