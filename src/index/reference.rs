//! The concatenated reference in memory as on disk: 2 bits per base (A0 C1 G2 T3, four per
//! byte, the first in the low bits) and the N runs apart, so a human genome takes 0.8 GB
//! instead of 3.1. Windows are decoded into a caller's buffer when they are needed
//! ([`Reference::fetch`]): a few hundred bases per alignment, a 256-entry table per byte.

use super::table::Table;
use crate::simd::prefetch;
use rayon::prelude::*;
use std::ops::Range;

/// The four base codes of each packed byte.
static UNPACK: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [(b & 3) as u8, (b >> 2 & 3) as u8, (b >> 4 & 3) as u8, (b >> 6 & 3) as u8];
        b += 1;
    }
    t
};

/// Base codes 0-4 (4 = N) of the concatenated contigs, stored packed.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// Tells this reference (and its clones) from every other one in the process, so that a
    /// GPU holding a copy knows which batches may point into it ([`Reference::id`]).
    id: u64,
    /// 2-bit codes, four per byte; an N is stored as 0 (A).
    packed: Table<u8>,
    len: u64,
    /// Maximal runs of N, `(start, length)`, sorted and apart.
    n_runs: Vec<(u64, u64)>,
}

impl PartialEq for Reference {
    fn eq(&self, other: &Reference) -> bool {
        (self.len, &self.n_runs, &self.packed) == (other.len, &other.n_runs, &other.packed)
    }
}

impl Eq for Reference {}

