//! Service-mesh mTLS: which traffic a mesh lets through in plain text.
//!
//! - Istio `PeerAuthentication` (security.istio.io): `spec.mtls.mode` `PERMISSIVE` or `DISABLE`
//!   (mesh-wide in the root namespace `istio-system`, namespace-wide without a selector, or for
//!   the selected workloads), and the same modes in `portLevelMtls`. `STRICT` and `UNSET`
//!   (inherit) are not findings.
//! - Linkerd: the `config.linkerd.io/default-inbound-policy` annotation set to
//!   `all-unauthenticated` or `cluster-unauthenticated` (a Namespace or workload that accepts
//!   unauthenticated, possibly plaintext, connections).
//!
//! And per namespace ([`plaintext_namespaces`]): which namespaces' workloads take pod-to-pod
//! traffic in plain text — not in the mesh, Istio's effective mode PERMISSIVE (its default when
//! no PeerAuthentication applies) or DISABLE, Linkerd's default inbound policy unauthenticated
//! (its default `all-unauthenticated` when no annotation sets one) — made only when the input
//! shows a mesh ([`is_mesh_evidence`]).

use crate::inventory::{Object, PodTemplate, Workload};
use kubeharden_model::yaml::Node;
use std::collections::BTreeMap;

/// The mesh's root namespace, where a PeerAuthentication applies mesh-wide (Istio's default).
pub const ISTIO_ROOT_NAMESPACE: &str = "istio-system";
pub const LINKERD_POLICY: &str = "config.linkerd.io/default-inbound-policy";
/// Istio's injection labels: the namespace's `istio-injection` and `istio.io/rev` (a revision),
/// the pod's `sidecar.istio.io/inject` (label, or the older annotation), the ambient mode's
/// `istio.io/dataplane-mode`.
pub const ISTIO_INJECTION: &str = "istio-injection";
pub const ISTIO_REV: &str = "istio.io/rev";
pub const ISTIO_INJECT: &str = "sidecar.istio.io/inject";
pub const ISTIO_DATAPLANE: &str = "istio.io/dataplane-mode";
/// Set by Istio's injector on an injected pod.
pub const ISTIO_STATUS: &str = "sidecar.istio.io/status";
/// Linkerd's injection annotation (`enabled`, `ingress`, `disabled`) on a namespace or pod.
pub const LINKERD_INJECT: &str = "linkerd.io/inject";
/// Set by Linkerd's injector on an injected pod.
pub const LINKERD_PROXY_VERSION: &str = "linkerd.io/proxy-version";

/// One place where plaintext is accepted: the pointer and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plaintext {
    pub pointer: String,
    pub message: String,
}

/// Is this object mesh policy (evidence that a mesh's mTLS settings are in the input)?
pub fn is_mesh_policy(o: &Object) -> bool {
    matches!(
        (o.kind.as_str(), o.group()),
        ("PeerAuthentication", "security.istio.io")
            | (
                "Server" | "AuthorizationPolicy" | "MeshTLSAuthentication",
                "policy.linkerd.io"
            )
    ) || o
        .root
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LINKERD_POLICY))
        .is_some()
}

fn weak(mode: Option<&str>) -> bool {
    matches!(mode, Some("PERMISSIVE" | "DISABLE"))
}

