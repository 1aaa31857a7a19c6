//! The result of a scan, which every report format renders: what was read, the findings, the
//! diagnostics and the scorecard of the 15 rules.

use crate::evidence::{Found, FoundSet};
use crate::finding::{Finding, Severity};
use crate::rules::{Evidence, Rule, Section};
use crate::source::{DiagLevel, Diagnostic};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Counts of what was read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InputSummary {
    pub inputs: usize,
    pub bytes: u64,
    pub objects: usize,
    pub pod_templates: usize,
    pub kinds: BTreeMap<String, usize>,
    /// Evidence found, by kind (control-plane components by binary name, `audit-policy`,
    /// `encryption-config`, `kubelet-config`, tools, `cluster-workloads`…).
    pub evidence: FoundSet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// No findings, but some of the section's checks lacked evidence.
    Partial,
    NotAssessed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Partial => "partial",
            Status::NotAssessed => "not assessed",
        }
    }
}

/// One line of the 15-rule scorecard.
#[derive(Clone, Debug, Serialize)]
pub struct SectionScore {
    #[serde(rename = "seed")]
    pub section: Section,
    pub title: &'static str,
    pub status: Status,
    pub findings: usize,
    /// Rules of this section that ran on sufficient evidence.
    pub assessed: Vec<&'static str>,
    /// What evidence was missing, and what would settle it.
    pub missing: Vec<String>,
    /// Rules whose self-managed control-plane evidence (flags, audit Policy,
    /// EncryptionConfiguration) a managed cluster's configuration settled (see
    /// [`settled_by_cloud`]): the provider runs that part.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub settled_by_cloud: Vec<String>,
}

/// The result of a scan: what every report format renders.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Version of this JSON document's shape.
    pub schema_version: u32,
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub summary: InputSummary,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    pub scorecard: Vec<SectionScore>,
    pub diagnostics: Vec<Diagnostic>,
    /// The suppressed findings, each with `suppressed_by` (listed with `--show-suppressed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed_findings: Vec<Finding>,
    /// The comparison with `--baseline`, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<kubeharden_model::baseline::Summary>,
    /// What the scorecard is derived from besides the findings and the evidence.
    #[serde(skip)]
    pub scope: Scope,
}

/// The rules of a scan: which were selected, which ran, and the evidence that a live source
/// could not read (fail closed: [`crate::gaps`]).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// The rules selected (built-in and the user's policies).
    pub selected: Vec<&'static Rule>,
    /// Ids of the selected rules whose check ran (phase 1, phase 2, or a front end for
    /// `External` rules such as the audit-log rules).
    pub ran: BTreeSet<&'static str>,
    /// Evidence that could not be read, with the reasons (a 403 on a kind in a cluster audit).
    pub unreadable: BTreeMap<Evidence, BTreeSet<String>>,
    /// The report has a scorecard (not for one object at admission).
    pub scorecard: bool,
}

impl Report {
    /// A report of this version with the findings, active and suppressed, in report order, and
    /// its scorecard when the scope asks for one.
    pub fn new(
        summary: InputSummary,
        mut findings: Vec<Finding>,
        mut suppressed_findings: Vec<Finding>,
        diagnostics: Vec<Diagnostic>,
        scope: Scope,
    ) -> Report {
        crate::finish::sort_findings(&mut findings);
        crate::finish::sort_findings(&mut suppressed_findings);
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            tool: "kubeharden",
            tool_version: env!("CARGO_PKG_VERSION"),
            summary,
            findings,
            suppressed: suppressed_findings.len(),
            scorecard: Vec::new(),
            diagnostics,
            suppressed_findings,
            baseline: None,
            scope,
        };
        if report.scope.scorecard {
            report.scorecard = scorecard(&report, crate::rules::all());
        }
        report
    }

    /// Findings of a severity that count (not those expected for a system component).
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity && f.expected.is_none())
            .count()
    }

    /// Findings expected for a system component: shown, not counted (see
    /// [`crate::analysis::system`]).
    pub fn expected(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.expected.is_some())
            .count()
    }
    pub fn has_input_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == DiagLevel::Error)
    }
}

pub const SCHEMA_VERSION: u32 = 1;

