//! A manifest redefines a built-in ClusterRole the API server reconciles at start-up.

use crate::analysis::rbac::AUTOUPDATE_ANNOTATION;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "builtin-role-redefined",
    section: Section::Rule(2),
    severity: Severity::Medium,
    summary: "A manifest redefines a built-in ClusterRole (cluster-admin, admin, edit, view, system:…)",
    rationale: "The API server reconciles the bootstrap ClusterRoles at every start-up: the \
        built-in rules, labels and aggregation selectors are added back to the stored role, so a \
        manifest that narrows `cluster-admin` or `view` changes nothing once the API server \
        restarts, and a review that trusts the manifest misjudges every binding to it (kubeharden \
        judges such roles by their built-in definition). With the annotation \
        `rbac.authorization.kubernetes.io/autoupdate: \"false\"` the reconciliation stops and the \
        manifest silently changes what every binding to the built-in role grants, across the \
        cluster and in future upgrades.",
    remedy: "Do not ship manifests named like built-in roles: create a role of your own name with \
        the rules you mean and bind that. To extend `admin`, `edit` or `view`, label a new \
        ClusterRole `rbac.authorization.k8s.io/aggregate-to-<role>: \"true\"`.",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/rbac/#auto-reconciliation",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for role in rbac.roles.iter().filter(|r| r.redefines_builtin()) {
        let Some(object) = role.object else {
            continue;
        };
        let message = if role.reconciled_with.is_some() {
            format!(
                "{} redefines a built-in ClusterRole: the API server adds the built-in rules back \
                 at start-up, so the manifest does not narrow what bindings to it grant (judged \
                 by its built-in definition)",
                role.describe()
            )
        } else {
            format!(
                "{} redefines a built-in ClusterRole with `{AUTOUPDATE_ANNOTATION}: \"false\"`: \
                 the API server keeps the manifest's rules, changing what every binding to the \
                 built-in role grants",
                role.describe()
            )
        };
        emit.object(object, "/metadata/name", message);
    }
}
