//! Buffers that live as long as the backend: created small, grown when a dispatch needs more,
//! reused by every later batch.

use super::context::scoped;
use super::layout::{Params, WORK_BUFFERS};
use super::plan::Chunk;
use wgpu::BufferUsages as U;

/// Bytes reserved at the start of `readback` for the two kernel timestamps.
pub const TIMESTAMP_BYTES: u64 = 16;

/// Smallest size of any buffer, so that empty inputs still bind.
const MIN_BYTES: u64 = 256;

pub struct Buffers {
    pub params: wgpu::Buffer,
    pub tasks: wgpu::Buffer,
    pub queries: wgpu::Buffer,
    pub targets: wgpu::Buffer,
    /// Results and compacted CIGARs, the only thing read back (besides timestamps).
    pub out: wgpu::Buffer,
    /// Traceback records and CIGAR scratch, never read back.
    pub work: [wgpu::Buffer; WORK_BUFFERS],
    pub readback: wgpu::Buffer,
    pub resolve: Option<wgpu::Buffer>,
}

fn create(device: &wgpu::Device, label: &'static str, size: u64, usage: U) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: false })
}

/// Replaces `buf` by a larger one when it holds fewer than `need` bytes: half as large again as
/// before (so a run of slowly growing batches reallocates rarely), at most `limit`.
fn grow(
    device: &wgpu::Device,
    buf: &mut wgpu::Buffer,
    label: &'static str,
    need: u64,
    limit: u64,
) -> Result<(), wgpu::Error> {
    if buf.size() >= need {
        return Ok(());
    }
    let size = (buf.size() * 3 / 2).next_multiple_of(MIN_BYTES).min(limit).max(need);
    let new = scoped(device, || create(device, label, size, buf.usage()))?;
    buf.destroy();
    *buf = new;
    Ok(())
}

impl Buffers {
    pub fn new(device: &wgpu::Device, timestamps: bool) -> Buffers {
        let input = U::STORAGE | U::COPY_DST;
        let work = U::STORAGE;
        Buffers {
            params: create(device, "params", std::mem::size_of::<Params>() as u64, U::UNIFORM | U::COPY_DST),
            tasks: create(device, "tasks", MIN_BYTES, input),
            queries: create(device, "queries", MIN_BYTES, input),
            targets: create(device, "targets", MIN_BYTES, input),
            out: create(device, "out", MIN_BYTES, U::STORAGE | U::COPY_SRC | U::COPY_DST),
            work: std::array::from_fn(|_| create(device, "work", MIN_BYTES, work)),
            readback: create(device, "readback", MIN_BYTES, U::MAP_READ | U::COPY_DST),
            resolve: timestamps.then(|| create(device, "timestamps", TIMESTAMP_BYTES, U::QUERY_RESOLVE | U::COPY_SRC)),
        }
    }

    /// Makes every buffer large enough for `chunk`, whose bindings each fit in `limit` bytes,
    /// and `readback` for `readback_bytes`.
    pub fn reserve(
        &mut self,
        device: &wgpu::Device,
        chunk: &Chunk,
        readback_bytes: u64,
        limit: u64,
    ) -> Result<(), wgpu::Error> {
        let span = |r: &std::ops::Range<usize>| (r.len() as u64).next_multiple_of(4);
        grow(device, &mut self.tasks, "tasks", std::mem::size_of_val(chunk.tasks.as_slice()) as u64, limit)?;
        grow(device, &mut self.queries, "queries", span(&chunk.query_span), limit)?;
        grow(device, &mut self.targets, "targets", chunk.target_bytes().next_multiple_of(4), limit)?;
        grow(device, &mut self.out, "out", chunk.out_words * 4, limit)?;
        for (buf, &words) in self.work.iter_mut().zip(&chunk.work_used) {
            grow(device, buf, "work", words * 4, limit)?;
        }
        self.grow_readback(device, readback_bytes)
    }

    pub fn grow_readback(&mut self, device: &wgpu::Device, bytes: u64) -> Result<(), wgpu::Error> {
        grow(device, &mut self.readback, "readback", bytes, u64::MAX)
    }

    /// Frees the work buffers (after running out of memory, before trying smaller dispatches).
    pub fn release_work(&mut self, device: &wgpu::Device) {
        for buf in &mut self.work {
            buf.destroy();
            *buf = create(device, "work", MIN_BYTES, U::STORAGE);
        }
    }
}
