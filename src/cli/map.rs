//! `swmap map`: align reads to SAM or BAM.

use super::index::{peak_rss_mib, set_threads, thread_count};
use crate::backend::{self, BackendChoice, CpuShare, Gpus};
use crate::error::{Error, Result};
use crate::index::{Beside, Index, IndexParams};
use crate::io::fastq::FastqReader;
use crate::io::output::{check_not_an_input, is_stdout, same_file, OutputFile};
use crate::io::read_source::ReadSource;
use crate::map::Mapper;
use crate::options::{InsertModel, InsertSizes, MapOptions, Orientation, OutputOptions, Scoring, SeedOptions};
use crate::sam::markdup::MarkdupOptions;
use crate::sam::{parse_read_group, HeaderInfo, OutputFormat, SamWriter};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    /// A hardware GPU if one works, else the CPU.
    Auto,
    /// Any GPU adapter, software ones (lavapipe) included; an error if none works.
    Gpu,
    /// The rayon CPU backend.
    Cpu,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Index from `swmap index`, or a reference FASTA (plain or gzip): the index `swmap index` left
    /// beside it (ref.swi) when there is one that fits it, else the FASTA indexed in memory.
    pub reference: PathBuf,
    /// Reads: FASTQ (or FASTA, without qualities), plain or gzip; '-' for stdin.
    pub reads: PathBuf,
    /// Mates of the reads, for paired-end data (same order and names).
    pub mates: Option<PathBuf>,
    /// Output file: '.bam' writes BAM, '.cram' CRAM (against the reference FASTA), '.sam' or a
    /// name without an extension SAM; other extensions are refused [default: SAM on stdout].
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Write a coordinate-sorted BAM (as `samtools sort` would make of the unsorted output)
    /// and its index, OUTPUT.bai (.csi when a contig exceeds 2^29 bases), or a sorted CRAM and
    /// OUTPUT.crai; needs -o NAME.bam or NAME.cram.
    #[arg(long)]
    pub sort: bool,
    /// Memory for sorting: records held before a sorted run is written to a scratch file
    /// beside the output (removed at the end); a number of bytes with an optional K, M or G.
    #[arg(long, value_name = "SIZE", default_value = "768M", value_parser = byte_size)]
    pub sort_mem: usize,
    /// ALT contigs, as bwa-mem's `.alt` file lists them (SAM lines of the ALT contigs aligned
    /// to the primary assembly; only their names, the first field, are used) [default:
    /// REFERENCE.alt when it exists, as bwa finds its own beside the index].
    #[arg(long, value_name = "FILE")]
    pub alt: Option<PathBuf>,
    /// The reference FASTA (plain or gzip) for CRAM output, when the index is given instead of
    /// the FASTA: the file the index was built from.
    #[arg(long = "reference", value_name = "FASTA")]
    pub reference_fasta: Option<PathBuf>,
    /// Mark duplicates in the sorted output (flag 0x400) as Picard MarkDuplicates does with its
    /// default options: pairs by both mates' unclipped 5' ends and strands, single reads by
    /// theirs, per library (the read group's LB), the one with the highest sum of base
    /// qualities of at least 15 kept. Needs --sort.
    #[arg(long, requires = "sort")]
    pub markdup: bool,
    /// Write Picard's duplication metrics file (as MarkDuplicates METRICS_FILE) to FILE.
    #[arg(long, value_name = "FILE", requires = "markdup")]
    pub markdup_metrics: Option<PathBuf>,
    /// Leave duplicates out of the output instead of flagging them (Picard's REMOVE_DUPLICATES).
    #[arg(long, requires = "markdup")]
    pub remove_duplicates: bool,
    /// Pixels within which duplicates on one tile count as optical, for the metrics (Picard's
    /// OPTICAL_DUPLICATE_PIXEL_DISTANCE; 2500 suits patterned flow cells).
    #[arg(long, value_name = "PIXELS", default_value_t = 100, requires = "markdup")]
    pub optical_distance: i32,
    /// Worker threads [default: all cores].
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// Alignment backend.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    pub backend: BackendArg,
    /// GPUs to align on, each through a device of its own, every batch split between them:
    /// 'all', a count N (the first N), or adapter numbers such as 0,1 counted from 0 (best
    /// first; a number twice opens two devices on one adapter) [default: the best GPU].
    #[arg(long, value_name = "all|N|LIST")]
    pub gpus: Option<String>,
    /// The CPU's share of each batch's alignment beside the GPUs: from 0 to 1, or 'auto' to
    /// share by each engine's measured speed [default: 0, the GPUs align everything].
    #[arg(long, value_name = "SHARE|auto")]
    pub cpu_share: Option<String>,
    /// Header lines to add, as bwa mem -H: one line starting with '@' ('\t' for tabs), or a
    /// FILE of lines; @RG and @CO lines only. Records name their read group with an RG:Z tag
    /// from their FASTQ comment (-C), so that one run holds several read groups and libraries.
    #[arg(short = 'H', value_name = "LINE|FILE")]
    pub header_lines: Option<String>,
    /// Read group header line, e.g. '@RG\tID:x\tSM:y'; adds RG:Z to every record.
    #[arg(short = 'R', long = "read-group")]
    pub read_group: Option<String>,
    /// The reads file holds pairs, mate 1 then mate 2.
    #[arg(short = 'p', long)]
    pub interleaved: bool,
    /// Match score.
    #[arg(short = 'A', default_value_t = Scoring::default().match_score)]
    pub match_score: i32,
    /// Mismatch penalty.
    #[arg(short = 'B', default_value_t = Scoring::default().mismatch)]
    pub mismatch: i32,
    /// Gap open penalty (a gap of length L costs O + L*E); bwa's 'DEL,INS' form is accepted
    /// when both are equal (swmap scores insertions and deletions alike).
    #[arg(short = 'O', default_value_t = Scoring::default().gap_open, value_parser = one_or_equal_pair)]
    pub gap_open: i32,
    /// Gap extension penalty (or 'DEL,INS', equal).
    #[arg(short = 'E', default_value_t = Scoring::default().gap_extend, value_parser = one_or_equal_pair)]
    pub gap_extend: i32,
    /// Penalty for clipping either end of a read (or bwa's '5END,3END', equal).
    #[arg(short = 'L', default_value_t = Scoring::default().clip, value_parser = one_or_equal_pair)]
    pub clip: i32,
    /// Minimum alignment score to report a read as mapped.
    #[arg(short = 'T', default_value_t = MapOptions::default().min_score)]
    pub min_score: i32,
    /// Skip seeds occurring more often than this in the reference.
    #[arg(long, default_value_t = SeedOptions::default().max_occ)]
    pub max_occ: usize,
    /// Reference windows aligned per read, at most (up to 4x as many when that many copies of a
    /// repeat have seeds as good as the best)
    #[arg(long, default_value_t = SeedOptions::default().max_candidates)]
    pub max_candidates: usize,
    /// Seed k-mer length when indexing a FASTA in memory.
    #[arg(short = 'k', default_value_t = IndexParams::default().k)]
    pub k: u32,
    /// Minimizer window when indexing a FASTA in memory.
    #[arg(short = 'w', default_value_t = IndexParams::default().w)]
    pub w: u32,
    /// Soft-clip supplementary (and secondary) records instead of hard-clipping them.
    #[arg(short = 'Y')]
    pub soft_clip_supplementary: bool,
    /// Output all alignments: every other hit as a secondary record (flag 0x100), no XA tags.
    #[arg(short = 'a')]
    pub all_alignments: bool,
    /// XA lists at most this many alternative hits (score at least 80% of the alignment's);
    /// with more it is left out. bwa's '-h INT,INT' is accepted: its second number is bwa's
    /// limit for ALT contigs, which swmap does not treat apart, so it has no effect.
    #[arg(short = 'h', long, default_value_t = OutputOptions::default().max_xa_hits, value_parser = xa_limit)]
    pub max_xa_hits: usize,
    /// Copy each read's FASTQ comment (the header after the name: SAM tags such as
    /// 'BC:Z:ACGT' or 'RX:Z:AAGT', tab-separated) into its records, as bwa mem -C; a comment
    /// that is not SAM tags is an error naming the file and record.
    #[arg(short = 'C')]
    pub copy_comment: bool,
    /// Flag the parts of a split read after the primary secondary (0x100) instead of
    /// supplementary (0x800), as bwa mem -M does for Picard's older tools.
    #[arg(short = 'M')]
    pub mark_split_secondary: bool,
    /// Insert size given instead of estimated: 'MEAN[,SD[,MAX[,MIN]]]' as bwa mem -I (SD 10%
    /// of the mean, MAX and MIN 4 SD either side when left out).
    #[arg(short = 'I', value_parser = insert_size, conflicts_with = "insert_model")]
    pub insert_size: Option<InsertModel>,
    /// Take the insert-size model from FILE, written by --estimate-insert-model: the shards
    /// of one input mapped with the same FILE give the records of one run over the input.
    #[arg(long, value_name = "FILE")]
    pub insert_model: Option<PathBuf>,
    /// Estimate the insert-size model from the first 50,000 pairs (as a mapping run does),
    /// write it to FILE and stop, writing no alignments.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["insert_size", "insert_model", "output", "sort"])]
    pub estimate_insert_model: Option<PathBuf>,
    /// bwa mem's bases per batch, accepted so that its command lines run: swmap's output never
    /// depends on how the input is batched, so the number changes nothing.
    #[arg(short = 'K', value_name = "INT")]
    pub batch_bases: Option<u64>,
    /// Verbosity, as bwa mem -v: 1 errors only, 2 warnings too, 3 messages too (errors are
    /// always printed).
    #[arg(short = 'v', default_value_t = 3)]
    pub verbosity: u8,
    /// Print help (-h is bwa's XA limit).
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    /// Print a progress line on stderr every 5 seconds (reads done, reads/s, elapsed); the
    /// default when stderr is a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Seconds between progress lines.
    #[arg(long, hide = true, default_value_t = 5.0)]
    pub progress_seconds: f64,
    /// Measure the CPU time of every stage (parsing, seeding, alignment kernels, placing,
    /// formatting, writing) and print it per read at the end. The stages then run one after
    /// the other instead of overlapped; the output is the same.
    #[arg(long)]
    pub stats: bool,
    /// Print at the end how busy each pipeline thread was (reading; parsing, seeding and
    /// packing; alignment; placing and formatting; writing), as a share of the run's wall time:
    /// the one near 100% bounds the run (when cores are to spare; on a saturated pool every
    /// stage waits for it and looks busy). Costs nothing; the output is the same.
    #[arg(long)]
    pub pipeline_busy: bool,
    /// Reads per processing chunk (speed and memory only; output is identical for any value).
    /// (default: 10,000 on the CPU, 50,000 on a GPU)
    #[arg(long, hide = true, env = "SWMAP_CHUNK_READS")]
    pub chunk_reads: Option<usize>,
}

