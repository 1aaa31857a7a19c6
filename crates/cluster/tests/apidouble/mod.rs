//! An in-process Kubernetes API double for tests and the benchmark: a real HTTP/1.1 server on
//! 127.0.0.1 that the real kube-rs client reaches through a kubeconfig. It serves discovery
//! (`/api`, `/api/v1`, `/apis`, `/apis/G/V`), lists with `limit`/`continue` pagination and
//! `resourceVersion`, label and field selectors, Secrets as server-side Tables or
//! PartialObjectMetadata lists, Status errors (401, 403, 404, 410, 500) and `/version`.
//! Faults: forbidden resources, a 500 once per resource, anonymous access, broken pagination
//! (continued pages failing, a repeated or dropped continue token, pages without items),
//! resources left out of discovery, lists never answered.
#![allow(dead_code)]

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// One served resource.
#[derive(Clone, Debug)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// `(group, plural)` answered 403.
    pub forbidden: Vec<(String, String)>,
    /// `(group, plural)` whose first page after the first one (or first request, if one page)
    /// fails once with 500.
    pub fail_once: Vec<(String, String)>,
    /// Answer `/version`, `/api`, `/apis` without credentials.
    pub anonymous: bool,
    /// `(group, plural)` whose pagination is broken this way (lists of more than one page).
    pub pages: Vec<((String, String), PageFault)>,
    /// `(group, plural)` left out of discovery.
    pub undiscovered: Vec<(String, String)>,
    /// `(group, plural)` whose list requests are never answered (the connection stays open).
    pub hang: Vec<(String, String)>,
    /// Paths never answered (`/version`).
    pub hang_paths: Vec<String>,
    /// The `gitVersion` `/version` answers (default `v1.33.1`).
    pub git_version: Option<String>,
}

/// How a paginated list goes wrong after its first page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFault {
    /// Every continued page is answered with this status (500: retried, then a failure; 410:
    /// the list restarts once, then fails; 404: the resource vanished mid-list).
    Status(u16),
    /// Every continued page repeats the continue token it was asked with: the list never ends.
    RepeatToken,
    /// The first page gives no continue token, but says how many objects remain.
    Dropped,
    /// Continued pages come without their `items` (or `rows`).
    NoItems,
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    pub query: String,
    pub accept: String,
    pub authorized: bool,
    pub status: u16,
}

pub struct Double {
    pub resources: Vec<Resource>,
    /// Objects per `(group, plural)`, as stored (with apiVersion and kind), sorted by namespace
    /// and name.
    pub objects: BTreeMap<(String, String), Vec<Value>>,
    pub faults: Faults,
    pub token: String,
    pub log: Mutex<Vec<Logged>>,
    /// Server-side applies received: path with query, content type, body.
    pub applied: Mutex<Vec<(String, String, Value)>>,
    failed: Mutex<BTreeSet<(String, String)>>,
}

fn plural(kind: &str) -> String {
    let l = kind.to_ascii_lowercase();
    if l == "endpoints" {
        l
    } else if let Some(stem) = l.strip_suffix('y')
        && !l.ends_with("ay")
        && !l.ends_with("ey")
    {
        format!("{stem}ies")
    } else if l.ends_with('s') || l.ends_with('x') {
        format!("{l}es")
    } else {
        format!("{l}s")
    }
}

fn split_api_version(v: &str) -> (String, String) {
    match v.rsplit_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), v.to_owned()),
    }
}

/// Resources every cluster serves, even when empty.
const BUILTIN: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "Namespace", "namespaces", false),
    ("", "v1", "Pod", "pods", true),
    ("", "v1", "Secret", "secrets", true),
    ("", "v1", "ServiceAccount", "serviceaccounts", true),
    ("", "v1", "ConfigMap", "configmaps", true),
    ("", "v1", "Node", "nodes", false),
    ("", "v1", "Service", "services", true),
    (
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        true,
    ),
    ("", "v1", "PodTemplate", "podtemplates", true),
    ("apps", "v1", "Deployment", "deployments", true),
    ("apps", "v1", "ReplicaSet", "replicasets", true),
    ("apps", "v1", "StatefulSet", "statefulsets", true),
    ("apps", "v1", "DaemonSet", "daemonsets", true),
    ("batch", "v1", "Job", "jobs", true),
    ("batch", "v1", "CronJob", "cronjobs", true),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    (
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
];

