//! Every option of mapping, in one leaf module that imports only the crate's errors: the stages
//! (seeding, alignment, placement, output) read their part of [`MapOptions`], and none of them
//! imports the driver that holds the whole. Defaults are bwa-mem's where bwa-mem has the option.
//!
//! Parse, then validate: the CLI builds these values and calls their `validate` before any
//! work; a library user does the same.

use crate::error::{Error, Result};

/// Integer scores of the alignment recurrence (stated in the `align` module).
///
/// Penalties are stored as positive numbers, as on bwa-mem's command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scoring {
    /// Score of a match (`-A`, default 1).
    pub match_score: i32,
    /// Penalty of a mismatch (`-B`, default 4).
    pub mismatch: i32,
    /// Gap open penalty (`-O`, default 6): a gap of length L costs `gap_open + L * gap_extend`.
    pub gap_open: i32,
    /// Gap extension penalty (`-E`, default 1).
    pub gap_extend: i32,
    /// Penalty for clipping the query at either end (`-L`, default 5).
    pub clip: i32,
    /// Score of a pair with an N on either side (default -1, as bwa-mem).
    pub ambiguous: i32,
}

impl Default for Scoring {
    fn default() -> Self {
        Scoring { match_score: 1, mismatch: 4, gap_open: 6, gap_extend: 1, clip: 5, ambiguous: -1 }
    }
}

/// Largest value any single score or penalty may take; keeps every DP value far from overflow.
pub const MAX_SCORE_PARAM: i32 = 1000;

impl Scoring {
    /// Score of aligning base codes `q` and `t`.
    #[inline(always)]
    pub fn pair(&self, q: u8, t: u8) -> i32 {
        if q > 3 || t > 3 {
            self.ambiguous
        } else if q == t {
            self.match_score
        } else {
            -self.mismatch
        }
    }

    /// Checks that the parameters make sense; the [`Error::Options`] message names the
    /// offending one.
    pub fn validate(&self) -> Result<()> {
        let check = |name: &str, v: i32, min: i32| {
            if v < min || v > MAX_SCORE_PARAM {
                Err(Error::Options(format!("{name} must be between {min} and {MAX_SCORE_PARAM}, got {v}")))
            } else {
                Ok(())
            }
        };
        check("match score (-A)", self.match_score, 1)?;
        check("mismatch penalty (-B)", self.mismatch, 0)?;
        check("gap open penalty (-O)", self.gap_open, 0)?;
        check("gap extension penalty (-E)", self.gap_extend, 1)?;
        check("clipping penalty (-L)", self.clip, 0)?;
        if self.ambiguous.abs() > MAX_SCORE_PARAM || self.ambiguous > self.match_score {
            return Err(Error::Options(format!(
                "the score of an ambiguous base must lie between -{MAX_SCORE_PARAM} and the match score, got {}",
                self.ambiguous
            )));
        }
        Ok(())
    }
}

/// Seeding options (`swmap map --max-occ ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedOptions {
    /// Skip minimizers with more hits than this.
    pub max_occ: usize,
    /// Keep at most this many windows per read, or up to `TIE_FACTOR` (in `seed`) times as many
    /// when more windows than that have seeds as good as the best one's (copies of a repeat).
    pub max_candidates: usize,
    /// Drop groups weighing less than this fraction (in percent) of the best group.
    pub min_weight_percent: u32,
    /// Hits whose diagonals differ by at most this much are grouped.
    pub band: u32,
    /// Reference bases added on each side of a group's span.
    pub window_pad: u32,
    /// Minimizers with more hits than this (and at most `max_occ`) are *frequent*: their hits
    /// are used only where the read's rarer minimizers leave `rare_gap` or more read bases
    /// uncovered (see `crate::seed`).
    pub rare_occ: usize,
    /// See `rare_occ`.
    pub rare_gap: u32,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            max_occ: 500,
            max_candidates: 16,
            min_weight_percent: 30,
            band: 32,
            window_pad: 20,
            rare_occ: 50,
            rare_gap: 40,
        }
    }
}

/// First line of an insert-model file ([`InsertModel::to_text`]).
const MODEL_FILE_HEAD: &str = "swmap insert-size model 1";

