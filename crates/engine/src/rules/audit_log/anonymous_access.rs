//! The audit log shows anonymous requests that the API server allowed.

use crate::analysis::audit_log::Category;
use crate::finding::Severity;
use crate::rules::{AuditLogInput, Emitter};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-log-anonymous-access",
    section: Section::Rule(5),
    severity: Severity::Critical,
    summary: "Audit log shows allowed anonymous or unauthenticated requests",
    rationale: "Manifests say what anonymous users may do; the audit log shows what they did. An \
        allowed request by `system:anonymous` (or any member of `system:unauthenticated`) beyond \
        health checks means the API is reachable and answering strangers: the first step of every \
        exposed-cluster compromise.",
    remedy: "Set `--anonymous-auth=false` (or limit anonymous access to `/healthz`, `/livez`, \
        `/readyz` with an AuthenticationConfiguration), remove bindings to `system:anonymous` and \
        `system:unauthenticated`, and keep the API endpoint private.",
    references: References {
        cis: &["1.2.1"],
        kubescape: &["C-0262"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditLog],
    fix: None,
    check: Check::AuditLog(check),
};

fn check(input: &AuditLogInput, emit: &mut Emitter) {
    super::of(input, emit, Category::AnonymousAllowed);
}
