//! The output file: SAM to stdout or a file, BAM to a file, written through noodles.
//!
//! A named file is opened by [`crate::io::output`]: a regular file is written under a temporary
//! name and renamed only by [`SamWriter::finish`], so an interrupted run never leaves a
//! truncated file under the name the user asked for (a writer dropped without `finish`
//! removes its temporary file); a device or FIFO (`/dev/null`) is written in place, never
//! replaced.

use super::header::build_header;
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

/// Large enough that stdout and the file see few, big writes.
const BUFFER_SIZE: usize = 256 * 1024;

/// Records formatted together by one task of [`SamWriter::write_all`].
const FORMAT_RUN: usize = 512;

/// Writes the header on creation, then one record per [`SamWriter::write`].
///
/// # Examples
///
/// ```
/// use swmap::sam::{HeaderInfo, SamRecord, SamWriter};
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
    header: Header,
    /// Reused for every record.
    record: RecordBuf,
    read_group: Option<Value>,
    /// What errors name: the final path, or `-` for stdout.
    path: PathBuf,
    written: u64,
    /// Set by a failed write: the writers below may be half-finished and must not be touched.
    failed: bool,
}

enum Sink {
    Sam(sam::io::Writer<BufWriter<Box<dyn Write + Send>>>),
    Bam(bam::io::Writer<bgzf::io::Writer<BufWriter<File>>>),
    BamThreaded(bam::io::Writer<bgzf::io::MultithreadedWriter<BufWriter<File>>>),
}

impl SamWriter {
    /// Opens the output and writes the header. `None`, `-` or `/dev/stdout` is SAM on stdout,
    /// a path ending in `.bam` is BAM compressed by `threads` workers, one ending in `.sam` or
    /// without an extension SAM; any other extension is an error ([`OutputFormat::of`]).
    /// How a named path is written (and what is refused) is [`crate::io::output`]'s decision.
    pub fn create(path: Option<&Path>, header: &HeaderInfo, threads: usize) -> Result<SamWriter> {
        let (header, read_group) = build_header(header)?;
        let path = path.filter(|p| !is_stdout(p));
        let (sink, temp) = match path {
            None => (Sink::Sam(sam::io::Writer::new(buffered(Box::new(io::stdout())))), None),
            Some(path) => open_file(path, threads)?,
        };
        let mut writer = SamWriter {
            sink,
            temp,
            header,
            record: RecordBuf::default(),
            read_group: read_group.map(|rg| Value::from(rg.id)),
            path: path.map_or_else(|| PathBuf::from("-"), Path::to_path_buf),
            written: 0,
            failed: false,
        };
        let result = match &mut writer.sink {
            Sink::Sam(w) => w.write_alignment_header(&writer.header),
            Sink::Bam(w) => w.write_alignment_header(&writer.header),
            Sink::BamThreaded(w) => w.write_alignment_header(&writer.header),
        };
        result.map_err(|e| writer.fail(e, "header"))?;
        Ok(writer)
    }

    /// Writes one record.
    pub fn write(&mut self, rec: &SamRecord) -> Result<()> {
        self.check_not_failed()?;
        self.written += 1;
        let location = || format!("record {} ({})", self.written, String::from_utf8_lossy(&rec.name));
        if let Err(message) = fill(&mut self.record, rec, self.read_group.as_ref()) {
            return Err(Error::input(&self.path, location(), message));
        }
        let result = match &mut self.sink {
            Sink::Sam(w) => w.write_alignment_record(&self.header, &self.record),
            Sink::Bam(w) => w.write_alignment_record(&self.header, &self.record),
            Sink::BamThreaded(w) => w.write_alignment_record(&self.header, &self.record),
        };
        if let Err(e) = result {
            let location = location();
            return Err(self.fail(e, &location));
        }
        Ok(())
    }

    /// Writes records in order: SAM text is formatted on the rayon pool, in runs of 512
    /// records each into its own buffer, and only the bytes are written here. A record's line
    /// is written directly, the bytes noodles writes for it (what [`SamWriter::write`] gives),
    /// or by noodles itself where a field is one noodles refuses (noodles then names the
    /// problem); BAM records go one by one (their BGZF blocks are compressed by the writer's
    /// own workers).
    pub fn write_all(&mut self, recs: &[&SamRecord]) -> Result<()> {
        use rayon::prelude::*;
        if !matches!(self.sink, Sink::Sam(_)) || recs.len() < 2 * FORMAT_RUN {
            return recs.iter().try_for_each(|rec| self.write(rec));
        }
        self.check_not_failed()?;
        let (header, read_group) = (&self.header, self.read_group.as_ref());
        // Each run's bytes, or the index in the run of its first record that cannot be
        // written and why.
        let runs: Vec<std::result::Result<Vec<u8>, (usize, String)>> = recs
            .par_chunks(FORMAT_RUN)
            .map(|run| {
                let mut out = sam::io::Writer::new(Vec::with_capacity(run.len() * 400));
                let mut record = RecordBuf::default();
                for (i, rec) in run.iter().enumerate() {
                    if super::text::write_line(out.get_mut(), rec, header, read_group) {
                        continue;
                    }
                    fill(&mut record, rec, read_group).map_err(|m| (i, m))?;
                    out.write_alignment_record(header, &record)
                        .map_err(|e| (i, format!("cannot be written as SAM/BAM: {e}")))?;
                }
                Ok(out.into_inner())
            })
            .collect();
        for (k, run) in runs.into_iter().enumerate() {
            match run {
                Ok(bytes) => {
                    let Sink::Sam(w) = &mut self.sink else { unreachable!("checked above") };
                    if let Err(e) = w.get_mut().write_all(&bytes) {
                        return Err(self.fail(e, "records"));
                    }
                    self.written += (recs.len() - k * FORMAT_RUN).min(FORMAT_RUN) as u64;
                }
                Err((i, message)) => {
                    // The records before it are written, as `write` one by one would have.
                    let rec = recs[k * FORMAT_RUN + i];
                    for r in &recs[k * FORMAT_RUN..k * FORMAT_RUN + i] {
                        self.write(r)?;
                    }
                    self.written += 1;
                    let location = format!("record {} ({})", self.written, String::from_utf8_lossy(&rec.name));
                    self.failed = true;
                    return Err(Error::input(&self.path, location, message));
                }
            }
        }
        Ok(())
    }

