//! Clustering and chaining: the sorted hits of a read grouped by strand, contig and nearby
//! diagonals into clusters (each one candidate window), and colinear clusters on either side of
//! an indel chained into one more window.

use super::hits::SeedHit;
use super::{overlap, CLUSTER_GAP};
use crate::index::Index;
use crate::options::SeedOptions;

/// A run of sorted seed hits that becomes one window: on one strand of one contig, its
/// diagonals `diag.0..=diag.1`, the read bases its seeds span, and its hits `hits.0..hits.1`.
#[derive(Clone, Copy, Debug)]
pub(super) struct HitCluster {
    pub(super) reverse: bool,
    pub(super) contig: usize,
    pub(super) diag: (i64, i64),
    pub(super) read: (u32, u32),
    pub(super) hits: (usize, usize),
}

impl HitCluster {
    /// A piece of one seed hit.
    pub(super) fn lone(&self) -> bool {
        self.hits.1 - self.hits.0 == 1
    }
}

/// Colinear pieces further apart than this on the diagonal (an indel longer than this) stay
/// apart: 100 bases, enough for the clinically common long deletions (EGFR exon 19, MET exon 14).
pub(super) const MAX_INDEL: i64 = 100;

/// When the best window's seeds leave at least this many read bases uncovered, windows left
/// out whose seeds lie mostly in them are aligned too: the other side of a split read. (A
/// part needs 30 aligned bases to reach bwa-mem's minimum score, and may share a few with its
/// neighbour across the junction.)
pub(super) const MIN_PART_BASES: u32 = 25;

/// Split-part windows aligned per read at most (the heaviest).
pub(super) const MAX_PARTS: usize = 2;

/// Chain windows aligned per read at most (the heaviest).
pub(super) const MAX_CHAINS: usize = 2;

/// Groups the sorted hits into pieces, then chains colinear neighbours.
///
/// Hits on one strand of one contig whose sorted diagonals are at most `band` apart form a
/// group. A group wider than the band holds several placements (copies of a tandem array, or
/// a short tandem repeat inside the read): each cluster of nearby diagonals (at most
/// [`CLUSTER_GAP`] apart) becomes a piece, so every copy is aligned and seen by XS and MAPQ,
/// not only the best one; and a cluster is cut where its diagonals would span more than the
/// read's length (a read inside a long microsatellite has seeds on every diagonal of the
/// array), so no window is longer than twice the read plus the padding.
///
/// Then consecutive pieces on one strand and contig, at most [`MAX_INDEL`] diagonals apart,
/// whose seeds cover different parts of the read (sharing fewer bases than a seed) are one
/// chain: the two sides of a deletion (the right side on a higher diagonal) or of an insertion
/// (on a lower one). Fills `pieces`, and `chains` with the chains of two or more pieces: each is one
/// more window holding both sides, so the alignment can take the indel; its pieces stay
/// windows of their own too, since nearby copies of a repeat whose seeds happen to fall on
/// different read bases chain the same way, and each copy must still be aligned for XS and XA.
/// Copies whose seeds share read bases are never chained.
pub(super) fn chain_pieces(
    index: &Index,
    hits: &[SeedHit],
    len: usize,
    opts: &SeedOptions,
    pieces: &mut Vec<HitCluster>,
    chains: &mut Vec<HitCluster>,
) {
    let k = index.params.k;
    // A hit's contig, by its k-mer's reference position (`diag + qoff` on either strand). The
    // sorted hits mostly stay on one contig, so the contigs are searched only for a hit
    // outside the last one found (a reference of thousands of contigs, ALT and decoy sequences
    // among them, would otherwise search them for every hit).
    let mut last: (usize, std::ops::Range<u64>) = (0, 0..0);
    let mut contig_of = |h: &SeedHit| {
        let gpos = (h.diag() + h.qoff() as i64) as u64;
        if !last.1.contains(&gpos) {
            let c = index.contig_of(gpos);
            let end = index.contigs.get(c + 1).map_or(u64::MAX, |next| next.offset);
            last = (c, index.contigs[c].offset..end);
        }
        last.0
    };
    let max_span = (len as i64).max(opts.band as i64);
    pieces.clear();
    chains.clear();
    // The chain being extended and how many pieces it holds; chains of two or more.
    let mut chain: Option<(HitCluster, usize)> = None;
    let mut i = 0;
    while i < hits.len() {
        let (first, contig) = (hits[i], contig_of(&hits[i]));
        let mut j = i + 1;
        while j < hits.len()
            && hits[j].reverse() == first.reverse()
            && hits[j].diag() - hits[j - 1].diag() <= opts.band as i64
            && contig_of(&hits[j]) == contig
        {
            j += 1;
        }
        let group = &hits[i..j];
        let split = group[group.len() - 1].diag() - group[0].diag() > opts.band as i64;
        let mut a = 0;
        while a < group.len() {
            let mut b = a + 1;
            while b < group.len()
                && (!split || group[b].diag() - group[b - 1].diag() <= CLUSTER_GAP)
                && group[b].diag() - group[a].diag() <= max_span
            {
                b += 1;
            }
            let cluster = &group[a..b];
            let (qlo, qhi) = cluster[1..]
                .iter()
                .fold((cluster[0].qoff(), cluster[0].qoff()), |(lo, hi), h| (lo.min(h.qoff()), hi.max(h.qoff())));
            let qhi = qhi + k;
            let piece = HitCluster {
                reverse: first.reverse(),
                contig,
                diag: (cluster[0].diag(), cluster[cluster.len() - 1].diag()),
                read: (qlo, qhi),
                hits: (i + a, i + b),
            };
            match &mut chain {
                Some((c, n)) if colinear(c, &piece, k, opts.band) => {
                    c.diag.1 = piece.diag.1;
                    c.read = (c.read.0.min(piece.read.0), c.read.1.max(piece.read.1));
                    c.hits.1 = piece.hits.1;
                    *n += 1;
                }
                _ => {
                    if let Some((c, 2..)) = chain {
                        chains.push(c);
                    }
                    chain = Some((piece, 1));
                }
            }
            pieces.push(piece);
            a = b;
        }
        i = j;
    }
    if let Some((c, 2..)) = chain {
        chains.push(c);
    }
}

/// Whether `next` (later in diagonal order) continues the chain `last`: same strand and
/// contig, at most [`MAX_INDEL`] diagonals on, the chain then spanning at most `MAX_INDEL +
/// band` diagonals (so a chain window is bounded), and other read bases (sharing fewer than
/// `k`).
fn colinear(last: &HitCluster, next: &HitCluster, k: u32, band: u32) -> bool {
    last.reverse == next.reverse
        && last.contig == next.contig
        && next.diag.0 > last.diag.1
        && next.diag.0 - last.diag.1 <= MAX_INDEL
        && next.diag.1 - last.diag.0 <= MAX_INDEL + band as i64
        && overlap(last.read, next.read) < k
}
