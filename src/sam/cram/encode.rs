//! CRAM 3.0 encoding of encoded BAM records: the file definition, the header container, one
//! container (a compression header and one slice) per batch of records, the end-of-file
//! container.
//!
//! The two mates of a pair in one slice are attached (the first names the second; readers
//! take each one's mate fields from the other) when whatever readers derive equals the
//! records: the same contig, each one's mate position and flags, and a template length that
//! htslib's rule (leftmost start to rightmost end), htsjdk's (5' end to 5' end) and noodles'
//! (htslib's, positive for the first of the two) all give.
//! Every other record is detached: its mate's contig, position and template length as they
//! are, the mate's strand and mapped state in the mate-flags series. Every data
//! series goes to an external block of its own, compressed with whichever of gzip, rANS order
//! 0 and rANS order 1 gives the fewest bytes (the qualities, most of a file, with rANS order 1
//! alone). Bases are stored as differences from the reference: substitutions (codes from a
//! fixed substitution matrix), insertions, deletions, skips, clips, and a read base with its
//! quality where the reference or the read has a base outside ACGTN. `RG` is the read-group
//! series, not a tag.

use super::rans;
use crate::sam::raw::{record_len, BamRecord};
use flate2::write::GzEncoder;
use flate2::{Compression, Crc};
use std::collections::HashMap;
use std::io::{self, Write};

/// The reference a CRAM file is encoded against: each contig's bases, upper case, in header
/// order.
pub(crate) struct Reference {
    pub(crate) contigs: Vec<Vec<u8>>,
}

/// Read-group IDs of the header, in order: the read-group series holds their index.
pub(crate) type ReadGroups = HashMap<Vec<u8>, i32>;

/// The data series swmap writes, each with the content ID of its external block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Series {
    BF = 1,
    CF,
    RI,
    RL,
    AP,
    RG,
    RN,
    MF,
    NS,
    NP,
    TS,
    TL,
    FN,
    FC,
    FP,
    DL,
    BA,
    QS,
    BS,
    IN,
    SC,
    HC,
    RS,
    PD,
    MQ,
    NF,
}

use Series::*;

/// How each series' values are laid out in its block.
enum Layout {
    /// ITF8 integers or single bytes (the EXTERNAL codec).
    External,
    /// Byte strings each ended by a NUL (BYTE_ARRAY_STOP).
    Stop,
}

const SERIES: [(Series, &[u8; 2], Layout); 26] = [
    (BF, b"BF", Layout::External),
    (CF, b"CF", Layout::External),
    (RI, b"RI", Layout::External),
    (RL, b"RL", Layout::External),
    (AP, b"AP", Layout::External),
    (RG, b"RG", Layout::External),
    (RN, b"RN", Layout::Stop),
    (MF, b"MF", Layout::External),
    (NS, b"NS", Layout::External),
    (NP, b"NP", Layout::External),
    (TS, b"TS", Layout::External),
    (TL, b"TL", Layout::External),
    (FN, b"FN", Layout::External),
    (FC, b"FC", Layout::External),
    (FP, b"FP", Layout::External),
    (DL, b"DL", Layout::External),
    (BA, b"BA", Layout::External),
    (QS, b"QS", Layout::External),
    (BS, b"BS", Layout::External),
    (IN, b"IN", Layout::Stop),
    (SC, b"SC", Layout::Stop),
    (HC, b"HC", Layout::External),
    (RS, b"RS", Layout::External),
    (PD, b"PD", Layout::External),
    (MQ, b"MQ", Layout::External),
    (NF, b"NF", Layout::External),
];

// Block content types and compression methods of CRAM 3.0.
const FILE_HEADER: u8 = 0;
const COMPRESSION_HEADER: u8 = 1;
const SLICE_HEADER: u8 = 2;
const EXTERNAL: u8 = 4;
const CORE: u8 = 5;
const RAW: u8 = 0;
const GZIP: u8 = 1;
const RANS: u8 = 4;

