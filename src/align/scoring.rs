//! Scoring parameters, bwa-mem's defaults.

/// Integer scores of the alignment recurrence (see the module `crate::align`).
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

    /// Checks that the parameters make sense; the message names the offending one.
    pub fn validate(&self) -> Result<(), String> {
        let check = |name: &str, v: i32, min: i32| {
            if v < min || v > MAX_SCORE_PARAM {
                Err(format!("{name} must be between {min} and {MAX_SCORE_PARAM}, got {v}"))
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
            return Err(format!(
                "the score of an ambiguous base must lie between -{MAX_SCORE_PARAM} and the match score, got {}",
                self.ambiguous
            ));
        }
        Ok(())
    }
}
