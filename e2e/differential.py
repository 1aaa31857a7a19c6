#!/usr/bin/env python3
"""Differential tests: kubeharden's offline answers against a real kube-apiserver's.

    differential.py rbac|pss|vap|validation|yaml --state DIR --kh KUBEHARDEN --work DIR [--seed N]

Each test generates inputs from a seed, asks the API server (SubjectAccessReview, dry-run creates
through PodSecurity admission and ValidatingAdmissionPolicy; for `yaml`, kubectl's manifest reader
and go-yaml, e2e/tools/yamlcheck) and kubeharden (the same objects as files), and prints one line
`differential NAME: N cases, M mismatches`, each mismatch before it as a minimal reproducer
(the first 25, or $KUBEHARDEN_E2E_SHOW). Exit 1 when a mismatch was found.
Only 127.0.0.1 is contacted (the server of e2e/up.sh).
"""
import argparse
import http.client
import json
import os
import random
import re
import ssl
import subprocess
import sys
import time
import urllib.parse

# ---------------------------------------------------------------- the API server


class Api:
    def __init__(self, state):
        pki = os.path.join(state, "root/etc/kubernetes/pki")
        port = int(os.environ.get("KUBEHARDEN_E2E_APISERVER_PORT", "16443"))
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))
        self.host, self.port = "127.0.0.1", port
        self.conn = None

    def req(self, method, path, body=None, query=None, ctype="application/json"):
        if query:
            path += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
                self.conn.request(method, path, body=data, headers={"Content-Type": ctype})
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    return r.status, json.loads(raw) if raw else {}
                except ValueError:
                    return r.status, {"message": raw.decode(errors="replace")}
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.5)

    def create(self, obj, dry_run=False, strict=False):
        q = {}
        if dry_run:
            q["dryRun"] = "All"
        if strict:
            q["fieldValidation"] = "Strict"
        return self.req("POST", collection(obj), obj, q)

    def apply_all(self, objs):
        for o in objs:
            st, body = self.create(o)
            if st == 409:  # left by an earlier run on this server: bring its labels up to date
                if o["kind"] == "Namespace":
                    api_path = collection(o) + "/" + o["metadata"]["name"]
                    self.req("PATCH", api_path, {"metadata": {"labels": o["metadata"].get("labels", {})}},
                             ctype="application/merge-patch+json")
                continue
            if st >= 300:
                raise SystemExit(f"creating {o['kind']} {o['metadata'].get('name')}: HTTP {st}: {body.get('message')}")


