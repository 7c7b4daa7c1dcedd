//! The reference index: contig names and lengths, the reference itself, and a table of
//! (w,k)-minimizers over both strands (see [`minimizer`]).
//!
//! # In memory
//! Contigs are concatenated into one reference, held 2 bits per base with its N runs apart
//! ([`Reference`]: 0.8 GB for a human genome); a *global position* is an offset into it. The
//! seed table has one entry per (minimizer, place), sorted by hash, then position:
//! `buckets` maps the top `bucket_bits` bits of a hash to the range of entries holding it;
//! within it, `keys[i]` holds the hash's remaining `2k - bucket_bits` bits (16 bits or fewer
//! where the table is large enough, else 32), `pos[i]` the global position (references are
//! under 4 Gbp) and bit `i` of `strand` whether the canonical k-mer is the reverse complement
//! of the forward reference there. An *occurrence* is the packed `(global_pos << 1) |
//! reverse`. About 7.7 bytes per seed on human chr20 (2 + 4 + 1/8, and 1.5 for the bucket
//! starts), against 16 with 64-bit keys and values. Minimizers that occur too often are not
//! removed here; the mapper skips those above its `--max-occ` cut-off, so the cut-off can
//! change without rebuilding.
//!
//! # On disk
//! See [`file`]: magic number, format version, parameters, contigs, the 2-bit packed reference
//! with its list of N runs, the seed table, and a checksum over all of it.

mod file;
pub mod minimizer;
mod reference;
mod table;

use crate::error::Error;
use crate::io::fasta::Contig;
use crate::simd::prefetch;
use minimizer::{minimizers, Minimizer};
use rayon::prelude::*;
use table::Table;

#[cfg(feature = "cli")]
pub(crate) use file::is_index_file;
pub use file::{default_index_path, Beside};
pub use reference::Reference;
#[cfg(feature = "cli")]
pub(crate) use table::exit_on_bus_errors;

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
    /// Checks `k` (10..=28, as minimap2 allows) and `w` (1..=64); the error is a sentence
    /// naming `-k` or `-w`.
    /// [`Index::from_fasta`] and [`Index::load_or_build`] call it; [`Index::build`] does not, so
    /// call it first when building from parameters a user gave.
    pub fn validate(&self) -> crate::Result<()> {
        if !(10..=MAX_K).contains(&self.k) {
            return Err(Error::Options(format!("k-mer length -k must be between 10 and {MAX_K}, got {}", self.k)));
        }
        if !(1..=64).contains(&self.w) {
            return Err(Error::Options(format!("minimizer window -w must be between 1 and 64, got {}", self.w)));
        }
        Ok(())
    }
}

/// Longest k-mer: a hash's bits below the largest bucket directory (2^26 starts) then fit a
/// 32-bit key.
pub const MAX_K: u32 = 28;

/// The hash bits each entry keeps, below the bucket's: 16-bit where they fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Keys {
    Narrow(Table<u16>),
    Wide(Table<u32>),
}

impl Keys {
    /// The entries of `lo..hi` (one bucket, sorted) whose key is `key`.
    #[inline(always)]
    fn find(&self, lo: usize, hi: usize, key: u64) -> (usize, usize) {
        fn run<T: Copy + Into<u64>>(keys: &[T], key: u64) -> (usize, usize) {
            let first = keys.partition_point(|&x| x.into() < key);
            (first, first + keys[first..].partition_point(|&x| x.into() == key))
        }
        let (a, b) = match self {
            Keys::Narrow(k) => run(&k[lo..hi], key),
            Keys::Wide(k) => run(&k[lo..hi], key),
        };
        (lo + a, lo + b)
    }

    /// Asks for the cache line of entry `i`.
    #[inline(always)]
    fn prefetch(&self, i: usize) {
        match self {
            Keys::Narrow(k) => prefetch(&k[i]),
            Keys::Wide(k) => prefetch(&k[i]),
        }
    }
}

