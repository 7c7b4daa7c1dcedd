//! The `swmap` Python module's native part (`swmap._swmap`): an index, an aligner holding an
//! index, a backend and a thread pool, and the hits it returns. The Python package
//! (`pysrc/swmap/__init__.py`) re-exports these; the typed interface is in its `.pyi` stub.
//!
//! Everything is decided by the swmap library: options go through `swmap map`'s own parser
//! (`swmap::cli::map_setup`), reads through the FASTQ reader's checks (`Read::from_text`),
//! and a hit is a view of one SAM record the program would write for the read.

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use swmap::align::CigarOp;
use swmap::noodles_sam::alignment::io::Write as _;
use swmap::{AlignBackend, HeaderInfo, Index, IndexParams, MapOptions, Mapper, Read, SamRecord};

/// A library error as the Python exception that fits it, with the library's one-line message.
fn py_error(e: swmap::Error) -> PyErr {
    match e {
        swmap::Error::Io { .. } | swmap::Error::Index { .. } => PyOSError::new_err(e.to_string()),
        swmap::Error::Gpu(_) | swmap::Error::Backend(..) => PyRuntimeError::new_err(e.to_string()),
        swmap::Error::Input { .. } | swmap::Error::Options(_) => PyValueError::new_err(e.to_string()),
    }
}

/// A reference index: built from a FASTA (and written for later runs) or loaded from a file
/// `swmap index` wrote.
#[pyclass(module = "swmap", name = "Index", frozen)]
struct PyIndex {
    index: Arc<Index>,
    /// The file the index was loaded from or written to, or the FASTA it was built from.
    path: PathBuf,
}

#[pymethods]
impl PyIndex {
    /// Builds the index of `fasta` (plain or gzip) and, when `path` is given, writes it there
    /// as `swmap index -o path` does.
    #[staticmethod]
    #[pyo3(signature = (fasta, path = None, *, k = None, w = None))]
    fn build(py: Python<'_>, fasta: PathBuf, path: Option<PathBuf>, k: Option<u32>, w: Option<u32>) -> PyResult<Self> {
        let defaults = IndexParams::default();
        let params = IndexParams { k: k.unwrap_or(defaults.k), w: w.unwrap_or(defaults.w) };
        let index = py.detach(|| -> swmap::Result<Index> {
            let index = Index::from_fasta(&fasta, params)?;
            if let Some(path) = &path {
                index.write(path)?;
            }
            Ok(index)
        });
        let index = index.map_err(py_error)?;
        Ok(PyIndex { index: Arc::new(index), path: path.unwrap_or(fasta) })
    }

    /// Loads an index file written by `swmap index` or `Index.build`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let index = py.detach(|| Index::load(&path)).map_err(py_error)?;
        Ok(PyIndex { index: Arc::new(index), path })
    }

    /// `(name, length)` of every contig, in index order.
    #[getter]
    fn contigs(&self) -> Vec<(String, u64)> {
        self.index.contigs.iter().map(|c| (c.name.clone(), c.len)).collect()
    }

    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "swmap.Index('{}', {} contigs, {} bases)",
            self.path.display(),
            self.index.contigs.len(),
            self.index.total_len()
        )
    }
}

/// What every hit of one aligner shares: the header its SAM lines are written against.
struct Context {
    header: swmap::noodles_sam::Header,
    read_group_id: Option<String>,
    contigs: Vec<(String, u64)>,
}

/// Maps reads against one index on one backend with fixed options.
#[pyclass(module = "swmap", frozen)]
struct Aligner {
    index: Arc<Index>,
    backend: Box<dyn AlignBackend>,
    backend_line: String,
    options: MapOptions,
    alt_contigs: Vec<String>,
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
    /// The reference argument of `swmap map` (for `map_files`: its FASTA for CRAM, `.alt`).
    reference: PathBuf,
    /// The option flags the aligner was made with, as `swmap map` takes them.
    flags: Vec<OsString>,
    context: Arc<Context>,
}

