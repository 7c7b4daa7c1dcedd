//! Read-to-window alignment: the recurrence every backend computes.
//!
//! # The problem
//! A *task* aligns a query `q[0..m)` (a read, already in the orientation of the candidate) to a
//! target `t[0..n)` (a reference window). The alignment is **local in the target** (free start
//! and end) and **local in the query with a clipping penalty** (as bwa-mem): leaving bases
//! unaligned at the query's start costs `clip`, and so does leaving bases at its end. Gaps are
//! affine: a gap of length `L` costs `gap_open + L * gap_extend` (6 + L by default).
//!
//! # Recurrence (integers, `i` over the query, `j` over the target)
//! ```text
//! s(i,j)   = ambiguous            if q[i] == N or t[j] == N   (N = code 4)
//!          = match                if q[i] == t[j]
//!          = -mismatch            otherwise
//! start(i) = 0 if i == 0 else -clip                       (value of starting a fresh alignment)
//! D(i,j)   = H(i-1,j-1) if i >= 1 and j >= 1 else -inf
//! diag     = max(D(i,j), start(i)) + s(i,j)              ties: start (clip, as bwa-mem)
//! E(i,j)   = max(H(i,j-1) - (open+ext), E(i,j-1) - ext)   gap in the query: CIGAR D
//! F(i,j)   = max(H(i-1,j) - (open+ext), F(i-1,j) - ext)   gap in the target: CIGAR I
//! H(i,j)   = max(diag, E(i,j), F(i,j))                    ties: diag, then E, then F
//! ```
//! Boundaries: `H(i,-1) = E(i,-1) = -inf` and `H(-1,j) = F(-1,j) = -inf` (the row above the
//! query exists only through `start(0) = 0`). In `E` and `F` ties go to the *open* move.
//! `-inf` is [`NEG_INF`], far enough from `i32::MIN` that subtracting gap costs never wraps.
//!
//! # End cell and score
//! The alignment ends at the cell maximising `total(i,j) = H(i,j) - (i == m-1 ? 0 : clip)`.
//! Ties go to the smaller `i` (clipping rather than extending for nothing, as bwa-mem does at
//! both ends), then to the smaller `j` (leftmost). This order
//! depends only on the cell, never on the order cells are visited, so every backend and every
//! strip width agrees. The traceback follows the recorded moves from that cell back to a cell
//! whose `diag` took `start(i)`. The reported score ([`Alignment::score`], SAM `AS`) is the raw
//! score of the aligned part, i.e. `total` plus the clip penalties it paid.
//!
//! # Traceback record (shared with the GPU kernel)
//! Each cell gets 4 bits: bits 0-1 the source of `H` (0 diag continuing, 1 diag starting,
//! 2 from E, 3 from F), bit 2 set when `E` extended, bit 3 set when `F` extended. The cells are
//! processed in vertical strips of [`STRIP`] target columns; the 8 cells of row `i` in strip
//! `k` form one `u32` (column `8k + c` in bits `4c..4c+4`), stored at word `k * m + i` of the
//! task's traceback area. `shaders/align.wgsl` states the same in its header.

mod cigar;
mod kernel;
pub(crate) mod lanes;
mod reference;
mod scoring;

pub use cigar::{Cigar, CigarOp};
pub use kernel::{align_task, TracebackScratch};
pub use reference::align_reference;
pub use scoring::Scoring;

/// Minus infinity in every DP matrix.
pub const NEG_INF: i32 = -(1 << 29);

/// Target columns per strip; one strip-row of traceback codes fills one `u32`.
pub const STRIP: usize = 8;

/// Result of one task. Coordinates are 0-based, ends exclusive: the alignment covers
/// `query[query_start..query_end]` and `target[target_start..target_end]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Alignment {
    /// Raw alignment score (SAM `AS`): matches, mismatches and gaps, clip penalties excluded.
    pub score: i32,
    pub query_start: u32,
    pub query_end: u32,
    pub target_start: u32,
    pub target_end: u32,
    /// M/I/D operations from `query_start`/`target_start` onwards (no clips).
    pub cigar: Cigar,
}

impl Alignment {
    /// An alignment from its traceback: cells `(query_start, target_start)` to
    /// `(end_i, end_j)` inclusive over a query of `m` bases, whose `total` (the maximised
    /// score, clip penalties included) becomes the raw score by adding back the penalties
    /// of the ends it clipped.
    pub(crate) fn from_traceback(
        total: i32,
        (query_start, target_start): (usize, usize),
        (end_i, end_j): (usize, usize),
        m: usize,
        cigar: Cigar,
        clip: i32,
    ) -> Alignment {
        let clipped_ends = (query_start > 0) as i32 + (end_i + 1 < m) as i32;
        Alignment {
            score: total + clipped_ends * clip,
            query_start: query_start as u32,
            query_end: end_i as u32 + 1,
            target_start: target_start as u32,
            target_end: end_j as u32 + 1,
            cigar,
        }
    }

    /// Score the mapper ranks by: the raw score less the clip penalties this alignment paid.
    pub fn clipped_total(&self, query_len: u32, clip: i32) -> i32 {
        let mut t = self.score;
        if self.query_start > 0 {
            t -= clip;
        }
        if self.query_end < query_len {
            t -= clip;
        }
        t
    }
}
