//! Pairing mates: an insert-size model estimated from the data, and the choice of the pair
//! among both mates' hits.
//!
//! The mates' orientation is inferred from the data, as bwa-mem does: each usable pair is
//! FR (facing each other: Illumina paired-end), RF (facing away: mate-pair libraries) or FF
//! (on one strand) by its hits' strands and the order of their 5' ends ([`pair_geometry`]),
//! and the model is that of the orientation most usable pairs have (FR, then RF, then FF on a
//! tie), plus, as bwa-mem keeps them, every other orientation with at least
//! [`MIN_PAIRS_FOR_OTHER`] (10) usable pairs and [`MIN_SHARE_FOR_OTHER`] (5%) of the most
//! common one's, each with bounds of its own (a mate-pair library's short fragments face each
//! other, its long ones face away); a pair is proper in any of them. The model is estimated once, from the first [`ESTIMATION_PAIRS`] pairs of the input (fewer if the input is
//! shorter); it therefore depends on the input alone, never on thread count or batch size.
//!
//! The estimate follows bwa-mem's `mem_pestat`, so that a library whose first pairs are
//! mostly chimeric or discordant (mates on different contigs, or far apart on one) still
//! gives the insert of its concordant pairs, or no model at all, never one learnt from contig
//! distances. The rules, in order ([`InsertModel::fit`], [`InsertModel::from_inserts`]):
//!
//! 1. **Usable pairs.** Both mates have a best hit with a single-end MAPQ of at least
//!    [`MIN_MAPQ_FOR_MODEL`] (20), and those hits lie on one contig ([`pair_geometry`]); the
//!    orientation is chosen among them as above, and only its pairs count from here on. A mate
//!    that may belong elsewhere says nothing reliable about the fragment.
//! 2. **Cap.** Inserts longer than [`MAX_INSERT`] (10,000, bwa-mem's cap) are left out before
//!    anything is computed: no sequencing library makes fragments that long, so such a pair
//!    is a chimera, a structural variant or a mapping error. Without the cap, a library whose
//!    first pairs are mostly discordant puts its quartiles at contig distances and learns a
//!    "proper" insert of megabases.
//! 3. **Too few pairs.** With fewer than [`MIN_PAIRS_FOR_MODEL`] (25) usable pairs left there
//!    is no model ([`NoModel`], and the mapper says so on stderr): mates are then placed
//!    independently, no pair is flagged proper and no mate is rescued. Quartiles of a handful
//!    of pairs are noise.
//! 4. **Quartiles.** p25 and p75 of the usable inserts (bwa-mem's median only goes to its
//!    log), each the insert of rank `round((n - 1) * p)` in sorted order. bwa-mem takes rank
//!    `(int)(p * n + .499)`; the two differ by at most one rank, and swmap's own is kept so
//!    that outputs of ordinary libraries do not change. IQR = p75 - p25.
//! 5. **Outlier cut.** The mean and standard deviation (population, at least 1) are computed
//!    over the inserts within `[p25 - 2 IQR, p75 + 2 IQR]` only ([`OUTLIER_IQRS`]), so a tail
//!    of odd pairs under the cap does not inflate them.
//! 6. **Proper bounds.** `[p25 - 3 IQR, p75 + 3 IQR]` ([`PROPER_IQRS`]), widened to
//!    `mean ± 4 sd` ([`PROPER_SDS`]) where that is wider, rounded, and the low bound at least 1
//!    (bwa-mem's rule). Since every insert counted is at most [`MAX_INSERT`], the high bound is
//!    always below `4 * MAX_INSERT`, whatever the input.
//!
//! Mate rescue bounds its windows on its own as well (`crate::place::rescue`), so that no model, not
//! even one built by hand, makes memory follow contig distances.

use crate::align::Scoring;
pub use crate::options::{InsertModel, Orientation, OrientationModel};
use crate::place::hit::{Hit, ReadHits};
use crate::place::layout::ReadLayout;
use crate::place::mapq::{self, PairFacts};
use std::fmt;

