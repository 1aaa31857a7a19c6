//! A Role or ClusterRole grants `*` verbs or `*` resources.

use crate::analysis::rbac::{PolicyRule, RBAC_GROUP, RoleKind};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "rbac-wildcard-permissions",
    section: Section::Rule(2),
    severity: Severity::High,
    summary: "Role or ClusterRole grants wildcard (`*`) verbs or resources",
    rationale: "A `*` in verbs grants every verb, including `escalate`, `bind`, `impersonate` and \
        `deletecollection`; a `*` in resources grants every resource of the groups, including \
        `secrets`, every subresource (`pods/exec`, `nodes/proxy`) and resources that do not exist \
        yet (CRDs installed later). Wildcards hide what a role really allows from reviewers and grow \
        silently with the cluster.",
    remedy: "List the verbs and resources the workload uses (`kubectl auth can-i --list --as \
        system:serviceaccount:<ns>:<sa>` or an audit log, e.g. with `audit2rbac`, shows them) \
        instead of `*`. The built-in `cluster-admin` is exempt; bind it only for break-glass.",
    references: References {
        cis: &["5.1.3"],
        trivy: &["KSV044", "KSV045", "KSV046"],
        kube_linter: &["wildcard-in-rules"],
        kubescape: &["C-0187"],
        docs: &["https://kubernetes.io/docs/concepts/security/rbac-good-practices/"],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn what(rule: &PolicyRule) -> String {
    let verbs = if rule.wildcard_verbs() {
        "every verb (`*`)".to_owned()
    } else {
        rule.verbs.join(", ")
    };
    let resources = if rule.resources.iter().any(|r| r == "*") {
        "every resource (`*`)".to_owned()
    } else if rule.resources.is_empty() {
        format!("nonResourceURLs {}", rule.non_resource_urls.join(", "))
    } else {
        rule.resources.join(", ")
    };
    let groups = if rule.api_groups.iter().any(|g| g == "*") {
        " of every API group".to_owned()
    } else if rule.resources.is_empty() {
        String::new()
    } else {
        let g: Vec<&str> = rule
            .api_groups
            .iter()
            .map(|g| if g.is_empty() { "core" } else { g.as_str() })
            .collect();
        format!(" (apiGroups {})", g.join(", "))
    };
    format!("{verbs} on {resources}{groups}")
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    for role in &rbac.roles {
        let Some(object) = role.object else {
            continue;
        };
        // The built-in cluster-admin is meant to be all-powerful; bootstrap roles are reconciled
        // by the API server; an aggregated ClusterRole's own rules are overwritten by the
        // controller (the roles it aggregates are checked themselves).
        if (role.kind == RoleKind::ClusterRole && role.name == "cluster-admin")
            || role.builtin
            || role.aggregation.is_some()
            || object.group() != RBAC_GROUP
        {
            continue;
        }
        for (i, rule) in role.rules.iter().enumerate() {
            let pointer = if let Some(j) = rule.verbs.iter().position(|v| v == "*") {
                format!("/rules/{i}/verbs/{j}")
            } else if let Some(j) = rule
                .resources
                .iter()
                .position(|r| r == "*" || r.starts_with("*/"))
            {
                format!("/rules/{i}/resources/{j}")
            } else {
                continue;
            };
            let full = if rule.is_full_wildcard() {
                ": full control, equivalent to cluster-admin within its scope"
            } else {
                ""
            };
            emit.object(
                object,
                &pointer,
                format!("{} rules[{i}] grants {}{full}", role.describe(), what(rule)),
            );
        }
    }
}
