//! What the query commands (`rbac who-can / can / paths`, `netpol reach / explain`) read: the
//! objects of the inputs (RBAC, ServiceAccounts, Namespaces, NetworkPolicies, workloads), loaded
//! as `scan` loads them, and a summary of each workload with what the queries ask of it beyond
//! the scan's [`Workload`]: whether it can take over its node, and its container ports.
//!
//! The RBAC and NetworkPolicy semantics themselves stay in [`super::rbac`] and [`super::netpol`];
//! the queries ([`super::rbac_query`], [`super::netpol_query`]) are built on the same models the
//! rules use.

use crate::analysis::netpol::Protocol;
use crate::inventory::{Object, PodTemplate, Retained, Workload};
use crate::load::Input;
use crate::source::Diagnostic;
use crate::yaml::Node;
use rayon::prelude::*;

/// A workload as the queries see it.
#[derive(Clone, Debug)]
pub struct QueryWorkload {
    /// The same summary the scan keeps for cross-object rules.
    pub summary: Workload,
    /// A privileged container, a host namespace (PID, network, IPC) or a hostPath volume: code in
    /// it can take over its node.
    pub host_access: Option<String>,
    /// Declared container ports (number, protocol), in container order, without duplicates.
    pub ports: Vec<(i64, Protocol)>,
}

impl QueryWorkload {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.summary.namespace, self.summary.name)
    }

    /// `Deployment "ns/name"`.
    pub fn describe(&self) -> String {
        format!(
            "{} \"{}/{}\"",
            self.summary.kind, self.summary.namespace, self.summary.name
        )
    }

    /// `file:line` of the workload object.
    pub fn location(&self) -> String {
        format!("{}:{}", self.summary.origin, self.summary.line)
    }
}

/// The objects of the inputs and their workloads.
#[derive(Debug, Default)]
pub struct Inventory {
    /// Every object of the kinds the queries read (see [`wanted`]), whole.
    pub objects: Vec<Retained>,
    pub workloads: Vec<QueryWorkload>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Kinds the queries read besides workloads.
fn wanted(o: &Object) -> bool {
    crate::rules::retained_kind(&o.kind) || PodTemplate::of(o).is_some()
}

impl Inventory {
    /// Loads the inputs (in parallel, as the scan does) and keeps what the queries need.
    pub fn load(inputs: Vec<Input>) -> Inventory {
        let loaded: Vec<(Vec<Object>, Vec<Diagnostic>)> = inputs
            .into_par_iter()
            .map(|i| {
                let l = i.into_loaded();
                (
                    l.objects.into_iter().filter(wanted).collect(),
                    l.diagnostics,
                )
            })
            .collect();
        let mut inv = Inventory::default();
        for (objects, diagnostics) in loaded {
            inv.workloads
                .extend(objects.iter().filter_map(QueryWorkload::of));
            inv.objects.extend(objects.into_iter().map(Retained::whole));
            inv.diagnostics.extend(diagnostics);
        }
        inv
    }

    /// From objects already read (tests, benchmarks).
    pub fn from_objects(objects: Vec<Object>) -> Inventory {
        let workloads = objects.iter().filter_map(QueryWorkload::of).collect();
        Inventory {
            objects: objects.into_iter().map(Retained::whole).collect(),
            workloads,
            diagnostics: Vec::new(),
        }
    }
}

fn truthy(n: Option<&Node>) -> bool {
    n.and_then(Node::as_bool) == Some(true)
}

impl QueryWorkload {
    /// The workload of an object with a pod template, summarised as the scan summarises it.
    pub fn of(object: &Object) -> Option<QueryWorkload> {
        let template = PodTemplate::of(object)?;
        let mut ports: Vec<(i64, Protocol)> = Vec::new();
        let mut named_ports = Vec::new();
        let mut host_access = None;
        for c in template.containers() {
            if truthy(c.field("securityContext/privileged")) && host_access.is_none() {
                host_access = Some(format!("{} is privileged", c.describe()));
            }
            for p in c.field("ports").map(Node::items).unwrap_or(&[]) {
                let Some(port) = p.get("containerPort").and_then(Node::as_i64) else {
                    continue;
                };
                let proto_text = p.get("protocol").and_then(Node::as_str).unwrap_or("TCP");
                if let Some(proto) = Protocol::parse(proto_text)
                    && !ports.contains(&(port, proto))
                {
                    ports.push((port, proto));
                }
                if let Some(name) = p.get("name").and_then(Node::as_str) {
                    named_ports.push((name.to_owned(), port, proto_text.to_owned()));
                }
            }
        }
        for field in ["hostPID", "hostNetwork", "hostIPC"] {
            if host_access.is_none() && truthy(template.pod_field(field)) {
                host_access = Some(format!("`{field}: true`"));
            }
        }
        if host_access.is_none()
            && let Some(v) = template
                .spec
                .get("volumes")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .find(|v| v.get("hostPath").is_some())
        {
            let name = v.get("name").and_then(Node::text).unwrap_or("");
            host_access = Some(format!("hostPath volume \"{name}\""));
        }
        let summary = crate::analysis::workload::summary(object, &template);
        Some(QueryWorkload {
            summary,
            host_access,
            ports,
        })
    }
}
