//! GPU backend: the recurrence of `crate::align` in `shaders/align.wgsl`, through wgpu on
//! Vulkan. One invocation aligns one task, DP and traceback both on the device; the host
//! reads back only result records and CIGARs.
//!
//! The device's tasks are sorted by size and split into dispatches that fit the adapter's
//! per-binding limit and a memory budget ([`plan`]); within a dispatch the work words of a
//! subgroup's tasks are interleaved, so that their stores coalesce. Two dispatches of a call
//! are in flight at once, each in its own buffer set from a pool ([`buffers`]; sets persist
//! across batches and grow on demand): while dispatch k runs, k + 1 is uploaded and submitted
//! and k - 1 decoded (in parallel) on the host. Tasks the kernel cannot take are aligned by the
//! CPU backend's code ([`super::cpu::align_dp`]), so results stay identical: queries longer
//! than [`GpuBackend::MAX_QUERY`] and tasks whose loops would run past a driver's iteration
//! limit ([`fits_kernel`]; they run on rayon while the GPU works), and tasks whose traceback
//! alone exceeds what one dispatch may hold.

mod buffers;
mod context;
mod layout;
mod plan;
mod run;
mod shader;

use super::cpu::align_dp;
use super::{AlignBackend, GpuInfo, GpuTiming};
use crate::align::lanes::fits_16;
use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use crate::index::Reference;
use buffers::Buffers;
use context::Context;
use plan::Capacity;
use run::{Failure, InFlight};
use shader::Kernel;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Work buffer memory a discrete GPU may use per dispatch before any out-of-memory error
/// halves it: with 150 x 300 tasks (23 KB of traceback each) about 370,000 tasks.
const DISCRETE_WORK_BUDGET: u64 = 8 << 30;

/// Below this, running out of memory is an error rather than a reason to halve the budget.
const MIN_WORK_BUDGET: u64 = 4 << 20;

/// Tasks per dispatch unless [`GpuBackend::with_max_tasks_per_dispatch`] says otherwise. A
/// mapper's GPU chunk (50,000 reads, some 77,000 tasks) then takes three dispatches, so that
/// its upload and decoding overlap the kernel. An estimate, unmeasured on a hardware GPU:
/// 32,768 invocations are a quarter of an H200's resident ones, and consecutive dispatches
/// into different buffer sets may run side by side; lavapipe runs 100k chr20 pairs as fast as
/// with 131,072 (3.24-3.38 s against 3.36-3.42).
const DEFAULT_MAX_TASKS: usize = 1 << 15;

/// Alignments in task order, kernel time, dispatches, bytes uploaded, tasks left to the CPU.
type GpuOutput = (Vec<Alignment>, Option<u64>, usize, u64, usize);

/// The reference in device memory, 2-bit packed as in [`Reference`] (16 bases per word).
struct DeviceReference {
    /// [`Reference::id`] of the reference copied.
    id: u64,
    buffer: wgpu::Buffer,
}

/// Buffer sets per backend. One call keeps two dispatches in flight (the next uploaded and
/// submitted while one runs, the last decoded after), so a second caller (the mapper's mate
/// rescue runs beside its main batches) still finds a set free.
const BUFFER_SETS: usize = 3;

/// Buffer sets one call uses at most.
const SETS_PER_CALL: usize = 2;

/// The GPU alignment engine. Built once; `Send + Sync`: calls from several threads share the
/// device, each with buffer sets of its own taken from a pool, never one lock for a whole batch.
pub struct GpuBackend {
    /// The adapter the backend opened.
    pub info: GpuInfo,
    ctx: Context,
    /// Buffer sets not in use; a call takes up to [`SETS_PER_CALL`] and returns them.
    free: Mutex<Vec<Buffers>>,
    returned: Condvar,
    /// Bytes of work buffers one dispatch may use; halved on running out of device memory.
    work_budget: AtomicU64,
    /// CIGAR words per task to read back with the results (see `run::cigar_guess`).
    cigar_hint: AtomicU64,
    /// Set after a device error; the backend refuses further batches.
    broken: Mutex<Option<String>>,
    /// The reference the mapper offered ([`AlignBackend::use_reference`]), when it fits.
    reference: Mutex<Option<Arc<DeviceReference>>>,
    max_tasks: usize,
    /// Cap on each work buffer, below the binding limit (tests).
    max_work_buffer: u64,
    /// Tasks whose work words are interleaved ([`plan::Capacity::interleave`]).
    interleave: u32,
    /// How the kernel was built.
    kernel: Kernel,
}

