//! CRAM output (`-o NAME.cram`): records encoded as BAM (as for every output) are handed to
//! noodles' CRAM writer, which encodes them against the reference FASTA, the exact file the
//! index was built from (IUPAC codes included, which the index keeps as N). The header's `@SQ`
//! lines get the `M5` checksum of each contig as `samtools dict` computes it. The codecs are
//! CRAM 3.0's, which samtools and htsjdk (so Picard and GATK) decode: rANS of order 1 for the
//! qualities, gzip for the rest, giving files within 7% of `samtools view -C`'s. Containers
//! are encoded on threads of their own ([`CramSink`]), so a CRAM run takes a BAM run's time.
//!
//! Two things of noodles-cram 0.102's encoding differ from htslib's: `RG` is stored both as
//! the read-group series and as a tag (samtools then shows it twice), and the mate-flags series
//! is left empty (htsjdk then reads the mate-reverse flag as unset on pairs split across
//! containers; samtools reads the record's flags).

use super::raw::{record_len, BamRecord};
use crate::error::{Error, Result};
use noodles_bam as bam;
use noodles_core::Position;
use noodles_cram as cram;
use noodles_cram::codecs::{rans_4x8, Encoder};
use noodles_cram::container::compression_header::data_series_encodings::DataSeries;
use noodles_cram::container::BlockContentEncoderMap;
use noodles_fasta as fasta;
use noodles_sam::alignment::io::Write as _;
use noodles_sam::Header;
use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The reference sequences of a FASTA, read whole (plain or gzip), checked against the
/// contigs the records are written under: the same names and lengths, in the same order.
pub(crate) fn load_reference(path: &Path, contigs: &[(String, u64)]) -> Result<fasta::Repository> {
    let input = crate::io::input::open(path)?;
    let mut reader = fasta::io::Reader::new(input);
    let mut records = Vec::with_capacity(contigs.len());
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => Error::input(path, format!("record {}", i + 1), e.to_string()),
            _ => Error::io(path, e),
        })?;
        records.push(record);
    }
    let found: Vec<(String, u64)> =
        records.iter().map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.sequence().len() as u64)).collect();
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
    Ok(fasta::Repository::new(records))
}

/// The codecs of the CRAM blocks (see the module documentation): gzip, and rANS of order 1
/// for the qualities (most of a file). rANS on the small series as well saves under 0.3% on
/// chr20 reads, and htsjdk 3.0 cannot decode some of the small rANS blocks noodles writes.
fn encoders() -> BlockContentEncoderMap {
    BlockContentEncoderMap::builder()
        .set_data_series_encoder(DataSeries::QualityScores, Some(Encoder::Rans4x8(rans_4x8::Order::One)))
        .build()
}

/// Records per CRAM container, as noodles' writer fills them: each is encoded on its own.
const CONTAINER_RECORDS: usize = 10_240;
/// The end-of-file container of CRAM 3.0, which each container's writer ends with.
const EOF_CONTAINER_LEN: usize = 38;

/// Takes encoded BAM records (length prefix included, any number per write) and writes them
/// as CRAM. Containers are encoded on `workers` threads, each by a noodles writer of its own
/// (noodles' writer runs on one), and written in order after the file's header; their record
/// counters start at 0 in each (readers go by position, and the index is built here).
pub(crate) struct CramSink {
    out: BufWriter<File>,
    header: Arc<Header>,
    reference: fasta::Repository,
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

/// A CRAM writer over `inner` with swmap's codecs.
fn writer_over<W: Write>(inner: W, reference: fasta::Repository) -> cram::io::Writer<W> {
    cram::io::writer::Builder::default()
        .set_reference_sequence_repository(reference)
        .set_block_content_encoder_map(encoders())
        .build_from_writer(inner)
}

/// One container: the records (BAM, back to back) encoded by a writer of its own, without its
/// end-of-file container.
fn encode_container(records: Vec<u8>, header: Arc<Header>, reference: fasta::Repository) -> io::Result<Vec<u8>> {
    let mut writer = writer_over(Vec::new(), reference);
    let mut record = bam::Record::default();
    let mut rest = &records[..];
    while let Some(len) = record_len(rest) {
        bam::io::Reader::from(&rest[..len]).read_record(&mut record)?;
        writer.write_alignment_record(&header, &record)?;
        rest = &rest[len..];
    }
    writer.try_finish(&header)?;
    let mut bytes = writer.into_inner();
    bytes.truncate(bytes.len() - EOF_CONTAINER_LEN);
    Ok(bytes)
}

impl CramSink {
    /// Writes the file definition and `header` (`@SQ` M5 added from `reference`) to `file`;
    /// records are then encoded on `workers` threads.
    pub(crate) fn new(
        mut file: BufWriter<File>,
        header: &Header,
        reference: fasta::Repository,
        workers: usize,
    ) -> io::Result<CramSink> {
        let mut head = writer_over(&mut file, reference.clone());
        head.write_header(header)?;
        Ok(CramSink {
            out: file,
            header: Arc::new(header.clone()),
            reference,
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
        // Where the record lies, read in place (the container's thread decodes it).
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
        self.batch_records = 0;
        let (header, reference) = (Arc::clone(&self.header), self.reference.clone());
        self.in_flight.push_back(std::thread::spawn(move || encode_container(records, header, reference)));
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
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a record was cut short"));
        }
        if self.batch_records > 0 {
            self.dispatch()?;
        }
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        let mut eof = Vec::new();
        writer_over(&mut eof, self.reference.clone()).try_finish(&self.header)?;
        self.out.write_all(&eof)?;
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
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut reader = cram::io::Reader::new(BufReader::new(File::open(cram)?));
    reader.read_header()?;
    let mut container = cram::io::reader::Container::default();
    let mut position = reader.position()?;
    let mut crai = Vec::new();
    // Containers are counted here: each container's own counter starts at 0 (see CramSink).
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
