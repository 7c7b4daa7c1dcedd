//! The GPU backend's own paths, each checked against the CPU backend result by result: batches
//! split over several dispatches, queries too long for the kernel, CIGARs longer than the
//! first readback expects, buffers reused across batches and threads. On a machine without a
//! Vulkan adapter these tests skip, unless `SWMAP_REQUIRE_GPU` is set (CI sets it and runs
//! them on lavapipe).

use crate::support::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use swmap::align::{Band, Scoring};
use swmap::backend::{AlignBackend, CpuBackend, GpuBackend, OracleBackend};
use swmap::batch::AlignBatch;
use swmap::rng::Rng;
use swmap::Error;
use swmap::Reference;

fn bases(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.base()).collect()
}

/// A read taken from the middle of a window, with an insertion and a deletion every
/// `gap_every` bases and a substitution now and then.
fn read_from(rng: &mut Rng, window: &[u8], len: usize, gap_every: usize) -> Vec<u8> {
    let start = rng.below((window.len() - len) as u64 / 2 + 1) as usize;
    let mut read = Vec::with_capacity(len);
    let mut j = start;
    for step in 1.. {
        if read.len() == len || j >= window.len() {
            break;
        }
        if step % gap_every == 0 {
            read.push(rng.base()); // insertion
        } else if step % gap_every == gap_every / 2 {
            j += 1; // deletion
        } else {
            read.push(if rng.below(50) == 0 { (window[j] + 1) % 4 } else { window[j] });
            j += 1;
        }
    }
    read
}

/// `tasks` reads of `read_len` against windows of `window_len`, each query shared by two
/// windows as the mapper does (forward and a second candidate).
fn batch(seed: u64, tasks: usize, read_len: usize, window_len: usize, gap_every: usize) -> AlignBatch {
    let mut rng = Rng::new(seed);
    let mut b = AlignBatch::new();
    while b.len() < tasks {
        let window = bases(&mut rng, window_len);
        let read = read_from(&mut rng, &window, read_len, gap_every);
        let q = b.push_query(&read);
        b.push_task(q, &window);
        if b.len() < tasks {
            b.push_task(q, &bases(&mut rng, window_len));
        }
    }
    b
}

fn assert_same_as_cpu(gpu: &GpuBackend, batch: &AlignBatch, sc: &Scoring) {
    assert_same_alignments(Engine { name: "gpu", backend: gpu }, engine("cpu").unwrap(), batch, sc);
}

/// `got` (from the GPU) against the CPU backend's results for `batch`.
fn assert_cpu_agrees(got: &[swmap::align::Alignment], batch: &AlignBatch, sc: &Scoring) {
    let want = CpuBackend::new().align(batch, sc).expect("cpu backend runs");
    assert_same_items("alignments", ("gpu", got), ("cpu", &want), task_inputs(batch, sc));
}

#[test]
fn batch_split_over_many_dispatches_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    let gpu = gpu.with_max_tasks_per_dispatch(13);
    let b = batch(1, 150, 100, 160, 30);
    let (got, timing) = gpu.align_timed(&b, &Scoring::default()).expect("gpu backend runs");
    assert_eq!(timing.dispatches, 150usize.div_ceil(13));
    assert_cpu_agrees(&got, &b, &Scoring::default());
    assert!(timing.total_ns > 0);
    if gpu.info.has_timestamps {
        assert!(timing.kernel_ns.is_some());
    }
}

#[test]
fn dispatch_spread_over_every_work_buffer_matches_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    // 150 x 300 tasks take 24 KB of work each: 43 per 1 MiB buffer, about 170 per dispatch.
    let gpu = gpu.with_max_work_buffer_bytes(1 << 20);
    let b = batch(6, 400, 150, 300, 50);
    let (got, timing) = gpu.align_timed(&b, &Scoring::default()).expect("gpu backend runs");
    assert_eq!(timing.dispatches, 3);
    assert_cpu_agrees(&got, &b, &Scoring::default());
}

