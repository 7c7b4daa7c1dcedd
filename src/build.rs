//! Build script: records the git commit the binary is built from (`swmap --version`, the
//! `@PG VN` of every output), so that two builds can be told apart. A build outside a git
//! checkout (a source tarball, `cargo install` from crates.io) says so instead.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(hash) => {
            // Uncommitted changes to tracked files make it another program than the commit.
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            format!("git.{hash}{}", if dirty { ".dirty" } else { "" })
        }
        None => "built-without-git".to_string(),
    };
    println!("cargo:rustc-env=SWMAP_BUILD_COMMIT={commit}");
    // Again when the checkout moves (a commit, a checkout) or a tracked file changes.
    for path in [".git/HEAD", ".git/index", ".git/refs", "src", "shaders", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }
}