/// Kinds that are not API objects (configuration files, kustomize, templates).
fn is_api_object(group: &str, kind: &str) -> bool {
    !(group.ends_with(".config.k8s.io")
        || matches!(
            group,
            "audit.k8s.io" | "kubeadm.k8s.io" | "kubeharden.io" | "apiserver.k8s.io"
        )
        || group.starts_with("pod-security.admission")
        || kind == "Config"
        || kind.ends_with("List"))
}

impl Double {
    /// A server holding these objects (each with apiVersion, kind and a name). Namespaced
    /// objects without a namespace go to `default`; uid, resourceVersion and creationTimestamp
    /// are filled in as a server would; an object of a group seen before at another version is
    /// served at the first version (as the server converts). The last of duplicates wins.
    pub fn new(objects: Vec<Value>, faults: Faults) -> Double {
        let mut resources: BTreeMap<(String, String), Resource> = BUILTIN
            .iter()
            .map(|(g, v, k, p, n)| {
                (
                    (g.to_string(), p.to_string()),
                    Resource {
                        group: g.to_string(),
                        version: v.to_string(),
                        kind: k.to_string(),
                        plural: p.to_string(),
                        namespaced: *n,
                    },
                )
            })
            .collect();
        let mut stored: BTreeMap<(String, String), BTreeMap<(String, String), Value>> =
            BTreeMap::new();
        let mut group_version: BTreeMap<String, String> = BUILTIN
            .iter()
            .map(|(g, v, ..)| (g.to_string(), v.to_string()))
            .collect();
        // Installed CRDs are served (discovery lists them even without instances).
        for crd in objects
            .iter()
            .filter(|o| o["kind"] == "CustomResourceDefinition")
        {
            let spec = &crd["spec"];
            let (Some(group), Some(kind), Some(plural)) = (
                spec["group"].as_str(),
                spec["names"]["kind"].as_str(),
                spec["names"]["plural"].as_str(),
            ) else {
                continue;
            };
            let version = spec["versions"]
                .as_array()
                .and_then(|vs| vs.iter().find(|v| v["storage"] == true).or(vs.first()))
                .and_then(|v| v["name"].as_str())
                .or(spec["version"].as_str())
                .unwrap_or("v1");
            let version = group_version
                .entry(group.to_owned())
                .or_insert(version.to_owned())
                .clone();
            resources
                .entry((group.to_owned(), plural.to_owned()))
                .or_insert_with(|| Resource {
                    group: group.to_owned(),
                    version,
                    kind: kind.to_owned(),
                    plural: plural.to_owned(),
                    namespaced: spec["scope"] != "Cluster",
                });
        }
        for (i, mut o) in objects.into_iter().enumerate() {
            let (Some(api_version), Some(kind)) = (o["apiVersion"].as_str(), o["kind"].as_str())
            else {
                continue;
            };
            let (group, version) = split_api_version(api_version);
            let kind = kind.to_owned();
            let Some(name) = o["metadata"]["name"].as_str().map(str::to_owned) else {
                continue;
            };
            if !is_api_object(&group, &kind) || name.is_empty() {
                continue;
            }
            let version = group_version
                .entry(group.clone())
                .or_insert(version)
                .clone();
            let p = resources
                .values()
                .find(|r| r.group == group && r.kind == kind)
                .map_or_else(|| plural(&kind), |r| r.plural.clone());
            let namespaced = !(kubeharden_engine::inventory::is_cluster_scoped(&kind)
                || group == "constraints.gatekeeper.sh");
            let r = resources
                .entry((group.clone(), p.clone()))
                .or_insert_with(|| Resource {
                    group: group.clone(),
                    version: version.clone(),
                    kind: kind.clone(),
                    plural: p.clone(),
                    namespaced,
                })
                .clone();
            let api_version = if group.is_empty() {
                version.clone()
            } else {
                format!("{group}/{version}")
            };
            o["apiVersion"] = api_version.into();
            // Server-side defaulting.
            if kind == "Secret" && group.is_empty() && !o["type"].is_string() {
                o["type"] = "Opaque".into();
            }
            let meta = o["metadata"].as_object_mut().expect("metadata");
            if r.namespaced {
                if !meta.get("namespace").is_some_and(Value::is_string) {
                    meta.insert("namespace".into(), "default".into());
                }
            } else {
                meta.remove("namespace");
            }
            meta.entry("uid")
                .or_insert_with(|| format!("00000000-0000-4000-8000-{i:012}").into());
            meta.insert("resourceVersion".into(), format!("{}", 1000 + i).into());
            meta.entry("creationTimestamp")
                .or_insert_with(|| "2024-01-15T10:00:00Z".into());
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            stored.entry((group, p)).or_default().insert((ns, name), o);
        }
        Double {
            resources: resources.into_values().collect(),
            objects: stored
                .into_iter()
                .map(|(k, v)| (k, v.into_values().collect()))
                .collect(),
            faults,
            token: "auditor-token".into(),
            log: Mutex::new(Vec::new()),
            applied: Mutex::new(Vec::new()),
            failed: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn count(&self) -> usize {
        self.objects.values().map(Vec::len).sum()
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    fn resource(&self, group: &str, plural: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.plural == plural)
    }

    /// Is this path a list of a resource whose requests are never answered?
    pub fn hangs(&self, path: &str) -> bool {
        if self.faults.hang_paths.iter().any(|p| p == path) {
            return true;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, plural) = match parts.as_slice() {
            ["api", _, p] | ["api", _, "namespaces", _, p] => ("", *p),
            ["apis", g, _, p] | ["apis", g, _, "namespaces", _, p] => (*g, *p),
            _ => return false,
        };
        self.faults
            .hang
            .iter()
            .any(|(g, p)| g == group && p == plural)
    }

    fn discovery_list(&self, group: &str, version: &str) -> Value {
        let mut resources: Vec<Value> = self
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .filter(|r| {
                !self
                    .faults
                    .undiscovered
                    .iter()
                    .any(|(g, p)| *g == r.group && *p == r.plural)
            })
            .map(|r| {
                json!({"name": r.plural, "singularName": "", "namespaced": r.namespaced,
                    "kind": r.kind, "verbs": ["create","delete","get","list","patch","update","watch"]})
            })
            .collect();
        if group.is_empty() {
            resources.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
        }
        let gv = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
    }

    fn groups(&self) -> Value {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for r in self.resources.iter().filter(|r| !r.group.is_empty()) {
            seen.entry(&r.group).or_insert(&r.version);
        }
        let groups: Vec<Value> = seen
            .into_iter()
            .map(|(g, v)| {
                let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// The objects of a list request, after namespace and selectors.
    fn select(
        &self,
        r: &Resource,
        ns: Option<&str>,
        query: &BTreeMap<String, String>,
    ) -> Vec<&Value> {
        let label = query.get("labelSelector").and_then(|s| s.split_once('='));
        let field = query
            .get("fieldSelector")
            .and_then(|s| s.strip_prefix("metadata.name="));
        self.objects
            .get(&(r.group.clone(), r.plural.clone()))
            .map(|v| v.iter().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|o| ns.is_none_or(|ns| o["metadata"]["namespace"] == ns))
            .filter(|o| label.is_none_or(|(k, v)| o["metadata"]["labels"][k] == v))
            .filter(|o| field.is_none_or(|n| o["metadata"]["name"] == n))
            .collect()
    }

    fn handle(
        &self,
        method: &str,
        path: &str,
        query: &str,
        accept: &str,
        auth: Option<&str>,
    ) -> (u16, Value) {
        let authorized = auth == Some(&format!("Bearer {}", self.token));
        let q: BTreeMap<String, String> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), percent_decode(v)))
            .collect();
        if method != "GET" {
            return status(405, "MethodNotAllowed", "the double only reads");
        }
        let public = matches!(path, "/version" | "/api" | "/apis");
        if !(authorized || public && self.faults.anonymous) {
            return status(401, "Unauthorized", "Unauthorized");
        }
        match path {
            "/version" => {
                return (
                    200,
                    json!({"major": "1", "minor": "33", "gitVersion": self.faults.git_version.as_deref().unwrap_or("v1.33.1"), "platform": "linux/amd64"}),
                );
            }
            "/api" => {
                return (
                    200,
                    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
                );
            }
            "/apis" => return (200, self.groups()),
            "/api/v1" => return (200, self.discovery_list("", "v1")),
            _ => {}
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (group, version, rest) = match parts.as_slice() {
            ["api", v, rest @ ..] => ("", *v, rest),
            ["apis", g, v, rest @ ..] => (*g, *v, rest),
            _ => {
                return status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                );
            }
        };
        let (ns, plural) = match rest {
            [] => return (200, self.discovery_list(group, version)),
            [p] => (None, *p),
            ["namespaces", ns, p] => (Some(*ns), *p),
            _ => {
                return status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                );
            }
        };
        let Some(r) = self
            .resource(group, plural)
            .filter(|r| r.version == version)
        else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let key = (group.to_owned(), plural.to_owned());
        if self.faults.forbidden.contains(&key) {
            let scope = match ns {
                Some(ns) => format!("in the namespace \"{ns}\""),
                None => "at the cluster scope".into(),
            };
            let what = if group.is_empty() {
                plural.to_owned()
            } else {
                format!("{plural}.{group}")
            };
            return status(
                403,
                "Forbidden",
                &format!(
                    "{what} is forbidden: User \"system:serviceaccount:kubeharden:auditor\" cannot list resource \"{plural}\" in API group \"{group}\" {scope}"
                ),
            );
        }
        let items = self.select(r, ns, &q);
        let limit: usize = q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(usize::MAX)
            .max(1);
        let offset: usize = match q.get("continue") {
            Some(c) => match c.strip_prefix("page-").and_then(|o| o.parse().ok()) {
                Some(o) => o,
                None => {
                    return status(410, "Expired", "The provided continue parameter is too old");
                }
            },
            None => 0,
        };
        let paged = items.len() > limit;
        if self.faults.fail_once.contains(&key) && (offset > 0 || !paged) {
            let mut failed = self.failed.lock().unwrap();
            if failed.insert(key.clone()) {
                return status(
                    500,
                    "InternalError",
                    "Internal error occurred: etcdserver: request timed out",
                );
            }
        }
        let page_fault = self
            .faults
            .pages
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| *f);
        if let Some(PageFault::Status(code)) = page_fault
            && offset > 0
        {
            return match code {
                410 => status(410, "Expired", "The provided continue parameter is too old"),
                404 => status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
                _ => status(code, "InternalError", "Internal error occurred"),
            };
        }
        let end = (offset + limit).min(items.len());
        let page = &items[offset.min(end)..end];
        let mut meta = json!({"resourceVersion": "987654"});
        if end < items.len() {
            meta["continue"] = format!("page-{end}").into();
            meta["remainingItemCount"] = (items.len() - end).into();
        }
        match page_fault {
            Some(PageFault::RepeatToken) if offset > 0 => {
                meta["continue"] = format!("page-{offset}").into();
            }
            Some(PageFault::Dropped) if offset == 0 => {
                if let Some(m) = meta.as_object_mut() {
                    m.remove("continue");
                }
            }
            _ => {}
        }
        let no_items = page_fault == Some(PageFault::NoItems) && offset > 0;
        // List items carry no apiVersion/kind, as on a real server.
        let strip = |o: &Value| {
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            o
        };
        if accept.contains("as=Table") {
            let rows: Vec<Value> = page
                .iter()
                .map(|o| {
                    let mut cells = vec![o["metadata"]["name"].clone()];
                    if r.kind == "Secret" {
                        cells.push(o["type"].clone());
                        cells.push(o["data"].as_object().map_or(0, |d| d.len()).into());
                    }
                    cells.push("42d".into());
                    let object = if q.get("includeObject").map(String::as_str) == Some("Metadata") {
                        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
                    } else {
                        Value::Null
                    };
                    json!({"cells": cells, "object": object})
                })
                .collect();
            let mut columns = vec![json!({"name": "Name", "type": "string", "format": "name"})];
            if r.kind == "Secret" {
                columns.push(json!({"name": "Type", "type": "string", "format": ""}));
                columns.push(json!({"name": "Data", "type": "string", "format": ""}));
            }
            columns.push(json!({"name": "Age", "type": "string", "format": ""}));
            let mut table = json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": columns, "rows": rows});
            if no_items {
                table.as_object_mut().unwrap().remove("rows");
            }
            return (200, table);
        }
        if accept.contains("as=PartialObjectMetadataList") {
            let items: Vec<Value> = page
                .iter()
                .map(|o| json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}))
                .collect();
            return (
                200,
                json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items}),
            );
        }
        let api_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        let mut list = json!({"kind": format!("{}List", r.kind), "apiVersion": api_version, "metadata": meta,
            "items": page.iter().map(|o| strip(o)).collect::<Vec<_>>()});
        if no_items {
            list.as_object_mut().unwrap().remove("items");
        }
        (200, list)
    }

    /// A server-side apply of a PolicyReport (authorized): recorded and echoed.
    fn apply(&self, req: &Request<()>, body: &[u8]) -> Option<Response<Full<Bytes>>> {
        let authorized = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(format!("Bearer {}", self.token).as_str());
        if req.method() != hyper::Method::PATCH
            || !req.uri().path().starts_with("/apis/wgpolicyk8s.io/")
            || !authorized
        {
            return None;
        }
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        self.applied
            .lock()
            .unwrap()
            .push((req.uri().to_string(), content_type, value.clone()));
        Some(
            Response::builder()
                .status(201)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap())))
                .unwrap(),
        )
    }

    /// Every object of the resources the auditor reads, as `kubectl get … -A -o json` prints
    /// them (a `List` of whole objects: Secrets with their data).
    pub fn dump(&self, wanted: impl Fn(&str, &str) -> bool) -> Value {
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|((g, p), _)| wanted(g, p))
            .flat_map(|((g, p), v)| {
                v.iter().filter(move |o| {
                    // `kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes`
                    !(g == "discovery.k8s.io" && p == "endpointslices")
                        || (o["metadata"]["namespace"] == "default"
                            && o["metadata"]["labels"]["kubernetes.io/service-name"]
                                == "kubernetes")
                })
            })
            .cloned()
            .collect();
        json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}),
    )
}