pub(crate) fn put_itf8(out: &mut Vec<u8>, v: i32) {
    let u = v as u32;
    if u < 0x80 {
        out.push(u as u8);
    } else if u < 0x4000 {
        out.extend_from_slice(&[0x80 | (u >> 8) as u8, u as u8]);
    } else if u < 0x20_0000 {
        out.extend_from_slice(&[0xc0 | (u >> 16) as u8, (u >> 8) as u8, u as u8]);
    } else if u < 0x1000_0000 {
        out.extend_from_slice(&[0xe0 | (u >> 24) as u8, (u >> 16) as u8, (u >> 8) as u8, u as u8]);
    } else {
        out.extend_from_slice(&[
            0xf0 | (u >> 28) as u8,
            (u >> 20) as u8,
            (u >> 12) as u8,
            (u >> 4) as u8,
            (u & 0xf) as u8,
        ]);
    }
}

pub(crate) fn put_ltf8(out: &mut Vec<u8>, v: u64) {
    // Values here are counts of records and bases: below 2^56, so at most 8 bytes.
    let bytes = v.to_be_bytes();
    let n = (1..=8).find(|&n| n == 8 || v < 1u64 << (7 * n)).expect("a length");
    let marker = if n == 1 { 0 } else { 0xffu8 << (9 - n) };
    let mut first = bytes[8 - n];
    if n < 8 {
        first |= marker;
    } else {
        out.push(0xfe);
        out.extend_from_slice(&bytes[1..]);
        return;
    }
    out.push(first);
    out.extend_from_slice(&bytes[9 - n..]);
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// One block: method, content type and ID, sizes, the data and its CRC32.
fn block(method: u8, content_type: u8, content_id: i32, raw_len: usize, data: &[u8]) -> Vec<u8> {
    let mut out = vec![method, content_type];
    put_itf8(&mut out, content_id);
    put_itf8(&mut out, data.len() as i32);
    put_itf8(&mut out, raw_len as i32);
    out.extend_from_slice(data);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 2), Compression::new(6));
    encoder.write_all(data).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// An external block of `data`, compressed as the fewest bytes (qualities: rANS order 1).
fn external_block(content_id: i32, data: &[u8], qualities: bool) -> Vec<u8> {
    let (method, bytes) = if data.len() < 16 {
        (RAW, data.to_vec())
    } else if qualities && data.len() >= 1024 {
        (RANS, rans::encode(1, data))
    } else {
        [(GZIP, gzip(data)), (RANS, rans::encode(0, data)), (RANS, rans::encode(1, data))]
            .into_iter()
            .chain(std::iter::once((RAW, data.to_vec())))
            .min_by_key(|(_, b)| b.len())
            .expect("candidates")
    };
    block(method, EXTERNAL, content_id, data.len(), &bytes)
}

/// Where a container's or slice's records lie: one contig (index, first position, span), no
/// contig (unplaced reads) or several.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Context {
    One { id: i32, start: i64, span: i64 },
    Unplaced,
    Many,
}

impl Context {
    fn put(self, out: &mut Vec<u8>) {
        let (id, start, span) = match self {
            Context::One { id, start, span } => (id, start as i32, span as i32),
            Context::Unplaced => (-1, 0, 0),
            Context::Many => (-2, 0, 0),
        };
        put_itf8(out, id);
        put_itf8(out, start);
        put_itf8(out, span);
    }
}

