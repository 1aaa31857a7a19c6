//! A namespace does not enforce the restricted Pod Security Standard.

use crate::analysis::pss::{self, Level};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
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
    check: Check::Object(check),
};

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