/// How the mates of a proper pair lie, as bwa-mem infers it: by the strands of the two hits
/// and the order of their 5' ends on the reference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// Facing each other, the forward mate's 5' end first (Illumina paired-end).
    #[default]
    FR,
    /// Facing away, the reverse mate's 5' end first (mate-pair libraries).
    RF,
    /// On one strand (either both forward or both reverse).
    FF,
}

impl Orientation {
    /// The name in summaries and model files.
    pub fn name(self) -> &'static str {
        match self {
            Orientation::FR => "FR",
            Orientation::RF => "RF",
            Orientation::FF => "FF",
        }
    }
}

/// The insert-size (fragment-length) model of a library: estimated from the first pairs by the
/// rules of `crate::place::pair`'s documentation (which also holds its methods), or given.
/// Lengths are in bases, between the two mates' 5' ends, both counted (for FR pairs: from the
/// forward mate's leftmost base to the reverse mate's rightmost).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InsertModel {
    /// How the mates of most proper pairs lie.
    pub orientation: Orientation,
    /// Mean fragment length, after the outlier cut.
    pub mean: f64,
    /// Standard deviation (population, at least 1), after the outlier cut.
    pub sd: f64,
    /// Proper-pair bounds on the fragment length, inclusive: the shortest proper fragment.
    pub low: i64,
    /// The longest proper fragment.
    pub high: i64,
    /// Other orientations with enough pairs of their own (as bwa-mem keeps every orientation
    /// with at least 10 pairs and 5% of the most common one's), each with its own bounds: a
    /// mate-pair library's short fragments face each other while its long ones face away.
    pub also: [Option<OrientationModel>; 2],
}

/// The fragment lengths of one orientation of a library (see [`InsertModel`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrientationModel {
    /// How the mates lie.
    pub orientation: Orientation,
    /// Mean fragment length, after the outlier cut.
    pub mean: f64,
    /// Standard deviation (population, at least 1), after the outlier cut.
    pub sd: f64,
    /// The shortest proper fragment.
    pub low: i64,
    /// The longest proper fragment.
    pub high: i64,
}

impl InsertModel {
    /// bwa-mem's `-I mean[,sd[,max[,min]]]`: the standard deviation 10% of the mean when not
    /// given, the proper bounds 4 standard deviations either side (the low one at least 1),
    /// all bounds rounded as bwa-mem rounds them.
    pub fn given(mean: f64, sd: Option<f64>, high: Option<f64>, low: Option<f64>) -> InsertModel {
        let sd = sd.unwrap_or(mean * 0.1);
        let round = |x: f64| (x + 0.499) as i64;
        let high = round(high.unwrap_or(mean + 4.0 * sd));
        let low = low.map_or_else(|| round(mean - 4.0 * sd).max(1), round);
        InsertModel { orientation: Orientation::FR, mean, sd, low, high, also: [None; 2] }
    }

    /// The most common orientation's model.
    pub fn main(&self) -> OrientationModel {
        OrientationModel { orientation: self.orientation, mean: self.mean, sd: self.sd, low: self.low, high: self.high }
    }

