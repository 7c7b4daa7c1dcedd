//! (w,k)-minimizers of a base-code sequence, the same for the reference and for reads.
//!
//! A k-mer is 2k bits (A=0 .. T=3, first base in the high bits); its *canonical* form is the
//! smaller of the k-mer and its reverse complement, and the minimizer order is an invertible
//! integer hash of that canonical value, so both strands of the genome share one table. In
//! every window of `w` consecutive k-mers the one with the smallest hash is kept (the leftmost
//! on ties); a k-mer containing an N is never a seed and breaks the windows around it.

/// One minimizer: `hash` of the canonical k-mer, start position, and whether the canonical
/// form is the reverse complement of the sequence at that position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minimizer {
    /// [`hash64`] of the canonical k-mer, within `2k` bits.
    pub hash: u64,
    /// 0-based position of the k-mer's first base, plus the `base` given to [`minimizers`].
    pub pos: u32,
    /// The canonical form is the reverse complement of the sequence here (false for a
    /// palindromic k-mer).
    pub reverse: bool,
}

/// Thomas Wang's invertible 64-bit integer hash, restricted to `mask` bits.
#[inline]
pub fn hash64(key: u64, mask: u64) -> u64 {
    let mut key = (!key).wrapping_add(key << 21) & mask;
    key ^= key >> 24;
    key = (key.wrapping_add(key << 3)).wrapping_add(key << 8) & mask;
    key ^= key >> 14;
    key = (key.wrapping_add(key << 2)).wrapping_add(key << 4) & mask;
    key ^= key >> 28;
    key = key.wrapping_add(key << 31) & mask;
    key
}

/// Largest window `w` ([`crate::index::IndexParams::validate`] allows up to 64).
const MAX_W: usize = 64;

/// Appends the minimizers of `seq` to `out`, positions offset by `base`.
pub fn minimizers(seq: &[u8], k: usize, w: usize, base: u32, out: &mut Vec<Minimizer>) {
    assert!((1..=31).contains(&k) && (1..=MAX_W).contains(&w));
    let mask = (1u64 << (2 * k)) - 1;
    let shift = 2 * (k as u64 - 1);
    let (mut fwd, mut rev) = (0u64, 0u64);
    let mut valid = 0usize; // consecutive non-N bases ending here

    // Ring of the last w k-mers; `slot` is where k-mer number `filled` goes (a counter that
    // wraps rather than `filled % w`, a division per base).
    let mut ring = [Minimizer { hash: u64::MAX, pos: 0, reverse: false }; MAX_W];
    let next = |slot: usize| if slot + 1 == w { 0 } else { slot + 1 };
    let mut slot = 0usize;
    let mut filled = 0usize; // k-mers in the current N-free run
    let (mut best, mut best_at) = (ring[0], 0usize); // the window's minimum and its k-mer number
    let mut last_out: Option<u32> = None;
    for (i, &c) in seq.iter().enumerate() {
        if c > 3 {
            valid = 0;
            filled = 0;
            slot = 0;
            continue;
        }
        fwd = ((fwd << 2) | c as u64) & mask;
        rev = (rev >> 2) | ((3 - c as u64) << shift);
        valid += 1;
        if valid < k {
            continue;
        }
        let pos = (i + 1 - k) as u32;
        let (canon, reverse) = if fwd <= rev { (fwd, false) } else { (rev, true) };
        let m = Minimizer { hash: hash64(canon, mask), pos: base + pos, reverse };
        ring[slot] = m;
        // The window's leftmost smallest hash, kept as the window slides: a new k-mer takes
        // over only when strictly smaller (so the leftmost of equals stays), and the window is
        // scanned again only when its minimum slides out (minimap2's sketch does the same).
        if filled == 0 || m.hash < best.hash {
            (best, best_at) = (m, filled);
        } else if best_at + w <= filled {
            // The oldest k-mer of the window sits in the slot after this one.
            let mut at = next(slot);
            best_at = filled + 1 - w;
            best = ring[at];
            for d in 1..w {
                at = next(at);
                if ring[at].hash < best.hash {
                    (best, best_at) = (ring[at], filled + 1 - w + d);
                }
            }
        }
        filled += 1;
        slot = next(slot);
        if filled < w {
            continue;
        }
        if last_out != Some(best.pos) {
            out.push(best);
            last_out = Some(best.pos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_complement_gives_the_same_minimizer_hashes() {
        let seq: Vec<u8> = (0..500u32).map(|i| ((i * 7 + i / 3 + (i * i) % 5) % 4) as u8).collect();
        let rc = crate::dna::reverse_complement(&seq);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        minimizers(&seq, 15, 5, 0, &mut a);
        minimizers(&rc, 15, 5, 0, &mut b);
        let mut ha: Vec<u64> = a.iter().map(|m| m.hash).collect();
        let mut hb: Vec<u64> = b.iter().map(|m| m.hash).collect();
        ha.sort();
        hb.sort();
        ha.dedup();
        hb.dedup();
        // Ties can pick different members at window edges; the sets must nearly agree.
        let common = ha.iter().filter(|h| hb.binary_search(h).is_ok()).count();
        assert!(common * 10 >= ha.len() * 9, "{common} of {}", ha.len());
    }

    /// The sliding minimum against the plain definition: every window of `w` consecutive
    /// k-mers of an N-free run gives its leftmost smallest hash, consecutive repeats once.
    #[test]
    fn sliding_minimum_matches_the_definition() {
        let mut x = 3u64;
        let seq: Vec<u8> = (0..3000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Runs of one base now and then (ties), and an N every few hundred bases.
                if x % 397 == 0 {
                    4
                } else if x % 5 == 0 {
                    0
                } else {
                    (x % 4) as u8
                }
            })
            .collect();
        for (k, w) in [(5, 1), (11, 4), (15, 10), (19, 10)] {
            let mut got = Vec::new();
            minimizers(&seq, k, w, 7, &mut got);
            let mask = (1u64 << (2 * k)) - 1;
            let mut want: Vec<Minimizer> = Vec::new();
            let kmers: Vec<Option<Minimizer>> = (0..=seq.len() - k)
                .map(|p| {
                    let s = &seq[p..p + k];
                    if s.iter().any(|&c| c > 3) {
                        return None;
                    }
                    let f = s.iter().fold(0u64, |a, &c| (a << 2) | c as u64);
                    let r = s.iter().rev().fold(0u64, |a, &c| (a << 2) | (3 - c) as u64);
                    let (canon, reverse) = if f <= r { (f, false) } else { (r, true) };
                    Some(Minimizer { hash: hash64(canon, mask), pos: 7 + p as u32, reverse })
                })
                .collect();
            for win in kmers.windows(w) {
                if win.iter().any(Option::is_none) {
                    continue;
                }
                let best = win.iter().flatten().fold(None::<Minimizer>, |b, &m| match b {
                    Some(b) if b.hash <= m.hash => Some(b),
                    _ => Some(m),
                });
                let best = best.unwrap();
                if want.last().map(|m| m.pos) != Some(best.pos) {
                    want.push(best);
                }
            }
            assert_eq!(got, want, "k={k} w={w}");
        }
    }

    #[test]
    fn no_minimizer_spans_an_n() {
        let mut seq: Vec<u8> = (0..200u32).map(|i| ((i * 13 + i / 7) % 4) as u8).collect();
        seq[100] = 4;
        let mut out = Vec::new();
        minimizers(&seq, 11, 4, 0, &mut out);
        assert!(!out.is_empty());
        assert!(out.iter().all(|m| m.pos as usize + 11 <= 100 || m.pos > 100));
    }
}