/// A container header over `blocks_len` bytes of blocks.
fn container_header(
    blocks_len: usize,
    context: Context,
    records: usize,
    counter: u64,
    bases: u64,
    blocks: usize,
    landmarks: &[usize],
) -> Vec<u8> {
    let mut out = (blocks_len as i32).to_le_bytes().to_vec();
    context.put(&mut out);
    put_itf8(&mut out, records as i32);
    put_ltf8(&mut out, counter);
    put_ltf8(&mut out, bases);
    put_itf8(&mut out, blocks as i32);
    put_itf8(&mut out, landmarks.len() as i32);
    for &l in landmarks {
        put_itf8(&mut out, l as i32);
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The file definition: magic, version 3.0 and a 20-byte file ID (zeros).
pub(crate) fn file_definition() -> Vec<u8> {
    let mut out = b"CRAM\x03\x00".to_vec();
    out.extend_from_slice(&[0; 20]);
    out
}

/// The header container: the SAM header text in one gzip block.
pub(crate) fn header_container(text: &[u8]) -> Vec<u8> {
    let mut raw = (text.len() as i32).to_le_bytes().to_vec();
    raw.extend_from_slice(text);
    let data = block(GZIP, FILE_HEADER, 0, raw.len(), &gzip(&raw));
    let mut out = container_header(data.len(), Context::One { id: 0, start: 0, span: 0 }, 0, 0, 0, 1, &[]);
    out.extend_from_slice(&data);
    out
}

/// The end-of-file container of CRAM 3.0: no records, an empty compression header.
pub(crate) fn eof_container() -> Vec<u8> {
    let data = block(RAW, COMPRESSION_HEADER, 0, 6, &[1, 0, 1, 0, 1, 0]);
    // The start 4542278 spells "EOF" in its three bytes, as the format asks.
    let mut out = container_header(data.len(), Context::One { id: -1, start: 4_542_278, span: 0 }, 0, 0, 0, 1, &[]);
    out.extend_from_slice(&data);
    out
}

/// The substitution code of `read` for reference base `reference` (both in ACGTN, not equal):
/// its rank among the other four, the order the substitution matrix below gives.
fn substitution_code(reference: u8, read: u8) -> u8 {
    let rank = |b: u8| b"ACGTN".iter().position(|&x| x == b).expect("a base in ACGTN") as u8;
    let (r, q) = (rank(reference), rank(read));
    if q > r {
        q - 1
    } else {
        q
    }
}
/// The matrix: for each reference base, the other bases in ACGTN order get codes 0-3.
const SUBSTITUTION_MATRIX: [u8; 5] = [0x1b; 5];

/// The values of each data series and tag of a slice, as its blocks will hold them.
struct Blocks {
    series: Vec<Vec<u8>>,
    /// Per tag key (tag and type as the tag's content ID), its values.
    tags: Vec<(i32, Vec<u8>)>,
}

impl Blocks {
    fn int(&mut self, s: Series, v: i32) {
        put_itf8(&mut self.series[s as usize], v);
    }
    fn byte(&mut self, s: Series, b: u8) {
        self.series[s as usize].push(b);
    }
    fn bytes(&mut self, s: Series, b: &[u8]) {
        self.series[s as usize].extend_from_slice(b);
    }
    fn stop(&mut self, s: Series, b: &[u8]) {
        let out = &mut self.series[s as usize];
        out.extend_from_slice(b);
        out.push(0);
    }
    fn tag(&mut self, key: i32, value: &[u8]) {
        let at = match self.tags.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.tags.push((key, Vec::new()));
                self.tags.len() - 1
            }
        };
        let out = &mut self.tags[at].1;
        put_itf8(out, value.len() as i32);
        out.extend_from_slice(value);
    }
}

/// A tag's key in the tag dictionary and its content ID: its two letters and BAM type.
fn tag_key(field: &[u8]) -> i32 {
    (field[0] as i32) << 16 | (field[1] as i32) << 8 | field[2] as i32
}