/// Does the input hold the evidence a rule needs?
pub fn satisfied(evidence: Evidence, summary: &InputSummary) -> bool {
    let found = &summary.evidence;
    let has_kind = |kind: &str| summary.kinds.get(kind).is_some_and(|&n| n > 0);
    let whole = found.has(Found::ClusterWorkloads);
    match evidence {
        Evidence::Manifests => summary.objects > 0,
        Evidence::PodTemplates => summary.pod_templates > 0,
        Evidence::Namespaces => has_kind("Namespace"),
        Evidence::Services => has_kind("Service"),
        Evidence::WorkloadsAndPolicies => summary.pod_templates > 0,
        Evidence::NetworkPolicies => found.has(Found::NetworkPolicies),
        Evidence::ApiServerFlags => found.has(Found::KubeApiserver),
        Evidence::ControlPlaneFlags => [
            Found::KubeApiserver,
            Found::KubeControllerManager,
            Found::KubeScheduler,
            Found::Etcd,
            Found::KubeletConfig,
        ]
        .into_iter()
        .any(|f| found.has(f)),
        Evidence::ControllerManagerOrSchedulerFlags => {
            found.has(Found::KubeControllerManager) || found.has(Found::KubeScheduler)
        }
        Evidence::AuditPolicy => found.has(Found::AuditPolicy),
        Evidence::EncryptionConfig => found.has(Found::EncryptionConfig),
        Evidence::KubeletConfig => found.has(Found::KubeletConfig) || found.has(Found::Kubelet),
        Evidence::NodeFiles => found.has(Found::NodeFiles),
        Evidence::AuditLog => found.has(Found::AuditLog),
        Evidence::RbacUsage => found.has(Found::RbacUsage),
        Evidence::AdmissionControl => found.has(Found::AdmissionControl),
        Evidence::ServiceAccounts => summary.pod_templates > 0,
        Evidence::Rbac => ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]
            .iter()
            .any(|k| has_kind(k)),
        Evidence::ClusterWorkloads => whole,
        Evidence::RuntimeDetector => whole || found.has(Found::RuntimeDetector),
        Evidence::MetricsCollector => whole || found.has(Found::Metrics),
        Evidence::Dashboards => whole || found.has(Found::Dashboards),
        Evidence::CisBenchmarkJob => whole || found.has(Found::CisBenchmark),
        Evidence::ImageScanner => whole || found.has(Found::ImageScanner),
        Evidence::SecretsManager => whole || found.has(Found::SecretsManager),
        Evidence::ApiEndpoint => found.has(Found::ApiEndpoint),
        Evidence::AnonymousProbe => found.has(Found::AnonymousProbe),
        Evidence::SecretAges => found.has(Found::SecretAge),
        // The values are in whatever objects were read, unless a live source said it did not
        // read them (a gap, see `crate::gaps`).
        Evidence::SecretValues => summary.objects > 0,
        Evidence::CloudEndpoint => found.has(Found::CloudEndpoint),
        Evidence::CloudAuditLogs => {
            found.has(Found::CloudAuditLogs) && !found.has(Found::CloudAuditLogsUnresolved)
        }
        Evidence::CloudEncryption => found.has(Found::CloudEncryption),
        Evidence::CloudAuthentication => found.has(Found::CloudAuthentication),
        Evidence::CloudIdentities => found.has(Found::CloudIdentities),
        Evidence::ServiceMesh => whole || found.has(Found::ServiceMesh),
        Evidence::CloudWorkloadIdentity => found.has(Found::CloudWorkloadIdentity),
    }
}

/// Does a rule needing this evidence apply to the input? The managed-cluster rules apply only
/// to an input holding a managed cluster's configuration (the EKS identity rule: an EKS cluster,
/// `aws-auth` or access entries), the mesh rule only where a mesh's policy is found (a mesh is
/// optional: its absence is no gap); every other rule always applies.
pub fn applies(evidence: Evidence, found: &FoundSet) -> bool {
    match evidence {
        Evidence::CloudIdentities => found.has(Found::EksCluster),
        Evidence::ServiceMesh => found.has(Found::ServiceMesh),
        // Read from eksctl only: other inputs (Terraform, the CLI's JSON) do not say.
        Evidence::CloudWorkloadIdentity => found.has(Found::CloudWorkloadIdentity),
        e if e.is_managed_cluster() => found.has(Found::ManagedCluster),
        _ => true,
    }
}

