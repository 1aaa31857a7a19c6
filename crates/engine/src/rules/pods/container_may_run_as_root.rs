//! Nothing prevents a container from running as root.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-may-run-as-root",
    section: Section::Rule(7),
    severity: Severity::Medium,
    summary: "Container does not enforce runAsNonRoot",
    rationale: "Without `runAsNonRoot: true` (or a non-zero `runAsUser`), the container runs as \
        whatever user its image declares, which for most images is root. The kubelet only refuses \
        to start a root container when runAsNonRoot is true, so this is the guard against an image \
        update silently switching to root.",
    remedy: "Set `securityContext.runAsNonRoot: true` at pod level (inherited by every container) \
        and, for images without a numeric USER, a non-zero `runAsUser`.",
    references: References {
        pss: &["runAsNonRoot"],
        cis: &["5.2.7"],
        trivy: &["KSV012"],
        checkov: &["CKV_K8S_23"],
        kube_linter: &["run-as-non-root"],
        polaris: &["runAsRootAllowed"],
        kubescape: &["C-0013"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::user_namespaced(t) {
        return;
    }
    for c in t.containers() {
        let non_root = security_context::run_as_non_root(t, &c);
        let user = security_context::run_as_user(t, &c);
        // Explicit root is `container-runs-as-root`; a non-zero UID is non-root whatever the image says.
        if non_root.value.is_none() && user.value.is_none() {
            emit.container(
                t.object,
                &c,
                &non_root.pointer,
                format!("{} sets neither `runAsNonRoot: true` nor a non-zero `runAsUser` (pod or container)", c.describe()),
            );
        }
    }
}