impl GpuBackend {
    /// Longest query the kernel aligns; longer ones go to the CPU kernel.
    pub const MAX_QUERY: usize = layout::MAX_QUERY;

    /// Opens the best Vulkan adapter: a hardware GPU (discrete, integrated or virtual), or with
    /// `allow_software` any adapter, software ones such as lavapipe included.
    pub fn new(allow_software: bool) -> Result<GpuBackend> {
        GpuBackend::nth(0, allow_software)
    }

    /// How many usable Vulkan adapters there are ([`GpuBackend::nth`] opens each); 0 when
    /// there are none.
    pub fn count(allow_software: bool) -> usize {
        context::adapters(allow_software).map_or(0, |a| a.len())
    }

    /// Opens the `n`th usable Vulkan adapter, counting from 0 in the order [`GpuBackend::new`]
    /// prefers them (hardware first). Each call opens a device of its own, so the same `n`
    /// twice gives two devices on one adapter.
    pub fn nth(n: usize, allow_software: bool) -> Result<GpuBackend> {
        // Tuning knobs that need no rebuild (scripts/gpubench.sh sweeps them): SWMAP_GPU_STRIP,
        // SWMAP_GPU_NARROW, SWMAP_GPU_SUBGROUPS, SWMAP_GPU_DISPATCH_TASKS and
        // SWMAP_GPU_INTERLEAVE. Results never change.
        let knob = |name: &str, allowed: &dyn Fn(usize) -> bool, expected: &str| -> Result<Option<usize>> {
            match std::env::var(name) {
                Err(_) => Ok(None),
                Ok(v) => match v.trim().parse::<usize>() {
                    Ok(n) if allowed(n) => Ok(Some(n)),
                    _ => Err(Error::Gpu(format!("{name}={v}: expected {expected}"))),
                },
            }
        };
        let range = |lo: usize, hi: usize| move |n: usize| (lo..=hi).contains(&n);
        let strip = knob(
            "SWMAP_GPU_STRIP",
            &|n| shader::STRIPS.iter().any(|&s| s as usize == n),
            &format!("one of {:?}", shader::STRIPS),
        )?
        .map_or(shader::DEFAULT_STRIP, |n| n as u32);
        let switch = |name: &str| knob(name, &|n| n <= 1, "0 or 1").map(|v| v.map(|n| n == 1));
        let narrow = switch("SWMAP_GPU_NARROW")?.unwrap_or(false);
        let subgroups = switch("SWMAP_GPU_SUBGROUPS")?.unwrap_or(false);
        let kernel = Kernel { strip, narrow, subgroups };
        let max_tasks =
            knob("SWMAP_GPU_DISPATCH_TASKS", &range(1, u32::MAX as usize), "a number from 1 to 4294967295")?
                .unwrap_or(DEFAULT_MAX_TASKS);
        let interleave = knob(
            "SWMAP_GPU_INTERLEAVE",
            &range(1, layout::WORKGROUP as usize),
            &format!("a number from 1 to {}", layout::WORKGROUP),
        )?;
        let (ctx, info) = context::open(allow_software, n, kernel)?;
        let binding = binding_limit(&ctx.limits);
        // Only a discrete GPU gets several bindings' worth of work buffers: a software adapter
        // gains nothing from huge dispatches, and an integrated one shares the host's memory.
        let work_budget = if info.device_type == "DiscreteGpu" {
            (binding * layout::WORK_BUFFERS as u64).min(DISCRETE_WORK_BUDGET)
        } else {
            binding
        };
        let sets = (0..BUFFER_SETS).map(|_| Buffers::new(&ctx.device, ctx.timestamps.is_some())).collect();
        if let Some(e) = ctx.errors.take() {
            return Err(Error::Gpu(format!("{}: {e}", info.name)));
        }
        // A subgroup's lanes store side by side when their words are interleaved (one
        // transaction per warp on NVIDIA). On lavapipe, which runs 8 invocations as one AVX
        // vector and the 8-lane batches of a workgroup one after another, wider groups than
        // that share cache lines between batches (measured there: 1.77-1.83 GCUPS at 8 against
        // 1.23 at 64).
        let interleave = interleave.map_or(info.subgroup_size.clamp(1, layout::WORKGROUP), |n| n as u32);
        Ok(GpuBackend {
            info,
            ctx,
            free: Mutex::new(sets),
            returned: Condvar::new(),
            work_budget: AtomicU64::new(work_budget),
            cigar_hint: AtomicU64::new(4),
            broken: Mutex::new(None),
            reference: Mutex::new(None),
            max_tasks,
            max_work_buffer: u64::MAX,
            interleave,
            kernel,
        })
    }

