//! No audit events are recorded.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-audit-logging-disabled",
    section: Section::Rule(4),
    severity: Severity::High,
    summary: "API server records no audit events",
    rationale: "Without `--audit-policy-file` the API server records no audit events at all, even \
        with a log path set; without a log or webhook backend there is nowhere to write them. \
        Secret reads, `kubectl exec` and RBAC changes then leave no trace: an intrusion cannot be \
        detected or reconstructed.",
    remedy: "Set `--audit-policy-file=/etc/kubernetes/audit-policy.yaml` with a policy that logs \
        Secrets at Metadata and exec/attach/portforward, and a backend: \
        `--audit-webhook-config-file` (shipped off the node) and/or `--audit-log-path`.",
    references: References {
        cis: &["1.2.16", "3.2.1"],
        checkov: &["CKV_K8S_91"],
        trivy: &["KCV0019"],
        kubescape: &["C-0067"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags
            .get("audit-policy-file")
            .is_none_or(|f| f.value.is_empty())
        {
            emit.object(o, &flags.anchor, format!("kube-apiserver ({}) has no `--audit-policy-file`: no audit events are recorded", flags.source));
        } else if flags.get("audit-log-path").is_none()
            && flags.get("audit-webhook-config-file").is_none()
        {
            emit.object(o, &flags.pointer("audit-policy-file"), "kube-apiserver has an audit policy but no backend (`--audit-log-path` or `--audit-webhook-config-file`)");
        }
    }
}
