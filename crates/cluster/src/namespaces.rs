//! A cache of the cluster's Namespaces for the admission webhook (`kubeharden serve`): an
//! AdmissionReview does not carry the labels of the object's namespace, which the user's policies
//! may select on (`namespaceSelector`) or read (`namespaceObject`).
//!
//! Fed as an informer is: a paginated list, then a watch from its resourceVersion (bookmarks,
//! relist on `410 Gone` or a broken watch, with backoff). A name missing from the cache (a
//! namespace created a moment ago, or the cache not synced yet) is read with a GET, as the API
//! server's own admission matching does. Needs `get`, `list` and `watch` on `namespaces`.

use crate::Target;
use futures::StreamExt as _;
use kube::core::WatchEvent;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The longest a lookup waits for a GET of a namespace missing from the cache.
pub const GET_TIMEOUT: Duration = Duration::from_millis(1000);

#[derive(Default)]
struct State {
    synced: bool,
    last_error: Option<String>,
    namespaces: HashMap<String, Arc<Value>>,
}

/// The Namespaces of one cluster, kept up to date by a background task.
#[derive(Clone)]
pub struct NamespaceCache {
    state: Arc<RwLock<State>>,
    client: kube::Client,
    runtime: tokio::runtime::Handle,
    server: String,
}

impl NamespaceCache {
    /// Starts the list-and-watch task on the current tokio runtime.
    pub fn start(target: &Target) -> NamespaceCache {
        let cache = NamespaceCache {
            state: Arc::default(),
            client: target.client.clone(),
            runtime: tokio::runtime::Handle::current(),
            server: target.config.cluster_url.to_string(),
        };
        let task = cache.clone();
        let timeout = target.timeout;
        cache.runtime.spawn(async move { task.run(timeout).await });
        cache
    }

    /// The API server it reads.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Has the first list been read?
    pub fn is_synced(&self) -> bool {
        self.read().synced
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The Namespace object: from the cache, else with a GET (bounded by [`GET_TIMEOUT`]).
    /// `Ok(None)`: the API server has no such namespace. Call it from a thread that is not one
    /// of the runtime's workers (the webhook evaluates on blocking threads).
    pub fn get(&self, name: &str) -> Result<Option<Arc<Value>>, String> {
        if let Some(ns) = self.read().namespaces.get(name) {
            return Ok(Some(ns.clone()));
        }
        if name.is_empty()
            || name.len() > 63
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Ok(None);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let client = self.client.clone();
        let path = format!("/api/v1/namespaces/{name}");
        self.runtime.spawn(async move {
            let got = tokio::time::timeout(GET_TIMEOUT, client.request_text(get(&path))).await;
            let _ = tx.send(got);
        });
        let not_synced = || {
            let state = self.read();
            match (&state.synced, &state.last_error) {
                (false, Some(e)) => format!(" (the namespace cache has not synced: {e})"),
                (false, None) => " (the namespace cache has not synced yet)".to_owned(),
                (true, _) => String::new(),
            }
        };
        match rx.recv_timeout(GET_TIMEOUT + Duration::from_millis(100)) {
            Ok(Ok(Ok(text))) => {
                let ns = serde_json::from_str::<Value>(&text)
                    .map_err(|e| format!("GET namespace {name}: {e}"))?;
                let ns = Arc::new(trim(ns));
                self.write().namespaces.insert(name.to_owned(), ns.clone());
                Ok(Some(ns))
            }
            Ok(Ok(Err(kube::Error::Api(status)))) if status.code == 404 => Ok(None),
            Ok(Ok(Err(e))) => Err(format!("GET namespace {name}: {e}{}", not_synced())),
            Ok(Err(_)) | Err(_) => Err(format!(
                "GET namespace {name}: no answer within {GET_TIMEOUT:?}{}",
                not_synced()
            )),
        }
    }

    async fn run(self, timeout: Duration) {
        let mut backoff = Duration::from_millis(500);
        loop {
            let version = match self.list(timeout).await {
                Ok(v) => v,
                Err(e) => {
                    self.write().last_error = Some(e);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            backoff = Duration::from_millis(500);
            if let Err(e) = self.watch(version).await {
                self.write().last_error = Some(e);
                tokio::time::sleep(backoff).await;
            }
        }
    }

    /// Lists every namespace (pages of 500) into the cache; the list's resourceVersion.
    async fn list(&self, timeout: Duration) -> Result<String, String> {
        let mut all = HashMap::new();
        let mut next = String::new();
        loop {
            let mut path = "/api/v1/namespaces?limit=500".to_owned();
            if !next.is_empty() {
                path.push_str("&continue=");
                path.push_str(&urlencode(&next));
            }
            let text = tokio::time::timeout(timeout, self.client.request_text(get(&path)))
                .await
                .map_err(|_| format!("list namespaces: no answer within {timeout:?}"))?
                .map_err(|e| format!("list namespaces: {e}"))?;
            let list: Value =
                serde_json::from_str(&text).map_err(|e| format!("list namespaces: {e}"))?;
            for item in list["items"].as_array().into_iter().flatten() {
                if let Some(name) = item["metadata"]["name"].as_str() {
                    all.insert(name.to_owned(), Arc::new(trim(item.clone())));
                }
            }
            next = list["metadata"]["continue"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            if next.is_empty() {
                let version = list["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let mut state = self.write();
                state.namespaces = all;
                state.synced = true;
                state.last_error = None;
                return Ok(version);
            }
        }
    }

    /// Watches from `version` until the watch breaks (`Err`) or must be relisted (`Ok`).
    async fn watch(&self, mut version: String) -> Result<(), String> {
        loop {
            let path = format!(
                "/api/v1/namespaces?watch=true&allowWatchBookmarks=true&timeoutSeconds=290&resourceVersion={}",
                urlencode(&version)
            );
            let stream = self
                .client
                .request_events::<Value>(get(&path))
                .await
                .map_err(|e| format!("watch namespaces: {e}"))?;
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                match event.map_err(|e| format!("watch namespaces: {e}"))? {
                    WatchEvent::Added(ns) | WatchEvent::Modified(ns) => {
                        if let Some(v) = ns["metadata"]["resourceVersion"].as_str() {
                            version = v.to_owned();
                        }
                        if let Some(name) = ns["metadata"]["name"].as_str() {
                            let name = name.to_owned();
                            self.write().namespaces.insert(name, Arc::new(trim(ns)));
                        }
                    }
                    WatchEvent::Deleted(ns) => {
                        if let Some(v) = ns["metadata"]["resourceVersion"].as_str() {
                            version = v.to_owned();
                        }
                        if let Some(name) = ns["metadata"]["name"].as_str() {
                            self.write().namespaces.remove(name);
                        }
                    }
                    WatchEvent::Bookmark(b) => version = b.metadata.resource_version,
                    // 410 Gone: the version is too old; relist.
                    WatchEvent::Error(status) if status.code == 410 => return Ok(()),
                    WatchEvent::Error(status) => {
                        return Err(format!("watch namespaces: {}", status.message));
                    }
                }
            }
            // The server closed the watch (timeoutSeconds): watch again from where it ended.
        }
    }
}

/// The Namespace as policies see it: `apiVersion` and `kind` (which list items lack), without
/// `managedFields`.
fn trim(mut ns: Value) -> Value {
    if let Some(o) = ns.as_object_mut() {
        o.insert("apiVersion".into(), "v1".into());
        o.insert("kind".into(), "Namespace".into());
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
    }
    ns
}

fn get(path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .expect("valid path")
}

/// Percent-encodes a query value (continue tokens are base64 with `=`, `+`, `/`).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
