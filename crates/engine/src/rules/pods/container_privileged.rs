//! A container runs privileged: it has every capability and all host devices.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, New, Outcome, PodFix, ok, set};
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-privileged",
    section: Section::Rule(9),
    severity: Severity::Critical,
    summary: "Container runs in privileged mode",
    rationale: "A privileged container has all Linux capabilities and access to every host device; \
        it can mount the host filesystem, load kernel modules and escape to the node in one command \
        (e.g. `nsenter -t 1 -a`). One compromised privileged pod is a compromised node.",
    remedy: "Remove `privileged: true`, or set `securityContext.privileged: false`. Grant only the \
        specific capability the workload needs.",
    references: References {
        pss: &["privileged"],
        cis: &["5.2.2"],
        trivy: &["KSV017"],
        checkov: &["CKV_K8S_16"],
        kube_linter: &["privileged-container"],
        polaris: &["runAsPrivileged"],
        kubescape: &["C-0057"],
        kube_score: &["container-security-context-privileged"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 60,
    kind: FixKind::Unsafe,
    description: "Sets `privileged: false` (--unsafe-fixes: the workload loses host devices \
            and capabilities).",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, c) in p.per_container {
        let s = security_context::privileged(c);
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![set(s.pointer, New::Bool(false))],
            format!("{}: set `privileged: false`", c.describe()),
        ));
    }
    out
}

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        let setting = security_context::privileged(&c);
        if setting.value == Some(true) {
            emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} sets `privileged: true`", c.describe()),
            );
        }
    }
}