    /// Every orientation a proper pair may have, the most common first.
    pub fn orientations(&self) -> impl Iterator<Item = OrientationModel> + '_ {
        std::iter::once(self.main()).chain(self.also.iter().flatten().copied())
    }

    /// The model of `main` alone, with no other orientation.
    pub fn only(main: OrientationModel) -> InsertModel {
        let OrientationModel { orientation, mean, sd, low, high } = main;
        InsertModel { orientation, mean, sd, low, high, also: [None; 2] }
    }

    /// The model as `--insert-model` files hold it: a first line naming the format, then
    /// `orientation`, `mean`, `sd`, `low` and `high`, tab-separated from their values, each
    /// number written so that it reads back exactly, then an `also` line per other
    /// orientation (`also`, orientation, mean, sd, low, high); `None` (no model) as the line
    /// `none`.
    pub fn to_text(model: Option<&InsertModel>) -> String {
        match model {
            Some(m) => {
                let mut text = format!(
                    "{MODEL_FILE_HEAD}\norientation\t{}\nmean\t{}\nsd\t{}\nlow\t{}\nhigh\t{}\n",
                    m.orientation.name(),
                    m.mean,
                    m.sd,
                    m.low,
                    m.high
                );
                for o in m.also.iter().flatten() {
                    text += &format!("also\t{}\t{}\t{}\t{}\t{}\n", o.orientation.name(), o.mean, o.sd, o.low, o.high);
                }
                text
            }
            None => format!("{MODEL_FILE_HEAD}\nnone\n"),
        }
    }

    /// Reads what [`InsertModel::to_text`] writes; an error names the line.
    pub fn from_text(text: &str) -> Result<Option<InsertModel>, String> {
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(MODEL_FILE_HEAD) {
            return Err(format!(
                "line 1: expected '{MODEL_FILE_HEAD}' (a file written by swmap map --estimate-insert-model)"
            ));
        }
        let (mut mean, mut sd, mut low, mut high) = (None, None, None, None);
        let mut orientation = Orientation::FR;
        let mut also = Vec::new();
        let named = |v: &str| [Orientation::FR, Orientation::RF, Orientation::FF].into_iter().find(|o| o.name() == v);
        for (i, line) in lines {
            let bad = |what: &str| format!("line {}: {what}, got '{line}'", i + 1);
            match line.split_once('\t') {
                None if line == "none" => return Ok(None),
                Some(("orientation", v)) => {
                    orientation = named(v).ok_or_else(|| bad("orientation is not FR, RF or FF"))?
                }
                Some(("also", v)) => {
                    let f: Vec<&str> = v.split('\t').collect();
                    let parsed = (f.len() == 5).then(|| {
                        Some(OrientationModel {
                            orientation: named(f[0])?,
                            mean: f[1].parse().ok()?,
                            sd: f[2].parse().ok()?,
                            low: f[3].parse().ok()?,
                            high: f[4].parse().ok()?,
                        })
                    });
                    let other = parsed
                        .flatten()
                        .ok_or_else(|| bad("expected 'also', an orientation, mean, sd, low and high"))?;
                    if also.len() == 2 {
                        return Err(bad("more than two further orientations"));
                    }
                    also.push(other);
                }
                Some(("mean", v)) => mean = Some(v.parse::<f64>().map_err(|_| bad("mean is not a number"))?),
                Some(("sd", v)) => sd = Some(v.parse::<f64>().map_err(|_| bad("sd is not a number"))?),
                Some(("low", v)) => low = Some(v.parse::<i64>().map_err(|_| bad("low is not an integer"))?),
                Some(("high", v)) => high = Some(v.parse::<i64>().map_err(|_| bad("high is not an integer"))?),
                _ if line.is_empty() => {}
                _ => {
                    return Err(bad(
                        "expected 'orientation', 'mean', 'sd', 'low' or 'high', a tab and a value, or 'none'",
                    ))
                }
            }
        }
        match (mean, sd, low, high) {
            (Some(mean), Some(sd), Some(low), Some(high)) => {
                let also = [also.first().copied(), also.get(1).copied()];
                let model = InsertModel { orientation, mean, sd, low, high, also };
                model.validate().map_err(|e| e.to_string())?;
                Ok(Some(model))
            }
            _ => Err("needs the four lines mean, sd, low and high (or the line none)".into()),
        }
    }

    /// Checks a model made by hand.
    pub fn validate(&self) -> Result<()> {
        for m in self.orientations() {
            let finite = m.mean.is_finite() && m.sd.is_finite();
            if !finite || m.mean < 1.0 || m.sd < 1.0 || m.low < 1 || m.high < m.low {
                return Err(Error::Options(format!(
                    "insert-size model (-I or --insert-model) needs mean >= 1, sd >= 1 and 1 <= min <= max, got mean {}, sd {}, max {}, min {}",
                    m.mean, m.sd, m.high, m.low
                )));
            }
        }
        let mut seen: Vec<Orientation> = self.orientations().map(|m| m.orientation).collect();
        seen.sort_by_key(|o| o.name());
        seen.dedup();
        if seen.len() != self.orientations().count() {
            return Err(Error::Options("insert-size model names one orientation twice".into()));
        }
        Ok(())
    }
}

