//! Pairing mates: an insert-size model estimated from the data, and the choice of the pair
//! among both mates' hits.
//!
//! Only forward-reverse (Illumina paired-end) orientation is modelled. The model is estimated
//! once, from the first [`ESTIMATION_PAIRS`] pairs of the input (fewer if the input is
//! shorter), using pairs whose mates both have a single confident hit on one contig facing
//! each other; it therefore depends on the input alone, never on thread count or batch size.
//! As in bwa-mem, outliers beyond 2 inter-quartile ranges are left out of the mean and
//! standard deviation, and proper pairs are those within 3 inter-quartile ranges of the
//! quartiles, widened to 4 standard deviations of the mean when that is wider.

use crate::align::Scoring;
use crate::hit::{Hit, ReadHits};
use crate::mapq;
use crate::split;

/// Pairs the insert-size model is estimated from.
pub const ESTIMATION_PAIRS: usize = 50_000;
/// Fewest usable pairs for a model; with fewer, mates are placed independently.
pub const MIN_PAIRS_FOR_MODEL: usize = 25;
/// Penalty for placing the mates independently rather than as a pair (bwa-mem's `-U`).
pub const UNPAIRED_PENALTY: i32 = 17;
/// Hits per mate considered for pairing: every hit in practice (a read has at most
/// `--max-candidates` windows plus its rescues), so that mate rescue, which looks at all of a
/// mate's hits, and pairing always agree.
const MAX_HITS_PAIRED: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsertModel {
    pub mean: f64,
    pub sd: f64,
    /// Proper-pair bounds on the fragment length, inclusive.
    pub low: i64,
    pub high: i64,
}

/// Fragment length of two hits facing each other (forward one first), if they do.
pub fn fragment_len(a: &Hit, b: &Hit) -> Option<i64> {
    if a.contig != b.contig || a.reverse == b.reverse {
        return None;
    }
    let (f, r) = if a.reverse { (b, a) } else { (a, b) };
    let len = r.end() as i64 - f.pos as i64;
    (len > 0 && f.pos <= r.pos + r.ref_len as u64).then_some(len)
}

impl InsertModel {
    /// Estimates the model from pairs of hits; `None` when too few pairs are usable.
    pub fn estimate(pairs: &[(&ReadHits, &ReadHits)], sc: &Scoring) -> Option<InsertModel> {
        let mut sizes: Vec<i64> = pairs
            .iter()
            .filter_map(|(a, b)| {
                let (ha, hb) = (a.best()?, b.best()?);
                if mapq::single_end(a, sc) < 20 || mapq::single_end(b, sc) < 20 {
                    return None;
                }
                fragment_len(ha, hb)
            })
            .collect();
        if sizes.len() < MIN_PAIRS_FOR_MODEL {
            return None;
        }
        sizes.sort_unstable();
        let pct = |p: f64| sizes[((sizes.len() - 1) as f64 * p).round() as usize] as f64;
        let (p25, p75) = (pct(0.25), pct(0.75));
        let iqr = p75 - p25;
        let (lo, hi) = (p25 - 2.0 * iqr, p75 + 2.0 * iqr);
        let kept: Vec<f64> = sizes.iter().map(|&s| s as f64).filter(|&s| s >= lo && s <= hi).collect();
        let n = kept.len() as f64;
        let mean = kept.iter().sum::<f64>() / n;
        let sd = (kept.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / n).sqrt().max(1.0);
        let low = ((p25 - 3.0 * iqr).min(mean - 4.0 * sd) + 0.499).floor().max(1.0) as i64;
        let high = ((p75 + 3.0 * iqr).max(mean + 4.0 * sd) + 0.499).floor() as i64;
        Some(InsertModel { mean, sd, low, high })
    }

