//! The kubelet serves anonymous requests.

use super::{flags_of, is};
use crate::analysis::control_plane::Component;
use crate::finding::{Emitter, Severity};
use crate::inventory::Object;
use crate::rules::{Check, Evidence, References, Rule, Seed};
use crate::scan::Context;
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "kubelet-anonymous-auth",
    seed: Seed::Rule(5),
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
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    // Flags override the config file; without `--config` the flag default (true) applies.
    for flags in flags_of(o, Component::Kubelet) {
        match flags.bool("anonymous-auth") {
            Some(false) => {}
            Some(true) => emit.object(o, &flags.pointer("anonymous-auth"), "kubelet runs with `--anonymous-auth=true`"),
            None if flags.get("config").is_none() => emit.object(o, &flags.anchor, "kubelet has neither `--anonymous-auth=false` nor a `--config` file: the flag default is true"),
            None => {}
        }
    }
    if !is(o, "kubelet.config.k8s.io", "KubeletConfiguration") {
        return;
    }
    // The config-file default is false (flag-only kubelets default to true).
    if o.root
        .pointer("/authentication/anonymous/enabled")
        .and_then(Node::as_bool)
        == Some(true)
    {
        emit.object(
            o,
            "/authentication/anonymous/enabled",
            "KubeletConfiguration enables anonymous authentication",
        );
    }
}
