//! Kubernetes audit logs (`audit.k8s.io/v1` Event, JSON lines, optionally gzip): what each account
//! actually did. Streaming, in memory bounded by the number of distinct (category, user,
//! namespace) groups and request shapes, never by the size of the log.
//!
//! Only `ResponseComplete` and `Panic` stages are counted, so a request logged at several stages
//! is counted once (a policy that omits `ResponseComplete` yields no counts; the summary says how
//! many events were skipped for their stage).

use crate::analysis::rbac::{self, PolicyRule, Principal, Rbac};
use crate::inventory::Retained;
use crate::yaml::Text;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Distinct groups kept before further ones are only counted (bounded memory on hostile logs).
pub const MAX_GROUPS: usize = 100_000;
/// Longest line read; longer lines are reported and skipped.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Deserialize)]
struct UserInfo<'a> {
    #[serde(borrow, default)]
    username: Cow<'a, str>,
    #[serde(borrow, default)]
    groups: Vec<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct ObjectRef<'a> {
    #[serde(borrow, default)]
    resource: Cow<'a, str>,
    #[serde(borrow, default)]
    namespace: Cow<'a, str>,
    #[serde(borrow, default)]
    name: Cow<'a, str>,
    #[serde(borrow, default, rename = "apiGroup")]
    api_group: Cow<'a, str>,
    #[serde(borrow, default)]
    subresource: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
struct ResponseStatus {
    #[serde(default)]
    code: u16,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    stage: Cow<'a, str>,
    #[serde(borrow, default)]
    verb: Cow<'a, str>,
    #[serde(borrow, default, rename = "requestURI")]
    request_uri: Cow<'a, str>,
    #[serde(borrow)]
    user: Option<UserInfo<'a>>,
    #[serde(borrow, rename = "impersonatedUser")]
    impersonated_user: Option<UserInfo<'a>>,
    #[serde(borrow, rename = "objectRef")]
    object_ref: Option<ObjectRef<'a>>,
    #[serde(rename = "responseStatus")]
    response_status: Option<ResponseStatus>,
    #[serde(borrow, default, rename = "requestReceivedTimestamp")]
    received: Cow<'a, str>,
    #[serde(borrow, default)]
    annotations: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

/// What kind of sensitive operation an event is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    AnonymousAllowed,
    SystemMasters,
    HumanClusterAdmin,
    Impersonation,
    PodExec,
    SecretRead,
    SecretWrite,
    TokenRequest,
    RbacChange,
    WebhookChange,
}

impl Category {
    pub fn describe(self) -> &'static str {
        match self {
            Category::AnonymousAllowed => "anonymous or unauthenticated requests that were allowed",
            Category::SystemMasters => "requests by members of system:masters (bypass RBAC)",
            Category::HumanClusterAdmin => "requests authorized through cluster-admin by a person",
            Category::Impersonation => "requests made while impersonating another identity",
            Category::PodExec => "exec, attach or port-forward into pods",
            Category::SecretRead => "Secret reads",
            Category::SecretWrite => "Secret writes",
            Category::TokenRequest => "ServiceAccount token requests",
            Category::RbacChange => "RBAC changes",
            Category::WebhookChange => "admission webhook or policy configuration changes",
        }
    }
}

/// One request, as far as authorization and audit policies see it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Shape {
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty for cluster-scoped and non-resource requests.
    pub namespace: String,
    /// Non-resource requests: the path (resource fields empty).
    pub path: String,
}

/// A user name and its groups, as an audit event records them.
pub type Identity = (String, Vec<String>);

/// Sensitive requests of one category by one user in one namespace.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub category: Category,
    pub user: String,
    pub namespace: String,
    pub count: u64,
    pub first: String,
    pub last: String,
    /// Where the first such event is (file, 1-based line).
    pub origin: String,
    pub line: u64,
    /// An example request, e.g. `get secrets/db-password`.
    pub example: String,
    pub allowed: u64,
    pub denied: u64,
}

