//! A NetworkPolicy selects no workload of its namespace (a dangling policy).

use crate::analysis::netpol::{NetworkPolicy, PodRef};
use crate::finding::Severity;
use crate::inventory::Workload;
use crate::rules::Emitter;
use crate::rules::context::NETWORK_POLICY_KINDS;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashMap;

pub static RULE: Rule = Rule {
    id: "network-policy-selects-nothing",
    section: Section::Rule(11),
    severity: Severity::Low,
    summary: "NetworkPolicy selects no workload of its namespace",
    rationale: "A policy whose `podSelector` matches none of the pods in its namespace protects \
        nothing, usually because of a typo in a label or a workload that was relabelled. The pods it \
        was written for stay open while the manifest suggests otherwise. Judged only against the \
        workloads of the input, and only for namespaces that have workloads in the input.",
    remedy: "Make `spec.podSelector` match the pod template labels of the workload it is meant \
        for (compare with `kubectl get pods -n <ns> --show-labels`), or delete the policy.",
    references: References {
        kube_linter: &["dangling-networkpolicy"],
        ..References::NONE
    },
    evidence: &[Evidence::WorkloadsAndPolicies, Evidence::NetworkPolicies],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// Kubernetes NetworkPolicies only: Cilium and Calico selectors are not judged for this.
fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let mut by_namespace: HashMap<&str, Vec<&Workload>> = HashMap::new();
    for w in &facts.workloads {
        by_namespace.entry(&w.namespace).or_default().push(w);
    }
    for o in facts.objects_of(NETWORK_POLICY_KINDS) {
        let o = &*o;
        let Some(p) = NetworkPolicy::from_object(o) else {
            continue;
        };
        if p.pod_selector.invalid {
            continue;
        }
        let workloads = by_namespace
            .get(p.namespace.as_str())
            .map_or(&[][..], Vec::as_slice);
        if workloads.is_empty() || workloads.iter().any(|w| p.selects(&PodRef::of(w))) {
            continue;
        }
        emit.object(
            o,
            "/spec/podSelector",
            format!(
                "NetworkPolicy \"{}\" selects no workload of namespace \"{}\": `podSelector` `{}` matches none of the {} workload(s) there in the input (pods that operators create from custom resources are not visible in manifests)",
                p.name,
                p.namespace,
                p.pod_selector,
                workloads.len()
            ),
        );
    }
}
