//! Several engines working on every batch at once: the GPUs of a server, each through a
//! device of its own, with the CPU backend beside them when asked. Each batch's tasks are
//! split in proportion to the engines' shares (of DP cells), every part runs on its engine at
//! the same time, and the results are put back in task order ([`super::scatter`]); since an
//! alignment depends only on its task, the output is the same whatever the split.
//!
//! Shares are fixed ([`SplitBackend::with_shares`]) or learnt: each engine's measured cells
//! per second over the batches so far, so that a slower engine is given less and no engine
//! waits long for the others. An engine that fails gives its part to the next engine that
//! works, and is not given work again; the run stops with an error only when every engine has
//! failed.

use super::{panic_text, scatter, AlignBackend};
use crate::align::{Alignment, Scoring};
use crate::batch::AlignBatch;
use crate::error::{Error, Result};
use crate::index::Reference;
use std::sync::Mutex;
use std::time::Instant;

/// Engines that share every batch. See the module documentation.
pub struct SplitBackend {
    engines: Vec<Box<dyn AlignBackend>>,
    state: Mutex<State>,
    /// Shares were given, not learnt.
    fixed: bool,
}

struct State {
    /// Each engine's share: cells per second measured, or as given.
    speed: Vec<f64>,
    /// Engines that failed, with why (they get no more work).
    failed: Vec<Option<String>>,
    /// DP cells each engine has aligned.
    cells: Vec<u64>,
}

/// Fewer cells than this in a part say little about an engine's speed (set-up dominates).
const MEASURED_CELLS: u64 = 1 << 20;

impl SplitBackend {
    /// Engines sharing every batch, with equal shares at first, then learnt from their speed.
    pub fn new(engines: Vec<Box<dyn AlignBackend>>) -> Result<SplitBackend> {
        if engines.is_empty() {
            return Err(Error::Options("no alignment engine to split batches between".into()));
        }
        let n = engines.len();
        Ok(SplitBackend {
            engines,
            state: Mutex::new(State { speed: vec![1.0; n], failed: vec![None; n], cells: vec![0; n] }),
            fixed: false,
        })
    }

    /// Fixed shares, one per engine (0 for none of the work; at least one above 0).
    pub fn with_shares(self, shares: &[f64]) -> Result<SplitBackend> {
        let good = shares.len() == self.engines.len()
            && shares.iter().all(|s| s.is_finite() && *s >= 0.0)
            && shares.iter().any(|&s| s > 0.0);
        if !good {
            return Err(Error::Options(format!(
                "{} engines need {} shares of 0 or more, not all 0; got {shares:?}",
                self.engines.len(),
                self.engines.len()
            )));
        }
        lock(&self.state).speed = shares.to_vec();
        Ok(SplitBackend { fixed: true, ..self })
    }

    /// Each engine's current share of the cells, summing to 1.
    pub fn shares(&self) -> Vec<f64> {
        let st = lock(&self.state);
        let live: Vec<f64> = st.speed.iter().zip(&st.failed).map(|(&s, f)| if f.is_none() { s } else { 0.0 }).collect();
        let total: f64 = live.iter().sum();
        live.iter().map(|s| if total > 0.0 { s / total } else { 0.0 }).collect()
    }

    /// `ids` cut into one run per engine, in order, each with about its share of the cells.
    fn split(&self, batch: &AlignBatch, ids: &[usize]) -> Vec<Vec<usize>> {
        let shares = self.shares();
        let cells: Vec<u64> = ids.iter().map(|&k| task_cells(batch, k)).collect();
        let total = cells.iter().sum::<u64>() as f64;
        // Where each engine's cells end, counted from the first engine's start.
        let ends: Vec<f64> = shares.iter().scan(0.0, |acc, s| Some(*acc + s * total).inspect(|e| *acc = *e)).collect();
        let last = shares.iter().rposition(|&s| s > 0.0).unwrap_or(0);
        let mut parts = vec![Vec::new(); self.engines.len()];
        let (mut engine, mut done) = (0, 0u64);
        for (&k, &c) in ids.iter().zip(&cells) {
            // Engines without a share end where the one before them ends: passed over.
            while engine < last && done as f64 >= ends[engine] {
                engine += 1;
            }
            parts[engine].push(k);
            done += c;
        }
        parts
    }

