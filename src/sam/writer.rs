//! The output file: SAM to stdout or a file, BAM to a file, written through noodles.
//!
//! Records become bytes in a [`RecordEncoder`], which any thread may hold (the mapper encodes
//! each chunk's records on its worker threads); the [`SamWriter`] only writes those bytes, in
//! order. SAM text is written straight from a record where every field is one noodles accepts
//! (the bytes noodles would write, see `super::text`), else by noodles itself, which then
//! names the problem; BAM records are encoded by noodles, and their BGZF blocks compressed by
//! the writer's own workers.
//!
//! A named file is opened by [`crate::io::output`]: a regular file is written under a temporary
//! name and renamed only by [`SamWriter::finish`], so an interrupted run never leaves a
//! truncated file under the name the user asked for (a writer dropped without `finish`
//! removes its temporary file); a device or FIFO (`/dev/null`) is written in place, never
//! replaced.

use super::cram::{load_reference, require_reference, write_index as write_cram_index, CramSink};
use super::header::{build_header, mark_coordinate_sorted};
use super::markdup::{append_mate_score, duplicate_score, DuplicationMetrics, MarkdupOptions, ReadGroupLibrary};
use super::sort::Sorter;
use super::{HeaderInfo, SamRecord};
use crate::align::{Cigar, CigarOp};
use crate::error::{Error, Result};
use crate::io::output::{is_stdout, OutputFile};
use noodles_bam as bam;
use noodles_bgzf as bgzf;
use noodles_sam::alignment::io::Write as _;
use noodles_sam::alignment::record::cigar::{op::Kind, Op};
use noodles_sam::alignment::record::data::field::Tag;
use noodles_sam::alignment::record::{Flags, MappingQuality};
use noodles_sam::alignment::record_buf::data::field::Value;
use noodles_sam::alignment::RecordBuf;
use noodles_sam::{self as sam, Header};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Large enough that stdout and the file see few, big writes.
const BUFFER_SIZE: usize = 256 * 1024;

/// Records encoded together by one task of [`SamWriter::write_all`].
pub const ENCODE_RUN: usize = 512;

/// Writes the header on creation, then records: one by one ([`SamWriter::write`]), many
/// encoded in parallel ([`SamWriter::write_all`]), or bytes a `RecordEncoder` made
/// elsewhere (`SamWriter::write_encoded`).
///
/// # Examples
///
/// ```
/// use swmap::{HeaderInfo, SamRecord, SamWriter};
///
/// let dir = std::env::temp_dir().join(format!("swmap-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("out.bam");
/// let header = HeaderInfo { contigs: vec![("chr1".into(), 1000)], ..HeaderInfo::default() };
/// let mut out = SamWriter::create(Some(&path), &header, 2).unwrap();
/// let unmapped = SamRecord { name: b"r1".to_vec(), flags: 4, ..SamRecord::default() };
/// out.write(&unmapped).unwrap();
/// out.finish().unwrap();
/// assert!(path.exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct SamWriter {
    // Declared before `temp` so the file is closed before the temporary name is removed.
    sink: Sink,
    temp: Option<OutputFile>,
    encoder: RecordEncoder,
    /// Reused by [`SamWriter::write`].
    one: EncodedRecords,
    scratch: EncodeScratch,
    /// What errors name: the final path, or `-` for stdout.
    path: PathBuf,
    written: u64,
    /// Set by a failed write: the writers below may be half-finished and must not be touched.
    failed: bool,
    /// For a coordinate-sorted BAM: records are held (and spilled) here until `finish`.
    sorter: Option<Sorter>,
    /// Duplicate marking on the sorted records, and the header's read groups (ID, LB).
    markdup: Option<(MarkdupOptions, Vec<ReadGroupLibrary>)>,
}

enum Sink {
    Sam(BufWriter<Box<dyn Write + Send>>),
    Bam(bgzf::io::Writer<BufWriter<File>>),
    BamThreaded(bgzf::io::MultithreadedWriter<BufWriter<File>>),
    Cram(Box<CramSink>),
}

