#!/usr/bin/env python3
"""Long deletions and short split parts: how many reads each aligner gets right.

Plants deletions of 30-100 bp in a reference, makes 2x150 read pairs across them, and builds
chimeric pairs whose first mate ends in a 30-49 bp part from elsewhere (a fusion junction near
the read end). Maps both sets with swmap and bwa mem (and minimap2 -ax sr when it is installed)
against the unmutated reference and counts:

  deletions: records whose CIGAR holds a deletion of the planted length starting within 10 bp
             of the planted place (a deletion in a repeat may be written at any equivalent
             place), and the sites with at least one such record;
  splits:    first mates with an SA tag, and those whose SA or primary lies within 10 bp of
             the short part's true place.

Usage: scripts/sv-bench.py REF.fa[.gz] WORKDIR [--swmap BIN] [--threads N] [--only TOOL]
Deterministic: the same reference gives the same reads (seeded generator).
"""
import argparse
import gzip
import os
import random
import re
import subprocess
import sys

COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s):
    return s.translate(COMP)[::-1]


def read_fasta(path):
    opener = gzip.open if path.endswith(".gz") else open
    name, seq = None, []
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith(">"):
                if name is not None:
                    break  # first contig only
                name = line[1:].split()[0]
            else:
                seq.append(line.strip().upper())
    return name, "".join(seq)


def clean(seq, start, length):
    s = seq[start:start + length]
    return len(s) == length and "N" not in s


def errors(rng, s, rate=0.005):
    out = list(s)
    for i in range(len(out)):
        if rng.random() < rate:
            out[i] = rng.choice([b for b in "ACGT" if b != out[i]])
    return "".join(out)


def fq(f, name, s):
    f.write(f"@{name}\n{s}\n+\n{'I' * len(s)}\n")


def make_deletions(rng, name, seq, work, sites=150, per_site=12):
    """Deletions spaced 20 kb and more apart; reads whose first mate crosses the junction."""
    truth = []
    r1 = open(os.path.join(work, "del_1.fq"), "w")
    r2 = open(os.path.join(work, "del_2.fq"), "w")
    pos = 100_000
    while len(truth) < sites and pos + 20_000 < len(seq):
        pos += rng.randrange(20_000, 200_000)
        length = rng.randrange(30, 101)
        if not clean(seq, pos - 1000, 2000 + length):
            continue
        truth.append((pos, length))
        # The haplotype around the site: 1 kb either side, the deleted bases left out.
        left, right = seq[pos - 1000:pos], seq[pos + length:pos + length + 1000]
        hap = left + right
        for r in range(per_site):
            # The junction (at 1000 in hap) between 20 and 130 bases into the first mate.
            start = 1000 - rng.randrange(20, 131)
            m1 = hap[start:start + 150]
            insert = rng.randrange(300, 451)
            m2 = revcomp(hap[start + insert - 150:start + insert])
            rid = f"del{len(truth)}_{r}"
            fq(r1, rid, errors(rng, m1))
            fq(r2, rid, errors(rng, m2))
    r1.close()
    r2.close()
    return truth


def make_splits(rng, name, seq, work, pairs=600):
    """First mates: 101-120 bases at A, then a 30-49 base part from B (1 Mb or more away)."""
    truth = {}
    r1 = open(os.path.join(work, "split_1.fq"), "w")
    r2 = open(os.path.join(work, "split_2.fq"), "w")
    while len(truth) < pairs:
        part = rng.randrange(30, 50)
        a = rng.randrange(10_000, len(seq) - 10_000)
        b = rng.randrange(10_000, len(seq) - 10_000)
        if abs(a - b) < 1_000_000 or not clean(seq, a, 600) or not clean(seq, b, 100):
            continue
        m1 = seq[a:a + 150 - part] + seq[b:b + part]
        insert = rng.randrange(300, 451)
        m2 = revcomp(seq[a + insert - 150:a + insert])
        rid = f"split{len(truth)}"
        truth[rid] = b
        fq(r1, rid, errors(rng, m1))
        fq(r2, rid, errors(rng, m2))
    r1.close()
    r2.close()
    return truth


