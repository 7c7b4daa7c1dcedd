//! CRAM output (`-o NAME.cram`): records encoded as BAM (as for every output) are encoded as
//! CRAM 3.0 by swmap's own encoder ([`encode`]) against the reference FASTA, the exact file
//! the index was built from (IUPAC codes included, which the index keeps as N). The header's
//! `@SQ` lines get the `M5` checksum of each contig as `samtools dict` computes it. The codecs
//! are gzip and rANS, which samtools and htsjdk (so Picard and GATK) decode. Containers are
//! encoded on threads of their own ([`CramSink`]), so a CRAM run takes a BAM run's time.

mod encode;
mod rans;

use super::raw::{record_len, BamRecord};
use crate::error::{Error, Result};
use encode::{ReadGroups, Reference};
use noodles_core::Position;
use noodles_cram as cram;
use noodles_fasta as fasta;
use noodles_sam::Header;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The reference sequences of a FASTA, read whole (plain or gzip), checked against the
/// contigs the records are written under: the same names and lengths, in the same order.
pub(crate) fn load_reference(path: &Path, contigs: &[(String, u64)]) -> Result<Reference> {
    let input = crate::io::input::open(path)?;
    let mut reader = fasta::io::Reader::new(input);
    let mut found = Vec::with_capacity(contigs.len());
    let mut sequences = Vec::with_capacity(contigs.len());
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => Error::input(path, format!("record {}", i + 1), e.to_string()),
            _ => Error::io(path, e),
        })?;
        found.push((String::from_utf8_lossy(record.name()).into_owned(), record.sequence().len() as u64));
        let mut bases = record.sequence().as_ref().to_vec();
        bases.make_ascii_uppercase();
        sequences.push(bases);
    }
    if let Some(k) = (0..found.len().max(contigs.len())).find(|&k| found.get(k) != contigs.get(k)) {
        let what = |c: Option<&(String, u64)>| c.map_or("nothing".to_string(), |(n, l)| format!("{n} ({l} bases)"));
        return Err(Error::Options(format!(
            "{}: not the FASTA the index was built from (contig {} is {} there, {} in the index); CRAM needs the exact reference",
            path.display(),
            k + 1,
            what(found.get(k)),
            what(contigs.get(k))
        )));
    }
    Ok(Reference { contigs: sequences })
}

/// The header as SAM text, each `@SQ` line given the `M5` of its contig (upper-case bases, as
/// `samtools dict` computes it) unless it has one.
fn header_text(header: &Header, reference: &Reference) -> io::Result<Vec<u8>> {
    let mut text = Vec::new();
    noodles_sam::io::Writer::new(&mut text).write_header(header)?;
    let mut out = Vec::with_capacity(text.len() + 40 * reference.contigs.len());
    let mut contig = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        out.extend_from_slice(body);
        if body.starts_with(b"@SQ\t") {
            let bases = reference.contigs.get(contig).ok_or_else(|| invalid_data("more @SQ lines than contigs"))?;
            if !body.split(|&b| b == b'\t').any(|f| f.starts_with(b"M5:")) {
                out.extend_from_slice(b"\tM5:");
                for byte in encode::md5(bases) {
                    write!(out, "{byte:02x}")?;
                }
            }
            contig += 1;
        }
        out.push(b'\n');
    }
    Ok(out)
}

