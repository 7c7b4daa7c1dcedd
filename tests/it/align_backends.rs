//! Every alignment engine against the slow oracle, task by task, on seeded random inputs.

use crate::support::*;
use swmap::align::{Band, Scoring};
use swmap::batch::AlignBatch;
use swmap::rng::Rng;

/// `e` against the oracle on 600 random tasks under each scoring.
fn check_engine(e: Engine) {
    for (s, sc) in scorings().iter().enumerate() {
        let batch = random_batch(42 + s as u64, 600);
        assert_same_alignments(oracle(), e, &batch, sc);
    }
}

#[test]
fn cpu_backend_matches_oracle() {
    check_engine(engine("cpu").unwrap());
}

#[test]
fn gpu_backend_matches_oracle() {
    if let Some(gpu) = engine("gpu") {
        check_engine(gpu);
    }
}

/// Reads too long for 16-bit lanes (2,000 bases and more: H << 3 passes i16 with match 2) and ones
/// just inside them, banded and not, in groups big enough for the lane kernels: the CPU
/// backend takes 32-bit lanes for groups holding the first (and 16-bit lanes where a group
/// holds only the second), the GPU backend its CPU fallback (queries over 512 bases); all
/// must equal the oracle.
#[test]
fn long_reads_in_32_bit_lanes_match_the_oracle() {
    let mut rng = Rng::new(77);
    let sc = Scoring { match_score: 2, mismatch: 3, gap_open: 5, gap_extend: 2, clip: 5, ambiguous: -1 };
    let mut batch = AlignBatch::new();
    for t in 0..40 {
        let m = if t % 2 == 0 { 2_000 + rng.below(10) as usize } else { 1_900 + rng.below(50) as usize };
        let n = m + 40 + rng.below(20) as usize;
        let target: Vec<u8> = (0..n).map(|_| rng.base()).collect();
        let mut query: Vec<u8> = target[20..20 + m].to_vec();
        for _ in 0..m / 50 {
            let i = rng.below(m as u64) as usize;
            query[i] = rng.base();
        }
        let q = batch.push_query(&query);
        if t % 3 == 0 {
            batch.push_banded_task(q, &target, Band { lo: 0, hi: 45 });
        } else {
            batch.push_task(q, &target);
        }
    }
    for e in engines().into_iter().skip(1) {
        assert_same_alignments(oracle(), e, &batch, &sc);
    }
}

/// The exact shortcut runs before every engine: `align_checked` hands an engine only the tasks
/// that need DP, and its results (shortcut and engine together) equal the oracle's full DP
/// on every task, under every engine.
#[test]
fn engines_see_only_the_tasks_the_exact_shortcut_leaves() {
    use std::sync::Mutex;
    use swmap::align::Alignment;
    use swmap::AlignBackend;
    /// Passes tasks on to `inner` and keeps the ids it was given.
    struct Counting<'a> {
        inner: &'a dyn AlignBackend,
        given: Mutex<Vec<usize>>,
    }
    impl AlignBackend for Counting<'_> {
        fn describe(&self) -> String {
            self.inner.describe()
        }
        fn align_tasks(&self, batch: &AlignBatch, sc: &Scoring, ids: &[usize]) -> swmap::Result<Vec<Alignment>> {
            self.given.lock().unwrap().extend_from_slice(ids);
            self.inner.align_tasks(batch, sc, ids)
        }
    }
    let sc = Scoring::default();
    let mut rng = Rng::new(77);
    // Half the tasks hold their query exactly or with one or two substitutions (the
    // shortcut's cases), half with an indel (DP's).
    let mut batch = AlignBatch::new();
    let mut exact = Vec::new();
    for t in 0..400 {
        let window: Vec<u8> = (0..300).map(|_| rng.base()).collect();
        let start = 20 + rng.below(100) as usize;
        let mut query = window[start..start + 150].to_vec();
        match t % 4 {
            0 => {}
            1 => query[10 + rng.below(130) as usize] ^= 1,
            2 => {
                query[5 + rng.below(60) as usize] ^= 2;
                query[80 + rng.below(60) as usize] ^= 3;
            }
            _ => {
                query.remove(40 + rng.below(70) as usize);
            }
        }
        let q = batch.push_query(&query);
        batch.push_task(q, &window);
        exact.push(t % 4 != 3);
    }
    let want = oracle().backend.align(&batch, &sc).unwrap();
    for e in engines() {
        let counting = Counting { inner: e.backend, given: Mutex::new(Vec::new()) };
        let got = swmap::backend::align_checked(&counting, &batch, &sc).unwrap();
        assert_eq!(got, want, "{}: shortcut and engine together against the oracle", e.name);
        let given = counting.given.into_inner().unwrap();
        // Every indel task reaches the engine; the shortcut's cases are answered before it.
        for (k, &is_exact) in exact.iter().enumerate() {
            if !is_exact {
                assert!(given.contains(&k), "{}: task {k} (an indel) never reached the engine", e.name);
            }
        }
        assert!(
            given.len() < batch.len() / 3,
            "{}: the engine was given {} of {} tasks",
            e.name,
            given.len(),
            batch.len()
        );
    }
}
