//! Duplicate marking on the coordinate-sorted stream (`swmap map --sort --markdup`): the
//! records Picard MarkDuplicates (2.27, default options, coordinate-sorted input) flags
//! 0x400, and its metrics file.
//!
//! Picard's rules, which this module follows:
//! - Every primary mapped record is a *fragment end*: its library (the read group's `LB`),
//!   contig, unclipped 5' end and strand. A paired record whose mate is mapped is also one
//!   half of a *pair end*: both mates' unclipped 5' ends, read 1 being the mate with the lower
//!   (contig, 5' end), ties going to the mate earlier in the file, and the two strands (an
//!   RF pair with both ends at one position counts as FR).
//! - Pair ends with the same key form a set; the pair with the highest score (the sum of both
//!   mates' base qualities of at least 15, capped at 16,383 per mate, 16,384 off for a mate
//!   failing QC) is kept, ties going to the first in Picard's order (tile, x, y from the read
//!   name, then read 1's place in the file); both mates of every other pair are duplicates.
//! - Fragment ends with the same key form a set too; a set holding an end of a pair marks all
//!   its single ends duplicates, else the single end with the highest score is kept.
//! - Secondary, supplementary and unmapped records are never marked (Picard marks them only
//!   in query-grouped input).
//!
//! Picard reads the file twice; here the decision is made while the sorted records stream
//! past. Every member of a set with 5' end X on a contig has its alignment start at most X
//! plus the longest leading clip of any forward read (`max_lead_clip`, known once every record
//! has been sorted), so once the stream passes that position the set is complete and decided.
//! Records wait in a window until their set is decided, so memory holds the records of about
//! one read length, not of the run. A pair's score needs both mates' qualities while the
//! second mate may be far away: the mapper appends the mate's score to each paired primary
//! record as an `ms:i` tag (as `samtools fixmate -m` does), which is removed here. The only
//! state kept beyond the window is the name of each duplicate pair whose second mate has not
//! arrived yet (pairs with distant mates).
//!
//! Optical duplicates (for the metrics) follow Picard's `OpticalDuplicateFinder`: tile, x and y
//! from the last three fields of names with five or seven `:`-separated fields, pairs of a
//! set within the pixel distance on one tile of one read group clustered, one kept per
//! cluster.

use super::raw::BamRecord;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// A read group of the header: its ID and its library (`LB`), if any.
pub type ReadGroupLibrary = (String, Option<String>);

/// How duplicates are marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkdupOptions {
    /// Leave duplicates out of the output (Picard's `REMOVE_DUPLICATES=true`).
    pub remove_duplicates: bool,
    /// Pixels within which two duplicates on one tile count as optical (Picard's
    /// `OPTICAL_DUPLICATE_PIXEL_DISTANCE`: 100, or 2500 for patterned flow cells).
    pub optical_distance: i32,
}

impl Default for MarkdupOptions {
    fn default() -> Self {
        MarkdupOptions { remove_duplicates: false, optical_distance: 100 }
    }
}

/// The tag the mapper appends to paired primary records for the marker: the mate's score.
pub(crate) const MATE_SCORE_TAG: [u8; 2] = *b"ms";
/// Its bytes in a BAM record: tag, type `i`, value.
const MATE_SCORE_BYTES: usize = 7;

const PAIRED: u16 = 0x1;
const UNMAPPED: u16 = 0x4;
const MATE_UNMAPPED: u16 = 0x8;
const REVERSE: u16 = 0x10;
const MATE_REVERSE: u16 = 0x20;
const FIRST: u16 = 0x40;
const SECONDARY: u16 = 0x100;
const QC_FAIL: u16 = 0x200;
const DUPLICATE: u16 = 0x400;
const SUPPLEMENTARY: u16 = 0x800;

/// Picard's orientation codes (their order is its sort order).
const F: u8 = 0;
const R: u8 = 1;
const FF: u8 = 2;
const FR: u8 = 3;
const RR: u8 = 4;
const RF: u8 = 5;

/// Picard's name for records without a read group or library.
const UNKNOWN_LIBRARY: &str = "Unknown Library";

fn orientation(first_reverse: bool, second_reverse: bool) -> u8 {
    match (first_reverse, second_reverse) {
        (false, false) => FF,
        (false, true) => FR,
        (true, false) => RF,
        (true, true) => RR,
    }
}

impl BamRecord<'_> {
    /// Whether the record is primary and mapped (a fragment end).
    fn is_primary_mapped(&self) -> bool {
        self.flags() & (UNMAPPED | SECONDARY | SUPPLEMENTARY) == 0
    }
    /// Whether the record is paired with a mapped mate (part of a pair end).
    fn has_mapped_mate(&self) -> bool {
        self.flags() & PAIRED != 0 && self.flags() & MATE_UNMAPPED == 0
    }
    /// Picard's duplicate score of this record.
    fn score(&self) -> i16 {
        duplicate_score(self.qual(), self.flags() & QC_FAIL != 0)
    }
}

/// Picard's duplicate score: the sum of qualities of at least 15 (none when missing, `0xff`),
/// capped at 16,383, and 16,384 off for a read failing QC, as a 16-bit number.
pub(crate) fn duplicate_score(qual: &[u8], qc_fail: bool) -> i16 {
    let sum: i64 =
        if qual.first() == Some(&0xff) { 0 } else { qual.iter().filter(|&&q| q >= 15).map(|&q| q as i64).sum() };
    let score = sum.min(i16::MAX as i64 / 2) as i16;
    if qc_fail {
        score.wrapping_add(i16::MIN / 2)
    } else {
        score
    }
}

/// Leading clipped bases of a forward primary mapped record, the distance its alignment start
/// lies past its unclipped 5' end (0 for anything else).
pub(crate) fn lead_clip(record: &[u8]) -> i64 {
    let rec = BamRecord(record);
    if !rec.is_primary_mapped() || rec.flags() & REVERSE != 0 {
        return 0;
    }
    rec.cigar().take_while(|&(_, op)| is_clip(op)).map(|(len, _)| len as i64).sum()
}

fn is_clip(op: u8) -> bool {
    op == 4 || op == 5
}

/// The unclipped 5' end (0-based) of an alignment at `pos` with these CIGAR operations
/// (BAM codes): the unclipped start forward, the unclipped end reverse.
fn five_prime(pos: i64, reverse: bool, ops: impl DoubleEndedIterator<Item = (u32, u8)> + Clone) -> i64 {
    if !reverse {
        return pos - ops.take_while(|&(_, op)| is_clip(op)).map(|(l, _)| l as i64).sum::<i64>();
    }
    let trailing: i64 = ops.clone().rev().take_while(|&(_, op)| is_clip(op)).map(|(l, _)| l as i64).sum();
    let ref_len: i64 = ops.filter(|&(_, op)| matches!(op, 0 | 2 | 3 | 7 | 8)).map(|(l, _)| l as i64).sum();
    pos + ref_len - 1 + trailing
}