#[test]
fn queries_longer_than_the_kernel_takes_go_to_the_cpu() {
    let Some(gpu) = shared_gpu() else { return };
    let mut rng = Rng::new(2);
    let mut b = AlignBatch::new();
    for len in [GpuBackend::MAX_QUERY - 1, GpuBackend::MAX_QUERY, GpuBackend::MAX_QUERY + 1, 700] {
        let window = bases(&mut rng, len * 5 / 4 + 40);
        let q = b.push_query(&read_from(&mut rng, &window, len, 90));
        b.push_task(q, &window);
        let q = b.push_query(&bases(&mut rng, 120)); // short ones in between
        b.push_task(q, &window);
    }
    let lens: Vec<u32> = b.tasks.iter().step_by(2).map(|t| t.query_len).collect();
    assert_eq!(lens, [511, 512, 513, 700]);
    assert_same_as_cpu(gpu, &b, &Scoring::default());
}

#[test]
fn cigars_longer_than_the_first_readback_expects_are_fetched() {
    let Some(gpu) = shared_gpu() else { return };
    // With cheap gaps, a gap every 6 bases gives dozens of CIGAR runs per aligned read, far
    // over the initial guess of 4 per task.
    let b = batch(3, 40, 150, 220, 6);
    let sc = Scoring { gap_open: 0, gap_extend: 1, ..Scoring::default() };
    assert_same_as_cpu(gpu, &b, &sc);
    assert_same_as_cpu(gpu, &b, &sc); // and again with the hint it learned
}

#[test]
fn buffers_grow_and_are_reused_across_batches_and_threads() {
    let Some(gpu) = shared_gpu() else { return };
    let sc = Scoring::default();
    let small = batch(4, 5, 50, 80, 20);
    let large = batch(5, 120, 250, 400, 40);
    assert_same_as_cpu(gpu, &small, &sc);
    assert_same_as_cpu(gpu, &large, &sc);
    assert_same_as_cpu(gpu, &small, &sc);
    std::thread::scope(|s| {
        for b in [&small, &large, &small] {
            s.spawn(|| assert_same_as_cpu(gpu, b, &sc));
        }
    });
}

/// Under every engine, the oracle included.
#[test]
fn empty_batch_and_empty_tasks() {
    let sc = Scoring::default();
    let mut b = AlignBatch::new();
    let q = b.push_query(&[]);
    b.push_task(q, &[0, 1, 2]);
    let q = b.push_query(&[0, 1, 2]);
    b.push_task(q, &[]);
    b.push_task(q, &[3, 0, 1, 2, 3]);
    for e in engines() {
        assert!(e.backend.align(&AlignBatch::new(), &sc).unwrap().is_empty(), "{}: results for no tasks", e.name);
        assert_same_alignments(oracle(), e, &b, &sc);
    }
}

#[test]
fn describe_names_the_adapter() {
    let Some(gpu) = shared_gpu() else { return };
    let d = gpu.describe();
    assert!(d.starts_with("gpu (") && d.contains(&gpu.info.name) && d.contains(&gpu.info.device_type), "{d}");
}

#[test]
fn hardware_only_request_refuses_software_adapters() {
    match GpuBackend::new(false) {
        Ok(gpu) => {
            assert_ne!(gpu.info.device_type, "Cpu", "a software adapter was accepted: {}", gpu.describe())
        }
        Err(Error::Gpu(message)) => assert!(!message.is_empty() && !message.contains('\n'), "{message}"),
        Err(e) => panic!("expected Error::Gpu, got {e}"),
    }
}

#[test]
fn backend_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GpuBackend>();
}

