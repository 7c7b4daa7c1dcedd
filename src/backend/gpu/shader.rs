//! The kernel's WGSL as the device gets it: `shaders/align.wgsl` with its DP strip width set
//! and every loop marked `// unroll` written out once per value of its variable.
//!
//! Written out, a strip's cells index its arrays (`t`, `h_up`, `f_up`, the traceback words)
//! with constants, so the driver keeps them in registers without having to unroll anything
//! itself: lavapipe unrolls loops of 8 but not of 16 (4x slower, and its limit on loop
//! iterations then cuts tasks short), and whether NVIDIA's compiler unrolls a loop is its own
//! choice. The file itself stays valid WGSL with the loops in place (8 columns), which
//! `tests/it/shaders.rs` validates; this module's tests validate every width's expansion and
//! count its instructions per cell.

/// The shader file, as written.
pub const SOURCE: &str = include_str!("../../../shaders/align.wgsl");

/// DP strip widths the kernel takes: whole traceback words ([`super::layout::WORD_CELLS`]), and
/// a row's state (three arrays of the width) small enough for registers.
pub const STRIPS: [u32; 3] = [8, 16, 32];

/// The strip width unless `SWMAP_GPU_STRIP` says otherwise: the one measured on lavapipe; which
/// is fastest on a real GPU is for `scripts/gpubench.sh` to measure.
pub const DEFAULT_STRIP: u32 = 8;

const STRIP_LINE: &str = "const STRIP: u32 = 8u;";
const MARK: &str = "// unroll";

