//! SAM text of a record written straight from a [`SamRecord`], byte for byte what noodles'
//! SAM writer makes of the same record (the writer's fast path: copying a record into a
//! noodles `RecordBuf` and formatting it costs about 1 us per read). Every check noodles makes
//! on the fields swmap writes is made here first; a record that fails one is left to noodles,
//! which then reports it (see [`super::writer`]).

use super::{SamRecord, Tags};
use crate::align::CigarOp;
use noodles_sam::alignment::record_buf::data::field::Value;
use noodles_sam::Header;

/// Appends `rec`'s SAM line (with its newline) to `out`, as noodles writes it under `header`;
/// `read_group` is the `RG` value every record gets. Returns
/// false, with `out` as it was, when a field is one noodles would refuse (or one this does not
/// cover), so the caller lets noodles write (or refuse) it.
pub(super) fn write_line(out: &mut Vec<u8>, rec: &SamRecord, header: &Header, read_group: Option<&Value>) -> bool {
    let mark = out.len();
    let ok = line(out, rec, header, read_group).is_some();
    if !ok {
        out.truncate(mark);
    }
    ok
}

fn line(out: &mut Vec<u8>, rec: &SamRecord, header: &Header, read_group: Option<&Value>) -> Option<()> {
    mandatory(out, rec, header)?;
    let read_group = match read_group {
        Some(Value::String(id)) => Some(std::str::from_utf8(id).ok()?),
        Some(_) => return None,
        None => None,
    };
    tags(out, &rec.tags, read_group)?;
    out.push(b'\n');
    Some(())
}

/// The eleven mandatory fields, tab-separated.
fn mandatory(out: &mut Vec<u8>, rec: &SamRecord, header: &Header) -> Option<()> {
    let name_of = |id: usize| header.reference_sequences().get_index(id).map(|(name, _)| &name[..]);
    // QNAME: 1-254 graphic characters other than '@', not "*"; '*' when absent.
    let name = &rec.name[..];
    if name.is_empty() {
        out.push(b'*');
    } else if name.len() <= 254 && name != b"*" && name.iter().all(|&b| b.is_ascii_graphic() && b != b'@') {
        out.extend_from_slice(name);
    } else {
        return None;
    }
    out.push(b'\t');
    number(out, rec.flags as u64);
    out.push(b'\t');
    let rname = match rec.ref_id {
        Some(id) => Some(name_of(id)?),
        None => None,
    };
    out.extend_from_slice(rname.unwrap_or(b"*"));
    out.push(b'\t');
    number(out, rec.pos.map_or(0, |p| p + 1));
    out.push(b'\t');
    number(out, rec.mapq as u64);
    out.push(b'\t');
    let mut read_len = 0u64;
    if rec.cigar.is_empty() {
        out.push(b'*');
    }
    for (op, len) in rec.cigar.runs() {
        if len == 0 {
            return None;
        }
        number(out, len as u64);
        out.push(op.letter() as u8);
        if matches!(op, CigarOp::Match | CigarOp::Insertion | CigarOp::SoftClip) {
            read_len += len as u64;
        }
    }
    out.push(b'\t');
    // RNEXT: '=' when both names are known and equal (noodles compares the names).
    match rec.mate_ref_id {
        Some(id) => {
            let mate = name_of(id)?;
            out.extend_from_slice(if rname == Some(mate) { b"=" } else { mate });
        }
        None => out.push(b'*'),
    }
    out.push(b'\t');
    number(out, rec.mate_pos.map_or(0, |p| p + 1));
    out.push(b'\t');
    let tlen = i32::try_from(rec.tlen).ok()?;
    if tlen < 0 {
        out.push(b'-');
    }
    number(out, tlen.unsigned_abs() as u64);
    out.push(b'\t');
    // SEQ: as many bases as the CIGAR reads (when it reads any), letters, '=' or '.'.
    if rec.seq.is_empty() {
        out.push(b'*');
    } else {
        // Checked without stopping early, so that the loop runs whole vectors at a time.
        let valid = |b: u8| (b | 0x20).wrapping_sub(b'a') < 26 || b == b'=' || b == b'.';
        if (read_len > 0 && rec.seq.len() as u64 != read_len) || !rec.seq.iter().fold(true, |ok, &b| ok & valid(b)) {
            return None;
        }
        out.extend_from_slice(&rec.seq);
    }
    out.push(b'\t');
    // QUAL: one score (0-93) per base, +33; '*' when absent.
    if rec.qual.is_empty() {
        out.push(b'*');
    } else {
        if rec.qual.len() != rec.seq.len() || rec.qual.iter().fold(0, |m, &q| m.max(q)) > b'~' - b'!' {
            return None;
        }
        out.extend(rec.qual.iter().map(|&q| q + b'!'));
    }
    Some(())
}

