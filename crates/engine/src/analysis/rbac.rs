//! RBAC semantics, in one place: policy rules and their exact matching, ClusterRole aggregation,
//! bindings and their subjects (with the groups every identity implicitly carries), effective
//! permissions, `can` / `who_can` queries, and the catalogue of risky permissions.
//!
//! The model follows the Kubernetes RBAC authorizer (`pkg/registry/rbac/validation/rule.go` and
//! `pkg/apis/rbac/v1/evaluation_helpers.go`): a request is allowed when any rule collected from the
//! ClusterRoleBindings of its identity, or (for a request in a namespace) from the RoleBindings of
//! that namespace, matches it. There are no deny rules. A binding to a role that does not exist
//! grants nothing.
//!
//! Every cluster holds the bootstrap ClusterRoles even when the input does not: `cluster-admin`,
//! the aggregated `admin` / `edit` / `view`, and the discovery roles are modelled here (see
//! [`BUILTIN_ROLES`]); any other role with the reserved `system:` prefix, or a well-known
//! distribution prefix, is known to exist but its rules are not modelled.

use crate::analysis::netpol::LabelSelector;
use crate::inventory::Retained;
use crate::selector::Labels;
use crate::yaml::{Node, Text};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// Label the API server puts on the bootstrap roles and bindings it reconciles.
pub const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";
/// Annotation that designates the one break-glass ClusterRoleBinding.
pub const BREAK_GLASS_ANNOTATION: &str = "kubeharden.io/break-glass";
/// Annotation that stops the API server from reconciling a bootstrap role at start-up.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// Work allowed to resolve aggregation (selector candidates examined plus rules copied into
/// aggregated roles); real clusters need a few thousand. Beyond it the result is partial and
/// [`Rbac::aggregation_truncated`] is set.
pub const AGGREGATION_BUDGET: usize = 4_000_000;

// ---------------------------------------------------------------------------------------------
// Policy rules and requests
// ---------------------------------------------------------------------------------------------

/// One entry of a Role's or ClusterRole's `rules`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<Text>,
    pub api_groups: Vec<Text>,
    pub resources: Vec<Text>,
    pub resource_names: Vec<Text>,
    pub non_resource_urls: Vec<Text>,
}

fn string_list(node: Option<&Node>) -> Vec<Text> {
    node.map(|n| {
        n.items()
            .iter()
            .map(|i| {
                if i.is_null() {
                    Text::default()
                } else {
                    Text::from(i.text().unwrap_or(""))
                }
            })
            .collect()
    })
    .unwrap_or_default()
}

fn words(s: &str) -> Vec<Text> {
    s.split_whitespace().map(Text::from).collect()
}

impl PolicyRule {
    pub fn from_node(node: &Node) -> PolicyRule {
        PolicyRule {
            verbs: string_list(node.get("verbs")),
            api_groups: string_list(node.get("apiGroups")),
            resources: string_list(node.get("resources")),
            resource_names: string_list(node.get("resourceNames")),
            non_resource_urls: string_list(node.get("nonResourceURLs")),
        }
    }

    /// A resource rule from whitespace-separated lists; `core` stands for the core group `""`.
    pub fn resources(verbs: &str, groups: &str, resources: &str) -> PolicyRule {
        PolicyRule {
            verbs: words(verbs),
            api_groups: groups
                .split_whitespace()
                .map(|g| Text::from(if g == "core" { "" } else { g }))
                .collect(),
            resources: words(resources),
            ..PolicyRule::default()
        }
    }

    /// A non-resource rule from whitespace-separated lists.
    pub fn urls(verbs: &str, urls: &str) -> PolicyRule {
        PolicyRule {
            verbs: words(verbs),
            non_resource_urls: words(urls),
            ..PolicyRule::default()
        }
    }

    pub fn with_names(mut self, names: &str) -> PolicyRule {
        self.resource_names = words(names);
        self
    }

    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v == verb)
    }

    pub fn group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == "*" || g == group)
    }

    /// `*`, the exact `resource` or `resource/subresource`, or `*/subresource`. `pods/*` is not a
    /// wildcard form: it matches only a subresource literally named `*`.
    pub fn resource_matches(&self, resource: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if r == "*" {
                return true;
            }
            if subresource.is_empty() {
                return r == resource;
            }
            r.strip_prefix(resource)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|sub| sub == subresource)
                || r.strip_prefix("*/") == Some(subresource)
        })
    }

    /// No `resourceNames`, or the request names one of them. A request without a name (`create`,
    /// `list`, `deletecollection`) never matches a rule restricted to names.
    pub fn name_matches(&self, name: Option<&str>) -> bool {
        self.resource_names.is_empty()
            || name.is_some_and(|n| self.resource_names.iter().any(|r| r == n))
    }

    /// `*`, the exact path, or a pattern ending in `*` whose prefix the path starts with.
    pub fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
        })
    }

    /// Does this rule allow the request (ignoring scope, which the binding decides)?
    pub fn allows(&self, req: &Request) -> bool {
        if !self.verb_matches(req.verb) {
            return false;
        }
        match req.path {
            Some(path) => self.url_matches(path),
            None => {
                self.group_matches(req.group)
                    && self.resource_matches(req.resource, req.subresource)
                    && self.name_matches(req.name)
            }
        }
    }

    /// Full control of every resource of every group, unrestricted by name: `*` verbs on `*/*`
    /// (cluster-admin's rule), or every read and write verb listed one by one on `*/*` (the
    /// holder can read, create, change and delete anything: admin-equivalent even without
    /// `escalate`, `bind` or `impersonate`, which it can grant itself by writing a role).
    pub fn is_full_control(&self) -> bool {
        const READ_WRITE: &[&str] = &[
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
        ];
        self.is_full_wildcard()
            || (READ_WRITE.iter().all(|v| self.verb_matches(v))
                && self.api_groups.iter().any(|g| g == "*")
                && self.resources.iter().any(|r| r == "*")
                && self.resource_names.is_empty())
    }

    /// Every verb on every resource of every group, unrestricted by name: cluster-admin's rule.
    pub fn is_full_wildcard(&self) -> bool {
        self.verbs.iter().any(|v| v == "*")
            && self.api_groups.iter().any(|g| g == "*")
            && self.resources.iter().any(|r| r == "*")
            && self.resource_names.is_empty()
    }

    pub fn wildcard_verbs(&self) -> bool {
        self.verbs.iter().any(|v| v == "*")
    }

    /// `*` or `*/subresource` in resources.
    pub fn wildcard_resources(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r == "*" || r.starts_with("*/"))
    }

    /// `get, list on secrets, configmaps` / `get on /healthz` / `* on deployments (apps)`.
    pub fn describe(&self) -> String {
        let verbs = self.verbs.join(", ");
        if self.resources.is_empty() && !self.non_resource_urls.is_empty() {
            return format!("{verbs} on {}", self.non_resource_urls.join(", "));
        }
        let mut s = format!("{verbs} on {}", self.resources.join(", "));
        if self.api_groups.iter().any(|g| !g.is_empty()) {
            let groups: Vec<&str> = self
                .api_groups
                .iter()
                .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                .collect();
            s.push_str(&format!(" (apiGroups {})", groups.join(", ")));
        }
        if !self.resource_names.is_empty() {
            s.push_str(&format!(" named {}", self.resource_names.join(", ")));
        }
        s
    }
}

/// The attributes of an API request, as the authorizer sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Request<'r> {
    pub verb: &'r str,
    pub group: &'r str,
    pub resource: &'r str,
    pub subresource: &'r str,
    pub name: Option<&'r str>,
    /// The namespace of a namespaced resource request; `None` for cluster-scoped resources,
    /// requests across all namespaces and non-resource URLs (only ClusterRoleBindings count).
    pub namespace: Option<&'r str>,
    /// The path of a non-resource request (`/healthz`); the resource fields are then ignored.
    pub path: Option<&'r str>,
}

impl<'r> Request<'r> {
    /// A resource request; `resource` may carry its subresource (`pods/exec`).
    pub fn resource(verb: &'r str, group: &'r str, resource: &'r str) -> Request<'r> {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Request {
            verb,
            group,
            resource,
            subresource,
            ..Request::default()
        }
    }

    pub fn url(verb: &'r str, path: &'r str) -> Request<'r> {
        Request {
            verb,
            path: Some(path),
            ..Request::default()
        }
    }

