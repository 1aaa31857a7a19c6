//! What a rule sees besides the object it checks: the [`Context`] of the scan and, for
//! cross-object rules, the [`Facts`] that phase 1 keeps.

use super::CustomPolicies;
use crate::analysis::kubelet::{Kubelet, kubelets};
use crate::analysis::netpol::Network;
use crate::analysis::rbac::Rbac;
use crate::inventory::{Object, Retained, Workload};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

/// A Namespace declared in the input.
#[derive(Clone, Debug, Default)]
pub struct NamespaceInfo {
    pub labels: crate::selector::Labels,
    pub origin: String,
    pub line: u32,
}

/// What every rule may consult besides the object it checks.
#[derive(Debug, Default)]
pub struct Context {
    /// Namespaces declared in the input, by name.
    pub namespaces: BTreeMap<String, NamespaceInfo>,
    /// The user's policies, run on every object (see [`rules::CustomPolicies`]).
    pub custom: Option<Arc<dyn CustomPolicies>>,
    /// The admission request being judged (the webhook); `None` for files and clusters, which
    /// policies see as a `CREATE` by an unnamed user.
    pub request: Option<RequestInfo>,
}

/// What an admission request says besides its object, for policies that read it.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    /// The object before an UPDATE.
    pub old_object: Option<serde_json::Value>,
    pub dry_run: bool,
    /// The Namespace of the object, which an AdmissionReview does not carry: what the front end
    /// looked up (policies' `namespaceSelector` and `namespaceObject` read it).
    pub namespace: NamespaceLookup,
}

/// The Namespace of the object under review, as the front end read it.
#[derive(Clone, Debug, Default)]
pub enum NamespaceLookup {
    /// Not looked up: the Namespaces declared among the inputs are all there is (files,
    /// clusters; a Namespace not declared has only its `kubernetes.io/metadata.name` label).
    #[default]
    Inputs,
    /// The Namespace object as the API server has it (JSON).
    Found(Arc<serde_json::Value>),
    /// It could not be read, and why: the policies that need it cannot be evaluated.
    Unavailable(String),
}

/// What survives phase 1 for the cross-object rules: the objects they read (most with their trees
/// packed) and summaries.
#[derive(Debug, Default)]
pub struct Facts {
    /// Objects of the kinds the RBAC, NetworkPolicy and namespace rules read (see
    /// [`retained_kind`]), their trees packed: many in a large input.
    pub objects: Vec<Retained>,
    /// The other objects cross-object rules read: admission and security-tool objects, cloud
    /// cluster configurations and identities, mesh policies, Nodes (see
    /// [`crate::evidence::Examined::cross_object`]); few, kept whole. An object of a retained kind
    /// that is also one of these is in both lists.
    pub cross_object: Vec<Object>,
    pub workloads: Vec<Workload>,
    /// Object count per kind.
    pub kinds: BTreeMap<String, usize>,
    /// Namespaces referenced by namespaced objects (declared or not).
    pub namespaces_referenced: BTreeSet<String>,
    /// Files of a node with their ownership and permissions (`kubeharden node`).
    pub node_files: Vec<crate::node::NodeFile>,
    /// Objects carrying component flags (static Pods, kubeadm ClusterConfiguration, command
    /// lines) and KubeletConfigurations: the kubelet's flags override its config file, which may
    /// be another input (see [`crate::analysis::kubelet`]).
    pub control_plane: Vec<Object>,
    /// The input is a whole cluster (see [`crate::evidence::shows_whole_cluster`]): absence
    /// checks (no runtime detector, no monitoring) may conclude from what is not there.
    pub whole_cluster: bool,
}

impl Facts {
    /// The retained objects of these kinds, each with its tree (unpacked one at a time).
    pub fn objects_of<'a>(
        &'a self,
        kinds: &'a [&str],
    ) -> impl Iterator<Item = std::borrow::Cow<'a, Object>> + 'a {
        self.objects
            .iter()
            .filter(|o| kinds.contains(&o.kind()))
            .map(Retained::object)
    }
}