/// A CIGAR string's operations as BAM codes; `None` when it is not one.
fn parse_cigar_text(text: &[u8], ops: &mut Vec<(u32, u8)>) -> Option<()> {
    ops.clear();
    let mut len: u32 = 0;
    let mut digits = false;
    for &b in text {
        if b.is_ascii_digit() {
            len = len.checked_mul(10)?.checked_add((b - b'0') as u32)?;
            digits = true;
            continue;
        }
        let op = b"MIDNSHP=X".iter().position(|&c| c == b)? as u8;
        if !digits {
            return None;
        }
        ops.push((len, op));
        (len, digits) = (0, false);
    }
    (!digits && !ops.is_empty()).then_some(())
}

/// Where a read was on the flow cell, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Location {
    /// The read group's place among the header's (Picard's optical-duplicate read group).
    read_group: i16,
    /// -1: the name gave no location.
    tile: i16,
    x: i32,
    y: i32,
}

impl Location {
    const NONE: Location = Location { read_group: -1, tile: -1, x: -1, y: -1 };

    fn has_location(&self) -> bool {
        self.tile != -1
    }

    /// Picard's default parse: the last three `:`-separated fields of a name with five or
    /// seven fields, as integers (their leading digits); tile, x and y kept as 16-bit numbers.
    fn parse(name: &[u8], read_group: i16) -> Location {
        match last_three_fields(name) {
            Some((5 | 7, [tile, x, y])) => {
                Location { read_group, tile: tile as i16, x: x as i16 as i32, y: y as i16 as i32 }
            }
            _ => Location::NONE,
        }
    }
}

/// Picard's `getLastThreeFields`: the number of fields and the last three parsed; `None` where
/// Picard's parse throws (a field without leading digits) or finds fewer than three fields.
fn last_three_fields(name: &[u8]) -> Option<(i32, [i32; 3])> {
    let mut tokens = [-1i32; 3];
    let mut token = 2i32;
    let mut fields = 0i32;
    let mut end = name.len();
    let mut i = name.len() as isize - 1;
    while i >= 0 && token >= 0 {
        let at = i as usize;
        if name[at] == b':' || at == 0 {
            fields += 1;
            let start = if at == 0 { 0 } else { at + 1 };
            tokens[token as usize] = parse_leading_int(&name[start..end])?;
            token -= 1;
            end = at;
        }
        i -= 1;
    }
    while i >= 0 {
        if name[i as usize] == b':' || i == 0 {
            fields += 1;
        }
        i -= 1;
    }
    (fields >= 3).then_some((fields, tokens))
}

/// Picard's `rapidParseInt`: an optional `-` and the leading digits (Java's wrapping `int`).
fn parse_leading_int(s: &[u8]) -> Option<i32> {
    let (negative, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    let value = digits[..n].iter().fold(0i32, |v, &d| v.wrapping_mul(10).wrapping_add((d - b'0') as i32));
    Some(if negative { value.wrapping_neg() } else { value })
}

/// `OpticalDuplicateFinder.findOpticalDuplicates`; `keeper` is the kept pair when it is in
/// `locs` (it may not be when the set was split by the mates' order).
fn find_optical(locs: &[Location], keeper: Option<usize>, distance: i32) -> Vec<bool> {
    let n = locs.len();
    let mut flags = vec![false; n];
    if !(2..=300_000).contains(&n) {
        return flags;
    }
    let actual = keeper.filter(|&k| locs[k].has_location());
    // Picard passes its keeper (never null for pairs), in the list or not.
    if n >= 4 {
        return optical_by_clusters(locs, actual, flags, distance);
    }
    let close = |a: &Location, b: &Location| {
        a.has_location()
            && b.has_location()
            && a.read_group == b.read_group
            && a.tile == b.tile
            && (a.x - b.x).abs() <= distance
            && (a.y - b.y).abs() <= distance
    };
    if let Some(k) = actual {
        for i in 0..n {
            flags[i] = i != k && close(&locs[k], &locs[i]);
        }
    }
    for i in 0..n {
        if Some(i) == actual {
            continue;
        }
        for j in i + 1..n {
            if Some(j) == actual || (flags[i] && flags[j]) {
                continue;
            }
            if close(&locs[i], &locs[j]) {
                let index = if flags[j] { i } else { j };
                flags[index] = true;
            }
        }
    }
    flags
}

/// Picard's graph version (sets of four or more): clusters of reads within the distance on one
/// tile of one read group; per cluster the keeper, else the read with the lowest (x, y), stays.
fn optical_by_clusters(locs: &[Location], keeper: Option<usize>, mut flags: Vec<bool>, distance: i32) -> Vec<bool> {
    let n = locs.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut groups: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, loc) in locs.iter().enumerate().filter(|(_, l)| l.has_location()) {
        groups.entry(((loc.read_group as i32) << 16) + loc.tile as i32).or_default().push(i);
    }
    for group in groups.values() {
        for (a, &i) in group.iter().enumerate() {
            for &j in &group[a + 1..] {
                if (locs[i].x - locs[j].x).abs() <= distance && (locs[i].y - locs[j].y).abs() <= distance {
                    let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                    parent[ri.max(rj)] = ri.min(rj);
                }
            }
        }
    }
    let cluster: Vec<usize> = (0..n).map(|i| root(&mut parent, i)).collect();
    let mut representative: HashMap<usize, usize> = HashMap::new();
    let keeper_cluster = keeper.map(|k| cluster[k]);
    if let Some(k) = keeper {
        representative.insert(cluster[k], k);
    }
    for i in 0..n {
        let c = cluster[i];
        match representative.get(&c).copied() {
            Some(rep) if Some(i) != keeper => {
                let (cur, old) = (&locs[i], &locs[rep]);
                if Some(c) != keeper_cluster && (cur.x < old.x || (cur.x == old.x && cur.y < old.y)) {
                    flags[rep] = true;
                    representative.insert(c, i);
                } else {
                    flags[i] = true;
                }
            }
            _ => {
                representative.insert(c, i);
            }
        }
    }
    flags
}

/// Picard's DuplicationMetrics counters of one library.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LibraryCounts {
    /// Primary mapped records without a mapped mate.
    pub unpaired_reads_examined: u64,
    /// Primary mapped records with a mapped mate (two per pair; Picard writes pairs).
    pub paired_records_examined: u64,
    /// Secondary and supplementary records.
    pub secondary_or_supplementary: u64,
    /// Unmapped records.
    pub unmapped_reads: u64,
    /// Duplicates among the unpaired records.
    pub unpaired_read_duplicates: u64,
    /// Duplicates among the paired records (two per pair).
    pub paired_record_duplicates: u64,
    /// Optical duplicate pairs.
    pub read_pair_optical_duplicates: u64,
}