/// `swmap map` flags for keyword options: `min_score=40` is `-T 40`, `all_alignments=True`
/// is `-a`, a `False` or `None` leaves the option out.
fn option_flags(options: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<OsString>> {
    let mut flags = Vec::new();
    for (key, value) in options.into_iter().flat_map(|d| d.iter()) {
        let name: String = key.extract()?;
        let (flag, takes_value) = swmap::cli::map_flag(&name).ok_or_else(|| {
            PyTypeError::new_err(format!("unknown option '{name}' (options are swmap map's, e.g. min_score for -T)"))
        })?;
        if value.is_none() {
            continue;
        }
        if takes_value {
            if value.is_instance_of::<pyo3::types::PyBool>() {
                return Err(PyTypeError::new_err(format!("option '{name}' ({flag}) takes a value, not True or False")));
            }
            let text = if let Ok(path) = value.extract::<PathBuf>() {
                path.into_os_string()
            } else {
                OsString::from(value.str()?.to_string())
            };
            flags.push(OsString::from(flag));
            flags.push(text);
        } else {
            let on: bool = value
                .extract()
                .map_err(|_| PyTypeError::new_err(format!("option '{name}' ({flag}) is True or False")))?;
            if on {
                flags.push(OsString::from(flag));
            }
        }
    }
    Ok(flags)
}

/// The reads of one Python item: a sequence, or a `(name, seq)` or `(name, seq, qual)` tuple
/// (as `mappy.fastx_read` and pysam give them); `default_name` for a bare sequence.
fn read_of(item: &Bound<'_, PyAny>, default_name: &str) -> PyResult<Read> {
    let (name, seq, qual): (String, String, Option<String>) = if let Ok(seq) = item.cast::<PyString>() {
        (default_name.to_string(), seq.to_string(), None)
    } else if let Ok(t) = item.cast::<PyTuple>() {
        match t.len() {
            2 => (t.get_item(0)?.extract()?, t.get_item(1)?.extract()?, None),
            3 => (t.get_item(0)?.extract()?, t.get_item(1)?.extract()?, t.get_item(2)?.extract()?),
            n => {
                return Err(PyTypeError::new_err(format!(
                    "a read is seq, (name, seq) or (name, seq, qual), not a tuple of {n}"
                )))
            }
        }
    } else {
        return Err(PyTypeError::new_err("a read is seq, (name, seq) or (name, seq, qual)"));
    };
    text_read(&name, &seq, qual.as_deref())
}

fn text_read(name: &str, seq: &str, qual: Option<&str>) -> PyResult<Read> {
    Read::from_text(name.as_bytes(), seq.as_bytes(), qual.map(str::as_bytes)).map_err(PyValueError::new_err)
}

thread_local! {
    /// A pool of just the calling thread, for mapping one read or pair: the mapper's parallel
    /// steps then run right here. Handing a single read to the aligner's threads and back
    /// costs more than mapping it (threads waking and sleeping took 40% of a loop of `map`
    /// calls). `None` where the pool cannot be made; the aligner's threads serve then.
    static CALLING_THREAD: Option<Arc<rayon::ThreadPool>> =
        rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build().ok().map(Arc::new);
}

impl Aligner {
    /// A mapper for one call (cheap: the index and backend are held, the reference already on
    /// the device, the threads shared), on the aligner's threads.
    fn mapper(&self) -> PyResult<Mapper<'_>> {
        self.mapper_on(self.pool.clone())
    }

    /// A mapper for one read or pair, on the calling thread ([`CALLING_THREAD`]).
    fn mapper_here(&self) -> PyResult<Mapper<'_>> {
        let here = CALLING_THREAD.with(|p| p.clone());
        self.mapper_on(here.unwrap_or_else(|| self.pool.clone()))
    }

    fn mapper_on(&self, pool: Arc<rayon::ThreadPool>) -> PyResult<Mapper<'_>> {
        let mapper =
            Mapper::new(&self.index, self.backend.as_ref(), self.options.clone()).map_err(py_error)?.with_pool(pool);
        if self.alt_contigs.is_empty() {
            Ok(mapper)
        } else {
            mapper.with_alt_contigs(&self.alt_contigs).map_err(py_error)
        }
    }

    fn hits(&self, records: Vec<SamRecord>) -> Vec<Hit> {
        records
            .into_iter()
            .filter(|r| r.flags & 0x4 == 0)
            .map(|record| Hit { record, context: self.context.clone() })
            .collect()
    }

    fn map_reads(&self, py: Python<'_>, reads: Vec<Read>) -> PyResult<Vec<Vec<Hit>>> {
        let mapper = if reads.len() == 1 { self.mapper_here()? } else { self.mapper()? };
        let mapped = py.detach(|| mapper.map_single(reads)).map_err(py_error)?;
        Ok(mapped.into_iter().map(|m| self.hits(m.records)).collect())
    }

    fn map_pairs(&self, py: Python<'_>, pairs: Vec<(Read, Read)>) -> PyResult<Vec<(Vec<Hit>, Vec<Hit>)>> {
        let mapper = if pairs.len() == 1 { self.mapper_here()? } else { self.mapper()? };
        let mapped = py.detach(|| mapper.map_pairs(pairs)).map_err(py_error)?;
        Ok(mapped.into_iter().map(|[a, b]| (self.hits(a.records), self.hits(b.records))).collect())
    }
}

