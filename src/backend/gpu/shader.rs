//! The kernel's WGSL as the device gets it: `shaders/align.wgsl` with its DP strip width and
//! variants set ([`Kernel`]), only the chosen branch of every block marked `// variant`, and
//! every loop marked `// unroll` written out once per value of its variable.
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

/// How the device's kernel is built. Every choice computes the same results; they differ in
/// speed only, and in what the device must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel {
    /// Target columns per DP strip, one of [`STRIPS`].
    pub strip: u32,
    /// The boundary column in 16-bit halves (`NARROW` in the shader): half the private memory
    /// per row, for tasks whose values fit 16 bits (`crate::align::lanes::fits_16`) only.
    pub narrow: bool,
    /// One atomic per subgroup to reserve CIGAR room (`SUBGROUPS`): needs wgpu's subgroup
    /// feature.
    pub subgroups: bool,
}

#[cfg(test)]
impl Kernel {
    /// The kernel as the shader file writes it: strips of [`DEFAULT_STRIP`] columns, 32-bit
    /// boundary column, one atomic per invocation. It runs on every adapter.
    pub const PLAIN: Kernel = Kernel { strip: DEFAULT_STRIP, narrow: false, subgroups: false };
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "strips of {} columns", self.strip)?;
        if self.narrow {
            write!(f, ", 16-bit boundary column")?;
        }
        if self.subgroups {
            write!(f, ", subgroup atomics")?;
        }
        Ok(())
    }
}

const STRIP_LINE: &str = "const STRIP: u32 = 8u;";
const NARROW_LINE: &str = "const NARROW: bool = false;";
const SUBGROUPS_LINE: &str = "const SUBGROUPS: bool = false;";
const MARK: &str = "// unroll";
const VARIANT: &str = "// variant ";