/// Serves the double on 127.0.0.1 (a free port) on the current tokio runtime.
pub async fn serve(double: Arc<Double>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let double = Arc::clone(&double);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let double = Arc::clone(&double);
                        async move {
                            use http_body_util::BodyExt as _;
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let req = Request::from_parts(parts, ());
                            if let Some(response) = double.apply(&req, &body) {
                                return Ok::<_, std::convert::Infallible>(response);
                            }
                            let header = |name: &str| {
                                req.headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned)
                            };
                            let accept = header("accept").unwrap_or_default();
                            let auth = header("authorization");
                            let path = req.uri().path().to_owned();
                            let query = req.uri().query().unwrap_or("").to_owned();
                            if double.hangs(&path) {
                                double.log.lock().unwrap().push(Logged {
                                    path: path.clone(),
                                    query: query.clone(),
                                    accept: accept.clone(),
                                    authorized: auth.is_some(),
                                    status: 0,
                                });
                                std::future::pending::<()>().await;
                            }
                            let (code, body) = double.handle(
                                req.method().as_str(),
                                &path,
                                &query,
                                &accept,
                                auth.as_deref(),
                            );
                            double.log.lock().unwrap().push(Logged {
                                path,
                                query,
                                accept,
                                authorized: auth.is_some(),
                                status: code,
                            });
                            let bytes = serde_json::to_vec(&body).unwrap();
                            Ok::<_, std::convert::Infallible>(
                                Response::builder()
                                    .status(code)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(bytes)))
                                    .unwrap(),
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A kubeconfig for the double: a bearer token (or an exec credential plugin printing it).
pub fn kubeconfig(addr: SocketAddr, token: &str, exec: bool) -> String {
    let user = if exec {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [\"-c\", \"echo '{{\\\"apiVersion\\\":\\\"client.authentication.k8s.io/v1\\\",\\\"kind\\\":\\\"ExecCredential\\\",\\\"status\\\":{{\\\"token\\\":\\\"{token}\\\"}}}}'\"]\n      interactiveMode: Never\n"
        )
    } else {
        format!("    token: {token}\n")
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: double\n  context: {{cluster: double, user: auditor}}\ncurrent-context: double\nusers:\n- name: auditor\n  user:\n{user}"
    )
}

