//! The Kubernetes Dashboard lets visitors skip the login and act as its own service account.

use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "dashboard-skip-login",
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "Kubernetes Dashboard runs with `--enable-skip-login`",
    rationale: "With `--enable-skip-login` the Dashboard's login page offers a Skip button: whoever \
        reaches the Dashboard uses the cluster with the permissions of the Dashboard's own service \
        account, unauthenticated. Exposed Dashboards with skip-login (and a service account bound \
        to cluster-admin) are a classic way clusters are taken over.",
    remedy: "Remove `--enable-skip-login` (its default is `false`): users sign in with a bearer \
        token or kubeconfig, and the Dashboard acts with their own permissions. Keep the \
        Dashboard's service account to the minimal role of the upstream manifest and reach the \
        Dashboard through `kubectl proxy` or an authenticating proxy.",
    references: References {
        docs: &[
            "https://github.com/kubernetes/dashboard/blob/master/docs/common/arguments.md",
            "https://kubernetes.io/docs/tasks/access-application-cluster/web-ui-dashboard/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

/// A container of the Dashboard: its image is `kubernetesui/dashboard` (or one of the v3
/// `dashboard-*` images).
fn is_dashboard(image: &str) -> bool {
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    let path = repo.rsplit('/').take(2).collect::<Vec<_>>();
    matches!(path.as_slice(), [name, "kubernetesui"] if *name == "dashboard" || name.starts_with("dashboard-"))
}

/// Go's `strconv.ParseBool`, for a boolean flag's value.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        let Some(image) = c.field("image").and_then(Node::text) else {
            continue;
        };
        if !is_dashboard(image) {
            continue;
        }
        // The last occurrence of the flag wins, as with Go's flag package.
        let mut enabled: Option<String> = None;
        for field in ["command", "args"] {
            for (i, arg) in c
                .field(field)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                let Some(text) = arg.text() else {
                    continue;
                };
                let flag = text.trim_start_matches('-');
                if !text.starts_with('-') {
                    continue;
                }
                let value = match flag.split_once('=') {
                    Some(("enable-skip-login", v)) => go_bool(v),
                    None if flag == "enable-skip-login" => Some(true),
                    _ => continue,
                };
                enabled = match value {
                    Some(true) => Some(c.ptr(&format!("{field}/{i}"))),
                    _ => None,
                };
            }
        }
        if let Some(pointer) = enabled {
            emit.container(
                t.object,
                &c,
                &pointer,
                format!(
                    "{} (the Kubernetes Dashboard) runs with --enable-skip-login: anyone who \
                     reaches it can skip the login and act with its service account \"{}\"",
                    c.describe(),
                    t.spec
                        .get("serviceAccountName")
                        .or_else(|| t.spec.get("serviceAccount"))
                        .and_then(Node::text)
                        .filter(|s| !s.is_empty())
                        .unwrap_or("default")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dashboard_images() {
        for image in [
            "docker.io/kubernetesui/dashboard:v2.7.0",
            "kubernetesui/dashboard",
            "kubernetesui/dashboard-api:1.10.1",
            "registry.local:5000/kubernetesui/dashboard@sha256:abc",
        ] {
            assert!(super::is_dashboard(image), "{image}");
        }
        for image in [
            "grafana/grafana:10",
            "kubernetesui/metrics-scraper:v1.0.8",
            "dashboard",
        ] {
            assert!(!super::is_dashboard(image), "{image}");
        }
    }
}
