//! A namespace (with workloads, or declared in the input) has no default-deny egress policy.

use crate::analysis::netpol::Direction;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer};
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "namespace-missing-default-deny-egress",
    section: Section::Rule(11),
    severity: Severity::Medium,
    summary: "Namespace has no default-deny egress NetworkPolicy",
    rationale: "Without egress isolation a compromised pod can download tooling, reach the cloud \
        metadata endpoint (169.254.169.254) for node credentials, scan and attack every service of \
        the cluster, and exfiltrate data to any host. A policy without `Egress` in its policyTypes \
        does not restrict egress: Kubernetes defaults policyTypes to [Ingress] when a policy has no \
        egress rules, so `egress: []` alone denies nothing.",
    remedy: "Select every pod and list Egress explicitly: `spec: {podSelector: {}, policyTypes: \
        [Ingress, Egress]}`; then allow DNS to kube-dns in kube-system (UDP and TCP 53) and each \
        workload's real destinations. A Cilium `endpointSelector: {}` policy with `egress: [{}]`, a \
        Calico `all()` policy with `types: [Egress]` or a BaselineAdminNetworkPolicy denying all \
        namespaces and 0.0.0.0/0 and ::/0 also count.",
    references: References {
        cis: &["5.3.2"],
        kubescape: &["C-0206", "C-0030"],
        docs: &[
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::WorkloadsAndPolicies],
    fix: Some(&FIX),
    check: Check::Inventory(check, &[Model::Network]),
};

static FIX: Fix = Fix {
    order: 140,
    kind: FixKind::Generated,
    description: "`fix --generate-missing DIR` (or `generate default-deny -n NS`) writes a \
            default-deny NetworkPolicy for the namespace and one allowing DNS to kube-dns.",
    fixer: Fixer::Generated,
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    super::check_default_deny(Direction::Egress, facts, emit);
}
