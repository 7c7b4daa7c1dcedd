//! The NM and MD tags, computed from the CIGAR, the read and the reference (noodles computes
//! neither).
//!
//! Conventions, as samtools calmd has them: an `N` in the read or the reference never matches,
//! not even another `N`, so it counts towards NM and appears in MD; MD always has a number
//! between two events (mismatch or deletion) and at both ends, `0` when nothing matched there
//! (`0A10`, `5A0C3`, `5^AC0T3`).

use crate::align::{Cigar, CigarOp};
use crate::dna;
use std::fmt::Write as _;

/// Edit distance (NM) and mismatch string (MD) of one alignment.
///
/// `query` holds the base codes (see [`crate::dna`]) of the whole read, soft clips included,
/// in the orientation it was aligned; `reference` holds the reference codes from the record's
/// POS onwards, at least the CIGAR's reference length. Hard clips consume nothing.
///
/// # Panics
///
/// If `query` or `reference` is shorter than the CIGAR says.
#[cfg(test)]
pub fn nm_md(cigar: &Cigar, query: &[u8], reference: &[u8]) -> (u32, String) {
    let mut md = String::with_capacity(16);
    let nm = nm_md_into(cigar, query, reference, &mut md);
    (nm, md)
}

/// NM and MD (see the module) with MD written into `md` (cleared first), so that its buffer
/// can be reused; returns NM.
pub fn nm_md_into(cigar: &Cigar, query: &[u8], reference: &[u8], md: &mut String) -> u32 {
    md.clear();
    let mut nm = 0u32;
    // Matching bases since the last MD event, written before the next event and at the end.
    let mut run = 0u32;
    let (mut qi, mut ri) = (0usize, 0usize);

    for (op, len) in cigar.runs() {
        let n = len as usize;
        match op {
            CigarOp::Match => {
                let (qs, rs) = (&query[qi..qi + n], &reference[ri..ri + n]);
                let mut k = 0;
                while k < n {
                    // Eight equal bases without an N at once (most of a read), else one by one.
                    if k + 8 <= n {
                        let word = |s: &[u8]| u64::from_le_bytes(s[k..k + 8].try_into().expect("8 bytes"));
                        let r = word(rs);
                        if word(qs) == r && !has_byte(r, dna::N) {
                            run += 8;
                            k += 8;
                            continue;
                        }
                    }
                    let (q, r) = (qs[k], rs[k]);
                    if q == r && r != dna::N {
                        run += 1;
                    } else {
                        let _ = write!(md, "{run}");
                        md.push(dna::decode(r) as char);
                        run = 0;
                        nm += 1;
                    }
                    k += 1;
                }
                qi += n;
                ri += n;
            }
            CigarOp::Insertion => {
                qi += n;
                nm += len;
            }
            CigarOp::Deletion => {
                let _ = write!(md, "{run}^");
                md.extend(reference[ri..ri + n].iter().map(|&r| dna::decode(r) as char));
                run = 0;
                ri += n;
                nm += len;
            }
            CigarOp::SoftClip => qi += n,
            CigarOp::HardClip => {}
        }
    }
    let _ = write!(md, "{run}");
    nm
}

/// True when a byte of `word` is `b`.
fn has_byte(word: u64, b: u8) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    let x = word ^ (LOW * b as u64);
    x.wrapping_sub(LOW) & !x & (LOW << 7) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_byte_finds_a_byte_anywhere() {
        for b in [0u8, 1, 4, 0x80, 0xff] {
            for fill in [0u8, 3, 5, 0x7f, 0xfe] {
                if fill == b {
                    continue;
                }
                let none = u64::from_le_bytes([fill; 8]);
                assert!(!has_byte(none, b), "{b} in {none:x}");
                for i in 0..8 {
                    let mut bytes = [fill; 8];
                    bytes[i] = b;
                    assert!(has_byte(u64::from_le_bytes(bytes), b), "{b} at {i}");
                }
            }
        }
    }

    /// Parses a CIGAR string such as `2S3M1D4M` (test helper).
    fn cigar(s: &str) -> Cigar {
        let mut c = Cigar::default();
        let mut len = 0;
        for ch in s.chars() {
            if let Some(d) = ch.to_digit(10) {
                len = len * 10 + d;
                continue;
            }
            let op = match ch {
                'M' => CigarOp::Match,
                'I' => CigarOp::Insertion,
                'D' => CigarOp::Deletion,
                'S' => CigarOp::SoftClip,
                'H' => CigarOp::HardClip,
                _ => panic!("bad op {ch}"),
            };
            c.push(op, len);
            len = 0;
        }
        c
    }

    fn codes(s: &str) -> Vec<u8> {
        s.bytes().map(|b| dna::encode(b).unwrap()).collect()
    }

    fn check(cig: &str, read: &str, reference: &str, nm: u32, md: &str) {
        assert_eq!(
            nm_md(&cigar(cig), &codes(read), &codes(reference)),
            (nm, md.to_string()),
            "{cig} {read} {reference}"
        );
    }

    #[test]
    fn perfect_match_is_one_number() {
        check("8M", "ACGTACGT", "ACGTACGT", 0, "8");
    }

    #[test]
    fn mismatch_writes_reference_base() {
        check("8M", "ACGTTCGT", "ACGTACGT", 1, "4A3");
    }

    #[test]
    fn mismatches_at_both_ends_get_zero() {
        check("4M", "TCGA", "ACGT", 2, "0A2T0");
    }

    #[test]
    fn adjacent_mismatches_are_separated_by_zero() {
        check("6M", "ACTTGT", "ACGAGT", 2, "2G0A2");
    }

    #[test]
    fn insertion_counts_in_nm_but_not_md() {
        check("3M2I3M", "ACGTTACG", "ACGACG", 2, "6");
    }

    #[test]
    fn deletion_lists_deleted_reference_bases() {
        check("3M2D3M", "ACGACG", "ACGTTACG", 2, "3^TT3");
    }

    #[test]
    fn deletion_followed_by_mismatch_gets_zero() {
        check("2M1D3M", "ACTAA", "ACGGAA", 2, "2^G0G2");
    }

    #[test]
    fn mismatch_followed_by_deletion_gets_zero() {
        check("3M1D2M", "ACTAA", "ACGCAA", 2, "2G0^C2");
    }

    #[test]
    fn soft_and_hard_clips_are_skipped() {
        // The clipped bases (TT, GG) would mismatch if they were compared.
        check("2H2S4M2S", "TTACGTGG", "ACCT", 1, "2C1");
    }

    #[test]
    fn n_never_matches() {
        check("4M", "ANGT", "ACGN", 2, "1C1N0");
        check("3M", "ANG", "ANG", 1, "1N1");
    }

    #[test]
    fn empty_cigar_gives_zero() {
        check("", "", "", 0, "0");
    }
}
