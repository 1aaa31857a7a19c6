//! A workload runs as its namespace's `default` ServiceAccount with the API token mounted.

use crate::analysis::rbac::Principal;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashMap;

pub static RULE: Rule = Rule {
    id: "workload-uses-default-service-account",
    section: Section::Rule(2),
    severity: Severity::Medium,
    summary: "Workload runs as the `default` ServiceAccount with its API token mounted",
    rationale: "Every pod that names no ServiceAccount runs as its namespace's `default` one, so all \
        of them share one identity: any permission granted to `default` for one workload is held by \
        every other, and the token mounted in each pod lets whoever compromises it call the API as \
        that identity. Least privilege needs one ServiceAccount per workload, and no token where the \
        workload does not call the API.",
    remedy: "Create a ServiceAccount per workload and set `spec.serviceAccountName`; set \
        `automountServiceAccountToken: false` on the pod (or on the ServiceAccount) unless the \
        workload calls the Kubernetes API, and on every namespace's `default` ServiceAccount.",
    references: References {
        cis: &["5.1.5", "5.1.6"],
        checkov: &["CKV_K8S_38"],
        kube_linter: &["default-service-account"],
        kubescape: &["C-0189", "C-0034"],
        docs: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    check: Check::Inventory(check),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    let mut rights: HashMap<&str, String> = HashMap::new();
    for w in facts
        .workloads
        .iter()
        .filter(|w| w.service_account == "default")
    {
        let sa_automount = rbac
            .service_account(&w.namespace, "default")
            .and_then(|o| o.root.get("automountServiceAccountToken"))
            .and_then(|n| n.as_bool());
        // The pod's setting wins over the ServiceAccount's; mounted unless one says false.
        if w.automount_token.or(sa_automount) == Some(false) {
            continue;
        }
        let rights = rights.entry(w.namespace.as_str()).or_insert_with(|| {
            let bound: Vec<String> = rbac
                .grants(&Principal::service_account(&w.namespace, "default"))
                .iter()
                .filter(|g| g.subject.service_accounts().is_some())
                .map(|g| format!("{} through {}", g.role.describe(), g.binding.describe()))
                .collect();
            if bound.is_empty() {
                String::new()
            } else {
                format!("; that ServiceAccount is granted {}", bound.join(", "))
            }
        });
        emit.workload(
            w,
            format!(
                "{} \"{}\" runs as the \"default\" ServiceAccount of namespace \"{}\" with its API \
                 token mounted (automountServiceAccountToken is not false on the pod or the \
                 ServiceAccount){rights}",
                w.kind, w.name, w.namespace
            ),
        );
    }
}
