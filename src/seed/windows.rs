//! Window choice: each cluster (and chain) of a read's hits made a reference window, the
//! heavy ones kept best first up to the cap (more where many tie, a repeat's copies; when
//! more are heavy than the cap, those with the fewest mismatches to the read), then the
//! heaviest chains and split parts added after them.

use super::chain::{HitCluster, MAX_CHAINS, MAX_PARTS, MIN_PART_BASES};
use super::hits::SeedHit;
use super::{covered, overlap, CandidateWindow, TIE_FACTOR, TIE_PERCENT};
use crate::index::Index;
use crate::options::SeedOptions;

/// A candidate window and the read bases its seeds span (on the read in the window's
/// orientation).
pub(super) type Cand = (CandidateWindow, (u32, u32));

/// Makes the window of a piece (or chain) of one read's sorted hits.
pub(super) struct WindowMaker<'a> {
    pub(super) index: &'a Index,
    pub(super) hits: &'a [SeedHit],
    /// The read's base codes, as sequenced.
    pub(super) read: &'a [u8],
    pub(super) opts: &'a SeedOptions,
}

/// A read packed as the reference is ([`crate::index::Reference::word_at`]): 32 bases a word,
/// with a mask of the bases that are not A, C, G or T (an even bit per base, as the
/// mismatches of [`PackedRead::mismatches`]), and its length.
#[derive(Default)]
pub(super) struct PackedRead {
    words: Vec<u64>,
    n: Vec<u64>,
    len: usize,
}

/// The even bit of every base in a packed word.
const EVEN: u64 = 0x5555_5555_5555_5555;

impl PackedRead {
    fn pack(&mut self, codes: impl ExactSizeIterator<Item = u8>) {
        let len = codes.len();
        self.len = len;
        self.words.clear();
        self.n.clear();
        self.words.resize(len.div_ceil(32), 0);
        self.n.resize(len.div_ceil(32), 0);
        for (i, c) in codes.enumerate() {
            self.words[i / 32] |= ((c & 3) as u64) << (2 * (i % 32));
            self.n[i / 32] |= ((c > 3) as u64) << (2 * (i % 32));
        }
    }

    /// One even bit per read base (in the low bits first, 32 a word) that differs from the
    /// reference from `pos` on, the read's Ns included, as `f(word index, mask)`; the last
    /// word has no bits past the read's end.
    fn mismatches(&self, reference: &crate::index::Reference, pos: u64, mut f: impl FnMut(usize, u64)) {
        let last = self.words.len().saturating_sub(1);
        let tail = match self.len % 32 {
            0 => u64::MAX,
            r => (1u64 << (2 * r)) - 1,
        };
        for (j, (&w, &n)) in self.words.iter().zip(&self.n).enumerate() {
            let x = reference.word_at(pos + 32 * j as u64) ^ w;
            let m = ((x | x >> 1) & EVEN) | n;
            f(j, if j == last { m & tail } else { m });
        }
    }
}

/// Buffers of [`screen`]: the read packed in both orientations, the reference under a window
/// and the read reverse-complemented (for windows reaching off their contig or into Ns), and the
/// windows with their mismatch counts.
#[derive(Default)]
pub(super) struct ScreenScratch {
    fwd: PackedRead,
    rev: PackedRead,
    rc: Vec<u8>,
    reference: Vec<u8>,
    scored: Vec<(u32, Cand)>,
}

/// Words of a packed read (reads are at most `MAX_READ_LEN` = 2,000 bases).
const MAX_WORDS: usize = 2048 / 32;

/// Heavy windows screened by their mismatches when more of them than the cap are left (a
/// read in a repeat family): at most this many, the first in [`order`] (the heaviest).
pub(super) const MAX_SCREENED: usize = 1024;

