#!/usr/bin/env bash
# Stops what e2e/up.sh and e2e/run.sh started (by the process ids they recorded, nothing else)
# and removes the state directory. KUBEHARDEN_E2E_KEEP=1 keeps the directory (logs, audit log).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
for c in kubeharden-serve kube-controller-manager kube-apiserver etcd; do stop "$c"; done
if [ "${KUBEHARDEN_E2E_KEEP:-0}" != 1 ]; then rm -rf "$DIR"; fi
log "control plane stopped"
