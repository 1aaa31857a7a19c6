#!/usr/bin/env bash
# Load and soak of `kubeharden serve` over TLS on loopback, with a real HTTP load generator.
#
#   crates/webhook/bench/load.sh            # rate test (wrk, closed loop) + constant-rate test
#                                           # (oha -q) + soak of 1,000,000 requests (oha -n, as
#                                           # fast as the server answers)
#   SOAK=0 crates/webhook/bench/load.sh     # without the soak
#
# Needs: wrk (apt-get install wrk), oha (cargo install oha --locked), openssl. The body is
# tests/data/deployment-typical.json: a `kubectl apply`'d Deployment as the API server sends it
# (3.6 KB, managedFields and last-applied annotation, six findings that warn). The server logs
# every review with findings (JSON, info level) to a file, as in production.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-target/release/kubeharden}
OHA=${OHA:-$(command -v oha || echo /tmp/oha/bin/oha)}
BODY=${BODY:-crates/webhook/tests/data/deployment-typical.json}
CONNS=${CONNS:-8}
RATE=${RATE:-5000}
SOAK=${SOAK:-1000000}
PORT=${PORT:-38443}
MPORT=${MPORT:-39090}
OUT=${OUT:-$(mktemp -d)}
export BODY

[ -x "$BIN" ] || cargo build --release -p kubeharden
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$OUT/tls.key" -out "$OUT/tls.crt" -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

"$BIN" serve --addr 127.0.0.1:$PORT --metrics-addr 127.0.0.1:$MPORT \
  --tls-cert "$OUT/tls.crt" --tls-key "$OUT/tls.key" --shutdown-delay 0s >"$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
sleep 1
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$PID/status; }
# CPU seconds (1/100 s ticks): the whole machine's busy time and the server's. The rest is the
# load generator and whatever else runs (the machine is shared: check it before trusting a run).
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }
srv() { awk '{print $14+$15}' /proc/$PID/stat; }
measure() {
  local b0 s0; b0=$(busy); s0=$(srv)
  /usr/bin/time -f "generator CPU: %U s user, %S s sys" "$@"
  echo "machine busy CPU: $(( $(busy) - b0 ))/100 s, server CPU: $(( $(srv) - s0 ))/100 s"
}
URL=https://127.0.0.1:$PORT/validate
echo "server pid $PID, output in $OUT"
echo "RSS at start: $(rss)"

echo "== warm-up (5 s)"
wrk -t1 -c$CONNS -d5s -s crates/webhook/bench/review.lua $URL >/dev/null
echo "RSS after warm-up: $(rss)"

echo "== wrk, closed loop, $CONNS connections, 30 s"
measure wrk -t1 -c$CONNS -d30s --latency -s crates/webhook/bench/review.lua $URL 2>&1 | tee "$OUT/wrk.txt"

if [ -x "$OHA" ]; then
  # Open loop: requests are sent at a constant rate whatever the answers, and a late answer is
  # charged from the time its request was due (coordinated omission corrected). The generator
  # shares the 2 cores with the server; run once at normal priority and once at nice -10, so
  # that the generator's own scheduling delays are not charged to the server.
  for prio in 0 -10; do
    echo "== oha, constant rate $RATE/s, $CONNS connections, 30 s, latency corrected, nice $prio"
    measure env TOKIO_WORKER_THREADS=1 nice -n $prio "$OHA" -z 30s -q $RATE --latency-correction \
      -c $CONNS --no-tui --insecure -m POST -H 'Content-Type: application/json' -D "$BODY" $URL \
      2>&1 | tee "$OUT/oha-rate-nice$prio.txt"
  done
  if [ "$SOAK" != 0 ]; then
    echo "== soak: $SOAK requests, oha, $CONNS connections, RSS every 10 s"
    ( while kill -0 $PID 2>/dev/null; do echo "$(date +%T) $(rss)"; sleep 10; done ) >"$OUT/rss.txt" &
    SAMPLER=$!
    measure env TOKIO_WORKER_THREADS=1 "$OHA" -n $SOAK -c $CONNS --no-tui --insecure -m POST \
      -H 'Content-Type: application/json' -D "$BODY" $URL 2>&1 | tee "$OUT/oha-soak.txt"
    kill $SAMPLER
    echo "RSS samples during the soak:"; cat "$OUT/rss.txt"
  fi
fi
echo "RSS at end: $(rss)"
echo "== server counters"
curl -s http://127.0.0.1:$MPORT/metrics | grep -E '^kubeharden_webhook_(reviews_total|errors_total|http_requests_total|review_duration_seconds_(count|sum))'
kill -TERM $PID
wait $PID || true
echo "log lines: $(wc -l <"$OUT/serve.log")"
