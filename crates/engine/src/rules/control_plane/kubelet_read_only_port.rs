//! The kubelet's unauthenticated read-only port is open.

use super::{flags_of, is};
use crate::analysis::control_plane::Component;
use crate::finding::{Emitter, Severity};
use crate::inventory::Object;
use crate::rules::{Check, Evidence, References, Rule, Seed};
use crate::scan::Context;
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "kubelet-read-only-port",
    seed: Seed::Rule(5),
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
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::Kubelet) {
        match flags.get("read-only-port").map(|f| f.value.as_str()) {
            Some("0") => {}
            Some(port) => emit.object(o, &flags.pointer("read-only-port"), format!("kubelet runs with `--read-only-port={port}`")),
            None if flags.get("config").is_none() => emit.object(o, &flags.anchor, "kubelet has neither `--read-only-port=0` nor a `--config` file: the flag default opens port 10255"),
            None => {}
        }
    }
    if !is(o, "kubelet.config.k8s.io", "KubeletConfiguration") {
        return;
    }
    if let Some(port) = o.root.get("readOnlyPort").and_then(Node::as_i64)
        && port != 0
    {
        emit.object(
            o,
            "/readOnlyPort",
            format!("KubeletConfiguration opens the unauthenticated read-only port {port}"),
        );
    }
}
