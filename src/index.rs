//! The reference index: contig names and lengths, the reference itself, and a table of
//! (w,k)-minimizers over both strands (see [`minimizer`]).
//!
//! # In memory
//! Contigs are concatenated into one array of base codes; a *global position* is an offset
//! into it. The seed table is sorted by minimizer hash: `keys[i]` is a hash, `vals[i]` is
//! `(global_pos << 1) | reverse` where `reverse` says the canonical k-mer is the reverse
//! complement of the forward reference there. `buckets` maps the top `bucket_bits` bits of a
//! hash to the range of entries holding it. Minimizers that occur too often are not removed
//! here; the mapper skips those above its `--max-occ` cut-off, so the cut-off can change
//! without rebuilding.
//!
//! # On disk
//! See [`file`]: magic number, format version, parameters, contigs, the 2-bit packed reference
//! with its list of N runs, the seed table, and a checksum over all of it.

mod file;
pub mod minimizer;

use crate::io::fasta::Contig;
use minimizer::{minimizers, Minimizer};
use rayon::prelude::*;

pub use file::{is_index_file, FORMAT_VERSION};

/// Seed parameters, stored in the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexParams {
    /// k-mer length (10..=31).
    pub k: u32,
    /// Minimizer window, in k-mers.
    pub w: u32,
}

impl Default for IndexParams {
    /// k = 19 (bwa-mem's minimum seed length), w = 10: about one seed per 5.5 bases.
    fn default() -> Self {
        IndexParams { k: 19, w: 10 }
    }
}

impl IndexParams {
    /// Checks `k` (10..=31) and `w` (1..=64); the error is a sentence naming `-k` or `-w`.
    /// [`Index::from_fasta`] and [`Index::load_or_build`] call it; [`Index::build`] does not, so
    /// call it first when building from parameters a user gave.
    pub fn validate(&self) -> Result<(), String> {
        if !(10..=31).contains(&self.k) {
            return Err(format!("k-mer length -k must be between 10 and 31, got {}", self.k));
        }
        if !(1..=64).contains(&self.w) {
            return Err(format!("minimizer window -w must be between 1 and 64, got {}", self.w));
        }
        Ok(())
    }
}

/// A contig's name, length and start in the concatenated reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContigInfo {
    /// The first word of its FASTA header line.
    pub name: String,
    /// Length in bases.
    pub len: u64,
    /// Global position of the contig's first base in [`Index::seq`].
    pub offset: u64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Index({} contigs, {} bases, {} seeds)", self.contigs.len(), self.seq.len(), self.keys.len())
    }
}

/// The reference index: contigs, their concatenated bases and the minimizer seed table.
/// Build it with [`Index::build`] or [`Index::from_fasta`], or read one with [`Index::load`];
/// see the module documentation for the layout.
pub struct Index {
    /// The k-mer length and window it was built with.
    pub params: IndexParams,
    /// The contigs, in FASTA order; a hit's `contig` indexes this.
    pub contigs: Vec<ContigInfo>,
    /// All contigs' base codes, concatenated.
    pub seq: Vec<u8>,
    bucket_bits: u32,
    buckets: Vec<u32>,
    keys: Vec<u64>,
    vals: Vec<u64>,
}

impl Index {
    /// Builds the index of `contigs` (uses rayon's pool).
    pub fn build(contigs: Vec<Contig>, params: IndexParams) -> Index {
        let mut infos = Vec::with_capacity(contigs.len());
        let total: usize = contigs.iter().map(|c| c.seq.len()).sum();
        let mut seq = Vec::with_capacity(total);
        for c in &contigs {
            infos.push(ContigInfo { name: c.name.clone(), len: c.seq.len() as u64, offset: seq.len() as u64 });
            seq.extend_from_slice(&c.seq);
        }
        drop(contigs);
        // Minimizers per chunk of the genome in parallel; chunks overlap by a window so that
        // no minimizer is lost at a seam, and duplicates at seams are removed after sorting.
        let (k, w) = (params.k as usize, params.w as usize);
        let chunk = 1 << 22;
        let overlap = k + w;
        let mut entries: Vec<(u64, u64)> = infos
            .par_iter()
            .flat_map_iter(|ci| {
                let (start, len) = (ci.offset as usize, ci.len as usize);
                (0..len.div_ceil(chunk)).map(move |c| (start, len, c))
            })
            .flat_map_iter(|(start, len, c)| {
                let lo = c * chunk;
                let hi = ((c + 1) * chunk + overlap).min(len);
                let mut out: Vec<Minimizer> = Vec::new();
                minimizers(&seq[start + lo..start + hi], k, w, (start + lo) as u32, &mut out);
                out.into_iter().map(|m| (m.hash, ((m.pos as u64) << 1) | m.reverse as u64))
            })
            .collect();
        entries.par_sort_unstable();
        entries.dedup();
        let bucket_bits = bucket_bits_for(entries.len(), params.k);
        let (keys, vals): (Vec<u64>, Vec<u64>) = entries.into_iter().unzip();
        let buckets = bucket_directory(&keys, bucket_bits, params.k);
        Index { params, contigs: infos, seq, bucket_bits, buckets, keys, vals }
    }

