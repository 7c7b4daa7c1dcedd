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
    /// The score of the ALT-contig hit this part was chosen over (bwa-mem's `pa:f` is the
    /// part's score over it), when ALT contigs are known and one outranked it.
    pub(crate) alt_score: Option<i32>,
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

/// Whether `h` lies on an ALT contig (`alt`: per contig, empty when none are known).
fn on_alt(alt: &[bool], h: &Hit) -> bool {
    alt.get(h.contig).copied().unwrap_or(false)
}

/// Among hits of equal score, those on the primary assembly first, as bwa-mem ranks them
/// when ALT contigs are known (the order is otherwise kept).
fn alt_after_ties(hits: &mut ReadHits, alt: &[bool]) {
    if alt.is_empty() {
        return;
    }
    let all = &mut hits.hits;
    let mut start = 0;
    while start < all.len() {
        let end = start + all[start..].iter().take_while(|h| h.score == all[start].score).count();
        all[start..end].sort_by_key(|h| on_alt(alt, h));
        start = end;
    }
}

/// The hit a read's primary record goes to, as bwa-mem picks it with ALT contigs: its best hit
/// on the primary assembly when it has one (hits on ALT contigs then only go into `XA`), else
/// its best hit.
fn primary_of(hits: &ReadHits, alt: &[bool]) -> usize {
    hits.hits.iter().position(|h| !on_alt(alt, h)).unwrap_or(0)
}

/// A read's own MAPQ with `primary` as its primary: against its rivals (those on the primary
/// assembly only, when the primary is there), scaled for repeats.
fn own_mapq(hits: &ReadHits, primary: usize, read_len: u32, opts: &MapOptions, alt: &[bool]) -> (ReadLayout, u8) {
    let primary_assembly = !on_alt(alt, &hits.hits[primary]);
    let layout = ReadLayout::new_among(&hits.hits, primary, read_len, |h| !primary_assembly || !on_alt(alt, h));
    let rivals = layout.rivals(0).map(|i| &hits.hits[i]).filter(|h| !primary_assembly || !on_alt(alt, h));
    let tandem = if primary == 0 { hits.tandem_sub } else { 0 };
    let q = mapq::single_end(&hits.hits[primary], rivals, tandem, &opts.scoring);
    (layout, mapq::in_repeats(q, hits))
}

/// Places a single-end read of `read_len` bases: its best hit is the primary (its best on the
/// primary assembly when `alt` marks ALT contigs; see [`primary_of`]).
pub fn place_single(mut hits: ReadHits, read_len: u32, opts: &MapOptions, alt: &[bool]) -> Placement {
    alt_after_ties(&mut hits, alt);
    if hits.best().is_none() {
        return Placement { hits: hits.hits, ..Placement::default() };
    }
    let primary = primary_of(&hits, alt);
    let (layout, q) = own_mapq(&hits, primary, read_len, opts, alt);
    decide(hits, layout, q, opts, alt)
}

