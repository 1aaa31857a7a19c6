#!/usr/bin/env bash
# Admission webhook throughput, closed loop: `kubeharden serve` (release build, TLS on loopback,
# logging as in production) and the load generator (crates/webhook/examples/loadgen.rs) on the
# same machine. Prints throughput, latency percentiles, server RSS through the run, CPU per
# review, and the verdict against the targets; exits 1 when a target is missed.
#
# Usage: bench/webhook.sh                (from anywhere)
# Env:   REQUESTS=1000000   measured requests (after WARMUP); or DURATION=60s instead
#        WARMUP=20000       requests sent first and not measured
#        CONNECTIONS=8      keep-alive HTTP/1.1 connections, one request in flight on each
#        TARGET_RPS=5000 TARGET_P99_MS=5 TARGET_RSS_GROWTH_PCT=10   the targets
#        SERVE_ARGS=...     more `kubeharden serve` flags (e.g. "--workers 1")
#        PORT=38443         HTTPS port on 127.0.0.1
#        KEEP=1             keep the work directory (certificates, server log)
#        BUILD=0            use the binaries already built (target/release)
#        KH=PATH            the kubeharden binary to serve (default target/release/kubeharden)
#
# The requests are AdmissionReviews as the API server sends them (tests/data/: Deployments with
# managedFields and the last-applied annotation, and Pods made from their templates): allowed,
# warned, denied, an UPDATE and a dry run; every answer is checked (uid and decision). See
# docs/performance.md for figures measured on the project's machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REQUESTS=${REQUESTS:-1000000}
WARMUP=${WARMUP:-20000}
CONNECTIONS=${CONNECTIONS:-8}
TARGET_RPS=${TARGET_RPS:-5000}
TARGET_P99_MS=${TARGET_P99_MS:-5}
TARGET_RSS_GROWTH_PCT=${TARGET_RSS_GROWTH_PCT:-10}
PORT=${PORT:-38443}
KH=${KH:-$ROOT/target/release/kubeharden}
LOADGEN=$ROOT/target/release/examples/loadgen

if [ "${BUILD:-1}" != 0 ]; then
  echo "== build (release)"
  cargo build --release --quiet -p kubeharden
  cargo build --release --quiet -p kubeharden-webhook --example loadgen
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kubeharden-webhook-bench.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

"$LOADGEN" certs "$WORK"
# As deployed: JSON logs (a line per review with findings), here to a file.
# shellcheck disable=SC2086
"$KH" serve --addr "127.0.0.1:$PORT" --tls-cert "$WORK/tls.crt" --tls-key "$WORK/tls.key" \
  --shutdown-delay 0s --namespaces none ${SERVE_ARGS:-} >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
  curl -sf --cacert "$WORK/ca.crt" "https://localhost:$PORT/readyz" --resolve "localhost:$PORT:127.0.0.1" \
    >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 2; }
  sleep 0.1
done

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "== $(uptime)"
echo "== server: $KH serve ${SERVE_ARGS:-}(pid $PID), $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ -n "${DURATION:-}" ]; then AMOUNT=(--duration "$DURATION"); else AMOUNT=(--requests "$REQUESTS"); fi
status=0
"$LOADGEN" run --ca "$WORK/ca.crt" --addr "127.0.0.1:$PORT" --pid "$PID" \
  --connections "$CONNECTIONS" --warmup "$WARMUP" "${AMOUNT[@]}" \
  --min-rps "$TARGET_RPS" --max-p99-ms "$TARGET_P99_MS" \
  --max-rss-growth-pct "$TARGET_RSS_GROWTH_PCT" || status=$?
echo "== $(uptime)"
echo "server log: $(wc -l <"$WORK/serve.log") lines"
exit $status
