//! Every alignment engine against the slow oracle, task by task, on seeded random inputs.

use swmap::align::{align_reference, Scoring};
use swmap::backend::{AlignBackend, CpuBackend, GpuBackend};
use swmap::batch::AlignBatch;

/// Small deterministic generator (splitmix64), so the inputs are the same everywhere.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Reads mutated into windows (substitutions, indels, Ns), plus unrelated pairs and edge sizes.
fn random_batch(seed: u64, tasks: usize) -> AlignBatch {
    let mut rng = Rng(seed);
    let mut batch = AlignBatch::new();
    for t in 0..tasks {
        let n = match t % 7 {
            0 => 1 + rng.below(20) as usize,
            _ => 40 + rng.below(300) as usize,
        };
        let target: Vec<u8> = (0..n).map(|_| if rng.below(200) == 0 { 4 } else { rng.below(4) as u8 }).collect();
        let mut query = Vec::new();
        if t % 5 == 4 {
            let m = 1 + rng.below(160) as usize;
            query.extend((0..m).map(|_| rng.below(4) as u8));
        } else {
            let start = rng.below(n as u64 / 2 + 1) as usize;
            let len = 1 + rng.below((n - start) as u64) as usize;
            let mut j = start;
            while j < start + len && j < n {
                match rng.below(40) {
                    0 => query.push(rng.below(4) as u8),
                    1 => j += 1 + rng.below(4) as usize,
                    2 => {
                        for _ in 0..1 + rng.below(4) {
                            query.push(rng.below(4) as u8)
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
        batch.push_task(q, &target);
    }
    batch
}

fn scorings() -> Vec<Scoring> {
    vec![
        Scoring::default(),
        Scoring { match_score: 2, mismatch: 3, gap_open: 5, gap_extend: 2, clip: 0, ambiguous: -2 },
        Scoring { match_score: 1, mismatch: 1, gap_open: 0, gap_extend: 1, clip: 100, ambiguous: 0 },
    ]
}

fn check_backend(backend: &dyn AlignBackend) {
    for (s, sc) in scorings().iter().enumerate() {
        let batch = random_batch(42 + s as u64, 600);
        let got = backend.align(&batch, sc).expect("backend runs");
        assert_eq!(got.len(), batch.len());
        for (k, (task, a)) in batch.tasks.iter().zip(&got).enumerate() {
            let want = align_reference(batch.query(task), batch.target(task), sc);
            assert_eq!(
                a,
                &want,
                "backend {} differs from the oracle on task {k} with {sc:?}:\nquery  {:?}\ntarget {:?}",
                backend.describe(),
                batch.query(task),
                batch.target(task)
            );
        }
    }
}

#[test]
fn cpu_backend_matches_oracle() {
    check_backend(&CpuBackend::new());
}

#[test]
fn gpu_backend_matches_oracle() {
    match GpuBackend::new(true) {
        Ok(gpu) => check_backend(&gpu),
        Err(e) if std::env::var_os("SWMAP_REQUIRE_GPU").is_none() => {
            eprintln!("skipping: no GPU adapter ({e}); set SWMAP_REQUIRE_GPU=1 to make this fail")
        }
        Err(e) => panic!("SWMAP_REQUIRE_GPU is set but no GPU adapter works: {e}"),
    }
}