    pub fn in_namespace(mut self, namespace: &'r str) -> Request<'r> {
        self.namespace = Some(namespace);
        self
    }

    pub fn named(mut self, name: &'r str) -> Request<'r> {
        self.name = Some(name);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Label selectors (aggregationRule.clusterRoleSelectors)
// ---------------------------------------------------------------------------------------------

/// An aggregation label selector: [`LabelSelector`] (the one implementation of selector
/// semantics), except that a null or non-mapping selector selects nothing, as
/// `metav1.LabelSelectorAsSelector` reads a nil selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(Option<LabelSelector>);

impl Selector {
    pub fn from_node(node: &Node) -> Selector {
        if !node.is_map() {
            return Selector(None);
        }
        let mut problems = Vec::new();
        Selector(Some(LabelSelector::parse(node, "", &mut problems)))
    }

    /// A selector requiring `key: value`.
    pub fn label(key: &str, value: &str) -> Selector {
        Selector(Some(LabelSelector {
            match_labels: Labels::from([(key.to_owned(), value.to_owned())]),
            ..LabelSelector::default()
        }))
    }

    /// Does the selector select a role with these labels?
    pub fn matches(&self, labels: &RoleLabels) -> bool {
        self.0.as_ref().is_some_and(|s| s.matches(labels))
    }

    /// One `matchLabels` pair, to index candidates by (a selector needs at least that label).
    fn first_label(&self) -> Option<(&String, &String)> {
        self.0.as_ref()?.match_labels.iter().next()
    }
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// A rule of a role, by position: `roles[role].rules[index]` of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleId {
    pub role: usize,
    pub index: usize,
}

impl RuleId {
    /// Pointer of the rule inside its role object.
    pub fn pointer(&self) -> String {
        format!("/rules/{}", self.index)
    }
}

/// A role's labels, sorted by key, in one allocation, their strings inline up to 15 bytes:
/// thousands of ClusterRoles each carry a few labels (a `BTreeMap` took a 544-byte node for each).
pub type RoleLabels = Labels<Text>;

/// A Role or ClusterRole, from the input or built in.
#[derive(Debug)]
pub struct Role<'a> {
    /// Position in [`Rbac::roles`].
    pub id: usize,
    pub kind: RoleKind,
    pub name: String,
    /// For Roles.
    pub namespace: Option<String>,
    /// `None` for a built-in role the input does not hold.
    pub object: Option<&'a Retained>,
    /// Annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
    autoupdate_off: bool,
    pub labels: RoleLabels,
    /// The rules as written. For an aggregated ClusterRole the controller overwrites them.
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors`, for aggregated ClusterRoles.
    pub aggregation: Option<Vec<Selector>>,
    /// A bootstrap role: modelled built-in, or an input role labelled as one.
    pub builtin: bool,
    /// An input ClusterRole that redefines a modelled built-in one (`cluster-admin`, `admin`,
    /// `edit`, `view`, `system:…`): the API server reconciles it at start-up, adding back the
    /// built-in rules, labels and aggregation selectors (the built-in definition, at this
    /// position of [`Rbac::roles`], is kept out of the name index). `None` when it carries
    /// `rbac.authorization.kubernetes.io/autoupdate: "false"`, which stops the reconciliation.
    pub reconciled_with: Option<usize>,
    /// Effective rules: the own rules, or for an aggregated ClusterRole the union of the effective
    /// rules of the ClusterRoles its selectors match.
    effective: Vec<RuleId>,
}

impl<'a> Role<'a> {
    fn from_object(kept: &'a Retained) -> Role<'a> {
        let object = &*kept.object();
        let kind = if object.kind == "Role" {
            RoleKind::Role
        } else {
            RoleKind::ClusterRole
        };
        let aggregation = match kind {
            RoleKind::ClusterRole => object
                .root
                .get("aggregationRule")
                .filter(|a| a.is_map())
                .map(|a| {
                    a.get("clusterRoleSelectors")
                        .map(Node::items)
                        .unwrap_or(&[])
                        .iter()
                        .map(Selector::from_node)
                        .collect()
                }),
            RoleKind::Role => None,
        };
        let labels = object.labels();
        Role {
            id: 0,
            kind,
            name: object.name.clone(),
            namespace: match kind {
                RoleKind::Role => object.effective_namespace().map(str::to_owned),
                RoleKind::ClusterRole => None,
            },
            object: Some(kept),
            autoupdate_off: object
                .annotation(AUTOUPDATE_ANNOTATION)
                .is_some_and(|v| v.eq_ignore_ascii_case("false")),
            builtin: labels
                .get(BOOTSTRAP_LABEL)
                .is_some_and(|v| v == "rbac-defaults"),
            labels: labels.to(),
            rules: object
                .root
                .get("rules")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .map(PolicyRule::from_node)
                .collect(),
            aggregation,
            reconciled_with: None,
            effective: Vec::new(),
        }
    }

    /// The built-in definition (modelled, or an input role the API server reconciles with it).
    pub fn builtin_or_reconciled(&self) -> bool {
        self.object.is_none() || self.reconciled_with.is_some()
    }

    /// An input ClusterRole named like a modelled built-in one (reconciled or not).
    pub fn redefines_builtin(&self) -> bool {
        self.object.is_some() && self.kind == RoleKind::ClusterRole && modelled_builtin(&self.name)
    }

    /// Positions of the effective rules (see [`Rbac::rules_of`] for the rules themselves).
    pub fn effective_rules(&self) -> &[RuleId] {
        &self.effective
    }

    /// `Role "ns/name"`, `ClusterRole "name"`, `ClusterRole "edit" (built-in)`.
    pub fn describe(&self) -> String {
        let name = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        };
        let builtin = if self.object.is_none() {
            " (built-in)"
        } else {
            ""
        };
        format!("{} \"{name}\"{builtin}", self.kind.as_str())
    }
}

/// A built-in ClusterRole: labels, the label its aggregation selects, and rules as
/// `(apiGroups, resources, verbs)`, whitespace-separated, `core` for the core group; apiGroups
/// `url` makes the resources non-resource URLs.
struct BuiltinRole {
    name: &'static str,
    labels: &'static [&'static str],
    aggregates: Option<&'static str>,
    rules: &'static [(&'static str, &'static str, &'static str)],
}

const TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
const WRITE: &str = "create delete deletecollection patch update";
const READ: &str = "get list watch";

/// The bootstrap ClusterRoles that matter for a security audit, as of Kubernetes 1.33.
#[rustfmt::skip]
static BUILTIN_ROLES: &[BuiltinRole] = &[
    BuiltinRole { name: "cluster-admin", labels: &[], aggregates: None,
        rules: &[("*", "*", "*"), ("url", "*", "*")] },
    BuiltinRole { name: "admin", labels: &[], aggregates: Some(TO_ADMIN), rules: &[] },
    BuiltinRole { name: "edit", labels: &[TO_ADMIN], aggregates: Some(TO_EDIT), rules: &[] },
    BuiltinRole { name: "view", labels: &[TO_EDIT], aggregates: Some(TO_VIEW), rules: &[] },
    BuiltinRole { name: "system:aggregate-to-admin", labels: &[TO_ADMIN], aggregates: None, rules: &[
        ("authorization.k8s.io", "localsubjectaccessreviews", "create"),
        ("rbac.authorization.k8s.io", "roles rolebindings", "create delete deletecollection get list patch update watch"),
    ] },
    BuiltinRole { name: "system:aggregate-to-edit", labels: &[TO_EDIT], aggregates: None, rules: &[
        ("core", "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy", READ),
        ("core", "serviceaccounts", "impersonate"),
        ("core", "pods pods/attach pods/exec pods/portforward pods/proxy", WRITE),
        ("core", "pods/eviction serviceaccounts/token", "create"),
        ("core", "configmaps persistentvolumeclaims replicationcontrollers replicationcontrollers/scale \
            secrets serviceaccounts services services/proxy", WRITE),
        ("core events.k8s.io", "events", WRITE),
        ("apps", "daemonsets deployments deployments/rollback deployments/scale replicasets \
            replicasets/scale statefulsets statefulsets/scale", WRITE),
        ("autoscaling", "horizontalpodautoscalers", WRITE),
        ("batch", "cronjobs jobs", WRITE),
        ("extensions", "daemonsets deployments deployments/rollback deployments/scale ingresses \
            networkpolicies replicasets replicasets/scale replicationcontrollers/scale", WRITE),
        ("policy", "poddisruptionbudgets", WRITE),
        ("networking.k8s.io", "ingresses networkpolicies", WRITE),
        ("coordination.k8s.io", "leases", "create delete deletecollection get list patch update watch"),
        ("resource.k8s.io", "resourceclaims resourceclaimtemplates", WRITE),
    ] },
    BuiltinRole { name: "system:aggregate-to-view", labels: &[TO_VIEW], aggregates: None, rules: &[
        ("core", "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods \
            replicationcontrollers replicationcontrollers/scale serviceaccounts services services/status", READ),
        ("core", "bindings limitranges namespaces namespaces/status pods/log pods/status \
            replicationcontrollers/status resourcequotas resourcequotas/status", READ),
        ("core events.k8s.io", "events", READ),
        ("discovery.k8s.io", "endpointslices", READ),
        ("apps", "controllerrevisions daemonsets daemonsets/status deployments deployments/scale \
            deployments/status replicasets replicasets/scale replicasets/status statefulsets \
            statefulsets/scale statefulsets/status", READ),
        ("autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status", READ),
        ("batch", "cronjobs cronjobs/status jobs jobs/status", READ),
        ("extensions", "daemonsets daemonsets/status deployments deployments/scale deployments/status \
            ingresses ingresses/status networkpolicies replicasets replicasets/scale replicasets/status \
            replicationcontrollers/scale", READ),
        ("policy", "poddisruptionbudgets poddisruptionbudgets/status", READ),
        ("networking.k8s.io", "ingresses ingresses/status networkpolicies", READ),
        ("resource.k8s.io", "resourceclaims resourceclaims/status resourceclaimtemplates", READ),
    ] },
    BuiltinRole { name: "system:discovery", labels: &[], aggregates: None, rules: &[
        ("url", "/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* /readyz /version /version/", "get"),
    ] },
    BuiltinRole { name: "system:public-info-viewer", labels: &[], aggregates: None, rules: &[
        ("url", "/healthz /livez /readyz /version /version/", "get"),
    ] },
    BuiltinRole { name: "system:basic-user", labels: &[], aggregates: None, rules: &[
        ("authorization.k8s.io", "selfsubjectaccessreviews selfsubjectrulesreviews", "create"),
        ("authentication.k8s.io", "selfsubjectreviews", "create"),
    ] },
    BuiltinRole { name: "system:service-account-issuer-discovery", labels: &[], aggregates: None, rules: &[
        ("url", "/.well-known/openid-configuration /.well-known/openid-configuration/ /openid/v1/jwks \
            /openid/v1/jwks/", "get"),
    ] },
    BuiltinRole { name: "system:monitoring", labels: &[], aggregates: None, rules: &[
        ("url", "/healthz /healthz/* /livez /livez/* /metrics /metrics/slis /readyz /readyz/* /statusz", "get"),
        ("core", "nodes/metrics", "get"),
    ] },
    BuiltinRole { name: "system:auth-delegator", labels: &[], aggregates: None, rules: &[
        ("authentication.k8s.io", "tokenreviews", "create"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
    ] },
    BuiltinRole { name: "system:kubelet-api-admin", labels: &[], aggregates: None, rules: &[
        ("core", "nodes", "get list watch proxy"),
        ("core", "nodes/log nodes/metrics nodes/proxy nodes/stats nodes/configz nodes/healthz nodes/pods", "*"),
    ] },
    BuiltinRole { name: "system:node", labels: &[], aggregates: None, rules: &[
        ("core", "configmaps secrets services pods", READ),
        ("core", "pods", "create delete"),
        ("core", "pods/status nodes nodes/status", "patch update"),
        ("core", "nodes", "create get list watch"),
        ("core", "pods/eviction serviceaccounts/token", "create"),
        ("core", "persistentvolumeclaims persistentvolumes endpoints serviceaccounts", "get"),
        ("core events.k8s.io", "events", "create patch update"),
        ("certificates.k8s.io", "certificatesigningrequests", "create get list watch"),
    ] },
    BuiltinRole { name: "system:node-bootstrapper", labels: &[], aggregates: None, rules: &[
        ("certificates.k8s.io", "certificatesigningrequests", "create get list watch"),
    ] },
];

fn builtin_role<'a>(b: &BuiltinRole) -> Role<'a> {
    let mut labels: RoleLabels = b
        .labels
        .iter()
        .map(|l| (Text::from(*l), Text::from("true")))
        .collect();
    labels.insert(BOOTSTRAP_LABEL.into(), "rbac-defaults".into());
    Role {
        id: 0,
        kind: RoleKind::ClusterRole,
        name: b.name.to_owned(),
        namespace: None,
        object: None,
        autoupdate_off: false,
        labels,
        rules: b
            .rules
            .iter()
            .map(|&(groups, resources, verbs)| {
                if groups == "url" {
                    PolicyRule::urls(verbs, resources)
                } else {
                    PolicyRule::resources(verbs, groups, resources)
                }
            })
            .collect(),
        aggregation: b.aggregates.map(|l| vec![Selector::label(l, "true")]),
        builtin: true,
        reconciled_with: None,
        effective: Vec::new(),
    }
}

/// Names of ClusterRoles modelled as built-ins.
pub fn modelled_builtin(name: &str) -> bool {
    BUILTIN_ROLES.iter().any(|b| b.name == name)
}

/// Does every cluster (or its distribution) provide this role? The modelled built-ins, any name
/// with the reserved `system:` prefix (bootstrap roles, controller roles), kubeadm's `kubeadm:`
/// roles, EKS's `eks:` and GKE's `gce:` roles, and the kube-system Role
/// `extension-apiserver-authentication-reader`.
pub fn is_platform_role(kind: RoleKind, name: &str) -> bool {
    (kind == RoleKind::ClusterRole && modelled_builtin(name))
        || ["system:", "kubeadm:", "eks:", "gce:"]
            .iter()
            .any(|p| name.starts_with(p))
        || (kind == RoleKind::Role && name == "extension-apiserver-authentication-reader")
}

// ---------------------------------------------------------------------------------------------
// Bindings, subjects, identities
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
    /// Any other kind: matches nobody.
    Other,
}

/// One entry of a binding's `subjects`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    /// For a ServiceAccount: its namespace, defaulted to the RoleBinding's. `None` in a
    /// ClusterRoleBinding without one (such a subject never matches).
    pub namespace: Option<String>,
    /// Position in `subjects`.
    pub index: usize,
}

/// Who a subject stands for, for service-account analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceAccounts<'s> {
    One {
        namespace: &'s str,
        name: &'s str,
    },
    /// Group `system:serviceaccounts:<ns>`.
    Namespace(&'s str),
    /// Group `system:serviceaccounts`.
    All,
}

impl Subject {
    pub fn pointer(&self) -> String {
        format!("/subjects/{}", self.index)
    }

    pub fn is_system(&self) -> bool {
        self.name.starts_with("system:")
    }

    /// A User or Group outside the reserved `system:` names: a person or a team.
    pub fn is_human(&self) -> bool {
        matches!(self.kind, SubjectKind::User | SubjectKind::Group) && !self.is_system()
    }

    /// The service accounts this subject stands for: a ServiceAccount subject, a User named
    /// `system:serviceaccount:<ns>:<name>`, or the groups `system:serviceaccounts[:<ns>]`.
    pub fn service_accounts(&self) -> Option<ServiceAccounts<'_>> {
        match self.kind {
            SubjectKind::ServiceAccount => Some(ServiceAccounts::One {
                namespace: self.namespace.as_deref()?,
                name: &self.name,
            }),
            SubjectKind::User => {
                let rest = self.name.strip_prefix("system:serviceaccount:")?;
                let (namespace, name) = rest.split_once(':')?;
                Some(ServiceAccounts::One { namespace, name })
            }
            SubjectKind::Group if self.name == "system:serviceaccounts" => {
                Some(ServiceAccounts::All)
            }
            SubjectKind::Group => self
                .name
                .strip_prefix("system:serviceaccounts:")
                .map(ServiceAccounts::Namespace),
            SubjectKind::Other => None,
        }
    }
}

impl fmt::Display for Subject {
    /// `User "alice"`, `Group "ops"`, `ServiceAccount "ns/name"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => {
                write!(f, "ServiceAccount \"{ns}/{}\"", self.name)
            }
            (SubjectKind::ServiceAccount, None) => {
                write!(f, "ServiceAccount \"{}\" (no namespace)", self.name)
            }
            (SubjectKind::User, _) => write!(f, "User \"{}\"", self.name),
            (SubjectKind::Group, _) => write!(f, "Group \"{}\"", self.name),
            (SubjectKind::Other, _) => write!(f, "subject \"{}\"", self.name),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BindingKind {
    RoleBinding,
    ClusterRoleBinding,
}

impl BindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingKind::RoleBinding => "RoleBinding",
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        }
    }
}

/// Where a binding's grant applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope<'s> {
    /// A ClusterRoleBinding: every namespace, cluster-scoped resources, non-resource URLs.
    Cluster,
    /// A RoleBinding: namespaced resources of that namespace only.
    Namespace(&'s str),
}

impl Scope<'_> {
    /// Does a grant of this scope apply to the request?
    pub fn covers(&self, req: &Request) -> bool {
        match self {
            Scope::Cluster => true,
            Scope::Namespace(ns) => req.path.is_none() && req.namespace == Some(*ns),
        }
    }
}

