//! Per namespace: a service mesh is in use, and this namespace's workloads take pod-to-pod
//! traffic in plain text (not injected, or the mesh's effective mode accepts plain text).

use crate::analysis::mesh::plaintext_namespaces;
use crate::finding::Severity;
use crate::rules::{Check, Context, Derived, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "mesh-namespace-plaintext",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "Namespace whose pod-to-pod traffic is plaintext although a service mesh is in use",
    rationale: "A mesh encrypts and authenticates only the traffic of the pods it injects, and \
        only as strictly as its effective policy says: pods outside the mesh, Istio's default \
        `PERMISSIVE` mode (no PeerAuthentication) and Linkerd's default inbound policy \
        `all-unauthenticated` all accept plain text, which can be read and altered on the wire and \
        carries no peer identity for authorization policies to check. The summary tells which \
        namespaces are not protected, where one PeerAuthentication or label would fix them.",
    remedy: "Label the namespace for injection (`istio-injection: enabled` or `istio.io/rev`, or \
        the annotation `linkerd.io/inject: enabled`) and restart its workloads; set a mesh-wide \
        `PeerAuthentication` with `mtls.mode: STRICT` in `istio-system`; for Linkerd, set \
        `config.linkerd.io/default-inbound-policy: all-authenticated` on the namespace.",
    references: References {
        docs: &[
            "https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/",
            "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
            "https://linkerd.io/2/features/proxy-injection/",
            "https://linkerd.io/2/reference/authorization-policy/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::ServiceMesh],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// One finding per namespace: on its Namespace object when that carries the namespace's mesh
/// labels or annotations, else about the Namespace, located at its first plaintext workload (a
/// bare Namespace object, such as one `kubeharden fix` generates, does not move it).
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    // The Namespaces (their labels and annotations) and the mesh policies.
    let namespaces: Vec<_> = facts
        .objects_of(&["Namespace"])
        .map(std::borrow::Cow::into_owned)
        .collect();
    let objects: Vec<_> = namespaces.iter().chain(&facts.cross_object).collect();
    for n in plaintext_namespaces(&objects, &facts.workloads) {
        emit.namespace(n.object, &n.namespace, n.plaintext[0].0, n.message());
    }
}