/// What marking found: Picard's metrics per library and its duplicate-set histograms.
#[derive(Clone, Debug, Default)]
pub struct DuplicationMetrics {
    /// Per library name (Picard's order: sorted by name).
    pub libraries: BTreeMap<String, LibraryCounts>,
    /// Pair sets by size: all of them, the optical duplicates in each (plus one) and the
    /// other members.
    all_sets: BTreeMap<u64, u64>,
    optical_sets: BTreeMap<u64, u64>,
    non_optical_sets: BTreeMap<u64, u64>,
}

/// Picard's Lander-Waterman estimate of the number of distinct molecules, by bisection.
fn estimate_library_size(read_pairs: i64, unique_pairs: i64) -> Option<i64> {
    let duplicates = read_pairs - unique_pairs;
    if read_pairs <= 0 || duplicates <= 0 {
        return None;
    }
    let f = |x: f64, c: f64, n: f64| c / x - 1.0 + (-n / x).exp();
    let (c, n) = (unique_pairs as f64, read_pairs as f64);
    let (mut m, mut big_m) = (1.0f64, 100.0f64);
    if unique_pairs >= read_pairs || f(m * c, c, n) < 0.0 {
        return None;
    }
    while f(big_m * c, c, n) > 0.0 {
        big_m *= 10.0;
    }
    for _ in 0..40 {
        let r = (m + big_m) / 2.0;
        let u = f(r * c, c, n);
        if u == 0.0 {
            break;
        } else if u > 0.0 {
            m = r;
        } else if u < 0.0 {
            big_m = r;
        }
    }
    Some((c * (m + big_m) / 2.0) as i64)
}

/// A double as htsjdk's metrics files write it: at most six decimals, rounded half down on
/// the exact binary value, no trailing zeros, no grouping.
fn format_double(v: f64) -> String {
    if !v.is_finite() {
        return "?".into();
    }
    let exact = format!("{:.80}", v.abs());
    let (int, frac) = exact.split_once('.').expect("a fraction is printed");
    let (kept, rest) = frac.split_at(6);
    let round_up = match rest.as_bytes()[0] {
        b'6'..=b'9' => true,
        b'5' => rest.bytes().skip(1).any(|b| b != b'0'),
        _ => false,
    };
    let mut digits: Vec<u8> = int.bytes().chain(kept.bytes()).collect();
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - 6;
    let (int, frac) = digits.split_at(split);
    let frac = std::str::from_utf8(frac).expect("digits").trim_end_matches('0');
    let int = std::str::from_utf8(int).expect("digits");
    let negative = v < 0.0 && (int.bytes().any(|b| b != b'0') || !frac.is_empty());
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

impl DuplicationMetrics {
    /// The metrics file as Picard writes it (`header` the lines after `#`, e.g. the command).
    pub fn to_text(&self, header: &[String]) -> String {
        let mut s = String::new();
        for line in header {
            let _ = writeln!(s, "## htsjdk.samtools.metrics.StringHeader\n# {line}");
        }
        s.push('\n');
        s.push_str("## METRICS CLASS\tpicard.sam.DuplicationMetrics\n");
        s.push_str(
            "LIBRARY\tUNPAIRED_READS_EXAMINED\tREAD_PAIRS_EXAMINED\tSECONDARY_OR_SUPPLEMENTARY_RDS\tUNMAPPED_READS\t\
             UNPAIRED_READ_DUPLICATES\tREAD_PAIR_DUPLICATES\tREAD_PAIR_OPTICAL_DUPLICATES\tPERCENT_DUPLICATION\t\
             ESTIMATED_LIBRARY_SIZE\n",
        );
        let mut roi = None;
        for (library, c) in &self.libraries {
            let pairs = (c.paired_records_examined / 2) as i64;
            let pair_dups = (c.paired_record_duplicates / 2) as i64;
            let optical = c.read_pair_optical_duplicates as i64;
            let size = estimate_library_size(pairs - optical, pairs - pair_dups);
            let examined = c.unpaired_reads_examined as i64 + pairs;
            let percent = if examined != 0 {
                (c.unpaired_read_duplicates as i64 + pair_dups * 2) as f64
                    / (c.unpaired_reads_examined as i64 + pairs * 2) as f64
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "{library}\t{}\t{pairs}\t{}\t{}\t{}\t{pair_dups}\t{optical}\t{}\t{}",
                c.unpaired_reads_examined,
                c.secondary_or_supplementary,
                c.unmapped_reads,
                c.unpaired_read_duplicates,
                format_double(percent),
                size.map(|n| n.to_string()).unwrap_or_default()
            );
            if self.libraries.len() == 1 {
                roi = size.map(|size| {
                    let unique = pairs - pair_dups;
                    (1..=100)
                        .map(|x| {
                            let x = x as f64;
                            (x, size as f64 * (1.0 - (-(x * pairs as f64) / size as f64).exp()) / unique as f64)
                        })
                        .collect::<Vec<_>>()
                });
            }
        }
        s.push('\n');
        // Histograms: the ROI curve first (one library), then the set sizes; empty ones left out.
        let sets: Vec<(&str, &BTreeMap<u64, u64>)> = [
            ("all_sets", &self.all_sets),
            ("optical_sets", &self.optical_sets),
            ("non_optical_sets", &self.non_optical_sets),
        ]
        .into_iter()
        .filter(|(_, h)| !h.is_empty())
        .collect();
        if roi.is_some() || !sets.is_empty() {
            s.push_str("## HISTOGRAM\tjava.lang.Double\n");
            s.push_str(if roi.is_some() { "BIN\tCoverageMult" } else { "set_size" });
            for (label, _) in &sets {
                let _ = write!(s, "\t{label}");
            }
            s.push('\n');
            let mut keys: Vec<u64> = sets.iter().flat_map(|(_, h)| h.keys().copied()).collect();
            if roi.is_some() {
                keys.extend(1..=100);
            }
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                let _ = write!(s, "{key}.0");
                if let Some(roi) = &roi {
                    let value = roi.get(key as usize - 1).filter(|_| key <= 100).map_or(0.0, |&(_, v)| v);
                    let _ = write!(s, "\t{}", format_double(value));
                }
                for (_, h) in &sets {
                    let _ = write!(s, "\t{}", format_double(h.get(&key).copied().unwrap_or(0) as f64));
                }
                s.push('\n');
            }
        }
        s.push('\n');
        s
    }

    /// One line for the run's summary: duplicates among the examined reads, per library.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .libraries
            .iter()
            .filter(|(_, c)| c.unpaired_reads_examined + c.paired_records_examined > 0)
            .map(|(library, c)| {
                let examined = c.unpaired_reads_examined + c.paired_records_examined;
                let duplicates = c.unpaired_read_duplicates + c.paired_record_duplicates;
                format!(
                    "{library}: {duplicates} of {examined} reads duplicates ({:.2}%), {} optical duplicate pairs",
                    100.0 * duplicates as f64 / examined as f64,
                    c.read_pair_optical_duplicates
                )
            })
            .collect();
        if parts.is_empty() {
            "duplicates: no mapped reads examined".into()
        } else {
            format!("duplicates marked: {}", parts.join("; "))
        }
    }

    /// Writes the metrics file to `path`.
    pub fn write(&self, path: &Path, header: &[String]) -> Result<()> {
        std::fs::write(path, self.to_text(header)).map_err(|e| Error::io(path, e))
    }
}

