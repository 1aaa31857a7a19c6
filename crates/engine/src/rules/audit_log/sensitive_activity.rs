//! Sensitive operations seen in the audit log.

use crate::analysis::audit_log::{Category, is_system};
use crate::finding::Severity;
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-log-sensitive-activity",
    section: Section::Rule(4),
    severity: Severity::Low,
    summary: "Audit log shows sensitive operations (secret access, exec, token requests, RBAC or webhook changes) by a person",
    rationale: "Secret reads, `kubectl exec`, token requests and RBAC or admission changes are what \
        an intruder does after getting in; by people they should be rare and explainable. This \
        inventory (who, where, how often, first and last time) is the starting point of an access \
        review and of incident response. Service accounts are left out: controllers do these \
        things all day.",
    remedy: "Review each entry; move routine needs to automation with scoped service accounts, \
        alert on these operations by people, and remove permissions that were not needed.",
    references: References {
        cis: &["3.2.2"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    fix: None,
    check: Check::AuditLog(check),
};

/// Sensitive operations (pod exec, Secret reads and writes, token requests, RBAC and webhook
/// changes) done by people; the requests of system components are expected.
fn check(input: &AuditLogInput, emit: &mut Emitter) {
    super::groups_of(input, emit, |g| {
        let person = !is_system(&g.user) && !g.user.is_empty();
        person
            && !matches!(
                g.category,
                Category::AnonymousAllowed
                    | Category::SystemMasters
                    | Category::HumanClusterAdmin
                    | Category::Impersonation
            )
    });
}
