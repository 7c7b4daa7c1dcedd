//! The accuracy plot as hand-written SVG: fraction of reads mapped (y) against error rate
//! (x, log scale), one point per MAPQ threshold and one line per file, as in the plots made
//! from `paftools.js mapeval`. A point with no wrong reads has no place on a log axis; it is
//! drawn on the left edge, whose tick reads `0`.

use super::Evaluation;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 8] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/// An SVG document with one curve per `(label, evaluation)`.
pub fn svg<'a>(curves: impl IntoIterator<Item = (&'a str, &'a Evaluation)>) -> String {
    let curves: Vec<(&str, Vec<(f64, f64)>)> = curves
        .into_iter()
        .map(|(label, e)| (label, e.rows().iter().map(|r| (r.error_rate, r.fraction_mapped)).collect()))
        .collect();
    let points = || curves.iter().flat_map(|(_, p)| p.iter().copied());

    // x: whole decades around the non-zero error rates; the decade below holds the zeros.
    let nonzero = || points().map(|p| p.0).filter(|&x| x > 0.0);
    let lo_decade = nonzero().map(|x| x.log10().floor() as i32).min().unwrap_or(-4) - 1;
    let hi_decade = nonzero().map(|x| x.log10().ceil() as i32).max().unwrap_or(-1).max(lo_decade + 2);
    // y: tenths around the fractions mapped.
    let ys = || points().map(|p| p.1);
    let y_lo = (ys().fold(1.0, f64::min) * 10.0).floor() / 10.0;
    let y_hi = ((ys().fold(0.0, f64::max) * 10.0).ceil() / 10.0).max(y_lo + 0.1);

    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x_of = |err: f64| {
        let d = if err > 0.0 { err.log10().max(lo_decade as f64) } else { lo_decade as f64 };
        LEFT + (d - lo_decade as f64) / (hi_decade - lo_decade) as f64 * plot_w
    };
    let y_of = |frac: f64| TOP + (y_hi - frac) / (y_hi - y_lo) * plot_h;

    let mut s = String::new();
    let _ = write!(s, r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}""#);
    let _ = writeln!(s, r#" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#);
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="14">Mapping accuracy by MAPQ threshold</text>"#,
        LEFT + plot_w / 2.0
    );
    // Axes, grid and ticks.
    let (x0, x1, y0, y1) = (LEFT, LEFT + plot_w, TOP + plot_h, TOP);
    for d in lo_decade..=hi_decade {
        let x = x_of(10f64.powi(d));
        let label = if d == lo_decade { "0".to_string() } else { format!("1e{d}") };
        let _ = writeln!(s, r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{y1}" stroke="#ddd"/>"##);
        let _ = writeln!(s, r#"<text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"#, y0 + 18.0);
    }
    let steps = ((y_hi - y_lo) * 10.0).round().max(1.0) as usize;
    let per_step = if steps <= 2 { 5 } else { 1 };
    for i in 0..=steps * per_step {
        let v = y_lo + i as f64 * 0.1 / per_step as f64;
        let y = y_of(v);
        let _ = writeln!(s, r##"<line x1="{x0}" y1="{y:.1}" x2="{x1}" y2="{y:.1}" stroke="#ddd"/>"##);
        let _ = writeln!(s, r#"<text x="{}" y="{:.1}" text-anchor="end">{v:.2}</text>"#, x0 - 6.0, y + 4.0);
    }
    let _ = writeln!(s, r#"<polyline points="{x0},{y1} {x0},{y0} {x1},{y0}" fill="none" stroke="black"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">error rate of mapped reads (log scale)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 16.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle">fraction of reads mapped</text>"#,
        TOP + plot_h / 2.0
    );
    // Curves and legend.
    for (i, (label, pts)) in curves.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let coords: Vec<String> = pts.iter().map(|&(e, f)| format!("{:.1},{:.1}", x_of(e), y_of(f))).collect();
        let _ =
            writeln!(s, r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#, coords.join(" "));
        for c in &coords {
            let (cx, cy) = c.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{color}"/>"#);
        }
        let ly = y0 - 16.0 * (curves.len() - i) as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"/>"#,
            x1 - 200.0,
            x1 - 180.0
        );
        let _ = writeln!(s, r#"<text x="{}" y="{}">{}</text>"#, x1 - 174.0, ly + 4.0, escape(label));
    }
    s.push_str("</svg>\n");
    s
}

/// Text made safe for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::super::records::AlignedRead;
    use super::super::Scorer;
    use super::*;

    #[test]
    fn draws_one_curve_per_file_with_a_legend() {
        let mut s = Scorer::new(5);
        let read = AlignedRead {
            name: b"swmap:0:100+:c",
            contig: Some(b"c"),
            pos: Some(100),
            mapq: Some(60),
            ..Default::default()
        };
        s.add(&read).unwrap();
        s.add(&AlignedRead { name: b"swmap:1:100+:c", pos: Some(900), mapq: Some(3), ..read }).unwrap();
        let e = s.finish(None).unwrap();
        let doc = svg([("a<b>.sam", &e), ("b.bam", &e)]);
        assert!(doc.starts_with("<svg") && doc.ends_with("</svg>\n"));
        assert_eq!(doc.matches("<polyline").count(), 3); // the axes and two curves
        assert!(doc.contains("a&lt;b&gt;.sam") && doc.contains("b.bam"));
        assert!(doc.contains(">1e-1<") && doc.contains(">0<"));
    }
}
