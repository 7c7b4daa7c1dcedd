//! The device side built once per backend: adapter choice, device, pipeline, bind-group layout,
//! and the plumbing that turns wgpu's errors (which panic by default) into `Error::Gpu`.

use super::layout::{REFERENCE_BINDING, WORK_BUFFERS};
use super::shader::Kernel;
use super::GpuInfo;
use crate::error::{Error, Result};
use std::sync::{Arc, Mutex};

/// Errors wgpu reports outside an error scope, and device loss; read after every batch.
#[derive(Clone, Default)]
pub struct ErrorLog(Arc<Mutex<Vec<String>>>);

impl ErrorLog {
    fn push(&self, message: String) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(message);
    }

    /// The first error logged since the last call, if any.
    pub fn take(&self) -> Option<String> {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let first = log.first().map(|m| one_line(m));
        log.clear();
        first
    }
}

/// wgpu's messages span lines; ours are one line.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub pipeline: wgpu::ComputePipeline,
    pub layout: wgpu::BindGroupLayout,
    pub limits: wgpu::Limits,
    /// Bound as the reference when the device holds none (binding 9 must be bound).
    pub no_reference: wgpu::Buffer,
    /// Query set of two timestamps and nanoseconds per tick, when the device has them.
    pub timestamps: Option<(wgpu::QuerySet, f64)>,
    pub errors: ErrorLog,
}

fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn is_hardware(t: wgpu::DeviceType) -> bool {
    type_rank(t) <= 2
}

/// Mesa's Vulkan drivers probe for a Wayland display while adapters are enumerated, and
/// libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set" on stderr when the
/// variable is unset (servers, CI), into the output of every program that embeds swmap.
/// Pointing it at the temporary directory, once, before the first Vulkan instance, keeps
/// stderr to the caller's own lines. A value already set is left alone.
fn quiet_wayland_probe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
        }
    });
}

/// The best Vulkan adapter: hardware first; software (lavapipe) only when allowed.
fn pick_adapter(allow_software: bool, n: usize) -> Result<wgpu::Adapter> {
    let mut usable = adapters(allow_software)?;
    let count = usable.len();
    if n >= count {
        let names: Vec<String> = usable.iter().map(|a| a.get_info().name).collect();
        return Err(Error::Gpu(format!(
            "GPU {n} asked for, but {count} found ({}; they count from 0)",
            names.join(", ")
        )));
    }
    Ok(usable.swap_remove(n))
}

/// The usable Vulkan adapters, best first: hardware GPUs (discrete, then integrated and
/// virtual), then with `allow_software` software ones such as lavapipe. An error when there
/// are none.
pub fn adapters(allow_software: bool) -> Result<Vec<wgpu::Adapter>> {
    quiet_wayland_probe();
    let desc = wgpu::InstanceDescriptor {
        backends: wgpu::Backends::VULKAN,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    };
    let instance = wgpu::Instance::new(desc.with_env());
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN));
    if adapters.is_empty() {
        return Err(Error::Gpu(
            "no Vulkan adapter found (install the GPU's Vulkan driver and libvulkan1, or \
             mesa-vulkan-drivers for a software one; --backend cpu needs none)"
                .into(),
        ));
    }
    adapters.sort_by_key(|a| type_rank(a.get_info().device_type));
    let names: Vec<String> =
        adapters.iter().map(|a| format!("{} ({:?})", a.get_info().name, a.get_info().device_type)).collect();
    let usable: Vec<wgpu::Adapter> =
        adapters.into_iter().filter(|a| allow_software || is_hardware(a.get_info().device_type)).collect();
    if usable.is_empty() {
        return Err(Error::Gpu(format!(
            "only software Vulkan adapters found ({}); --backend gpu accepts them",
            names.join(", ")
        )));
    }
    Ok(usable)
}

/// Runs `f` inside error scopes for every error kind and returns the first error caught.
pub fn scoped<T>(device: &wgpu::Device, f: impl FnOnce() -> T) -> std::result::Result<T, wgpu::Error> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    let errors = [validation.pop(), internal.pop(), oom.pop()].map(pollster::block_on);
    match errors.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(value),
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

/// [`build_pipeline`] inside error scopes: a device error is an `Error::Gpu` naming `adapter`,
/// as is a kernel that needs subgroup operations on a device without them.
pub fn build_kernel(
    device: &wgpu::Device,
    adapter: &str,
    kernel: Kernel,
) -> Result<(wgpu::ComputePipeline, wgpu::BindGroupLayout)> {
    if kernel.subgroups && !device.features().contains(wgpu::Features::SUBGROUP) {
        return Err(Error::Gpu(format!(
            "{adapter}: the kernel with subgroup atomics needs subgroup operations, which this device lacks"
        )));
    }
    scoped(device, || build_pipeline(device, kernel)).map_err(|e| {
        Error::Gpu(format!("{adapter}: the alignment kernel does not build: {}", one_line(&e.to_string())))
    })?
}

