//! Inventory: Kubernetes objects with their spanned trees, and derived views (pod templates,
//! containers, namespaces). Rules read objects only through these views.

use crate::source::Source;
use crate::yaml::{Node, Pos, Text};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One Kubernetes object read from an input.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    /// `metadata.namespace` as written (None for cluster-scoped or unset).
    pub namespace: Option<String>,
    pub root: Node,
    pub source: Arc<Source>,
    /// Index of the YAML document in its source.
    pub doc_index: usize,
    /// JSON pointer of this object inside its document (`/items/3` for List members, else empty).
    pub base: String,
    /// The Helm template this object was rendered from (`# Source:` comment), if any.
    pub helm_source: Option<Arc<str>>,
    /// For an object rendered by kustomize and changed by it: where its fields were written
    /// (the patches and the resource file), see [`crate::kustomize`].
    pub provenance: Option<Arc<crate::kustomize::Provenance>>,
}

impl Object {
    pub fn new(
        kind: String,
        api_version: String,
        root: Node,
        source: Arc<Source>,
        doc_index: usize,
        base: String,
        helm_source: Option<Arc<str>>,
    ) -> Object {
        let meta = root.get("metadata");
        let name = meta
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Node::text)
            .unwrap_or("")
            .to_owned();
        let namespace = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Node::text)
            .map(str::to_owned);
        Object {
            kind,
            api_version,
            name,
            namespace,
            root,
            source,
            doc_index,
            base,
            helm_source,
            provenance: None,
        }
    }

    /// Where the field at `pointer` was written, when that is not where the object was read (a
    /// kustomize-rendered object changed by patches): the patch or resource file, line, text.
    pub fn written_at(&self, pointer: &str) -> Option<crate::kustomize::Written> {
        self.provenance.as_ref()?.locate(&self.root, pointer)
    }

    /// The API group (empty for core).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// Namespace the object lives in: its own, or `default` for namespaced kinds without one.
    pub fn effective_namespace(&self) -> Option<&str> {
        if is_cluster_scoped(&self.kind) || is_config_group(self.group()) || self.kind == "Config" {
            None
        } else {
            Some(self.namespace.as_deref().unwrap_or("default"))
        }
    }

    pub fn labels(&self) -> crate::selector::Labels {
        string_map(self.root.pointer("/metadata/labels"))
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.root.pointer("/metadata/labels")?.get(key)?.text()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root.pointer("/metadata/annotations")?.get(key)?.text()
    }

    /// Position of a pointer (relative to the object root); missing fields resolve to the parent.
    pub fn locate(&self, pointer: &str) -> Pos {
        self.root.locate(pointer)
    }

    /// `Kind/namespace/name` (or `Kind/name`), the identity used in messages and fingerprints.
    pub fn identity(&self) -> String {
        match (self.effective_namespace(), self.name.is_empty()) {
            (Some(ns), _) => format!("{}/{}/{}", self.kind, ns, self.name),
            (None, false) => format!("{}/{}", self.kind, self.name),
            (None, true) => self.kind.clone(),
        }
    }
}

/// An object kept until the end of a scan for the rules that read several objects: whole, or
/// with its tree packed into one buffer about the size of its text ([`crate::packed`]; a tree
/// takes five times that). Its kind, names and source are at hand; its fields only through
/// [`Retained::object`], which unpacks a packed tree into a new one each time it is called.
#[derive(Clone, Debug)]
pub struct Retained {
    /// When packed, its root is a placeholder: never handed out.
    object: Object,
    tree: Option<Box<[u8]>>,
}

impl Retained {
    /// Kept as it is.
    pub fn whole(object: Object) -> Retained {
        Retained { object, tree: None }
    }

    /// Kept with its tree packed.
    pub fn packed(mut object: Object) -> Retained {
        let tree = crate::packed::pack(&object.root);
        object.root = Node {
            pos: object.root.pos,
            value: crate::yaml::Value::Map(Vec::new()),
        };
        Retained {
            object,
            tree: Some(tree),
        }
    }

    /// The object with its tree: borrowed when kept whole, else unpacked (a copy for the caller).
    pub fn object(&self) -> std::borrow::Cow<'_, Object> {
        match &self.tree {
            None => std::borrow::Cow::Borrowed(&self.object),
            Some(tree) => std::borrow::Cow::Owned(Object {
                root: crate::packed::unpack(tree),
                ..self.object.clone()
            }),
        }
    }

    /// The object, its tree unpacked if it was packed.
    pub fn into_object(self) -> Object {
        match self.tree {
            None => self.object,
            Some(tree) => Object {
                root: crate::packed::unpack(&tree),
                ..self.object
            },
        }
    }

    pub fn kind(&self) -> &str {
        &self.object.kind
    }

    pub fn api_version(&self) -> &str {
        &self.object.api_version
    }

    pub fn name(&self) -> &str {
        &self.object.name
    }

    /// See [`Object::group`].
    pub fn group(&self) -> &str {
        self.object.group()
    }

    /// See [`Object::effective_namespace`].
    pub fn effective_namespace(&self) -> Option<&str> {
        self.object.effective_namespace()
    }

    pub fn source(&self) -> &Source {
        &self.object.source
    }

    /// Where the object starts (its root's position).
    pub fn pos(&self) -> Pos {
        self.object.root.pos
    }

    /// See [`Object::identity`].
    pub fn identity(&self) -> String {
        self.object.identity()
    }
}

