//! One dispatch: upload a chunk, run the kernel, read back results and CIGARs, decode them.

use super::buffers::{Buffers, TIMESTAMP_BYTES};
use super::context::{one_line, scoped, Context};
use super::layout::{Params, OUT_HEADER, RESULT_WORDS, STATUS_OK, WORKGROUP};
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
fn upload_span(queue: &wgpu::Queue, buf: &wgpu::Buffer, data: &[u8], span: &std::ops::Range<usize>) {
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

/// Copies `bytes` from the start of `readback` into host memory, waiting for the GPU.
fn read_back(ctx: &Context, readback: &wgpu::Buffer, bytes: u64) -> Result<Vec<u32>, Failure> {
    let slice = readback.slice(0..bytes);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| drop(tx.send(r)));
    ctx.device
        .poll(wgpu::PollType::wait_indefinitely())
        .map_err(|e| Failure::Device(format!("waiting for the GPU: {e}")))?;
    match rx.try_recv() {
        Ok(Ok(())) => {}
        _ => return Err(Failure::Device("mapping the result buffer failed".into())),
    }
    let words = {
        let view = slice.get_mapped_range().map_err(|e| Failure::Device(format!("reading results: {e}")))?;
        view.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect()
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

pub fn run_chunk(
    ctx: &Context,
    bufs: &mut Buffers,
    batch: &AlignBatch,
    sc: &Scoring,
    chunk: &Chunk,
    cigar_hint: &mut u64,
    binding_limit: u64,
) -> Result<ChunkOutput, Failure> {
    let n = chunk.tasks.len() as u64;
    let params = Params::new(sc, n as u32);
    let cigar_base = params.cigar_base as u64;
    let capacity = chunk.out_words - cigar_base;
    let guess = cigar_guess(n, *cigar_hint, capacity);
    bufs.reserve(&ctx.device, chunk, TIMESTAMP_BYTES + (cigar_base + guess) * 4, binding_limit)?;

    let q = &ctx.queue;
    q.write_buffer(&bufs.params, 0, bytemuck::bytes_of(&params));
    q.write_buffer(&bufs.tasks, 0, bytemuck::cast_slice(&chunk.tasks));
    upload_span(q, &bufs.queries, &batch.queries, &chunk.query_span);
    upload_span(q, &bufs.targets, &batch.targets, &chunk.target_span);
    q.write_buffer(&bufs.out, 0, &[0u8; 4]); // the CIGAR cursor

    let mut entries = vec![
        wgpu::BindGroupEntry { binding: 0, resource: bufs.params.as_entire_binding() },
        // Exact sizes, so that arrayLength(&tasks) is the task count.
        wgpu::BindGroupEntry {
            binding: 1,
            resource: binding(&bufs.tasks, std::mem::size_of_val(chunk.tasks.as_slice()) as u64),
        },
        wgpu::BindGroupEntry { binding: 2, resource: binding(&bufs.queries, chunk.query_span.len() as u64) },
        wgpu::BindGroupEntry { binding: 3, resource: binding(&bufs.targets, chunk.target_span.len() as u64) },
        wgpu::BindGroupEntry { binding: 4, resource: binding(&bufs.out, chunk.out_words * 4) },
    ];
    for (b, buf) in bufs.work.iter().enumerate() {
        entries.push(wgpu::BindGroupEntry { binding: 5 + b as u32, resource: buf.as_entire_binding() });
    }
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
    ctx.queue.submit([encoder.finish()]);
    let first = read_back(ctx, &bufs.readback, TIMESTAMP_BYTES + (cigar_base + guess) * 4)?;
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
        ctx.queue.submit([encoder.finish()]);
        let rest = read_back(ctx, &bufs.readback, TIMESTAMP_BYTES + more)?;
        cigars.extend_from_slice(&rest[TIMESTAMP_BYTES as usize / 4..]);
    }
    // Room for half as much again as this dispatch needed per task.
    *cigar_hint = (used * 3 / 2).div_ceil(n).clamp(2, 64);

    let kernel_ns = ctx.timestamps.as_ref().map(|(_, period)| {
        let t0 = first[0] as u64 | (first[1] as u64) << 32;
        let t1 = first[2] as u64 | (first[3] as u64) << 32;
        (t1.wrapping_sub(t0) as f64 * period) as u64
    });
    let alignments = decode(&out[OUT_HEADER as usize..cigar_base as usize], &cigars)?;
    Ok(ChunkOutput { alignments, kernel_ns })
}

/// Turns the result records (one per task, in task order) into alignments.
fn decode(records: &[u32], cigars: &[u32]) -> Result<Vec<Alignment>, Failure> {
    let mut alignments = Vec::with_capacity(records.len() / RESULT_WORDS as usize);
    for (k, r) in records.chunks_exact(RESULT_WORDS as usize).enumerate() {
        let (len, off, status) = (r[5] as usize, r[6] as usize, r[7]);
        if status != STATUS_OK || off + len > cigars.len() {
            return Err(Failure::Device(format!("the kernel failed on task {k} of a dispatch (status {status})")));
        }
        alignments.push(Alignment {
            score: r[0] as i32,
            query_start: r[1],
            query_end: r[2],
            target_start: r[3],
            target_end: r[4],
            cigar: Cigar(cigars[off..off + len].to_vec()),
        });
    }
    Ok(alignments)
}
