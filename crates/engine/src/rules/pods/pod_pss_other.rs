//! The remaining Pod Security checks: AppArmor, SELinux, procMount, sysctls, Windows hostProcess,
//! probe hosts and restricted volume types, evaluated by the PSS engine.

use crate::analysis::pss::{self, Level, Version};
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "pod-pss-restricted-violation",
    section: Section::Rule(6),
    severity: Severity::Medium,
    summary: "Pod violates a Pod Security restricted check not covered by a dedicated rule",
    rationale: "Besides privileges, users and capabilities (which have their own rules), PSS \
        restricted forbids weakening the kernel's other isolation: an Unconfined AppArmor profile, \
        custom SELinux types, users or roles, an unmasked /proc, unsafe sysctls that affect the \
        whole node, Windows hostProcess containers, probes that make the kubelet connect to other \
        hosts, and volume types (NFS, iSCSI, gitRepo…) that bypass the pod's storage isolation.",
    remedy: "Remove the offending setting named in the message: AppArmor `RuntimeDefault` or \
        `Localhost`; no SELinux user/role and only `container_t`-family types; `procMount: \
        Default`; only namespaced safe sysctls; no `hostProcess`; no probe `host`; CSI, PVC, \
        configMap, secret, emptyDir, projected or downwardAPI volumes.",
    references: References {
        cis: &["5.2.10"],
        pss: &[
            "appArmorProfile",
            "seLinuxOptions",
            "procMount",
            "sysctls",
            "windowsHostProcess",
            "hostProbesAndHostLifecycle",
            "restrictedVolumes",
        ],
        trivy: &["KSV002", "KSV025", "KSV026", "KSV027", "KSV028"],
        kube_linter: &["unsafe-proc-mount", "unsafe-sysctls"],
        polaris: &["procMount", "hostProcess"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

/// Checks that no dedicated rule covers.
const OTHER: &[&str] = &[
    "appArmorProfile",
    "seLinuxOptions",
    "procMount",
    "procMount_restricted",
    "sysctls",
    "windowsHostProcess",
    "hostProbesAndHostLifecycle",
    "restrictedVolumes",
];

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for result in pss::evaluate_created(Level::Restricted, Version::Latest, t.metadata, t.spec) {
        if !OTHER.contains(&result.id) {
            continue;
        }
        // hostPath volumes have their own rule.
        if result.id == "restrictedVolumes" && result.detail.ends_with("\"hostPath\"") {
            continue;
        }
        // At the first offending field (the check's other fields are named in the message).
        emit.object(
            t.object,
            &pss::template_pointer(t, result.pointer()),
            format!("{} ({}): {}", result.reason, result.id, result.detail),
        );
    }
}
