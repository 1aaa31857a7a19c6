#!/usr/bin/env bash
# The e2e suite against a real control plane: up, every test, down. Exit 0 only when every test
# passed. Prints `ok - …` / `FAIL - …` per check, `differential NAME: N cases, M mismatches` per
# differential test, and a closing `e2e: N passed, N failed` line.
#
#   e2e/run.sh                 everything
#   E2E_ONLY="cluster webhook" e2e/run.sh     some parts (cluster node auditlog webhook deploy
#                              rbac pss vap validation yaml)
#   KUBEHARDEN_E2E_KEEP=1      keep the state directory (logs, audit log, generated inputs)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
ONLY=${E2E_ONLY:-"cluster node auditlog webhook deploy rbac pss vap validation yaml"}
want() { [[ " $ONLY " == *" $1 "* ]]; }
PASS=0 FAILN=0
ok() { echo "ok   - $1"; PASS=$((PASS + 1)); }
bad() { echo "FAIL - $1${2:+: $2}"; FAILN=$((FAILN + 1)); }
# check WHAT CMD...: the command's status decides
check() { local w=$1 o; shift; if o=$("$@" 2>&1); then ok "$w"; else bad "$w" "$(tail -n 5 <<<"$o" | tr '\n' ' ' | cut -c1-600)"; fi; }
has() { grep -qE -- "$2" <<<"$1"; }
json() { python3 -c "import json,re,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

[ -x "$KH" ] || { log "building kubeharden (release)"; cargo build --release -q -p kubeharden || die "cargo build"; }
T0=$(date +%s)
"$E2E/down.sh" >/dev/null 2>&1
finish() {
  local rc=$?
  stop kubeharden-serve
  stop e2e-blackhole
  "$E2E/down.sh" >/dev/null 2>&1
  exit $rc
}
trap finish EXIT INT TERM
KC=$("$E2E/up.sh" | tail -n 1) || die "e2e/up.sh"
T_UP=$(($(date +%s) - T0))
WORK=$DIR/work
mkdir -p "$WORK"
export PATH="$BIN:$PATH"
AUDIT_LOG=$ROOT/var/log/kubernetes/audit/audit.log

# ------------------------------------------------------------------ 2. cluster audit
assessed() { json "$1" 'sum(1 for s in d["scorecard"] if s["status"]!="not-assessed")'; }
if want cluster; then
  # A few workloads so that every section has objects to judge (they stay Pending: no kubelet).
  kc apply -f examples/insecure-app/app.yaml >/dev/null 2>&1
  kc apply -f examples/hardened-app/app.yaml >/dev/null 2>&1
  "$KH" cluster --kubeconfig "$KC" --format json >"$WORK/admin.json" 2>"$WORK/admin.err"; rc=$?
  check "cluster audit as admin: exit 0 or 1 (got $rc)" test "$rc" = 0 -o "$rc" = 1
  n=$(assessed "$WORK/admin.json" 2>/dev/null)
  check "cluster audit as admin assesses most sections (${n:-0} of 16)" test "${n:-0}" -ge 10
  check "cluster audit as admin reads the API server's flags from its Pod (no finding that anonymous auth is on)" \
    bash -c "! grep -q '\"rule\": \"apiserver-anonymous-auth\"' '$WORK/admin.json'"
  check "cluster audit as admin finds the insecure app's privileged container" \
    grep -q '"rule": "container-privileged"' "$WORK/admin.json"

  # The auditor: deploy/rbac/clusterrole.yaml bound as is. Complete but for the opt-in Secrets.
  "$KH" cluster --kubeconfig "$DIR/auditor.kubeconfig" --format json >"$WORK/auditor.json" 2>"$WORK/auditor.err"; rc=$?
  unread() { json "$1" '"\n".join(sorted(re.search(r"listing (\S+)", x["message"]).group(1) for x in d["diagnostics"] if x["message"].startswith("not read") and "listing " in x["message"]))'; }
  gaps=$(unread "$WORK/auditor.json" 2>/dev/null)
  check "deploy/rbac ClusterRole is sufficient: the only unreadable kind is the opt-in secrets (exit $rc; unreadable: ${gaps//$'\n'/, })" \
    test "$rc" = 2 -a "$gaps" = secrets
  "$KH" cluster --kubeconfig "$DIR/sa-auditor.kubeconfig" --format json >"$WORK/sa-auditor.json" 2>"$WORK/sa-auditor.err"; rc=$?
  gaps=$(unread "$WORK/sa-auditor.json" 2>/dev/null)
  check "a ServiceAccount token bound to the same ClusterRole: the same answer (exit $rc; unreadable: ${gaps//$'\n'/, })" \
    test "$rc" = 2 -a "$gaps" = secrets
  kc apply -f deploy/rbac/clusterrole-secrets.yaml >/dev/null
  kc create clusterrolebinding kubeharden-e2e-auditor-secrets --clusterrole=kubeharden-auditor-secrets \
    --group=kubeharden-e2e-auditors >/dev/null
  "$KH" cluster --kubeconfig "$DIR/auditor.kubeconfig" --format json >"$WORK/auditor2.json" 2>"$WORK/auditor2.err"; rc=$?
  check "deploy/rbac ClusterRoles (both) are sufficient: complete audit (exit $rc)" test "$rc" = 0 -o "$rc" = 1
  na=$(assessed "$WORK/admin.json"); nb=$(assessed "$WORK/auditor2.json")
  check "the auditor assesses as many sections as the admin ($nb vs $na)" test "$na" = "$nb"
  # Minimal: every permission the ClusterRole grants on a kind this API server serves was used by
  # the audits above (the API server's audit log says so); the unused ones are other tools' CRDs.
  kc get clusterrolebinding kubeharden-e2e-auditor -o yaml >"$WORK/auditor-binding.yaml"
  kc api-versions | sed -n 's#^\(.*\)/.*#\1#p' | sort -u >"$WORK/served-groups"
  "$KH" rbac suggest kubeharden-e2e-auditor --group kubeharden-e2e-auditors --audit-log "$AUDIT_LOG" \
    --format json deploy/rbac/clusterrole.yaml "$WORK/auditor-binding.yaml" >"$WORK/suggest.json" 2>"$WORK/suggest.err"
  unused=$(python3 - "$WORK/suggest.json" "$WORK/served-groups" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
served = set(open(sys.argv[2]).read().split())
assert d["summary"]["evidence"].get("rbac-usage", 0) > 0, "no use of the permissions measured"
groups = [re.search(r"\(apiGroups ([^)]*)\)", f["message"]) for f in d["findings"] if f["rule"] == "rbac-permission-unused"]
assert all(groups) and groups, "expected the unused permissions of other tools' CRDs"
names = [g.strip() for m in groups for g in m.group(1).split(",")]
print(" ".join(sorted(set(n for n in names if n in served or n in ("", "core")))))
EOF
)
  check "deploy/rbac ClusterRole is minimal: rbac suggest finds no unused rule on a group the server serves (${unused:-none})" \
    test -z "$unused" -a -s "$WORK/suggest.json"
  # Per resource, from the audit log itself: each (group, resource) the role grants and the server
  # serves was listed by the auditor.
  kc api-resources --verbs=list -o name | sort -u >"$WORK/served-resources"
  unlisted=$(python3 - "$AUDIT_LOG" "$WORK/served-resources" deploy/rbac/clusterrole.yaml <<'EOF'
import json, re, sys
used = set()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("user", {}).get("username") == "kubeharden-e2e-auditor" and e.get("verb") == "list" and e.get("objectRef"):
        used.add((e["objectRef"].get("apiGroup", ""), e["objectRef"]["resource"]))
served = set()
for n in open(sys.argv[2]).read().split():
    r, _, g = n.partition(".")
    served.add((g, r))
granted = set()
group_list = None
for line in open(sys.argv[3]):
    m = re.match(r'- apiGroups: \[(.*)\]', line)
    if m:
        group_list = [g.strip().strip('"') for g in m.group(1).split(",")]
    m = re.match(r'\s+resources: \[(.*)\]', line)
    if m and group_list is not None:
        for g in group_list:
            for r in m.group(1).split(","):
                granted.add((g, r.strip()))
print(" ".join(sorted(f"{r}.{g}" if g else r for g, r in granted & served - used)))
EOF
)
  check "deploy/rbac ClusterRole is minimal: every resource it grants that the server serves was listed by the auditor (not listed: ${unlisted:-none})" \
    test -z "$unlisted"
  # The limited identity (view): real 403s on Secrets and RBAC lists.
  "$KH" cluster --kubeconfig "$DIR/limited.kubeconfig" --format json >"$WORK/limited.json" 2>"$WORK/limited.err"; rc=$?
  check "limited identity: incomplete audit, exit 2 (got $rc)" test "$rc" = 2
  miss=$(json "$WORK/limited.json" '"\n".join(str(s.get("missing")) for s in d["scorecard"] if s["status"]=="not-assessed")' 2>/dev/null)
  gaps=$(unread "$WORK/limited.json" 2>/dev/null)
  check "limited identity: Secrets and RBAC lists are unreadable (unreadable: ${gaps//$'\n'/, })" \
    bash -c "grep -qx secrets <<<'$gaps' && grep -qx clusterrolebindings.rbac.authorization.k8s.io <<<'$gaps'"
  check "limited identity: the sections not assessed name the 403 on RBAC and the permission to grant" \
    has "$miss" 'clusterrolebindings.rbac.authorization.k8s.io \(cluster-scoped\) is forbidden \(403\): grant `list` on `clusterrolebindings`'
  # --probe-anonymous against anonymous auth off, then on.
  "$KH" cluster --kubeconfig "$KC" --probe-anonymous --format json >"$WORK/anon-off.json" 2>/dev/null
  s5=$(json "$WORK/anon-off.json" '[s.get("missing") for s in d["scorecard"] if s.get("seed") == 5]' 2>/dev/null)
  check "--probe-anonymous, anonymous auth off: probed (section 5: ${s5:0:120}…) and no apiserver-answers-anonymous-requests" \
    bash -c "! grep -q '\"rule\": \"apiserver-answers-anonymous-requests\"' '$WORK/anon-off.json' && [ -n '${s5//\'/}' ] && ! grep -q 'not probed' <<<'${s5//\'/}'"
  "$E2E/up.sh" --anonymous-auth=true >/dev/null || die "restart with anonymous auth"
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" "$SERVER/version")
  "$KH" cluster --kubeconfig "$KC" --probe-anonymous --format json >"$WORK/anon-on.json" 2>/dev/null
  check "--probe-anonymous, anonymous auth on (/version answers $code): apiserver-answers-anonymous-requests reported" \
    grep -q '"rule": "apiserver-answers-anonymous-requests"' "$WORK/anon-on.json"
  check "anonymous auth on: the API server's flag is reported from its Pod" \
    grep -q '"rule": "apiserver-anonymous-auth"' "$WORK/anon-on.json"
  "$E2E/up.sh" --anonymous-auth=false >/dev/null || die "restart without anonymous auth"
fi

# ------------------------------------------------------------------ node --root
if want node; then
  "$KH" node --root "$ROOT" --format json >"$WORK/node.json" 2>"$WORK/node.err"; rc=$?
  check "node --root on the laid-out control plane: exit 0 or 1 (got $rc)" test "$rc" = 0 -o "$rc" = 1
  check "node --root reads the API server manifest (its flags are evidence)" \
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); ev=json.dumps(d["summary"]); sys.exit(0 if "kube-apiserver" in ev else 1)' "$WORK/node.json"
  check "node --root reads the EncryptionConfiguration: aescbc reported as a local key (encryption-config-not-kms-v2)" \
    grep -q '"rule": "encryption-config-not-kms-v2"' "$WORK/node.json"
  check "node --root: Secrets are encrypted (no apiserver-encryption-at-rest-missing, no encryption-config-secrets-plaintext)" \
    bash -c "! grep -qE '\"rule\": \"(apiserver-encryption-at-rest-missing|encryption-config-secrets-plaintext)\"' '$WORK/node.json'"
  check "node --root reads the audit flags: a local file only (apiserver-audit-not-shipped)" \
    grep -q '"rule": "apiserver-audit-not-shipped"' "$WORK/node.json"
  check "node --root reads the audit policy: it logs what matters (no apiserver-audit-logging-disabled, no audit-policy-misses-sensitive-operations, no audit-policy-logs-secret-data)" \
    bash -c "! grep -qE '\"rule\": \"(apiserver-audit-logging-disabled|audit-policy-misses-sensitive-operations|audit-policy-logs-secret-data)\"' '$WORK/node.json'"
  check "node --root never copies the encryption key" \
    bash -c "! grep -qF \"\$(sed -n 's/.*secret: //p' '$ROOT/etc/kubernetes/encryption-config.yaml')\" '$WORK/node.json'"
