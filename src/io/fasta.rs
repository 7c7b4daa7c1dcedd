//! Reference FASTA reader: multi-contig, plain or gzip/bgzip, any line width.
//!
//! Lower case is upper-cased; IUPAC ambiguity codes become N (see [`crate::dna`]). Anything
//! else in a sequence line is an error naming the file, line and character.

use crate::dna;
use crate::error::{Error, Result};
use crate::io::input;
use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

/// One reference sequence as base codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contig {
    /// The first word of the header line.
    pub name: String,
    /// Base codes 0-4 (see [`crate::dna`]), in FASTA order.
    pub seq: Vec<u8>,
}

/// Reads every contig of a FASTA file (`-` for stdin).
pub fn read_fasta(path: &Path) -> Result<Vec<Contig>> {
    let reader = input::open(path)?;
    parse_fasta(reader, path)
}

/// Parses FASTA from any reader; `path` is only used in error messages.
pub fn parse_fasta(mut reader: impl BufRead, path: &Path) -> Result<Vec<Contig>> {
    let mut contigs: Vec<Contig> = Vec::new();
    let mut names = HashSet::new();
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = crate::io::input::read_line_into(&mut reader, &mut line).map_err(|e| {
            Error::input(path, format!("line {}", line_no + 1), crate::io::input::describe_read_error(&e))
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if line.first() == Some(&b'>') {
            let header = String::from_utf8_lossy(&line[1..]);
            let name = header.split_whitespace().next().unwrap_or("").to_string();
            if name.is_empty() {
                return Err(Error::input(path, format!("line {line_no}"), "FASTA header has no sequence name"));
            }
            check_contig_name(&name).map_err(|e| Error::input(path, format!("line {line_no}"), e))?;
            if !names.insert(name.clone()) {
                return Err(Error::input(path, format!("line {line_no}"), format!("duplicate sequence name '{name}'")));
            }
            finish_contig(contigs.last(), path, line_no)?;
            contigs.push(Contig { name, seq: Vec::new() });
            continue;
        }
        let Some(contig) = contigs.last_mut() else {
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Err(Error::input(
                path,
                format!("line {line_no}"),
                "not a FASTA file: expected a header line starting with '>'",
            ));
        };
        // A line of bases only (nearly every line): one table look-up per byte, vectorized.
        if line.iter().fold(true, |ok, &b| ok & (dna::CODES[b as usize] != dna::INVALID)) {
            contig.seq.extend(line.iter().map(|&b| dna::CODES[b as usize]));
            continue;
        }
        for (col, &b) in line.iter().enumerate() {
            if b == b' ' || b == b'\t' {
                continue;
            }
            match dna::encode(b) {
                Some(code) => contig.seq.push(code),
                None => {
                    return Err(Error::input(
                        path,
                        format!("line {line_no}, column {}", col + 1),
                        format!("invalid character {} in sequence '{}'", show_byte(b), contig.name),
                    ))
                }
            }
        }
    }
    if contigs.is_empty() {
        return Err(Error::input(path, "end of file", "not a FASTA file: no sequence found"));
    }
    finish_contig(contigs.last(), path, line_no)?;
    Ok(contigs)
}

fn finish_contig(contig: Option<&Contig>, path: &Path, line_no: u64) -> Result<()> {
    match contig {
        Some(c) if c.seq.is_empty() => {
            Err(Error::input(path, format!("line {line_no}"), format!("sequence '{}' is empty", c.name)))
        }
        _ => Ok(()),
    }
}

/// Checks a sequence name against SAM's rule for reference names
/// (`[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*`), so that the index never
/// holds a contig the output could not name: no `,` (it separates SA and XA fields), no
/// brackets or quotes, no `*` or `=` first (they mean "none" and "same as RNAME").
pub fn check_contig_name(name: &str) -> Result<(), String> {
    let allowed = |b: u8, first: bool| {
        b.is_ascii_alphanumeric() || b"!#$%&+./:;?@^_|~-".contains(&b) || (!first && (b == b'*' || b == b'='))
    };
    match name.bytes().enumerate().find(|&(i, b)| !allowed(b, i == 0)) {
        Some((i, b)) => Err(format!(
            "sequence name '{name}' has {} {}, which SAM does not allow in a reference name",
            show_byte(b),
            if i == 0 { "first" } else { "in it" }
        )),
        None => Ok(()),
    }
}

/// A byte for an error message: printable as itself, otherwise as hex.
pub fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Contig>> {
        parse_fasta(text.as_bytes(), Path::new("ref.fa"))
    }

    #[test]
    fn multi_contig_multi_line_with_iupac_and_lower_case() {
        let c = parse(">chr1 description\nACgt\nNR\n>chr2\r\nTTTT\r\n").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].name, "chr1");
        assert_eq!(c[0].seq, vec![0, 1, 2, 3, 4, 4]);
        assert_eq!(c[1].seq, vec![3, 3, 3, 3]);
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("ACGT\n").unwrap_err().to_string();
        assert!(e.contains("ref.fa: line 1") && e.contains("not a FASTA"), "{e}");
        let e = parse(">a\nAC1T\n").unwrap_err().to_string();
        assert!(e.contains("line 2, column 3") && e.contains("'1'"), "{e}");
        let e = parse(">a\nAC\n>a\nGG\n").unwrap_err().to_string();
        assert!(e.contains("duplicate"), "{e}");
        let e = parse(">a\n>b\nGG\n").unwrap_err().to_string();
        assert!(e.contains("'a' is empty"), "{e}");
        assert!(parse("").is_err());
    }
}
