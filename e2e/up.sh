#!/usr/bin/env bash
# Starts a real control plane on 127.0.0.1 (etcd, kube-apiserver, and a kube-controller-manager
# running only the controllers the tests need) and prints, as its last line, the path of an
# admin kubeconfig. No kubelet, no container runtime: Pods stay Pending.
#
#   e2e/up.sh                       start (or reuse a running one) with --anonymous-auth=false
#   e2e/up.sh --anonymous-auth=true restart only the API server with anonymous requests allowed
#
# Binaries: e2e/build.sh (cached in ~/.cache/kubeharden-e2e/bin). State: $KUBEHARDEN_E2E_DIR
# (default /tmp/kubeharden-e2e), its root/ laid out as a control-plane node for `node --root`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ANON=false
for a in "$@"; do
  case $a in
    --anonymous-auth=true|--anonymous-auth) ANON=true ;;
    --anonymous-auth=false) ANON=false ;;
    *) die "unknown argument $a" ;;
  esac
done
"$E2E/build.sh"
command -v openssl >/dev/null || die "openssl is needed"

ready() { "$KUBECTL" --kubeconfig "$ADMIN_KC" --request-timeout=5s get --raw /readyz >/dev/null 2>&1; }
wait_ready() {
  local i
  for i in $(seq 600); do
    ready && return 0
    running kube-apiserver || { tail -n 30 "$RUN/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
    sleep 0.2
  done
  tail -n 30 "$RUN/kube-apiserver.log" >&2
  die "kube-apiserver not ready after 120 s"
}

# ---- certificates (openssl): one CA for the API, one for etcd, as kubeadm lays them out ----
ca() { # PATH(without .crt/.key) CN
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.crt" \
    -days 2 -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}
cert() { # CA OUT SUBJECT USAGE(serverAuth|clientAuth|both) [SANS]; CA and OUT: paths without .crt/.key
  local ext="$RUN/$(basename "$2").ext" eku
  case $4 in both) eku="serverAuth,clientAuth" ;; *) eku=$4 ;; esac
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -n "${5:-}" ] && echo "subjectAltName=$5"
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$2.key" -out "$ext.csr" -subj "$3" 2>/dev/null
  openssl x509 -req -in "$ext.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial \
    -days 2 -extfile "$ext" -out "$2.crt" 2>/dev/null
}
kubeconfig() { # FILE USER CERTNAME
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $SERVER
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$3.crt
    client-key: $PKI/$3.key
contexts:
- name: $2@e2e
  context: {cluster: e2e, user: $2}
current-context: $2@e2e
EOF
  chmod 600 "$1"
}

