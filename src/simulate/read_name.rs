//! The read-name format of `swmap simulate`, written and parsed in one place:
//!
//! ```text
//! swmap:<index>:<pos1><strand1>[,<pos2><strand2>]:<contig>
//! ```
//!
//! `index` counts fragments from 0 with no gaps, so the largest index tells how many were
//! simulated. `pos` is the 1-based leftmost reference position of the read's aligned part
//! (after reverse-complementing a `-` read, as in SAM), `strand` is `+` or `-`; the first pair
//! is mate 1 (or the only read), the second is mate 2. The contig comes last and runs to the
//! end of the name, so it may hold any character, `:` included, and the fields before it
//! never can, which makes the format unambiguous. Example: `swmap:17:10234+,10561-:chr1`.

use super::sequencer::Strand;
use std::fmt;

/// Where one read of a fragment lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MateOrigin {
    /// 1-based leftmost reference position.
    pub pos: u64,
    /// The strand the read was sequenced from (`+` or `-` in the name).
    pub strand: Strand,
}

/// Everything a `swmap simulate` read name says.
///
/// ```
/// use swmap::simulate::SimulatedName;
/// let name = SimulatedName::parse("swmap:17:10234+,10561-:chr1").unwrap();
/// assert_eq!((name.index, name.contig.as_str(), name.mate1.pos), (17, "chr1", 10234));
/// assert_eq!(name.to_string(), "swmap:17:10234+,10561-:chr1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedName {
    /// Fragment number, 0-based and dense.
    pub index: u64,
    /// The contig's name; the rest of the name after the positions, `:` included.
    pub contig: String,
    /// The only read of a single fragment, or mate 1 of a pair.
    pub mate1: MateOrigin,
    /// Present for paired reads.
    pub mate2: Option<MateOrigin>,
}

const PREFIX: &str = "swmap:";

impl fmt::Display for SimulatedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.mate1;
        write!(f, "{PREFIX}{}:{}{}", self.index, m.pos, m.strand.symbol())?;
        if let Some(m) = self.mate2 {
            write!(f, ",{}{}", m.pos, m.strand.symbol())?;
        }
        write!(f, ":{}", self.contig)
    }
}

impl SimulatedName {
    /// Parses a name written by [`SimulatedName`]'s `Display`; `None` if it is not one.
    pub fn parse(name: &str) -> Option<SimulatedName> {
        let rest = name.strip_prefix(PREFIX)?;
        let (index, rest) = rest.split_once(':')?;
        let (positions, contig) = rest.split_once(':')?;
        if contig.is_empty() {
            return None;
        }
        let mut mates = positions.split(',').map(parse_mate);
        let mate1 = mates.next()??;
        let mate2 = match mates.next() {
            Some(m) => Some(m?),
            None => None,
        };
        if mates.next().is_some() {
            return None;
        }
        Some(SimulatedName { index: parse_number(index)?, contig: contig.to_string(), mate1, mate2 })
    }
}

fn parse_mate(text: &str) -> Option<MateOrigin> {
    let strand = match text.as_bytes().last()? {
        b'+' => Strand::Forward,
        b'-' => Strand::Reverse,
        _ => return None,
    };
    Some(MateOrigin { pos: parse_number(&text[..text.len() - 1])?, strand })
}

/// Plain decimal digits only (`u64::from_str` would also take a leading `+`).
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_colons_in_the_contig() {
        let name = SimulatedName {
            index: 17,
            contig: "HLA-A*01:01:01:01".into(),
            mate1: MateOrigin { pos: 10234, strand: Strand::Forward },
            mate2: Some(MateOrigin { pos: 10561, strand: Strand::Reverse }),
        };
        let text = name.to_string();
        assert_eq!(text, "swmap:17:10234+,10561-:HLA-A*01:01:01:01");
        assert_eq!(SimulatedName::parse(&text), Some(name.clone()));
        let single = SimulatedName { mate2: None, contig: "1:2+".into(), ..name };
        assert_eq!(single.to_string(), "swmap:17:10234+:1:2+");
        assert_eq!(SimulatedName::parse(&single.to_string()), Some(single));
    }

    #[test]
    fn rejects_other_names() {
        for bad in ["swmap:1:5+:", "swmap:x:5+:c", "swmap:1:5:c", "swmap:1:+5+:c", "read1", "swmap:1:5+,6-,7+:c"] {
            assert_eq!(SimulatedName::parse(bad), None, "{bad}");
        }
    }
}
