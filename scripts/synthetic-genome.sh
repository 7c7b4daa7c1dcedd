#!/usr/bin/env bash
# A human-sized synthetic reference, for measuring swmap (and its peers) at GRCh38's scale
# where no human genome is at hand. Two kinds:
#
# usage: scripts/synthetic-genome.sh OUT.fa [SCALE] [SOURCE.fa[.gz]]
#   SCALE   fraction of GRCh38's lengths (default 1; 0.01 for a 31 Mbp test run)
#   SOURCE  real sequence to copy from (also taken from the environment variable SOURCE)
#
# Without SOURCE: scripts/repeat-genome.py at SCALE (--size SCALE x 3.09 Gbp, seed 1), a
# random background with human-like repeats (Alu- and L1-like families, microsatellites,
# segmental duplications, alpha-satellite arrays, ALT-like contigs, N runs) and a BED of where
# every copy went (OUT.repeats.bed); see that script for the details.
#
# With SOURCE: 24 chromosome-sized contigs with GRCh38's primary lengths, built from mutated
# copies of SOURCE, with N runs (telomeres, a centromere gap, and the source's own gaps), plus
# 3,000 small ALT-like contigs (2-20 kb copies of chromosome regions at 0.5% divergence, as
# alternate haplotypes are). Chromosomes are made of segments of the source (1-5 Mbp each,
# from random places, reverse complemented half of the time), each segment substituted at a
# divergence drawn from 15-25%, so that a 19-mer of the source survives in a copy with
# probability 0.8^19 (about 1.4%): seeds stay mostly unique across the ~50 copies while each
# copy keeps the source's composition and repeat landscape (its Alu- and L1-like families
# become families of diverged copies). Deterministic: the same arguments give the same file
# (numpy's PCG64 from fixed seeds). Needs python3 with numpy (installed with pip if
# missing). Writes 60-base lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: scripts/synthetic-genome.sh OUT.fa [SCALE] [SOURCE.fa[.gz]]}
scale=${2:-1}
source=${3:-${SOURCE:-}}
if [ -z "$source" ]; then
    size=$(python3 -c "import sys; print(int(float(sys.argv[1]) * 3088269832))" "$scale")
    exec python3 "$here/repeat-genome.py" "$out" --size "$size"
fi
[ -r "$source" ] || { echo "synthetic-genome.sh: cannot read $source" >&2; exit 1; }
python3 -c 'import numpy' 2>/dev/null || pip install -q numpy >&2
exec python3 - "$out" "$scale" "$source" <<'PY'
import gzip, sys
import numpy as np

out, scale, source = sys.argv[1], float(sys.argv[2]), sys.argv[3]
# GRCh38 primary assembly lengths (chr1-22, X, Y).
LENGTHS = [248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973,
           145138636, 138394717, 133797422, 135086622, 133275309, 114364328, 107043718,
           101991189, 90338345, 83257441, 80373285, 58617616, 64444167, 46709983, 50818468,
           156040895, 57227415]
NAMES = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]
ALTS = 3000

# The source as codes 0-3 (A C G T), 4 for N; other letters count as N.
opener = gzip.open if source.endswith(".gz") else open
parts = []
with opener(source, "rb") as f:
    for line in f:
        if not line.startswith(b">"):
            parts.append(line.rstrip())
raw = np.frombuffer(b"".join(parts).upper(), dtype=np.uint8)
lut = np.full(256, 4, dtype=np.uint8)
for code, base in enumerate(b"ACGT"):
    lut[base] = code
src = lut[raw]
del raw, parts
letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
complement = np.array([3, 2, 1, 0, 4], dtype=np.uint8)

def mutate(seq, rate, rng):
    """Substitutions at `rate` (never on N), each to one of the three other bases."""
    hit = (rng.random(seq.size) < rate) & (seq < 4)
    seq[hit] = (seq[hit] + rng.integers(1, 4, size=int(hit.sum()), dtype=np.uint8)) % 4
    return seq

def chromosome(length, rng):
    """Mutated source segments, telomere N runs and a centromere-like N gap."""
    pieces, total = [], 0
    tel = min(10_000, length // 100)
    gap = int(length * rng.uniform(0.01, 0.02))
    body = length - 2 * tel - gap
    while total < body:
        n = min(int(rng.integers(1_000_000, 5_000_001)), body - total, src.size)
        start = int(rng.integers(0, src.size - n + 1))
        seg = src[start:start + n].copy()
        if rng.random() < 0.5:
            seg = complement[seg[::-1]]
        pieces.append(mutate(seg, rng.uniform(0.15, 0.25), rng))
        total += n
    body_seq = np.concatenate(pieces)[:body]
    cut = int(rng.integers(body // 3, 2 * body // 3 + 1))
    n = lambda k: np.full(k, 4, dtype=np.uint8)
    return np.concatenate([n(tel), body_seq[:cut], n(gap), body_seq[cut:], n(tel)])

def write(f, name, seq):
    f.write(b">" + name.encode() + b"\n")
    text = letters[seq]
    full = text.size // 60 * 60
    if full:
        lines = np.hstack([text[:full].reshape(-1, 60), np.full((full // 60, 1), 10, dtype=np.uint8)])
        f.write(lines.tobytes())
    if text.size > full:
        f.write(text[full:].tobytes() + b"\n")

master = np.random.default_rng(20261201)
lengths = [max(100_000, int(l * scale)) for l in LENGTHS]
# ALT contigs: (chromosome, start, length), drawn up front, cut when their chromosome exists.
alt_rng = np.random.default_rng(7)
alt_len = lambda: int(alt_rng.integers(2_000, 20_001) * min(1.0, max(scale, 0.05)))
alts = []
for i in range(ALTS):
    c = int(alt_rng.integers(0, len(lengths)))
    n = alt_len()
    alts.append((c, int(alt_rng.integers(0, lengths[c] - n)), n))
alt_seqs = [None] * ALTS
with open(out, "wb") as f:
    for c, (name, length) in enumerate(zip(NAMES, lengths)):
        seq = chromosome(length, np.random.default_rng(int(master.integers(1 << 62))))
        write(f, name, seq)
        for i, (ac, start, n) in enumerate(alts):
            if ac == c:
                alt_seqs[i] = mutate(seq[start:start + n].copy(), 0.005, np.random.default_rng(1000 + i))
        del seq
        print(f"synthetic-genome.sh: {name} {length} bp", file=sys.stderr)
    for i, seq in enumerate(alt_seqs):
        write(f, f"{NAMES[alts[i][0]]}_alt{i + 1}", seq)
total = sum(lengths) + sum(a[2] for a in alts)
print(f"synthetic-genome.sh: {len(lengths)} chromosomes and {ALTS} ALT-like contigs, "
      f"{total} bp, to {out}", file=sys.stderr)
PY
