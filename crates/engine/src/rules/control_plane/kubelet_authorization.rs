//! The kubelet authorizes every request.

use super::{flags_of, is};
use crate::analysis::control_plane::Component;
use crate::finding::{Emitter, Severity};
use crate::inventory::Object;
use crate::rules::{Check, Evidence, References, Rule, Seed};
use crate::scan::Context;
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "kubelet-authorization-always-allow",
    seed: Seed::Rule(5),
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
        kubescape: &["C-0070"],
        ..References::NONE
    },
    evidence: &[Evidence::KubeletConfig],
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::Kubelet) {
        match flags.get("authorization-mode").map(|f| f.value.as_str()) {
            Some("AlwaysAllow") => emit.object(o, &flags.pointer("authorization-mode"), "kubelet runs with `--authorization-mode=AlwaysAllow`"),
            None if flags.get("config").is_none() => emit.object(o, &flags.anchor, "kubelet has neither `--authorization-mode=Webhook` nor a `--config` file: the flag default is AlwaysAllow"),
            _ => {}
        }
    }
    if !is(o, "kubelet.config.k8s.io", "KubeletConfiguration") {
        return;
    }
    if o.root.pointer("/authorization/mode").and_then(Node::text) == Some("AlwaysAllow") {
        emit.object(
            o,
            "/authorization/mode",
            "KubeletConfiguration sets `authorization.mode: AlwaysAllow`",
        );
    }
}