/// Lavapipe ends an invocation's loops after about 65,535 iterations, silently: such tasks
/// come back wrong from the device (a 250-base read in a tandem array as `248S1M`). The
/// backend keeps every task whose loops could reach that (60,000 counted in the kernel's own
/// terms, see `fits_kernel`: strips of `s` columns cost `ceil(n / s) * (m + 2 s) + 2 (m + n) +
/// 2` for an `m x n` task) on the CPU kernel. At every strip width, tasks just under the cut run
/// on the device and tasks just over it on the CPU (150-base reads against 2,600 and 2,900
/// bases at strips of 8: 59,452 and 66,192 loop iterations; 4,400 and 4,700 at 16: 59,152 and
/// 63,210; 6,600 and 6,900 at 32: 57,800 and 60,326), and every result matches the CPU's,
/// whichever side of the limit it fell on.
#[test]
fn tasks_at_the_driver_loop_limit_run_on_the_right_side_and_match_cpu() {
    let Some(gpu) = shared_gpu() else { return };
    let sc = Scoring::default();
    for (strip, under, over) in [(8, 2_600, 2_900), (16, 4_400, 4_700), (32, 6_600, 6_900)] {
        let opened;
        let gpu = if strip == gpu.strip() {
            gpu
        } else {
            opened = GpuBackend::new(true).expect("a second backend opens").with_strip(strip).expect("kernel builds");
            &opened
        };
        for (seed, window, on_device) in [(41, under, true), (42, over, false)] {
            let b = batch(seed, 6, 150, window, 40);
            let (got, timing) = gpu.align_timed(&b, &sc).expect("gpu backend runs");
            let (device, cpu) = if on_device { (b.len(), 0) } else { (0, b.len()) };
            let what = format!("strip {strip}, 150 x {window}");
            assert_eq!((timing.device_tasks, timing.cpu_tasks), (device, cpu), "{what}");
            assert_cpu_agrees(&got, &b, &sc);
        }
    }
    // Windows of 2,020 and 5,000 bases, a 7.5 kb mate-rescue window, longer reads.
    for (seed, read_len, window) in [(43, 256, 2020), (44, 150, 5000), (45, 150, 7500), (46, 250, 2100)] {
        assert_same_as_cpu(gpu, &batch(seed, 4, read_len, window, 40), &sc);
    }
}

/// One task past the limit inside a batch of ordinary ones: the ordinary ones still run on the
/// device, the big one on the CPU kernel, and every result matches.
#[test]
fn one_oversized_task_among_ordinary_ones_matches_cpu() {
    let Some(gpu) = shared_gpu() else { return };
    let sc = Scoring::default();
    let mut b = batch(45, 31, 150, 190, 30);
    let big = batch(46, 1, 250, 6000, 40);
    let q = b.push_query(big.query(&big.tasks[0]));
    b.push_task(q, big.target(&big.tasks[0]));
    let extra = batch(47, 8, 150, 190, 30);
    for t in &extra.tasks {
        let q = b.push_query(extra.query(t));
        b.push_task(q, extra.target(t));
    }
    let (got, timing) = gpu.align_timed(&b, &sc).expect("gpu backend runs");
    assert!(timing.dispatches >= 1, "the ordinary tasks still run on the device");
    assert_eq!((timing.device_tasks, timing.cpu_tasks), (b.len() - 1, 1));
    assert_cpu_agrees(&got, &b, &sc);
}

/// A backend that returns a result its task cannot have: the mapper's check turns it into an
/// error naming the backend and task, never a record.
#[test]
fn impossible_backend_result_is_an_error_not_a_record() {
    type Alignments = Vec<swmap::align::Alignment>;
    type Tamper = fn(&mut Alignments, &[usize]) -> usize;
    /// The CPU's results, then `tamper` changes them; the task it changed is remembered.
    struct Tampered {
        tamper: Tamper,
        task: AtomicUsize,
    }
    impl AlignBackend for Tampered {
        fn describe(&self) -> String {
            "broken".into()
        }
        fn align_tasks(&self, batch: &AlignBatch, sc: &Scoring, ids: &[usize]) -> swmap::Result<Alignments> {
            let mut alns = CpuBackend::new().align_tasks(batch, sc, ids)?;
            self.task.store((self.tamper)(&mut alns, ids), Ordering::Relaxed);
            Ok(alns)
        }
    }
    let sc = Scoring::default();
    let b = batch(48, 6, 150, 190, 30);
    for e in engines() {
        assert!(swmap::backend::align_checked(e.backend, &b, &sc).is_ok(), "{}", e.name);
    }
    let cases: [(&str, Tamper); 3] = [
        // What a task past lavapipe's loop limit comes back as: a path of one base for a whole
        // read.
        ("one-base path", |alns, ids| {
            let last = alns.last_mut().unwrap();
            last.query_start = last.query_end - 1;
            *ids.last().unwrap()
        }),
        // A wrong score with a well-formed CIGAR.
        ("wrong score", |alns, ids| {
            alns[0].score += 1;
            ids[0]
        }),
        // A result missing.
        ("missing result", |alns, _| {
            alns.pop();
            usize::MAX
        }),
    ];
    for (what, tamper) in cases {
        let broken = Tampered { tamper, task: AtomicUsize::new(usize::MAX - 1) };
        let err = swmap::backend::align_checked(&broken, &b, &sc).unwrap_err().to_string();
        let task = broken.task.load(Ordering::Relaxed);
        assert_ne!(task, usize::MAX - 1, "{what}: the engine was given tasks");
        assert!(err.contains("broken backend"), "{what}: {err}");
        if task != usize::MAX {
            assert!(err.contains(&format!("task {task}")), "{what}: {err}");
        }
    }
}