/// The optional fields, each after a tab, in the order `writer::fill` inserts them.
fn tags(out: &mut Vec<u8>, t: &Tags, read_group: Option<&str>) -> Option<()> {
    if let Some(n) = t.nm {
        int_tag(out, b"NM", n as i64);
    }
    if let Some(s) = &t.md {
        str_tag(out, b"MD", s)?;
    }
    if let Some(s) = &t.mc {
        str_tag(out, b"MC", s)?;
    }
    if let Some(n) = t.mq {
        int_tag(out, b"MQ", n as i64);
    }
    if let Some(n) = t.as_score {
        int_tag(out, b"AS", n as i64);
    }
    if let Some(n) = t.xs_score {
        int_tag(out, b"XS", n as i64);
    }
    if let Some(s) = &t.sa {
        str_tag(out, b"SA", s)?;
    }
    if let Some(v) = t.pa {
        // As noodles writes a float: the shortest digits that read back, no trailing ".0".
        out.extend_from_slice(format!("\tpa:f:{}", v as f32 / 1000.0).as_bytes());
    }
    if let Some(s) = &t.xa {
        str_tag(out, b"XA", s)?;
    }
    if let Some(rg) = read_group {
        str_tag(out, b"RG", rg)?;
    }
    if !t.extra.is_empty() {
        out.push(b'\t');
        out.extend_from_slice(&t.extra);
    }
    Some(())
}

