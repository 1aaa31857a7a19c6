//! Namespaces that an enforcing signature verifier does not cover.

use crate::analysis::image_verification::verifier;
use crate::finding::{Location, Severity, Subject};
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::BTreeMap;

pub static RULE: Rule = Rule {
    id: "namespace-outside-image-verification",
    section: Section::Rule(13),
    severity: Severity::Medium,
    summary: "Workloads run in a namespace no enforcing signature verifier covers, or the verifier fails open",
    rationale: "Signature policies are scoped: Kyverno `match`/`exclude`, Gatekeeper \
        `excludedNamespaces`, and policy-controller only verifies namespaces labelled \
        `policy.sigstore.dev/include: \"true\"`. An attacker deploys where the policy does not \
        look. A webhook with `failurePolicy: Ignore` admits everything while it is down.",
    remedy: "Extend the verifier's scope to every namespace that runs workloads (label the \
        namespace `policy.sigstore.dev/include: \"true\"`, remove it from `exclude`), and use \
        `failurePolicy: Fail` with a highly available verifier.",
    references: References {
        kubescape: &["C-0236"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates, Evidence::AdmissionControl],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(ctx: &Context, facts: &Derived, emit: &mut Emitter) {
    let enforcing: Vec<_> = facts
        .cross_object
        .iter()
        .filter_map(verifier)
        .filter(|v| v.enforcing)
        .collect();
    if enforcing.is_empty() {
        return; // image-signature-not-enforced reports this
    }
    for v in enforcing.iter().filter(|v| v.fails_open) {
        emit.object(
            v.object,
            "/",
            format!(
                "{} \"{}\" fails open: when it is unavailable, unverified images are admitted",
                v.tool, v.object.name
            ),
        );
    }
    let mut by_namespace: BTreeMap<&str, Vec<&crate::inventory::Workload>> = BTreeMap::new();
    for w in &facts.workloads {
        by_namespace
            .entry(w.namespace.as_str())
            .or_default()
            .push(w);
    }
    for (ns, workloads) in by_namespace {
        let labels = ctx.namespaces.get(ns).map(|n| &n.labels);
        if enforcing.iter().any(|v| v.covers(ns, labels)) {
            continue;
        }
        let first = workloads[0];
        let (origin, line) = match ctx.namespaces.get(ns) {
            Some(info) => (info.origin.clone(), info.line),
            None => (first.origin.clone(), first.line),
        };
        emit.at(
            Subject { kind: "Namespace".into(), api_version: "v1".into(), name: ns.to_owned(), namespace: None, container: None },
            Location { origin: origin.into(), line, column: 1, pointer: "".into(), helm_source: None },
            format!(
                "namespace \"{ns}\" runs {} workload(s) (e.g. {} \"{}\") that no enforcing signature verifier covers",
                workloads.len(),
                first.kind,
                first.name
            ),
        );
    }
}