fi

# ------------------------------------------------------------------ audit-log analyze
if want auditlog; then
  kc -n default create secret generic e2e-audit --from-literal=k=v >/dev/null 2>&1
  "$KUBECTL" --kubeconfig "$DIR/limited.kubeconfig" get secrets -A >/dev/null 2>&1
  sleep 1
  "$KH" audit-log analyze "$AUDIT_LOG" --format json >"$WORK/auditlog.json" 2>"$WORK/auditlog.err"; rc=$?
  check "audit-log analyze reads the log the API server wrote (exit $rc, $(wc -l <"$AUDIT_LOG") events)" test "$rc" = 0 -o "$rc" = 1
  check "audit-log analyze sees the admin's requests" grep -q "kubeharden-e2e-admin" "$WORK/auditlog.json"
  check "audit-log analyze sees the limited identity's forbidden Secret list" \
    grep -q "kubeharden-e2e-limited" "$WORK/auditlog.json"
fi

# ------------------------------------------------------------------ 3. the webhook
WH_PORT=${KUBEHARDEN_E2E_WEBHOOK_PORT:-18443}
serve() { # [CONFIG]
  stop kubeharden-serve
  setsid nohup "$KH" serve --addr "127.0.0.1:$WH_PORT" --tls-cert "$PKI/webhook.crt" --tls-key "$PKI/webhook.key" \
    ${1:+--config "$1"} >"$RUN/kubeharden-serve.log" 2>&1 </dev/null &
  echo $! >"$RUN/kubeharden-serve.pid"
  for _ in $(seq 100); do
    curl -sf --cacert "$PKI/ca.crt" "https://127.0.0.1:$WH_PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  tail -n 20 "$RUN/kubeharden-serve.log" >&2
  return 1
}
vwc() { # FAILURE_POLICY TIMEOUT
  cat <<EOF | kc apply -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: kubeharden-e2e}