/// On a managed cluster the provider runs the control plane: the evidence a self-managed one
/// would give (its components' flags, its audit Policy, its EncryptionConfiguration, its endpoint)
/// does not exist for the user, and the managed cluster's configuration answers the section's
/// question instead. Returns the cloud evidence that settles `evidence` for a rule of `section`,
/// when the input has it and no kube-apiserver flags of its own.
pub fn settled_by_cloud(section: Section, evidence: Evidence, found: &FoundSet) -> Option<Found> {
    if found.has(Found::KubeApiserver) {
        return None;
    }
    let control_plane = matches!(
        evidence,
        Evidence::ApiServerFlags
            | Evidence::ControllerManagerOrSchedulerFlags
            | Evidence::ApiEndpoint
            | Evidence::AuditPolicy
            | Evidence::EncryptionConfig
    );
    let cloud = match section {
        Section::Rule(1) => Found::CloudEndpoint,
        Section::Rule(4) => Found::CloudAuditLogs,
        Section::Rule(5) => Found::CloudAuthentication,
        Section::Rule(14) => Found::CloudEncryption,
        _ => return None,
    };
    let unresolved = cloud == Found::CloudAuditLogs && found.has(Found::CloudAuditLogsUnresolved);
    (control_plane && found.has(cloud) && !unresolved).then_some(cloud)
}

/// What no built-in rule of a section checks yet: said plainly rather than passed silently. A
/// section with such gaps is at best `partial`.
fn unchecked(section: Section) -> Option<&'static str> {
    Some(match section {
        Section::Rule(13) => {
            "not visible in manifests: whether images are scanned for vulnerabilities in CI (check the pipeline)"
        }
        _ => return None,
    })
}

/// The scorecard: per section, a function of the rules of the section, those selected, those
/// that ran, and the evidence present.
///
/// - `fail` when the section has active findings;
/// - `pass` only when every rule of the section was selected, ran, and had the evidence its
///   question needs, and nothing of the section is left unchecked;
/// - `partial` when some did (and found nothing) but not all: the others are named in `missing`
///   (rules deselected, evidence missing or unreadable);
/// - `not assessed` when none did.
pub fn scorecard(report: &Report, registry: &[&'static Rule]) -> Vec<SectionScore> {
    let scope = &report.scope;
    let custom = scope.selected.iter().any(|r| r.section == Section::Custom);
    Section::all()
        .chain(custom.then_some(Section::Custom))
        .map(|section| {
            let findings = report
                .findings
                .iter()
                .filter(|f| f.section == section && f.expected.is_none())
                .count();
            // The user's policies are the rules they selected; built-in sections are judged
            // against every rule of this version.
            let all: Vec<&Rule> = if section == Section::Custom {
                scope
                    .selected
                    .iter()
                    .copied()
                    .filter(|r| r.section == section)
                    .collect()
            } else {
                registry
                    .iter()
                    .copied()
                    .filter(|r| r.section == section)
                    .collect()
            };
            let mut assessed = Vec::new();
            let mut missing: BTreeSet<String> = BTreeSet::new();
            let mut deselected = Vec::new();
            let mut settled = Vec::new();
            for rule in &all {
                if !scope.selected.iter().any(|r| r.id == rule.id) {
                    deselected.push(rule.id);
                    continue;
                }
                if !scope.ran.contains(rule.id) {
                    // An `External` rule whose evidence (the audit log) was not read.
                    missing.extend(rule.evidence.iter().map(|e| e.missing().to_owned()));
                    continue;
                }
                // A rule about managed clusters does not apply to an input without one.
                if !rule
                    .evidence
                    .iter()
                    .all(|e| applies(*e, &report.summary.evidence))
                {
                    continue;
                }
                let mut ok = true;
                for e in rule.evidence {
                    if let Some(reasons) = scope.unreadable.get(e) {
                        ok = false;
                        missing.extend(reasons.iter().map(|r| format!("{}: {r}", rule.id)));
                    } else if satisfied(*e, &report.summary) {
                    } else if let Some(cloud) =
                        settled_by_cloud(section, *e, &report.summary.evidence)
                    {
                        settled.push(format!(
                            "{}: the provider runs the control plane; settled by the managed cluster's configuration ({})",
                            rule.id,
                            cloud.as_str()
                        ));
                    } else {
                        ok = false;
                        missing.insert(e.missing().to_owned());
                    }
                }
                if ok {
                    assessed.push(rule.id);
                }
            }
            if !deselected.is_empty() {
                missing.insert(format!("rules deselected: {}", deselected.join(", ")));
            }
            missing.extend(unchecked(section).map(str::to_owned));
            if all.is_empty() {
                missing.insert(format!("no rule of this version covers section {section}"));
            }
            let status = if findings > 0 {
                Status::Fail
            } else if assessed.is_empty() {
                Status::NotAssessed
            } else if missing.is_empty() {
                Status::Pass
            } else {
                Status::Partial
            };
            SectionScore {
                section,
                title: section.title(),
                status,
                findings,
                assessed,
                missing: missing.into_iter().collect(),
                settled_by_cloud: settled,
            }
        })
        .collect()
}
