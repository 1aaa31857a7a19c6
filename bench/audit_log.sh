#!/usr/bin/env bash
# Audit-log benchmark (issue 13): `kubeharden audit-log analyze` over generated audit logs.
# Target: >= 100 MB/s on 1 GB, peak RSS independent of the log's size.
#
# Usage: bench/audit_log.sh       (from anywhere)
# Env:   SIZES="100M 1G"   plain logs to generate and measure (K, M, G: powers of 10)
#        GZIP=1            also measure a gzip copy of the largest size
#        OMIT=1            also measure the largest size logged with `omitStages: [RequestReceived]`
#                          (every line a ResponseComplete event to parse: the slowest realistic mix)
#        RUNS=3            runs per measurement (the fastest is reported, RSS is the largest)
#        TARGET_MBS=100    throughput target for the largest size
#        DIR=...           where the logs go (default: a new directory under ${TMPDIR:-/tmp});
#                          existing files of the same name are reused
#        KEEP=1            keep the generated logs (their directory is printed)
#        BUILD=0           measure target/release/kubeharden as it is
#
# The logs come from bench/audit_log_gen.py (deterministic, seed 1): realistic audit.k8s.io/v1
# Events of a 20-node kubeadm cluster (see its docstring). Never written inside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZES=${SIZES:-"100M 1G"}
RUNS=${RUNS:-3}
TARGET_MBS=${TARGET_MBS:-100}
KH=$ROOT/target/release/kubeharden
if [ -n "${DIR:-}" ]; then
  mkdir -p "$DIR"
  WORK=$DIR
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeharden-audit-bench.XXXXXX")
fi
cleanup() {
  if [ "${KEEP:-0}" = 1 ] || [ -n "${DIR:-}" ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ "${BUILD:-1}" = 1 ]; then
  echo "== build (release)"
  cargo build --release --quiet -p kubeharden
fi
echo "binary: $KH ($(nproc) cores)"

echo "== generate"
LAST=""
for size in $SIZES; do
  f=$WORK/audit-$size.log
  [ -s "$f" ] || python3 "$ROOT/bench/audit_log_gen.py" --size "$size" --out "$f"
  LAST=$f
done
FILES=()
for size in $SIZES; do FILES+=("$WORK/audit-$size.log"); done
if [ "${GZIP:-1}" = 1 ]; then
  [ -s "$LAST.gz" ] || gzip -6 -c "$LAST" >"$LAST.gz"
  FILES+=("$LAST.gz")
fi
if [ "${OMIT:-1}" = 1 ]; then
  big=${SIZES##* }
  f=$WORK/audit-$big-omit-received.log
  [ -s "$f" ] || python3 "$ROOT/bench/audit_log_gen.py" --size "$big" --omit-stages RequestReceived --out "$f"
  FILES+=("$f")
fi
ls -l "${FILES[@]}"

# measure FILE: prints wall time (fastest of RUNS), CPU time, throughput over the uncompressed
# bytes, events, findings and the largest peak RSS.
measure() {
  local f=$1 best="" cpu="" rss_max=0 i wall user sys rss
  for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$KH" audit-log analyze "$f" --format json \
      >"$WORK/out.json" 2>"$WORK/err" || true
    read -r wall user sys rss < <(tail -n 1 "$WORK/time")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall
      cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    fi
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  done
  local bytes events findings diags
  read -r bytes events findings diags < <(jq -r '[.summary.bytes, .summary.evidence["audit-log"], (.findings | length), (.diagnostics | length)] | @tsv' "$WORK/out.json")
  awk -v l="$(basename "$f")" -v w="$best" -v c="$cpu" -v b="$bytes" -v e="$events" -v f="$findings" -v d="$diags" -v r="$rss_max" -v n="$RUNS" 'BEGIN {
    w2 = (w > 0 ? w : 0.001)
    printf "%-30s %6.2f s (best of %d, cpu %6.2f s)  %7.1f MB  %6.1f MB/s  %7d events  %3d findings  %d diagnostics  peak RSS %5.1f MB\n",
      l, w, n, c, b / 1e6, b / 1e6 / w2, e, f, d, r / 1024 }'
  LAST_MBS=$(awk -v w="$best" -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 / (w > 0 ? w : 0.001) }')
  LAST_RSS_KB=$rss_max
}

echo "== audit-log analyze"
FIRST_RSS=""
for f in "${FILES[@]}"; do
  measure "$f"
  [ -n "$FIRST_RSS" ] || FIRST_RSS=$LAST_RSS_KB
  case $f in "$LAST") BIG_MBS=$LAST_MBS; BIG_RSS=$LAST_RSS_KB ;; esac
done
if [ "$BIG_MBS" -ge "$TARGET_MBS" ]; then verdict=met; else verdict=MISSED; fi
echo "throughput target: $BIG_MBS MB/s on $(basename "$LAST"), target >= $TARGET_MBS MB/s: $verdict"
# Independent of size: the largest log may not take more than 16 MB or 25% above the smallest.
if [ "$BIG_RSS" -le $((FIRST_RSS * 5 / 4 + 16384)) ]; then verdict=met; else verdict=MISSED; fi
echo "memory: peak RSS $((FIRST_RSS / 1024)) MB on the smallest log, $((BIG_RSS / 1024)) MB on the largest: $verdict"
