//! A workload's pods are selected by no network policy at all.

use crate::analysis::netpol::PodRef;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "workload-not-selected-by-network-policy",
    section: Section::Rule(11),
    severity: Severity::Low,
    summary: "Workload is selected by no NetworkPolicy",
    rationale: "Pods that no policy selects are non-isolated in both directions: any pod of the \
        cluster can connect to them and they can connect anywhere. This is the per-workload view of \
        a missing default deny; it also catches pods whose labels do not match the selectors their \
        authors meant to cover them.",
    remedy: "Add a namespace-wide default deny (`podSelector: {}` with `policyTypes: [Ingress, \
        Egress]`) and a policy for the workload that selects its pod labels and allows only the \
        traffic it needs.",
    references: References {
        checkov: &["CKV2_K8S_6"],
        kube_linter: &["non-isolated-pod"],
        polaris: &["missingNetworkPolicy"],
        kubescape: &["C-0260"],
        ..References::NONE
    },
    evidence: &[Evidence::WorkloadsAndPolicies],
    fix: None,
    check: Check::Inventory(check, &[Model::Network]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let net = facts.network();
    // NetworkPolicy does not apply to hostNetwork pods: no policy can select them.
    for w in facts.workloads.iter().filter(|w| !w.host_network) {
        if let Err(notes) = net.selected_by(&PodRef::of(w)) {
            let mut message = format!(
                "{} \"{}\" in namespace \"{}\" is selected by no network policy: its pods accept connections from anywhere and may connect anywhere",
                w.kind, w.name, w.namespace
            );
            for note in notes {
                message.push_str("; ");
                message.push_str(&note);
            }
            emit.workload(w, message);
        }
    }
}