    /// Table entries (`(global_pos << 1) | reverse`) of a minimizer hash.
    pub fn lookup(&self, hash: u64) -> &[u64] {
        let b = (hash >> (2 * self.params.k - self.bucket_bits)) as usize;
        let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        let keys = &self.keys[lo..hi];
        let first = keys.partition_point(|&x| x < hash);
        let last = first + keys[first..].partition_point(|&x| x == hash);
        &self.vals[lo + first..lo + last]
    }

    /// Looks up every hash of `hashes` at once: `out[i]` becomes the range of table entries of
    /// `hashes[i]`, for [`Index::entries_of`]. The same answers as [`Index::lookup`], but the
    /// memory accesses of all hashes overlap: a lookup is three dependent cache misses (the
    /// bucket, the keys, the values) into tables far larger than the caches, so one read's
    /// 30-odd minimizers looked up one by one wait on about 90 misses in a row; here on 3
    /// rounds of misses, each round's prefetched together.
    pub fn lookup_many(&self, hashes: &[u64], out: &mut Vec<(u32, u32)>) {
        let shift = 2 * self.params.k - self.bucket_bits;
        out.clear();
        for &h in hashes {
            prefetch(&self.buckets[(h >> shift) as usize]);
        }
        for &h in hashes {
            let b = (h >> shift) as usize;
            let (lo, hi) = (self.buckets[b], self.buckets[b + 1]);
            if lo < hi {
                prefetch(&self.keys[lo as usize]);
                prefetch(&self.vals[lo as usize]);
            }
            out.push((lo, hi));
        }
        for (range, &h) in out.iter_mut().zip(hashes) {
            let (lo, hi) = (range.0 as usize, range.1 as usize);
            let keys = &self.keys[lo..hi];
            let first = keys.partition_point(|&x| x < h);
            let last = first + keys[first..].partition_point(|&x| x == h);
            *range = ((lo + first) as u32, (lo + last) as u32);
        }
    }

    /// The table entries (`(global_pos << 1) | reverse`) of a range from [`Index::lookup_many`].
    pub fn entries_of(&self, range: (u32, u32)) -> &[u64] {
        &self.vals[range.0 as usize..range.1 as usize]
    }

    /// Contig holding a global position.
    pub fn contig_of(&self, gpos: u64) -> usize {
        self.contigs.partition_point(|c| c.offset <= gpos) - 1
    }

    /// Number of seed-table entries.
    pub fn entries(&self) -> usize {
        self.keys.len()
    }

    /// Total reference length.
    pub fn total_len(&self) -> u64 {
        self.seq.len() as u64
    }
}

/// Asks the CPU to bring `x`'s cache line in, without waiting for it.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it reads nothing and cannot fault, and SSE is part of
    // every x86-64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch(x as *const T as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// About one bucket per two entries, between 2^8 and 2^26 buckets, never more bits than the hash.
fn bucket_bits_for(entries: usize, k: u32) -> u32 {
    let bits = (usize::BITS - entries.max(1).leading_zeros()).saturating_sub(1);
    bits.clamp(8, 26).min(2 * k)
}

fn bucket_directory(keys: &[u64], bits: u32, k: u32) -> Vec<u32> {
    let shift = 2 * k - bits;
    let mut buckets = vec![0u32; (1usize << bits) + 1];
    for &key in keys {
        buckets[(key >> shift) as usize + 1] += 1;
    }
    for i in 1..buckets.len() {
        buckets[i] += buckets[i - 1];
    }
    buckets
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn test_contigs() -> Vec<Contig> {
        let mut x = 12345u64;
        let mut rnd = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 4) as u8
                })
                .collect()
        };
        let mut a = rnd(5000);
        a[2000..2100].fill(4);
        vec![Contig { name: "a".into(), seq: a }, Contig { name: "b".into(), seq: rnd(3000) }]
    }

    #[test]
    fn every_reference_kmer_minimizer_is_found_by_lookup() {
        let idx = Index::build(test_contigs(), IndexParams { k: 15, w: 5 });
        assert_eq!(idx.contigs[1].offset, 5000);
        let mut mins = Vec::new();
        minimizers(&idx.seq[5000..8000], 15, 5, 5000, &mut mins);
        assert!(!mins.is_empty());
        for m in mins {
            let hits = idx.lookup(m.hash);
            assert!(hits.contains(&(((m.pos as u64) << 1) | m.reverse as u64)));
            assert_eq!(idx.contig_of(m.pos as u64), 1);
        }
        assert_eq!(idx.contig_of(4999), 0);
    }
}
