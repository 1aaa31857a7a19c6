//! Rule metadata shared by every layer: the sections of the 15 hardening rules, severities, the
//! evidence a rule needs, and the equivalent checks of peers.

pub use crate::finding::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

/// The seed rule (1-15 of the mission) a check belongs to, the runtime-monitoring section, or
/// the user's own policies (Gatekeeper constraints, ValidatingAdmissionPolicies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Rule(u8),
    Runtime,
    Custom,
}

impl Section {
    /// Every built-in section of the scorecard, in order (`Custom` is added when custom policies
    /// ran).
    pub fn all() -> impl Iterator<Item = Section> {
        (1..=15)
            .map(Section::Rule)
            .chain(std::iter::once(Section::Runtime))
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Rule(1) => "API server reachable only privately",
            Section::Rule(2) => "RBAC least privilege for service accounts",
            Section::Rule(3) => "No cluster-admin for humans; one break-glass account",
            Section::Rule(4) => "Audit logging of sensitive operations, shipped off-cluster",
            Section::Rule(5) => "Anonymous and unauthenticated access disabled",
            Section::Rule(6) => "Pod Security Standards `restricted` enforced by namespace labels",
            Section::Rule(7) => "Pods never run as root",
            Section::Rule(8) => "All capabilities dropped",
            Section::Rule(9) => "No privileged, hostNetwork, hostPID, hostIPC",
            Section::Rule(10) => "Read-only root filesystem",
            Section::Rule(11) => "Default-deny NetworkPolicy in every namespace",
            Section::Rule(12) => "Egress limited to approved endpoints",
            Section::Rule(13) => "Only signed, scanned images",
            Section::Rule(14) => "Secrets encrypted at rest and never in git",
            Section::Rule(15) => "Secrets rotated; short-lived tokens",
            Section::Rule(_) => "unknown",
            Section::Runtime => "Runtime detection and monitoring (Falco, Prometheus, CIS)",
            Section::Custom => "Custom policies (Gatekeeper, ValidatingAdmissionPolicy)",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Section::Rule(n) => write!(f, "{n}"),
            Section::Runtime => f.write_str("runtime"),
            Section::Custom => f.write_str("custom"),
        }
    }
}

impl Serialize for Section {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Section::Rule(n) => s.serialize_u8(*n),
            Section::Runtime => s.serialize_str("runtime"),
            Section::Custom => s.serialize_str("custom"),
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
    /// Service objects (what a cluster exposes on its nodes and load balancers).
    Services,
    /// Workloads, with the NetworkPolicies of their namespaces: a scan takes its input to hold
    /// the policies of the namespaces its workloads are in (a cluster audit that cannot read
    /// NetworkPolicies makes this unreadable).
    WorkloadsAndPolicies,
    /// NetworkPolicy objects or CNI policies (Cilium, Calico, AdminNetworkPolicy) in the input:
    /// what an egress allowlist is judged from.
    NetworkPolicies,
    /// Roles, ClusterRoles and their bindings.
    Rbac,
    /// The ServiceAccounts workloads run as and what they are granted: a scan of manifests takes
    /// the `default` ServiceAccount to exist as Kubernetes creates it (token mounted, nothing
    /// granted) unless the input declares it; a cluster audit that cannot read ServiceAccounts or
    /// RBAC makes this unreadable.
    ServiceAccounts,
    /// kube-apiserver flags (static Pod, kubeadm ClusterConfiguration, command line).
    ApiServerFlags,
    /// Flags of any control-plane component.
    ControlPlaneFlags,
    /// kube-controller-manager or kube-scheduler flags.
    ControllerManagerOrSchedulerFlags,
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
    /// One subject's requests in the audit log, with the RBAC objects that grant its permissions
    /// (`kubeharden rbac suggest`).
    RbacUsage,
    /// The cluster's admission control: webhook configurations, Kyverno/Gatekeeper/policy-controller
    /// policies, the API server's AdmissionConfiguration.
    AdmissionControl,
    /// A whole cluster's workloads (kube-system among them): `kubeharden cluster` or a
    /// `kubectl get -A` dump. Absence checks (runtime detection, monitoring) need it.
    ClusterWorkloads,
    /// A runtime threat detector (Falco…) in the input, or a whole cluster to show there is none.
    RuntimeDetector,
    /// A metrics collector (Prometheus…) in the input, or a whole cluster.
    MetricsCollector,
    /// Dashboards (Grafana) in the input, or a whole cluster.
    Dashboards,
    /// A CIS benchmark job (kube-bench) in the input, or a whole cluster.
    CisBenchmarkJob,
    /// An in-cluster image scanner (Trivy operator…) in the input, or a whole cluster.
    ImageScanner,
    /// A secrets manager (Vault, External Secrets…) in the input, or a whole cluster.
    SecretsManager,
    /// The API server's endpoint as clients reach it (`kubeharden cluster`: the kubeconfig's
    /// server and the `kubernetes` EndpointSlice).
    ApiEndpoint,
    /// An unauthenticated request to the API server (`kubeharden cluster --probe-anonymous`).
    AnonymousProbe,
    /// Secrets with their creation time (from the cluster or a dump), for their age.
    SecretAges,
    /// The values of the Secrets in the input (manifests and dumps have them; a cluster audit
    /// reads Secrets as metadata only, by design).
    SecretValues,
    /// A managed cluster's API endpoint settings (eksctl `ClusterConfig`, Terraform, the cloud
    /// CLI's JSON), with values that resolve offline.
    CloudEndpoint,
    /// A managed cluster's control-plane log export settings.
    CloudAuditLogs,
    /// A managed cluster's envelope encryption settings.
    CloudEncryption,
    /// A managed cluster's local accounts, legacy ABAC, basic auth and client certificates.
    CloudAuthentication,
    /// EKS identities outside RBAC: the `aws-auth` ConfigMap or EKS access entries.
    CloudIdentities,
    /// Service-mesh mTLS settings (Istio PeerAuthentication, Linkerd policy), or a whole cluster.
    ServiceMesh,
    /// How an EKS cluster's pods get AWS credentials (eksctl `iam.withOIDC`,
    /// `iam.podIdentityAssociations`, the `eks-pod-identity-agent` addon).
    CloudWorkloadIdentity,
}

