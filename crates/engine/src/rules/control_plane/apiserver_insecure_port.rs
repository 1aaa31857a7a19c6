//! The API server serves an unauthenticated HTTP port.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-insecure-port",
    section: Section::Rule(1),
    severity: Severity::Critical,
    summary: "API server serves the insecure (unauthenticated HTTP) port",
    rationale: "Requests on the insecure port bypass authentication and authorization entirely: \
        whoever reaches it is cluster-admin. Removed in Kubernetes 1.24, it still appears in old \
        manifests and forks.",
    remedy: "Remove `--insecure-port` and `--insecure-bind-address` (or set `--insecure-port=0` on \
        releases before 1.20) and upgrade.",
    references: References {
        cis: &["1.2.19 (pre-1.24)"],
        checkov: &["CKV_K8S_86", "CKV_K8S_88"],
        kubescape: &["C-0005"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if let Some(port) = flags.get("insecure-port")
            && port.value != "0"
        {
            emit.object(
                o,
                &flags.pointer("insecure-port"),
                format!(
                    "kube-apiserver `--insecure-port={}` serves the API without authentication",
                    port.value
                ),
            );
        }
        if let Some(addr) = flags.get("insecure-bind-address") {
            emit.object(
                o,
                &flags.pointer("insecure-bind-address"),
                format!(
                    "kube-apiserver sets `--insecure-bind-address={}`",
                    addr.value
                ),
            );
        }
    }
}
