//! Typed evidence: what the input shows ([`Found`], recorded per object in phase 1 and by the
//! front ends) and whether it answers the question a rule asks ([`Evidence`], declared by each
//! rule, and answered by [`crate::report::satisfied`]). The scorecard is a function of the rules
//! selected, the rules that ran and this evidence (see [`crate::report::scorecard`]); nothing is
//! keyed by strings, so a typo is a compile error rather than a rule silently "not assessed".

use crate::analysis::{cloud, control_plane, image_verification, kubelet, mesh, runtime};
use crate::inventory::{Object, PodTemplate};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Evidence found in the input. Serialized in `summary.evidence` under the kebab-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Found {
    /// Flags of a control-plane component (static Pod, kubeadm config, command line).
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Etcd,
    Kubelet,
    /// kube-proxy's flags (a DaemonSet, static Pod or unit), or its `KubeProxyConfiguration`.
    KubeProxy,
    /// An audit `Policy` (audit.k8s.io).
    AuditPolicy,
    /// An `EncryptionConfiguration`.
    EncryptionConfig,
    /// A `KubeletConfiguration`.
    KubeletConfig,
    /// Admission control objects (webhook configurations, Kyverno, Gatekeeper…).
    AdmissionControl,
    /// NetworkPolicies or CNI policies.
    NetworkPolicies,
    /// Security tooling by what it does (see [`runtime::Component`]).
    RuntimeDetector,
    Metrics,
    Dashboards,
    CisBenchmark,
    ImageScanner,
    SecretsManager,
    /// A whole cluster: a cluster audit, a `kubectl get -A` List, or kube-system's own workloads.
    ClusterWorkloads,
    /// The API server's endpoint as clients reach it (cluster audit).
    ApiEndpoint,
    /// The unauthenticated probe of the API server (cluster audit).
    AnonymousProbe,
    /// Secrets with a creation time.
    SecretAge,
    /// Ownership and permissions of a node's files (`kubeharden node`).
    NodeFiles,
    /// Events of the API server's audit log (`kubeharden audit-log analyze`).
    AuditLog,
    /// Requests of one subject tracked in the audit log, with its RBAC (`rbac suggest`).
    RbacUsage,
    /// A managed cluster's configuration (eksctl, Terraform, cloud CLI JSON; see
    /// [`crate::analysis::cloud`]), and each question it settles with values that resolve
    /// offline.
    ManagedCluster,
    /// An EKS cluster's configuration, an `aws-auth` ConfigMap or EKS access entries.
    EksCluster,
    CloudEndpoint,
    CloudAuditLogs,
    /// An AKS diagnostic setting whose target or categories cannot be resolved offline.
    CloudAuditLogsUnresolved,
    CloudEncryption,
    CloudAuthentication,
    CloudIdentities,
    /// Service-mesh mTLS policy (see [`crate::analysis::mesh`]).
    ServiceMesh,
    /// An eksctl ClusterConfig: how the cluster's pods get AWS credentials.
    CloudWorkloadIdentity,
}

