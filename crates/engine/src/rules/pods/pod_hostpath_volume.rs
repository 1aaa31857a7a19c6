//! A hostPath volume mounts part of the node's filesystem into the pod.

use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, New, Op, Outcome, PodFix, ok};
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "pod-hostpath-volume",
    section: Section::Rule(9),
    severity: Severity::High,
    summary: "Pod mounts a hostPath volume",
    rationale: "A hostPath volume exposes the node's filesystem: `/` gives full node takeover, \
        `/var/run/docker.sock` or the containerd socket give control of every container, \
        `/var/lib/kubelet` exposes other pods' secrets, `/etc` lets an attacker add users or cron \
        jobs. Even read-only mounts leak credentials.",
    remedy: "Use `emptyDir`, a ConfigMap/Secret, a `persistentVolumeClaim` or a CSI volume instead \
        of `hostPath`. Node agents that need host files belong in an exempted system namespace.",
    references: References {
        pss: &["hostPathVolumes", "restrictedVolumes"],
        cis: &["5.2.11"],
        trivy: &["KSV023"],
        kube_linter: &["sensitive-host-mounts", "docker-sock"],
        polaris: &["hostPathSet"],
        kubescape: &["C-0048"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 90,
    kind: FixKind::Unsafe,
    description: "Replaces the `hostPath` of the volume with an empty `emptyDir`, keeping its \
            mounts valid (--unsafe-fixes: the data of the host path is gone).",
    fixer: Fixer::Pod {
        pod_level: true,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    for (i, f) in p.mine {
        let ptr = p.job.rel(f);
        let name = ptr
            .strip_suffix("/hostPath")
            .and_then(|v| p.job.object.root.pointer(v))
            .and_then(|v| v.get("name"))
            .and_then(Node::text)
            .unwrap_or("");
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![Op::Replace {
                ptr: ptr.to_owned(),
                key: "emptyDir".into(),
                value: New::Map(Vec::new()),
            }],
            format!("volume \"{name}\": replace `hostPath` with an empty `emptyDir`"),
        ));
    }
    out
}

/// Host paths that hand over the node outright.
const CRITICAL_PATHS: &[&str] = &[
    "/",
    "/etc",
    "/root",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/var/lib/kubelet",
    "/proc",
    "/dev",
];

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    let Some(volumes) = t.spec.get("volumes") else {
        return;
    };
    for (i, v) in volumes.items().iter().enumerate() {
        let Some(host_path) = v.get("hostPath") else {
            continue;
        };
        let name = v.get("name").and_then(Node::text).unwrap_or("");
        let path = host_path.get("path").and_then(Node::text).unwrap_or("");
        let normalized = path.trim_end_matches('/');
        let note = if CRITICAL_PATHS.contains(&normalized) || path == "/" {
            " — this path gives control of the node"
        } else {
            ""
        };
        emit.object(
            t.object,
            &t.ptr(&format!("volumes/{i}/hostPath")),
            format!("volume \"{name}\" mounts host path `{path}`{note}"),
        );
    }
}
