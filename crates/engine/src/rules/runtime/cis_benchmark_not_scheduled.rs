//! The CIS benchmark (kube-bench) does not run on a schedule.

use super::{about_cluster, cluster_anchor, found};
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "cis-benchmark-not-scheduled",
    section: Section::Runtime,
    severity: Severity::Info,
    summary: "No scheduled CIS benchmark (kube-bench CronJob)",
    rationale: "Node and control-plane configuration drifts: an upgrade resets a flag, someone edits \
        a kubelet config by hand, a new node pool comes from a different image. A CIS benchmark run \
        once at installation says nothing about today. kube-bench as a CronJob re-checks every node \
        on a schedule, so drift is found by the next run instead of the next audit.",
    remedy: "Run kube-bench as a CronJob (the upstream `job.yaml` wrapped in a CronJob with \
        `hostPID: true` and the host paths it reads), e.g. weekly, and ship its JSON output to your \
        logging; or run `kubeharden node` on a schedule.",
    references: References {
        cis: &["Kubernetes Benchmark"],
        docs: &["https://github.com/aquasecurity/kube-bench/blob/main/docs/running.md"],
        ..References::NONE
    },
    evidence: &[Evidence::CisBenchmarkJob],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let runs = found(facts, Component::CisBenchmark);
    if runs.iter().any(|f| f.object.kind == "CronJob") {
        return;
    }
    match runs.first() {
        Some(f) => emit.object(
            f.object,
            "/kind",
            format!(
                "kube-bench runs as a {} \"{}\", once: schedule it as a CronJob",
                f.object.kind, f.object.name
            ),
        ),
        // Absent: only a whole cluster shows it (otherwise not assessed).
        None => {
            if let Some(anchor) = cluster_anchor(facts) {
                about_cluster(
                    emit,
                    anchor,
                    "no CronJob runs kube-bench: the CIS benchmark is not re-checked on a schedule"
                        .into(),
                );
            }
        }
    }
}