impl WindowMaker<'_> {
    /// The piece's diagonals widened by the padding, within its contig; its weight (read
    /// bases its seeds cover) and band. `None` for an empty window.
    fn window(&self, p: &HitCluster, spans: &mut Vec<(u32, u32)>) -> Option<Cand> {
        let (k, pad) = (self.index.params.k, self.opts.window_pad as i64);
        let c = &self.index.contigs[p.contig];
        let (cstart, cend) = (c.offset as i64, (c.offset + c.len) as i64);
        let start = (p.diag.0 - pad).clamp(cstart, cend);
        let end = (p.diag.1 + self.read.len() as i64 + pad).clamp(cstart, cend);
        let weight = if p.lone() {
            k // a lone seed (most pieces of a read with repetitive seeds)
        } else {
            spans.clear();
            spans.extend(self.hits[p.hits.0..p.hits.1].iter().map(|h| (h.qoff(), h.qoff() + k)));
            covered(spans)
        };
        let band = ((p.diag.0 - pad - start) as i32, (p.diag.1 + pad - start) as i32);
        let (start, end) = (start as u64, end as u64);
        let w = CandidateWindow { reverse: p.reverse, contig: p.contig, start, end, weight, band };
        (end > start).then_some((w, p.read))
    }

    /// Mismatches between the read (in the window's orientation) and the reference along the
    /// window's lowest and highest seed diagonals, switching once from one to the other
    /// wherever that counts fewest (an indel between the seeds); bases off the contig and Ns
    /// count as mismatches. A lone seed's window has one diagonal: plain Hamming distance.
    ///
    /// Computed 32 bases at a time on the packed read and reference; where the diagonals
    /// leave the contig or meet an N, base by base ([`WindowMaker::mismatches_slow`], which
    /// the tests also compare it with everywhere).
    fn mismatches(&self, w: &CandidateWindow, s: &mut ScreenScratch) -> u32 {
        let (d0, d1) = self.diagonals(w);
        let c = &self.index.contigs[w.contig];
        let len = self.read.len();
        let (lo, hi) = (d0.min(d1), d0.max(d1) + len as i64);
        let reference = self.index.reference();
        let off = lo < c.offset as i64 || hi > (c.offset + c.len) as i64;
        if off || len > MAX_WORDS * 32 || reference.has_n(lo as u64..hi as u64) {
            if s.rc.is_empty() && w.reverse {
                crate::dna::reverse_complement_into(self.read, &mut s.rc);
            }
            return self.mismatches_slow(w, &s.rc, &mut s.reference);
        }
        let read = if w.reverse { &s.rev } else { &s.fwd };
        if d0 == d1 {
            let mut total = 0;
            read.mismatches(reference, d0 as u64, |_, m| total += m.count_ones());
            return total;
        }
        // As in the slow version, base by base, from the two diagonals' masks.
        let (mut a, mut b, mut best_ab, mut best_ba) = (0i32, 0i32, 0i32, 0i32);
        let mut on_d0 = [0u64; MAX_WORDS];
        read.mismatches(reference, d0 as u64, |j, m| on_d0[j] = m);
        read.mismatches(reference, d1 as u64, |j, mb| {
            let ma = on_d0[j];
            for i in (0..64).step_by(2).take(len - 32 * j) {
                a += (ma >> i & 1) as i32;
                b += (mb >> i & 1) as i32;
                best_ab = best_ab.min(a - b);
                best_ba = best_ba.min(b - a);
            }
        });
        (best_ab + b).min(best_ba + a) as u32
    }

    /// A window's lowest and highest seed diagonals, as global reference positions of the
    /// read's first base.
    fn diagonals(&self, w: &CandidateWindow) -> (i64, i64) {
        let pad = self.opts.window_pad as i64;
        (w.start as i64 + w.band.0 as i64 + pad, w.start as i64 + w.band.1 as i64 - pad)
    }

    /// [`WindowMaker::mismatches`] base by base on the decoded reference (`rc`: the read
    /// reverse-complemented).
    fn mismatches_slow(&self, w: &CandidateWindow, rc: &[u8], buf: &mut Vec<u8>) -> u32 {
        let (d0, d1) = self.diagonals(w);
        let read = if w.reverse { rc } else { self.read };
        let c = &self.index.contigs[w.contig];
        let (cstart, cend) = (c.offset as i64, (c.offset + c.len) as i64);
        let (lo, hi) = ((d0.min(d1)).clamp(cstart, cend), (d0.max(d1) + self.read.len() as i64).clamp(cstart, cend));
        let bases = self.index.reference().fetch(lo as u64..hi as u64, buf);
        // The reference base facing read base `i` on diagonal `d` (4, a mismatch, off the contig).
        let at = |d: i64, i: usize| bases.get(usize::try_from(d + i as i64 - lo).unwrap_or(usize::MAX)).copied();
        let differ = |d: i64, i: usize, b: u8| at(d, i).is_none_or(|r| r != b || b > 3) as i32;
        if d0 == d1 {
            return read.iter().enumerate().map(|(i, &b)| differ(d0, i, b)).sum::<i32>() as u32;
        }
        // With `a` and `b` the mismatches so far on d0 and d1: d0 then d1 from here costs
        // a + (total_b - b), d1 then d0 costs b + (total_a - a); the least over all switch points.
        let (mut a, mut b, mut best_ab, mut best_ba) = (0i32, 0i32, 0i32, 0i32);
        for (i, &x) in read.iter().enumerate() {
            a += differ(d0, i, x);
            b += differ(d1, i, x);
            best_ab = best_ab.min(a - b);
            best_ba = best_ba.min(b - a);
        }
        (best_ab + b).min(best_ba + a) as u32
    }

    /// Read bases a window's seeds span, on the read as sequenced (a reverse window's spans
    /// are on the reverse-complemented read).
    fn sequenced(&self, w: &Cand) -> (u32, u32) {
        let len = self.read.len() as u32;
        if w.0.reverse {
            (len - w.1 .1, len - w.1 .0)
        } else {
            w.1
        }
    }
}

