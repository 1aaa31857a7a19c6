//! Rules: one small file each, grouped by the sections of the 15 hardening rules.
//! `access/` (rules 1-5), `pods/` (6-10), `network/` (11-12), `supply_chain/` (13-15), `runtime/`.

use crate::finding::{Emitter, Severity};
use crate::inventory::{Object, PodTemplate};
use crate::scan::{Context, Facts};
use serde::{Serialize, Serializer};
use std::fmt;

pub mod access;
pub mod audit_log;
pub mod control_plane;
pub mod network;
pub mod pods;
pub mod runtime;
pub mod supply_chain;

/// The seed rule (1-15 of the mission) a check belongs to, the runtime-monitoring section, or
/// the user's own policies (Gatekeeper constraints, ValidatingAdmissionPolicies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seed {
    Rule(u8),
    Runtime,
    Custom,
}

impl Seed {
    /// Every built-in section of the scorecard, in order (`Custom` is added when custom policies
    /// ran).
    pub fn all() -> impl Iterator<Item = Seed> {
        (1..=15)
            .map(Seed::Rule)
            .chain(std::iter::once(Seed::Runtime))
    }

    pub fn title(self) -> &'static str {
        match self {
            Seed::Rule(1) => "API server reachable only privately",
            Seed::Rule(2) => "RBAC least privilege for service accounts",
            Seed::Rule(3) => "No cluster-admin for humans; one break-glass account",
            Seed::Rule(4) => "Audit logging of sensitive operations, shipped off-cluster",
            Seed::Rule(5) => "Anonymous and unauthenticated access disabled",
            Seed::Rule(6) => "Pod Security Standards `restricted` enforced by namespace labels",
            Seed::Rule(7) => "Pods never run as root",
            Seed::Rule(8) => "All capabilities dropped",
            Seed::Rule(9) => "No privileged, hostNetwork, hostPID, hostIPC",
            Seed::Rule(10) => "Read-only root filesystem",
            Seed::Rule(11) => "Default-deny NetworkPolicy in every namespace",
            Seed::Rule(12) => "Egress limited to approved endpoints",
            Seed::Rule(13) => "Only signed, scanned images",
            Seed::Rule(14) => "Secrets encrypted at rest and never in git",
            Seed::Rule(15) => "Secrets rotated; short-lived tokens",
            Seed::Rule(_) => "unknown",
            Seed::Runtime => "Runtime detection and monitoring (Falco, Prometheus, CIS)",
            Seed::Custom => "Custom policies (Gatekeeper, ValidatingAdmissionPolicy)",
        }
    }
}

impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seed::Rule(n) => write!(f, "{n}"),
            Seed::Runtime => f.write_str("runtime"),
            Seed::Custom => f.write_str("custom"),
        }
    }
}

impl Serialize for Seed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Seed::Rule(n) => s.serialize_u8(*n),
            Seed::Runtime => s.serialize_str("runtime"),
            Seed::Custom => s.serialize_str("custom"),
        }
    }
}

/// The evidence a rule needs; when absent from the input, the rule is "not assessed".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Any Kubernetes object (rules about what manifests contain).
    Manifests,
    /// Pods or workloads with a pod template.
    PodTemplates,
    /// Namespace objects (their labels).
    Namespaces,
    /// NetworkPolicy objects (or CNI policy CRDs) and the namespaces with workloads.
    NetworkPolicies,
    /// Roles, ClusterRoles and their bindings.
    Rbac,
    /// kube-apiserver flags (static Pod, kubeadm ClusterConfiguration, command line).
    ApiServerFlags,
    /// Flags of any control-plane component.
    ControlPlaneFlags,
    /// An audit `Policy` (audit.k8s.io).
    AuditPolicy,
    /// An `EncryptionConfiguration`.
    EncryptionConfig,
    /// A `KubeletConfiguration` or the kubelet's command line.
    KubeletConfig,
    /// Ownership and permissions of a node's files (`kubeharden node`).
    NodeFiles,
    /// The API server's audit log (`kubeharden audit-log analyze`).
    AuditLog,
    /// The cluster's admission control: webhook configurations, Kyverno/Gatekeeper/policy-controller
    /// policies, the API server's AdmissionConfiguration.
    AdmissionControl,
    /// A whole cluster's workloads (kube-system among them): `kubeharden cluster` or a
    /// `kubectl get -A` dump. Absence checks (runtime detection, monitoring) need it.
    ClusterWorkloads,
    /// The API server's endpoint as clients reach it (`kubeharden cluster`: the kubeconfig's
    /// server and the `kubernetes` EndpointSlice).
    ApiEndpoint,
    /// An unauthenticated request to the API server (`kubeharden cluster --probe-anonymous`).
    AnonymousProbe,
    /// Secrets with their creation time (from the cluster or a dump), for their age.
    SecretAges,
}