    /// Score adjustment (zero or negative) for a fragment length: the log-probability of a
    /// deviation this large under a normal distribution, in units of the match score.
    pub fn penalty(&self, len: i64, sc: &Scoring) -> i32 {
        let z = ((len as f64 - self.mean) / self.sd).abs();
        let p = (2.0 * erfc(z * std::f64::consts::FRAC_1_SQRT_2)).min(1.0);
        (0.721 * p.max(1e-300).ln() * sc.match_score as f64 + 0.499).floor() as i32
    }
}

/// What was decided for a pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairChoice {
    /// Index into each mate's hits, `None` for unmapped.
    pub hit: [Option<usize>; 2],
    pub mapq: [u8; 2],
    pub proper: bool,
}

/// Chooses both mates' placements. `read_len` is each mate's length: a mate's own MAPQ weighs
/// its best hit only against hits of the same read bases (the other part of a split read is
/// no rival, see [`crate::split::competing`]).
pub fn choose(h: [&ReadHits; 2], read_len: [u32; 2], model: Option<&InsertModel>, sc: &Scoring) -> PairChoice {
    let own =
        |m: usize| if h[m].hits.is_empty() { 0 } else { mapq::single_end(&split::competing(h[m], 0, read_len[m]), sc) };
    let se = [own(0), own(1)];
    let single = PairChoice {
        hit: [(!h[0].hits.is_empty()).then_some(0), (!h[1].hits.is_empty()).then_some(0)],
        mapq: se,
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
            let Some(len) = fragment_len(a, b) else { continue };
            if len < model.low || len > model.high {
                continue;
            }
            let s = a.score + b.score + model.penalty(len, sc);
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
            if let Some(len) = fragment_len(a, b) {
                if (model.low..=model.high).contains(&len)
                    && a.score + b.score + model.penalty(len, sc) >= score - (sc.match_score + sc.mismatch)
                {
                    n_near += 1;
                }
            }
        }
    }
    let sub = second.max(b0.score + b1.score - UNPAIRED_PENALTY);
    let mut q_pe = mapq::from_score_gap(score - sub, sc);
    q_pe -= (4.343 * (n_near as f64).max(1.0).ln() + 0.499) as i32;
    // A pair made mostly of repeat seeds may have copies that seeding never looked at.
    let rep = 0.5 * (mapq::repetitive_fraction(h[0]) + mapq::repetitive_fraction(h[1]));
    let q_pe = (q_pe.clamp(0, 60) as f64 * (1.0 - rep) + 0.499) as i32;
    // When both mates have copies that were never aligned, pairs of those copies may score
    // as well as this one: the pair adds no confidence.
    let q_pe = if h[0].unexamined > 0 && h[1].unexamined > 0 { 0 } else { q_pe };
    let mut mq = [0u8; 2];
    for (m, (&idx, &q_se)) in [i, j].iter().zip(&se).enumerate() {
        let q_se = if idx == 0 { q_se as i32 } else { 0 };
        let q = if q_se > q_pe { q_se } else { q_pe.min(q_se + 40) };
        // Never more confident than the gap to the hit's own tandem copies (as bwa-mem).
        let tandem = if idx == 0 { h[m].tandem_sub } else { 0 };
        let cap = if tandem > 0 { mapq::from_score_gap(h[m].hits[idx].score - tandem, sc).clamp(0, 60) } else { 60 };
        mq[m] = q.min(cap) as u8;
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

    #[test]
    fn erfc_matches_known_values() {
        assert!((erfc(0.0) - 1.0).abs() < 1e-6);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
        assert!((erfc(-1.0) - 1.842_700_793).abs() < 1e-6);
    }

    #[test]
    fn penalty_grows_with_distance_from_mean() {
        let m = InsertModel { mean: 400.0, sd: 50.0, low: 100, high: 700 };
        let sc = Scoring::default();
        assert_eq!(m.penalty(400, &sc), 0);
        assert!(m.penalty(500, &sc) < 0);
        assert!(m.penalty(600, &sc) < m.penalty(500, &sc));
    }
}