/// A size in bytes: a number, optionally followed by K, M or G (powers of 1024), as samtools
/// sort -m takes it.
fn byte_size(s: &str) -> std::result::Result<usize, String> {
    let (digits, unit) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1 << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{s}' is not a size: give bytes, or a number with K, M or G (e.g. 768M)"))
}

/// `N`, or bwa's `N,N` form of an option swmap has one value for (both must be equal).
fn one_or_equal_pair(s: &str) -> std::result::Result<i32, String> {
    let values: Vec<i32> = s
        .split(',')
        .map(|v| v.trim().parse::<i32>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| format!("expected an integer or two integers separated by a comma, got '{s}'"))?;
    match values[..] {
        [v] => Ok(v),
        [a, b] if a == b => Ok(a),
        [a, b] => Err(format!(
            "swmap has one value for both ({a} and {b} given): it scores insertions and deletions, and both read ends, alike"
        )),
        _ => Err(format!("expected one or two integers, got '{s}'")),
    }
}

/// bwa's `-h INT[,INT]`: the XA limit, and its limit for ALT contigs (checked, unused).
fn xa_limit(s: &str) -> std::result::Result<usize, String> {
    let bad = || format!("expected INT or INT,INT (the XA limit, as bwa mem -h), got '{s}'");
    let mut parts = s.split(',');
    let limit = parts.next().and_then(|v| v.trim().parse::<usize>().ok()).ok_or_else(bad)?;
    match (parts.next().map(|v| v.trim().parse::<usize>()), parts.next()) {
        (None, _) | (Some(Ok(_)), None) => Ok(limit),
        _ => Err(bad()),
    }
}