/// Where this object lets plaintext through.
pub fn plaintext(o: &Object) -> Vec<Plaintext> {
    let mut out = Vec::new();
    if o.kind == "PeerAuthentication" && o.group() == "security.istio.io" {
        let ns = o.namespace.as_deref().unwrap_or("default");
        let selector = o
            .root
            .pointer("/spec/selector/matchLabels")
            .filter(|m| !m.entries().is_empty())
            .map(|m| {
                m.entries()
                    .iter()
                    .map(|e| format!("{}={}", e.key, e.value.text().unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(",")
            });
        let scope = match (&selector, ns == ISTIO_ROOT_NAMESPACE) {
            (Some(s), _) => format!("the workloads labelled `{s}` in namespace `{ns}`"),
            (None, true) => "the whole mesh (root namespace `istio-system`): every namespace without its own STRICT policy".to_owned(),
            (None, false) => format!("every workload of namespace `{ns}`"),
        };
        let mode = o.root.pointer("/spec/mtls/mode").and_then(Node::text);
        if weak(mode) {
            out.push(Plaintext {
                pointer: "/spec/mtls/mode".into(),
                message: format!(
                    "PeerAuthentication `{}` sets mTLS `{}` for {scope}: pod-to-pod traffic is accepted in plain text",
                    o.name,
                    mode.unwrap_or("")
                ),
            });
        }
        if let Some(ports) = o.root.pointer("/spec/portLevelMtls") {
            for e in ports.entries() {
                let mode = e.value.get("mode").and_then(Node::text);
                if weak(mode) {
                    out.push(Plaintext {
                        pointer: format!("/spec/portLevelMtls/{}/mode", e.key),
                        message: format!(
                            "PeerAuthentication `{}` sets mTLS `{}` on port {} for {scope}: that port accepts plain text",
                            o.name,
                            mode.unwrap_or(""),
                            e.key
                        ),
                    });
                }
            }
        }
    }
    if let Some(policy) = o
        .root
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LINKERD_POLICY))
        .and_then(Node::text)
        && matches!(policy, "all-unauthenticated" | "cluster-unauthenticated")
    {
        out.push(Plaintext {
            pointer: format!("/metadata/annotations/{}", LINKERD_POLICY.replace('/', "~1")),
            message: format!(
                "{} `{}` sets Linkerd's default inbound policy `{policy}`: unauthenticated (non-mTLS) connections are accepted",
                o.kind, o.name
            ),
        });
    }
    if o.group() == "policy.linkerd.io" {
        out.extend(linkerd(o));
    }
    out
}

