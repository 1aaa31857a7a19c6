//! Anonymous requests to the API server are allowed.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-anonymous-auth",
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "API server accepts anonymous requests",
    rationale: "With `--anonymous-auth` left at its default (true), unauthenticated requests are \
        served as `system:anonymous` in the group `system:unauthenticated`; a single careless \
        binding to either (or a vulnerable endpoint) then opens the cluster to anyone who can reach \
        the API. Health checks do not need it since structured authentication can allow only \
        `/healthz`, `/livez` and `/readyz`.",
    remedy: "Set `--anonymous-auth=false`, or use `--authentication-config` with `anonymous: \
        {enabled: true, conditions: [{path: /livez}, {path: /readyz}, {path: /healthz}]}`.",
    references: References {
        cis: &["1.2.1"],
        checkov: &["CKV_K8S_68"],
        trivy: &["KCV0001"],
        kubescape: &["C-0113"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags.get("authentication-config").is_some() {
            continue; // anonymous access is configured in the AuthenticationConfiguration file
        }
        match flags.bool("anonymous-auth") {
            Some(false) => {}
            Some(true) => emit.object(o, &flags.pointer("anonymous-auth"), "kube-apiserver sets `--anonymous-auth=true`"),
            None => emit.object(o, &flags.anchor, format!("kube-apiserver ({}) does not set `--anonymous-auth=false` (the default is true)", flags.source)),
        }
    }
}
