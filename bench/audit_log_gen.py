#!/usr/bin/env python3
"""Writes a synthetic but realistic Kubernetes audit log (audit.k8s.io/v1 Event, JSON lines).

Usage: bench/audit_log_gen.py --size 1G --out /tmp/audit.log [--gzip] [--seed 1]
                              [--omit-stages RequestReceived]

The traffic mimics a kubeadm cluster of 20 nodes under an audit policy in the style of the
upstream examples (Metadata for most requests, Request/RequestResponse for some writes, leases and
events included): leader-election lease renewals, kubelet node status and lease updates, controller
list/watch/update traffic, kubelets reading the Secrets and ConfigMaps of their pods and requesting
ServiceAccount tokens, application service accounts, people using kubectl (get, logs, exec, apply,
RBAC writes, impersonation, a kubeadm admin in system:masters), health and metrics probes,
denied requests (403 with the upstream Status body), the odd anonymous request, cert-manager
patching webhook configurations, pods created with their full object at Request level.

Stages follow the API server: RequestReceived then ResponseComplete (same auditID), watches and
exec also log ResponseStarted; a few Panic events. Field set per the Event schema: kind,
apiVersion, level, auditID, stage, requestURI, verb, user (username, uid, groups, extra),
impersonatedUser, sourceIPs, userAgent, objectRef (resource, namespace, name, uid, apiGroup,
apiVersion, resourceVersion, subresource), responseStatus, requestObject, responseObject,
requestReceivedTimestamp, stageTimestamp, annotations.

Deterministic for a given seed. Event bodies come from a pool of templates (a few thousand
distinct requests); auditIDs, timestamps and resourceVersions vary per event.
"""

import argparse
import gzip
import json
import random
import sys
import time

NAMESPACES = [
    "default", "kube-system", "kube-public", "kube-node-lease", "monitoring", "ingress-nginx",
    "cert-manager", "argocd", "shop", "payments", "search", "auth", "billing", "data", "ml",
    "staging", "qa", "logging", "istio-system", "vault",
]
APP_NAMESPACES = ["shop", "payments", "search", "auth", "billing", "data", "ml", "staging", "qa"]
NODES = [f"worker-{i:02d}" for i in range(1, 18)] + ["cp-1", "cp-2", "cp-3"]
HUMANS = [
    ("alice@example.com", ["oidc:platform-admins", "system:authenticated"]),
    ("bob@example.com", ["oidc:devs", "system:authenticated"]),
    ("carol@example.com", ["oidc:sre", "system:authenticated"]),
    ("dave@example.com", ["oidc:devs", "system:authenticated"]),
    ("erin@example.com", ["oidc:data", "system:authenticated"]),
    ("frank@example.com", ["oidc:contractors", "system:authenticated"]),
    ("kubernetes-admin", ["system:masters", "system:authenticated"]),
]
CONTROLLERS = [
    "replicaset-controller", "deployment-controller", "endpointslice-controller",
    "endpoint-controller", "namespace-controller", "job-controller", "cronjob-controller",
    "daemon-set-controller", "statefulset-controller", "garbage-collector", "node-controller",
    "resourcequota-controller", "generic-garbage-collector", "horizontal-pod-autoscaler",
    "pvc-protection-controller", "service-account-controller", "ttl-after-finished-controller",
]
APPS = ["web", "api", "worker", "cart", "checkout", "indexer", "gateway", "db-proxy", "scheduler",
        "notifier", "exporter", "frontend"]
K8S = "v1.31.2"
GIT = "4b8e819"


