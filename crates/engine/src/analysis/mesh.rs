//! Service-mesh mTLS: which traffic a mesh lets through in plain text.
//!
//! - Istio `PeerAuthentication` (security.istio.io): `spec.mtls.mode` `PERMISSIVE` or `DISABLE`
//!   (mesh-wide in the root namespace `istio-system`, namespace-wide without a selector, or for
//!   the selected workloads), and the same modes in `portLevelMtls`. `STRICT` and `UNSET`
//!   (inherit) are not findings.
//! - Linkerd: the `config.linkerd.io/default-inbound-policy` annotation set to
//!   `all-unauthenticated` or `cluster-unauthenticated` (a Namespace or workload that accepts
//!   unauthenticated, possibly plaintext, connections).

use crate::inventory::Object;
use kubeharden_model::yaml::Node;

/// The mesh's root namespace, where a PeerAuthentication applies mesh-wide (Istio's default).
pub const ISTIO_ROOT_NAMESPACE: &str = "istio-system";
pub const LINKERD_POLICY: &str = "config.linkerd.io/default-inbound-policy";

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
