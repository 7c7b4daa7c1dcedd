#!/usr/bin/env python3
"""Give simulated read pairs Illumina names and add PCR and optical duplicates.

usage: add-duplicates.py IN_1.fq IN_2.fq OUT_1.fq OUT_2.fq [--fraction F] [--optical O]
                         [--seed N] [--tiles T]

Every input pair is written once under an Illumina-style name
(`SWSIM:1:FLOWCELL:1:TILE:X:Y`, tile and position drawn at random), then, with probability
F/(1-F) per pair, copies of it are added until about a fraction F of the output pairs are
duplicates. A copy is optical with probability O (same tile, within 50 pixels of the original,
as a cluster read twice on the flow cell) and otherwise a PCR copy anywhere on the flow cell.
Copies keep the bases but get qualities of their own (each base's quality moved by up to
+-5), so that which copy a duplicate marker keeps depends on the quality sums, as it does in
real data. The original name is kept in the comment (`XO:Z:NAME`), so that truth files keyed
by the simulated name still apply.

The output is deterministic for a seed. Used to benchmark `swmap map --markdup` against
Picard MarkDuplicates (docs/benchmarks.md).
"""
import argparse
import random
import sys


def records(path):
    with open(path) as f:
        while True:
            head = f.readline()
            if not head:
                return
            seq = f.readline().rstrip("\n")
            f.readline()
            qual = f.readline().rstrip("\n")
            if not head.startswith("@") or len(seq) != len(qual):
                sys.exit(f"{path}: not a FASTQ record near {head.strip()!r}")
            yield head[1:].split()[0], seq, qual


def requal(qual, rng):
    return "".join(chr(min(73, max(35, ord(c) + rng.randint(-5, 5)))) for c in qual)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("in1")
    p.add_argument("in2")
    p.add_argument("out1")
    p.add_argument("out2")
    p.add_argument("--fraction", type=float, default=0.15, help="duplicate share of output pairs")
    p.add_argument("--optical", type=float, default=0.3, help="optical share of the duplicates")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tiles", type=int, default=32)
    a = p.parse_args()
    if not 0 <= a.fraction < 1 or not 0 <= a.optical <= 1:
        sys.exit("--fraction must be in [0, 1) and --optical in [0, 1]")
    rng = random.Random(a.seed)
    # Extra copies per pair: one with probability q, each further one with probability 0.3,
    # so that extra / (1 + extra) = F on average.
    extra = a.fraction / (1 - a.fraction)
    q = min(1.0, 0.7 * extra)
    tiles = [1101 + t for t in range(a.tiles)]
    taken = set()

    def place(tile=None, x=None, y=None):
        while True:
            if tile is None:
                spot = (rng.choice(tiles), rng.randint(1000, 30000), rng.randint(1000, 30000))
            else:
                spot = (tile, x + rng.randint(-50, 50), y + rng.randint(-50, 50))
            if spot not in taken:
                taken.add(spot)
                return spot

    pairs = dupes = 0
    with open(a.out1, "w") as o1, open(a.out2, "w") as o2:
        for (n1, s1, q1), (n2, s2, q2) in zip(records(a.in1), records(a.in2)):
            if n1 != n2:
                sys.exit(f"mates out of step: {n1} and {n2}")
            tile, x, y = place()
            copies = [(tile, x, y, q1, q2)]
            more = rng.random() < q
            while more and len(copies) < 20:
                spot = place(tile, x, y) if rng.random() < a.optical else place()
                copies.append((*spot, requal(q1, rng), requal(q2, rng)))
                more = rng.random() < 0.3
            for t, cx, cy, c1, c2 in copies:
                name = f"SWSIM:1:FLOWCELL:1:{t}:{cx}:{cy}"
                o1.write(f"@{name} XO:Z:{n1}\n{s1}\n+\n{c1}\n")
                o2.write(f"@{name} XO:Z:{n1}\n{s2}\n+\n{c2}\n")
            pairs += len(copies)
            dupes += len(copies) - 1
    print(f"{pairs} pairs written, {dupes} of them copies ({100 * dupes / max(pairs, 1):.1f}%)", file=sys.stderr)


if __name__ == "__main__":
    main()