fn invalid_data(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Records per CRAM container (one slice each), each encoded on its own.
const CONTAINER_RECORDS: usize = 10_240;

/// Takes encoded BAM records (length prefix included, any number per write) and writes them
/// as CRAM. Containers are encoded on `workers` threads and written in order after the file's
/// header.
pub(crate) struct CramSink {
    out: BufWriter<File>,
    reference: Arc<Reference>,
    groups: Arc<ReadGroups>,
    /// Bytes of a record not yet whole.
    pending: Vec<u8>,
    /// The records of the container being filled, as BAM.
    batch: Vec<u8>,
    batch_records: usize,
    /// Containers being encoded, oldest first.
    in_flight: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    workers: usize,
    /// Where the records lie, per [`SPAN_BLOCK`] records in output order, for the index.
    spans: Vec<Spans>,
    written: u64,
}

/// Records per entry of [`CramSink::spans`]: containers hold a multiple of it.
const SPAN_BLOCK: u64 = 1024;

/// Per contig (`None`: unplaced), the first start and the last end of a block's records.
type Spans = BTreeMap<Option<usize>, (Position, Position)>;

impl CramSink {
    /// Writes the file definition and `header` (`@SQ` M5 added from `reference`) to `file`;
    /// records are then encoded on `workers` threads.
    pub(crate) fn new(
        mut file: BufWriter<File>,
        header: &Header,
        reference: Reference,
        workers: usize,
    ) -> io::Result<CramSink> {
        file.write_all(&encode::file_definition())?;
        file.write_all(&encode::header_container(&header_text(header, &reference)?))?;
        let groups = header.read_groups().keys().enumerate().map(|(i, id)| (id.to_vec(), i as i32)).collect();
        Ok(CramSink {
            out: file,
            reference: Arc::new(reference),
            groups: Arc::new(groups),
            pending: Vec::new(),
            batch: Vec::new(),
            batch_records: 0,
            in_flight: VecDeque::new(),
            workers: workers.max(1),
            spans: Vec::new(),
            written: 0,
        })
    }

    fn write_record(&mut self, bytes: &[u8]) -> io::Result<()> {
        // Where the record lies, read in place (the container's thread encodes it).
        let record = BamRecord(bytes);
        let contig = usize::try_from(record.ref_id()).ok();
        let start = usize::try_from(record.pos() + 1).ok().and_then(Position::new).unwrap_or(Position::MIN);
        let end = Position::new(usize::from(start) + record.ref_len().max(1) as usize - 1).unwrap_or(start);
        let block = (self.written / SPAN_BLOCK) as usize;
        if block == self.spans.len() {
            self.spans.push(Spans::new());
        }
        let span = self.spans[block].entry(contig).or_insert((start, end));
        *span = (span.0.min(start), span.1.max(end));
        self.written += 1;
        self.batch.extend_from_slice(bytes);
        self.batch_records += 1;
        if self.batch_records == CONTAINER_RECORDS {
            self.dispatch()?;
        }
        Ok(())
    }

    /// Hands the filled container to a thread; writes the oldest done when too many are out.
    fn dispatch(&mut self) -> io::Result<()> {
        let records = std::mem::take(&mut self.batch);
        let counter = self.written - self.batch_records as u64;
        self.batch_records = 0;
        let (reference, groups) = (Arc::clone(&self.reference), Arc::clone(&self.groups));
        self.in_flight.push_back(std::thread::spawn(move || encode::container(&records, counter, &reference, &groups)));
        while self.in_flight.len() > self.workers {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(handle) = self.in_flight.pop_front() else { return Ok(()) };
        let bytes = handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        self.out.write_all(&bytes)
    }

    /// Writes the last containers and the end-of-file container; hands back the file and where
    /// the records lie, for [`write_index`].
    pub(crate) fn finish(mut self) -> io::Result<(BufWriter<File>, RecordSpans)> {
        if !self.pending.is_empty() {
            return Err(invalid_data("a record was cut short"));
        }
        if self.batch_records > 0 {
            self.dispatch()?;
        }
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.out.write_all(&encode::eof_container())?;
        Ok((self.out, RecordSpans(self.spans)))
    }
}

/// Where the records of a CRAM file lie, in blocks of [`SPAN_BLOCK`] records.
pub(crate) struct RecordSpans(Vec<Spans>);

impl Write for CramSink {
    fn write(&mut self, mut bytes: &[u8]) -> io::Result<usize> {
        let n = bytes.len();
        if !self.pending.is_empty() {
            self.pending.extend_from_slice(bytes);
            let pending = std::mem::take(&mut self.pending);
            let mut rest = &pending[..];
            while let Some(len) = record_len(rest) {
                self.write_record(&rest[..len])?;
                rest = &rest[len..];
            }
            self.pending = rest.to_vec();
            return Ok(n);
        }
        while let Some(len) = record_len(bytes) {
            self.write_record(&bytes[..len])?;
            bytes = &bytes[len..];
        }
        self.pending.extend_from_slice(bytes);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes the CRAM index (`.crai`) of the CRAM file at `cram` to `index`: a line per contig of
/// each slice, with the slice's place in the file (read back from the container headers) and
/// its records' span (from `spans`, kept while they were written: a slice holding records of
/// several contigs cannot be indexed from its header alone).
pub(crate) fn write_index(cram: &Path, spans: &RecordSpans, index: &mut dyn Write) -> io::Result<()> {
    let invalid = invalid_data;
    let mut reader = cram::io::Reader::new(BufReader::new(File::open(cram)?));
    reader.read_header()?;
    let mut container = cram::io::reader::Container::default();
    let mut position = reader.position()?;
    let mut crai = Vec::new();
    let mut records_before = 0u64;
    loop {
        let len = match reader.read_container(&mut container)? {
            0 => break,
            n => n,
        };
        let header = container.header();
        let (first, count) = (records_before, header.record_count() as u64);
        records_before += count;
        let landmarks = header.landmarks();
        if landmarks.len() != 1 || first % SPAN_BLOCK != 0 {
            return Err(invalid("unexpected CRAM container layout for indexing"));
        }
        let blocks = (first / SPAN_BLOCK) as usize..(first + count).div_ceil(SPAN_BLOCK) as usize;
        let mut slice = Spans::new();
        for spans in spans.0.get(blocks).ok_or_else(|| invalid("CRAM records beyond those written"))? {
            for (&contig, &(start, end)) in spans {
                let span = slice.entry(contig).or_insert((start, end));
                *span = (span.0.min(start), span.1.max(end));
            }
        }
        let landmark = landmarks[0];
        // Contigs in order, the unplaced records last (span 1), as samtools index writes them.
        let unplaced = slice.remove(&None);
        for (contig, (start, end)) in slice.into_iter().chain(unplaced.map(|s| (None, s))) {
            let (start, span) = match contig {
                Some(_) => (Some(start), usize::from(end) - usize::from(start) + 1),
                None => (None, 1),
            };
            crai.push(cram::crai::Record::new(contig, start, span, position, landmark as u64, (len - landmark) as u64));
        }
        position = reader.position()?;
    }
    let mut writer = cram::crai::io::Writer::new(index);
    writer.write_index(&crai)?;
    writer.finish()?.flush()
}

/// Where the FASTA for CRAM output comes from: given, or none (an error when CRAM is asked for).
pub(crate) fn require_reference(reference: Option<&PathBuf>, output: &Path) -> Result<PathBuf> {
    reference.cloned().ok_or_else(|| {
        Error::Options(format!(
            "{}: CRAM is encoded against the reference FASTA: map against the FASTA (with its index beside it), or give --reference FASTA",
            output.display()
        ))
    })
}