/// The result of reading audit logs.
#[derive(Debug, Default, Serialize)]
pub struct Analysis {
    pub files: usize,
    pub bytes: u64,
    pub lines: u64,
    pub events: u64,
    pub skipped_stage: u64,
    pub groups: BTreeMap<(Category, String, String), Group>,
    /// Groups past `MAX_GROUPS`, only counted.
    pub overflow: u64,
    /// Distinct sensitive request shapes with the identities seen making them (for coverage).
    pub sensitive_shapes: BTreeMap<Shape, (Category, BTreeSet<Identity>)>,
    pub errors: Vec<crate::source::Diagnostic>,
    /// Requests per user, when `track_user` is set (for `rbac suggest`).
    #[serde(skip)]
    pub tracked: BTreeSet<(Shape, String)>,
    #[serde(skip)]
    track_user: Option<String>,
}

pub fn is_system(user: &str) -> bool {
    user.starts_with("system:")
}

/// `system:serviceaccount:<ns>:<name>`.
pub fn is_service_account(user: &str) -> bool {
    user.starts_with("system:serviceaccount:")
}

fn categories(ev: &Event<'_>, user: &str, groups: &[Cow<'_, str>], allowed: bool) -> Vec<Category> {
    let mut out = Vec::new();
    let o = ev.object_ref.as_ref();
    let resource = o.map_or("", |o| o.resource.as_ref());
    let sub = o.map_or("", |o| o.subresource.as_ref());
    let group = o.map_or("", |o| o.api_group.as_ref());
    let verb = ev.verb.as_ref();
    let write = matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    );
    // Health and version endpoints are public by default (system:public-info-viewer).
    let public = ev.object_ref.is_none()
        && ["/healthz", "/livez", "/readyz", "/version"]
            .iter()
            .any(|p| ev.request_uri.starts_with(p));
    if allowed
        && !public
        && (user == "system:anonymous" || groups.iter().any(|g| g == "system:unauthenticated"))
    {
        out.push(Category::AnonymousAllowed);
    }
    if groups.iter().any(|g| g == "system:masters") {
        out.push(Category::SystemMasters);
    }
    if !is_system(user)
        && allowed
        && ev
            .annotations
            .get("authorization.k8s.io/reason")
            .is_some_and(|r| r.contains("ClusterRole \"cluster-admin\""))
    {
        out.push(Category::HumanClusterAdmin);
    }
    if ev.impersonated_user.is_some() {
        out.push(Category::Impersonation);
    }
    match (group, resource, sub) {
        ("", "pods", "exec" | "attach" | "portforward") => out.push(Category::PodExec),
        ("", "secrets", "") if matches!(verb, "get" | "list" | "watch") => {
            out.push(Category::SecretRead)
        }
        ("", "secrets", "") if write => out.push(Category::SecretWrite),
        ("", "serviceaccounts", "token") => out.push(Category::TokenRequest),
        ("rbac.authorization.k8s.io", _, _) if write => out.push(Category::RbacChange),
        ("admissionregistration.k8s.io", _, _) if write => out.push(Category::WebhookChange),
        _ => {}
    }
    out
}

impl Analysis {
    /// Also collect every request shape made by `user` (for `rbac suggest`).
    pub fn tracking(user: &str) -> Analysis {
        Analysis {
            track_user: Some(user.to_owned()),
            ..Analysis::default()
        }
    }