const SEQ_CODES: &[u8; 16] = b"=ACMGRSVTWYHKDBN";

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Encodes `records` (BAM, back to back) as one container holding one slice; `counter` is the
/// index of its first record in the file.
pub(crate) fn container(
    records: &[u8],
    counter: u64,
    reference: &Reference,
    groups: &ReadGroups,
) -> io::Result<Vec<u8>> {
    let mut list = Vec::new();
    let mut rest = records;
    while let Some(len) = record_len(rest) {
        list.push(BamRecord(&rest[..len]));
        rest = &rest[len..];
    }
    if !rest.is_empty() || list.is_empty() {
        return Err(invalid("CRAM: a record was cut short".into()));
    }
    // Records of one contig in order are a slice of that contig (positions as deltas, the
    // span's MD5 checked by readers); unsorted ones are stored as of several contigs, so that
    // no container digests most of a contig.
    let sorted = list.windows(2).all(|w| w[0].pos() <= w[1].pos());
    let context = match context_of(&list, reference)? {
        Context::One { .. } if !sorted => Context::Many,
        context => context,
    };
    let deltas = matches!(context, Context::One { .. });

    // Tag lines: each record's tags (but RG, which is a series) as a line of the dictionary.
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line_of: HashMap<Vec<u8>, i32> = HashMap::new();

    let links = mate_links(&list);
    let mut blocks = Blocks { series: vec![Vec::new(); SERIES.len() + 1], tags: Vec::new() };
    let mut previous_start = match context {
        Context::One { start, .. } => start,
        _ => 0,
    };
    let mut bases = 0u64;
    let mut seq = Vec::new();
    let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
    for (i, r) in list.iter().enumerate() {
        let what = |m: &str| {
            invalid(format!("CRAM: record {} ({}): {m}", counter + i as u64 + 1, String::from_utf8_lossy(r.name())))
        };
        let flags = r.flags();
        let mapped = flags & 0x4 == 0;
        let l_seq = r.l_seq();
        seq.clear();
        let packed = r.seq_packed();
        seq.extend((0..l_seq).map(|k| SEQ_CODES[(packed[k / 2] >> (4 * (1 - k % 2)) & 0xf) as usize]));
        let qual = r.qual();
        let has_qual = l_seq > 0 && qual[0] != 0xff;
        let query_len: usize =
            r.cigar().filter(|&(_, op)| matches!(op, 0 | 1 | 4 | 7 | 8)).map(|(l, _)| l as usize).sum();
        let read_len = if l_seq > 0 {
            l_seq
        } else if mapped {
            query_len
        } else {
            0
        };
        if l_seq > 0 && mapped && r.n_cigar() > 0 && query_len != l_seq {
            return Err(what("CIGAR and sequence lengths differ"));
        }
        bases += read_len as u64;
        let mate = match links[i] {
            Link::Detached => 0x2,
            Link::Downstream(_) => 0x4,
            Link::Upstream => 0,
        };
        let cram_flags = (has_qual as i32) | mate | if l_seq == 0 { 0x8 } else { 0 };
        blocks.int(BF, flags as i32);
        blocks.int(CF, cram_flags);
        if context == Context::Many {
            blocks.int(RI, r.ref_id());
        }
        blocks.int(RL, read_len as i32);
        let start = if r.ref_id() >= 0 { r.pos() + 1 } else { 0 };
        blocks.int(AP, if deltas { (start - previous_start) as i32 } else { start as i32 });
        previous_start = start;

        fields.clear();
        let mut group = -1;
        for field in r.aux_fields() {
            let field = field.ok_or_else(|| what("a malformed tag"))?;
            if &field.0[..3] == b"RGZ" {
                if let Some(&g) = groups.get(&field.1[..field.1.len() - 1]) {
                    group = g;
                    continue;
                }
            }
            fields.push(field);
        }
        blocks.int(RG, group);
        blocks.stop(RN, r.name());
        match links[i] {
            Link::Detached => {
                // The mate's fields as they are.
                let mate_flags = (flags & 0x20 != 0) as i32 | if flags & 0x8 != 0 { 2 } else { 0 };
                blocks.int(MF, mate_flags);
                blocks.int(NS, r.mate_ref_id());
                blocks.int(NP, if r.mate_ref_id() >= 0 { (r.mate_pos() + 1) as i32 } else { 0 });
                blocks.int(TS, r.tlen());
            }
            Link::Downstream(j) => blocks.int(NF, (j - i - 1) as i32),
            Link::Upstream => {}
        }
        let line: Vec<u8> = fields.iter().flat_map(|(head, _)| head[..3].iter().copied()).collect();
        let next = line_of.len() as i32;
        let id = *line_of.entry(line.clone()).or_insert_with(|| {
            lines.push(line);
            next
        });
        blocks.int(TL, id);
        for (head, value) in &fields {
            blocks.tag(tag_key(head), value);
        }

        if mapped {
            let contig =
                reference.contigs.get(r.ref_id() as usize).ok_or_else(|| what("a mapped record without a contig"))?;
            features(&mut blocks, r, &seq, if has_qual { qual } else { &[] }, contig).map_err(|m| what(&m))?;
            blocks.int(MQ, r.mapq() as i32);
            if has_qual {
                blocks.bytes(QS, qual);
            }
        } else {
            blocks.bytes(BA, &seq);
            if has_qual {
                blocks.bytes(QS, qual);
            }
        }
    }

    let compression_header = compression_header(&lines, deltas, &blocks.tags);

    // The slice: its header, an empty core block, the external blocks.
    let mut data_blocks = vec![block(RAW, CORE, 0, 0, &[])];
    let mut ids = vec![0];
    for (series, _, _) in &SERIES {
        let id = *series as i32;
        data_blocks.push(external_block(id, &blocks.series[id as usize], *series == QS));
        ids.push(id);
    }
    for (key, values) in &blocks.tags {
        data_blocks.push(external_block(*key, values, false));
        ids.push(*key);
    }
    let md5 = match context {
        Context::One { id, start, span } => {
            let contig = &reference.contigs[id as usize];
            md5(&contig[(start - 1) as usize..(start - 1 + span) as usize])
        }
        _ => [0; 16],
    };
    let mut slice = Vec::new();
    context.put(&mut slice);
    put_itf8(&mut slice, list.len() as i32);
    put_ltf8(&mut slice, counter);
    put_itf8(&mut slice, ids.len() as i32);
    put_itf8(&mut slice, ids.len() as i32);
    for &id in &ids {
        put_itf8(&mut slice, id);
    }
    put_itf8(&mut slice, -1);
    slice.extend_from_slice(&md5);
    let slice_header = block(RAW, SLICE_HEADER, 0, slice.len(), &slice);

    let blocks_len = compression_header.len() + slice_header.len() + data_blocks.iter().map(Vec::len).sum::<usize>();
    let mut out = container_header(
        blocks_len,
        context,
        list.len(),
        counter,
        bases,
        2 + data_blocks.len(),
        &[compression_header.len()],
    );
    out.reserve(blocks_len);
    out.extend_from_slice(&compression_header);
    out.extend_from_slice(&slice_header);
    for b in &data_blocks {
        out.extend_from_slice(b);
    }
    Ok(out)
}

