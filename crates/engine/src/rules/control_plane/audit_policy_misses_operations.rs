//! The audit policy does not record sensitive operations.

use super::is;
use crate::analysis::control_plane::{AuditLevel, SENSITIVE_OPS, audit_level};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "audit-policy-misses-sensitive-operations",
    section: Section::Rule(4),
    severity: Severity::High,
    summary: "Audit policy does not record sensitive operations",
    rationale: "An audit policy is evaluated top-down, first match wins, and unmatched requests are \
        not logged. A policy that does not reach Secret access, `pods/exec`, `attach`, \
        `portforward`, token requests and RBAC changes at Metadata or above misses exactly the \
        requests an intruder makes.",
    remedy: "Add, before any catch-all `None` rule: `- level: Metadata` for `secrets`, \
        `configmaps`, `serviceaccounts/token`, `tokenreviews`; `- level: Request` (or Metadata) \
        for `pods/exec`, `pods/attach`, `pods/portforward` and for RBAC and webhook configuration \
        writes; end with a `- level: Metadata` catch-all.",
    references: References {
        cis: &["3.2.2"],
        kubescape: &["C-0160", "C-0161"],
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
    let missed: Vec<String> = SENSITIVE_OPS
        .iter()
        .filter_map(|op| {
            let (level, rule) = audit_level(&o.root, &op.request("jane@example.com", groups));
            (level == AuditLevel::None).then(|| match rule {
                Some(i) => format!("{} (rule {i} sets None)", op.what),
                None => format!("{} (no rule matches)", op.what),
            })
        })
        .collect();
    if !missed.is_empty() {
        emit.object(
            o,
            "/rules",
            format!(
                "audit Policy \"{}\" does not log: {}",
                o.name,
                missed.join(", ")
            ),
        );
    }
}