webhooks:
- name: validate.kubeharden.io
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: $1
  timeoutSeconds: $2
  clientConfig:
    url: https://127.0.0.1:$WH_PORT/validate
    caBundle: $(base64 -w0 "$PKI/ca.crt")
  namespaceSelector: {matchLabels: {kubeharden-e2e: webhook}}
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods, configmaps, secrets], scope: Namespaced}
  - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments, replicasets, statefulsets, daemonsets], scope: Namespaced}
  - {apiGroups: [batch], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [jobs, cronjobs], scope: Namespaced}
EOF
  sleep 1.5  # the API server picks the configuration up through its informer
}
# apply_in NS FILE: kubectl apply of FILE's objects (its Namespace excluded) into NS, dry-run=server
apply_in() {
  python3 -c 'import sys,re; docs=open(sys.argv[1]).read().split("\n---"); print("\n---".join(d for d in docs if not re.search(r"^kind: Namespace", d, re.M)))' "$2" |
    sed "s/namespace: [a-z-]*/namespace: $1/" | kc apply --dry-run=server -f - 2>&1
}
if want webhook; then
  kc create namespace wh-e2e >/dev/null 2>&1; kc label namespace wh-e2e kubeharden-e2e=webhook pod-security.kubernetes.io/enforce=privileged --overwrite >/dev/null
  check "kubeharden serve starts with the test CA's certificate" serve
  vwc Fail 5
  out=$(apply_in wh-e2e examples/insecure-app/app.yaml)
  check "webhook: the insecure app is denied with kubeharden's message" \
    has "$out" 'admission webhook "validate.kubeharden.io" denied the request: kubeharden denied Deployment "web" in namespace "wh-e2e"'
  # The denial names exactly the deny-mode findings `kubeharden scan` reports for the same Deployment.
  want_rules=$("$KH" scan --no-config --format json examples/insecure-app/app.yaml 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({f["rule"] for f in d["findings"] if f.get("subject", {}).get("kind") == "Deployment" and f["severity"] in ("critical", "high")})))' 2>/dev/null)
  got_rules=$(grep -oE '^ *[0-9]+\. \[[a-z0-9-]+\]' <<<"$(awk '/denied Deployment "web"/ {on=1; next} /^Error from server/ {on=0} on' <<<"$out")" | sed 's/.*\[\(.*\)\]/\1/' | sort -u | tr '\n' ' ' | sed 's/ $//')
  echo "$out" >"$WORK/webhook-deny.out"
  check "webhook: the denial lists the critical and high findings of \`scan\` (scan: $want_rules; denial: $got_rules)" test "$want_rules" = "$got_rules"
  out=$(apply_in wh-e2e examples/hardened-app/app.yaml); rc=$?
  check "webhook: the hardened app is admitted" bash -c "[ $rc = 0 ] && ! grep -q denied <<<'${out//\'/}'"
  printf 'defaultMode: warn\n' >"$WORK/warn.yaml"
  serve "$WORK/warn.yaml" || bad "serve in warn mode"
  out=$(apply_in wh-e2e examples/insecure-app/app.yaml); rc=$?
  check "webhook warn mode: admitted with kubeharden's warnings (exit $rc)" \
    bash -c "[ $rc = 0 ] && grep -q 'Warning: kubeharden \[container-privileged\]' <<<'${out//\'/}'"
  printf 'defaultMode: audit\n' >"$WORK/audit.yaml"
  serve "$WORK/audit.yaml" || bad "serve in audit mode"
  kc -n wh-e2e delete deployment web --ignore-not-found >/dev/null 2>&1
  out=$(python3 -c 'import sys,re; docs=open(sys.argv[1]).read().split("\n---"); print("\n---".join(d for d in docs if re.search(r"^kind: Deployment", d, re.M)))' examples/insecure-app/app.yaml |
    sed "s/namespace: [a-z-]*/namespace: wh-e2e/" | kc apply -f - 2>&1); rc=$?
  sleep 1
  check "webhook audit mode: admitted without kubeharden's warnings (exit $rc)" bash -c "[ $rc = 0 ] && ! grep -q 'Warning: kubeharden' <<<'${out//\'/}'"
  check "webhook audit mode: the API server's audit log records kubeharden's audit annotation" \
    grep -q '"validate.kubeharden.io/audit-findings":"[^"]*container-privileged' "$AUDIT_LOG"
  # failurePolicy when the webhook is down, and when it does not answer in time.
  stop kubeharden-serve
  out=$(apply_in wh-e2e examples/hardened-app/app.yaml); rc=$?
  check "webhook stopped, failurePolicy Fail: the request is refused (exit $rc)" \
    bash -c "[ $rc != 0 ] && grep -q 'failed calling webhook \"validate.kubeharden.io\"' <<<'${out//\'/}'"
  vwc Ignore 5
  out=$(apply_in wh-e2e examples/hardened-app/app.yaml); rc=$?
  check "webhook stopped, failurePolicy Ignore: the request is admitted (exit $rc)" test "$rc" = 0
  # A listener that accepts and never answers: the API server gives up after timeoutSeconds.
  setsid nohup python3 -c 'import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); c=[]; t=time.time()
