//! What the tests share: running the binary, the bundled data, scratch directories, the
//! backends every test runs under (on the command line and in the library), and assertions
//! that say which backends disagree and show both outputs.

use std::fmt::Debug;
use std::io::{Read as _, Write as _};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use swmap::align::{Band, Scoring};
use swmap::backend::{AlignBackend, CpuBackend, GpuBackend, OracleBackend};
use swmap::batch::AlignBatch;
use swmap::rng::Rng;

/// The binary under test, for shell scripts.
pub const SWMAP: &str = env!("CARGO_BIN_EXE_swmap");

/// A command running the binary under test.
pub fn swmap() -> Command {
    Command::new(SWMAP)
}

/// A file of the bundled test data (`test-data/`).
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test-data").join(name)
}

/// Runs `cmd` with no input and collects its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("the command runs")
}

/// Runs and insists on success; returns stdout.
pub fn ok(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Whether `tool` is on the PATH; when it is not, [`missing_tool`] says so (or fails).
pub fn has(tool: &str) -> bool {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output();
    let found = found.is_ok_and(|o| o.status.success());
    if !found {
        missing_tool(tool);
    }
    found
}

/// Says that a comparison with `tool` is skipped because it is not installed; with
/// `SWMAP_REQUIRE_TOOLS` set (as CI sets it, after installing every tool the tests use) the
/// test fails instead, so that a failed install never passes as a skipped comparison.
pub fn missing_tool(tool: &str) {
    if std::env::var_os("SWMAP_REQUIRE_TOOLS").is_some() {
        panic!("{tool} is not installed, and SWMAP_REQUIRE_TOOLS asks for every tool the tests use");
    }
    eprintln!("skipping the comparison with {tool}: not installed");
}

/// How to run Picard: `PICARD` (a launcher or a jar) when set, else the launcher Debian's
/// picard-tools installs, else its jar; `None` when none is there.
pub fn picard() -> Option<Command> {
    let jar = |path: &str| {
        let mut c = Command::new("java");
        c.args(["-jar", path]);
        c
    };
    if let Some(p) = std::env::var_os("PICARD") {
        let p = p.to_string_lossy().into_owned();
        return Some(if p.ends_with(".jar") { jar(&p) } else { Command::new(p) });
    }
    for launcher in ["PicardCommandLine", "picard"] {
        let found = Command::new("sh").arg("-c").arg(format!("command -v {launcher}")).output();
        if found.is_ok_and(|o| o.status.success()) {
            return Some(Command::new(launcher));
        }
    }
    ["/usr/share/java/picard.jar"].into_iter().find(|p| Path::new(p).exists()).map(jar)
}

/// `n` random bases (ACGT) from `rng`.
pub fn random_bases(rng: &mut swmap::rng::Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| b"ACGT"[rng.base() as usize]).collect()
}

/// `swmap map REFERENCE READS... --backend BACKEND EXTRA...`, to run.
pub fn map_cmd(reference: &Path, reads: &[&Path], backend: &str, extra: &[&str]) -> Command {
    let mut cmd = swmap();
    cmd.arg("map").arg(reference).args(reads).args(["--backend", backend]).args(extra);
    cmd
}

/// The output of [`map_cmd`], the run insisted successful.
pub fn map_ok(reference: &Path, reads: &[&Path], backend: &str, extra: &[&str]) -> Vec<u8> {
    ok(&mut map_cmd(reference, reads, backend, extra))
}

/// The scorings kernels are checked under: bwa-mem's, one with a larger match score and no
/// clip penalty, and one with free gap opens and a clip penalty no alignment pays.
pub fn scorings() -> Vec<Scoring> {
    vec![
        Scoring::default(),
        Scoring { match_score: 2, mismatch: 3, gap_open: 5, gap_extend: 2, clip: 0, ambiguous: -2 },
        Scoring { match_score: 1, mismatch: 1, gap_open: 0, gap_extend: 1, clip: 100, ambiguous: 0 },
    ]
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A gzip (or plain concatenated gzip) file's bytes, decompressed.
pub fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut out).unwrap();
    out
}

/// A scratch directory of its own, empty, under the system's temporary directory. Removed when
/// dropped, unless the test is failing: then it is kept, and its path printed, to look into.
pub struct Scratch(PathBuf);