/// A contig's name, length and start in the concatenated reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContigInfo {
    /// The first word of its FASTA header line.
    pub name: String,
    /// Length in bases.
    pub len: u64,
    /// Global position of the contig's first base in [`Index::reference`].
    pub offset: u64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Index({} contigs, {} bases, {} seeds)", self.contigs.len(), self.reference.len(), self.pos.len())
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
    /// All contigs' bases, concatenated (packed: see [`Index::reference`]).
    reference: Reference,
    bucket_bits: u32,
    buckets: Table<u32>,
    keys: Keys,
    pos: Table<u32>,
    strand: Table<u64>,
}

impl Index {
    /// Builds the index of `contigs` (uses rayon's pool).
    ///
    /// Memory stays near the reference (one byte per base while building) plus the table:
    /// the contigs are moved into one array one by one, and a table too large to collect at
    /// once (more than `BUILD_PART_BYTES` of `(hash, place)` entries) is built in parts, each
    /// part the entries whose hash falls in one range, found by a pass over the reference
    /// (minimizers are cheap to recompute; a human genome's 540 million entries would take 8.6
    /// GB at once).
    pub fn build(contigs: Vec<Contig>, params: IndexParams) -> Index {
        Index::build_in_parts(contigs, params, BUILD_PART_BYTES)
    }

    /// [`Index::build`] with `budget` bytes of entries collected at once.
    fn build_in_parts(contigs: Vec<Contig>, params: IndexParams, budget: usize) -> Index {
        let total: usize = contigs.iter().map(|c| c.seq.len()).sum();
        let mut infos = Vec::with_capacity(contigs.len());
        let mut seq = Vec::with_capacity(total);
        for c in contigs {
            infos.push(ContigInfo { name: c.name, len: c.seq.len() as u64, offset: seq.len() as u64 });
            seq.extend_from_slice(&c.seq);
        }
        let k = params.k;
        // The top bits of a hash, which the parts split on.
        let top_shift = 2 * k - PART_BITS;
        let scan =
            |keep: &(dyn Fn(u64) -> bool + Sync)| -> Vec<(u64, u64)> { scan_minimizers(&infos, &seq, params, keep) };
        let estimate = 2 * total / (params.w as usize + 1);
        let table = if estimate * 16 <= budget {
            let mut entries = scan(&|_| true);
            // Sized, as in parts, by the entries before seam duplicates are removed.
            let mut table = TableBuilder::new(k, entries.len());
            entries.par_sort_unstable();
            entries.dedup();
            table.append(&entries);
            table
        } else {
            // Count the entries under each top-bits value, then group consecutive values into
            // parts of at most the budget.
            let counts = scan_counts(&infos, &seq, params, top_shift);
            let mut table = TableBuilder::new(k, counts.iter().sum());
            let mut first = 0usize;
            while first < counts.len() {
                let (mut last, mut bytes) = (first, 16 * counts[first]);
                while last + 1 < counts.len() && bytes + 16 * counts[last + 1] <= budget {
                    last += 1;
                    bytes += 16 * counts[last];
                }
                let range = first as u64..=last as u64;
                let mut entries = scan(&|h| range.contains(&(h >> top_shift)));
                entries.par_sort_unstable();
                entries.dedup();
                table.append(&entries);
                first = last + 1;
            }
            table
        };
        let reference = Reference::from_codes(&seq);
        drop(seq);
        let (bucket_bits, buckets, keys, pos, strand) = table.finish();
        Index { params, contigs: infos, reference, bucket_bits, buckets, keys, pos, strand }
    }

    /// The concatenated contigs; global positions index it.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// Occurrence `i` of the table: `(global_pos << 1) | reverse`.
    #[inline(always)]
    pub(crate) fn occurrence(&self, i: usize) -> u64 {
        (self.pos[i] as u64) << 1 | (self.strand[i / 64] >> (i % 64)) & 1
    }

    /// Table entries (`(global_pos << 1) | reverse`) of a minimizer hash.
    pub(crate) fn lookup(&self, hash: u64) -> (u32, u32) {
        let shift = 2 * self.params.k - self.bucket_bits;
        let b = (hash >> shift) as usize;
        let (lo, hi) = (self.buckets[b] as usize, self.buckets[b + 1] as usize);
        let (first, last) = self.keys.find(lo, hi, hash & ((1 << shift) - 1));
        (first as u32, last as u32)
    }