/// Best first: heavier, then forward before reverse, then leftmost; the remaining fields break
/// what ties are left (windows clamped to a contig's start), so the order is total and the
/// windows chosen never depend on the order pieces came in or on how they are selected.
pub(super) fn order(a: &Cand, b: &Cand) -> std::cmp::Ordering {
    // Weight (below 2^16: at most the read's length), strand and start (below 2^32: global
    // positions) packed into one integer in that order: one comparison decides nearly every
    // pair (a read in a repeat has hundreds of windows to select from).
    let key = |c: &Cand| (0xffff - c.0.weight as u64) << 33 | (c.0.reverse as u64) << 32 | c.0.start;
    let rest = |c: &Cand| (c.0.end, c.0.contig, c.0.band, c.1);
    key(a).cmp(&key(b)).then_with(|| rest(a).cmp(&rest(b)))
}

/// The first `n` of `items` in [`order`] that `keep` accepts, best first, into `out`, in one
/// pass (without sorting all of them: a read in a repeat has hundreds of windows).
pub(super) fn best_of<'c>(
    items: impl Iterator<Item = &'c Cand>,
    keep: impl Fn(&Cand) -> bool,
    n: usize,
    out: &mut Vec<Cand>,
) {
    let first = out.len();
    for c in items.filter(|c| keep(c)) {
        let chosen = &out[first..];
        if chosen.len() == n && order(c, &chosen[n - 1]).is_ge() {
            continue;
        }
        let at = first + chosen.partition_point(|x| order(x, c).is_lt());
        out.insert(at, *c);
        out.truncate(first + n);
    }
}

/// Moves `keep` windows (fewer than all) to the front of `windows`, the rest after them: of
/// the first [`MAX_SCREENED`] in [`order`] (the heaviest), the `keep` with the fewest
/// mismatches along their seeds' diagonals ([`WindowMaker::mismatches`], ties first in
/// [`order`]); the first `keep` in [`order`] when `keep` is not below that many. In a repeat
/// family every copy's window has about as many seeds, so their weights cannot tell the read's
/// own copy from the others; its mismatches can.
fn screen(maker: &WindowMaker, windows: &mut [Cand], keep: usize, s: &mut ScreenScratch) {
    let n = windows.len().min(MAX_SCREENED);
    if keep >= n {
        windows.select_nth_unstable_by(keep, order);
        return;
    }
    if n < windows.len() {
        windows.select_nth_unstable_by(n, order);
    }
    // Every window's reference is asked for from memory before any is compared (copies lie
    // anywhere in a reference far larger than the caches; asking a few windows ahead instead
    // cost 8% more CPU time on a 3.1 Gbp reference).
    let reference = maker.index.reference();
    let pad = maker.opts.window_pad as u64;
    for w in &windows[..n] {
        let (start, end) = (w.0.start + pad.min(w.0.end - w.0.start), w.0.end.saturating_sub(pad));
        reference.prefetch(start..end.max(start));
    }
    s.rc.clear();
    s.fwd.pack(maker.read.iter().copied());
    s.rev.pack(maker.read.iter().rev().map(|&c| crate::dna::complement(c)));
    s.scored.clear();
    for w in &windows[..n] {
        let m = maker.mismatches(&w.0, s);
        s.scored.push((m, *w));
    }
    s.scored.select_nth_unstable_by(keep, |x, y| x.0.cmp(&y.0).then_with(|| order(&x.1, &y.1)));
    for (dst, (_, w)) in windows.iter_mut().zip(&s.scored) {
        *dst = *w;
    }
}