/// Linkerd's policy objects: a `Server` whose `accessPolicy` accepts unauthenticated clients, and
/// an `AuthorizationPolicy` that authorizes clients by network only (`NetworkAuthentication`,
/// no `MeshTLSAuthentication` or ServiceAccount): both let plaintext connections in. A `Server`
/// without any `AuthorizationPolicy` denies every connection to its port (its `accessPolicy`
/// defaults to `deny`): not plaintext, not reported.
fn linkerd(o: &Object) -> Vec<Plaintext> {
    let mut out = Vec::new();
    let ns = o.namespace.as_deref().unwrap_or("default");
    match o.kind.as_str() {
        "Server" => {
            if let Some(p) = o
                .root
                .pointer("/spec/accessPolicy")
                .and_then(Node::text)
                .filter(|p| matches!(*p, "all-unauthenticated" | "cluster-unauthenticated"))
            {
                out.push(Plaintext {
                    pointer: "/spec/accessPolicy".into(),
                    message: format!(
                        "Linkerd Server `{}` in namespace `{ns}` has `accessPolicy: {p}`: connections to its port are accepted without mTLS",
                        o.name
                    ),
                });
            }
        }
        "AuthorizationPolicy" => {
            let refs = o
                .root
                .pointer("/spec/requiredAuthenticationRefs")
                .map(Node::items)
                .unwrap_or(&[]);
            let kinds: Vec<&str> = refs
                .iter()
                .filter_map(|r| r.get("kind").and_then(Node::text))
                .collect();
            if !kinds.is_empty() && kinds.iter().all(|k| *k == "NetworkAuthentication") {
                let target = o
                    .root
                    .pointer("/spec/targetRef/name")
                    .and_then(Node::text)
                    .unwrap_or("");
                out.push(Plaintext {
                    pointer: "/spec/requiredAuthenticationRefs".into(),
                    message: format!(
                        "Linkerd AuthorizationPolicy `{}` in namespace `{ns}` authorizes clients of `{target}` by network only (`NetworkAuthentication`, no `MeshTLSAuthentication` or ServiceAccount): unauthenticated plaintext connections from those networks are accepted",
                        o.name
                    ),
                });
            }
        }
        _ => {}
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Per namespace: whose pod-to-pod traffic is plaintext
// ---------------------------------------------------------------------------------------------

/// Namespaces of the platform itself, never summarised: Kubernetes' own and the meshes'.
fn is_system_namespace(ns: &str) -> bool {
    matches!(
        ns,
        "kube-system" | "kube-public" | "kube-node-lease" | ISTIO_ROOT_NAMESPACE
    ) || ns == "linkerd"
        || ns.starts_with("linkerd-")
}

fn string_map(n: Option<&Node>) -> BTreeMap<String, String> {
    n.map(|m| {
        m.entries()
            .iter()
            .map(|e| (e.key.to_string(), e.value.text().unwrap_or("").to_owned()))
            .collect()
    })
    .unwrap_or_default()
}

fn is_mesh_key(k: &str) -> bool {
    k.starts_with("sidecar.istio.io/")
        || k.starts_with("istio.io/")
        || k.starts_with("linkerd.io/")
        || k.starts_with("config.linkerd.io/")
}

/// Does this object show that a mesh is installed or used: mesh policy, the meshes' own
/// namespaces (`istio-system`, `linkerd`) or objects in them, a Namespace labelled or annotated for
/// injection (`istio-injection`, `istio.io/rev`, `istio.io/dataplane-mode`, `linkerd.io/inject`), a
/// pod template labelled or annotated for injection or injected?
pub fn is_mesh_evidence(o: &Object) -> bool {
    if is_mesh_policy(o) {
        return true;
    }
    if o.kind == "Namespace" && o.group().is_empty() {
        return matches!(o.name.as_str(), ISTIO_ROOT_NAMESPACE | "linkerd")
            || [ISTIO_INJECTION, ISTIO_REV, ISTIO_DATAPLANE]
                .iter()
                .any(|k| o.label(k).is_some())
            || o.annotation(LINKERD_INJECT).is_some();
    }
    let Some(t) = PodTemplate::of(o) else {
        return false;
    };
    matches!(
        o.namespace.as_deref(),
        Some(ISTIO_ROOT_NAMESPACE | "linkerd")
    ) || ["labels", "annotations"].iter().any(|k| {
        t.metadata
            .and_then(|m| m.get(k))
            .is_some_and(|m| m.entries().iter().any(|e| is_mesh_key(&e.key)))
    })
}

/// Is this object kept for the per-namespace summary? Mesh policy only: a workload's mesh
/// labels and annotations are in its summary ([`Workload::mesh_annotations`]).
pub fn retained(o: &Object) -> bool {
    is_mesh_policy(o)
}

/// The pod template's annotations that belong to a mesh, for the workload's summary.
pub fn template_mesh_annotations(t: &PodTemplate) -> BTreeMap<String, String> {
    let mut a = string_map(t.metadata.and_then(|m| m.get("annotations")));
    a.retain(|k, _| is_mesh_key(k));
    a
}

/// Why a workload's pod-to-pod traffic is plaintext.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Neither mesh injects its pods: why (an opt-out, or no injection label or annotation).
    NotInjected(&'static str),
    /// Istio injects it, with this effective mode, set by this PeerAuthentication
    /// (`namespace/name`) or, when `None`, Istio's default.
    Istio(String, Option<String>),
    /// Linkerd injects it, with this default inbound policy, set where (`the namespace`, `the
    /// pod template`) or, when `None`, Linkerd's default.
    Linkerd(String, Option<&'static str>),
}

impl Reason {
    pub fn describe(&self) -> String {
        match self {
            Reason::NotInjected(why) => format!("not in the mesh ({why})"),
            Reason::Istio(mode, Some(pa)) => {
                format!("Istio mTLS `{mode}` (PeerAuthentication `{pa}`)")
            }
            Reason::Istio(mode, None) => {
                format!("Istio mTLS `{mode}` (Istio's default: no PeerAuthentication applies)")
            }
            Reason::Linkerd(p, Some(at)) => {
                format!("Linkerd default inbound policy `{p}` (annotation on {at})")
            }
            Reason::Linkerd(p, None) => format!(
                "Linkerd default inbound policy `{p}` (Linkerd's default: no `{LINKERD_POLICY}` annotation)"
            ),
        }
    }
}

/// One namespace whose workloads take plaintext pod-to-pod traffic.
pub struct NamespacePlaintext<'a> {
    pub namespace: String,
    /// The Namespace object, if the input has it and it carries a mesh label or annotation
    /// (where the namespace's mesh setting is written); else the finding is located at the first
    /// plaintext workload.
    pub object: Option<&'a Object>,
    /// The workloads of the namespace.
    pub total: usize,
    /// The plaintext ones, with why.
    pub plaintext: Vec<(&'a Workload, Reason)>,
}

impl NamespacePlaintext<'_> {
    pub fn message(&self) -> String {
        let mut by_reason: BTreeMap<&Reason, Vec<&Workload>> = BTreeMap::new();
        for (w, r) in &self.plaintext {
            by_reason.entry(r).or_default().push(w);
        }
        // By kind and name, not input order: a dump and the cluster list objects differently.
        for ws in by_reason.values_mut() {
            ws.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
        }
        let parts: Vec<String> = by_reason
            .iter()
            .map(|(r, ws)| {
                const SHOWN: usize = 5;
                let mut names: Vec<String> = ws
                    .iter()
                    .take(SHOWN)
                    .map(|w| format!("{} `{}`", w.kind, w.name))
                    .collect();
                if ws.len() > SHOWN {
                    names.push(format!("{} more", ws.len() - SHOWN));
                }
                format!("{}: {}", names.join(", "), r.describe())
            })
            .collect();
        format!(
            "namespace `{}`: pod-to-pod traffic is accepted in plain text by {} of its {} workloads — {}",
            self.namespace,
            self.plaintext.len(),
            self.total,
            parts.join("; ")
        )
    }
}

/// A PeerAuthentication, as far as the summary needs it.
struct Peer<'a> {
    object: &'a Object,
    namespace: &'a str,
    selector: Option<BTreeMap<String, String>>,
    mode: Option<&'a str>,
}

/// Per namespace holding workloads, those whose pod-to-pod traffic is plaintext. Empty when the
/// input shows no mesh (nothing is concluded from what is not there).
pub fn plaintext_namespaces<'a>(
    objects: &[&'a Object],
    workloads: &'a [Workload],
) -> Vec<NamespacePlaintext<'a>> {
    let evidence = objects.iter().any(|o| is_mesh_evidence(o))
        || workloads.iter().any(|w| {
            matches!(w.namespace.as_str(), ISTIO_ROOT_NAMESPACE | "linkerd")
                || w.pod_labels.keys().any(|k| is_mesh_key(k))
                || !w.mesh_annotations.is_empty()
        });
    if !evidence {
        return Vec::new();
    }
    let namespaces: BTreeMap<&str, &Object> = objects
        .iter()
        .copied()
        .filter(|o| o.kind == "Namespace" && o.group().is_empty())
        .map(|o| (o.name.as_str(), o))
        .collect();
    let peers: Vec<Peer> = objects
        .iter()
        .copied()
        .filter(|o| o.kind == "PeerAuthentication" && o.group() == "security.istio.io")
        .map(|o| Peer {
            object: o,
            namespace: o.namespace.as_deref().unwrap_or("default"),
            selector: o
                .root
                .pointer("/spec/selector/matchLabels")
                .map(|m| string_map(Some(m)))
                .filter(|m| !m.is_empty()),
            mode: o
                .root
                .pointer("/spec/mtls/mode")
                .and_then(Node::text)
                .filter(|m| *m != "UNSET"),
        })
        .collect();
    let mut out: BTreeMap<&str, NamespacePlaintext> = BTreeMap::new();
    // A workload written more than once (kustomize variants, a chart rendered twice) counts once.
    let mut seen = std::collections::BTreeSet::new();
    for w in workloads {
        if is_system_namespace(&w.namespace)
            || !seen.insert((w.namespace.as_str(), w.kind.as_str(), w.name.as_str()))
        {
            continue;
        }
        let ns = namespaces.get(w.namespace.as_str()).copied();
        let ns_labels = ns.map(Object::labels).unwrap_or_default();
        let ns_annotations = string_map(ns.and_then(|n| n.root.pointer("/metadata/annotations")));

        let reason = reason(w, &ns_labels, &ns_annotations, &peers);
        let entry = out
            .entry(w.namespace.as_str())
            .or_insert_with(|| NamespacePlaintext {
                namespace: w.namespace.to_string(),
                object: ns.filter(|o| {
                    o.labels()
                        .keys()
                        .any(|k| is_mesh_key(k) || k == ISTIO_INJECTION)
                        || string_map(o.root.pointer("/metadata/annotations"))
                            .keys()
                            .any(|k| is_mesh_key(k))
                }),
                total: 0,
                plaintext: Vec::new(),
            });
        entry.total += 1;
        if let Some(r) = reason {
            entry.plaintext.push((w, r));
        }
    }
    out.into_values()
        .filter(|n| !n.plaintext.is_empty())
        .collect()
}