    /// Reads one log file (gzip detected by its magic bytes).
    pub fn read_file(&mut self, path: &Path) {
        let name = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return self.error(&name, None, format!("cannot read: {e}")),
        };
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let gz = reader
            .fill_buf()
            .map(|b| b.starts_with(&[0x1f, 0x8b]))
            .unwrap_or(false);
        if gz {
            self.read(
                &name,
                BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(reader)),
            );
        } else {
            self.read(&name, reader);
        }
    }

    fn error(&mut self, origin: &str, line: Option<u64>, message: String) {
        if self.errors.len() < 100 {
            self.errors.push(crate::source::Diagnostic::new(
                crate::source::DiagLevel::Error,
                origin,
                line.map(|l| crate::yaml::Pos {
                    line: l as u32,
                    col: 1,
                }),
                message,
            ));
        }
    }

    /// Reads JSON-lines events from any reader.
    pub fn read(&mut self, origin: &str, mut reader: impl BufRead) {
        self.files += 1;
        let complete = memchr::memmem::Finder::new(b"\"ResponseComplete\"");
        let panic = memchr::memmem::Finder::new(b"\"Panic\"");
        let mut buf = Vec::with_capacity(8192);
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = match (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
            {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    self.error(origin, Some(line_no + 1), format!("read error: {e}"));
                    break;
                }
            };
            line_no += 1;
            self.lines += 1;
            self.bytes += n as u64;
            if n > MAX_LINE && !buf.ends_with(b"\n") {
                self.error(
                    origin,
                    Some(line_no),
                    format!("line longer than {MAX_LINE} bytes; skipped"),
                );
                // Skip the rest of the line.
                let mut sink = Vec::new();
                let _ = reader.read_until(b'\n', &mut sink);
                continue;
            }
            let line = buf.trim_ascii();
            if line.is_empty() {
                continue;
            }
            // Cheap pre-filter: most events of a log are other stages.
            if complete.find(line).is_none() && panic.find(line).is_none() {
                if line.starts_with(b"{") {
                    self.skipped_stage += 1;
                } else {
                    self.error(origin, Some(line_no), "not a JSON audit event".into());
                }
                continue;
            }
            match serde_json::from_slice::<Event<'_>>(line) {
                Ok(ev) => self.event(origin, line_no, &ev),
                Err(e) => self.error(origin, Some(line_no), format!("invalid audit event: {e}")),
            }
        }
    }

    fn event(&mut self, origin: &str, line: u64, ev: &Event<'_>) {
        if ev.stage != "ResponseComplete" && ev.stage != "Panic" {
            self.skipped_stage += 1;
            return;
        }
        self.events += 1;
        let (user, groups): (&str, &[Cow<'_, str>]) = match &ev.user {
            Some(u) => (&u.username, &u.groups),
            None => ("", &[]),
        };
        let code = ev.response_status.as_ref().map_or(0, |s| s.code);
        let decision = ev
            .annotations
            .get("authorization.k8s.io/decision")
            .map(|d| d.as_ref());
        let allowed = decision.map_or(
            code != 0 && code < 400 || (code != 401 && code != 403 && code != 0),
            |d| d == "allow",
        );
        let o = ev.object_ref.as_ref();
        let shape = Shape {
            verb: ev.verb.to_string(),
            api_group: o.map_or(String::new(), |o| o.api_group.to_string()),
            resource: o.map_or(String::new(), |o| o.resource.to_string()),
            subresource: o.map_or(String::new(), |o| o.subresource.to_string()),
            namespace: o.map_or(String::new(), |o| o.namespace.to_string()),
            path: if o.is_none() {
                ev.request_uri.split('?').next().unwrap_or("").to_owned()
            } else {
                String::new()
            },
        };
        if self.track_user.as_deref() == Some(user) && allowed {
            let name = o.map_or(String::new(), |o| o.name.to_string());
            self.tracked.insert((shape.clone(), name));
        }
        let cats = categories(ev, user, groups, allowed);
        if cats.is_empty() {
            return;
        }
        let namespace = o.map_or("", |o| o.namespace.as_ref());
        let example = match o {
            Some(o) if !o.name.is_empty() && !o.subresource.is_empty() => {
                format!("{} {}/{}/{}", ev.verb, o.resource, o.name, o.subresource)
            }
            Some(o) if !o.name.is_empty() => format!("{} {}/{}", ev.verb, o.resource, o.name),
            Some(o) => format!("{} {}", ev.verb, o.resource),
            None => format!("{} {}", ev.verb, ev.request_uri),
        };
        let identity = (
            user.to_owned(),
            groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        );
        for cat in cats {
            if self.sensitive_shapes.len() < MAX_GROUPS
                || self.sensitive_shapes.contains_key(&shape)
            {
                let entry = self
                    .sensitive_shapes
                    .entry(shape.clone())
                    .or_insert_with(|| (cat, BTreeSet::new()));
                if entry.1.len() < 16 {
                    entry.1.insert(identity.clone());
                }
            }
            let key = (cat, user.to_owned(), namespace.to_owned());
            if let Some(g) = self.groups.get_mut(&key) {
                g.count += 1;
                if allowed {
                    g.allowed += 1
                } else {
                    g.denied += 1
                }
                if ev.received.as_ref() < g.first.as_str() {
                    g.first = ev.received.to_string();
                }
                if ev.received.as_ref() > g.last.as_str() {
                    g.last = ev.received.to_string();
                }
            } else if self.groups.len() < MAX_GROUPS {
                self.groups.insert(
                    key,
                    Group {
                        category: cat,
                        user: user.to_owned(),
                        namespace: namespace.to_owned(),
                        count: 1,
                        first: ev.received.to_string(),
                        last: ev.received.to_string(),
                        origin: origin.to_owned(),
                        line,
                        example: example.clone(),
                        allowed: u64::from(allowed),
                        denied: u64::from(!allowed),
                    },
                );
            } else {
                self.overflow += 1;
            }
        }
    }
}