/// Places both mates of a pair (the model `None`: placed independently, nothing proper).
/// With ALT contigs (`alt`), pairs are chosen among the mates' primary-assembly hits, as
/// bwa-mem chooses them; a mate with hits on ALT contigs only leaves both placed on their
/// own.
pub fn place_pair(
    mut hits: [ReadHits; 2],
    read_len: [u32; 2],
    model: Option<&InsertModel>,
    opts: &MapOptions,
    alt: &[bool],
    tandem: Option<&pair::Tandem>,
) -> [Placement; 2] {
    hits.iter_mut().for_each(|h| alt_after_ties(h, alt));
    let any_alt = !alt.is_empty() && hits.iter().any(|h| h.hits.iter().any(|x| on_alt(alt, x)));
    let choice = if !any_alt {
        pair::choose([&hits[0], &hits[1]], read_len, model, &opts.scoring, opts.min_score, tandem)
    } else {
        let primary_assembly = |h: &ReadHits| h.hits.iter().any(|x| !on_alt(alt, x));
        if hits.iter().any(|h| !h.hits.is_empty() && !primary_assembly(h)) {
            // A mate only on ALT contigs: no pairing, each mate placed on its own.
            let mut c = pair::PairChoice { hit: [None; 2], mapq: [0; 2], proper: false };
            for m in 0..2 {
                if hits[m].best().is_some_and(|b| b.score >= opts.min_score) {
                    let p = primary_of(&hits[m], alt);
                    c.hit[m] = Some(p);
                    c.mapq[m] = own_mapq(&hits[m], p, read_len[m], opts, alt).1;
                }
            }
            c
        } else {
            // Pairs among primary-assembly hits; indices mapped back to the whole lists.
            let kept: [Vec<usize>; 2] =
                std::array::from_fn(|m| (0..hits[m].hits.len()).filter(|&i| !on_alt(alt, &hits[m].hits[i])).collect());
            let filtered: [ReadHits; 2] = std::array::from_fn(|m| ReadHits {
                hits: kept[m].iter().map(|&i| hits[m].hits[i].clone()).collect(),
                ..hits[m].clone_without_hits()
            });
            let mut c =
                pair::choose([&filtered[0], &filtered[1]], read_len, model, &opts.scoring, opts.min_score, tandem);
            for (hit, kept) in c.hit.iter_mut().zip(&kept) {
                *hit = hit.map(|i| kept[i]);
            }
            c
        }
    };
    let mates: [Option<MateHit>; 2] = std::array::from_fn(|m| {
        choice.hit[m].map(|i| MateHit { hit: hits[m].hits[i].clone(), read_len: read_len[m], mapq: choice.mapq[m] })
    });
    let [h0, h1] = hits;
    [(0, h0), (1, h1)].map(|(m, mut h)| {
        let mut p = match choice.hit[m] {
            Some(i) => {
                // Hits under -T (rescued short mates) serve only as the pair's own placement.
                let i = keep_scoring(&mut h, i, opts.min_score);
                let primary_assembly = !on_alt(alt, &h.hits[i]);
                let layout = ReadLayout::new_among(&h.hits, i, read_len[m], |x| !primary_assembly || !on_alt(alt, x));
                decide(h, layout, choice.mapq[m], opts, alt)
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
/// primary (`layout.parts[0]`), whose MAPQ is `mapq`. With ALT contigs (`alt`), a part on the
/// primary assembly weighs only primary-assembly rivals for MAPQ and `XS`; `XA` lists all.
fn decide(hits: ReadHits, layout: ReadLayout, mapq: u8, opts: &MapOptions, alt: &[bool]) -> Placement {
    let all = &hits.hits;
    let out = &opts.output;
    // bwa-mem first lays a read out over all its hits, then again over its primary-assembly
    // hits only; an ALT hit that was a part the first time (no better hit overlaps it) stays a
    // part, written as a supplementary record, and leaves the primary's XA.
    let first_round =
        (!alt.is_empty() && !on_alt(alt, &all[layout.parts[0]])).then(|| ReadLayout::new(all, 0, layout.read_len));
    // (index among the first round's parts, hit) of those ALT parts.
    let alt_parts: Vec<(usize, usize)> = first_round
        .iter()
        .flat_map(|l| l.parts.iter().copied().enumerate().filter(|&(_, i)| on_alt(alt, &all[i])))
        .collect();
    let mut parts: SmallVec<[Part; 2]> = layout
        .parts
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let primary_assembly = !on_alt(alt, &all[i]);
            let counts = |r: &usize| !primary_assembly || !on_alt(alt, &all[*r]);
            let mapq = match k {
                0 => mapq,
                // A supplementary part against its own rivals, never above the primary.
                _ => mapq::single_end(
                    &all[i],
                    layout.rivals(k).filter(counts).map(|r| &all[r]),
                    hits.tandem_sub,
                    &opts.scoring,
                )
                .min(mapq),
            };
            // The best hit also competes with its own tandem copies (`ReadHits::tandem_sub`).
            let tandem = if i == 0 { hits.tandem_sub } else { 0 };
            let xs = layout.sub_score_among(all, k, counts).max(tandem);
            // With -a the rivals are secondary records, and XA is left out (as bwa-mem).
            let mut xa = if out.all_alignments { XaHits::new() } else { layout.xa_hits(all, k, out.max_xa_hits) };
            xa.retain(|x| !alt_parts.iter().any(|&(_, a)| a == *x));
            // bwa-mem's pa:f: the first hit ranked above this one that overlaps it, when on ALT.
            let alt_score = if alt.is_empty() || !primary_assembly {
                None
            } else {
                all[..i]
                    .iter()
                    .find(|h| layout::overlap(h, &all[i], layout.read_len))
                    .filter(|h| on_alt(alt, h))
                    .map(|h| h.score)
            };
            Part { hit: i, mapq, xs, xa, alt_score }
        })
        .collect();
    if let Some(l1) = &first_round {
        for &(k1, i) in &alt_parts {
            let mapq = mapq::single_end(&all[i], l1.rivals(k1).map(|r| &all[r]), 0, &opts.scoring);
            let xs = l1.sub_score(all, k1);
            let xa = if out.all_alignments { XaHits::new() } else { l1.xa_hits(all, k1, out.max_xa_hits) };
            parts.push(Part { hit: i, mapq, xs, xa, alt_score: None });
        }
        // Supplementary records in hit order (best first), as bwa-mem writes them.
        parts[1..].sort_by_key(|p| p.hit);
    }
    let secondary = if out.all_alignments { layout.others.iter().map(|&(i, _)| i).collect() } else { Vec::new() };
    Placement { hits: hits.hits, parts, secondary, pairing: None }
}
