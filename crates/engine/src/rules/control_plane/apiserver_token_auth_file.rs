//! Static bearer tokens in a file.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-static-token-file",
    section: Section::Rule(5),
    severity: Severity::High,
    summary: "API server accepts static tokens from `--token-auth-file`",
    rationale: "Static tokens are plain-text bearer credentials on the control-plane disk that \
        never expire and can only be revoked by restarting the API server: exactly the long-lived \
        shared secrets that leak and stay valid.",
    remedy: "Remove `--token-auth-file`; authenticate humans through OIDC and workloads with \
        ServiceAccount tokens.",
    references: References {
        cis: &["1.2.2"],
        checkov: &["CKV_K8S_70"],
        trivy: &["KCV0002"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if let Some(f) = flags.get("token-auth-file") {
            emit.object(
                o,
                &flags.pointer("token-auth-file"),
                format!("kube-apiserver reads static tokens from `{}`", f.value),
            );
        }
    }
}
