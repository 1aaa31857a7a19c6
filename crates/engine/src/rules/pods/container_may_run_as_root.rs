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
    kind: FixKind::Unsafe,
    description: "Sets `runAsNonRoot: true` in the pod's securityContext (in each flagged \
            container's when another container runs as UID 0). Unsafe (--unsafe-fixes): with no \
            non-zero `runAsUser`, the kubelet refuses to start a container whose image runs as \
            root or as a non-numeric user (`nginx:1.27` does), and the manifest does not say \
            which user the image runs as. Safe only for images known to run as a numeric \
            non-root user (distroless `:nonroot` tags). With --unsafe-fixes, also sets \
            `runAsUser: 10001` on containers whose image is an official Docker Hub image, which \
            runs as root by default.",
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
    // `runAsNonRoot: true` only makes the kubelet check the user: safe where that user is known
    // to be non-root (a non-zero runAsUser, or an image known to run as one); elsewhere the
    // container may be refused (CreateContainerConfigError).
    let unknown = |c: &Container| {
        security_context::run_as_user(t, c)
            .value
            .is_none_or(|u| u == 0)
            && !runs_as_non_root(image(c))
    };
    let why = |c: &Container| {
        format!(
            "unsafe: no non-zero `runAsUser`, and image `{}` may run as root, which the kubelet then refuses to start",
            image(c)
        )
    };
    if pod_level {
        let risky = inheriting(containers, "runAsNonRoot").find(|c| unknown(c));
        out.push(ok(
            per_container.iter().map(|(i, _)| *i).collect(),
            if risky.is_some() {
                FixKind::Unsafe
            } else {
                FixKind::Safe
            },
            vec![set(t.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
            match risky {
                Some(c) => format!(
                    "pod: set `runAsNonRoot: true` in the pod's securityContext ({}: {})",
                    c.describe(),
                    why(c)
                ),
                None => "pod: set `runAsNonRoot: true` in the pod's securityContext".into(),
            },
        ));
    } else {
        for (i, c) in per_container {
            let (kind, what) = if unknown(c) {
                (
                    FixKind::Unsafe,
                    format!("{}: set `runAsNonRoot: true` ({})", c.describe(), why(c)),
                )
            } else {
                (
                    safe_unless_written(c, "securityContext/runAsNonRoot"),
                    format!("{}: set `runAsNonRoot: true`", c.describe()),
                )
            };
            out.push(ok(
                vec![*i],
                kind,
                vec![set(c.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
                what,
            ));
        }
    }
    // Images of Docker Hub's official library run as root unless told otherwise: with
    // runAsNonRoot alone the kubelet refuses to start them, so give them a non-root UID.
    for (_, c) in per_container {
        let image = image(c);
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

fn image<'a>(c: &Container<'a>) -> &'a str {
    c.field("image").and_then(Node::text).unwrap_or("")
}

/// Images known to run as a numeric non-root user, with which `runAsNonRoot: true` is safe:
/// distroless's `nonroot` variants (`gcr.io/distroless/static:nonroot`, `…:debug-nonroot`,
/// user 65532). Nothing else can be known from a manifest.
pub(crate) fn runs_as_non_root(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or("");
    let Some((repo, tag)) = name.rsplit_once(':').filter(|(_, t)| !t.contains('/')) else {
        return false;
    };
    repo.starts_with("gcr.io/distroless/") && (tag == "nonroot" || tag.ends_with("-nonroot"))
}

/// `nginx`, `redis:7`, `docker.io/library/postgres`: official images, which default to root.
pub(crate) fn is_library_image(image: &str) -> bool {
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

    #[test]
    fn non_root_images() {
        for yes in [
            "gcr.io/distroless/static:nonroot",
            "gcr.io/distroless/static-debian12:debug-nonroot",
            "gcr.io/distroless/base:nonroot@sha256:ab",
        ] {
            assert!(runs_as_non_root(yes), "{yes}");
        }
        for no in [
            "",
            "nginx:1.27",
            "gcr.io/distroless/static",
            "gcr.io/distroless/static:latest",
            "gcr.io/distroless/static@sha256:ab",
            "ghcr.io/x/nonroot:1",
            "example.com/app:nonroot",
        ] {
            assert!(!runs_as_non_root(no), "{no}");
        }
    }
}
