#!/usr/bin/env python3
"""A synthetic reference whose repeat make-up resembles the human genome's, for measuring how
often short-read aligners place reads wrongly in repeats, and whether their MAPQ says so.

usage: scripts/repeat-genome.py OUT.fa[.gz] [--size 3.1G] [--seed 1] [--bed PATH] [--alts 8]
           [--segdup-fraction 0.05] [--recent-segdups 0.25] [--par]

3.1G takes about 1.5 minutes and 4 GB of memory on one core (3.2 GB of FASTA, 110 MB of BED);
50M about a second.

At --size 3.1G (the default) it holds, like GRCh38:
- 24 chromosome-like contigs, chr1-chr22, chrX, chrY, with GRCh38's primary lengths scaled
  to --size, on a random background of 41% GC;
- ~1.1 M Alu-like copies of a ~280 bp dimeric consensus plus a poly-A tail, from three
  subfamilies (AluJ-like at 12-20% divergence, AluS-like at 5-12%, AluY-like at 2-5%), a fifth
  of them 5'-truncated;
- ~0.5 M L1-like copies of a 6 kb consensus, mostly 5'-truncated (mean length ~1 kb), from
  three subfamilies at 15-25%, 6-15% and 3-6% divergence;
- ~0.8 M microsatellites, units of 1-6 bp, 15-400 bp long, 0-8% impure;
- centromeric alpha-satellite arrays: 171 bp monomers 15-30% apart, arranged in higher-order
  repeats (HORs) of 4-20 monomers whose copies are only 0.1-1% apart (runs of copies of a few
  HOR variants, as unequal crossing-over leaves them), 1-3% of each chromosome, flanked by
  older monomeric satellite; chr13/chr21, chr14/chr22 and chr1/chr5/chr19 share a HOR (1%
  apart), as their real counterparts do;
- segmental duplications: --segdup-fraction of the genome in copies of 1-400 kb at 1-5%
  divergence (most near 1-2%; --recent-segdups of them at 0.1-1%, the near-identical ones
  that make reads ambiguous), a quarter tandem, the rest elsewhere on the same chromosome or
  on another, half of them near a centromere or a chromosome end, half inverted;
- N runs: 10 kb telomeres, the acrocentric short arms (chr13, 14, 15, 21, 22), the large
  heterochromatin gaps of chr1, chr9, chr16 and chrY, chrY's pseudo-autosomal regions
  (copies of chrX's ends with --par, as in the primary assembly; N, as in the analysis sets,
  without), and a few 100 bp-50 kb gaps per chromosome;
- --alts ALT-like contigs (chr6_alt1, chr2_alt1, ...): copies of a region at 1% divergence,
  the first an MHC-sized one on chr6.
Copy numbers scale with --size (e.g. --size 50M for a quick run). Repeats are written over the
background, older copies first, so younger ones stay whole and older ones are broken up, as
in real genomes. Copies carry substitutions (transitions twice as often as transversions) and
small indels (a tenth as many).

Deterministic: the same arguments give the same bytes. Writes 60-base lines (gzip, level 1,
when OUT ends in .gz; else also OUT.fai), and a BED-like TSV (default OUT.repeats.bed; gzip
if it ends in .gz) with one line per copy placed: contig, 0-based start, end, family,
subfamily, strand, divergence from its source, note (a segmental duplication's or ALT's
source). The first three columns are BED, so bedtools reads it. A copy may have been partly
overwritten by a later one. Plain Python 3, no packages: sequence is made in large chunks
(random bytes through a translation table; substitutions by XOR of whole copies as integers).
"""

import argparse
import bisect
import gzip
import math
import random
import sys
import time

# GRCh38 primary assembly lengths (chr1-22, X, Y).
LENGTHS = [248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973,
           145138636, 138394717, 133797422, 135086622, 133275309, 114364328, 107043718,
           101991189, 90338345, 83257441, 80373285, 58617616, 64444167, 46709983, 50818468,
           156040895, 57227415]