impl fmt::Display for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster-wide"),
            Scope::Namespace(ns) => write!(f, "in namespace \"{ns}\""),
        }
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug)]
pub struct Binding<'a> {
    pub object: &'a Retained,
    /// Labelled `kubernetes.io/bootstrapping: rbac-defaults`.
    bootstrap: bool,
    /// Annotated `kubeharden.io/break-glass: "true"`.
    break_glass_annotation: bool,
    pub kind: BindingKind,
    pub name: String,
    /// For RoleBindings.
    pub namespace: Option<String>,
    /// `roleRef.kind`; `None` when it is neither, or a Role from a ClusterRoleBinding.
    pub role_kind: Option<RoleKind>,
    /// `roleRef.apiGroup` as written (empty is defaulted to `rbac.authorization.k8s.io`); any
    /// other value makes the API server reject the binding.
    pub role_api_group: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
}

impl<'a> Binding<'a> {
    fn from_object(kept: &'a Retained) -> Binding<'a> {
        let object = &*kept.object();
        let kind = if object.kind == "RoleBinding" {
            BindingKind::RoleBinding
        } else {
            BindingKind::ClusterRoleBinding
        };
        let namespace = match kind {
            BindingKind::RoleBinding => object.effective_namespace().map(str::to_owned),
            BindingKind::ClusterRoleBinding => None,
        };
        let text = |n: &Node, k: &str| n.get(k).and_then(Node::text).unwrap_or("").to_owned();
        let role_ref = object.root.get("roleRef");
        let role_kind = match (role_ref.map(|r| text(r, "kind")).as_deref(), kind) {
            (Some("Role"), BindingKind::RoleBinding) => Some(RoleKind::Role),
            (Some("ClusterRole"), _) => Some(RoleKind::ClusterRole),
            _ => None,
        };
        let subjects = object
            .root
            .get("subjects")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(index, s)| {
                let kind = match text(s, "kind").as_str() {
                    "User" => SubjectKind::User,
                    "Group" => SubjectKind::Group,
                    "ServiceAccount" => SubjectKind::ServiceAccount,
                    _ => SubjectKind::Other,
                };
                let own = Some(text(s, "namespace")).filter(|n| !n.is_empty());
                Subject {
                    kind,
                    name: text(s, "name"),
                    namespace: match kind {
                        SubjectKind::ServiceAccount => own.or_else(|| namespace.clone()),
                        _ => own,
                    },
                    index,
                }
            })
            .collect();
        Binding {
            object: kept,
            bootstrap: object.label(BOOTSTRAP_LABEL) == Some("rbac-defaults"),
            break_glass_annotation: object
                .annotation(BREAK_GLASS_ANNOTATION)
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            kind,
            name: object.name.clone(),
            role_kind,
            role_name: role_ref.map(|r| text(r, "name")).unwrap_or_default(),
            role_api_group: role_ref.map(|r| text(r, "apiGroup")).unwrap_or_default(),
            namespace,
            subjects,
        }
    }

