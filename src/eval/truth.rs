//! True origins parsed from simulated read names. Three formats are understood (all
//! positions 1-based; `/1` or `/2` at the end of a name is ignored):
//!
//! - swmap: `swmap:<index>:<pos1><strand1>[,<pos2><strand2>]:<contig>`, see
//!   [`crate::simulate::read_name`]. `pos` is each mate's leftmost aligned base.
//! - dwgsim (0.1.x, Illumina mode):
//!   `[<prefix>_]<contig>_<pos1>_<pos2>_<strand1>_<strand2>_<random1>_<random2>_<err1>:<snp1>:<indel1>_<err2>:<snp2>:<indel2>_<hexindex>`.
//!   `pos` is each end's leftmost aligned base and `strand` is 0 (forward) or 1 (reverse), for
//!   end 1 (first file, SAM flag 0x40 or unpaired) and end 2. `random` 1 marks a random-DNA
//!   read with no origin (its contig is `rand`). The index restarts at 0 for every contig.
//! - wgsim: `<contig>_<pos1>_<pos2>_<err1>:<sub1>:<indel1>_<err2>:<sub2>:<indel2>_<hexindex>`,
//!   the outer ends of the fragment: `pos1` is the leftmost base of the forward-strand read,
//!   `pos2` the rightmost base of the reverse-strand read. Either read may be in either file,
//!   so a read is matched to the end whose strand its alignment has. The index restarts per
//!   contig.
//!
//! Names are taken apart from the right, so contigs may contain `_` (and, for swmap, `:`).
//! With dwgsim's `-P prefix` the parsed contig is `<prefix>_<contig>`; [`contig_matches`]
//! accepts that.

use crate::simulate::read_name::SimulatedName;
use crate::simulate::sequencer::Strand;

/// Which simulator wrote a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameFormat {
    /// `swmap simulate`: `swmap:<index>:<pos1><strand1>[,<pos2><strand2>]:<contig>`.
    Swmap,
    /// dwgsim 0.1.x, Illumina mode.
    Dwgsim,
    /// wgsim: the fragment's outer ends, not each read's.
    Wgsim,
}

/// Which end of the alignment the true position is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The leftmost reference base, clipped bases included.
    Leftmost,
    /// The rightmost reference base, clipped bases included.
    Rightmost,
}

/// Where one read truly lies. `contig: None` is a random read that lies nowhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadTruth {
    /// The true contig as named by the simulator; `None` for a random read.
    pub contig: Option<String>,
    /// 1-based.
    pub pos: u64,
    /// The strand the read was sequenced from (for a random read, the aligner's).
    pub strand: Strand,
    /// Which end of the alignment `pos` is to be compared with.
    pub anchor: Anchor,
}

/// Everything a simulated name says about its fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrueOrigin {
    /// The simulator whose format the name is in.
    pub format: NameFormat,
    /// The contig as written (`rand` or `<prefix>_rand` for dwgsim random reads).
    pub contig: String,
    /// Fragment number; dense from 0 over the file (swmap) or over each contig (others).
    pub index: u64,
    /// End 1 and end 2 (swmap single reads have one); `None` for a random read.
    ends: [Option<(u64, Strand, Anchor)>; 2],
}

impl TrueOrigin {
    /// Parses any of the three formats; `None` if the name is none of them.
    ///
    /// ```
    /// use swmap::eval::{NameFormat, TrueOrigin};
    /// use swmap::simulate::Strand;
    /// let dwgsim = TrueOrigin::parse("chr1_23115_22718_1_0_0_0_0:0:0_1:0:0_0/1").unwrap();
    /// assert_eq!(dwgsim.format, NameFormat::Dwgsim);
    /// let end1 = dwgsim.read(0, Strand::Forward).unwrap();
    /// assert_eq!((end1.pos, end1.strand), (23115, Strand::Reverse));
    /// ```
    pub fn parse(name: &str) -> Option<TrueOrigin> {
        let name = name.strip_suffix("/1").or_else(|| name.strip_suffix("/2")).unwrap_or(name);
        parse_swmap(name).or_else(|| parse_dwgsim(name)).or_else(|| parse_wgsim(name))
    }

    /// The truth for one read of the fragment: `segment` 0 for end 1 or an unpaired read, 1 for
    /// end 2. For wgsim the segment says nothing, and `aligned_strand` (the strand the aligner
    /// chose) picks the end instead. `None` when the fragment has no such end.
    pub fn read(&self, segment: usize, aligned_strand: Strand) -> Option<ReadTruth> {
        let (pos, strand, anchor) = match self.format {
            NameFormat::Wgsim => self.ends.iter().flatten().find(|e| e.1 == aligned_strand).copied()?,
            _ => match self.ends.get(segment)? {
                Some(end) => *end,
                None if self.ends.iter().all(Option::is_none) => {
                    return Some(ReadTruth { contig: None, pos: 0, strand: aligned_strand, anchor: Anchor::Leftmost })
                }
                None => return None,
            },
        };
        Some(ReadTruth { contig: Some(self.contig.clone()), pos, strand, anchor })
    }

    /// True for a random read (dwgsim `-y`), which has no place in the reference.
    pub fn is_random(&self) -> bool {
        self.ends.iter().all(Option::is_none)
    }
}

/// Whether an aligner's contig is the true one; for dwgsim and wgsim also when the parsed
/// contig is `<prefix>_<contig>` (dwgsim `-P`).
pub fn contig_matches(format: NameFormat, truth: &str, aligned: &str) -> bool {
    truth == aligned
        || (format != NameFormat::Swmap && truth.strip_suffix(aligned).is_some_and(|prefix| prefix.ends_with('_')))
}

