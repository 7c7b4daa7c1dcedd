//! One dispatch in two halves: [`submit`] uploads a chunk, runs the kernel and starts the copy
//! of its results; [`finish`] waits for them and decodes results and CIGARs. The caller submits
//! the next dispatch, into another buffer set, before finishing this one.

use super::buffers::{Buffers, TIMESTAMP_BYTES};
use super::context::{one_line, scoped, Context};
use super::layout::{Params, OUT_HEADER, REFERENCE_BINDING, RESULT_WORDS, STATUS_OK, WORKGROUP};
use super::plan::Chunk;
use crate::align::{Alignment, Cigar, Scoring};
use crate::batch::AlignBatch;

/// Why a dispatch failed; running out of memory is worth retrying with smaller dispatches.
pub enum Failure {
    OutOfMemory(String),
    Device(String),
}

impl From<wgpu::Error> for Failure {
    fn from(e: wgpu::Error) -> Failure {
        match e {
            wgpu::Error::OutOfMemory { .. } => Failure::OutOfMemory(one_line(&e.to_string())),
            _ => Failure::Device(one_line(&e.to_string())),
        }
    }
}

pub struct ChunkOutput {
    /// One per task of the chunk, in its order.
    pub alignments: Vec<Alignment>,
    pub kernel_ns: Option<u64>,
}

/// Words of readback reserved per task for CIGARs before the kernel has run; more costs a
/// second copy. `hint` adapts it to what the last dispatch produced.
fn cigar_guess(tasks: u64, hint: u64, capacity: u64) -> u64 {
    (tasks * hint).min(capacity)
}

/// Uploads bytes `data[span]` at offset 0 of `buf`: whole words first, then the tail padded
/// with zeros (writes must be multiples of 4 bytes).
pub(super) fn upload_span(queue: &wgpu::Queue, buf: &wgpu::Buffer, data: &[u8], span: &std::ops::Range<usize>) {
    let bytes = &data[span.clone()];
    let whole = bytes.len() / 4 * 4;
    if whole > 0 {
        queue.write_buffer(buf, 0, &bytes[..whole]);
    }
    if whole < bytes.len() {
        let mut tail = [0u8; 4];
        tail[..bytes.len() - whole].copy_from_slice(&bytes[whole..]);
        queue.write_buffer(buf, whole as u64, &tail);
    }
}

fn binding(buf: &wgpu::Buffer, bytes: u64) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer: buf,
        offset: 0,
        size: wgpu::BufferSize::new(bytes.next_multiple_of(4).max(4)),
    })
}

/// A dispatch submitted and not yet read back: its buffer set stays reserved until
/// [`finish`] has copied its results out.
pub struct InFlight {
    /// Which of the caller's buffer sets holds it.
    pub set: usize,
    /// The chunk's first task is `ids[start]` of the list it was planned from.
    pub start: usize,
    tasks: u64,
    cigar_base: u64,
    capacity: u64,
    guess: u64,
    submission: wgpu::SubmissionIndex,
    mapped: std::sync::mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
    readback_bytes: u64,
}

/// Starts mapping `readback[0..bytes)` once the GPU is done with the submissions so far;
/// the completion arrives on the returned channel when the device is polled.
fn map_when_done(readback: &wgpu::Buffer, bytes: u64) -> std::sync::mpsc::Receiver<Result<(), wgpu::BufferAsyncError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    readback.slice(0..bytes).map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
    rx
}

/// Waits for `submission` (other threads' work on the queue may complete too), then for the
/// mapping of `readback[0..bytes)`, and copies it into host memory.
fn read_mapped(
    ctx: &Context,
    readback: &wgpu::Buffer,
    bytes: u64,
    submission: wgpu::SubmissionIndex,
    mapped: &std::sync::mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
) -> Result<Vec<u32>, Failure> {
    let wait = wgpu::PollType::Wait { submission_index: Some(submission), timeout: None };
    ctx.device.poll(wait).map_err(|e| Failure::Device(format!("waiting for the GPU: {e}")))?;
    // The callback runs inside some thread's poll once the copy is done; ours has just seen
    // the submission complete, so it has run, unless another thread's poll holds it.
    let status = match mapped.try_recv() {
        Ok(r) => r,
        Err(_) => {
            ctx.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| Failure::Device(format!("waiting for the GPU: {e}")))?;
            mapped.recv().map_err(|_| Failure::Device("the result buffer was never mapped".into()))?
        }
    };
    status.map_err(|e| Failure::Device(format!("mapping the result buffer failed: {e}")))?;
    let slice = readback.slice(0..bytes);
    let words = {
        let view = slice.get_mapped_range().map_err(|e| Failure::Device(format!("reading results: {e}")))?;
        bytemuck::pod_collect_to_vec::<u8, u32>(&view)
    };
    readback.unmap();
    Ok(words)
}

