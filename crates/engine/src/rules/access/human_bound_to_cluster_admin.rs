//! A person or team (User or Group) holds cluster-admin cluster-wide, or administers a namespace
//! through a RoleBinding to `admin`, `cluster-admin` or an equivalent role.

use super::human_cluster_admins;
use crate::analysis::rbac::{BREAK_GLASS_ANNOTATION, Grant};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "human-bound-to-cluster-admin",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "User or Group is bound to cluster-admin (or an equivalent wildcard role), cluster-wide or in a namespace",
    rationale: "A standing cluster-admin grant to a person turns every phished laptop, leaked \
        kubeconfig or stolen OIDC session into full control of the cluster, with no step that \
        would be noticed. Day-to-day administration needs namespaced roles or narrower ClusterRoles; \
        cluster-admin belongs to one audited break-glass account. A Group grant is worse: its \
        membership is managed outside the cluster, in the identity provider. The same grant through \
        a RoleBinding (to `admin`, `cluster-admin` or a role with `*` on `*/*`, or every read and \
        write verb on `*/*`) gives full control of the namespace, its Secrets and the service \
        accounts that run there; it is reported at `medium`. A manifest that redefines \
        `cluster-admin` or `admin` does not change them: the API server restores the built-in \
        rules at start-up, so they are judged by their built-in definition. ServiceAccounts and \
        the reserved `system:` identities are covered by other rules.",
    remedy: "Bind people to namespaced `edit`/`view` (RoleBinding) or to purpose-built \
        roles, and elevate through a just-in-time process. Keep exactly one break-glass \
        binding and mark it with the annotation `kubeharden.io/break-glass: \"true\"`.",
    references: References {
        cis: &["5.1.1"],
        trivy: &["KSV111"],
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
                equivalence(&admin),
            ),
        );
    }
    // Namespace administrators: admin-equivalent through a RoleBinding.
    for admin in rbac.namespace_admins() {
        if !admin.subject.is_human() || admin.binding.is_break_glass() {
            continue;
        }
        emit.object(
            admin.binding.object,
            &admin.subject.pointer(),
            format!(
                "{} holds {} {} through {}{}: full control of the namespace, its Secrets and the \
                 service accounts that run there",
                admin.subject,
                admin.role.describe(),
                admin.scope,
                admin.binding.describe(),
                equivalence(&admin),
            ),
        );
        if let Some(f) = emit.findings.last_mut() {
            f.severity = Severity::Medium;
        }
    }
}

/// Why the role counts as cluster-admin: its name (built-in or restored at start-up), or its
/// rules.
fn equivalence(admin: &Grant) -> &'static str {
    match (
        admin.role.name.as_str(),
        admin.role.reconciled_with.is_some(),
    ) {
        ("cluster-admin" | "admin", true) => {
            " (the input redefines the role, but the API server restores its built-in rules at \
             start-up)"
        }
        ("cluster-admin" | "admin", false) if admin.role.object.is_none() => "",
        _ if admin.role.name == "cluster-admin" => "",
        _ => " (full control of every resource: cluster-admin equivalent)",
    }
}