fn parse_swmap(name: &str) -> Option<TrueOrigin> {
    let n = SimulatedName::parse(name)?;
    let end = |m: crate::simulate::read_name::MateOrigin| (m.pos, m.strand, Anchor::Leftmost);
    Some(TrueOrigin {
        format: NameFormat::Swmap,
        contig: n.contig,
        index: n.index,
        ends: [Some(end(n.mate1)), n.mate2.map(end)],
    })
}

/// `<contig>` and the `_`-separated fields after it, taken from the right.
fn split_right(name: &str, fields: usize) -> Option<(&str, Vec<&str>)> {
    let mut parts: Vec<&str> = name.rsplitn(fields + 1, '_').collect();
    if parts.len() != fields + 1 {
        return None;
    }
    let contig = parts.pop()?;
    parts.reverse();
    (!contig.is_empty()).then_some((contig, parts))
}

/// `a:b:c` with three decimal counts.
fn is_error_triple(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn decimal(text: &str) -> Option<u64> {
    text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok())?
}

fn hex(text: &str) -> Option<u64> {
    text.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u64::from_str_radix(text, 16).ok())?
}

fn flag(text: &str) -> Option<bool> {
    match text {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn parse_dwgsim(name: &str) -> Option<TrueOrigin> {
    let (contig, f) = split_right(name, 9)?;
    let (pos1, pos2, reverse1, reverse2) = (decimal(f[0])?, decimal(f[1])?, flag(f[2])?, flag(f[3])?);
    let (random1, random2) = (flag(f[4])?, flag(f[5])?);
    if !is_error_triple(f[6]) || !is_error_triple(f[7]) {
        return None;
    }
    let strand = |reverse: bool| if reverse { Strand::Reverse } else { Strand::Forward };
    Some(TrueOrigin {
        format: NameFormat::Dwgsim,
        contig: contig.to_string(),
        index: hex(f[8])?,
        ends: [
            (!random1).then_some((pos1, strand(reverse1), Anchor::Leftmost)),
            (!random2).then_some((pos2, strand(reverse2), Anchor::Leftmost)),
        ],
    })
}

fn parse_wgsim(name: &str) -> Option<TrueOrigin> {
    let (contig, f) = split_right(name, 5)?;
    if !is_error_triple(f[2]) || !is_error_triple(f[3]) {
        return None;
    }
    Some(TrueOrigin {
        format: NameFormat::Wgsim,
        contig: contig.to_string(),
        index: hex(f[4])?,
        ends: [
            Some((decimal(f[0])?, Strand::Forward, Anchor::Leftmost)),
            Some((decimal(f[1])?, Strand::Reverse, Anchor::Rightmost)),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Strand::{Forward, Reverse};

    fn truth(contig: &str, pos: u64, strand: Strand, anchor: Anchor) -> Option<ReadTruth> {
        Some(ReadTruth { contig: Some(contig.into()), pos, strand, anchor })
    }

    #[test]
    fn dwgsim_names_from_real_output() {
        // From `dwgsim -N 1000 -1 150 -2 150 -z 1` on the lambda phage genome (bwa mem put
        // end 1 at 23115 on the reverse strand and end 2 at 22718 forward).
        let name = "gi|9626243|ref|NC_001416.1|_23115_22718_1_0_0_0_0:0:0_1:0:0_a/1";
        let o = TrueOrigin::parse(name).unwrap();
        assert_eq!((o.format, o.index), (NameFormat::Dwgsim, 10));
        assert_eq!(o.read(0, Forward), truth("gi|9626243|ref|NC_001416.1|", 23115, Reverse, Anchor::Leftmost));
        assert_eq!(o.read(1, Reverse), truth("gi|9626243|ref|NC_001416.1|", 22718, Forward, Anchor::Leftmost));
        let random = TrueOrigin::parse("rand_0_0_0_0_1_1_0:0:0_0:0:0_2c").unwrap();
        assert!(random.is_random());
        assert_eq!(random.read(1, Reverse).unwrap().contig, None);
    }

    #[test]
    fn wgsim_ends_are_chosen_by_strand() {
        let o = TrueOrigin::parse("chr_1_46824_47335_0:0:0_1:0:0_1f").unwrap();
        assert_eq!((o.format, o.contig.as_str(), o.index), (NameFormat::Wgsim, "chr_1", 31));
        assert_eq!(o.read(1, Forward), truth("chr_1", 46824, Forward, Anchor::Leftmost));
        assert_eq!(o.read(0, Reverse), truth("chr_1", 47335, Reverse, Anchor::Rightmost));
    }

    #[test]
    fn swmap_names_and_rejects() {
        let o = TrueOrigin::parse("swmap:3:100-:a_1_2").unwrap();
        assert_eq!((o.format, o.index), (NameFormat::Swmap, 3));
        assert_eq!(o.read(0, Forward), truth("a_1_2", 100, Reverse, Anchor::Leftmost));
        assert_eq!(o.read(1, Forward), None);
        for bad in
            ["read_1", "chr_1_2_0:0:0_1:0_5", "_1_2_0:0:0_1:0:0_5", "c_1_x_0:0:0_0:0:0_1", "c_1_2_0:0:0_0:0:0_xyz"]
        {
            assert_eq!(TrueOrigin::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn prefixed_contigs_match() {
        assert!(contig_matches(NameFormat::Dwgsim, "sample_chr1", "chr1"));
        assert!(contig_matches(NameFormat::Dwgsim, "chr1", "chr1"));
        assert!(!contig_matches(NameFormat::Dwgsim, "xchr1", "chr1"));
        assert!(!contig_matches(NameFormat::Swmap, "sample_chr1", "chr1"));
    }
}
