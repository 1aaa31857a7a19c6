//! Questions asked of the RBAC model ([`super::rbac`]): who may make a request (`rbac who-can`),
//! what an identity may do or whether it may make one request (`rbac can`), and how it can
//! escalate (`rbac paths`). The matching is the model's (`PolicyRule::allows`, binding scopes,
//! aggregation, implicit groups): the rules and the queries share one model.
//!
//! Where a question is asked ([`Where`]):
//! - `Namespace(ns)`: a request in that namespace: ClusterRoleBindings, and RoleBindings of `ns`;
//! - `AllNamespaces`: a request across all namespaces (or for a cluster-scoped resource or a
//!   non-resource URL): ClusterRoleBindings only;
//! - `Anywhere` (the default of the commands): in some namespace or cluster-wide: every binding,
//!   each at its own scope.
//!
//! Members of `system:masters` are allowed everything by the API server before RBAC is asked;
//! the answers say so rather than listing them as RBAC grants.

use crate::analysis::query::QueryWorkload;
use crate::analysis::rbac::{
    Binding, BindingKind, Grant, PolicyRule, Principal, RBAC_GROUP, Rbac, Request, Resolution,
    Role, RoleKind, RuleId, Scope, Subject, SubjectKind,
};
use crate::yaml::Text;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::rc::Rc;

/// The group the API server allows everything before any authorizer runs.
pub const MASTERS: &str = "system:masters";

/// Is the resource cluster-scoped (built-in API only; custom resources count as namespaced)?
/// A RoleBinding never grants a cluster-scoped resource.
pub fn is_cluster_scoped(group: &str, resource: &str) -> bool {
    match group {
        "" => matches!(
            resource,
            "nodes" | "namespaces" | "persistentvolumes" | "componentstatuses"
        ),
        RBAC_GROUP => matches!(resource, "clusterroles" | "clusterrolebindings"),
        "storage.k8s.io" => matches!(
            resource,
            "storageclasses" | "csidrivers" | "csinodes" | "volumeattachments"
        ),
        "certificates.k8s.io" => matches!(
            resource,
            "certificatesigningrequests" | "clustertrustbundles" | "signers"
        ),
        "admissionregistration.k8s.io" => matches!(
            resource,
            "mutatingwebhookconfigurations"
                | "validatingwebhookconfigurations"
                | "validatingadmissionpolicies"
                | "validatingadmissionpolicybindings"
                | "mutatingadmissionpolicies"
                | "mutatingadmissionpolicybindings"
        ),
        "apiextensions.k8s.io" => resource == "customresourcedefinitions",
        "apiregistration.k8s.io" => resource == "apiservices",
        "scheduling.k8s.io" => resource == "priorityclasses",
        "node.k8s.io" => resource == "runtimeclasses",
        "networking.k8s.io" => {
            matches!(resource, "ingressclasses" | "ipaddresses" | "servicecidrs")
        }
        "authentication.k8s.io" => matches!(resource, "tokenreviews" | "selfsubjectreviews"),
        "authorization.k8s.io" => matches!(
            resource,
            "subjectaccessreviews" | "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
        ),
        "flowcontrol.apiserver.k8s.io" => {
            matches!(resource, "flowschemas" | "prioritylevelconfigurations")
        }
        "resource.k8s.io" => matches!(resource, "deviceclasses" | "resourceslices"),
        _ => false,
    }
}

/// What is asked about: a resource request or a non-resource URL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ask {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub name: Option<String>,
    pub non_resource_url: Option<String>,
}

impl Ask {
    /// `VERB RESOURCE` as `kubectl auth can-i` reads it: `secrets`, `pods/exec`,
    /// `deployments.apps`, `deployments.apps/scale`, `*`; a RESOURCE starting with `/` is a
    /// non-resource URL.
    pub fn parse(verb: &str, resource: &str) -> Result<Ask, String> {
        if verb.is_empty() {
            return Err("the verb is empty".into());
        }
        if resource.starts_with('/') {
            return Ok(Ask {
                verb: verb.to_owned(),
                non_resource_url: Some(resource.to_owned()),
                ..Ask::default()
            });
        }
        let (head, sub) = resource.split_once('/').unwrap_or((resource, ""));
        let (res, group) = head.split_once('.').unwrap_or((head, ""));
        if res.is_empty() {
            return Err(format!("no resource in `{resource}`"));
        }
        Ok(Ask {
            verb: verb.to_owned(),
            group: group.to_owned(),
            resource: res.to_owned(),
            subresource: sub.to_owned(),
            ..Ask::default()
        })
    }

    pub fn request(&self) -> Request<'_> {
        match &self.non_resource_url {
            Some(path) => Request::url(&self.verb, path),
            None => Request {
                verb: &self.verb,
                group: &self.group,
                resource: &self.resource,
                subresource: &self.subresource,
                name: self.name.as_deref(),
                ..Request::default()
            },
        }
    }

    /// Only ClusterRoleBindings can grant it: a non-resource URL or a cluster-scoped resource —
    /// except one named Namespace: the API server gives a request for `namespaces/NAME` (and its
    /// subresources) the namespace NAME, so a RoleBinding in NAME grants it (found by the
    /// differential test against SubjectAccessReview, e2e/differential.py).
    pub fn cluster_only(&self) -> bool {
        let named_namespace =
            self.group.is_empty() && self.resource == "namespaces" && self.name.is_some();
        self.non_resource_url.is_some()
            || (is_cluster_scoped(&self.group, &self.resource) && !named_namespace)
    }

    /// `get secrets`, `create pods/exec`, `get deployments.apps named "web"`, `get /healthz`.
    pub fn describe(&self) -> String {
        if let Some(u) = &self.non_resource_url {
            return format!("{} {u}", self.verb);
        }
        let mut s = format!("{} {}", self.verb, self.resource);
        if !self.group.is_empty() {
            s.push_str(&format!(".{}", self.group));
        }
        if !self.subresource.is_empty() {
            s.push_str(&format!("/{}", self.subresource));
        }
        if let Some(n) = &self.name {
            s.push_str(&format!(" named \"{n}\""));
        }
        s
    }
}

/// Where a question is asked (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where<'w> {
    Namespace(&'w str),
    AllNamespaces,
    Anywhere,
}

impl Where<'_> {
    pub fn describe(&self) -> String {
        match self {
            Where::Namespace(ns) => format!("in namespace \"{ns}\""),
            Where::AllNamespaces => "cluster-wide".to_owned(),
            Where::Anywhere => "in any namespace or cluster-wide".to_owned(),
        }
    }
}

/// An identity asked about: `system:serviceaccount:NS:NAME`, `serviceaccount:NS/NAME`,
/// `user:NAME`, `group:NAME`, or a bare user name (as `kubectl --as` takes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// How it is shown: `ServiceAccount "ns/name"`, `User "alice"`, `Group "devs"`.
    pub label: String,
    pub principal: Principal,
    /// For a service account: (namespace, name).
    pub service_account: Option<(String, String)>,
}

impl Identity {
    pub fn service_account(namespace: &str, name: &str) -> Identity {
        Identity {
            label: format!("ServiceAccount \"{namespace}/{name}\""),
            principal: Principal::service_account(namespace, name),
            service_account: Some((namespace.to_owned(), name.to_owned())),
        }
    }