/// Tasks of mixed sizes and bands, empty ones among them, under every interleave width: the
/// work words of a group's tasks share one region (shaders/align.wgsl), and a group may hold
/// tasks of different lengths and bands, or be cut short by a full buffer.
#[test]
fn interleaved_work_regions_match_the_oracle_at_every_width_and_scoring() {
    let Some(gpu) = shared_gpu() else { return };
    let mut rng = Rng::new(49);
    let mut b = AlignBatch::new();
    for k in 0..300 {
        let (m, n) = (60 + rng.below(200) as usize, 80 + rng.below(400) as usize);
        let window = bases(&mut rng, n);
        let read = read_from(&mut rng, &window, m.min(n), 25);
        let q = b.push_query(&read);
        match k % 7 {
            0 => b.push_task(q, &[]),
            1 | 2 => b.push_task(q, &window),
            _ => {
                let lo = rng.below(60) as i32 - 40;
                b.push_banded_task(q, &window, Band { lo, hi: lo + 8 + rng.below(120) as i32 })
            }
        };
    }
    for sc in scorings() {
        let want = OracleBackend.align(&b, &sc).expect("the oracle runs");
        for width in [1, 5, 8, 32, 64] {
            let gpu = GpuBackend::new(true).expect("a second backend opens").with_interleave(width);
            let (got, timing) = gpu.align_timed(&b, &sc).expect("gpu backend runs");
            assert!(timing.device_tasks > 250, "width {width}: {} tasks on the device", timing.device_tasks);
            assert_same_items("alignments", ("gpu", &got), ("oracle", &want), task_inputs(&b, &sc));
            // And groups cut short where a small work buffer fills.
            let gpu = gpu.with_max_work_buffer_bytes(1 << 20);
            let (got, _) = gpu.align_timed(&b, &sc).expect("gpu backend runs");
            assert_same_items("alignments", ("gpu", &got), ("oracle", &want), task_inputs(&b, &sc));
        }
    }
    let _ = gpu;
}

/// Tasks of mixed sizes and bands, widths that are no multiple of any strip, empty tasks,
/// windows read from the reference (returned, for the device to hold), and tasks near the
/// driver's loop limit (how many loops a task runs depends on the strip width).
fn mixed_batch() -> (AlignBatch, Reference) {
    let mut rng = Rng::new(51);
    let codes: Vec<u8> = (0..100_000).map(|_| rng.base()).collect();
    let reference = Reference::from_codes(&codes);
    let mut b = AlignBatch::new();
    let mut scratch = Vec::new();
    for k in 0..240u64 {
        let (m, n) = (40 + rng.below(220), 1 + rng.below(420));
        let start = rng.below(99_000);
        let window = &codes[start as usize..(start + n) as usize];
        let read = read_from(&mut rng, window, (m as usize).min(n as usize), 25);
        let q = b.push_query(&read);
        let lo = rng.below(60) as i32 - 40;
        match k % 5 {
            0 => b.push_task(q, &[]),
            1 => b.push_task(q, window),
            2 => b.push_banded_task(q, window, Band { lo, hi: lo + 8 + rng.below(120) as i32 }),
            _ => b.push_reference_task(q, &reference, start..start + n, Band { lo, hi: n as i32 }, &mut scratch),
        };
    }
    for (seed, read_len, window) in [(52, 256, 2020), (53, 150, 5000), (54, 250, 2100)] {
        let big = batch(seed, 2, read_len, window, 40);
        for t in &big.tasks {
            let q = b.push_query(big.query(t));
            b.push_task(q, big.target(t));
        }
    }
    (b, reference)
}

