//! No seccomp profile, or an unconfined one.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::Container;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{
    Fix, FixKind, Fixer, Job, New, Outcome, PodFix, flagged, inheriting, no, ok, set,
};
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
        cis: &["5.6.2"],
        trivy: &["KSV030", "KSV104"],
        checkov: &["CKV_K8S_31"],
        kubescape: &["C-0210"],
        kube_score: &["container-seccomp-profile"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 50,
    kind: FixKind::Safe,
    description: "Sets `seccompProfile.type: RuntimeDefault` in the pod's securityContext (or \
            each flagged container's). An explicit `Unconfined` is replaced only with --unsafe-fixes.",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    seccomp(p.template, p.containers, p.job, p.per_container, &mut out);
    out
}

fn seccomp(
    t: &PodTemplate,
    containers: &[Container],
    job: &Job,
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    let runtime_default = || New::str("RuntimeDefault");
    let all_inheriting_flagged =
        inheriting(containers, "seccompProfile/type").all(|c| flagged(per_container, c));
    // A type the container itself writes with the wrong type (`type: 1`) is not unset.
    let written = |c: &Container| {
        c.field("securityContext/seccompProfile/type")
            .is_some_and(|n| !n.is_null())
    };
    let unset: Vec<(usize, &Container)> = per_container
        .iter()
        .filter(|(_, c)| security_context::seccomp_type(t, c).value.is_none() && !written(c))
        .map(|(i, c)| (*i, *c))
        .collect();
    if !unset.is_empty() {
        if t.pod_field("securityContext/seccompProfile").is_none() && all_inheriting_flagged {
            out.push(ok(
                unset.iter().map(|(i, _)| *i).collect(),
                FixKind::Safe,
                vec![set(
                    t.ptr("securityContext/seccompProfile/type"),
                    runtime_default(),
                )],
                "pod: set `seccompProfile.type: RuntimeDefault` in the pod's securityContext"
                    .into(),
            ));
        } else {
            for (i, c) in &unset {
                out.push(ok(
                    vec![*i],
                    FixKind::Safe,
                    vec![set(
                        c.ptr("securityContext/seccompProfile/type"),
                        runtime_default(),
                    )],
                    format!(
                        "{}: set `seccompProfile.type: RuntimeDefault`",
                        c.describe()
                    ),
                ));
            }
        }
    }
    for (i, c) in per_container {
        let s = security_context::seccomp_type(t, c);
        if s.value.is_none() && written(c) {
            // Overriding what the author wrote is unsafe.
            out.push(ok(
                vec![*i],
                FixKind::Unsafe,
                vec![set(
                    c.ptr("securityContext/seccompProfile/type"),
                    runtime_default(),
                )],
                format!(
                    "{}: set `seccompProfile.type: RuntimeDefault`",
                    c.describe()
                ),
            ));
        }
        let Some(old) = s.value else { continue };
        let profile = s.pointer.strip_suffix("/type").unwrap_or(&s.pointer);
        if job
            .object
            .root
            .pointer(profile)
            .and_then(|p| p.get("localhostProfile"))
            .is_some()
        {
            out.push(no(
                vec![*i],
                "the seccomp profile names a `localhostProfile`; choose the profile by hand",
            ));
            continue;
        }
        let ptr = if s.from_pod && !all_inheriting_flagged {
            c.ptr("securityContext/seccompProfile/type")
        } else {
            s.pointer.clone()
        };
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![set(ptr, runtime_default())],
            format!(
                "{}: replace seccomp profile `{old}` with `RuntimeDefault`",
                c.describe()
            ),
        ));
    }
}

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
