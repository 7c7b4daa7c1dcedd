//! Nucleotide codes shared by every stage.
//!
//! Bases are stored one per byte as codes `A=0, C=1, G=2, T=3, N=4`. Every IUPAC ambiguity
//! code (R, Y, K, M, S, W, B, D, H, V) and N itself become code 4: such a base never takes
//! part in a seed and scores as an "ambiguous" pair during alignment (the `ambiguous` score
//! of the scoring options). Lower case is upper-cased.

/// Code of an ambiguous base.
pub const N: u8 = 4;

/// Marks a byte that is no base in [`CODES`].
pub const INVALID: u8 = 0xff;

/// Base code of every byte ([`encode`]), [`INVALID`] where it has none: one table load per
/// base instead of a chain of comparisons (the FASTQ and FASTA readers).
pub static CODES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut b = 0;
    while b < 256 {
        if let Some(c) = encode(b as u8) {
            table[b] = c;
        }
        b += 1;
    }
    table
};

/// ASCII byte to base code; `None` for a byte that is not a nucleotide letter at all.
pub const fn encode(byte: u8) -> Option<u8> {
    match byte {
        b'A' | b'a' => Some(0),
        b'C' | b'c' => Some(1),
        b'G' | b'g' => Some(2),
        b'T' | b't' | b'U' | b'u' => Some(3),
        b'N' | b'n' | b'R' | b'r' | b'Y' | b'y' | b'K' | b'k' | b'M' | b'm' | b'S' | b's' | b'W' | b'w' | b'B'
        | b'b' | b'D' | b'd' | b'H' | b'h' | b'V' | b'v' | b'.' => Some(N),
        _ => None,
    }
}

/// Base code to upper-case ASCII.
pub fn decode(code: u8) -> u8 {
    b"ACGTN"[code.min(4) as usize]
}

/// Complement of a base code (N stays N).
pub fn complement(code: u8) -> u8 {
    if code < 4 {
        3 - code
    } else {
        N
    }
}

/// Reverse complement of a code sequence into `out` (cleared first).
pub fn reverse_complement_into(codes: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend(codes.iter().rev().map(|&c| complement(c)));
}

/// Reverse complement of `codes` into `out`, which is exactly as long.
pub fn reverse_complement_to(codes: &[u8], out: &mut [u8]) {
    assert_eq!(codes.len(), out.len(), "room for the reverse complement");
    for (o, &c) in out.iter_mut().zip(codes.iter().rev()) {
        *o = complement(c);
    }
}

/// Reverse complement of a code sequence.
pub fn reverse_complement(codes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(codes.len());
    reverse_complement_into(codes, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iupac_codes_become_n_and_lower_case_is_upper_cased() {
        assert_eq!(encode(b'a'), Some(0));
        assert_eq!(encode(b'R'), Some(N));
        assert_eq!(encode(b'n'), Some(N));
        assert_eq!(encode(b'X'), None);
        assert_eq!(encode(b'>'), None);
        assert_eq!(decode(encode(b'g').unwrap()), b'G');
    }

    #[test]
    fn reverse_complement_round_trips() {
        let s = [0, 1, 2, 3, 4, 0];
        assert_eq!(reverse_complement(&s), vec![3, 4, 0, 1, 2, 3]);
        assert_eq!(reverse_complement(&reverse_complement(&s)), s.to_vec());
        let mut out = [9; 6];
        reverse_complement_to(&s, &mut out);
        assert_eq!(out.to_vec(), reverse_complement(&s));
    }
}