impl Evidence {
    /// What the input lacked, and what would settle it.
    pub fn missing(self) -> &'static str {
        match self {
            Evidence::Manifests => "no Kubernetes objects in the input",
            Evidence::PodTemplates => {
                "no Pods or workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob…) in the input; scan the workload manifests or the cluster"
            }
            Evidence::Namespaces => {
                "no Namespace objects in the input, so their Pod Security labels are unknown; scan the Namespace manifests or run `kubeharden cluster`"
            }
            Evidence::NetworkPolicies => {
                "no workloads in the input, so namespace isolation cannot be judged; scan the workloads together with their NetworkPolicies, or the cluster"
            }
            Evidence::ApiServerFlags => {
                "no kube-apiserver flags in the input (static Pod, kubeadm ClusterConfiguration); run `kubeharden node` on a control-plane node or scan /etc/kubernetes/manifests"
            }
            Evidence::ControlPlaneFlags => {
                "no control-plane component flags or KubeletConfiguration in the input; scan /etc/kubernetes/manifests and /var/lib/kubelet/config.yaml"
            }
            Evidence::AuditPolicy => {
                "no audit Policy (audit.k8s.io) in the input; scan the file named by --audit-policy-file"
            }
            Evidence::EncryptionConfig => {
                "no EncryptionConfiguration in the input; scan the file named by --encryption-provider-config"
            }
            Evidence::KubeletConfig => {
                "no KubeletConfiguration or kubelet command line in the input; run `kubeharden node` on a node or scan /var/lib/kubelet/config.yaml"
            }
            Evidence::AdmissionControl => {
                "no admission control objects (webhook configurations, Kyverno, Gatekeeper or policy-controller policies, AdmissionConfiguration) in the input, so image signature enforcement is unknown; run `kubeharden cluster` or scan the platform manifests"
            }
            Evidence::AuditLog => {
                "no audit log analysed; run `kubeharden audit-log analyze` on the API server's audit log"
            }
            Evidence::NodeFiles => {
                "file ownership and permissions are only visible on the node: run `kubeharden node` there (or `--root` on a copy)"
            }
            Evidence::Rbac => {
                "no Roles, ClusterRoles or bindings in the input; scan the RBAC manifests or run `kubeharden cluster`"
            }
            Evidence::ClusterWorkloads => {
                "no whole cluster in the input (no kube-system workloads), so the absence of runtime detection and monitoring cannot be judged; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::ApiEndpoint => {
                "the API server's endpoint is only known from a live cluster: run `kubeharden cluster` (kubeconfig server, `kubernetes` EndpointSlice)"
            }
            Evidence::AnonymousProbe => {
                "unauthenticated access to the API server was not probed: run `kubeharden cluster --probe-anonymous`"
            }
            Evidence::SecretAges => {
                "no Secrets with a creation time in the input, so their age is unknown; run `kubeharden cluster` or scan `kubectl get secrets -A -o yaml` output"
            }
        }
    }
}

