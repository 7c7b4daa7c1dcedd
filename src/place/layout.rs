//! The roles of a read's hits around its primary: the other parts of a split (chimeric)
//! read, and the *rivals* of each part, the one notion of "another placement of the same read
//! bases" that MAPQ, `XS`, `XA` and secondary records all use.
//!
//! The rules go by how much of the read two hits both align, as bwa-mem's do, simplified;
//! they depend on the hits and their order (best first) alone, so they are deterministic:
//! - Two hits *overlap* when the read bases both align are at least half of the shorter
//!   hit's aligned bases (bwa-mem's `mask_level` 0.5).
//! - The *parts* are the primary, then, in hit order, every hit that overlaps no part chosen
//!   so far and aligns at least [`MIN_NEW_BASES`] read bases that no chosen part aligns.
//! - Every other hit is a *rival* of the first part (primary first) it overlaps, or of none
//!   if it overlaps none. Parts never overlap the primary, so the primary's rivals are all
//!   the hits that overlap it.
//! - `XS` of a part is the best score among its rivals, 0 if it has none.
//! - `XA` of a part lists its rivals scoring at least [`XA_SCORE_PERCENT`]% of the part's
//!   score, in hit order; with more than the limit (bwa-mem's `-h`, 5) there is no `XA`: the
//!   part lies in a repeat and a partial list would mislead.

use crate::place::hit::Hit;
use smallvec::SmallVec;

/// Read bases a supplementary part must align that no other part aligns: bwa-mem's minimum
/// seed length, 19. (A part also scores at least `-T`, 30, so it aligns 30 bases or more; a
/// 31-base part across from a 121-base one shares 2 with it, and is reported as bwa-mem does.)
pub const MIN_NEW_BASES: u32 = 19;

/// Alternatives scoring at least this percentage of their part's score go into `XA`
/// (bwa-mem's `XA_drop_ratio`, 0.8).
pub const XA_SCORE_PERCENT: i64 = 80;

/// The role of each of a read's hits, given the one chosen as primary. The lists are held
/// inline up to the sizes most reads need, so laying a read out allocates nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadLayout {
    /// Indices into the hits: the primary first, then the supplementary parts in hit order.
    pub parts: SmallVec<[usize; 2]>,
    /// Every other hit, in hit order, with the part (an index into `parts`) it is a rival of.
    pub others: SmallVec<[(usize, Option<usize>); 16]>,
    /// The read's length (what overlaps are measured on).
    pub read_len: u32,
}

impl ReadLayout {
    /// Lays out `hits` (one read's, best first) around `hits[primary]`.
    pub fn new(hits: &[Hit], primary: usize, read_len: u32) -> ReadLayout {
        ReadLayout::new_among(hits, primary, read_len, |_| true)
    }

    /// [`ReadLayout::new`] where only the hits `may_be_part` accepts can be supplementary
    /// parts (the others are rivals or nothing): hits on ALT contigs, when the read also has
    /// hits on the primary assembly.
    pub fn new_among(hits: &[Hit], primary: usize, read_len: u32, may_be_part: impl Fn(&Hit) -> bool) -> ReadLayout {
        let mut parts = SmallVec::from_elem(primary, 1);
        for (i, h) in hits.iter().enumerate() {
            if i == primary || !may_be_part(h) || parts.iter().any(|&p| overlap(&hits[p], h, read_len)) {
                continue;
            }
            if new_bases(h, parts.iter().map(|&p| &hits[p]), read_len) >= MIN_NEW_BASES {
                parts.push(i);
            }
        }
        let others = (0..hits.len())
            .filter(|i| !parts.contains(i))
            .map(|i| (i, parts.iter().position(|&p| overlap(&hits[p], &hits[i], read_len))))
            .collect();
        ReadLayout { parts, others, read_len }
    }

    /// The indices of part `k`'s rivals, in hit order.
    pub fn rivals(&self, k: usize) -> impl Iterator<Item = usize> + '_ {
        self.others.iter().filter(move |(_, part)| *part == Some(k)).map(|&(i, _)| i)
    }

    /// `XS` of part `k`: the best score among its rivals, 0 without any.
    pub fn sub_score(&self, hits: &[Hit], k: usize) -> i32 {
        self.sub_score_among(hits, k, |_| true)
    }

    /// [`ReadLayout::sub_score`] over the rivals `counts` accepts (those on the primary
    /// assembly, when ALT contigs are known).
    pub fn sub_score_among(&self, hits: &[Hit], k: usize, counts: impl Fn(&usize) -> bool) -> i32 {
        self.rivals(k).filter(counts).map(|i| hits[i].score).max().unwrap_or(0)
    }

    /// The rivals `XA` lists for part `k`; empty when none qualify or more than `max` do.
    pub fn xa_hits(&self, hits: &[Hit], k: usize, max: usize) -> XaHits {
        let score = hits[self.parts[k]].score as i64;
        let mut near = XaHits::new();
        for i in self.rivals(k).filter(|&i| hits[i].score as i64 * 100 >= score * XA_SCORE_PERCENT) {
            if near.len() == max {
                return XaHits::new();
            }
            near.push(i);
        }
        near
    }
}

