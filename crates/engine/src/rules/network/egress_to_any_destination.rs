//! An egress rule admits any destination.

use crate::analysis::netpol;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::context::NETWORK_POLICY_KINDS;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "egress-to-any-destination",
    section: Section::Rule(12),
    severity: Severity::Medium,
    summary: "Egress rule allows any destination",
    rationale: "An egress rule without `to`, with `ipBlock: 0.0.0.0/0` (or `::/0`), or with \
        `namespaceSelector: {}` turns an allowlist into an open door: a compromised pod can reach \
        the Internet (command and control, exfiltration, downloading tools), the cloud metadata \
        endpoint, or every pod of the cluster. Egress should name the services a workload really \
        talks to.",
    remedy: "Replace the rule with one peer per real destination: `podSelector`/`namespaceSelector` \
        (by `kubernetes.io/metadata.name`) for in-cluster services, the narrowest `ipBlock` CIDRs for \
        external ones, and `ports` for each; keep DNS to kube-dns only. For FQDN allowlists use your \
        CNI's policy (Cilium `toFQDNs`) or an egress gateway/proxy.",
    references: References {
        kubescape: &["C-0030"],
        docs: &["https://kubernetes.io/docs/concepts/services-networking/network-policies/"],
        ..References::NONE
    },
    evidence: &[Evidence::NetworkPolicies],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// NetworkPolicy, Cilium and Calico egress rules; AdminNetworkPolicy is not judged.
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for o in facts.objects_of(NETWORK_POLICY_KINDS) {
        let o = &*o;
        for b in netpol::broad_egress(o) {
            emit.object(
                o,
                &b.pointer,
                format!("{} \"{}\" allows egress {}", o.kind, o.name, b.what),
            );
        }
    }
}
