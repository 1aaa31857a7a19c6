//! A live cluster as scan inputs: kube-rs reads, with API discovery, pagination, bounded
//! concurrency and retries, every resource the rules use (see [`kinds::WANTED`]); each object
//! becomes one JSON input named `cluster:Kind/namespace/name`, so the same rules run as on files
//! and findings point into the object as the API server returned it. Secrets are read as metadata
//! and type only. Fail closed: a list that is forbidden, keeps failing or stops before its end
//! (a continued page that fails, a repeated continue token, a page without items, time running
//! out) becomes an [`Unavailable`] gap, and [`scan`] makes the rules that need it "not assessed"
//! with the reason.
//!
//! Time is bounded: connecting by [`CONNECT_TIMEOUT`] (at most the request timeout), each
//! request, its retries and their backoff included, by the timeout given to [`connect`], and the
//! whole collection by [`Options::deadline`]. An API server that never answers fails the audit
//! after the request timeout, with an error that says so.
//!
//! Cluster-only evidence is recorded in a synthetic `kubeharden.io/v1alpha1 ClusterConnection`
//! object: the API endpoint and its addresses (rule 1) and, when asked, the answers of an
//! unauthenticated probe (rule 5).

pub mod kinds;
pub mod namespaces;

use futures::StreamExt as _;
use kinds::How;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubeharden_engine::finish::{self, Finish};
use kubeharden_engine::gaps::{self, Unavailable};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::Rule;
use kubeharden_engine::scan;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The longest a TCP connection and TLS handshake may take (shorter when the request timeout
/// is): a server that does not accept connections fails fast, and a retry gets its turn.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default bound of a whole collection ([`Options::deadline`]).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the API server {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error(
        "the API server {server} rejected the credentials of context `{context}` (401 Unauthorized)"
    )]
    Unauthorized { server: String, context: String },
    #[error("API discovery failed on {server}: {message}")]
    Discovery { server: String, message: String },
}

/// How to read the cluster.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only these namespaces (empty: all). Cluster-scoped resources are still read.
    pub namespaces: Vec<String>,
    /// Lists in flight at once.
    pub concurrency: usize,
    /// Objects per page (`limit`).
    pub page_size: u32,
    /// Retries of a request answered 429 or 5xx, or failing in transport.
    pub retries: u32,
    /// First backoff delay; doubled on each retry (capped at 5 s). Retries and their backoff
    /// stay within the request's timeout and the deadline.
    pub backoff: Duration,
    /// The whole collection (discovery, every page of every list, retries, the probe) ends by
    /// then: lists not finished become gaps; discovery not finished is an error.
    pub deadline: Duration,
    /// Send unauthenticated requests to `/version`, `/api`, `/apis`.
    pub probe_anonymous: bool,
    /// Progress on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespaces: Vec::new(),
            concurrency: 6,
            page_size: 500,
            retries: 4,
            backoff: Duration::from_millis(200),
            deadline: DEFAULT_DEADLINE,
            probe_anonymous: false,
            progress: false,
        }
    }
}

/// A connection to one cluster.
#[derive(Clone)]
pub struct Target {
    pub client: kube::Client,
    pub config: kube::Config,
    /// The kubeconfig context (or `in-cluster`).
    pub context: String,
    /// The bound of each request, its retries and their backoff included.
    pub timeout: Duration,
}

/// Connects as kubectl does: the given kubeconfig (else `$KUBECONFIG`, `~/.kube/config`, or the
/// in-cluster service account), its current context unless one is named; exec credential plugins
/// and client certificates are handled by kube-rs. `timeout` bounds each request, its retries
/// included; connecting is bounded by [`CONNECT_TIMEOUT`] (or `timeout`, if shorter).
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    timeout: Duration,
) -> Result<Target, Error> {
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..KubeConfigOptions::default()
    };
    let (mut config, name) = match kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(e.to_string()))?;
            let name = context
                .map(str::to_owned)
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let config = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| Error::Kubeconfig(e.to_string()))?;
            (config, name)
        }
        None if context.is_some() => {
            let config = kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| Error::Kubeconfig(e.to_string()))?;
            (config, context.unwrap_or_default().to_owned())
        }
        None => {
            let config = kube::Config::infer()
                .await
                .map_err(|e| Error::Kubeconfig(e.to_string()))?;
            let name = Kubeconfig::read()
                .ok()
                .and_then(|k| k.current_context)
                .unwrap_or_else(|| "in-cluster".into());
            (config, name)
        }
    };
    let timeout = timeout.max(Duration::from_millis(1));
    config.connect_timeout = Some(timeout.min(CONNECT_TIMEOUT));
    // Each request is bounded as a whole (`Reader::get`), which an idle-read timeout is not: a
    // server dripping one byte at a time would reset it forever.
    config.read_timeout = None;
    config.write_timeout = None;
    // Retries are ours (429 and every 5xx, with backoff), not kube's (429/503/504 only).
    config.default_retry = false;
    let client = kube::Client::try_from(config.clone()).map_err(|e| Error::Unreachable {
        server: config.cluster_url.to_string(),
        message: e.to_string(),
    })?;
    Ok(Target {
        client,
        config,
        context: name,
        timeout,
    })
}

