//! Evidence gaps of a live source: kinds that could not be read (a 403, or an error that outlived
//! the retries). Fail closed: the evidence those kinds feed counts as missing, with the reason, so
//! every rule that needs it is "not assessed" instead of passing on a partial view; the findings
//! of the cross-object rules among them are dropped (on a partial inventory an absence check,
//! such as "no NetworkPolicy selects this workload", would report what it could not see). Findings
//! of per-object rules are kept: they are about objects that were read.

use crate::report::Report;
use crate::rules::{Check, Evidence};
use crate::source::{DiagLevel, Diagnostic};
use serde::Serialize;
use std::collections::BTreeSet;

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
    /// The objects were read, but not their values (Secrets read as metadata only, by design):
    /// only the rules that judge the values are affected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub values_only: bool,
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
            Evidence::WorkloadsAndPolicies,
            Evidence::ClusterWorkloads,
            Evidence::RuntimeDetector,
            Evidence::MetricsCollector,
            Evidence::Dashboards,
            Evidence::CisBenchmarkJob,
            Evidence::ImageScanner,
            Evidence::SecretsManager,
        ]);
        if kind == "Pod" {
            // The control plane's mirror Pods carry the component flags.
            out.extend([Evidence::ApiServerFlags, Evidence::ControlPlaneFlags]);
        }
    }
    match (group, kind) {
        ("", "Namespace") => out.extend([Evidence::Namespaces, Evidence::WorkloadsAndPolicies]),
        ("", "ServiceAccount") | ("rbac.authorization.k8s.io", _) => out.push(Evidence::Rbac),
        ("", "Secret") => out.push(Evidence::SecretAges),
        ("", "Node") => out.extend([Evidence::ClusterWorkloads, Evidence::RuntimeDetector]),
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
        ) => out.extend([Evidence::NetworkPolicies, Evidence::WorkloadsAndPolicies]),
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
        ("monitoring.coreos.com" | "operator.victoriametrics.com", _) => {
            out.extend([Evidence::ClusterWorkloads, Evidence::MetricsCollector])
        }
        ("grafana.integreatly.org", _) => {
            out.extend([Evidence::ClusterWorkloads, Evidence::Dashboards])
        }
        ("secrets.hashicorp.com", _) => {
            out.extend([Evidence::ClusterWorkloads, Evidence::SecretsManager])
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// Applies the gaps to a scan of what could be read (called by [`crate::finish::finish`]): the
/// evidence they feed becomes unreadable, with the reasons (so the rules that need it leave
/// `assessed` and the reasons join the section's `missing`), the cross-object rules' findings
/// among them are dropped, and each gap becomes a warning diagnostic.
pub(crate) fn apply(report: &mut Report, gaps: &[Unavailable]) {
    if gaps.is_empty() {
        return;
    }
    let unreadable = &mut report.scope.unreadable;
    for gap in gaps {
        let fed = if gap.values_only {
            vec![Evidence::SecretValues]
        } else {
            evidence_fed_by(&gap.group, &gap.kind)
        };
        for e in fed {
            unreadable.entry(e).or_default().insert(gap.reason.clone());
        }
        report.diagnostics.push(Diagnostic::new(
            if gap.values_only {
                DiagLevel::Note
            } else {
                DiagLevel::Warning
            },
            &format!("cluster:{}", gap.resource_name()),
            None,
            format!(
                "not read, rules that need it are not assessed: {}",
                gap.reason
            ),
        ));
    }
    let dropped: BTreeSet<&str> = report
        .scope
        .selected
        .iter()
        .filter(|r| matches!(r.check, Check::Inventory(..)))
        .filter(|r| {
            r.evidence
                .iter()
                .any(|e| report.scope.unreadable.contains_key(e))
        })
        .map(|r| r.id)
        .collect();
    report.findings.retain(|f| !dropped.contains(f.rule));
    report
        .suppressed_findings
        .retain(|f| !dropped.contains(f.rule));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Input;
    use crate::report::Status;
    use crate::scan::scan;

    #[test]
    fn a_forbidden_kind_makes_its_rules_not_assessed() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: app}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n";
        let inputs = [Input::Bytes {
            name: "x".into(),
            bytes: text.as_bytes().into(),
        }];
        let rules = crate::rules::all();
        let report = scan(&inputs, rules);
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
            values_only: false,
        };
        let gaps = [gap];
        let how = crate::finish::Finish {
            gaps: &gaps,
            ..crate::finish::Finish::default()
        };
        let (report, _) = crate::finish::finish(report, &how);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.rule != "namespace-missing-default-deny-ingress")
        );
        let s11 = report
            .scorecard
            .iter()
            .find(|s| s.section == crate::rules::Section::Rule(11))
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