impl Sink {
    fn bytes(&mut self) -> &mut dyn Write {
        match self {
            Sink::Sam(w) => w,
            Sink::Bam(w) => w,
            Sink::BamThreaded(w) => w,
            Sink::Cram(w) => &mut **w,
        }
    }
}

/// Turns records into the bytes of one output format (SAM lines, or BAM records with their
/// length prefixes), on any thread: it is `Clone`, `Send` and `Sync`, and holds the header
/// the records are written under.
#[derive(Clone, Debug)]
pub struct RecordEncoder {
    header: Arc<Header>,
    read_group: Option<Value>,
    format: OutputFormat,
    /// Append the mate's duplicate score to paired primary records (for duplicate marking).
    mate_scores: bool,
}

/// Consecutive records as bytes, from [`RecordEncoder::push`]: what a [`SamWriter`] writes.
/// Encoding stops at the first record the format cannot hold; the writer writes the records
/// before it and then reports it, with its number in the output.
#[derive(Default)]
pub struct EncodedRecords {
    bytes: Vec<u8>,
    records: u64,
    /// Reads whose records these are (set by the encoder's user, for progress).
    reads: u64,
    /// The first record that could not be encoded: its name and why.
    refused: Option<(Vec<u8>, String)>,
}

impl EncodedRecords {
    /// Empties it for reuse, keeping its buffer.
    fn clear(&mut self) {
        self.bytes.clear();
        (self.records, self.reads, self.refused) = (0, 0, None);
    }

    /// Reads whose records these are, as [`EncodedRecords::set_reads`] set it.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Notes how many reads the records belong to.
    pub fn set_reads(&mut self, reads: u64) {
        self.reads = reads;
    }
}

/// Per-thread scratch for [`RecordEncoder::push`] (a noodles record, reused).
#[derive(Default)]
pub struct EncodeScratch(RecordBuf);

impl RecordEncoder {
    /// An empty run of records, with room for about `records` of them.
    pub fn start(&self, records: usize) -> EncodedRecords {
        EncodedRecords { bytes: Vec::with_capacity(records * 400), records: 0, reads: 0, refused: None }
    }

    /// Appends `rec`'s bytes to `out` (nothing once a record was refused).
    pub fn push(&self, out: &mut EncodedRecords, rec: &SamRecord, scratch: &mut EncodeScratch) {
        self.push_with_mate(out, rec, scratch, None)
    }

    /// Whether records need their mate's qualities ([`RecordEncoder::push_with_mate`]).
    pub(crate) fn wants_mate_scores(&self) -> bool {
        self.mate_scores
    }

    /// [`RecordEncoder::push`], given the mate's qualities for duplicate marking: a paired
    /// primary record with a mapped mate then carries the mate's score for the marker.
    pub(crate) fn push_with_mate(
        &self,
        out: &mut EncodedRecords,
        rec: &SamRecord,
        scratch: &mut EncodeScratch,
        mate_qual: Option<&[u8]>,
    ) {
        let start = out.bytes.len();
        let records = out.records;
        self.push_record(out, rec, scratch);
        let mapped_pair = rec.flags & (0x4 | 0x100 | 0x800) == 0 && rec.flags & 0x1 != 0 && rec.flags & 0x8 == 0;
        if self.mate_scores && self.format == OutputFormat::Bam && out.records > records && mapped_pair {
            let score = duplicate_score(mate_qual.unwrap_or(&[]), false);
            append_mate_score(&mut out.bytes, start, score);
        }
    }