impl Found {
    pub fn as_str(self) -> &'static str {
        match self {
            Found::KubeApiserver => "kube-apiserver",
            Found::KubeControllerManager => "kube-controller-manager",
            Found::KubeScheduler => "kube-scheduler",
            Found::Etcd => "etcd",
            Found::Kubelet => "kubelet",
            Found::KubeProxy => "kube-proxy",
            Found::AuditPolicy => "audit-policy",
            Found::EncryptionConfig => "encryption-config",
            Found::KubeletConfig => "kubelet-config",
            Found::AdmissionControl => "admission-control",
            Found::NetworkPolicies => "network-policies",
            Found::RuntimeDetector => "runtime-detector",
            Found::Metrics => "metrics",
            Found::Dashboards => "dashboards",
            Found::CisBenchmark => "cis-benchmark",
            Found::ImageScanner => "image-scanner",
            Found::SecretsManager => "secrets-manager",
            Found::ClusterWorkloads => "cluster-workloads",
            Found::ApiEndpoint => "api-endpoint",
            Found::AnonymousProbe => "anonymous-probe",
            Found::SecretAge => "secret-age",
            Found::NodeFiles => "node-files",
            Found::AuditLog => "audit-log",
            Found::RbacUsage => "rbac-usage",
            Found::ManagedCluster => "managed-cluster",
            Found::EksCluster => "eks-cluster",
            Found::CloudEndpoint => "cloud-endpoint",
            Found::CloudAuditLogs => "cloud-audit-logs",
            Found::CloudAuditLogsUnresolved => "cloud-audit-logs-unresolved",
            Found::CloudEncryption => "cloud-encryption",
            Found::CloudAuthentication => "cloud-authentication",
            Found::CloudIdentities => "cloud-identities",
            Found::ServiceMesh => "service-mesh",
            Found::CloudWorkloadIdentity => "cloud-workload-identity",
        }
    }

    fn of_component(c: control_plane::Component) -> Found {
        use control_plane::Component as C;
        match c {
            C::ApiServer => Found::KubeApiserver,
            C::ControllerManager => Found::KubeControllerManager,
            C::Scheduler => Found::KubeScheduler,
            C::Etcd => Found::Etcd,
            C::Kubelet => Found::Kubelet,
            C::Proxy => Found::KubeProxy,
        }
    }

    fn of_tool(c: runtime::Component) -> Found {
        use runtime::Component as C;
        match c {
            C::RuntimeDetector => Found::RuntimeDetector,
            C::Metrics => Found::Metrics,
            C::Dashboards => Found::Dashboards,
            C::CisBenchmark => Found::CisBenchmark,
            C::ImageScanner => Found::ImageScanner,
            C::SecretsManager => Found::SecretsManager,
        }
    }
}

/// How much of each kind of evidence the input holds (objects, events, files).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundSet(BTreeMap<Found, usize>);