    /// The kernel rebuilt as `kernel` says; an error where the device lacks what it needs.
    fn rebuilt(mut self, kernel: Kernel) -> Result<GpuBackend> {
        (self.ctx.pipeline, self.ctx.layout) = context::build_kernel(&self.ctx.device, &self.info.name, kernel)?;
        self.kernel = kernel;
        Ok(self)
    }

    /// The kernel with DP strips of `strip` columns (8, 16 or 32) instead of the default;
    /// tests use it to run every width on any adapter. Results never change.
    pub fn with_strip(self, strip: u32) -> Result<GpuBackend> {
        let kernel = Kernel { strip, ..self.kernel };
        self.rebuilt(kernel)
    }

    /// The kernel with its boundary column in 16-bit halves (`narrow`) or not, and reserving
    /// CIGAR room with one atomic per subgroup (`subgroups`, an error on a device without
    /// subgroup operations) or per invocation. Tasks whose values do not fit 16 bits go to the
    /// CPU kernel under a narrow kernel. Results never change.
    pub fn with_variants(self, narrow: bool, subgroups: bool) -> Result<GpuBackend> {
        let kernel = Kernel { narrow, subgroups, ..self.kernel };
        self.rebuilt(kernel)
    }

    /// Target columns per DP strip of the kernel.
    pub fn strip(&self) -> u32 {
        self.kernel.strip
    }

    /// How the kernel is built, in words: "strips of 8 columns", then ", 16-bit boundary
    /// column" and ", subgroup atomics" for those variants.
    pub fn kernel(&self) -> String {
        self.kernel.to_string()
    }

    /// Caps the tasks of one dispatch (at least 1); tests use it to force a batch to split.
    pub fn with_max_tasks_per_dispatch(mut self, tasks: usize) -> GpuBackend {
        self.max_tasks = tasks.max(1);
        self
    }

    /// Caps each work buffer (traceback and CIGAR scratch) at `bytes`, at least 1 MiB, so that
    /// a dispatch spreads over all of them; tests use it to reach every buffer with little data.
    pub fn with_max_work_buffer_bytes(mut self, bytes: u64) -> GpuBackend {
        self.max_work_buffer = bytes.max(1 << 20);
        self
    }

    /// Interleaves the work words of `tasks` tasks (1 to 64) instead of the adapter's subgroup
    /// size; tests use it to run every layout on any adapter.
    pub fn with_interleave(mut self, tasks: u32) -> GpuBackend {
        self.interleave = tasks.clamp(1, layout::WORKGROUP);
        self
    }

    /// [`AlignBackend::align`], also saying where the time went (for `swmap bench`).
    pub fn align_timed(&self, batch: &AlignBatch, scoring: &Scoring) -> Result<(Vec<Alignment>, GpuTiming)> {
        let all: Vec<usize> = (0..batch.len()).collect();
        self.align_tasks_timed(batch, scoring, &all)
    }