/// An object with its tree at hand: an [`Object`], or a [`Retained`] one (unpacked on demand).
pub trait AsObject {
    fn as_object(&self) -> std::borrow::Cow<'_, Object>;
}

impl AsObject for Object {
    fn as_object(&self) -> std::borrow::Cow<'_, Object> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl<T: AsObject + ?Sized> AsObject for &T {
    fn as_object(&self) -> std::borrow::Cow<'_, Object> {
        (**self).as_object()
    }
}

impl AsObject for Retained {
    fn as_object(&self) -> std::borrow::Cow<'_, Object> {
        self.object()
    }
}

/// Reads a map of strings (labels, annotations); non-string scalars by their text. Collected into
/// any map whose `FromIterator` keeps the last of a repeated key (`BTreeMap`,
/// [`crate::selector::Labels`]), as the API server reads one.
pub fn string_map<M: FromIterator<(String, String)> + Default>(node: Option<&Node>) -> M {
    node.map(|n| {
        n.effective_entries()
            .filter_map(|e| e.value.text().map(|v| (e.key.to_string(), v.to_owned())))
            .collect()
    })
    .unwrap_or_default()
}

/// Configuration files of components (not API objects): they have no namespace.
pub fn is_config_group(group: &str) -> bool {
    group.ends_with(".config.k8s.io")
        || matches!(
            group,
            "audit.k8s.io" | "kubeadm.k8s.io" | "kubeharden.io" | "apiserver.k8s.io"
        )
        // Managed clusters' configuration: eksctl, Terraform, the cloud CLIs' JSON.
        || matches!(group, "eksctl.io" | "terraform" | "aws-cli" | "gcloud" | "az-cli")
        || group.starts_with("pod-security.admission.config")
}

/// Kinds that have no namespace (the common built-ins and well-known cluster-scoped CRDs).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding"
            | "APIService"
            | "CertificateSigningRequest"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "CSINode"
            | "VolumeAttachment"
            | "PodSecurityPolicy"
            | "ClusterIssuer"
            | "ClusterPolicy"
            | "ClusterImagePolicy"
            | "ConstraintTemplate"
            | "GlobalNetworkPolicy"
            | "CiliumClusterwideNetworkPolicy"
            | "AdminNetworkPolicy"
            | "BaselineAdminNetworkPolicy"
            | "ClusterPolicyReport"
    )
}

/// Where the pod template lives in each workload kind.
fn template_paths(object: &Object) -> Option<(&'static str, &'static str)> {
    Some(match (object.kind.as_str(), object.group()) {
        ("Pod", "") => ("/metadata", "/spec"),
        ("PodTemplate", "") => ("/template/metadata", "/template/spec"),
        ("ReplicationController", "") => ("/spec/template/metadata", "/spec/template/spec"),
        (
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet",
            "apps" | "extensions" | "apps.openshift.io",
        ) => ("/spec/template/metadata", "/spec/template/spec"),
        ("DeploymentConfig", "apps.openshift.io") => {
            ("/spec/template/metadata", "/spec/template/spec")
        }
        ("Job", "batch") => ("/spec/template/metadata", "/spec/template/spec"),
        ("CronJob", "batch") => (
            "/spec/jobTemplate/spec/template/metadata",
            "/spec/jobTemplate/spec/template/spec",
        ),
        // Known CRDs that embed a full pod template.
        ("Rollout", "argoproj.io") => ("/spec/template/metadata", "/spec/template/spec"),
        ("CloneSet" | "AdvancedStatefulSet", "apps.kruise.io") => {
            ("/spec/template/metadata", "/spec/template/spec")
        }
        _ => return None,
    })
}

/// A pod template of any workload kind: the pod spec and its metadata, with their pointers.
#[derive(Clone, Copy, Debug)]
pub struct PodTemplate<'a> {
    pub object: &'a Object,
    pub spec: &'a Node,
    pub spec_ptr: &'static str,
    pub metadata: Option<&'a Node>,
    pub metadata_ptr: &'static str,
}

