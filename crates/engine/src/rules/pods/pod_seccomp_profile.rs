//! No seccomp profile, or an unconfined one.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-seccomp-unconfined",
    section: Section::Rule(6),
    severity: Severity::Medium,
    summary: "Container runs without the RuntimeDefault or a Localhost seccomp profile",
    rationale: "Kubernetes runs containers Unconfined by default: every system call is allowed, \
        including those used by kernel exploits for container escape (e.g. `unshare`, `keyctl`, \
        `bpf`). The runtime's default profile blocks them at no cost to normal applications. PSS \
        restricted requires it.",
    remedy: "Set `securityContext.seccompProfile.type: RuntimeDefault` at pod level (or `Localhost` \
        with a tuned profile).",
    references: References {
        pss: &["seccompProfile_restricted", "seccompProfile_baseline"],
        cis: &["5.7.2"],
        trivy: &["KSV030", "KSV104"],
        checkov: &["CKV_K8S_31"],
        kubescape: &["C-0210"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::is_windows(t) {
        return;
    }
    for c in t.containers() {
        let setting = security_context::seccomp_type(t, &c);
        match setting.value {
            Some("RuntimeDefault" | "Localhost") => {}
            Some(other) => emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} uses seccomp profile `{other}`", c.describe()),
            ),
            None => emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!(
                    "{} has no seccomp profile (pod or container); it runs Unconfined",
                    c.describe()
                ),
            ),
        }
    }
}