    fn push_record(&self, out: &mut EncodedRecords, rec: &SamRecord, scratch: &mut EncodeScratch) {
        if out.refused.is_some() {
            return;
        }
        // A read group from the FASTQ comment (-C) must be one the header declares (-H), and
        // not beside -R's.
        if let Some(rg) = rec.tags.extra.split(|&b| b == b'\t').find_map(|f| f.strip_prefix(b"RG:Z:")) {
            let why = if self.read_group.is_some() {
                Some("RG comes from -R and from the FASTQ comment".to_string())
            } else if !self.header.read_groups().contains_key(rg) {
                Some(format!("read group {} is not in the header (declare it with -H)", String::from_utf8_lossy(rg)))
            } else {
                None
            };
            if let Some(why) = why {
                out.refused = Some((rec.name.clone(), why));
                return;
            }
        }
        let (header, read_group) = (&*self.header, self.read_group.as_ref());
        if self.format == OutputFormat::Sam && super::text::write_line(&mut out.bytes, rec, header, read_group) {
            out.records += 1;
            return;
        }
        let record = &mut scratch.0;
        let result = fill(record, rec, read_group).and_then(|()| {
            let mark = out.bytes.len();
            let written = match self.format {
                OutputFormat::Sam => sam::io::Writer::new(&mut out.bytes).write_alignment_record(header, record),
                OutputFormat::Bam | OutputFormat::Cram => {
                    bam::io::Writer::from(&mut out.bytes).write_alignment_record(header, record)
                }
            };
            written.map_err(|e| {
                out.bytes.truncate(mark);
                format!("cannot be written as SAM/BAM: {e}")
            })
        });
        match result {
            Ok(()) => out.records += 1,
            Err(message) => out.refused = Some((rec.name.clone(), message)),
        }
    }
}

impl SamWriter {
    /// Opens the output and writes the header. `None`, `-` or `/dev/stdout` is SAM on stdout,
    /// a path ending in `.bam` is BAM compressed by `threads` workers, one ending in `.sam` or
    /// without an extension SAM; any other extension is an error ([`OutputFormat::of`]).
    /// How a named path is written (and what is refused) is `crate::io::output`'s decision.
    pub fn create(path: Option<&Path>, header: &HeaderInfo, threads: usize) -> Result<SamWriter> {
        let info = header;
        let (header, read_group) = build_header(info)?;
        let path = path.filter(|p| !is_stdout(p));
        let (sink, temp, format) = match path {
            None => (Sink::Sam(buffered(Box::new(io::stdout()))), None, OutputFormat::Sam),
            Some(path) => open_file(path, threads, &header, info)?,
        };
        SamWriter::open(sink, temp, header, read_group.map(|rg| Value::from(rg.id)), format, path, None)
    }

    /// Opens `path` (a name ending in `.bam`) for a coordinate-sorted BAM, as `samtools sort`
    /// writes it from the unsorted output (see `super::sort`), and writes the header (`@HD
    /// SO:coordinate`). Up to `memory` bytes of records are held before sorted runs are
    /// spilled to scratch files beside the output. [`SamWriter::finish`] writes the records
    /// and then the index, `PATH.bai` (or `PATH.csi` when a contig exceeds 2^29 bases), unless
    /// the output is a device or a FIFO, which cannot be read back.
    pub fn create_sorted(path: &Path, header: &HeaderInfo, threads: usize, memory: usize) -> Result<SamWriter> {
        SamWriter::create_sorted_marked(path, header, threads, memory, None)
    }

    /// [`SamWriter::create_sorted`], with duplicates marked as Picard MarkDuplicates marks
    /// them (with its default options) when `markdup` is given: the records must come from
    /// [`crate::Mapper::write_sam`], which gives each paired record its mate's qualities;
    /// [`SamWriter::finish_marked`] returns Picard's metrics.
    pub fn create_sorted_marked(
        path: &Path,
        header: &HeaderInfo,
        threads: usize,
        memory: usize,
        markdup: Option<MarkdupOptions>,
    ) -> Result<SamWriter> {
        if is_stdout(path) || OutputFormat::of(path)? == OutputFormat::Sam {
            return Err(Error::Options(format!(
                "--sort writes a coordinate-sorted BAM or CRAM file and its index: give -o a name ending in .bam or .cram, not {}",
                path.display()
            )));
        }
        let info = header;
        let (mut header, read_group) = build_header(info)?;
        mark_coordinate_sorted(&mut header);
        let read_groups = read_groups_of(&header);
        let (sink, temp, format) = open_file(path, threads, &header, info)?;
        let sorter = Sorter::new(path, memory, threads);
        let read_group = read_group.map(|rg| Value::from(rg.id));
        let mut writer = SamWriter::open(sink, temp, header, read_group, format, Some(path), Some(sorter))?;
        writer.markdup = markdup.map(|opts| (opts, read_groups));
        writer.encoder.mate_scores = writer.markdup.is_some();
        Ok(writer)
    }

