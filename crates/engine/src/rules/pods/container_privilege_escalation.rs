//! allowPrivilegeEscalation is not false: setuid binaries can gain privileges.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-privilege-escalation-allowed",
    section: Section::Rule(9),
    severity: Severity::Medium,
    summary: "Container does not set allowPrivilegeEscalation: false",
    rationale: "Unless `allowPrivilegeEscalation` is false, the kernel's no_new_privs flag is off and a \
        process can gain more privileges than its parent through setuid/setgid binaries or file \
        capabilities: a foothold as an unprivileged user becomes root in the container. The default \
        is to allow it, so the field must be set explicitly (PSS restricted requires it).",
    remedy: "Set `securityContext.allowPrivilegeEscalation: false` on every container, init container \
        included.",
    references: References {
        pss: &["allowPrivilegeEscalation"],
        cis: &["5.2.6"],
        trivy: &["KSV001"],
        checkov: &["CKV_K8S_20"],
        kube_linter: &["privilege-escalation-container"],
        polaris: &["privilegeEscalationAllowed"],
        kubescape: &["C-0016"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::is_windows(t) {
        return; // no_new_privs is a Linux concept; PSS skips Windows pods too.
    }
    for c in t.containers() {
        let setting = security_context::allow_privilege_escalation(&c);
        match setting.value {
            Some(false) => {}
            Some(true) => emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} sets `allowPrivilegeEscalation: true`", c.describe()),
            ),
            None => emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} does not set `allowPrivilegeEscalation: false` (the default allows escalation)", c.describe()),
            ),
        }
    }
}
