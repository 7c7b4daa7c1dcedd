//! Checks of swmap's SAM output made without swmap's code: a SAM line parser, the reference
//! read straight from FASTA, NM and MD recomputed from the reference, the CIGAR and the read,
//! and the fields that tie records of one read and of one pair together.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

/// Contig name to upper-case bases, from a FASTA file, plain or gzip.
pub fn load_fasta(path: &Path) -> HashMap<String, Vec<u8>> {
    let raw = std::fs::read(path).unwrap();
    let mut text = Vec::new();
    if raw.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut text).unwrap();
    } else {
        text = raw;
    }
    let mut contigs = HashMap::new();
    let mut name = String::new();
    for line in String::from_utf8(text).unwrap().lines() {
        if let Some(header) = line.strip_prefix('>') {
            name = header.split_whitespace().next().unwrap_or("").to_string();
            contigs.insert(name.clone(), Vec::new());
        } else {
            contigs.get_mut(&name).unwrap().extend(line.trim().bytes().map(|b| b.to_ascii_uppercase()));
        }
    }
    contigs
}

pub fn reverse_complement(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            _ => b'N',
        })
        .collect()
}

/// One SAM body line, fields as written.
#[derive(Clone, Debug)]
pub struct Line {
    pub name: String,
    pub flag: u16,
    pub rname: String,
    /// 1-based.
    pub pos: u64,
    pub mapq: u8,
    pub cigar: String,
    pub rnext: String,
    pub pnext: u64,
    pub seq: String,
    pub qual: String,
    /// `tag -> value` (type dropped).
    pub tags: HashMap<String, String>,
}

impl Line {
    pub fn parse(line: &str) -> Line {
        let f: Vec<&str> = line.split('\t').collect();
        let mut tags = HashMap::new();
        for t in &f[11..] {
            let (tag, value) = (&t[..2], &t[5..]);
            tags.insert(tag.to_string(), value.to_string());
        }
        Line {
            name: f[0].into(),
            flag: f[1].parse().unwrap(),
            rname: f[2].into(),
            pos: f[3].parse().unwrap(),
            mapq: f[4].parse().unwrap(),
            cigar: f[5].into(),
            rnext: f[6].into(),
            pnext: f[7].parse().unwrap(),
            seq: f[9].into(),
            qual: f[10].into(),
            tags,
        }
    }

    pub fn tag(&self, t: &str) -> Option<&str> {
        self.tags.get(t).map(String::as_str)
    }

    pub fn mapped(&self) -> bool {
        self.flag & 0x4 == 0
    }

    pub fn primary(&self) -> bool {
        self.flag & 0x900 == 0
    }

    pub fn reverse(&self) -> bool {
        self.flag & 0x10 != 0
    }

    /// Which read of the template: 0x40, 0x80 or 0 (unpaired).
    pub fn mate_bit(&self) -> u16 {
        self.flag & 0xc0
    }

    pub fn ops(&self) -> Vec<(u32, u8)> {
        parse_cigar(&self.cigar)
    }
}

/// The body lines of a SAM text (no header), as written.
pub fn records(sam: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(sam).lines().filter(|l| !l.starts_with('@')).map(str::to_string).collect()
}

/// Every body line of a SAM text, parsed.
pub fn lines(sam: &[u8]) -> Vec<Line> {
    String::from_utf8_lossy(sam).lines().filter(|l| !l.starts_with('@')).map(Line::parse).collect()
}

pub fn parse_cigar(s: &str) -> Vec<(u32, u8)> {
    let mut ops = Vec::new();
    let mut n = 0u32;
    for b in s.bytes() {
        if b.is_ascii_digit() {
            n = n * 10 + (b - b'0') as u32;
        } else {
            ops.push((n, b));
            n = 0;
        }
    }
    ops
}

