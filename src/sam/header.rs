//! The SAM header (@HD, @SQ, @RG, @PG) and the `-R` read-group argument.

use super::HeaderInfo;
use crate::error::{Error, Result};
use noodles_sam::header::record::value::map::{self, header, program, Map};
use noodles_sam::Header;
use std::num::NonZero;

/// A read group from `-R`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadGroup {
    /// The `ID:` value, written as `RG:Z:<id>` on every record.
    pub id: String,
    /// The header line with real tabs, e.g. `"@RG\tID:x\tSM:y"`.
    pub line: String,
}

/// Parses the `-R` argument the way bwa mem takes it: an `@RG` header line whose fields are
/// separated by the two characters `\t` (real tabs are accepted too; `\\` is a backslash).
pub fn parse_read_group(arg: &str) -> Result<ReadGroup> {
    let line = unescape(arg);
    let example = r"(e.g. -R '@RG\tID:run1\tSM:sample1')";
    if line.contains(['\n', '\r']) {
        return Err(Error::Options(format!("-R: the read group must be a single line, without line breaks {example}")));
    }
    if !line.starts_with("@RG\t") {
        return Err(Error::Options(format!(
            "-R: the read group must start with @RG followed by \\t-separated fields {example}"
        )));
    }
    let id = line
        .split('\t')
        .skip(1)
        .find_map(|field| field.strip_prefix("ID:"))
        .ok_or_else(|| Error::Options(format!("-R: the read group has no ID: field {example}")))?;
    if id.is_empty() {
        return Err(Error::Options(format!("-R: the read group's ID: field is empty {example}")));
    }
    let id = id.to_string();
    // Let noodles judge the rest (tag syntax, duplicate tags) now, not when the output opens.
    read_group_map(&line)?;
    Ok(ReadGroup { id, line })
}

/// Whether read group `id` is also `-R`'s, or named by more than one of `lines`.
fn builder_has_read_group(r: &Option<ReadGroup>, lines: &[String], id: &str) -> bool {
    let named = lines.iter().filter_map(|l| parse_read_group(&unescape(l)).ok()).filter(|rg| rg.id == id).count();
    r.as_ref().is_some_and(|rg| rg.id == id) || named > 1
}

