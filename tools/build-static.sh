#!/usr/bin/env bash
# Builds the release binary: static x86_64-unknown-linux-musl, `dist` profile (LTO, one codegen
# unit, stripped; see Cargo.toml), plus its shell completions and man pages, into dist/.
# Prints the binary's size and its start-up time. Installs the musl target and musl-gcc (ring's C
# code is compiled with it) when they are missing.
#   tools/build-static.sh            # dist/kubeharden
#   PROFILE=release tools/build-static.sh   # faster to build, larger
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
PROFILE=${PROFILE:-dist}
OUT=${OUT:-dist}

if ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi
if ! command -v musl-gcc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi

cargo build --locked --profile "$PROFILE" --target "$TARGET" -p kubeharden
BIN=target/$TARGET/$PROFILE/kubeharden

# Static: no program interpreter, no shared library.
if readelf -l "$BIN" | grep -q 'Requesting program interpreter' || readelf -d "$BIN" | grep -q NEEDED; then
  echo "error: $BIN is not statically linked" >&2
  exit 1
fi

mkdir -p "$OUT/completions" "$OUT/man"
cp "$BIN" "$OUT/kubeharden"
"$OUT/kubeharden" man "$OUT/man" >/dev/null
for shell in bash zsh fish powershell; do
  "$OUT/kubeharden" completion "$shell" >"$OUT/completions/kubeharden.$shell"
done

size=$(stat -c %s "$OUT/kubeharden")
# Start-up: the median of 21 runs of `kubeharden version` (process start to exit).
startup_ms=$(python3 - "$OUT/kubeharden" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(21):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "version"], stdout=subprocess.DEVNULL, check=True)
    runs.append((time.perf_counter() - t) * 1000)
print(f"{sorted(runs)[len(runs) // 2]:.1f}")
PY
)
echo "built $OUT/kubeharden ($TARGET, profile $PROFILE): $size bytes ($((size / 1024 / 1024)) MiB), start-up ${startup_ms} ms (median of 21 runs of \`kubeharden version\`)"
"$OUT/kubeharden" version