/// The contexts of a kubeconfig (for `--all-contexts`).
pub fn contexts(kubeconfig: Option<&Path>) -> Result<Vec<String>, Error> {
    let kc = match kubeconfig {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Ok(kc.contexts.into_iter().map(|c| c.name).collect())
}

/// What was read from a cluster.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub context: String,
    pub server: String,
    /// One input per object, sorted by name; the `ClusterConnection` first.
    pub inputs: Vec<Input>,
    /// Kinds that could not be read.
    pub unavailable: Vec<Unavailable>,
    /// Objects read, per kind.
    pub kinds: BTreeMap<String, usize>,
    pub objects: usize,
    /// HTTP requests sent (pages, discovery, retries).
    pub requests: usize,
}

/// A resource found by discovery, to be listed.
#[derive(Clone, Debug)]
struct Resource {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    how: How,
}

impl Resource {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }
    fn rbac_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// Why a request finally failed.
enum Failure {
    Status {
        code: u16,
        message: String,
    },
    /// No connection, or the connection failed (after the retries).
    Transport(String),
    /// No answer within the request's timeout or before the collection's deadline.
    Timeout(String),
    /// An answer that is not a complete list: the list stopped before its end.
    Invalid(String),
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Failure::Status { code, message } => format!("HTTP {code}: {message}"),
            Failure::Transport(m) | Failure::Timeout(m) | Failure::Invalid(m) => m.clone(),
        }
    }
}

/// A list that failed, and how far it had come.
struct ListError {
    failure: Failure,
    /// Pages and objects read before it failed (thrown away: a partial list is not read).
    pages: usize,
    objects: usize,
}

impl ListError {
    fn after<T>(failure: Failure, pages: usize, items: &[T]) -> ListError {
        ListError {
            failure,
            pages,
            objects: items.len(),
        }
    }
}

impl From<Failure> for ListError {
    fn from(failure: Failure) -> ListError {
        ListError {
            failure,
            pages: 0,
            objects: 0,
        }
    }
}

/// An error with its causes (`client error (Connect): tcp connect error: Connection refused`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

struct Reader<'a> {
    target: &'a Target,
    options: &'a Options,
    requests: AtomicUsize,
    /// The end of the whole collection.
    deadline: Instant,
}

