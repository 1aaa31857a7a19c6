//! The audit log shows requests by members of system:masters.

use crate::analysis::audit_log::Category;
use crate::finding::Severity;
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-log-system-masters-used",
    section: Section::Rule(3),
    severity: Severity::High,
    summary: "Audit log shows requests by members of system:masters",
    rationale: "`system:masters` bypasses RBAC and authorization webhooks entirely, cannot be \
        revoked without rotating the cluster CA, and is meant only for the single break-glass \
        credential (kubeadm's super-admin.conf). Day-to-day use means an unrevocable superuser \
        credential is in circulation.",
    remedy: "Use an RBAC-bound identity for daily work; keep the system:masters certificate offline \
        as the one break-glass credential, and alert on its use.",
    references: References {
        cis: &["5.1.1", "3.1.1"],
        kubescape: &["C-0246"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    fix: None,
    check: Check::AuditLog(check),
};

fn check(input: &AuditLogInput, emit: &mut Emitter) {
    super::of(input, emit, Category::SystemMasters);
}