    fn open(
        sink: Sink,
        temp: Option<OutputFile>,
        header: Header,
        read_group: Option<Value>,
        format: OutputFormat,
        path: Option<&Path>,
        sorter: Option<Sorter>,
    ) -> Result<SamWriter> {
        // CRAM is written from BAM records.
        let encoding = if format == OutputFormat::Sam { OutputFormat::Sam } else { OutputFormat::Bam };
        let encoder = RecordEncoder { header: Arc::new(header), read_group, format: encoding, mate_scores: false };
        let mut writer = SamWriter {
            sink,
            temp,
            one: encoder.start(1),
            scratch: EncodeScratch::default(),
            encoder,
            path: path.map_or_else(|| PathBuf::from("-"), Path::to_path_buf),
            written: 0,
            failed: false,
            sorter,
            markdup: None,
        };
        let header = &*writer.encoder.header;
        let result = match &mut writer.sink {
            Sink::Sam(w) => sam::io::Writer::new(w).write_header(header),
            Sink::Bam(w) => bam::io::Writer::from(w).write_header(header),
            Sink::BamThreaded(w) => bam::io::Writer::from(w).write_header(header),
            // Written when the CRAM writer opened.
            Sink::Cram(_) => Ok(()),
        };
        result.map_err(|e| writer.fail(e, "header"))?;
        Ok(writer)
    }

    /// What turns records into this output's bytes; hand it to other threads.
    pub(crate) fn encoder(&self) -> &RecordEncoder {
        &self.encoder
    }

    /// Writes one record.
    pub fn write(&mut self, rec: &SamRecord) -> Result<()> {
        let mut one = std::mem::take(&mut self.one);
        one.clear();
        self.encoder.push(&mut one, rec, &mut self.scratch);
        let result = self.write_encoded(&one);
        self.one = one;
        result
    }

    /// Writes records in order, encoded on the rayon pool in runs of `ENCODE_RUN`: the bytes
    /// of [`SamWriter::write`] one by one.
    pub fn write_all(&mut self, recs: &[&SamRecord]) -> Result<()> {
        use rayon::prelude::*;
        let encoder = &self.encoder;
        let runs: Vec<EncodedRecords> = recs
            .par_chunks(ENCODE_RUN)
            .map_init(EncodeScratch::default, |scratch, run| {
                let mut out = encoder.start(run.len());
                run.iter().for_each(|rec| encoder.push(&mut out, rec, scratch));
                out
            })
            .collect();
        runs.iter().try_for_each(|run| self.write_encoded(run))
    }

    /// Writes records a [`RecordEncoder`] of this writer (a clone of [`SamWriter::encoder`])
    /// encoded; a refused record among them is an error naming its number in the output,
    /// after the records before it are written.
    pub(crate) fn write_encoded(&mut self, run: &EncodedRecords) -> Result<()> {
        self.check_not_failed()?;
        if let Some(sorter) = &mut self.sorter {
            if let Err(e) = sorter.push(&run.bytes) {
                self.failed = true;
                return Err(e);
            }
        } else if let Err(e) = self.sink.bytes().write_all(&run.bytes) {
            return Err(self.fail(e, "records"));
        }
        self.written += run.records;
        if let Some((name, message)) = &run.refused {
            self.written += 1;
            self.failed = true;
            let location = format!("record {} ({})", self.written, String::from_utf8_lossy(name));
            return Err(Error::input(&self.path, location, message.clone()));
        }
        Ok(())
    }

    /// Flushes everything, ends a BAM file with its EOF block and gives a named file its
    /// final name. Without this call a named output is removed.
    pub fn finish(self) -> Result<()> {
        self.finish_marked().map(|_| ())
    }

