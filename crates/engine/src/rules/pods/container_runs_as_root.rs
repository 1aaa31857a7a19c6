//! A container is explicitly set to run as root.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-runs-as-root",
    section: Section::Rule(7),
    severity: Severity::High,
    summary: "Container is configured to run as root (runAsUser: 0 or runAsNonRoot: false)",
    rationale: "Root in a container is root on the node's kernel: any container escape or writable \
        host mount becomes full node compromise, and root can change file ownership, bind low ports \
        and use every capability the runtime grants. Here the manifest asks for root explicitly.",
    remedy: "Set `securityContext.runAsNonRoot: true` and a non-zero `runAsUser` (e.g. 10001) at pod \
        level, and remove `runAsUser: 0` / `runAsNonRoot: false` from containers. Build the image \
        with a numeric non-root `USER`.",
    references: References {
        pss: &["runAsNonRoot", "runAsUser"],
        cis: &["5.2.7"],
        trivy: &["KSV012", "KSV105"],
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
        return; // hostUsers: false — UID 0 maps to an unprivileged host UID.
    }
    for c in t.containers() {
        let user = security_context::run_as_user(t, &c);
        let non_root = security_context::run_as_non_root(t, &c);
        let level = |from_pod: bool| if from_pod { "the pod" } else { "it" };
        if user.value == Some(0) {
            emit.container(
                t.object,
                &c,
                &user.pointer,
                format!(
                    "{} runs as UID 0 (`runAsUser: 0` set by {})",
                    c.describe(),
                    level(user.from_pod)
                ),
            );
        } else if non_root.value == Some(false) && user.value.is_none() {
            emit.container(
                t.object,
                &c,
                &non_root.pointer,
                format!(
                    "{} may run as root: `runAsNonRoot: false` set by {}",
                    c.describe(),
                    level(non_root.from_pod)
                ),
            );
        }
    }
}