/// The shared corpus (`KUBEHARDEN_CORPUS`, else `shared/corpus` beside the repository), or None
/// (the caller skips) unless `KUBEHARDEN_REQUIRE_CORPUS=1`.
pub fn corpus_dir() -> Option<std::path::PathBuf> {
    let dir = match std::env::var_os("KUBEHARDEN_CORPUS") {
        Some(d) => std::path::PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("KUBEHARDEN_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("corpus not found at {}", dir.display());
    } else {
        println!("skipped: corpus not found at {}", dir.display());
        None
    }
}

/// Every Kubernetes object in the YAML/JSON files under the directories, as JSON.
pub fn objects_under(dirs: &[std::path::PathBuf]) -> Vec<Value> {
    let (files, _) = kubeharden_engine::load::expand_paths(dirs);
    let mut out = Vec::new();
    for f in files {
        for o in kubeharden_engine::load::load_file(&f).objects {
            let v = o.root.to_json();
            if v["metadata"]["name"].is_string() {
                out.push(v);
            }
        }
    }
    out
}

/// What any cluster has besides the corpus: kube-system workloads, Nodes, the `kubernetes`
/// EndpointSlice, and Secrets (an old hand-made one with a value, a token).
pub fn cluster_basics() -> Vec<Value> {
    let text = include_str!("basics.yaml");
    kubeharden_engine::load::load_bytes("basics.yaml", text.as_bytes().to_vec())
        .objects
        .iter()
        .map(|o| o.root.to_json())
        .collect()
}