/// The pipeline of `kernel`.
fn build_pipeline(device: &wgpu::Device, kernel: Kernel) -> Result<(wgpu::ComputePipeline, wgpu::BindGroupLayout)> {
    let source = super::shader::source(kernel).map_err(Error::Gpu)?;
    let mut entries = vec![wgpu::BindGroupLayoutEntry {
        binding: 0,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }];
    // Inputs read-only (tasks, queries, targets), then `out` and the work buffers, then the
    // reference (read-only).
    entries.extend((1..=3).map(|b| storage_entry(b, true)));
    entries.extend((4..=4 + WORK_BUFFERS as u32).map(|b| storage_entry(b, false)));
    entries.push(storage_entry(REFERENCE_BINDING, true));
    let layout =
        device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("align"), entries: &entries });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("align"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    // naga's loop bounding (a counter in every loop) keeps drivers from unrolling the strip
    // loops and costs 8x on an H200 (measured); bounds checks stay on.
    let checks = wgpu::ShaderRuntimeChecks { force_loop_bounding: false, ..wgpu::ShaderRuntimeChecks::checked() };
    // SAFETY: every loop of align.wgsl terminates: the DP loops count up to m and n / STRIP
    // (those over a strip's columns are written out), and the traceback stops after at most
    // 2(m + n) + 2 steps whatever the record says.
    let module = unsafe {
        device.create_shader_module_trusted(
            wgpu::ShaderModuleDescriptor { label: Some("align.wgsl"), source: wgpu::ShaderSource::Wgsl(source.into()) },
            checks,
        )
    };
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("align"),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some("align"),
        compilation_options: wgpu::PipelineCompilationOptions::default(),
        cache: None,
    });
    Ok((pipeline, layout))
}

/// Opens the adapter, the device (with timestamp queries and subgroup operations where the
/// adapter has them) and the pipeline of `kernel`.
pub fn open(allow_software: bool, n: usize, kernel: Kernel) -> Result<(Context, GpuInfo)> {
    let adapter = pick_adapter(allow_software, n)?;
    let ai = adapter.get_info();
    let optional = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::SUBGROUP;
    let features = adapter.features() & optional;
    let has_timestamps = features.contains(wgpu::Features::TIMESTAMP_QUERY);
    let desc = wgpu::DeviceDescriptor {
        label: Some("swmap"),
        required_features: features,
        // wgpu's defaults cap a storage binding at 128 MiB even where the adapter allows 2 GiB.
        required_limits: adapter.limits(),
        ..Default::default()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&desc))
        .map_err(|e| Error::Gpu(format!("{}: cannot open the device: {}", ai.name, one_line(&e.to_string()))))?;
    let errors = ErrorLog::default();
    let log = errors.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| log.push(e.to_string())));
    let log = errors.clone();
    device.set_device_lost_callback(move |reason, message| log.push(format!("device lost ({reason:?}): {message}")));

    let (pipeline, layout) = build_kernel(&device, &ai.name, kernel)?;
    let timestamps = has_timestamps.then(|| {
        let set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("kernel time"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        (set, queue.get_timestamp_period() as f64)
    });
    let info = GpuInfo {
        name: ai.name.clone(),
        backend: format!("{:?}", ai.backend),
        device_type: format!("{:?}", ai.device_type),
        has_timestamps,
        subgroup_size: ai.subgroup_max_size,
        subgroups: features.contains(wgpu::Features::SUBGROUP),
    };
    let limits = device.limits();
    let no_reference = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("no reference"),
        size: 16,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    Ok((Context { device, queue, pipeline, layout, limits, no_reference, timestamps, errors }, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device to test against, or `None` (with a note) on a machine without any adapter.
    fn context() -> Option<Context> {
        match open(true, 0, Kernel::PLAIN) {
            Ok((ctx, _)) => Some(ctx),
            Err(e) if std::env::var_os("SWMAP_REQUIRE_GPU").is_none() => {
                eprintln!("skipping: {e}");
                None
            }
            Err(e) => panic!("SWMAP_REQUIRE_GPU is set but no GPU adapter works: {e}"),
        }
    }

    fn oversized_buffer(device: &wgpu::Device) -> wgpu::Buffer {
        let size = device.limits().max_buffer_size.saturating_add(1 << 20);
        device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    }

    /// A device opened without subgroup operations refuses the kernel that needs them, in one
    /// line naming the adapter, and still builds the plain one.
    #[test]
    fn the_subgroup_kernel_needs_the_subgroup_feature() {
        let adapter = match adapters(true) {
            Ok(mut found) => found.swap_remove(0),
            Err(e) if std::env::var_os("SWMAP_REQUIRE_GPU").is_none() => {
                eprintln!("skipping: {e}");
                return;
            }
            Err(e) => panic!("SWMAP_REQUIRE_GPU is set but no GPU adapter works: {e}"),
        };
        let desc = wgpu::DeviceDescriptor {
            required_features: wgpu::Features::empty(),
            required_limits: adapter.limits(),
            ..Default::default()
        };
        let (device, _queue) = pollster::block_on(adapter.request_device(&desc)).expect("a plain device opens");
        let subgroups = Kernel { subgroups: true, ..Kernel::PLAIN };
        let e = build_kernel(&device, "an adapter", subgroups).expect_err("refused").to_string();
        assert!(e.contains("an adapter: the kernel with subgroup atomics needs subgroup operations"), "{e}");
        assert!(!e.contains('\n'));
        assert!(build_kernel(&device, "an adapter", Kernel::PLAIN).is_ok());
    }

    #[test]
    fn device_errors_are_returned_or_logged_never_panics() {
        let Some(ctx) = context() else { return };
        let caught = scoped(&ctx.device, || oversized_buffer(&ctx.device));
        assert!(matches!(caught, Err(wgpu::Error::Validation { .. })));
        assert_eq!(ctx.errors.take(), None);
        // Outside a scope the error goes to the log the backend checks after every batch.
        let _ = oversized_buffer(&ctx.device);
        let logged = ctx.errors.take().expect("the error was logged");
        assert!(!logged.contains('\n'), "{logged}");
        assert_eq!(ctx.errors.take(), None);
    }
}