PLURAL = {
    "Namespace": ("/api/v1", "namespaces", False),
    "Pod": ("/api/v1", "pods", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "Deployment": ("/apis/apps/v1", "deployments", True),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRole": ("/apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "ValidatingAdmissionPolicy": ("/apis/admissionregistration.k8s.io/v1", "validatingadmissionpolicies", False),
    "ValidatingAdmissionPolicyBinding": ("/apis/admissionregistration.k8s.io/v1", "validatingadmissionpolicybindings", False),
}


def collection(obj):
    base, plural, namespaced = PLURAL[obj["kind"]]
    if namespaced:
        return f"{base}/namespaces/{obj['metadata']['namespace']}/{plural}"
    return f"{base}/{plural}"


def ns_obj(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def write_yaml(path, objs):
    # JSON is YAML: one document per object.
    with open(path, "w") as f:
        for o in objs:
            f.write("---\n" + json.dumps(o, indent=1) + "\n")


def kh(args, ok=(0, 1)):
    p = subprocess.run([ARGS.kh] + args, capture_output=True, text=True)
    if p.returncode not in ok:
        raise SystemExit(f"kubeharden {' '.join(args)}: exit {p.returncode}: {p.stderr[-2000:]}")
    return p


def wait_default_sa(api, ns):
    for _ in range(150):
        st, _ = api.req("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")
        if st == 200:
            return
        time.sleep(0.2)
    raise SystemExit(f"no default ServiceAccount in {ns} (is kube-controller-manager running?)")


def report(name, cases, mismatches, note=""):
    show = int(os.environ.get("KUBEHARDEN_E2E_SHOW", "25"))
    for m in mismatches[:show]:
        print("MISMATCH " + name + ": " + m)
    if len(mismatches) > show:
        print(f"... {len(mismatches) - show} more mismatches of {name}")
    print(f"differential {name}: {cases} cases, {len(mismatches)} mismatches" + (f" ({note})" if note else ""))
    sys.stdout.flush()
    return 1 if mismatches else 0


# ---------------------------------------------------------------- RBAC

RESOURCES = [  # (group, resource, subresource, cluster-scoped)
    ("", "pods", "", False), ("", "pods", "log", False), ("", "pods", "exec", False),
    ("", "secrets", "", False), ("", "configmaps", "", False), ("", "services", "", False),
    ("", "serviceaccounts", "token", False), ("", "nodes", "", True), ("", "namespaces", "", True),
    ("", "persistentvolumes", "", True), ("apps", "deployments", "", False),
    ("apps", "deployments", "scale", False), ("apps", "statefulsets", "scale", False),
    ("batch", "jobs", "", False), ("rbac.authorization.k8s.io", "roles", "", False),
    ("rbac.authorization.k8s.io", "clusterroles", "", True), ("example.com", "widgets", "", False),
    ("example.com", "widgets", "status", False),
]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "bind", "escalate", "impersonate"]
URLS = ["/metrics", "/logs", "/logs/kube.log", "/e2e/a", "/e2e/a/b", "/healthz/e2e"]


def gen_rule(rng, cluster):
    if cluster and rng.random() < 0.15:
        urls = rng.sample(["/metrics", "/logs/*", "/e2e/*", "/e2e/a", "*"], rng.randint(1, 2))
        return {"nonResourceURLs": urls, "verbs": rng.choice([["get"], ["get", "post"], ["*"]])}
    groups = ["*"] if rng.random() < 0.15 else sorted({rng.choice(["", "apps", "batch", "example.com", "rbac.authorization.k8s.io"]) for _ in range(rng.randint(1, 2))})
    res = set()
    for _ in range(rng.randint(1, 3)):
        x = rng.random()
        if x < 0.1:
            res.add("*")
        elif x < 0.18:
            res.add(rng.choice(["*/scale", "*/status", "pods/*"]))
        else:
            g, r, s, _ = rng.choice(RESOURCES)
            res.add(r + ("/" + s if s else ""))
    verbs = ["*"] if rng.random() < 0.12 else sorted(set(rng.sample(VERBS, rng.randint(1, 4))))
    rule = {"apiGroups": groups, "resources": sorted(res), "verbs": verbs}
    if rng.random() < 0.2:
        rule["resourceNames"] = rng.sample(["n1", "n2", "n3"], rng.randint(1, 2))
    return rule


def rbac(api):
    rng = random.Random(ARGS.seed)
    P = f"dr{ARGS.seed}"  # prefix of every generated object (several seeds can share a server)
    nss = [f"{P}-a", f"{P}-b", f"{P}-c"]
    users = [f"{P}-u{i}" for i in range(6)]
    groups = [f"{P}-g{i}" for i in range(3)]
    sas = [(nss[0], "sa0"), (nss[1], "sa1"), (nss[0], "sa2")]
    objs = [ns_obj(n) for n in nss]
    objs += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": n, "namespace": ns}} for ns, n in sas]

    def subject():
        x = rng.random()
        if x < 0.45:
            return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": rng.choice(users)}
        if x < 0.7:
            return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": rng.choice(groups)}
        if x < 0.78:
            ns = rng.choice(nss[:2])
            return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                    "name": rng.choice(["system:serviceaccounts", f"system:serviceaccounts:{ns}"])}
        ns, n = rng.choice(sas)
        return {"kind": "ServiceAccount", "name": n, "namespace": ns}

    croles = []
    for i in range(10):
        labels = {}
        if rng.random() < 0.5:
            labels[f"{P}-agg-{rng.randint(0, 1)}"] = "true"
        croles.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": f"{P}-cr{i}", "labels": labels},
                       "rules": [gen_rule(rng, True) for _ in range(rng.randint(1, 3))]})
    for j in range(2):  # aggregated ClusterRoles, filled by the clusterrole-aggregation controller
        croles.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": f"{P}-agg{j}"},
                       "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {f"{P}-agg-{j}": "true"}}]},
                       "rules": []})
    roles = []
    for ns in nss:
        for i in range(2):
            roles.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                          "metadata": {"name": f"{P}-r{i}", "namespace": ns},
                          "rules": [gen_rule(rng, False) for _ in range(rng.randint(1, 3))]})
    binds = []
    for i in range(10):
        ns = rng.choice(nss)
        if rng.random() < 0.5:
            ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": rng.choice([f"{P}-r0", f"{P}-r1", f"{P}-missing"])}
        else:
            ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": rng.choice([c["metadata"]["name"] for c in croles])}
        binds.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                      "metadata": {"name": f"{P}-rb{i}", "namespace": ns}, "roleRef": ref,
                      "subjects": [subject() for _ in range(rng.randint(1, 3))]})
    for i in range(5):
        name = rng.choice([c["metadata"]["name"] for c in croles] + [f"{P}-missing"])
        binds.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                      "metadata": {"name": f"{P}-crb{i}"},
                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                      "subjects": [subject() for _ in range(rng.randint(1, 2))]})
    graph = objs + croles + roles + binds
    path = os.path.join(ARGS.work, "rbac-graph.yaml")
    write_yaml(path, graph)
    api.apply_all(graph)
    try:
        return rbac_cases(api, rng, P, nss, users, groups, sas, croles, roles, binds, path)
    finally:
        # Cluster-scoped objects (and bindings to the shared system:serviceaccounts groups) would
        # leak into the next seed's answers on the same server: remove them.
        for o in graph:
            if o["kind"] in ("ClusterRole", "ClusterRoleBinding", "Namespace"):
                api.req("DELETE", collection(o) + "/" + o["metadata"]["name"])


