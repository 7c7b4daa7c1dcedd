//! Every WGSL file under `shaders/` parses and validates with naga, the shader compiler wgpu
//! uses; no GPU needed, so a broken kernel fails here on any machine. (The kernel as the device
//! gets it, its strip's loops written out, is validated and its instructions per cell counted
//! by the tests of `src/backend/gpu/shader.rs`.)

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
        // As written, a file may hold the subgroup variant's code too (the expansion of
        // src/backend/gpu/shader.rs drops it from the kernel a device without them gets).
        let capabilities = naga::valid::Capabilities::default() | naga::valid::Capabilities::SUBGROUP;
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities)
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}:\n{}", path.display(), e.emit_to_string(&source)));
        checked += 1;
    }
    assert!(checked > 0, "no .wgsl files found in {}", dir.display());
}