/// What cross-object rules read: the [`Facts`] (through `Deref`) and the models derived from
/// them, each built once per scan on first use, whichever rules ask for it.
pub struct Derived<'f> {
    facts: &'f Facts,
    rbac: OnceLock<Rbac<'f>>,
    network: OnceLock<Network>,
    kubelets: OnceLock<Vec<Kubelet<'f>>>,
    /// The models asked for since [`Derived::take_used`] (a bit per [`Model`]).
    used: Cell<u8>,
}

/// A model derived from the facts, built once per scan by the first rule that asks for it and
/// released after the last rule that declares it (`Check::Inventory`'s second field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// Roles, aggregation, bindings and subjects ([`Rbac`]).
    Rbac,
    /// NetworkPolicies and CNI policies ([`Network`]).
    Network,
    /// Every kubelet with its effective settings ([`Kubelet`]).
    Kubelets,
}

impl Model {
    fn bit(self) -> u8 {
        match self {
            Model::Rbac => 1,
            Model::Network => 2,
            Model::Kubelets => 4,
        }
    }
}

impl<'f> Derived<'f> {
    pub fn new(facts: &'f Facts) -> Derived<'f> {
        Derived {
            facts,
            rbac: OnceLock::new(),
            network: OnceLock::new(),
            kubelets: OnceLock::new(),
            used: Cell::new(0),
        }
    }

    /// Frees a model no later rule needs (it would be built again if one asked).
    pub fn release(&mut self, model: Model) {
        match model {
            Model::Rbac => drop(self.rbac.take()),
            Model::Network => drop(self.network.take()),
            Model::Kubelets => drop(self.kubelets.take()),
        }
    }

    /// The models asked for since the last call, which a rule must have declared.
    pub fn take_used(&self) -> Vec<Model> {
        let used = self.used.replace(0);
        [Model::Rbac, Model::Network, Model::Kubelets]
            .into_iter()
            .filter(|m| used & m.bit() != 0)
            .collect()
    }

    fn note(&self, model: Model) {
        self.used.set(self.used.get() | model.bit());
    }

    pub fn facts(&self) -> &'f Facts {
        self.facts
    }

    /// The RBAC model of the retained objects (roles, aggregation, bindings, subjects).
    pub fn rbac(&self) -> &Rbac<'f> {
        self.note(Model::Rbac);
        self.rbac.get_or_init(|| Rbac::new(&self.facts.objects))
    }

    /// The NetworkPolicy model of the retained objects.
    pub fn network(&self) -> &Network {
        self.note(Model::Network);
        self.network.get_or_init(|| {
            Network::from_objects(
                self.facts.objects.iter().filter(|o| {
                    o.kind() == "Namespace" || NETWORK_POLICY_KINDS.contains(&o.kind())
                }),
            )
        })
    }

    /// Every kubelet of the input with its effective settings (flags over config files).
    pub fn kubelets(&self) -> &[Kubelet<'f>] {
        self.note(Model::Kubelets);
        self.kubelets
            .get_or_init(|| kubelets(&self.facts.control_plane))
    }
}

impl std::ops::Deref for Derived<'_> {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        self.facts
    }
}

/// The network policy kinds of [`retained_kind`]: Kubernetes, Cilium, Calico (whose
/// `projectcalico.org` NetworkPolicy shares the name) and the AdminNetworkPolicy API.
pub const NETWORK_POLICY_KINDS: &[&str] = &[
    "NetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
];

/// Kinds kept for the RBAC, NetworkPolicy and namespace rules after phase 1 ([`Facts::objects`]).
pub fn retained_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
            | "ServiceAccount"
    ) || NETWORK_POLICY_KINDS.contains(&kind)
}

/// What the audit-log rules read: the analysed log and, for `rbac suggest`, the subject it tracked
/// (as given, and as a principal) with the RBAC objects that grant its permissions.
pub struct AuditLogInput<'a> {
    pub log: &'a crate::analysis::audit_log::Analysis,
    pub subject: Option<(String, crate::analysis::rbac::Principal)>,
    pub rbac: &'a [Retained],
}