/// A fresh scratch directory; `name` only makes it easier to find (every call gets a new one,
/// so tests naming theirs alike do not meet).
pub fn scratch(name: &str) -> Scratch {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("swmap-it-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

impl Scratch {
    /// Keeps the directory (for a failure to point at) and returns its path.
    pub fn keep(self) -> PathBuf {
        let path = self.0.clone();
        std::mem::forget(self);
        path
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("scratch directory kept: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The names in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The temporary output files (`.NAME.swmap-tmp-PID`) left in `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    file_names(dir).into_iter().filter(|n| n.contains("swmap-tmp")).collect()
}

/// The index of the bundled reference, built once per test run.
pub fn test_index() -> PathBuf {
    static INDEX: OnceLock<(Scratch, PathBuf)> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let dir = scratch("index");
            let idx = dir.join("ref.swi");
            ok(swmap().args(["index", "-t", "2"]).arg(data("ref.fa.gz")).arg("-o").arg(&idx));
            (dir, idx)
        })
        .1
        .clone()
}

/// Whether a missing GPU adapter is a failure (`SWMAP_REQUIRE_GPU` set, as CI does) rather
/// than a reason to skip the GPU.
fn gpu_required() -> bool {
    std::env::var_os("SWMAP_REQUIRE_GPU").is_some()
}

/// The GPU backend the tests share, opened (any adapter, lavapipe included) and warmed up once:
/// lavapipe compiles the kernel at its first dispatch, for seconds; done once here, later
/// devices find it in Mesa's cache instead of every test compiling it at the same time. `None`
/// where no adapter works, after saying so; a failure instead with `SWMAP_REQUIRE_GPU` set.
pub fn shared_gpu() -> Option<&'static GpuBackend> {
    static GPU: OnceLock<Option<GpuBackend>> = OnceLock::new();
    GPU.get_or_init(|| match GpuBackend::new(true) {
        Ok(gpu) => {
            let mut b = AlignBatch::new();
            let q = b.push_query(&[0, 1, 2, 3]);
            b.push_task(q, &[0, 1, 2, 3]);
            gpu.align(&b, &Scoring::default()).expect("gpu backend runs");
            Some(gpu)
        }
        Err(e) => {
            assert!(!gpu_required(), "SWMAP_REQUIRE_GPU is set but no GPU adapter works: {e}");
            eprintln!(
                "note: no GPU adapter ({e}); the GPU backend is not tested (SWMAP_REQUIRE_GPU=1 makes this fail)"
            );
            None
        }
    })
    .as_ref()
}

/// GPU or skip: a GPU backend of the test's own (for tests that change its settings), or `None`
/// where no adapter works, and the test returns. With `SWMAP_REQUIRE_GPU` set, no adapter is a
/// failure.
pub fn gpu_or_skip() -> Option<GpuBackend> {
    shared_gpu()?;
    Some(GpuBackend::new(true).expect("a second GPU backend opens where the first did"))
}

/// The `--backend` values every command-line test runs under: `cpu`, and `gpu` where an adapter
/// works (see [`shared_gpu`]).
pub fn backends() -> Vec<&'static str> {
    if shared_gpu().is_some() {
        vec!["cpu", "gpu"]
    } else {
        vec!["cpu"]
    }
}

/// An alignment engine and the short name the tests' messages give it.
#[derive(Clone, Copy)]
pub struct Engine<'a> {
    pub name: &'static str,
    pub backend: &'a dyn AlignBackend,
}

/// Every alignment engine of the library, for a test written once to run under each: the
/// full-matrix oracle first, then the CPU backend, then the GPU one where an adapter works.
pub fn engines() -> Vec<Engine<'static>> {
    static REFERENCE: OracleBackend = OracleBackend;
    static CPU: CpuBackend = CpuBackend;
    let mut engines = vec![Engine { name: "reference", backend: &REFERENCE }, Engine { name: "cpu", backend: &CPU }];
    if let Some(gpu) = shared_gpu() {
        engines.push(Engine { name: "gpu", backend: gpu });
    }
    engines
}

/// The engine called `name` in [`engines`]; `None` for the GPU where no adapter works.
pub fn engine(name: &str) -> Option<Engine<'static>> {
    engines().into_iter().find(|e| e.name == name)
}

/// The full-matrix oracle, which every other engine must match.
pub fn oracle() -> Engine<'static> {
    engines()[0]
}

/// Asserts that two programs' outputs are the same text. `a` and `b` are (which backend or run
/// made it, the output); when they differ the message names both and shows, from each, the
/// first line where they part (or that one output ended there).
pub fn assert_same(what: &str, (a_name, a): (&str, &[u8]), (b_name, b): (&str, &[u8])) {
    if a == b {
        return;
    }
    let (ta, tb) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    let n = (0..la.len().max(lb.len())).find(|&i| la.get(i) != lb.get(i)).unwrap_or(la.len().min(lb.len()));
    let show = |l: Option<&&str>| l.map_or("<end of output>".to_string(), |l| l.to_string());
    panic!(
        "{what}: {a_name} and {b_name} differ at line {} ({} and {} lines in all):\n  {a_name}: {}\n  {b_name}: {}",
        n + 1,
        la.len(),
        lb.len(),
        show(la.get(n)),
        show(lb.get(n))
    );
}