def rbac_cases(api, rng, P, nss, users, groups, sas, croles, roles, binds, path):

    # The aggregation controller fills the aggregated roles: wait until it has.
    want = {}
    for j in range(2):
        rules = []
        for c in sorted(croles, key=lambda c: c["metadata"]["name"]):
            if c["metadata"].get("labels", {}).get(f"{P}-agg-{j}") == "true":
                for r in c["rules"]:
                    if r not in rules:
                        rules.append(r)
        want[f"{P}-agg{j}"] = len(rules)
    for _ in range(150):
        done = True
        for name, n in want.items():
            st, body = api.req("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")
            if len(body.get("rules") or []) != n:
                done = False
        if done:
            break
        time.sleep(0.2)
    else:
        print(f"warning: aggregated ClusterRoles not filled as expected: {want}")

    # The universe of subjects and how the API server sees each.
    universe = [("User", u, {"user": u}) for u in users]
    universe += [("Group", g, {"user": f"{P}-nobody", "groups": [g]}) for g in groups]
    universe += [("ServiceAccount", f"{ns}/{n}", {"user": f"system:serviceaccount:{ns}:{n}",
                                                  "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]})
                 for ns, n in sas]

    queries = []
    for _ in range(ARGS.queries):
        if rng.random() < 0.08:
            queries.append({"url": rng.choice(URLS), "verb": rng.choice(["get", "post", "put"])})
            continue
        g, r, s, cluster = rng.choice(RESOURCES)
        q = {"group": g, "resource": r, "subresource": s, "verb": rng.choice(VERBS),
             "namespace": "" if cluster or rng.random() < 0.2 else rng.choice(nss),
             "name": rng.choice(["", "", "n1", "n2", "other"])}
        if rng.random() < 0.5:
            # aimed at what some role grants, so that many answers are "allowed"
            role = rng.choice(croles + roles)
            rules = [x for x in role["rules"] if "resources" in x]
            if rules:
                rule = rng.choice(rules)
                verb = rng.choice(rule["verbs"])
                q["verb"] = rng.choice(VERBS) if verb == "*" else verb
                grp = rng.choice(rule["apiGroups"])
                q["group"] = rng.choice(["", "apps", "example.com"]) if grp == "*" else grp
                res = rng.choice(rule["resources"])
                if res == "*":
                    res = rng.choice(RESOURCES)[1]
                elif res.startswith("*/"):
                    res = rng.choice(["deployments", "pods", "widgets"]) + res[1:]
                q["resource"], _, q["subresource"] = res.partition("/")
                if q["subresource"] == "*":
                    q["subresource"] = rng.choice(["log", "status"])
                if rule.get("resourceNames"):
                    q["name"] = rng.choice(rule["resourceNames"] + [""])
                if role["kind"] == "Role":
                    q["namespace"] = role["metadata"]["namespace"]
                cluster_scoped = {r for _, r, _, c in RESOURCES if c} | {"persistentvolumes", "clusterroles"}
                named_namespace = q["resource"] == "namespaces" and q.get("name")
                if q["resource"] in cluster_scoped and not named_namespace and os.environ.get("KUBEHARDEN_E2E_RBAC_NAMESPACED_CLUSTER_RESOURCES") != "1":
                    # Known difference (docs/testing.md): a SubjectAccessReview may give any
                    # cluster-scoped resource a namespace, and the authorizer then lets a
                    # RoleBinding of that namespace grant it; no real request does that except
                    # `namespaces/NAME` (namespace NAME), which kubeharden models. Other such
                    # requests are asked cluster-wide unless asked for.
                    q["namespace"] = ""
        queries.append(q)

    def sar(q, who):
        spec = dict(who)
        if "url" in q:
            spec["nonResourceAttributes"] = {"path": q["url"], "verb": q["verb"]}
        else:
            spec["resourceAttributes"] = {k: q[k] for k in ("namespace", "verb", "group", "resource", "subresource", "name") if q[k]}
        st, body = api.req("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                           {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec})
        if st != 201:
            raise SystemExit(f"SubjectAccessReview: HTTP {st}: {body}")
        return bool(body["status"].get("allowed"))

    def res_arg(q):
        return q["resource"] + ("." + q["group"] if q["group"] else "")

    def scope_args(q):
        out = []
        if "url" in q:
            return ["--non-resource-url", q["url"]]
        out += ["-n", q["namespace"]] if q["namespace"] else ["-A"]
        if q["subresource"]:
            out += ["--subresource", q["subresource"]]
        if q["name"]:
            out += ["--name", q["name"]]
        return out

    def describe(q):
        if "url" in q:
            return f"{q['verb']} {q['url']}"
        r = res_arg(q) + (f"/{q['subresource']}" if q["subresource"] else "")
        return f"{q['verb']} {r}" + (f" name={q['name']}" if q["name"] else "") + \
            (f" in namespace {q['namespace']}" if q["namespace"] else " cluster-wide")

    def reproducer(kind, name):
        # the bindings naming this subject (or a group it belongs to) and their roles
        keys = {(kind, name)}
        if kind == "ServiceAccount":
            ns = name.split("/")[0]
            keys |= {("Group", "system:serviceaccounts"), ("Group", f"system:serviceaccounts:{ns}")}
        out = []
        for b in binds:
            for s in b["subjects"]:
                sk = (s["kind"], f"{s['namespace']}/{s['name']}" if s["kind"] == "ServiceAccount" else s["name"])
                if sk in keys:
                    ref = b["roleRef"]
                    role = [x for x in croles + roles if x["kind"] == ref["kind"] and x["metadata"]["name"] == ref["name"]
                            and (ref["kind"] == "ClusterRole" or x["metadata"].get("namespace") == b["metadata"].get("namespace"))]
                    out.append({"binding": b["metadata"], "roleRef": ref, "rules": role[0]["rules"] if role else None,
                                "aggregationRule": role[0].get("aggregationRule") if role else None})
        return json.dumps(out)

    cases = 0
    allowed = 0
    mismatches = []
    for q in queries:
        verb = q["verb"]
        p = kh(["rbac", "who-can", verb] + ([] if "url" in q else [res_arg(q)]) + scope_args(q) + ["--format", "json", path], ok=(0,))
        listed = set()
        for s in json.loads(p.stdout)["subjects"]:
            listed.add((s["kind"], f"{s['namespace']}/{s['name']}" if s["kind"] == "ServiceAccount" else s["name"]))
        for kind, name, who in universe:
            server = sar(q, who)
            allowed += server
            ours = (kind, name) in listed
            if kind == "ServiceAccount":
                ns = name.split("/")[0]
                ours = ours or ("Group", "system:serviceaccounts") in listed or ("Group", f"system:serviceaccounts:{ns}") in listed
            cases += 1
            if server != ours:
                mismatches.append(f"who-can {describe(q)}: {kind} {name}: API server {'allows' if server else 'denies'}, "
                                  f"kubeharden {'lists it' if ours else 'does not'}; bindings: {reproducer(kind, name)}")
        # `rbac can` for one subject of the universe, chosen at random
        kind, name, who = rng.choice(universe)
        subj = {"User": f"user:{name}", "Group": f"group:{name}",
                "ServiceAccount": f"serviceaccount:{name}"}[kind]
        if kind == "Group":
            subj = f"user:{P}-nobody"
        args = ["rbac", "can", subj]
        if kind == "Group":
            args += ["--group", name]
        if "url" in q:
            args += [verb, q["url"]]
        else:
            args += [verb, res_arg(q)] + scope_args(q)
        p = kh(args + [path])
        ours = p.returncode == 0
        server = sar(q, who)
        cases += 1
        if server != ours:
            mismatches.append(f"can {subj} {describe(q)}: API server {'allows' if server else 'denies'}, kubeharden says "
                              f"{'yes' if ours else 'no'} ({p.stdout.strip()[:300]}); bindings: {reproducer(kind, name)}")
    return report("rbac", cases, mismatches, f"{allowed} allowed by the API server")


# ---------------------------------------------------------------- Pod Security


def gen_pod(rng, i, ns):
    caps = ["NET_BIND_SERVICE", "CHOWN", "NET_ADMIN", "SYS_TIME", "KILL", "AUDIT_WRITE", "SETUID"]

    def seccomp():
        return rng.choice([{"type": "RuntimeDefault"}, {"type": "Unconfined"},
                           {"type": "Localhost", "localhostProfile": "profiles/p.json"}])

    def sc(container):
        s = {}
        if rng.random() < 0.15:
            s["privileged"] = rng.random() < 0.5
        if rng.random() < 0.6:
            s["allowPrivilegeEscalation"] = rng.random() < 0.3
        if s.get("privileged") and s.get("allowPrivilegeEscalation") is False:
            del s["allowPrivilegeEscalation"]  # the API server rejects the pair (validation differential)
        if rng.random() < 0.6:
            c = {}
            if rng.random() < 0.7:
                c["drop"] = rng.choice([["ALL"], ["all"], ["NET_RAW"], ["ALL", "NET_RAW"]])
            if rng.random() < 0.4:
                c["add"] = rng.sample(caps, rng.randint(1, 2))
            s["capabilities"] = c
        if rng.random() < 0.5:
            s["runAsNonRoot"] = rng.random() < 0.7
        if rng.random() < 0.3:
            s["runAsUser"] = rng.choice([0, 1000, 65534])
        if rng.random() < 0.4:
            s["seccompProfile"] = seccomp()
        if rng.random() < 0.1:
            s["seLinuxOptions"] = {"type": rng.choice(["container_t", "spc_t", "container_init_t", "unconfined_t"])}
        if rng.random() < 0.1:
            s["appArmorProfile"] = rng.choice([{"type": "RuntimeDefault"}, {"type": "Unconfined"},
                                               {"type": "Localhost", "localhostProfile": "k8s-apparmor"}])
        if rng.random() < 0.1:
            s["procMount"] = "Default"
        return s

    def container(name):
        c = {"name": name, "image": "registry.example/app:1"}
        if rng.random() < 0.85:
            c["securityContext"] = sc(True)
        if rng.random() < 0.15:
            c["ports"] = [{"containerPort": 8080, "hostPort": 8080}]
        return c

    spec = {"containers": [container("c0")] + ([container("c1")] if rng.random() < 0.3 else [])}
    if rng.random() < 0.15:
        spec["initContainers"] = [container("init")]
    for k in ("hostNetwork", "hostPID", "hostIPC"):
        if rng.random() < 0.08:
            spec[k] = True
    psc = {}
    if rng.random() < 0.5:
        psc["runAsNonRoot"] = rng.random() < 0.8
    if rng.random() < 0.5:
        psc["seccompProfile"] = seccomp()
    if rng.random() < 0.2:
        psc["runAsUser"] = rng.choice([0, 1000])
    if rng.random() < 0.1:
        psc["sysctls"] = [{"name": rng.choice(["kernel.shm_rmid_forced", "net.ipv4.ip_unprivileged_port_start",
                                               "net.ipv4.ping_group_range", "kernel.msgmax", "net.ipv4.tcp_keepalive_time"]),
                           "value": "0"}]
    if rng.random() < 0.05:
        psc["seLinuxOptions"] = {"user": "system_u"}
    if psc:
        spec["securityContext"] = psc
    if rng.random() < 0.4:
        spec["volumes"] = [rng.choice([{"name": "v", "emptyDir": {}}, {"name": "v", "hostPath": {"path": "/etc"}},
                                       {"name": "v", "configMap": {"name": "c"}}, {"name": "v", "secret": {"secretName": "s"}},
                                       {"name": "v", "projected": {"sources": []}},
                                       {"name": "v", "nfs": {"server": "nfs.example", "path": "/"}},
                                       {"name": "v", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}])]
    if rng.random() < 0.05:
        spec["hostUsers"] = rng.random() < 0.5
    meta = {"name": f"p{i}", "namespace": ns}
    if rng.random() < 0.05 and os.environ.get("KUBEHARDEN_E2E_PSS_APPARMOR_ANNOTATION") != "0":
        # On Pod create the API server copies this annotation into the container's
        # securityContext.appArmorProfile before PodSecurity admission runs, so it reports both;
        # `kubeharden pss` judges a Pod as stored (pss::evaluate_created) and must agree.
        meta["annotations"] = {"container.apparmor.security.beta.kubernetes.io/c0": rng.choice(["runtime/default", "unconfined", "localhost/x"])}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def pss(api):
    rng = random.Random(ARGS.seed)
    levels = ["privileged", "baseline", "restricted"]
    pods = [gen_pod(rng, i, "") for i in range(ARGS.pods)]
    cases = denied = 0
    mismatches = []
    for level in levels:
        ns = f"dp-{level}"
        api.apply_all([ns_obj(ns, {"pod-security.kubernetes.io/enforce": level,
                                   "pod-security.kubernetes.io/enforce-version": "latest"})])
        wait_default_sa(api, ns)
        mine = []
        for p in pods:
            q = json.loads(json.dumps(p))
            q["metadata"]["namespace"] = ns
            mine.append(q)
        path = os.path.join(ARGS.work, f"pss-{level}.yaml")
        write_yaml(path, mine)
        ours = {r["name"]: r for r in json.loads(kh(["pss", "--level", level, "--format", "json", path]).stdout)["results"]}
        for p in mine:
            st, body = api.create(p, dry_run=True)
            name = p["metadata"]["name"]
            if st == 422:
                continue  # invalid: the validation differential's business
            if st not in (201, 403):
                raise SystemExit(f"dry-run create of {name}: HTTP {st}: {body.get('message')}")
            cases += 1
            denied += st == 403
            server_msg = None if st == 201 else body.get("message")
            r = ours.get(name)
            our_msg = None if r is None or r["allowed"] else r["message"]
            if server_msg != our_msg:
                mismatches.append(f"level {level}, pod {json.dumps(p['spec'])} {json.dumps(p['metadata'].get('annotations'))}: "
                                  f"API server: {server_msg!r}; kubeharden: {our_msg!r}")
    return report("pss", cases, mismatches, f"{denied} denied by the API server")


# ---------------------------------------------------------------- ValidatingAdmissionPolicy

def vap_policies():
    """(name, policy spec, binding extras): the Kubernetes documentation's examples and more."""
    dep = {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}]}
    return [
        # docs: "demo-policy.example.com"
        ("replicas-limit", {"matchConstraints": dep, "validations": [{"expression": "object.spec.replicas <= 5"}]}, {}),
        ("replicas-message", {"matchConstraints": dep, "validations": [
            {"expression": "object.spec.replicas <= 3", "messageExpression": "'replicas must be at most 3, got ' + string(object.spec.replicas)"}]}, {}),
        ("replicas-reason", {"matchConstraints": dep, "validations": [
            {"expression": "object.spec.replicas >= 1", "message": "at least one replica", "reason": "Forbidden"}]}, {}),
        # docs: variables (image registry)
        ("image-registry", {"matchConstraints": dep, "variables": [
            {"name": "containers", "expression": "object.spec.template.spec.containers"},
            {"name": "bad", "expression": "variables.containers.filter(c, !c.image.startsWith('registry.example.com/'))"}],
            "validations": [{"expression": "size(variables.bad) == 0",
                             "messageExpression": "'images not from registry.example.com: ' + variables.bad.map(c, c.image).join(', ')"}]}, {}),
        # docs: required label, with two validations
        ("labels", {"matchConstraints": dep, "validations": [
            {"expression": "has(object.metadata.labels) && 'env' in object.metadata.labels", "message": "label env is required"},
            {"expression": "!has(object.metadata.labels) || !('env' in object.metadata.labels) || object.metadata.labels['env'] in ['prod', 'dev']",
             "message": "env must be prod or dev"}]}, {}),
        # docs: matchConditions (exclude objects labelled skip)
        ("match-conditions", {"matchConstraints": dep, "matchConditions": [
            {"name": "not-skipped", "expression": "!has(object.metadata.labels) || !('skip' in object.metadata.labels)"}],
            "validations": [{"expression": "object.spec.replicas % 2 == 1", "message": "odd replicas only"}]}, {}),
        # a namespaceSelector of the policy
        ("prod-only", {"matchConstraints": dict(dep, namespaceSelector={"matchLabels": {"env": "prod"}}),
                       "validations": [{"expression": "object.spec.template.spec.containers.all(c, has(c.resources) && has(c.resources.limits))",
                                        "message": "prod containers need limits"}]}, {}),
        # an objectSelector of the policy
        ("object-selector", {"matchConstraints": dict(dep, objectSelector={"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}),
                             "validations": [{"expression": "object.spec.replicas >= 2", "message": "web tier needs 2 replicas"}]}, {}),
        # docs: paramKind with a ConfigMap parameter
        ("params", {"matchConstraints": dep, "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
                    "validations": [{"expression": "object.spec.replicas <= int(params.data.maxReplicas)",
                                     "messageExpression": "'at most ' + params.data.maxReplicas + ' replicas'"}]},
         {"paramRef": {"name": "limits", "parameterNotFoundAction": "Deny"}}),
        # pods: host namespaces and privileged, over every container kind
        ("pod-host", {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]},
                      "validations": [
                          {"expression": "!has(object.spec.hostNetwork) || !object.spec.hostNetwork", "message": "no hostNetwork"},
                          {"expression": "object.spec.containers.all(c, !has(c.securityContext) || !has(c.securityContext.privileged) || !c.securityContext.privileged)",
                           "message": "no privileged containers"}]}, {}),
        # the name of the object, the request's operation and namespace
        ("request", {"matchConstraints": dep, "validations": [
            {"expression": "request.operation == 'CREATE' && object.metadata.name.startsWith(request.namespace.split('-')[0])",
             "messageExpression": "'name ' + object.metadata.name + ' must start with ' + request.namespace.split('-')[0]"}]}, {}),
        # excludeResourceRules and resourceNames
        ("exclude", {"matchConstraints": dict(dep, excludeResourceRules=[{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"], "resourceNames": ["d0", "d1", "d2"]}]),
                     "validations": [{"expression": "object.spec.replicas != 4", "message": "not 4"}]}, {}),
    ]


def gen_deploy(rng, i, ns):
    labels = {}
    if rng.random() < 0.6:
        labels["env"] = rng.choice(["prod", "dev", "test"])
    if rng.random() < 0.2:
        labels["skip"] = "yes"
    if rng.random() < 0.4:
        labels["tier"] = rng.choice(["web", "db"])
    cs = []
    for k in range(rng.randint(1, 2)):
        c = {"name": f"c{k}", "image": rng.choice(["registry.example.com/app:1", "docker.io/nginx", "registry.example.com/side:2", "ghcr.io/x/y"])}
        if rng.random() < 0.5:
            c["resources"] = {"limits": {"cpu": "1"}} if rng.random() < 0.7 else {"requests": {"cpu": "1"}}
        cs.append(c)
    meta = {"name": rng.choice(["d", "vap", "x"]) + str(i), "namespace": ns}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"replicas": rng.randint(0, 7), "selector": {"matchLabels": {"app": "a"}},
                     "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": cs}}}}