    /// [`SamWriter::finish`], returning what duplicate marking found when it was asked for
    /// ([`SamWriter::create_sorted_marked`]).
    pub fn finish_marked(self) -> Result<Option<DuplicationMetrics>> {
        self.check_not_failed()?;
        // Taken apart so that the BGZF writers can be consumed: only their `finish` hands back
        // the buffered file, which must be flushed before the rename.
        let SamWriter { mut sink, temp, path, sorter, markdup, .. } = self;
        let sorted = sorter.is_some();
        let threads = sorter.as_ref().map_or(1, Sorter::threads);
        let mut metrics = None;
        if let Some(sorter) = sorter {
            let markdup = markdup.as_ref().map(|(opts, groups)| (*opts, groups.as_slice()));
            metrics = sorter.finish(sink.bytes(), &path, markdup)?;
        }
        let mut cram_spans = None;
        let result = match sink {
            Sink::Sam(mut w) => w.flush(),
            Sink::Bam(w) => w.finish().and_then(|mut file| file.flush()),
            Sink::BamThreaded(mut w) => w.finish().and_then(|mut file| file.flush()),
            Sink::Cram(w) => w.finish().and_then(|(mut file, spans)| {
                cram_spans = Some(spans);
                file.flush()
            }),
        };
        result.map_err(|e| Error::io(&path, e))?;
        let Some(temp) = temp else { return Ok(metrics) };
        if !sorted || temp.is_in_place() {
            return temp.commit().map(|()| metrics);
        }
        if let Some(spans) = cram_spans {
            let index_path = path.with_added_extension("crai");
            let (file, index_temp) = OutputFile::create(&index_path, &[])?;
            let mut file = BufWriter::new(file);
            write_cram_index(temp.written_path(), &spans, &mut file).map_err(|e| Error::io(&index_path, e))?;
            temp.commit()?;
            return index_temp.commit().map(|()| metrics);
        }
        let index = index_sorted(temp.written_path(), threads).map_err(|e| Error::io(&path, e))?;
        let (extension, index) = match index {
            bam::Index::Bai(bai) => ("bai", IndexFile::Bai(bai)),
            bam::Index::Csi(csi) => ("csi", IndexFile::Csi(csi)),
        };
        let index_path = path.with_added_extension(extension);
        let (file, index_temp) = OutputFile::create(&index_path, &[])?;
        let written = match index {
            IndexFile::Bai(i) => bam::bai::io::Writer::new(BufWriter::new(file)).write_index(&i),
            IndexFile::Csi(i) => noodles_csi::io::Writer::new(BufWriter::new(file)).write_index(&i),
        };
        written.map_err(|e| Error::io(&index_path, e))?;
        temp.commit()?;
        index_temp.commit().map(|()| metrics)
    }

    fn check_not_failed(&self) -> Result<()> {
        if self.failed {
            let e = io::Error::other("output abandoned after an earlier write failed");
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }

    /// Marks the writer failed and turns a noodles error into ours: noodles reports a record it
    /// cannot represent as `InvalidInput`/`InvalidData`, anything else is the file's fault.
    fn fail(&mut self, e: io::Error, location: &str) -> Error {
        self.failed = true;
        match e.kind() {
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                Error::input(&self.path, location, format!("cannot be written as SAM/BAM: {e}"))
            }
            _ => Error::io(&self.path, e),
        }
    }
}

/// The header's read groups: (ID, LB) in header order.
fn read_groups_of(header: &Header) -> Vec<ReadGroupLibrary> {
    use noodles_sam::header::record::value::map::read_group::tag::LIBRARY;
    header
        .read_groups()
        .iter()
        .map(|(id, map)| {
            let library = map.other_fields().get(&LIBRARY).map(|lb| String::from_utf8_lossy(lb).into_owned());
            (String::from_utf8_lossy(id).into_owned(), library)
        })
        .collect()
}

fn buffered<W: Write>(inner: W) -> BufWriter<W> {
    BufWriter::with_capacity(BUFFER_SIZE, inner)
}

/// What a named output is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// SAM text: a name ending in `.sam`, or with no extension (`/dev/stdout`, a FIFO).
    Sam,
    /// BGZF-compressed BAM: a name ending in `.bam`.
    Bam,
    /// CRAM 3.0 against the reference FASTA ([`HeaderInfo::reference`]): a name ending in
    /// `.cram`.
    Cram,
}

