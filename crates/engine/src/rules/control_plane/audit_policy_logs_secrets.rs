//! The audit policy writes secret values into the log.

use super::is;
use crate::analysis::control_plane::{SENSITIVE_OPS, audit_level};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-policy-logs-secret-data",
    section: Section::Rule(4),
    severity: Severity::Medium,
    summary: "Audit policy logs request or response bodies of Secrets or tokens",
    rationale: "At `Request` or `RequestResponse` level the audit event contains the object: for \
        Secrets, TokenReviews and token requests that is the secret value or the bearer token \
        itself, copied into every log store and SIEM the events reach.",
    remedy: "Log `secrets`, `configmaps`, `serviceaccounts/token` and `tokenreviews` at `Metadata` \
        only, in a rule placed before broader Request/RequestResponse rules.",
    references: References {
        cis: &["3.2.2"],
        ..References::NONE
    },
    evidence: &[Evidence::AuditPolicy],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if !is(o, "audit.k8s.io", "Policy") {
        return;
    }
    let groups: &[&str] = &["system:authenticated"];
    let mut seen = std::collections::BTreeSet::new();
    for op in SENSITIVE_OPS {
        let Some(leaks_at) = op.leaks_at else {
            continue;
        };
        let (level, rule) = audit_level(&o.root, &op.request("jane@example.com", groups));
        if level >= leaks_at
            && let Some(i) = rule
            && seen.insert(i)
        {
            emit.object(
                o,
                &format!("/rules/{i}/level"),
                format!(
                    "audit rule {i} logs {} at {} (the event holds the secret)",
                    op.what,
                    level.as_str()
                ),
            );
        }
    }
}