/// The minimal rules that cover a set of observed requests, per namespace (`""` = cluster-wide:
/// cluster-scoped resources, all-namespace requests and non-resource URLs).
pub fn minimal_rules(observed: &BTreeSet<(Shape, String)>) -> BTreeMap<String, Vec<PolicyRule>> {
    // (namespace, group, resource[/sub]) → verbs; non-resource: (path) → verbs.
    let mut by: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    let mut urls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (s, _) in observed {
        if !s.path.is_empty() {
            urls.entry(s.path.clone())
                .or_default()
                .insert(s.verb.clone());
            continue;
        }
        let res = if s.subresource.is_empty() {
            s.resource.clone()
        } else {
            format!("{}/{}", s.resource, s.subresource)
        };
        by.entry((s.namespace.clone(), s.api_group.clone(), res))
            .or_default()
            .insert(s.verb.clone());
    }
    let mut out: BTreeMap<String, Vec<PolicyRule>> = BTreeMap::new();
    // Merge resources of the same group with identical verb sets into one rule.
    let mut merged: BTreeMap<(String, String, Vec<String>), Vec<String>> = BTreeMap::new();
    for ((ns, group, res), verbs) in by {
        merged
            .entry((ns, group, verbs.into_iter().collect()))
            .or_default()
            .push(res);
    }
    for ((ns, group, verbs), resources) in merged {
        out.entry(ns).or_default().push(PolicyRule {
            verbs: verbs.into_iter().map(Text::from).collect(),
            api_groups: vec![group.into()],
            resources: resources.into_iter().map(Text::from).collect(),
            ..PolicyRule::default()
        });
    }
    for (path, verbs) in urls {
        out.entry(String::new()).or_default().push(PolicyRule {
            verbs: verbs.into_iter().map(Text::from).collect(),
            non_resource_urls: vec![path.into()],
            ..PolicyRule::default()
        });
    }
    out
}

