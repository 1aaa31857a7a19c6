//! The kubelet authorizes every request.

use crate::analysis::kubelet::{AUTHORIZATION_MODE, From};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "kubelet-authorization-always-allow",
    section: Section::Rule(5),
    severity: Severity::Critical,
    summary: "Kubelet authorization mode is AlwaysAllow",
    rationale: "With `AlwaysAllow`, any client the kubelet authenticates (or every client, with \
        anonymous auth) may exec into pods, read their logs and secrets mounted in them. `Webhook` \
        delegates the decision to the API server's RBAC (`nodes/proxy`, `nodes/log`…).",
    remedy: "Set `authorization: {mode: Webhook}` in the KubeletConfiguration (the config-file \
        default) and keep `authentication.webhook.enabled: true`.",
    references: References {
        cis: &["4.2.2"],
        checkov: &["CKV_K8S_139"],
        kubescape: &["C-0173"],
        ..References::NONE
    },
    evidence: &[Evidence::KubeletConfig],
    fix: None,
    check: Check::Inventory(check, &[Model::Kubelets]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for k in facts.kubelets() {
        let Some(e) = k.effective(&AUTHORIZATION_MODE) else {
            continue;
        };
        if e.value.as_deref() != Some("AlwaysAllow") {
            continue;
        }
        let message = match e.from {
            From::Flag => format!(
                "kubelet runs with `--authorization-mode=AlwaysAllow`{}",
                e.override_note(&AUTHORIZATION_MODE)
            ),
            From::Config => "KubeletConfiguration sets `authorization.mode: AlwaysAllow`".to_owned(),
            From::FlagDefault => "kubelet has neither `--authorization-mode=Webhook` nor a `--config` file: the flag default is AlwaysAllow".to_owned(),
            From::ConfigDefault => "kubelet authorization mode is AlwaysAllow".to_owned(),
        };
        emit.object(e.object, &e.pointer, message);
    }
}
