#!/usr/bin/env bash
# Hostile inputs, end to end: wall time and peak RSS of the release binary (`/usr/bin/time -f
# '%e s %M KB'`) on inputs built to be slow or large (issue "Hold up against an adversary"). Each
# line also gives the input's size and what came of it (objects, findings, error diagnostics).
#
# Usage: bench/adversary.sh          (from anywhere; builds the release binary first)
# Env:   KH=path/to/kubeharden       a binary to measure instead (no build), e.g. an older one
#        FORMATS="json sarif …"      the formats of the 10 MiB case (default: all six)
#        KEEP=1                      keep the generated inputs (their directory is printed)
#
# What each case should show (docs/robustness.md, "Limits"):
# - 80,000 labels, 36,000 annotations: linear time (well under a second; 10 s and 14 s when the
#   effective entries of a mapping were computed by a scan per key);
# - 80,000 quoted `"<<"` keys (ordinary keys) and one merge: linear time (6 s when each `<<` key
#   was looked up in a list of the quoted ones);
# - 1.9 million one-character items in a 3.8 MB document (the tree would take 167 MB): refused by
#   the memory limit (16 bytes per byte of the input plus 32 MiB) at the line of the list, in
#   bounded memory (was 789 MB, then 401 MB with 64-byte nodes and the scanner's spare capacity);
# - a 62 MB file of 17 such documents: the documents that fit in the input's limit are read, the
#   others refused; peak ~1.1 GB, bounded by the limit (was 6.6 GB);
# - 10 MiB of tiny Pods (1 million findings) in every format: the report is written as it is
#   rendered, so every format peaks at what the findings take (~0.9 GB); SARIF took 19 GB,
#   PolicyReport 7 GB, HTML 5.4 GB, and JUnit 254 s (a search per finding).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${KH:-}" ]; then
  cargo build --release --quiet -p kubeharden
  KH=$(pwd)/target/release/kubeharden
fi
FORMATS=${FORMATS:-json sarif junit markdown policyreport html}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeharden-adversary.XXXXXX")
cleanup() { if [ "${KEEP:-0}" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

python3 - "$WORK" <<'PY'
import os, sys
d = sys.argv[1]
pod_tail = 'spec: {containers: [{name: c, image: "ghcr.io/example/c:1.0", securityContext: {privileged: true}}]}\n'
def many(name, key, n, fmt):
    with open(os.path.join(d, name), "w") as f:
        f.write(f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: many\n  namespace: ops\n  {key}:\n")
        for i in range(n):
            f.write(fmt.format(i))
        f.write(pod_tail)
many("labels.yaml", "labels", 80000, "    l{}: v\n")
many("annotations.yaml", "annotations", 36000, "    example.com/a{}: v\n")
doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: ops}\nextra: ["
       + ",".join(["1"] * 1900000) + "]\n")
with open(os.path.join(d, "seq.yaml"), "w") as f:
    f.write(doc)
with open(os.path.join(d, "seq-62mb.yaml"), "w") as f:
    n = 0
    while n < 62_000_000:
        f.write("---\n" + doc)
        n += len(doc) + 4
with open(os.path.join(d, "quoted-merge-keys.yaml"), "w") as f:
    f.write("a: {<<: {z: 1}}\n")
    for i in range(80000):
        f.write(f'k{i}: {{"<<": {i}}}\n')
with open(os.path.join(d, "tiny-pods.yaml"), "w") as f:
    n = i = 0
    while n < 10 * 1024 * 1024:
        p = (f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}}}\n"
             "spec: {containers: [{name: c, image: x}]}\n")
        f.write(p)
        n += len(p)
        i += 1
PY

# run LABEL FORMAT FILE: one measurement.
run() {
  local label=$1 format=$2 file=$3 wall rss summary
  /usr/bin/time -f '%e %M' -o "$WORK/time" "$KH" scan --format "$format" "$file" >"$WORK/out" 2>/dev/null || true
  read -r wall rss < <(tail -n 1 "$WORK/time")
  summary=""
  if [ "$format" = json ]; then
    summary=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
errors = [d for d in r["diagnostics"] if d["level"] == "error" and "line" in d]
first = (": line %d: %s" % (errors[0]["line"], errors[0]["message"][:60])) if errors else ""
print("%d objects, %d findings, %d errors%s" % (r["summary"]["objects"], len(r["findings"]), len(errors), first))
' "$WORK/out")
  fi
  printf '%-40s %8.2f s %8.0f MB peak RSS  %8.1f MB in  %8.1f MB out  %s\n' "$label" "$wall" \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$(stat -c %s "$file") / 1000000" | bc -l)" \
    "$(echo "$(stat -c %s "$WORK/out") / 1000000" | bc -l)" "$summary"
}

echo "binary: $KH ($(nproc) cores)"
run "80,000 labels" json "$WORK/labels.yaml"
run "36,000 annotations" json "$WORK/annotations.yaml"
run "1.9M-item list (3.8 MB document)" json "$WORK/seq.yaml"
run "62 MB file of such documents" json "$WORK/seq-62mb.yaml"
run "80,000 quoted \"<<\" keys and a merge" json "$WORK/quoted-merge-keys.yaml"
for format in $FORMATS; do
  run "10 MiB of tiny Pods, $format" "$format" "$WORK/tiny-pods.yaml"
done
