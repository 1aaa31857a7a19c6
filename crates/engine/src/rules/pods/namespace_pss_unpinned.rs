//! Restricted is enforced but not pinned to a version, or not audited.

use crate::analysis::pss::{self, Level, Version};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, Job, New, Outcome, label_ptr, ok, set};
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
    fix: Some(&FIX),
    check: Check::Object(check),
};

static FIX: Fix = Fix {
    order: 110,
    kind: FixKind::Safe,
    description: "Pins `pod-security.kubernetes.io/enforce-version` and sets the `audit` (and \
            `warn`) labels to `restricted`; neither rejects a pod.",
    fixer: Fixer::Namespace(psa_pin_and_audit),
};

fn psa_pin_and_audit(job: &Job, mine: &[(usize, &Finding)]) -> Vec<Outcome> {
    let o = job.object;
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    let version = format!("v1.{}", job.ctx.pss_minor);
    mine.iter()
        .map(|(i, f)| {
            if job.rel(f).ends_with("enforce-version") {
                ok(
                    vec![*i],
                    FixKind::Safe,
                    vec![set(
                        label_ptr(pss::ENFORCE_VERSION_LABEL),
                        New::Str(version.clone()),
                    )],
                    format!(
                        "namespace \"{}\": pin `{}: {version}`",
                        o.name,
                        pss::ENFORCE_VERSION_LABEL
                    ),
                )
            } else {
                let mut ops = vec![set(
                    label_ptr(pss::AUDIT_LEVEL_LABEL),
                    New::str("restricted"),
                )];
                if policy.warn.level != Level::Restricted {
                    ops.push(set(
                        label_ptr(pss::WARN_LEVEL_LABEL),
                        New::str("restricted"),
                    ));
                }
                ok(
                    vec![*i],
                    FixKind::Safe,
                    ops,
                    format!("namespace \"{}\": audit and warn at `restricted`", o.name),
                )
            }
        })
        .collect()
}

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
