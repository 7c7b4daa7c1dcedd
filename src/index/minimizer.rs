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

/// K-mers handled at a time: a k-mer's place in its chunk fits the 8 bits below its hash
/// (at most 2 x 28 bits, [`crate::index::MAX_K`]) in one sortable key.
const CHUNK: usize = 256;

/// Appends the minimizers of `seq` to `out`, positions offset by `base`.
///
/// Each N-free run is cut into chunks of up to 256 k-mers (consecutive chunks share
/// `w - 1`), and a chunk is done in passes that have no branch on the data: the canonical
/// k-mers, their keys (`hash << 8 | place in the chunk`, so the smaller key is the smaller
/// hash and, of equal hashes, the one on the left), then every window's minimum from the
/// minima of spans of 1, 2, 4, ... keys (each pass the smaller of two neighbours of the last:
/// whole vectors at a time, where the scans of van Herk and Gil-Werman's method are a chain
/// of dependent steps), a window of `w` being two overlapping spans of the largest power of
/// two not above `w`.
pub fn minimizers(seq: &[u8], k: usize, w: usize, base: u32, out: &mut Vec<Minimizer>) {
    assert!((1..=crate::index::MAX_K as usize).contains(&k) && (1..=MAX_W).contains(&w));
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut b) => minimizers_in(seq, k, w, base, out, &mut b),
        Err(_) => minimizers_in(seq, k, w, base, out, &mut Box::default()),
    })
}

/// A chunk's arrays, a thread's own: made (and zeroed) once, not for every read.
struct Buffers {
    canon: [u64; CHUNK],
    reverse: [bool; CHUNK],
    key: [u64; CHUNK],
    span: [u64; CHUNK],
    doubled: [u64; CHUNK],
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers { canon: [0; CHUNK], reverse: [false; CHUNK], key: [0; CHUNK], span: [0; CHUNK], doubled: [0; CHUNK] }
    }
}

thread_local! {
    static BUFFERS: std::cell::RefCell<Box<Buffers>> = std::cell::RefCell::default();
}

/// [`minimizers`] with the chunk arrays `b`.
fn minimizers_in(seq: &[u8], k: usize, w: usize, base: u32, out: &mut Vec<Minimizer>, b: &mut Buffers) {
    let mut last = u64::MAX; // position of the last minimizer written
    let mut at = 0usize;
    while at < seq.len() {
        let end = seq[at..].iter().position(|&c| c > 3).map_or(seq.len(), |n| at + n);
        if end - at + 1 >= k + w {
            minimizers_of_run(&seq[at..end], k, w, base as u64 + at as u64, &mut last, out, b);
        }
        at = end + 1;
    }
}

