#!/usr/bin/env bash
# swmap on a GPU server (e.g. 16 cores and one H100/H200), in one run: kernel GCUPS of the GPU
# and CPU backends (results compared), a sweep of the GPU kernel's speed-only knobs, end-to-end
# reads/s of both backends at THREADS and THREADS/2 (SAM outputs compared), sorted BAM output
# (--sort), every GPU (--gpus all) and the CPU beside them (--cpu-share 0.2 and auto), a
# --stats line of each backend (CPU us per read per stage: what the GPU run leaves to the CPU
# is its "outside the kernels"), the GPU run's accuracy, and minimap2, strobealign
# and bwa mem on the same simulated chr20 reads. Every output is written to files under $WORK
# (never to a device); the results go to one TSV, $OUT/summary.tsv, printed at the end.
#
# Prepare from the project root (builds the binary and fills .gpubench/, which git ignores;
# the inputs it takes are listed in its header):
#   CHR20=/path/to/chr20.fa.gz bash scripts/prepare-gpubench.sh
# then copy .gpubench/ to the GPU server and run there, from the directory holding it:
#   bash .gpubench/gpubench.sh
# Settings: PAIRS=1000000 THREADS=16 BENCH_PAIRS=1000000 OUT=/tmp/gpubench-out WORK=/tmp/gb;
# G=.gpubench (the prepared folder), SWMAP (default $G/swmap), CHR20 (default $G/chr20.fa.gz),
# SKIP_PEERS=1 (no minimap2, strobealign or bwa), SKIP_BWA=1 (no bwa), BUDGET=540 (seconds:
# past it, the sweeps and the other ways to run, steps 7 and 8, are skipped, each with a
# "skipped" row, so that the run ends with its summary inside a 10-minute limit). A quick
# check on any machine with a Vulkan driver (Mesa's lavapipe included):
#   PAIRS=20000 THREADS=2 BENCH_PAIRS=5000 SKIP_BWA=1 G=.gpubench bash scripts/gpubench.sh
# A missing input ends the run at once with a one-line error; a run that fails, or outputs that
# differ, is a FAILED row and the exit status is 1: no figure and no "identical" is ever printed
# for a run that did not complete.
set -u
G=${G:-.gpubench}; OUT=${OUT:-/tmp/gpubench-out}; W=${WORK:-/tmp/gb}
PAIRS=${PAIRS:-1000000}; THREADS=${THREADS:-16}; BENCH_PAIRS=${BENCH_PAIRS:-1000000}; BUDGET=${BUDGET:-540}
HALF=$(( THREADS / 2 > 0 ? THREADS / 2 : 1 ))
mkdir -p "$OUT" "$W"; SUM="$OUT/summary.tsv"; : > "$SUM"; : > "$OUT/log.txt"
T0=$(date +%s); el() { echo $(( $(date +%s) - T0 )); }
log() { echo "[$(el)s] $*" | tee -a "$OUT/log.txt"; }
row() { printf '%s\n' "$*" >> "$SUM"; }
# A step whose failure leaves nothing to measure ends the run, non-zero; a failed measurement
# is a FAILED row and makes the exit status non-zero, never a figure or an "identical".
FAILED=0
die() { log "ERROR: $*"; echo "gpubench.sh: $*" >&2; exit 1; }
fail() { FAILED=1; log "FAILED: $*"; row "$*"; }
SW=$(readlink -f "${SWMAP:-$G/swmap}"); chmod +x "$SW" 2>/dev/null
export NODEVICE_SELECT=1 TIMEFORMAT='%R %U %S'

# ---- 1. machine, Vulkan loader and driver ---------------------------------------------------------
log "host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/{print $2}') GiB; swmap $("$SW" --version)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total --format=csv,noheader | tee -a "$OUT/log.txt"
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$G"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig; log "unpacked the Vulkan loader"
fi
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$j" ] && { export VK_DRIVER_FILES=$j; break; }; done
fi
log "VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"