/// The compression header block: the preservation map (names kept, positions as deltas or
/// not, the reference required, the substitution matrix, the tag dictionary of `lines`), every
/// series' encoding (its own external block) and each tag's (length and bytes in the tag's
/// own block).
fn compression_header(lines: &[Vec<u8>], deltas: bool, tag_values: &[(i32, Vec<u8>)]) -> Vec<u8> {
    let mut dictionary = Vec::new();
    for line in lines {
        dictionary.extend_from_slice(line);
        dictionary.push(0);
    }
    let mut map = Vec::new();
    put_itf8(&mut map, 5);
    map.extend_from_slice(b"RN\x01AP");
    map.push(deltas as u8);
    map.extend_from_slice(b"RR\x01SM");
    map.extend_from_slice(&SUBSTITUTION_MATRIX);
    map.extend_from_slice(b"TD");
    put_itf8(&mut map, dictionary.len() as i32);
    map.extend_from_slice(&dictionary);
    let mut header = Vec::new();
    put_itf8(&mut header, map.len() as i32);
    header.extend_from_slice(&map);

    let mut encodings = Vec::new();
    put_itf8(&mut encodings, SERIES.len() as i32);
    for (series, key, layout) in &SERIES {
        encodings.extend_from_slice(*key);
        let mut params = Vec::new();
        match layout {
            Layout::External => {
                put_itf8(&mut params, *series as i32);
                put_itf8(&mut encodings, 1);
            }
            Layout::Stop => {
                params.push(0);
                put_itf8(&mut params, *series as i32);
                put_itf8(&mut encodings, 5);
            }
        }
        put_itf8(&mut encodings, params.len() as i32);
        encodings.extend_from_slice(&params);
    }
    put_itf8(&mut header, encodings.len() as i32);
    header.extend_from_slice(&encodings);

    let mut tags = Vec::new();
    put_itf8(&mut tags, tag_values.len() as i32);
    for (key, _) in tag_values {
        put_itf8(&mut tags, *key);
        // BYTE_ARRAY_LEN: the length and the bytes, both in the tag's own block.
        let mut external = Vec::new();
        put_itf8(&mut external, 1);
        let mut id = Vec::new();
        put_itf8(&mut id, *key);
        put_itf8(&mut external, id.len() as i32);
        external.extend_from_slice(&id);
        put_itf8(&mut tags, 4);
        put_itf8(&mut tags, 2 * external.len() as i32);
        tags.extend_from_slice(&external);
        tags.extend_from_slice(&external);
    }
    put_itf8(&mut header, tags.len() as i32);
    header.extend_from_slice(&tags);
    block(RAW, COMPRESSION_HEADER, 0, header.len(), &header)
}