/// A fresh [`Reference::id`].
fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Reference {
    /// An identity that this reference and its clones share and no other one in the process
    /// has: a batch's windows taken from it can be found again in a copy of it by position.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Packs base codes 0-4 (anything above 3 is an N).
    pub fn from_codes(codes: &[u8]) -> Reference {
        let packed: Vec<u8> = codes
            .par_chunks(4)
            .map(|c| c.iter().enumerate().fold(0u8, |byte, (i, &x)| byte | (x & 3) << (2 * i)))
            .collect();
        let mut n_runs: Vec<(u64, u64)> = Vec::new();
        for (i, _) in codes.iter().enumerate().filter(|&(_, &c)| c > 3) {
            match n_runs.last_mut() {
                Some((s, l)) if *s + *l == i as u64 => *l += 1,
                _ => n_runs.push((i as u64, 1)),
            }
        }
        Reference { id: next_id(), packed: packed.into(), len: codes.len() as u64, n_runs }
    }

    /// From the file's parts: `len` bases packed in `packed` (exactly `len.div_ceil(4)`
    /// bytes) and the N runs; `None` when they do not fit together (runs out of order,
    /// overlapping or touching, or past the end).
    pub(crate) fn from_parts(packed: Table<u8>, len: u64, n_runs: Vec<(u64, u64)>) -> Option<Reference> {
        if packed.len() as u64 != len.div_ceil(4) {
            return None;
        }
        let mut reach = 0u64;
        for (i, &(s, l)) in n_runs.iter().enumerate() {
            let end = s.checked_add(l)?;
            if l == 0 || end > len || (i > 0 && s <= reach) {
                return None;
            }
            reach = end;
        }
        Some(Reference { id: next_id(), packed, len, n_runs })
    }

    /// Number of bases.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty reference.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed bytes, as the index file stores them.
    pub fn packed(&self) -> &[u8] {
        &self.packed
    }

    /// The N runs, `(start, length)`, as the index file stores them.
    pub fn n_runs(&self) -> &[(u64, u64)] {
        &self.n_runs
    }

    /// The base codes of `range` (0-4), decoded into `buf` (its old content is dropped).
    pub fn fetch<'b>(&self, range: Range<u64>, buf: &'b mut Vec<u8>) -> &'b [u8] {
        assert!(range.start <= range.end && range.end <= self.len, "{range:?} outside 0..{}", self.len);
        buf.clear();
        buf.resize((range.end - range.start) as usize, 0);
        self.fetch_into(range, buf);
        buf
    }

    /// The base codes of `range` (0-4), decoded into `out` (exactly as long as the range);
    /// whether any of them is an N.
    pub fn fetch_into(&self, range: Range<u64>, out: &mut [u8]) -> bool {
        assert!(range.start <= range.end && range.end <= self.len, "{range:?} outside 0..{}", self.len);
        assert_eq!(out.len() as u64, range.end - range.start, "room for the range");
        let (start, end) = (range.start as usize, range.end as usize);
        let code = |i: usize| self.packed[i / 4] >> (2 * (i % 4)) & 3;
        // Bases before the first whole byte, the whole bytes (four codes stored at once), the
        // bases after the last one.
        let whole = (start.div_ceil(4) * 4).min(end);
        let tail = (end / 4 * 4).max(whole);
        let (head, rest) = out.split_at_mut(whole - start);
        let (middle, last) = rest.split_at_mut(tail - whole);
        for (dst, i) in head.iter_mut().zip(start..whole) {
            *dst = code(i);
        }
        for (dst, &b) in middle.chunks_exact_mut(4).zip(&self.packed[whole / 4..tail / 4]) {
            dst.copy_from_slice(&UNPACK[b as usize]);
        }
        for (dst, i) in last.iter_mut().zip(tail..end) {
            *dst = code(i);
        }
        // The N runs reaching into the range.
        let from = self.n_runs.partition_point(|&(s, l)| s + l <= range.start);
        let mut any = false;
        for &(s, l) in self.n_runs[from..].iter().take_while(|&&(s, _)| s < range.end) {
            let (a, b) = (s.max(range.start), (s + l).min(range.end));
            out[(a - range.start) as usize..(b - range.start) as usize].fill(4);
            any |= a < b;
        }
        any
    }

    /// Asks the CPU to bring the packed bytes of `range` into its caches, without waiting:
    /// a window is at a random place of a reference far larger than the caches, and its
    /// [`Reference::fetch`] a few windows later then finds it there.
    #[inline]
    pub fn prefetch(&self, range: Range<u64>) {
        let (start, end) = ((range.start / 4) as usize, (range.end.div_ceil(4) as usize).min(self.packed.len()));
        for at in (start..end).step_by(64) {
            prefetch(&self.packed[at]);
        }
        if let Some(last) = self.packed[..end].last().filter(|_| end > start) {
            prefetch(last);
        }
    }

    /// The 32 bases from `pos` packed two bits each, the first in the low bits, as codes 0-3
    /// (an N reads as A, a base past the end as A): compared with a packed read by XOR
    /// (`crate::seed`), 32 bases at a time.
    #[inline]
    pub(crate) fn word_at(&self, pos: u64) -> u64 {
        let (byte, shift) = ((pos / 4) as usize, 2 * (pos % 4) as u32);
        let mut nine = [0u8; 9];
        let bytes = match self.packed.get(byte..byte + 9) {
            Some(b) => b,
            None => {
                let have = self.packed.len().saturating_sub(byte);
                nine[..have].copy_from_slice(&self.packed[byte.min(self.packed.len())..]);
                &nine
            }
        };
        let lo = u64::from_le_bytes(bytes[..8].try_into().expect("eight bytes"));
        // The ninth byte's bases shifted in; a shift by 64 (none needed) is avoided.
        lo >> shift | ((bytes[8] as u64) << (63 - shift)) << 1
    }

    /// Whether any base of `range` is an N.
    pub(crate) fn has_n(&self, range: Range<u64>) -> bool {
        let from = self.n_runs.partition_point(|&(s, l)| s + l <= range.start);
        self.n_runs.get(from).is_some_and(|&(s, _)| s < range.end)
    }

    /// The code of one base.
    pub fn base(&self, i: u64) -> u8 {
        let in_n = {
            let k = self.n_runs.partition_point(|&(s, _)| s <= i);
            k > 0 && i < self.n_runs[k - 1].0 + self.n_runs[k - 1].1
        };
        if in_n {
            4
        } else {
            self.packed[(i / 4) as usize] >> (2 * (i % 4)) & 3
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_gives_the_codes_back() {
        let mut rng = crate::rng::Rng::new(3);
        let codes: Vec<u8> = (0..5000)
            .map(|i| {
                // N runs of several lengths, one at the very start and one at the end.
                if i < 3 || (100..107).contains(&i) || (2000..2500).contains(&i) || i == 3001 || i >= 4998 {
                    4
                } else {
                    rng.base()
                }
            })
            .collect();
        let r = Reference::from_codes(&codes);
        assert_eq!(r.n_runs(), &[(0, 3), (100, 7), (2000, 500), (3001, 1), (4998, 2)]);
        let mut buf = Vec::new();
        for start in [0u64, 1, 2, 3, 4, 5, 99, 100, 103, 1999, 2001, 2499, 3000, 3001, 4990] {
            for len in [0u64, 1, 2, 3, 5, 8, 150, 700] {
                let end = (start + len).min(codes.len() as u64);
                let want = &codes[start as usize..end as usize];
                assert_eq!(r.fetch(start..end, &mut buf), want, "{start}..{end}");
                let mut out = vec![9; want.len()];
                assert_eq!(r.fetch_into(start..end, &mut out), want.contains(&4), "{start}..{end}: N or not");
                assert_eq!(out, want, "{start}..{end}");
            }
        }
        assert!((0..codes.len()).all(|i| r.base(i as u64) == codes[i]));
        for pos in (0..codes.len() as u64).chain([codes.len() as u64 + 3]) {
            let word = r.word_at(pos);
            for i in 0..32u64 {
                let want = codes.get((pos + i) as usize).map_or(0, |&c| c & 3);
                assert_eq!(word >> (2 * i) & 3, want as u64, "base {i} of the word at {pos}");
            }
            let n = |a: u64, b: u64| codes[a as usize..b.min(codes.len() as u64) as usize].contains(&4);
            for len in [1, 5, 150] {
                let end = (pos + len).min(codes.len() as u64);
                assert_eq!(r.has_n(pos.min(end)..end), n(pos.min(end), end), "N in {pos}..{end}");
            }
        }
        let back = Reference::from_parts(r.packed().to_vec().into(), r.len(), r.n_runs().to_vec()).unwrap();
        assert_eq!(back, r);
        assert!(Reference::from_parts(r.packed().to_vec().into(), r.len(), vec![(5, 3), (7, 1)]).is_none());
        assert!(Reference::from_parts(r.packed().to_vec().into(), r.len(), vec![(4999, 2)]).is_none());
    }
}