/// The kernel at every DP strip width (`SWMAP_GPU_STRIP`) gives the oracle's results on
/// [`mixed_batch`].
#[test]
fn every_strip_width_matches_the_oracle_under_every_scoring() {
    let Some(_) = shared_gpu() else { return };
    let (b, reference) = mixed_batch();
    for sc in scorings() {
        let want = OracleBackend.align(&b, &sc).expect("the oracle runs");
        for strip in [8, 16, 32] {
            let gpu =
                GpuBackend::new(true).expect("a second backend opens").with_strip(strip).expect("the kernel builds");
            assert_eq!(gpu.strip(), strip);
            gpu.use_reference(&reference).unwrap();
            let (got, timing) = gpu.align_timed(&b, &sc).expect("gpu backend runs");
            assert!(timing.dispatches >= 1 && timing.device_tasks > 200, "strip {strip}: {timing:?}");
            assert_same_items("alignments", ("gpu", &got), ("oracle", &want), task_inputs(&b, &sc));
        }
    }
    let gpu = GpuBackend::new(true).unwrap();
    assert!(gpu.with_strip(24).is_err_and(|e| e.to_string().contains("[8, 16, 32]")));
}

/// The kernel's variants (`SWMAP_GPU_NARROW`: the boundary column in 16 bits;
/// `SWMAP_GPU_SUBGROUPS`: one CIGAR atomic per subgroup) at the narrowest and widest strips give
/// the oracle's results on [`mixed_batch`] under every scoring. Under gap costs that take a
/// task's values out of 16 bits the narrow kernel leaves it to the CPU kernel: more tasks there
/// than with the plain kernel, the same results.
#[test]
fn every_kernel_variant_matches_the_oracle_under_every_scoring() {
    let Some(_) = shared_gpu() else { return };
    let (mut b, reference) = mixed_batch();
    let long = batch(55, 6, 150, 900, 40);
    for t in &long.tasks {
        let q = b.push_query(long.query(t));
        b.push_task(q, long.target(t));
    }
    let wide_gaps = Scoring { match_score: 1, mismatch: 4, gap_open: 6, gap_extend: 12, clip: 5, ambiguous: -1 };
    let mut all = scorings();
    all.push(wide_gaps);
    for sc in &all {
        let want = OracleBackend.align(&b, sc).expect("the oracle runs");
        for strip in [8, 32] {
            let open = || GpuBackend::new(true).expect("a second backend opens").with_strip(strip).expect("builds");
            let plain = open().with_variants(false, false).expect("the plain kernel builds");
            plain.use_reference(&reference).unwrap();
            let (_, plain_timing) = plain.align_timed(&b, sc).expect("gpu backend runs");
            for (narrow, subgroups) in [(true, false), (false, true), (true, true)] {
                let gpu = match open().with_variants(narrow, subgroups) {
                    Err(e) if subgroups => {
                        assert!(e.to_string().contains("needs subgroup operations"), "{e}");
                        continue;
                    }
                    built => built.expect("the kernel builds"),
                };
                let what = format!("{} under {sc:?}", gpu.kernel());
                assert_eq!(gpu.kernel().contains("16-bit boundary column"), narrow, "{what}");
                assert_eq!(gpu.kernel().contains("subgroup atomics"), subgroups, "{what}");
                gpu.use_reference(&reference).unwrap();
                let (got, timing) = gpu.align_timed(&b, sc).expect("gpu backend runs");
                assert!(timing.dispatches >= 1 && timing.device_tasks > 100, "{what}: {timing:?}");
                // (Under the other scorings, a narrow kernel may leave the longest windows,
                // those strips of 32 take on the device, to the CPU too.)
                let extra = timing.cpu_tasks - plain_timing.cpu_tasks;
                if !narrow || *sc == wide_gaps {
                    assert_eq!(extra > 0, narrow, "{what}: {extra} more tasks on the CPU");
                }
                assert_same_items("alignments", ("gpu", &got), ("oracle", &want), task_inputs(&b, sc));
            }
        }
    }
}