/// Which kind of end a record is, for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unmapped,
    SecondaryOrSupplementary,
    /// Primary, single or with an unmapped mate.
    Unpaired,
    /// Primary with a mapped mate.
    Paired,
}

/// A record in the window.
struct Held {
    bytes: Vec<u8>,
    /// `None` until its set is decided.
    duplicate: Option<bool>,
    kind: Kind,
    library: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct FragKey {
    ref_id: i32,
    coord: i64,
    library: u16,
    orientation: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct PairKey {
    ref_id: i32,
    coord: i64,
    library: u16,
    orientation: u8,
    ref2: i32,
    coord2: i64,
}

struct FragEnd {
    id: u64,
    score: i16,
    /// The mate's contig when the mate is mapped, else -1 (Picard's `read2ReferenceIndex`).
    mate_ref: i32,
    loc: Location,
}

struct PairEnd {
    name: Vec<u8>,
    first_id: u64,
    second_id: Option<u64>,
    read1_is_first: bool,
    score: i16,
    loc: Location,
    /// Strands of mate 1 then mate 2 (Picard's `orientationForOpticalDuplicates`).
    optical_orientation: u8,
}

impl PairEnd {
    fn read1_index(&self) -> u64 {
        if self.read1_is_first {
            self.first_id
        } else {
            self.second_id.unwrap_or(self.first_id)
        }
    }
}

/// Marks duplicates on coordinate-sorted records (see the module documentation).
pub struct Marker {
    opts: MarkdupOptions,
    max_lead_clip: i64,
    /// Read group ID -> (its place among the header's read groups, library id).
    read_groups: HashMap<Vec<u8>, (i16, u16)>,
    read_group_count: i16,
    /// Library names by id; id 0 is Picard's "Unknown Library".
    library_names: Vec<String>,
    window: VecDeque<Held>,
    /// The id of `window[0]`; ids number the records in output order.
    first_id: u64,
    next_id: u64,
    frag_sets: BTreeMap<FragKey, Vec<FragEnd>>,
    pair_sets: BTreeMap<PairKey, Vec<PairEnd>>,
    /// Pairs whose set is open: name -> (set, place in it).
    open: HashMap<Vec<u8>, (PairKey, usize)>,
    /// Duplicate pairs decided before their second mate arrived.
    awaiting: HashSet<Vec<u8>>,
    metrics: DuplicationMetrics,
    /// Optical duplicates per library id.
    optical: HashMap<u16, u64>,
    cigar: Vec<(u32, u8)>,
}

impl Marker {
    /// A marker for records under a header with these read groups (`(ID, LB)` in header
    /// order), whose forward primary records have at most `max_lead_clip` leading clipped bases.
    pub fn new(opts: MarkdupOptions, read_groups: &[ReadGroupLibrary], max_lead_clip: i64) -> Marker {
        let mut marker = Marker {
            opts,
            max_lead_clip,
            read_groups: HashMap::new(),
            read_group_count: read_groups.len() as i16,
            library_names: vec![UNKNOWN_LIBRARY.to_string()],
            window: VecDeque::new(),
            first_id: 0,
            next_id: 0,
            frag_sets: BTreeMap::new(),
            pair_sets: BTreeMap::new(),
            open: HashMap::new(),
            awaiting: HashSet::new(),
            metrics: DuplicationMetrics::default(),
            optical: HashMap::new(),
            cigar: Vec::new(),
        };
        for (i, (id, library)) in read_groups.iter().enumerate() {
            let name = library.clone().unwrap_or_else(|| UNKNOWN_LIBRARY.to_string());
            let lib = marker.library_id(&name);
            marker.metrics.libraries.entry(name).or_default();
            marker.read_groups.entry(id.as_bytes().to_vec()).or_insert((i as i16, lib));
        }
        marker
    }

    fn library_id(&mut self, name: &str) -> u16 {
        match self.library_names.iter().position(|n| n == name) {
            Some(i) => i as u16,
            None => {
                self.library_names.push(name.to_string());
                (self.library_names.len() - 1) as u16
            }
        }
    }

    /// (read group's place for optical duplicates, library id) of a record.
    fn library_of(&self, rec: &BamRecord<'_>) -> (i16, u16) {
        match rec.string_tag(*b"RG") {
            None => (0, 0),
            Some(rg) => self.read_groups.get(rg).copied().unwrap_or((self.read_group_count, 0)),
        }
    }

    /// Takes the next record in coordinate order; writes every record whose fate is known.
    pub fn push(&mut self, bytes: &[u8], out: &mut dyn Write) -> io::Result<()> {
        let rec = BamRecord(bytes);
        let id = self.next_id;
        self.next_id += 1;
        let flags = rec.flags();
        let (read_group, library) = self.library_of(&rec);
        // Unplaced unmapped records (reference -1) come last and pass every set.
        let here = if rec.ref_id() < 0 { None } else { Some((rec.ref_id(), rec.pos())) };
        self.decide_passed(here);

        let (kind, duplicate) = if flags & UNMAPPED != 0 {
            (Kind::Unmapped, Some(false))
        } else if flags & (SECONDARY | SUPPLEMENTARY) != 0 {
            (Kind::SecondaryOrSupplementary, Some(false))
        } else {
            let reverse = flags & REVERSE != 0;
            let five = five_prime(rec.pos(), reverse, rec.cigar());
            let loc = Location::parse(rec.name(), read_group);
            let paired = rec.has_mapped_mate();
            let key = FragKey { ref_id: rec.ref_id(), coord: five, library, orientation: if reverse { R } else { F } };
            let mate_ref = if paired { rec.mate_ref_id() } else { -1 };
            self.frag_sets.entry(key).or_default().push(FragEnd { id, score: rec.score(), mate_ref, loc });
            if paired {
                (Kind::Paired, self.pair_end(&rec, id, five, library, loc))
            } else {
                (Kind::Unpaired, None)
            }
        };
        self.window.push_back(Held { bytes: bytes.to_vec(), duplicate, kind, library });
        self.release(out)
    }

    /// Registers a paired primary record; its fate when already known (a second mate whose
    /// pair was decided).
    fn pair_end(&mut self, rec: &BamRecord<'_>, id: u64, five: i64, library: u16, loc: Location) -> Option<bool> {
        let flags = rec.flags();
        let name = rec.name();
        let own = (rec.ref_id() as u32, rec.pos(), flags & REVERSE != 0);
        let mate = (rec.mate_ref_id() as u32, rec.mate_pos(), flags & MATE_REVERSE != 0);
        let second = mate < own || (mate == own && self.open.contains_key(name));
        if second {
            if let Some((key, i)) = self.open.remove(name) {
                let set = self.pair_sets.get_mut(&key).expect("open pairs are in an open set");
                set[i].second_id = Some(id);
                return None;
            }
            return Some(self.awaiting.remove(name));
        }
        let own_reverse = flags & REVERSE != 0;
        let mate_reverse = flags & MATE_REVERSE != 0;
        let mate_five = match rec.string_tag(*b"MC").and_then(|mc| parse_cigar_text(mc, &mut self.cigar)) {
            Some(()) => five_prime(rec.mate_pos(), mate_reverse, self.cigar.iter().copied()),
            None => rec.mate_pos(),
        };
        let mate_score = mate_score_tag(rec.0).unwrap_or(0);
        let score = rec.score().wrapping_add(mate_score);
        let read1_is_first = (rec.ref_id(), five) <= (rec.mate_ref_id(), mate_five);
        let ((r1, c1, rev1), (r2, c2, rev2)) = if read1_is_first {
            ((rec.ref_id(), five, own_reverse), (rec.mate_ref_id(), mate_five, mate_reverse))
        } else {
            ((rec.mate_ref_id(), mate_five, mate_reverse), (rec.ref_id(), five, own_reverse))
        };
        let mut orient = orientation(rev1, rev2);
        if r1 == r2 && c1 == c2 && orient == RF {
            orient = FR;
        }
        let optical_orientation = if flags & FIRST != 0 {
            orientation(own_reverse, mate_reverse)
        } else {
            orientation(mate_reverse, own_reverse)
        };
        let key = PairKey { ref_id: r1, coord: c1, library, orientation: orient, ref2: r2, coord2: c2 };
        let set = self.pair_sets.entry(key).or_default();
        set.push(PairEnd {
            name: name.to_vec(),
            first_id: id,
            second_id: None,
            read1_is_first,
            score,
            loc,
            optical_orientation,
        });
        self.open.insert(name.to_vec(), (key, set.len() - 1));
        None
    }

    /// Decides every set the stream has passed (`None`: the end, every set).
    fn decide_passed(&mut self, here: Option<(i32, i64)>) {
        let clip = self.max_lead_clip;
        let passed = move |ref_id: i32, coord: i64| match here {
            None => true,
            Some((r, pos)) => ref_id < r || (ref_id == r && coord + clip < pos),
        };
        while let Some(entry) = self.pair_sets.first_entry() {
            if !passed(entry.key().ref_id, entry.key().coord) {
                break;
            }
            let (key, ends) = entry.remove_entry();
            self.decide_pairs(key, ends);
        }
        while let Some(entry) = self.frag_sets.first_entry() {
            if !passed(entry.key().ref_id, entry.key().coord) {
                break;
            }
            let ends = entry.remove();
            self.decide_fragments(ends);
        }
    }

    fn set_fate(&mut self, id: u64, duplicate: bool) {
        let held = &mut self.window[(id - self.first_id) as usize];
        held.duplicate = Some(duplicate);
    }

    fn decide_pairs(&mut self, key: PairKey, mut ends: Vec<PairEnd>) {
        for e in &ends {
            self.open.remove(&e.name);
        }
        ends.sort_by_key(|e| (e.loc.tile, e.loc.x, e.loc.y, e.read1_index()));
        // The first with the highest score, as Picard's strict comparison picks it.
        let mut best = 0;
        for (i, e) in ends.iter().enumerate() {
            if e.score > ends[best].score {
                best = i;
            }
        }
        if ends.len() == 1 {
            *self.metrics.all_sets.entry(1).or_default() += 1;
            *self.metrics.non_optical_sets.entry(1).or_default() += 1;
        } else {
            self.track_optical(&ends, best, key.library);
        }
        for (i, e) in ends.iter().enumerate() {
            let duplicate = i != best;
            self.set_fate(e.first_id, duplicate);
            match e.second_id {
                Some(id) => self.set_fate(id, duplicate),
                None if duplicate => {
                    self.awaiting.insert(e.name.clone());
                }
                None => {}
            }
        }
    }

    /// Picard's `trackOpticalDuplicates`: the set split by the mates' order when it holds both
    /// FR and RF, optical duplicates counted for the library, set sizes for the histograms.
    fn track_optical(&mut self, ends: &[PairEnd], best: usize, library: u16) {
        let has = |o: u8| ends.iter().any(|e| e.optical_orientation == o);
        let groups: Vec<Vec<usize>> = if has(FR) && has(RF) {
            [FR, RF].iter().map(|&o| (0..ends.len()).filter(|&i| ends[i].optical_orientation == o).collect()).collect()
        } else {
            vec![(0..ends.len()).collect()]
        };
        let mut optical = 0u64;
        for group in groups {
            let locs: Vec<Location> = group.iter().map(|&i| ends[i].loc).collect();
            let keeper = group.iter().position(|&i| i == best);
            let flags = find_optical(&locs, keeper, self.opts.optical_distance);
            optical += flags.iter().filter(|&&f| f).count() as u64;
        }
        if optical > 0 {
            *self.optical.entry(library).or_default() += optical;
        }
        let size = ends.len() as u64;
        *self.metrics.all_sets.entry(size).or_default() += 1;
        if size > optical {
            *self.metrics.non_optical_sets.entry(size - optical).or_default() += 1;
        }
        if optical > 0 {
            *self.metrics.optical_sets.entry(optical + 1).or_default() += 1;
        }
    }

    fn decide_fragments(&mut self, mut ends: Vec<FragEnd>) {
        let contains_pairs = ends.iter().any(|e| e.mate_ref != -1);
        let contains_frags = ends.iter().any(|e| e.mate_ref == -1);
        if !contains_frags {
            return;
        }
        ends.sort_by_key(|e| (e.mate_ref, e.loc.tile, e.loc.x, e.loc.y, e.id));
        let mut best = None;
        if !contains_pairs {
            let mut b = 0;
            for (i, e) in ends.iter().enumerate() {
                if e.score > ends[b].score {
                    b = i;
                }
            }
            best = Some(b);
        }
        for i in 0..ends.len() {
            if ends[i].mate_ref != -1 {
                continue;
            }
            let duplicate = ends.len() > 1 && Some(i) != best;
            self.set_fate(ends[i].id, duplicate);
        }
    }

    /// Writes the records at the front of the window whose fate is known.
    fn release(&mut self, out: &mut dyn Write) -> io::Result<()> {
        while let Some(held) = self.window.front() {
            let Some(duplicate) = held.duplicate else { break };
            let mut held = self.window.pop_front().expect("front exists");
            self.first_id += 1;
            let name = &self.library_names[held.library as usize];
            let counts = self.metrics.libraries.entry(name.clone()).or_default();
            match held.kind {
                Kind::Unmapped => counts.unmapped_reads += 1,
                Kind::SecondaryOrSupplementary => counts.secondary_or_supplementary += 1,
                Kind::Unpaired => {
                    counts.unpaired_reads_examined += 1;
                    counts.unpaired_read_duplicates += duplicate as u64;
                }
                Kind::Paired => {
                    counts.paired_records_examined += 1;
                    counts.paired_record_duplicates += duplicate as u64;
                }
            }
            if held.kind == Kind::Paired {
                strip_mate_score(&mut held.bytes);
            }
            if duplicate && self.opts.remove_duplicates {
                continue;
            }
            let mut flags = u16::from_le_bytes([held.bytes[18], held.bytes[19]]) & !DUPLICATE;
            if duplicate {
                flags |= DUPLICATE;
            }
            held.bytes[18..20].copy_from_slice(&flags.to_le_bytes());
            out.write_all(&held.bytes)?;
        }
        Ok(())
    }

    /// Decides what is left, writes it, and returns the metrics.
    pub fn finish(mut self, out: &mut dyn Write) -> io::Result<DuplicationMetrics> {
        self.decide_passed(None);
        self.release(out)?;
        debug_assert!(self.window.is_empty(), "every record's fate is decided at the end");
        let mut metrics = std::mem::take(&mut self.metrics);
        for (id, n) in &self.optical {
            let name = &self.library_names[*id as usize];
            metrics.libraries.entry(name.clone()).or_default().read_pair_optical_duplicates = *n;
        }
        Ok(metrics)
    }
}

/// The mate's score from the `ms:i` tag the mapper appended (the record's last field).
fn mate_score_tag(record: &[u8]) -> Option<i16> {
    let tail = record.len().checked_sub(MATE_SCORE_BYTES)?;
    let field = &record[tail..];
    (field[..2] == MATE_SCORE_TAG && field[2] == b'i')
        .then(|| i32::from_le_bytes(field[3..7].try_into().expect("4 bytes")) as i16)
}

/// Removes the `ms:i` tag the mapper appended, if there.
fn strip_mate_score(record: &mut Vec<u8>) {
    if mate_score_tag(record).is_some() {
        record.truncate(record.len() - MATE_SCORE_BYTES);
        let len = (record.len() - 4) as u32;
        record[..4].copy_from_slice(&len.to_le_bytes());
    }
}

/// Appends the `ms:i` tag holding `score` to the BAM record that ends `bytes` and starts at
/// `start` (its length prefix).
pub(crate) fn append_mate_score(bytes: &mut Vec<u8>, start: usize, score: i16) {
    bytes.extend_from_slice(&MATE_SCORE_TAG);
    bytes.push(b'i');
    bytes.extend_from_slice(&(score as i32).to_le_bytes());
    let len = (bytes.len() - start - 4) as u32;
    bytes[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    use crate::sam::raw::test_record as bam;

    fn z_tag(tag: &[u8; 2], value: &str) -> Vec<u8> {
        let mut v = tag.to_vec();
        v.push(b'Z');
        v.extend_from_slice(value.as_bytes());
        v.push(0);
        v
    }

    fn cigar_text(ops: &[(u32, u8)]) -> String {
        ops.iter().map(|&(l, op)| format!("{l}{}", b"MIDNSHP=X"[op as usize] as char)).collect()
    }

    /// One alignment of a generated read.
    #[derive(Clone)]
    struct Aln {
        ref_id: i32,
        pos: i64,
        reverse: bool,
        cigar: Vec<(u32, u8)>,
    }

    fn random_aln(rng: &mut Rng) -> Aln {
        let clip = |rng: &mut Rng| -> Option<(u32, u8)> {
            match rng.below(6) {
                0 => Some((1 + rng.below(8) as u32, 4)),
                1 => Some((1 + rng.below(5) as u32, 5)),
                _ => None,
            }
        };
        let mut cigar = Vec::new();
        cigar.extend(clip(rng));
        cigar.push((10 + rng.below(12) as u32, 0));
        if rng.chance(0.2) {
            cigar.push((1 + rng.below(3) as u32, if rng.chance(0.5) { 1 } else { 2 }));
            cigar.push((5 + rng.below(5) as u32, 0));
        }
        cigar.extend(clip(rng));
        Aln { ref_id: rng.below(2) as i32, pos: rng.below(120) as i64, reverse: rng.chance(0.5), cigar }
    }

    fn query_len(cigar: &[(u32, u8)]) -> usize {
        cigar.iter().filter(|&&(_, op)| matches!(op, 0 | 1 | 4 | 7 | 8)).map(|&(l, _)| l as usize).sum()
    }

    /// A read name: Illumina-like with a tile and position near a few spots, or without.
    fn random_name(rng: &mut Rng, n: usize) -> String {
        match rng.below(5) {
            0 => format!("plain{n}"),
            1 => format!("M1:7:FC:1:{}:{}:{}", 1101 + rng.below(2), 1000 + rng.below(300), 2000 + rng.below(300)),
            _ => format!("I:{}:{}:{}#{n}", 1101 + rng.below(2), 40_000 + rng.below(200), 500 + rng.below(200)),
        }
    }

    const GROUPS: [(&str, Option<&str>); 3] = [("g1", Some("libA")), ("g2", Some("libB")), ("g3", Some("libA"))];

    /// Coordinate-sorted records with many duplicate sets: pairs (every orientation, mates on
    /// either contig, unmapped mates), single reads, secondary and supplementary records,
    /// clips, QC failures, equal scores, several read groups and libraries.
    fn random_records(seed: u64) -> Vec<Vec<u8>> {
        let mut rng = Rng::new(seed);
        let mut records = Vec::new();
        let templates: Vec<(Aln, Option<Aln>)> =
            (0..60).map(|_| (random_aln(&mut rng), rng.chance(0.8).then(|| random_aln(&mut rng)))).collect();
        for n in 0..400 {
            let (a, b) = &templates[rng.below(templates.len() as u64) as usize];
            let name = format!("{}-{n}", random_name(&mut rng, n));
            let rg = match rng.below(6) {
                0 => None,
                1 => Some("zz"),
                k => Some(GROUPS[(k as usize - 2) % 3].0),
            };
            let aux = rg.map(|g| z_tag(b"RG", g)).unwrap_or_default();
            let level = |rng: &mut Rng| [10u8, 20, 30, 40][rng.below(4) as usize];
            let qual_of = |rng: &mut Rng, aln: &Aln| {
                let q = level(rng);
                vec![q; query_len(&aln.cigar)]
            };
            let qc = |rng: &mut Rng| if rng.chance(0.05) { QC_FAIL } else { 0 };
            match b {
                None => {
                    let qual = qual_of(&mut rng, a);
                    let flags = if a.reverse { REVERSE } else { 0 } | qc(&mut rng);
                    records.push(bam(&name, flags, (a.ref_id, a.pos), &a.cigar, (-1, -1), &qual, &aux));
                }
                Some(b) => {
                    let mate_unmapped = rng.chance(0.15);
                    let (qa, qb) = (qual_of(&mut rng, a), qual_of(&mut rng, b));
                    let (fa, fb) = (qc(&mut rng), qc(&mut rng));
                    let rev = |x: &Aln| if x.reverse { REVERSE } else { 0 };
                    let mrev = |x: &Aln| if x.reverse { MATE_REVERSE } else { 0 };
                    if mate_unmapped {
                        let fl = PAIRED | MATE_UNMAPPED | FIRST | rev(a) | fa;
                        records.push(bam(&name, fl, (a.ref_id, a.pos), &a.cigar, (a.ref_id, a.pos), &qa, &aux));
                        let fl = PAIRED | UNMAPPED | 0x80 | mrev(a) | fb;
                        records.push(bam(&name, fl, (a.ref_id, a.pos), &[], (a.ref_id, a.pos), &qb, &aux));
                    } else {
                        for (me, mate, q, mq, f, mf, first) in
                            [(a, b, &qa, &qb, fa, fb, true), (b, a, &qb, &qa, fb, fa, false)]
                        {
                            let mut tags = aux.clone();
                            tags.extend(z_tag(b"MC", &cigar_text(&mate.cigar)));
                            let ms = duplicate_score(mq, mf != 0);
                            tags.extend_from_slice(b"msi");
                            tags.extend_from_slice(&(ms as i32).to_le_bytes());
                            let fl = PAIRED | rev(me) | mrev(mate) | f | if first { FIRST } else { 0x80 };
                            records.push(bam(
                                &name,
                                fl,
                                (me.ref_id, me.pos),
                                &me.cigar,
                                (mate.ref_id, mate.pos),
                                q,
                                &tags,
                            ));
                        }
                    }
                }
            }
            if rng.chance(0.1) {
                let s = random_aln(&mut rng);
                let flag = if rng.chance(0.5) { SECONDARY } else { SUPPLEMENTARY };
                records.push(bam(&name, flag, (s.ref_id, s.pos), &s.cigar, (-1, -1), &[], &aux));
            }
        }
        for i in 0..5 {
            records.push(bam(&format!("u{i}"), UNMAPPED, (-1, -1), &[], (-1, -1), &[30; 20], &[]));
        }
        // Shuffle, then sort stably by samtools' key: ties keep the shuffled order.
        for i in (1..records.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            records.swap(i, j);
        }
        records.sort_by_key(|r| {
            let rec = BamRecord(r);
            (rec.ref_id() as u32, rec.pos(), rec.flags() & REVERSE != 0)
        });
        records
    }

    /// Picard's end of a read or pair, as `ReadEndsForMarkDuplicates` holds it.
    #[derive(Clone, Debug)]
    struct End {
        lib: u16,
        r1: (i32, i64),
        orient: u8,
        r2: (i32, i64),
        loc: Location,
        i1: u64,
        i2: i64,
        score: i16,
        optical_orientation: u8,
    }

    /// Picard MarkDuplicates as it works, written plainly: one pass building every fragment
    /// and pair end, both lists sorted with its comparator, sets of equal keys marked.
    fn oracle(records: &[Vec<u8>], groups: &[(String, Option<String>)]) -> Vec<bool> {
        let libs: Vec<String> = groups.iter().map(|(_, l)| l.clone().unwrap_or(UNKNOWN_LIBRARY.into())).collect();
        let lib_of = |rec: &BamRecord<'_>| -> (i16, u16, String) {
            let rg = rec.string_tag(*b"RG");
            let at = rg.and_then(|g| groups.iter().position(|(id, _)| id.as_bytes() == g));
            let name = at.map_or(UNKNOWN_LIBRARY.to_string(), |i| libs[i].clone());
            let rg_index = match rg {
                None => 0,
                Some(_) => at.map_or(groups.len() as i16, |i| i as i16),
            };
            let mut names: Vec<String> = vec![UNKNOWN_LIBRARY.into()];
            names.extend(libs.iter().cloned());
            names.dedup();
            let id = names.iter().position(|n| *n == name).unwrap() as u16;
            (rg_index, id, name)
        };
        let (mut frags, mut pairs) = (Vec::new(), Vec::new());
        let mut tmp: HashMap<Vec<u8>, End> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            let rec = BamRecord(r);
            if rec.flags() & UNMAPPED != 0 {
                if rec.ref_id() == -1 {
                    break;
                }
                continue;
            }
            if rec.flags() & (SECONDARY | SUPPLEMENTARY) != 0 {
                continue;
            }
            let (rg, lib, _) = lib_of(&rec);
            let reverse = rec.flags() & REVERSE != 0;
            let cigar: Vec<_> = rec.cigar().collect();
            let five = five_prime(rec.pos(), reverse, cigar.iter().copied());
            let paired = rec.has_mapped_mate();
            let end = End {
                lib,
                r1: (rec.ref_id(), five),
                orient: if reverse { R } else { F },
                r2: (if paired { rec.mate_ref_id() } else { -1 }, -1),
                loc: Location::parse(rec.name(), rg),
                i1: i as u64,
                i2: -1,
                score: rec.score(),
                optical_orientation: 0,
            };
            frags.push(end.clone());
            if !paired {
                continue;
            }
            let Some(mut p) = tmp.remove(rec.name()) else {
                tmp.insert(rec.name().to_vec(), end);
                continue;
            };
            let first_reverse = p.orient == R;
            p.optical_orientation = if rec.flags() & FIRST != 0 {
                orientation(reverse, first_reverse)
            } else {
                orientation(first_reverse, reverse)
            };
            if end.r1 >= p.r1 {
                p.r2 = end.r1;
                p.i2 = i as i64;
                p.orient = orientation(first_reverse, reverse);
                if p.r1 == p.r2 && p.orient == RF {
                    p.orient = FR;
                }
            } else {
                p.r2 = p.r1;
                p.i2 = p.i1 as i64;
                p.r1 = end.r1;
                p.i1 = i as u64;
                p.orient = orientation(reverse, first_reverse);
            }
            p.score = p.score.wrapping_add(end.score);
            pairs.push(p);
        }
        let order = |e: &End| (e.lib, e.r1, e.orient, e.r2, e.loc.tile, e.loc.x, e.loc.y, e.i1, e.i2);
        pairs.sort_by_key(order);
        frags.sort_by_key(order);
        let mut dup = vec![false; records.len()];
        let best_of = |set: &[End]| {
            let mut best = 0;
            for (i, e) in set.iter().enumerate() {
                if e.score > set[best].score {
                    best = i;
                }
            }
            best
        };
        for set in pairs.chunk_by(|a, b| (a.lib, a.r1, a.orient, a.r2) == (b.lib, b.r1, b.orient, b.r2)) {
            if set.len() < 2 {
                continue;
            }
            let best = best_of(set);
            for e in set.iter().enumerate().filter(|&(i, _)| i != best).map(|(_, e)| e) {
                dup[e.i1 as usize] = true;
                dup[e.i2 as usize] = true;
            }
        }
        for set in frags.chunk_by(|a, b| (a.lib, a.r1, a.orient) == (b.lib, b.r1, b.orient)) {
            let with_pairs = set.iter().any(|e| e.r2.0 != -1);
            if set.len() < 2 || !set.iter().any(|e| e.r2.0 == -1) {
                continue;
            }
            let best = if with_pairs { None } else { Some(best_of(set)) };
            for (i, e) in set.iter().enumerate() {
                if e.r2.0 == -1 && Some(i) != best {
                    dup[e.i1 as usize] = true;
                }
            }
        }
        dup
    }

    fn groups() -> Vec<(String, Option<String>)> {
        GROUPS.iter().map(|(id, lb)| (id.to_string(), lb.map(str::to_string))).collect()
    }

    fn mark(records: &[Vec<u8>], opts: MarkdupOptions) -> (Vec<Vec<u8>>, DuplicationMetrics) {
        let clip = records.iter().map(|r| lead_clip(r)).max().unwrap_or(0);
        let mut marker = Marker::new(opts, &groups(), clip);
        let mut out = Vec::new();
        for r in records {
            marker.push(r, &mut out).unwrap();
        }
        let metrics = marker.finish(&mut out).unwrap();
        let mut written = Vec::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let len = 4 + u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
            written.push(rest[..len].to_vec());
            rest = &rest[len..];
        }
        (written, metrics)
    }