/// Pairs the insert-size model is estimated from.
pub const ESTIMATION_PAIRS: usize = 50_000;
/// Fewest usable pairs for a model (after the [`MAX_INSERT`] cap); with fewer, mates are
/// placed independently.
pub const MIN_PAIRS_FOR_MODEL: usize = 25;
/// Fewest usable pairs for a further orientation's model (bwa-mem's `MIN_DIR_CNT`)...
pub const MIN_PAIRS_FOR_OTHER: usize = 10;
/// ...which must also hold this share of the most common orientation's pairs (bwa-mem's
/// `MIN_DIR_RATIO`).
pub const MIN_SHARE_FOR_OTHER: f64 = 0.05;
/// Longest insert a pair may have to count towards the model (bwa-mem's cap): longer ones are
/// chimeras or discordant pairs, never part of the library's fragment-length distribution.
pub const MAX_INSERT: i64 = 10_000;
/// Lowest single-end MAPQ of both mates for a pair to count towards the model.
pub const MIN_MAPQ_FOR_MODEL: u8 = 20;
/// Inserts further than this many inter-quartile ranges outside the quartiles are left out of
/// the mean and standard deviation (bwa-mem's `OUTLIER_BOUND`).
pub const OUTLIER_IQRS: f64 = 2.0;
/// Proper pairs lie within this many inter-quartile ranges of the quartiles (bwa-mem's
/// `MAPPING_BOUND`)...
pub const PROPER_IQRS: f64 = 3.0;
/// ...or within this many standard deviations of the mean, whichever is wider (bwa-mem's
/// `MAX_STDDEV`).
pub const PROPER_SDS: f64 = 4.0;
/// Penalty for placing the mates independently rather than as a pair (bwa-mem's `-U`).
pub const UNPAIRED_PENALTY: i32 = 17;
/// Hits per mate considered for pairing: every hit in practice (a read has at most
/// `--max-candidates` windows plus its rescues), so that mate rescue, which looks at all of a
/// mate's hits, and pairing always agree.
const MAX_HITS_PAIRED: usize = 64;

/// How two hits of a pair's mates lie, and the insert: the distance between their 5' ends,
/// both counted (for FR, the forward hit's first base to the reverse hit's last). `None` on
/// different contigs. Symmetric: either mate may come first.
pub fn pair_geometry(a: &Hit, b: &Hit) -> Option<(Orientation, i64)> {
    if a.contig != b.contig {
        return None;
    }
    let (pa, pb) = (a.five_prime() as i64, b.five_prime() as i64);
    if a.reverse == b.reverse {
        return Some((Orientation::FF, (pa - pb).abs() + 1));
    }
    let (f, r) = if a.reverse { (pb, pa) } else { (pa, pb) };
    Some(if f <= r { (Orientation::FR, r - f + 1) } else { (Orientation::RF, f - r + 1) })
}

/// The insert of two hits lying as `orientation` says, if they do.
#[cfg(test)]
pub fn fragment_len(a: &Hit, b: &Hit, orientation: Orientation) -> Option<i64> {
    pair_geometry(a, b).filter(|&(o, _)| o == orientation).map(|(_, len)| len)
}

/// Why there is no insert-size model: too few usable pairs among those looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoModel {
    /// Pairs looked at (the first [`ESTIMATION_PAIRS`] of the input, or all of a shorter one).
    pub pairs: usize,
    /// Those usable: both mates confidently placed facing each other on one contig, with an
    /// insert of at most [`MAX_INSERT`].
    pub usable: usize,
}

impl fmt::Display for NoModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "insert-size model could not be estimated from the first {} pairs ({} usable, {} needed); \
             pairs are not flagged proper and mates are not rescued",
            self.pairs, self.usable, MIN_PAIRS_FOR_MODEL
        )
    }
}

impl NoModel {
    /// Says so as a warning through the `log` facade (nothing for an input without pairs,
    /// which has nothing to flag): the `swmap` program prints it on stderr, an embedding sees
    /// it through its own logger.
    pub(crate) fn warn(&self) {
        if self.pairs > 0 {
            log::warn!("{self}");
        }
    }
}

