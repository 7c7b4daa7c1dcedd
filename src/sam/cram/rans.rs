//! The rANS entropy coder of CRAM 3.0 (4 interleaved states, byte-wise renormalisation,
//! frequencies scaled to 12 bits), orders 0 and 1, encoding only: CRAM readers (htslib,
//! htsjdk, noodles) decode it. The layout is the CRAM codecs specification's: an order byte,
//! the compressed and raw sizes (u32, little-endian), the frequency table(s), then the four
//! final states followed by the renormalisation bytes.

/// Frequencies of a context are scaled to sum to at most this (12 bits; 4095 rather than 4096
/// so that no frequency is ever 4096, which some readers take as 0).
const TOTAL: u32 = 4095;
const SCALE_BITS: u32 = 12;
/// The lower bound of a state (2^23).
const LOWER: u32 = 1 << 23;

/// `src` encoded with rANS of `order` (0 or 1); inputs under 4 bytes always use order 0.
pub(crate) fn encode(order: u8, src: &[u8]) -> Vec<u8> {
    if order == 1 && src.len() >= 4 {
        encode_order1(src)
    } else {
        encode_order0(src)
    }
}

/// Counts scaled to sum to at most [`TOTAL`], every symbol present keeping at least 1; the
/// remainder goes to (or is taken from) the most frequent symbol.
fn normalise(counts: &[u32; 256]) -> [u32; 256] {
    let total: u64 = counts.iter().map(|&c| c as u64).sum();
    let mut freqs = [0u32; 256];
    if total == 0 {
        return freqs;
    }
    let mut sum = 0u32;
    let mut largest = 0;
    for s in 0..256 {
        if counts[s] == 0 {
            continue;
        }
        freqs[s] = ((counts[s] as u64 * TOTAL as u64 / total) as u32).max(1);
        sum += freqs[s];
        if counts[s] > counts[largest] || counts[largest] == 0 {
            largest = s;
        }
    }
    if sum <= TOTAL {
        freqs[largest] += TOTAL - sum;
    } else {
        // Rounding up the rare symbols to 1 overshot: take the excess from the largest ones.
        let mut excess = sum - TOTAL;
        while excess > 0 {
            let s = (0..256).max_by_key(|&s| freqs[s]).expect("256 symbols");
            let take = excess.min(freqs[s] - 1).min(freqs[s] / 2).max(1);
            freqs[s] -= take;
            excess -= take;
        }
    }
    freqs
}

/// Writes a frequency of up to 15 bits: one byte below 128, else two.
fn put_freq(out: &mut Vec<u8>, f: u32) {
    if f < 128 {
        out.push(f as u8);
    } else {
        out.push(0x80 | (f >> 8) as u8);
        out.push(f as u8);
    }
}

/// Writes the symbols with a non-zero entry of `present` in increasing order, with the
/// format's run-length rule (a symbol following a present one is followed by the number of
/// present symbols after it, which are then not written), calling `each` after each symbol;
/// ends with a 0 byte.
fn put_alphabet(out: &mut Vec<u8>, present: impl Fn(usize) -> bool, mut each: impl FnMut(&mut Vec<u8>, usize)) {
    let mut run = 0;
    for s in 0..256 {
        if !present(s) {
            continue;
        }
        if run > 0 {
            run -= 1;
        } else {
            out.push(s as u8);
            if s > 0 && present(s - 1) {
                let mut next = s + 1;
                while next < 256 && present(next) {
                    next += 1;
                }
                run = next - (s + 1);
                out.push(run as u8);
            }
        }
        each(out, s);
    }
    out.push(0);
}

/// One symbol's encoding: its frequency and the sum of the frequencies of the symbols before it.
#[derive(Clone, Copy, Default)]
struct Symbol {
    freq: u32,
    start: u32,
}

fn symbols(freqs: &[u32; 256]) -> [Symbol; 256] {
    let mut syms = [Symbol::default(); 256];
    let mut start = 0;
    for s in 0..256 {
        syms[s] = Symbol { freq: freqs[s], start };
        start += freqs[s];
    }
    syms
}

