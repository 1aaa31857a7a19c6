//! The Namespace of an admitted object, which an AdmissionReview does not carry: the user's
//! policies that select by namespace labels (`namespaceSelector`) or read `namespaceObject` need
//! it. `kubeharden serve` feeds it from the API server (a list-and-watch cache of the
//! `kubeharden-cluster` crate, with a GET on a miss), which needs RBAC to `get`, `list` and
//! `watch` namespaces (`deploy/webhook/rbac.yaml`). When a policy needs it and it cannot be
//! read, the policy is not evaluated: it follows its `failurePolicy` (Fail: denied, saying why;
//! Ignore: admitted with a warning), and the review says so (warning, log line, metric).

use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the webhook reads Namespaces from.
pub trait Namespaces: Send + Sync {
    /// The Namespace object (JSON): `Ok(None)` when the API server has no such namespace, `Err`
    /// why it cannot be told (not synced yet, no permission, unreachable).
    fn get(&self, name: &str) -> Result<Option<Arc<Value>>, String>;
    /// How the namespaces are read, for the start-up log.
    fn describe(&self) -> String;
}

/// A fixed set of Namespace objects (tests, or a server without API access that is told them).
#[derive(Debug, Default)]
pub struct Fixed(BTreeMap<String, Arc<Value>>);

impl Fixed {
    pub fn new(namespaces: impl IntoIterator<Item = Value>) -> Fixed {
        Fixed(
            namespaces
                .into_iter()
                .filter_map(|ns| Some((ns["metadata"]["name"].as_str()?.to_owned(), Arc::new(ns))))
                .collect(),
        )
    }
}

impl Namespaces for Fixed {
    fn get(&self, name: &str) -> Result<Option<Arc<Value>>, String> {
        Ok(self.0.get(name).cloned())
    }
    fn describe(&self) -> String {
        format!("a fixed set of {} namespaces", self.0.len())
    }
}

/// No source: every lookup fails, saying why.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl Namespaces for Unavailable {
    fn get(&self, _: &str) -> Result<Option<Arc<Value>>, String> {
        Err(self.0.clone())
    }
    fn describe(&self) -> String {
        format!("none ({})", self.0)
    }
}