impl InsertModel {
    /// Estimates the model from pairs of hits by the rules of the module documentation, or
    /// says how many pairs were usable when that is too few.
    pub(crate) fn fit(pairs: &[(&ReadHits, &ReadHits)], sc: &Scoring) -> Result<InsertModel, NoModel> {
        let sizes: Vec<(Orientation, i64)> = pairs
            .iter()
            .filter_map(|(a, b)| {
                let (ha, hb) = (a.best()?, b.best()?);
                if witness_mapq(a, sc) < MIN_MAPQ_FOR_MODEL || witness_mapq(b, sc) < MIN_MAPQ_FOR_MODEL {
                    return None;
                }
                pair_geometry(ha, hb)
            })
            .collect();
        // The orientation most pairs under the cap have; FR, then RF, then FF on a tie.
        let count = |o: Orientation| sizes.iter().filter(|&&(x, s)| x == o && s <= MAX_INSERT).count();
        let orientation = [Orientation::FR, Orientation::RF, Orientation::FF]
            .into_iter()
            .rev()
            .max_by_key(|&o| count(o))
            .expect("three orientations");
        let inserts_of =
            |o: Orientation| -> Vec<i64> { sizes.iter().filter(|&&(x, _)| x == o).map(|&(_, s)| s).collect() };
        let usable = count(orientation);
        let mut model = InsertModel::from_inserts(&inserts_of(orientation))
            .map(|m| InsertModel { orientation, ..m })
            .ok_or(NoModel { pairs: pairs.len(), usable })?;
        // Every other orientation with enough pairs of its own gets its own bounds.
        let others = [Orientation::FR, Orientation::RF, Orientation::FF].into_iter().filter(|&o| {
            o != orientation
                && count(o) >= MIN_PAIRS_FOR_OTHER
                && count(o) as f64 >= MIN_SHARE_FOR_OTHER * usable as f64
        });
        for (slot, o) in others.enumerate() {
            model.also[slot] =
                fit_inserts(&inserts_of(o), MIN_PAIRS_FOR_OTHER).map(|m| OrientationModel { orientation: o, ..m });
        }
        Ok(model)
    }

    /// The model from fragment lengths of usable pairs (rules 2 to 6 of the module
    /// documentation: those over [`MAX_INSERT`] are left out here); `None` with fewer than
    /// [`MIN_PAIRS_FOR_MODEL`] left.
    pub(crate) fn from_inserts(inserts: &[i64]) -> Option<InsertModel> {
        fit_inserts(inserts, MIN_PAIRS_FOR_MODEL).map(InsertModel::only)
    }

    /// How two hits of the mates form a proper pair, if they do: the orientation's model
    /// (among all of this model's) and the insert, within that orientation's bounds.
    pub(crate) fn proper(&self, a: &Hit, b: &Hit) -> Option<(OrientationModel, i64)> {
        let (o, len) = pair_geometry(a, b)?;
        let m = self.orientations().find(|m| m.orientation == o)?;
        (m.low..=m.high).contains(&len).then_some((m, len))
    }
}

/// One orientation's model from fragment lengths of usable pairs (rules 2 to 6 of the module
/// documentation: those over [`MAX_INSERT`] are left out here); `None` with fewer than `min`.
fn fit_inserts(inserts: &[i64], min: usize) -> Option<OrientationModel> {
    let mut sizes: Vec<i64> = inserts.iter().copied().filter(|&s| s > 0 && s <= MAX_INSERT).collect();
    if sizes.len() < min.max(1) {
        return None;
    }
    sizes.sort_unstable();
    let pct = |p: f64| sizes[((sizes.len() - 1) as f64 * p).round() as usize] as f64;
    let (p25, p75) = (pct(0.25), pct(0.75));
    let iqr = p75 - p25;
    let (lo, hi) = (p25 - OUTLIER_IQRS * iqr, p75 + OUTLIER_IQRS * iqr);
    let kept: Vec<f64> = sizes.iter().map(|&s| s as f64).filter(|&s| s >= lo && s <= hi).collect();
    let n = kept.len() as f64;
    let mean = kept.iter().sum::<f64>() / n;
    let sd = (kept.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n).sqrt().max(1.0);
    let low = ((p25 - PROPER_IQRS * iqr).min(mean - PROPER_SDS * sd) + 0.499).floor().max(1.0) as i64;
    let high = ((p75 + PROPER_IQRS * iqr).max(mean + PROPER_SDS * sd) + 0.499).floor() as i64;
    Some(OrientationModel { orientation: Orientation::FR, mean, sd, low, high })
}