#[pymethods]
impl Aligner {
    /// An aligner for `index` (an `Index`, an index file, or a FASTA, indexed in memory when no
    /// fitting `swmap index` file lies beside it), on `threads` threads (all cores when None)
    /// and `backend` ("auto", "gpu" or "cpu"), with `swmap map`'s options by name.
    #[new]
    #[pyo3(signature = (index, *, threads = None, backend = "auto", **options))]
    fn new(
        py: Python<'_>,
        index: &Bound<'_, PyAny>,
        threads: Option<usize>,
        backend: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let mut flags = option_flags(options)?;
        if let Some(t) = threads {
            flags.extend([OsString::from("-t"), OsString::from(t.to_string())]);
        }
        flags.extend([OsString::from("--backend"), OsString::from(backend)]);
        let (held, reference) = match index.cast::<PyIndex>() {
            Ok(i) => (Some(i.get().index.clone()), i.get().path.clone()),
            Err(_) => (
                None,
                index.extract::<PathBuf>().map_err(|_| PyTypeError::new_err("index is an swmap.Index or a path"))?,
            ),
        };
        let argv: Vec<OsString> = [reference.clone().into_os_string(), OsString::from("-")]
            .into_iter()
            .chain(flags.iter().cloned())
            .collect();
        let setup = swmap::cli::map_setup(&argv).map_err(py_error)?;
        let (index, (backend, backend_line)) = py
            .detach(|| -> swmap::Result<_> {
                let index = match held {
                    Some(index) => index,
                    None => Arc::new(match Index::find_beside(&reference, setup.index_params) {
                        swmap::Beside::Found(_, index) => *index,
                        _ => Index::load_or_build(&reference, setup.index_params)?,
                    }),
                };
                let backend = swmap::backend::open_engines(setup.backend, &setup.gpus, setup.cpu_share)?;
                backend.0.use_reference(index.reference())?;
                Ok((index, backend))
            })
            .map_err(py_error)?;
        let pool = Mapper::thread_pool(setup.threads).map_err(py_error)?;
        let info = HeaderInfo::for_index(&index, setup.read_group.clone(), "swmap (Python)");
        let context = Context {
            header: info.to_header().map_err(py_error)?,
            read_group_id: info.read_group_id().map_err(py_error)?,
            contigs: info.contigs.clone(),
        };
        Ok(Aligner {
            index,
            backend,
            backend_line,
            options: setup.options,
            alt_contigs: setup.alt_contigs,
            pool,
            threads: setup.threads,
            reference,
            flags,
            context: Arc::new(context),
        })
    }

    /// The hits of one read (none when it does not map): the primary first, then supplementary
    /// parts, then secondary ones with `all_alignments=True`.
    #[pyo3(signature = (seq, qual = None, name = None))]
    fn map(&self, py: Python<'_>, seq: &str, qual: Option<&str>, name: Option<&str>) -> PyResult<Vec<Hit>> {
        let read = text_read(name.unwrap_or("read"), seq, qual)?;
        Ok(self.map_reads(py, vec![read])?.pop().unwrap_or_default())
    }

    /// The hits of both mates of a pair, each a `(name, seq)` or `(name, seq, qual)` tuple or a
    /// bare sequence; the insert-size model is the aligner's `insert_size` option or, without
    /// one, the default for a lone pair.
    fn map_pair(
        &self,
        py: Python<'_>,
        read1: &Bound<'_, PyAny>,
        read2: &Bound<'_, PyAny>,
    ) -> PyResult<(Vec<Hit>, Vec<Hit>)> {
        let pair = (read_of(read1, "read")?, read_of(read2, "read")?);
        Ok(self.map_pairs(py, vec![pair])?.pop().unwrap_or_default())
    }