/// Encodes a copy of `out[from..from + bytes)` to `readback`, after the timestamps.
fn copy_out(encoder: &mut wgpu::CommandEncoder, bufs: &Buffers, from: u64, bytes: u64) {
    if bytes > 0 {
        encoder.copy_buffer_to_buffer(&bufs.out, from, &bufs.readback, TIMESTAMP_BYTES, bytes);
    }
}

/// Uploads `chunk` into `bufs`, submits its kernel and the copy of its results, and starts
/// mapping them; [`finish`] collects them. `cigar_hint` is the CIGAR words per task to read
/// back with the results (more costs a second copy).
#[allow(clippy::too_many_arguments)]
pub fn submit(
    ctx: &Context,
    bufs: &mut Buffers,
    set: usize,
    batch: &AlignBatch,
    sc: &Scoring,
    chunk: &Chunk,
    start: usize,
    cigar_hint: u64,
    binding_limit: u64,
    reference: Option<&wgpu::Buffer>,
) -> Result<InFlight, Failure> {
    let n = chunk.tasks.len() as u64;
    let params = Params::new(sc, n as u32);
    let cigar_base = params.cigar_base as u64;
    let capacity = chunk.out_words - cigar_base;
    let guess = cigar_guess(n, cigar_hint, capacity);
    let readback_bytes = TIMESTAMP_BYTES + (cigar_base + guess) * 4;
    bufs.reserve(&ctx.device, chunk, readback_bytes, binding_limit)?;

    let q = &ctx.queue;
    q.write_buffer(&bufs.params, 0, bytemuck::bytes_of(&params));
    q.write_buffer(&bufs.tasks, 0, bytemuck::cast_slice(&chunk.tasks));
    upload_span(q, &bufs.queries, &batch.queries, &chunk.query_span);
    match &chunk.gathered {
        Some(g) => upload_span(q, &bufs.targets, g, &(0..g.len())),
        None => upload_span(q, &bufs.targets, &batch.targets, &chunk.target_span),
    }
    q.write_buffer(&bufs.out, 0, &[0u8; 4]); // the CIGAR cursor

    let mut entries = vec![
        wgpu::BindGroupEntry { binding: 0, resource: bufs.params.as_entire_binding() },
        // Exact sizes, so that arrayLength(&tasks) is the task count.
        wgpu::BindGroupEntry {
            binding: 1,
            resource: binding(&bufs.tasks, std::mem::size_of_val(chunk.tasks.as_slice()) as u64),
        },
        wgpu::BindGroupEntry { binding: 2, resource: binding(&bufs.queries, chunk.query_span.len() as u64) },
        wgpu::BindGroupEntry { binding: 3, resource: binding(&bufs.targets, chunk.target_bytes()) },
        wgpu::BindGroupEntry { binding: 4, resource: binding(&bufs.out, chunk.out_words * 4) },
    ];
    for (b, buf) in bufs.work.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry { binding: 5 + b as u32, resource: buf.as_entire_binding() });
    }
    let reference = reference.unwrap_or(&ctx.no_reference);
    entries.push(wgpu::BindGroupEntry { binding: REFERENCE_BINDING, resource: reference.as_entire_binding() });
    let group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &ctx.layout,
        entries: &entries,
    });

    let groups = n.div_ceil(WORKGROUP as u64) as u32;
    let x = groups.min(ctx.limits.max_compute_workgroups_per_dimension);
    let y = groups.div_ceil(x);
    let mut encoder = ctx.device.create_command_encoder(&Default::default());
    {
        let timestamp_writes = ctx.timestamps.as_ref().map(|(set, _)| wgpu::ComputePassTimestampWrites {
            query_set: set,
            beginning_of_pass_write_index: Some(0),
            end_of_pass_write_index: Some(1),
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes });
        pass.set_pipeline(&ctx.pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups(x, y, 1);
    }
    if let (Some((set, _)), Some(resolve)) = (&ctx.timestamps, &bufs.resolve) {
        encoder.resolve_query_set(set, 0..2, resolve, 0);
        encoder.copy_buffer_to_buffer(resolve, 0, &bufs.readback, 0, TIMESTAMP_BYTES);
    }
    copy_out(&mut encoder, bufs, 0, (cigar_base + guess) * 4);
    let submission = ctx.queue.submit([encoder.finish()]);
    let mapped = map_when_done(&bufs.readback, readback_bytes);
    Ok(InFlight { set, start, tasks: n, cigar_base, capacity, guess, submission, mapped, readback_bytes })
}