/// `n` in decimal.
fn number(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

fn int_tag(out: &mut Vec<u8>, tag: &[u8; 2], n: i64) {
    out.push(b'\t');
    out.extend_from_slice(tag);
    out.extend_from_slice(b":i:");
    if n < 0 {
        out.push(b'-');
    }
    number(out, n.unsigned_abs());
}

/// A `Z` field: printable characters and space only, as noodles requires.
fn str_tag(out: &mut Vec<u8>, tag: &[u8; 2], s: &str) -> Option<()> {
    if !s.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    out.push(b'\t');
    out.extend_from_slice(tag);
    out.extend_from_slice(b":Z:");
    out.extend_from_slice(s.as_bytes());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::Cigar;
    use crate::rng::Rng;
    use crate::sam::header::build_header;
    use crate::sam::writer::fill;
    use crate::sam::{HeaderInfo, Tags};
    use noodles_sam::alignment::io::Write as _;
    use noodles_sam::alignment::RecordBuf;

    /// A record with each field drawn from ordinary values, edge values and values noodles
    /// refuses.
    fn random_record(rng: &mut Rng) -> SamRecord {
        let pick = |rng: &mut Rng, n: u64| rng.below(n);
        let name = match pick(rng, 12) {
            0 => Vec::new(),
            1 => b"*".to_vec(),
            2 => b"bad@name".to_vec(),
            3 => vec![b'n'; 254 + pick(rng, 2) as usize],
            4 => b"with space".to_vec(),
            _ => format!("read:{}/x", pick(rng, 100_000)).into_bytes(),
        };
        let len = pick(rng, 160) as usize;
        let mut cigar = Cigar::default();
        let mut read_len = 0;
        if pick(rng, 5) != 0 && len > 0 {
            let clip = pick(rng, len as u64 / 2 + 1) as u32;
            if clip > 0 {
                cigar.push(if pick(rng, 2) == 0 { CigarOp::SoftClip } else { CigarOp::HardClip }, clip);
            }
            let rest = len as u32 - clip;
            if rest > 2 {
                cigar.push(CigarOp::Match, rest / 2);
                cigar.push([CigarOp::Insertion, CigarOp::Deletion][pick(rng, 2) as usize], 1 + pick(rng, 3) as u32);
                cigar.push(CigarOp::Match, rest - rest / 2);
            } else if rest > 0 {
                cigar.push(CigarOp::Match, rest);
            }
            read_len = cigar.runs().filter(|(op, _)| op.consumes_query()).map(|(_, l)| l as usize).sum();
        }
        let seq_len = match pick(rng, 10) {
            0 => 0,
            1 => read_len + 1,
            _ => read_len.max(if cigar.is_empty() { len } else { 0 }),
        };
        let mut seq: Vec<u8> = (0..seq_len).map(|_| b"ACGTN"[pick(rng, 5) as usize]).collect();
        if !seq.is_empty() && pick(rng, 15) == 0 {
            // Letters, the two other symbols allowed, and the bytes next to the letters.
            seq[0] = [b'a', b'z', b'Z', b'=', b'.', b'*', b'1', b'@', b'[', b'`', b'{', 0xc1][pick(rng, 12) as usize];
        }
        let mut qual: Vec<u8> = match pick(rng, 8) {
            0 => Vec::new(),
            1 => vec![30; seq.len() + 1],
            _ => (0..seq.len()).map(|_| pick(rng, 60) as u8).collect(),
        };
        if !qual.is_empty() && pick(rng, 15) == 0 {
            qual[0] = 94;
        }
        let text = |rng: &mut Rng| match pick(rng, 8) {
            0 => None,
            1 => Some("tab\there".to_string()),
            2 => Some(String::new()),
            _ => Some(format!("{}A{}^TT{}", pick(rng, 90), pick(rng, 9), pick(rng, 50))),
        };
        let int = |rng: &mut Rng| (pick(rng, 3) != 0).then(|| pick(rng, 300) as i32 - 20);
        SamRecord {
            name,
            flags: pick(rng, 4096) as u16,
            ref_id: [None, Some(0), Some(1), Some(2), Some(7)][pick(rng, 5) as usize],
            pos: (pick(rng, 4) != 0).then(|| pick(rng, 1 << 31)),
            mapq: [0, 1, 60, 254, 255][pick(rng, 5) as usize],
            cigar,
            mate_ref_id: [None, Some(0), Some(1), Some(2), Some(9)][pick(rng, 5) as usize],
            mate_pos: (pick(rng, 4) != 0).then(|| pick(rng, 1 << 20)),
            tlen: [0, 350, -350, i32::MAX as i64, i32::MIN as i64, 1 << 33][pick(rng, 6) as usize],
            seq,
            qual,
            tags: Tags {
                nm: (pick(rng, 2) == 0).then(|| pick(rng, 20) as u32),
                md: text(rng),
                mc: text(rng),
                mq: (pick(rng, 2) == 0).then(|| pick(rng, 61) as u8),
                as_score: int(rng),
                xs_score: int(rng),
                sa: text(rng),
                pa: (pick(rng, 3) == 0).then(|| pick(rng, 2001) as u32),
                xa: text(rng),
                // Comments as -C checks them: A, i and Z tags.
                extra: match pick(rng, 4) {
                    0 => format!(
                        "BC:Z:ACGT {}\tXN:i:{}\tXC:A:q",
                        pick(rng, 9),
                        pick(rng, (1 << 32) + (1 << 31)) as i64 - (1 << 31)
                    )
                    .into_bytes(),
                    1 => b"RX:Z:AAGT".to_vec(),
                    _ => Vec::new(),
                },
            },
        }
    }

    #[test]
    fn lines_are_the_bytes_noodles_writes() {
        let info = HeaderInfo {
            contigs: vec![("chr1".into(), 1000), ("chr2".into(), 2000), ("chr1_alt".into(), 50)],
            read_group: Some("@RG\\tID:grp1\\tSM:s".into()),
            command_line: String::new(),
            header_lines: Vec::new(),
            reference: None,
        };
        let (header, rg) = build_header(&info).unwrap();
        let rg_value = rg.map(|r| Value::from(r.id));
        let mut rng = Rng::new(2026);
        let (mut fast, mut total) = (0, 0);
        let mut buf = RecordBuf::default();
        for _ in 0..20_000 {
            let rec = random_record(&mut rng);
            let mut ours = b"prefix".to_vec();
            let took = write_line(&mut ours, &rec, &header, rg_value.as_ref());
            let theirs = fill(&mut buf, &rec, rg_value.as_ref()).ok().and_then(|()| {
                let mut w = noodles_sam::io::Writer::new(b"prefix".to_vec());
                w.write_alignment_record(&header, &buf).ok().map(|()| w.into_inner())
            });
            total += 1;
            // Refused here exactly when noodles refuses: every record noodles writes is
            // written here, the same bytes.
            assert_eq!(took, theirs.is_some(), "{rec:?}");
            if took {
                fast += 1;
                assert_eq!(Some(&ours), theirs.as_ref(), "{rec:?}");
            } else {
                assert_eq!(ours, b"prefix", "a refused line leaves the buffer as it was");
            }
        }
        assert!(fast * 10 > total, "{fast} of {total} records valid: the draws test too little");
    }
}
