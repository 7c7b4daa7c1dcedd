//! Seed hits: each minimizer of the read looked up in the index, its occurrences turned into
//! hits on the strand and diagonal they imply (see the parent module for the geometry), then
//! sorted by strand, diagonal and read offset. Frequent minimizers (more than `rare_occ`
//! occurrences) are used only where the rare ones leave a long stretch uncovered; a read
//! whose every minimizer is repetitive falls back to its rarest ones, sampled.

use super::{SeedScratch, FALLBACK_OCC};
use crate::index::minimizer::Minimizer;
use crate::index::Index;
use crate::options::SeedOptions;

/// A seed hit, packed into one integer whose order is that of (strand, diagonal, read
/// offset): `reverse << 44 | (diag + 2^11) << 11 | qoff`. Read offsets are below 2^11
/// (reads are at most `MAX_READ_LEN` = 2,000 bases), diagonals at least `-2^11` and below
/// 2^32 (references under 4 Gbp), so every field fits and sorting the integers sorts the
/// hits, by radix where there are many ([`sort_hits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct SeedHit(u64);

/// Bits of a read offset in [`SeedHit`], and the bias that makes a diagonal non-negative.
const QOFF_BITS: u32 = 11;
const DIAG_BIAS: i64 = 1 << QOFF_BITS;
const REVERSE_BIT: u32 = 44;

impl SeedHit {
    pub(super) fn new(reverse: bool, diag: i64, qoff: u32) -> SeedHit {
        debug_assert!(qoff < 1 << QOFF_BITS && diag >= -DIAG_BIAS && diag + DIAG_BIAS < 1 << 33);
        SeedHit((reverse as u64) << REVERSE_BIT | ((diag + DIAG_BIAS) as u64) << QOFF_BITS | qoff as u64)
    }

    pub(super) fn reverse(self) -> bool {
        self.0 >> REVERSE_BIT != 0
    }

    pub(super) fn diag(self) -> i64 {
        ((self.0 & ((1 << REVERSE_BIT) - 1)) >> QOFF_BITS) as i64 - DIAG_BIAS
    }

    pub(super) fn qoff(self) -> u32 {
        (self.0 & ((1 << QOFF_BITS) - 1)) as u32
    }
}

/// Sorts hits: a comparison sort for few, else a least-significant-digit radix sort in bytes
/// (a read in a repeat has thousands of hits; bytes that every key shares are skipped).
///
/// The radix sort orders by strand and diagonal only, on a key of just the bits the hits use
/// (the strand above the highest diagonal bit: 27 bits on a 63 Mbp chromosome, four passes).
/// That sorts the whole key because the sort is stable and [`collect_hits`] hands over the
/// hits of each strand and diagonal with their read offsets ascending.
pub(super) fn sort_hits(hits: &mut Vec<SeedHit>, tmp: &mut Vec<SeedHit>) {
    if hits.len() < 256 {
        hits.sort_unstable();
        return;
    }
    const DIAG_MASK: u64 = (1 << REVERSE_BIT) - (1 << QOFF_BITS);
    let used = hits.iter().fold(0, |a, h| a | (h.0 & DIAG_MASK)) >> QOFF_BITS;
    let diag_bits = u64::BITS - used.leading_zeros();
    let key = |h: &SeedHit| (h.0 >> REVERSE_BIT) << diag_bits | (h.0 & DIAG_MASK) >> QOFF_BITS;
    tmp.clear();
    tmp.resize(hits.len(), SeedHit(0));
    for shift in (0..diag_bits + 1).step_by(8) {
        let mut counts = [0usize; 256];
        for h in hits.iter() {
            counts[(key(h) >> shift & 0xff) as usize] += 1;
        }
        if counts.contains(&hits.len()) {
            continue;
        }
        let mut at = 0;
        for c in counts.iter_mut() {
            (*c, at) = (at, at + *c);
        }
        for h in hits.iter() {
            let d = (key(h) >> shift & 0xff) as usize;
            tmp[counts[d]] = *h;
            counts[d] += 1;
        }
        std::mem::swap(hits, tmp);
    }
}