# ---- 2. peers from Debian packages ----------------------------------------------------------------
mkdir -p "$W/tools/usr/bin"; [ -n "${SKIP_PEERS:-}" ] || for f in "$G"/tools/*.deb; do dpkg -x "$f" "$W/tools"; done
[ -n "${SKIP_PEERS:-}" ] || [ ! -f "$G/tools/strobealign" ] || cp "$G/tools/strobealign" "$W/tools/usr/bin/"
export PATH="$W/tools/usr/bin:$PATH"
MM=$(command -v minimap2 || true); BWA=$(command -v bwa || true); SA=$(command -v strobealign || true)
[ -n "${SKIP_PEERS:-}" ] && { MM=; BWA=; SA=; }
log "minimap2: ${MM:-missing} ($([ -n "$MM" ] && "$MM" --version 2>&1 | head -1)); strobealign: ${SA:-missing} ($([ -n "$SA" ] && "$SA" --version 2>&1 | head -1)); bwa: ${BWA:-missing}"

# ---- 3. data: chr20, simulated 2x150 pairs, indexes (bwa's in the background) ---------------------
# chr20: CHR20 if set, else the copy scripts/prepare-gpubench.sh put in $G.
CHR20=${CHR20:-$G/chr20.fa.gz}
[ -r "$CHR20" ] || die "no chr20 at $CHR20: run scripts/prepare-gpubench.sh first, or set CHR20"
zcat "$CHR20" > "$W/chr20.fa" && [ -s "$W/chr20.fa" ] || die "cannot unpack $CHR20"
( time "$SW" simulate "$W/chr20.fa" -n "$PAIRS" --paired --seed 11 -o "$W/r" ) > "$OUT/simulate.txt" 2>&1 ||
  die "swmap simulate failed: $(tail -3 "$OUT/simulate.txt" | tr '\n' ' ')"
log "simulated $PAIRS pairs: $(tail -1 "$OUT/simulate.txt") (wall user sys)"
READS=$((2 * PAIRS))
( time "$SW" index "$W/chr20.fa" -o "$W/chr20.swi" -t "$THREADS" ) > "$OUT/swindex.txt" 2>&1 ||
  die "swmap index failed: $(tail -3 "$OUT/swindex.txt" | tr '\n' ' ')"
[ -n "$MM" ] && ( time "$MM" -x sr -t "$THREADS" -d "$W/chr20.mmi" "$W/chr20.fa" ) > "$OUT/mmindex.txt" 2>&1
# strobealign writes its index (for 150-base reads) beside the FASTA: chr20.fa.r150.sti.
[ -n "$SA" ] && ( time "$SA" -t "$THREADS" -r 150 -i "$W/chr20.fa" ) > "$OUT/saindex.txt" 2>&1
if [ -n "$BWA" ] && [ -z "${SKIP_BWA:-}" ]; then
  ( ( time "$BWA" index -p "$W/bwa" "$W/chr20.fa" ) > "$OUT/bwaindex.txt" 2>&1; touch "$W/bwa.done" ) &
fi
log "indexes: swmap $(tail -1 "$OUT/swindex.txt"), minimap2 $(tail -1 "$OUT/mmindex.txt" 2>/dev/null), strobealign $(tail -1 "$OUT/saindex.txt" 2>/dev/null)"

# ---- helpers: one kernel measurement, one mapping run, one SAM comparison, one peer ----------
# kbench LABEL BACKEND WINDOW REPEATS [VAR=VALUE...]: `swmap bench` on 150 x WINDOW tasks with
# the knobs given; a row with the GPU kernel's GCUPS (and, for BACKEND all, the CPU's and the
# comparison, which must say identical).
# past_budget NAME: true (with a "skipped" row) when an optional step (OPTIONAL=1) would start
# past BUDGET seconds.
OPTIONAL=0
past_budget() {
  [ "$OPTIONAL" = 1 ] && [ "$(el)" -ge "$BUDGET" ] || return 1
  log "skipped, past ${BUDGET}s: $1"; row "$1	skipped: past the ${BUDGET} s budget"
}
kbench() {
  local label=$1 be=$2 win=$3 reps=$4 b rc; shift 4
  past_budget "kernel $label" && return
  b="$OUT/bench-${label// /-}.txt"
  env "$@" timeout 240 "$SW" bench --backend "$be" --pairs "$BENCH_PAIRS" --window "$win" --repeats "$reps" -t "$THREADS" > "$b" 2>&1
  rc=$?
  if [ $rc -ne 0 ] || { [ "$be" = all ] && ! grep -q 'identical: *yes' "$b"; }; then
    fail "kernel $label	FAILED (exit $rc, or GPU and CPU results differ): $b"
    return
  fi
  log "bench $label: $(grep -E 'adapter|kernel:|gpu kernel|gpu total|^cpu:|identical' "$b" | tr '\n' ' ')"
  local cpu=""
  [ "$be" = all ] && cpu="	cpu $(grep -E '^cpu:' "$b" | grep -oE '[0-9.]+ GCUPS' | head -1)	identical: yes"
  row "kernel $label	$(grep -oE 'gpu kernel: *[0-9.]+' "$b" | grep -oE '[0-9.]+$') GCUPS kernel	$(grep -oE 'gpu total: *[0-9.]+' "$b" | grep -oE '[0-9.]+$') GCUPS with transfers$cpu"
}
per_read() { # wall "user sys" -> the row's tail
  awk -v r=$READS -v w="$1" -v c="$2" 'BEGIN{split(c,a," "); printf "%.0f reads/s\twall %s s\tcpu %s+%s s\t%.1f us cpu/read", r/w, w, a[1], a[2], 1e6*(a[1]+a[2])/r}'
}
# run_map NAME BACKEND THREADS OUTPUT [OPTIONS...]: one timed mapping run, with the
# VAR=VALUE settings in RUN_ENV (none unless map_same sets them).
RUN_ENV=()
run_map() {
  local name=$1 be=$2 t=$3 o=$4 tm rc; shift 4
  past_budget "$name" && return
  rm -f "$o"  # never compare what an earlier run left
  tm=$( { time env "${RUN_ENV[@]}" "$SW" map "$W/chr20.swi" "$W/r_1.fq" "$W/r_2.fq" --backend "$be" -t "$t" -o "$o" "$@" 2> "$OUT/$name.err"; } 2>&1 )
  rc=$?
  if [ $rc -ne 0 ]; then
    fail "$name	FAILED (exit $rc): $(grep -v '^\[swmap\]' "$OUT/$name.err" | tail -2 | tr '\n' ' ')"
    return
  fi
  log "$name: wall/user/sys $tm; $(grep -E 'backend|reads,|CPU us|busy|cells by engine' "$OUT/$name.err" | tr '\n' ' ')"
  row "$name	$(per_read "${tm%% *}" "${tm#* }")"
}
# same_sam A B: "identical" or "DIFFERENT" (records without @PG), or why they were not compared.
same_sam() {
  if [ ! -s "$1" ] || [ ! -s "$2" ]; then echo "not compared: $([ -s "$1" ] || echo "$1 ")$([ -s "$2" ] || echo "$2 ")missing"
  elif cmp -s <(grep -v '^@PG' "$1") <(grep -v '^@PG' "$2"); then echo identical
  else echo DIFFERENT; fi
}
# map_same NAME THREADS [VAR=VALUE...] -- [OPTIONS...]: a GPU mapping run with the knobs and
# options given, whose SAM must equal the plain GPU run's ($W/gpu.sam).
map_same() {
  local name=$1 t=$2 same; shift 2
  past_budget "$name" && return
  RUN_ENV=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do RUN_ENV+=("$1"); shift; done
  shift
  run_map "$name" gpu "$t" "$W/$name.sam" "$@"
  RUN_ENV=()
  same=$(same_sam "$W/gpu.sam" "$W/$name.sam")
  [ "$same" = identical ] || fail "SAM $name vs gpu	$same"
  rm -f "$W/$name.sam"
}
# ratio A B: reads/s of row A over row B's, as "N.NNx", or "n/a" when either is missing.
ratio() {
  awk -F'\t' -v a="$1" -v b="$2" '$1==a {x=$2+0} $1==b {y=$2+0} END {if (x>0 && y>0) printf "%.2fx", x/y; else printf "n/a"}' "$SUM"
}
other() { # name command...
  local name=$1 tm; shift
  past_budget "$name" && return
  tm=$( { time "$@" > "$W/$name.sam" 2> "$OUT/$name.err"; } 2>&1 )
  log "$name: wall/user/sys $tm"
  row "$name	$(per_read "${tm%% *}" "${tm#* }")"
  rm -f "$W/$name.sam"
}

# The steps run in order of what they decide, so that a run cut short by a time limit still
# has the headline figures: kernel speed, then swmap's GPU and CPU backends and the other
# aligners end to end, then the tuning sweeps and the other ways to run.

# ---- 4. kernel throughput: warm the GPU first (a fresh card idles at a low clock) ----------------
timeout 120 "$SW" bench --backend gpu --pairs "$BENCH_PAIRS" --window 190 --repeats 2 > "$OUT/bench-warmup.txt" 2>&1
log "warm-up rc=$? $(grep -E 'adapter|gpu kernel' "$OUT/bench-warmup.txt" | tr '\n' ' ')"
command -v nvidia-smi >/dev/null && log "SM clock after warm-up: $(nvidia-smi --query-gpu=clocks.sm --format=csv,noheader)"
kbench "150x190" all 190 3
kbench "150x300" all 300 3

# ---- 5. end to end: reads/s, index load included ------------------------------------------------
if command -v nvidia-smi >/dev/null; then nvidia-smi dmon -s u -d 1 > "$OUT/dmon-gpu-map.txt" 2>&1 & DMON=$!; fi
# --pipeline-busy: each pipeline thread's busy share of the wall time (the stage near 100%
# bounds the run; output unchanged, a test checks it).
run_map "swmap-gpu-t$THREADS" gpu "$THREADS" "$W/gpu.sam" --pipeline-busy
[ -n "${DMON:-}" ] && kill "$DMON" 2>/dev/null
run_map "swmap-cpu-t$THREADS" cpu "$THREADS" "$W/cpu.sam" --pipeline-busy
same=$(same_sam "$W/gpu.sam" "$W/cpu.sam")
log "gpu vs cpu SAM (without @PG): $same"; row "SAM gpu vs cpu	$same"
[ "$same" = identical ] || FAILED=1
rm -f "$W/cpu.sam"
[ -f "$OUT/dmon-gpu-map.txt" ] && log "GPU SM utilisation during the gpu map (%): $(awk '$1 ~ /^[0-9]+$/ {printf "%s ", $2}' "$OUT/dmon-gpu-map.txt")"

# ---- 6. the other aligners on the same reads (index load included) ------------------------------
[ -n "$MM" ] && other "minimap2-t$THREADS" "$MM" -ax sr -t "$THREADS" "$W/chr20.mmi" "$W/r_1.fq" "$W/r_2.fq"
[ -n "$SA" ] && [ -f "$W/chr20.fa.r150.sti" ] && other "strobealign-t$THREADS" "$SA" -t "$THREADS" -r 150 --use-index "$W/chr20.fa" "$W/r_1.fq" "$W/r_2.fq"
if [ -n "$BWA" ] && [ -z "${SKIP_BWA:-}" ]; then
  for _ in $(seq 1 120); do [ -f "$W/bwa.done" ] && break; sleep 1; done
  log "bwa index: $(tail -1 "$OUT/bwaindex.txt" 2>/dev/null)"
  [ -f "$W/bwa.done" ] && other "bwa-mem-t$THREADS" "$BWA" mem -t "$THREADS" "$W/bwa" "$W/r_1.fq" "$W/r_2.fq"
fi

g="swmap-gpu-t$THREADS"
row "speed-up of $g	over swmap-cpu-t$THREADS $(ratio "$g" "swmap-cpu-t$THREADS")	over minimap2 $(ratio "$g" "minimap2-t$THREADS")	over strobealign $(ratio "$g" "strobealign-t$THREADS")	over bwa mem $(ratio "$g" "bwa-mem-t$THREADS")"

# ---- 7. tuning sweeps (speed only, results never change) ---------------------------------------
OPTIONAL=1
# SWMAP_GPU_INTERLEAVE sets how many tasks' traceback words are interleaved (default: the
# adapter's subgroup size, 32 on NVIDIA); 1 is each task's words contiguous.
for il in 1 8 32 64; do kbench "150x190 interleave $il" gpu 190 2 SWMAP_GPU_INTERLEAVE=$il; done
# DP strip width (SWMAP_GPU_STRIP, default 8): 16 and 32 halve and quarter the boundary column's
# loads and stores per cell (private arrays, local memory on NVIDIA) at more registers, and
# compute more cells outside a narrow band (lavapipe's figures are in docs/benchmarks.md).
# --backend all, so each width's results are checked against the CPU's.
for strip in 16 32; do
  for win in 190 300; do kbench "150x$win strip $strip" all $win 2 SWMAP_GPU_STRIP=$strip; done
done
# Kernel variants (SWMAP_GPU_NARROW: H and E of the boundary column as 16-bit halves of one
# word, half its local-memory traffic, a few shifts more per row; SWMAP_GPU_SUBGROUPS: one
# atomic per subgroup to reserve CIGAR room), each at strips of 8 and 32, results checked
# against the CPU's. The plain kernel stays the default until these figures favour a variant.
for v in "1 0" "0 1" "1 1"; do
  for strip in 8 32; do
    kbench "150x300 narrow ${v% *} subgroups ${v#* } strip $strip" all 300 2 \
      SWMAP_GPU_NARROW="${v% *}" SWMAP_GPU_SUBGROUPS="${v#* }" SWMAP_GPU_STRIP=$strip
  done
done

# ---- 8. other ways to run, each SAM compared with the plain GPU run's ---------------------------
run_map "swmap-gpu-t$HALF" gpu "$HALF" "$W/gpu-half.sam"
run_map "swmap-cpu-t$HALF" cpu "$HALF" "$W/cpu-half.sam"
rm -f "$W/gpu-half.sam" "$W/cpu-half.sam"
[ -n "$MM" ] && other "minimap2-t$HALF" "$MM" -ax sr -t "$HALF" "$W/chr20.mmi" "$W/r_1.fq" "$W/r_2.fq"
# Larger chunks and dispatches than the defaults (200,000 reads, 131,072 tasks): does the GPU
# gain from them?
map_same "swmap-gpu-t$THREADS-chunk200k" "$THREADS" SWMAP_CHUNK_READS=200000 SWMAP_GPU_DISPATCH_TASKS=131072 --
map_same "swmap-gpu-t$THREADS-strip16" "$THREADS" SWMAP_GPU_STRIP=16 --
map_same "swmap-gpu-t$THREADS-narrow-subgroups" "$THREADS" SWMAP_GPU_NARROW=1 SWMAP_GPU_SUBGROUPS=1 --
# Every GPU of the box, and the CPU beside the GPU(s): a fixed fifth of the cells, then shares
# by measured speed. The last stderr line of each says how the cells were divided.
ngpu=$(command -v nvidia-smi >/dev/null && nvidia-smi -L | grep -c '^GPU' || echo 1)
for split in "--gpus all" "--cpu-share 0.2" "--cpu-share auto" "--gpus all --cpu-share auto"; do
  # One GPU: --gpus all is the run above.
  [ "$ngpu" -le 1 ] && [ "$split" = "--gpus all" ] && continue
  tag=$(echo "$split" | tr -d ' -' | tr '.' 'p')
  # shellcheck disable=SC2086
  map_same "swmap-gpu-t$THREADS-$tag" "$THREADS" -- $split --pipeline-busy
done
run_map "swmap-gpu-t$THREADS-sorted-bam" gpu "$THREADS" "$W/gpu.sorted.bam" --sort
run_map "swmap-cpu-t$THREADS-stats" cpu "$THREADS" "$W/stats.sam" --stats
run_map "swmap-gpu-t$THREADS-stats" gpu "$THREADS" "$W/stats.sam" --stats
rm -f "$W/stats.sam" "$W/gpu.sorted.bam" "$W/gpu.sorted.bam.bai"
# Accuracy of the GPU run against the simulated truth, for the record.
"$SW" eval --expected "$READS" --tsv "$OUT/eval.tsv" "$W/gpu.sam" > "$OUT/eval.txt" 2>&1 &&
  row "accuracy (gpu run)	$(awk -F'\t' '$2==20 {printf "correct at MAPQ>=20: %.2f%%, wrong %d", 100*($3-$4)/$7, $4}' "$OUT/eval.tsv")"

row "fastest kernel setting	$(awk -F'\t' '$1 ~ /^kernel / && $2+0 > best {best=$2+0; at=$1} END {printf "%s GCUPS: %s", best, at}' "$SUM")"

echo; echo "== summary ($READS reads = $PAIRS pairs of 2x150 from chr20; $(el) s in all)"
{ column -t -s $'\t' "$SUM" 2>/dev/null || tr '\t' '|' < "$SUM"; }
[ "$FAILED" = 0 ] || { echo "gpubench.sh: some runs failed or differed (FAILED rows above)" >&2; exit 1; }