    pub fn user(name: &str, groups: &[&str]) -> Identity {
        if let Some((ns, sa)) = name
            .strip_prefix("system:serviceaccount:")
            .and_then(|r| r.split_once(':'))
        {
            let mut id = Identity::service_account(ns, sa);
            id.principal
                .groups
                .extend(groups.iter().map(|g| (*g).to_owned()));
            return id;
        }
        let principal = if name == "system:anonymous" {
            let mut p = Principal::anonymous();
            p.groups.extend(groups.iter().map(|g| (*g).to_owned()));
            p
        } else {
            Principal::user(name, groups)
        };
        Identity {
            label: format!("User \"{name}\""),
            principal,
            service_account: None,
        }
    }

    /// Any member of the group: the group, and `system:authenticated` unless the group is
    /// `system:unauthenticated` (every member of any other group has authenticated).
    pub fn group(name: &str) -> Identity {
        let mut principal = Principal::group(name);
        if name != "system:unauthenticated" {
            principal.groups.insert("system:authenticated".to_owned());
        }
        Identity {
            label: format!("Group \"{name}\""),
            principal,
            service_account: None,
        }
    }

    pub fn parse(s: &str, extra_groups: &[&str]) -> Result<Identity, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the subject is empty".into());
        }
        let (prefix, rest) = s.split_once(':').unwrap_or(("", s));
        Ok(match prefix.to_ascii_lowercase().as_str() {
            "user" => Identity::user(rest, extra_groups),
            "group" => {
                let mut id = Identity::group(rest);
                id.principal
                    .groups
                    .extend(extra_groups.iter().map(|g| (*g).to_owned()));
                id
            }
            "serviceaccount" | "sa" => {
                let (ns, name) = rest
                    .split_once('/')
                    .or_else(|| rest.split_once(':'))
                    .ok_or_else(|| format!("`{s}`: expected serviceaccount:NAMESPACE/NAME"))?;
                let mut id = Identity::service_account(ns, name);
                id.principal
                    .groups
                    .extend(extra_groups.iter().map(|g| (*g).to_owned()));
                id
            }
            _ => Identity::user(s, extra_groups),
        })
    }

    pub fn is_master(&self) -> bool {
        self.principal.groups.contains(MASTERS)
    }
}

// ---------------------------------------------------------------------------------------------
// Answers (serialized as the commands' JSON; see docs/queries.md)
// ---------------------------------------------------------------------------------------------

/// An object, named and located.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `file:line`; absent for a built-in role the input does not hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// The rule that grants a permission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// `rules[0]`, or `rules[2] of ClusterRole "x"` for an aggregated rule.
    pub position: String,
    /// `get, list on secrets`.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// How an identity holds a permission: binding → role → rule, at a scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Via {
    /// `cluster` or `namespace`.
    pub scope: &'static str,
    /// For `namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub binding: ObjectRef,
    pub role: ObjectRef,
    pub rule: RuleRef,
}

impl Via {
    /// `ClusterRoleBinding "x" → ClusterRole "y", rules[0] (`* on *`)`.
    pub fn describe(&self) -> String {
        let name = |o: &ObjectRef| match &o.namespace {
            Some(ns) => format!("{} \"{ns}/{}\"", o.kind, o.name),
            None => format!("{} \"{}\"", o.kind, o.name),
        };
        format!(
            "{} → {}, {} (`{}`)",
            name(&self.binding),
            name(&self.role),
            self.rule.position,
            self.rule.text
        )
    }

    pub fn scope_text(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("in namespace \"{ns}\""),
            None => "cluster-wide".to_owned(),
        }
    }
}

/// A subject of `who-can`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Holder {
    /// `User`, `Group`, `ServiceAccount`.
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `system:authenticated`, `system:serviceaccounts[:ns]`, `system:unauthenticated`: who the
    /// implicit group stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implicit: Option<String>,
    pub via: Via,
    /// Workloads that run as this service account (or as any account of the group) with its API
    /// token mounted.
    pub workloads: Vec<ObjectRef>,
}

impl Holder {
    /// `ServiceAccount "ns/name"`, `Group "devs"`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} \"{ns}/{}\"", self.kind, self.name),
            None => format!("{} \"{}\"", self.kind, self.name),
        }
    }
}

/// The answer of `who-can`.
#[derive(Clone, Debug, Serialize)]
pub struct WhoCan {
    pub request: Ask,
    /// The namespace asked about; `null` with `all_namespaces` false: anywhere.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub subjects: Vec<Holder>,
    /// Always allowed, outside RBAC.
    pub always: Vec<String>,
    pub notes: Vec<String>,
}

/// The answer of `can SUBJECT VERB RESOURCE`.
#[derive(Clone, Debug, Serialize)]
pub struct CanAnswer {
    pub subject: String,
    pub request: Ask,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    pub allowed: bool,
    /// The first grant that allows it (`null` when denied, or allowed as `system:masters`).
    pub via: Option<Via>,
    pub reason: String,
}

/// One effective permission of `can SUBJECT`.
#[derive(Clone, Debug, Serialize)]
pub struct Permission {
    pub verbs: Vec<Text>,
    pub api_groups: Vec<Text>,
    pub resources: Vec<Text>,
    pub resource_names: Vec<Text>,
    pub non_resource_urls: Vec<Text>,
    pub via: Via,
}

/// The effective permissions of one scope.
#[derive(Clone, Debug, Serialize)]
pub struct ScopePermissions {
    /// `null`: cluster-wide (ClusterRoleBindings: every namespace, cluster-scoped resources,
    /// non-resource URLs).
    pub namespace: Option<String>,
    pub permissions: Vec<Permission>,
}

