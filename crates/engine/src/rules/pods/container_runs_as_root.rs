//! A container is explicitly set to run as root.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::Container;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{
    Fix, FixKind, Fixer, NON_ROOT_UID, New, Outcome, PodFix, flagged, inheriting, ok, set,
};
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
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 20,
    kind: FixKind::Unsafe,
    description: "Replaces `runAsUser: 0` with `runAsUser: 10001`, or `runAsNonRoot: false` \
            with `true` (--unsafe-fixes: the image may need root, and with `runAsNonRoot: true` \
            the kubelet refuses to start a container whose image runs as root); an official \
            Docker Hub image, which runs as root by default, also gets `runAsUser: 10001`.",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    run_as_root(p.template, p.containers, p.per_container, &mut out);
    out
}

fn run_as_root(
    t: &PodTemplate,
    containers: &[Container],
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    for (i, c) in per_container {
        let user = security_context::run_as_user(t, c);
        let (field, eff, value, what) = if user.value == Some(0) {
            let e = (user.pointer, user.from_pod);
            (
                "runAsUser",
                e,
                New::Int(NON_ROOT_UID),
                format!("runAsUser: {NON_ROOT_UID}"),
            )
        } else {
            let s = security_context::run_as_non_root(t, c);
            (
                "runAsNonRoot",
                (s.pointer, s.from_pod),
                New::Bool(true),
                "runAsNonRoot: true".to_owned(),
            )
        };
        let (pointer, from_pod) = eff;
        // A pod-level value is changed only when every container reading it is flagged.
        let ptr = if from_pod && !inheriting(containers, field).all(|o| flagged(per_container, o)) {
            c.ptr(&format!("securityContext/{field}"))
        } else {
            pointer
        };
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![set(ptr, value)],
            format!("{}: set `{what}`", c.describe()),
        ));
        // `runAsNonRoot: true` alone on an image that runs as root: the kubelet refuses it.
        let image = c
            .field("image")
            .and_then(crate::yaml::Node::text)
            .unwrap_or("");
        if field == "runAsNonRoot" && super::container_may_run_as_root::is_library_image(image) {
            out.push(ok(
                Vec::new(),
                FixKind::Unsafe,
                vec![set(
                    c.ptr("securityContext/runAsUser"),
                    New::Int(NON_ROOT_UID),
                )],
                format!(
                    "{}: set `runAsUser: {NON_ROOT_UID}` (image `{image}` runs as root by default)",
                    c.describe()
                ),
            ));
        }
    }
}

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
