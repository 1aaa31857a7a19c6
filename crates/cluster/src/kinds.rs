//! What the auditor reads: every resource a rule uses, by API group and plural, and nothing else.
//! `deploy/rbac/clusterrole.yaml` grants exactly these (`list`); a test keeps the two in sync.

/// How a resource is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Whole objects, paginated.
    Full,
    /// Metadata and `type` only (a server-side Table with `includeObject=Metadata`): the
    /// auditor never receives a Secret's values.
    SecretMetadata,
    /// Only the `kubernetes` Service's EndpointSlice in `default` (the API server's addresses).
    ApiServerEndpoints,
}

/// A resource to read.
#[derive(Clone, Copy, Debug)]
pub struct Wanted {
    pub group: &'static str,
    /// The kind its objects have (what [`kubeharden_engine::gaps::evidence_fed_by`] maps to
    /// evidence when the resource cannot be read, even before discovery named it).
    pub kind: &'static str,
    pub plural: &'static str,
    pub how: How,
    /// Served by every Kubernetes API server this auditor supports (core, apps, batch, RBAC,
    /// NetworkPolicies, EndpointSlices, webhook configurations): missing from discovery, it is
    /// a gap, not an absence. CRDs and newer APIs may legitimately be missing.
    pub always: bool,
}

const fn full(group: &'static str, kind: &'static str, plural: &'static str) -> Wanted {
    Wanted {
        group,
        kind,
        plural,
        how: How::Full,
        always: false,
    }
}

/// A resource every API server serves.
const fn core(group: &'static str, kind: &'static str, plural: &'static str) -> Wanted {
    Wanted {
        always: true,
        ..full(group, kind, plural)
    }
}

/// Everything the rules read from a cluster.
pub const WANTED: &[Wanted] = &[
    // Core: namespaces (Pod Security labels), workloads, identities, nodes.
    core("", "Namespace", "namespaces"),
    core("", "Pod", "pods"),
    core("", "ReplicationController", "replicationcontrollers"),
    core("", "PodTemplate", "podtemplates"),
    core("", "ServiceAccount", "serviceaccounts"),
    core("", "ConfigMap", "configmaps"),
    core("", "Node", "nodes"),
    Wanted {
        how: How::SecretMetadata,
        ..core("", "Secret", "secrets")
    },
    Wanted {
        how: How::ApiServerEndpoints,
        ..core("discovery.k8s.io", "EndpointSlice", "endpointslices")
    },
    core("apps", "Deployment", "deployments"),
    core("apps", "ReplicaSet", "replicasets"),
    core("apps", "StatefulSet", "statefulsets"),
    core("apps", "DaemonSet", "daemonsets"),
    core("batch", "Job", "jobs"),
    core("batch", "CronJob", "cronjobs"),
    core("rbac.authorization.k8s.io", "Role", "roles"),
    core("rbac.authorization.k8s.io", "ClusterRole", "clusterroles"),
    core("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    core(
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
    ),
    core("networking.k8s.io", "NetworkPolicy", "networkpolicies"),
    full(
        "policy.networking.k8s.io",
        "AdminNetworkPolicy",
        "adminnetworkpolicies",
    ),
    full(
        "policy.networking.k8s.io",
        "BaselineAdminNetworkPolicy",
        "baselineadminnetworkpolicies",
    ),
    full("cilium.io", "CiliumNetworkPolicy", "ciliumnetworkpolicies"),
    full(
        "cilium.io",
        "CiliumClusterwideNetworkPolicy",
        "ciliumclusterwidenetworkpolicies",
    ),
    full("crd.projectcalico.org", "NetworkPolicy", "networkpolicies"),
    full(
        "crd.projectcalico.org",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
    ),
    full("projectcalico.org", "NetworkPolicy", "networkpolicies"),
    full(
        "projectcalico.org",
        "GlobalNetworkPolicy",
        "globalnetworkpolicies",
    ),
    // Admission control and policy engines.
    core(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
    ),
    core(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
    ),
    full(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
    ),
    full(
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    ),
    full("kyverno.io", "ClusterPolicy", "clusterpolicies"),
    full("kyverno.io", "Policy", "policies"),
    full(
        "policies.kyverno.io",
        "ImageValidatingPolicy",
        "imagevalidatingpolicies",
    ),
    full(
        "templates.gatekeeper.sh",
        "ConstraintTemplate",
        "constrainttemplates",
    ),
    // Gatekeeper names a constraint resource after its kind, lowercased: only the image
    // verification constraint is read (templates already show that Gatekeeper enforces).
    full(
        "constraints.gatekeeper.sh",
        "RatifyVerification",
        "ratifyverification",
    ),
    full(
        "policy.sigstore.dev",
        "ClusterImagePolicy",
        "clusterimagepolicies",
    ),
    full("config.ratify.deislabs.io", "Verifier", "verifiers"),
    // Secrets management and service meshes.
    full("bitnami.com", "SealedSecret", "sealedsecrets"),
    full("external-secrets.io", "ExternalSecret", "externalsecrets"),
    full("external-secrets.io", "SecretStore", "secretstores"),
    full(
        "external-secrets.io",
        "ClusterSecretStore",
        "clustersecretstores",
    ),
    full(
        "secrets.hashicorp.com",
        "VaultDynamicSecret",
        "vaultdynamicsecrets",
    ),
    full(
        "security.istio.io",
        "PeerAuthentication",
        "peerauthentications",
    ),
    full(
        "security.istio.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
    ),
    full("policy.linkerd.io", "Server", "servers"),
    full(
        "policy.linkerd.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
    ),
    // Workload CRDs with pod templates, monitoring operators.
    full("argoproj.io", "Rollout", "rollouts"),
    full("apps.kruise.io", "CloneSet", "clonesets"),
    full(
        "apps.kruise.io",
        "AdvancedStatefulSet",
        "advancedstatefulsets",
    ),
    full("apps.openshift.io", "DeploymentConfig", "deploymentconfigs"),
    full("monitoring.coreos.com", "Prometheus", "prometheuses"),
    full("grafana.integreatly.org", "Grafana", "grafanas"),
];

/// The groups the auditor needs discovery for.
pub fn groups() -> Vec<&'static str> {
    let mut g: Vec<&'static str> = WANTED.iter().map(|w| w.group).collect();
    g.sort();
    g.dedup();
    g
}

/// Is this resource of a group wanted, and how?
pub fn wanted(group: &str, plural: &str) -> Option<How> {
    WANTED
        .iter()
        .find(|w| w.group == group && w.plural == plural)
        .map(|w| w.how)
}