/// Why this workload's pod-to-pod traffic is plaintext, or `None` if it is mTLS only.
fn reason(
    w: &Workload,
    ns_labels: &crate::selector::Labels,
    ns_annotations: &BTreeMap<String, String>,
    peers: &[Peer],
) -> Option<Reason> {
    // Neither mesh injects pods on the node's network, nor static Pods (no admission webhook
    // sees them).
    if w.host_network {
        return Some(Reason::NotInjected(
            "`hostNetwork: true`: no sidecar is injected into pods on the node's network",
        ));
    }
    if w.static_pod {
        return Some(Reason::NotInjected(
            "a static Pod: admission webhooks, and so injection, never see it",
        ));
    }
    let pod = |k: &str| {
        w.pod_labels
            .get(k)
            .or_else(|| w.mesh_annotations.get(k))
            .map(String::as_str)
    };
    // Istio (https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/): either
    // label disabled → not injected; either enabled → injected; neither → not injected (the
    // injector's default `enableNamespacesByDefault: false`). A revision label enables it too.
    let ns_istio = match ns_labels.get(ISTIO_INJECTION).map(String::as_str) {
        Some("enabled") => Some(true),
        Some("disabled") => Some(false),
        _ => ns_labels.contains_key(ISTIO_REV).then_some(true),
    };
    let pod_istio = match pod(ISTIO_INJECT) {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let ambient = ns_labels.get(ISTIO_DATAPLANE).map(String::as_str) == Some("ambient")
        && pod(ISTIO_DATAPLANE) != Some("none");
    let istio = w.mesh_annotations.contains_key(ISTIO_STATUS)
        || ambient
        || (ns_istio != Some(false)
            && pod_istio != Some(false)
            && (ns_istio == Some(true) || pod_istio == Some(true)));
    // Linkerd (https://linkerd.io/2/features/proxy-injection/): the pod's annotation over the
    // namespace's.
    let on = |v: Option<&String>| match v.map(String::as_str) {
        Some("enabled" | "ingress") => Some(true),
        Some("disabled") => Some(false),
        _ => None,
    };
    let linkerd = w.mesh_annotations.contains_key(LINKERD_PROXY_VERSION)
        || on(w.mesh_annotations.get(LINKERD_INJECT))
            .or(on(ns_annotations.get(LINKERD_INJECT)))
            .unwrap_or(false);
    if istio {
        // Precedence: a workload's own policy (selector), the namespace's, the mesh's (root
        // namespace); `UNSET` inherits; none → PERMISSIVE.
        let select = |p: &&Peer| {
            p.namespace == w.namespace
                && p.selector
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|(k, v)| w.pod_labels.get(k) == Some(v)))
        };
        let own = |p: &&Peer| p.namespace == w.namespace && p.selector.is_none();
        let mesh = |p: &&Peer| p.namespace == ISTIO_ROOT_NAMESPACE && p.selector.is_none();
        let effective = peers
            .iter()
            .filter(select)
            .chain(peers.iter().filter(own))
            .chain(peers.iter().filter(mesh))
            .find_map(|p| p.mode.map(|m| (m, p)));
        return match effective {
            Some(("STRICT", _)) => None,
            Some((mode, p)) => Some(Reason::Istio(
                mode.to_owned(),
                Some(format!("{}/{}", p.namespace, p.object.name)),
            )),
            None => Some(Reason::Istio("PERMISSIVE".to_owned(), None)),
        };
    }
    if linkerd {
        // Linkerd's default inbound policy: the pod's annotation, the namespace's, else the
        // installation's default `all-unauthenticated` (`proxy.defaultInboundPolicy`).
        let (policy, at) = match (
            w.mesh_annotations.get(LINKERD_POLICY),
            ns_annotations.get(LINKERD_POLICY),
        ) {
            (Some(p), _) => (p.as_str(), Some("the pod template")),
            (None, Some(p)) => (p.as_str(), Some("the namespace")),
            (None, None) => ("all-unauthenticated", None),
        };
        return matches!(
            policy,
            "all-unauthenticated" | "cluster-unauthenticated" | "audit"
        )
        .then(|| Reason::Linkerd(policy.to_owned(), at));
    }
    let why = if pod_istio == Some(false) {
        "its pod template sets `sidecar.istio.io/inject: \"false\"`"
    } else if ns_istio == Some(false) {
        "the namespace is labelled `istio-injection: disabled`"
    } else if on(w.mesh_annotations.get(LINKERD_INJECT)) == Some(false)
        || on(ns_annotations.get(LINKERD_INJECT)) == Some(false)
    {
        "`linkerd.io/inject: disabled`"
    } else {
        "no injection label or annotation on the namespace or the pod template"
    };
    Some(Reason::NotInjected(why))
}