/// How a record of a slice finds its mate.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    /// Its mate fields are stored.
    Detached,
    /// Its mate is the record at this index, further on.
    Downstream(usize),
    /// It is the mate a record before it points to.
    Upstream,
}

/// The pairs of `records` that can be attached (see the module documentation).
fn mate_links(records: &[BamRecord]) -> Vec<Link> {
    let mut links = vec![Link::Detached; records.len()];
    // Primary records of pairs, by name: attached only when a name has exactly two.
    let mut by_name: HashMap<&[u8], (usize, Option<usize>, bool)> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if r.flags() & 0x1 == 0 || r.flags() & 0x900 != 0 {
            continue;
        }
        by_name
            .entry(r.name())
            .and_modify(|e| match e.1 {
                None => e.1 = Some(i),
                Some(_) => e.2 = true,
            })
            .or_insert((i, None, false));
    }
    for (i, j, many) in by_name.into_values() {
        if let (Some(j), false) = (j, many) {
            if attachable(&records[i], &records[j]) {
                links[i] = Link::Downstream(j);
                links[j] = Link::Upstream;
            }
        }
    }
    links
}

/// Whether readers derive exactly the mate fields `a` and `b` (`a` first) hold.
fn attachable(a: &BamRecord, b: &BamRecord) -> bool {
    let (fa, fb) = (a.flags(), b.flags());
    let mapped = fa & 0x4 == 0 && fb & 0x4 == 0;
    let first_and_last = (fa & 0xc0 == 0x40 && fb & 0xc0 == 0x80) || (fa & 0xc0 == 0x80 && fb & 0xc0 == 0x40);
    let mates = a.ref_id() == b.ref_id()
        && a.mate_ref_id() == b.ref_id()
        && b.mate_ref_id() == a.ref_id()
        && a.mate_pos() == b.pos()
        && b.mate_pos() == a.pos()
        && (fa & 0x20 != 0) == (fb & 0x10 != 0)
        && (fb & 0x20 != 0) == (fa & 0x10 != 0)
        && fa & 0x8 == 0
        && fb & 0x8 == 0;
    if !(mapped && first_and_last && mates) {
        return false;
    }
    // htslib: rightmost end minus leftmost start, positive for the leftmost record (for the
    // first segment when both start together).
    let (start_a, start_b) = (a.pos() + 1, b.pos() + 1);
    let (end_a, end_b) = (a.pos() + a.ref_len(), b.pos() + b.ref_len());
    let span = end_a.max(end_b) - start_a.min(start_b) + 1;
    let leftmost = |start: i64, other: i64, flags: u16| start < other || (start == other && flags & 0x40 != 0);
    let htslib_a = if leftmost(start_a, start_b, fa) { span } else { -span };
    let htslib_b = if leftmost(start_b, start_a, fb) { span } else { -span };
    // htsjdk: from this record's 5' end to its mate's, counting both ends.
    let five = |start: i64, end: i64, flags: u16| if flags & 0x10 != 0 { end } else { start };
    let (five_a, five_b) = (five(start_a, end_a, fa), five(start_b, end_b, fb));
    let htsjdk = |from: i64, to: i64| to - from + if to >= from { 1 } else { -1 };
    let (tlen_a, tlen_b) = (a.tlen() as i64, b.tlen() as i64);
    // noodles: htslib's length, positive for the first record of the two.
    tlen_a > 0
        && tlen_a == htslib_a
        && tlen_b == htslib_b
        && tlen_a == htsjdk(five_a, five_b)
        && tlen_b == htsjdk(five_b, five_a)
}

/// The contig and span of `records`: one contig when all are placed on it.
fn context_of(records: &[BamRecord], reference: &Reference) -> io::Result<Context> {
    let id = records[0].ref_id();
    if records.iter().any(|r| r.ref_id() != id) {
        return Ok(Context::Many);
    }
    if id < 0 {
        return Ok(Context::Unplaced);
    }
    let len = reference
        .contigs
        .get(id as usize)
        .map(|c| c.len() as i64)
        .ok_or_else(|| invalid(format!("CRAM: contig {id} is not in the reference")))?;
    let start = records.iter().map(|r| r.pos() + 1).min().expect("records");
    let end = records.iter().map(|r| r.pos() + r.ref_len().max(1)).max().expect("records").min(len);
    if start < 1 || start > len {
        return Err(invalid(format!("CRAM: a record starts at {start}, outside contig {id} ({len} bases)")));
    }
    Ok(Context::One { id, start, span: end - start + 1 })
}