impl OrientationModel {
    /// Score adjustment (zero or negative) for a fragment length: the log-probability of a
    /// deviation this large under a normal distribution, in units of the match score.
    pub(crate) fn penalty(&self, len: i64, sc: &Scoring) -> i32 {
        let z = ((len as f64 - self.mean) / self.sd).abs();
        let p = (2.0 * erfc(z * std::f64::consts::FRAC_1_SQRT_2)).min(1.0);
        (0.721 * p.max(1e-300).ln() * sc.match_score as f64 + 0.499).floor() as i32
    }
}

/// How sure a mate's best hit is, for the model: its single-end MAPQ against *every* other
/// hit of the read, the other part of a split read included (stricter than the MAPQ written
/// out, whose rivals are only hits of the same read bases): a mate that splits is no clean
/// witness of the fragment's length.
fn witness_mapq(hits: &ReadHits, sc: &Scoring) -> u8 {
    mapq::single_end(&hits.hits[0], hits.hits[1..].iter(), hits.tandem_sub, sc)
}

/// What scoring a pair's hits against their tandem copies needs: the reference, and each
/// mate's bases as sequenced.
pub struct Tandem<'a> {
    /// The reference.
    pub index: &'a crate::index::Index,
    /// Mate 1's and mate 2's bases.
    pub reads: [&'a [u8]; 2],
}

/// What was decided for a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairChoice {
    /// Index into each mate's hits, `None` for unmapped.
    pub hit: [Option<usize>; 2],
    /// Each mate's MAPQ (0 for an unmapped mate).
    pub mapq: [u8; 2],
    /// Both mates placed as a proper pair (SAM flag 0x2).
    pub proper: bool,
}

/// Chooses both mates' placements. `read_len` is each mate's length: a mate's own MAPQ weighs
/// its best hit against its rivals only (the other part of a split read is none, see
/// [`crate::place::layout`]). A hit scoring under `min_score` (only mate rescue keeps such
/// hits, see [`crate::place::rescue`]) is placed only as part of a proper pair, as bwa-mem
/// places a short mate beside its mate. `tandem` scores a mate's hit against its own tandem
/// copies ([`ReadHits::tandem_score`]); without it only the best hits' scores from seeding
/// are known.
pub fn choose(
    h: [&ReadHits; 2],
    read_len: [u32; 2],
    model: Option<&InsertModel>,
    sc: &Scoring,
    min_score: i32,
    tandem: Option<&Tandem>,
) -> PairChoice {
    // The score of a mate's hit `k` one tandem period away: measured for the hit (mate rescue
    // may have put a hit first, or the pair may choose one that is not first).
    let tandem_of = |m: usize, k: usize| match tandem {
        Some(t) => h[m].tandem_score(&h[m].hits[k], t.index, t.reads[m], sc),
        None if k == 0 => h[m].tandem_sub,
        None => 0,
    };
    // Each mate's best hit's, measured once.
    let best_tandem = [0, 1].map(|m| if h[m].hits.is_empty() { 0 } else { tandem_of(m, 0) });
    let tandem_of = |m: usize, k: usize| if k == 0 { best_tandem[m] } else { tandem_of(m, k) };
    let own = |m: usize| match h[m].best() {
        None => 0,
        Some(best) => {
            let layout = ReadLayout::new(&h[m].hits, 0, read_len[m]);
            let q = mapq::single_end(best, layout.rivals(0).map(|i| &h[m].hits[i]), best_tandem[m], sc);
            mapq::in_repeats(q, h[m])
        }
    };
    let se = [own(0), own(1)];
    let alone = |m: usize| h[m].best().filter(|b| b.score >= min_score).map(|_| 0);
    let single = PairChoice {
        hit: [alone(0), alone(1)],
        mapq: [0, 1].map(|m| if alone(m).is_some() { se[m] } else { 0 }),
        proper: false,
    };
    let (Some(model), Some(b0), Some(b1)) = (model, h[0].best(), h[1].best()) else {
        return single;
    };
    // Best and second-best pair scores over both mates' hits.
    let mut best: Option<(i32, usize, usize)> = None;
    let mut second = i32::MIN;
    let mut n_near = 0usize;
    for (i, a) in h[0].hits.iter().enumerate().take(MAX_HITS_PAIRED) {
        for (j, b) in h[1].hits.iter().enumerate().take(MAX_HITS_PAIRED) {
            let Some((m, len)) = model.proper(a, b) else { continue };
            let s = a.score + b.score + m.penalty(len, sc);
            match best {
                Some((bs, _, _)) if s <= bs => second = second.max(s),
                _ => {
                    if let Some((bs, _, _)) = best {
                        second = second.max(bs);
                    }
                    best = Some((s, i, j));
                }
            }
        }
    }
    let Some((score, i, j)) = best else { return single };
    if score < b0.score + b1.score - UNPAIRED_PENALTY {
        return single;
    }
    for a in h[0].hits.iter().take(MAX_HITS_PAIRED) {
        for b in h[1].hits.iter().take(MAX_HITS_PAIRED) {
            if let Some((m, len)) = model.proper(a, b) {
                if a.score + b.score + m.penalty(len, sc) >= score - (sc.match_score + sc.mismatch) {
                    n_near += 1;
                }
            }
        }
    }
    let facts = PairFacts {
        score,
        sub: second.max(b0.score + b1.score - UNPAIRED_PENALTY),
        near: n_near,
        // Both mates placed by a few rare seeds among copies that share the rest: pairs of
        // those copies may score as well. One mate outside the repeat anchors the pair.
        shared: (mapq::shared_share(h[0]) * mapq::shared_share(h[1])).sqrt(),
        // When both mates have copies that were never aligned, pairs of those copies may
        // score as well as this one: the pair adds no confidence.
        both_unexamined: h[0].unexamined > 0 && h[1].unexamined > 0,
    };
    let q_pe = mapq::pair(&facts, sc);
    let mut mq = [0u8; 2];
    for (m, (&idx, &q_se)) in [i, j].iter().zip(&se).enumerate() {
        // Away from its best hit a mate has no confidence of its own; its tandem copies
        // compete with the hit the pair chose (another place of its mate as good in the pair).
        let q_se = if idx == 0 { q_se as i32 } else { 0 };
        mq[m] = mapq::mate(q_se, q_pe, h[m].hits[idx].score, tandem_of(m, idx), sc);
    }
    PairChoice { hit: [Some(i), Some(j)], mapq: mq, proper: true }
}