/// The source of `kernel` (its strip one of [`STRIPS`]). An error says what in the shader file
/// does not follow the form the expansion reads (a bug of this crate's, caught by its tests).
pub fn source(kernel: Kernel) -> Result<String, String> {
    let Kernel { strip, narrow, subgroups } = kernel;
    if !STRIPS.contains(&strip) {
        return Err(format!("a strip of {strip} columns: the kernel takes {STRIPS:?}"));
    }
    let mut text = SOURCE.to_string();
    for (line, set) in [
        (STRIP_LINE, format!("const STRIP: u32 = {strip}u;")),
        (NARROW_LINE, format!("const NARROW: bool = {narrow};")),
        (SUBGROUPS_LINE, format!("const SUBGROUPS: bool = {subgroups};")),
    ] {
        if text.matches(line).count() != 1 {
            return Err(format!("shaders/align.wgsl should have `{line}` once"));
        }
        text = text.replacen(line, &set, 1);
    }
    let text = choose_variants(&text, |name| match name {
        "NARROW" => Some(narrow),
        "SUBGROUPS" => Some(subgroups),
        _ => None,
    })?;
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

/// `text` with every block `// variant NAME` + `if (NAME) { A } else { B }` (the else part
/// optional) replaced by the lines of A or of B as `value` says NAME is: the kernel without
/// the branch it never takes (nor, in the plain kernel, any subgroup operation), and with no
/// block left in its place, so that a variant adds no labels or branches to the SPIR-V.
/// A branch's names stay in scope after it; one that clashes fails validation (tests).
fn choose_variants(text: &str, value: impl Fn(&str) -> Option<bool>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().enumerate();
    while let Some((at, line)) = lines.next() {
        let Some(name) = line.trim().strip_prefix(VARIANT) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let bad = |what: &str| format!("shaders/align.wgsl:{}: `{VARIANT}{name}` {what}", at + 1);
        let keep = value(name).ok_or_else(|| bad("names no variant"))?;
        let (_, header) = lines.next().ok_or_else(|| bad("ends the file"))?;
        let indent = &header[..header.len() - header.trim_start().len()];
        if header.trim() != format!("if ({name}) {{") {
            return Err(bad(&format!("is not followed by `if ({name}) {{`")));
        }
        let (otherwise, close) = (format!("{indent}}} else {{"), format!("{indent}}}"));
        let (mut then, mut other, mut in_else) = (Vec::new(), Vec::new(), false);
        loop {
            let (_, line) = lines.next().ok_or_else(|| bad("is not closed"))?;
            if line == close {
                break;
            }
            if line == otherwise && !in_else {
                in_else = true;
                continue;
            }
            if line.trim().starts_with(VARIANT) {
                return Err(bad("holds another: variant blocks do not nest"));
            }
            if in_else { &mut other } else { &mut then }.push(line);
        }
        for line in if keep { then } else { other } {
            // One level less deep, as the lines now stand in the block's place.
            out.push_str(line.strip_prefix("    ").unwrap_or(line));
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

    use naga::valid::Capabilities;

    /// Validates `source` as a device with `capabilities` would (the plain kernel needs none
    /// beyond the default).
    fn validate(source: &str, capabilities: Capabilities) {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(source)));
    }

    fn kernels() -> impl Iterator<Item = Kernel> {
        STRIPS.into_iter().flat_map(|strip| {
            [(false, false), (true, false), (false, true), (true, true)].map(|(narrow, subgroups)| Kernel {
                strip,
                narrow,
                subgroups,
            })
        })
    }

    #[test]
    fn every_kernel_expands_to_valid_wgsl_without_marked_loops_or_variant_blocks() {
        let marked = SOURCE.lines().filter(|l| l.trim() == MARK).count();
        assert!(marked >= 5, "the strip's loops are marked ({marked})");
        let variants = SOURCE.lines().filter(|l| l.trim().starts_with(VARIANT)).count();
        assert_eq!(variants, 4, "blocks marked `{VARIANT}...`");
        for kernel in kernels() {
            let text = source(kernel).unwrap();
            // Only a kernel with subgroup atomics needs the subgroup capability.
            let needs = if kernel.subgroups {
                Capabilities::SUBGROUP
            } else {
                validate(&text, Capabilities::default());
                Capabilities::empty()
            };
            validate(&text, Capabilities::default() | needs);
            assert_eq!(text.contains("subgroupAdd"), kernel.subgroups, "{kernel}");
            assert!(!text.lines().any(|l| l.trim() == MARK || l.trim().starts_with(VARIANT)), "{kernel}");
            assert!(!text.contains("if (NARROW)") && !text.contains("if (SUBGROUPS)"), "{kernel}");
            let strip = kernel.strip;
            assert!(text.contains(&format!("const STRIP: u32 = {strip}u;")));
            // The cell loop's body, once per column.
            let cells = text.matches("let dstart = d <= start;").count();
            assert_eq!(cells, strip as usize, "{kernel}");
            assert!(!text.contains("for (var c = 0u; c < STRIP; c++)"));
            // The narrow kernel never touches the second column array; the plain one never
            // packs.
            assert_eq!(text.contains("e_col[i] = e_left;"), !kernel.narrow, "{kernel}");
            assert_eq!(text.contains("(e_left << 16u)"), kernel.narrow, "{kernel}");
        }
        assert!(source(Kernel { strip: 12, ..Kernel::PLAIN }).unwrap_err().contains("[8, 16, 32]"));
    }

    /// The narrow kernel's minus infinity is the one the CPU's 16-bit lanes use, so that
    /// `fits_16`, which the host asks before it gives the kernel a task, speaks of this kernel.
    #[test]
    fn the_narrow_kernels_minus_infinity_is_the_16_bit_lanes_one() {
        use crate::align::lanes::Value;
        let line = format!("const NEG_INF_16: i32 = {};", <i16 as Value>::NEG_INF);
        assert_eq!(SOURCE.matches(&line).count(), 1, "shaders/align.wgsl should say `{line}`");
    }

    #[test]
    fn variant_blocks_keep_one_branch_or_fail_with_the_line() {
        let value = |n: &str| (n == "A").then_some(true).or((n == "B").then_some(false));
        let text = "x\n  // variant A\n  if (A) {\n      a;\n  } else {\n      b;\n  }\n  // variant B\n  if (B) {\n      c;\n  }\ny\n";
        assert_eq!(choose_variants(text, value).unwrap(), "x\n  a;\ny\n");
        let wrong = [
            ("// variant C\nif (C) {\n}\n", "names no variant"),
            ("// variant A\nif (B) {\n}\n", "is not followed by `if (A) {`"),
            ("// variant A\nif (A) {\n  a;\n", "is not closed"),
            ("// variant A\nif (A) {\n// variant B\n}\n", "do not nest"),
            ("x\n// variant A", "ends the file"),
        ];
        for (text, why) in wrong {
            let e = choose_variants(text, value).unwrap_err();
            assert!(e.contains(why) && e.starts_with("shaders/align.wgsl:"), "{e}");
        }
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
    fn row_loop_instructions(kernel: Kernel) -> (usize, usize) {
        let source = source(kernel).unwrap();
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
        // The header's words, whatever its line breaks.
        let header = SOURCE.lines().map(|l| l.trim().trim_start_matches("//")).collect::<Vec<_>>().join(" ");
        let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
        for (narrow, form) in [(false, "{} SPIR-V instructions, {} of them computing"), (true, "NARROW: {} and {}")] {
            let (mut all, mut compute) = (Vec::new(), Vec::new());
            for strip in STRIPS {
                let (a, c) = row_loop_instructions(Kernel { strip, narrow, subgroups: false });
                all.push(format!("{:.1}", a as f64 / strip as f64));
                compute.push(format!("{:.1}", c as f64 / strip as f64));
            }
            let said = form.replacen("{}", &all.join(" / "), 1).replacen("{}", &compute.join(" / "), 1);
            assert!(header.contains(&said), "shaders/align.wgsl should say `{said}`");
        }
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