# ---- flags: one list per component, written into the static Pod manifests under root/ too ----
# P is the prefix of every file path: $ROOT for the processes, empty in the manifests.
etcd_flags() {
  local P=$1
  echo --name=e2e --data-dir="$P/var/lib/etcd" \
    --listen-client-urls=https://127.0.0.1:$ETCD_PORT --advertise-client-urls=https://127.0.0.1:$ETCD_PORT \
    --listen-peer-urls=https://127.0.0.1:$ETCD_PEER_PORT --initial-advertise-peer-urls=https://127.0.0.1:$ETCD_PEER_PORT \
    --initial-cluster=e2e=https://127.0.0.1:$ETCD_PEER_PORT \
    --cert-file="$P/etc/kubernetes/pki/etcd/server.crt" --key-file="$P/etc/kubernetes/pki/etcd/server.key" \
    --client-cert-auth=true --trusted-ca-file="$P/etc/kubernetes/pki/etcd/ca.crt" \
    --peer-cert-file="$P/etc/kubernetes/pki/etcd/peer.crt" --peer-key-file="$P/etc/kubernetes/pki/etcd/peer.key" \
    --peer-client-cert-auth=true --peer-trusted-ca-file="$P/etc/kubernetes/pki/etcd/ca.crt" \
    --snapshot-count=10000 --unsafe-no-fsync=true --log-level=warn
}
apiserver_flags() {
  local P=$1 K=$1/etc/kubernetes
  echo --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port=$APISERVER_PORT \
    --endpoint-reconciler-type=none \
    --anonymous-auth=$ANON --authorization-mode=Node,RBAC \
    --client-ca-file="$K/pki/ca.crt" \
    --tls-cert-file="$K/pki/apiserver.crt" --tls-private-key-file="$K/pki/apiserver.key" \
    --tls-min-version=VersionTLS12 \
    --tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305 \
    --etcd-servers=https://127.0.0.1:$ETCD_PORT --etcd-cafile="$K/pki/etcd/ca.crt" \
    --etcd-certfile="$K/pki/apiserver-etcd-client.crt" --etcd-keyfile="$K/pki/apiserver-etcd-client.key" \
    --kubelet-client-certificate="$K/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$K/pki/apiserver-kubelet-client.key" --kubelet-certificate-authority="$K/pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$K/pki/sa.pub" --service-account-signing-key-file="$K/pki/sa.key" \
    --service-account-lookup=true --service-cluster-ip-range=10.96.0.0/12 \
    --allow-privileged=true --enable-admission-plugins=NodeRestriction \
    --admission-control-config-file="$K/admission-config.yaml" \
    --encryption-provider-config="$K/encryption-config.yaml" \
    --audit-policy-file="$K/audit-policy.yaml" --audit-log-path="$P/var/log/kubernetes/audit/audit.log" \
    --audit-log-maxage=30 --audit-log-maxbackup=10 --audit-log-maxsize=100 \
    --profiling=false --request-timeout=60s
}
kcm_flags() {
  local P=$1 K=$1/etc/kubernetes
  echo --kubeconfig="$K/controller-manager.conf" --authentication-kubeconfig="$K/controller-manager.conf" \
    --authorization-kubeconfig="$K/controller-manager.conf" \
    --controllers=clusterrole-aggregation-controller,serviceaccount-controller,namespace-controller \
    --leader-elect=false --bind-address=127.0.0.1 --secure-port=$KCM_PORT \
    --service-account-private-key-file="$K/pki/sa.key" --root-ca-file="$K/pki/ca.crt" \
    --use-service-account-credentials=true --profiling=false --terminated-pod-gc-threshold=10
}
manifest() { # NAME IMAGE FLAGS...: a kubeadm-like static Pod manifest
  local name=$1 image=$2 f
  shift 2
  echo "apiVersion: v1"
  echo "kind: Pod"
  echo "metadata:"
  echo "  name: $name"
  echo "  namespace: kube-system"
  echo "  labels: {component: $name, tier: control-plane}"
  echo "spec:"
  echo "  hostNetwork: true"
  echo "  priorityClassName: system-node-critical"
  echo "  securityContext: {seccompProfile: {type: RuntimeDefault}}"
  echo "  containers:"
  echo "  - name: $name"
  echo "    image: $image"
  echo "    command:"
  echo "    - $name"
  for f in "$@"; do echo "    - $f"; done
}
start() { # NAME BINARY FLAGS...
  local name=$1 bin=$2
  shift 2
  setsid nohup "$BIN/$bin" "$@" >"$RUN/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

start_apiserver() {
  # shellcheck disable=SC2046
  start kube-apiserver kube-apiserver $(apiserver_flags "$ROOT")
  echo "$ANON" >"$RUN/anonymous"
  manifest kube-apiserver registry.k8s.io/kube-apiserver:v1.37.2 $(apiserver_flags "") \
    >"$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml"
  chmod 600 "$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml"
  wait_ready
}

# ---- reuse a running control plane ----
if running etcd && running kube-apiserver && [ -f "$ADMIN_KC" ] && ready; then
  if [ "$(cat "$RUN/anonymous" 2>/dev/null)" = "$ANON" ]; then
    log "reusing the control plane at $SERVER (anonymous-auth=$ANON)"
    echo "$ADMIN_KC"
    exit 0
  fi
  log "restarting kube-apiserver with --anonymous-auth=$ANON"
  stop kube-apiserver
  start_apiserver
  kc apply -f "$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml" >/dev/null 2>&1 ||
    { kc -n kube-system delete pod kube-apiserver --wait=false >/dev/null 2>&1; kc create -f "$ROOT/etc/kubernetes/manifests/kube-apiserver.yaml" >/dev/null; }
  echo "$ADMIN_KC"
  exit 0
fi

# ---- a fresh one ----
t0=$(date +%s)
for c in kube-controller-manager kube-apiserver etcd; do stop "$c"; done
for port in "$APISERVER_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KCM_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is in use (another e2e control plane? e2e/down.sh, or KUBEHARDEN_E2E_*_PORT)"
  fi
done
rm -rf "$DIR"
# etcd preallocates a 64 MB write-ahead log and the API server's audit log grows: without room for
# them etcd fails with a page of stack traces, so say it first.
mkdir -p "$(dirname "$DIR")"
free_mb=$(df -Pm "$(dirname "$DIR")" | awk 'NR == 2 { print $4 }')
[ "${free_mb:-0}" -ge 512 ] || die "only ${free_mb:-0} MB free on the disk of $DIR; the control plane needs 512 MB (etcd's write-ahead log, the audit log)"
mkdir -p "$RUN" "$PKI/etcd" "$ROOT/etc/kubernetes/manifests" "$ROOT/var/lib/etcd" "$ROOT/var/log/kubernetes/audit"
chmod 700 "$ROOT/var/lib/etcd"
ca "$PKI/ca" kubernetes
ca "$PKI/etcd/ca" etcd-ca
cert "$PKI/etcd/ca" "$PKI/etcd/server" "/CN=e2e" both "IP:127.0.0.1,DNS:localhost"
cert "$PKI/etcd/ca" "$PKI/etcd/peer" "/CN=e2e" both "IP:127.0.0.1,DNS:localhost"
cert "$PKI/etcd/ca" "$PKI/apiserver-etcd-client" "/O=system:masters/CN=kube-apiserver-etcd-client" clientAuth
cert "$PKI/ca" "$PKI/apiserver" "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert "$PKI/ca" "$PKI/apiserver-kubelet-client" "/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client" clientAuth
# Identities: the admin (system:masters), the auditor (deploy/rbac bound as is), a limited one.
cert "$PKI/ca" "$PKI/admin" "/O=system:masters/CN=kubeharden-e2e-admin" clientAuth
cert "$PKI/ca" "$PKI/auditor" "/O=kubeharden-e2e-auditors/CN=kubeharden-e2e-auditor" clientAuth
cert "$PKI/ca" "$PKI/limited" "/CN=kubeharden-e2e-limited" clientAuth
cert "$PKI/ca" "$PKI/controller-manager" "/CN=system:kube-controller-manager" clientAuth
# The webhook's serving certificate, signed by the same CA (its caBundle).
cert "$PKI/ca" "$PKI/webhook" "/CN=kubeharden-webhook" serverAuth "IP:127.0.0.1,DNS:localhost"
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
chmod 600 "$PKI"/*.key "$PKI"/etcd/*.key
kubeconfig "$ADMIN_KC" kubeharden-e2e-admin admin
kubeconfig "$DIR/auditor.kubeconfig" kubeharden-e2e-auditor auditor
kubeconfig "$DIR/limited.kubeconfig" kubeharden-e2e-limited limited
kubeconfig "$ROOT/etc/kubernetes/controller-manager.conf" system:kube-controller-manager controller-manager
cp "$ADMIN_KC" "$ROOT/etc/kubernetes/admin.conf"

# ---- API server configuration files ----
K=$ROOT/etc/kubernetes
cat >"$K/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
# Secret, ConfigMap and token bodies are never written to the log.
- level: Metadata
  resources:
  - group: ""
    resources: [secrets, configmaps, serviceaccounts/token]
  - group: authentication.k8s.io
    resources: [tokenreviews]
- level: RequestResponse
  resources:
  - group: rbac.authorization.k8s.io
- level: Request
  verbs: [create, update, patch, delete, deletecollection]
- level: Metadata
EOF
cat >"$K/encryption-config.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: $(head -c 32 /dev/urandom | base64)
  - identity: {}
EOF
cat >"$K/admission-config.yaml" <<'EOF'
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: baseline
      enforce-version: latest
      audit: restricted
      audit-version: latest
      warn: restricted
      warn-version: latest
    exemptions:
      usernames: []
      runtimeClasses: []
      namespaces: [kube-system]
EOF
chmod 600 "$K"/*.yaml "$K"/*.conf

# ---- start ----
# shellcheck disable=SC2046
start etcd etcd $(etcd_flags "$ROOT")
manifest etcd registry.k8s.io/etcd:3.7.0-0 $(etcd_flags "") >"$K/manifests/etcd.yaml"
for i in $(seq 100); do
  curl -sf --cacert "$PKI/etcd/ca.crt" --cert "$PKI/apiserver-etcd-client.crt" --key "$PKI/apiserver-etcd-client.key" \
    "https://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1 && break
  running etcd || { tail -n 20 "$RUN/etcd.log" >&2; die "etcd exited"; }
  sleep 0.2
done
start_apiserver
# shellcheck disable=SC2046
start kube-controller-manager kube-controller-manager $(kcm_flags "$ROOT")
manifest kube-controller-manager registry.k8s.io/kube-controller-manager:v1.37.2 $(kcm_flags "") \
  >"$K/manifests/kube-controller-manager.yaml"
chmod 600 "$K"/manifests/*.yaml

# ---- objects: the control plane's Pods as a kubelet would mirror them, the identities' RBAC ----
for m in "$K"/manifests/*.yaml; do kc create -f "$m" >/dev/null; done
kc apply -f "$REPO/deploy/rbac/clusterrole.yaml" >/dev/null
kc create clusterrolebinding kubeharden-e2e-auditor --clusterrole=kubeharden-auditor \
  --group=kubeharden-e2e-auditors >/dev/null
# The limited identity reads what `view` allows: no Secrets, no RBAC objects, no cluster scope.
kc create clusterrolebinding kubeharden-e2e-limited --clusterrole=view --user=kubeharden-e2e-limited >/dev/null
# A ServiceAccount bound to the same ClusterRole, with a bound token (TokenRequest), as the
# in-cluster CronJob of deploy/cronjob runs.
kc create namespace kubeharden-e2e >/dev/null
kc -n kubeharden-e2e create serviceaccount auditor >/dev/null
kc create clusterrolebinding kubeharden-e2e-sa-auditor --clusterrole=kubeharden-auditor \
  --serviceaccount=kubeharden-e2e:auditor >/dev/null
token=$(kc -n kubeharden-e2e create token auditor --duration=2h)
cat >"$DIR/sa-auditor.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: $SERVER, certificate-authority: $PKI/ca.crt}
users:
- name: sa-auditor
  user: {token: $token}
contexts:
- name: sa-auditor@e2e
  context: {cluster: e2e, user: sa-auditor}
current-context: sa-auditor@e2e
EOF
chmod 600 "$DIR/sa-auditor.kubeconfig"
for i in $(seq 150); do kc get sa default -n default >/dev/null 2>&1 && break; sleep 0.2; done
log "control plane up at $SERVER in $(($(date +%s) - t0)) s (anonymous-auth=$ANON)"
echo "$ADMIN_KC"