/// The kernel's source for DP strips of `strip` columns (one of [`STRIPS`]). An error says
/// what in the shader file does not follow the form the expansion reads (a bug of this
/// crate's, caught by its tests).
pub fn source(strip: u32) -> Result<String, String> {
    if !STRIPS.contains(&strip) {
        return Err(format!("a strip of {strip} columns: the kernel takes {STRIPS:?}"));
    }
    if SOURCE.matches(STRIP_LINE).count() != 1 {
        return Err(format!("shaders/align.wgsl should have `{STRIP_LINE}` once"));
    }
    let text = SOURCE.replacen(STRIP_LINE, &format!("const STRIP: u32 = {strip}u;"), 1);
    let bound = |name: &str| match name {
        "STRIP" => Some(strip),
        "WORDS" => Some(strip / super::layout::WORD_CELLS),
        _ => None,
    };
    let mut out = String::with_capacity(text.len() * 4);
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        if line.trim() != MARK {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let (at, header) = lines.next().ok_or("shaders/align.wgsl ends after `// unroll`")?;
        let (var, from, to) = parse_for(header.trim(), bound)
            .ok_or_else(|| format!("shaders/align.wgsl:{}: `// unroll` before `{}`", at + 1, header.trim()))?;
        let indent = &header[..header.len() - header.trim_start().len()];
        let close = format!("{indent}}}");
        let mut body = Vec::new();
        loop {
            let (at, line) = lines.next().ok_or("shaders/align.wgsl ends inside an unrolled loop")?;
            if line == close {
                break;
            }
            if line.trim() == MARK {
                return Err(format!("shaders/align.wgsl:{}: unrolled loops do not nest", at + 1));
            }
            body.push(line);
        }
        for value in from..to {
            out.push_str(&format!("{indent}{{\n{indent}    const {var} = {value}u;\n"));
            for line in &body {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(&close);
            out.push('\n');
        }
    }
    Ok(out)
}

/// `for (var X = A; X < B; X++) {` with A a literal and B a constant `bound` knows: X, A and
/// B's value.
fn parse_for(header: &str, bound: impl Fn(&str) -> Option<u32>) -> Option<(&str, u32, u32)> {
    let rest = header.strip_prefix("for (var ")?.strip_suffix("++) {")?;
    let mut parts = rest.split("; ");
    let (init, test, var) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let from = init.strip_prefix(var)?.strip_prefix(" = ")?.strip_suffix('u')?.parse().ok()?;
    let to = bound(test.strip_prefix(var)?.strip_prefix(" < ")?)?;
    Some((var, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validate(source: &str) {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    }

    #[test]
    fn every_strip_width_expands_to_valid_wgsl_without_marked_loops() {
        let marked = SOURCE.lines().filter(|l| l.trim() == MARK).count();
        assert!(marked >= 5, "the strip's loops are marked ({marked})");
        for strip in STRIPS {
            let text = source(strip).unwrap();
            validate(&text);
            assert!(!text.lines().any(|l| l.trim() == MARK));
            assert!(text.contains(&format!("const STRIP: u32 = {strip}u;")));
            // The cell loop's body, once per column.
            let cells = text.matches("let dstart = d <= start;").count();
            assert_eq!(cells, strip as usize, "strip {strip}");
            assert!(!text.contains("for (var c = 0u; c < STRIP; c++)"));
        }
        assert!(source(12).unwrap_err().contains("[8, 16, 32]"));
    }

    /// SPIR-V opcodes the instruction count sorts by.
    mod op {
        pub const ENTRY_POINT: u32 = 15;
        pub const FUNCTION: u32 = 54;
        pub const FUNCTION_END: u32 = 56;
        pub const LOOP_MERGE: u32 = 246;
        pub const LABEL: u32 = 248;
        /// Variable loads and stores, pointer arithmetic, and structured control flow: what a
        /// driver's optimiser turns into registers and predication or removes.
        pub const BOOKKEEPING: [u32; 8] = [61, 62, 65, 245, 247, 248, 249, 250];
    }

    /// The row loop of the kernel for `strip` in SPIR-V (naga, the compiler wgpu uses, as the
    /// Vulkan backend gets it, before the driver's optimiser): all its instructions, and those
    /// that compute (arithmetic, comparisons, selects, conversions).
    fn row_loop_instructions(strip: u32) -> (usize, usize) {
        let source = source(strip).unwrap();
        let module = naga::front::wgsl::parse_str(&source).unwrap();
        let info =
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
                .validate(&module)
                .unwrap();
        // As wgpu builds the pipeline: loop bounding off (context.rs).
        let options = naga::back::spv::Options { force_loop_bounding: false, ..Default::default() };
        let words = naga::back::spv::write_vec(&module, &info, &options, None).unwrap();
        let mut insts = Vec::new();
        let mut at = 5; // after the header
        while at < words.len() {
            let count = (words[at] >> 16) as usize;
            insts.push(&words[at..at + count]);
            at += count;
        }
        let entry = insts.iter().find(|i| i[0] & 0xffff == op::ENTRY_POINT).expect("an entry point")[2];
        // In the entry function, the first loop two deep (strips, rows) and what it holds.
        let mut in_entry = false;
        let mut open: Vec<u32> = Vec::new(); // merge labels of the loops we are in
        let (mut all, mut compute) = (0, 0);
        let mut counting = false;
        for i in &insts {
            let code = i[0] & 0xffff;
            match code {
                op::FUNCTION => in_entry = i[2] == entry,
                op::FUNCTION_END => in_entry = false,
                _ => {}
            }
            if !in_entry {
                continue;
            }
            if code == op::LABEL && open.last() == Some(&i[1]) {
                open.pop();
                if counting && open.len() < 2 {
                    return (all, compute);
                }
            }
            if code == op::LOOP_MERGE {
                open.push(i[1]);
                counting |= open.len() == 2;
            }
            if counting {
                all += 1;
                compute += !op::BOOKKEEPING.contains(&code) as usize;
            }
        }
        panic!("no loop two deep in the entry point");
    }

    /// The shader's header states what a cell costs at each strip width; this keeps the
    /// statement true.
    #[test]
    fn instructions_per_cell_are_as_the_shader_header_says() {
        let (mut all, mut compute) = (Vec::new(), Vec::new());
        for strip in STRIPS {
            let (a, c) = row_loop_instructions(strip);
            all.push(format!("{:.1}", a as f64 / strip as f64));
            compute.push(format!("{:.1}", c as f64 / strip as f64));
        }
        // The header's words, whatever its line breaks.
        let header = SOURCE.lines().map(|l| l.trim().trim_start_matches("//")).collect::<Vec<_>>().join(" ");
        let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
        let said = format!("{} SPIR-V instructions, {} of them computing", all.join(" / "), compute.join(" / "));
        assert!(header.contains(&said), "shaders/align.wgsl should say `{said}`");
    }

    #[test]
    fn headers_the_expansion_reads() {
        let bound = |b: &str| (b == "STRIP").then_some(16);
        assert_eq!(parse_for("for (var c = 1u; c < STRIP; c++) {", bound), Some(("c", 1, 16)));
        assert_eq!(parse_for("for (var c = 0u; c < n; c++) {", bound), None);
        assert_eq!(parse_for("for (var c = 0; c < STRIP; c++) {", bound), None);
        assert_eq!(parse_for("for (var c = 0u; c <= STRIP; c++) {", bound), None);
    }
}
