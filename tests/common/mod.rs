//! Helpers shared by the integration tests: running the binary, the bundled data, backends.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn swmap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_swmap"))
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data").join(name)
}

/// A fresh scratch directory per test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swmap-it-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("swmap runs")
}

/// Runs and insists on success; returns stdout.
pub fn ok(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The backends every mapping test runs under. The GPU one runs wherever an adapter works
/// (lavapipe in CI); `SWMAP_REQUIRE_GPU=1` turns a missing adapter into a failure.
pub fn backends() -> Vec<&'static str> {
    static GPU: OnceLock<bool> = OnceLock::new();
    let gpu = *GPU.get_or_init(|| match swmap::backend::GpuBackend::new(true) {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var_os("SWMAP_REQUIRE_GPU").is_none(),
                "SWMAP_REQUIRE_GPU is set but no GPU adapter works: {e}"
            );
            eprintln!("note: no GPU adapter ({e}); GPU backend not tested");
            false
        }
    });
    if gpu {
        vec!["cpu", "gpu"]
    } else {
        vec!["cpu"]
    }
}

/// Builds the index of the bundled reference once per test binary.
pub fn test_index() -> PathBuf {
    static INDEX: OnceLock<PathBuf> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let dir = scratch("index");
            let idx = dir.join("ref.swi");
            ok(swmap().args(["index", "-t", "2"]).arg(data("ref.fa.gz")).arg("-o").arg(&idx));
            idx
        })
        .clone()
}

/// SAM body lines (no header).
pub fn records(sam: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(sam).lines().filter(|l| !l.starts_with('@')).map(str::to_string).collect()
}

pub fn has(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Asserts two outputs are identical, showing the first differing line of each.
pub fn assert_same(a: &[u8], b: &[u8], what: &str) {
    if a != b {
        let (la, lb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
        let (n, (x, y)) =
            la.lines().zip(lb.lines()).enumerate().find(|(_, (x, y))| x != y).unwrap_or((0, ("<length differs>", "")));
        panic!("{what}: outputs differ at line {}:\n  {x}\n  {y}", n + 1);
    }
}