while time.time()-t < 120: c.append(s.accept())' "$WH_PORT" >/dev/null 2>&1 </dev/null &
  echo $! >"$RUN/e2e-blackhole.pid"
  sleep 0.5
  vwc Fail 2
  s=$(date +%s.%N); out=$(apply_in wh-e2e examples/hardened-app/app.yaml); rc=$?; e=$(date +%s.%N)
  el=$(python3 -c "print(round($e-$s,1))")
  check "webhook not answering, timeoutSeconds 2, Fail: refused after the timeout (${el} s, exit $rc)" \
    bash -c "[ $rc != 0 ] && python3 -c 'import sys; sys.exit(not (1.8 <= $el <= 15))' && grep -qiE 'deadline|timeout' <<<'${out//\'/}'"
  vwc Ignore 2
  s=$(date +%s.%N); out=$(apply_in wh-e2e examples/hardened-app/app.yaml); rc=$?; e=$(date +%s.%N)
  el=$(python3 -c "print(round($e-$s,1))")
  check "webhook not answering, timeoutSeconds 2, Ignore: admitted after the timeout (${el} s, exit $rc)" \
    bash -c "[ $rc = 0 ] && python3 -c 'import sys; sys.exit(not (1.8 <= $el <= 15))'"
  stop e2e-blackhole
  kc delete validatingwebhookconfiguration kubeharden-e2e >/dev/null 2>&1