def cigar_deletions(pos, cigar):
    """(reference start 0-based, length) of each D op of a record starting at 1-based pos."""
    ref = pos - 1
    out = []
    for n, op in re.findall(r"(\d+)([MIDNSHP=X])", cigar):
        n = int(n)
        if op == "D":
            out.append((ref, n))
        if op in "MDN=X":
            ref += n
    return out


def records(sam):
    with open(sam) as f:
        for line in f:
            if not line.startswith("@"):
                yield line.rstrip("\n").split("\t")


def count_deletions(sam, truth):
    by_site = {}
    for i, t in enumerate(truth):
        by_site[i + 1] = t
    reads, sites = 0, set()
    for rec in records(sam):
        site = int(rec[0].split("_")[0][3:])
        pos, length = by_site[site]
        if rec[5] == "*" or int(rec[1]) & 0x100:
            continue
        if any(n == length and abs(p - pos) <= 10 for p, n in cigar_deletions(int(rec[3]), rec[5])):
            reads += 1
            sites.add(site)
    return reads, len(sites)


def count_splits(sam, truth):
    with_sa, right = 0, 0
    for rec in records(sam):
        flag = int(rec[1])
        if not flag & 0x40 or flag & 0x900:
            continue
        tags = [t for t in rec[11:] if t.startswith("SA:Z:")]
        if not tags:
            continue
        with_sa += 1
        b = truth[rec[0]] + 1
        places = [int(rec[3])] + [int(s.split(",")[1]) for s in tags[0][5:].split(";") if s]
        if any(abs(p - b) <= 10 for p in places):
            right += 1
    return with_sa, right


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reference")
    ap.add_argument("workdir")
    ap.add_argument("--swmap", default="target/release/swmap")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--only", help="run this aligner alone (swmap, bwa or minimap2)")
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = args.workdir
    name, seq = read_fasta(args.reference)
    ref = os.path.join(work, "ref.fa")
    if not os.path.exists(ref):
        with open(ref, "w") as f:
            f.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                f.write(seq[i:i + 60] + "\n")
    rng = random.Random(20261201)
    deletions = make_deletions(rng, name, seq, work)
    splits = make_splits(rng, name, seq, work)
    run = lambda cmd, out: subprocess.run(cmd, check=True, stdout=open(out, "w"), stderr=subprocess.DEVNULL)
    if not os.path.exists(ref + ".swi"):
        subprocess.run([args.swmap, "index", ref, "-o", ref + ".swi"], check=True, stderr=subprocess.DEVNULL)
    if not os.path.exists(ref + ".bwt"):
        subprocess.run(["bwa", "index", ref], check=True, stderr=subprocess.DEVNULL)
    aligners = {
        "swmap": lambda a, b, o: run([args.swmap, "map", ref + ".swi", a, b, "-t", args.threads], o),
        "bwa": lambda a, b, o: run(["bwa", "mem", "-t", args.threads, ref, a, b], o),
    }
    if subprocess.run(["sh", "-c", "command -v minimap2"], stdout=subprocess.DEVNULL).returncode == 0:
        aligners["minimap2"] = lambda a, b, o: run(["minimap2", "-ax", "sr", "-t", args.threads, ref, a, b], o)
    print(f"reference {name} ({len(seq)} bp); {len(deletions)} deletions of 30-100 bp, "
          f"{sum(1 for _ in open(os.path.join(work, 'del_1.fq'))) // 4} pairs across them; "
          f"{len(splits)} chimeric pairs with 30-49 bp parts")
    print("aligner\tdel_reads\tdel_sites\tsplit_SA\tsplit_SA_right")
    for tool, go in aligners.items():
        if args.only and tool != args.only:
            continue
        d = os.path.join(work, f"{tool}.del.sam")
        s = os.path.join(work, f"{tool}.split.sam")
        go(os.path.join(work, "del_1.fq"), os.path.join(work, "del_2.fq"), d)
        go(os.path.join(work, "split_1.fq"), os.path.join(work, "split_2.fq"), s)
        reads, sites = count_deletions(d, deletions)
        sa, right = count_splits(s, splits)
        print(f"{tool}\t{reads}\t{sites}\t{sa}\t{right}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