    #[test]
    fn streaming_marks_what_picards_two_passes_mark() {
        let mut sets = 0;
        for seed in 0..40 {
            let records = random_records(seed);
            let expected = oracle(&records, &groups());
            let (written, _) = mark(&records, MarkdupOptions::default());
            assert_eq!(written.len(), records.len(), "seed {seed}: every record is written");
            for (i, (w, r)) in written.iter().zip(&records).enumerate() {
                let flags = BamRecord(w).flags();
                assert_eq!(flags & DUPLICATE != 0, expected[i], "seed {seed}, record {i} ({:?})", {
                    String::from_utf8_lossy(BamRecord(r).name())
                });
                // Nothing else changes, and the mate-score tag is gone.
                let mut plain = r.clone();
                strip_mate_score(&mut plain);
                plain[18..20].copy_from_slice(&(flags).to_le_bytes());
                assert_eq!(*w, plain, "seed {seed}, record {i}");
            }
            sets += expected.iter().filter(|&&d| d).count();
        }
        assert!(sets > 2000, "the records hold many duplicates ({sets})");
    }

    #[test]
    fn removed_duplicates_are_the_marked_ones() {
        let records = random_records(7);
        let (marked, m1) = mark(&records, MarkdupOptions::default());
        let (kept, m2) = mark(&records, MarkdupOptions { remove_duplicates: true, ..MarkdupOptions::default() });
        let expected: Vec<&Vec<u8>> = marked.iter().filter(|r| BamRecord(r).flags() & DUPLICATE == 0).collect();
        assert!(expected.len() < marked.len());
        assert_eq!(kept.iter().collect::<Vec<_>>(), expected);
        assert_eq!(m1.to_text(&[]), m2.to_text(&[]), "the metrics count what was removed");
    }

