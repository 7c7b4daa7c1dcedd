//! Window choice: each cluster (and chain) of a read's hits made a reference window, the
//! heavy ones kept best first up to the cap (more where many tie, a repeat's copies), then the
//! heaviest chains and split parts added after them.

use super::chain::{HitCluster, MAX_CHAINS, MAX_PARTS, MIN_PART_BASES};
use super::hits::SeedHit;
use super::{covered, overlap, CandidateWindow, TIE_FACTOR, TIE_PERCENT};
use crate::index::Index;
use crate::options::SeedOptions;

/// A candidate window and the read bases its seeds span (on the read in the window's
/// orientation).
pub(super) type Cand = (CandidateWindow, (u32, u32));

/// Makes the window of a piece (or chain) of one read's sorted hits.
pub(super) struct WindowMaker<'a> {
    pub(super) index: &'a Index,
    pub(super) hits: &'a [SeedHit],
    pub(super) len: usize,
    pub(super) opts: &'a SeedOptions,
}

impl WindowMaker<'_> {
    /// The piece's diagonals widened by the padding, within its contig; its weight (read
    /// bases its seeds cover) and band. `None` for an empty window.
    fn window(&self, p: &HitCluster, spans: &mut Vec<(u32, u32)>) -> Option<Cand> {
        let (k, pad) = (self.index.params.k, self.opts.window_pad as i64);
        let c = &self.index.contigs[p.contig];
        let (cstart, cend) = (c.offset as i64, (c.offset + c.len) as i64);
        let start = (p.diag.0 - pad).clamp(cstart, cend);
        let end = (p.diag.1 + self.len as i64 + pad).clamp(cstart, cend);
        let weight = if p.lone() {
            k // a lone seed (most pieces of a read with repetitive seeds)
        } else {
            spans.clear();
            spans.extend(self.hits[p.hits.0..p.hits.1].iter().map(|h| (h.qoff(), h.qoff() + k)));
            covered(spans)
        };
        let band = ((p.diag.0 - pad - start) as i32, (p.diag.1 + pad - start) as i32);
        let (start, end) = (start as u64, end as u64);
        let w = CandidateWindow { reverse: p.reverse, contig: p.contig, start, end, weight, band };
        (end > start).then_some((w, p.read))
    }

    /// Read bases a window's seeds span, on the read as sequenced (a reverse window's spans
    /// are on the reverse-complemented read).
    fn sequenced(&self, w: &Cand) -> (u32, u32) {
        let len = self.len as u32;
        if w.0.reverse {
            (len - w.1 .1, len - w.1 .0)
        } else {
            w.1
        }
    }
}

/// Best first: heavier, then forward before reverse, then leftmost; the remaining fields break
/// what ties are left (windows clamped to a contig's start), so the order is total and the
/// windows chosen never depend on the order pieces came in or on how they are selected.
pub(super) fn order(a: &Cand, b: &Cand) -> std::cmp::Ordering {
    // Weight (below 2^16: at most the read's length), strand and start (below 2^32: global
    // positions) packed into one integer in that order: one comparison decides nearly every
    // pair (a read in a repeat has hundreds of windows to select from).
    let key = |c: &Cand| (0xffff - c.0.weight as u64) << 33 | (c.0.reverse as u64) << 32 | c.0.start;
    let rest = |c: &Cand| (c.0.end, c.0.contig, c.0.band, c.1);
    key(a).cmp(&key(b)).then_with(|| rest(a).cmp(&rest(b)))
}

/// The first `n` of `items` in [`order`] that `keep` accepts, best first, into `out`, in one
/// pass (without sorting all of them: a read in a repeat has hundreds of windows).
pub(super) fn best_of<'c>(
    items: impl Iterator<Item = &'c Cand>,
    keep: impl Fn(&Cand) -> bool,
    n: usize,
    out: &mut Vec<Cand>,
) {
    let first = out.len();
    for c in items.filter(|c| keep(c)) {
        let chosen = &out[first..];
        if chosen.len() == n && order(c, &chosen[n - 1]).is_ge() {
            continue;
        }
        let at = first + chosen.partition_point(|x| order(x, c).is_lt());
        out.insert(at, *c);
        out.truncate(first + n);
    }
}