def gen_vap_pod(rng, i, ns):
    spec = {"containers": [{"name": "c", "image": "registry.example.com/app:1"}]}
    if rng.random() < 0.4:
        spec["hostNetwork"] = rng.random() < 0.6
    if rng.random() < 0.5:
        spec["containers"][0]["securityContext"] = {"privileged": rng.random() < 0.5}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": ns}, "spec": spec}


def vap(api):
    rng = random.Random(ARGS.seed)
    policies = vap_policies()
    setup = []
    pol_objs = []
    per = ARGS.vap_objects
    cases_in = []  # (policy name, object)
    for k, (name, spec, bextra) in enumerate(policies):
        ns_prod, ns_dev = f"vap{k}-prod", f"vap{k}-dev"
        for n, env in ((ns_prod, "prod"), (ns_dev, "dev")):
            setup.append(ns_obj(n, {"env": env, "vap-case": str(k), "pod-security.kubernetes.io/enforce": "privileged"}))
        setup.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits", "namespace": ns_prod}, "data": {"maxReplicas": "4"}})
        setup.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "limits", "namespace": ns_dev}, "data": {"maxReplicas": "2"}})
        pname, bname = f"e2e-{name}", f"e2e-{name}-binding"
        pol_objs.append({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
                         "metadata": {"name": pname}, "spec": dict(spec, failurePolicy="Fail")})
        bspec = {"policyName": pname, "validationActions": ["Deny"],
                 "matchResources": {"namespaceSelector": {"matchLabels": {"vap-case": str(k)}}}}
        bspec.update(bextra)
        pol_objs.append({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
                         "metadata": {"name": bname}, "spec": bspec})
        for i in range(per):
            ns = ns_prod if rng.random() < 0.5 else ns_dev
            obj = gen_vap_pod(rng, i, ns) if name == "pod-host" else gen_deploy(rng, i, ns)
            cases_in.append((pname, bname, obj))
    api.apply_all(setup)
    for k in range(len(policies)):
        wait_default_sa(api, f"vap{k}-prod")
        wait_default_sa(api, f"vap{k}-dev")
    api.apply_all(pol_objs)
    ppath = os.path.join(ARGS.work, "vap-policies.yaml")
    ipath = os.path.join(ARGS.work, "vap-objects.yaml")
    write_yaml(ppath, pol_objs + [o for o in setup if o["kind"] == "ConfigMap"])
    write_yaml(ipath, [o for o in setup if o["kind"] == "Namespace"] + [o for _, _, o in cases_in])
    # The API server compiles policies asynchronously: wait until each binding denies a probe.
    probe = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "probe", "namespace": "vap0-dev"},
             "spec": {"replicas": 7, "selector": {"matchLabels": {"app": "a"}},
                      "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    for _ in range(100):
        st, _ = api.create(probe, dry_run=True)
        if st != 201:
            break
        time.sleep(0.3)
    time.sleep(2)  # the other bindings were created in the same breath; let them settle too

    p = kh(["scan", "--policy", ppath, "--rules", "vap/*", "--no-config", "--format", "json", ipath])
    ours = {}
    for f in json.loads(p.stdout).get("findings", []):
        if not f["rule"].startswith("vap/"):
            continue
        key = finding_object(f)
        ours.setdefault(key, []).append(f)
    cases = denied = 0
    mismatches = []
    for pname, bname, obj in cases_in:
        st, body = api.create(obj, dry_run=True)
        if st == 422 and "ValidatingAdmissionPolicy" not in (body.get("message") or ""):
            raise SystemExit(f"{obj['metadata']}: invalid object: {body.get('message')}")
        server = None if st == 201 else body.get("message")
        if server:
            # The API server wraps the policy's denial as `<resource> "<name>" is forbidden: …`
            # (admission.NewForbidden); the denial itself is what kubeharden reports.
            server = re.sub(r'^\S+ "' + re.escape(obj["metadata"]["name"]) + r'" is forbidden: ', "", server)
            # The reason is the HTTP status; kubeharden appends one other than Invalid (422).
            reason = {403: "Forbidden", 401: "Unauthorized", 413: "RequestEntityTooLarge"}.get(st)
            if reason:
                server += f" (reason: {reason})"
        key = (obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"])
        denied += server is not None
        mine = [f for f in ours.get(key, []) if f["rule"] == f"vap/{pname}/{bname}"]
        our = mine[0]["message"] if mine else None
        cases += 1
        if server != our:
            mismatches.append(f"policy {pname}: {json.dumps(obj)}: API server (HTTP {st}): {server!r}; kubeharden: "
                              f"{[f['message'] for f in mine]!r}")
    return report("vap", cases, mismatches, f"{denied} denied by the API server")


def finding_object(f):
    o = f.get("subject") or {}
    return (o.get("kind"), o.get("namespace") or "", o.get("name"))


# ---------------------------------------------------------------- object validation

def validation(api):
    """Manifests the API server rejects (422/400) against kubeharden's input warnings."""
    rng = random.Random(ARGS.seed)
    ns = "dv"
    api.apply_all([ns_obj(ns, {"pod-security.kubernetes.io/enforce": "privileged"})])
    wait_default_sa(api, ns)
    objs = []
    for i in range(ARGS.pods):
        c = {"name": "c", "image": "registry.example/app:1"}
        spec = {"containers": [c]}
        kind = rng.randrange(9)
        if kind == 0:
            c["securityContext"] = {"privileged": True, "allowPrivilegeEscalation": rng.random() < 0.5}
        elif kind == 1:
            c["securityContext"] = {"allowPrivilegeEscalation": rng.random() < 0.5,
                                    "capabilities": {"add": [rng.choice(["CAP_SYS_ADMIN", "SYS_ADMIN", "NET_ADMIN"])]}}
        elif kind == 2:
            spec["containers"].append({"name": rng.choice(["c", "d"]), "image": "x"})
        elif kind == 3:
            c["volumeMounts"] = [{"name": rng.choice(["v", "w"]), "mountPath": "/data"}]
            spec["volumes"] = [{"name": "v", "emptyDir": {}}]
        elif kind == 4:
            spec["hostNetwork"] = rng.random() < 0.7
            c["ports"] = [{"containerPort": 8080, "hostPort": rng.choice([8080, 9090])}]
        elif kind == 5:
            spec["volumes"] = [{"name": "v", "emptyDir": {}}, {"name": rng.choice(["v", "w"]), "emptyDir": {}}]
        elif kind == 6:
            c["imagePullPolicy"] = rng.choice(["Always", "Allways", "IfNotPresent", "never"])
        elif kind == 7:
            c["ports"] = [{"name": "http", "containerPort": 80}, {"name": rng.choice(["http", "metrics"]), "containerPort": 81}]
        else:
            c["volumeMounts"] = [{"name": "v", "mountPath": "/a"}, {"name": "v", "mountPath": rng.choice(["/a", "/b"])}]
            spec["volumes"] = [{"name": "v", "emptyDir": {}}]
        objs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"v{i}", "namespace": ns}, "spec": spec})
    path = os.path.join(ARGS.work, "validation.yaml")
    write_yaml(path, objs)
    p = kh(["scan", "--no-config", "--format", "json", path], ok=(0, 1, 2))
    rejected = 0
    warned = {}
    for d in json.loads(p.stdout).get("diagnostics", []):
        msg = d.get("message", "")
        m = re.search(r"Pod/" + ns + r"/(v\d+):", msg)
        if m and ("the API server rejects" in msg or "rejects the object" in msg):
            warned.setdefault(m.group(1), []).append(msg)
    cases = 0
    mismatches = []
    for o in objs:
        st, body = api.create(o, dry_run=True, strict=True)
        name = o["metadata"]["name"]
        if st not in (201, 400, 422):
            raise SystemExit(f"dry-run create of {name}: HTTP {st}: {body.get('message')}")
        cases += 1
        server_rejects = st != 201
        rejected += server_rejects
        ours = name in warned
        if server_rejects != ours:
            mismatches.append(f"{json.dumps(o['spec'])}: API server: {'HTTP %d %s' % (st, body.get('message')) if server_rejects else 'accepted'}; "
                              f"kubeharden: {warned.get(name) or 'no input warning saying the server rejects it'}")
    return report("validation", cases, mismatches, f"{rejected} rejected by the API server")