    /// The hits of many reads, mapped together on the aligner's threads without the GIL: a
    /// list with the hits of each read, in order; with `mates`, pairs, and a list of
    /// `(hits1, hits2)`, the insert-size model estimated from the pairs as `swmap map` does.
    #[pyo3(signature = (reads, mates = None))]
    fn map_batch<'py>(
        &self,
        py: Python<'py>,
        reads: &Bound<'py, PyAny>,
        mates: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut first = Vec::new();
        for (i, item) in reads.try_iter()?.enumerate() {
            first.push(read_of(&item?, &(i + 1).to_string())?);
        }
        match mates {
            None => PyList::new(py, self.map_reads(py, first)?),
            Some(mates) => {
                let mut second = Vec::with_capacity(first.len());
                for (i, item) in mates.try_iter()?.enumerate() {
                    second.push(read_of(&item?, &(i + 1).to_string())?);
                }
                if first.len() != second.len() {
                    return Err(PyValueError::new_err(format!(
                        "{} reads but {} mates: pairs need one mate for each read",
                        first.len(),
                        second.len()
                    )));
                }
                PyList::new(py, self.map_pairs(py, first.into_iter().zip(second).collect())?)
            }
        }
    }

    /// Maps whole files as `swmap map` does, streaming with bounded memory: `reads` (FASTQ or
    /// FASTA, plain or gzip) and `mates` for pairs, to `out` (SAM, BAM or CRAM by its
    /// extension, SAM on standard output when None), sorted and indexed with `sort=True`;
    /// further `swmap map` options by name (`markdup=True`, `read_group=...`). Returns the
    /// run's counts.
    #[pyo3(signature = (reads, mates = None, *, out = None, sort = false, **options))]
    fn map_files<'py>(
        &self,
        py: Python<'py>,
        reads: PathBuf,
        mates: Option<PathBuf>,
        out: Option<PathBuf>,
        sort: bool,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let mut argv = vec![self.reference.clone().into_os_string(), reads.into_os_string()];
        argv.extend(mates.map(PathBuf::into_os_string));
        argv.extend(self.flags.iter().cloned());
        if let Some(out) = out {
            argv.extend([OsString::from("-o"), out.into_os_string()]);
        }
        if sort {
            argv.push(OsString::from("--sort"));
        }
        let more = option_flags(options)?;
        if !more.iter().any(|f| f == "-v" || f == "--verbosity")
            && !self.flags.iter().any(|f| f == "-v" || f == "--verbosity")
        {
            argv.extend([OsString::from("-v"), OsString::from("1")]);
        }
        argv.extend(more);
        let stats = py.detach(|| swmap::cli::map_with(&self.index, self.backend.as_ref(), &argv)).map_err(py_error)?;
        let d = PyDict::new(py);
        d.set_item("reads", stats.reads)?;
        d.set_item("mapped", stats.mapped)?;
        d.set_item("properly_paired", stats.proper)?;
        d.set_item("insert_size_mean", stats.insert_model.map(|m| m.mean))?;
        Ok(d)
    }

    /// The backend and adapter the aligner runs on, as `swmap map` reports it.
    #[getter]
    fn backend(&self) -> &str {
        &self.backend_line
    }

    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// The SAM header of the aligner's hits (`@HD`, `@SQ`s, `@RG` with `read_group`, `@PG`).
    #[getter]
    fn header(&self) -> PyResult<String> {
        let mut out = swmap::noodles_sam::io::Writer::new(Vec::new());
        out.write_header(&self.context.header).map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(String::from_utf8_lossy(&out.into_inner()).into_owned())
    }

    /// The reference bases of contig `name` from `start` to `end` (0-based, end exclusive,
    /// clamped to the contig; `end` None for its end), upper case with N where the FASTA had
    /// anything but ACGT; None for a name the index lacks, as mappy's `seq`.
    #[pyo3(signature = (name, start = 0, end = None))]
    fn seq(&self, name: &str, start: u64, end: Option<u64>) -> Option<String> {
        let contig = self.index.contigs.iter().find(|c| c.name == name)?;
        let end = end.unwrap_or(contig.len).min(contig.len);
        let start = start.min(end);
        let mut codes = Vec::new();
        let bases = self.index.reference().fetch(contig.offset + start..contig.offset + end, &mut codes);
        Some(bases.iter().map(|&c| swmap::dna::decode(c) as char).collect())
    }

    /// Contig names, in index order (a hit's `ctg` is one of them).
    #[getter]
    fn seq_names(&self) -> Vec<String> {
        self.context.contigs.iter().map(|c| c.0.clone()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "swmap.Aligner({} contigs, {} threads, {})",
            self.context.contigs.len(),
            self.threads,
            self.backend_line
        )
    }
}