    #[test]
    fn metrics_count_every_record_by_library() {
        let records = random_records(3);
        let (written, metrics) = mark(&records, MarkdupOptions::default());
        let libraries: Vec<&str> = metrics.libraries.keys().map(String::as_str).collect();
        assert_eq!(libraries, ["Unknown Library", "libA", "libB"]);
        let total: u64 = metrics
            .libraries
            .values()
            .map(|c| {
                c.unpaired_reads_examined + c.paired_records_examined + c.secondary_or_supplementary + c.unmapped_reads
            })
            .sum();
        assert_eq!(total, records.len() as u64);
        let dups: u64 =
            metrics.libraries.values().map(|c| c.unpaired_read_duplicates + c.paired_record_duplicates).sum();
        assert_eq!(dups, written.iter().filter(|r| BamRecord(r).flags() & DUPLICATE != 0).count() as u64);
    }

    #[test]
    fn library_size_and_numbers_as_picard_writes_them() {
        // Picard 2.27.5 on 23,399 pairs with 3,405 duplicate and 988 optical duplicate pairs.
        assert_eq!(estimate_library_size(23_399 - 988, 23_399 - 3_405), Some(96_287));
        assert_eq!(estimate_library_size(100, 100), None);
        assert_eq!(format_double(0.0), "0");
        assert_eq!(format_double(1912.0), "1912");
        assert_eq!(format_double(0.145_519_01), "0.145519");
        assert_eq!(format_double(1.038_953_4), "1.038953");
        // Exact halves round down (Java's HALF_DOWN), unlike Rust's formatting.
        assert_eq!(format_double(3.0 / 128.0), "0.023437");
        assert_eq!(format_double(0.999_999_7), "1");
    }