/// The hits an `XA` tag lists (indices into a read's hits); two held inline.
pub type XaHits = SmallVec<[usize; 2]>;

/// Whether two hits align enough of the same read bases to be alternatives to each other.
pub(crate) fn overlap(a: &Hit, b: &Hit, read_len: u32) -> bool {
    let shorter = (a.query_end - a.query_start).min(b.query_end - b.query_start);
    2 * a.read_overlap(b, read_len) >= shorter
}

/// Read bases `h` aligns that none of `parts` aligns.
fn new_bases<'a>(h: &Hit, parts: impl Iterator<Item = &'a Hit>, read_len: u32) -> u32 {
    let (start, end) = h.read_span(read_len);
    let mut covered: SmallVec<[(u32, u32); 4]> =
        parts.map(|p| p.read_span(read_len)).map(|(a, b)| (a.max(start), b.min(end))).filter(|(a, b)| a < b).collect();
    covered.sort_unstable();
    let (mut taken, mut reach) = (0, start);
    for (a, b) in covered {
        if b > reach {
            taken += b - a.max(reach);
            reach = b;
        }
    }
    end - start - taken
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::{Cigar, CigarOp};

    /// A gap-free hit of `read[qs..qe]` (oriented read coordinates) at `pos` on contig 0.
    fn hit(pos: u64, reverse: bool, qs: u32, qe: u32, score: i32) -> Hit {
        let mut cigar = Cigar::default();
        cigar.push(CigarOp::Match, qe - qs);
        Hit { contig: 0, pos, reverse, score, total: score, query_start: qs, query_end: qe, ref_len: qe - qs, cigar }
    }

    #[test]
    fn other_half_of_a_fusion_is_supplementary() {
        let hits = [hit(1000, false, 0, 80, 80), hit(50_000, false, 80, 150, 70)];
        let l = ReadLayout::new(&hits, 0, 150);
        assert_eq!(l.parts.as_slice(), [0, 1]);
        assert!(l.others.is_empty());
        assert_eq!(l.sub_score(&hits, 0), 0);
    }

    #[test]
    fn spans_compare_on_the_read_as_sequenced() {
        // Reverse hit of oriented 0..70 is read 80..150: no overlap with forward 0..80.
        let hits = [hit(1000, false, 0, 80, 80), hit(50_000, true, 0, 70, 70)];
        assert_eq!(ReadLayout::new(&hits, 0, 150).parts.as_slice(), [0, 1]);
        // Reverse hit of oriented 70..150 is read 0..80: the same bases, an alternative.
        let hits = [hit(1000, false, 0, 80, 80), hit(50_000, true, 70, 150, 75)];
        let l = ReadLayout::new(&hits, 0, 150);
        assert_eq!((l.parts.as_slice(), l.others.as_slice()), ([0].as_slice(), [(1, Some(0))].as_slice()));
        assert_eq!(l.sub_score(&hits, 0), 75);
    }

    #[test]
    fn too_few_new_bases_is_no_part() {
        // Overlaps the primary by 16 of its 34 bases (< half) but adds only 18 new bases.
        let hits = [hit(1000, false, 0, 130, 130), hit(9000, false, 114, 148, 30)];
        let l = ReadLayout::new(&hits, 0, 150);
        assert_eq!((l.parts.as_slice(), l.others.as_slice()), ([0].as_slice(), [(1, None)].as_slice()));
        // A 31-base part across the junction from a 121-base primary, sharing 2 bases: a part,
        // as bwa-mem reports it.
        let hits = [hit(1000, false, 0, 121, 121), hit(9000, false, 119, 150, 31)];
        assert_eq!(ReadLayout::new(&hits, 0, 150).parts.as_slice(), [0, 1]);
    }

    #[test]
    fn primary_chosen_by_pairing_takes_first_place() {
        let hits = [hit(1000, false, 0, 150, 150), hit(7000, false, 0, 150, 140), hit(30_000, false, 0, 150, 100)];
        let l = ReadLayout::new(&hits, 1, 150);
        assert_eq!(
            (l.parts.as_slice(), l.others.as_slice()),
            ([1].as_slice(), [(0, Some(0)), (2, Some(0))].as_slice())
        );
        // 80% of 140 is 112: hit 2 (100) is left out of XA.
        let xa: Vec<u64> = l.xa_hits(&hits, 0, 5).iter().map(|&i| hits[i].pos).collect();
        assert_eq!(xa, vec![1000]);
        assert!(l.xa_hits(&hits, 0, 0).is_empty(), "more than the limit: no XA");
    }

    #[test]
    fn rivals_of_the_primary_leave_out_the_other_parts() {
        let hits = vec![hit(1000, false, 0, 80, 80), hit(50_000, false, 80, 150, 70), hit(9000, true, 70, 150, 78)];
        let l = ReadLayout::new(&hits, 0, 150);
        assert_eq!(l.rivals(0).map(|i| hits[i].pos).collect::<Vec<_>>(), vec![9000]);
        assert_eq!(l.rivals(1).count(), 0);
    }
}
