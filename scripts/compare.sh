#!/usr/bin/env bash
# swmap beside bwa mem, minimap2 -ax sr, bowtie2 and strobealign on the same simulated
# paired reads.
#
#   scripts/compare.sh REF.fa[.gz] THREADS PAIRS OUTDIR
#
# Simulates PAIRS 2x150 pairs with `swmap simulate` (error 0.01, SNP 0.001, indel 0.0002,
# insert 400 +- 50, seed $SEED), then for each tool builds the index and maps the pairs, each
# step under GNU `time -v` (wall time, peak RSS), and scores every SAM with
# `swmap eval --expected`. Prints one Markdown table (also OUTDIR/table.md), then the MAPQ
# curve of every tool: mapped and wrong reads at MAPQ >= 0, 1, 10, 20, 30, 40, 50, 60 (also
# OUTDIR/mapq.tsv); writes OUTDIR/compare.svg; logs and time reports are in OUTDIR/logs.
#
# Tools come from PATH unless an environment variable names them: SWMAP (default: this
# checkout's target/release/swmap if built), BWA, MINIMAP2, BOWTIE2, BOWTIE2_BUILD (default:
# bowtie2-build beside $BOWTIE2), STROBEALIGN, SAMTOOLS, GNU_TIME (default /usr/bin/time).
# That lets it run where the peers were unpacked from .deb files. A tool that is not there
# becomes a "not installed" row; one that fails becomes a "failed" row naming its log.
#
# INDEX_DIR=DIR keeps the plain reference and every tool's index in DIR, built on the first
# run and reused after (bwa's index of a 3 Gbp genome takes about an hour on 2 cores); the
# index columns then give the time of the run that built it. DIR is tied to REF (its path,
# size and modification time); another REF there is an error.
#
# REPEATS=BED (the repeat table scripts/repeat-genome.py writes beside its genome) adds a
# table of wrong reads by the repeat class at their true origin, per tool (also
# OUTDIR/wrong-by-class.tsv; the wrong reads themselves are in OUTDIR/wrong.tsv).
#
# swmap runs twice on one index: `--backend cpu`, and `--backend gpu` where a Vulkan adapter
# works. Its row is labelled from swmap's stderr backend line, so lavapipe (Mesa's software
# Vulkan, which runs the kernels on the CPU) is never mistaken for a GPU.
#
# READS=dwgsim simulates with Debian's dwgsim instead (-e 0.01 -E 0.01 -r 0.001 -y 0
# -d 400 -s 50 -z $SEED). REPEAT=N maps N times: after the first pass, N-1 more rounds run
# every tool's mapping again in turn (interleaved, so load on a shared machine falls on all
# alike), and the table gives the median wall time. SKIP="bowtie2 swmap-gpu" leaves those
# rows out (keys: swmap-cpu swmap-gpu bwa minimap2 bowtie2 strobealign).
set -euo pipefail