    #[test]
    fn names_give_picards_flow_cell_locations() {
        let at = |name: &str| Location::parse(name.as_bytes(), 0);
        assert_eq!(at("M1:7:FC:1:1101:1234:5678"), Location { read_group: 0, tile: 1101, x: 1234, y: 5678 });
        assert_eq!(at("A:1101:12:34"), Location::NONE);
        assert_eq!(at("A:B:1101:12:34"), Location { read_group: 0, tile: 1101, x: 12, y: 34 });
        // Leading digits count; x and y are kept as 16-bit numbers.
        assert_eq!(at("A:B:7:40000:34/1"), Location { read_group: 0, tile: 7, x: 40000 - 65536, y: 34 });
        assert_eq!(at("A:B:C:12:34"), Location::NONE);
        assert_eq!(at("read1"), Location::NONE);
    }

    #[test]
    fn optical_duplicates_follow_picards_clusters() {
        let loc = |tile, x, y| Location { read_group: 0, tile, x, y };
        // Three reads: the keeper and one within 100 pixels; one far away.
        let small = [loc(1, 100, 100), loc(1, 150, 180), loc(1, 900, 900)];
        assert_eq!(find_optical(&small, Some(0), 100), [false, true, false]);
        // Four or more: clusters; in a cluster without the keeper the lowest (x, y) stays.
        let big = [loc(1, 100, 100), loc(1, 2000, 2000), loc(1, 1950, 2050), loc(2, 1960, 2000), loc(1, 1990, 1990)];
        // Reads 1, 2 and 4 form a cluster on tile 1 (read 3 is on tile 2); read 2, the lowest
        // x, stays.
        assert_eq!(find_optical(&big, Some(0), 100), [false, true, false, false, true]);
        // The keeper's own cluster keeps the keeper.
        assert_eq!(find_optical(&big, Some(4), 100), [false, true, true, false, false]);
    }
}