    pub fn scope(&self) -> Scope<'_> {
        match &self.namespace {
            Some(ns) if self.kind == BindingKind::RoleBinding => Scope::Namespace(ns),
            _ => Scope::Cluster,
        }
    }

    /// `roleRef.apiGroup` is `rbac.authorization.k8s.io` (or empty, which is defaulted to it).
    pub fn role_api_group_valid(&self) -> bool {
        self.role_api_group.is_empty() || self.role_api_group == RBAC_GROUP
    }

    /// Reconciled by the API server (label `kubernetes.io/bootstrapping: rbac-defaults`).
    pub fn is_bootstrap(&self) -> bool {
        self.bootstrap
    }

    /// Designated as the break-glass binding: annotation `kubeharden.io/break-glass: "true"`, or
    /// `break-glass` / `breakglass` in its name.
    pub fn is_break_glass(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        self.break_glass_annotation || name.contains("break-glass") || name.contains("breakglass")
    }

    /// `RoleBinding "ns/name"`, `ClusterRoleBinding "name"`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} \"{ns}/{}\"", self.kind.as_str(), self.name),
            None => format!("{} \"{}\"", self.kind.as_str(), self.name),
        }
    }

    /// How the roleRef reads: `Role "ns/name"`, `ClusterRole "name"`.
    pub fn describe_role_ref(&self) -> String {
        match (self.role_kind, &self.namespace) {
            (Some(RoleKind::Role), Some(ns)) => format!("Role \"{ns}/{}\"", self.role_name),
            (Some(kind), _) => format!("{} \"{}\"", kind.as_str(), self.role_name),
            (None, _) => format!("role \"{}\"", self.role_name),
        }
    }
}

/// An authenticated (or anonymous) identity: a user name and its groups, including the implicit
/// ones the authenticators add.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principal {
    pub user: Option<String>,
    pub groups: BTreeSet<String>,
}

impl Principal {
    /// `system:serviceaccount:<ns>:<name>` in `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>` and `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Principal {
        Principal {
            user: Some(format!("system:serviceaccount:{namespace}:{name}")),
            groups: [
                "system:serviceaccounts".to_owned(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_owned(),
            ]
            .into(),
        }
    }

    /// An authenticated user with its groups (plus `system:authenticated`).
    pub fn user(name: &str, groups: &[&str]) -> Principal {
        let mut set: BTreeSet<String> = groups.iter().map(|g| (*g).to_owned()).collect();
        set.insert("system:authenticated".to_owned());
        Principal {
            user: Some(name.to_owned()),
            groups: set,
        }
    }

    /// `system:anonymous` in `system:unauthenticated`.
    pub fn anonymous() -> Principal {
        Principal {
            user: Some("system:anonymous".to_owned()),
            groups: ["system:unauthenticated".to_owned()].into(),
        }
    }

    /// Any member of a group, known only by that membership.
    pub fn group(name: &str) -> Principal {
        Principal {
            user: None,
            groups: [name.to_owned()].into(),
        }
    }

    /// Does the subject of a binding name this identity?
    pub fn matches(&self, s: &Subject) -> bool {
        match s.kind {
            SubjectKind::User => self.user.as_deref() == Some(s.name.as_str()),
            SubjectKind::Group => self.groups.contains(&s.name),
            SubjectKind::ServiceAccount => match (&s.namespace, &self.user) {
                (Some(ns), Some(user)) => {
                    user.strip_prefix("system:serviceaccount:")
                        .and_then(|rest| rest.split_once(':'))
                        == Some((ns.as_str(), s.name.as_str()))
                }
                _ => false,
            },
            SubjectKind::Other => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/// What a binding's roleRef resolves to.
#[derive(Clone, Copy, Debug)]
pub enum Resolution<'r, 'a> {
    Role(&'r Role<'a>),
    /// Provided by the platform (see [`is_platform_role`]) but not modelled: rules unknown.
    Platform,
    /// Neither in the input nor provided by the platform: the binding grants nothing yet.
    Missing,
    /// A roleRef the API server rejects (unknown kind, or a Role from a ClusterRoleBinding).
    Invalid,
}

/// A binding that applies to an identity, with the role it grants and where.
#[derive(Clone, Copy, Debug)]
pub struct Grant<'r, 'a> {
    pub binding: &'r Binding<'a>,
    pub subject: &'r Subject,
    pub role: &'r Role<'a>,
    pub scope: Scope<'r>,
}

/// Roles, bindings and service accounts of an inventory, with aggregation resolved.
#[derive(Debug, Default)]
pub struct Rbac<'a> {
    /// The input's roles, then the modelled built-in ClusterRoles the input does not define.
    pub roles: Vec<Role<'a>>,
    pub bindings: Vec<Binding<'a>>,
    pub service_accounts: Vec<&'a Retained>,
    /// The input defines at least one Role or ClusterRole.
    pub has_role_objects: bool,
    /// Aggregation exceeded [`AGGREGATION_BUDGET`] (hostile input): some aggregated ClusterRoles
    /// lack rules.
    pub aggregation_truncated: bool,
    /// (kind, namespace or "", name) → the role that counts (the last one of that name).
    index: HashMap<(RoleKind, String, String), usize>,
}

impl<'a> Rbac<'a> {
    /// Builds the model from the objects of an inventory (other kinds are ignored).
    pub fn new<I: IntoIterator<Item = &'a Retained>>(objects: I) -> Rbac<'a> {
        let mut rbac = Rbac::default();
        for o in objects {
            let rbac_group = o.group() == RBAC_GROUP;
            match o.kind() {
                "Role" | "ClusterRole" if rbac_group => rbac.push_role(Role::from_object(o)),
                "RoleBinding" | "ClusterRoleBinding" if rbac_group => {
                    rbac.bindings.push(Binding::from_object(o));
                }
                "ServiceAccount" if o.group().is_empty() => rbac.service_accounts.push(o),
                _ => {}
            }
        }
        rbac.has_role_objects = !rbac.roles.is_empty();
        for b in BUILTIN_ROLES {
            match rbac.role(RoleKind::ClusterRole, None, b.name).map(|r| r.id) {
                None => rbac.push_role(builtin_role(b)),
                Some(id) => rbac.reconcile(id, b),
            }
        }
        rbac.aggregate();
        rbac
    }

    /// The API server's start-up reconciliation of a bootstrap ClusterRole the input redefines
    /// (`reconciliation.ReconcileRoleOptions` without `RemoveExtraPermissions`): the built-in
    /// rules, labels and aggregation selectors are added to the stored role, whatever the
    /// manifest says, unless the role is annotated `autoupdate: "false"`.
    fn reconcile(&mut self, id: usize, b: &BuiltinRole) {
        if self.roles[id].autoupdate_off {
            return;
        }
        let mut hidden = builtin_role(b);
        hidden.id = self.roles.len();
        let aggregation = hidden.aggregation.take();
        let labels = std::mem::take(&mut hidden.labels);
        let hidden_id = hidden.id;
        self.roles.push(hidden);
        let role = &mut self.roles[id];
        role.reconciled_with = Some(hidden_id);
        for (k, v) in labels {
            if k != BOOTSTRAP_LABEL {
                // The role's own value stays.
                role.labels.get_or_insert_with(k, || v);
            }
        }
        if let Some(selectors) = aggregation {
            let own = role.aggregation.get_or_insert_with(Vec::new);
            for s in selectors {
                if !own.contains(&s) {
                    own.push(s);
                }
            }
        }
    }

    fn push_role(&mut self, mut role: Role<'a>) {
        role.id = self.roles.len();
        let key = (
            role.kind,
            role.namespace.clone().unwrap_or_default(),
            role.name.clone(),
        );
        self.index.insert(key, role.id);
        self.roles.push(role);
    }

    /// The role of that kind and name (and namespace, for Roles) that counts.
    pub fn role(&self, kind: RoleKind, namespace: Option<&str>, name: &str) -> Option<&Role<'a>> {
        let key = (
            kind,
            namespace.unwrap_or_default().to_owned(),
            name.to_owned(),
        );
        self.index.get(&key).map(|&i| &self.roles[i])
    }

    fn counts(&self, role: &Role) -> bool {
        self.role(role.kind, role.namespace.as_deref(), &role.name)
            .is_some_and(|r| r.id == role.id)
    }

    /// Resolves `aggregationRule`s: an aggregated ClusterRole's effective rules are the union of
    /// the effective rules of the ClusterRoles its selectors match (transitively; a cycle adds
    /// nothing). Iterative, and bounded by [`AGGREGATION_BUDGET`] for hostile input.
    fn aggregate(&mut self) {
        let n = self.roles.len();
        let counts: Vec<bool> = self
            .roles
            .iter()
            .map(|r| r.kind == RoleKind::ClusterRole && self.counts(r))
            .collect();
        let mut by_label: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (j, role) in self.roles.iter().enumerate().filter(|(j, _)| counts[*j]) {
            for (k, v) in role.labels.iter() {
                by_label
                    .entry((k.as_str(), v.as_str()))
                    .or_default()
                    .push(j);
            }
        }
        let all: Vec<usize> = (0..n).filter(|&j| counts[j]).collect();
        let mut budget = AGGREGATION_BUDGET;
        let mut truncated = false;
        // The ClusterRoles each aggregated role selects.
        let mut selected: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, role) in self.roles.iter().enumerate() {
            let Some(selectors) = &role.aggregation else {
                continue;
            };
            let mut picked = BTreeSet::new();
            for s in selectors {
                let candidates = match s.first_label() {
                    Some((k, v)) => by_label
                        .get(&(k.as_str(), v.as_str()))
                        .map_or(&[][..], Vec::as_slice),
                    None => &all[..],
                };
                if candidates.len() > budget {
                    truncated = true;
                    break;
                }
                budget -= candidates.len();
                picked.extend(
                    candidates
                        .iter()
                        .copied()
                        .filter(|&j| j != i && s.matches(&self.roles[j].labels)),
                );
            }
            selected[i] = picked.into_iter().collect();
        }
        // Depth-first, children before parents; a role still on the stack (a cycle) adds nothing.
        let mut effective: Vec<Option<Vec<RuleId>>> = vec![None; n];
        let mut on_stack = vec![false; n];
        for root in 0..n {
            if effective[root].is_some() {
                continue;
            }
            let mut stack = vec![(root, 0usize)];
            on_stack[root] = true;
            while let Some((i, next)) = stack.last().copied() {
                if self.roles[i].aggregation.is_none() {
                    // A reconciled built-in: its own rules, then the built-in ones added back.
                    let reconciled = self.roles[i].reconciled_with;
                    effective[i] = Some(
                        std::iter::once(i)
                            .chain(reconciled)
                            .flat_map(|r| {
                                (0..self.roles[r].rules.len())
                                    .map(move |index| RuleId { role: r, index })
                            })
                            .collect(),
                    );
                } else if let Some(&j) = selected[i].get(next) {
                    stack.last_mut().unwrap().1 += 1;
                    if effective[j].is_none() && !on_stack[j] {
                        on_stack[j] = true;
                        stack.push((j, 0));
                    }
                    continue;
                } else {
                    let mut seen = HashSet::new();
                    let mut out = Vec::new();
                    for child in selected[i].iter().filter_map(|&j| effective[j].as_ref()) {
                        if child.len() > budget {
                            truncated = true;
                            break;
                        }
                        budget -= child.len();
                        out.extend(child.iter().copied().filter(|id| seen.insert(*id)));
                    }
                    effective[i] = Some(out);
                }
                on_stack[i] = false;
                stack.pop();
            }
        }
        for (role, effective) in self.roles.iter_mut().zip(effective) {
            role.effective = effective.unwrap_or_default();
        }
        self.aggregation_truncated = truncated;
    }