/// The answer of `can SUBJECT`.
#[derive(Clone, Debug, Serialize)]
pub struct Permissions {
    pub subject: String,
    pub groups: Vec<String>,
    pub master: bool,
    pub scopes: Vec<ScopePermissions>,
    pub notes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The query engine
// ---------------------------------------------------------------------------------------------

/// The RBAC model of an inventory, indexed for queries.
pub struct Query<'q, 'a> {
    pub rbac: &'q Rbac<'a>,
    pub workloads: &'q [QueryWorkload],
    by_user: HashMap<&'q str, Vec<usize>>,
    by_group: HashMap<&'q str, Vec<usize>>,
    by_sa: HashMap<(&'q str, &'q str), Vec<usize>>,
    /// Every namespace the input names (objects, bindings, subjects, workloads).
    pub namespaces: BTreeSet<String>,
    /// Service accounts per namespace: ServiceAccount objects, those workloads run as, and those
    /// bindings name.
    pub service_accounts: BTreeMap<String, BTreeSet<String>>,
    /// Labels of the Namespaces declared in the input (their Pod Security levels).
    pub namespace_labels: BTreeMap<String, crate::selector::Labels>,
    /// What each binding's roleRef resolves to, by binding position.
    resolved: Vec<Resolution<'q, 'a>>,
    /// ServiceAccount objects by (namespace, name) (the last one counts), and the first
    /// workload running as each.
    sa_objects: HashMap<(&'q str, &'q str), &'a crate::inventory::Retained>,
    sa_workloads: HashMap<(&'q str, &'q str), &'q QueryWorkload>,
}

impl<'q, 'a> Query<'q, 'a> {
    pub fn new(rbac: &'q Rbac<'a>, workloads: &'q [QueryWorkload]) -> Query<'q, 'a> {
        let mut q = Query {
            rbac,
            workloads,
            by_user: HashMap::new(),
            by_group: HashMap::new(),
            by_sa: HashMap::new(),
            namespaces: BTreeSet::new(),
            service_accounts: BTreeMap::new(),
            namespace_labels: BTreeMap::new(),
            resolved: rbac.bindings.iter().map(|b| rbac.resolve(b)).collect(),
            sa_objects: rbac
                .service_accounts
                .iter()
                .map(|o| ((o.effective_namespace().unwrap_or("default"), o.name()), *o))
                .collect(),
            sa_workloads: HashMap::new(),
        };
        for w in workloads.iter().rev() {
            q.sa_workloads.insert(
                (
                    w.summary.namespace.as_str(),
                    w.summary.service_account.as_str(),
                ),
                w,
            );
        }
        let mut sa = |ns: &str, name: &str| {
            q.service_accounts
                .entry(ns.to_owned())
                .or_default()
                .insert(name.to_owned());
        };
        for o in &rbac.service_accounts {
            sa(o.effective_namespace().unwrap_or("default"), o.name());
        }
        for w in workloads {
            sa(&w.summary.namespace, &w.summary.service_account);
        }
        for (i, b) in rbac.bindings.iter().enumerate() {
            for s in &b.subjects {
                match (s.kind, &s.namespace) {
                    (SubjectKind::User, _) => q.by_user.entry(&s.name).or_default().push(i),
                    (SubjectKind::Group, _) => q.by_group.entry(&s.name).or_default().push(i),
                    (SubjectKind::ServiceAccount, Some(ns)) => {
                        q.by_sa.entry((ns, &s.name)).or_default().push(i);
                        sa(ns, &s.name);
                    }
                    _ => {}
                }
            }
        }
        for b in &rbac.bindings {
            if let Some(ns) = &b.namespace {
                q.namespaces.insert(ns.clone());
            }
        }
        for o in &rbac.service_accounts {
            q.namespaces
                .insert(o.effective_namespace().unwrap_or("default").to_owned());
        }
        let sa_namespaces: Vec<String> = q.service_accounts.keys().cloned().collect();
        q.namespaces.extend(sa_namespaces);
        for w in workloads {
            q.namespaces.insert(w.summary.namespace.to_string());
        }
        for r in &rbac.roles {
            if let Some(ns) = &r.namespace {
                q.namespaces.insert(ns.clone());
            }
        }
        q
    }

    /// Adds the Namespaces declared in the input (name and labels).
    pub fn declare_namespaces<'o, I: IntoIterator<Item = &'o crate::inventory::Retained>>(
        &mut self,
        objects: I,
    ) {
        for o in objects {
            if o.kind() == "Namespace" && o.group().is_empty() {
                self.namespaces.insert(o.name().to_owned());
                self.namespace_labels
                    .insert(o.name().to_owned(), o.object().labels());
            }
        }
    }