/// Pushes `sym` onto state `x`, renormalisation bytes going to `out` (which is built from the
/// end of the stream backwards).
fn put(x: &mut u32, out: &mut Vec<u8>, sym: Symbol) {
    debug_assert!(sym.freq > 0);
    let max = ((LOWER >> SCALE_BITS) << 8) * sym.freq;
    while *x >= max {
        out.push(*x as u8);
        *x >>= 8;
    }
    *x = ((*x / sym.freq) << SCALE_BITS) + (*x % sym.freq) + sym.start;
}

/// The order byte, the sizes, `table`, then the states (state 0 first, little-endian) and the
/// renormalisation bytes, which `reversed` holds last-first.
fn assemble(order: u8, raw_len: usize, table: Vec<u8>, states: [u32; 4], mut reversed: Vec<u8>) -> Vec<u8> {
    for &x in states.iter().rev() {
        reversed.extend_from_slice(&x.to_be_bytes());
    }
    let body_len = table.len() + reversed.len();
    let mut out = Vec::with_capacity(9 + body_len);
    out.push(order);
    out.extend_from_slice(&(body_len as u32).to_le_bytes());
    out.extend_from_slice(&(raw_len as u32).to_le_bytes());
    out.extend_from_slice(&table);
    out.extend(reversed.iter().rev());
    out
}

fn encode_order0(src: &[u8]) -> Vec<u8> {
    let mut counts = [0u32; 256];
    for &b in src {
        counts[b as usize] += 1;
    }
    let freqs = normalise(&counts);
    let mut table = Vec::new();
    if !src.is_empty() {
        put_alphabet(&mut table, |s| freqs[s] > 0, |out, s| put_freq(out, freqs[s]));
    }
    let syms = symbols(&freqs);
    let mut states = [LOWER; 4];
    let mut reversed = Vec::with_capacity(src.len());
    // Symbol i belongs to state i % 4; the last symbols are pushed first.
    for i in (0..src.len()).rev() {
        put(&mut states[i % 4], &mut reversed, syms[src[i] as usize]);
    }
    assemble(0, src.len(), table, states, reversed)
}