    /// [`AlignBackend::align_tasks`], also saying where the time went.
    fn align_tasks_timed(
        &self,
        batch: &AlignBatch,
        scoring: &Scoring,
        ids: &[usize],
    ) -> Result<(Vec<Alignment>, GpuTiming)> {
        let start = Instant::now();
        // Positions in `ids` of the tasks the CPU takes and of those the device takes.
        let (long, mut short): (Vec<usize>, Vec<usize>) =
            (0..ids.len()).partition(|&p| !fits_kernel(&batch.tasks[ids[p]], self.kernel, scoring));
        // Tasks of one size side by side: the lanes of a workgroup then run their loops in
        // step, and an interleave group's region is sized for its largest task (plan.rs).
        short.sort_unstable_by_key(|&p| {
            let t = &batch.tasks[ids[p]];
            (t.query_len, t.target_len, t.diag_hi.wrapping_sub(t.diag_lo), p)
        });
        let on_device: Vec<usize> = short.iter().map(|&p| ids[p]).collect();
        let on_cpu: Vec<usize> = long.iter().map(|&p| ids[p]).collect();
        let (gpu, cpu) =
            rayon::join(|| self.align_on_gpu(batch, scoring, &on_device), || align_dp(batch, scoring, &on_cpu));
        let (gpu, kernel_ns, dispatches, uploaded_bytes, oversized) = gpu?;
        let (device_tasks, cpu_tasks) = (short.len() - oversized, long.len() + oversized);
        let alignments = super::scatter(ids.len(), [(short, gpu), (long, cpu)]);
        let total_ns = start.elapsed().as_nanos() as u64;
        Ok((alignments, GpuTiming { kernel_ns, total_ns, dispatches, uploaded_bytes, device_tasks, cpu_tasks }))
    }

    /// Aligns `batch.tasks[ids]` on the device, in `ids` order; also the summed kernel time
    /// and the number of dispatches.
    fn align_on_gpu(&self, batch: &AlignBatch, sc: &Scoring, ids: &[usize]) -> Result<GpuOutput> {
        if ids.is_empty() {
            return Ok((Vec::new(), self.ctx.timestamps.as_ref().map(|_| 0), 0, 0, 0));
        }
        if let Some(e) = lock(&self.broken).as_ref() {
            return Err(Error::Gpu(format!("{} failed earlier in this run: {e}", self.info.name)));
        }
        let mut sets = self.take_sets();
        // wgpu panics on some device failures (e.g. a lost device while waiting); those must
        // become errors too. A failure marks the backend broken; the buffer sets go back to
        // the pool either way.
        let result = catch_unwind(AssertUnwindSafe(|| self.dispatch_all(&mut sets, batch, sc, ids)))
            .unwrap_or_else(|p| Err(format!("wgpu panicked: {}", super::panic_text(&*p))));
        self.give_back(sets);
        let result = match (result, self.ctx.errors.take()) {
            (Ok(_), Some(e)) | (Err(e), _) => Err(e),
            (Ok(r), None) => Ok(r),
        };
        result.map_err(|e| {
            *lock(&self.broken) = Some(e.clone());
            Error::Gpu(format!("{}: {e}", self.info.name))
        })
    }