    /// Looks up every hash of `hashes` at once: `out[i]` becomes the range of table entries of
    /// `hashes[i]`, for [`Index::entries_of`]. The same answers as [`Index::lookup`], but the
    /// memory accesses of all hashes overlap: a lookup is three dependent cache misses (the
    /// bucket, the keys, the values) into tables far larger than the caches, so one read's
    /// 30-odd minimizers looked up one by one wait on about 90 misses in a row; here on 3
    /// rounds of misses, each round's prefetched together. The last round asks for the found
    /// entries' positions and strands, which the caller reads next.
    #[cfg(test)]
    pub(crate) fn lookup_many(&self, hashes: &[u64], out: &mut Vec<(u32, u32)>) {
        let shift = 2 * self.params.k - self.bucket_bits;
        out.clear();
        for &h in hashes {
            prefetch(&self.buckets[(h >> shift) as usize]);
        }
        out.extend(hashes.iter().map(|&h| self.bucket_of(h, shift)));
        for (range, &h) in out.iter_mut().zip(hashes) {
            *range = self.search_bucket(*range, h, shift);
        }
    }

    /// [`Index::lookup_many`] for the minimizers of many reads at once (a block of reads'
    /// hashes, concatenated), as a software pipeline: while hash `i` is searched in its
    /// bucket's keys, the bucket of hash `i + LOOKUP_AHEAD` is read and its keys asked for,
    /// and that of hash `i + 2 * LOOKUP_AHEAD` is asked for. [`Index::lookup_many`] waits three
    /// times per read for its rounds to arrive from memory; here the waits of one hash overlap
    /// the work of the next ones, across reads. The same answers.
    pub(crate) fn lookup_stream(&self, hashes: &[u64], out: &mut Vec<(u32, u32)>) {
        const D: usize = LOOKUP_AHEAD;
        let shift = 2 * self.params.k - self.bucket_bits;
        let n = hashes.len();
        out.clear();
        out.resize(n, (0, 0));
        for i in 0..n + 2 * D {
            if let Some(&h) = hashes.get(i) {
                prefetch(&self.buckets[(h >> shift) as usize]);
            }
            if let Some(j) = i.checked_sub(D).filter(|&j| j < n) {
                out[j] = self.bucket_of(hashes[j], shift);
            }
            if let Some(j) = i.checked_sub(2 * D).filter(|&j| j < n) {
                out[j] = self.search_bucket(out[j], hashes[j], shift);
            }
        }
    }

    /// The entries of the bucket of `hash` (the top bits, below `shift`), its first and last
    /// keys and first position asked for. A bucket of a few keys may still cross into a
    /// second cache line, which the search would otherwise wait for.
    #[inline(always)]
    fn bucket_of(&self, hash: u64, shift: u32) -> (u32, u32) {
        let b = (hash >> shift) as usize;
        let (lo, hi) = (self.buckets[b], self.buckets[b + 1]);
        if lo < hi {
            self.keys.prefetch(lo as usize);
            self.keys.prefetch(hi as usize - 1);
            prefetch(&self.pos[lo as usize]);
        }
        (lo, hi)
    }

    /// The entries of `hash` within its bucket's (`bucket`), their positions and strands
    /// asked for.
    #[inline(always)]
    fn search_bucket(&self, bucket: (u32, u32), hash: u64, shift: u32) -> (u32, u32) {
        let (first, last) = self.keys.find(bucket.0 as usize, bucket.1 as usize, hash & ((1 << shift) - 1));
        if first < last {
            prefetch(&self.pos[first]);
            prefetch(&self.strand[first / 64]);
        }
        (first as u32, last as u32)
    }