/// One alignment of a read: a view of the SAM record swmap writes for it.
#[pyclass(module = "swmap", frozen)]
struct Hit {
    record: SamRecord,
    context: Arc<Context>,
}

impl Hit {
    fn reverse(&self) -> bool {
        self.record.flags & 0x10 != 0
    }

    /// Clipped bases at the CIGAR's start and end (soft and hard), and the read's length.
    fn clips(&self) -> (u32, u32, u32) {
        let runs: Vec<(CigarOp, u32)> = self.record.cigar.runs().collect();
        let clip = |r: Option<&(CigarOp, u32)>| match r {
            Some((CigarOp::SoftClip | CigarOp::HardClip, n)) => *n,
            _ => 0,
        };
        let (lead, trail) = (clip(runs.first()), clip(runs.get(1).and(runs.last())));
        let hard: u32 = runs.iter().filter(|(op, _)| *op == CigarOp::HardClip).map(|(_, n)| n).sum();
        (lead, trail, self.record.cigar.query_len() + hard)
    }

    /// The aligned runs, clips left out.
    fn aligned_runs(&self) -> impl Iterator<Item = (CigarOp, u32)> + '_ {
        self.record.cigar.runs().filter(|(op, _)| !matches!(op, CigarOp::SoftClip | CigarOp::HardClip))
    }
}

#[pymethods]
impl Hit {
    /// The contig's name.
    #[getter]
    fn ctg(&self) -> &str {
        &self.context.contigs[self.record.ref_id.unwrap_or(0)].0
    }

    /// The contig's length.
    #[getter]
    fn ctg_len(&self) -> u64 {
        self.context.contigs[self.record.ref_id.unwrap_or(0)].1
    }

    /// Start on the contig, 0-based.
    #[getter]
    fn r_st(&self) -> u64 {
        self.record.pos.unwrap_or(0)
    }

    /// End on the contig, exclusive.
    #[getter]
    fn r_en(&self) -> u64 {
        self.r_st() + u64::from(self.record.cigar.reference_len())
    }

    /// Start on the read as given (forward strand), 0-based.
    #[getter]
    fn q_st(&self) -> u32 {
        let (lead, trail, _) = self.clips();
        if self.reverse() {
            trail
        } else {
            lead
        }
    }

    /// End on the read as given, exclusive.
    #[getter]
    fn q_en(&self) -> u32 {
        let (lead, trail, len) = self.clips();
        len - if self.reverse() { lead } else { trail }
    }

    /// +1 for the forward strand, -1 for the reverse.
    #[getter]
    fn strand(&self) -> i32 {
        if self.reverse() {
            -1
        } else {
            1
        }
    }

    #[getter]
    fn mapq(&self) -> u8 {
        self.record.mapq
    }

    /// The CIGAR without clips, as mappy gives it.
    #[getter]
    fn cigar_str(&self) -> String {
        self.aligned_runs().map(|(op, n)| format!("{n}{}", op.letter())).collect()
    }

    /// The CIGAR without clips as `[length, op]` pairs, ops as BAM codes (0 M, 1 I, 2 D).
    #[getter]
    fn cigar(&self) -> Vec<(u32, u8)> {
        self.aligned_runs().map(|(op, n)| (n, op as u8)).collect()
    }

    /// The whole CIGAR of the SAM record, clips included.
    #[getter]
    fn sam_cigar(&self) -> String {
        self.record.cigar.to_string()
    }

    /// Edit distance to the reference.
    #[getter(NM)]
    fn nm(&self) -> u32 {
        self.record.tags.nm.unwrap_or(0)
    }

    /// Matching bases of the alignment.
    #[getter]
    fn mlen(&self) -> u32 {
        let (mut aligned, mut gaps) = (0, 0);
        for (op, n) in self.aligned_runs() {
            match op {
                CigarOp::Match => aligned += n,
                _ => gaps += n,
            }
        }
        aligned - (self.nm() - gaps)
    }

    /// Length of the alignment block, gaps included.
    #[getter]
    fn blen(&self) -> u32 {
        self.aligned_runs().map(|(_, n)| n).sum()
    }

    /// Not a secondary alignment: the read's primary record or a supplementary part of it (as
    /// mappy counts supplementary alignments primary).
    #[getter]
    fn is_primary(&self) -> bool {
        self.record.flags & 0x100 == 0
    }

    #[getter]
    fn is_supplementary(&self) -> bool {
        self.record.flags & 0x800 != 0
    }

    #[getter]
    fn is_secondary(&self) -> bool {
        self.record.flags & 0x100 != 0
    }

