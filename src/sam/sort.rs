//! Coordinate-sorted BAM (`swmap map --sort`): the records `samtools sort` would write from
//! the unsorted output, in the same order, with bounded memory.
//!
//! Records arrive as encoded BAM records (each with its length prefix). They are held in one
//! buffer with a 16-byte entry each (sort key, offset) until the buffer passes the memory
//! limit; then the entries are sorted and the records written in that order to a scratch file
//! beside the output (a *run*, BGZF at the fastest level), and the buffer starts again. At the
//! end the last buffer is sorted and merged with the runs (a heap over each run's next record)
//! into the output.
//!
//! The order is samtools sort's: by reference (unmapped records, reference `-1`, after every
//! contig), then position, then strand (forward first), each as an unsigned number; ties keep
//! input order (a stable sort, and runs merged with ties going to the earlier run, which holds
//! earlier input). For samtools 1.16.1 this reproduces `samtools sort` record for record (see
//! the tests).

use super::markdup::{DuplicationMetrics, MarkdupOptions, Marker, ReadGroupLibrary};
use super::raw::{record_len, BamRecord};
use crate::error::{Error, Result};
use crate::io::output::ScratchFile;
use noodles_bgzf as bgzf;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};

/// Bytes an in-memory record costs beyond its own: its entry (key and offset).
const ENTRY_BYTES: usize = 16;

/// samtools' coordinate key of a BAM record (`bytes` starts at its length prefix):
/// reference as unsigned (so `-1` is last), position plus one, reverse strand.
fn sort_key(record: &[u8]) -> u64 {
    let r = BamRecord(record);
    (r.ref_id() as u32 as u64) << 32 | ((r.pos() + 1) as u64 & 0x7fff_ffff) << 1 | ((r.flags() >> 4) & 1) as u64
}

/// Sorts encoded BAM records (see the module documentation).
pub struct Sorter {
    /// Records held in memory, as encoded.
    buf: Vec<u8>,
    /// (key, offset in `buf`) per held record, in input order until sorted.
    entries: Vec<(u64, u64)>,
    /// Bytes held before a run is written.
    memory: usize,
    /// The output the runs are written beside.
    output: PathBuf,
    runs: Vec<ScratchFile>,
    threads: usize,
    /// The most leading clipped bases of a forward primary record (for duplicate marking).
    max_lead_clip: i64,
}

impl Sorter {
    /// A sorter holding up to `memory` bytes of records, spilling runs beside `output`,
    /// compressing them on `threads` threads.
    pub fn new(output: &Path, memory: usize, threads: usize) -> Sorter {
        Sorter {
            buf: Vec::new(),
            entries: Vec::new(),
            memory: memory.max(1),
            output: output.to_path_buf(),
            runs: Vec::new(),
            threads: threads.max(1),
            max_lead_clip: 0,
        }
    }

    /// Threads that compress the runs (and index the output).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Takes consecutive encoded records.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            let len = record_len(bytes).expect("the encoder writes whole BAM records");
            self.entries.push((sort_key(bytes), self.buf.len() as u64));
            self.max_lead_clip = self.max_lead_clip.max(super::markdup::lead_clip(&bytes[..len]));
            self.buf.extend_from_slice(&bytes[..len]);
            bytes = &bytes[len..];
        }
        if self.buf.len() + ENTRY_BYTES * self.entries.len() >= self.memory {
            self.spill()?;
        }
        Ok(())
    }

    /// Sorts the held records (stable: equal keys keep input order).
    fn sort_held(&mut self) {
        self.entries.par_sort_by_key(|e| e.0);
    }

    /// The held record of entry `e`.
    fn held(&self, e: &(u64, u64)) -> &[u8] {
        let at = e.1 as usize;
        let len = record_len(&self.buf[at..]).expect("held records are whole");
        &self.buf[at..at + len]
    }

    /// Writes the held records, sorted, to a new run and empties the buffer.
    fn spill(&mut self) -> Result<()> {
        self.sort_held();
        let (file, scratch) = ScratchFile::create(&self.output, &format!("sort{}", self.runs.len()))?;
        let workers = NonZero::new(self.threads).expect("at least one thread");
        let mut w = bgzf::io::multithreaded_writer::Builder::default()
            .set_worker_count(workers)
            .set_compression_level(bgzf::io::writer::CompressionLevel::FAST)
            .build_from_writer(BufWriter::new(file));
        let written = self
            .entries
            .iter()
            .try_for_each(|e| w.write_all(self.held(e)))
            .and_then(|()| w.finish())
            .and_then(|mut f| f.flush());
        written.map_err(|e| Error::io(scratch.path(), e))?;
        self.runs.push(scratch);
        self.buf.clear();
        self.entries.clear();
        Ok(())
    }

    /// Writes every record, sorted, to `out`, with duplicates marked when `markdup` gives the
    /// options and the header's read groups (ID, LB); the runs' scratch files are removed.
    pub fn finish(
        self,
        out: &mut dyn Write,
        out_path: &Path,
        markdup: Option<(MarkdupOptions, &[ReadGroupLibrary])>,
    ) -> Result<Option<DuplicationMetrics>> {
        let to_out = |e: io::Error| Error::io(out_path, e);
        match markdup {
            None => {
                self.merge(&mut |record| out.write_all(record).map_err(to_out))?;
                Ok(None)
            }
            Some((opts, read_groups)) => {
                let mut marker = Marker::new(opts, read_groups, self.max_lead_clip);
                self.merge(&mut |record| marker.push(record, out).map_err(to_out))?;
                marker.finish(out).map(Some).map_err(to_out)
            }
        }
    }

    /// Hands every record, sorted, to `emit`.
    fn merge(mut self, emit: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        self.sort_held();
        if self.runs.is_empty() {
            for e in &self.entries {
                emit(self.held(e))?;
            }
            return Ok(());
        }
        let runs = std::mem::take(&mut self.runs);
        let mut sources = Vec::with_capacity(runs.len() + 1);
        for run in &runs {
            let file = File::open(run.path()).map_err(|e| Error::io(run.path(), e))?;
            let reader = bgzf::io::Reader::new(BufReader::new(file));
            sources.push(Source::Run { reader, path: run.path(), record: Vec::new() });
        }
        // The held records are the last of the input: they lose ties to every run.
        sources.push(Source::Held { sorter: &self, next: 0 });
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, source) in sources.iter_mut().enumerate() {
            if let Some(key) = source.advance()? {
                heap.push(Reverse((key, i)));
            }
        }
        while let Some(Reverse((_, i))) = heap.pop() {
            emit(sources[i].record())?;
            if let Some(key) = sources[i].advance()? {
                heap.push(Reverse((key, i)));
            }
        }
        drop(sources);
        drop(runs);
        Ok(())
    }
}