    pub fn rule(&self, id: RuleId) -> &PolicyRule {
        &self.roles[id.role].rules[id.index]
    }

    /// The effective rules of a role, with their positions.
    pub fn rules_of<'r>(
        &'r self,
        role: &'r Role<'a>,
    ) -> impl Iterator<Item = (RuleId, &'r PolicyRule)> + 'r {
        role.effective.iter().map(|&id| (id, self.rule(id)))
    }

    /// `rules[2]`, or for a rule aggregated from another role `rules[2] of ClusterRole "x"`.
    pub fn describe_rule(&self, id: RuleId, via: &Role) -> String {
        if id.role == via.id {
            format!("rules[{}]", id.index)
        } else {
            format!("rules[{}] of {}", id.index, self.roles[id.role].describe())
        }
    }

    pub fn resolve(&self, b: &Binding) -> Resolution<'_, 'a> {
        let Some(kind) = b.role_kind else {
            return Resolution::Invalid;
        };
        if !b.role_api_group_valid() {
            return Resolution::Invalid;
        }
        let namespace = match kind {
            RoleKind::Role => b.namespace.as_deref(),
            RoleKind::ClusterRole => None,
        };
        match self.role(kind, namespace, &b.role_name) {
            Some(role) => Resolution::Role(role),
            None if is_platform_role(kind, &b.role_name) => Resolution::Platform,
            None => Resolution::Missing,
        }
    }

    /// Every binding that applies to the identity, with the role it grants (bindings to missing
    /// or unmodelled roles grant nothing known and are left out).
    pub fn grants(&self, who: &Principal) -> Vec<Grant<'_, 'a>> {
        self.bindings
            .iter()
            .filter_map(|b| {
                let subject = b.subjects.iter().find(|s| who.matches(s))?;
                match self.resolve(b) {
                    Resolution::Role(role) => Some(Grant {
                        binding: b,
                        subject,
                        role,
                        scope: b.scope(),
                    }),
                    _ => None,
                }
            })
            .collect()
    }

    /// The rules in effect for the identity in a namespace (`Some`), or for cluster-scoped and
    /// all-namespace requests (`None`): the grants of its ClusterRoleBindings, plus for a
    /// namespace those of the namespace's RoleBindings.
    pub fn effective_rules(
        &self,
        who: &Principal,
        namespace: Option<&str>,
    ) -> Vec<(Grant<'_, 'a>, RuleId)> {
        self.grants(who)
            .into_iter()
            .filter(|g| match g.scope {
                Scope::Cluster => true,
                Scope::Namespace(ns) => Some(ns) == namespace,
            })
            .flat_map(|g| g.role.effective.iter().map(move |&id| (g, id)))
            .collect()
    }

    /// The first grant and rule that allow the request, as the RBAC authorizer decides it.
    pub fn authorize(&self, who: &Principal, req: &Request) -> Option<(Grant<'_, 'a>, RuleId)> {
        self.grants(who)
            .into_iter()
            .filter(|g| g.scope.covers(req))
            .find_map(|g| {
                self.rules_of(g.role)
                    .find(|(_, rule)| rule.allows(req))
                    .map(|(id, _)| (g, id))
            })
    }

    /// Can the identity do `verb` on `group`/`resource`/`subresource` in `namespace` (`None`: a
    /// cluster-scoped resource or all namespaces)?
    pub fn can(
        &self,
        who: &Principal,
        verb: &str,
        group: &str,
        resource: &str,
        subresource: &str,
        namespace: Option<&str>,
    ) -> bool {
        let req = Request {
            verb,
            group,
            resource,
            subresource,
            namespace,
            ..Request::default()
        };
        self.authorize(who, &req).is_some()
    }

    /// The binding subjects that are allowed the request (by the roles the input and the model
    /// know).
    pub fn who_can(&self, req: &Request) -> Vec<(&Binding<'a>, &Subject)> {
        self.bindings
            .iter()
            .filter(|b| b.scope().covers(req))
            .filter(|b| match self.resolve(b) {
                Resolution::Role(role) => self.rules_of(role).any(|(_, r)| r.allows(req)),
                _ => false,
            })
            .flat_map(|b| b.subjects.iter().map(move |s| (b, s)))
            .collect()
    }

    /// Does the role grant full control of every resource (cluster-admin, or an equivalent: see
    /// [`PolicyRule::is_full_control`])?
    pub fn is_cluster_admin(&self, role: &Role<'a>) -> bool {
        self.rules_of(role).any(|(_, r)| r.is_full_control())
    }

    /// Does the role, bound in a namespace, make its holder that namespace's administrator: the
    /// built-in `admin` (which can also grant any of its rights to others there) or a
    /// cluster-admin equivalent?
    pub fn is_namespace_admin(&self, role: &Role<'a>) -> bool {
        (role.kind == RoleKind::ClusterRole && role.name == "admin" && role.builtin_or_reconciled())
            || self.is_cluster_admin(role)
    }

    /// Every subject bound in a namespace (RoleBinding) to `admin`, `cluster-admin` or an
    /// equivalent role, with the namespace as the grant's scope.
    pub fn namespace_admins(&self) -> Vec<Grant<'_, 'a>> {
        self.grants_through(BindingKind::RoleBinding, |role| {
            self.is_namespace_admin(role)
        })
    }

    /// Every subject bound cluster-wide (ClusterRoleBinding) to a cluster-admin equivalent role.
    pub fn cluster_admins(&self) -> Vec<Grant<'_, 'a>> {
        self.grants_through(BindingKind::ClusterRoleBinding, |role| {
            self.is_cluster_admin(role)
        })
    }

    /// Every subject of the bindings of `kind` whose role `grants`, with the binding's scope.
    fn grants_through(
        &self,
        kind: BindingKind,
        grants: impl Fn(&Role<'a>) -> bool,
    ) -> Vec<Grant<'_, 'a>> {
        self.bindings
            .iter()
            .filter(|b| b.kind == kind)
            .filter_map(|b| match self.resolve(b) {
                Resolution::Role(role) if grants(role) => Some((b, role)),
                _ => None,
            })
            .flat_map(|(b, role)| {
                b.subjects.iter().map(move |subject| Grant {
                    binding: b,
                    subject,
                    role,
                    scope: b.scope(),
                })
            })
            .collect()
    }

    /// The ServiceAccount object of the input, if any.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<&'a Retained> {
        self.service_accounts
            .iter()
            .rev()
            .copied()
            .find(|o| o.name() == name && o.effective_namespace() == Some(namespace))
    }

    /// The risky permissions a role grants at a binding's scope (cluster-scoped resources only
    /// count cluster-wide), in catalogue order.
    pub fn risks(&self, role: &Role<'a>, scope: Scope) -> Vec<RiskHit> {
        let rules: Vec<(RuleId, &PolicyRule)> = self.rules_of(role).collect();
        RISKS
            .iter()
            .filter(|risk| {
                !risk.privileged_namespace_only
                    || matches!(scope, Scope::Cluster | Scope::Namespace("kube-system"))
            })
            .filter_map(|risk| risk.find(&rules, scope))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Risky permissions
// ---------------------------------------------------------------------------------------------

/// A permission whose holder can escalate, read credentials or run code (see rbac.md §4).
#[derive(Debug)]
pub struct Risk {
    /// Stable id (`read-secrets`).
    pub id: &'static str,
    /// What the holder can do, as a message fragment (`read secrets`).
    pub label: &'static str,
    /// Counts only cluster-wide or in `kube-system`.
    pub privileged_namespace_only: bool,
    test: Test,
}

#[derive(Debug)]
enum Test {
    /// Every verb on every resource of every group.
    FullControl,
    /// `*` in verbs or resources.
    Wildcard,
    /// Any of the probes.
    Any(&'static [Probe]),
    /// All of the probes (each may be granted by a different rule).
    All(&'static [Probe]),
}

#[derive(Debug)]
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
    /// Resource names to probe with (none: a request without a name).
    names: &'static [&'static str],
    /// A cluster-scoped resource: a RoleBinding cannot grant it.
    cluster: bool,
}

const fn probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> Probe {
    Probe {
        verbs,
        group,
        resources,
        names: &[],
        cluster: false,
    }
}

const fn cluster_probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
) -> Probe {
    Probe {
        verbs,
        group,
        resources,
        names: &[],
        cluster: true,
    }
}

const MUTATE: &[&str] = &["create", "update", "patch"];

/// The catalogue, most severe first. Sources: Kubernetes RBAC good practices, CIS 5.1,
/// rbac-police and KubiScan (see the shared rbac.md §4).
pub static RISKS: &[Risk] = &[
    Risk {
        id: "full-control",
        label: "do anything to any resource (full control: cluster-admin equivalent)",
        privileged_namespace_only: false,
        test: Test::FullControl,
    },
    Risk {
        id: "escalate",
        label: "escalate roles (write a role with permissions it does not hold)",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(&["escalate"], RBAC_GROUP, &["clusterroles", "roles"])]),
    },
    Risk {
        id: "bind",
        label: "bind any role (grant itself cluster-admin)",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(&["bind"], RBAC_GROUP, &["clusterroles", "roles"])]),
    },
    Risk {
        id: "impersonate",
        label: "impersonate other identities",
        privileged_namespace_only: false,
        test: Test::Any(&[
            cluster_probe(&["impersonate"], "", &["users", "groups"]),
            probe(&["impersonate"], "", &["serviceaccounts"]),
            cluster_probe(
                &["impersonate"],
                "authentication.k8s.io",
                &["uids", "userextras"],
            ),
        ]),
    },
    Risk {
        id: "approve-csr",
        label: "issue client certificates (approve CSRs for the kube-apiserver-client signer)",
        privileged_namespace_only: false,
        test: Test::All(&[
            cluster_probe(
                &["update", "patch"],
                "certificates.k8s.io",
                &["certificatesigningrequests/approval"],
            ),
            Probe {
                verbs: &["approve"],
                group: "certificates.k8s.io",
                resources: &["signers"],
                names: &["kubernetes.io/kube-apiserver-client", "kubernetes.io/*"],
                cluster: true,
            },
        ]),
    },
    Risk {
        id: "nodes-proxy",
        label: "use the kubelet API through nodes/proxy (exec in every pod of a node)",
        privileged_namespace_only: false,
        test: Test::Any(&[cluster_probe(&["get", "create"], "", &["nodes/proxy"])]),
    },
    Risk {
        id: "webhook-config",
        label: "write admission webhook or policy configurations",
        privileged_namespace_only: false,
        test: Test::Any(&[cluster_probe(
            &["create", "update", "patch", "delete"],
            "admissionregistration.k8s.io",
            &[
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
                "validatingadmissionpolicies",
                "validatingadmissionpolicybindings",
                "mutatingadmissionpolicies",
                "mutatingadmissionpolicybindings",
            ],
        )]),
    },
    Risk {
        id: "token-request",
        label: "mint tokens for service accounts",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(&["create"], "", &["serviceaccounts/token"])]),
    },
    Risk {
        id: "issue-token-secrets",
        label: "create or modify secrets where powerful service accounts live (token Secrets)",
        privileged_namespace_only: true,
        test: Test::Any(&[probe(MUTATE, "", &["secrets"])]),
    },
    Risk {
        id: "read-secrets",
        label: "read secrets",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(&["get", "list", "watch"], "", &["secrets"])]),
    },
    Risk {
        id: "create-pods",
        label: "create pods (run as any service account of the namespace, mount its secrets)",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(&["create"], "", &["pods"])]),
    },
    Risk {
        id: "create-workloads",
        label: "create or modify workload controllers (which create pods)",
        privileged_namespace_only: false,
        test: Test::Any(&[
            probe(
                MUTATE,
                "apps",
                &["deployments", "daemonsets", "statefulsets", "replicasets"],
            ),
            probe(MUTATE, "batch", &["jobs", "cronjobs"]),
            probe(MUTATE, "", &["replicationcontrollers"]),
        ]),
    },
    Risk {
        id: "pod-exec",
        label: "exec into, attach to or port-forward to pods",
        privileged_namespace_only: false,
        test: Test::Any(&[probe(
            &["create", "get"],
            "",
            &["pods/exec", "pods/attach", "pods/portforward"],
        )]),
    },
    Risk {
        id: "modify-pods",
        label: "modify running pods (swap a container image, add ephemeral containers)",
        privileged_namespace_only: false,
        test: Test::Any(&[
            probe(&["update", "patch"], "", &["pods"]),
            probe(&["update", "patch"], "", &["pods/ephemeralcontainers"]),
        ]),
    },
    Risk {
        id: "create-persistentvolumes",
        label: "create PersistentVolumes (hostPath: the node's filesystem)",
        privileged_namespace_only: false,
        test: Test::Any(&[cluster_probe(&["create"], "", &["persistentvolumes"])]),
    },
    Risk {
        id: "wildcard",
        label: "use wildcard grants (`*` verbs or resources, including future resources)",
        privileged_namespace_only: false,
        test: Test::Wildcard,
    },
];

