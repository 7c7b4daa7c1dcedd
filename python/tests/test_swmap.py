"""The Python module against the program: the same records for the same reads, under every
backend, and errors as exceptions with swmap's messages."""

import gzip
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import swmap

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "test-data"
REF = DATA / "ref.fa.gz"
READS = [DATA / "reads_1.fq.gz", DATA / "reads_2.fq.gz"]


def fastq(path):
    """(name, seq, qual) of every record."""
    lines = gzip.open(path, "rt").read().splitlines()
    return [(lines[i][1:].split()[0], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def records(sam_text):
    """The mapped records of SAM text, header left out."""
    return [l for l in sam_text.splitlines() if l and not l.startswith("@") and not int(l.split("\t")[1]) & 4]


def hit_lines(results):
    """The SAM lines of map_batch's results, single or paired, in order."""
    out = []
    for r in results:
        for hits in r if isinstance(r, tuple) else (r,):
            out.extend(h.sam for h in hits)
    return out


@pytest.fixture(scope="module")
def aligner():
    return swmap.Aligner(REF, threads=2, backend="cpu")


def program_records(tmp_path, aligner, *reads):
    """What `swmap map` writes for `reads` with the aligner's options (the program's own code
    path, from the module); checked against the swmap binary when it is built."""
    out = tmp_path / "program.sam"
    aligner.map_files(*reads, out=out)
    text = out.read_text()
    binary = ROOT / "target" / "release" / "swmap"
    if binary.exists():
        run = subprocess.run(
            [binary, "map", "--backend", "cpu", "-t", "2", REF, *reads], capture_output=True, check=True, text=True
        )
        assert records(run.stdout) == records(text), "map_files writes what swmap map writes"
    elif os.environ.get("SWMAP_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{binary} is not built (cargo build --release)")
    return records(text)


def test_single_reads_give_the_programs_records(tmp_path, aligner):
    expected = program_records(tmp_path, aligner, READS[0])
    assert len(expected) > 1900
    got = hit_lines(aligner.map_batch(fastq(READS[0])))
    assert got == expected


def test_pairs_give_the_programs_records(tmp_path, aligner):
    expected = program_records(tmp_path, aligner, *READS)
    assert len(expected) > 3800
    results = aligner.map_batch(fastq(READS[0]), fastq(READS[1]))
    assert len(results) == 2000 and all(isinstance(r, tuple) for r in results)
    assert hit_lines(results) == expected
    assert sum(h.is_proper_pair for r in results for hits in r for h in hits) > 3500


def test_one_read_at_a_time_maps_as_a_batch(aligner):
    reads = fastq(READS[0])[:300]
    batch = aligner.map_batch(reads)
    one_by_one = [aligner.map(seq, qual, name) for name, seq, qual in reads]
    assert [[h.sam for h in hits] for hits in one_by_one] == [[h.sam for h in hits] for hits in batch]
    # From several Python threads at once, each mapping on its own thread.
    results = {}

    def work(k):
        results[k] = [[h.sam for h in aligner.map(seq, qual, name)] for name, seq, qual in reads]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == [[h.sam for h in hits] for hits in batch] for r in results.values()) and len(results) == 3
    pair = aligner.map_pair(fastq(READS[0])[0], fastq(READS[1])[0])
    assert len(pair) == 2 and pair[0][0].flag & 0x40 and pair[1][0].flag & 0x80


def test_backends_give_identical_hits():
    try:
        gpu = swmap.Aligner(REF, threads=2, backend="gpu")
    except RuntimeError as e:
        if os.environ.get("SWMAP_REQUIRE_GPU") == "1":
            raise
        pytest.skip(f"no GPU adapter: {e}")
    cpu = swmap.Aligner(REF, threads=2, backend="cpu")
    assert gpu.backend.startswith("gpu") and cpu.backend.startswith("cpu")
    pairs = (fastq(READS[0]), fastq(READS[1]))
    assert hit_lines(gpu.map_batch(*pairs)) == hit_lines(cpu.map_batch(*pairs))
    # One read at a time runs on the calling thread, the GPU's part included.
    one = lambda a: [[h.sam for h in a.map(s, q, n)] for n, s, q in pairs[0][:100]]
    assert one(gpu) == one(cpu)


def test_hit_fields_are_the_records_fields(aligner):
    results = aligner.map_batch(fastq(READS[0]), fastq(READS[1]))
    # Chimeras of reads from far apart: split reads, their supplementary parts hard-clipped.
    r1 = fastq(READS[0])
    chimeras = [(f"c{i}", r1[i][1][:80] + r1[i + 1000][1][80:]) for i in range(40)]
    results += [(hits,) for hits in aligner.map_batch(chimeras)]
    strands = set()
    clipped = supplementary = 0
    for hits in (h for r in results for h in r):
        for h in hits:
            f = h.sam.split("\t")
            tags = dict((t[:2], t[5:]) for t in f[11:])
            assert (h.ctg, h.r_st + 1, h.mapq, h.flag, h.sam_cigar) == (f[2], int(f[3]), int(f[4]), int(f[1]), f[5])
            assert h.ctg_len == dict(aligner_contigs(aligner))[h.ctg]
            assert h.strand == (-1 if h.flag & 16 else 1)
            assert (h.NM, h.AS, h.MD) == (int(tags["NM"]), int(tags["AS"]), tags["MD"])
            # The reference under the alignment, from the aligner, against the MD string:
            # every base MD names as the reference's is there.
            ref = aligner.seq(h.ctg, h.r_st, h.r_en)
            assert len(ref) == h.r_en - h.r_st and set(ref) <= set("ACGTN")
            assert md_reference_bases(tags["MD"], ref), (h.sam, ref)
            assert h.XS == (int(tags["XS"]) if "XS" in tags else None)
            ops = [(int(n), op) for n, op in parse_cigar(f[5])]
            aligned = [(n, op) for n, op in ops if op in "MID"]
            assert h.cigar_str == "".join(f"{n}{op}" for n, op in aligned)
            assert h.cigar == [(n, "MID".index(op)) for n, op in aligned]
            assert h.r_en - h.r_st == sum(n for n, op in aligned if op in "MD")
            assert h.blen == sum(n for n, _ in aligned)
            gaps = sum(n for n, op in aligned if op in "ID")
            assert h.mlen == sum(n for n, op in aligned if op == "M") - (h.NM - gaps)
            lead = ops[0][0] if ops[0][1] in "SH" else 0
            trail = ops[-1][0] if len(ops) > 1 and ops[-1][1] in "SH" else 0
            length = sum(n for n, op in ops if op in "MISH")
            # q_st/q_en count on the read as given: a reverse-strand record's CIGAR runs along
            # the reverse complement, so its leading clip is the read's end.
            expect = (trail, length - lead) if h.strand < 0 else (lead, length - trail)
            assert (h.q_st, h.q_en) == expect
            assert h.is_primary == (not h.flag & 0x100) and h.is_supplementary == bool(h.flag & 0x800)
            strands.add(h.strand)
            clipped += lead + trail > 0
            supplementary += h.is_supplementary and "H" in h.sam_cigar and h.SA is not None
    assert strands == {1, -1} and clipped > 40 and supplementary > 10, "the checks saw both strands and clipped reads"


def md_reference_bases(md, ref):
    """Whether the reference bases MD spells out (mismatches and deletions) are those of
    `ref`, the reference span of the alignment, at their places."""
    at, num = 0, ""
    deleted = False
    for c in md:
        if c.isdigit():
            num += c
            deleted = False
            continue
        at += int(num or 0)
        num = ""
        if c == "^":
            deleted = True
            continue
        if ref[at] != c:
            return False
        at += 1
    return at + int(num or 0) == len(ref)


def aligner_contigs(aligner):
    names = aligner.seq_names
    header = [l.split("\t") for l in aligner.header.splitlines() if l.startswith("@SQ")]
    assert [h[1][3:] for h in header] == names
    return [(h[1][3:], int(h[2][3:])) for h in header]


def parse_cigar(text):
    n = ""
    for c in text:
        if c.isdigit():
            n += c
        else:
            yield n, c
            n = ""


def test_options_are_the_programs(tmp_path):
    reads = fastq(READS[0])[:500]
    default = swmap.Aligner(REF, threads=1, backend="cpu")
    strict = swmap.Aligner(REF, threads=1, backend="cpu", min_score=140)
    mapped = lambda a: sum(bool(h) for h in a.map_batch(reads))
    assert mapped(strict) < mapped(default)
    # A reference with a segment in two copies: its reads have a second, secondary hit.
    rng = random.Random(7)
    seq = "".join(rng.choice("ACGT") for _ in range(6000))
    seq = seq[:4000] + seq[1000:1400] + seq[4400:]
    (tmp_path / "dup.fa").write_text(f">dup\n{seq}\n")
    read = seq[1100:1250]
    one = swmap.Aligner(tmp_path / "dup.fa", backend="cpu").map(read)
    every = swmap.Aligner(tmp_path / "dup.fa", backend="cpu", all_alignments=True).map(read)
    assert len(one) == 1 and one[0].mapq == 0 and one[0].XA is not None
    assert [h.is_secondary for h in every] == [False, True] and {h.r_st for h in every} == {1100, 4100}
    grouped = swmap.Aligner(REF, backend="cpu", read_group="@RG\\tID:g1\\tSM:s1")
    assert "@RG\tID:g1\tSM:s1" in grouped.header
    assert grouped.map_batch(reads[:1])[0][0].sam.endswith("RG:Z:g1")
    with pytest.raises(TypeError, match="unknown option 'min_scores'"):
        swmap.Aligner(REF, min_scores=3)
    with pytest.raises(TypeError, match="takes a value"):
        swmap.Aligner(REF, min_score=True)
    with pytest.raises(ValueError, match="-T"):
        swmap.Aligner(REF, min_score="many")
    with pytest.raises(ValueError, match="backend"):
        swmap.Aligner(REF, backend="tpu")
    with pytest.raises(ValueError, match="at least 1"):
        swmap.Aligner(REF, threads=0)


def test_reference_bases_by_name(aligner):
    name, length = aligner_contigs(aligner)[0]
    whole = aligner.seq(name)
    assert len(whole) == length and aligner.seq(name, 100, 110) == whole[100:110]
    assert aligner.seq(name, length - 5, length + 100) == whole[-5:] and aligner.seq(name, 10, 5) == ""
    assert aligner.seq("no-such-contig") is None
    read = whole[5000:5150]
    hit = aligner.map(read, name="exact")[0]
    assert (hit.ctg, hit.r_st, hit.cigar_str, hit.NM) == (name, 5000, "150M", 0)


def test_bad_input_raises_with_swmaps_message(aligner, tmp_path):
    with pytest.raises(ValueError, match=r"invalid base 'X' at position 3 of read 'r1'"):
        aligner.map("ACXT", name="r1")
    with pytest.raises(ValueError, match="4 bases but 3 quality"):
        aligner.map("ACGT", qual="III")
    with pytest.raises(ValueError, match="not allow"):
        aligner.map("ACGT", name="a b")
    with pytest.raises(TypeError):
        aligner.map_batch([42])
    with pytest.raises(ValueError, match="2 reads but 1 mates"):
        aligner.map_batch(["ACGT" * 10, "ACGT" * 10], ["ACGT" * 10])
    with pytest.raises(ValueError, match="mate names differ"):
        aligner.map_pair(("x", "ACGT" * 10), ("y", "ACGT" * 10))
    with pytest.raises(OSError, match="no-such.fq"):
        aligner.map_files(tmp_path / "no-such.fq", out=tmp_path / "x.sam")
    bad = tmp_path / "bad.fq"
    bad.write_text("@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nII\n")
    with pytest.raises(ValueError, match=r"bad.fq.*record 2"):
        aligner.map_files(bad, out=tmp_path / "x.sam")
    with pytest.raises(OSError):
        swmap.Index.load(tmp_path / "no-such.swi")
    with pytest.raises(OSError):
        swmap.Aligner(tmp_path / "no-such.fa")


def test_fastx_read_reads_as_the_mapper_does(tmp_path, aligner):
    expected = fastq(READS[1])
    got = list(swmap.fastx_read(READS[1]))
    assert [(n.removesuffix("/2"), s, q) for n, s, q in expected] == got
    assert hit_lines(aligner.map_batch(swmap.fastx_read(READS[0]))) == hit_lines(aligner.map_batch(fastq(READS[0])))
    fasta = tmp_path / "r.fa"
    fasta.write_text(">a/1 comment\nacgtRYAC\nGT\n>b\nTTTT\n")
    assert list(swmap.fastx_read(fasta)) == [("a", "ACGTNNACGT", None), ("b", "TTTT", None)]
    bad = tmp_path / "bad.fq"
    bad.write_text("@r1\nACGT\n+\nIIII\n@r2\nAXGT\n+\nIIII\n")
    with pytest.raises(ValueError, match=r"bad.fq.*record 2"):
        list(swmap.fastx_read(bad))
    with pytest.raises(OSError, match="no-such.fq"):
        swmap.fastx_read(tmp_path / "no-such.fq")


def test_indexes_built_loaded_and_beside(tmp_path):
    path = tmp_path / "ref.swi"
    built = swmap.Index.build(REF, path)
    assert path.exists() and built.contigs == swmap.Index.load(path).contigs
    assert [c[0] for c in built.contigs] == swmap.Aligner(REF, backend="cpu").seq_names
    reads = fastq(READS[0])[:200]
    expected = hit_lines(swmap.Aligner(REF, backend="cpu").map_batch(reads))
    for index in (built, swmap.Index.load(path), path):
        assert hit_lines(swmap.Aligner(index, backend="cpu").map_batch(reads)) == expected


def test_whole_files_sorted_and_marked(tmp_path, aligner):
    out = tmp_path / "out.bam"
    counts = aligner.map_files(*READS, out=out, sort=True, markdup=True, markdup_metrics=tmp_path / "m.txt")
    assert counts["reads"] == 4000 and counts["mapped"] > 3800 and counts["properly_paired"] > 3500
    assert out.read_bytes()[:4] == b"\x1f\x8b\x08\x04", "a BGZF file"
    assert (tmp_path / "out.bam.bai").exists()
    assert "ESTIMATED_LIBRARY_SIZE" in (tmp_path / "m.txt").read_text()


def test_a_stream_far_larger_than_memory_maps_in_bounded_memory(tmp_path):
    """Three million reads (about 1 GB of FASTQ) through a FIFO, mapped by map_files in a child
    process whose peak memory is measured: a few chunks of reads at a time are held."""
    block = "".join(f"@{n}\n{s}\n+\n{q}\n" for n, s, q in fastq(READS[0])).encode()
    repeats = 1500
    fifo = tmp_path / "reads.fq"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "wb") as f:
            for _ in range(repeats):
                f.write(block)

    writer = threading.Thread(target=write)
    writer.start()
    child = (
        "import os, sys, swmap\n"
        "a = swmap.Aligner(sys.argv[1], threads=2, backend='cpu')\n"
        "print(a.map_files(sys.argv[2], out=os.devnull)['reads'])\n"
    )
    run = subprocess.run([sys.executable, "-c", child, REF, fifo], capture_output=True, text=True)
    writer.join()
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == 2000 * repeats, "every read mapped"
    # The largest peak of this process's children so far: at least the mapping child's.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stream_mib = len(block) * repeats / 2**20
    assert peak_mib < 250 and peak_mib < stream_mib / 4, f"peak {peak_mib:.0f} MiB for a {stream_mib:.0f} MiB stream"
