//! A container adds capabilities beyond NET_BIND_SERVICE.

use crate::analysis::security_context::{self, normalize_capability};
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "container-adds-capabilities",
    section: Section::Rule(8),
    severity: Severity::High,
    summary: "Container adds Linux capabilities",
    rationale: "Added capabilities widen the kernel attack surface. SYS_ADMIN is nearly root (mount, \
        BPF, namespaces) and enables well-known container escapes; SYS_PTRACE reads other \
        processes' memory; NET_ADMIN rewrites the pod's network; SYS_MODULE loads kernel modules; \
        ALL grants everything. PSS restricted allows adding only NET_BIND_SERVICE.",
    remedy: "Remove entries from `securityContext.capabilities.add`; keep at most \
        `NET_BIND_SERVICE`, or run the process on an unprivileged port instead.",
    references: References {
        pss: &["capabilities_baseline", "capabilities_restricted"],
        cis: &["5.2.8", "5.2.9"],
        trivy: &["KSV022", "KSV005"],
        checkov: &["CKV_K8S_25", "CKV_K8S_39"],
        polaris: &["dangerousCapabilities"],
        kubescape: &["C-0046"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

/// Capabilities that allow escaping the container or taking over the node.
const ESCAPE: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "BPF",
    "NET_ADMIN",
    "SYS_BOOT",
];

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        for (name, ptr) in security_context::capabilities(&c).add {
            let cap = normalize_capability(name);
            if cap == "NET_BIND_SERVICE" {
                continue;
            }
            let note = if ESCAPE.contains(&cap.as_str()) {
                " — enables container escape or node takeover"
            } else {
                ""
            };
            emit.container(
                t.object,
                &c,
                &ptr,
                format!("{} adds capability `{name}`{note}", c.describe()),
            );
        }
    }
}
