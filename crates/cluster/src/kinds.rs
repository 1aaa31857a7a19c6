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
    pub plural: &'static str,
    pub how: How,
}

const fn full(group: &'static str, plural: &'static str) -> Wanted {
    Wanted {
        group,
        plural,
        how: How::Full,
    }
}

/// Everything the rules read from a cluster.
pub const WANTED: &[Wanted] = &[
    // Core: namespaces (Pod Security labels), workloads, identities, nodes.
    full("", "namespaces"),
    full("", "pods"),
    full("", "replicationcontrollers"),
    full("", "podtemplates"),
    full("", "serviceaccounts"),
    full("", "configmaps"),
    full("", "nodes"),
    Wanted {
        group: "",
        plural: "secrets",
        how: How::SecretMetadata,
    },
    Wanted {
        group: "discovery.k8s.io",
        plural: "endpointslices",
        how: How::ApiServerEndpoints,
    },
    full("apps", "deployments"),
    full("apps", "replicasets"),
    full("apps", "statefulsets"),
    full("apps", "daemonsets"),
    full("batch", "jobs"),
    full("batch", "cronjobs"),
    full("rbac.authorization.k8s.io", "roles"),
    full("rbac.authorization.k8s.io", "clusterroles"),
    full("rbac.authorization.k8s.io", "rolebindings"),
    full("rbac.authorization.k8s.io", "clusterrolebindings"),
    full("networking.k8s.io", "networkpolicies"),
    full("policy.networking.k8s.io", "adminnetworkpolicies"),
    full("policy.networking.k8s.io", "baselineadminnetworkpolicies"),
    full("cilium.io", "ciliumnetworkpolicies"),
    full("cilium.io", "ciliumclusterwidenetworkpolicies"),
    full("crd.projectcalico.org", "networkpolicies"),
    full("crd.projectcalico.org", "globalnetworkpolicies"),
    full("projectcalico.org", "networkpolicies"),
    full("projectcalico.org", "globalnetworkpolicies"),
    // Admission control and policy engines.
    full(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    full(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    full(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    full(
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    full("kyverno.io", "clusterpolicies"),
    full("kyverno.io", "policies"),
    full("policies.kyverno.io", "imagevalidatingpolicies"),
    full("templates.gatekeeper.sh", "constrainttemplates"),
    // Gatekeeper names a constraint resource after its kind, lowercased: only the image
    // verification constraint is read (templates already show that Gatekeeper enforces).
    full("constraints.gatekeeper.sh", "ratifyverification"),
    full("policy.sigstore.dev", "clusterimagepolicies"),
    full("config.ratify.deislabs.io", "verifiers"),
    // Secrets management and service meshes.
    full("bitnami.com", "sealedsecrets"),
    full("external-secrets.io", "externalsecrets"),
    full("external-secrets.io", "secretstores"),
    full("external-secrets.io", "clustersecretstores"),
    full("secrets.hashicorp.com", "vaultdynamicsecrets"),
    full("security.istio.io", "peerauthentications"),
    full("security.istio.io", "authorizationpolicies"),
    full("policy.linkerd.io", "servers"),
    full("policy.linkerd.io", "authorizationpolicies"),
    // Workload CRDs with pod templates, monitoring operators.
    full("argoproj.io", "rollouts"),
    full("apps.kruise.io", "clonesets"),
    full("apps.kruise.io", "advancedstatefulsets"),
    full("apps.openshift.io", "deploymentconfigs"),
    full("monitoring.coreos.com", "prometheuses"),
    full("grafana.integreatly.org", "grafanas"),
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