# ---------------------------------------------------------------- YAML

WORDS = ["a", "b-c", "x1", "\"q\"", "'s'", "true", "8080", "/bin/sh", "-c"]


def gen_flow(rng, depth, min_indent):
    """A flow collection spread over lines at random indentations, the closing bracket too."""
    seq = rng.random() < 0.6
    items = []
    for _ in range(rng.randint(1, 3)):
        if depth < 2 and rng.random() < 0.2:
            item = gen_flow(rng, depth + 1, min_indent)
        else:
            item = rng.choice(WORDS) if seq else f"{rng.choice(['k', 'x', 'n-1'])}{len(items)}: {rng.choice(WORDS)}"
        items.append(item)
    out = "[" if seq else "{"
    for i, item in enumerate(items):
        sep = "\n" + " " * rng.randint(0, min_indent + 4) if rng.random() < 0.7 else " "
        out += sep + item + ("," if i < len(items) - 1 or rng.random() < 0.3 else "")
    out += ("\n" + " " * rng.randint(0, min_indent + 4) if rng.random() < 0.7 else " ") + ("]" if seq else "}")
    return out


def gen_yaml_case(rng, i):
    """A ConfigMap-like document whose values are written as people write them: flow collections
    and quoted scalars continued on lines at any indentation, plain scalars continued in block
    context (indentation matters there), mappings dedented (an error for both); sometimes a `...`
    line and text after it, broken or not."""
    depth = rng.randint(0, 3)
    indent = 2 * (depth + 1)
    lines = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:"]
    pad = "  "
    for d in range(depth):
        lines.append(pad * (d + 1) + f"n{d}:")
    for j in range(rng.randint(1, 3)):
        form = rng.random()
        key = pad * (depth + 1) + f"k{j}: "
        if form < 0.45:
            value = gen_flow(rng, 0, indent)
        elif form < 0.7:
            q = rng.choice(['"', "'"])
            value = q + "one" + "\n" + " " * rng.randint(0, indent + 2) + "two" + q
        elif form < 0.85:
            value = "one\n" + " " * rng.randint(0, indent + 2) + "two"
        else:
            value = "v\n" + " " * rng.randint(0, indent + 2) + f"z{j}: w"
        lines.append(key + value)
    text = "\n".join(lines) + "\n"
    if rng.random() < 0.15:
        # After a `...` line, kubectl reads nothing until a `---` line: not even broken YAML.
        text += "...\n" + rng.choice(["z: [\n", "z: 1\n", "  - a\n b: {\n", "# end\n"])
    return text


