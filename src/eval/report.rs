//! Printing an [`Evaluation`]: the MAPQ table in the manner of `paftools.js mapeval`, the
//! summary lines, and the table as TSV for several files.

use super::{ratio, Evaluation, ExpectedFrom};
use std::io::{self, Write};

/// The MAPQ table and the summary of one file, for people.
pub fn write_text(out: &mut impl Write, label: &str, eval: &Evaluation) -> io::Result<()> {
    writeln!(out, "# {label}")?;
    writeln!(out, "{:>7} {:>10} {:>8} {:>11} {:>11}", "MAPQ>=", "mapped", "wrong", "error_rate", "frac_mapped")?;
    for row in eval.rows() {
        writeln!(
            out,
            "{:>7} {:>10} {:>8} {:>11.6} {:>11.6}",
            row.min_mapq, row.mapped, row.wrong, row.error_rate, row.fraction_mapped
        )?;
    }
    let pct = |n: u64| 100.0 * ratio(n, eval.reads);
    let source = match eval.expected_from {
        ExpectedFrom::Given => "--expected",
        ExpectedFrom::Names => "inferred from the read names",
    };
    writeln!(out, "{:<16}{:>10}  ({source})", "total reads", eval.reads)?;
    let counts = [
        ("mapped", eval.mapped),
        ("correct", eval.correct),
        ("wrong", eval.wrong()),
        ("unmapped", eval.unmapped),
        ("missing", eval.missing),
        ("correct MAPQ>=20", eval.correct_at(20)),
        ("correct MAPQ>=60", eval.correct_at(60)),
    ];
    for (label, n) in counts {
        writeln!(out, "{label:<16}{n:>10}  {:6.2}%", pct(n))?;
    }
    if eval.random > 0 {
        writeln!(out, "{:<16}{:>10}  (no true origin: wrong when mapped)", "random reads", eval.random)?;
    }
    Ok(())
}

/// The MAPQ tables of all files as one TSV with a header line.
pub fn write_tsv<'a>(
    out: &mut impl Write,
    evals: impl IntoIterator<Item = (&'a str, &'a Evaluation)>,
) -> io::Result<()> {
    writeln!(out, "file\tmin_mapq\tmapped\twrong\terror_rate\tfraction_mapped\treads")?;
    for (label, eval) in evals {
        for r in eval.rows() {
            writeln!(
                out,
                "{label}\t{}\t{}\t{}\t{:.9}\t{:.6}\t{}",
                r.min_mapq, r.mapped, r.wrong, r.error_rate, r.fraction_mapped, eval.reads
            )?;
        }
    }
    Ok(())
}

/// Writes every kept wrong read of each file as TSV: file, name, flag, contig, POS, MAPQ.
pub fn write_wrong<'a>(
    out: &mut impl Write,
    evals: impl IntoIterator<Item = (&'a str, &'a Evaluation)>,
) -> io::Result<()> {
    writeln!(out, "file\tname\tflag\tcontig\tpos\tmapq")?;
    for (label, eval) in evals {
        for w in &eval.wrong_reads {
            writeln!(out, "{label}\t{}\t{}\t{}\t{}\t{}", w.name, w.flags, w.contig, w.pos, w.mapq)?;
        }
    }
    Ok(())
}