/// [`minimizers`] of an N-free run of at least `k + w - 1` bases starting at `base`: the code
/// of [`run_minimizers`] compiled for AVX-512 or AVX2 where the CPU has them (the hashes then
/// go four or eight to a vector), else for the baseline target; integer arithmetic only, so
/// the results are the same.
fn minimizers_of_run(
    run: &[u8],
    k: usize,
    w: usize,
    base: u64,
    last: &mut u64,
    out: &mut Vec<Minimizer>,
    b: &mut Buffers,
) {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx512() {
            // SAFETY: the CPU has every feature `run_minimizers_avx512` is compiled for.
            return unsafe { run_minimizers_avx512(run, k, w, base, last, out, b) };
        }
        if crate::simd::avx2() {
            // SAFETY: the CPU has AVX2, the only feature `run_minimizers_avx2` is compiled for.
            return unsafe { run_minimizers_avx2(run, k, w, base, last, out, b) };
        }
    }
    run_minimizers(run, k, w, base, last, out, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
unsafe fn run_minimizers_avx512(
    run: &[u8],
    k: usize,
    w: usize,
    base: u64,
    last: &mut u64,
    out: &mut Vec<Minimizer>,
    b: &mut Buffers,
) {
    run_minimizers(run, k, w, base, last, out, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_minimizers_avx2(
    run: &[u8],
    k: usize,
    w: usize,
    base: u64,
    last: &mut u64,
    out: &mut Vec<Minimizer>,
    b: &mut Buffers,
) {
    run_minimizers(run, k, w, base, last, out, b)
}

/// The body of [`minimizers_of_run`], inlined into each of its compilations.
#[inline(always)]
fn run_minimizers(
    run: &[u8],
    k: usize,
    w: usize,
    base: u64,
    last: &mut u64,
    out: &mut Vec<Minimizer>,
    b: &mut Buffers,
) {
    let mask = (1u64 << (2 * k)) - 1;
    let shift = 2 * (k as u64 - 1);
    let windows = run.len() + 2 - k - w;
    let Buffers { canon, reverse, key, span, doubled } = b;
    // Swapped by reference, not by value, between the doubling passes.
    let (mut span, mut doubled) = (span, doubled);
    let mut first = 0usize; // the chunk's first window (and k-mer)
    while first < windows {
        let n_win = (windows - first).min(CHUNK + 1 - w);
        let n = n_win + w - 1; // k-mers in the chunk
        let bases = &run[first..first + n + k - 1];
        let (mut fwd, mut rev) = (0u64, 0u64);
        for &c in &bases[..k - 1] {
            fwd = (fwd << 2) | c as u64;
            rev = (rev >> 2) | ((3 - c as u64) << shift);
        }
        for ((&c, canon), reverse) in bases[k - 1..].iter().zip(&mut canon[..n]).zip(&mut reverse[..n]) {
            fwd = ((fwd << 2) | c as u64) & mask;
            rev = (rev >> 2) | ((3 - c as u64) << shift);
            *reverse = rev < fwd;
            *canon = fwd.min(rev);
        }
        for (i, (key, &canon)) in key[..n].iter_mut().zip(&canon[..n]).enumerate() {
            *key = hash64(canon, mask) << 8 | i as u64;
        }
        // span[i] = the minimum of the `width` keys from i, for width doubling up to the
        // largest power of two not above w; a window is two such spans, overlapping.
        let mut width = 1;
        span[..n].copy_from_slice(&key[..n]);
        while 2 * width <= w {
            let len = n + 1 - 2 * width;
            let (from, to) = (&span[..len + width], &mut doubled[..len]);
            for (d, (&x, &y)) in to.iter_mut().zip(from.iter().zip(&from[width..])) {
                *d = x.min(y);
            }
            std::mem::swap(&mut span, &mut doubled);
            width *= 2;
        }
        // Each window's minimum, kept when it is not the last one's again (the slot is
        // written either way; the count moves only for a new one).
        let mut kept = 0usize;
        for s in 0..n_win {
            let best = span[s].min(span[s + w - width]);
            let pos = base + first as u64 + (best & 0xff);
            key[kept] = best;
            kept += (pos != *last) as usize;
            *last = pos;
        }
        out.extend(key[..kept].iter().map(|&best| {
            let i = (best & 0xff) as usize;
            Minimizer { hash: best >> 8, pos: (base + (first + i) as u64) as u32, reverse: reverse[i] }
        }));
        first += n_win;
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

    /// Each compilation of the chunk code this CPU can run (baseline, AVX2, AVX-512) gives the
    /// same minimizers; the test below holds the one [`minimizers`] picks to the definition.
    #[test]
    fn every_compilation_gives_the_same_minimizers() {
        let mut rng = crate::rng::Rng::new(17);
        let seq: Vec<u8> = (0..5000).map(|_| rng.base()).collect();
        for (k, w) in [(11, 4), (19, 10), (28, 64), (15, 1)] {
            let run = |f: &dyn Fn(&mut u64, &mut Vec<Minimizer>)| {
                let (mut last, mut out) = (u64::MAX, Vec::new());
                f(&mut last, &mut out);
                out
            };
            let want = run(&|last, out| run_minimizers(&seq, k, w, 3, last, out, &mut Buffers::default()));
            assert!(want.len() > 5000 / (w + 1), "k={k} w={w}: {} minimizers", want.len());
            // Buffers are a thread's, reused: what an earlier call left in them never shows.
            let mut stale = Buffers {
                canon: [!0; CHUNK],
                reverse: [true; CHUNK],
                key: [3; CHUNK],
                span: [1; CHUNK],
                doubled: [0; CHUNK],
            };
            let (mut last, mut again) = (u64::MAX, Vec::new());
            run_minimizers(&seq, k, w, 3, &mut last, &mut again, &mut stale);
            assert_eq!(again, want, "reused buffers, k={k} w={w}");
            #[cfg(target_arch = "x86_64")]
            {
                if crate::simd::avx2() {
                    // SAFETY: the CPU has AVX2.
                    let got = run(&|last, out| unsafe {
                        run_minimizers_avx2(&seq, k, w, 3, last, out, &mut Buffers::default())
                    });
                    assert_eq!(got, want, "AVX2, k={k} w={w}");
                }
                if crate::simd::avx512() {
                    // SAFETY: the CPU has the AVX-512 subsets the function is compiled for.
                    let got = run(&|last, out| unsafe {
                        run_minimizers_avx512(&seq, k, w, 3, last, out, &mut Buffers::default())
                    });
                    assert_eq!(got, want, "AVX-512, k={k} w={w}");
                }
            }
        }
    }

    /// The sliding minimum against the plain definition: every window of `w` consecutive
    /// k-mers of an N-free run gives its leftmost smallest hash, consecutive repeats once.
    #[test]
    fn sliding_minimum_matches_the_definition() {
        let mut rng = crate::rng::Rng::new(3);
        let seq: Vec<u8> = (0..3000)
            .map(|_| {
                // Runs of one base now and then (ties), and an N every few hundred bases.
                let x = rng.below(397 * 5);
                if x.is_multiple_of(397) {
                    4
                } else if x.is_multiple_of(5) {
                    0
                } else {
                    (x % 4) as u8
                }
            })
            .collect();
        for (k, w) in [(5, 1), (11, 4), (15, 10), (19, 10), (28, 10), (10, 64), (28, 64)] {
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
