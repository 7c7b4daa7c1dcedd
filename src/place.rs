//! Placement: every decision about a read after its windows are aligned, made here and only
//! here, into a [`Placement`] value that the SAM/BAM code formats without deciding anything.
//!
//! In order, for a chunk of reads:
//! 1. [`hit`]: each read's alignments become [`ReadHits`] (best first, overlapping ones on
//!    one strand merged, those below `-T` dropped).
//! 2. [`rescue`] (pairs, once the insert-size model is known): a mate with no hit that pairs
//!    with one of its mate's good hits is aligned across the stretch the model allows.
//! 3. [`pair`]: the insert-size model, and the choice of both mates' hits and MAPQs.
//! 4. [`layout`]: around the primary, the other parts of a split read (supplementary
//!    records), and each part's rivals, which give `XS`, `XA` and (with `-a`) secondary
//!    records.
//! 5. [`mapq`]: every MAPQ formula, with the reason for each term.
//!
//! Every decision depends on the read, its mate and the insert-size model alone, so output
//! never depends on chunking, threads or backend. Ties are broken by a total order of hits
//! (score, then the score with clip penalties, then a hash of the read name and the hit's place, then
//! contig, position, strand, CIGAR): equal copies of a repeat are chosen evenly by the
//! reads that fall in them, and the same read is always placed the same way.

pub mod hit;
pub mod layout;
pub mod mapq;
pub mod pair;
pub mod rescue;

pub use hit::{Hit, ReadHits};
pub use pair::InsertModel;

use crate::options::MapOptions;
use layout::{ReadLayout, XaHits};
use smallvec::SmallVec;

/// Everything decided about one read: which of its hits are written, in which role, with
/// which MAPQ, `XS` and `XA`, and what its records say about its mate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// The read's hits, best first; the fields below index into them.
    pub hits: Vec<Hit>,
    /// The primary part, then the supplementary parts of a split read; empty when the read
    /// is unmapped ([`Placement::parts`]; two held inline: placing a read allocates nothing
    /// for them).
    pub(crate) parts: SmallVec<[Part; 2]>,
    /// Hits written as secondary records (with `-a`), in hit order.
    pub secondary: Vec<usize>,
    /// For a mate of a pair, what its records say about the pair; `None` for a single read.
    pub pairing: Option<Pairing>,
}

/// One record-to-be of a mapped read: the primary or a supplementary part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Index into [`Placement::hits`].
    pub hit: usize,
    /// MAPQ of the record (0-60), see `crate::place::mapq`.
    pub mapq: u8,
    /// `XS`: the best score of another alignment of the same read bases, 0 without one.
    pub xs: i32,
    /// The rivals `XA` lists ([`Part::xa`]).
    pub(crate) xa: XaHits,
}

/// What a mate's records say about the pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    /// Mate 1 (`0x40`) or mate 2 (`0x80`).
    pub first: bool,
    /// Both placed as a proper pair (`0x2`).
    pub proper: bool,
    /// The other mate's primary hit; `None` when it is unmapped.
    pub mate: Option<MateHit>,
}

/// The other mate's primary: where it is (RNEXT, PNEXT, TLEN), its CIGAR over its whole read
/// (`MC`) and its MAPQ (`MQ`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MateHit {
    /// The mate's primary hit (RNEXT, PNEXT; TLEN with this read's hit).
    pub hit: Hit,
    /// The mate's length in bases, to write its CIGAR with clips (`MC`).
    pub read_len: u32,
    /// The mate's MAPQ (`MQ`).
    pub mapq: u8,
}

impl Part {
    /// The rivals `XA` lists (indices into [`Placement::hits`]); empty: no `XA`.
    pub fn xa(&self) -> &[usize] {
        &self.xa
    }
}

impl Placement {
    /// The primary part, then the supplementary parts of a split read; empty when the read
    /// is unmapped.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The primary hit, `None` when unmapped.
    pub fn primary(&self) -> Option<&Hit> {
        self.parts.first().map(|p| &self.hits[p.hit])
    }