    /// The bindings that apply to the identity, with the roles they grant (through the subject
    /// index; the same set as [`Rbac::grants`]).
    pub fn grants(&self, who: &Principal) -> Vec<Grant<'q, 'a>> {
        let mut idx: Vec<usize> = Vec::new();
        if let Some(user) = &who.user {
            idx.extend(self.by_user.get(user.as_str()).into_iter().flatten());
            if let Some((ns, name)) = user
                .strip_prefix("system:serviceaccount:")
                .and_then(|r| r.split_once(':'))
            {
                idx.extend(self.by_sa.get(&(ns, name)).into_iter().flatten());
            }
        }
        for g in &who.groups {
            idx.extend(self.by_group.get(g.as_str()).into_iter().flatten());
        }
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .filter_map(|i| {
                let b = &self.rbac.bindings[i];
                let subject = b.subjects.iter().find(|s| who.matches(s))?;
                match self.resolved[i] {
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

    fn object_ref(
        o: Option<&crate::inventory::Retained>,
        kind: &str,
        name: &str,
        ns: Option<&str>,
    ) -> ObjectRef {
        ObjectRef {
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: ns.map(str::to_owned),
            location: o.map(|o| format!("{}:{}", o.source().name, o.pos().line)),
        }
    }

    /// Binding → role → rule, at the binding's scope.
    pub fn via(&self, binding: &Binding, role: &Role, rule: RuleId) -> Via {
        let owner = &self.rbac.roles[rule.role];
        let scope = binding.scope();
        Via {
            scope: match scope {
                Scope::Cluster => "cluster",
                Scope::Namespace(_) => "namespace",
            },
            namespace: match scope {
                Scope::Cluster => None,
                Scope::Namespace(ns) => Some(ns.to_owned()),
            },
            binding: Self::object_ref(
                Some(binding.object),
                binding.kind.as_str(),
                &binding.name,
                binding.namespace.as_deref(),
            ),
            role: Self::object_ref(
                role.object,
                role.kind.as_str(),
                &role.name,
                role.namespace.as_deref(),
            ),
            rule: RuleRef {
                position: self.rbac.describe_rule(rule, role),
                text: self.rbac.rule(rule).describe(),
                location: owner.object.map(|o| {
                    let pos = o.object().locate(&rule.pointer());
                    format!("{}:{}", o.source().name, pos.line)
                }),
            },
        }
    }

    /// The request a binding is asked at; `None` if the binding cannot grant it there.
    fn request_for<'r>(
        &self,
        ask: &'r Ask,
        b: &'r Binding,
        place: Where<'r>,
    ) -> Option<Request<'r>> {
        let mut req = ask.request();
        let cluster_only = ask.cluster_only();
        match (b.kind, place) {
            (BindingKind::ClusterRoleBinding, Where::Namespace(ns)) if !cluster_only => {
                req.namespace = Some(ns);
            }
            (BindingKind::ClusterRoleBinding, _) => {}
            (BindingKind::RoleBinding, _) if cluster_only => return None,
            (BindingKind::RoleBinding, Where::AllNamespaces) => return None,
            (BindingKind::RoleBinding, Where::Namespace(ns)) => {
                if b.namespace.as_deref() != Some(ns) {
                    return None;
                }
                req.namespace = Some(ns);
            }
            // In its own namespace.
            (BindingKind::RoleBinding, Where::Anywhere) => req.namespace = b.namespace.as_deref(),
        }
        Some(req)
    }

    /// The first rule of the binding's role that allows the request where it is asked.
    fn binding_allows(&self, i: usize, ask: &Ask, place: Where) -> Option<(&'q Role<'a>, RuleId)> {
        let b = &self.rbac.bindings[i];
        let Resolution::Role(role) = self.resolved[i] else {
            return None;
        };
        let req = self.request_for(ask, b, place)?;
        if !b.scope().covers(&req) {
            return None;
        }
        self.rbac
            .rules_of(role)
            .find(|(_, r)| r.allows(&req))
            .map(|(id, _)| (role, id))
    }

    /// Workloads running as the service accounts a subject stands for, with the token mounted.
    fn workloads_of(&self, s: &Subject) -> Vec<ObjectRef> {
        use crate::analysis::rbac::ServiceAccounts;
        let implicit_all = s.kind == SubjectKind::Group && s.name == "system:authenticated";
        let who = s.service_accounts();
        if who.is_none() && !implicit_all {
            return Vec::new();
        }
        self.workloads
            .iter()
            .filter(|w| match who {
                Some(ServiceAccounts::One { namespace, name }) => {
                    w.summary.namespace == namespace && w.summary.service_account == name
                }
                Some(ServiceAccounts::Namespace(ns)) => w.summary.namespace == ns,
                Some(ServiceAccounts::All) | None => true,
            })
            .filter(|w| self.token_mounted(w))
            .map(workload_ref)
            .collect()
    }

    /// Is the API token of the workload's service account mounted (pod setting, else the
    /// ServiceAccount's, else yes)?
    pub fn token_mounted(&self, w: &QueryWorkload) -> bool {
        let sa = self
            .sa_objects
            .get(&(
                w.summary.namespace.as_str(),
                w.summary.service_account.as_str(),
            ))
            .and_then(|o| {
                o.object()
                    .root
                    .get("automountServiceAccountToken")?
                    .as_bool()
            });
        !w.summary.static_pod && w.summary.automount_token.or(sa) != Some(false)
    }

    /// Every subject allowed the request `place`, with the binding, role and rule that allow it.
    pub fn who_can(&self, ask: &Ask, place: Where) -> WhoCan {
        let mut subjects = Vec::new();
        for (i, b) in self.rbac.bindings.iter().enumerate() {
            let Some((role, rule)) = self.binding_allows(i, ask, place) else {
                continue;
            };
            let via = self.via(b, role, rule);
            for s in &b.subjects {
                let kind = match s.kind {
                    SubjectKind::User => "User",
                    SubjectKind::Group => "Group",
                    SubjectKind::ServiceAccount if s.namespace.is_some() => "ServiceAccount",
                    // Matches nobody.
                    _ => continue,
                };
                subjects.push(Holder {
                    kind: kind.to_owned(),
                    name: s.name.clone(),
                    namespace: if s.kind == SubjectKind::ServiceAccount {
                        s.namespace.clone()
                    } else {
                        None
                    },
                    implicit: implicit_group(s),
                    via: via.clone(),
                    workloads: self.workloads_of(s),
                });
            }
        }
        let mut notes = Vec::new();
        if self.rbac.aggregation_truncated {
            notes.push("aggregation was cut short (hostile input): some aggregated ClusterRoles lack rules".into());
        }
        let platform: Vec<String> = self
            .rbac
            .bindings
            .iter()
            .zip(&self.resolved)
            .filter(|(_, r)| matches!(r, Resolution::Platform))
            .map(|(b, _)| b)
            .map(|b| format!("{} → {}", b.describe(), b.describe_role_ref()))
            .collect();
        if !platform.is_empty() {
            notes.push(format!(
                "{} binding(s) refer to platform roles whose rules are not modelled: {}",
                platform.len(),
                platform.into_iter().take(5).collect::<Vec<_>>().join(", ")
            ));
        }
        WhoCan {
            request: ask.clone(),
            namespace: match place {
                Where::Namespace(ns) => Some(ns.to_owned()),
                _ => None,
            },
            all_namespaces: place == Where::AllNamespaces,
            subjects,
            always: vec![format!(
                "Group \"{MASTERS}\" (allowed everything by the API server before RBAC)"
            )],
            notes,
        }
    }

    /// May the identity make the request `place`? Decided by the model's authorizer
    /// ([`Rbac::authorize`]); `Anywhere` asks cluster-wide and in every namespace the input names.
    pub fn can(&self, who: &Identity, ask: &Ask, place: Where) -> CanAnswer {
        let mut answer = CanAnswer {
            subject: who.label.clone(),
            request: ask.clone(),
            namespace: match place {
                Where::Namespace(ns) => Some(ns.to_owned()),
                _ => None,
            },
            all_namespaces: place == Where::AllNamespaces,
            allowed: false,
            via: None,
            reason: String::new(),
        };
        if who.is_master() {
            answer.allowed = true;
            answer.reason = format!("member of \"{MASTERS}\": allowed everything before RBAC");
            return answer;
        }
        let base = ask.request();
        let mut places: Vec<Option<&str>> = Vec::new();
        match place {
            Where::Namespace(ns) if !ask.cluster_only() => places.push(Some(ns)),
            Where::Namespace(_) | Where::AllNamespaces => places.push(None),
            Where::Anywhere => {
                places.push(None);
                if !ask.cluster_only() {
                    let mut namespaces: Vec<&str> = self
                        .rbac
                        .bindings
                        .iter()
                        .filter(|b| b.kind == BindingKind::RoleBinding)
                        .filter_map(|b| b.namespace.as_deref())
                        .collect();
                    namespaces.sort_unstable();
                    namespaces.dedup();
                    places.extend(namespaces.into_iter().map(Some));
                }
            }
        }
        for ns in places {
            let mut req = base;
            req.namespace = ns;
            if let Some((grant, rule)) = self.rbac.authorize(&who.principal, &req) {
                let via = self.via(grant.binding, grant.role, rule);
                answer.reason = format!("{} {}", via.scope_text(), via.describe());
                answer.via = Some(via);
                answer.allowed = true;
                return answer;
            }
        }
        answer.reason = format!(
            "no binding of {} grants {} {}",
            who.label,
            ask.describe(),
            place.describe()
        );
        answer
    }

    /// The effective permissions of the identity, cluster-wide and per namespace (only `ns`
    /// when given).
    pub fn permissions(&self, who: &Identity, ns: Option<&str>) -> Permissions {
        let mut scopes: BTreeMap<Option<String>, Vec<Permission>> = BTreeMap::new();
        for g in self.grants(&who.principal) {
            let scope_ns = match g.scope {
                Scope::Cluster => None,
                Scope::Namespace(n) => Some(n.to_owned()),
            };
            if let (Some(want), Some(have)) = (ns, &scope_ns)
                && want != have
            {
                continue;
            }
            for (id, rule) in self.rbac.rules_of(g.role) {
                let PolicyRule {
                    verbs,
                    api_groups,
                    resources,
                    resource_names,
                    non_resource_urls,
                } = rule.clone();
                scopes
                    .entry(scope_ns.clone())
                    .or_default()
                    .push(Permission {
                        verbs,
                        api_groups,
                        resources,
                        resource_names,
                        non_resource_urls,
                        via: self.via(g.binding, g.role, id),
                    });
            }
        }
        let mut notes = Vec::new();
        if who.is_master() {
            notes.push(format!(
                "member of \"{MASTERS}\": allowed everything by the API server before RBAC"
            ));
        }
        for g in &who.principal.groups {
            if g.starts_with("system:") {
                notes.push(format!("counted as a member of Group \"{g}\""));
            }
        }
        Permissions {
            subject: who.label.clone(),
            groups: who.principal.groups.iter().cloned().collect(),
            master: who.is_master(),
            scopes: scopes
                .into_iter()
                .map(|(namespace, permissions)| ScopePermissions {
                    namespace,
                    permissions,
                })
                .collect(),
            notes,
        }
    }
}

fn workload_ref(w: &QueryWorkload) -> ObjectRef {
    ObjectRef {
        kind: w.summary.kind.to_string(),
        name: w.summary.name.to_string(),
        namespace: Some(w.summary.namespace.to_string()),
        location: Some(w.location()),
    }
}

/// What an implicit group stands for.
fn implicit_group(s: &Subject) -> Option<String> {
    if s.kind != SubjectKind::Group {
        return None;
    }
    Some(match s.name.as_str() {
        "system:authenticated" => {
            "every authenticated identity (users and service accounts)".into()
        }
        "system:unauthenticated" => "anonymous requests".into(),
        "system:serviceaccounts" => "every service account of every namespace".into(),
        n => format!(
            "every service account of namespace \"{}\"",
            n.strip_prefix("system:serviceaccounts:")?
        ),
    })
}

// ---------------------------------------------------------------------------------------------
// Escalation paths
// ---------------------------------------------------------------------------------------------

/// Where an escalation ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Full control of the cluster.
    ClusterAdmin,
    /// Read secrets in every namespace.
    Secrets,
    /// Run code as root on a node (and so read what its pods hold).
    Nodes,
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, String> {
        match s {
            "cluster-admin" => Ok(Target::ClusterAdmin),
            "secrets" => Ok(Target::Secrets),
            "nodes" | "node" => Ok(Target::Nodes),
            _ => Err(format!(
                "unknown target `{s}` (cluster-admin, secrets, nodes)"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::ClusterAdmin => "cluster-admin",
            Target::Secrets => "secrets",
            Target::Nodes => "nodes",
        }
    }

    pub const ALL: [Target; 3] = [Target::ClusterAdmin, Target::Secrets, Target::Nodes];
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum State {
    Identity(usize),
    NamespaceAdmin(String),
    Node,
    Target(Target),
}

/// One step of an escalation chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Who takes the step: `ServiceAccount "build/ci"`, `full control of namespace "prod"`,
    /// `root on a node`.
    pub actor: String,
    /// The permission used (`create pods in namespace "prod"`), or the fact the step rests on.
    pub permission: String,
    /// How the actor holds it (absent for a step that needs no permission).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// What the step gives: `act as ServiceAccount "prod/operator"`, `cluster-admin`.
    pub gains: String,
    /// The object that makes the step possible (the service account's workload, the
    /// privileged workload, the DaemonSet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
}

/// An escalation chain to a target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub target: Target,
    pub steps: Vec<Step>,
}

/// The answer of `rbac paths`.
#[derive(Clone, Debug, Serialize)]
pub struct Paths {
    pub subject: String,
    pub targets: Vec<Target>,
    /// Shortest first.
    pub chains: Vec<Chain>,
    /// Identities the subject can act as (itself excluded).
    pub reachable_identities: Vec<String>,
}

/// An edge of the search: the state it leads to and the step, as a draft (the texts of a step
/// are only written for the chains returned: most edges are never part of one).
struct Edge<'s> {
    to: State,
    step: Draft<'s>,
}

/// A step before its texts are written: the actor is the state the edge leaves, and what it
/// gains and the object may depend on the state it reaches.
#[derive(Clone)]
struct Draft<'s> {
    permission: Rc<str>,
    via: Option<Rc<Via>>,
    gains: Gains<'s>,
    object: Obj<'s>,
}

#[derive(Clone)]
enum Gains<'s> {
    Text(String),
    /// `act as ServiceAccount "ns/name" (SUFFIX)`: the identity reached.
    ActAs(&'static str),
    /// `act as ServiceAccount "ns/name" (HOW WORKLOAD, which mounts its token)`.
    ActAsThrough(&'static str, &'s QueryWorkload),
}

#[derive(Clone)]
enum Obj<'s> {
    None,
    Given(ObjectRef),
    /// The service account's workload, else its object.
    ServiceAccount(&'s str, &'s str),
    Workload(&'s QueryWorkload),
}

/// Requests whose grant makes an escalation step, by what they give.
const POD_CREATORS: &[(&str, &str, &str)] = &[
    ("create", "", "pods"),
    ("create", "apps", "deployments"),
    ("create", "apps", "daemonsets"),
    ("create", "apps", "statefulsets"),
    ("create", "apps", "replicasets"),
    ("create", "batch", "jobs"),
    ("create", "batch", "cronjobs"),
    ("create", "", "replicationcontrollers"),
];

/// The key of a fixed request: where its static strings are (the same literal is the same
/// request; two copies of a literal at most make two entries).
type FixedKey = [(usize, usize); 4];

thread_local! {
    /// The fixed requests of the escalation steps, built once per thread (a few dozen: a scan
    /// comparing addresses is cheaper than hashing the strings).
    static ASKS: std::cell::RefCell<Vec<(FixedKey, Rc<Ask>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A fixed request (`name` empty: none), shared.
fn named(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    name: &'static str,
) -> Rc<Ask> {
    let key = [verb, group, resource, name].map(|s| (s.as_ptr() as usize, s.len()));
    ASKS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, a)) = cache.iter().find(|(k, _)| *k == key) {
            return a.clone();
        }
        let mut a = Ask::parse(verb, resource).expect("static request");
        a.group = group.to_owned();
        a.name = (!name.is_empty()).then(|| name.to_owned());
        let a = Rc::new(a);
        cache.push((key, a.clone()));
        a
    })
}

