//! A permission that the audit log shows was never used.

use crate::analysis::audit_log::unused_grants;
use crate::finding::Severity;
use crate::finding::{Location, Subject};
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "rbac-permission-unused",
    section: Section::Rule(2),
    severity: Severity::Low,
    summary: "Granted RBAC permission never used in the audit log",
    rationale: "Least privilege is measured against use: a rule that the subject never exercised \
        over a representative audit period is attack surface with no benefit. `kubeharden rbac \
        suggest` writes the minimal Role that covers what was actually done.",
    remedy: "Replace the binding with the suggested Role/ClusterRole (review it first: a period \
        without a rare operation, such as a yearly rotation, is not proof it is never needed).",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/concepts/security/rbac-good-practices/#least-privilege",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog, Evidence::RbacUsage],
    fix: None,
    check: Check::AuditLog(check),
};

/// For the subject tracked by `rbac suggest`: every rule granted by the RBAC objects given that
/// no request in the log exercised, at the binding's `roleRef`.
fn check(input: &AuditLogInput, emit: &mut Emitter) {
    let Some((subject, who)) = &input.subject else {
        return;
    };
    for (u, binding) in unused_grants(input.rbac, who, &input.log.tracked) {
        let binding = binding.object();
        let pos = binding.locate("/roleRef");
        emit.at(
            Subject {
                kind: binding.kind.clone(),
                api_version: binding.api_version.clone(),
                name: binding.name.clone(),
                namespace: binding.namespace.clone(),
                container: None,
            },
            Location {
                origin: binding.source.name.as_str().into(),
                line: pos.line,
                column: pos.col,
                pointer: "/roleRef".into(),
                helm_source: None,
            },
            format!(
                "{subject} never used `{}` granted {} by {} ({}) in {} audited requests",
                u.rule, u.scope, u.binding, u.role, input.log.events
            ),
        );
    }
}
