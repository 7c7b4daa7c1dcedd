#!/usr/bin/env python3
"""Which repeats the wrongly placed reads came from: each simulated read's true origin (from
its name) is looked up in the BED of a generated genome (scripts/repeat-genome.py), and wrong
reads are counted by the class of repeat there, per tool and MAPQ threshold.

usage: scripts/attribute-wrong.py --bed REPEATS.bed[.gz] --wrong WRONG.tsv
                                  --reads R1.fq [R2.fq] [--label SAM=LABEL ...]
                                  [--tsv OUT.tsv] [--min-mapq 0,1,20,60]

WRONG.tsv is what `swmap eval --wrong` writes (file, name, flag, contig, pos, mapq). The
reads (FASTQ, names as `swmap simulate` or dwgsim write them) give each class's read count,
the denominator. A read's class is the first of PAR, ALT (an ALT contig or its source),
segmental duplication, alpha satellite, the Alu and L1 subfamilies from youngest to oldest,
and microsatellite, that covers at least 30 of its bases; else "unique". Prints one Markdown
table (wrong reads per class at each MAPQ threshold, per tool) and writes the counts as TSV.
"""

import argparse
import bisect
import gzip
import sys
from collections import defaultdict

READ_LEN_DEFAULT = 150
MIN_OVERLAP = 30
ORDER = ["PAR", "ALT", "segdup", "alpha_sat", "AluY", "L1_young", "AluS", "L1_mid", "AluJ",
         "L1_old", "microsat", "unique"]
DESCRIBE = {"PAR": "PAR (chrX/chrY copy)", "ALT": "ALT contig or its source",
            "segdup": "segmental duplication", "alpha_sat": "alpha satellite",
            "AluY": "AluY-like (2-5%)", "L1_young": "L1 young (3-6%)", "AluS": "AluS-like (5-12%)",
            "L1_mid": "L1 mid (6-15%)", "AluJ": "AluJ-like (12-20%)", "L1_old": "L1 old (15-25%)",
            "microsat": "microsatellite", "unique": "none of these"}


def open_text(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def category(family, subfamily):
    if family in ("PAR",):
        return "PAR"
    if family in ("alt", "alt_source"):
        return "ALT"
    if family in ("segdup", "alpha_sat", "microsat"):
        return family
    if family in ("Alu", "L1"):
        return subfamily if subfamily in DESCRIBE else None
    return None


class Repeats:
    """Intervals per (contig, class), sorted by start, with each list's longest interval."""

    def __init__(self, path):
        lists = defaultdict(list)
        with open_text(path) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                contig, start, end, family, subfamily = line.split("\t", 5)[:5]
                cat = category(family, subfamily)
                if cat:
                    lists[contig, cat].append((int(start), int(end)))
        self.lists = {}
        for key, intervals in lists.items():
            intervals.sort()
            self.lists[key] = ([s for s, _ in intervals], [e for _, e in intervals],
                               max(e - s for s, e in intervals))

    def covers(self, contig, cat, start, end):
        """Whether an interval of class `cat` shares MIN_OVERLAP bases with [start, end)."""
        entry = self.lists.get((contig, cat))
        if not entry:
            return False
        starts, ends, longest = entry
        need = min(MIN_OVERLAP, end - start)
        i = bisect.bisect_left(starts, end - need + 1) - 1
        while i >= 0 and starts[i] > start - longest:
            if min(end, ends[i]) - max(start, starts[i]) >= need:
                return True
            i -= 1
        return False

    def classify(self, contig, start, end):
        for cat in ORDER[:-1]:
            if self.covers(contig, cat, start, end):
                return cat
        return "unique"


def true_origin(name, mate):
    """(contig, 0-based start) of mate 0 or 1 of a simulated read, or None (random reads)."""
    if name.endswith(("/1", "/2")):
        name = name[:-2]
    if name.startswith("swmap:"):
        _, _, positions, contig = name.split(":", 3)
        ends = positions.split(",")
        end = ends[min(mate, len(ends) - 1)]
        return contig, int(end[:-1]) - 1
    fields = name.rsplit("_", 9)
    if len(fields) == 10:
        contig, pos1, pos2, _, _, rand1, rand2 = fields[:7]
        if (rand1, rand2)[mate] == "1" or contig.endswith("rand"):
            return None
        return contig, int((pos1, pos2)[mate]) - 1
    return None


def fastq_names(path):
    with open_text(path) as f:
        for i, line in enumerate(f):
            if i % 4 == 0:
                yield line[1:].split()[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bed", required=True)
    p.add_argument("--wrong", required=True)
    p.add_argument("--reads", nargs="+", required=True)
    p.add_argument("--label", action="append", default=[], help="SAM=LABEL, the tool's name for a file")
    p.add_argument("--tsv")
    p.add_argument("--min-mapq", default="0,1,20,60")
    p.add_argument("--read-length", type=int, default=READ_LEN_DEFAULT)
    args = p.parse_args()
    thresholds = [int(q) for q in args.min_mapq.split(",")]
    labels = dict(item.split("=", 1) for item in args.label)
    repeats = Repeats(args.bed)
    length = args.read_length

    def classify(name, mate):
        origin = true_origin(name, mate)
        if origin is None:
            return "random"
        contig, start = origin
        return repeats.classify(contig, start, start + length)

    reads = defaultdict(int)
    for mate, path in enumerate(args.reads):
        for name in fastq_names(path):
            reads[classify(name, mate)] += 1
    wrong = defaultdict(int)  # (file, class, threshold) -> wrong reads
    files = []
    with open(args.wrong) as f:
        next(f)
        for line in f:
            file, name, flag, _, _, mapq = line.rstrip("\n").split("\t")
            if file not in files:
                files.append(file)
            mapq = int(mapq)
            mapq = 0 if mapq == 255 else mapq
            cat = classify(name, 1 if int(flag) & 0x80 else 0)
            for q in thresholds:
                if mapq >= q:
                    wrong[file, cat, q] += 1
    files += [f for f in labels if f not in files]
    cats = [c for c in ORDER + ["random"] if reads.get(c) or any(wrong[f, c, 0] for f in files)]
    total = sum(reads.values())
    qs = "/".join(f"≥{q}" for q in thresholds)
    print(f"Wrong reads by the repeat class at their true origin (MAPQ {qs}):")
    print()
    print("| class | reads | % of reads | " + " | ".join(labels.get(f, f) for f in files) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in files) + " |")
    for c in cats:
        cells = ["/".join(str(wrong[f, c, q]) for q in thresholds) for f in files]
        print(f"| {DESCRIBE.get(c, c)} | {reads[c]} | {100 * reads[c] / max(1, total):.2f} | " + " | ".join(cells) + " |")
    cells = ["/".join(str(sum(wrong[f, c, q] for c in cats)) for q in thresholds) for f in files]
    print(f"| all | {total} | 100.00 | " + " | ".join(cells) + " |")
    if args.tsv:
        with open(args.tsv, "w") as out:
            out.write("tool\tclass\treads\tmin_mapq\twrong\n")
            for f in files:
                for c in cats:
                    for q in thresholds:
                        out.write(f"{labels.get(f, f)}\t{c}\t{reads[c]}\t{q}\t{wrong[f, c, q]}\n")


if __name__ == "__main__":
    sys.exit(main())
