//! The kubelet serves anonymous requests.

use crate::analysis::control_plane::parse_go_bool;
use crate::analysis::kubelet::{ANONYMOUS_AUTH, From};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "kubelet-anonymous-auth",
    section: Section::Rule(5),
    severity: Severity::Critical,
    summary: "Kubelet accepts anonymous requests",
    rationale: "The kubelet API (port 10250) runs commands in any pod on the node (`/exec`, `/run`), \
        reads logs and lists pods. With anonymous authentication on, anyone who reaches the node \
        port is `system:anonymous` there — and with `AlwaysAllow` authorization, root on every pod.",
    remedy: "In the KubeletConfiguration set `authentication: {anonymous: {enabled: false}, webhook: \
        {enabled: true}}` (or `--anonymous-auth=false`).",
    references: References {
        cis: &["4.2.1"],
        checkov: &["CKV_K8S_138"],
        trivy: &["KCV0079"],
        kubescape: &["C-0069"],
        ..References::NONE
    },
    evidence: &[Evidence::KubeletConfig],
    fix: None,
    check: Check::Inventory(check, &[Model::Kubelets]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    // The effective setting: a flag over the config file(s), over the default of whichever is used.
    for k in facts.kubelets() {
        let Some(e) = k.effective(&ANONYMOUS_AUTH) else {
            continue;
        };
        if e.value.as_deref().and_then(parse_go_bool) != Some(true) {
            continue;
        }
        let message = match e.from {
            From::Flag => format!(
                "kubelet runs with `--anonymous-auth={}`{}",
                e.value.as_deref().unwrap_or_default(),
                e.override_note(&ANONYMOUS_AUTH)
            ),
            From::Config => "KubeletConfiguration enables anonymous authentication".to_owned(),
            From::FlagDefault => "kubelet has neither `--anonymous-auth=false` nor a `--config` file: the flag default is true".to_owned(),
            From::ConfigDefault => "kubelet anonymous authentication is enabled".to_owned(),
        };
        emit.object(e.object, &e.pointer, message);
    }
}