    /// Flushes everything, ends a BAM file with its EOF block and gives a named file its
    /// final name. Without this call a named output is removed.
    pub fn finish(self) -> Result<()> {
        self.check_not_failed()?;
        // Taken apart so that the BGZF writers can be consumed: only their `finish` hands back
        // the buffered file, which must be flushed before the rename.
        let SamWriter { sink, temp, path, .. } = self;
        let result = match sink {
            Sink::Sam(mut w) => w.get_mut().flush(),
            Sink::Bam(w) => w.into_inner().finish().and_then(|mut file| file.flush()),
            Sink::BamThreaded(mut w) => w.get_mut().finish().and_then(|mut file| file.flush()),
        };
        result.map_err(|e| Error::io(&path, e))?;
        match temp {
            Some(temp) => temp.commit(),
            None => Ok(()),
        }
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
        } else {
            Err(Error::Options(format!(
                "cannot write {}: swmap writes SAM (a name ending in .sam, or without an extension) or BAM (.bam), \
                 not .{}",
                path.display(),
                ext.to_string_lossy()
            )))
        }
    }
}

/// Opens `path` as [`crate::io::output`] decides and the writer for its format.
fn open_file(path: &Path, threads: usize) -> Result<(Sink, Option<OutputFile>)> {
    let format = OutputFormat::of(path)?;
    let (file, temp) = OutputFile::create(path, &[])?;
    let file = buffered(file);

    let sink = if format == OutputFormat::Sam {
        Sink::Sam(sam::io::Writer::new(buffered(Box::new(file))))
    } else if threads <= 1 {
        Sink::Bam(bam::io::Writer::new(file))
    } else {
        let workers = NonZero::new(threads).expect("threads > 1");
        let bgzf = bgzf::io::MultithreadedWriter::with_worker_count(workers, file);
        Sink::BamThreaded(bam::io::Writer::from(bgzf))
    };
    Ok((sink, Some(temp)))
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
    if let Some(xa) = &tags.xa {
        data.insert(Tag::new(b'X', b'A'), Value::from(xa.as_str()));
    }
    if let Some(rg) = read_group {
        data.insert(Tag::READ_GROUP, rg.clone());
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
        SamWriter {
            sink: Sink::Sam(sam::io::Writer::new(BufWriter::with_capacity(16, out))),
            temp: None,
            header,
            record: RecordBuf::default(),
            read_group: read_group.map(|rg| Value::from(rg.id)),
            path: PathBuf::from("-"),
            written: 0,
            failed: false,
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
        let recs: Vec<SamRecord> = (0..3 * FORMAT_RUN + 17).map(unmapped).collect();
        let refs: Vec<&SamRecord> = recs.iter().collect();
        let (a, b) = (Shared::default(), Shared::default());
        let mut one = writer_to(Box::new(a.clone()), &HeaderInfo::default());
        refs.iter().for_each(|r| one.write(r).unwrap());
        let mut all = writer_to(Box::new(b.clone()), &HeaderInfo::default());
        all.write_all(&refs).unwrap();
        one.finish().unwrap();
        all.finish().unwrap();
        assert!(a.0.lock().unwrap().len() > 3 * FORMAT_RUN * 10);
        assert!(*a.0.lock().unwrap() == *b.0.lock().unwrap());
    }

    #[test]
    fn a_bad_record_among_many_is_named_with_its_number() {
        let mut recs: Vec<SamRecord> = (0..3 * FORMAT_RUN).map(unmapped).collect();
        recs[FORMAT_RUN + 5].name = b"bad@name".to_vec();
        let refs: Vec<&SamRecord> = recs.iter().collect();
        let mut w = writer_to(Box::new(io::sink()), &HeaderInfo::default());
        match w.write_all(&refs) {
            Err(Error::Input { location, .. }) => {
                assert_eq!(location, format!("record {} (bad@name)", FORMAT_RUN + 6))
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
