//! A permission that the audit log shows was never used.

use crate::finding::Severity;
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
        kubescape: &["C-0272"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    check: Check::External,
};
