//! A service mesh accepts plaintext pod-to-pod traffic.

use crate::analysis::mesh::plaintext;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "mesh-mtls-not-strict",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "Service mesh accepts plaintext pod-to-pod traffic (mTLS PERMISSIVE or DISABLE)",
    rationale: "A mesh in PERMISSIVE mode accepts both mTLS and plain text: any pod, including one \
        outside the mesh or an attacker's, can talk to the workloads unauthenticated, and the \
        traffic can be read and altered on the wire. Mesh authorization policies that rely on \
        peer identities do not apply to plaintext requests.",
    remedy: "Set a mesh-wide `PeerAuthentication` with `mtls.mode: STRICT` in the root namespace \
        (istio-system) and remove PERMISSIVE/DISABLE overrides once every client is in the mesh; \
        for Linkerd, use a default inbound policy that requires authentication \
        (`all-authenticated`).",
    references: References {
        docs: &[
            "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
            "https://linkerd.io/2/reference/authorization-policy/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::ServiceMesh],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for p in plaintext(o) {
        emit.object(o, &p.pointer, p.message);
    }
}
