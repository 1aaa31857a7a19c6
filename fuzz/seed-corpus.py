#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the shared corpus (../shared/corpus, or $KUBEHARDEN_CORPUS),
the repository's examples and rule fixtures. The copies are working files, ignored by git: the
shared corpus is not copied into the project.

    python3 fuzz/seed-corpus.py            # from the repository root
"""

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("KUBEHARDEN_CORPUS", ROOT.parent / "shared" / "corpus"))
OUT = ROOT / "fuzz" / "corpus"
# libFuzzer runs with -max_len=65536; larger seeds would only be cut.
MAX_SEED = 32 * 1024
MANIFEST = {".yaml", ".yml", ".json"}


def files(base, suffixes=MANIFEST, every=1):
    found = sorted(p for p in Path(base).rglob("*") if p.is_file() and p.suffix in suffixes)
    return [p for i, p in enumerate(found) if i % every == 0 and p.stat().st_size <= MAX_SEED]


def put(target, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def review(obj, operation="CREATE", old=None):
    meta = obj.get("metadata") or {}
    gv = str(obj.get("apiVersion", "v1"))
    group, _, version = gv.rpartition("/")
    request = {
        "uid": "00000000-0000-0000-0000-000000000001",
        "kind": {"group": group, "version": version, "kind": obj.get("kind", "")},
        "resource": {"group": group, "version": version, "resource": str(obj.get("kind", "")).lower() + "s"},
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", "default"),
        "operation": operation,
        "userInfo": {"username": "jane@example.com", "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": False,
    }
    body = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}
    return json.dumps(body, indent=None, separators=(",", ":"), default=str).encode()


def main():
    if not CORPUS.is_dir():
        sys.exit(f"no corpus at {CORPUS} (set KUBEHARDEN_CORPUS)")
    repo_inputs = files(ROOT / "examples") + files(ROOT / "crates/engine/tests/fixtures")
    manifests = (
        files(CORPUS / "real")
        + files(CORPUS / "vulnerable")
        + files(CORPUS / "netpol")
        + files(CORPUS / "rbac")
        + files(CORPUS / "controlplane")
        + files(CORPUS / "psa-testdata", every=25)
    )
    for p in manifests + repo_inputs:
        put("loader", p.read_bytes())
    for p in files(CORPUS / "vulnerable") + files(CORPUS / "real", every=3) + repo_inputs:
        put("fix", p.read_bytes())
    for p in files(CORPUS / "controlplane", suffixes=MANIFEST | {".conf", ".service", ".env"}):
        put("config_readers", p.read_bytes())
    for line in [
        "kube-apiserver --anonymous-auth=false --authorization-mode=Node,RBAC --audit-log-path=/var/log/audit.log",
        "/usr/bin/kubelet --read-only-port=10255 --config /var/lib/kubelet/config.yaml \\\n  --anonymous-auth true",
        "etcd --client-cert-auth=\"true\" --data-dir='/var/lib/etcd' -listen-client-urls=https://127.0.0.1:2379",
        "kube-controller-manager --use-service-account-credentials --bind-address 0.0.0.0",
        "kube-scheduler --profiling=false --bind-address=127.0.0.1",
    ]:
        put("config_readers", line.encode())
    for p in sorted((ROOT / "crates/webhook/tests/data").glob("*.json")):
        put("admission", p.read_bytes())
        put("webhook", p.read_bytes())
    for p in sorted((ROOT / "crates/webhook/tests/data/fuzz-regressions").glob("*/*")):
        put("webhook", p.read_bytes())
    # The adversary's requests: its own ignore annotations, control characters in the fields
    # that reach messages, many annotations, an UPDATE whose old object is another kind.
    evil = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p\x1b[2J", "namespace": "team-a",
                         "annotations": {"kubeharden.io/ignore": "all",
                                         "ignore-check.kube-linter.io/privileged-container": "x"}},
            "spec": {"containers": [{"name": "c\x07", "image": "evil\x1b]0;t\x07:1",
                                     "securityContext": {"privileged": True}}]}}
    put("webhook", review(evil))
    put("webhook", review(evil, "UPDATE", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}}))
    many = json.loads(json.dumps(evil))
    many["metadata"]["annotations"] = {"a%04d.example.com/k" % i: "v" for i in range(1500)}
    put("webhook", review(many))
    try:
        import yaml  # optional: wraps YAML workloads into AdmissionReviews too
    except ImportError:
        yaml = None
    for i, p in enumerate(files(CORPUS / "vulnerable") + files(CORPUS / "psa-testdata", every=50) + repo_inputs):
        try:
            text = p.read_text()
            docs = [json.loads(text)] if p.suffix == ".json" else (list(yaml.safe_load_all(text)) if yaml else [])
        except Exception:
            continue
        for obj in docs:
            if isinstance(obj, dict) and "kind" in obj:
                put("admission", review(obj))
                put("admission", review(obj, "UPDATE", obj))
                if i % 4 == 0:
                    put("webhook", review(obj))
    for target in sorted(os.listdir(OUT)):
        print(f"{target}: {len(os.listdir(OUT / target))} seeds")


if __name__ == "__main__":
    main()
