//! The kubelet's unauthenticated read-only port is open.

use crate::analysis::kubelet::{From, READ_ONLY_PORT};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "kubelet-read-only-port",
    section: Section::Rule(5),
    severity: Severity::Medium,
    summary: "Kubelet read-only port is enabled",
    rationale: "The read-only port (10255) serves pod specs — including environment variables that \
        often hold credentials — and metrics without any authentication.",
    remedy: "Set `readOnlyPort: 0` in the KubeletConfiguration (the config-file default) or \
        `--read-only-port=0`.",
    references: References {
        cis: &["4.2.4"],
        checkov: &["CKV_K8S_141"],
        ..References::NONE
    },
    evidence: &[Evidence::KubeletConfig],
    fix: None,
    check: Check::Inventory(check, &[Model::Kubelets]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for k in facts.kubelets() {
        let Some(e) = k.effective(&READ_ONLY_PORT) else {
            continue;
        };
        let port = match e.value.as_deref() {
            None | Some("0") => continue,
            Some(port) => port,
        };
        let message = match e.from {
            From::Flag => format!(
                "kubelet runs with `--read-only-port={port}`{}",
                e.override_note(&READ_ONLY_PORT)
            ),
            From::Config => {
                format!("KubeletConfiguration opens the unauthenticated read-only port {port}")
            }
            From::FlagDefault => "kubelet has neither `--read-only-port=0` nor a `--config` file: the flag default opens port 10255".to_owned(),
            From::ConfigDefault => format!("kubelet read-only port {port} is open"),
        };
        emit.object(e.object, &e.pointer, message);
    }
}