/// A risky permission a role grants, and the first rule that grants it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskHit {
    pub risk: &'static Risk,
    pub rule: RuleId,
    /// The probed verb and resource the rule allows (`*` for the wildcard tests).
    pub verb: &'static str,
    pub resource: &'static str,
}

impl PartialEq for Risk {
    fn eq(&self, other: &Risk) -> bool {
        self.id == other.id
    }
}
impl Eq for Risk {}

impl Risk {
    pub fn by_id(id: &str) -> Option<&'static Risk> {
        RISKS.iter().find(|r| r.id == id)
    }

    fn find(&'static self, rules: &[(RuleId, &PolicyRule)], scope: Scope) -> Option<RiskHit> {
        let hit = |rule: RuleId, verb, resource| RiskHit {
            risk: self,
            rule,
            verb,
            resource,
        };
        match &self.test {
            Test::FullControl => rules
                .iter()
                .find(|(_, r)| r.is_full_control())
                .map(|(id, _)| hit(*id, "*", "*")),
            Test::Wildcard => rules
                .iter()
                .find(|(_, r)| r.wildcard_verbs() || r.wildcard_resources())
                .map(|(id, _)| hit(*id, "*", "*")),
            Test::Any(probes) => probes.iter().find_map(|p| p.find(rules, scope, self)),
            Test::All(probes) => {
                let hits: Vec<RiskHit> = probes
                    .iter()
                    .map(|p| p.find(rules, scope, self))
                    .collect::<Option<_>>()?;
                hits.first().copied()
            }
        }
    }
}

impl Probe {
    fn find(
        &self,
        rules: &[(RuleId, &PolicyRule)],
        scope: Scope,
        risk: &'static Risk,
    ) -> Option<RiskHit> {
        if self.cluster && scope != Scope::Cluster {
            return None;
        }
        let names: Vec<Option<&str>> = if self.names.is_empty() {
            vec![None]
        } else {
            self.names.iter().map(|n| Some(*n)).collect()
        };
        for &resource in self.resources {
            for &verb in self.verbs {
                for name in &names {
                    let mut req = Request::resource(verb, self.group, resource);
                    req.name = *name;
                    if let Some((id, _)) = rules.iter().find(|(_, r)| r.allows(&req)) {
                        return Some(RiskHit {
                            risk,
                            rule: *id,
                            verb,
                            resource,
                        });
                    }
                }
            }
        }
        None
    }
}

/// What a role lets its holders do beyond the discovery that every cluster grants: `None` when
/// every rule is within `allowed` (GET on the listed non-resource URLs, `create` on the listed
/// self-review resources), else the first rule that exceeds it.
pub fn beyond(rbac: &Rbac, role: &Role, urls: &[&str], self_reviews: bool) -> Option<RuleId> {
    const REVIEWS: &[(&str, &str)] = &[
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    ];
    rbac.rules_of(role)
        .find(|(_, r)| {
            let urls_fine = r.non_resource_urls.is_empty()
                || (r
                    .non_resource_urls
                    .iter()
                    .all(|u| urls.contains(&u.as_str()))
                    && r.verbs.iter().all(|v| v == "get" || v == "head"));
            let resources_fine = r.resources.is_empty()
                || (self_reviews
                    && r.verbs.iter().all(|v| v == "create")
                    && r.resources.iter().all(|res| {
                        r.api_groups
                            .iter()
                            .all(|g| REVIEWS.contains(&(g.as_str(), res.as_str())))
                    }));
            !(urls_fine && resources_fine)
        })
        .map(|(id, _)| id)
}