/// bwa's `-I MEAN[,SD[,MAX[,MIN]]]`.
fn insert_size(s: &str) -> std::result::Result<InsertModel, String> {
    let bad = || format!("expected MEAN[,SD[,MAX[,MIN]]] (as bwa mem -I), got '{s}'");
    let fields: Vec<&str> = s.split(',').map(str::trim).collect();
    if fields.len() > 4 {
        return Err(bad());
    }
    let float = |i: usize| fields.get(i).map(|v| v.parse::<f64>().map_err(|_| bad())).transpose();
    let model = InsertModel::given(float(0)?.ok_or_else(bad)?, float(1)?, float(2)?, float(3)?);
    // clap shows this parser's message after the option's name.
    model.validate().map_err(|e| e.to_string())?;
    Ok(model)
}

/// The insert-size model as the summary line says it: orientation named unless FR, and each
/// further orientation.
fn model_summary(m: &InsertModel) -> String {
    let orientation =
        if m.orientation == Orientation::FR { String::new() } else { format!(", {}", m.orientation.name()) };
    let mut text = format!("insert size mean {:.0} (proper {}-{}{orientation})", m.mean, m.low, m.high);
    for o in m.also.iter().flatten() {
        text += &format!(", {} mean {:.0} (proper {}-{})", o.orientation.name(), o.mean, o.low, o.high);
    }
    text
}