/// `\t` becomes a tab and `\\` a backslash; any other backslash is kept as typed.
fn unescape(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut chars = arg.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The read group line as noodles' map, through noodles' own header-line parser.
fn read_group_map(line: &str) -> Result<Map<map::ReadGroup>> {
    let mut parser = noodles_sam::header::Parser::default();
    parser
        .parse_partial(line.as_bytes())
        .map_err(|e| Error::Options(format!("-R: invalid read group line {line:?}: {}", error_chain(&e))))?;
    let mut header = parser.finish();
    let (_, map) = header.read_groups_mut().pop().expect("parsed @RG line is a read group");
    Ok(map)
}

/// An error and its sources, joined: noodles' top-level messages ("invalid record") say little.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// Marks `header` as samtools sort does: `@HD VN:1.6 SO:coordinate` (no group order).
pub(super) fn mark_coordinate_sorted(header: &mut Header) {
    let hd = Map::<map::Header>::builder()
        .set_version(header::Version::new(1, 6))
        .insert(header::tag::SORT_ORDER, "coordinate")
        .build()
        .expect("@HD has no required fields beyond VN");
    *header.header_mut() = Some(hd);
}

/// Builds the output header; returns it with the read group, whose ID every record carries.
pub(super) fn build_header(info: &HeaderInfo) -> Result<(Header, Option<ReadGroup>)> {
    let hd = Map::<map::Header>::builder()
        .set_version(header::Version::new(1, 6))
        .insert(header::tag::SORT_ORDER, "unsorted")
        .insert(header::tag::GROUP_ORDER, "query")
        .build()
        .expect("@HD has no required fields beyond VN");
    let mut builder = Header::builder().set_header(hd);

    for (name, len) in &info.contigs {
        // BAM stores LN as an i32; SAM allows 1 to 2^31-1.
        let len = Some(*len)
            .filter(|&l| l <= i32::MAX as u64)
            .and_then(|l| NonZero::new(l as usize))
            .ok_or_else(|| Error::Options(format!("contig {name} has length {len}; SAM/BAM allow 1 to 2147483647")))?;
        builder = builder.add_reference_sequence(name.as_str(), Map::<map::ReferenceSequence>::new(len));
    }

    let read_group = match &info.read_group {
        Some(arg) => {
            let rg = parse_read_group(arg)?;
            builder = builder.add_read_group(rg.id.as_str(), read_group_map(&rg.line)?);
            Some(rg)
        }
        None => None,
    };

    for line in &info.header_lines {
        let line = &unescape(line);
        if line.starts_with("@RG\t") {
            let rg = parse_read_group(line).map_err(|e| Error::Options(format!("-H: {e}")))?;
            if builder_has_read_group(&read_group, &info.header_lines, &rg.id) {
                return Err(Error::Options(format!("-H: read group {} is given twice", rg.id)));
            }
            builder = builder.add_read_group(rg.id.as_str(), read_group_map(&rg.line)?);
        } else if let Some(text) = line.strip_prefix("@CO\t") {
            builder = builder.add_comment(text);
        } else {
            return Err(Error::Options(format!(
                "-H: only @RG and @CO lines (tab-separated) can be added to the header, not {line:?}"
            )));
        }
    }

    let mut pg = Map::<map::Program>::builder()
        .insert(program::tag::NAME, "swmap")
        .insert(program::tag::VERSION, crate::VERSION);
    if !info.command_line.is_empty() {
        // A tab or line break would end the field or the header line.
        let cl = info.command_line.replace(['\t', '\n', '\r'], " ");
        pg = pg.insert(program::tag::COMMAND_LINE, cl);
    }
    let pg = pg.build().expect("@PG has no required fields beyond ID");
    builder = builder.add_program("swmap", pg);

    Ok((builder.build(), read_group))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_group_from_bwa_style_argument() {
        let rg = parse_read_group(r"@RG\tID:run1\tSM:sample1").unwrap();
        assert_eq!(rg.id, "run1");
        assert_eq!(rg.line, "@RG\tID:run1\tSM:sample1");
        assert!(parse_read_group(r"@RG\tSM:sample1").is_err());
    }

    fn options_message(arg: &str) -> String {
        match parse_read_group(arg) {
            Err(Error::Options(msg)) => msg,
            other => panic!("{arg:?}: expected an options error, got {other:?}"),
        }
    }

    #[test]
    fn escaped_and_real_tabs_both_work() {
        let escaped = parse_read_group(r"@RG\tID:a\tSM:b\tPL:ILLUMINA").unwrap();
        let real = parse_read_group("@RG\tID:a\tSM:b\tPL:ILLUMINA").unwrap();
        assert_eq!(escaped, real);
        assert_eq!(escaped.id, "a");
        assert_eq!(escaped.line, "@RG\tID:a\tSM:b\tPL:ILLUMINA");
    }

    #[test]
    fn id_need_not_come_first() {
        assert_eq!(parse_read_group(r"@RG\tSM:s\tID:x1").unwrap().id, "x1");
    }

    #[test]
    fn bad_read_groups_say_what_is_wrong() {
        assert!(options_message(r"ID:x\tSM:y").contains("must start with @RG"));
        assert!(options_message(r"@RGX\tID:x").contains("must start with @RG"));
        assert!(options_message(r"@RG\tSM:y").contains("no ID"));
        assert!(options_message(r"@RG\tID:\tSM:y").contains("empty"));
        assert!(options_message("@RG\tID:x\n@CO\thi").contains("single line"));
        assert!(options_message(r"@RG\tID:x\tSM:y\tSM:z").contains("invalid read group line"));
    }

    #[test]
    fn header_has_hd_sq_rg_pg_in_order() {
        let info = HeaderInfo {
            contigs: vec![("chr1".into(), 1000), ("chr2".into(), 50)],
            read_group: Some(r"@RG\tID:g1\tSM:s1".into()),
            command_line: "swmap map\tref.fa r.fq".into(),
            header_lines: Vec::new(),
            reference: None,
        };
        let (header, rg) = build_header(&info).unwrap();
        assert_eq!(rg.unwrap().id, "g1");
        let mut text = Vec::new();
        noodles_sam::io::Writer::new(&mut text).write_header(&header).unwrap();
        let expected = format!(
            "@HD\tVN:1.6\tSO:unsorted\tGO:query\n\
             @SQ\tSN:chr1\tLN:1000\n\
             @SQ\tSN:chr2\tLN:50\n\
             @RG\tID:g1\tSM:s1\n\
             @PG\tID:swmap\tPN:swmap\tVN:{}\tCL:swmap map ref.fa r.fq\n",
            crate::VERSION
        );
        assert_eq!(String::from_utf8(text).unwrap(), expected);
    }

    #[test]
    fn zero_length_contig_is_an_error() {
        let info = HeaderInfo { contigs: vec![("c".into(), 0)], ..HeaderInfo::default() };
        assert!(matches!(build_header(&info), Err(Error::Options(_))));
    }
}
