//! Audit events stay on the control-plane node.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-audit-not-shipped",
    section: Section::Rule(4),
    severity: Severity::Low,
    summary: "Audit log is only written to a local file",
    rationale: "An attacker who gains root on the control-plane node can edit or delete a local \
        audit log, and the log is lost with the node. Shipping events off the cluster (webhook \
        backend, or a log agent forwarding the file to a SIEM) keeps them tamper-evident.",
    remedy: "Add `--audit-webhook-config-file` pointing at a collector, or make sure a node agent \
        (Fluent Bit, Vector, the cloud provider's agent) forwards the audit log file off the node.",
    references: References {
        cis: &["3.2.1"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags.get("audit-policy-file").is_some()
            && flags.get("audit-webhook-config-file").is_none()
            && let Some(path) = flags.get("audit-log-path")
        {
            emit.object(
                o,
                &flags.pointer("audit-log-path"),
                format!(
                    "kube-apiserver writes audit events only to `{}` on the node (no `--audit-webhook-config-file`); make sure an agent ships it off the cluster",
                    path.value
                ),
            );
        }
    }
}
