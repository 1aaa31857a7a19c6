#!/usr/bin/env bash
# The steps of the GitHub Action (action.yml at the repository root), as a script that a test
# runs with the GitHub environment variables set (crates/cli/tests/ship.rs).
#   github-action.sh install   # kubeharden on PATH: already there, or `cargo install` from this repository
#   github-action.sh scan      # scan, write SARIF and the Markdown job summary, set the step outputs
# Inputs arrive as environment variables: KH_PATHS (space-separated), KH_FAIL_ON, KH_ARGS,
# KH_SARIF, KH_JUNIT. The scan step exits 0 with the verdict in the `exit-code` output, so that the
# SARIF is uploaded before the job fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)

case "${1:-}" in
install)
  if command -v kubeharden >/dev/null; then
    echo "kubeharden already installed: $(kubeharden version | head -n 1)"
    exit 0
  fi
  root=${KH_INSTALL_ROOT:-${RUNNER_TEMP:-/tmp}/kubeharden}
  if [ ! -x "$root/bin/kubeharden" ]; then
    cargo install --locked --path "$here/crates/cli" --root "$root"
  fi
  echo "$root/bin" >>"${GITHUB_PATH:-/dev/null}"
  "$root/bin/kubeharden" version
  ;;
scan)
  : "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
  out=${RUNNER_TEMP:-$(mktemp -d)}
  sarif=${KH_SARIF:-kubeharden.sarif}
  junit=${KH_JUNIT:-}
  read -r -a paths <<<"${KH_PATHS:-.}"
  read -r -a extra <<<"${KH_ARGS:-}"
  outputs=(-o "sarif=$sarif" -o "markdown=$out/kubeharden.md" -o "json=$out/kubeharden.json")
  if [ -n "$junit" ]; then outputs+=(-o "junit=$junit"); fi
  set +e
  kubeharden scan --fail-on "${KH_FAIL_ON:-low}" "${outputs[@]}" "${extra[@]}" "${paths[@]}"
  code=$?
  set -e
  findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$out/kubeharden.json" 2>/dev/null || echo 0)
  {
    echo "exit-code=$code"
    echo "findings=$findings"
    if [ -f "$sarif" ]; then echo "sarif-file=$sarif"; fi
  } >>"$GITHUB_OUTPUT"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    if [ -f "$out/kubeharden.md" ]; then
      cat "$out/kubeharden.md" >>"$GITHUB_STEP_SUMMARY"
    else
      echo "kubeharden could not scan (exit $code): see the job log." >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
  ;;
*)
  echo "usage: $0 install|scan" >&2
  exit 2
  ;;
esac