# Scalars as people (and adversaries) spell them: YAML 1.1 booleans, octals, hexadecimals,
# binaries, underscores, sexagesimals, infinities, timestamps, tags, quoting, integers past 64
# bits. Each is read as a value and as a mapping key.
SCALARS = [
    "yes", "Yes", "YES", "no", "No", "on", "On", "ON", "off", "Off", "y", "Y", "n", "N",
    "true", "True", "TRUE", "false", "False", "tRue", "~", "null", "Null", "NULL", "",
    "0", "-0", "+0", "00", "007", "08", "0o17", "0O17", "017", "-017", "0x1F", "0X1f", "-0x1F",
    "0b101", "-0b101", "+12", "1_000", "1__0", "_1", "1_", "0x_1F", "0b1_0", "0_17",
    "1:30", "1:30:00", "-1:30", "190:20:30", "1:60", "1:30.5",
    "0.5", ".5", "5.", "-.5", "+.5", "1e3", "1E3", "1.0e+3", "-1.5e-3", "1e", "1_000.5", "1.2.3",
    ".inf", "-.Inf", "+.inf", ".INF", ".NaN", ".nan", "inf", "nan",
    "2001-12-14 21:59:43.10 -5",
    "=", "<<", '"<<"', "'<<'", "!!merge <<", "-", "0x", "0b", "0o",
    "'yes'", '"on"', "'0x1F'", '"1e3"', "!!str yes", "!!str 1", '!!int "12"', "!!bool yes",
    "!!float 1", "!!null ''", "!!bool 'on'", '!!int "0o17"', '!!float "1e3"',
    # Left out, read differently (docs/testing.md, "Known differences"): `!!binary` (go-yaml
    # decodes the base64), timestamps as values (go-yaml makes them RFC 3339 times).
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "0xFFFFFFFFFFFFFFFF", "0x10000000000000000",
    "0777777777777777777777", "1e400", "-1e400", "4.9e-324", "1e-400",
]


