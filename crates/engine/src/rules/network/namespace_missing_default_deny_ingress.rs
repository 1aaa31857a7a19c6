//! A namespace (with workloads, or declared in the input) has no default-deny ingress policy.

use crate::analysis::netpol::Direction;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer};
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "namespace-missing-default-deny-ingress",
    section: Section::Rule(11),
    severity: Severity::Medium,
    summary: "Namespace has no default-deny ingress NetworkPolicy",
    rationale: "A pod that no NetworkPolicy isolates accepts connections from every pod of the \
        cluster and, through load balancers and node ports, from outside. Without a namespace-wide \
        default deny, every new workload starts out open, and one compromised pod anywhere can reach \
        databases, admin endpoints and sidecars directly. Per-workload policies do not protect pods \
        that nobody wrote a policy for.",
    remedy: "Add to every namespace a policy that selects all pods and allows nothing, then allow \
        what each workload needs: `kind: NetworkPolicy`, `metadata: {name: default-deny, \
        namespace: <ns>}`, `spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`. A Cilium \
        `endpointSelector: {}` policy with `ingress: [{}]`, a Calico `all()` policy with `types: \
        [Ingress]` or a BaselineAdminNetworkPolicy denying all namespaces also count.",
    references: References {
        cis: &["5.3.2"],
        kubescape: &["C-0206", "C-0260"],
        docs: &[
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-traffic",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::WorkloadsAndPolicies],
    fix: Some(&FIX),
    check: Check::Inventory(check, &[Model::Network]),
};

static FIX: Fix = Fix {
    order: 130,
    kind: FixKind::Generated,
    description: "`fix --generate-missing DIR` (or `generate default-deny -n NS`) writes a \
            default-deny NetworkPolicy for the namespace.",
    fixer: Fixer::Generated,
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    super::check_default_deny(Direction::Ingress, facts, emit);
}