    /// Runs each part on its engine at once; a part whose engine fails is `Err`.
    fn run_parts(&self, batch: &AlignBatch, scoring: &Scoring, parts: &[Vec<usize>]) -> Vec<Result<Vec<Alignment>>> {
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .iter()
                .zip(&self.engines)
                .enumerate()
                .map(|(e, (part, engine))| {
                    (!part.is_empty()).then(|| {
                        let handle = s.spawn(move || {
                            let start = Instant::now();
                            let out = engine.align_tasks(batch, scoring, part);
                            self.measured(e, batch, part, start.elapsed().as_secs_f64(), out.is_ok());
                            out
                        });
                        (e, handle)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    None => Ok(Vec::new()),
                    Some((e, h)) => h.join().unwrap_or_else(|p| {
                        Err(Error::Backend(self.engines[e].describe(), format!("panicked: {}", panic_text(&*p))))
                    }),
                })
                .collect()
        })
    }

    /// Learns engine `e`'s speed from a part it aligned.
    fn measured(&self, e: usize, batch: &AlignBatch, part: &[usize], secs: f64, ok: bool) {
        let cells: u64 = part.iter().map(|&k| task_cells(batch, k)).sum();
        let mut st = lock(&self.state);
        if ok {
            st.cells[e] += cells;
        }
        if self.fixed || !ok || cells < MEASURED_CELLS || secs <= 0.0 {
            return;
        }
        let speed = cells as f64 / secs;
        // The first measurement replaces the initial guess; later ones move the share gently.
        st.speed[e] = if st.speed[e] == 1.0 { speed } else { 0.7 * st.speed[e] + 0.3 * speed };
    }
}

/// DP cells of task `k`.
fn task_cells(batch: &AlignBatch, k: usize) -> u64 {
    let t = &batch.tasks[k];
    t.band().cells(t.query_len as usize, t.target_len as usize).max(1)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AlignBackend for SplitBackend {
    fn describe(&self) -> String {
        let names: Vec<String> = self.engines.iter().map(|e| e.describe()).collect();
        format!("split between {} engines: {}", names.len(), names.join(" + "))
    }

    fn align_tasks(&self, batch: &AlignBatch, scoring: &Scoring, ids: &[usize]) -> Result<Vec<Alignment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        {
            let st = lock(&self.state);
            if st.failed.iter().all(Option::is_some) {
                let why: Vec<&str> = st.failed.iter().flatten().map(String::as_str).collect();
                return Err(Error::Backend(self.describe(), format!("every engine failed: {}", why.join("; "))));
            }
        }
        let parts = self.split(batch, ids);
        let results = self.run_parts(batch, scoring, &parts);
        let mut done: Vec<(Vec<usize>, Vec<Alignment>)> = Vec::with_capacity(parts.len() + 1);
        let mut redo = Vec::new();
        for (e, (part, result)) in parts.into_iter().zip(results).enumerate() {
            match result {
                Ok(alns) if alns.len() == part.len() => done.push((part, alns)),
                Ok(alns) => {
                    let why = format!("{} results for {} tasks", alns.len(), part.len());
                    return Err(Error::Backend(self.engines[e].describe(), why));
                }
                Err(err) => {
                    // Its part, and later batches, go to the engines that still work.
                    log::warn!(
                        "{} failed ({err}); its {} tasks go to the other engines",
                        self.engines[e].describe(),
                        part.len()
                    );
                    lock(&self.state).failed[e] = Some(err.to_string());
                    redo.extend(part);
                }
            }
        }
        if !redo.is_empty() {
            let alns = self.align_tasks(batch, scoring, &redo)?;
            done.push((redo, alns));
        }
        // Every result at the place of its task in `ids`.
        let mut place = vec![usize::MAX; batch.tasks.len()];
        for (i, &k) in ids.iter().enumerate() {
            place[k] = i;
        }
        let placed = done.into_iter().map(|(part, alns)| (part.into_iter().map(|k| place[k]).collect(), alns));
        Ok(scatter(ids.len(), placed))
    }

    fn use_reference(&self, reference: &Reference) -> Result<()> {
        self.engines.iter().try_for_each(|e| e.use_reference(reference))
    }

    fn chunk_reads(&self) -> usize {
        self.engines.iter().map(|e| e.chunk_reads()).max().unwrap_or(super::CPU_CHUNK_READS)
    }

    fn division(&self) -> Option<String> {
        let st = lock(&self.state);
        let total = st.cells.iter().sum::<u64>().max(1) as f64;
        let each: Vec<String> = self
            .engines
            .iter()
            .zip(&st.cells)
            .zip(&st.failed)
            .enumerate()
            .map(|(i, ((e, &c), failed))| {
                let name = e.describe();
                let short = name.split(" (").next().unwrap_or(&name).to_string();
                let failed = if failed.is_some() { ", failed" } else { "" };
                format!("{short} {i} {:.1}%{failed}", 100.0 * c as f64 / total)
            })
            .collect();
        Some(format!("alignment cells by engine: {}", each.join(", ")))
    }
}