/// Non-resource URLs every client may read (`system:public-info-viewer`).
pub const PUBLIC_INFO_URLS: &[&str] = &["/healthz", "/livez", "/readyz", "/version", "/version/"];
/// Non-resource URLs every authenticated identity may read by default (`system:discovery`,
/// `system:public-info-viewer`, `system:service-account-issuer-discovery`).
pub const DISCOVERY_URLS: &[&str] = &[
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/readyz",
    "/openapi",
    "/openapi/*",
    "/version",
    "/version/",
    "/.well-known/openid-configuration",
    "/.well-known/openid-configuration/",
    "/openid/v1/jwks",
    "/openid/v1/jwks/",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    /// Packed, as a scan keeps them.
    fn objects(yaml: &str) -> Vec<Retained> {
        let loaded = load_bytes("t.yaml", yaml.as_bytes().to_vec());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.objects.into_iter().map(Retained::packed).collect()
    }

    fn rule(verbs: &str, groups: &str, resources: &str) -> PolicyRule {
        PolicyRule::resources(verbs, groups, resources)
    }

    #[test]
    fn verb_group_resource_matching() {
        let r = rule("get list", "core apps", "pods deployments/scale");
        assert!(r.allows(&Request::resource("get", "", "pods")));
        assert!(r.allows(&Request::resource("list", "apps", "deployments/scale")));
        assert!(!r.allows(&Request::resource("create", "", "pods")));
        assert!(!r.allows(&Request::resource("get", "batch", "pods")));
        // `pods` does not grant subresources; `deployments/scale` does not grant the parent.
        assert!(!r.allows(&Request::resource("get", "", "pods/exec")));
        assert!(!r.allows(&Request::resource("get", "apps", "deployments")));
        let star = rule("*", "*", "*");
        assert!(star.allows(&Request::resource(
            "escalate",
            "rbac.authorization.k8s.io",
            "roles"
        )));
        assert!(star.allows(&Request::resource("get", "x.io", "foos/status")));
        assert!(star.is_full_wildcard());
    }

    #[test]
    fn subresource_wildcards() {
        let any_status = rule("get", "core", "*/status");
        assert!(any_status.allows(&Request::resource("get", "", "pods/status")));
        assert!(any_status.allows(&Request::resource("get", "", "nodes/status")));
        assert!(!any_status.allows(&Request::resource("get", "", "pods")));
        assert!(!any_status.allows(&Request::resource("get", "", "pods/exec")));
        // `pods/*` is not a wildcard form.
        let pods_star = rule("create", "core", "pods/*");
        assert!(!pods_star.allows(&Request::resource("create", "", "pods/exec")));
        assert!(pods_star.allows(&Request::resource("create", "", "pods/*")));
        assert!(!pods_star.wildcard_resources());
        assert!(any_status.wildcard_resources());
    }

    #[test]
    fn resource_names_do_not_restrict_unnamed_requests() {
        let r = rule("get list create", "core", "secrets").with_names("app-tls");
        assert!(r.allows(&Request::resource("get", "", "secrets").named("app-tls")));
        assert!(!r.allows(&Request::resource("get", "", "secrets").named("other")));
        assert!(!r.allows(&Request::resource("list", "", "secrets")));
        assert!(!r.allows(&Request::resource("create", "", "secrets")));
    }

    #[test]
    fn non_resource_urls() {
        let r = PolicyRule::urls("get", "/healthz /logs/* /api*");
        assert!(r.allows(&Request::url("get", "/healthz")));
        assert!(!r.allows(&Request::url("get", "/healthz/etcd")));
        assert!(r.allows(&Request::url("get", "/logs/kube-apiserver.log")));
        assert!(r.allows(&Request::url("get", "/apis/apps")));
        assert!(!r.allows(&Request::url("post", "/healthz")));
        // A URL rule grants no resources and a resource rule no URLs.
        assert!(!r.allows(&Request::resource("get", "", "pods")));
        assert!(!rule("*", "*", "*").allows(&Request::url("get", "/metrics")));
        assert!(PolicyRule::urls("*", "*").allows(&Request::url("delete", "/anything")));
    }

    #[test]
    fn selectors() {
        let o = objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\naggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {a: \"1\"}\n    matchExpressions:\n    - {key: b, operator: In, values: [x, y]}\n    - {key: c, operator: DoesNotExist}\n  - matchExpressions: [{key: d, operator: NotIn, values: [no]}]\n  - {}\n",
        );
        let role = Role::from_object(&o[0]);
        let s = role.aggregation.unwrap();
        let labels = |pairs: &[(&str, &str)]| -> RoleLabels {
            pairs
                .iter()
                .map(|(k, v)| (Text::from(*k), Text::from(*v)))
                .collect()
        };
        assert!(s[0].matches(&labels(&[("a", "1"), ("b", "y")])));
        assert!(!s[0].matches(&labels(&[("a", "1"), ("b", "z")])));
        assert!(!s[0].matches(&labels(&[("a", "1"), ("b", "x"), ("c", "")])));
        assert!(s[1].matches(&labels(&[])));
        assert!(!s[1].matches(&labels(&[("d", "no")])));
        assert!(s[2].matches(&labels(&[("anything", "at all")])));
        assert!(
            !Selector::from_node(&Node {
                pos: Default::default(),
                value: crate::yaml::Value::Scalar(crate::yaml::Scalar {
                    text: Text::new(),
                    style: crate::yaml::Style::Plain,
                    tag: None,
                }),
            })
            .matches(&labels(&[]))
        );
    }

    const INPUT: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app-reads, namespace: shop}
subjects:
- {kind: ServiceAccount, name: app}            # namespace defaults to the binding's
- {kind: ServiceAccount, name: other, namespace: elsewhere}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-pods
  labels: {example.com/aggregate-to-monitoring: "true"}
rules:
- {apiGroups: [""], resources: [pods, nodes], verbs: [list]}
- {nonResourceURLs: [/metrics], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: crd-editor
  labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}
rules:
- {apiGroups: [example.com], resources: [widgets], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prometheus}
subjects:
- {kind: ServiceAccount, name: prometheus, namespace: monitoring}
- {kind: ServiceAccount, name: nons}            # no namespace in a ClusterRoleBinding: matches nobody
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-edit, namespace: shop}
subjects:
- {kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sa-view}
subjects:
- {kind: Group, name: "system:serviceaccounts:batch"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: dangling}
subjects: [{kind: User, name: bob}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: not-there}
"#;

    #[test]
    fn role_bindings_are_scoped_to_their_namespace() {
        let objs = objects(INPUT);
        let rbac = Rbac::new(&objs);
        let app = Principal::service_account("shop", "app");
        assert!(rbac.can(&app, "get", "", "secrets", "", Some("shop")));
        assert!(rbac.can(&app, "list", "", "secrets", "", Some("shop")));
        assert!(!rbac.can(&app, "get", "", "secrets", "", Some("other")));
        assert!(
            !rbac.can(&app, "get", "", "secrets", "", None),
            "all namespaces"
        );
        assert!(!rbac.can(&app, "watch", "", "secrets", "", Some("shop")));
        // Another namespace's SA of the same name is not the subject.
        assert!(!rbac.can(
            &Principal::service_account("x", "app"),
            "get",
            "",
            "secrets",
            "",
            Some("shop")
        ));
        // A subject with an explicit namespace matches that namespace's SA.
        let other = Principal::service_account("elsewhere", "other");
        assert!(rbac.can(&other, "get", "", "secrets", "", Some("shop")));
        let (grant, rule) = rbac
            .authorize(
                &app,
                &Request::resource("get", "", "secrets").in_namespace("shop"),
            )
            .unwrap();
        assert_eq!(grant.binding.name, "app-reads");
        assert_eq!(grant.subject.index, 0);
        assert_eq!(rule.pointer(), "/rules/0");
        assert_eq!(rbac.effective_rules(&app, Some("shop")).len(), 1);
        assert!(rbac.effective_rules(&app, None).is_empty());
    }

    #[test]
    fn aggregation_and_cluster_role_bindings() {
        let objs = objects(INPUT);
        let rbac = Rbac::new(&objs);
        let prom = Principal::service_account("monitoring", "prometheus");
        assert!(rbac.can(&prom, "list", "", "pods", "", Some("any")));
        assert!(rbac.can(&prom, "list", "", "nodes", "", None));
        assert!(!rbac.can(&prom, "get", "", "pods", "", Some("any")));
        assert!(
            rbac.authorize(&prom, &Request::url("get", "/metrics"))
                .is_some()
        );
        let monitoring = rbac
            .role(RoleKind::ClusterRole, None, "monitoring")
            .unwrap();
        let id = monitoring.effective_rules()[0];
        assert_eq!(
            rbac.describe_rule(id, monitoring),
            "rules[0] of ClusterRole \"monitoring-pods\""
        );
        // A subject without a namespace in a ClusterRoleBinding matches nobody.
        assert!(!rbac.can(
            &Principal::service_account("default", "nons"),
            "list",
            "",
            "pods",
            "",
            Some("x")
        ));
    }

    #[test]
    fn builtin_roles_aggregate_input_roles() {
        let objs = objects(INPUT);
        let rbac = Rbac::new(&objs);
        let dev = Principal::user("carol", &["devs"]);
        // Built-in edit, bound in shop: exec, secrets, and the aggregated CRD rule.
        assert!(rbac.can(&dev, "create", "", "pods", "exec", Some("shop")));
        assert!(rbac.can(&dev, "list", "", "secrets", "", Some("shop")));
        assert!(rbac.can(&dev, "create", "example.com", "widgets", "", Some("shop")));
        // edit aggregates view; but not roles (admin only).
        assert!(rbac.can(&dev, "get", "apps", "deployments", "", Some("shop")));
        assert!(!rbac.can(&dev, "create", RBAC_GROUP, "rolebindings", "", Some("shop")));
        assert!(!rbac.can(&dev, "create", "", "pods", "", Some("other")));
        // admin aggregates edit (which it selects by label) and therefore the CRD rule.
        let admin = rbac.role(RoleKind::ClusterRole, None, "admin").unwrap();
        let allows = |req: Request| rbac.rules_of(admin).any(|(_, r)| r.allows(&req));
        assert!(allows(Request::resource(
            "create",
            "example.com",
            "widgets"
        )));
        assert!(!allows(Request::resource("bind", RBAC_GROUP, "roles")));
        assert!(allows(Request::resource(
            "create",
            RBAC_GROUP,
            "rolebindings"
        )));
        // view excludes secrets.
        let batch_sa = Principal::service_account("batch", "worker");
        assert!(rbac.can(&batch_sa, "list", "", "pods", "", None));
        assert!(!rbac.can(&batch_sa, "get", "", "secrets", "", Some("batch")));
        assert!(!rbac.can(
            &Principal::service_account("web", "worker"),
            "list",
            "",
            "pods",
            "",
            None
        ));
    }

    #[test]
    fn resolution_and_who_can() {
        let objs = objects(INPUT);
        let rbac = Rbac::new(&objs);
        let by_name = |n: &str| rbac.bindings.iter().find(|b| b.name == n).unwrap();
        assert!(matches!(
            rbac.resolve(by_name("dangling")),
            Resolution::Missing
        ));
        assert!(
            matches!(rbac.resolve(by_name("devs-edit")), Resolution::Role(r) if r.object.is_none())
        );
        let who: Vec<String> = rbac
            .who_can(&Request::resource("get", "", "secrets").in_namespace("shop"))
            .iter()
            .map(|(b, s)| format!("{}:{s}", b.name))
            .collect();
        assert_eq!(
            who,
            [
                "app-reads:ServiceAccount \"shop/app\"",
                "app-reads:ServiceAccount \"elsewhere/other\"",
                "devs-edit:Group \"devs\"",
            ]
        );
        assert!(is_platform_role(
            RoleKind::ClusterRole,
            "system:controller:job-controller"
        ));
        assert!(is_platform_role(RoleKind::ClusterRole, "view"));
        assert!(!is_platform_role(RoleKind::Role, "view"));
    }

    #[test]
    fn implicit_groups() {
        let objs = objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: x}\nsubjects:\n- {kind: Group, name: \"system:authenticated\"}\nroleRef: {kind: ClusterRole, name: view}\n",
        );
        let rbac = Rbac::new(&objs);
        assert!(rbac.can(
            &Principal::service_account("a", "b"),
            "list",
            "",
            "pods",
            "",
            None
        ));
        assert!(rbac.can(&Principal::user("alice", &[]), "list", "", "pods", "", None));
        assert!(!rbac.can(&Principal::anonymous(), "list", "", "pods", "", None));
        let s = &rbac.bindings[0].subjects[0];
        assert!(!s.is_human() && s.is_system());
    }

    #[test]
    fn service_account_subjects() {
        let objs = objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: x, namespace: n}\nsubjects:\n- {kind: ServiceAccount, name: a}\n- {kind: User, name: \"system:serviceaccount:m:b\"}\n- {kind: Group, name: \"system:serviceaccounts:m\"}\n- {kind: Group, name: \"system:serviceaccounts\"}\n- {kind: User, name: alice}\nroleRef: {kind: Role, name: r}\n",
        );
        let rbac = Rbac::new(&objs);
        let sas: Vec<Option<ServiceAccounts>> = rbac.bindings[0]
            .subjects
            .iter()
            .map(Subject::service_accounts)
            .collect();
        assert_eq!(
            sas,
            [
                Some(ServiceAccounts::One {
                    namespace: "n",
                    name: "a"
                }),
                Some(ServiceAccounts::One {
                    namespace: "m",
                    name: "b"
                }),
                Some(ServiceAccounts::Namespace("m")),
                Some(ServiceAccounts::All),
                None,
            ]
        );
        assert!(rbac.bindings[0].subjects[4].is_human());
        assert!(Principal::service_account("m", "b").matches(&rbac.bindings[0].subjects[1]));
    }

    #[test]
    fn risk_catalogue() {
        let objs = objects(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: risky}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [list]}