NAMES = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]
HUMAN = sum(LENGTHS)
# Centromere midpoints as fractions of each chromosome (GRCh38, rounded).
CENTROMERE = [0.50, 0.38, 0.46, 0.26, 0.27, 0.35, 0.38, 0.31, 0.32, 0.30, 0.40, 0.27,
              0.15, 0.16, 0.18, 0.40, 0.30, 0.21, 0.45, 0.44, 0.26, 0.28, 0.39, 0.19]
# N blocks as fractions of a chromosome: acrocentric short arms (from the start up to the
# centromere) and heterochromatin gaps (just after the centromere; chrY's Yq12 near its end).
P_ARM_N = {"chr13": 0.14, "chr14": 0.15, "chr15": 0.16, "chr21": 0.11, "chr22": 0.21}
HETERO_N = {"chr1": 0.072, "chr9": 0.115, "chr16": 0.089}
CHRY_Q12 = (0.465, 0.99)  # cut short of PAR2
PAR1, PAR2 = 2_781_479, 330_000  # pseudo-autosomal regions at chrX's and chrY's ends
# Shared alpha-satellite HORs (real: D13Z1/D21Z1, D14Z1/D22Z1, D1Z7/D5Z2/D19Z3).
HOR_GROUPS = [("chr13", "chr21"), ("chr14", "chr22"), ("chr1", "chr5", "chr19")]
# Copy numbers at GRCh38's size.
ALU_COPIES, L1_COPIES, MICROSAT_ARRAYS = 1_100_000, 500_000, 800_000
SMALL_GAPS_PER_MBP = 0.15

# Sequence is held as codes 0-3 (A C G T) and 4 (N), one byte each.
N = 4
LETTERS = bytes(b"ACGTN"[i] if i < 5 else ord("N") for i in range(256))
COMPLEMENT = bytes([3, 2, 1, 0] + list(range(4, 256)))
FIX_N = bytes([0, 1, 2, 3, 4, 4, 4, 4] + list(range(8, 256)))  # N XOR anything stays N
CODES = bytes({ord(c): i for i, c in enumerate("ACGT")}.get(b, N) for b in range(256))


def weighted_table(a, c, g, t):
    """A translation table from uniform random bytes to codes with the given weights (/256)."""
    assert a + c + g + t == 256
    return bytes([0] * a + [1] * c + [2] * g + [3] * t)


BACKGROUND = weighted_table(76, 52, 52, 76)  # 41% GC, like the human genome
GC_RICH = weighted_table(60, 68, 68, 60)     # Alu: ~53% GC
A_RICH = weighted_table(84, 46, 52, 74)      # L1's sense strand is A-rich
AT_RICH = weighted_table(80, 48, 48, 80)     # alpha satellite: ~38% GC
# XOR[k][r]: a random byte below k substitutes its base (XOR 2 swaps A<->G and C<->T, a
# transition; XOR 1 and 3 are transversions, half as common together); at or above k it leaves
# it. The rotation r, drawn per chunk, spreads the kinds evenly when k is small.
TI_TV = [2, 2, 2, 2, 1, 3]
XOR = [[bytes(TI_TV[(b + r) % 6] if b < k else 0 for b in range(256)) for r in range(6)] for k in range(257)]
CHUNK = 1 << 16


def revcomp(s):
    return s.translate(COMPLEMENT)[::-1]


def poisson(lam, rng):
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, rng.random(), math.exp(-lam)
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def loguniform(lo, hi, rng):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