impl OutputFormat {
    /// The format a name asks for, or an error for an extension swmap does not write
    /// (`.cram`, `.sam.gz`, ...), so that the file is never something else than its name says.
    pub fn of(path: &Path) -> Result<OutputFormat> {
        let Some(ext) = path.extension() else { return Ok(OutputFormat::Sam) };
        if ext.eq_ignore_ascii_case("sam") {
            Ok(OutputFormat::Sam)
        } else if ext.eq_ignore_ascii_case("bam") {
            Ok(OutputFormat::Bam)
        } else if ext.eq_ignore_ascii_case("cram") {
            Ok(OutputFormat::Cram)
        } else {
            Err(Error::Options(format!(
                "cannot write {}: swmap writes SAM (a name ending in .sam, or without an extension), BAM (.bam) \
                 or CRAM (.cram), not .{}",
                path.display(),
                ext.to_string_lossy()
            )))
        }
    }
}

/// The index of the coordinate-sorted BAM at `path`, as noodles' `bam::fs::index` builds it
/// (the same bytes), its blocks inflated by `threads` workers: read by one thread, the file
/// takes about as long as sorting it on a 16-core server.
fn index_sorted(path: &Path, threads: usize) -> io::Result<bam::Index> {
    use noodles_sam::alignment::Record as _;
    let invalid = |e: Box<dyn std::error::Error + Send + Sync>| io::Error::new(io::ErrorKind::InvalidData, e);
    let workers = NonZero::new(threads.max(1)).expect("at least one thread");
    let mut reader =
        bam::io::Reader::from(bgzf::io::MultithreadedReader::with_worker_count(workers, File::open(path)?));
    let header = reader.read_header()?;
    let longest = header.reference_sequences().values().map(|rs| rs.length()).max().unwrap_or(NonZero::<usize>::MIN);
    let longest = noodles_core::Position::new(longest.get()).expect("a length is at least 1");
    let mut indexer =
        bam::index::Indexer::builder().set_max_position_hint(longest).build().map_err(|e| invalid(e.into()))?;
    let mut record = bam::Record::default();
    let mut start = reader.get_ref().virtual_position();
    while reader.read_record(&mut record)? != 0 {
        let end = reader.get_ref().virtual_position();
        let span = (
            record.reference_sequence_id().transpose()?,
            record.alignment_start().transpose()?,
            record.alignment_end().transpose()?,
        );
        let context = match span {
            (Some(id), Some(first), Some(last)) => Some((id, first, last, !record.flags().is_unmapped())),
            _ => None,
        };
        let chunk = noodles_csi::binning_index::index::reference_sequence::bin::Chunk::new(start, end);
        indexer.add_record(context, chunk).map_err(|e| invalid(e.into()))?;
        start = end;
    }
    Ok(indexer.build(header.reference_sequences().len()))
}

/// A sorted BAM's index, as noodles builds it.
enum IndexFile {
    Bai(bam::bai::Index),
    Csi(noodles_csi::Index),
}

/// Opens `path` as [`crate::io::output`] decides and the writer for its format (for CRAM, with
/// `header` written and the reference of `info` loaded and checked first).
fn open_file(
    path: &Path,
    threads: usize,
    header: &Header,
    info: &HeaderInfo,
) -> Result<(Sink, Option<OutputFile>, OutputFormat)> {
    let format = OutputFormat::of(path)?;
    let reference = if format == OutputFormat::Cram {
        let fasta = require_reference(info.reference.as_ref(), path)?;
        Some(load_reference(&fasta, &info.contigs)?)
    } else {
        None
    };
    let (file, temp) = OutputFile::create(path, &[])?;
    let file = buffered(file);
    let sink = if let Some(reference) = reference {
        Sink::Cram(Box::new(CramSink::new(file, header, reference, threads).map_err(|e| Error::io(path, e))?))
    } else if format == OutputFormat::Sam {
        Sink::Sam(BufWriter::new(Box::new(file)))
    } else if threads <= 1 {
        Sink::Bam(bgzf::io::Writer::new(file))
    } else {
        let workers = NonZero::new(threads).expect("threads > 1");
        Sink::BamThreaded(bgzf::io::MultithreadedWriter::with_worker_count(workers, file))
    };
    Ok((sink, Some(temp), format))
}

