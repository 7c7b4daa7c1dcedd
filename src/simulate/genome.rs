//! The simulated individual: a list of variants against one reference contig, and the walk
//! that reads the mutated haplotype out of it base by base, each base keeping its reference
//! coordinate. The variant list is the coordinate map back to the reference; the haplotype is
//! never stored whole, so memory stays that of the reference.
//!
//! Conventions: positions are 0-based on the reference. An insertion at `pos` puts its bases
//! immediately before `ref[pos]`; a deletion at `pos` removes `ref[pos..pos + len]`. No variant
//! touches an N, and variants never overlap, so a read whose template holds no N overlaps no N
//! of the reference either.

use crate::dna;
use crate::rng::Rng;

/// What a variant does at its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariantKind {
    /// The reference base is replaced by this base code.
    Snp(u8),
    /// These base codes come before the reference base.
    Insertion(Vec<u8>),
    /// This many reference bases, from the position on, are missing.
    Deletion(u32),
}

/// One difference of the haplotype from the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    /// 0-based reference position.
    pub pos: u32,
    /// What changes there: a SNP, an insertion or a deletion.
    pub kind: VariantKind,
}

/// Longest simulated indel (variants are 1 to this many bases long).
pub const MAX_INDEL: u32 = 5;

/// Draws variants along `seq`: at each non-N base a SNP with probability `snp_rate`, else an
/// indel (insertion or deletion, equally likely, 1-5 bases) with probability `indel_rate`.
/// Sorted by position, never overlapping.
pub fn mutate(seq: &[u8], snp_rate: f64, indel_rate: f64, rng: &mut Rng) -> Vec<Variant> {
    let mut variants = Vec::new();
    let mut pos = 0usize;
    while pos < seq.len() {
        let base = seq[pos];
        if base == dna::N {
            pos += 1;
            continue;
        }
        let u = rng.uniform();
        if u < snp_rate {
            variants.push(Variant { pos: pos as u32, kind: VariantKind::Snp(rng.other_base(base, base)) });
        } else if u < snp_rate + indel_rate {
            let len = 1 + rng.below(MAX_INDEL as u64) as u32;
            if rng.chance(0.5) {
                let bases = (0..len).map(|_| rng.base()).collect();
                variants.push(Variant { pos: pos as u32, kind: VariantKind::Insertion(bases) });
            } else {
                let end = pos + len as usize;
                // A deletion over an N would hide the N from the read-overlap check.
                if end <= seq.len() && !seq[pos..end].contains(&dna::N) {
                    variants.push(Variant { pos: pos as u32, kind: VariantKind::Deletion(len) });
                    pos = end;
                    continue;
                }
            }
        }
        pos += 1;
    }
    variants
}

/// One base of the haplotype, as the sequencer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HapBase {
    /// The haplotype's base code.
    pub base: u8,
    /// The reference's base code at `ref_pos` (N for an inserted base). A SNP is `base !=
    /// ref_base` at a reference position.
    pub ref_base: u8,
    /// 0-based reference position; `None` for a base inserted by a variant.
    pub ref_pos: Option<u32>,
}

impl HapBase {
    /// The same base read from the other strand.
    pub fn complement(self) -> HapBase {
        HapBase { base: dna::complement(self.base), ref_base: dna::complement(self.ref_base), ..self }
    }

    /// Whether the haplotype differs from the reference at this base.
    pub fn is_snp(&self) -> bool {
        self.ref_pos.is_some() && self.base != self.ref_base
    }
}

/// Up to `max_len` haplotype bases, left to right, starting at reference position `start`
/// (an insertion just before `start` is left out; if `ref[start]` is deleted, the walk starts
/// after the deletion). Shorter than `max_len` only at the contig's end.
pub fn haplotype_from(seq: &[u8], variants: &[Variant], start: u32, max_len: usize, out: &mut Vec<HapBase>) {
    out.clear();
    let mut next = variants.partition_point(|v| v.pos < start);
    let mut r = start as usize;
    // A start inside an earlier deletion moves to the deletion's end.
    if let Some(Variant { pos, kind: VariantKind::Deletion(len) }) = next.checked_sub(1).map(|i| &variants[i]) {
        r = r.max((pos + len) as usize);
    }
    while out.len() < max_len && r < seq.len() {
        let reference = HapBase { base: seq[r], ref_base: seq[r], ref_pos: Some(r as u32) };
        let variant = variants.get(next).filter(|v| v.pos as usize == r);
        if variant.is_some() {
            next += 1;
        }
        match variant.map(|v| &v.kind) {
            None => out.push(reference),
            Some(VariantKind::Snp(alt)) => out.push(HapBase { base: *alt, ..reference }),
            Some(VariantKind::Insertion(bases)) => {
                if r != start as usize {
                    out.extend(bases.iter().map(|&b| HapBase { base: b, ref_base: dna::N, ref_pos: None }));
                }
                out.push(reference);
            }
            Some(VariantKind::Deletion(len)) => {
                r += *len as usize;
                continue;
            }
        }
        r += 1;
    }
    out.truncate(max_len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haplotype_applies_each_kind_of_variant() {
        let seq = vec![0, 1, 2, 3, 0, 1, 2, 3];
        let variants = vec![
            Variant { pos: 1, kind: VariantKind::Snp(3) },
            Variant { pos: 3, kind: VariantKind::Insertion(vec![2, 2]) },
            Variant { pos: 5, kind: VariantKind::Deletion(2) },
        ];
        let mut hap = Vec::new();
        haplotype_from(&seq, &variants, 0, 100, &mut hap);
        let bases: Vec<u8> = hap.iter().map(|h| h.base).collect();
        assert_eq!(bases, vec![0, 3, 2, 2, 2, 3, 0, 3]);
        let pos: Vec<Option<u32>> = hap.iter().map(|h| h.ref_pos).collect();
        let expect = [Some(0), Some(1), Some(2), None, None, Some(3), Some(4), Some(7)];
        assert_eq!(pos, expect.to_vec());
        assert!(hap[1].is_snp() && !hap[0].is_snp() && !hap[3].is_snp());
        // Starting at the insertion's position leaves the inserted bases out.
        haplotype_from(&seq, &variants, 3, 3, &mut hap);
        assert_eq!(hap.iter().map(|h| h.ref_pos).collect::<Vec<_>>(), vec![Some(3), Some(4), Some(7)]);
        // Starting on a deleted base starts after the deletion.
        haplotype_from(&seq, &variants, 6, 3, &mut hap);
        assert_eq!(hap.iter().map(|h| h.ref_pos).collect::<Vec<_>>(), vec![Some(7)]);
    }

    #[test]
    fn mutate_spares_ns_and_keeps_variants_apart() {
        let mut rng = Rng::new(3);
        let mut seq: Vec<u8> = (0..20000).map(|_| rng.base()).collect();
        seq[5000..5100].fill(dna::N);
        let variants = mutate(&seq, 0.02, 0.02, &mut rng);
        assert!(variants.len() > 400, "{}", variants.len());
        let mut end = 0;
        for v in &variants {
            assert!(v.pos >= end, "overlap at {}", v.pos);
            let len = match &v.kind {
                VariantKind::Deletion(len) => *len,
                _ => 1,
            };
            let range = v.pos as usize..(v.pos + len) as usize;
            assert!(!seq[range].contains(&dna::N));
            if let VariantKind::Snp(alt) = v.kind {
                assert_ne!(alt, seq[v.pos as usize]);
            }
            end = v.pos + len;
        }
    }
}
