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

/// `(group, kind)` of the gap a live source reports when its unauthenticated probe of the API
/// server got no answer (so whether the server answers anonymous requests is unknown).
pub const ANONYMOUS_PROBE: (&str, &str) = ("kubeharden.io", "AnonymousProbe");

/// Kinds with a pod template (what `Workload`s are made of).
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

/// The evidence that objects of a kind provide: what becomes unreadable when they cannot be
/// read (a 403, a list that failed or stopped before its end). Audited against what each rule
/// reads (the rule's `evidence` must name something its every input kind feeds):
///
/// - every kind: [`Evidence::Manifests`] — `credential-in-config-data` reads the annotations of
///   every object, `legacy-service-account-token` and `secret-values-in-manifest` read Secrets,
///   `external-secret-refresh` ExternalSecrets;
/// - workloads: the pod-template rules, the cross-object rules over `Workload`s (network
///   selection, default deny, image verification, the default ServiceAccount), and the platform
///   components recognised by image (runtime detector, metrics, dashboards, kube-bench, image
///   scanner, secrets manager); Pods (mirror Pods) and Deployments, StatefulSets, DaemonSets and
///   ReplicaSets (hosted control planes) also carry the control plane's flags;
/// - Namespaces: Pod Security labels, the namespaces of default-deny and network selection, and
///   the namespace labels image verifiers select on;
/// - ServiceAccounts: their `automountServiceAccountToken` (read by
///   `workload-uses-default-service-account`, which needs [`Evidence::ServiceAccounts`]) and the RBAC model;
/// - Secrets: their ages and values;
/// - Nodes: runtime detector coverage (taints);
/// - the `kubernetes` EndpointSlice: the API endpoint;
/// - NetworkPolicies and CNI policies, admission control objects, operator resources of
///   monitoring, dashboards and secrets managers: their own evidence;
/// - [`ANONYMOUS_PROBE`] (not an object: the unauthenticated probe of `kubeharden cluster
///   --probe-anonymous`, when a request of it got no answer): [`Evidence::AnonymousProbe`] only.
pub fn evidence_fed_by(group: &str, kind: &str) -> Vec<Evidence> {
    if (group, kind) == ANONYMOUS_PROBE {
        return vec![Evidence::AnonymousProbe];
    }
    let mut out = vec![Evidence::Manifests];
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
            // `mesh-namespace-plaintext`: injection labels and annotations of pod templates.
            Evidence::ServiceMesh,
        ]);
        if matches!(
            kind,
            "Pod" | "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
        ) {
            // The control plane's mirror Pods carry the component flags; hosted control planes
            // run the components as Deployments (or StatefulSets, DaemonSets), which
            // `analysis::control_plane` reads the same way.
            out.extend([
                Evidence::ApiServerFlags,
                Evidence::ControlPlaneFlags,
                Evidence::ControllerManagerOrSchedulerFlags,
            ]);
        }
    }
    match (group, kind) {
        ("", "Namespace") => out.extend([
            Evidence::Namespaces,
            Evidence::WorkloadsAndPolicies,
            // `namespace-outside-image-verification`: verifiers select namespaces by label.
            Evidence::AdmissionControl,
            // `mesh-namespace-plaintext`: mesh injection labels and annotations.
            Evidence::ServiceMesh,
        ]),
        // The `aws-auth` ConfigMap (`eks-human-cluster-admin`).
        ("", "ConfigMap") => out.push(Evidence::CloudIdentities),
        ("security.istio.io" | "policy.linkerd.io", _) => out.push(Evidence::ServiceMesh),
        ("", "ServiceAccount") | ("rbac.authorization.k8s.io", _) => {
            out.extend([Evidence::Rbac, Evidence::ServiceAccounts])
        }
        ("", "Secret") => out.extend([Evidence::SecretAges, Evidence::SecretValues]),
        ("", "Service") => out.push(Evidence::Services),
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

    /// What each rule reads from a cluster, kind by kind: every one of those kinds, unreadable,
    /// must make the rule not assessed (feed some evidence the rule needs). Every cross-object
    /// rule is listed, so a new one needs its line here.
    const READS: &[(&str, &[(&str, &str)])] = &[
        // Cross-object rules.
        (
            "cis-benchmark-not-scheduled",
            &[("batch", "CronJob"), ("batch", "Job"), ("", "Pod")],
        ),
        (
            "metrics-monitoring-missing",
            &[
                ("apps", "Deployment"),
                ("apps", "StatefulSet"),
                ("", "Pod"),
                ("monitoring.coreos.com", "Prometheus"),
            ],
        ),
        (
            "dashboards-missing",
            &[
                ("apps", "Deployment"),
                ("grafana.integreatly.org", "Grafana"),
            ],
        ),
        (
            "image-scanning-in-cluster-missing",
            &[("apps", "Deployment"), ("", "Pod")],
        ),
        (
            "runtime-detection-missing",
            &[("apps", "DaemonSet"), ("", "Pod"), ("", "Node")],
        ),
        (
            "secrets-manager-missing",
            &[
                ("apps", "Deployment"),
                ("apps", "StatefulSet"),
                ("secrets.hashicorp.com", "VaultDynamicSecret"),
            ],
        ),
        // Node files and kubelet configuration come from `kubeharden node`, not from a cluster.
        ("node-file-permissions", &[]),
        // Terraform resources: never read from a live cluster.
        ("managed-cluster-audit-logs-not-exported", &[]),
        ("kubelet-authorization-always-allow", &[]),
        ("kubelet-anonymous-auth", &[]),
        ("kubelet-read-only-port", &[]),
        (
            "cis-control-plane-check",
            &[("", "Pod"), ("apps", "Deployment"), ("apps", "StatefulSet")],
        ),
        (
            "egress-to-any-destination",
            &[
                ("networking.k8s.io", "NetworkPolicy"),
                ("cilium.io", "CiliumNetworkPolicy"),
                ("crd.projectcalico.org", "GlobalNetworkPolicy"),
            ],
        ),
        (
            "dns-egress-unrestricted",
            &[
                ("networking.k8s.io", "NetworkPolicy"),
                ("cilium.io", "CiliumNetworkPolicy"),
                ("projectcalico.org", "NetworkPolicy"),
            ],
        ),
        ("eks-human-cluster-admin", &[("", "ConfigMap")]),
        (
            "mesh-namespace-plaintext",
            &[
                ("", "Namespace"),
                ("apps", "Deployment"),
                ("security.istio.io", "PeerAuthentication"),
            ],
        ),
        (
            "workload-not-selected-by-network-policy",
            &[
                ("apps", "Deployment"),
                ("", "Pod"),
                ("", "Namespace"),
                ("networking.k8s.io", "NetworkPolicy"),
                ("policy.networking.k8s.io", "AdminNetworkPolicy"),
            ],
        ),
        (
            "namespace-missing-default-deny-ingress",
            &[
                ("apps", "Deployment"),
                ("", "Namespace"),
                ("networking.k8s.io", "NetworkPolicy"),
                ("cilium.io", "CiliumClusterwideNetworkPolicy"),
            ],
        ),
        (
            "namespace-missing-default-deny-egress",
            &[
                ("apps", "Deployment"),
                ("", "Namespace"),
                ("networking.k8s.io", "NetworkPolicy"),
                ("projectcalico.org", "NetworkPolicy"),
            ],
        ),
        (
            "network-policy-selects-nothing",
            &[
                ("apps", "Deployment"),
                ("", "Pod"),
                ("networking.k8s.io", "NetworkPolicy"),
            ],
        ),
        (
            "human-bound-to-cluster-admin",
            &[
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
            ],
        ),
        (
            "rbac-wildcard-permissions",
            &[
                ("rbac.authorization.k8s.io", "Role"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
            ],
        ),
        (
            "service-account-risky-permissions",
            &[
                ("rbac.authorization.k8s.io", "RoleBinding"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
                ("", "ServiceAccount"),
            ],
        ),
        (
            "human-risky-permissions",
            &[
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
            ],
        ),
        (
            "unbound-role-risky-permissions",
            &[
                ("rbac.authorization.k8s.io", "RoleBinding"),
                ("rbac.authorization.k8s.io", "Role"),
            ],
        ),
        (
            "builtin-role-redefined",
            &[("rbac.authorization.k8s.io", "ClusterRole")],
        ),
        (
            "dashboard-cluster-admin",
            &[
                ("apps", "Deployment"),
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
            ],
        ),
        (
            "role-binding-to-missing-role",
            &[
                ("rbac.authorization.k8s.io", "RoleBinding"),
                ("rbac.authorization.k8s.io", "Role"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
            ],
        ),
        (
            "anonymous-or-unauthenticated-binding",
            &[
                ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
                ("rbac.authorization.k8s.io", "ClusterRole"),
            ],
        ),
        (
            "break-glass-account-count",
            &[("rbac.authorization.k8s.io", "ClusterRoleBinding")],
        ),
        // The pod's and the `default` ServiceAccount's automountServiceAccountToken, and the
        // ServiceAccount's grants.
        (
            "workload-uses-default-service-account",
            &[
                ("apps", "Deployment"),
                ("", "Pod"),
                ("batch", "CronJob"),
                ("", "ServiceAccount"),
                ("rbac.authorization.k8s.io", "RoleBinding"),
            ],
        ),
        (
            "image-signature-not-enforced",
            &[
                ("apps", "Deployment"),
                ("", "Pod"),
                ("kyverno.io", "ClusterPolicy"),
                ("policy.sigstore.dev", "ClusterImagePolicy"),
                (
                    "admissionregistration.k8s.io",
                    "ValidatingWebhookConfiguration",
                ),
            ],
        ),
        // Verifiers select namespaces by their labels.
        (
            "namespace-outside-image-verification",
            &[
                ("apps", "Deployment"),
                ("", "Namespace"),
                ("kyverno.io", "ClusterPolicy"),
                ("constraints.gatekeeper.sh", "RatifyVerification"),
            ],
        ),
        // Per-object rules a cluster audit feeds from a few kinds.
        ("secret-values-in-manifest", &[("", "Secret")]),
        ("secret-not-rotated", &[("", "Secret")]),
        ("legacy-service-account-token", &[("", "Secret")]),
        (
            "external-secret-not-refreshed",
            &[("external-secrets.io", "ExternalSecret")],
        ),
        // ConfigMap data, and the annotations of every object.
        (
            "credential-in-config-data",
            &[
                ("", "ConfigMap"),
                ("apps", "Deployment"),
                ("", "Secret"),
                ("networking.k8s.io", "NetworkPolicy"),
            ],
        ),
        (
            "apiserver-endpoint-public",
            &[("discovery.k8s.io", "EndpointSlice")],
        ),
        (
            "apiserver-anonymous-auth",
            &[("", "Pod"), ("apps", "Deployment")],
        ),
        (
            "control-plane-component-not-localhost",
            &[("", "Pod"), ("apps", "Deployment")],
        ),
        ("namespace-pss-not-restricted", &[("", "Namespace")]),
        (
            "workload-violates-namespace-pss",
            &[("", "Namespace"), ("apps", "Deployment")],
        ),
        (
            "container-privileged",
            &[
                ("", "Pod"),
                ("apps", "Deployment"),
                ("apps", "DaemonSet"),
                ("batch", "CronJob"),
                ("argoproj.io", "Rollout"),
            ],
        ),
    ];

    #[test]
    fn every_kind_a_rule_reads_takes_it_out_of_the_assessment_when_unreadable() {
        for (id, kinds) in READS {
            let rule = crate::rules::find(id).unwrap_or_else(|| panic!("no rule {id}"));
            for (group, kind) in *kinds {
                let fed = evidence_fed_by(group, kind);
                assert!(
                    rule.evidence.iter().any(|e| fed.contains(e)),
                    "{id} reads {group}/{kind}, which feeds {fed:?}, none of {:?}",
                    rule.evidence
                );
            }
        }
        for rule in crate::rules::all() {
            if matches!(rule.check, Check::Inventory(..)) {
                assert!(
                    READS.iter().any(|(id, _)| *id == rule.id),
                    "cross-object rule {} is missing from READS: say which kinds it reads",
                    rule.id
                );
            }
        }
        // The probe is not an object: it feeds its own evidence only.
        let (group, kind) = ANONYMOUS_PROBE;
        assert_eq!(evidence_fed_by(group, kind), [Evidence::AnonymousProbe]);
    }

    fn gap(group: &str, kind: &str, resource: &str, reason: &str) -> Unavailable {
        Unavailable {
            group: group.into(),
            kind: kind.into(),
            resource: resource.into(),
            namespace: None,
            reason: reason.into(),
            values_only: false,
        }
    }

    fn finished(text: &str, gaps: &[Unavailable]) -> Report {
        let inputs = [Input::Bytes {
            name: "x".into(),
            bytes: text.as_bytes().into(),
        }];
        let how = crate::finish::Finish {
            gaps,
            ..crate::finish::Finish::default()
        };
        crate::finish::finish(scan(&inputs, crate::rules::all()), &how).0
    }

    fn section(report: &Report, n: u8) -> &crate::report::SectionScore {
        report
            .scorecard
            .iter()
            .find(|s| s.section == crate::rules::Section::Rule(n))
            .unwrap()
    }

    /// A cluster whose ServiceAccounts could not be read (forbidden, or the list stopped
    /// before its end): the `default` ServiceAccount may well mount no token, so the rule that
    /// says it does is not assessed and its findings are withheld.
    #[test]
    fn unreadable_service_accounts_withdraw_the_default_service_account_rule() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n";
        let id = "workload-uses-default-service-account";
        let report = finished(text, &[]);
        assert!(report.findings.iter().any(|f| f.rule == id));
        let reason = "listing serviceaccounts in all namespaces stopped after 1 page (500 objects, not used: a partial list is not read): HTTP 500: etcd timeout";
        let gaps = [gap("", "ServiceAccount", "serviceaccounts", reason)];
        let report = finished(text, &gaps);
        assert!(!report.findings.iter().any(|f| f.rule == id));
        let s2 = section(&report, 2);
        assert!(!s2.assessed.contains(&id), "{s2:?}");
        assert!(s2.missing.contains(&format!("{id}: {reason}")), "{s2:?}");
        // Per-object findings on the Deployment that was read stay.
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == "container-capabilities-not-dropped")
        );
    }

    /// A hosted control plane runs kube-apiserver as a Deployment: a cluster audit that could
    /// read Pods but not Deployments has not seen its flags, so the API server's flag rules are
    /// not assessed (rather than passing on an API server they never saw).
    #[test]
    fn unreadable_deployments_withdraw_the_control_plane_flag_rules() {
        // The management cluster's own API server, read as its mirror Pod.
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver-cp1, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.33.1\n    command: [kube-apiserver, --anonymous-auth=false, --authorization-mode=Node,RBAC]\n";
        let before = finished(text, &[]);
        let s5 = section(&before, 5);
        assert!(s5.assessed.contains(&"apiserver-anonymous-auth"), "{s5:?}");
        let reason = "listing deployments.apps in all namespaces is forbidden (403): grant `list` on `deployments.apps`";
        let report = finished(
            text,
            &[gap("apps", "Deployment", "deployments.apps", reason)],
        );
        let s5 = section(&report, 5);
        let id = "apiserver-anonymous-auth";
        assert!(!s5.assessed.contains(&id), "{s5:?}");
        assert!(s5.missing.contains(&format!("{id}: {reason}")), "{s5:?}");
    }

    /// Forbidden Secrets: their values, ages and legacy tokens are not assessed (the values
    /// are not "read as metadata only": they were not read at all).
    #[test]
    fn forbidden_secrets_take_the_secret_rules_out_of_the_assessment() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {mode: fast}\n";
        let before = finished(text, &[]);
        assert!(
            section(&before, 14)
                .assessed
                .contains(&"secret-values-in-manifest")
        );
        let reason =
            "listing secrets in all namespaces is forbidden (403): grant `list` on `secrets`";
        let report = finished(text, &[gap("", "Secret", "secrets", reason)]);
        let s14 = section(&report, 14);
        for id in ["secret-values-in-manifest", "credential-in-config-data"] {
            assert!(!s14.assessed.contains(&id), "{id}: {s14:?}");
            assert!(s14.missing.contains(&format!("{id}: {reason}")), "{s14:?}");
        }
        let s15 = section(&report, 15);
        for id in ["legacy-service-account-token", "secret-not-rotated"] {
            assert!(!s15.assessed.contains(&id), "{id}: {s15:?}");
        }
    }
}
