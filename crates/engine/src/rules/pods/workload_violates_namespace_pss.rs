//! A workload would be rejected by the Pod Security level of its own namespace.

use crate::analysis::pss::{self, Level};
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "workload-violates-namespace-pss",
    section: Section::Rule(6),
    severity: Severity::High,
    summary: "Workload violates the Pod Security level its namespace enforces",
    rationale: "Pod Security admission rejects a Pod that violates its namespace's `enforce` level; \
        for Deployments, Jobs and the other controllers the object is accepted but every pod it \
        creates is rejected, so the workload never runs (visible only as events on the ReplicaSet). \
        Evaluated exactly as the admission plugin does, at the namespace's level and pinned version.",
    remedy: "Fix the listed violations in the pod template (each has its own rule with a precise \
        remedy), or move the workload to a namespace whose level it is meant to run under.",
    references: References {
        pss: &["enforce"],
        docs: &["https://kubernetes.io/docs/concepts/security/pod-security-standards/"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates, Evidence::Namespaces],
    fix: None,
    check: Check::PodTemplate(check),
};

fn check(ctx: &Context, t: &PodTemplate, emit: &mut Emitter) {
    let Some(ns) = t.object.effective_namespace() else {
        return;
    };
    let Some(info) = ctx.namespaces.get(ns) else {
        return;
    };
    let policy = pss::namespace_policy(|k| info.labels.get(k).cloned());
    let enforce = policy.enforce;
    if enforce.level == Level::Privileged {
        return;
    }
    let results = pss::evaluate_created(enforce.level, enforce.version, t.metadata, t.spec);
    if results.is_empty() {
        return;
    }
    let what = if t.object.kind == "Pod" {
        format!("pods \"{}\" is forbidden", t.object.name)
    } else {
        format!(
            "pods of {} \"{}\" will be rejected",
            t.object.kind, t.object.name
        )
    };
    // At the first violation's field; the message lists them all.
    emit.object(
        t.object,
        &pss::template_pointer(t, results[0].pointer()),
        format!(
            "{what}: namespace \"{ns}\" enforces PodSecurity \"{}:{}\": {}",
            enforce.level.as_str(),
            enforce.version,
            pss::aggregate(&results)
        ),
    );
}