def gen_value_case(rng, i):
    """A document whose values and keys are scalars of SCALARS, flat, in flow collections and
    under anchors and merge keys, as a Pod's fields would hold them."""
    pick = lambda: rng.choice(SCALARS)
    lines = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: v{i}\nspec:"]
    for j in range(rng.randint(1, 4)):
        lines.append(f"  f{j}: {pick()}")
    # One key per mapping: keys of two Go types that convert to one string (`1_000` and
    # `!!float "1e3"`, both "1000") make kubectl's JSON depend on Go's map order.
    lines.append("  keys:")
    for _ in range(rng.randint(1, 3)):
        lines.append(f"  - {pick()}: {pick()}")
    # A key written twice the same way: the last value is the one that remains (but NaN: two
    # NaN keys are two entries of a Go map, and which one JSON gets depends on Go's map order).
    key = rng.choice([k for k in SCALARS if k.lower() != ".nan"])
    lines.append(f"  twice:\n    {key}: {pick()}\n    {key}: {pick()}")
    lines.append(f"  flow: [{pick()}, {pick()}, {{k: {pick()}}}]")
    if rng.random() < 0.3:
        lines.append(f"  base: &b {{a: {pick()}, b: {pick()}}}")
        lines.append(f"  merged: {{<<: *b, b: {pick()}}}")
    return "\n".join(lines) + "\n"