impl<'a> PodTemplate<'a> {
    /// The pod template of a workload object, if it is one and has a spec mapping.
    pub fn of(object: &'a Object) -> Option<PodTemplate<'a>> {
        let (metadata_ptr, spec_ptr) = template_paths(object)?;
        let spec = object.root.pointer(spec_ptr).filter(|s| s.is_map())?;
        Some(PodTemplate {
            object,
            spec,
            spec_ptr,
            metadata: object.root.pointer(metadata_ptr),
            metadata_ptr,
        })
    }

    /// Init, regular and ephemeral containers in the order Kubernetes visits them.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        ContainerKind::ALL.into_iter().flat_map(move |kind| {
            self.spec
                .get(kind.field())
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .map(move |(index, node)| Container {
                    kind,
                    index,
                    name: node.get("name").and_then(Node::text).unwrap_or(""),
                    node,
                    spec_ptr: self.spec_ptr,
                })
        })
    }

    /// Pod-level field, e.g. `securityContext/runAsNonRoot`.
    pub fn pod_field(&self, rel: &str) -> Option<&'a Node> {
        self.spec.pointer_rel(rel)
    }

    pub fn ptr(&self, rel: &str) -> String {
        format!("{}/{rel}", self.spec_ptr)
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata?.get("annotations")?.get(key)?.text()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub const ALL: [ContainerKind; 3] = [
        ContainerKind::Init,
        ContainerKind::Regular,
        ContainerKind::Ephemeral,
    ];
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Init => "init container",
            ContainerKind::Regular => "container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// One container of a pod template.
#[derive(Clone, Debug)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub name: &'a str,
    pub node: &'a Node,
    /// Pointer of the pod spec within the object (the container's is made when asked for:
    /// most containers a rule looks at get no finding).
    spec_ptr: &'static str,
}

impl<'a> Container<'a> {
    /// A field under the container, `rel` a pointer without its leading `/`
    /// (`securityContext/runAsUser`).
    pub fn field(&self, rel: &str) -> Option<&'a Node> {
        self.node.pointer_rel(rel)
    }
    /// Pointer of the container within the object (`/spec/template/spec/containers/0`).
    pub fn pointer(&self) -> String {
        format!("{}/{}/{}", self.spec_ptr, self.kind.field(), self.index)
    }
    /// Whether `other` is this container (the same place in the same pod spec).
    pub fn same_place(&self, other: &Container<'_>) -> bool {
        self.kind == other.kind && self.index == other.index && self.spec_ptr == other.spec_ptr
    }
    /// Pointer of a field under the container.
    pub fn ptr(&self, rel: &str) -> String {
        format!(
            "{}/{}/{}/{rel}",
            self.spec_ptr,
            self.kind.field(),
            self.index
        )
    }
    /// `container "app"`, `init container "setup"`.
    pub fn describe(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    #[test]
    fn cronjob_template_and_container_order() {
        let l = load_bytes(
            "c.yaml",
            b"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: n}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: main}]\n          initContainers: [{name: init}]\n".to_vec(),
        );
        let o = &l.objects[0];
        let t = PodTemplate::of(o).unwrap();
        let names: Vec<_> = t.containers().map(|c| c.name).collect();
        assert_eq!(names, ["init", "main"]);
        assert_eq!(
            t.containers().next().unwrap().pointer(),
            "/spec/jobTemplate/spec/template/spec/initContainers/0"
        );
        assert_eq!(o.identity(), "CronJob/n/c");
    }

    #[test]
    fn non_workloads_have_no_template() {
        let l = load_bytes(
            "s.yaml",
            b"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n".to_vec(),
        );
        assert!(PodTemplate::of(&l.objects[0]).is_none());
        assert_eq!(l.objects[0].effective_namespace(), Some("default"));
    }
}

/// A workload (any object with a pod template), summarised for cross-object rules.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    pub kind: Text,
    pub api_version: Text,
    pub name: Text,
    pub namespace: Text,
    pub origin: String,
    pub line: u32,
    pub column: u32,
    pub helm_source: Option<Arc<str>>,
    pub pod_labels: crate::selector::Labels,
    /// The pod template's annotations of a service mesh (`sidecar.istio.io/*`, `istio.io/*`,
    /// `linkerd.io/*`, `config.linkerd.io/*`): injection and inbound policy per workload.
    pub mesh_annotations: BTreeMap<String, String>,
    /// `spec.serviceAccountName` (or the deprecated `serviceAccount`), else `default`.
    pub service_account: Text,
    /// The pod's `automountServiceAccountToken`, if set (the ServiceAccount's applies otherwise).
    pub automount_token: Option<bool>,
    /// A static Pod or its mirror: the kubelet mounts no ServiceAccount token into it.
    pub static_pod: bool,
    /// `hostNetwork: true`: NetworkPolicy does not apply to its pods.
    pub host_network: bool,
    /// Named container ports (`name` → port), for NetworkPolicy named-port resolution.
    pub named_ports: Vec<(String, i64, String)>,
    /// `kubeharden.io/ignore` rule ids from the object and pod template annotations.
    pub ignore: Vec<crate::finding::Suppression>,
}
