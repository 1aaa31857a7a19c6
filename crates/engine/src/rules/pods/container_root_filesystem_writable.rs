//! The container's root filesystem is writable.

use crate::analysis::security_context;
use crate::finding::Severity;
use crate::inventory::Container;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, New, Op, Outcome, PodFix, ok, set};
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "container-root-filesystem-writable",
    section: Section::Rule(10),
    severity: Severity::Medium,
    summary: "Container root filesystem is not read-only",
    rationale: "A writable root filesystem lets an intruder drop tools, modify binaries and \
        configuration, and persist for the life of the container. A read-only root also makes \
        drift visible: every write location is declared as a volume. PSS does not check this.",
    remedy: "Set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` volume at \
        each path the application writes to (e.g. `/tmp`, caches).",
    references: References {
        trivy: &["KSV014"],
        checkov: &["CKV_K8S_22"],
        kube_linter: &["no-read-only-root-fs"],
        polaris: &["notReadOnlyRootFilesystem"],
        kubescape: &["C-0017"],
        kube_score: &["container-security-context-readonlyrootfilesystem"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: Some(&FIX),
    check: Check::PodTemplate(check),
};

static FIX: Fix = Fix {
    order: 70,
    kind: FixKind::Unsafe,
    description: "Sets `readOnlyRootFilesystem: true` and mounts an `emptyDir` volume at \
            /tmp (--unsafe-fixes: other paths the application writes to need volumes too).",
    fixer: Fixer::Pod {
        pod_level: false,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let mut out = Vec::new();
    read_only_root(p.template, p.per_container, &mut out);
    out
}

fn read_only_root(t: &PodTemplate, per_container: &[(usize, &Container)], out: &mut Vec<Outcome>) {
    let names: Vec<&str> = t
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.get("name").and_then(Node::text))
        .collect();
    let volume = std::iter::once("tmp".to_owned())
        .chain((1..).map(|n| match n {
            1 => "kubeharden-tmp".to_owned(),
            n => format!("kubeharden-tmp-{n}"),
        }))
        .find(|n| !names.contains(&n.as_str()))
        .unwrap_or_default();
    for (i, c) in per_container {
        let mut ops = vec![set(
            c.ptr("securityContext/readOnlyRootFilesystem"),
            New::Bool(true),
        )];
        let mut what = format!("{}: set `readOnlyRootFilesystem: true`", c.describe());
        let has_tmp = c
            .field("volumeMounts")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|m| {
                m.get("mountPath")
                    .and_then(Node::text)
                    .is_some_and(|p| p.trim_end_matches('/') == "/tmp")
            });
        if !has_tmp {
            ops.push(Op::Append {
                ptr: t.ptr("volumes"),
                value: New::map(&[
                    ("name", New::Str(volume.clone())),
                    ("emptyDir", New::Map(Vec::new())),
                ]),
            });
            ops.push(Op::Append {
                ptr: c.ptr("volumeMounts"),
                value: New::map(&[
                    ("name", New::Str(volume.clone())),
                    ("mountPath", New::str("/tmp")),
                ]),
            });
            what.push_str(&format!(
                " and mount an `emptyDir` volume \"{volume}\" at /tmp"
            ));
        }
        out.push(ok(vec![*i], FixKind::Unsafe, ops, what));
    }
}

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    if security_context::is_windows(t) {
        return; // Windows containers do not support a read-only root filesystem.
    }
    for c in t.containers() {
        let setting = security_context::read_only_root_filesystem(&c);
        if setting.value != Some(true) {
            let how = if setting.value == Some(false) {
                "sets `readOnlyRootFilesystem: false`"
            } else {
                "does not set `readOnlyRootFilesystem: true`"
            };
            emit.container(
                t.object,
                &c,
                &setting.pointer,
                format!("{} {how}", c.describe()),
            );
        }
    }
}