def yaml_answers(argv, paths):
    """Each file's answer from `argv` (yamlcheck -json, or kubeharden's yaml_json): path ->
    (None if read, else its error; the JSON of its documents)."""
    out = {}
    for k in range(0, len(paths), 500):
        p = subprocess.run(argv + paths[k:k + 500], capture_output=True, text=True, check=True)
        docs = {}
        for line in p.stdout.splitlines():
            parts = line.split("\t", 2)
            if parts[0] == "DOC":
                docs.setdefault(parts[1], []).append(json.loads(parts[2]))
            else:
                out[parts[1]] = (parts[2] if parts[0] == "ERR" else None, docs.get(parts[1], []))
    return out


def first_difference(a, b, ptr=""):
    """The JSON pointer of the first place two values differ (`true` is no `1`, `1` is `1.0`), or
    None when they are the same."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return None if type(a) is type(b) and a == b else ptr or "/"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        # Go writes a float64 of integer value as its shortest digits padded with zeros
        # (`18446744073709552000` for 2^64): the same float, read back as an integer here.
        same = a == b if isinstance(a, int) and isinstance(b, int) else float(a) == float(b)
        return None if same else ptr or "/"
    if isinstance(a, str) and isinstance(b, str):
        return None if a == b else ptr or "/"
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return ptr or "/"
        for n, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{ptr}/{n}")
            if d:
                return d
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return f"{ptr} (keys {sorted(set(a) ^ set(b))})"
        for key in sorted(a):
            d = first_difference(a[key], b[key], f"{ptr}/{key}")
            if d:
                return d
        return None
    return ptr or "/"


def kh_invalid_yaml(paths):
    """kubeharden's answer per file: path -> its first `invalid YAML` diagnostic, or None."""
    out = {p: None for p in paths}
    for k in range(0, len(paths), 500):
        p = kh(["scan", "--no-kustomize", "--no-config", "--allow-empty", "--format", "json"] + paths[k:k + 500], ok=(0, 1, 2))
        for d in json.loads(p.stdout)["diagnostics"]:
            if d["message"].startswith("invalid YAML") and d["origin"] in out and out[d["origin"]] is None:
                out[d["origin"]] = f"line {d.get('line')}: {d['message']}"
    return out


def yaml_test(api):
    """Which files Kubernetes (kubectl's reader, go-yaml) refuses as YAML, and which kubeharden
    refuses: the same ones; and of the files both read, the same values in the same documents
    (kubectl's JSON against kubeharden's reading, `--yaml-json`). Every .yaml/.yml/.json file of
    the shared corpus, documents generated with the indentations people use in flow collections
    and quoted scalars, and documents whose values and keys are spelled every way YAML 1.1 allows."""
    rng = random.Random(ARGS.seed)
    gen = os.path.join(ARGS.work, "yaml")
    os.makedirs(gen, exist_ok=True)
    paths = []
    for i in range(ARGS.yaml_cases):
        for kind, make in (("case", gen_yaml_case), ("value", gen_value_case)):
            path = os.path.join(gen, f"{kind}-{i:04}.yaml")
            with open(path, "w") as f:
                f.write(make(rng, i))
            paths.append(path)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    corpus = os.environ.get("KUBEHARDEN_CORPUS") or os.path.join(repo, "..", "shared", "corpus")
    corpus_files = 0
    if os.path.isdir(corpus):
        for root, dirs, files in os.walk(os.path.realpath(corpus)):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".yaml", ".yml", ".json")):
                    paths.append(os.path.join(root, name))
                    corpus_files += 1
    go, ours = yaml_answers(["yamlcheck", "-json"], paths), kh_invalid_yaml(paths)
    values = yaml_answers([ARGS.yaml_json], paths)
    mismatches, refused, compared = [], 0, 0
    for path in paths:
        g, o = go.get(path, ("no answer from yamlcheck", []))[0], ours[path]
        refused += g is not None
        shown = open(path, encoding="utf-8", errors="replace").read()[:600] if path.startswith(gen) else path
        if (g is None) != (o is None):
            mismatches.append(f"{path}: go-yaml {'refuses: ' + g if g else 'reads it'}; kubeharden {'refuses: ' + o if o else 'reads it'}\n{shown}")
            continue
        (v, theirs), mine = go[path], values.get(path, ("no answer from yaml_json", []))
        if v is not None:
            continue
        if mine[0] is not None:
            mismatches.append(f"{path}: go-yaml reads it; yaml_json refuses: {mine[0]}\n{shown}")
            continue
        compared += 1
        if len(theirs) != len(mine[1]):
            mismatches.append(f"{path}: {len(theirs)} documents for kubectl, {len(mine[1])} for kubeharden\n{shown}")
            continue
        for n, (a, b) in enumerate(zip(theirs, mine[1])):
            d = first_difference(a, b)
            if d:
                mismatches.append(f"{path}: document {n + 1} differs at {d}: kubectl sends {json.dumps(a)[:300]}; "
                                  f"kubeharden reads {json.dumps(b)[:300]}\n{shown}")
                break
    generated = len(paths) - corpus_files
    return report("yaml", len(paths), mismatches, f"{generated} generated, {corpus_files} corpus files, {refused} refused by go-yaml, "
                  f"values compared in {compared}")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("test", choices=["rbac", "pss", "vap", "validation", "yaml"])
    ap.add_argument("--state", required=True)
    ap.add_argument("--kh", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("KUBEHARDEN_E2E_SEED", "1")))
    ap.add_argument("--queries", type=int, default=240)
    ap.add_argument("--pods", type=int, default=150)
    ap.add_argument("--vap-objects", type=int, default=24)
    ap.add_argument("--yaml-cases", type=int, default=400)
    ap.add_argument("--yaml-json", default="yaml_json",
                    help="kubeharden's reading of YAML values (cargo build --release -p kubeharden-model --example yaml_json)")
    ARGS = ap.parse_args()
    os.makedirs(ARGS.work, exist_ok=True)
    api = Api(ARGS.state) if ARGS.test != "yaml" else None  # `yaml` needs no API server
    sys.exit({"rbac": rbac, "pss": pss, "vap": vap, "validation": validation, "yaml": yaml_test}[ARGS.test](api))


ARGS = None
if __name__ == "__main__":
    main()