impl<'a> Reader<'a> {
    fn new(target: &'a Target, options: &'a Options) -> Reader<'a> {
        Reader {
            target,
            options,
            requests: AtomicUsize::new(0),
            deadline: Instant::now() + options.deadline,
        }
    }

    /// One request with retries on 429, 5xx and transport errors (exponential backoff), all
    /// within the request's timeout and the collection's deadline: an attempt that would outlive
    /// either is cut, and no retry starts that could not finish its backoff in time.
    async fn get(&self, request: http::Request<Vec<u8>>) -> Result<String, Failure> {
        let what = format!("{} {}", request.method(), request.uri());
        let timeout = self.target.timeout;
        let own_end = Instant::now() + timeout;
        let end = own_end.min(self.deadline);
        let out_of_time = |attempts: u32, last: Option<&Failure>| {
            let answer = if last.is_some() {
                "successful answer"
            } else {
                "answer"
            };
            let why = if end < own_end {
                format!(
                    "no {answer} before the audit's deadline ({}) passed",
                    seconds(self.options.deadline)
                )
            } else {
                format!("no {answer} within {}", seconds(timeout))
            };
            let last = last
                .map(|f| {
                    let text = f.describe();
                    let text = text.strip_prefix(&format!("{what}: ")).unwrap_or(&text);
                    format!("; last: {text}")
                })
                .unwrap_or_default();
            Failure::Timeout(format!(
                "{what}: {why} ({attempts} attempt{}{last})",
                if attempts == 1 { "" } else { "s" }
            ))
        };
        let mut attempt: u32 = 0;
        let mut last: Option<Failure> = None;
        loop {
            if Instant::now() >= end {
                return Err(out_of_time(attempt, last.as_ref()));
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result =
                tokio::time::timeout_at(end, self.target.client.request_text(clone(&request)))
                    .await;
            let failure = match result {
                Err(_) => return Err(out_of_time(attempt + 1, last.as_ref())),
                Ok(Ok(text)) => return Ok(text),
                Ok(Err(kube::Error::Api(status))) => Failure::Status {
                    code: status.code,
                    message: status.message.clone(),
                },
                Ok(Err(e)) => {
                    let text = chain(&e);
                    let connect = self.target.config.connect_timeout;
                    let text = match connect {
                        Some(t)
                            if text.contains("(Connect)")
                                && text.ends_with("deadline has elapsed") =>
                        {
                            format!("no connection within {}", seconds(t))
                        }
                        _ => text,
                    };
                    Failure::Transport(format!("{what}: {text}"))
                }
            };
            let retriable = match &failure {
                Failure::Status { code, .. } => *code == 429 || *code >= 500,
                Failure::Transport(_) => true,
                Failure::Timeout(_) | Failure::Invalid(_) => false,
            };
            if !retriable || attempt >= self.options.retries {
                return Err(failure);
            }
            let delay = self
                .options
                .backoff
                .saturating_mul(1 << attempt.min(10))
                .min(Duration::from_secs(5));
            if Instant::now() + delay >= end {
                return Err(out_of_time(attempt + 1, Some(&failure)));
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
            last = Some(failure);
        }
    }
}

fn clone(r: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut b = http::Request::builder()
        .method(r.method().clone())
        .uri(r.uri().clone());
    for (k, v) in r.headers() {
        b = b.header(k, v);
    }
    b.body(r.body().clone()).expect("a copy of a valid request")
}

fn get_request(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .expect("valid path")
}

const TABLE_METADATA: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// The resources of one API group version (`/api/v1` or `/apis/g/v`) that the rules use.
fn resources_of(group: &str, version: &str, list: &Value) -> Vec<Resource> {
    let mut out = Vec::new();
    for r in list["resources"].as_array().into_iter().flatten() {
        let plural = r["name"].as_str().unwrap_or("");
        let listable = r["verbs"]
            .as_array()
            .is_some_and(|v| v.iter().any(|v| v == "list"));
        if plural.contains('/') || !listable {
            continue;
        }
        if let Some(how) = kinds::wanted(group, plural) {
            out.push(Resource {
                group: group.to_owned(),
                version: version.to_owned(),
                kind: r["kind"].as_str().unwrap_or("").to_owned(),
                plural: plural.to_owned(),
                namespaced: r["namespaced"].as_bool().unwrap_or(true),
                how,
            });
        }
    }
    out
}

impl Reader<'_> {
    fn server(&self) -> String {
        self.target.config.cluster_url.to_string()
    }

    fn fatal(&self, failure: &Failure) -> Option<Error> {
        match failure {
            Failure::Status { code: 401, .. } => Some(Error::Unauthorized {
                server: self.server(),
                context: self.target.context.clone(),
            }),
            Failure::Transport(m) | Failure::Timeout(m) => Some(Error::Unreachable {
                server: self.server(),
                message: m.clone(),
            }),
            _ => None,
        }
    }

    /// API discovery: the core group, then every served group the rules use, at its preferred
    /// version. A group whose discovery fails becomes a gap for the resources wanted from it.
    async fn discover(&self, gaps: &mut Vec<Unavailable>) -> Result<Vec<Resource>, Error> {
        let core = self.get(get_request("/api/v1")).await.map_err(|f| {
            self.fatal(&f).unwrap_or_else(|| Error::Discovery {
                server: self.server(),
                message: format!("/api/v1: {}", f.describe()),
            })
        })?;
        let core: Value = serde_json::from_str(&core).map_err(|e| Error::Discovery {
            server: self.server(),
            message: format!("/api/v1: {e}"),
        })?;
        let mut found = resources_of("", "v1", &core);
        let groups = self
            .get(get_request("/apis"))
            .await
            .map_err(|f| Error::Discovery {
                server: self.server(),
                message: format!("/apis: {}", f.describe()),
            })?;
        let groups: Value = serde_json::from_str(&groups).map_err(|e| Error::Discovery {
            server: self.server(),
            message: format!("/apis: {e}"),
        })?;
        let wanted = kinds::groups();
        let versions: Vec<(String, String)> = groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| {
                let name = g["name"].as_str()?;
                let version = g["preferredVersion"]["version"]
                    .as_str()
                    .or_else(|| g["versions"][0]["version"].as_str())?;
                wanted
                    .contains(&name)
                    .then(|| (name.to_owned(), version.to_owned()))
            })
            .collect();
        let lists = futures::stream::iter(versions.into_iter().map(|(g, v)| async move {
            let r = self.get(get_request(&format!("/apis/{g}/{v}"))).await;
            (g, v, r)
        }))
        .buffer_unordered(self.options.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
        for (group, version, result) in lists {
            let parsed = result.and_then(|text| {
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| Failure::Transport(format!("invalid discovery document: {e}")))
            });
            match parsed {
                Ok(list) => found.extend(resources_of(&group, &version, &list)),
                Err(f) => {
                    for w in kinds::WANTED.iter().filter(|w| w.group == group) {
                        gaps.push(Unavailable {
                            group: group.clone(),
                            kind: w.kind.to_owned(),
                            resource: w.plural.to_owned(),
                            namespace: None,
                            reason: format!(
                                "API discovery of {group}/{version} failed ({}), so {}.{group} could not be read",
                                f.describe(),
                                w.plural
                            ),
                            values_only: false,
                        });
                    }
                }
            }
        }
        // What every API server serves cannot be absent: left out of discovery (or not
        // listable), it is a gap, not an empty list. CRDs and newer APIs may be absent.
        for w in kinds::WANTED.iter().filter(|w| w.always) {
            let discovered = found
                .iter()
                .any(|r| r.group == w.group && r.plural == w.plural);
            let gap = gaps
                .iter()
                .any(|g| g.group == w.group && g.resource == w.plural);
            if !discovered && !gap {
                let name = if w.group.is_empty() {
                    w.plural.to_owned()
                } else {
                    format!("{}.{}", w.plural, w.group)
                };
                gaps.push(Unavailable {
                    group: w.group.to_owned(),
                    kind: w.kind.to_owned(),
                    resource: w.plural.to_owned(),
                    namespace: None,
                    reason: format!(
                        "API discovery does not offer `list` on {name}, which every Kubernetes API server serves, so it could not be read"
                    ),
                    values_only: false,
                });
            }
        }
        found.sort_by(|a, b| (&a.group, &a.plural).cmp(&(&b.group, &b.plural)));
        Ok(found)
    }

    /// Every page of one list; items with `apiVersion` and `kind` set (list items lack them).
    /// All or nothing: a list that stops before its end (a continued page that fails or is not
    /// found, a continue token repeated, a page without its items, a last page that says more
    /// remain, time running out) is an error, never a shorter list.
    async fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        only_name: Option<&str>,
    ) -> Result<Vec<(String, Arc<[u8]>)>, ListError> {
        let path = r.path(match r.how {
            How::ApiServerEndpoints => Some("default"),
            _ => namespace,
        });
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut pages = 0;
        let mut restarted = false;
        loop {
            let lp = ListParams {
                limit: Some(self.options.page_size),
                continue_token: token.clone(),
                label_selector: (r.how == How::ApiServerEndpoints)
                    .then(|| "kubernetes.io/service-name=kubernetes".to_owned()),
                field_selector: only_name.map(|n| format!("metadata.name={n}")),
                ..ListParams::default()
            };
            let mut request = kube::core::Request::new(&path)
                .list(&lp)
                .map_err(|e| Failure::Transport(e.to_string()))?;
            if r.how == How::SecretMetadata {
                let uri = format!("{}&includeObject=Metadata", request.uri());
                *request.uri_mut() = uri.parse().expect("valid uri");
                request.headers_mut().insert(
                    http::header::ACCEPT,
                    http::HeaderValue::from_static(TABLE_METADATA),
                );
            }
            let text = match self.get(request).await {
                Ok(t) => t,
                // The continue token expired (410 Gone): start over once, like a fresh list.
                Err(Failure::Status { code: 410, .. }) if token.is_some() && !restarted => {
                    restarted = true;
                    token = None;
                    seen.clear();
                    pages = 0;
                    items.clear();
                    continue;
                }
                // The resource was there for the first page: a later one cannot be "not found".
                Err(Failure::Status { code: 404, message }) if token.is_some() => {
                    return Err(ListError::after(
                        Failure::Invalid(format!("a continued page was answered 404 ({message})")),
                        pages,
                        &items,
                    ));
                }
                Err(f) => return Err(ListError::after(f, pages, &items)),
            };
            let mut page: Value = serde_json::from_str(&text).map_err(|e| {
                ListError::after(
                    Failure::Invalid(format!("invalid list response: {e}")),
                    pages,
                    &items,
                )
            })?;
            let read = match r.how {
                How::SecretMetadata => secret_metadata(&mut page),
                _ => list_items(&mut page, r),
            };
            match read {
                Ok(list) => items.extend(list.iter().map(serialized)),
                Err(why) => {
                    return Err(ListError::after(
                        Failure::Invalid(format!("invalid list response: {why}")),
                        pages,
                        &items,
                    ));
                }
            }
            pages += 1;
            token = page["metadata"]["continue"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            match &token {
                None => {
                    // A last page that says more remain: the server stopped the list early.
                    let remaining = page["metadata"]["remainingItemCount"].as_i64().unwrap_or(0);
                    if remaining > 0 {
                        return Err(ListError::after(
                            Failure::Invalid(format!(
                                "the last page gives no continue token but says {remaining} more objects remain"
                            )),
                            pages,
                            &items,
                        ));
                    }
                    return Ok(items);
                }
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(ListError::after(
                        Failure::Invalid(
                            "the server returned an earlier page's continue token again (the list would never end)"
                                .into(),
                        ),
                        pages,
                        &items,
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

/// The items of a list page, each stamped with `apiVersion` and `kind` and without
/// `managedFields`. A page without an `items` array, or with an item that is not an object with
/// a name, is not a list.
fn list_items(page: &mut Value, r: &Resource) -> Result<Vec<Value>, String> {
    let Some(list) = page.get_mut("items").and_then(Value::as_array_mut) else {
        return Err(match page["kind"].as_str() {
            Some(kind) => format!("a `{kind}` without an `items` list"),
            None => "no `items` list".into(),
        });
    };
    let mut out = Vec::with_capacity(list.len());
    for mut item in list.drain(..) {
        let Some(o) = item.as_object_mut() else {
            return Err("an item that is not an object".into());
        };
        if !o
            .get("metadata")
            .and_then(|m| m.get("name"))
            .is_some_and(Value::is_string)
        {
            return Err("an item without `metadata.name`".into());
        }
        o.insert("apiVersion".into(), r.api_version().into());
        o.insert("kind".into(), r.kind.clone().into());
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        out.push(item);
    }
    Ok(out)
}

/// Secrets from a metadata Table: `{apiVersion, kind, metadata, type}`, never `data`. A server
/// that ignores the Table request and sends whole Secrets has their values dropped here, unread.
/// A page that is neither a Table with rows nor a list with items, or a row or item without a
/// name, is not a list.
fn secret_metadata(page: &mut Value) -> Result<Vec<Value>, String> {
    let secret = |metadata: Value, kind: Option<Value>| {
        if !metadata.get("name").is_some_and(Value::is_string) {
            return Err("a Secret without `metadata.name`".to_owned());
        }
        let mut metadata = metadata;
        if let Some(m) = metadata.as_object_mut() {
            m.remove("managedFields");
        }
        let mut o = json!({"apiVersion": "v1", "kind": "Secret", "metadata": metadata});
        if let Some(t) = kind.filter(|t| t.is_string()) {
            o["type"] = t;
        }
        Ok(o)
    };
    if page["kind"] == "Table" {
        let type_column = page["columnDefinitions"]
            .as_array()
            .and_then(|c| c.iter().position(|c| c["name"] == "Type"));
        let Some(rows) = page["rows"].as_array_mut().map(std::mem::take) else {
            return Err("a `Table` without `rows`".into());
        };
        return rows
            .into_iter()
            .map(|mut row| {
                let kind = type_column.map(|i| row["cells"][i].take());
                secret(row["object"]["metadata"].take(), kind)
            })
            .collect();
    }
    let Some(items) = page["items"].as_array_mut().map(std::mem::take) else {
        return Err("neither a `Table` with `rows` nor a list with `items`".into());
    };
    items
        .into_iter()
        .map(|mut item| {
            let kind = item.get_mut("type").map(Value::take);
            secret(item["metadata"].take(), kind)
        })
        .collect()
}

fn gap_for(r: &Resource, namespace: Option<&str>, error: &ListError) -> Unavailable {
    let failure = &error.failure;
    let scope = match namespace {
        Some(ns) if r.namespaced => format!("in namespace `{ns}`"),
        _ if r.namespaced => "in all namespaces".to_owned(),
        _ => "(cluster-scoped)".to_owned(),
    };
    let reason = match failure {
        _ if error.pages > 0 => format!(
            "listing {} {scope} stopped after {} page{} ({} objects, not used: a partial list is not read): {}",
            r.rbac_name(),
            error.pages,
            if error.pages == 1 { "" } else { "s" },
            error.objects,
            failure.describe()
        ),
        Failure::Status { code: 403, message } => format!(
            "listing {} {scope} is forbidden (403): grant `list` on `{}` in API group \"{}\" ({}); the server said: {message}",
            r.rbac_name(),
            r.plural,
            r.group,
            if r.how == How::SecretMetadata {
                "deploy/rbac/clusterrole-secrets.yaml, opt-in"
            } else {
                "deploy/rbac/clusterrole.yaml"
            }
        ),
        Failure::Status { code: 404, message } => format!(
            "listing {} {scope} was answered 404 although every Kubernetes API server serves it: {message}",
            r.rbac_name()
        ),
        Failure::Status { .. } | Failure::Transport(_) => format!(
            "listing {} {scope} failed after retries: {}",
            r.rbac_name(),
            failure.describe()
        ),
        Failure::Timeout(_) | Failure::Invalid(_) => format!(
            "listing {} {scope} failed: {}",
            r.rbac_name(),
            failure.describe()
        ),
    };
    // The kind as the auditor knows it, not as the server named it.
    let kind = kinds::WANTED
        .iter()
        .find(|w| w.group == r.group && w.plural == r.plural)
        .map_or_else(|| r.kind.clone(), |w| w.kind.to_owned());
    Unavailable {
        group: r.group.clone(),
        kind,
        resource: r.plural.clone(),
        namespace: namespace.map(str::to_owned),
        reason,
        values_only: false,
    }
}

/// The API endpoint of the target and the addresses it resolves to (none when the name does not
/// resolve within `timeout`).
async fn endpoint_addresses(uri: &http::Uri, timeout: Duration) -> Vec<String> {
    let host = uri
        .host()
        .unwrap_or("")
        .trim_matches(|c| c == '[' || c == ']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return vec![ip.to_string()];
    }
    let port = uri.port_u16().unwrap_or(443);
    let mut out: Vec<String> = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .ok()
        .and_then(Result::ok)
        .map(|addrs| addrs.map(|a| a.ip().to_string()).collect())
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

/// Unauthenticated GETs of `/version`, `/api`, `/apis`: the same endpoint and TLS trust, no
/// credentials of any kind. Each answer's status code, or why there was none (each request
/// bounded by the request timeout and the deadline).
async fn probe_anonymous(target: &Target, deadline: Instant) -> Vec<(String, Result<u16, String>)> {
    let mut config = target.config.clone();
    config.auth_info = Default::default();
    config.headers.clear();
    config.default_retry = false;
    let client = match kube::Client::try_from(config) {
        Ok(c) => c,
        Err(e) => {
            return ["/version", "/api", "/apis"]
                .iter()
                .map(|p| (p.to_string(), Err(chain(&e))))
                .collect();
        }
    };
    let mut out = Vec::new();
    for path in ["/version", "/api", "/apis"] {
        let end = (Instant::now() + target.timeout).min(deadline);
        let code = match tokio::time::timeout_at(end, client.request_text(get_request(path))).await
        {
            Ok(Ok(_)) => Ok(200),
            Ok(Err(kube::Error::Api(s))) => Ok(s.code),
            Ok(Err(e)) => Err(chain(&e)),
            Err(_) => Err(format!("no answer within {}", seconds(target.timeout))),
        };
        out.push((path.to_owned(), code));
    }
    out
}

/// An object as one input: its name and pretty JSON (a line per field, for snippets). Done as
/// each page arrives, so that only bytes, not parsed values, accumulate.
fn serialized(item: &Value) -> (String, Arc<[u8]>) {
    let bytes = serde_json::to_vec_pretty(item).expect("JSON values serialize");
    (object_name(item), Arc::from(bytes))
}

fn object_name(item: &Value) -> String {
    let kind = item["kind"].as_str().unwrap_or("?");
    let name = item["metadata"]["name"].as_str().unwrap_or("");
    match item["metadata"]["namespace"].as_str() {
        Some(ns) => format!("cluster:{kind}/{ns}/{name}"),
        None => format!("cluster:{kind}/{name}"),
    }
}

/// The API server's `/version` as a `KubernetesVersion` input (its `gitVersion`, located at the
/// server's URL + `/version`, the line that holds it), for `kubernetes-version-unsupported`. No
/// answer, or none with a `gitVersion`, adds nothing: the version is then read from the
/// manifests only (control-plane image tags), as in a scan of files.
async fn server_version(reader: &Reader<'_>, server: &str) -> Option<Input> {
    let text = reader.get(get_request("/version")).await.ok()?;
    let answer: Value = serde_json::from_str(&text).ok()?;
    let git_version = answer.get("gitVersion")?.as_str()?;
    let (line, column, shown) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            l.find("\"gitVersion\"").map(|c| {
                (
                    u32::try_from(i + 1).unwrap_or(1),
                    u32::try_from(l[..c].chars().count() + 1).unwrap_or(1),
                    l.trim_end().to_owned(),
                )
            })
        })
        .unwrap_or((1, 1, String::new()));
    let at = kubeharden_engine::analysis::versions::ReadAt {
        file: format!("{}/version", server.trim_end_matches('/')),
        line,
        column,
        text: shown,
    };
    Some(kubeharden_engine::analysis::versions::version_input(
        "kube-apiserver",
        "the API server",
        git_version,
        &at,
    ))
}

/// Reads the cluster.
pub async fn collect(target: &Target, options: &Options) -> Result<Snapshot, Error> {
    let reader = Reader::new(target, options);
    let mut unavailable = Vec::new();
    let resources = reader.discover(&mut unavailable).await?;

    // One task per resource (per namespace with `-n`), lists in flight bounded.
    let mut tasks: Vec<(&Resource, Option<&str>)> = Vec::new();
    for r in &resources {
        let per_namespace = !options.namespaces.is_empty()
            && (r.namespaced || (r.kind == "Namespace" && r.group.is_empty()))
            && r.how != How::ApiServerEndpoints;
        if per_namespace {
            tasks.extend(options.namespaces.iter().map(|ns| (r, Some(ns.as_str()))));
        } else {
            tasks.push((r, None));
        }
    }
    let total = tasks.len();
    let done = AtomicUsize::new(0);
    let objects = AtomicUsize::new(0);
    let results = futures::stream::iter(tasks.into_iter().map(|(r, ns)| {
        let (reader, done, objects) = (&reader, &done, &objects);
        async move {
            // `-n`: a namespaced list is scoped; the Namespace itself by field selector.
            let scoped = if r.namespaced { ns } else { None };
            let only_name = if r.namespaced { None } else { ns };
            let result = reader.list(r, scoped, only_name).await;
            let n = result.as_ref().map_or(0, Vec::len);
            let all = objects.fetch_add(n, Ordering::Relaxed) + n;
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            if options.progress {
                eprint!(
                    "\r\x1b[Kkubeharden: {finished}/{total} lists, {all} objects ({})",
                    r.rbac_name()
                );
            }
            (r, ns, result)
        }
    }))
    .buffer_unordered(options.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    if options.progress {
        eprint!("\r\x1b[K");
    }

    let mut snapshot = Snapshot {
        context: target.context.clone(),
        server: target.config.cluster_url.to_string(),
        ..Snapshot::default()
    };
    let mut named: Vec<(String, Arc<[u8]>)> = Vec::new();
    for (r, ns, result) in results {
        match result {
            Ok(items) => {
                *snapshot.kinds.entry(r.kind.clone()).or_default() += items.len();
                named.extend(items);
                // Read as metadata only, by design: the rules judging Secret values say so.
                if r.how == How::SecretMetadata {
                    unavailable.push(Unavailable {
                        group: r.group.clone(),
                        kind: r.kind.clone(),
                        resource: r.plural.clone(),
                        namespace: ns.map(str::to_owned),
                        reason: "Secret values are not read (metadata only, by design); scan the manifests for committed values".into(),
                        values_only: true,
                    });
                }
            }
            // A custom resource deleted between discovery and the list (its CRD uninstalled):
            // nothing to read. What every API server serves cannot be "not found".
            Err(ListError {
                failure: Failure::Status { code: 404, .. },
                pages: 0,
                ..
            }) if !kinds::WANTED
                .iter()
                .any(|w| w.always && w.group == r.group && w.plural == r.plural) => {}
            Err(e) => {
                if let Failure::Status { code: 401, .. } = e.failure {
                    return Err(reader.fatal(&e.failure).expect("401 is fatal"));
                }
                unavailable.push(gap_for(r, ns, &e));
            }
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    snapshot.objects = named.len();

    let mut connection = json!({
        "apiVersion": "kubeharden.io/v1alpha1",
        "kind": "ClusterConnection",
        "metadata": {"name": target.context},
        "server": snapshot.server,
        "addresses": endpoint_addresses(&target.config.cluster_url, target.timeout).await,
        // The namespaces read (empty: all): only an audit of kube-system is a whole cluster.
        "namespaces": options.namespaces,
    });
    if options.probe_anonymous {
        let mut probes: Vec<Value> = Vec::new();
        let mut unanswered: Vec<String> = Vec::new();
        for (path, status) in probe_anonymous(target, reader.deadline).await {
            match status {
                Ok(status) => probes.push(json!({"path": path, "status": status})),
                Err(why) => unanswered.push(format!("{path}: {why}")),
            }
        }
        // A probe without an answer says nothing about anonymous access: a gap, not a pass.
        if !unanswered.is_empty() {
            let (group, kind) = gaps::ANONYMOUS_PROBE;
            unavailable.push(Unavailable {
                group: group.to_owned(),
                kind: kind.to_owned(),
                resource: "anonymous-probe".into(),
                namespace: None,
                reason: format!(
                    "the unauthenticated probe got no answer, so whether the API server answers anonymous requests is unknown: {}",
                    unanswered.join("; ")
                ),
                values_only: false,
            });
        }
        connection["anonymousProbe"] = Value::Array(probes);
    }
    snapshot.inputs.push(Input::Bytes {
        name: format!("cluster:ClusterConnection/{}", target.context),
        bytes: Arc::from(serde_json::to_vec_pretty(&connection).expect("JSON")),
    });
    if let Some(version) = server_version(&reader, &snapshot.server).await {
        snapshot.inputs.push(version);
    }
    snapshot.inputs.extend(
        named
            .into_iter()
            .map(|(name, bytes)| Input::Bytes { name, bytes }),
    );
    unavailable.sort_by(|a, b| (&a.group, &a.resource).cmp(&(&b.group, &b.resource)));
    snapshot.unavailable = unavailable;
    snapshot.requests = reader.requests.load(Ordering::Relaxed);
    Ok(snapshot)
}

/// Scans a snapshot with the rules and finishes it (`Finish::default()`) with its gaps (fail
/// closed): for tests and embedders; the CLI finishes [`scan_into`]'s report with its options.
pub fn scan(snapshot: &Snapshot, rules: &[&'static Rule]) -> Report {
    let report = scan::scan(&snapshot.inputs, rules);
    let how = Finish {
        gaps: &snapshot.unavailable,
        ..Finish::default()
    };
    finish::finish(report, &how).0
}

/// Scans a snapshot, consuming it: each object's bytes are freed once parsed, so the snapshot
/// and the findings are not held together at the end of the scan. Returns the report to finish
/// ([`finish::finish`]) with the kinds that could not be read (`Finish::gaps`).
pub fn scan_into(snapshot: Snapshot, rules: &[&'static Rule]) -> (Report, Vec<gaps::Unavailable>) {
    let Snapshot {
        inputs,
        unavailable,
        ..
    } = snapshot;
    (
        scan::scan_owned(inputs, rules, scan::Extras::default()),
        unavailable,
    )
}

/// Writes PolicyReport / ClusterPolicyReport objects (`wgpolicyk8s.io/v1alpha2`) with server-side
/// apply (field manager `kubeharden`, forced), so dashboards that read them (Policy Reporter,
/// Kyverno UI) show the audit. Needs the wg-policy CRDs and `get`, `create`, `patch` on them
/// (`deploy/cronjob/rbac.yaml`). Returns the number of objects applied.
pub async fn apply_policy_reports(
    target: &Target,
    options: &Options,
    reports: &[Value],
) -> Result<usize, String> {
    let reader = Reader::new(target, options);
    let mut applied = 0;
    for report in reports {
        let (Some(kind), Some(name)) =
            (report["kind"].as_str(), report["metadata"]["name"].as_str())
        else {
            continue;
        };
        let path = match (kind, report["metadata"]["namespace"].as_str()) {
            ("PolicyReport", Some(ns)) => {
                format!("/apis/wgpolicyk8s.io/v1alpha2/namespaces/{ns}/policyreports/{name}")
            }
            ("ClusterPolicyReport", _) => {
                format!("/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/{name}")
            }
            _ => continue,
        };
        let request = http::Request::patch(format!("{path}?fieldManager=kubeharden&force=true"))
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
            .body(serde_json::to_vec(report).expect("JSON"))
            .expect("valid request");
        reader
            .get(request)
            .await
            .map_err(|f| format!("server-side apply of {kind} {name}: {}", f.describe()))?;
        applied += 1;
    }
    Ok(applied)
}
