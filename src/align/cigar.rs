//! CIGAR operations of an alignment, in BAM's numeric encoding.

use smallvec::SmallVec;
use std::fmt;

/// Runs a [`Cigar`] holds in itself before it needs the heap: a short read's alignment has one
/// to three (`150M`, `70M2D80M`), five with the clips a record adds, so the mapper allocates
/// nothing for nearly every CIGAR it makes, moves or copies.
const INLINE_RUNS: usize = 6;

/// One CIGAR operation kind; the discriminants are BAM's op codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CigarOp {
    /// `M`: an aligned base pair, match or mismatch.
    Match = 0,
    /// `I`: read bases absent from the reference.
    Insertion = 1,
    /// `D`: reference bases absent from the read.
    Deletion = 2,
    /// `S`: read bases left unaligned but kept in SEQ.
    SoftClip = 4,
    /// `H`: read bases left unaligned and removed from SEQ.
    HardClip = 5,
}

impl CigarOp {
    /// The op of BAM code `code` (the low 4 bits of a CIGAR word); `None` for codes swmap never
    /// writes (`N`, `P`, `=`, `X`).
    pub(crate) fn from_code(code: u32) -> Option<CigarOp> {
        match code {
            0 => Some(CigarOp::Match),
            1 => Some(CigarOp::Insertion),
            2 => Some(CigarOp::Deletion),
            4 => Some(CigarOp::SoftClip),
            5 => Some(CigarOp::HardClip),
            _ => None,
        }
    }

    /// The SAM letter of the op (`M`, `I`, `D`, `S`, `H`).
    pub fn letter(self) -> char {
        match self {
            CigarOp::Match => 'M',
            CigarOp::Insertion => 'I',
            CigarOp::Deletion => 'D',
            CigarOp::SoftClip => 'S',
            CigarOp::HardClip => 'H',
        }
    }

    /// Whether the operation consumes query bases.
    pub fn consumes_query(self) -> bool {
        matches!(self, CigarOp::Match | CigarOp::Insertion | CigarOp::SoftClip)
    }

    /// Whether the operation consumes reference bases.
    pub fn consumes_reference(self) -> bool {
        matches!(self, CigarOp::Match | CigarOp::Deletion)
    }
}

/// A run-length encoded CIGAR; each element (a *word*) is `(length << 4) | op`, as in BAM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cigar(SmallVec<[u32; INLINE_RUNS]>);

impl Cigar {
    /// The CIGAR of BAM words `words` (each `(length << 4) | op`), taken as they are.
    pub fn from_words(words: &[u32]) -> Cigar {
        Cigar(SmallVec::from_slice(words))
    }

    /// The runs as BAM words, `(length << 4) | op` each.
    pub fn words(&self) -> &[u32] {
        &self.0
    }

    /// Appends BAM words as they are (no merging with the last run).
    pub(crate) fn extend_words(&mut self, words: &[u32]) {
        self.0.extend_from_slice(words);
    }

    /// Removes every run, keeping any heap storage for reuse.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Reverses the order of the runs (a traceback collects them end first).
    pub(crate) fn reverse(&mut self) {
        self.0.reverse();
    }

    /// Appends `len` operations of kind `op`, merging with the last run when it is the same op.
    pub fn push(&mut self, op: CigarOp, len: u32) {
        if len == 0 {
            return;
        }
        if let Some(last) = self.0.last_mut() {
            if *last & 0xf == op as u32 {
                *last += len << 4;
                return;
            }
        }
        self.0.push((len << 4) | op as u32);
    }

    /// Runs as `(op, len)` pairs.
    pub fn runs(&self) -> impl Iterator<Item = (CigarOp, u32)> + '_ {
        self.0.iter().map(|&w| (CigarOp::from_code(w & 0xf).expect("valid CIGAR op"), w >> 4))
    }

    /// Query bases consumed.
    pub fn query_len(&self) -> u32 {
        self.runs().filter(|(op, _)| op.consumes_query()).map(|(_, l)| l).sum()
    }

    /// Reference bases consumed.
    pub fn reference_len(&self) -> u32 {
        self.runs().filter(|(op, _)| op.consumes_reference()).map(|(_, l)| l).sum()
    }

    /// Whether there are no runs (an unaligned read, written `*`).
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Cigar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("*");
        }
        for (op, len) in self.runs() {
            write!(f, "{len}{}", op.letter())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_merges_runs_and_displays() {
        let mut c = Cigar::default();
        c.push(CigarOp::SoftClip, 3);
        c.push(CigarOp::Match, 10);
        c.push(CigarOp::Match, 5);
        c.push(CigarOp::Deletion, 2);
        c.push(CigarOp::Insertion, 0);
        c.push(CigarOp::Match, 1);
        assert_eq!(c.to_string(), "3S15M2D1M");
        assert_eq!(c.query_len(), 19);
        assert_eq!(c.reference_len(), 18);
    }
}