    /// Asks the CPU to bring in every cache line of the entries of `range` (positions and
    /// strands), without waiting: [`Index::lookup_many`] asks for the first line only.
    #[inline]
    pub(crate) fn prefetch_entries(&self, range: (u32, u32)) {
        let (first, last) = (range.0 as usize, range.1 as usize);
        if first < last {
            for i in (first..last).step_by(16).skip(1) {
                prefetch(&self.pos[i]);
            }
            prefetch(&self.pos[last - 1]);
            prefetch(&self.strand[(last - 1) / 64]);
        }
    }

    /// The occurrences (`(global_pos << 1) | reverse`) of a range from [`Index::lookup`] or
    /// [`Index::lookup_many`].
    pub(crate) fn entries_of(&self, range: (u32, u32)) -> impl ExactSizeIterator<Item = u64> + '_ {
        (range.0 as usize..range.1 as usize).map(|i| self.occurrence(i))
    }

    /// Contig holding a global position.
    pub(crate) fn contig_of(&self, gpos: u64) -> usize {
        self.contigs.partition_point(|c| c.offset <= gpos) - 1
    }

    /// Number of seed-table entries.
    pub fn entries(&self) -> usize {
        self.pos.len()
    }

    /// Bytes the seed table takes in memory (keys, positions, strands, bucket starts).
    pub fn table_bytes(&self) -> usize {
        let keys = match &self.keys {
            Keys::Narrow(k) => 2 * k.len(),
            Keys::Wide(k) => 4 * k.len(),
        };
        keys + 4 * self.pos.len() + 8 * self.strand.len() + 4 * self.buckets.len()
    }

    /// Total reference length.
    pub fn total_len(&self) -> u64 {
        self.reference.len()
    }
}

/// How many hashes apart the stages of [`Index::lookup_stream`] work: of 4 to 32 tried on
/// human chr20 (blocks of 16 to 64 reads), 16 to 24 were best, within a few percent.
pub const LOOKUP_AHEAD: usize = 16;

/// Bytes of `(hash, place)` entries [`Index::build`] collects at once.
pub const BUILD_PART_BYTES: usize = 1 << 30;

/// Bits of the hash the build's parts split on.
const PART_BITS: u32 = 8;

/// Chunks of the reference whose minimizers are found in parallel; chunks overlap by a window
/// so that no minimizer is lost at a seam (duplicates at seams are removed after sorting).
const SCAN_CHUNK: usize = 1 << 22;