/// The model of an `--insert-model` file.
fn read_insert_model(path: &Path) -> Result<InsertSizes> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let model = InsertModel::from_text(&text)
        .map_err(|e| Error::Options(format!("insert-model file {}: {e}", path.display())))?;
    Ok(model.map_or(InsertSizes::Without, InsertSizes::Given))
}

/// The FASTA a CRAM is encoded against: `--reference`, else the reference argument when it is
/// a FASTA rather than an index.
fn cram_reference(args: &Args) -> Option<PathBuf> {
    args.reference_fasta
        .clone()
        .or_else(|| (!crate::index::is_index_file(&args.reference)).then(|| args.reference.clone()))
}

/// The ALT contigs' names from `--alt FILE`, else from `REFERENCE.alt` when there is one.
fn alt_contigs(args: &Args) -> Result<Option<(PathBuf, Vec<String>)>> {
    let path = match &args.alt {
        Some(path) => path.clone(),
        None => {
            let beside = args.reference.with_added_extension("alt");
            if !beside.is_file() {
                return Ok(None);
            }
            beside
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let names: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('@'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    Ok(Some((path, names)))
}

/// The options checked before any work starts.
fn validate(args: &Args) -> Result<MapOptions> {
    let scoring = Scoring {
        match_score: args.match_score,
        mismatch: args.mismatch,
        gap_open: args.gap_open,
        gap_extend: args.gap_extend,
        clip: args.clip,
        ..Scoring::default()
    };
    if args.interleaved && args.mates.is_some() {
        return Err(Error::Options("--interleaved takes one reads file, but a mates file was given too".into()));
    }
    let inputs: Vec<&Path> = [Some(args.reference.as_path()), Some(args.reads.as_path()), args.mates.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if inputs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(Error::Options("standard input ('-') can be given as only one of the inputs".into()));
    }
    if args.mates.as_ref().is_some_and(|m| same_file(m, &args.reads)) {
        return Err(Error::Options("the reads and mates files are the same file".into()));
    }
    if let Some(output) = &args.output {
        check_not_an_input(output, &inputs)?;
        OutputFormat::of(output)?;
    }
    let format = args.output.as_deref().filter(|o| !is_stdout(o)).and_then(|o| OutputFormat::of(o).ok());
    if args.sort && !matches!(format, Some(OutputFormat::Bam | OutputFormat::Cram)) {
        return Err(Error::Options(
            "--sort writes a coordinate-sorted BAM or CRAM file and its index: give -o a name ending in .bam or .cram"
                .into(),
        ));
    }
    if let Some(alt) = &args.alt {
        if !alt.is_file() {
            return Err(Error::Options(format!("--alt {}: no such file", alt.display())));
        }
    }
    if let Some(fasta) = &args.reference_fasta {
        if !fasta.is_file() {
            return Err(Error::Options(format!("--reference {}: no such file", fasta.display())));
        }
    }
    if format == Some(OutputFormat::Cram) && cram_reference(args).is_none() {
        return Err(Error::Options(format!(
            "{}: CRAM is encoded against the reference FASTA: {} is an index, so give --reference FASTA (the file it was built from)",
            args.output.as_deref().unwrap_or(Path::new("-")).display(),
            args.reference.display()
        )));
    }
    let opts = MapOptions {
        scoring,
        seed: SeedOptions { max_occ: args.max_occ, max_candidates: args.max_candidates, ..SeedOptions::default() },
        min_score: args.min_score,
        chunk_reads: args.chunk_reads,
        output: OutputOptions {
            soft_clip_supplementary: args.soft_clip_supplementary,
            all_alignments: args.all_alignments,
            max_xa_hits: args.max_xa_hits,
            mark_split_secondary: args.mark_split_secondary,
        },
        insert_model: match (&args.insert_size, &args.insert_model) {
            (Some(model), _) => InsertSizes::Given(*model),
            (None, Some(file)) => read_insert_model(file)?,
            (None, None) => InsertSizes::Estimated,
        },
    };
    opts.validate()?;
    Ok(opts)
}

/// What [`check`] makes of the command line before any work starts.
struct Checked {
    opts: MapOptions,
    /// The -R line, tabs unescaped.
    read_group: Option<String>,
    /// The -H lines.
    header_lines: Vec<String>,
    /// `--gpus` and `--cpu-share`.
    gpus: Gpus,
    cpu_share: CpuShare,
}

/// Every option checked, before any file is read beyond the small ones options name.
fn check(args: &Args) -> Result<Checked> {
    let opts = validate(args)?;
    if let Some(metrics) = &args.markdup_metrics {
        check_not_an_input(metrics, &[&args.reference, &args.reads])?;
    }
    if args.optical_distance < 0 {
        return Err(Error::Options(format!("--optical-distance must be 0 or more, not {}", args.optical_distance)));
    }
    let read_group = args.read_group.as_deref().map(parse_read_group).transpose()?.map(|rg| rg.line);
    let header_lines = match args.header_lines.as_deref() {
        None => Vec::new(),
        Some(line) if line.starts_with('@') => vec![line.to_string()],
        Some(file) => std::fs::read_to_string(file)
            .map_err(|e| Error::io(Path::new(file), e))?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
    };
    // Checked now, with -R, before any work.
    HeaderInfo { read_group: read_group.clone(), header_lines: header_lines.clone(), ..HeaderInfo::default() }
        .to_header()?;
    let gpus = args.gpus.as_deref().map_or(Ok(Gpus::Best), Gpus::parse)?;
    let cpu_share = args.cpu_share.as_deref().map_or(Ok(CpuShare::None), CpuShare::parse)?;
    backend::check_engines(backend_choice(args.backend), &gpus, cpu_share)?;
    Ok(Checked { opts, read_group, header_lines, gpus, cpu_share })
}

/// The index of the reference argument: the one `swmap index` left beside a FASTA when it fits
/// (as bwa mem finds its own from the FASTA's name, so that bwa's command lines run with only
/// the program changed), else the index file itself or the FASTA indexed in memory.
fn load_index(args: &Args) -> Result<Index> {
    let params = IndexParams { k: args.k, w: args.w };
    Ok(match Index::find_beside(&args.reference, params) {
        Beside::Found(path, index) => {
            super::message(format_args!("[swmap] index: {} (beside {})", path.display(), args.reference.display()));
            *index
        }
        Beside::PassedOver(path, why) => {
            super::warning(format_args!(
                "[swmap] warning: not using {}: {why}; indexing {} in memory instead (swmap index rebuilds it)",
                path.display(),
                args.reference.display()
            ));
            Index::load_or_build(&args.reference, params)?
        }
        Beside::Nothing => Index::load_or_build(&args.reference, params)?,
    })
}

fn backend_choice(arg: BackendArg) -> BackendChoice {
    match arg {
        BackendArg::Auto => BackendChoice::Auto,
        BackendArg::Gpu => BackendChoice::Gpu,
        BackendArg::Cpu => BackendChoice::Cpu,
    }
}

pub fn run(args: Args) -> Result<()> {
    super::log::set_verbosity(args.verbosity);
    let checked = check(&args)?;
    let threads = set_threads(args.threads)?;
    let start = Instant::now();
    let index = load_index(&args)?;
    let (aligner, backend_line) =
        backend::open_engines(backend_choice(args.backend), &checked.gpus, checked.cpu_share)?;
    super::message(format_args!("[swmap] backend: {backend_line}"));
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    execute(&args, checked, &index, aligner.as_ref(), Threads::Global(threads), command_line, start).map(|_| ())
}

/// Whose threads a run maps on.
enum Threads {
    /// rayon's global pool, of this many threads (the program's).
    Global(usize),
    /// This many threads of the run's own.
    Own(usize),
}

/// Maps the reads of `args` against `index` on `aligner` and writes the output, as the
/// program does once the index is loaded and the backend open.
fn execute(
    args: &Args,
    checked: Checked,
    index: &Index,
    aligner: &dyn crate::AlignBackend,
    threads: Threads,
    command_line: String,
    start: Instant,
) -> Result<crate::MapStats> {
    let Checked { opts, read_group, header_lines, .. } = checked;
    let paired = args.mates.is_some() || args.interleaved;
    let open = |path: &Path| -> Result<FastqReader> {
        let reader = FastqReader::open(path)?;
        Ok(if args.copy_comment { reader.with_comments() } else { reader })
    };
    let source = match (&args.mates, args.interleaved) {
        (Some(m), _) => ReadSource::Paired(open(&args.reads)?, open(m)?),
        (None, true) => ReadSource::Interleaved(open(&args.reads)?),
        (None, false) => ReadSource::Single(open(&args.reads)?),
    };
    let header = HeaderInfo {
        contigs: index.contigs.iter().map(|c| (c.name.clone(), c.len)).collect(),
        read_group,
        command_line,
        reference: cram_reference(args),
        header_lines,
    };
    let mut mapper = Mapper::new(index, aligner, opts)?;
    let threads = match threads {
        Threads::Global(n) => n,
        Threads::Own(n) => {
            mapper = mapper.with_threads(n)?;
            n
        }
    };
    if let Some((path, names)) = alt_contigs(args)? {
        mapper = mapper.with_alt_contigs(&names).map_err(|e| Error::Options(format!("{}: {e}", path.display())))?;
        super::message(format_args!("[swmap] {} ALT contigs (from {})", names.len(), path.display()));
    }
    if let Some(path) = &args.estimate_insert_model {
        let model = mapper.estimate_insert_model(source)?;
        let (mut file, guard) = OutputFile::create(path, &[&args.reads])?;
        file.write_all(InsertModel::to_text(model.as_ref()).as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::io(path, e))?;
        guard.commit()?;
        let what = model.map_or("no insert-size model (too few usable pairs)".to_string(), |m| model_summary(&m));
        super::message(format_args!("[swmap] {what}, written to {}", path.display()));
        return Ok(crate::MapStats { insert_model: model, ..Default::default() });
    }
    let markdup = args.markdup.then_some(MarkdupOptions {
        remove_duplicates: args.remove_duplicates,
        optical_distance: args.optical_distance,
    });
    let started = super::log::java_date_now();
    let mut writer = match (&args.output, args.sort) {
        (Some(path), true) => SamWriter::create_sorted_marked(path, &header, threads, args.sort_mem, markdup)?,
        (output, _) => SamWriter::create(output.as_deref(), &header, threads)?,
    };
    if args.stats {
        mapper = mapper.with_stage_times();
    }
    let show_progress = args.progress || std::io::stderr().is_terminal();
    let mut last = Instant::now();
    let stats = mapper.write_sam_reporting(source, &mut writer, |reads| {
        if show_progress && last.elapsed().as_secs_f64() >= args.progress_seconds {
            last = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            super::message(format_args!("[swmap] {reads} reads, {:.0} reads/s, {secs:.0} s", reads as f64 / secs));
        }
    })?;
    if stats.reads == 0 {
        super::warning(format_args!(
            "[swmap] warning: no reads in {}; the output holds the header only",
            args.reads.display()
        ));
    }
    let metrics = writer.finish_marked()?;
    if let (Some(metrics), Some(path)) = (&metrics, &args.markdup_metrics) {
        metrics.write(path, &[header.command_line.clone(), format!("Started on: {started}")])?;
    }
    let secs = start.elapsed().as_secs_f64();
    super::message(format_args!(
        "[swmap] {} reads, {} mapped ({:.2}%){}, {} alignments, {:.1} s, {:.0} reads/s, peak memory {:.0} MiB{}",
        stats.reads,
        stats.mapped,
        100.0 * stats.mapped as f64 / stats.reads.max(1) as f64,
        if paired {
            format!(", {:.2}% properly paired", 100.0 * stats.proper as f64 / stats.reads.max(1) as f64)
        } else {
            String::new()
        },
        stats.alignments,
        secs,
        stats.reads as f64 / secs,
        peak_rss_mib().unwrap_or(0.0),
        stats.insert_model.map(|m| format!(", {}", model_summary(&m))).unwrap_or_default()
    ));
    if let Some(division) = aligner.division() {
        super::message(format_args!("[swmap] {division}"));
    }
    if let Some(times) = &stats.stage_times {
        super::message(format_args!("[swmap] {}", times.per_read_line(stats.reads)));
    }
    if let Some(metrics) = &metrics {
        super::message(format_args!("[swmap] {}", metrics.summary()));
    }
    if let Some(busy) = stats.pipeline_busy.as_ref().filter(|_| args.pipeline_busy) {
        super::message(format_args!("[swmap] {}", busy.line()));
    }
    Ok(stats)
}

/// `swmap map`'s arguments (what follows `swmap map` on a command line), parsed as the
/// program parses them; a clap error becomes its first line.
fn parse(argv: &[OsString]) -> Result<Args> {
    let full = [OsString::from("swmap"), OsString::from("map")].into_iter().chain(argv.iter().cloned());
    match <super::Cli as clap::Parser>::try_parse_from(full) {
        Ok(super::Cli { command: super::Command::Map(args) }) => Ok(*args),
        Ok(_) => unreachable!("the command line names map"),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(Error::Options(first.strip_prefix("error: ").unwrap_or(first).to_string()))
        }
    }
}

/// What a `swmap map` command line sets up for mapping, checked as the program checks it
/// before any work: for a binding that takes the program's options by name and maps reads
/// held in memory (the Python module).
#[derive(Clone, Debug)]
pub struct MapSetup {
    /// The mapping options (scores, `-T`, seeds, output choices, insert sizes).
    pub options: MapOptions,
    /// `-t`: the number of threads, all cores when not given.
    pub threads: usize,
    /// `--backend`.
    pub backend: BackendChoice,
    /// `--gpus`.
    pub gpus: Gpus,
    /// `--cpu-share`.
    pub cpu_share: CpuShare,
    /// The ALT contigs' names: from `--alt`, or `REFERENCE.alt` when it exists.
    pub alt_contigs: Vec<String>,
    /// The `-R` header line (tabs as tabs).
    pub read_group: Option<String>,
    /// `-k` and `-w`, for a FASTA indexed in memory.
    pub index_params: IndexParams,
}

/// The setup of `swmap map` arguments (what follows `swmap map`: the reference, the reads,
/// options), checked as the program checks them.
pub fn map_setup(argv: &[OsString]) -> Result<MapSetup> {
    let args = parse(argv)?;
    let checked = check(&args)?;
    Ok(MapSetup {
        options: checked.opts,
        threads: thread_count(args.threads)?,
        backend: backend_choice(args.backend),
        gpus: checked.gpus,
        cpu_share: checked.cpu_share,
        alt_contigs: alt_contigs(&args)?.map(|(_, names)| names).unwrap_or_default(),
        read_group: checked.read_group,
        index_params: IndexParams { k: args.k, w: args.w },
    })
}

/// Runs `swmap map` with the arguments `argv` (what follows `swmap map`), as the program
/// does, but against `index` on `backend` instead of loading and opening them, on threads of
/// its own (`-t`, all cores when not given) instead of the process-wide pool. The reference
/// argument still names the output's reference: its FASTA for CRAM, its `.alt` file.
pub fn map_with(index: &Index, backend: &dyn crate::AlignBackend, argv: &[OsString]) -> Result<crate::MapStats> {
    let args = parse(argv)?;
    super::log::set_verbosity(args.verbosity);
    let checked = check(&args)?;
    let threads = thread_count(args.threads)?;
    let command_line = ["swmap", "map"]
        .into_iter()
        .map(str::to_string)
        .chain(argv.iter().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    execute(&args, checked, index, backend, Threads::Own(threads), command_line, Instant::now())
}

/// The flag of the `swmap map` option named `name` (its argument's name in `swmap map
/// --help` with '_' for '-', e.g. `min_score` for `-T`), and whether it takes a value; `None`
/// for a name that is no option (the positional arguments are not).
pub fn map_flag(name: &str) -> Option<(String, bool)> {
    use clap::CommandFactory;
    let command = super::Cli::command();
    let arg = command.find_subcommand("map")?.get_arguments().find(|a| a.get_id() == name && !a.is_positional())?;
    let flag = match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => return None,
    };
    Some((flag, arg.get_action().takes_values()))
}