class Mutator:
    """Random sequence and mutated copies, from one seeded generator."""

    def __init__(self, rng):
        self.rng = rng

    def random_codes(self, n, table=BACKGROUND):
        return self.rng.randbytes(n).translate(table)

    def substitute(self, seq, rate):
        """Substitutions at `rate` per base (N stays N): the random bytes of each 64 kb chunk
        pick the bases to change, at k/256 with k rounded at random to keep the mean exact."""
        if rate <= 0 or not seq:
            return bytes(seq)
        rng, out = self.rng, []
        for off in range(0, len(seq), CHUNK):
            chunk = seq[off:off + CHUNK]
            x = rate * 256
            k = min(256, int(x) + (rng.random() < x - int(x)))
            if k == 0:
                out.append(bytes(chunk))
                continue
            n = len(chunk)
            flips = rng.randbytes(n).translate(XOR[k][rng.randrange(6)])
            mixed = int.from_bytes(chunk, "little") ^ int.from_bytes(flips, "little")
            out.append(mixed.to_bytes(n, "little").translate(FIX_N))
        return b"".join(out)

    def indels(self, seq, rate):
        """Insertions and deletions of 1-20 bases (mostly 1-2) at `rate` per base."""
        rng = self.rng
        n = poisson(len(seq) * rate, rng)
        if n == 0:
            return seq
        out, prev = [], 0
        for p in sorted(rng.randrange(len(seq)) for _ in range(n)):
            if p < prev:
                continue
            out.append(seq[prev:p])
            size = 1
            while size < 20 and rng.random() < 0.4:
                size += 1
            if rng.random() < 0.5:
                out.append(self.random_codes(size))
                prev = p
            else:
                prev = p + size
        out.append(seq[prev:])
        return b"".join(out)

    def mutate(self, seq, divergence, indel_share=0.1):
        """A copy at `divergence`: substitutions, and indels `indel_share` times as often."""
        return self.indels(self.substitute(seq, divergence), divergence * indel_share)

    def poly_a(self, lo, hi):
        return self.substitute(bytes(self.rng.randint(lo, hi)), self.rng.uniform(0.03, 0.15))


class Contig:
    def __init__(self, name, seq):
        self.name = name
        self.seq = seq
        self.reserved = []  # sorted (start, end): N runs and satellites, where nothing else goes
        self.records = []   # (start, end, family, subfamily, strand, divergence, note)

    def free(self, start, end):
        """Whether [start, end) is inside the contig and clear of the reserved runs."""
        if start < 0 or end > len(self.seq):
            return False
        i = bisect.bisect_left(self.reserved, (end,)) - 1
        return i < 0 or self.reserved[i][1] <= start

    def reserve(self, start, end):
        bisect.insort(self.reserved, (start, end))

    def put(self, start, seq, family, subfamily, strand, divergence, note=""):
        """Writes `seq` over the contig at `start` (cut at its end) and records it."""
        end = min(start + len(seq), len(self.seq))
        self.seq[start:end] = seq[:end - start]
        self.records.append((start, end, family, subfamily, strand, divergence, note))


