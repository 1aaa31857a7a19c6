//! A NodePort or LoadBalancer Service exposes an admin UI, SSH, the kubelet or etcd.

use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "service-exposes-sensitive-port",
    // Rule 5: the kubelet's ports, etcd, SSH and admin UIs on a node port or a load balancer are
    // unauthenticated or weakly authenticated access from outside. Judged from Service objects
    // only: without any, it is not assessed.
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "NodePort or LoadBalancer Service exposes an admin UI, SSH, the kubelet or etcd",
    rationale: "A NodePort Service opens its port on every node's addresses, a LoadBalancer on an \
        external address: outside the cluster's network boundary. Behind them, SSH (22), the \
        kubelet API (10250, 10255 read-only), etcd (2379 client, 2380 peer) and administration \
        UIs (the Kubernetes Dashboard, Argo CD, Weave Scope…) are the control surfaces attackers \
        scan the internet for; each gives code execution or the cluster's data when it is \
        reached without strong authentication.",
    remedy: "Make the Service `type: ClusterIP` and reach the UI or port through `kubectl \
        port-forward`, a VPN or an authenticating ingress; for a LoadBalancer that must stay, \
        restrict it with `loadBalancerSourceRanges` and an internal load balancer annotation.",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/reference/networking/ports-and-protocols/",
            "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Services],
    fix: None,
    check: Check::Object(check),
};

/// Ports whose exposure is reported, with what listens there.
const SENSITIVE_PORTS: &[(i64, &str)] = &[
    (22, "SSH"),
    (2379, "the etcd client API"),
    (2380, "the etcd peer API"),
    (10250, "the kubelet API"),
    (10255, "the kubelet read-only API"),
];

/// Administration UIs, by the name their upstream manifests give the Service or its pods.
const ADMIN_UIS: &[(&str, &str)] = &[
    ("kubernetes-dashboard", "the Kubernetes Dashboard"),
    (
        "kubernetes-dashboard-kong-proxy",
        "the Kubernetes Dashboard",
    ),
    ("kubernetes-dashboard-web", "the Kubernetes Dashboard"),
    ("argocd-server", "the Argo CD server"),
    ("weave-scope-app", "Weave Scope"),
    ("headlamp", "Headlamp"),
    ("kubeapps", "Kubeapps"),
    ("portainer", "Portainer"),
];

fn admin_ui(o: &Object) -> Option<&'static str> {
    let selector = o.root.pointer("/spec/selector");
    let selects = |name: &str| {
        ["k8s-app", "app.kubernetes.io/name", "app"]
            .iter()
            .any(|k| {
                selector
                    .and_then(|s| s.get(k))
                    .and_then(Node::text)
                    .is_some_and(|v| v == name)
            })
    };
    ADMIN_UIS
        .iter()
        .find(|(name, _)| o.name == *name || selects(name))
        .map(|(_, what)| *what)
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Service" || !o.group().is_empty() {
        return;
    }
    let kind = o
        .root
        .pointer("/spec/type")
        .and_then(Node::text)
        .unwrap_or("ClusterIP");
    if kind != "NodePort" && kind != "LoadBalancer" {
        return;
    }
    let ui = admin_ui(o);
    let ports = o
        .root
        .pointer("/spec/ports")
        .map(Node::items)
        .unwrap_or(&[]);
    for (i, p) in ports.iter().enumerate() {
        let port = p.get("port").and_then(Node::as_i64);
        // targetPort defaults to port; a named targetPort is resolved in the pods.
        let target = match p.get("targetPort") {
            Some(t) => t.as_i64(),
            None => port,
        };
        let hit = SENSITIVE_PORTS
            .iter()
            .find(|(n, _)| Some(*n) == port || Some(*n) == target);
        let what = match (hit, ui) {
            (Some((n, what)), _) => format!("{what} (port {n})"),
            (None, Some(what)) => what.to_owned(),
            (None, None) => continue,
        };
        emit.object(
            o,
            &format!("/spec/ports/{i}"),
            format!(
                "Service of type {kind} exposes {what} outside the cluster through port {}",
                port.map_or_else(|| "?".to_owned(), |p| p.to_string())
            ),
        );
    }
}
