//! No admission control rejects unsigned images.

use crate::analysis::image_verification::{is_admission_evidence, verifier};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};
use std::collections::BTreeSet;

pub static RULE: Rule = Rule {
    id: "image-signature-not-enforced",
    section: Section::Rule(13),
    severity: Severity::High,
    summary: "No admission control enforces image signatures",
    rationale: "Scanning images in CI only helps if the cluster refuses images that did not go \
        through CI. Without a verifier in enforce mode (Kyverno `verifyImages`, sigstore \
        policy-controller, Gatekeeper with Ratify, Connaisseur, ImagePolicyWebhook), anyone who can \
        push to a registry or create a pod can run any image, including a typosquatted or \
        backdoored one. Audit-only policies report but admit.",
    remedy: "Install a signature verifier and enforce it, e.g. a Kyverno ClusterPolicy with \
        `verifyImages` (attestors with your cosign public key or keyless identity) and \
        `validationFailureAction: Enforce` (or rule `failureAction: Enforce`); sign images in CI \
        with `cosign sign`.",
    references: References {
        cis: &["5.5.1"],
        kubescape: &["C-0236", "C-0237"],
        docs: &["https://kyverno.io/docs/writing-policies/verify-images/"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates, Evidence::AdmissionControl],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    if facts.workloads.is_empty() || !facts.cross_object.iter().any(is_admission_evidence) {
        return; // not assessed: the scorecard names the missing evidence
    }
    let verifiers: Vec<_> = facts.cross_object.iter().filter_map(verifier).collect();
    if verifiers.iter().any(|v| v.enforcing) {
        return;
    }
    if verifiers.is_empty() {
        let namespaces: BTreeSet<&str> = facts
            .workloads
            .iter()
            .map(|w| w.namespace.as_str())
            .collect();
        // The same workload whatever the input order (files, a dump, the cluster's lists).
        let first = facts
            .workloads
            .iter()
            .min_by(|a, b| (&a.namespace, &a.kind, &a.name).cmp(&(&b.namespace, &b.kind, &b.name)))
            .expect("not empty");
        emit.workload(
            first,
            format!(
                "no admission control in the input verifies image signatures; {} workloads in {} namespaces run images nobody verified (first: this one)",
                facts.workloads.len(),
                namespaces.len()
            ),
        );
        return;
    }
    for v in verifiers {
        emit.object(
            v.object,
            "/spec",
            format!(
                "{} \"{}\" only reports unsigned images: mode {}",
                v.tool, v.object.name, v.mode
            ),
        );
    }
}