    /// Mapped in a proper pair (flag 0x2).
    #[getter]
    fn is_proper_pair(&self) -> bool {
        self.record.flags & 0x2 != 0
    }

    /// The SAM FLAG.
    #[getter]
    fn flag(&self) -> u16 {
        self.record.flags
    }

    /// Alignment score.
    #[getter(AS)]
    fn as_score(&self) -> Option<i32> {
        self.record.tags.as_score
    }

    /// Score of the best other alignment (`XS`), None when there is none.
    #[getter(XS)]
    fn xs_score(&self) -> Option<i32> {
        self.record.tags.xs_score
    }

    #[getter(MD)]
    fn md(&self) -> Option<String> {
        self.record.tags.md.clone()
    }

    /// The other parts of a split read (`SA`), None when it is not split.
    #[getter(SA)]
    fn sa(&self) -> Option<String> {
        self.record.tags.sa.clone()
    }

    /// Alternative hits (`XA`), None when there are none to list.
    #[getter(XA)]
    fn xa(&self) -> Option<String> {
        self.record.tags.xa.clone()
    }

    /// The whole SAM line, as `swmap map` writes it (no line end).
    #[getter]
    fn sam(&self) -> PyResult<String> {
        let ctx = &self.context;
        let record = self.record.to_record_buf(ctx.read_group_id.as_deref()).map_err(py_error)?;
        let mut out = swmap::noodles_sam::io::Writer::new(Vec::new());
        out.write_alignment_record(&ctx.header, &record).map_err(|e| PyOSError::new_err(e.to_string()))?;
        let mut line = String::from_utf8_lossy(&out.into_inner()).into_owned();
        line.truncate(line.trim_end_matches('\n').len());
        Ok(line)
    }

    fn __repr__(&self) -> String {
        format!(
            "<swmap.Hit {}:{}-{} {} q {}-{} {} mapq {}>",
            self.ctg(),
            self.r_st(),
            self.r_en(),
            if self.reverse() { '-' } else { '+' },
            self.q_st(),
            self.q_en(),
            self.cigar_str(),
            self.mapq()
        )
    }

    /// mappy's tab-separated summary: q_st q_en strand ctg ctg_len r_st r_en mlen blen mapq
    /// cigar.
    fn __str__(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\ttp:A:{}\tcg:Z:{}",
            self.q_st(),
            self.q_en(),
            if self.reverse() { '-' } else { '+' },
            self.ctg(),
            self.ctg_len(),
            self.r_st(),
            self.r_en(),
            self.mlen(),
            self.blen(),
            self.mapq(),
            if self.is_secondary() { 'S' } else { 'P' },
            self.cigar_str()
        )
    }
}

/// The records of a FASTQ or FASTA file, read as `swmap map` reads them: see [`fastx_read`].
#[pyclass(module = "swmap", frozen)]
struct FastxReader {
    reader: std::sync::Mutex<swmap::FastqReader>,
}

#[pymethods]
impl FastxReader {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<(String, String, Option<String>)>> {
        let mut read = Read::default();
        let more = py
            .detach(|| self.reader.lock().unwrap_or_else(|p| p.into_inner()).next_into(&mut read))
            .map_err(py_error)?;
        if !more {
            return Ok(None);
        }
        let name = String::from_utf8_lossy(&read.name).into_owned();
        let seq: String = read.codes.iter().map(|&c| swmap::dna::decode(c) as char).collect();
        let qual = (!read.qual.is_empty()).then(|| read.qual.iter().map(|&q| (q + 33) as char).collect());
        Ok(Some((name, seq, qual)))
    }
}

/// The records of a FASTQ or FASTA file (plain or gzip) as `(name, seq, qual)` tuples, read
/// and checked as `swmap map` reads them: the name without a `/1` or `/2`, bases in upper
/// case with IUPAC codes other than ACGT as N, qualities `None` for FASTA. A bad record raises
/// ValueError naming the file and record.
#[pyfunction]
fn fastx_read(py: Python<'_>, path: PathBuf) -> PyResult<FastxReader> {
    let reader = py.detach(|| swmap::FastqReader::open(&path)).map_err(py_error)?;
    Ok(FastxReader { reader: std::sync::Mutex::new(reader) })
}

#[pymodule]
fn _swmap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fastx_read, m)?)?;
    m.add_class::<FastxReader>()?;
    m.add_class::<PyIndex>()?;
    m.add_class::<Aligner>()?;
    m.add_class::<Hit>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
