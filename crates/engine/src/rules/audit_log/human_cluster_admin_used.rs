//! The audit log shows people acting through cluster-admin.

use crate::analysis::audit_log::Category;
use crate::finding::Severity;
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-log-human-cluster-admin-used",
    section: Section::Rule(3),
    severity: Severity::Medium,
    summary: "Audit log shows people using cluster-admin",
    rationale: "The authorizer records which binding allowed each request. People whose requests \
        are allowed through the cluster-admin ClusterRole hold unlimited power for routine work: \
        one phished laptop is a lost cluster. Exactly one break-glass account should ever appear here.",
    remedy: "Give people namespaced roles (admin/edit/view or custom) for routine work and keep one \
        break-glass cluster-admin account whose use is alerted on.",
    references: References {
        cis: &["5.1.1"],
        kubescape: &["C-0035"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    fix: None,
    check: Check::AuditLog(check),
};

fn check(input: &AuditLogInput, emit: &mut Emitter) {
    super::of(input, emit, Category::HumanClusterAdmin);
}
