//! `swmap bench`: alignment-kernel throughput of the GPU and CPU backends on a seeded synthetic
//! batch (see [`crate::bench`]), and whether their results are identical.

use super::index::set_threads;
use crate::backend::GpuBackend;
use crate::bench::{run_bench, Agreement, BenchBackends, BenchOptions, BenchReport, GpuOutcome};
use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchBackendArg {
    /// The GPU (any adapter, software ones included) if one works, and the CPU; compares them.
    All,
    /// The GPU only; an error if no adapter works.
    Gpu,
    /// The rayon CPU backend only.
    Cpu,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Backends to measure.
    #[arg(long, value_enum, default_value_t = BenchBackendArg::All)]
    pub backend: BenchBackendArg,
    /// Read/window pairs in the batch. The default takes about 2 s per run on a 2-core CPU; use
    /// 100000 or more on a hardware GPU, which small batches cannot fill.
    #[arg(long, default_value_t = BenchOptions::default().pairs)]
    pub pairs: usize,
    /// Read (query) length.
    #[arg(long, default_value_t = BenchOptions::default().read_len)]
    pub read_len: usize,
    /// Reference window (target) length.
    #[arg(long, default_value_t = BenchOptions::default().window)]
    pub window: usize,
    /// Align each read only within the band of diagonals the mapper gives a window of this
    /// size (0 to window - read length), not the whole matrix; e.g. `--window 190 --banded`
    /// is an ordinary 150-base read's task.
    #[arg(long)]
    pub banded: bool,
    /// Random seed of the batch; the same seed gives the same batch everywhere.
    #[arg(long, default_value_t = BenchOptions::default().seed)]
    pub seed: u64,
    /// CPU backend threads [default: all cores]. Lavapipe sizes its own pool (LP_NUM_THREADS).
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// Timed runs per backend after one warm-up run; the best is reported.
    #[arg(long, default_value_t = BenchOptions::default().repeats)]
    pub repeats: usize,
}

/// Measures, prints the report on stdout, and fails when the backends disagree.
pub fn run(args: Args) -> Result<()> {
    let options = BenchOptions {
        backends: match args.backend {
            BenchBackendArg::All => BenchBackends::All,
            BenchBackendArg::Gpu => BenchBackends::Gpu,
            BenchBackendArg::Cpu => BenchBackends::Cpu,
        },
        pairs: args.pairs,
        read_len: args.read_len,
        window: args.window,
        banded: args.banded,
        seed: args.seed,
        repeats: args.repeats,
    };
    options.validate()?;
    set_threads(args.threads)?;
    let report = run_bench(&options)?;
    print!("{}", render(&report));
    match report.agreement {
        Agreement::Differ { task, .. } => {
            Err(Error::Gpu(format!("the GPU and CPU backends gave different alignments (first at task {task})")))
        }
        _ => Ok(()),
    }
}

/// The report for people, one fact per line.
pub fn render(r: &BenchReport) -> String {
    let o = &r.options;
    let mut out = format!(
        "batch:      {} alignments of {} x {}{} (seed {}), {:.3} G cells; best of {} after one warm-up\n",
        r.tasks,
        o.read_len,
        o.window,
        if o.banded { format!(" in a band of {} diagonals", o.window - o.read_len + 1) } else { String::new() },
        o.seed,
        r.cells as f64 / 1e9,
        o.repeats
    );
    let ms = |ns: u64| ns as f64 / 1e6;
    match &r.gpu {
        GpuOutcome::NotAsked => {}
        GpuOutcome::Unavailable(why) => out += &format!("gpu:        not measured: {why}\n"),
        GpuOutcome::Measured(g) => {
            let kind = match g.info.device_type.as_str() {
                "Cpu" => " (software Vulkan on the CPU, not a GPU)",
                _ => "",
            };
            out +=
                &format!("adapter:    {}, {}, device type {}{kind}\n", g.info.name, g.info.backend, g.info.device_type);
            let subgroups = if g.info.subgroups { "subgroup operations" } else { "no subgroup operations" };
            out += &format!("kernel:     {} (subgroups of up to {}, {subgroups})\n", g.kernel, g.info.subgroup_size);
            out += &match (r.gpu_kernel_gcups(), g.kernel_ns) {
                (Some(k), Some(ns)) => format!("gpu kernel: {k:.2} GCUPS ({:.1} ms, timestamp queries)\n", ms(ns)),
                _ if g.dispatches == 0 => "gpu kernel: n/a (no task ran on the GPU)\n".to_string(),
                _ => "gpu kernel: n/a (the adapter has no timestamp queries)\n".to_string(),
            };
            out += &format!(
                "gpu total:  {:.2} GCUPS ({:.1} ms, upload and readback included), {} dispatch{}\n",
                r.gpu_total_gcups().unwrap_or(0.0),
                ms(g.total_ns),
                g.dispatches,
                if g.dispatches == 1 { "" } else { "es" }
            );
            if o.read_len > GpuBackend::MAX_QUERY || g.dispatches == 0 {
                out += &format!(
                    "note:       tasks the kernel cannot take (reads over {} bases, or loops past a driver's \
                     iteration limit) are aligned by the CPU kernel, so these are not GPU figures\n",
                    GpuBackend::MAX_QUERY
                );
            }
        }
    }
    if let (Some(c), Some(gcups)) = (r.cpu, r.cpu_gcups()) {
        out += &format!(
            "cpu:        {gcups:.2} GCUPS ({:.1} ms) on {} thread{}\n",
            ms(c.ns),
            c.threads,
            if c.threads == 1 { "" } else { "s" }
        );
    }
    if let (Some(g), Some(c)) = (r.gpu_total_gcups(), r.cpu_gcups()) {
        let kernel = r.gpu_kernel_gcups().map(|k| format!(", {:.2}x kernel only", k / c)).unwrap_or_default();
        out += &format!("gpu/cpu:    {:.2}x with transfers{kernel}\n", g / c);
    }
    out += &match &r.agreement {
        Agreement::NotCompared => "identical:  not checked (only one backend ran)\n".to_string(),
        Agreement::Identical => format!("identical:  yes (all {} alignments)\n", r.tasks),
        Agreement::Differ { task, gpu, cpu } => {
            format!("identical:  NO — first difference at task {task}\n  gpu: {gpu:?}\n  cpu: {cpu:?}\n")
        }
    };
    out
}