/// Every chunk of every contig, with the reference bases it covers.
fn scan_chunks<'a>(
    infos: &'a [ContigInfo],
    seq: &'a [u8],
    params: IndexParams,
) -> impl IndexedParallelIterator<Item = (&'a [u8], u32)> + 'a {
    let overlap = (params.k + params.w) as usize;
    // Listed first and handed out one by one: the chunks of one long contig run in parallel
    // too, and a few long contigs among thousands of short ones do not land on one thread.
    let chunks: Vec<(usize, usize, usize)> = infos
        .iter()
        .flat_map(|ci| {
            let (start, len) = (ci.offset as usize, ci.len as usize);
            (0..len.div_ceil(SCAN_CHUNK)).map(move |c| (start, len, c))
        })
        .collect();
    chunks.into_par_iter().with_max_len(1).map(move |(start, len, c)| {
        let lo = c * SCAN_CHUNK;
        let hi = ((c + 1) * SCAN_CHUNK + overlap).min(len);
        (&seq[start + lo..start + hi], (start + lo) as u32)
    })
}

/// The `(hash, (place << 1) | reverse)` entries whose hash `keep` takes, unsorted.
fn scan_minimizers(
    infos: &[ContigInfo],
    seq: &[u8],
    params: IndexParams,
    keep: &(dyn Fn(u64) -> bool + Sync),
) -> Vec<(u64, u64)> {
    let (k, w) = (params.k as usize, params.w as usize);
    let parts: Vec<Vec<(u64, u64)>> = scan_chunks(infos, seq, params)
        .map(|(bases, base)| {
            let mut out: Vec<Minimizer> = Vec::new();
            minimizers(bases, k, w, base, &mut out);
            // From a borrowing iterator: collecting from `out` itself would reuse its buffer,
            // holding room for every minimizer when a part keeps a tenth of them.
            out.iter().filter(|m| keep(m.hash)).map(|m| (m.hash, ((m.pos as u64) << 1) | m.reverse as u64)).collect()
        })
        .collect();
    // Concatenated in parallel (the zeroed vector's pages are only touched by the copies).
    let mut all = vec![(0u64, 0u64); parts.iter().map(Vec::len).sum()];
    let mut slices = Vec::with_capacity(parts.len());
    let mut rest = &mut all[..];
    for p in &parts {
        let (dst, tail) = rest.split_at_mut(p.len());
        slices.push(dst);
        rest = tail;
    }
    parts.into_par_iter().zip(slices).for_each(|(src, dst)| dst.copy_from_slice(&src));
    all
}

/// Minimizers (seams counted twice) per value of a hash's bits above `shift`.
fn scan_counts(infos: &[ContigInfo], seq: &[u8], params: IndexParams, shift: u32) -> Vec<usize> {
    let (k, w) = (params.k as usize, params.w as usize);
    scan_chunks(infos, seq, params)
        .fold(
            || (vec![0usize; 1 << PART_BITS], Vec::new()),
            |(mut counts, mut out), (bases, base)| {
                out.clear();
                minimizers(bases, k, w, base, &mut out);
                out.iter().for_each(|m| counts[(m.hash >> shift) as usize] += 1);
                (counts, out)
            },
        )
        .map(|(counts, _)| counts)
        .reduce(|| vec![0usize; 1 << PART_BITS], |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect())
}

/// The seed table, filled with sorted, distinct entries in hash order.
struct TableBuilder {
    k: u32,
    bucket_bits: u32,
    keys: BuildKeys,
    pos: Vec<u32>,
    strand: Vec<u64>,
    /// Entries per bucket, at `bucket + 1` (made cumulative by `finish`).
    buckets: Vec<u32>,
}

impl TableBuilder {
    /// A table for about `entries` entries (which sets the bucket directory's size).
    fn new(k: u32, entries: usize) -> TableBuilder {
        let bucket_bits = bucket_bits_for(entries, k);
        let keys = if 2 * k - bucket_bits <= 16 {
            BuildKeys::Narrow(Vec::with_capacity(entries))
        } else {
            BuildKeys::Wide(Vec::with_capacity(entries))
        };
        TableBuilder {
            k,
            bucket_bits,
            keys,
            pos: Vec::with_capacity(entries),
            strand: Vec::with_capacity(entries.div_ceil(64)),
            buckets: vec![0u32; (1usize << bucket_bits) + 1],
        }
    }

    /// Appends entries that sort after every entry already in.
    fn append(&mut self, entries: &[(u64, u64)]) {
        let shift = 2 * self.k - self.bucket_bits;
        let low = (1u64 << shift) - 1;
        match &mut self.keys {
            BuildKeys::Narrow(keys) => keys.extend(entries.iter().map(|&(h, _)| (h & low) as u16)),
            BuildKeys::Wide(keys) => keys.extend(entries.iter().map(|&(h, _)| (h & low) as u32)),
        }
        for &(h, v) in entries {
            let i = self.pos.len();
            if i.is_multiple_of(64) {
                self.strand.push(0);
            }
            self.strand[i / 64] |= (v & 1) << (i % 64);
            self.pos.push((v >> 1) as u32);
            self.buckets[(h >> shift) as usize + 1] += 1;
        }
    }

    /// Bucket bits, cumulative bucket starts, keys, positions, strands.
    fn finish(mut self) -> (u32, Table<u32>, Keys, Table<u32>, Table<u64>) {
        for i in 1..self.buckets.len() {
            self.buckets[i] += self.buckets[i - 1];
        }
        let keys = match self.keys {
            BuildKeys::Narrow(k) => Keys::Narrow(k.into()),
            BuildKeys::Wide(k) => Keys::Wide(k.into()),
        };
        (self.bucket_bits, self.buckets.into(), keys, self.pos.into(), self.strand.into())
    }
}

/// [`Keys`] while the table is built.
enum BuildKeys {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

/// About one bucket per two entries, between 2^8 and 2^26 buckets, never more bits than the hash.
fn bucket_bits_for(entries: usize, k: u32) -> u32 {
    // About two entries per bucket (a 16-bit key below the bucket for k = 19 on human chr20),
    // and never more than 32 bits of key below it.
    let bits = (usize::BITS - entries.max(1).leading_zeros()).saturating_sub(2);
    bits.max((2 * k).saturating_sub(32)).clamp(8, 26).min(2 * k)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn test_contigs() -> Vec<Contig> {
        let mut rng = crate::rng::Rng::new(12345);
        let mut rnd = |n: usize| -> Vec<u8> { (0..n).map(|_| rng.base()).collect() };
        let mut a = rnd(5000);
        a[2000..2100].fill(4);
        vec![Contig { name: "a".into(), seq: a }, Contig { name: "b".into(), seq: rnd(3000) }]
    }

    /// A table built in parts (each a range of hashes, from its own pass over the reference)
    /// is the table built at once.
    #[test]
    fn building_in_parts_gives_the_same_index() {
        // Two contigs longer than a scan chunk, so that seams are crossed.
        let mut rng = crate::rng::Rng::new(77);
        let contigs: Vec<Contig> = (0..2)
            .map(|i| Contig {
                name: format!("c{i}"),
                seq: (0..SCAN_CHUNK + 100_000 * (i + 1)).map(|_| rng.base()).collect(),
            })
            .collect();
        let params = IndexParams::default();
        let whole = Index::build_in_parts(contigs.clone(), params, usize::MAX);
        for budget in [1 << 20, 4 << 20] {
            let parts = Index::build_in_parts(contigs.clone(), params, budget);
            assert_eq!(parts.bucket_bits, whole.bucket_bits);
            assert!(parts.buckets == whole.buckets, "budget {budget}: buckets differ");
            assert!(parts.keys == whole.keys && parts.pos == whole.pos && parts.strand == whole.strand);
            assert_eq!(parts.reference(), whole.reference());
        }
    }

    #[test]
    fn every_reference_kmer_minimizer_is_found_by_lookup() {
        // k = 15: 32-bit keys below the bucket; k = 10: 16-bit keys.
        for (k, w, narrow) in [(15, 5, false), (10, 3, true)] {
            let idx = Index::build(test_contigs(), IndexParams { k, w });
            assert_eq!(matches!(idx.keys, Keys::Narrow(_)), narrow, "k = {k}");
            assert_eq!(idx.contigs[1].offset, 5000);
            let mut mins = Vec::new();
            minimizers(idx.reference.fetch(5000..8000, &mut Vec::new()), k as usize, w as usize, 5000, &mut mins);
            assert!(!mins.is_empty());
            for m in &mins {
                let hits: Vec<u64> = idx.entries_of(idx.lookup(m.hash)).collect();
                assert!(hits.contains(&(((m.pos as u64) << 1) | m.reverse as u64)));
                assert!(hits.windows(2).all(|h| h[0] < h[1]), "occurrences in position order");
                assert_eq!(idx.contig_of(m.pos as u64), 1);
                let mut many = Vec::new();
                idx.lookup_many(&[m.hash, m.hash ^ 1], &mut many);
                assert_eq!(many[0], idx.lookup(m.hash));
            }
            // The streamed lookup, over fewer hashes than its pipeline is deep and over many
            // (with absent ones among them), answers as one lookup per hash.
            let hashes: Vec<u64> = mins
                .iter()
                .flat_map(|m| [m.hash, m.hash ^ 1, m.hash.wrapping_mul(3) & ((1u64 << (2 * k)) - 1)])
                .collect();
            for n in [0, 1, 5, LOOKUP_AHEAD, 2 * LOOKUP_AHEAD + 3, hashes.len()] {
                let mut streamed = Vec::new();
                idx.lookup_stream(&hashes[..n], &mut streamed);
                let one_by_one: Vec<(u32, u32)> = hashes[..n].iter().map(|&h| idx.lookup(h)).collect();
                assert_eq!(streamed, one_by_one, "{n} hashes");
            }
            assert_eq!(idx.contig_of(4999), 0);
        }
    }
}
