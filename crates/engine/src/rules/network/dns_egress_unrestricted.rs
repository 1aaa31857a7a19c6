//! DNS egress (port 53) is allowed to any destination instead of the cluster DNS.

use crate::analysis::netpol::{self, NetworkPolicy};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::context::NETWORK_POLICY_KINDS;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "dns-egress-unrestricted",
    section: Section::Rule(12),
    severity: Severity::Low,
    summary: "DNS egress allowed to any destination, not only to the cluster DNS",
    rationale: "Allowing port 53 to everywhere, the usual way to keep name resolution working \
        under a default-deny egress policy, lets a compromised pod use any resolver on the Internet: \
        DNS tunnelling exfiltrates data and carries command-and-control traffic through an \
        otherwise closed egress allowlist, and bypasses DNS logging and filtering in the cluster.",
    remedy: "Allow port 53 only to the cluster DNS: `to: [{namespaceSelector: {matchLabels: \
        {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: \
        kube-dns}}}]` with `ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]` (add \
        the NodeLocal DNSCache address as a /32 `ipBlock` if you run it). With Cilium, send \
        port 53 to the kube-dns endpoints, or restrict the names with a DNS rule \
        (`toPorts[].rules.dns` with `matchName`/`matchPattern` other than `*`); with Calico \
        Enterprise, name the resolvers with `destination.domains`.",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
            "https://docs.cilium.io/en/stable/security/policy/language/#dns-based",
            "https://docs.tigera.io/calico-enterprise/latest/network-policy/domain-based-policy",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::NetworkPolicies],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// Kubernetes NetworkPolicies, and Cilium and Calico rules that open only port 53 (a Cilium DNS
/// rule naming the names that may be resolved, or Calico `destination.domains`, restricts them).
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for o in facts.objects_of(NETWORK_POLICY_KINDS) {
        let o = &*o;
        let Some(p) = NetworkPolicy::from_object(o) else {
            for b in netpol::broad_cni_dns_egress(o) {
                emit.object(
                    o,
                    &b.pointer,
                    format!(
                        "{} \"{}\" allows DNS egress on {} rather than to the kube-dns pods in kube-system",
                        o.kind, o.name, b.what
                    ),
                );
            }
            continue;
        };
        for b in netpol::broad_dns_egress(&p) {
            emit.object(
                o,
                &b.pointer,
                format!(
                    "NetworkPolicy \"{}\" allows DNS egress on {} rather than to the kube-dns pods in kube-system",
                    p.name, b.what
                ),
            );
        }
    }
}
