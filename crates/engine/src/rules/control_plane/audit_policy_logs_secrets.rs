//! The audit policy writes secret values into the log.

use super::is;
use crate::analysis::audit_policy::leaks;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-policy-logs-secret-data",
    section: Section::Rule(4),
    severity: Severity::Medium,
    summary: "Audit policy logs request or response bodies of Secrets, ConfigMaps or tokens",
    rationale: "At `Request` or `RequestResponse` level the audit event contains the object: for \
        Secrets, ConfigMaps (which often hold credentials), TokenReviews and token requests that \
        is the secret value or the bearer token itself, copied into every log store and SIEM the \
        events reach. The CIS Kubernetes Benchmark (3.2) asks for `Metadata` only on Secrets, \
        ConfigMaps and TokenReviews; a token request leaks its token at `RequestResponse`.",
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
    for leak in leaks(&o.root) {
        emit.object(
            o,
            &format!("/rules/{}/level", leak.rule),
            format!(
                "audit rule {} logs {} at {}: the events hold their content (Secret values, \
                 ConfigMap data, bearer tokens); CIS 3.2 asks for `Metadata` only",
                leak.rule,
                leak.resources.join(", "),
                leak.level.as_str()
            ),
        );
    }
}