/// Where the merge takes records from: a run's scratch file, or the records still held.
enum Source<'s> {
    Run { reader: bgzf::io::Reader<BufReader<File>>, path: &'s Path, record: Vec<u8> },
    Held { sorter: &'s Sorter, next: usize },
}

impl Source<'_> {
    /// Moves to the next record; its key, or `None` at the end.
    fn advance(&mut self) -> Result<Option<u64>> {
        match self {
            Source::Held { sorter, next } => {
                *next += 1;
                Ok(sorter.entries.get(*next - 1).map(|e| e.0))
            }
            Source::Run { reader, path, record } => {
                let mut prefix = [0u8; 4];
                match reader.read_exact(&mut prefix) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
                    Err(e) => return Err(Error::io(*path, e)),
                }
                let len = u32::from_le_bytes(prefix) as usize;
                record.clear();
                record.extend_from_slice(&prefix);
                record.resize(4 + len, 0);
                reader.read_exact(&mut record[4..]).map_err(|e| Error::io(*path, e))?;
                Ok(Some(sort_key(record)))
            }
        }
    }

    /// The record [`Source::advance`] moved to.
    fn record(&self) -> &[u8] {
        match self {
            Source::Held { sorter, next } => sorter.held(&sorter.entries[*next - 1]),
            Source::Run { record, .. } => record,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A minimal BAM record: reference, position, strand, and its input number as the name.
    fn record(tid: i32, pos: i32, reverse: bool, n: u32) -> Vec<u8> {
        let name = format!("r{n}");
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&tid.to_le_bytes());
        b.extend_from_slice(&pos.to_le_bytes());
        b.push(name.len() as u8 + 1);
        b.extend_from_slice(&[0, 0, 0, 0, 0]);
        b.extend_from_slice(&(if reverse { 0x10u16 } else { 0 }).to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&(-1i32).to_le_bytes());
        b.extend_from_slice(&(-1i32).to_le_bytes());
        b.extend_from_slice(&0i32.to_le_bytes());
        b.extend_from_slice(name.as_bytes());
        b.push(0);
        let len = (b.len() - 4) as u32;
        b[..4].copy_from_slice(&len.to_le_bytes());
        b
    }

    /// Sorted with runs spilled (the memory holds a few dozen records), in memory, and with
    /// every push its own run: the records of a stable sort by samtools' key each time, ties
    /// (many: few distinct positions) in input order, and the scratch files gone.
    #[test]
    fn runs_merge_into_the_stable_order() {
        let dir = std::env::temp_dir().join(format!("swmap-sort-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out_path = dir.join("out.bam");
        let mut rng = Rng::new(5);
        let records: Vec<Vec<u8>> = (0..3000)
            .map(|n| {
                let tid = if rng.chance(0.05) { -1 } else { rng.below(3) as i32 };
                let pos = if tid < 0 { -1 } else { rng.below(40) as i32 };
                record(tid, pos, rng.chance(0.5), n)
            })
            .collect();
        let mut expected = records.clone();
        expected.sort_by_key(|r| sort_key(r));
        for (memory, push) in [(2_000, 7), (usize::MAX, 100), (1, 1)] {
            let mut sorter = Sorter::new(&out_path, memory, 2);
            for chunk in records.chunks(push) {
                sorter.push(&chunk.concat()).unwrap();
            }
            let runs = sorter.runs.len();
            let mut out = Vec::new();
            sorter.finish(&mut out, &out_path, None).unwrap();
            assert_eq!(out, expected.concat(), "memory {memory}, {push} records a push");
            match memory {
                usize::MAX => assert_eq!(runs, 0),
                // About 35 records of ~40 bytes (and their 16-byte entries) fit in 2,000 bytes.
                2_000 => assert!((60..=120).contains(&runs), "{runs} runs spilled"),
                _ => assert_eq!(runs, 3000, "every push is a run"),
            }
            let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
            assert!(left.is_empty(), "scratch files left: {left:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