fi

# ------------------------------------------------------------------ deploy/ manifests
if want deploy; then
  # The namespaces exist for real (a dry-run create of a namespace does not make it usable).
  for f in deploy/webhook/namespace.yaml deploy/cronjob/namespace.yaml; do kc apply -f "$f" >/dev/null; done
  for d in deploy/rbac deploy/webhook deploy/cronjob; do
    # cert-manager's Issuer/Certificate and Kyverno's ClusterPolicy need their CRDs: not installed here.
    files=$(grep -L -E '^apiVersion: (cert-manager.io|kyverno.io)/' "$d"/*.yaml | tr '\n' ' ')
    skipped=$(grep -l -E '^apiVersion: (cert-manager.io|kyverno.io)/' "$d"/*.yaml 2>/dev/null | tr '\n' ' ')
    out=$(for f in $files; do kc apply --dry-run=server -f "$f" || echo "FAILED $f"; done 2>&1)
    check "$d passes kubectl apply --dry-run=server${skipped:+ (skipped, CRDs not installed: $skipped)}" \
      bash -c "! grep -qE 'FAILED|Error|error' <<<'${out//\'/}'"
  done
  # The Helm chart as rendered for a cluster without cert-manager or Kyverno (their CRDs are not
  # installed here): Helm-generated TLS, image verification off. Release namespace `kubeharden`
  # (created above by deploy/cronjob/namespace.yaml).
  if command -v helm >/dev/null; then
    helm template kh deploy/helm/kubeharden --namespace kubeharden \
      --set webhook.tls.mode=selfSigned --set imageVerification.enabled=false >"$WORK/chart.yaml" 2>"$WORK/chart.err"
    out=$(kc apply --dry-run=server -f "$WORK/chart.yaml" 2>&1 || echo FAILED)
    check "the Helm chart (deploy/helm/kubeharden, selfSigned TLS) passes kubectl apply --dry-run=server" \
      bash -c "[ -s '$WORK/chart.yaml' ] && ! grep -qE 'FAILED|Error|error' <<<'${out//\'/}'"
  elif [ "${KUBEHARDEN_REQUIRE_HELM:-}" = 1 ]; then
    bad "the Helm chart passes kubectl apply --dry-run=server" "helm not installed (KUBEHARDEN_REQUIRE_HELM=1)"
  else
    echo "skipped: the Helm chart's dry-run (helm not installed)"
  fi
fi

# ------------------------------------------------------------------ 4. differential tests
# kubeharden's reading of YAML values, for the `yaml` differential (the same parser as $KH).
YAML_JSON=$REPO/target/release/examples/yaml_json
if want yaml; then
  cargo build --release -q -p kubeharden-model --example yaml_json || bad "cargo build --example yaml_json"
fi
for d in rbac pss vap validation yaml; do
  want "$d" || continue
  python3 "$E2E/differential.py" "$d" --state "$DIR" --kh "$KH" --work "$WORK/$d" --yaml-json "$YAML_JSON" >"$WORK/$d.out" 2>&1; rc=$?
  grep -E '^(MISMATCH|\.\.\.|differential|warning)' "$WORK/$d.out"
  line=$(grep -E "^differential $d:" "$WORK/$d.out")
  check "differential $d: 0 mismatches" bash -c "[ $rc = 0 ] && [ -n '$line' ]"
  [ -n "$line" ] || tail -n 20 "$WORK/$d.out"
done

echo "e2e: control plane up in $T_UP s, suite in $(($(date +%s) - T0)) s"
echo "e2e: $PASS passed, $FAILN failed"
[ "$FAILN" = 0 ]
