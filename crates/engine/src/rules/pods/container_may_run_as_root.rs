//! Nothing prevents a container from running as root.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::Container;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{
    Fix, FixKind, Fixer, NON_ROOT_UID, New, Outcome, PodFix, flagged, inheriting, ok,
    safe_unless_written, set,
};
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

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
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 10,
    kind: FixKind::Safe,
    description: "Sets `runAsNonRoot: true` in the pod's securityContext (in each flagged \
            container's when another container runs as UID 0). With --unsafe-fixes, also sets \
            `runAsUser: 10001` on containers whose image is an official Docker Hub image, which \
            runs as root by default and would otherwise be refused by the kubelet.",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    run_as_non_root(p.template, p.containers, p.per_container, &mut out);
    out
}

fn run_as_non_root(
    t: &PodTemplate,
    containers: &[Container],
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    if per_container.is_empty() {
        return;
    }
    // At pod level when every container that would inherit it is flagged (or already runs as a
    // non-zero UID) and none runs as UID 0 (the kubelet would refuse to start it).
    let pod_level = t.pod_field("securityContext/runAsNonRoot").is_none()
        && inheriting(containers, "runAsNonRoot").all(|c| {
            let user = security_context::run_as_user(t, c).value;
            user != Some(0) && (flagged(per_container, c) || user.is_some())
        });
    if pod_level {
        out.push(ok(
            per_container.iter().map(|(i, _)| *i).collect(),
            FixKind::Safe,
            vec![set(t.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
            "pod: set `runAsNonRoot: true` in the pod's securityContext".into(),
        ));
    } else {
        for (i, c) in per_container {
            out.push(ok(
                vec![*i],
                safe_unless_written(c, "securityContext/runAsNonRoot"),
                vec![set(c.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
                format!("{}: set `runAsNonRoot: true`", c.describe()),
            ));
        }
    }
    // Images of Docker Hub's official library run as root unless told otherwise: with
    // runAsNonRoot alone the kubelet refuses to start them, so give them a non-root UID.
    for (_, c) in per_container {
        let image = c.field("image").and_then(Node::text).unwrap_or("");
        if is_library_image(image) {
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

/// `nginx`, `redis:7`, `docker.io/library/postgres`: official images, which default to root.
fn is_library_image(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or("");
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    let name = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("index.docker.io/library/"))
        .or_else(|| name.strip_prefix("library/"))
        .unwrap_or(name);
    !name.is_empty() && !name.contains('/')
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_images() {
        for yes in [
            "nginx",
            "nginx:1.25",
            "docker.io/library/redis:7",
            "busybox@sha256:ab",
        ] {
            assert!(is_library_image(yes), "{yes}");
        }
        for no in [
            "",
            "localhost:5000/app",
            "bitnami/redis",
            "ghcr.io/x/y:1",
            "quay.io/prometheus/node-exporter",
            "registry.k8s.io/pause:3",
        ] {
            assert!(!is_library_image(no), "{no}");
        }
    }
}
