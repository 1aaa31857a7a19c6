//! The JSON that the cloud providers' CLIs print for a managed cluster, recognised by content:
//! `aws eks describe-cluster`, `gcloud container clusters describe --format=json` and
//! `az aks show`. Such a document has no `apiVersion` and `kind`; it is read as an object of the
//! kind below so that rules can locate its fields like any other object's.

use crate::yaml::Node;

/// `aws eks describe-cluster` (`{"cluster": {...}}`).
pub const EKS_KIND: &str = "EKSCluster";
pub const EKS_API_VERSION: &str = "aws-cli/eks";
/// `gcloud container clusters describe --format=json`.
pub const GKE_KIND: &str = "GKECluster";
pub const GKE_API_VERSION: &str = "gcloud/container";
/// `az aks show`.
pub const AKS_KIND: &str = "AKSCluster";
pub const AKS_API_VERSION: &str = "az-cli/aks";

/// The kind, `apiVersion` and name of a cloud CLI's cluster description, if `root` is one.
pub fn recognize(root: &Node) -> Option<(&'static str, &'static str, String)> {
    let str_at = |n: &Node, k: &str| n.get(k).and_then(Node::as_str).map(str::to_owned);
    if let Some(c) = root.get("cluster").filter(|c| c.is_map()) {
        let arn = str_at(c, "arn").unwrap_or_default();
        if arn.starts_with("arn:aws") && arn.contains(":cluster/")
            || c.get("resourcesVpcConfig").is_some()
        {
            return Some((
                EKS_KIND,
                EKS_API_VERSION,
                str_at(c, "name").unwrap_or_default(),
            ));
        }
    }
    let link = str_at(root, "selfLink").unwrap_or_default();
    if link.contains("container.googleapis.com/") && link.contains("/clusters/")
        || root.get("masterAuth").is_some() && root.get("currentMasterVersion").is_some()
    {
        return Some((
            GKE_KIND,
            GKE_API_VERSION,
            str_at(root, "name").unwrap_or_default(),
        ));
    }
    let ty = str_at(root, "type").unwrap_or_default();
    let id = str_at(root, "id").unwrap_or_default().to_ascii_lowercase();
    if ty.eq_ignore_ascii_case("Microsoft.ContainerService/ManagedClusters")
        || id.contains("/providers/microsoft.containerservice/managedclusters/")
    {
        return Some((
            AKS_KIND,
            AKS_API_VERSION,
            str_at(root, "name").unwrap_or_default(),
        ));
    }
    None
}

/// Falco's own files, recognised by content, read as objects of group `falco` (named after their
/// file) so that the runtime rules can read Falco's detections and outputs:
/// - a rules file (`falco_rules.local.yaml`, a `rules.d/*.yaml`): a YAML list of `- rule:`,
///   `- macro:`, `- list:` items;
/// - the falco chart's Helm values: `customRules` (rules files by name), `falcosidekick`, or a
///   `falco:` map holding Falco's configuration (`http_output`, `json_output`…);
/// - Falco's configuration (`falco.yaml`): `rules_files`/`rules_file` with the outputs.
pub const FALCO_API_VERSION: &str = "falco/v1";
pub const FALCO_RULES_KIND: &str = "FalcoRules";
pub const FALCO_VALUES_KIND: &str = "FalcoHelmValues";
pub const FALCO_CONFIG_KIND: &str = "FalcoConfig";

/// The outputs of Falco's configuration.
const FALCO_OUTPUTS: &[&str] = &[
    "http_output",
    "json_output",
    "program_output",
    "grpc_output",
    "stdout_output",
    "file_output",
    "syslog_output",
];

/// The kind of a Falco file (see [`FALCO_RULES_KIND`]), if `root` is one.
pub fn recognize_falco(root: &Node) -> Option<&'static str> {
    if root.is_seq() {
        let items = root.items();
        let item_key = |i: &Node| ["rule", "macro", "list"].iter().any(|k| i.get(k).is_some());
        let other_key = |i: &Node| {
            i.get("required_engine_version").is_some()
                || i.get("required_plugin_versions").is_some()
        };
        return (items.iter().any(item_key)
            && items
                .iter()
                .all(|i| i.is_map() && (item_key(i) || other_key(i))))
        .then_some(FALCO_RULES_KIND);
    }
    if !root.is_map() {
        return None;
    }
    let has_outputs = |n: &Node| FALCO_OUTPUTS.iter().any(|k| n.get(k).is_some());
    if root.get("customRules").is_some_and(Node::is_map)
        || root.get("falcosidekick").is_some_and(Node::is_map)
        || root
            .get("falco")
            .is_some_and(|f| f.is_map() && (has_outputs(f) || f.get("rules_files").is_some()))
    {
        return Some(FALCO_VALUES_KIND);
    }
    if (root.get("rules_files").is_some() || root.get("rules_file").is_some()) && has_outputs(root)
    {
        return Some(FALCO_CONFIG_KIND);
    }
    None
}
