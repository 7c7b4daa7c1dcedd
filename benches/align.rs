//! Alignment kernels per backend on one seeded batch of 150 x 300 read/window pairs
//! (`swmap::bench::synthetic_batch`), in cells per second (GCUPS = Gelem/s here).
//!
//! The reference oracle fills whole matrices and is slow, so it gets a prefix of the batch.
//! The GPU runs on any Vulkan adapter (lavapipe's figures are CPU figures); without one its
//! benches are skipped with a note. `gpu_kernel` times the kernels alone from timestamp
//! queries, `gpu` the whole call with upload and readback.
//!
//! `cargo bench --bench align`; add `-- cpu` to run one of them.

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;
use swmap::align::Scoring;
use swmap::backend::{AlignBackend, CpuBackend, GpuBackend, OracleBackend};
use swmap::batch::AlignBatch;
use swmap::bench::synthetic_batch;

/// Tasks for the fast backends: 90 M cells, about 0.2 s on two cores.
const TASKS: usize = 2_000;
/// Tasks for the oracle.
const REFERENCE_TASKS: usize = 50;
const SEED: u64 = 1;

fn run_backend(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    backend: &dyn AlignBackend,
    batch: &AlignBatch,
) {
    let scoring = Scoring::default();
    group.throughput(Throughput::Elements(batch.cells()));
    group.bench_function(name, |b| b.iter(|| backend.align(black_box(batch), &scoring).expect("backend runs")));
}

fn kernels(c: &mut Criterion) {
    let batch = synthetic_batch(TASKS, 150, 300, SEED, false);
    let small = synthetic_batch(REFERENCE_TASKS, 150, 300, SEED, false);
    let mut group = c.benchmark_group("align_150x300");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));

    run_backend(&mut group, "reference", &OracleBackend, &small);
    run_backend(&mut group, "cpu", &CpuBackend::new(), &batch);
    match GpuBackend::new(true) {
        Err(e) => eprintln!("skipping the GPU benches: no GPU adapter ({e})"),
        Ok(gpu) => {
            eprintln!("GPU adapter: {} ({}, device type {})", gpu.info.name, gpu.info.backend, gpu.info.device_type);
            run_backend(&mut group, "gpu", &gpu, &batch);
            if gpu.info.has_timestamps {
                let scoring = Scoring::default();
                // Criterion times what we tell it to: the summed kernel time of each call.
                group.bench_function("gpu_kernel", |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| {
                                let (_, t) = gpu.align_timed(&batch, &scoring).expect("GPU runs");
                                Duration::from_nanos(t.kernel_ns.expect("adapter has timestamps"))
                            })
                            .sum()
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
