#!/usr/bin/env python3
"""The Python module against mappy (minimap2's module) on the same simulated reads.

    scripts/python-bench.py REFERENCE.fa.gz WORKDIR [--reads 100000] [--threads 2] [--rounds 2]

Needs the swmap module (`pip install ./python`), mappy (`pip install mappy`), minimap2 (for
mappy's index) and the swmap binary (`cargo build --release`, or SWMAP=path). Simulates single
150 bp reads with `swmap simulate`, then, in alternating rounds on the same reads in memory:
swmap's `map_batch` and `map` in a Python loop, mappy's `Aligner.map` in a Python loop and in
a thread pool of THREADS. Prints reads/s (wall time of mapping alone, index loaded) and the
accuracy of each one's hits, written as SAM and scored by `swmap eval`.
"""

import argparse
import concurrent.futures
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import mappy
import swmap


def run(*cmd):
    subprocess.run([str(c) for c in cmd], check=True)


def read_fastq(path):
    lines = Path(path).read_text().splitlines()
    return [(lines[i][1:].split()[0], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def mappy_sam(name, seq, hits):
    """SAM lines of mappy's hits: soft clips from q_st/q_en, flags as minimap2 sets them."""
    out = []
    for k, h in enumerate(hits):
        flag = (16 if h.strand < 0 else 0) | (0 if k == 0 else 2048 if h.is_primary else 256)
        left, right = h.q_st, len(seq) - h.q_en
        if h.strand < 0:
            left, right = right, left
        cigar = (f"{left}S" if left else "") + h.cigar_str + (f"{right}S" if right else "")
        out.append(f"{name}\t{flag}\t{h.ctg}\t{h.r_st + 1}\t{h.mapq}\t{cigar}\t*\t0\t0\t*\t*\tNM:i:{h.NM}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reference")
    p.add_argument("workdir", type=Path)
    p.add_argument("--reads", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    exe = os.environ.get("SWMAP", str(Path(__file__).resolve().parents[1] / "target/release/swmap"))
    a.workdir.mkdir(parents=True, exist_ok=True)
    sim, swi, mmi = a.workdir / "sim", a.workdir / "ref.swi", a.workdir / "ref.mmi"
    if not swi.exists():
        run(exe, "index", a.reference, "-o", swi)
    if not mmi.exists():
        run("minimap2", "-x", "sr", "-d", mmi, a.reference)
    if not Path(f"{sim}.fq").exists():
        run(exe, "simulate", "-n", a.reads, "--seed", "3", "-o", sim, a.reference)
    reads = read_fastq(f"{sim}.fq")

    t = time.time()
    aligner = swmap.Aligner(swmap.Index.load(swi), threads=a.threads, backend="cpu")
    swmap_load = time.time() - t
    t = time.time()
    mp = mappy.Aligner(str(mmi), preset="sr")
    mappy_load = time.time() - t
    local = threading.local()

    def mappy_one(r):
        if not hasattr(local, "buf"):
            local.buf = mappy.ThreadBuffer()
        return list(mp.map(r[1], buf=local.buf))

    def swmap_batch():
        return aligner.map_batch(reads)

    def swmap_loop():
        return [aligner.map(s, q, n) for n, s, q in reads]

    def mappy_loop():
        buf = mappy.ThreadBuffer()
        return [list(mp.map(s, buf=buf)) for _, s, _ in reads]

    def mappy_pool():
        with concurrent.futures.ThreadPoolExecutor(a.threads) as pool:
            return list(pool.map(mappy_one, reads, chunksize=256))

    runs = {
        f"swmap map_batch ({a.threads} threads)": swmap_batch,
        "swmap map, Python loop": swmap_loop,
        "mappy map, Python loop": mappy_loop,
        f"mappy map, thread pool of {a.threads}": mappy_pool,
    }
    times = {k: [] for k in runs}
    results = {}
    for _ in range(a.rounds):
        for name, f in runs.items():
            t = time.time()
            results[name] = f()
            times[name].append(time.time() - t)

    header = "\n".join(l for l in aligner.header.splitlines() if not l.startswith("@PG"))
    sams = []
    for i, (name, hits) in enumerate(results.items()):
        sam = a.workdir / f"run{i}.sam"
        lines = [header]
        for (rname, seq, _), h in zip(reads, hits):
            if name.startswith("swmap"):
                lines += [x.sam for x in h]
            else:
                lines += mappy_sam(rname, seq, h)
        sam.write_text("\n".join(lines) + "\n")
        sams.append(sam)
    tsv = a.workdir / "eval.tsv"
    run(exe, "eval", "--expected", len(reads), "--tsv", tsv, *sams)

    print(f"{len(reads)} reads, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"swmap {swmap.__version__}, mappy {mappy.__version__}, Python {platform.python_version()}")
    print(f"index load: swmap {swmap_load:.1f} s, mappy {mappy_load:.1f} s")
    for name, ts in times.items():
        best = min(ts)
        print(f"{name:36} {len(reads) / best:10,.0f} reads/s  (best of {len(ts)}: {best:.2f} s)")
    print(f"accuracy: {tsv} (files in the order above)")


if __name__ == "__main__":
    sys.exit(main())