/// Copies `rec` into the reused noodles record; an error is a message about the record.
pub(super) fn fill(buf: &mut RecordBuf, rec: &SamRecord, read_group: Option<&Value>) -> Result<(), String> {
    let name = buf.name_mut();
    if rec.name.is_empty() {
        *name = None;
    } else if let Some(name) = name {
        name.clear();
        name.extend_from_slice(&rec.name);
    } else {
        *name = Some(rec.name.clone().into());
    }
    *buf.flags_mut() = Flags::from(rec.flags);
    *buf.reference_sequence_id_mut() = rec.ref_id;
    *buf.alignment_start_mut() = rec.pos.map(position).transpose()?;
    *buf.mapping_quality_mut() = MappingQuality::new(rec.mapq);
    fill_cigar(buf.cigar_mut().as_mut(), &rec.cigar);
    *buf.mate_reference_sequence_id_mut() = rec.mate_ref_id;
    *buf.mate_alignment_start_mut() = rec.mate_pos.map(position).transpose()?;
    *buf.template_length_mut() = i32::try_from(rec.tlen).map_err(|_| format!("TLEN {} is out of range", rec.tlen))?;

    let seq = buf.sequence_mut().as_mut();
    seq.clear();
    seq.extend_from_slice(&rec.seq);
    let qual = buf.quality_scores_mut().as_mut();
    qual.clear();
    qual.extend_from_slice(&rec.qual);

    let data = buf.data_mut();
    data.clear();
    let tags = &rec.tags;
    if let Some(nm) = tags.nm {
        data.insert(Tag::EDIT_DISTANCE, Value::from(nm));
    }
    if let Some(md) = &tags.md {
        data.insert(Tag::MISMATCHED_POSITIONS, Value::from(md.as_str()));
    }
    if let Some(mc) = &tags.mc {
        data.insert(Tag::MATE_CIGAR, Value::from(mc.as_str()));
    }
    if let Some(mq) = tags.mq {
        data.insert(Tag::MATE_MAPPING_QUALITY, Value::from(mq));
    }
    if let Some(score) = tags.as_score {
        data.insert(Tag::ALIGNMENT_SCORE, Value::from(score));
    }
    if let Some(score) = tags.xs_score {
        data.insert(Tag::new(b'X', b'S'), Value::from(score));
    }
    if let Some(sa) = &tags.sa {
        data.insert(Tag::OTHER_ALIGNMENTS, Value::from(sa.as_str()));
    }
    if let Some(pa) = tags.pa {
        data.insert(Tag::new(b'p', b'a'), Value::from(pa as f32 / 1000.0));
    }
    if let Some(xa) = &tags.xa {
        data.insert(Tag::new(b'X', b'A'), Value::from(xa.as_str()));
    }
    if let Some(rg) = read_group {
        data.insert(Tag::READ_GROUP, rg.clone());
    }
    for field in tags.extra.split(|&b| b == b'\t').filter(|f| f.len() >= 5) {
        // Checked when read (check_comment): TAG:TYPE:VALUE with types A, i and Z.
        let (tag, value) = (Tag::new(field[0], field[1]), &field[5..]);
        let text = std::str::from_utf8(value).map_err(|_| "a comment tag is not text".to_string())?;
        let value = match field[3] {
            b'A' => Value::Character(value[0]),
            b'i' => match text.parse::<i64>() {
                Ok(n) if i32::try_from(n).is_ok() => Value::from(n as i32),
                Ok(n) if u32::try_from(n).is_ok() => Value::UInt32(n as u32),
                _ => return Err(format!("comment tag value {text} is out of range")),
            },
            _ => Value::from(text),
        };
        data.insert(tag, value);
    }
    Ok(())
}

/// Our 0-based position as noodles' 1-based one (its type is not re-exported by noodles-sam,
/// so it is named only through inference).
fn position<P: TryFrom<usize>>(pos: u64) -> Result<P, String> {
    usize::try_from(pos + 1)
        .ok()
        .and_then(|p| P::try_from(p).ok())
        .ok_or_else(|| format!("position {pos} is out of range"))
}