impl Evidence {
    /// Evidence only a managed cluster (EKS, GKE, AKS) has: a rule needing it does not apply to
    /// an input that holds no managed cluster's configuration or identities.
    pub fn is_managed_cluster(self) -> bool {
        matches!(
            self,
            Evidence::CloudEndpoint
                | Evidence::CloudAuditLogs
                | Evidence::CloudEncryption
                | Evidence::CloudAuthentication
                | Evidence::CloudIdentities
        )
    }

    /// What the input lacked, and what would settle it.
    pub fn missing(self) -> &'static str {
        match self {
            Evidence::Manifests => "no Kubernetes objects in the input",
            Evidence::PodTemplates => {
                "no Pods or workloads (Deployment, StatefulSet, DaemonSet, Job, CronJob…) in the input; scan the workload manifests or the cluster"
            }
            Evidence::Services => {
                "no Service objects in the input, so what the cluster exposes on node ports and load balancers is unknown; scan the Service manifests or run `kubeharden cluster`"
            }
            Evidence::Namespaces => {
                "no Namespace objects in the input, so their Pod Security labels are unknown; scan the Namespace manifests or run `kubeharden cluster`"
            }
            Evidence::WorkloadsAndPolicies => {
                "no workloads in the input, so namespace isolation cannot be judged; scan the workloads together with their NetworkPolicies, or the cluster"
            }
            Evidence::NetworkPolicies => {
                "no NetworkPolicy or CNI policy in the input, so what egress is allowed cannot be judged (where no policy selects a pod, its egress is not limited at all: see rule 11); scan the NetworkPolicies with the workloads, or the cluster"
            }
            Evidence::ApiServerFlags => {
                "no kube-apiserver flags in the input (static Pod, kubeadm ClusterConfiguration); run `kubeharden node` on a control-plane node or scan /etc/kubernetes/manifests"
            }
            Evidence::ControllerManagerOrSchedulerFlags => {
                "no kube-controller-manager or kube-scheduler flags in the input; scan their static Pods in /etc/kubernetes/manifests or run `kubeharden node` on a control-plane node"
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
            Evidence::RbacUsage => {
                "no subject's use of its permissions was measured; run `kubeharden rbac suggest SUBJECT --audit-log … RBAC_FILES`"
            }
            Evidence::NodeFiles => {
                "file ownership and permissions are only visible on the node: run `kubeharden node` there (or `--root` on a copy)"
            }
            Evidence::ServiceAccounts => {
                "no workloads in the input, so the ServiceAccounts they run as cannot be judged; scan the workloads with their ServiceAccounts and RBAC, or the cluster"
            }
            Evidence::Rbac => {
                "no Roles, ClusterRoles or bindings in the input; scan the RBAC manifests or run `kubeharden cluster`"
            }
            Evidence::ClusterWorkloads => {
                "no whole cluster in the input (a cluster audit, a `kubectl get -A` List, or kube-system's own workloads such as CoreDNS and kube-proxy), so the absence of runtime detection and monitoring cannot be judged; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::RuntimeDetector => {
                "no runtime threat detector (Falco, Tetragon, Tracee…) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::MetricsCollector => {
                "no metrics collector (Prometheus, VictoriaMetrics, Grafana Agent) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::Dashboards => {
                "no dashboards (Grafana) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::CisBenchmarkJob => {
                "no CIS benchmark job (kube-bench) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::ImageScanner => {
                "no in-cluster image scanner (Trivy operator, kubevuln) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::SecretsManager => {
                "no secrets manager (Vault, External Secrets) in the input and no whole cluster to show there is none; run `kubeharden cluster` or scan `kubectl get -A -o yaml` output"
            }
            Evidence::ApiEndpoint => {
                "the API server's endpoint is only known from a live cluster: run `kubeharden cluster` (kubeconfig server, `kubernetes` EndpointSlice)"
            }
            Evidence::AnonymousProbe => {
                "unauthenticated access to the API server was not probed: run `kubeharden cluster --probe-anonymous`"
            }
            Evidence::CloudEndpoint => {
                "the managed cluster's API endpoint settings could not be read: a value is a Terraform expression that cannot be resolved offline (write it as a literal, or scan `aws eks describe-cluster`, `gcloud container clusters describe --format=json` or `az aks show` output)"
            }
            Evidence::CloudAuditLogs => {
                "the managed cluster's audit-log export could not be read: a Terraform expression that cannot be resolved offline (for AKS, an `azurerm_monitor_diagnostic_setting` whose `target_resource_id` or category is not a literal or `azurerm_kubernetes_cluster.NAME.id`), or `az aks show` output, which holds no diagnostic settings (scan the Terraform of the cluster's `azurerm_monitor_diagnostic_setting` with it)"
            }
            Evidence::CloudEncryption => {
                "the managed cluster's envelope encryption settings could not be read: a value is a Terraform expression that cannot be resolved offline"
            }
            Evidence::CloudAuthentication => {
                "the managed cluster's local accounts / legacy ABAC / basic auth settings could not be read: a value is a Terraform expression that cannot be resolved offline"
            }
            Evidence::CloudIdentities => {
                "no `aws-auth` ConfigMap or EKS access entries in the input; scan them (`kubectl get configmap aws-auth -n kube-system -o yaml`) with the cluster's Terraform or eksctl file"
            }
            Evidence::CloudWorkloadIdentity => {
                "no eksctl ClusterConfig in the input, so how the EKS cluster's pods get AWS credentials (IRSA's OIDC provider, EKS Pod Identity) is unknown"
            }
            Evidence::ServiceMesh => {
                "no service-mesh policy (Istio PeerAuthentication, Linkerd Server/AuthorizationPolicy) in the input and no whole cluster; scan the mesh's policies or run `kubeharden cluster`"
            }
            Evidence::SecretValues => {
                "Secret values are not read by a cluster audit (metadata only), so values committed to manifests cannot be judged; run `kubeharden scan` on the manifests in git"
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
    /// kube-score check names (kube-score has no ids of its own).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub kube_score: &'static [&'static str],
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
            ("kube-score", self.kube_score),
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
        kube_score: &[],
        docs: &[],
    };
}

/// Whether applying a rule's fix can change how a workload behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixKind {
    /// Sets an unset field to its secure value: applied by default.
    Safe,
    /// Overrides or removes what the author wrote, or may stop the workload: `--unsafe-fixes`.
    Unsafe,
    /// Nothing to edit: the missing object is generated (`fix --generate-missing DIR`).
    Generated,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::Safe => "safe",
            FixKind::Unsafe => "unsafe",
            FixKind::Generated => "generated",
        }
    }
}
