#!/usr/bin/env bash
# Tests the kubeharden image (tools/image.sh) the way it runs in the cluster: read-only root,
# user 65532, every capability dropped, no-new-privileges; `scan` without a network on the
# examples mounted read-only, `serve` answering real AdmissionReviews over TLS from the host.
# Prints the image size and the container's cold start, and ends with "N passed, N failed".
#   tools/image-test.sh        # builds the image first when it is missing (BUILD=1: always)
set -uo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tools/containers.conf}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE=${IMAGE:-localhost/kubeharden:$VERSION}
if [ "${BUILD:-0}" = 1 ] || ! podman image exists "$IMAGE" 2>/dev/null; then
  tools/image.sh || { echo "image-test: the image did not build"; echo "0 passed, 1 failed"; exit 1; }
fi
T=$(mktemp -d)
CID=
cleanup() { [ -n "$CID" ] && podman rm -f "$CID" >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT
PASSED=0
FAILED=0
ok() { echo "ok   - $1"; PASSED=$((PASSED + 1)); }
bad() { echo "FAIL - $1${2:+: $2}"; FAILED=$((FAILED + 1)); }
check() { local what=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$what"; else bad "$what" "$(tail -n 5 "$T/out" | tr '\n' ' ' | cut -c1-400)"; fi; }
HARDENED=(--read-only --user 65532 --cap-drop=all --security-opt no-new-privileges)

# The image itself.
check "the image runs as 65532:65532" test "$(podman image inspect --format '{{.Config.User}}' "$IMAGE")" = 65532:65532
podman image save --quiet --format docker-archive -o "$T/image.tar" "$IMAGE" >/dev/null 2>&1
mkdir -p "$T/layers" && tar -xf "$T/image.tar" -C "$T/layers"
files=$(for l in $(find "$T/layers" -name '*.tar' -o -name 'layer.tar' | sort -u); do tar -tf "$l"; done | grep -v '/$' | sort -u | tr '\n' ' ')
check "the image holds the binary and the CA bundle, nothing else ($files)" \
  test "$files" = "etc/ssl/certs/ca-certificates.crt usr/local/bin/kubeharden "
check "there is no shell in the image" sh -c "! podman run --rm --network none --entrypoint /bin/sh '$IMAGE' -c true"

# scan, no network, inputs read-only; the same findings as the binary on the host.
run_scan() { podman run --rm "${HARDENED[@]}" --network none -v "$PWD/examples:/in:ro" -w /in "$IMAGE" "$@"; }
run_scan scan --format json hardened-app >"$T/hardened.json"; rc=$?
check "scan of examples/hardened-app in the container: exit 0 (got $rc), no finding" \
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(len(d["findings"]) != 0)' "$T/hardened.json"
run_scan scan --format json insecure-app >"$T/insecure.json"; rc=$?
(cd examples && ../dist/kubeharden scan --format json insecure-app >"$T/insecure-host.json")
check "scan of examples/insecure-app in the container: exit 1 (got $rc)" test "$rc" = 1
check "the container's findings are the host binary's, finding for finding" python3 - "$T/insecure.json" "$T/insecure-host.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["findings"] for p in sys.argv[1:3])
print(len(a), "findings in the container,", len(b), "on the host")
sys.exit(not (a == b and len(a) > 0))
PY

# serve over TLS, from the host.
mkdir -p "$T/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$T/tls/tls.key" -out "$T/tls/tls.crt" 2>/dev/null
# Readable by 65532 inside (a test key; in the cluster the Secret volume's defaultMode does this).
chmod 0755 "$T" "$T/tls" && chmod 0644 "$T/tls/tls.key" "$T/tls/tls.crt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CID=$(podman run -d "${HARDENED[@]}" -p "127.0.0.1:$port:8443" -v "$T/tls:/tls:ro" "$IMAGE" \
  serve --addr 0.0.0.0:8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key)
ready=0
for _ in $(seq 1 100); do
  if curl -fsS --cacert "$T/tls/tls.crt" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
check "serve is ready over TLS (/readyz)" test "$ready" = 1
review() {
  curl -sS --cacert "$T/tls/tls.crt" -H 'Content-Type: application/json' \
    --data-binary "@crates/webhook/tests/data/$1.json" "https://127.0.0.1:$port/validate"
}
review deployment-privileged >"$T/denied.json"
check "a privileged Deployment is denied, naming container-privileged" python3 - "$T/denied.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["response"]
print(json.dumps(r)[:300])
sys.exit(not (r["uid"] == "c1d2e3f4-6393-11e8-b7cc-42010a800004" and r["allowed"] is False
              and "[container-privileged] (critical)" in r["status"]["message"]))
PY
review deployment-hardened >"$T/allowed.json"
check "a hardened Deployment is allowed" python3 - "$T/allowed.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["response"]
sys.exit(not (r["uid"] == "b7c8d9e0-6393-11e8-b7cc-42010a800003" and r["allowed"] is True))
PY
if [ "$FAILED" != 0 ] && [ -n "$CID" ]; then podman logs "$CID" 2>&1 | tail -n 20; fi
podman rm -f "$CID" >/dev/null 2>&1
CID=

# Size and cold start (podman run of `version`: container set-up, process start, exit).
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
cold=$(python3 - "$IMAGE" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(5):
    t = time.perf_counter()
    subprocess.run(["podman", "run", "--rm", "--read-only", "--user", "65532", "--cap-drop=all",
                    "--security-opt", "no-new-privileges", "--network", "none", sys.argv[1], "version"],
                   stdout=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t) * 1000)
print(f"{sorted(runs)[2]:.0f}")
PY
)
echo "image $IMAGE: $size bytes ($((size / 1024 / 1024)) MiB); cold start (podman run … version, median of 5): ${cold} ms"
echo "image-test: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