/// Renders suggested Roles (one per namespace) and a ClusterRole as YAML.
pub fn suggested_manifests(subject: &str, rules: &BTreeMap<String, Vec<PolicyRule>>) -> String {
    let base = subject
        .rsplit(':')
        .next()
        .unwrap_or(subject)
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    let list = |v: &[Text]| {
        format!(
            "[{}]",
            v.iter()
                .map(|s| serde_json::to_string(s).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut out = String::new();
    for (ns, rules) in rules {
        out.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\n");
        if ns.is_empty() {
            out.push_str(&format!(
                "kind: ClusterRole\nmetadata:\n  name: {base}-observed\n"
            ));
        } else {
            out.push_str(&format!(
                "kind: Role\nmetadata:\n  name: {base}-observed\n  namespace: {ns}\n"
            ));
        }
        out.push_str(&format!(
            "  annotations:\n    kubeharden.io/suggested-for: {}\nrules:\n",
            serde_json::to_string(subject).unwrap_or_default()
        ));
        for r in rules {
            if r.non_resource_urls.is_empty() {
                out.push_str(&format!(
                    "- apiGroups: {}\n  resources: {}\n  verbs: {}\n",
                    list(&r.api_groups),
                    list(&r.resources),
                    list(&r.verbs)
                ));
            } else {
                out.push_str(&format!(
                    "- nonResourceURLs: {}\n  verbs: {}\n",
                    list(&r.non_resource_urls),
                    list(&r.verbs)
                ));
            }
        }
    }
    out
}

/// A granted rule that no observed request used.
#[derive(Clone, Debug, Serialize)]
pub struct Unused {
    pub binding: String,
    pub role: String,
    pub scope: String,
    pub rule: String,
}

/// The principal a subject string names: `system:serviceaccount:ns:name`, or a user.
pub fn principal(subject: &str, groups: &[&str]) -> Principal {
    match subject
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'))
    {
        Some((ns, name)) => Principal::service_account(ns, name),
        None => Principal::user(subject, groups),
    }
}

/// Rules granted to the subject (by the RBAC objects given) that no observed request exercised,
/// each with the binding that grants it (findings point at its `roleRef`).
pub fn unused_grants<'a>(
    objects: &'a [Retained],
    who: &Principal,
    observed: &BTreeSet<(Shape, String)>,
) -> Vec<(Unused, &'a Retained)> {
    let model = Rbac::new(objects.iter());
    let mut out = Vec::new();
    for grant in model.grants(who) {
        for &id in grant.role.effective_rules() {
            let rule = model.rule(id);
            let used = observed.iter().any(|(s, name)| {
                let res = if s.subresource.is_empty() {
                    s.resource.clone()
                } else {
                    format!("{}/{}", s.resource, s.subresource)
                };
                let mut req = if s.path.is_empty() {
                    rbac::Request::resource(&s.verb, &s.api_group, &res)
                } else {
                    rbac::Request::url(&s.verb, &s.path)
                };
                if !s.namespace.is_empty() {
                    req = req.in_namespace(&s.namespace);
                }
                if !name.is_empty() {
                    req = req.named(name);
                }
                grant.scope.covers(&req) && rule.allows(&req)
            });
            if !used {
                out.push((
                    Unused {
                        binding: format!(
                            "{} \"{}\"",
                            grant.binding.kind.as_str(),
                            grant.binding.name
                        ),
                        role: grant.role.describe(),
                        scope: grant.scope.to_string(),
                        rule: rule.describe(),
                    },
                    grant.binding.object,
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1","stage":"RequestReceived","requestURI":"/api/v1/namespaces/shop/secrets/db","verb":"get","user":{"username":"alice@example.com","groups":["devs","system:authenticated"]},"objectRef":{"resource":"secrets","namespace":"shop","name":"db","apiVersion":"v1"},"requestReceivedTimestamp":"2026-11-01T10:00:00.000000Z","stageTimestamp":"2026-11-01T10:00:00.000000Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/secrets/db","verb":"get","user":{"username":"alice@example.com","groups":["devs","system:authenticated"]},"objectRef":{"resource":"secrets","namespace":"shop","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-01T10:00:00.000000Z","stageTimestamp":"2026-11-01T10:00:00.002000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"admins\" of ClusterRole \"cluster-admin\" to User \"alice@example.com\""}}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2","stage":"ResponseComplete","requestURI":"/version","verb":"get","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-01T11:00:00.000000Z","stageTimestamp":"2026-11-01T11:00:00.000000Z","annotations":{"authorization.k8s.io/decision":"allow"}}
not json
"#;

    #[test]
    fn counts_once_per_request_and_categorises() {
        let mut a = Analysis::default();
        a.read("log", LOG.as_bytes());
        assert_eq!(a.events, 2);
        assert_eq!(a.skipped_stage, 1);
        assert_eq!(a.errors.len(), 1);
        assert_eq!(a.errors[0].line, Some(4));
        let cats: Vec<Category> = a.groups.keys().map(|k| k.0).collect();
        // The anonymous request is to /version, public by default: not flagged.
        assert_eq!(cats, [Category::HumanClusterAdmin, Category::SecretRead]);
        let g = &a.groups[&(
            Category::SecretRead,
            "alice@example.com".into(),
            "shop".into(),
        )];
        assert_eq!(
            (g.count, g.line, g.example.as_str()),
            (1, 2, "get secrets/db")
        );
    }

    #[test]
    fn gzip_is_detected() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("audit.log.1.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&p).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(LOG.as_bytes()).unwrap();
        enc.finish().unwrap();
        let mut a = Analysis::default();
        a.read_file(&p);
        assert_eq!(a.events, 2);
    }

    #[test]
    fn minimal_rules_merge_verbs() {
        let mut a = Analysis::tracking("alice@example.com");
        a.read("log", LOG.as_bytes());
        let rules = minimal_rules(&a.tracked);
        assert_eq!(rules["shop"][0].resources, ["secrets"]);
        assert_eq!(rules["shop"][0].verbs, ["get"]);
        let yaml = suggested_manifests("alice@example.com", &rules);
        assert!(
            yaml.contains("kind: Role\n") && yaml.contains("namespace: shop"),
            "{yaml}"
        );
        let loaded = crate::load::load_bytes("s.yaml", yaml.into_bytes());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    }
}
