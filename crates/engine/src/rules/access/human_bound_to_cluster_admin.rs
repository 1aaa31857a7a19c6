//! A person or team (User or Group) holds cluster-admin cluster-wide.

use super::human_cluster_admins;
use crate::analysis::rbac::BREAK_GLASS_ANNOTATION;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "human-bound-to-cluster-admin",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "User or Group is bound to cluster-admin (or an equivalent wildcard ClusterRole) cluster-wide",
    rationale: "A standing cluster-admin grant to a person turns every phished laptop, leaked \
        kubeconfig or stolen OIDC session into full control of the cluster, with no step that \
        would be noticed. Day-to-day administration needs namespaced roles or narrower ClusterRoles; \
        cluster-admin belongs to one audited break-glass account. A Group grant is worse: its \
        membership is managed outside the cluster, in the identity provider. ServiceAccounts and the \
        reserved `system:` identities are covered by other rules.",
    remedy: "Bind people to namespaced `admin`/`edit` (RoleBinding) or to purpose-built \
        ClusterRoles, and elevate through a just-in-time process. Keep exactly one break-glass \
        binding and mark it with the annotation `kubeharden.io/break-glass: \"true\"`.",
    references: References {
        cis: &["5.1.1"],
        trivy: &["KSV-0111"],
        kube_linter: &["cluster-admin-role-binding"],
        polaris: &["clusterrolebindingClusterAdmin"],
        kubescape: &["C-0035", "C-0185"],
        docs: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for admin in human_cluster_admins(rbac) {
        if admin.binding.is_break_glass() {
            continue;
        }
        emit.object(
            admin.binding.object,
            &admin.subject.pointer(),
            format!(
                "{} holds {} cluster-wide through {}{}; if this is the one break-glass account, \
                 annotate the binding `{BREAK_GLASS_ANNOTATION}: \"true\"`",
                admin.subject,
                admin.role.describe(),
                admin.binding.describe(),
                if admin.role.name == "cluster-admin" {
                    ""
                } else {
                    " (every verb on every resource: cluster-admin equivalent)"
                },
            ),
        );
    }
}
