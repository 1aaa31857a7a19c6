//! The Kubernetes Dashboard runs as a service account bound to cluster-admin.

use crate::analysis::rbac::{Principal, Scope};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "dashboard-cluster-admin",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "Kubernetes Dashboard runs as a service account bound to cluster-admin",
    rationale: "The Dashboard acts with its own service account wherever it does not use the \
        signed-in user's token (skip-login, its own metrics and settings): bound to cluster-admin, \
        it turns every person or program that can reach its web page into a cluster \
        administrator. The upstream manifests bind it to a minimal role on purpose.",
    remedy: "Bind the Dashboard's service account only to the Role and ClusterRole of the \
        upstream manifest (its own Secrets and ConfigMap, metrics), and let users sign in with \
        their own tokens.",
    references: References {
        docs: &[
            "https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac, Evidence::PodTemplates],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

/// A Dashboard workload, by the labels or name the upstream manifests and chart give it.
fn is_dashboard(w: &crate::inventory::Workload) -> bool {
    let named = |v: &str| v == "kubernetes-dashboard" || v.starts_with("kubernetes-dashboard-");
    named(&w.name)
        || ["k8s-app", "app.kubernetes.io/name", "app"]
            .iter()
            .any(|k| w.pod_labels.get(k).is_some_and(|v| named(v)))
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for w in facts.workloads.iter().filter(|w| is_dashboard(w)) {
        let who = Principal::service_account(&w.namespace, &w.service_account);
        let Some(grant) = rbac
            .grants(&who)
            .into_iter()
            .find(|g| g.scope == Scope::Cluster && rbac.is_cluster_admin(g.role))
        else {
            continue;
        };
        emit.workload(
            w,
            format!(
                "the Kubernetes Dashboard runs as ServiceAccount \"{}/{}\", which holds {} \
                 cluster-wide through {}: whoever reaches the Dashboard is cluster-admin",
                w.namespace,
                w.service_account,
                grant.role.describe(),
                grant.binding.describe()
            ),
        );
    }
}
