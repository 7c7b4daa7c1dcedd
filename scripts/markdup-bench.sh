#!/usr/bin/env bash
# FASTQ to a sorted, duplicate-marked BAM or CRAM: swmap's one command against the pipelines
# labs run.
#
# usage: scripts/markdup-bench.sh REF.fa[.gz] OUTDIR [PAIRS] [THREADS]
#
# Simulates PAIRS 2x150 pairs (default 350,000) with `swmap simulate`, gives them Illumina
# names and about 15% PCR and optical copies (scripts/add-duplicates.py), then times, with
# /usr/bin/time (wall, CPU, peak memory; nothing else should run on the machine):
#   1. swmap map --sort --markdup --markdup-metrics, to BAM and to CRAM
#   2. bwa mem | samtools sort, then picard MarkDuplicates
#   3. swmap map | samtools fixmate -m | samtools sort | samtools markdup
# and compares swmap's duplicate flags with Picard's on swmap's own sorted records (every
# record, and primary records only). Needs swmap (SWMAP, default target/release/swmap), bwa,
# samtools, Picard (PicardCommandLine or picard) and python3 on the PATH. bwa's index is built
# beside OUTDIR/ref.fa when missing (minutes for a chromosome). Prints a Markdown table.
set -euo pipefail
REF=${1:?usage: markdup-bench.sh REF.fa OUTDIR [PAIRS] [THREADS]}
OUT=${2:?usage: markdup-bench.sh REF.fa OUTDIR [PAIRS] [THREADS]}
PAIRS=${3:-350000}
T=${4:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
SWMAP=${SWMAP:-$HERE/../target/release/swmap}
PICARD=$(command -v PicardCommandLine || command -v picard || { echo "Picard not found" >&2; exit 1; })
mkdir -p "$OUT"
cd "$OUT"

if [ ! -s ref.fa ]; then
    case "$REF" in *.gz) gzip -dc "$REF" > ref.fa ;; *) cp "$REF" ref.fa ;; esac
fi
[ -s ref.fa.bwt ] || bwa index ref.fa 2> bwa-index.log
[ -s ref.swi ] || "$SWMAP" index ref.fa 2> swmap-index.log
if [ ! -s dup_1.fq ]; then
    "$SWMAP" simulate --paired -n "$PAIRS" --seed 7 -o sim ref.fa
    python3 "$HERE/add-duplicates.py" sim_1.fq sim_2.fq dup_1.fq dup_2.fq --fraction 0.15 --optical 0.3
fi
RG='@RG\tID:run1\tSM:sample1\tLB:lib1\tPL:ILLUMINA'

# time_it NAME COMMAND...: wall s, user+sys s, peak RSS MiB (the largest of the pipeline's
# processes for a pipeline run under bash -c, as /usr/bin/time reports the children's maximum).
time_it() {
    local name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "time.$name" "$@"
    read -r wall user sys rss < "time.$name"
    printf '| %s | %.1f | %.1f | %.0f |\n' "$name" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)" >> table.md
}

: > table.md
time_it "swmap map --sort --markdup" "$SWMAP" map -t "$T" -R "$RG" --sort --markdup --markdup-metrics swmap.metrics \
    -o swmap.md.bam ref.fa dup_1.fq dup_2.fq
time_it "swmap map --sort --markdup -o x.cram" "$SWMAP" map -t "$T" -R "$RG" --sort --markdup -o swmap.md.cram ref.fa dup_1.fq dup_2.fq
time_it "bwa mem, samtools sort" bash -c "bwa mem -t $T -R '$RG' ref.fa dup_1.fq dup_2.fq 2>/dev/null | samtools sort -@ $T -o bwa.sorted.bam - 2>/dev/null"
time_it "picard MarkDuplicates (on bwa's)" bash -c "'$PICARD' MarkDuplicates I=bwa.sorted.bam O=bwa.md.bam M=bwa.metrics > /dev/null 2> picard.log"
time_it "swmap map, samtools fixmate, sort, markdup" bash -c "'$SWMAP' map -t $T -R '$RG' ref.fa dup_1.fq dup_2.fq 2>/dev/null | samtools fixmate -m -@ $T - - | samtools sort -@ $T - 2>/dev/null | samtools markdup -@ $T - samtools.md.bam"

# Picard on swmap's own sorted records: the reference for swmap's flags.
"$SWMAP" map -t "$T" -R "$RG" --sort -o swmap.sorted.bam ref.fa dup_1.fq dup_2.fq 2> /dev/null
"$PICARD" MarkDuplicates I=swmap.sorted.bam O=swmap.picard.bam M=swmap.picard.metrics > /dev/null 2>&1
samtools view swmap.md.bam | cut -f 1-4 > flags.swmap
samtools view swmap.picard.bam | cut -f 1-4 > flags.picard
records=$(wc -l < flags.swmap)
differ=$(paste flags.swmap flags.picard | awk -F'\t' '$2 != $6' | wc -l)
primary_differ=$(paste flags.swmap flags.picard | awk -F'\t' '$2 != $6 && int($6 / 256) % 2 == 0 && int($6 / 2048) % 2 == 0' | wc -l)
dups=$(samtools view -c -f 1024 swmap.md.bam)

echo "| pipeline | wall s | CPU s | peak MiB |"
echo "|---|---:|---:|---:|"
cat table.md
echo
echo "records: $records; swmap duplicates: $dups; flags differing from Picard's on the same records: $differ ($primary_differ primary)"
samtools view -C -T ref.fa -o samtools.cram swmap.md.bam
echo "CRAM: swmap's $(stat -c %s swmap.md.cram) bytes, samtools view -C of the same BAM $(stat -c %s samtools.cram) bytes; BAM $(stat -c %s swmap.md.bam) bytes"
if diff <(grep -v '^#' swmap.metrics) <(grep -v '^#' swmap.picard.metrics) > /dev/null; then
    echo "metrics file: identical to Picard's (apart from the command and date lines)"
else
    echo "metrics file differs from Picard's:"
    diff <(grep -v '^#' swmap.metrics) <(grep -v '^#' swmap.picard.metrics) | head -20
fi