class Genome:
    def __init__(self, args):
        self.size = args.size
        self.scale = args.size / HUMAN
        self.seed = args.seed
        self.contigs = []
        self.par = args.par
        self.alts = args.alts
        self.segdup_fraction = args.segdup_fraction
        self.recent_segdups = args.recent_segdups
        self.started = time.time()

    def rng(self, what):
        # A generator per part, so that a change to one part leaves the others as they were.
        return random.Random(f"{self.seed}:{what}")

    def log(self, message):
        print(f"repeat-genome.py: [{time.time() - self.started:6.0f} s] {message}", file=sys.stderr, flush=True)

    # Consensus sequences: a family's subfamilies descend from one another, as real ones do.
    def consensuses(self):
        m = Mutator(self.rng("consensus"))
        left = m.random_codes(118, GC_RICH)
        right = m.substitute(left, 0.12)
        right = right[:60] + m.random_codes(31, GC_RICH) + right[60:]
        linker = bytes(CODES[b] for b in b"AAAAAATACAAAAA")
        alu_j = left + linker + right
        alu_s = m.mutate(alu_j, 0.04)
        alu_y = m.mutate(alu_s, 0.02)
        # (name, consensus, share of copies, divergence range)
        self.alu = [("AluJ", alu_j, 0.22, (0.12, 0.20)), ("AluS", alu_s, 0.63, (0.05, 0.12)),
                    ("AluY", alu_y, 0.15, (0.02, 0.05))]
        l1_old = m.random_codes(6000, A_RICH)
        l1_mid = m.mutate(l1_old, 0.08)
        l1_young = m.mutate(l1_mid, 0.04)
        self.l1 = [("L1_old", l1_old, 0.50, (0.15, 0.25)), ("L1_mid", l1_mid, 0.40, (0.06, 0.15)),
                   ("L1_young", l1_young, 0.10, (0.03, 0.06))]
        self.alpha = m.random_codes(171, AT_RICH)
        hor = {}
        for group in HOR_GROUPS:
            unit = b"".join(m.substitute(self.alpha, m.rng.uniform(0.15, 0.30)) for _ in range(m.rng.randint(4, 20)))
            for name in group:
                hor[name] = m.substitute(unit, 0.01)
        for name in NAMES:
            if name not in hor:
                hor[name] = b"".join(m.substitute(self.alpha, m.rng.uniform(0.15, 0.30))
                                     for _ in range(m.rng.randint(4, 20)))
        self.hor = hor

    def layout(self, c, i, m):
        """Reserves the N runs and the centromere of contig `c` (index `i`), and fills them."""
        rng, n = m.rng, len(c.seq)
        tel = min(10_000, n // 100)
        c.put(0, bytes([N]) * tel, "N", "telomere", ".", 0.0)
        c.put(n - tel, bytes([N]) * tel, "N", "telomere", ".", 0.0)
        c.reserve(0, tel)
        c.reserve(n - tel, n)
        # Centromere: a HOR array flanked by monomeric satellite.
        size = int(n * rng.uniform(0.01, 0.03))
        flank = [int(size * rng.uniform(0.05, 0.15)) for _ in range(2)]
        mid = int(n * CENTROMERE[i])
        start = max(tel, mid - size // 2 - flank[0])
        end = min(n - tel, start + flank[0] + size + flank[1])
        pos = start
        mono = b"".join(m.substitute(self.alpha, rng.uniform(0.10, 0.25)) for _ in range(flank[0] // 171 + 1))
        c.put(pos, mono[:flank[0]], "alpha_sat", "monomeric", "+", 0.175)
        pos += flank[0]
        # Unequal crossing-over keeps an array homogeneous: a few HOR variants 0.3-1% apart,
        # each repeated in runs of 5-50 copies, every copy with 0.05-0.3% changes of its own.
        hor = self.hor[c.name]
        variants = [m.substitute(hor, rng.uniform(0.003, 0.01)) for _ in range(rng.randint(3, 8))]
        copies, count = [], size // len(hor) + 1
        while len(copies) < count:
            variant = rng.choice(variants)
            copies += [m.substitute(variant, rng.uniform(0.0005, 0.003)) for _ in range(rng.randint(5, 50))]
        c.put(pos, b"".join(copies)[:size], "alpha_sat", f"HOR{len(hor) // 171}", "+", 0.007)
        pos += size
        mono = b"".join(m.substitute(self.alpha, rng.uniform(0.10, 0.25)) for _ in range(flank[1] // 171 + 1))
        c.put(pos, mono[:min(flank[1], end - pos)], "alpha_sat", "monomeric", "+", 0.175)
        c.reserve(start, end)
        blocks = []
        if c.name in P_ARM_N:
            blocks.append((tel, min(start, tel + int(n * P_ARM_N[c.name])), "p_arm"))
        if c.name in HETERO_N:
            blocks.append((end, min(n - tel, end + int(n * HETERO_N[c.name])), "heterochromatin"))
        if c.name == "chrY":
            p1, p2 = int(PAR1 * self.scale), int(PAR2 * self.scale)
            blocks.append((int(n * CHRY_Q12[0]), min(int(n * CHRY_Q12[1]), n - tel - p2 - n // 1000), "heterochromatin"))
            if not self.par:
                blocks += [(tel, tel + p1, "PAR_masked"), (n - tel - p2, n - tel, "PAR_masked")]
        for a, b, what in blocks:
            if b > a and c.free(a, b):
                c.put(a, bytes([N]) * (b - a), "N", what, ".", 0.0)
                c.reserve(a, b)
        gaps = max(1, poisson(SMALL_GAPS_PER_MBP * n / 1e6, rng))
        for _ in range(gaps):
            for _try in range(50):
                size = int(min(loguniform(100, 50_000, rng), n / 100)) + 1
                a = rng.randrange(0, max(1, n - size))
                if c.free(a - 1000, a + size + 1000):
                    c.put(a, bytes([N]) * size, "N", "gap", ".", 0.0)
                    c.reserve(a, a + size)
                    break

    def transposons(self, c, share, m):
        """Alu, L1 and microsatellite copies for a contig holding `share` of the genome's
        euchromatin, placed oldest (most diverged) first."""
        rng = m.rng
        specs = []
        for family, total, subfamilies in (("Alu", ALU_COPIES, self.alu), ("L1", L1_COPIES, self.l1)):
            count = poisson(total * self.scale * share, rng)
            weights = [s[2] for s in subfamilies]
            for sub in rng.choices(range(len(subfamilies)), weights, k=count):
                lo, hi = subfamilies[sub][3]
                specs.append((rng.uniform(lo, hi), family, sub))
        for _ in range(poisson(MICROSAT_ARRAYS * self.scale * share, rng)):
            specs.append((rng.uniform(0.0, 0.08), "microsat", 0))
        specs.sort(key=lambda s: -s[0])
        n = len(c.seq)
        for div, family, sub in specs:
            strand = "+" if rng.random() < 0.5 else "-"
            if family == "Alu":
                name, cons = self.alu[sub][:2]
                cut = rng.randrange(0, len(cons) - 30) if rng.random() < 0.2 else 0
                seq = cons[cut:] + m.poly_a(8, 40)
            elif family == "L1":
                name, cons = self.l1[sub][:2]
                full = 0.15 if sub == 2 else 0.04
                size = len(cons) if rng.random() < full else min(len(cons), 50 + int(rng.expovariate(1 / 850)))
                seq = cons[len(cons) - size:] + m.poly_a(5, 30)
            else:
                unit_len = rng.choices([1, 2, 3, 4, 5, 6], [25, 30, 10, 20, 8, 7])[0]
                unit = m.random_codes(unit_len, A_RICH if unit_len == 1 else BACKGROUND)
                size = min(400, 15 + int(rng.expovariate(1 / 35)))
                seq = (unit * (size // unit_len + 1))[:size]
                name = "(" + unit.translate(LETTERS).decode() + ")n"
            seq = m.mutate(seq, div)
            if strand == "-":
                seq = revcomp(seq)
            for _try in range(20):
                start = rng.randrange(0, max(1, n - len(seq)))
                if c.free(start, start + len(seq)):
                    c.put(start, seq, family, name, strand, round(div, 4))
                    break

    def segmental_duplications(self):
        m = Mutator(self.rng("segdup"))
        rng = m.rng
        chroms = [c for c in self.contigs]
        weights = [len(c.seq) for c in chroms]
        goal = self.segdup_fraction * sum(weights)
        done, sd, tries = 0, 0, 0
        while done < goal and tries < 100_000:
            tries += 1
            src = rng.choices(chroms, weights)[0]
            n = len(src.seq)
            size = int(min(loguniform(1_000, 400_000, rng), n / 8))
            a = rng.randrange(0, max(1, n - size))
            if not src.free(a, a + size):
                continue
            if rng.random() < self.recent_segdups:
                div = rng.uniform(0.001, 0.01)
            else:
                div = 0.01 + 0.04 * rng.random() ** 2
            mode = rng.choices(["tandem", "intra", "inter"], [25, 30, 45])[0]
            dst = src if mode != "inter" else rng.choices(chroms, weights)[0]
            if mode == "inter" and dst is src:
                mode = "intra"
            inverted = rng.random() < (0.3 if mode == "tandem" else 0.5)
            copy = m.mutate(bytes(src.seq[a:a + size]), div, 0.15)
            if inverted:
                copy = revcomp(copy)
            placed = False
            for _try in range(30):
                dn = len(dst.seq)
                if mode == "tandem":
                    b = a + size + rng.randrange(0, 20_000) if rng.random() < 0.5 else a - len(copy) - rng.randrange(0, 20_000)
                elif rng.random() < 0.5:
                    # Near a centromere or an end, where real duplications gather.
                    anchor = rng.choice([int(dn * CENTROMERE[NAMES.index(dst.name)]), 0, dn])
                    b = anchor + int(rng.uniform(-0.05, 0.05) * dn)
                else:
                    b = rng.randrange(0, max(1, dn - len(copy)))
                if dst.free(b, b + len(copy)) and (dst is not src or b >= a + size or b + len(copy) <= a):
                    placed = True
                    break
                if mode == "tandem":
                    mode = "intra"
            if not placed:
                continue
            sd += 1
            where = f"{src.name}:{a + 1}-{a + size}"
            src.records.append((a, a + size, "segdup", f"sd{sd}_source", "+", 0.0, f"copied to {dst.name}:{b + 1}"))
            dst.put(b, copy, "segdup", f"sd{sd}_{mode}", "-" if inverted else "+", round(div, 4), f"copy of {where}")
            done += len(copy)
        self.log(f"{sd} segmental duplications, {done} bp")

    def alt_contigs(self):
        m = Mutator(self.rng("alt"))
        rng = m.rng
        by_name = {c.name: c for c in self.contigs}
        count = {}
        alts = []
        for i in range(self.alts):
            if i == 0:
                c, size = by_name["chr6"], 4_500_000 * self.scale
                mid = int(0.18 * len(c.seq))
            else:
                c = rng.choices(self.contigs, [len(x.seq) for x in self.contigs])[0]
                size = loguniform(100_000, 1_000_000, rng) * self.scale
                mid = rng.randrange(len(c.seq))
            size = int(min(max(size, 20_000), len(c.seq) / 10))
            for _try in range(100):
                a = max(0, mid - size // 2)
                if c.free(a, a + size):
                    break
                mid = rng.randrange(len(c.seq))
            else:
                continue
            count[c.name] = count.get(c.name, 0) + 1
            name = f"{c.name}_alt{count[c.name]}"
            seq = m.mutate(bytes(c.seq[a:a + size]), 0.01)
            alt = Contig(name, bytearray(seq))
            alt.records.append((0, len(seq), "alt", name, "+", 0.01, f"copy of {c.name}:{a + 1}-{a + size}"))
            c.records.append((a, a + size, "alt_source", name, "+", 0.0, f"source of {name}"))
            alts.append(alt)
        self.contigs += alts

    def build(self):
        self.consensuses()
        lengths = [max(20_000, round(length * self.scale)) for length in LENGTHS]
        for i, (name, n) in enumerate(zip(NAMES, lengths)):
            m = Mutator(self.rng(f"layout:{name}"))
            c = Contig(name, bytearray(m.random_codes(n)))
            self.layout(c, i, m)
            self.contigs.append(c)
        euchromatin = [len(c.seq) - sum(b - a for a, b in c.reserved) for c in self.contigs]
        total = sum(euchromatin)
        for c, free in zip(self.contigs, euchromatin):
            self.transposons(c, free / total, Mutator(self.rng(f"te:{c.name}")))
            self.log(f"{c.name}: {len(c.seq)} bp, {len(c.records)} records")
        self.segmental_duplications()
        if self.par:
            # chrY's pseudo-autosomal regions are copies of chrX's ends, identical in the primary
            # assembly: reads there have two equally good places.
            x, y = self.contigs[NAMES.index("chrX")], self.contigs[NAMES.index("chrY")]
            tx, ty = min(10_000, len(x.seq) // 100), min(10_000, len(y.seq) // 100)
            p1, p2 = int(PAR1 * self.scale), int(PAR2 * self.scale)
            for xa, ya, size in ((tx, ty, p1), (len(x.seq) - tx - p2, len(y.seq) - ty - p2, p2)):
                y.put(ya, bytes(x.seq[xa:xa + size]), "PAR", "PAR", "+", 0.0, f"copy of chrX:{xa + 1}-{xa + size}")
                x.records.append((xa, xa + size, "PAR", "PAR_source", "+", 0.0, "copied to chrY"))
        self.alt_contigs()

    def write(self, path, bed):
        opener = (lambda p: gzip.open(p, "wb", compresslevel=1)) if path.endswith(".gz") else (lambda p: open(p, "wb"))
        fai, offset, width = [], 0, 60
        with opener(path) as f:
            for c in self.contigs:
                header = b">" + c.name.encode() + b"\n"
                f.write(header)
                offset += len(header)
                fai.append(f"{c.name}\t{len(c.seq)}\t{offset}\t{width}\t{width + 1}\n")
                text = c.seq.translate(LETTERS)
                block = width * 100_000
                for off in range(0, len(text), block):
                    part = text[off:off + block]
                    f.write(b"\n".join([part[i:i + width] for i in range(0, len(part), width)]) + b"\n")
                offset += len(text) + (len(text) + width - 1) // width
        if not path.endswith(".gz"):
            with open(path + ".fai", "w") as f:
                f.writelines(fai)
        bed_open = (lambda p: gzip.open(p, "wt", compresslevel=6)) if bed.endswith(".gz") else (lambda p: open(p, "w"))
        stats = {}
        with bed_open(bed) as f:
            f.write("#contig\tstart\tend\tfamily\tsubfamily\tstrand\tdivergence\tnote\n")
            for c in self.contigs:
                for r in sorted(c.records):
                    f.write(f"{c.name}\t{r[0]}\t{r[1]}\t{r[2]}\t{r[3]}\t{r[4]}\t{r[5]}\t{r[6]}\n")
                    key = r[2] if r[2] not in ("segdup", "N") else f"{r[2]} ({r[3].split('_')[-1] if r[2] == 'segdup' else r[3]})"
                    s = stats.setdefault(key, [0, 0])
                    s[0] += 1
                    s[1] += r[1] - r[0]
        total = sum(len(c.seq) for c in self.contigs)
        ns = sum(c.seq.count(N) for c in self.contigs)
        self.log(f"{len(self.contigs)} contigs, {total} bp ({ns} N) to {path}; records in {bed}")
        for key in sorted(stats):
            n, bp = stats[key]
            print(f"  {key:<28} {n:>9} copies {bp:>13} bp {100 * bp / total:6.2f}%", file=sys.stderr)


def size_arg(text):
    units = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}
    t = text.strip().upper().removesuffix("B").removesuffix("BP")
    unit = t[-1] if t and t[-1] in "KMG" else ""
    value = float(t[:-1] if unit else t) * units[unit]
    if value < 1e6:
        raise argparse.ArgumentTypeError("--size must be at least 1M")
    return int(value)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("out", help="FASTA to write (.gz: gzip)")
    p.add_argument("--size", type=size_arg, default=int(3.1e9), help="total chromosome length, e.g. 3.1G, 50M (default 3.1G)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--bed", help="where the copies went (default OUT.repeats.bed)")
    p.add_argument("--alts", type=int, default=8, help="ALT-like contigs (default 8)")
    p.add_argument("--segdup-fraction", type=float, default=0.05, help="share of the genome in segmental duplications (default 0.05)")
    p.add_argument("--recent-segdups", type=float, default=0.25,
                   help="share of segmental duplications that are recent, 0.1-1%% divergence (default 0.25)")
    p.add_argument("--par", action="store_true", help="chrY's PARs as copies of chrX's ends (default: N, as in analysis sets)")
    args = p.parse_args()
    bed = args.bed or args.out.removesuffix(".gz") + ".repeats.bed"
    g = Genome(args)
    g.log(f"{args.size} bp (scale {g.scale:.4f} of GRCh38), seed {args.seed}")
    g.build()
    g.write(args.out, bed)
    g.log("done")


if __name__ == "__main__":
    main()