    /// At least one buffer set (waiting for one if every set is in use), two if free.
    fn take_sets(&self) -> Vec<Buffers> {
        let mut free = lock(&self.free);
        while free.is_empty() {
            free = self.returned.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        let n = free.len().min(SETS_PER_CALL);
        let at = free.len() - n;
        free.split_off(at)
    }

    fn give_back(&self, sets: Vec<Buffers>) {
        lock(&self.free).extend(sets);
        self.returned.notify_all();
    }

    /// Plans dispatches and keeps up to `sets.len()` of them in flight: dispatch k + 1 is
    /// uploaded and submitted while k runs, and k is decoded while k + 1 runs.
    fn dispatch_all(
        &self,
        sets: &mut [Buffers],
        batch: &AlignBatch,
        sc: &Scoring,
        ids: &[usize],
    ) -> std::result::Result<GpuOutput, String> {
        let binding = binding_limit(&self.ctx.limits);
        // Windows come from the device's reference when the batch's do.
        let reference = lock(&self.reference).clone().filter(|r| batch.reference == Some(r.id));
        let mut uploaded = 0u64;
        let mut slots: Vec<Option<Alignment>> = vec![None; ids.len()];
        let mut kernel_ns = self.ctx.timestamps.as_ref().map(|_| 0);
        let mut dispatches = 0;
        let mut oversized = 0;
        let mut in_flight: VecDeque<InFlight> = VecDeque::new();
        let mut finish_oldest = |in_flight: &mut VecDeque<InFlight>,
                                 sets: &mut [Buffers],
                                 slots: &mut [Option<Alignment>]|
         -> std::result::Result<(), String> {
            let Some(f) = in_flight.pop_front() else { return Ok(()) };
            let (start, set) = (f.start, f.set);
            let (out, hint) = run::finish(&self.ctx, &mut sets[set], f).map_err(|e| match e {
                Failure::OutOfMemory(e) => format!("out of GPU memory reading results: {e}"),
                Failure::Device(e) => e,
            })?;
            self.cigar_hint.store(hint, Ordering::Relaxed);
            kernel_ns = kernel_ns.zip(out.kernel_ns).map(|(a, b)| a + b);
            dispatches += 1;
            for (slot, a) in slots[start..].iter_mut().zip(out.alignments) {
                *slot = Some(a);
            }
            Ok(())
        };
        let mut pos = 0;
        while pos < ids.len() {
            let budget = self.work_budget.load(Ordering::Relaxed);
            let cap = self.capacity(budget);
            let chunk = plan::next_chunk(batch, ids, pos, &cap, reference.is_some());
            if chunk.tasks.is_empty() {
                // Its traceback alone exceeds what a dispatch may hold.
                slots[pos] = align_dp(batch, sc, &ids[pos..pos + 1]).pop();
                oversized += 1;
                pos += 1;
                continue;
            }
            if in_flight.len() == sets.len() {
                finish_oldest(&mut in_flight, sets, &mut slots)?;
            }
            let set = (0..sets.len()).find(|s| in_flight.iter().all(|f| f.set != *s)).expect("a set is free");
            let hint = self.cigar_hint.load(Ordering::Relaxed);
            let submitted = context::scoped(&self.ctx.device, || {
                let on_device = reference.as_deref().map(|r| &r.buffer);
                run::submit(&self.ctx, &mut sets[set], set, batch, sc, &chunk, pos, hint, binding, on_device)
            });
            match submitted.map_err(Failure::from).and_then(|r| r) {
                Ok(f) => {
                    in_flight.push_back(f);
                    let tasks = std::mem::size_of_val(chunk.tasks.as_slice());
                    uploaded += (tasks + chunk.query_span.len()) as u64 + chunk.target_bytes();
                    pos = chunk.end;
                }
                Err(Failure::OutOfMemory(_)) if budget / 2 >= MIN_WORK_BUDGET => {
                    // Finish what runs, free what the failed dispatch grew, then try
                    // dispatches half the size.
                    while !in_flight.is_empty() {
                        finish_oldest(&mut in_flight, sets, &mut slots)?;
                    }
                    let _ = self.work_budget.compare_exchange(budget, budget / 2, Ordering::Relaxed, Ordering::Relaxed);
                    sets.iter_mut().for_each(|b| b.release_work(&self.ctx.device));
                }
                Err(Failure::OutOfMemory(e)) => return Err(format!("out of GPU memory: {e}")),
                Err(Failure::Device(e)) => return Err(e),
            }
        }
        while !in_flight.is_empty() {
            finish_oldest(&mut in_flight, sets, &mut slots)?;
        }
        let alignments = slots.into_iter().map(|a| a.expect("every task aligned once")).collect();
        Ok((alignments, kernel_ns, dispatches, uploaded, oversized))
    }

    /// What one dispatch may use under `work_budget` bytes of work buffers.
    fn capacity(&self, work_budget: u64) -> Capacity {
        let binding = binding_limit(&self.ctx.limits);
        let per_buffer = binding.min(work_budget).min(self.max_work_buffer) / 4 * 4;
        let max_dim = self.ctx.limits.max_compute_workgroups_per_dimension as u64;
        // Task ids are u32, and a 2D dispatch holds at most max_dim^2 workgroups.
        let dispatchable = (max_dim * max_dim * layout::WORKGROUP as u64).min(u32::MAX as u64) as usize;
        Capacity {
            binding_bytes: binding,
            work_words: per_buffer / 4,
            work_buffers: (work_budget.div_ceil(per_buffer) as usize).clamp(1, layout::WORK_BUFFERS),
            max_tasks: self.max_tasks.min(dispatchable),
            interleave: self.interleave,
        }
    }
}

/// Loop iterations one invocation may run, summed over its loops. Mesa's lavapipe ends an
/// invocation's loops after about 65,535 iterations without any error, and the task's result
/// is then wrong (measured: a 256 x 2,020 task, 64,768 DP rows plus its traceback); no real
/// GPU driver is known to have such a limit, but the rule is the same on every adapter so
/// that which tasks run where never depends on it.
const MAX_LOOP_ITERATIONS: u64 = 60_000;

/// Whether `kernel` can align `task`, decided before dispatch: a query of at most
/// [`GpuBackend::MAX_QUERY`] bases whose loops (a DP row per query base in each strip of
/// the kernel's columns, the per-strip set-up, and a traceback of at most twice `m + n` steps)
/// stay under [`MAX_LOOP_ITERATIONS`], and for a narrow kernel values that fit 16 bits under
/// `sc` ([`fits_16`]). Any other task goes to the CPU kernel, with identical results.
fn fits_kernel(task: &crate::batch::AlignTask, kernel: Kernel, sc: &Scoring) -> bool {
    let (m, n) = (task.query_len as u64, task.target_len as u64);
    let strip = kernel.strip as u64;
    let loops = n.div_ceil(strip) * (m + 2 * strip) + 2 * (m + n) + 2;
    m as usize <= GpuBackend::MAX_QUERY
        && loops <= MAX_LOOP_ITERATIONS
        && (!kernel.narrow || fits_16(m as usize, n as usize, sc))
}

/// Largest binding this device takes, kept below 4 GiB so that byte offsets fit the shader's u32.
fn binding_limit(limits: &wgpu::Limits) -> u64 {
    limits.max_storage_buffer_binding_size.min(limits.max_buffer_size).min(u32::MAX as u64) / 4 * 4
}

/// A lock whose data stays usable after a panic elsewhere (every holder leaves it whole).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AlignBackend for GpuBackend {
    fn chunk_reads(&self) -> usize {
        super::GPU_CHUNK_READS
    }