fn encode_order1(src: &[u8]) -> Vec<u8> {
    // State j codes the j-th quarter, each symbol in the context of the one before it in its
    // quarter (0 at the quarter's start); state 3 codes the remainder after its quarter.
    let quarter = src.len() / 4;
    let context = |i: usize| if i.is_multiple_of(quarter) && i < 4 * quarter { 0 } else { src[i - 1] as usize };
    let mut counts = vec![[0u32; 256]; 256];
    for i in 0..src.len() {
        counts[context(i)][src[i] as usize] += 1;
    }
    let freqs: Vec<[u32; 256]> = counts.iter().map(normalise).collect();
    let mut table = Vec::new();
    put_alphabet(
        &mut table,
        |c| freqs[c].iter().any(|&f| f > 0),
        |out, c| put_alphabet(out, |s| freqs[c][s] > 0, |out, s| put_freq(out, freqs[c][s])),
    );
    let syms: Vec<[Symbol; 256]> = freqs.iter().map(symbols).collect();
    let mut states = [LOWER; 4];
    let mut reversed = Vec::with_capacity(src.len());
    for i in (4 * quarter..src.len()).rev() {
        put(&mut states[3], &mut reversed, syms[context(i)][src[i] as usize]);
    }
    for k in (0..quarter).rev() {
        for j in (0..4).rev() {
            let i = j * quarter + k;
            put(&mut states[j], &mut reversed, syms[context(i)][src[i] as usize]);
        }
    }
    assemble(1, src.len(), table, states, reversed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A plain decoder written from the specification: the oracle for the encoder.
    fn decode(src: &[u8]) -> Vec<u8> {
        let order = src[0];
        let body_len = u32::from_le_bytes(src[1..5].try_into().unwrap()) as usize;
        let raw_len = u32::from_le_bytes(src[5..9].try_into().unwrap()) as usize;
        assert_eq!(src.len(), 9 + body_len, "compressed size");
        let mut at = 9;
        let byte = |at: &mut usize| {
            *at += 1;
            src[*at - 1]
        };
        // Reads an alphabet with its run-length rule, calling `each` per symbol.
        fn alphabet(src: &[u8], at: &mut usize, mut each: impl FnMut(&[u8], &mut usize, usize)) {
            let mut sym = src[*at] as usize;
            *at += 1;
            let mut last = sym;
            let mut run = 0;
            loop {
                each(src, at, sym);
                if run > 0 {
                    run -= 1;
                    sym += 1;
                } else {
                    sym = src[*at] as usize;
                    *at += 1;
                    if sym == last + 1 {
                        run = src[*at] as usize;
                        *at += 1;
                    }
                }
                last = sym;
                if sym == 0 {
                    break;
                }
            }
        }
        fn freq(src: &[u8], at: &mut usize) -> u32 {
            let f = src[*at] as u32;
            *at += 1;
            if f < 128 {
                f
            } else {
                *at += 1;
                (f & 0x7f) << 8 | src[*at - 1] as u32
            }
        }
        let mut tables = vec![[0u32; 256]; 256];
        if raw_len == 0 {
            return Vec::new();
        }
        if order == 0 {
            alphabet(src, &mut at, |src, at, s| tables[0][s] = freq(src, at));
        } else {
            alphabet(src, &mut at, |src, at, c| alphabet(src, at, |src, at, s| tables[c][s] = freq(src, at)));
        }
        for t in &tables {
            assert!(t.iter().sum::<u32>() <= 4096, "a table sums to more than 4096");
        }
        let mut states = [0u32; 4];
        for x in &mut states {
            *x = u32::from_le_bytes(src[at..at + 4].try_into().unwrap());
            at += 4;
        }
        let step = |x: &mut u32, table: &[u32; 256], at: &mut usize| -> u8 {
            let m = *x & 0xfff;
            let mut start = 0;
            let s = (0..256).find(|&s| {
                start += table[s];
                m < start
            });
            let s = s.expect("a slot outside every symbol");
            let f = table[s];
            *x = f * (*x >> 12) + m - (start - f);
            while *x < LOWER {
                *x = *x << 8 | byte(at) as u32;
            }
            s as u8
        };
        let mut out = vec![0u8; raw_len];
        if order == 0 {
            for (i, o) in out.iter_mut().enumerate() {
                *o = step(&mut states[i % 4], &tables[0], &mut at);
            }
        } else {
            let quarter = raw_len / 4;
            let mut last = [0usize; 4];
            for k in 0..quarter {
                for j in 0..4 {
                    let s = step(&mut states[j], &tables[last[j]], &mut at);
                    out[j * quarter + k] = s;
                    last[j] = s as usize;
                }
            }
            for o in out.iter_mut().skip(4 * quarter) {
                *o = step(&mut states[3], &tables[last[3]], &mut at);
                last[3] = *o as usize;
            }
        }
        assert_eq!(at, src.len(), "bytes left over");
        out
    }

    #[test]
    fn both_orders_decode_to_their_input() {
        let mut rng = Rng::new(5);
        let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![7], vec![1, 2, 3], vec![0; 4], vec![255, 0, 255, 0, 1]];
        // Qualities-like (a few skewed symbols), every byte value, one symbol, long runs.
        for len in [5, 6, 7, 100, 4097, 100_003] {
            inputs.push((0..len).map(|_| 30 + (rng.below(8) * rng.below(4)) as u8).collect());
            inputs.push((0..len).map(|_| rng.below(256) as u8).collect());
            inputs.push(vec![b'A'; len]);
            inputs.push((0..len).map(|i| if (i / 50) % 2 == 0 { 0 } else { 1 + (i % 3) as u8 }).collect());
        }
        for input in &inputs {
            for order in [0, 1] {
                let encoded = encode(order, input);
                assert_eq!(decode(&encoded), *input, "order {order}, {} bytes", input.len());
                assert_eq!(encoded[0], if input.len() >= 4 { order } else { 0 });
            }
        }
        // Order 1 pays off on data with context: quality-like runs.
        let q: Vec<u8> = (0..100_000).map(|i| 20 + ((i / 7) % 5) as u8).collect();
        assert!(encode(1, &q).len() * 3 < encode(0, &q).len());
    }

    #[test]
    fn frequencies_sum_to_the_scale_and_keep_every_symbol() {
        let mut counts = [0u32; 256];
        counts[0] = 1_000_000;
        for c in counts.iter_mut().skip(1) {
            *c = 1;
        }
        let f = normalise(&counts);
        assert!(f.iter().all(|&f| f >= 1));
        assert_eq!(f.iter().sum::<u32>(), TOTAL);
        let mut one = [0u32; 256];
        one[9] = 3;
        assert_eq!(normalise(&one)[9], TOTAL);
    }
}
