//! The audit log shows impersonated requests.

use crate::analysis::audit_log::Category;
use crate::finding::Severity;
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-log-impersonation",
    section: Section::Rule(2),
    severity: Severity::Medium,
    summary: "Audit log shows impersonation",
    rationale: "Impersonation (`kubectl --as`) lets an identity act as any user, group or \
        ServiceAccount its `impersonate` permission allows — often everything. Each use should be \
        expected (a proxy, a support tool) and the permission scoped with resourceNames.",
    remedy: "Review who holds `impersonate`; restrict it to named users or groups with \
        `resourceNames`, and remove it from accounts that did not need it.",
    references: References {
        docs: &[
            "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    fix: None,
    check: Check::AuditLog(check),
};

fn check(input: &AuditLogInput, emit: &mut Emitter) {
    super::of(input, emit, Category::Impersonation);
}