/// Fills `s.hits` with the read's seed hits, from its minimizers in `s.mins` and their table
/// entries in `s.ranges`. Returns how many occurrences of the rarest seeds the fallback left
/// out of its sample, or `None` when the read has no hit at all.
pub(super) fn collect_hits(index: &Index, read: &[u8], opts: &SeedOptions, s: &mut SeedScratch) -> Option<usize> {
    let k = index.params.k as usize;
    let len = read.len();
    s.hits.clear();
    s.rev_hits.clear();
    if len < k {
        return None;
    }
    // Occurrences of the rarest seeds left out of the fallback's sample.
    let mut left_out = 0usize;
    // Read bases the rare minimizers cover, as merged spans in read order (minimizers come in
    // read order).
    let rare = &mut s.rare_cover;
    rare.clear();
    for (m, r) in s.mins.iter().zip(&s.ranges) {
        let n = (r.1 - r.0) as usize;
        if n > 0 && n <= opts.rare_occ {
            let (a, b) = (m.pos, m.pos + k as u32);
            match rare.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => rare.push((a, b)),
            }
        }
    }
    // The minimizers whose hits are used, their entries asked for from memory before any is
    // read. The first rare span not ending before the current minimizer is `rare[at]`.
    let mut at = 0usize;
    s.used.clear();
    for (i, (m, &range)) in s.mins.iter().zip(&s.ranges).enumerate() {
        let n = (range.1 - range.0) as usize;
        if n == 0 || n > opts.max_occ {
            continue;
        }
        if n > opts.rare_occ {
            while at < rare.len() && rare[at].1 <= m.pos {
                at += 1;
            }
            // The uncovered stretch this k-mer reaches into: after the span it starts in, or
            // before the next span.
            let next = at + rare.get(at).is_some_and(|c| c.0 <= m.pos) as usize;
            let gap_start = if next == 0 { 0 } else { rare[next - 1].1 };
            let gap_end = rare.get(next).map_or(len as u32, |c| c.0);
            if m.pos + k as u32 <= gap_start || gap_end.saturating_sub(gap_start) < opts.rare_gap {
                continue;
            }
        }
        index.prefetch_entries(range);
        s.used.push(i);
    }
    if !s.used.is_empty() {
        add_stretch_seeds(s, len as u32, k as u32, opts);
    }
    for &i in &s.used {
        push_hits((&mut s.hits, &mut s.rev_hits), index.entries_of(s.ranges[i]), &s.mins[i], len, k);
    }
    let any = !s.used.is_empty();
    if !any {
        // Every seed is repetitive: fall back to the rarest ones, however frequent (bwa-mem
        // likewise places such reads, at MAPQ 0). A k-mer repeated inside the read (a tandem
        // repeat: a (CA)n read has one minimizer every 2 bases) is used at its first position
        // only, as its other positions give the same diagonals shifted by a period; and at
        // most [`FALLBACK_OCC`] times `max_occ` occurrences are used in all, sampled evenly
        // along the reference, so that the work is bounded however long the repeat.
        let count = |r: &(u32, u32)| (r.1 - r.0) as usize;
        let rarest = s.ranges.iter().map(count).filter(|&n| n > 0).min();
        if let Some(n) = rarest {
            s.rarest.clear();
            for (m, r) in s.mins.iter().zip(&s.ranges) {
                if count(r) == n && !s.rarest.iter().any(|x| x.hash == m.hash) {
                    s.rarest.push(*m);
                }
            }
            let quota = (opts.max_occ.saturating_mul(FALLBACK_OCC) / s.rarest.len()).max(1);
            for m in &s.rarest {
                let range = index.lookup(m.hash);
                if n <= quota {
                    push_hits((&mut s.hits, &mut s.rev_hits), index.entries_of(range), m, len, k);
                } else {
                    left_out += n - quota;
                    let at = |i: usize| range.0 as usize + (i as u128 * n as u128 / quota as u128) as usize;
                    let sampled = (0..quota).map(|i| index.occurrence(at(i)));
                    push_hits((&mut s.hits, &mut s.rev_hits), sampled, m, len, k);
                }
            }
        }
    }
    // Minimizers come in read order, so forward hits of one diagonal have ascending read
    // offsets and reverse ones descending: reversed, they ascend too ([`sort_hits`]).
    s.hits.extend(s.rev_hits.iter().rev());
    (!s.hits.is_empty()).then_some(left_out)
}