/// The read features of a mapped record: how its bases and CIGAR differ from the reference.
fn features(blocks: &mut Blocks, r: &BamRecord, seq: &[u8], qual: &[u8], contig: &[u8]) -> Result<(), String> {
    let mut count = 0;
    let mut previous = 0usize;
    let mut feature = |blocks: &mut Blocks, code: u8, at: usize| {
        blocks.byte(FC, code);
        blocks.int(FP, (at - previous) as i32);
        previous = at;
        count += 1;
    };
    let has_seq = !seq.is_empty();
    // A record without SEQ keeps its CIGAR: clipped and inserted bases are stored as N.
    let bases = |from: usize, len: usize| if has_seq { seq[from..from + len].to_vec() } else { vec![b'N'; len] };
    let mut rpos = r.pos() as usize;
    let mut qpos = 0usize;
    for (len, op) in r.cigar() {
        let len = len as usize;
        match op {
            0 | 7 | 8 => {
                if rpos + len > contig.len() {
                    return Err(format!("the alignment runs past its contig's end ({} bases)", contig.len()));
                }
                if has_seq {
                    for k in 0..len {
                        let (reference, read) = (contig[rpos + k], seq[qpos + k]);
                        if reference == read || read == b'=' {
                            continue;
                        }
                        if b"ACGTN".contains(&reference) && b"ACGTN".contains(&read) {
                            feature(blocks, b'X', qpos + k + 1);
                            blocks.byte(BS, substitution_code(reference, read));
                        } else {
                            feature(blocks, b'B', qpos + k + 1);
                            blocks.byte(BA, read);
                            blocks.byte(QS, qual.get(qpos + k).copied().unwrap_or(0xff));
                        }
                    }
                }
                rpos += len;
                qpos += len;
            }
            1 => {
                feature(blocks, b'I', qpos + 1);
                blocks.stop(IN, &bases(qpos, len));
                qpos += len;
            }
            4 => {
                feature(blocks, b'S', qpos + 1);
                blocks.stop(SC, &bases(qpos, len));
                qpos += len;
            }
            2 => {
                feature(blocks, b'D', qpos + 1);
                blocks.int(DL, len as i32);
                rpos += len;
            }
            3 => {
                feature(blocks, b'N', qpos + 1);
                blocks.int(RS, len as i32);
                rpos += len;
            }
            5 => {
                feature(blocks, b'H', qpos + 1);
                blocks.int(HC, len as i32);
            }
            6 => {
                feature(blocks, b'P', qpos + 1);
                blocks.int(PD, len as i32);
            }
            _ => return Err(format!("CIGAR operation {op} is not one of SAM's")),
        }
    }
    // FN comes before the features in a record: the features were written to their series in
    // order, and the count is the only value that has to precede them in its own series.
    blocks.int(FN, count);
    Ok(())
}