impl FoundSet {
    pub fn add(&mut self, found: Found, n: usize) {
        *self.0.entry(found).or_default() += n;
    }
    pub fn has(&self, found: Found) -> bool {
        self.0.get(&found).is_some_and(|&n| n > 0)
    }
    pub fn get(&self, found: Found) -> usize {
        self.0.get(&found).copied().unwrap_or(0)
    }
    pub fn extend(&mut self, other: FoundSet) {
        for (k, n) in other.0 {
            self.add(k, n);
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = (Found, usize)> + '_ {
        self.0.iter().map(|(k, n)| (*k, *n))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for FoundSet {
    /// By name, in name order (the order of schema version 1).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let by_name: BTreeMap<&str, usize> = self.0.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        by_name.serialize(s)
    }
}

/// What phase 1 learns from one object, each analysis run once: the evidence it provides, and
/// whether the cross-object rules (`cross_object`: admission and security-tool objects, Nodes)
/// or the control-plane rules (`control_plane`: component flags, KubeletConfigurations) read it
/// after phase 1.
pub struct Examined {
    pub found: Vec<Found>,
    pub cross_object: bool,
    pub control_plane: bool,
}

/// The evidence one object provides and what it is kept for (see [`Examined`]).
pub fn examine(o: &Object) -> Examined {
    let flags = control_plane::component_flags(o);
    let tools = runtime::components(o);
    let admission = image_verification::is_admission_evidence(o);
    let mut out: Vec<Found> = flags
        .iter()
        .map(|f| Found::of_component(f.component))
        .collect();
    match (o.kind.as_str(), o.group()) {
        ("Policy", "audit.k8s.io") => out.push(Found::AuditPolicy),
        ("EncryptionConfiguration", "apiserver.config.k8s.io") => out.push(Found::EncryptionConfig),
        ("KubeletConfiguration", "kubelet.config.k8s.io") => out.push(Found::KubeletConfig),
        (
            "NetworkPolicy",
            "networking.k8s.io" | "extensions" | "crd.projectcalico.org" | "projectcalico.org",
        )
        | ("GlobalNetworkPolicy", "crd.projectcalico.org" | "projectcalico.org")
        | ("CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy", "cilium.io")
        | ("AdminNetworkPolicy" | "BaselineAdminNetworkPolicy", "policy.networking.k8s.io") => {
            out.push(Found::NetworkPolicies)
        }
        _ => {}
    }
    if !control_plane::kube_proxy_configs(o).is_empty() {
        out.push(Found::KubeProxy);
    }
    if admission {
        out.push(Found::AdmissionControl);
    }
    let cloud = cloud::evidence(o);
    for (has, found) in [
        (cloud.managed, Found::ManagedCluster),
        (cloud.eks, Found::EksCluster),
        (cloud.endpoint, Found::CloudEndpoint),
        (cloud.audit_logs, Found::CloudAuditLogs),
        (cloud.audit_logs_unresolved, Found::CloudAuditLogsUnresolved),
        (cloud.encryption, Found::CloudEncryption),
        (cloud.authentication, Found::CloudAuthentication),
        (cloud.identities, Found::CloudIdentities),
        (cloud.workload_identity, Found::CloudWorkloadIdentity),
        (mesh::is_mesh_evidence(o), Found::ServiceMesh),
    ] {
        if has {
            out.push(found);
        }
    }
    out.extend(tools.iter().map(|f| Found::of_tool(f.component)));
    if shows_whole_cluster(o) {
        out.push(Found::ClusterWorkloads);
    }
    if runtime::is_cluster_connection(o) {
        if o.root.get("server").is_some() {
            out.push(Found::ApiEndpoint);
        }
        if o.root.get("anonymousProbe").is_some() {
            out.push(Found::AnonymousProbe);
        }
    }
    if runtime::is_apiserver_endpoints(o) {
        out.push(Found::ApiEndpoint);
    }
    if o.kind == "Secret"
        && o.group().is_empty()
        && o.root.pointer("/metadata/creationTimestamp").is_some()
    {
        out.push(Found::SecretAge);
    }
    Examined {
        found: out,
        cross_object: admission
            || runtime::retained(o, &tools)
            || cloud::retained(o)
            || mesh::retained(o),
        control_plane: kubelet::retained(o, &flags),
    }
}

/// Images and names of the workloads every cluster runs in kube-system (cluster DNS, kube-proxy):
/// a chart that installs one add-on there does not ship them.
const CLUSTER_OWN: &[&str] = &["coredns", "kube-dns", "kube-proxy"];

/// Does this object show that the input is a whole cluster, so that the absence of something
/// (a runtime detector, monitoring) means it is not installed? Only three things do:
/// - the connection record of a cluster audit that read kube-system (`kubeharden cluster`);
/// - kube-system's own workloads (CoreDNS, kube-dns, kube-proxy) among the inputs, as in a
///   `kubectl get -A -o yaml` dump.
///
/// One static Pod of the control plane, or an add-on's chart installed in kube-system, does not;
/// nor does the way objects are written (a `kind: List` of the same objects answers the same).
pub fn shows_whole_cluster(o: &Object) -> bool {
    if runtime::is_cluster_connection(o) {
        return match o.root.get("namespaces") {
            None => true,
            Some(ns) => {
                ns.items().is_empty()
                    || ns.items().iter().any(|n| n.as_str() == Some("kube-system"))
            }
        };
    }
    if o.effective_namespace() != Some("kube-system") {
        return false;
    }
    let Some(template) = PodTemplate::of(o) else {
        return false;
    };
    let own = |s: &str| CLUSTER_OWN.contains(&s);
    let named = own(&o.name)
        || template
            .metadata
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get("k8s-app"))
            .and_then(|n| n.as_str())
            .is_some_and(own);
    named
        || template.containers().any(|c| {
            c.field("image")
                .and_then(|n| n.text())
                .map(runtime::repository)
                .and_then(|r| r.rsplit('/').next())
                .is_some_and(own)
        })
}
