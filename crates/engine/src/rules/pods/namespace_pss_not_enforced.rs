//! A namespace does not enforce the restricted Pod Security Standard.

use crate::analysis::pss::{self, Level};
use crate::finding::Finding;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, Job, New, Outcome, label_ptr, no, ok, set};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "namespace-pss-not-restricted",
    section: Section::Rule(6),
    severity: Severity::High,
    summary: "Namespace does not enforce Pod Security Standard `restricted`",
    rationale: "Pod Security admission only rejects pods in namespaces labelled \
        `pod-security.kubernetes.io/enforce`; without the label the cluster default applies, which \
        is `privileged` (everything allowed) unless the API server's AdmissionConfiguration says \
        otherwise. Anyone who can create a pod there can then create a privileged, host-namespace \
        pod and take over the node, whatever the manifests in git say.",
    remedy: "Label the namespace: `pod-security.kubernetes.io/enforce: restricted` (with \
        `enforce-version` pinned, and `audit`/`warn` at restricted). `kubeharden generate \
        psa-labels` prints the labels.",
    references: References {
        pss: &["enforce"],
        cis: &["5.2.1"],
        kubescape: &["C-0192", "C-0193"],
        docs: &["https://kubernetes.io/docs/concepts/security/pod-security-admission/"],
        ..References::NONE
    },
    evidence: &[Evidence::Namespaces],
    fix: Some(&FIX),
    check: Check::Object(check),
};

static FIX: Fix = Fix {
    order: 120,
    kind: FixKind::Unsafe,
    description: "Sets the namespace's `pod-security.kubernetes.io/enforce` label to \
            `restricted`, pinned, with audit and warn (--unsafe-fixes: pods that violate \
            restricted are then rejected). `fix --generate-missing DIR` writes labelled Namespace \
            manifests for namespaces the input uses but does not declare.",
    fixer: Fixer::Namespace(psa_enforce),
};

fn psa_enforce(job: &Job, mine: &[(usize, &Finding)]) -> Vec<Outcome> {
    let o = job.object;
    if let Some(Err(reason)) = job.ctx.enforceable.and_then(|v| v.get(&o.name)) {
        return vec![no(mine.iter().map(|(i, _)| *i).collect(), reason.clone())];
    }
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    let mut ops = vec![set(
        label_ptr(pss::ENFORCE_LEVEL_LABEL),
        New::str("restricted"),
    )];
    if !policy.enforce_version_label_present || policy.enforce.version == pss::Version::Latest {
        ops.push(set(
            label_ptr(pss::ENFORCE_VERSION_LABEL),
            New::Str(format!("v1.{}", job.ctx.pss_minor)),
        ));
    }
    if policy.audit.level != Level::Restricted {
        ops.push(set(
            label_ptr(pss::AUDIT_LEVEL_LABEL),
            New::str("restricted"),
        ));
    }
    if policy.warn.level != Level::Restricted {
        ops.push(set(
            label_ptr(pss::WARN_LEVEL_LABEL),
            New::str("restricted"),
        ));
    }
    vec![ok(
        mine.iter().map(|(i, _)| *i).collect(),
        FixKind::Unsafe,
        ops,
        format!(
            "namespace \"{}\": enforce Pod Security `restricted` (pods that violate it will be rejected)",
            o.name
        ),
    )]
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Namespace" || !o.group().is_empty() {
        return;
    }
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    let ptr = "/metadata/labels/pod-security.kubernetes.io~1enforce";
    if !policy.enforce_label_present {
        emit.object(
            o,
            ptr,
            format!("namespace \"{}\" has no `pod-security.kubernetes.io/enforce` label: the cluster default (privileged unless configured) applies", o.name),
        );
    } else if policy.enforce.level < Level::Restricted {
        emit.object(
            o,
            ptr,
            format!(
                "namespace \"{}\" enforces `{}`, not `restricted`",
                o.name,
                policy.enforce.level.as_str()
            ),
        );
    }
}
