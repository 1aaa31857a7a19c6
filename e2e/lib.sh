# Shared settings of the e2e scripts (sourced). Everything listens on 127.0.0.1 only.
E2E=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E/.." && pwd)
CACHE=${KUBEHARDEN_E2E_CACHE:-$HOME/.cache/kubeharden-e2e}
BIN=$CACHE/bin
# The state of the running control plane: certificates, configs, the etcd data, logs, kubeconfigs.
# ROOT is laid out like a control-plane node (etc/kubernetes/..., var/log/...) for `node --root`.
DIR=${KUBEHARDEN_E2E_DIR:-${TMPDIR:-/tmp}/kubeharden-e2e}
ROOT=$DIR/root
RUN=$DIR/run
PKI=$ROOT/etc/kubernetes/pki
APISERVER_PORT=${KUBEHARDEN_E2E_APISERVER_PORT:-16443}
ETCD_PORT=${KUBEHARDEN_E2E_ETCD_PORT:-12379}
ETCD_PEER_PORT=${KUBEHARDEN_E2E_ETCD_PEER_PORT:-12380}
KCM_PORT=${KUBEHARDEN_E2E_KCM_PORT:-10257}
SERVER=https://127.0.0.1:$APISERVER_PORT
ADMIN_KC=$DIR/admin.kubeconfig
KUBECTL=$BIN/kubectl
KH=${KH:-$REPO/target/release/kubeharden}
log() { echo "e2e: $*" >&2; }
die() { echo "e2e: FAILED: $*" >&2; exit 1; }
# running NAME: true when the process recorded in $RUN/NAME.pid is alive
running() { local p; p=$(cat "$RUN/$1.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# stop NAME: ends the process recorded in $RUN/NAME.pid (and only it), waiting up to 10 s
stop() {
  local p i
  p=$(cat "$RUN/$1.pid" 2>/dev/null) || return 0
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
}
kc() { "$KUBECTL" --kubeconfig "$ADMIN_KC" --request-timeout=60s "$@"; }
