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

/// What each capability lets a container do (capabilities(7)); the worst first. A capability
/// not listed is named without a reason.
const REASONS: &[(&str, &str)] = &[
    (
        "ALL",
        "every capability: the kernel surface of root on the node",
    ),
    (
        "SYS_ADMIN",
        "mount, BPF and namespace operations: well-known container escapes",
    ),
    ("SYS_MODULE", "loads kernel modules: node takeover"),
    (
        "SYS_RAWIO",
        "raw access to devices and I/O ports: node takeover",
    ),
    (
        "SYS_PTRACE",
        "traces other processes and reads their memory (the node's, with hostPID)",
    ),
    (
        "DAC_READ_SEARCH",
        "reads any file and opens files by handle (the `shocker` escape)",
    ),
    ("BPF", "loads BPF programs that can read kernel memory"),
    (
        "PERFMON",
        "kernel performance monitoring, which leaks kernel memory layout",
    ),
    ("MAC_ADMIN", "changes AppArmor/SELinux policy"),
    ("MAC_OVERRIDE", "overrides AppArmor/SELinux policy"),
    (
        "SYS_BOOT",
        "reboots or kexecs (a node-wide effect where permitted)",
    ),
    (
        "SYS_TIME",
        "sets the system clock, which is not namespaced: the node's time for every pod (TLS, token expiry, logs)",
    ),
    (
        "AUDIT_CONTROL",
        "changes the kernel's audit rules, which are node-wide",
    ),
    (
        "SYSLOG",
        "reads the kernel log, which leaks kernel addresses",
    ),
    (
        "NET_ADMIN",
        "reconfigures the pod's network (interfaces, routes, iptables) and can intercept its traffic; the node's with hostNetwork",
    ),
    (
        "NET_RAW",
        "crafts raw packets: spoofing (ARP, DNS) on the node's network",
    ),
    ("MKNOD", "creates device files"),
    ("DAC_OVERRIDE", "bypasses file permission checks"),
    ("SYS_RESOURCE", "overrides resource limits"),
    (
        "SYS_NICE",
        "raises its scheduling priority, starving other pods on the node",
    ),
    ("IPC_LOCK", "locks memory, beyond the pod's accounting"),
    (
        "LINUX_IMMUTABLE",
        "changes immutable and append-only file flags",
    ),
    (
        "SETUID",
        "changes its user id (to root, from a non-root start)",
    ),
    ("SETGID", "changes its group id"),
    ("SETPCAP", "changes capability sets"),
    ("SETFCAP", "sets file capabilities on binaries"),
    ("CHOWN", "changes file ownership"),
    ("FOWNER", "bypasses ownership checks on files"),
    ("KILL", "signals processes it does not own"),
];

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        for (name, ptr) in security_context::capabilities(&c).add {
            let cap = normalize_capability(name);
            if cap == "NET_BIND_SERVICE" {
                continue;
            }
            let reason = REASONS
                .iter()
                .find(|(n, _)| *n == cap)
                .map(|(_, why)| format!(" — {why}"))
                .unwrap_or_default();
            emit.container(
                t.object,
                &c,
                &ptr,
                format!("{} adds capability `{name}`{reason}", c.describe()),
            );
        }
    }
}
