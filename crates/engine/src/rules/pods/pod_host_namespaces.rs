//! The pod shares the node's network, PID or IPC namespace.

use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, New, Op, Outcome, PodFix, ok};
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "pod-host-namespaces",
    section: Section::Rule(9),
    severity: Severity::High,
    summary: "Pod shares a host namespace (hostNetwork, hostPID or hostIPC)",
    rationale: "hostNetwork lets the pod sniff and bind node traffic and reach services that trust \
        the node (kubelet, cloud metadata) while bypassing NetworkPolicy; hostPID lets it see and \
        signal every process on the node and read their environments; hostIPC exposes the host's \
        shared memory. Each is a step towards escaping to the node.",
    remedy: "Remove `hostNetwork`, `hostPID` and `hostIPC` from the pod spec (or set them to false). \
        Node agents that truly need them belong in a dedicated, exempted namespace.",
    references: References {
        pss: &["hostNamespaces"],
        cis: &["5.2.3", "5.2.4", "5.2.5"],
        trivy: &["KSV008", "KSV009", "KSV010"],
        checkov: &["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19"],
        kube_linter: &["host-network", "host-pid", "host-ipc"],
        polaris: &["hostNetworkSet", "hostPIDSet", "hostIPCSet"],
        kubescape: &["C-0038", "C-0041"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 80,
    kind: FixKind::Unsafe,
    description: "Removes `hostNetwork`, `hostPID` and `hostIPC` (--unsafe-fixes).",
    fixer: Fixer::Pod {
        pod_level: true,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, f) in p.mine {
        let field = p.job.rel(f).rsplit('/').next().unwrap_or("");
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![Op::Remove {
                ptr: p.job.rel(f).to_owned(),
                fallback: New::Bool(false),
            }],
            format!("pod: remove `{field}: true`"),
        ));
    }
    out
}

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        if t.spec.get(field).and_then(Node::as_bool) == Some(true) {
            emit.object(t.object, &t.ptr(field), format!("pod sets `{field}: true`"));
        }
    }
}
