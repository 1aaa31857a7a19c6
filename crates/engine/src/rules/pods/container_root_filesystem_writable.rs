//! The container's root filesystem is writable.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-root-filesystem-writable",
    section: Section::Rule(10),
    severity: Severity::Medium,
    summary: "Container root filesystem is not read-only",
    rationale: "A writable root filesystem lets an intruder drop tools, modify binaries and \
        configuration, and persist for the life of the container. A read-only root also makes \
        drift visible: every write location is declared as a volume. PSS does not check this.",
    remedy: "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` volume at \
        each path the application writes to (e.g. `/tmp`, caches).",
    references: References {
        trivy: &["KSV014"],
        checkov: &["CKV_K8S_22"],
        kube_linter: &["no-read-only-root-fs"],
        polaris: &["notReadOnlyRootFilesystem"],
        kubescape: &["C-0017"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::is_windows(t) {
        return; // Windows containers do not support a read-only root filesystem.
    }
    for c in t.containers() {
        let setting = security_context::read_only_root_filesystem(&c);
        if setting.value != Some(true) {
            let how = if setting.value == Some(false) {
                "sets `readOnlyRootFilesystem: false`"
            } else {
                "does not set `readOnlyRootFilesystem: true`"
            };
            emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} {how}", c.describe()),
            );
        }
    }
}