/// Asserts that two engines' results are the same, item by item. `a` and `b` are (engine name,
/// results); when they differ the message names both engines, shows both items at the first
/// difference, and adds `context(index)` (the task's inputs, say).
pub fn assert_same_items<T: PartialEq + Debug>(
    what: &str,
    (a_name, a): (&str, &[T]),
    (b_name, b): (&str, &[T]),
    context: impl Fn(usize) -> String,
) {
    if let Some(k) = (0..a.len().min(b.len())).find(|&k| a[k] != b[k]) {
        panic!(
            "{what}: {a_name} and {b_name} differ at item {k}:\n  {a_name}: {:?}\n  {b_name}: {:?}\n{}",
            a[k],
            b[k],
            context(k)
        );
    }
    assert_eq!(a.len(), b.len(), "{what}: {a_name} gave {} items, {b_name} {}", a.len(), b.len());
}

/// The inputs of task `k` of `batch`, for a message about its result.
pub fn task_inputs<'a>(batch: &'a AlignBatch, sc: &'a Scoring) -> impl Fn(usize) -> String + 'a {
    move |k| {
        let t = &batch.tasks[k];
        format!("task {k} with {sc:?}:\n  query  {:?}\n  target {:?}", batch.query(t), batch.target(t))
    }
}

/// Aligns `batch` under engines `a` and `b` and asserts the results are the same, one per task;
/// a difference shows both results and the task's query and target.
pub fn assert_same_alignments(a: Engine, b: Engine, batch: &AlignBatch, sc: &Scoring) {
    let ra = a.backend.align(batch, sc).unwrap_or_else(|e| panic!("{} backend: {e}", a.name));
    let rb = b.backend.align(batch, sc).unwrap_or_else(|e| panic!("{} backend: {e}", b.name));
    assert_eq!(ra.len(), batch.len(), "{}: not one result per task", a.name);
    assert_same_items("alignments", (a.name, &ra), (b.name, &rb), task_inputs(batch, sc));
}

/// Reads mutated into windows (substitutions, indels, Ns), plus unrelated pairs and edge sizes;
/// half of the tasks in a band (around the read's true diagonal with a margin, as the mapper
/// cuts one, or anywhere, sometimes missing the matrix).
pub fn random_batch(seed: u64, tasks: usize) -> AlignBatch {
    let mut rng = Rng::new(seed);
    let mut batch = AlignBatch::new();
    for t in 0..tasks {
        let n = match t % 7 {
            0 => 1 + rng.below(20) as usize,
            _ => 40 + rng.below(300) as usize,
        };
        let target: Vec<u8> = (0..n).map(|_| if rng.below(200) == 0 { 4 } else { rng.base() }).collect();
        let mut query = Vec::new();
        let mut diagonal = 0i64;
        if t % 5 == 4 {
            let m = 1 + rng.below(160) as usize;
            query.extend((0..m).map(|_| rng.base()));
        } else {
            let start = rng.below(n as u64 / 2 + 1) as usize;
            diagonal = start as i64;
            let len = 1 + rng.below((n - start) as u64) as usize;
            let mut j = start;
            while j < start + len && j < n {
                match rng.below(40) {
                    0 => query.push(rng.base()),
                    1 => j += 1 + rng.below(4) as usize,
                    2 => {
                        for _ in 0..1 + rng.below(4) {
                            query.push(rng.base())
                        }
                    }
                    3 => query.push(4),
                    _ => {
                        query.push(target[j]);
                        j += 1;
                    }
                }
            }
            if query.is_empty() {
                query.push(0);
            }
        }
        let q = batch.push_query(&query);
        let margin = rng.below(24) as i64;
        match t % 4 {
            0 | 1 => batch.push_task(q, &target),
            2 => {
                let band = Band { lo: (diagonal - margin) as i32, hi: (diagonal + margin) as i32 };
                batch.push_banded_task(q, &target, band)
            }
            _ => {
                let lo = rng.below(2 * n as u64 + 40) as i64 - n as i64 - 20;
                batch.push_banded_task(q, &target, Band { lo: lo as i32, hi: (lo + margin) as i32 })
            }
        };
    }
    batch
}
