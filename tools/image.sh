#!/usr/bin/env bash
# Builds the kubeharden image with buildah (no Docker daemon): Containerfile, FROM scratch, the
# static binary of tools/build-static.sh (built when dist/kubeharden is missing or BUILD=1) and the
# host's CA bundle. Tags it localhost/kubeharden:VERSION, the reference deploy/ uses, and prints
# its size. Installs buildah, podman and runc (Debian packages) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tools/containers.conf}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
IMAGE=${IMAGE:-localhost/kubeharden:$VERSION}

missing=()
for tool in buildah podman runc; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x dist/kubeharden ] || [ "${BUILD:-0}" = 1 ]; then
  tools/build-static.sh
fi
cp /etc/ssl/certs/ca-certificates.crt dist/ca-certificates.crt
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# --timestamp 0: the same binary gives the same image digest.
buildah bud --quiet --timestamp 0 --layers=false \
  --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" \
  -f Containerfile -t "$IMAGE" dist >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
digest=$(podman image inspect --format '{{.Digest}}' "$IMAGE")
echo "built $IMAGE ($digest): $size bytes ($((size / 1024 / 1024)) MiB)"