/// Waits for a submitted dispatch and decodes its results (in parallel); also the CIGAR words
/// per task the next dispatch should read back at once.
pub fn finish(ctx: &Context, bufs: &mut Buffers, f: InFlight) -> Result<(ChunkOutput, u64), Failure> {
    let InFlight { tasks: n, cigar_base, capacity, guess, .. } = f;
    let first = read_mapped(ctx, &bufs.readback, f.readback_bytes, f.submission, &f.mapped)?;
    let out = &first[TIMESTAMP_BYTES as usize / 4..];

    let used = out[0] as u64;
    if used > capacity {
        return Err(Failure::Device(format!("the kernel wrote {used} CIGAR words into room for {capacity}")));
    }
    let mut cigars = out[cigar_base as usize..(cigar_base + used.min(guess)) as usize].to_vec();
    if used > guess {
        let more = (used - guess) * 4;
        scoped(&ctx.device, || bufs.grow_readback(&ctx.device, TIMESTAMP_BYTES + more))??;
        let mut encoder = ctx.device.create_command_encoder(&Default::default());
        copy_out(&mut encoder, bufs, (cigar_base + guess) * 4, more);
        let submission = ctx.queue.submit([encoder.finish()]);
        let mapped = map_when_done(&bufs.readback, TIMESTAMP_BYTES + more);
        let rest = read_mapped(ctx, &bufs.readback, TIMESTAMP_BYTES + more, submission, &mapped)?;
        cigars.extend_from_slice(&rest[TIMESTAMP_BYTES as usize / 4..]);
    }
    // Room for half as much again as this dispatch needed per task.
    let hint = (used * 3 / 2).div_ceil(n).clamp(2, 64);

    let kernel_ns = ctx.timestamps.as_ref().map(|(_, period)| {
        let t0 = first[0] as u64 | (first[1] as u64) << 32;
        let t1 = first[2] as u64 | (first[3] as u64) << 32;
        (t1.wrapping_sub(t0) as f64 * period) as u64
    });
    let alignments = decode(&out[OUT_HEADER as usize..cigar_base as usize], &cigars)?;
    Ok((ChunkOutput { alignments, kernel_ns }, hint))
}

/// Turns the result records (one per task, in task order) into alignments, on the rayon pool.
fn decode(records: &[u32], cigars: &[u32]) -> Result<Vec<Alignment>, Failure> {
    use rayon::prelude::*;
    records
        .par_chunks_exact(RESULT_WORDS as usize)
        .with_min_len(4096)
        .enumerate()
        .map(|(k, r)| {
            let (len, off, status) = (r[5] as usize, r[6] as usize, r[7]);
            if status != STATUS_OK || off + len > cigars.len() {
                return Err(Failure::Device(format!("the kernel failed on task {k} of a dispatch (status {status})")));
            }
            Ok(Alignment {
                score: r[0] as i32,
                query_start: r[1],
                query_end: r[2],
                target_start: r[3],
                target_end: r[4],
                cigar: Cigar::from_words(&cigars[off..off + len]),
            })
        })
        .collect()
}
