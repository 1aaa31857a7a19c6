//! The API server authorizes every request, or lacks Node/RBAC authorization.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-authorization-mode",
    section: Section::Rule(5),
    severity: Severity::Critical,
    summary: "API server authorization is AlwaysAllow or lacks Node and RBAC",
    rationale: "`AlwaysAllow` (the default when `--authorization-mode` is unset) lets every \
        authenticated — and, with anonymous auth, unauthenticated — request do anything. Without \
        `Node`, kubelets are not confined to their own node's objects; without `RBAC`, least \
        privilege cannot be expressed.",
    remedy: "Set `--authorization-mode=Node,RBAC` (or an `--authorization-config` whose authorizers \
        are Node and RBAC, optionally Webhook).",
    references: References {
        cis: &["1.2.6", "1.2.7", "1.2.8"],
        trivy: &["KCV0007", "KCV0008", "KCV0009"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags.get("authorization-config").is_some() {
            continue;
        }
        let modes = flags.list("authorization-mode");
        let ptr = flags.pointer("authorization-mode");
        if modes.is_empty() {
            emit.object(
                o,
                &ptr,
                format!(
                    "kube-apiserver ({}) has no `--authorization-mode`: the default is AlwaysAllow",
                    flags.source
                ),
            );
            continue;
        }
        if modes.iter().any(|m| m == "AlwaysAllow") {
            emit.object(
                o,
                &ptr,
                "kube-apiserver authorization includes AlwaysAllow: every request is allowed",
            );
        }
        let missing: Vec<&str> = ["Node", "RBAC"]
            .into_iter()
            .filter(|m| !modes.iter().any(|x| x == m))
            .collect();
        if !missing.is_empty() {
            emit.object(
                o,
                &ptr,
                format!(
                    "kube-apiserver `--authorization-mode={}` lacks {}",
                    modes.join(","),
                    missing.join(" and ")
                ),
            );
        }
    }
}