/// MD5 of `bytes`.
pub(crate) fn md5(bytes: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sam::raw::test_record;

    #[test]
    fn integers_take_the_format_s_lengths() {
        let itf8 = |v: i32| {
            let mut out = Vec::new();
            put_itf8(&mut out, v);
            out
        };
        assert_eq!(itf8(0), [0x00]);
        assert_eq!(itf8(127), [0x7f]);
        assert_eq!(itf8(1877), [0x87, 0x55]);
        assert_eq!(itf8(0x3fff), [0xbf, 0xff]);
        assert_eq!(itf8(0x4000), [0xc0, 0x40, 0x00]);
        assert_eq!(itf8(0x0fff_ffff), [0xef, 0xff, 0xff, 0xff]);
        assert_eq!(itf8(-1), [0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert_eq!(itf8(i32::MAX), [0xf7, 0xff, 0xff, 0xff, 0x0f]);
        let ltf8 = |v: u64| {
            let mut out = Vec::new();
            put_ltf8(&mut out, v);
            out
        };
        assert_eq!(ltf8(0), [0x00]);
        assert_eq!(ltf8(0x80), [0x80, 0x80]);
        assert_eq!(ltf8(0x3fff), [0xbf, 0xff]);
        assert_eq!(ltf8(0x4000), [0xc0, 0x40, 0x00]);
        assert_eq!(ltf8(1 << 34), [0xf4, 0x00, 0x00, 0x00, 0x00]);
        assert_eq!(ltf8((1 << 56) - 1), [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(ltf8(1 << 49), [0xfe, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn end_of_file_container_is_the_format_s() {
        // As noodles' writer ends a file.
        let mut writer = noodles_cram::io::Writer::new(Vec::new());
        writer.try_finish(&noodles_sam::Header::default()).unwrap();
        let theirs = writer.into_inner();
        assert_eq!(eof_container(), theirs[theirs.len() - 38..]);
    }

    #[test]
    fn substitution_codes_follow_the_matrix() {
        assert_eq!(substitution_code(b'A', b'C'), 0);
        assert_eq!(substitution_code(b'A', b'N'), 3);
        assert_eq!(substitution_code(b'G', b'A'), 0);
        assert_eq!(substitution_code(b'G', b'T'), 2);
        assert_eq!(substitution_code(b'N', b'T'), 3);
    }

    fn with_tlen(mut record: Vec<u8>, tlen: i32) -> Vec<u8> {
        record[32..36].copy_from_slice(&tlen.to_le_bytes());
        record
    }

    /// A pair on contig 0: mate 1 forward at `a` (0-based) with `len_a` matches, mate 2
    /// reverse at `b` with `len_b`, template lengths as given.
    fn pair(a: i64, len_a: u32, b: i64, len_b: u32, tlens: (i32, i32)) -> [Vec<u8>; 2] {
        [
            with_tlen(test_record("p", 0x1 | 0x2 | 0x20 | 0x40, (0, a), &[(len_a, 0)], (0, b), &[30; 0], &[]), tlens.0),
            with_tlen(test_record("p", 0x1 | 0x2 | 0x10 | 0x80, (0, b), &[(len_b, 0)], (0, a), &[30; 0], &[]), tlens.1),
        ]
    }

    fn links(records: &[Vec<u8>]) -> Vec<Link> {
        mate_links(&records.iter().map(|r| BamRecord(r)).collect::<Vec<_>>())
    }

    #[test]
    fn mates_are_attached_only_when_every_reader_derives_their_fields() {
        use Link::*;
        let attached = vec![Downstream(1), Upstream];
        let detached = vec![Detached; 2];
        // An FR pair, 100-249 and 300-449: template 350 by either rule.
        assert_eq!(links(&pair(100, 150, 300, 150, (350, -350))), attached);
        assert_eq!(links(&pair(100, 150, 300, 150, (349, -349))), detached);
        assert_eq!(links(&pair(100, 150, 300, 150, (350, -351))), detached);
        // Another record between the mates: the first names the mate two records on.
        let [a, b] = pair(100, 150, 300, 150, (350, -350));
        let other = test_record("q", 0, (0, 200), &[(150, 0)], (-1, -1), &[], &[]);
        assert_eq!(links(&[a.clone(), other.clone(), b.clone()]), vec![Downstream(2), Detached, Upstream]);
        // The mate's position or strand as the other says it, or not.
        let mut moved = b.clone();
        moved[8..12].copy_from_slice(&301i32.to_le_bytes());
        assert_eq!(links(&[a.clone(), moved]), detached);
        let mut strand = a.clone();
        strand[18] &= !0x20;
        assert_eq!(links(&[strand, b.clone()]), detached);
        // A secondary record, or a third record of the name, is never attached.
        let mut secondary = b.clone();
        secondary[19] |= 0x1;
        assert_eq!(links(&[a.clone(), secondary]), detached);
        assert_eq!(links(&[a.clone(), b.clone(), b.clone()]), vec![Detached; 3]);
        // Mate 2 reverse, starting before mate 1 and ending inside it: htslib gives 160 (91 to
        // 250), htsjdk 90 (101 to 190), so it stays detached whatever is stored.
        assert_eq!(links(&pair(100, 150, 90, 100, (-160, 160))), detached);
        assert_eq!(links(&pair(100, 150, 90, 100, (90, -90))), detached);
        // The first record of the two on the right: noodles would make its length positive.
        let [a, b] = pair(100, 150, 300, 150, (350, -350));
        assert_eq!(links(&[b, a]), detached);
    }
}
