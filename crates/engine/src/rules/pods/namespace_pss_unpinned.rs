//! Restricted is enforced but not pinned to a version, or not audited.

use crate::analysis::pss::{self, Level, Version};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "namespace-pss-version-or-audit-missing",
    section: Section::Rule(6),
    severity: Severity::Low,
    summary: "Namespace enforces restricted without a pinned version or without audit/warn labels",
    rationale: "`enforce-version: latest` (the default) changes meaning when the cluster is upgraded: \
        a new policy version can start rejecting pods during an upgrade. Pinning makes upgrades \
        deliberate (raise `warn-version` first). Without `audit` at restricted, violations that \
        enforce would miss are not recorded in the audit log.",
    remedy: "Add `pod-security.kubernetes.io/enforce-version: v1.N` (your cluster's minor), and \
        `pod-security.kubernetes.io/audit: restricted` and `warn: restricted`.",
    references: References {
        pss: &["enforce-version", "audit", "warn"],
        ..References::NONE
    },
    evidence: &[Evidence::Namespaces],
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Namespace" || !o.group().is_empty() {
        return;
    }
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    if !policy.enforce_label_present || policy.enforce.level != Level::Restricted {
        return; // namespace-pss-not-restricted reports these.
    }
    if !policy.enforce_version_label_present || policy.enforce.version == Version::Latest {
        emit.object(
            o,
            "/metadata/labels/pod-security.kubernetes.io~1enforce-version",
            format!(
                "namespace \"{}\" enforces restricted at version `latest`: pin `enforce-version`",
                o.name
            ),
        );
    }
    if policy.audit.level != Level::Restricted {
        emit.object(
            o,
            "/metadata/labels/pod-security.kubernetes.io~1audit",
            format!(
                "namespace \"{}\" does not audit at restricted (audit level `{}`)",
                o.name,
                policy.audit.level.as_str()
            ),
        );
    }
}