/// Equivalent checks elsewhere, so users can map and migrate.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct References {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub pss: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub cis: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub trivy: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub checkov: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub kube_linter: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub polaris: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub kubescape: &'static [&'static str],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub docs: &'static [&'static str],
}

impl References {
    /// Each tool or standard with its ids, comma-separated, in a fixed order; empty ones left out.
    pub fn named(&self) -> Vec<(&'static str, String)> {
        [
            ("Pod Security Standards", self.pss),
            ("CIS Kubernetes Benchmark", self.cis),
            ("Trivy", self.trivy),
            ("Checkov", self.checkov),
            ("kube-linter", self.kube_linter),
            ("Polaris", self.polaris),
            ("kubescape", self.kubescape),
            ("Docs", self.docs),
        ]
        .into_iter()
        .filter(|(_, ids)| !ids.is_empty())
        .map(|(n, ids)| (n, ids.join(", ")))
        .collect()
    }

    pub const NONE: References = References {
        pss: &[],
        cis: &[],
        trivy: &[],
        checkov: &[],
        kube_linter: &[],
        polaris: &[],
        kubescape: &[],
        docs: &[],
    };
}

/// What a rule looks at.
pub enum Check {
    /// Every object of the input.
    Object(fn(&Context, &Object, &mut Emitter)),
    /// Every pod template (Pods and workload kinds).
    PodTemplate(fn(&Context, &PodTemplate, &mut Emitter)),
    /// The inventory as a whole (cross-object rules), after all inputs are read.
    Inventory(fn(&Context, &Facts, &mut Emitter)),
    /// Findings come from evidence outside the object inventory (the audit log): the front end
    /// that reads it emits them (see `audit_log`); a scan of objects never runs it.
    External,
    /// A user's policy (Gatekeeper constraint, ValidatingAdmissionPolicy binding), run per object
    /// by the [`CustomPolicies`] of the scan's [`Context`].
    Custom,
}

/// Policies written by users, evaluated per object next to the built-in rules (see the
/// `kubeharden-policy` crate). The engine knows only this interface: each policy is a [`Rule`]
/// with [`Check::Custom`] (leaked once when the policies are loaded, so findings can name it
/// like any built-in rule), and its evaluation pushes findings through an [`Emitter`] of that
/// rule.
pub trait CustomPolicies: Send + Sync + fmt::Debug {
    /// Every rule of the set, one per policy.
    fn rules(&self) -> &[&'static Rule];
    /// Evaluates the policies whose rule is in `selected` against one object. Returns the
    /// emitters that have findings (active or suppressed).
    fn check(&self, ctx: &Context, object: &Object, selected: &[&Rule]) -> Vec<Emitter<'static>>;
}

/// A rule: metadata a user reads with `kubeharden explain`, and its check.
#[derive(Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub seed: Seed,
    pub severity: Severity,
    pub summary: &'static str,
    pub rationale: &'static str,
    pub remedy: &'static str,
    pub references: References,
    pub evidence: &'static [Evidence],
    #[serde(skip)]
    pub check: Check,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("seed", &self.seed)
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

/// Every built-in rule, in seed order.
pub fn all() -> &'static [&'static Rule] {
    static ALL: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut rules: Vec<&'static Rule> = [
            access::RULES,
            audit_log::RULES,
            control_plane::RULES,
            pods::RULES,
            network::RULES,
            supply_chain::RULES,
            runtime::RULES,
        ]
        .into_iter()
        .flatten()
        .copied()
        .collect();
        rules.sort_by_key(|r| r.seed);
        rules
    })
}

/// Ids of the rules made from the user's policies (`gatekeeper/<kind>/<name>`,
/// `vap/<policy>/<binding>`): known only once the policies are read, so configs and flags accept
/// them (a trailing `*` names several).
pub fn is_custom_id(id: &str) -> bool {
    id.starts_with("gatekeeper/") || id.starts_with("vap/")
}

pub fn find(id: &str) -> Option<&'static Rule> {
    all().iter().copied().find(|r| r.id == id)
}