/// NM and MD of an alignment as samtools calmd defines them: `query` is the whole read in the
/// record's orientation with hard-clipped bases too (a hard clip skips them like a soft
/// clip), `pos0` the 0-based POS. An N matches nothing, not even an N.
pub fn expected_nm_md(ops: &[(u32, u8)], query: &[u8], reference: &[u8], pos0: usize) -> (u32, String) {
    // MD: matches counted since the last event, written before each event (a mismatch's
    // reference base, or `^` and the deleted bases) and at the end.
    let mut md = String::new();
    let (mut nm, mut since_event) = (0u32, 0u32);
    let (mut q, mut r) = (0usize, pos0);
    for &(len, op) in ops {
        let len_u = len as usize;
        match op {
            b'M' | b'=' | b'X' => {
                for k in 0..len_u {
                    let (a, b) = (query[q + k], reference[r + k]);
                    if a == b && b != b'N' {
                        since_event += 1;
                    } else {
                        md += &format!("{since_event}{}", b as char);
                        since_event = 0;
                        nm += 1;
                    }
                }
                q += len_u;
                r += len_u;
            }
            b'I' => {
                q += len_u;
                nm += len;
            }
            b'D' => {
                md += &format!("{since_event}^{}", String::from_utf8_lossy(&reference[r..r + len_u]));
                since_event = 0;
                r += len_u;
                nm += len;
            }
            b'S' | b'H' => q += len_u,
            other => panic!("unexpected CIGAR op {}", other as char),
        }
    }
    md += &since_event.to_string();
    (nm, md)
}

/// The CIGAR with hard clips written as soft clips (how SA and XA entries write it).
pub fn soft(cigar: &str) -> String {
    cigar.replace('H', "S")
}

/// What was checked, for the caller to assert that the interesting cases occurred.
#[derive(Debug, Default)]
pub struct Checked {
    pub mapped: usize,
    pub supplementary: usize,
    pub secondary: usize,
    pub with_indels: usize,
    pub with_mate_tags: usize,
}

/// Checks every mapped record against the reference: NM and MD recomputed; SEQ and QUAL of
/// non-primary records equal to the primary's read, oriented and clipped as the CIGAR says;
/// on paired records RNEXT, PNEXT, MC and MQ equal the mate's primary record's RNAME, POS,
/// CIGAR and MAPQ when the mate is mapped, and MC and MQ absent when it is not.
pub fn check_records(sam: &[u8], reference: &HashMap<String, Vec<u8>>) -> Checked {
    let recs = lines(sam);
    let mut primaries: HashMap<(String, u16), &Line> = HashMap::new();
    for r in recs.iter().filter(|r| r.primary()) {
        assert!(primaries.insert((r.name.clone(), r.mate_bit()), r).is_none(), "two primaries: {}", r.name);
    }
    let mut checked = Checked::default();
    for r in &recs {
        let primary = primaries[&(r.name.clone(), r.mate_bit())];
        if r.flag & 0x1 != 0 {
            check_mate_fields(r, primaries[&(r.name.clone(), r.mate_bit() ^ 0xc0)], &mut checked);
        }
        if !r.mapped() {
            continue;
        }
        checked.mapped += 1;
        checked.supplementary += (r.flag & 0x800 != 0) as usize;
        checked.secondary += (r.flag & 0x100 != 0) as usize;
        checked.with_indels += r.cigar.contains(['I', 'D']) as usize;
        // The read as this record aligns it, hard-clipped bases included.
        let (mut full, mut qual) = (primary.seq.as_bytes().to_vec(), primary.qual.as_bytes().to_vec());
        if r.reverse() != primary.reverse() {
            full = reverse_complement(&full);
            qual.reverse();
        }
        let ops = r.ops();
        let query_len: u32 = ops.iter().filter(|(_, op)| b"MIS=XH".contains(op)).map(|(n, _)| n).sum();
        assert_eq!(query_len as usize, full.len(), "{}: CIGAR {} vs read length", r.name, r.cigar);
        let lead = ops.first().filter(|(_, op)| *op == b'H').map_or(0, |(n, _)| *n as usize);
        let tail = ops.last().filter(|(_, op)| *op == b'H').map_or(0, |(n, _)| *n as usize);
        if r.flag & 0x100 != 0 {
            assert_eq!((r.seq.as_str(), r.qual.as_str()), ("*", "*"), "{}: secondary with SEQ/QUAL", r.name);
            assert_eq!(r.mapq, 0, "{}: secondary MAPQ", r.name);
            assert!(r.tag("XS").is_none() && r.tag("XA").is_none() && r.tag("SA").is_none(), "{}", r.name);
        } else {
            assert_eq!(r.seq.as_bytes(), &full[lead..full.len() - tail], "{}: SEQ of {}", r.name, r.cigar);
            if primary.qual != "*" {
                assert_eq!(r.qual.as_bytes(), &qual[lead..qual.len() - tail], "{}: QUAL", r.name);
            }
        }
        let contig = reference.get(&r.rname).unwrap_or_else(|| panic!("unknown contig {}", r.rname));
        let (nm, md) = expected_nm_md(&ops, &full, contig, r.pos as usize - 1);
        assert_eq!(r.tag("NM"), Some(nm.to_string().as_str()), "{}: NM of {} at {}", r.name, r.cigar, r.pos);
        assert_eq!(r.tag("MD"), Some(md.as_str()), "{}: MD of {} at {}", r.name, r.cigar, r.pos);
    }
    checked
}