def rand_hex(rng, n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uid(rng):
    return f"{rand_hex(rng, 8)}-{rand_hex(rng, 4)}-4{rand_hex(rng, 3)}-a{rand_hex(rng, 3)}-{rand_hex(rng, 12)}"


def pod_name(rng, app=None):
    app = app or rng.choice(APPS)
    return f"{app}-{rand_hex(rng, 10)}-{rand_hex(rng, 5)}"


def ip(rng, net="10.244"):
    return f"{net}.{rng.randrange(0, 32)}.{rng.randrange(2, 250)}"


class Pool:
    """Builds event templates: (weight, [(stage, body-with-placeholders)...])."""

    def __init__(self, rng):
        self.rng = rng
        self.templates = []  # list of lists of stage bodies (one request, several stages)
        self.weights = []

    # --- building blocks -------------------------------------------------------------------
    def sa_user(self, ns, name, node=None):
        rng = self.rng
        node = node or rng.choice(NODES)
        return {
            "username": f"system:serviceaccount:{ns}:{name}",
            "uid": uid(rng),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                       "system:authenticated"],
            "extra": {
                "authentication.kubernetes.io/credential-id": [f"JTI={uid(rng)}"],
                "authentication.kubernetes.io/node-name": [node],
                "authentication.kubernetes.io/node-uid": [uid(rng)],
                "authentication.kubernetes.io/pod-name": [pod_name(rng, name)],
                "authentication.kubernetes.io/pod-uid": [uid(rng)],
            },
        }

    def node_user(self, node):
        return {"username": f"system:node:{node}", "groups": ["system:nodes", "system:authenticated"]}

    def rbac_reason(self, kind, binding, role, subject_kind, subject):
        return (f'RBAC: allowed by {kind} "{binding}" of ClusterRole "{role}" to '
                f'{subject_kind} "{subject}"')

    def add(self, weight, verb, uri, user, agent, object_ref=None, code=200, reason="",
            level="Metadata", stages=("RequestReceived", "ResponseComplete"), src=None,
            impersonated=None, request_object=None, response_object=None, extra_ann=None,
            status_body=None):
        rng = self.rng
        bodies = []
        for stage in stages:
            ev = {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "level": level,
                "auditID": "@ID@",
                "stage": stage,
                "requestURI": uri,
                "verb": verb,
                "user": user,
            }
            if impersonated:
                ev["impersonatedUser"] = impersonated
            ev["sourceIPs"] = src or [ip(rng, "172.18")]
            ev["userAgent"] = agent
            if object_ref:
                ev["objectRef"] = object_ref
            if stage != "RequestReceived":
                if status_body:
                    ev["responseStatus"] = status_body
                elif code >= 400:
                    ev["responseStatus"] = {"metadata": {}, "status": "Failure", "code": code}
                else:
                    ev["responseStatus"] = {"metadata": {}, "code": code}
            if request_object is not None and level in ("Request", "RequestResponse"):
                ev["requestObject"] = request_object
            if (response_object is not None and level == "RequestResponse"
                    and stage == "ResponseComplete"):
                ev["responseObject"] = response_object
            ev["requestReceivedTimestamp"] = "@T0@"
            ev["stageTimestamp"] = "@T1@" if stage != "RequestReceived" else "@T0@"
            if stage != "RequestReceived":
                ann = {}
                if code == 403:
                    ann["authorization.k8s.io/decision"] = "forbid"
                    ann["authorization.k8s.io/reason"] = ""
                elif code != 401:
                    ann["authorization.k8s.io/decision"] = "allow"
                    ann["authorization.k8s.io/reason"] = reason
                if extra_ann:
                    ann.update(extra_ann)
                if ann:
                    ev["annotations"] = ann
            body = json.dumps(ev, separators=(",", ":")).replace("%", "%%")
            body = (body.replace('"@ID@"', '"%(id)s"').replace('"@T0@"', '"%(t0)s"')
                    .replace('"@T1@"', '"%(t1)s"').replace('"@RV@"', '"%(rv)s"'))
            bodies.append(body)
        self.templates.append(bodies)
        self.weights.append(weight)

    def ref(self, resource, ns=None, name=None, group="", version="v1", sub=None, rv=False):
        r = {"resource": resource}
        if ns:
            r["namespace"] = ns
        if name:
            r["name"] = name
            r["uid"] = uid(self.rng)
        if group:
            r["apiGroup"] = group
        r["apiVersion"] = version
        if rv:
            r["resourceVersion"] = "@RV@"
        if sub:
            r["subresource"] = sub
        return r

    def pod_object(self, ns, name, app):
        rng = self.rng
        return {
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {
                "generateName": name[: name.rfind("-") + 1], "namespace": ns,
                "labels": {"app.kubernetes.io/name": app, "pod-template-hash": rand_hex(rng, 10)},
                "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-10-30T08:12:44Z"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                     "name": name[: name.rfind("-")], "uid": uid(rng),
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {
                "volumes": [{"name": "kube-api-access-" + rand_hex(rng, 5), "projected": {
                    "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                                {"configMap": {"name": "kube-root-ca.crt", "items": [
                                    {"key": "ca.crt", "path": "ca.crt"}]}},
                                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                                    "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                    "defaultMode": 420}}],
                "containers": [{
                    "name": app,
                    "image": f"registry.example.com/{ns}/{app}:1.{rng.randrange(40)}.{rng.randrange(10)}",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                                "name": f"{app}-db", "key": "password"}}}],
                    "resources": {"limits": {"cpu": "500m", "memory": "512Mi"},
                                  "requests": {"cpu": "100m", "memory": "128Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                                       "timeoutSeconds": 1, "periodSeconds": 10,
                                       "successThreshold": 1, "failureThreshold": 3},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent",
                    "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                        "capabilities": {"drop": ["ALL"]}},
                }],
                "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "serviceAccountName": app,
                "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                "schedulerName": "default-scheduler",
                "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                 "effect": "NoExecute", "tolerationSeconds": 300}],
                "priority": 0, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
            },
            "status": {},
        }

    # --- scenarios ---------------------------------------------------------------------------
    def build(self):
        rng = self.rng
        # Leader election: controller-manager, scheduler and operators renew their leases.
        for who, agent in [("system:kube-controller-manager", "kube-controller-manager"),
                           ("system:kube-scheduler", "kube-scheduler")]:
            for verb in ("get", "update"):
                self.add(40, verb,
                         f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{agent}?timeout=5s",
                         {"username": who, "groups": ["system:authenticated"]},
                         f"{agent}/{K8S} (linux/amd64) kubernetes/{GIT}/leader-election",
                         self.ref("leases", "kube-system", agent, "coordination.k8s.io", rv=verb == "update"),
                         reason=self.rbac_reason("ClusterRoleBinding", who, who, "User", who),
                         src=["172.18.0.2"])
        for ns, op in [("cert-manager", "cert-manager-controller"), ("ingress-nginx", "ingress-nginx-leader"),
                       ("argocd", "argocd-application-controller"), ("monitoring", "prometheus-operator")]:
            for verb in ("get", "update"):
                self.add(10, verb,
                         f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{op}",
                         self.sa_user(ns, op.split("-")[0]), f"{op}/v1.15.3 (linux/amd64)",
                         self.ref("leases", ns, op, "coordination.k8s.io", rv=verb == "update"),
                         reason=self.rbac_reason("RoleBinding", f"{op}:leaderelection", f"{op}:leaderelection",
                                                 "ServiceAccount", f"{ns}/{op.split('-')[0]}"))
        # Kubelets: node leases, node status, reading their pods' Secrets and ConfigMaps, tokens.
        for node in NODES:
            u = self.node_user(node)
            agent = f"kubelet/{K8S} (linux/amd64) kubernetes/{GIT}"
            src = [ip(rng, "172.18")]
            self.add(12, "update", f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}?timeout=10s",
                     u, agent, self.ref("leases", "kube-node-lease", node, "coordination.k8s.io", rv=True), src=src)
            self.add(4, "patch", f"/api/v1/nodes/{node}/status?timeout=10s", u, agent,
                     self.ref("nodes", None, node, sub="status"), src=src, level="Request",
                     request_object={"status": {"$setElementOrder/conditions": [
                         {"type": t} for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
                         "conditions": [{"lastHeartbeatTime": "2026-11-01T10:00:00Z", "type": "Ready"}]}})
            self.add(3, "get", f"/api/v1/nodes/{node}?resourceVersion=0&timeout=10s", u, agent,
                     self.ref("nodes", None, node), src=src)
            for _ in range(3):
                ns = rng.choice(APP_NAMESPACES)
                app = rng.choice(APPS)
                self.add(1, "get", f"/api/v1/namespaces/{ns}/secrets/{app}-db", u, agent,
                         self.ref("secrets", ns, f"{app}-db"), src=src)
                self.add(1, "list", f"/api/v1/namespaces/{ns}/configmaps?fieldSelector=metadata.name%3D{app}-config&limit=500&resourceVersion=0",
                         u, agent, self.ref("configmaps", ns), src=src)
                self.add(1, "create", f"/api/v1/namespaces/{ns}/serviceaccounts/{app}/token", u, agent,
                         self.ref("serviceaccounts", ns, app, sub="token"), code=201, src=src)
                self.add(2, "watch", f"/api/v1/namespaces/{ns}/configmaps?allowWatchBookmarks=true&fieldSelector=metadata.name%3Dkube-root-ca.crt&resourceVersion=123&timeout=7m2s&timeoutSeconds=422&watch=true",
                         u, agent, self.ref("configmaps", ns), src=src,
                         stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
            self.add(2, "create", "/apis/events.k8s.io/v1/namespaces/kube-system/events", u, agent,
                     self.ref("events", "kube-system", group="events.k8s.io"), code=201, src=src, level="Request",
                     request_object={"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": {
                         "name": f"{node}.{rand_hex(rng, 16)}", "namespace": "kube-system"},
                         "eventTime": "2026-11-01T10:00:00.000000Z", "reportingController": "kubelet",
                         "reportingInstance": node, "action": "Pulling", "reason": "Pulling",
                         "regarding": {"kind": "Pod", "namespace": "shop", "name": pod_name(rng)},
                         "note": "Pulling image \"registry.example.com/shop/web:1.4.2\"", "type": "Normal"})
        # Controllers in kube-system.
        for c in CONTROLLERS:
            u = self.sa_user("kube-system", c, node="cp-1")
            agent = f"kube-controller-manager/{K8S} (linux/amd64) kubernetes/{GIT}/system:serviceaccount:kube-system:{c}"
            reason = self.rbac_reason("ClusterRoleBinding", f"system:controller:{c}",
                                      f"system:controller:{c}", "ServiceAccount", f"kube-system/{c}")
            for _ in range(4):
                ns = rng.choice(NAMESPACES)
                app = rng.choice(APPS)
                res, group = rng.choice([("pods", ""), ("replicasets", "apps"), ("deployments", "apps"),
                                         ("endpointslices", "discovery.k8s.io"), ("jobs", "batch")])
                prefix = "/api/v1" if not group else f"/apis/{group}/v1"
                self.add(2, "update", f"{prefix}/namespaces/{ns}/{res}/{app}/status", u, agent,
                         self.ref(res, ns, app, group, sub="status", rv=True), reason=reason, src=["172.18.0.2"])
                self.add(1, "get", f"{prefix}/namespaces/{ns}/{res}/{app}", u, agent,
                         self.ref(res, ns, app, group), reason=reason, src=["172.18.0.2"])
                self.add(1, "watch", f"{prefix}/{res}?allowWatchBookmarks=true&resourceVersion=4711&timeout=9m1s&timeoutSeconds=541&watch=true",
                         u, agent, self.ref(res, group=group), reason=reason, src=["172.18.0.2"],
                         stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
            if c == "replicaset-controller":
                for _ in range(40):
                    ns = rng.choice(APP_NAMESPACES)
                    app = rng.choice(APPS)
                    name = pod_name(rng, app)
                    obj = self.pod_object(ns, name, app)
                    self.add(2, "create", f"/api/v1/namespaces/{ns}/pods", u, agent,
                             self.ref("pods", ns, name), code=201, reason=reason, level="Request",
                             src=["172.18.0.2"], request_object=obj,
                             extra_ann={"pod-security.kubernetes.io/enforce-policy": "restricted:latest"})
            if c == "service-account-controller":
                for ns in APP_NAMESPACES:
                    self.add(1, "list", f"/api/v1/namespaces/{ns}/secrets?limit=500&resourceVersion=0",
                             u, agent, self.ref("secrets", ns), reason=reason, src=["172.18.0.2"])
        # Application service accounts.
        for ns in APP_NAMESPACES:
            for app in rng.sample(APPS, 4):
                u = self.sa_user(ns, app)
                agent = f"{app}/2.3.1 (linux/amd64) client-go/v0.31.2"
                reason = self.rbac_reason("RoleBinding", f"{app}-reader", f"{app}-reader", "ServiceAccount", f"{ns}/{app}")
                self.add(3, "get", f"/api/v1/namespaces/{ns}/configmaps/{app}-config", u, agent,
                         self.ref("configmaps", ns, f"{app}-config"), reason=reason, src=[ip(rng)])
                self.add(2, "list", f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{app}", u, agent,
                         self.ref("pods", ns), reason=reason, src=[ip(rng)])
                self.add(1, "get", f"/api/v1/namespaces/{ns}/secrets/{app}-tls", u, agent,
                         self.ref("secrets", ns, f"{app}-tls"), reason=reason, src=[ip(rng)])
                self.add(0.2, "get", f"/api/v1/namespaces/kube-system/secrets/bootstrap-token-{rand_hex(rng, 6)}",
                         u, agent, self.ref("secrets", "kube-system", "bootstrap-token"), code=403,
                         src=[ip(rng)], status_body={
                             "metadata": {}, "status": "Failure",
                             "message": f"secrets \"bootstrap-token\" is forbidden: User \"system:serviceaccount:{ns}:{app}\" cannot get resource \"secrets\" in API group \"\" in the namespace \"kube-system\"",
                             "reason": "Forbidden", "details": {"name": "bootstrap-token", "kind": "secrets"},
                             "code": 403})
        # Operators: cert-manager patches webhook configurations, argocd applies RBAC.
        cm = self.sa_user("cert-manager", "cert-manager-cainjector")
        for hook in ("cert-manager-webhook", "kyverno-resource-validating-webhook-cfg", "gatekeeper-validating-webhook-configuration"):
            self.add(1, "update", f"/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/{hook}",
                     cm, "cainjector/v1.15.3 (linux/amd64) kubernetes/abcdef", self.ref(
                         "validatingwebhookconfigurations", None, hook, "admissionregistration.k8s.io", rv=True),
                     reason=self.rbac_reason("ClusterRoleBinding", "cert-manager-cainjector",
                                             "cert-manager-cainjector", "ServiceAccount", "cert-manager/cert-manager-cainjector"))
        argo = self.sa_user("argocd", "argocd-application-controller")
        for ns in APP_NAMESPACES:
            for kind in ("roles", "rolebindings"):
                self.add(0.5, "patch", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/{kind}/app-deployer?fieldManager=argocd-controller&force=true",
                         argo, "argocd-application-controller/v2.12.3 (linux/amd64)",
                         self.ref(kind, ns, "app-deployer", "rbac.authorization.k8s.io"), level="RequestResponse",
                         request_object={"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind[:-1].title(),
                                         "metadata": {"name": "app-deployer", "namespace": ns}},
                         response_object={"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind[:-1].title(),
                                          "metadata": {"name": "app-deployer", "namespace": ns,
                                                       "resourceVersion": "88123"}},
                         reason=self.rbac_reason("ClusterRoleBinding", "argocd-application-controller",
                                                 "argocd-application-controller", "ServiceAccount",
                                                 "argocd/argocd-application-controller"))
        # People with kubectl.
        for name, groups in HUMANS:
            u = {"username": name, "groups": groups}
            agent = "kubectl/v1.31.1 (darwin/arm64) kubernetes/948afe5"
            src = [f"203.0.113.{rng.randrange(2, 250)}"]
            if "system:masters" in groups:
                reason = ""
            elif "platform-admins" in groups[0]:
                reason = self.rbac_reason("ClusterRoleBinding", "platform-admins", "cluster-admin", "Group", groups[0])
            else:
                reason = self.rbac_reason("RoleBinding", "edit", "edit", "Group", groups[0])
            for ns in rng.sample(APP_NAMESPACES, 3):
                app = rng.choice(APPS)
                pod = pod_name(rng, app)
                self.add(3, "list", f"/api/v1/namespaces/{ns}/pods?limit=500", u, agent,
                         self.ref("pods", ns), reason=reason, src=src)
                self.add(2, "get", f"/apis/apps/v1/namespaces/{ns}/deployments/{app}", u, agent,
                         self.ref("deployments", ns, app, "apps"), reason=reason, src=src)
                self.add(1, "get", f"/api/v1/namespaces/{ns}/pods/{pod}/log?container={app}&follow=true", u, agent,
                         self.ref("pods", ns, pod, sub="log"), reason=reason, src=src,
                         stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
                denied = name == "frank@example.com"
                self.add(0.3, "get", f"/api/v1/namespaces/{ns}/secrets/{app}-db", u, agent,
                         self.ref("secrets", ns, f"{app}-db"), reason=reason, src=src,
                         code=403 if denied else 200)
                self.add(0.2, "create", f"/api/v1/namespaces/{ns}/pods/{pod}/exec?command=sh&container={app}&stdin=true&stdout=true&tty=true",
                         u, agent, self.ref("pods", ns, pod, sub="exec"), code=403 if denied else 101,
                         reason=reason, src=src, stages=("RequestReceived", "ResponseStarted", "ResponseComplete"))
                self.add(0.3, "patch", f"/apis/apps/v1/namespaces/{ns}/deployments/{app}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
                         u, agent, self.ref("deployments", ns, app, "apps"), reason=reason, src=src,
                         level="RequestResponse",
                         request_object={"spec": {"template": {"metadata": {"annotations": {
                             "kubectl.kubernetes.io/restartedAt": "2026-11-01T09:59:58Z"}}}}},
                         response_object={"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {
                             "name": app, "namespace": ns, "generation": 12}, "status": {"replicas": 3}})
            if name == "carol@example.com":
                self.add(0.3, "get", "/api/v1/namespaces/kube-system/secrets/etcd-backup", u, agent,
                         self.ref("secrets", "kube-system", "etcd-backup"), src=src,
                         impersonated={"username": "system:serviceaccount:kube-system:backup",
                                       "groups": ["system:serviceaccounts", "system:authenticated"]},
                         reason=self.rbac_reason("ClusterRoleBinding", "backup", "backup-reader",
                                                 "ServiceAccount", "kube-system/backup"))
                self.add(0.2, "create", "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/rolebindings",
                         u, agent, self.ref("rolebindings", "shop", "dave-edit", "rbac.authorization.k8s.io"),
                         code=201, reason=reason, src=src, level="RequestResponse",
                         request_object={"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                                         "metadata": {"name": "dave-edit", "namespace": "shop"},
                                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                                         "subjects": [{"kind": "User", "name": "dave@example.com"}]},
                         response_object={"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
                                          "metadata": {"name": "dave-edit", "namespace": "shop", "uid": uid(rng)}})
        # Probes, metrics, discovery, anonymous.
        anon = {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
        for path in ("/healthz", "/readyz", "/livez", "/version"):
            self.add(6, "get", path, anon, f"kube-probe/{K8S[1:5]}", code=200,
                     src=[ip(rng, "172.18")], reason="")
        prom = self.sa_user("monitoring", "prometheus-k8s")
        self.add(5, "get", "/metrics", prom, "Prometheus/2.54.1", reason=self.rbac_reason(
            "ClusterRoleBinding", "prometheus-k8s", "prometheus-k8s", "ServiceAccount", "monitoring/prometheus-k8s"))
        for path in ("/api?timeout=32s", "/apis?timeout=32s", "/openapi/v2?timeout=32s"):
            self.add(2, "get", path, {"username": "bob@example.com", "groups": HUMANS[1][1]},
                     "kubectl/v1.31.1 (darwin/arm64) kubernetes/948afe5", reason=self.rbac_reason(
                         "ClusterRoleBinding", "system:discovery", "system:discovery", "Group", "system:authenticated"))
        self.add(0.05, "list", "/api/v1/namespaces/default/pods", anon, "curl/8.5.0",
                 self.ref("pods", "default"), src=["198.51.100.7"],
                 reason=self.rbac_reason("ClusterRoleBinding", "public-pod-reader", "pod-reader", "Group", "system:unauthenticated"))
        self.add(0.1, "list", "/api/v1/secrets", anon, "python-requests/2.31.0", self.ref("secrets"),
                 code=403, src=["198.51.100.9"])
        self.add(0.02, "get", "/api/v1/namespaces/shop/pods", {"username": "", "groups": []}, "Go-http-client/1.1",
                 self.ref("pods", "shop"), code=401, src=["198.51.100.11"])
        # A panic, rarely.
        self.add(0.001, "list", "/apis/example.com/v1/widgets", {"username": "bob@example.com", "groups": HUMANS[1][1]},
                 "kubectl/v1.31.1", self.ref("widgets", group="example.com"), code=500, stages=("Panic",),
                 reason="")


def parse_size(s):
    s = s.strip().upper()
    mult = {"K": 10**3, "M": 10**6, "G": 10**9}
    if s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100M", help="bytes to write (K, M, G: powers of 10)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--gzip", action="store_true", help="gzip the output (level 6)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--omit-stages", default="",
                    help="comma-separated stages the policy omits (e.g. RequestReceived, as in the "
                         "upstream example policy and GKE's)")
    args = ap.parse_args()
    size = parse_size(args.size)
    rng = random.Random(args.seed)
    pool = Pool(rng)
    pool.build()
    omit = {x for x in args.omit_stages.split(",") if x}
    templates, weights = [], []
    for bodies, w in zip(pool.templates, pool.weights):
        kept = [b for b in bodies if not any(f'"stage":"{o}"' in b for o in omit)]
        if kept:
            templates.append(kept)
            weights.append(w)
    start = time.time()
    out = gzip.open(args.out, "wb", compresslevel=6) if args.gzip else open(args.out, "wb")
    written = 0
    n = 0
    t_us = 1_793_318_400 * 1_000_000  # 2026-10-30T00:00:00Z
    sec_cache = (None, "")
    rv = 4_000_000
    mix = 0x9E3779B97F4A7C15
    with out:
        while written < size:
            batch = []
            picks = rng.choices(templates, weights=weights, k=512)
            for bodies in picks:
                n += 1
                t_us += rng.randrange(2000, 30000)
                sec = t_us // 1_000_000
                if sec != sec_cache[0]:
                    sec_cache = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
                t0 = f"{sec_cache[1]}.{t_us % 1_000_000:06d}Z"
                t1u = t_us + 1000 + (n * 7919) % 40000
                t1 = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t1u // 1_000_000))}.{t1u % 1_000_000:06d}Z"
                h = (n * mix) & 0xFFFFFFFFFFFFFFFF
                aid = f"{h >> 32:08x}-{(h >> 16) & 0xFFFF:04x}-4{(h >> 4) & 0xFFF:03x}-a{n & 0xFFF:03x}-{n:012x}"
                rv += 1
                vals = {"id": aid, "t0": t0, "t1": t1, "rv": str(rv)}
                for body in bodies:
                    batch.append(body % vals)
            data = ("\n".join(batch) + "\n").encode()
            out.write(data)
            written += len(data)
    dt = time.time() - start
    print(f"wrote {args.out}: {written / 1e6:.1f} MB uncompressed, {n} requests, "
          f"{dt:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
