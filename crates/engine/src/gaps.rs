//! Evidence gaps of a live source: kinds that could not be read (a 403, or an error that outlived
//! the retries). Fail closed: the evidence those kinds feed counts as missing, with the reason, so
//! every rule that needs it is "not assessed" instead of passing on a partial view; the findings
//! of the cross-object rules among them are dropped (on a partial inventory an absence check,
//! such as "no NetworkPolicy selects this workload", would report what it could not see). Findings
//! of per-object rules are kept: they are about objects that were read.

use crate::rules::{Check, Evidence, Rule};
use crate::scan::Report;
use crate::source::{DiagLevel, Diagnostic};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A kind the source could not read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    /// API group (empty for core).
    pub group: String,
    pub kind: String,
    /// The resource (plural) as RBAC names it: `roles`, `secrets`.
    pub resource: String,
    /// The namespace the list was for (None: all namespaces or cluster-scoped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// What went wrong and what would settle it, e.g. the missing permission.
    pub reason: String,
}

impl Unavailable {
    /// `roles.rbac.authorization.k8s.io` (or `pods` for the core group).
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Rollout",
    "CloneSet",
    "AdvancedStatefulSet",
    "DeploymentConfig",
];

/// The evidence that objects of a kind provide (what becomes missing when they cannot be read).
pub fn evidence_fed_by(group: &str, kind: &str) -> Vec<Evidence> {
    let mut out = Vec::new();
    if WORKLOAD_KINDS.contains(&kind) {
        out.extend([
            Evidence::PodTemplates,
            Evidence::NetworkPolicies,
            Evidence::ClusterWorkloads,
        ]);
        if kind == "Pod" {
            // The control plane's mirror Pods carry the component flags.
            out.extend([Evidence::ApiServerFlags, Evidence::ControlPlaneFlags]);
        }
    }
    match (group, kind) {
        ("", "Namespace") => out.extend([Evidence::Namespaces, Evidence::NetworkPolicies]),
        ("", "ServiceAccount") | ("rbac.authorization.k8s.io", _) => out.push(Evidence::Rbac),
        ("", "Secret") => out.push(Evidence::SecretAges),
        ("", "Node") => out.push(Evidence::ClusterWorkloads),
        ("", "Endpoints") | ("discovery.k8s.io", "EndpointSlice") => {
            out.push(Evidence::ApiEndpoint)
        }
        (
            "networking.k8s.io"
            | "policy.networking.k8s.io"
            | "cilium.io"
            | "crd.projectcalico.org"
            | "projectcalico.org",
            _,
        ) => out.push(Evidence::NetworkPolicies),
        (
            "admissionregistration.k8s.io"
            | "kyverno.io"
            | "policies.kyverno.io"
            | "templates.gatekeeper.sh"
            | "constraints.gatekeeper.sh"
            | "policy.sigstore.dev"
            | "config.ratify.deislabs.io"
            | "connaisseur.policy",
            _,
        ) => out.push(Evidence::AdmissionControl),
        ("monitoring.coreos.com" | "grafana.integreatly.org" | "secrets.hashicorp.com", _) => {
            out.push(Evidence::ClusterWorkloads)
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// Applies the gaps to a finished scan of what could be read: affected rules leave `assessed`,
/// the reasons join the section's `missing`, the cross-object rules' findings are dropped, each
/// gap becomes a warning diagnostic, and the scorecard is re-derived.
pub fn apply(report: &mut Report, rules: &[&'static Rule], gaps: &[Unavailable]) {
    if gaps.is_empty() {
        return;
    }
    let mut reasons: BTreeMap<Evidence, BTreeSet<String>> = BTreeMap::new();
    for gap in gaps {
        for e in evidence_fed_by(&gap.group, &gap.kind) {
            reasons.entry(e).or_default().insert(gap.reason.clone());
        }
        report.diagnostics.push(Diagnostic::new(
            DiagLevel::Warning,
            &format!("cluster:{}", gap.resource_name()),
            None,
            format!(
                "not read, rules that need it are not assessed: {}",
                gap.reason
            ),
        ));
    }
    let affected: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| r.evidence.iter().any(|e| reasons.contains_key(e)))
        .collect();
    let dropped: BTreeSet<&str> = affected
        .iter()
        .filter(|r| matches!(r.check, Check::Inventory(_)))
        .map(|r| r.id)
        .collect();
    report.findings.retain(|f| !dropped.contains(f.rule));
    report
        .suppressed_findings
        .retain(|f| !dropped.contains(f.rule));
    for score in &mut report.scorecard {
        let mut missing: BTreeSet<String> = score.missing.drain(..).collect();
        for rule in affected.iter().filter(|r| r.seed == score.seed) {
            score.assessed.retain(|id| *id != rule.id);
            for e in rule.evidence {
                if let Some(rs) = reasons.get(e) {
                    missing.extend(rs.iter().map(|r| format!("{}: {r}", rule.id)));
                }
            }
        }
        score.missing = missing.into_iter().collect();
    }
    report.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{Input, Status, scan};

    #[test]
    fn a_forbidden_kind_makes_its_rules_not_assessed() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: app}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n";
        let inputs = [Input::Bytes {
            name: "x".into(),
            bytes: text.as_bytes().into(),
        }];
        let rules = crate::rules::all();
        let mut report = scan(&inputs, rules);
        let before: usize = report
            .findings
            .iter()
            .filter(|f| f.rule == "namespace-missing-default-deny-ingress")
            .count();
        assert!(before > 0);
        let gap = Unavailable {
            group: "networking.k8s.io".into(),
            kind: "NetworkPolicy".into(),
            resource: "networkpolicies".into(),
            namespace: None,
            reason: "forbidden (403): grant `list` on networkpolicies.networking.k8s.io".into(),
        };
        apply(&mut report, rules, &[gap]);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.rule != "namespace-missing-default-deny-ingress")
        );
        let s11 = report
            .scorecard
            .iter()
            .find(|s| s.seed == crate::rules::Seed::Rule(11))
            .unwrap();
        assert!(
            !s11.assessed
                .contains(&"namespace-missing-default-deny-ingress")
        );
        assert!(s11.missing.iter().any(|m| m.contains("403")), "{s11:?}");
        assert_ne!(s11.status, Status::Pass);
        assert!(
            report
                .diagnostics
                .iter()
                .any(|d| d.origin == "cluster:networkpolicies.networking.k8s.io")
        );
    }
}