if [ $# -ne 4 ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
fi
ref=$1 threads=$2 pairs=$3 out=$4
SEED=${SEED:-11} READS=${READS:-swmap} REPEAT=${REPEAT:-1} SKIP=${SKIP:-}
INDEX_DIR=${INDEX_DIR:-} REPEATS=${REPEATS:-}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${SWMAP:-}" ]; then
    SWMAP=swmap
    [ -x "$here/target/release/swmap" ] && SWMAP=$here/target/release/swmap
fi
BWA=${BWA:-bwa} MINIMAP2=${MINIMAP2:-minimap2} BOWTIE2=${BOWTIE2:-bowtie2} SAMTOOLS=${SAMTOOLS:-samtools}
STROBEALIGN=${STROBEALIGN:-strobealign}
if [ -z "${BOWTIE2_BUILD:-}" ]; then
    BOWTIE2_BUILD=bowtie2-build
    # A path given for bowtie2 (e.g. unpacked from a .deb) has bowtie2-build beside it.
    case $BOWTIE2 in */*) BOWTIE2_BUILD=$(dirname "$BOWTIE2")/bowtie2-build ;; esac
fi
GNU_TIME=${GNU_TIME:-/usr/bin/time}

have() { command -v "$1" >/dev/null 2>&1; }
die() { echo "compare.sh: $*" >&2; exit 1; }
have "$SWMAP" || die "swmap not found (build it with cargo build --release, or set SWMAP)"
"$GNU_TIME" -v true >/dev/null 2>&1 || die "GNU time not found at $GNU_TIME (apt-get install time, or set GNU_TIME)"
[ -r "$ref" ] || die "cannot read the reference $ref"
[ -z "$REPEATS" ] || [ -r "$REPEATS" ] || die "cannot read REPEATS=$REPEATS"

mkdir -p "$out/logs" "$out/sam"
out=$(cd "$out" && pwd)
# idx: where the plain reference (idx/ref.fa) and the indexes go; the run's own folder unless
# INDEX_DIR keeps them for later runs.
if [ -n "$INDEX_DIR" ]; then
    mkdir -p "$INDEX_DIR/logs"
    idx=$(cd "$INDEX_DIR" && pwd)
else
    idx=$out/index
    mkdir -p "$idx/logs"
fi
started=$(date +%s)
reads=$((2 * pairs))

# timed NAME STDOUT CMD...: runs CMD under GNU time; its report goes to logs/NAME.time,
# stderr to logs/NAME.err, stdout to STDOUT. Returns CMD's status.
timed() {
    local name=$1 stdout=$2
    shift 2
    "$GNU_TIME" -v -o "$out/logs/$name.time" "$@" >"$stdout" 2>"$out/logs/$name.err"
}
# Wall seconds and peak RSS (MiB) from a GNU time report.
wall_s() {
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$1"
}
# version TOOL ARGS...: what TOOL says about its version (stdout and stderr), if it is there.
version() { if have "$1"; then "$@" 2>&1 || true; fi; }
rss_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

echo "compare.sh: plain FASTA and $pairs pairs simulated by $READS into $out" >&2
stamp="$(realpath "$ref") $(stat -L -c '%s %Y' "$ref")"
if [ -n "$INDEX_DIR" ] && [ -e "$idx/ref.stamp" ]; then
    [ "$(cat "$idx/ref.stamp")" = "$stamp" ] ||
        die "INDEX_DIR=$INDEX_DIR holds the indexes of $(cat "$idx/ref.stamp"), not of $stamp: use another INDEX_DIR"
else
    rm -f "$idx/ref.stamp" "$idx"/*.done
    zcat -f "$ref" >"$idx/ref.fa"
    echo "$stamp" >"$idx/ref.stamp"
fi
[ "$idx" = "$out/index" ] || ln -sfn "$idx/ref.fa" "$out/ref.fa"
[ "$idx" != "$out/index" ] || ln -sfn index/ref.fa "$out/ref.fa"
case $READS in
    swmap)
        "$SWMAP" simulate "$out/ref.fa" -n "$pairs" --paired -l 150 --insert 400 --insert-sd 50 \
            --error 0.01 --snp 0.001 --indel 0.0002 --seed "$SEED" -o "$out/reads" 2>"$out/logs/simulate.err"
        ;;
    dwgsim)
        have dwgsim || die "READS=dwgsim: dwgsim not found (apt-get install dwgsim)"
        dwgsim -N "$pairs" -1 150 -2 150 -e 0.01 -E 0.01 -r 0.001 -y 0 -d 400 -s 50 -z "$SEED" \
            "$out/ref.fa" "$out/dwgsim" >"$out/logs/simulate.err" 2>&1
        zcat "$out/dwgsim.bwa.read1.fastq.gz" >"$out/reads_1.fq"
        zcat "$out/dwgsim.bwa.read2.fastq.gz" >"$out/reads_2.fq"
        ;;
    *) die "READS must be swmap or dwgsim, not $READS" ;;
esac
r1=$out/reads_1.fq r2=$out/reads_2.fq
skipped() { case " $SKIP " in *" $1 "*) return 0 ;; esac; return 1; }
reruns=() # keys whose mapping runs again (REPEAT); the command is in logs/KEY.cmd

rows=()    # "label|index time file|map time file|sam" or "label|status text"
sams=()

# run_tool LABEL KEY TOOL INDEX_CMD -- MAP_CMD: index, then map to SAM on stdout (kept as
# sam/KEY.sam), unless TOOL is missing. The index is built once per idx: idx/KEY.done marks
# one that is complete, and idx/logs/KEY.index.time keeps the time of its build.
run_tool() {
    local label=$1 key=$2 tool=$3
    shift 3
    local index_cmd=() map_cmd=()
    while [ "$1" != -- ]; do index_cmd+=("$1"); shift; done
    shift
    map_cmd=("$@")
    skipped "$key" && return
    if ! have "$tool"; then
        rows+=("$label|not installed ($tool)")
        return
    fi
    if [ -e "$idx/$key.done" ]; then
        echo "compare.sh: $label: index in $idx, reused" >&2
        cp "$idx/logs/$key.index.time" "$out/logs/$key.index.time"
        touch "$out/logs/$key.index.reused"
    else
        echo "compare.sh: $label: index" >&2
        if ! timed "$key.index" /dev/null "${index_cmd[@]}"; then
            rows+=("$label|failed to index (see logs/$key.index.err)")
            return
        fi
        cp "$out/logs/$key.index.time" "$idx/logs/$key.index.time"
        touch "$idx/$key.done"
    fi
    echo "compare.sh: $label: map" >&2
    if ! timed "$key.map" "$out/sam/$key.sam" "${map_cmd[@]}"; then
        rows+=("$label|failed to map (see logs/$key.map.err)")
        return
    fi
    rows+=("$label|$out/logs/$key.index.time|$key|$key.sam")
    sams+=("$key.sam")
    printf '%q ' "${map_cmd[@]}" >"$out/logs/$key.cmd"
    reruns+=("$key")
}

swi=$idx/ref.swi
run_tool "swmap --backend cpu" swmap-cpu "$SWMAP" "$SWMAP" index "$idx/ref.fa" -o "$swi" -t "$threads" -- \
    "$SWMAP" map "$swi" "$r1" "$r2" -t "$threads" --backend cpu
# Same index as the CPU row: only the mapping runs again, and its time file is reused.
gpu_cmd=("$SWMAP" map "$swi" "$r1" "$r2" -t "$threads" --backend gpu)
if skipped swmap-gpu; then
    :
elif echo "compare.sh: swmap --backend gpu: map" >&2 && timed swmap-gpu.map "$out/sam/swmap-gpu.sam" "${gpu_cmd[@]}"; then
    line=$(grep -m1 'backend:' "$out/logs/swmap-gpu.map.err" || true)
    label="swmap --backend gpu"
    case $line in
        *", Cpu)"* | *", Cpu, "*) label="$label on lavapipe (software Vulkan on the CPU)" ;;
        *) label="$label on $(echo "$line" | sed -E 's/.*backend: gpu \((.*), Vulkan.*/\1/')" ;;
    esac
    rows+=("$label|$out/logs/swmap-cpu.index.time|swmap-gpu|swmap-gpu.sam")
    sams+=("swmap-gpu.sam")
    printf '%q ' "${gpu_cmd[@]}" >"$out/logs/swmap-gpu.cmd"
    reruns+=("swmap-gpu")
else
    why=$(grep -m1 'error:' "$out/logs/swmap-gpu.map.err" | sed 's/^swmap: error: GPU backend: //' | cut -c1-60)
    rows+=("swmap --backend gpu|did not run: $why... (logs/swmap-gpu.map.err)")
fi
run_tool "bwa mem" bwa "$BWA" "$BWA" index -p "$idx/bwa" "$idx/ref.fa" -- \
    "$BWA" mem -t "$threads" "$idx/bwa" "$r1" "$r2"
run_tool "minimap2 -ax sr" minimap2 "$MINIMAP2" "$MINIMAP2" -x sr -t "$threads" -d "$idx/ref.mmi" "$idx/ref.fa" -- \
    "$MINIMAP2" -ax sr -t "$threads" "$idx/ref.mmi" "$r1" "$r2"
bt2=$BOWTIE2
have "$BOWTIE2" && bt2=$BOWTIE2_BUILD # both are needed; the missing one is named
run_tool "bowtie2 -X 1000" bowtie2 "$bt2" "$BOWTIE2_BUILD" --threads "$threads" "$idx/ref.fa" "$idx/bt2" -- \
    "$BOWTIE2" -p "$threads" -X 1000 -x "$idx/bt2" -1 "$r1" -2 "$r2"
# strobealign writes its index beside the FASTA it is given (NAME.r150.sti for 150 bp reads),
# so it gets a link of its own in idx.
ln -sfn ref.fa "$idx/strobealign.fa"
run_tool "strobealign" strobealign "$STROBEALIGN" "$STROBEALIGN" -t "$threads" -r 150 -i "$idx/strobealign.fa" -- \
    "$STROBEALIGN" -t "$threads" -r 150 --use-index "$idx/strobealign.fa" "$r1" "$r2"

# Further rounds of every mapping, tools in turn; their SAMs are dropped.
for ((round = 2; round <= REPEAT; round++)); do
    for key in "${reruns[@]}"; do
        echo "compare.sh: $key: map, round $round of $REPEAT" >&2
        eval "timed $key.map.$round $(printf '%q' "$out/sam/rerun.sam") $(cat "$out/logs/$key.cmd")" ||
            die "$key failed in round $round (logs/$key.map.$round.err)"
    done
done
rm -f "$out/sam/rerun.sam"
# Median wall seconds and the largest peak RSS of KEY's mapping rounds.
median_wall() {
    for f in "$out/logs/$1.map.time" "$out/logs/$1".map.[0-9]*.time; do
        [ -e "$f" ] || continue # with REPEAT=1 the pattern of the later rounds matches nothing
        wall_s "$f"
        echo
    done |
        sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# samtools must read every record of every SAM (what the README promises for swmap's).
if have "$SAMTOOLS"; then
    for s in "${sams[@]}"; do
        n=$("$SAMTOOLS" view -c -F 0x900 "$out/sam/$s" 2>>"$out/logs/samtools.err" || echo failed)
        [ "$n" = "$reads" ] || echo "compare.sh: warning: samtools counts $n primary records in $s, expected $reads" >&2
    done
fi

# Accuracy of every SAM at once; labels are the SAM names, so run where they are. The wrong
# reads themselves are listed too where this swmap can (eval --wrong).
wrong_args=()
rm -f "$out/wrong.tsv"
"$SWMAP" eval --help 2>/dev/null | grep -q -- '--wrong' && wrong_args=(--wrong "$out/wrong.tsv")
if [ ${#sams[@]} -gt 0 ]; then
    (cd "$out/sam" && "$SWMAP" eval --expected "$reads" --tsv "$out/eval.tsv" --plot "$out/compare.svg" \
        "${wrong_args[@]}" "${sams[@]}" >"$out/eval.txt")
fi

# eval_cols SAM: mapped %, correct %, then correct % and error rate at MAPQ >= 20 and >= 60.
eval_cols() {
    awk -F'\t' -v f="$1" '
        $1 == f { m[$2] = $3; w[$2] = $4; n = $7 }
        function pct(x) { return sprintf("%.2f", 100 * x / n) }
        function err(q) { return m[q] > 0 ? sprintf("%.1e", w[q] / m[q]) : "-" }
        END { printf "%s | %s | %s | %s | %s | %s", pct(m[0]), pct(m[0] - w[0]), pct(m[20] - w[20]), err(20), pct(m[60] - w[60]), err(60) }
    ' "$out/eval.tsv"
}

{
    echo "| tool | index (s) | map (s, median of $REPEAT) | reads/s (map) | index RSS (MiB) | map RSS (MiB) | mapped % | correct % | correct % MAPQ≥20 | error rate MAPQ≥20 | correct % MAPQ≥60 | error rate MAPQ≥60 |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for row in "${rows[@]}"; do
        IFS='|' read -r label a b sam <<<"$row"
        if [ -z "${b:-}" ]; then
            echo "| $label | $a | | | | | | | | | | |"
            continue
        fi
        map=$(median_wall "$b")
        rate=$(awk -v r="$reads" -v s="$map" 'BEGIN { printf "%.0f", (s > 0 ? r / s : 0) }')
        index=$(wall_s "$a")
        [ ! -e "${a%.time}.reused" ] || index="$index (reused)"
        echo "| $label | $index | $map | $rate | $(rss_mib "$a") | $(rss_mib "$out/logs/$b.map.time") | $(eval_cols "$sam") |"
    done
} | tee "$out/table.md"
# swmap's speed against minimap2's, from the medians.
if [ -e "$out/logs/swmap-cpu.cmd" ] && [ -e "$out/logs/minimap2.cmd" ]; then
    awk -v a="$(median_wall swmap-cpu)" -v b="$(median_wall minimap2)" \
        'BEGIN { printf "\nswmap --backend cpu reads/s over minimap2 -ax sr reads/s: %.2fx\n", b / a }' | tee -a "$out/table.md"
fi

# The MAPQ curve: reads mapped, and wrong, at MAPQ >= each threshold. eval.tsv has a row for
# each MAPQ some read has (and always 0, 20 and 60), cumulative from 60 down, so the figure at
# a threshold is that of the first row at or above it.
thresholds="0 1 10 20 30 40 50 60"
# mapq_curve SAM LABEL: TSV rows of mapq.tsv for one SAM.
mapq_curve() {
    awk -F'\t' -v OFS='\t' -v f="$1" -v label="$2" -v thresholds="$thresholds" '
        $1 == f { m[$2 + 0] = $3; w[$2 + 0] = $4; n = $7; has[$2 + 0] = 1 }
        END {
            k = split(thresholds, t, " ")
            for (i = 1; i <= k; i++) {
                for (q = t[i]; q < 60 && !(q in has); q++) {}
                printf "%s\t%s\t%d\t%d\t%d\t%.4f\t%.3e\n", label, t[i], n, m[q], w[q], 100 * m[q] / n, (m[q] > 0 ? w[q] / m[q] : 0)
            }
        }' "$out/eval.tsv"
}
echo -e "tool\tmin_mapq\treads\tmapped\twrong\tmapped_pct\terror_rate" >"$out/mapq.tsv"
for row in "${rows[@]}"; do
    IFS='|' read -r label a b sam <<<"$row"
    [ -n "${b:-}" ] && mapq_curve "$sam" "$label" >>"$out/mapq.tsv"
done
{
    echo
    echo "MAPQ curve: % of reads mapped / wrong reads, at MAPQ ≥ each threshold (of $reads reads)"
    echo
    echo "| tool | $(echo "$thresholds" | sed 's/\([0-9][0-9]*\)/≥\1/g; s/ / | /g') |"
    echo "| --- |$(for q in $thresholds; do printf ' ---: |'; done)"
    awk -F'\t' 'NR > 1 {
            if (!($1 in cells)) order[++n] = $1
            cells[$1] = cells[$1] sprintf(" %.2f%% / %d |", $6, $5)
        }
        END { for (i = 1; i <= n; i++) print "| " order[i] " |" cells[order[i]] }' "$out/mapq.tsv"
} | tee -a "$out/table.md"

# Where the wrong reads truly came from, by repeat class.
if [ -n "$REPEATS" ]; then
    if [ -s "$out/wrong.tsv" ]; then
        labels=()
        for row in "${rows[@]}"; do
            IFS='|' read -r label a b sam <<<"$row"
            [ -n "${b:-}" ] && labels+=(--label "$sam=$label")
        done
        echo | tee -a "$out/table.md"
        python3 "$here/scripts/attribute-wrong.py" --bed "$REPEATS" --wrong "$out/wrong.tsv" --reads "$r1" "$r2" \
            --tsv "$out/wrong-by-class.tsv" "${labels[@]}" | tee -a "$out/table.md"
    else
        echo "compare.sh: REPEATS given, but no list of wrong reads (this swmap's eval has no --wrong)" >&2
    fi
fi


{
    echo
    echo "$(basename "$ref"): $pairs pairs (2x150, $READS, seed $SEED), $threads threads, map times median of $REPEAT interleaved rounds, $(date -u +%Y-%m-%d)," \
        "$(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p')), $(free -m | awk '/^Mem:/ { printf "%.0f", $2 / 1024 }') GiB"
    bwa_v=$(version "$BWA" | sed -n 's/^Version: //p')
    bt2_v=$(version "$BOWTIE2" --version | awk 'NR == 1 { print $NF }')
    sam_v=$(version "$SAMTOOLS" --version | awk 'NR == 1 { print $2 }')
    sa_v=$(version "$STROBEALIGN" --version | awk 'NR == 1 { print $NF }')
    echo "versions: swmap $(version "$SWMAP" --version | awk '{ print $2 }'); bwa ${bwa_v:-not installed};" \
        "minimap2 $(version "$MINIMAP2" --version | grep . || echo not installed); bowtie2 ${bt2_v:-not installed};" \
        "strobealign ${sa_v:-not installed}; samtools ${sam_v:-not installed}"
    echo "total $(($(date +%s) - started)) s; plot: $out/compare.svg"
    echo
} | tee -a "$out/table.md"