/// The windows of a read's pieces into `out` (empty): the heavy ones, best first and capped,
/// then the heaviest chains and split parts (see the module documentation); returns how many
/// windows as good as the best the caps left out (`left_out` more from the fallback's sample).
pub(super) fn choose_windows(
    maker: &WindowMaker,
    (pieces, chains): (&[HitCluster], &[HitCluster]),
    (windows, light, parts, extra): (&mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>),
    (spans, scratch): (&mut Vec<(u32, u32)>, &mut ScreenScratch),
    left_out: usize,
    out: &mut Vec<CandidateWindow>,
) -> u32 {
    let (opts, pct) = (maker.opts, maker.opts.min_weight_percent as u64);
    // Windows of pieces of two seeds or more first. A lone seed's window weighs k; when the
    // heaviest of those outweighs it more than `min_weight_percent` allows, no lone-seed window
    // can be heavy (or the best), so they are made only if split parts are sought (a read
    // with repetitive seeds has hundreds of them; chains already took them into account).
    let lone = |p: &&HitCluster| p.lone();
    windows.clear();
    windows.extend(pieces.iter().filter(|p| !lone(p)).filter_map(|p| maker.window(p, spans)));
    let top = windows.iter().map(|w| w.0.weight as u64).max().unwrap_or(0);
    let lone_light = top * pct > maker.index.params.k as u64 * 100;
    if !lone_light {
        windows.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
    }
    if windows.is_empty() {
        return left_out.min(u32::MAX as usize) as u32;
    }
    // Only the heavy windows (at least `min_weight_percent` of the best) are sorted: a read
    // with repetitive seeds has hundreds of light ones, sorted only when split parts are sought.
    let top = windows.iter().map(|w| w.0.weight).max().unwrap_or(0) as u64;
    light.clear();
    windows.retain(|w| {
        let heavy = w.0.weight as u64 * 100 >= top * pct;
        if !heavy {
            light.push(*w);
        }
        heavy
    });
    // The `keep` best, sorted; a read in a repeat has hundreds of windows as heavy: those that
    // match the read best are kept ([`screen`]), and only these few are sorted (the rest are
    // only searched for split parts, below).
    let best = top as u32;
    let ties = windows.iter().filter(|w| w.0.weight as u64 * 100 >= best as u64 * TIE_PERCENT).count();
    let keep = opts.max_candidates.max(ties.min(opts.max_candidates * TIE_FACTOR)).min(windows.len());
    if keep < windows.len() {
        // Only the windows that tie with the best are screened: when the best outweighs the
        // rest, its copy is the read's and the weights already tell.
        screen(maker, windows, keep, scratch);
    }
    windows[..keep].sort_unstable_by(order);
    let best_read = maker.sequenced(&windows[0]);
    let unaligned = maker.read.len() as u32 - (best_read.1 - best_read.0);
    let unexamined = ties.saturating_sub(keep).saturating_add(left_out).min(u32::MAX as usize) as u32;
    // Windows left out (too light, or past the cap) whose seeds lie mostly on read bases the
    // best window's do not cover: the other side of a fusion junction. The heaviest are added
    // after the capped set, which stays as it was.
    parts.clear();
    if unaligned >= MIN_PART_BASES {
        if lone_light {
            light.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
        }
        let part = |w: &Cand| overlap(maker.sequenced(w), best_read) * 2 < w.1 .1 - w.1 .0;
        best_of(windows[keep..].iter().chain(light.iter()), part, MAX_PARTS, parts);
    }
    windows.truncate(keep);
    // Chains that explain more of the read than any one window (both sides of an indel), best
    // first, and the heaviest split parts: extra windows, so the capped set above, and with it
    // every copy a read's XA lists, stays as it was.
    extra.clear();
    extra.extend(chains.iter().filter_map(|p| maker.window(p, spans)).filter(|w| w.0.weight > best));
    extra.sort_unstable_by(order);
    extra.truncate(MAX_CHAINS);
    let chosen = windows.iter().chain(extra.iter()).chain(parts.iter());
    out.extend(chosen.map(|&(w, _)| w));
    unexamined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexParams;
    use crate::io::fasta::Contig;

    /// A window of `len` read bases on diagonals `d0..=d1` (global), as [`WindowMaker::window`]
    /// makes it, clamped to contig `contig`.
    fn window_on(index: &Index, contig: usize, reverse: bool, (d0, d1): (i64, i64), len: usize, weight: u32) -> Cand {
        let pad = SeedOptions::default().window_pad as i64;
        let c = &index.contigs[contig];
        let (cstart, cend) = (c.offset as i64, (c.offset + c.len) as i64);
        let start = (d0 - pad).clamp(cstart, cend);
        let end = (d1 + len as i64 + pad).clamp(cstart, cend);
        let band = ((d0 - pad - start) as i32, (d1 + pad - start) as i32);
        let w = CandidateWindow { reverse, contig, start: start as u64, end: end as u64, weight, band };
        (w, (0, len as u32))
    }

    /// The mismatches by their definition: every switch point tried, both ways.
    fn mismatches_by_definition(read: &[u8], codes: &[u8], (lo, hi): (i64, i64), (d0, d1): (i64, i64)) -> u32 {
        let differ = |d: i64, i: usize| {
            let p = d + i as i64;
            let r = if (lo..hi).contains(&p) { codes[p as usize] } else { 4 };
            (r != read[i] || read[i] > 3) as u32
        };
        let cost =
            |a: i64, b: i64, s: usize| (0..read.len()).map(|i| differ(if i < s { a } else { b }, i)).sum::<u32>();
        (0..=read.len()).flat_map(|s| [cost(d0, d1, s), cost(d1, d0, s)]).min().expect("a switch point")
    }

    /// The packed count equals the base-by-base one and the definition: reads of lengths
    /// around the 32-base words, with Ns, on one or two diagonals (either side higher),
    /// windows reaching off either end of a contig, into N runs and up to the reference's end.
    #[test]
    fn packed_mismatches_equal_the_definition() {
        let mut rng = crate::rng::Rng::new(21);
        let mut seqs: Vec<Vec<u8>> = (0..2).map(|_| (0..3000).map(|_| rng.base()).collect()).collect();
        seqs[1][1200..1260].fill(4);
        let contigs = seqs.iter().enumerate().map(|(i, s)| Contig { name: format!("c{i}"), seq: s.clone() }).collect();
        let index = Index::build(contigs, IndexParams::default());
        let codes: Vec<u8> = seqs.concat();
        let opts = SeedOptions::default();
        let mut s = ScreenScratch::default();
        let (mut packed_paths, mut two_diagonals) = (0, 0);
        for round in 0..3000 {
            let len = [1, 31, 32, 33, 64, 100, 150, 151, 250][round % 9];
            let contig = rng.below(2) as usize;
            let (cstart, clen) = (index.contigs[contig].offset as i64, 3000i64);
            let d0 = cstart + rng.below(clen as u64 + 40) as i64 - 20 - len as i64 / 2;
            let d1 = if rng.chance(0.5) { d0 } else { d0 + rng.below(33) as i64 - 16 };
            // Mostly the reference's bases (a few changed, some Ns), so counts are small.
            let mut read: Vec<u8> = (0..len)
                .map(|i| codes.get((d0 + i as i64).clamp(0, codes.len() as i64 - 1) as usize).copied().unwrap_or(0))
                .map(|b| {
                    if rng.chance(0.05) {
                        rng.base()
                    } else if rng.chance(0.01) {
                        4
                    } else {
                        b & 3
                    }
                })
                .collect();
            if round % 13 == 0 {
                read.iter_mut().for_each(|b| *b = rng.base());
            }
            let reverse = rng.chance(0.5);
            let w = window_on(&index, contig, reverse, (d0.min(d1), d0.max(d1)), len, 20);
            let maker = WindowMaker { index: &index, hits: &[], read: &read, opts: &opts };
            // The maker's read is as sequenced; a reverse window faces its reverse complement.
            let facing = if reverse { crate::dna::reverse_complement(&read) } else { read.clone() };
            s.fwd.pack(read.iter().copied());
            s.rev.pack(read.iter().rev().map(|&c| crate::dna::complement(c)));
            s.rc.clear();
            let (lo, hi) = (cstart, cstart + clen);
            let want = mismatches_by_definition(&facing, &codes, (lo, hi), maker.diagonals(&w.0));
            let rc = crate::dna::reverse_complement(&read);
            assert_eq!(maker.mismatches_slow(&w.0, &rc, &mut Vec::new()), want, "round {round}: base by base");
            assert_eq!(maker.mismatches(&w.0, &mut s), want, "round {round}: packed");
            let (a, b) = maker.diagonals(&w.0);
            let inside = a.min(b) >= lo && a.max(b) + len as i64 <= hi;
            packed_paths +=
                (inside && !index.reference().has_n(a.min(b) as u64..(a.max(b) + len as i64) as u64)) as u32;
            two_diagonals += (a != b) as u32;
        }
        assert!(packed_paths > 2000 && two_diagonals > 1000, "{packed_paths} packed, {two_diagonals} on two diagonals");
    }

    /// Of 120 copies of an element, each with substitutions of its own, whose windows weigh
    /// alike, the copies kept are those the read matches best, wherever they lie; the windows'
    /// order alone would keep the leftmost.
    #[test]
    fn screening_keeps_the_copies_the_read_matches_best() {
        let mut rng = crate::rng::Rng::new(4);
        let element: Vec<u8> = (0..300).map(|_| rng.base()).collect();
        let mut genome: Vec<u8> = (0..1000).map(|_| rng.base()).collect();
        let mut starts = Vec::new();
        for copy in 0..120 {
            starts.push(genome.len() as i64);
            let mut e = element.clone();
            // Copy 90 is the element itself; every other copy differs at 1 to 6 places under the
            // read.
            for _ in 0..if copy == 90 { 0 } else { 1 + copy % 6 } {
                let at = 50 + rng.below(150) as usize;
                e[at] = (e[at] + 1 + rng.below(3) as u8) % 4;
            }
            genome.extend(e);
            genome.extend((0..200).map(|_| rng.base()));
        }
        let index = Index::build(vec![Contig { name: "g".into(), seq: genome.clone() }], IndexParams::default());
        let opts = SeedOptions::default();
        let read = element[50..200].to_vec();
        let maker = WindowMaker { index: &index, hits: &[], read: &read, opts: &opts };
        let mut windows: Vec<Cand> =
            starts.iter().map(|&s| window_on(&index, 0, false, (s + 50, s + 50), 150, 19)).collect();
        let by_order: Vec<i64> = {
            let mut w = windows.clone();
            w.sort_by(order);
            w[..8].iter().map(|c| c.0.start as i64).collect()
        };
        let mut s = ScreenScratch::default();
        screen(&maker, &mut windows, 8, &mut s);
        let mismatches = |c: &Cand| {
            let start = maker.diagonals(&c.0).0 as usize;
            read.iter().zip(&genome[start..start + 150]).filter(|(a, b)| a != b).count()
        };
        let mut all: Vec<usize> = windows.iter().map(mismatches).collect();
        let kept: Vec<usize> = all[..8].to_vec();
        all.sort_unstable();
        let mut kept_sorted = kept.clone();
        kept_sorted.sort_unstable();
        assert_eq!(kept_sorted, all[..8], "the kept copies are the best-matching ones");
        let own = starts[90] - 20 + 50;
        assert!(windows[..8].iter().any(|c| c.0.start as i64 == own), "the read's own copy is kept");
        assert!(!by_order.contains(&own), "the order alone keeps the leftmost copies: {by_order:?}");
        // The rest are all still there, after the kept ones.
        let mut starts_after: Vec<u64> = windows.iter().map(|c| c.0.start).collect();
        starts_after.sort_unstable();
        let mut want: Vec<u64> = starts.iter().map(|&s| (s + 50 - 20) as u64).collect();
        want.sort_unstable();
        assert_eq!(starts_after, want);
    }
}