/// The windows of a read's pieces into `out` (empty): the heavy ones, best first and capped,
/// then the heaviest chains and split parts (see the module documentation); returns how many
/// windows as good as the best the caps left out (`left_out` more from the fallback's sample).
pub(super) fn choose_windows(
    maker: &WindowMaker,
    (pieces, chains): (&[HitCluster], &[HitCluster]),
    (windows, light, parts, extra): (&mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>, &mut Vec<Cand>),
    spans: &mut Vec<(u32, u32)>,
    left_out: usize,
    out: &mut Vec<CandidateWindow>,
) -> u32 {
    let (opts, pct) = (maker.opts, maker.opts.min_weight_percent as u64);
    // Windows of pieces of two seeds or more first. A lone seed's window weighs k; when the
    // heaviest of those outweighs it more than `min_weight_percent` allows, no lone-seed window
    // can be heavy (or the best), so they are made only if split parts are sought (a read
    // with repetitive seeds has hundreds of them; chains already took them into account).
    let lone = |p: &&HitCluster| p.lone();
    windows.clear();
    windows.extend(pieces.iter().filter(|p| !lone(p)).filter_map(|p| maker.window(p, spans)));
    let top = windows.iter().map(|w| w.0.weight as u64).max().unwrap_or(0);
    let lone_light = top * pct > maker.index.params.k as u64 * 100;
    if !lone_light {
        windows.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
    }
    if windows.is_empty() {
        return left_out.min(u32::MAX as usize) as u32;
    }
    // Only the heavy windows (at least `min_weight_percent` of the best) are sorted: a read
    // with repetitive seeds has hundreds of light ones, sorted only when split parts are sought.
    let top = windows.iter().map(|w| w.0.weight).max().unwrap_or(0) as u64;
    light.clear();
    windows.retain(|w| {
        let heavy = w.0.weight as u64 * 100 >= top * pct;
        if !heavy {
            light.push(*w);
        }
        heavy
    });
    // The `keep` best, sorted; a read in a repeat has hundreds of windows as heavy, and only
    // these few are sorted (the rest are only searched for split parts, below).
    let best = top as u32;
    let ties = windows.iter().filter(|w| w.0.weight as u64 * 100 >= best as u64 * TIE_PERCENT).count();
    let keep = opts.max_candidates.max(ties.min(opts.max_candidates * TIE_FACTOR)).min(windows.len());
    if keep < windows.len() {
        windows.select_nth_unstable_by(keep, order);
    }
    windows[..keep].sort_unstable_by(order);
    let best_read = maker.sequenced(&windows[0]);
    let unaligned = maker.len as u32 - (best_read.1 - best_read.0);
    let unexamined = ties.saturating_sub(keep).saturating_add(left_out).min(u32::MAX as usize) as u32;
    // Windows left out (too light, or past the cap) whose seeds lie mostly on read bases the
    // best window's do not cover: the other side of a fusion junction. The heaviest are added
    // after the capped set, which stays as it was.
    parts.clear();
    if unaligned >= MIN_PART_BASES {
        if lone_light {
            light.extend(pieces.iter().filter(lone).filter_map(|p| maker.window(p, spans)));
        }
        let part = |w: &Cand| overlap(maker.sequenced(w), best_read) * 2 < w.1 .1 - w.1 .0;
        best_of(windows[keep..].iter().chain(light.iter()), part, MAX_PARTS, parts);
    }
    windows.truncate(keep);
    // Chains that explain more of the read than any one window (both sides of an indel), best
    // first, and the heaviest split parts: extra windows, so the capped set above, and with it
    // every copy a read's XA lists, stays as it was.
    extra.clear();
    extra.extend(chains.iter().filter_map(|p| maker.window(p, spans)).filter(|w| w.0.weight > best));
    extra.sort_unstable_by(order);
    extra.truncate(MAX_CHAINS);
    let chosen = windows.iter().chain(extra.iter()).chain(parts.iter());
    out.extend(chosen.map(|&(w, _)| w));
    unexamined
}
