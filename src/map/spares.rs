//! The buffers of spent chunks, filled again by later ones: a chunk's reads (names, bases,
//! qualities), its reads' candidate windows and its placements' hits keep their heap room
//! from one chunk to the next, so that a mapping run in steady state makes nearly no heap
//! allocation per read (chr20 2x150: 0.019 per read; 0.17 without spares, from the few reads
//! with more windows or hits than are held inline).
//!
//! A stage takes a spent set when one is waiting and starts an empty one otherwise; so the
//! sets in circulation soon number the chunks in flight, plus those waiting: at most
//! [`SPARE_READS`] reads' worth per kind, and at least one set. That bounds what they cost:
//! chr20 400k pairs, CPU chunks of 10,000 reads (four sets wait), peak 279-287 MB against
//! 261-265 MB without spares; with 50,000-read chunks (one set) see docs/benchmarks.md.
//! Nothing here changes a result: every buffer is emptied before it is filled.

use crate::batch::AlignBatch;
use crate::io::read::Read;
use crate::place::Placement;
use crate::seed::Candidates;
use std::sync::Mutex;

/// Items (reads) of spent sets kept waiting per kind, beyond a first set; more are dropped.
const SPARE_READS: usize = 40_000;

/// Spent chunks' vectors of one kind.
pub(super) struct Pool<T>(Mutex<Vec<Vec<T>>>);

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool(Mutex::new(Vec::new()))
    }
}

impl<T> Pool<T> {
    /// A spent vector (its items hold their old contents), or an empty one.
    pub(super) fn take(&self) -> Vec<T> {
        self.0.lock().expect("no thread panics holding the pool").pop().unwrap_or_default()
    }

    /// Keeps `spent` for a later chunk, unless enough are waiting.
    pub(super) fn give(&self, spent: Vec<T>) {
        let mut pool = self.0.lock().expect("no thread panics holding the pool");
        let held: usize = pool.iter().map(Vec::len).sum();
        if spent.capacity() > 0 && (pool.is_empty() || held + spent.len() <= SPARE_READS) {
            pool.push(spent);
        }
    }
}

/// The pools of a mapper: reads (parsed into again), candidates (seeded into again),
/// placements (whose hits take the next chunk's alignments) and alignment batches (packed
/// into again).
#[derive(Default)]
pub(super) struct Spares {
    pub(super) reads: Pool<Read>,
    pub(super) seeds: Pool<Candidates>,
    pub(super) placements: Pool<Placement>,
    pub(super) batches: Batches,
}

/// Spent chunks' alignment batches: at most [`SPARE_BATCHES`] wait.
#[derive(Default)]
pub(super) struct Batches(Mutex<Vec<AlignBatch>>);

/// Batches kept waiting: the chunks a pipeline has between packing and alignment.
const SPARE_BATCHES: usize = 2;

impl Batches {
    /// A spent batch (holding its old contents), or an empty one.
    pub(super) fn take(&self) -> AlignBatch {
        self.0.lock().expect("no thread panics holding the pool").pop().unwrap_or_default()
    }

    /// Keeps `spent` for a later chunk, unless enough are waiting.
    pub(super) fn give(&self, spent: AlignBatch) {
        let mut pool = self.0.lock().expect("no thread panics holding the pool");
        if pool.len() < SPARE_BATCHES {
            pool.push(spent);
        }
    }
}