/// More callers than buffer sets, each batch over many dispatches kept two in flight: every
/// caller waits its turn for a set and gets its own results, in its own order.
#[test]
fn concurrent_callers_with_dispatches_in_flight_match_cpu() {
    let Some(gpu) = gpu_or_skip() else { return };
    let gpu = gpu.with_max_tasks_per_dispatch(9);
    let sc = Scoring::default();
    let batches: Vec<AlignBatch> = (0..6).map(|k| batch(60 + k, 40 + 7 * k as usize, 120, 200, 30)).collect();
    std::thread::scope(|s| {
        for b in &batches {
            let gpu = &gpu;
            let sc = &sc;
            s.spawn(move || {
                let (got, timing) = gpu.align_timed(b, sc).expect("gpu backend runs");
                assert_eq!(timing.dispatches, b.len().div_ceil(9));
                assert_cpu_agrees(&got, b, sc);
            });
        }
    });
}

/// Windows read from the device's copy of the reference (a mapper's batches): the same
/// results as with their bases uploaded, fewer bytes sent, and windows with N (which the
/// 2-bit copy cannot hold) or from another reference still uploaded.
#[test]
fn windows_from_the_device_reference_match_cpu() {
    let Some(_) = shared_gpu() else { return };
    let sc = Scoring::default();
    let mut rng = Rng::new(50);
    let codes: Vec<u8> = (0..200_000).map(|i| if (50_000..50_100).contains(&i) { 4 } else { rng.base() }).collect();
    let reference = Reference::from_codes(&codes);
    let mut b = AlignBatch::new();
    let mut window = Vec::new();
    for k in 0..400u64 {
        // Windows anywhere, some over the N run, some at odd offsets into a packed word.
        let start = if k % 10 == 0 { 49_900 + rng.below(150) } else { rng.below(199_000) };
        let len = 150 + rng.below(200);
        let bases = &codes[start as usize..(start + len) as usize];
        let read = read_from(&mut rng, bases, 120, 30);
        let q = b.push_query(&read);
        let band = Band { lo: -20, hi: len as i32 - 100 };
        b.push_reference_task(q, &reference, start..start + len, band, &mut window);
        if k % 7 == 0 {
            b.push_task(q, &bases[..100]); // a window given as bases among them
        }
    }
    assert!(b.origins.contains(&swmap::batch::NO_ORIGIN) && b.origins.iter().any(|&o| o != swmap::batch::NO_ORIGIN));
    let plain = GpuBackend::new(true).unwrap();
    let (want, sent) = plain.align_timed(&b, &sc).expect("gpu backend runs");
    assert_cpu_agrees(&want, &b, &sc);
    let with_ref = GpuBackend::new(true).unwrap();
    with_ref.use_reference(&reference).unwrap();
    let (got, timing) = with_ref.align_timed(&b, &sc).expect("gpu backend runs");
    assert_cpu_agrees(&got, &b, &sc);
    // Exactly the windows with an origin stay home.
    let on_device: u64 = b
        .tasks
        .iter()
        .zip(&b.origins)
        .filter(|(_, &o)| o != swmap::batch::NO_ORIGIN)
        .map(|(t, _)| t.target_len as u64)
        .sum();
    assert!(on_device > 50_000);
    assert_eq!(timing.uploaded_bytes, sent.uploaded_bytes - on_device);
    // Another reference with the same bases is another reference: its batches upload bases.
    with_ref.use_reference(&Reference::from_codes(&codes[..1000])).unwrap();
    let (again, timing) = with_ref.align_timed(&b, &sc).expect("gpu backend runs");
    assert_cpu_agrees(&again, &b, &sc);
    assert_eq!(timing.uploaded_bytes, sent.uploaded_bytes);
}