- {apiGroups: [""], resources: [pods/exec], verbs: [get]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}
- {apiGroups: [""], resources: [nodes/proxy], verbs: [get]}
- {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}
- {apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [kubernetes.io/kube-apiserver-client], verbs: [approve]}
- {apiGroups: [""], resources: [persistentvolumes], verbs: [create]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: narrow}
rules:
- {apiGroups: [""], resources: [secrets], resourceNames: [one], verbs: [get]}
- {apiGroups: [""], resources: [pods, configmaps], verbs: [get, list, watch]}
- {apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [kubernetes.io/kubelet-serving], verbs: [approve]}
"#,
        );
        let rbac = Rbac::new(&objs);
        let ids = |name: &str, scope: Scope| -> Vec<&str> {
            let role = rbac.role(RoleKind::ClusterRole, None, name).unwrap();
            rbac.risks(role, scope).iter().map(|h| h.risk.id).collect()
        };
        assert_eq!(
            ids("risky", Scope::Cluster),
            [
                "bind",
                "approve-csr",
                "nodes-proxy",
                "read-secrets",
                "pod-exec",
                "create-persistentvolumes"
            ]
        );
        // Through a RoleBinding, cluster-scoped resources are out of reach.
        assert_eq!(
            ids("risky", Scope::Namespace("app")),
            ["bind", "read-secrets", "pod-exec"]
        );
        assert!(ids("narrow", Scope::Cluster).is_empty());
        assert_eq!(ids("cluster-admin", Scope::Cluster)[0], "full-control");
        let edit = ids("edit", Scope::Namespace("app"));
        for id in [
            "impersonate",
            "token-request",
            "read-secrets",
            "create-pods",
            "create-workloads",
            "pod-exec",
            "modify-pods",
        ] {
            assert!(edit.contains(&id), "edit lacks {id}: {edit:?}");
        }
        assert!(!edit.contains(&"issue-token-secrets"));
        assert!(ids("edit", Scope::Namespace("kube-system")).contains(&"issue-token-secrets"));
        assert!(ids("view", Scope::Cluster).is_empty());
        let hit = rbac.risks(
            rbac.role(RoleKind::ClusterRole, None, "risky").unwrap(),
            Scope::Cluster,
        )[3];
        assert_eq!(
            (hit.verb, hit.resource, hit.rule.index),
            ("list", "secrets", 0)
        );
    }

    #[test]
    fn discovery_only_roles() {
        let rbac = Rbac::new(std::iter::empty::<&Retained>());
        let role = |n: &str| rbac.role(RoleKind::ClusterRole, None, n).unwrap();
        assert!(
            beyond(
                &rbac,
                role("system:public-info-viewer"),
                PUBLIC_INFO_URLS,
                false
            )
            .is_none()
        );
        assert!(beyond(&rbac, role("system:discovery"), PUBLIC_INFO_URLS, false).is_some());
        assert!(beyond(&rbac, role("system:discovery"), DISCOVERY_URLS, true).is_none());
        assert!(beyond(&rbac, role("system:basic-user"), DISCOVERY_URLS, true).is_none());
        assert!(beyond(&rbac, role("system:basic-user"), DISCOVERY_URLS, false).is_some());
        assert!(beyond(&rbac, role("view"), DISCOVERY_URLS, true).is_some());
        assert!(beyond(&rbac, role("cluster-admin"), DISCOVERY_URLS, true).is_some());
    }

    #[test]
    fn input_roles_override_builtins_and_last_duplicate_wins() {
        let objs = objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: view}\nrules: [{apiGroups: [\"\"], resources: [secrets], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: n}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: n}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [create]}]\n",
        );
        let rbac = Rbac::new(&objs);
        let view = rbac.role(RoleKind::ClusterRole, None, "view").unwrap();
        // Reconciled at start-up: the built-in aggregation selector comes back.
        assert!(view.object.is_some() && view.reconciled_with.is_some());
        assert!(view.aggregation.is_some());
        let r = rbac.role(RoleKind::Role, Some("n"), "r").unwrap();
        assert_eq!(r.rules[0].verbs, ["create"]);
        assert!(rbac.has_role_objects);
    }

    #[test]
    fn aggregation_cycles_terminate() {
        let objs = objects(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: a, labels: {x: \"1\"}}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {y: \"1\"}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: b, labels: {y: \"1\"}}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {x: \"1\"}}]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: c, labels: {x: \"1\"}}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]\n",
        );
        let rbac = Rbac::new(&objs);
        let b = rbac.role(RoleKind::ClusterRole, None, "b").unwrap();
        assert!(
            rbac.rules_of(b)
                .any(|(_, r)| r.allows(&Request::resource("get", "", "pods")))
        );
    }
}

#[cfg(test)]
mod reconciliation_tests {
    use super::*;
    use crate::load::load_bytes;

    #[test]
    fn redefined_builtins_are_reconciled_and_full_control_counts() {
        let loaded = load_bytes(
            "t.yaml",
            b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cluster-admin}\nrules:\n- {apiGroups: [\"\"], resources: [configmaps], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: view\n  annotations: {rbac.authorization.kubernetes.io/autoupdate: \"false\"}\nrules:\n- {apiGroups: [\"\"], resources: [secrets], verbs: [get]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: rw, namespace: a}\nrules:\n- {apiGroups: [\"*\"], resources: [\"*\"], verbs: [get, list, watch, create, update, patch, delete, deletecollection]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io/v1, kind: Role, name: rw}\nsubjects: [{kind: User, name: u}]\n"
                .to_vec(),
        );
        let objects: Vec<_> = loaded.objects.into_iter().map(Retained::packed).collect();
        let rbac = Rbac::new(&objects);
        // The manifest narrows cluster-admin; the API server adds `*` back at start-up.
        let admin = rbac
            .role(RoleKind::ClusterRole, None, "cluster-admin")
            .unwrap();
        assert!(admin.reconciled_with.is_some() && rbac.is_cluster_admin(admin));
        assert_eq!(rbac.rules_of(admin).count(), 3);
        // autoupdate "false": the manifest's rules alone.
        let view = rbac.role(RoleKind::ClusterRole, None, "view").unwrap();
        assert!(view.reconciled_with.is_none() && view.aggregation.is_none());
        assert_eq!(rbac.rules_of(view).count(), 1);
        // Every read and write verb on */*: full control without the `*` verb.
        let rw = rbac.role(RoleKind::Role, Some("a"), "rw").unwrap();
        assert!(rbac.is_cluster_admin(rw));
        // A roleRef.apiGroup the API server rejects grants nothing.
        assert!(matches!(
            rbac.resolve(&rbac.bindings[0]),
            Resolution::Invalid
        ));
    }
}
