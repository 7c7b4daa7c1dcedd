//! A read as the mapper takes it, and what a read may hold: a name SAM can write, a length the
//! aligner takes, and (with `-C`) a comment of SAM tags.

use crate::io::fasta::show_byte;

/// The longest read swmap maps. Its alignment is full dynamic programming over the read and a
/// window around it (memory and time grow with the square of the length: 75 s and 4.9 GB
/// measured for a 100 kb read), built for short reads: Illumina reads (50-300 bases) and merged
/// pairs fit with room to spare. A longer read is an error naming the file and record; long
/// reads belong to a long-read aligner such as minimap2.
pub const MAX_READ_LEN: usize = 2_000;

/// One read. `name` has neither the `@`, nor the comment, nor a trailing `/1` or `/2`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    /// The QNAME: the header's first word, without `@` and without `/1` or `/2`.
    pub name: Vec<u8>,
    /// Base codes (see [`crate::dna`]).
    pub codes: Vec<u8>,
    /// Raw Phred qualities (ASCII minus 33).
    pub qual: Vec<u8>,
    /// SAM tags from the header's comment (`BC:Z:ACGT\tRX:Z:AAGT`), to be copied into every
    /// record of the read as bwa mem -C does; kept only by a reader made
    /// [`crate::FastqReader::with_comments`], checked there (`check_comment`), else empty.
    pub comment: Vec<u8>,
}

impl Read {
    /// A read from text, checked as the FASTQ reader checks a record: `name` a SAM read name
    /// (a `/1` or `/2` at its end taken off, as the reader takes it off), `seq` nucleotide
    /// letters (IUPAC codes other than ACGT/U map to N), `qual` Phred+33 characters as many as
    /// the bases, or `None` for a read without qualities (QUAL `*`, as FASTA reads). The error
    /// says what is wrong, naming the read.
    pub fn from_text(name: &[u8], seq: &[u8], qual: Option<&[u8]>) -> Result<Read, String> {
        let name = without_mate_suffix(name);
        let shown = || String::from_utf8_lossy(name).into_owned();
        if name.is_empty() {
            return Err("a read needs a name".into());
        }
        check_read_name(name)?;
        if seq.len() > MAX_READ_LEN {
            return Err(format!(
                "read '{}' has {} bases; swmap maps reads of at most {MAX_READ_LEN} bases (use a long-read aligner such as minimap2)",
                shown(),
                seq.len()
            ));
        }
        let codes: Vec<u8> = seq.iter().map(|&b| crate::dna::CODES[b as usize]).collect();
        if let Some(at) = codes.iter().position(|&c| c == crate::dna::INVALID) {
            return Err(format!("invalid base {} at position {} of read '{}'", show_byte(seq[at]), at + 1, shown()));
        }
        let qual = match qual {
            None => Vec::new(),
            Some(q) if q.len() != seq.len() => {
                return Err(format!("read '{}' has {} bases but {} quality scores", shown(), seq.len(), q.len()))
            }
            Some(q) => match q.iter().find(|b| !(b'!'..=b'~').contains(*b)) {
                Some(&b) => return Err(format!("invalid quality character {} in read '{}'", show_byte(b), shown())),
                None => q.iter().map(|&b| b - 33).collect(),
            },
        };
        Ok(Read { name: name.to_vec(), codes, qual, comment: Vec::new() })
    }
}

/// A read name without a trailing `/1` or `/2` (a name of just that is left whole).
pub(crate) fn without_mate_suffix(name: &[u8]) -> &[u8] {
    if name.len() > 2 && (name.ends_with(b"/1") || name.ends_with(b"/2")) {
        &name[..name.len() - 2]
    } else {
        name
    }
}

/// Checks a read name against SAM's QNAME rule (`[!-?A-~]{1,254}`: printable ASCII without
/// `@` or spaces, at most 254 characters), so that every read can be written.
pub fn check_read_name(name: &[u8]) -> Result<(), String> {
    if name.len() > 254 {
        return Err(format!("read name of {} characters; SAM allows at most 254", name.len()));
    }
    let allowed = |b: u8| (b'!'..=b'~').contains(&b) && b != b'@';
    // One pass without early exit (whole vectors at a time), the search only for the message.
    if name.iter().fold(true, |ok, &b| ok & allowed(b)) {
        return Ok(());
    }
    match name.iter().find(|&&b| !allowed(b)) {
        Some(&b) => Err(format!(
            "read name '{}' has {}, which SAM does not allow in a read name (printable ASCII without '@')",
            String::from_utf8_lossy(name),
            show_byte(b)
        )),
        None => Ok(()),
    }
}

/// Tags swmap writes itself: a comment may not repeat them.
const OWN_TAGS: [&[u8; 2]; 9] = [b"NM", b"MD", b"MC", b"MQ", b"AS", b"XS", b"SA", b"XA", b"pa"];

/// Checks a comment that -C copies into the records, and writes it as the records will carry
/// it (integers without leading zeros or '+'): tab-separated `TAG:TYPE:VALUE` fields, TAG a
/// letter then a letter or digit, TYPE `A` (one printable character), `i` (an integer of
/// SAM's range) or `Z` (printable characters and spaces), no tag twice nor one of those
/// swmap writes.
pub fn check_comment(comment: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    let bad = |why: &str| {
        Err(format!(
            "-C copies the header's comment into the SAM records, so it must be SAM tags \
             (TAG:TYPE:VALUE, tab-separated; types A, i and Z): {why} in '{}'",
            String::from_utf8_lossy(comment)
        ))
    };
    let mut seen: Vec<[u8; 2]> = Vec::new();
    for field in comment.split(|&b| b == b'\t') {
        let [t0, t1, b':', kind, b':', value @ ..] = field else { return bad("a field is not TAG:TYPE:VALUE") };
        if !t0.is_ascii_alphabetic() || !t1.is_ascii_alphanumeric() {
            return bad("a tag is not a letter and a letter or digit");
        }
        let tag = [*t0, *t1];
        if seen.contains(&tag) || OWN_TAGS.contains(&&tag) {
            return bad(&format!("{} is given twice or is a tag swmap writes", String::from_utf8_lossy(&tag)));
        }
        seen.push(tag);
        if !out.is_empty() {
            out.push(b'\t');
        }
        out.extend_from_slice(&field[..5]);
        match kind {
            b'A' if value.len() == 1 && value[0].is_ascii_graphic() => out.extend_from_slice(value),
            b'Z' if value.iter().all(|&b| b == b' ' || b.is_ascii_graphic()) => out.extend_from_slice(value),
            b'i' => match std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok()) {
                Some(n) if (i32::MIN as i64..=u32::MAX as i64).contains(&n) => {
                    out.extend_from_slice(n.to_string().as_bytes())
                }
                _ => return bad("an i value is not an integer from -2^31 to 2^32-1"),
            },
            b'A' | b'Z' => return bad("an A or Z value has a character SAM does not allow"),
            _ => return bad("a type is not A, i or Z"),
        }
    }
    Ok(())
}