fn ask(verb: &'static str, group: &'static str, resource: &'static str) -> Rc<Ask> {
    named(verb, group, resource, "")
}

impl<'q, 'a> Query<'q, 'a> {
    /// The first grant (of those given) that allows the request in `ns` (`None`: cluster-wide).
    fn first(&self, grants: &[Grant<'q, 'a>], ask: &Ask, ns: Option<&str>) -> Option<Via> {
        let mut req = ask.request();
        req.namespace = if ask.cluster_only() { None } else { ns };
        grants
            .iter()
            .filter(|g| g.scope.covers(&req))
            .find_map(|g| {
                self.rbac
                    .rules_of(g.role)
                    .find(|(_, r)| r.allows(&req))
                    .map(|(id, _)| self.via(g.binding, g.role, id))
            })
    }

    /// The namespaces where the request is allowed (every namespace when a ClusterRoleBinding
    /// allows it), with how.
    fn where_allowed<'s>(&'s self, grants: &[Grant<'q, 'a>], ask: &Ask) -> Vec<(&'s str, Rc<Via>)>
    where
        'q: 's,
    {
        if let Some(via) = self.first(grants, ask, None) {
            let via = Rc::new(via);
            return self
                .namespaces
                .iter()
                .map(|ns| (ns.as_str(), via.clone()))
                .collect();
        }
        let mut namespaces: Vec<&'q str> = grants
            .iter()
            .filter_map(|g| match g.scope {
                Scope::Namespace(ns) => Some(ns),
                Scope::Cluster => None,
            })
            .collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        namespaces
            .into_iter()
            .filter_map(|ns| self.first(grants, ask, Some(ns)).map(|v| (ns, Rc::new(v))))
            .collect()
    }

    fn sa_object(&self, ns: &str, name: &str) -> Option<ObjectRef> {
        if let Some(w) = self.sa_workloads.get(&(ns, name)) {
            return Some(workload_ref(w));
        }
        self.sa_objects
            .get(&(ns, name))
            .map(|o| Self::object_ref(Some(o), "ServiceAccount", name, Some(ns)))
    }

    fn edges<'s>(&'s self, state: &State, ids: &mut Identities<'s>) -> Vec<Edge<'s>> {
        match state {
            State::Identity(i) => {
                let who = ids.list[*i].clone();
                self.identity_edges(&who, ids)
            }
            State::NamespaceAdmin(ns) => self.namespace_admin_edges(ns, ids),
            State::Node => self.node_edges(ids),
            State::Target(_) => Vec::new(),
        }
    }

    /// Who takes a step from the state.
    fn actor(state: &State, ids: &Identities) -> String {
        match state {
            State::Identity(i) => ids.list[*i].label.clone(),
            State::NamespaceAdmin(ns) => format!("full control of namespace \"{ns}\""),
            State::Node => "root on a node".to_owned(),
            State::Target(t) => t.as_str().to_owned(),
        }
    }

    /// The step of a draft taken from `from` to `to`.
    fn write_step(&self, from: &State, to: &State, draft: &Draft, ids: &Identities) -> Step {
        let reached = || match to {
            State::Identity(i) => ids.list[*i].label.as_str(),
            _ => "",
        };
        Step {
            actor: Self::actor(from, ids),
            permission: draft.permission.to_string(),
            via: draft.via.as_deref().cloned(),
            gains: match &draft.gains {
                Gains::Text(t) => t.clone(),
                Gains::ActAs(suffix) => format!("act as {} ({suffix})", reached()),
                Gains::ActAsThrough(how, w) => format!(
                    "act as {} ({how} {}, which mounts its token)",
                    reached(),
                    w.describe()
                ),
            },
            object: match &draft.object {
                Obj::None => None,
                Obj::Given(o) => Some(o.clone()),
                Obj::ServiceAccount(ns, sa) => self.sa_object(ns, sa),
                Obj::Workload(w) => Some(workload_ref(w)),
            },
        }
    }

    fn to_sa<'s>(&self, ids: &mut Identities<'s>, ns: &'s str, name: &'s str) -> State {
        if let Some(&i) = ids.by_sa.get(&(ns, name)) {
            return State::Identity(i);
        }
        let label = format!("ServiceAccount \"{ns}/{name}\"");
        let i = match ids.index.get(&label) {
            Some(&i) => i,
            None => ids.intern(Identity::service_account(ns, name)),
        };
        ids.by_sa.insert((ns, name), i);
        State::Identity(i)
    }

    fn namespace_admin_edges<'s>(&'s self, ns: &str, ids: &mut Identities<'s>) -> Vec<Edge<'s>> {
        let mut out = Vec::new();
        let permission: Rc<str> = format!("create pods in namespace \"{ns}\"").into();
        if let Some((ns, sas)) = self.service_accounts.get_key_value(ns) {
            for sa in sas {
                let to = self.to_sa(ids, ns, sa);
                if ids.is_seen(&to) {
                    continue;
                }
                out.push(Edge {
                    to,
                    step: Draft {
                        permission: permission.clone(),
                        via: None,
                        gains: Gains::ActAs("run a pod as it"),
                        object: Obj::ServiceAccount(ns, sa),
                    },
                });
            }
        }
        for w in self
            .workloads
            .iter()
            .filter(|w| w.summary.namespace == ns && w.host_access.is_some())
        {
            out.push(Edge {
                to: State::Node,
                step: Draft {
                    permission: format!("create pods/exec in namespace \"{ns}\"").into(),
                    via: None,
                    gains: Gains::Text(format!(
                        "root on its node (exec into {}: {})",
                        w.describe(),
                        w.host_access.as_deref().unwrap_or("")
                    )),
                    object: Obj::Workload(w),
                },
            });
        }
        out
    }

    fn node_edges<'s>(&'s self, ids: &mut Identities<'s>) -> Vec<Edge<'s>> {
        let mut out = Vec::new();
        for w in self
            .workloads
            .iter()
            .filter(|w| w.summary.kind == "DaemonSet" && self.token_mounted(w))
        {
            let (ns, sa) = (&w.summary.namespace, &w.summary.service_account);
            let to = self.to_sa(ids, ns, sa);
            if ids.is_seen(&to) {
                continue;
            }
            out.push(Edge {
                to,
                step: Draft {
                    permission: "read the tokens mounted in the node's pods".into(),
                    via: None,
                    gains: Gains::Text(format!(
                        "act as ServiceAccount \"{ns}/{sa}\" ({} runs on every node)",
                        w.describe()
                    )),
                    object: Obj::Workload(w),
                },
            });
        }
        out
    }

    /// Why a pod created in the namespace may be privileged, if it may: no Pod Security level
    /// of `baseline` or `restricted` is enforced there (as far as the input tells).
    fn pod_security_allows_privileged(&self, ns: &str) -> Option<String> {
        match self.namespace_labels.get(ns) {
            Some(l) => match l
                .get("pod-security.kubernetes.io/enforce")
                .map(String::as_str)
            {
                Some("baseline" | "restricted") => None,
                Some(other) => Some(format!(
                    "namespace \"{ns}\" enforces Pod Security level \"{other}\""
                )),
                None => Some(format!("namespace \"{ns}\" enforces no Pod Security level")),
            },
            None => Some(format!(
                "no Pod Security level is declared for namespace \"{ns}\""
            )),
        }
    }

    fn identity_edges<'s>(&'s self, who: &Identity, ids: &mut Identities<'s>) -> Vec<Edge<'s>> {
        let mut out = Vec::new();
        let me = who.label.as_str();
        let step = |permission: String,
                    via: Option<Via>,
                    gains: String,
                    object: Option<ObjectRef>|
         -> Draft<'s> {
            Draft {
                permission: permission.into(),
                via: via.map(Rc::new),
                gains: Gains::Text(gains),
                object: object.map_or(Obj::None, Obj::Given),
            }
        };
        if who.is_master() {
            return Target::ALL
                .iter()
                .map(|&t| Edge {
                    to: State::Target(t),
                    step: step(
                        format!("member of Group \"{MASTERS}\" (allowed everything before RBAC)"),
                        None,
                        t.as_str().into(),
                        None,
                    ),
                })
                .collect();
        }
        let grants = self.grants(&who.principal);
        if grants.is_empty() {
            return out;
        }
        // The verbs the identity holds somewhere: a request with another verb is never allowed.
        let mut verbs: BTreeSet<&str> = BTreeSet::new();
        for g in &grants {
            for (_, r) in self.rbac.rules_of(g.role) {
                verbs.extend(r.verbs.iter().map(Text::as_str));
            }
        }
        let any_verb = verbs.contains("*");
        let holds = |verb: &str| any_verb || verbs.contains(verb);
        // A fixed request, looked up only when its verb is held.
        let fixed = |verb: &'static str,
                     group: &'static str,
                     resource: &'static str,
                     name: &'static str|
         -> Option<Rc<Ask>> {
            holds(verb).then(|| named(verb, group, resource, name))
        };
        let first = |ask: &Ask, ns: Option<&str>| -> Option<Via> {
            if holds(&ask.verb) {
                self.first(&grants, ask, ns)
            } else {
                None
            }
        };
        let first_fixed = |verb: &'static str,
                           group: &'static str,
                           resource: &'static str,
                           name: &'static str,
                           ns: Option<&str>|
         -> Option<Via> {
            fixed(verb, group, resource, name).and_then(|a| self.first(&grants, &a, ns))
        };
        let where_fixed = |verb: &'static str,
                           group: &'static str,
                           resource: &'static str,
                           name: &'static str|
         -> Vec<(&'s str, Rc<Via>)> {
            match fixed(verb, group, resource, name) {
                Some(a) => self.where_allowed(&grants, &a),
                None => Vec::new(),
            }
        };
        // Bound cluster-wide to cluster-admin (or an equivalent).
        if let Some(g) = grants
            .iter()
            .find(|g| g.scope == Scope::Cluster && self.rbac.is_cluster_admin(g.role))
        {
            let id = self
                .rbac
                .rules_of(g.role)
                .find(|(_, r)| r.is_full_wildcard())
                .map(|(id, _)| id)
                .expect("a full-wildcard rule");
            let via = self.via(g.binding, g.role, id);
            // Full control: every other target follows, and no other step is worth showing.
            return vec![
                Edge {
                    to: State::Target(Target::ClusterAdmin),
                    step: step(
                        format!("{me} holds `*` on `*` cluster-wide"),
                        Some(via.clone()),
                        "cluster-admin".into(),
                        None,
                    ),
                },
                Edge {
                    to: State::Target(Target::Secrets),
                    step: step(
                        format!("{me} holds `*` on `*` cluster-wide"),
                        Some(via.clone()),
                        "secrets (as cluster-admin)".into(),
                        None,
                    ),
                },
                Edge {
                    to: State::Target(Target::Nodes),
                    step: step(
                        format!("{me} holds `*` on `*` cluster-wide"),
                        Some(via),
                        "nodes (as cluster-admin: a privileged pod on any node)".into(),
                        None,
                    ),
                },
            ];
        }
        for verb in ["list", "get"] {
            if let Some(via) = first_fixed(verb, "", "secrets", "", None) {
                out.push(Edge {
                    to: State::Target(Target::Secrets),
                    step: step(
                        format!("{verb} secrets cluster-wide"),
                        Some(via),
                        "secrets".into(),
                        None,
                    ),
                });
                break;
            }
        }
        for verb in ["create", "get"] {
            if let Some(via) = first_fixed(verb, "", "nodes/proxy", "", None) {
                out.push(Edge {
                    to: State::Node,
                    step: step(
                        format!("{verb} nodes/proxy (the kubelet API of every node)"),
                        Some(via),
                        "root on a node (run commands in any pod through the kubelet)".into(),
                        None,
                    ),
                });
                break;
            }
        }
        // Cluster-wide: bind, escalate, impersonate, certificates.
        if let (Some(bind), Some(create)) = (
            first_fixed("bind", RBAC_GROUP, "clusterroles", "cluster-admin", None),
            first_fixed("create", RBAC_GROUP, "clusterrolebindings", "", None),
        ) {
            out.push(Edge {
                to: State::Target(Target::ClusterAdmin),
                step: step(
                    "bind ClusterRole \"cluster-admin\" and create clusterrolebindings".into(),
                    Some(bind),
                    format!(
                        "cluster-admin (bind it to itself; create through {})",
                        create.describe()
                    ),
                    None,
                ),
            });
        }
        if holds("escalate")
            && grants.iter().any(|g| {
                g.scope == Scope::Cluster
                    && g.role.kind == RoleKind::ClusterRole
                    && g.role.object.is_some()
            })
        {
            let mut esc = (*ask("escalate", RBAC_GROUP, "clusterroles")).clone();
            let bound = grants
                .iter()
                .find(|g| g.scope == Scope::Cluster && g.role.object.is_some())
                .map(|g| g.role.name.clone())
                .unwrap_or_default();
            esc.name = Some(bound.clone());
            let mut upd = (*ask("update", RBAC_GROUP, "clusterroles")).clone();
            upd.name = Some(bound.clone());
            if let (Some(via), Some(_)) = (first(&esc, None), first(&upd, None)) {
                out.push(Edge {
                    to: State::Target(Target::ClusterAdmin),
                    step: step(
                        format!("escalate and update ClusterRole \"{bound}\""),
                        Some(via),
                        format!("cluster-admin (add `*` on `*` to ClusterRole \"{bound}\", bound to it cluster-wide)"),
                        None,
                    ),
                });
            }
        }
        if let Some(via) = first_fixed("impersonate", "", "groups", MASTERS, None) {
            out.push(Edge {
                to: State::Target(Target::ClusterAdmin),
                step: step(
                    format!("impersonate Group \"{MASTERS}\""),
                    Some(via),
                    "cluster-admin".into(),
                    None,
                ),
            });
        }
        let users: BTreeSet<&str> = if holds("impersonate") {
            self.by_user
                .keys()
                .copied()
                .filter(|u| who.principal.user.as_deref() != Some(*u))
                .collect()
        } else {
            BTreeSet::new()
        };
        for u in users {
            let mut imp = (*ask("impersonate", "", "users")).clone();
            imp.name = Some(u.to_owned());
            if let Some(via) = first(&imp, None) {
                let id = ids.intern(Identity::user(u, &[]));
                out.push(Edge {
                    to: State::Identity(id),
                    step: step(
                        format!("impersonate User \"{u}\""),
                        Some(via),
                        format!("act as User \"{u}\""),
                        None,
                    ),
                });
            }
        }
        if let (Some(via), true, Some(_)) = (
            first_fixed(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
                "",
                None,
            ),
            first_fixed(
                "create",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                None,
            )
            .is_some(),
            first_fixed(
                "approve",
                "certificates.k8s.io",
                "signers",
                "kubernetes.io/kube-apiserver-client",
                None,
            ),
        ) {
            out.push(Edge {
                to: State::Target(Target::ClusterAdmin),
                step: step(
                    "create and approve certificate signing requests for the kube-apiserver-client signer".into(),
                    Some(via),
                    format!("cluster-admin (a client certificate in Group \"{MASTERS}\")"),
                    None,
                ),
            });
        }
        // In namespaces: (label of the permission, how, what it gives), by namespace.
        type Uses<'s> = Vec<(Rc<str>, Rc<Via>, &'static str)>;
        let mut by_ns: BTreeMap<&'s str, Uses<'s>> = BTreeMap::new();
        let record = |found: Vec<(&'s str, Rc<Via>)>,
                      label: &str,
                      what: &'static str,
                      by_ns: &mut BTreeMap<&'s str, Uses<'s>>| {
            if found.is_empty() {
                return;
            }
            let label: Rc<str> = label.into();
            for (ns, via) in found {
                by_ns
                    .entry(ns)
                    .or_default()
                    .push((label.clone(), via, what));
            }
        };
        for &(verb, group, resource) in POD_CREATORS {
            let found = where_fixed(verb, group, resource, "");
            record(found, &format!("{verb} {resource}"), "pods", &mut by_ns);
        }
        record(
            where_fixed("create", "", "serviceaccounts/token", ""),
            "create serviceaccounts/token",
            "token",
            &mut by_ns,
        );
        record(
            where_fixed("create", "", "secrets", ""),
            "create secrets",
            "secret",
            &mut by_ns,
        );
        record(
            where_fixed("impersonate", "", "serviceaccounts", ""),
            "impersonate serviceaccounts",
            "impersonate",
            &mut by_ns,
        );
        for verb in ["create", "get"] {
            record(
                where_fixed(verb, "", "pods/exec", ""),
                &format!("{verb} pods/exec"),
                "exec",
                &mut by_ns,
            );
        }
        record(
            where_fixed("patch", "", "pods", ""),
            "patch pods",
            "patch",
            &mut by_ns,
        );
        for (ns, via) in where_fixed("bind", RBAC_GROUP, "clusterroles", "cluster-admin") {
            if first_fixed("create", RBAC_GROUP, "rolebindings", "", Some(ns)).is_some() {
                by_ns.entry(ns).or_default().push((
                    "bind ClusterRole \"cluster-admin\" and create rolebindings".into(),
                    via,
                    "admin",
                ));
            }
        }
        for (ns, uses) in by_ns {
            let mut seen: BTreeSet<&'static str> = BTreeSet::new();
            for (label, via, what) in uses {
                // One step per kind of power and namespace: the first permission found.
                if !seen.insert(what) {
                    continue;
                }
                let permission: Rc<str> = format!("{label} in namespace \"{ns}\"").into();
                let draft = |gains: Gains<'s>, object: Obj<'s>| Draft {
                    permission: permission.clone(),
                    via: Some(via.clone()),
                    gains,
                    object,
                };
                match what {
                    "admin" => out.push(Edge {
                        to: State::NamespaceAdmin(ns.to_owned()),
                        step: draft(
                            Gains::Text(format!("full control of namespace \"{ns}\"")),
                            Obj::None,
                        ),
                    }),
                    "pods" | "token" | "secret" | "impersonate" => {
                        if what == "pods"
                            && let Some(why) = self.pod_security_allows_privileged(ns)
                            && !seen.contains("node-pods")
                        {
                            seen.insert("node-pods");
                            out.push(Edge {
                                to: State::Node,
                                step: draft(
                                    Gains::Text(format!(
                                        "root on a node (run a privileged pod: {why})"
                                    )),
                                    Obj::None,
                                ),
                            });
                        }
                        let Some((ns, sas)) = self.service_accounts.get_key_value(ns) else {
                            continue;
                        };
                        let ns = ns.as_str();
                        let gains = match what {
                            "pods" => "run a pod as it",
                            "token" => "request a token for it",
                            "secret" => "create a service-account-token Secret for it",
                            _ => "impersonate it",
                        };
                        for sa in sas {
                            if who
                                .service_account
                                .as_ref()
                                .is_some_and(|(n, s)| n == ns && s == sa)
                            {
                                continue;
                            }
                            let to = self.to_sa(ids, ns, sa);
                            if ids.is_seen(&to) {
                                continue;
                            }
                            out.push(Edge {
                                to,
                                step: draft(Gains::ActAs(gains), Obj::ServiceAccount(ns, sa)),
                            });
                        }
                    }
                    "exec" | "patch" => {
                        for w in self.workloads.iter().filter(|w| w.summary.namespace == ns) {
                            if what == "exec"
                                && let Some(h) = &w.host_access
                            {
                                out.push(Edge {
                                    to: State::Node,
                                    step: draft(
                                        Gains::Text(format!(
                                            "root on its node (exec into {}: {h})",
                                            w.describe()
                                        )),
                                        Obj::Workload(w),
                                    ),
                                });
                            }
                            if self.token_mounted(w) {
                                let sa = &w.summary.service_account;
                                if who
                                    .service_account
                                    .as_ref()
                                    .is_some_and(|(n, s)| n == ns && s == sa)
                                {
                                    continue;
                                }
                                let how = if what == "exec" {
                                    "exec into"
                                } else {
                                    "swap the image of"
                                };
                                let to = self.to_sa(ids, &w.summary.namespace, sa);
                                if ids.is_seen(&to) {
                                    continue;
                                }
                                out.push(Edge {
                                    to,
                                    step: draft(Gains::ActAsThrough(how, w), Obj::Workload(w)),
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// Escalation chains from the identity to the targets, shortest first (breadth-first
    /// search over identities, namespace control and node access; each chain ends with the
    /// step that reaches its target). At most `limit` chains.
    pub fn paths(&self, who: &Identity, targets: &[Target], limit: usize) -> Paths {
        let mut ids = Identities::default();
        let start = State::Identity(ids.intern(who.clone()));
        ids.mark(&start);
        // Parent pointers: how each state was first reached (the step as a draft).
        let mut parent: HashMap<State, Option<(State, Draft)>> = HashMap::new();
        parent.insert(start.clone(), None);
        let mut queue = VecDeque::from([(start, 0usize)]);
        // Edges into targets: (depth of the source, source, reached, step, target).
        let mut endings: Vec<(usize, State, State, Draft, Target)> = Vec::new();
        while let Some((state, d)) = queue.pop_front() {
            // Each state is expanded once: its endings are those pushed from here on.
            let mine = endings.len();
            for edge in self.edges(&state, &mut ids) {
                if let State::Target(t) = edge.to {
                    // One chain per (state, target): the first way found.
                    if targets.contains(&t) && !endings[mine..].iter().any(|e| e.4 == t) {
                        endings.push((d, state.clone(), edge.to, edge.step, t));
                    }
                    continue;
                }
                let known = parent.contains_key(&edge.to);
                // Root on a node is the `nodes` target itself (and leads on to DaemonSets' tokens).
                if edge.to == State::Node
                    && targets.contains(&Target::Nodes)
                    && !endings[mine..].iter().any(|e| e.4 == Target::Nodes)
                {
                    if known {
                        endings.push((d, state.clone(), State::Node, edge.step, Target::Nodes));
                        continue;
                    }
                    let copy = edge.step.clone();
                    endings.push((d, state.clone(), State::Node, copy, Target::Nodes));
                }
                if known {
                    continue;
                }
                ids.mark(&edge.to);
                parent.insert(edge.to.clone(), Some((state.clone(), edge.step)));
                queue.push_back((edge.to, d + 1));
            }
        }
        endings.sort_by_key(|e| (e.0, e.4));
        let mut chains = Vec::new();
        for (_, from, to, last, target) in endings.into_iter().take(limit) {
            let mut steps = vec![self.write_step(&from, &to, &last, &ids)];
            let mut at = from;
            while let Some(Some((prev, draft))) = parent.get(&at) {
                steps.push(self.write_step(prev, &at, draft, &ids));
                at = prev.clone();
            }
            steps.reverse();
            chains.push(Chain { target, steps });
        }
        let mut reachable: Vec<String> = parent
            .keys()
            .filter_map(|s| match s {
                State::Identity(i) if *i != 0 => Some(ids.list[*i].label.clone()),
                _ => None,
            })
            .collect();
        reachable.sort();
        Paths {
            subject: who.label.clone(),
            targets: targets.to_vec(),
            chains,
            reachable_identities: reachable,
        }
    }
}

#[derive(Default)]
struct Identities<'s> {
    list: Vec<Rc<Identity>>,
    index: HashMap<String, usize>,
    /// Service accounts by (namespace, name), as interned.
    by_sa: HashMap<(&'s str, &'s str), usize>,
    /// Identities the search has reached (edges to them are not built again).
    seen: Vec<bool>,
}

impl Identities<'_> {
    fn is_seen(&self, state: &State) -> bool {
        matches!(state, State::Identity(i) if self.seen.get(*i).copied().unwrap_or(false))
    }

    fn mark(&mut self, state: &State) {
        if let State::Identity(i) = state {
            if self.seen.len() <= *i {
                self.seen.resize(*i + 1, false);
            }
            self.seen[*i] = true;
        }
    }

    fn intern(&mut self, id: Identity) -> usize {
        if let Some(&i) = self.index.get(&id.label) {
            return i;
        }
        self.index.insert(id.label.clone(), self.list.len());
        self.list.push(Rc::new(id));
        self.list.len() - 1
    }
}