fn check_mate_fields(r: &Line, mate: &Line, checked: &mut Checked) {
    if mate.mapped() {
        let rnext = if mate.rname == r.rname { "=" } else { mate.rname.as_str() };
        assert_eq!((r.rnext.as_str(), r.pnext), (rnext, mate.pos), "{}: RNEXT/PNEXT", r.name);
        assert_eq!(r.tag("MC"), Some(mate.cigar.as_str()), "{} flag {}: MC", r.name, r.flag);
        assert_eq!(r.tag("MQ"), Some(mate.mapq.to_string().as_str()), "{} flag {}: MQ", r.name, r.flag);
        assert_eq!(r.flag & 0x20 != 0, mate.reverse(), "{}: mate reverse flag", r.name);
        checked.with_mate_tags += 1;
    } else {
        assert!(r.flag & 0x8 != 0, "{}: mate unmapped flag", r.name);
        assert!(r.tag("MC").is_none() && r.tag("MQ").is_none(), "{}: MC/MQ without a mapped mate", r.name);
    }
}

/// Picard's ValidateSamFile on `path`; `None` when Picard is not installed (a failure with
/// `SWMAP_REQUIRE_TOOLS`, see [`crate::support::missing_tool`]).
pub fn picard_errors(path: &Path) -> Option<String> {
    let Some(mut picard) = crate::support::picard() else {
        crate::support::missing_tool("picard");
        return None;
    };
    let v = picard
        .args(["ValidateSamFile", "--MODE", "SUMMARY", "--IGNORE_WARNINGS", "true", "-I"])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&v.stdout).to_string() + &String::from_utf8_lossy(&v.stderr);
    let ok = v.status.success() && text.contains("No errors found");
    Some(if ok { String::new() } else { text })
}

/// (name, bases, qualities) of every record of a FASTQ file, plain or gzip; the name is the
/// header's first word.
pub fn fastq_records(path: &Path) -> Vec<(String, String, String)> {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(file), &mut text).unwrap();
    } else {
        std::io::Read::read_to_string(&mut std::io::BufReader::new(file), &mut text).unwrap();
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len() % 4, 0, "{}: not whole FASTQ records", path.display());
    let name = |header: &str| header[1..].split([' ', '\t']).next().unwrap_or_default().to_string();
    lines.chunks(4).map(|r| (name(r[0]), r[1].to_string(), r[3].to_string())).collect()
}

/// A FASTQ record with a quality pattern that differs along the read (so clipping and
/// reversal of QUAL are visible).
pub fn fastq_record(name: &str, seq: &[u8]) -> String {
    let qual: String = (0..seq.len()).map(|i| (b'#' + (i * 7 % 40) as u8) as char).collect();
    format!("@{name}\n{}\n+\n{qual}\n", String::from_utf8_lossy(seq))
}

/// Drops the @PG line, whose command line differs between runs by design.
pub fn body(sam: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(sam);
    text.lines().filter(|l| !l.starts_with("@PG")).flat_map(|l| [l, "\n"]).collect::<String>().into_bytes()
}
