//! A Role or ClusterRole grants risky permissions but nothing binds it (yet).

use super::risk_summary;
use crate::analysis::rbac::{Resolution, RoleKind, Scope};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::HashSet;

pub static RULE: Rule = Rule {
    id: "unbound-role-risky-permissions",
    section: Section::Rule(2),
    severity: Severity::Info,
    summary: "Role or ClusterRole grants risky permissions but no binding in the input uses it",
    rationale: "A role definition grants nothing until a binding references it, but it becomes \
        live the moment someone binds it (anyone allowed to create bindings in its scope, a chart \
        installed later), and a review of that binding rarely re-reads the role. Reported at \
        `info`, the convention of other scanners for definitions nothing uses. Roles whose rules \
        reach a bound role through aggregation count as bound; wildcards are reported by \
        rbac-wildcard-permissions.",
    remedy: "Delete role definitions nothing uses, or narrow them to what their future holders \
        need before binding them.",
    references: References {
        cis: &["5.1.2", "5.1.4", "5.1.8"],
        docs: &["https://kubernetes.io/docs/concepts/security/rbac-good-practices/"],
        ..References::NONE
    },
    evidence: &[Evidence::Rbac],
    fix: None,
    check: Check::Inventory(check, &[Model::Rbac]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    // A role is live when a binding resolves to it, or its rules are aggregated into another
    // role (which may be bound, in the input or later).
    let mut live: HashSet<usize> = HashSet::new();
    for b in &rbac.bindings {
        if let Resolution::Role(role) = rbac.resolve(b) {
            live.insert(role.id);
        }
    }
    for role in &rbac.roles {
        for id in role.effective_rules() {
            if id.role != role.id {
                live.insert(id.role);
            }
        }
    }
    for role in &rbac.roles {
        let Some(object) = role.object else {
            continue;
        };
        if live.contains(&role.id) || role.builtin || role.aggregation.is_some() {
            continue;
        }
        if rbac
            .role(role.kind, role.namespace.as_deref(), &role.name)
            .map(|r| r.id)
            != Some(role.id)
        {
            continue;
        }
        let scope = match (&role.kind, &role.namespace) {
            (RoleKind::Role, Some(ns)) => Scope::Namespace(ns),
            _ => Scope::Cluster,
        };
        let what = risk_summary(rbac, role, scope);
        if what.is_empty() {
            continue;
        }
        emit.object(
            object,
            "/rules",
            format!(
                "{} lets its holders {what}, but no binding in the input references it: it \
                 grants these as soon as one does",
                role.describe()
            ),
        );
    }
}