/// A stretch of the read whose minimizers all occur more than `max_occ` times is seeded from
/// its rarest one when that occurs at most this many times `max_occ`: a read from a young
/// repeat copy then still reaches its own copy through the rarest k-mer of each stretch, at
/// the cost of that seed's occurrences (on a 3.1 Gbp reference of human-like repeats, reads
/// wrong at MAPQ >= 1 fell by a fifth for 6% more CPU time).
const STRETCH_OCC_FACTOR: usize = 10;

/// Adds to `s.used` (minimizer indices, in read order, which it keeps) the rarest minimizer of
/// each stretch of at least `rare_gap` read bases that no used minimizer covers, if it occurs
/// more than `max_occ` and at most [`STRETCH_OCC_FACTOR`] times `max_occ` times.
fn add_stretch_seeds(s: &mut SeedScratch, len: u32, k: u32, opts: &SeedOptions) {
    let cap = opts.max_occ.saturating_mul(STRETCH_OCC_FACTOR);
    let used = s.used.len();
    // Read bases covered so far, from the left: the next stretch starts here.
    let mut reach = 0u32;
    for u in 0..=used {
        // The used minimizers in read order (those pushed below come after `used`), then the
        // read's end.
        let (end, covered_to) = match s.used[..used].get(u) {
            Some(&i) => (s.mins[i].pos, s.mins[i].pos + k),
            None => (len, len),
        };
        if end >= reach + opts.rare_gap {
            let rarest = s
                .mins
                .iter()
                .zip(&s.ranges)
                .enumerate()
                .map(|(i, (m, r))| (i, m.pos, (r.1 - r.0) as usize))
                .filter(|&(_, pos, n)| pos >= reach && pos + k <= end && n > opts.max_occ && n <= cap)
                .min_by_key(|&(i, _, n)| (n, i));
            if let Some((i, _, _)) = rarest {
                s.used.push(i);
            }
        }
        reach = reach.max(covered_to);
    }
    if s.used.len() > used {
        // Hits are handed over in read order ([`sort_hits`] relies on it).
        s.used.sort_unstable();
    }
}

/// Appends the hits of minimizer `m` at the occurrences `hits` to `fwd` and `rev` by strand.
/// A repeat's occurrences fall on either strand at random, so rather than branch on the
/// strand (a misprediction every other hit) each hit is written to the end of both vectors
/// and only the one it belongs to grows.
fn push_hits(
    (fwd, rev): (&mut Vec<SeedHit>, &mut Vec<SeedHit>),
    hits: impl ExactSizeIterator<Item = u64>,
    m: &Minimizer,
    len: usize,
    k: usize,
) {
    let n = hits.len();
    fwd.reserve(n);
    rev.reserve(n);
    let (f, r) = (fwd.spare_capacity_mut(), rev.spare_capacity_mut());
    let qoff = (len - k) as u32 - m.pos;
    let (mut nf, mut nr) = (0, 0);
    for v in hits.take(n) {
        let rpos = (v >> 1) as i64;
        let reverse = ((v & 1) == 1) != m.reverse;
        f[nf].write(SeedHit::new(false, rpos - m.pos as i64, m.pos));
        r[nr].write(SeedHit::new(true, rpos - qoff as i64, qoff));
        nf += !reverse as usize;
        nr += reverse as usize;
    }
    // SAFETY: the first `nf` spare slots of `fwd` and `nr` of `rev` were written just above
    // (each within the `n` reserved: `nf + nr` hits were taken from `n`).
    unsafe {
        fwd.set_len(fwd.len() + nf);
        rev.set_len(rev.len() + nr);
    }
}