    /// Whether the read has a primary part (otherwise it is written unmapped, flag 0x4).
    pub fn is_mapped(&self) -> bool {
        !self.parts.is_empty()
    }
}

/// Places a single-end read of `read_len` bases: its best hit is the primary.
pub fn place_single(hits: ReadHits, read_len: u32, opts: &MapOptions) -> Placement {
    let Some(best) = hits.best() else { return Placement { hits: hits.hits, ..Placement::default() } };
    let layout = ReadLayout::new(&hits.hits, 0, read_len);
    let q = mapq::single_end(best, layout.rivals(0).map(|i| &hits.hits[i]), hits.tandem_sub, &opts.scoring);
    let q = mapq::in_repeats(q, &hits);
    decide(hits, layout, q, opts)
}

/// Places both mates of a pair (the model `None`: placed independently, nothing proper).
pub fn place_pair(
    hits: [ReadHits; 2],
    read_len: [u32; 2],
    model: Option<&InsertModel>,
    opts: &MapOptions,
) -> [Placement; 2] {
    let choice = pair::choose([&hits[0], &hits[1]], read_len, model, &opts.scoring, opts.min_score);
    let mates: [Option<MateHit>; 2] = std::array::from_fn(|m| {
        choice.hit[m].map(|i| MateHit { hit: hits[m].hits[i].clone(), read_len: read_len[m], mapq: choice.mapq[m] })
    });
    let [h0, h1] = hits;
    [(0, h0), (1, h1)].map(|(m, mut h)| {
        let mut p = match choice.hit[m] {
            Some(i) => {
                // Hits under -T (rescued short mates) serve only as the pair's own placement.
                let i = keep_scoring(&mut h, i, opts.min_score);
                let layout = ReadLayout::new(&h.hits, i, read_len[m]);
                decide(h, layout, choice.mapq[m], opts)
            }
            None => Placement { hits: h.hits, ..Placement::default() },
        };
        p.pairing = Some(Pairing { first: m == 0, proper: choice.proper, mate: mates[1 - m].clone() });
        p
    })
}

/// Drops the hits scoring under `min_score` other than hit `keep`; `keep`'s new index.
fn keep_scoring(h: &mut ReadHits, keep: usize, min_score: i32) -> usize {
    let index = h.hits[..keep].iter().filter(|x| x.score >= min_score).count();
    let mut k = 0;
    h.hits.retain(|x| {
        let stays = k == keep || x.score >= min_score;
        k += 1;
        stays
    });
    index
}

/// The parts, their MAPQ, `XS` and `XA`, and the secondary hits of a read laid out around its
/// primary (`layout.parts[0]`), whose MAPQ is `mapq`.
fn decide(hits: ReadHits, layout: ReadLayout, mapq: u8, opts: &MapOptions) -> Placement {
    let all = &hits.hits;
    let out = &opts.output;
    let parts = layout
        .parts
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let mapq = match k {
                0 => mapq,
                // A supplementary part against its own rivals, never above the primary.
                _ => mapq::single_end(&all[i], layout.rivals(k).map(|r| &all[r]), hits.tandem_sub, &opts.scoring)
                    .min(mapq),
            };
            // The best hit also competes with its own tandem copies (`ReadHits::tandem_sub`).
            let tandem = if i == 0 { hits.tandem_sub } else { 0 };
            let xs = layout.sub_score(all, k).max(tandem);
            // With -a the rivals are secondary records, and XA is left out (as bwa-mem).
            let xa = if out.all_alignments { XaHits::new() } else { layout.xa_hits(all, k, out.max_xa_hits) };
            Part { hit: i, mapq, xs, xa }
        })
        .collect();
    let secondary = if out.all_alignments { layout.others.iter().map(|&(i, _)| i).collect() } else { Vec::new() };
    Placement { hits: hits.hits, parts, secondary, pairing: None }
}