/// Which records a read gets besides its primary one, and how they are clipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// Soft-clip supplementary and secondary records, keeping the whole SEQ (`-Y`).
    pub soft_clip_supplementary: bool,
    /// Write every hit that is neither primary nor supplementary as a secondary record
    /// (`-a`); these replace the `XA` tag, which is then left out.
    pub all_alignments: bool,
    /// `XA` lists at most this many alternatives; a part with more gets none.
    pub max_xa_hits: usize,
    /// Flag the parts of a split read after the primary as secondary (0x100) instead of
    /// supplementary (0x800), bwa-mem's `-M` for tools that predate supplementary records;
    /// nothing else about them changes.
    pub mark_split_secondary: bool,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            soft_clip_supplementary: false,
            all_alignments: false,
            max_xa_hits: 5,
            mark_split_secondary: false,
        }
    }
}

/// Options of `swmap map` that shape the output.
#[derive(Clone, Debug)]
pub struct MapOptions {
    /// Alignment scores and penalties (`-A`, `-B`, `-O`, `-E`, `-L`).
    pub scoring: Scoring,
    /// Seeding and candidate windows (`--max-occ` and the like).
    pub seed: SeedOptions,
    /// Alignments scoring below this are not reported (`-T`, default 30).
    pub min_score: i32,
    /// Reads per chunk (pairs count twice); `None`: the backend's choice
    /// ([`crate::backend::AlignBackend::chunk_reads`]). Changes speed and memory, never the
    /// output.
    pub chunk_reads: Option<usize>,
    /// Supplementary and secondary records, XA (`-Y`, `-a`, `-h`, `-M`).
    pub output: OutputOptions,
    /// Where the insert-size model of pairs comes from: estimated from the first pairs of the
    /// input, or given (`-I`, `--insert-model FILE`: how the shards of one input share one
    /// model).
    pub insert_model: InsertSizes,
}

/// Where the insert-size model of pairs comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum InsertSizes {
    /// Estimated from the first `crate::place::pair::ESTIMATION_PAIRS` pairs of the input.
    #[default]
    Estimated,
    /// Given, as bwa mem's `-I` gives it.
    Given(InsertModel),
    /// None: pairs are placed without a model, as they are when the estimate finds too few
    /// usable pairs (a shard of an input whose estimate failed).
    Without,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            scoring: Scoring::default(),
            seed: SeedOptions::default(),
            min_score: 30,
            chunk_reads: None,
            output: OutputOptions::default(),
            insert_model: InsertSizes::Estimated,
        }
    }
}

impl MapOptions {
    /// Checks every value; the [`Error::Options`] message names the option.
    pub fn validate(&self) -> Result<()> {
        self.scoring.validate()?;
        if self.seed.max_occ == 0 || self.seed.max_candidates == 0 || self.chunk_reads == Some(0) {
            return Err(Error::Options("--max-occ, --max-candidates and the chunk size must be at least 1".into()));
        }
        if self.min_score < 1 {
            return Err(Error::Options(format!("minimum score -T must be at least 1, got {}", self.min_score)));
        }
        if let InsertSizes::Given(m) = &self.insert_model {
            m.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_model_text_reads_back_exactly() {
        let mut rng = crate::rng::Rng::new(0x1234_5678);
        for _ in 0..1000 {
            let x = rng.next_u64();
            let mean = 1.0 + (x >> 11) as f64 / (1u64 << 53) as f64 * 1000.0;
            let sd = 1.0 + (x & 0xffff) as f64 / 7.0;
            let orientation = [Orientation::FR, Orientation::RF, Orientation::FF][(x % 3) as usize];
            let low = 1 + (x % 100) as i64;
            let high = 200 + (x % 1000) as i64;
            // Up to two further orientations, each other than the main one.
            let others = [Orientation::FR, Orientation::RF, Orientation::FF].into_iter().filter(|&o| o != orientation);
            let mut also = [None; 2];
            for (slot, o) in others.take((x >> 20) as usize % 3).enumerate() {
                also[slot] =
                    Some(OrientationModel { orientation: o, mean: mean + 1.5, sd, low: low + 1, high: high + 7 });
            }
            let model = InsertModel { orientation, mean, sd, low, high, also };
            let back = InsertModel::from_text(&InsertModel::to_text(Some(&model))).unwrap().unwrap();
            assert_eq!(back.mean.to_bits(), mean.to_bits());
            assert_eq!(back.sd.to_bits(), sd.to_bits());
            assert_eq!(back, model);
        }
        assert_eq!(InsertModel::from_text(&InsertModel::to_text(None)), Ok(None));
    }
}