    fn describe(&self) -> String {
        format!("gpu ({}, {}, {}, {})", self.info.name, self.info.backend, self.info.device_type, self.kernel)
    }

    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Result<Vec<Alignment>> {
        self.align_tasks_timed(batch, scoring, ids).map(|(alignments, _)| alignments)
    }

    /// Copies the reference into device memory once (0.8 GB for a human genome), unless it is
    /// there already or exceeds one binding (then windows are uploaded with each batch, as
    /// for batches without origins); running out of device memory here is no error either.
    fn use_reference(&self, reference: &Reference) -> Result<()> {
        let mut held = lock(&self.reference);
        if held.as_ref().is_some_and(|r| r.id == reference.id()) {
            return Ok(());
        }
        *held = None;
        let packed = reference.packed();
        let bytes = (packed.len() as u64).next_multiple_of(4);
        if bytes == 0 || bytes > binding_limit(&self.ctx.limits) {
            return Ok(());
        }
        let made = context::scoped(&self.ctx.device, || {
            let buffer = self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("reference"),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            run::upload_span(&self.ctx.queue, &buffer, packed, &(0..packed.len()));
            buffer
        });
        match made {
            Ok(buffer) => *held = Some(Arc::new(DeviceReference { id: reference.id(), buffer })),
            Err(wgpu::Error::OutOfMemory { .. }) => {}
            Err(e) => return Err(Error::Gpu(format!("{}: {}", self.info.name, context::one_line(&e.to_string())))),
        }
        Ok(())
    }
}
