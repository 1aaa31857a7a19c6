//! What both policy kinds need to know about the object under review: its group, version, kind
//! and resource, namespace and that namespace's labels, the request, and the object as JSON
//! (converted once per object, shared by every policy).

use kubeharden_engine::analysis::netpol::{LabelSelector, Labels};
use kubeharden_engine::inventory::Object;
use kubeharden_engine::rules::{Context, NamespaceLookup, RequestInfo};
use kubeharden_engine::yaml::Node;
use std::sync::OnceLock;

/// The label the API server sets on every Namespace: its name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub struct ObjectView<'a> {
    pub object: &'a Object,
    pub ctx: &'a Context,
    pub group: &'a str,
    pub version: &'a str,
    /// The namespace the object lives in; `None` for cluster-scoped objects.
    pub namespace: Option<&'a str>,
    pub request: RequestInfo,
    json: OnceLock<serde_json::Value>,
    /// Per-engine forms of the object, converted once and shared by every policy.
    pub(crate) rego_review: OnceLock<regorus::Value>,
    /// The CEL scope with `object`, `oldObject`, `request` and `namespaceObject` bound: CEL
    /// copies a value deeply when it is bound, so it is bound once per object, not per policy.
    pub(crate) cel_base: std::cell::OnceCell<kube_cel::cel::Context<'static>>,
}

impl<'a> ObjectView<'a> {
    pub fn new(ctx: &'a Context, object: &'a Object) -> Self {
        let version = object
            .api_version
            .rsplit_once('/')
            .map_or(object.api_version.as_str(), |(_, v)| v);
        let request = ctx.request.clone().unwrap_or_else(|| RequestInfo {
            operation: "CREATE".into(),
            ..RequestInfo::default()
        });
        ObjectView {
            object,
            ctx,
            group: object.group(),
            version,
            namespace: object.effective_namespace(),
            request,
            json: OnceLock::new(),
            rego_review: OnceLock::new(),
            cel_base: std::cell::OnceCell::new(),
        }
    }

    pub fn json(&self) -> &serde_json::Value {
        self.json.get_or_init(|| self.object.root.to_json())
    }

    pub fn is_namespace(&self) -> bool {
        self.object.kind == "Namespace" && self.group.is_empty()
    }

    /// The labels of the object's namespace (of the object itself when it is a Namespace);
    /// `None` for other cluster-scoped objects. Offline, a namespace the input does not declare
    /// still carries `kubernetes.io/metadata.name`, which the API server sets on every
    /// namespace; at admission they are the labels the webhook looked up, and `Err` says why
    /// there are none.
    pub fn namespace_labels(&self) -> Result<Option<Labels>, String> {
        if self.is_namespace() {
            let mut labels = self.object.labels();
            labels.get_or_insert_with(NAME_LABEL.into(), || self.object.name.clone());
            return Ok(Some(labels));
        }
        let Some(ns) = self.namespace else {
            return Ok(None);
        };
        let mut labels = match &self.request.namespace {
            NamespaceLookup::Inputs => self
                .ctx
                .namespaces
                .get(ns)
                .map(|i| i.labels.clone())
                .unwrap_or_default(),
            NamespaceLookup::Found(object) => object["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect(),
            NamespaceLookup::Unavailable(why) => {
                return Err(format!(
                    "the labels of namespace `{ns}` are not available: {why}"
                ));
            }
        };
        labels.get_or_insert_with(NAME_LABEL.into(), || ns.to_owned());
        Ok(Some(labels))
    }

    /// Does `selector` (a `namespaceSelector`) select the object's namespace? Cluster-scoped
    /// objects other than Namespaces are never skipped by it. A selector that reads only
    /// `kubernetes.io/metadata.name` needs no lookup; `Err` when it needs the labels and they
    /// are not available.
    pub fn namespace_selected(&self, selector: &LabelSelector) -> Result<bool, String> {
        if selector.is_empty() {
            return Ok(true);
        }
        match self.namespace_labels() {
            Ok(None) => Ok(true),
            Ok(Some(labels)) => Ok(selector.matches(&labels)),
            Err(_) if selector.keys().all(|k| k == NAME_LABEL) => {
                let name = self.namespace.unwrap_or_default().to_owned();
                Ok(selector.matches(&Labels::from([(NAME_LABEL.to_owned(), name)])))
            }
            Err(why) => Err(why),
        }
    }

    /// The Namespace object as policies see it (`namespaceObject`): the one looked up at
    /// admission, else from what the input declares; `None` for cluster-scoped objects.
    pub fn namespace_object(&self) -> Result<Option<serde_json::Value>, String> {
        if self.is_namespace() {
            return Ok(None);
        }
        let Some(ns) = self.namespace else {
            return Ok(None);
        };
        if let NamespaceLookup::Found(object) = &self.request.namespace {
            return Ok(Some((**object).clone()));
        }
        let labels = self.namespace_labels()?.unwrap_or_default();
        Ok(Some(serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": labels},
        })))
    }

    /// The labels of the object and, on UPDATE, of the object before it: an `objectSelector`
    /// selects the request when it selects either (as the API server matches it).
    pub fn object_selected(&self, selector: &LabelSelector) -> bool {
        if selector.matches(&self.object.labels()) {
            return true;
        }
        let old: Option<Labels> = self.request.old_object.as_ref().map(|o| {
            o["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        });
        old.is_some_and(|labels| selector.matches(&labels))
    }

    /// The resource name of the kind (`Deployment` → `deployments`), as the API server's
    /// RESTMapper guesses it for built-in kinds.
    pub fn resource(&self) -> String {
        resource_of(&self.object.kind)
    }
}

/// Kubernetes' guess of a kind's plural resource name (`meta.UnsafeGuessKindToResource`), with
/// `y` after a vowel taking an `s` (`Gateway` → `gateways`).
pub fn resource_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if lower.ends_with('s') || lower.ends_with("ch") || lower.ends_with('x') {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{lower}s")
}

/// A label selector node (absent: `None`, which selects everything).
pub fn selector(node: Option<&Node>) -> Option<LabelSelector> {
    let node = node.filter(|n| !n.is_null())?;
    let mut problems = Vec::new();
    Some(LabelSelector::parse(node, "", &mut problems))
}

/// Strings of a list node.
pub fn strings(node: Option<&Node>) -> Vec<String> {
    node.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| n.text().map(str::to_owned))
        .collect()
}

/// Gatekeeper's namespace globs: a `*` at the start or the end of the pattern.
pub fn ns_glob(pattern: &str, ns: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        ns.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        ns.ends_with(suffix)
    } else {
        pattern == ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_as_kubernetes_names_them() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Deployment", "deployments"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("ConfigMap", "configmaps"),
        ] {
            assert_eq!(resource_of(kind), resource);
        }
    }

    #[test]
    fn namespace_globs() {
        assert!(ns_glob("kube-*", "kube-system"));
        assert!(ns_glob("*-system", "gatekeeper-system"));
        assert!(!ns_glob("kube-*", "default"));
        assert!(ns_glob("prod", "prod"));
        assert!(!ns_glob("prod", "production"));
    }
}