fn fill_cigar(ops: &mut Vec<Op>, cigar: &Cigar) {
    ops.clear();
    ops.extend(cigar.runs().map(|(op, len)| {
        let kind = match op {
            CigarOp::Match => Kind::Match,
            CigarOp::Insertion => Kind::Insertion,
            CigarOp::Deletion => Kind::Deletion,
            CigarOp::SoftClip => Kind::SoftClip,
            CigarOp::HardClip => Kind::HardClip,
        };
        Op::new(kind, len as usize)
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stdout whose reader went away.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    fn writer_to(out: Box<dyn Write + Send>, info: &HeaderInfo) -> SamWriter {
        let (header, read_group) = build_header(info).unwrap();
        let encoder = RecordEncoder {
            header: Arc::new(header),
            read_group: read_group.map(|rg| Value::from(rg.id)),
            format: OutputFormat::Sam,
            mate_scores: false,
        };
        SamWriter {
            sink: Sink::Sam(BufWriter::with_capacity(16, out)),
            temp: None,
            one: encoder.start(1),
            scratch: EncodeScratch::default(),
            encoder,
            path: PathBuf::from("-"),
            written: 0,
            failed: false,
            sorter: None,
            markdup: None,
        }
    }

    #[test]
    fn closed_stdout_is_a_broken_pipe_error_not_a_panic() {
        let mut w = writer_to(Box::new(ClosedPipe), &HeaderInfo::default());
        let rec = SamRecord { name: b"read_with_a_long_name".to_vec(), flags: 4, ..Default::default() };
        let err = w.write(&rec).unwrap_err();
        assert!(err.is_broken_pipe(), "{err}");
        // Later calls must not reach the half-written writer.
        assert!(w.write(&rec).is_err());
        assert!(w.finish().is_err());
    }

    #[test]
    fn unwritable_record_names_the_record() {
        let mut w = writer_to(Box::new(io::sink()), &HeaderInfo::default());
        let rec = SamRecord { name: b"bad@name".to_vec(), flags: 4, ..Default::default() };
        match w.write(&rec) {
            Err(Error::Input { location, .. }) => assert_eq!(location, "record 1 (bad@name)"),
            other => panic!("expected an input error, got {other:?}"),
        }
    }

    /// A sink that keeps what it was given, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn unmapped(i: usize) -> SamRecord {
        SamRecord {
            name: format!("r{i}").into_bytes(),
            flags: 4,
            seq: b"ACGT".to_vec(),
            qual: vec![30; 4],
            ..Default::default()
        }
    }

    #[test]
    fn formatting_in_parallel_writes_the_bytes_of_one_by_one() {
        let recs: Vec<SamRecord> = (0..3 * ENCODE_RUN + 17).map(unmapped).collect();
        let refs: Vec<&SamRecord> = recs.iter().collect();
        let (a, b) = (Shared::default(), Shared::default());
        let mut one = writer_to(Box::new(a.clone()), &HeaderInfo::default());
        refs.iter().for_each(|r| one.write(r).unwrap());
        let mut all = writer_to(Box::new(b.clone()), &HeaderInfo::default());
        all.write_all(&refs).unwrap();
        one.finish().unwrap();
        all.finish().unwrap();
        assert!(a.0.lock().unwrap().len() > 3 * ENCODE_RUN * 10);
        assert!(*a.0.lock().unwrap() == *b.0.lock().unwrap());
    }

    #[test]
    fn a_bad_record_among_many_is_named_with_its_number() {
        let mut recs: Vec<SamRecord> = (0..3 * ENCODE_RUN).map(unmapped).collect();
        recs[ENCODE_RUN + 5].name = b"bad@name".to_vec();
        let refs: Vec<&SamRecord> = recs.iter().collect();
        let mut w = writer_to(Box::new(io::sink()), &HeaderInfo::default());
        match w.write_all(&refs) {
            Err(Error::Input { location, .. }) => {
                assert_eq!(location, format!("record {} (bad@name)", ENCODE_RUN + 6))
            }
            other => panic!("expected an input error, got {other:?}"),
        }
        assert!(w.finish().is_err(), "a failed writer is not finished");
    }

    #[test]
    fn writer_can_move_to_another_thread() {
        fn is_send<T: Send>() {}
        is_send::<SamWriter>();
    }
}
