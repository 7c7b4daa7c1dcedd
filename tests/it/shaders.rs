//! Every WGSL file under `shaders/` parses and validates with naga, the shader compiler wgpu
//! uses; no GPU needed, so a broken kernel fails here on any machine.

use std::fs;
use std::path::Path;

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut checked = 0;
    for entry in fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("readable directory entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let source = fs::read_to_string(&path).expect("readable shader");
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}:\n{}", path.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}:\n{}", path.display(), e.emit_to_string(&source)));
        checked += 1;
    }
    assert!(checked > 0, "no .wgsl files found in {}", dir.display());
}

/// SPIR-V opcodes the instruction count below sorts by.
mod op {
    pub const ENTRY_POINT: u32 = 15;
    pub const FUNCTION: u32 = 54;
    pub const FUNCTION_END: u32 = 56;
    pub const LOOP_MERGE: u32 = 246;
    pub const LABEL: u32 = 248;
    /// Variable loads and stores, pointer arithmetic, and structured control flow: what a
    /// driver's optimiser turns into registers and predication or removes when it unrolls
    /// the loop.
    pub const BOOKKEEPING: [u32; 8] = [61, 62, 65, 245, 247, 248, 249, 250];
}

/// The per-cell loop of the alignment kernel in SPIR-V (naga, the compiler wgpu uses, as the
/// Vulkan backend gets it, before the driver's optimiser): all its instructions, and those
/// that compute (arithmetic, comparisons, selects, conversions).
fn cell_loop_instructions() -> (usize, usize) {
    let source = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/align.wgsl")).unwrap();
    let module = naga::front::wgsl::parse_str(&source).unwrap();
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
        .validate(&module)
        .unwrap();
    // As wgpu builds the pipeline: loop bounding off (src/backend/gpu/context.rs).
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
    // In the entry function, the first loop three deep: strips, rows, cells.
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
            if counting {
                return (all, compute);
            }
        }
        if code == op::LOOP_MERGE {
            open.push(i[1]);
            counting = open.len() == 3;
        }
        if counting {
            all += 1;
            compute += !op::BOOKKEEPING.contains(&code) as usize;
        }
    }
    panic!("no loop three deep in the entry point");
}

/// The shader's header states what the per-cell loop costs; this keeps the statement true.
#[test]
fn instructions_per_cell_are_as_the_shader_header_says() {
    let (all, compute) = cell_loop_instructions();
    let source = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders/align.wgsl")).unwrap();
    let line = format!("// Per cell: {all} SPIR-V instructions, {compute} of them computing");
    assert!(source.contains(&line), "shaders/align.wgsl should say `{line}`");
}
