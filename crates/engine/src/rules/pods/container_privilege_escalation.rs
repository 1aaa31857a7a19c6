//! allowPrivilegeEscalation is not false: setuid binaries can gain privileges.

use crate::analysis::security_context;
use crate::analysis::security_context::normalize_capability;
use crate::finding::Severity;
use crate::inventory::Container;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{
    Fix, FixKind, Fixer, Job, New, Outcome, PodFix, no, ok, safe_unless_written, set,
};
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
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 30,
    kind: FixKind::Safe,
    description: "Sets `allowPrivilegeEscalation: false` on each flagged container. An \
            explicit `true` is changed only with --unsafe-fixes; privileged containers and \
            containers adding CAP_SYS_ADMIN are left alone (the API server rejects the combination).",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    p.per_container
        .iter()
        .map(|(i, c)| no_escalation(p.job, c, *i))
        .collect()
}

fn no_escalation(job: &Job, c: &Container, i: usize) -> Outcome {
    let setting = security_context::allow_privilege_escalation(c);
    let caps = security_context::capabilities(c);
    if caps
        .add
        .iter()
        .any(|(n, _)| normalize_capability(n) == "SYS_ADMIN")
    {
        return no(
            vec![i],
            "the container adds CAP_SYS_ADMIN, which the API server does not accept with `allowPrivilegeEscalation: false`",
        );
    }
    let mut note = "";
    let mut kind = match setting.value {
        Some(true) => FixKind::Unsafe,
        _ => safe_unless_written(c, "securityContext/allowPrivilegeEscalation"),
    };
    if security_context::privileged(c).value == Some(true) {
        if !job.has("container-privileged", c.name) {
            return no(
                vec![i],
                "the container is privileged, and the API server rejects `allowPrivilegeEscalation: false` with `privileged: true`",
            );
        }
        // Only together with the (unsafe) removal of privileged mode.
        kind = FixKind::Unsafe;
        note = " (with `privileged: false`)";
    }
    ok(
        vec![i],
        kind,
        vec![set(
            c.ptr("securityContext/allowPrivilegeEscalation"),
            New::Bool(false),
        )],
        format!(
            "{}: set `allowPrivilegeEscalation: false`{note}",
            c.describe()
        ),
    )
}

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