/// Complementary error function (W. J. Cody's rational approximation as in Numerical Recipes'
/// `erfcc`, relative error below 1.2e-7): std has no erfc, and this is deterministic.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FR, RF and FF pairs are told apart by strands and 5' ends, whichever mate comes
    /// first; the insert is the distance between the 5' ends, both counted.
    #[test]
    fn pair_geometry_names_the_orientation() {
        let h = |pos: u64, reverse: bool| hits(0, pos, reverse).hits[0].clone();
        let cases = [
            // forward at 1000 (5' 1000), reverse at 1250 (5' 1399): facing, 400.
            (h(1_000, false), h(1_250, true), Orientation::FR, 400),
            // reverse at 1000 (5' 1149), forward at 3000: facing away, 1852.
            (h(1_000, true), h(3_000, false), Orientation::RF, 1_852),
            (h(1_000, false), h(3_000, false), Orientation::FF, 2_001),
            (h(1_000, true), h(3_000, true), Orientation::FF, 2_001),
            // Overlapping mates facing each other are FR, however short.
            (h(1_000, false), h(1_000, true), Orientation::FR, 150),
        ];
        for (a, b, o, len) in cases {
            assert_eq!(pair_geometry(&a, &b), Some((o, len)));
            assert_eq!(pair_geometry(&b, &a), Some((o, len)));
            assert_eq!(fragment_len(&a, &b, o), Some(len));
        }
        assert_eq!(pair_geometry(&h(1_000, false), &hits(1, 1_250, true).hits[0]), None);
    }

    /// The model takes the orientation most usable pairs have.
    #[test]
    fn fit_infers_the_orientation() {
        let sc = Scoring::default();
        for (o, flip) in
            [(Orientation::FR, [false, true]), (Orientation::RF, [true, false]), (Orientation::FF, [false, false])]
        {
            let mut owned = Vec::new();
            for i in 0..40 {
                // The left mate's strand and the right one's, 2,000 bases apart.
                owned.push((hits(0, 10_000 * i, flip[0]), hits(0, 10_000 * i + 2_000 + i % 5, flip[1])));
            }
            for i in 0..10 {
                owned.push(facing(0, 500_000 + 2_000 * i, 400));
            }
            let pairs: Vec<(&ReadHits, &ReadHits)> = owned.iter().map(|(a, b)| (a, b)).collect();
            let m = InsertModel::fit(&pairs, &sc).unwrap();
            assert_eq!(m.orientation, o);
        }
    }

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-6);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-6);
    }

    /// A perfect 150-base hit at `pos` on `contig`.
    fn hits(contig: usize, pos: u64, reverse: bool) -> ReadHits {
        let hit = Hit {
            contig,
            pos,
            reverse,
            score: 150,
            total: 150,
            query_start: 0,
            query_end: 150,
            ref_len: 150,
            cigar: crate::align::Cigar::default(),
        };
        ReadHits { hits: vec![hit], ..ReadHits::default() }
    }

    /// Mates of a fragment of `len` starting at `pos`, forward-reverse.
    fn facing(contig: usize, pos: u64, len: u64) -> (ReadHits, ReadHits) {
        (hits(contig, pos, false), hits(contig, pos + len - 150, true))
    }

    #[test]
    fn quartiles_outlier_cut_and_bounds_follow_bwa_mem() {
        // 301..=700: p25 is rank round(399 * 0.25) = 100 (401), p75 rank 299 (600), IQR 199.
        let sizes: Vec<i64> = (301..=700).collect();
        let m = InsertModel::from_inserts(&sizes).unwrap();
        assert_eq!(m.mean, 500.5);
        assert!((m.sd - ((400.0f64 * 400.0 - 1.0) / 12.0).sqrt()).abs() < 1e-9);
        // low: min(401 - 3 * 199, mean - 4 sd) is negative, so 1; high: max(600 + 3 * 199,
        // mean + 4 sd = 962.4).
        assert_eq!((m.low, m.high), (1, 1197));
        // The input order does not matter.
        let mut rev = sizes.clone();
        rev.reverse();
        assert_eq!(InsertModel::from_inserts(&rev), Some(m));
    }

    #[test]
    fn bounds_widen_to_four_sds_when_the_iqr_is_narrower() {
        // p25 = p75 = 400: the outlier cut keeps the 400s alone, sd is floored at 1, and the
        // bounds are mean -+ 4 sd.
        let mut sizes = vec![380; 20];
        sizes.extend([400; 60]);
        sizes.extend([420; 20]);
        let m = InsertModel::from_inserts(&sizes).unwrap();
        assert_eq!(
            m,
            InsertModel { orientation: Orientation::FR, mean: 400.0, sd: 1.0, low: 396, high: 404, also: [None; 2] }
        );
    }

    #[test]
    fn outliers_beyond_two_iqrs_leave_mean_and_sd_alone() {
        let base: Vec<i64> = (0..100).map(|i| 390 + i % 21).collect();
        let clean = InsertModel::from_inserts(&base).unwrap();
        let mut with_tail = base.clone();
        with_tail.extend([2_000, 5_000, 9_000, 9_999, 10_000]);
        let m = InsertModel::from_inserts(&with_tail).unwrap();
        assert_eq!((m.mean, m.sd), (clean.mean, clean.sd));
        assert!(m.high < 500, "{m:?}");
    }

    /// The chimeric-library bug: with most of the first pairs discordant, the quartiles sat at
    /// contig distances and the model called a 20 Mb insert proper.
    #[test]
    fn chimeric_majority_does_not_make_megabase_inserts_proper() {
        let mut sizes: Vec<i64> = (0..30).map(|i| 395 + i % 11).collect();
        sizes.extend((0..70).map(|i| 20_000 + i * 300_000));
        let m = InsertModel::from_inserts(&sizes).unwrap();
        assert!((m.mean - 400.0).abs() < 2.0, "{m:?}");
        assert!(m.low >= 300 && m.high <= 500, "{m:?}");
        // Inserts just over the cap count as chimeras too.
        sizes.extend([MAX_INSERT + 1; 1_000]);
        assert_eq!(InsertModel::from_inserts(&sizes), Some(m));
    }

    #[test]
    fn too_few_pairs_give_no_model() {
        let few: Vec<i64> = (0..MIN_PAIRS_FOR_MODEL as i64 - 1).map(|i| 400 + i).collect();
        assert_eq!(InsertModel::from_inserts(&few), None);
        let mut enough = few.clone();
        enough.push(400);
        assert!(InsertModel::from_inserts(&enough).is_some());
        // Pairs beyond the cap are not counted.
        let mut capped = few.clone();
        capped.extend([MAX_INSERT + 1, 50_000, 20_000_000]);
        assert_eq!(InsertModel::from_inserts(&capped), None);
        assert_eq!(InsertModel::from_inserts(&[]), None);
    }

    #[test]
    fn fit_counts_only_facing_pairs_under_the_cap() {
        let sc = Scoring::default();
        let mut owned = Vec::new();
        for i in 0..10 {
            owned.push(facing(0, 1_000 + 2_000 * i, 400));
        }
        for i in 0..20 {
            owned.push((hits(0, 1_000 + 2_000 * i, false), hits(1, 5_000, true)));
        }
        for i in 0..5 {
            owned.push(facing(0, 1_000 + 2_000 * i, 1_000_000));
        }
        owned.push((hits(0, 1_000, false), ReadHits::default()));
        let pairs: Vec<(&ReadHits, &ReadHits)> = owned.iter().map(|(a, b)| (a, b)).collect();
        let e = InsertModel::fit(&pairs, &sc).unwrap_err();
        assert_eq!(e, NoModel { pairs: 36, usable: 10 });
        let text = e.to_string();
        assert!(text.contains("could not be estimated from the first 36 pairs (10 usable, 25 needed)"), "{text}");
        assert!(text.contains("not flagged proper") && text.contains("not rescued"), "{text}");

        for i in 0..20 {
            owned.push(facing(1, 3_000 * i, 400 + i % 3));
        }
        let pairs: Vec<(&ReadHits, &ReadHits)> = owned.iter().map(|(a, b)| (a, b)).collect();
        let m = InsertModel::fit(&pairs, &sc).unwrap();
        assert!((m.mean - 400.0).abs() < 2.0 && m.high < 1_000, "{m:?}");
    }

    #[test]
    fn penalty_grows_with_distance_from_mean() {
        let m =
            InsertModel { orientation: Orientation::FR, mean: 400.0, sd: 50.0, low: 100, high: 700, also: [None; 2] };
        let sc = Scoring::default();
        assert_eq!(m.main().penalty(400, &sc), 0);
        assert!(m.main().penalty(500, &sc) < 0);
        assert!(m.main().penalty(600, &sc) < m.main().penalty(500, &sc));
    }

    /// A pair in a repeat: both mates placed by few seeds among copies that share the rest
    /// get little confidence from the pair; one mate outside the repeat anchors both.
    #[test]
    fn pairs_in_repeats_are_anchored_only_by_a_unique_mate() {
        let sc = Scoring::default();
        let model =
            InsertModel { orientation: Orientation::FR, mean: 400.0, sd: 50.0, low: 100, high: 700, also: [None; 2] };
        let (a, b) = facing(0, 10_000, 400);
        let mapqs = |shared: [u32; 2]| {
            let (mut a, mut b) = (a.clone(), b.clone());
            (a.shared, b.shared) = (shared[0], shared[1]);
            let choice = choose([&a, &b], [150, 150], Some(&model), &sc, 30, None);
            assert!(choice.proper);
            choice.mapq
        };
        assert_eq!(mapqs([0, 0]), [60, 60]);
        // One mate wholly in the repeat, the other unique: the pair is as sure as without it,
        // and the repetitive mate takes the pair's MAPQ up to its own plus the mate bonus.
        let anchored = mapqs([0, 1000]);
        assert_eq!(anchored, [60, 40], "the unique mate anchors its repetitive mate");
        // Both mates placed by a fifth of the evidence: a fifth of the confidence, for each.
        let both = mapqs([800, 800]);
        assert!(both.iter().all(|&q| q <= 13), "{both:?}");
        assert_eq!(mapqs([1000, 1000]), [0, 0]);
    }
}
