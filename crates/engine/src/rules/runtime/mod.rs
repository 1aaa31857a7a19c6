//! Rules about a running cluster's state rather than its manifests: runtime detection and
//! monitoring (the seed's last section, and the in-cluster image scanning and secrets manager of
//! rules 13 and 15), and the cluster-only evidence of `kubeharden cluster`: the API endpoint's
//! address (rule 1), the anonymous probe (rule 5) and Secret ages (rule 15).
//!
//! Absence checks need a whole cluster (`Evidence::ClusterWorkloads`: kube-system workloads in
//! the input, as in `kubeharden cluster` or a `kubectl get -A` dump); on a partial input they
//! are not assessed rather than reporting what they could not see.

use crate::analysis::runtime::{Component, Found, components};
use crate::finding::{Location, Subject};
use crate::inventory::Workload;
use crate::rules::Emitter;
use crate::rules::Facts;
use crate::rules::Rule;

mod apiserver_answers_anonymous;
mod apiserver_endpoint_public;
mod cis_benchmark_not_scheduled;
mod dashboards_missing;
mod falco_alerts_not_forwarded;
mod falco_detection_disabled;
mod image_scanning_in_cluster_missing;
mod mesh_mtls_not_strict;
mod mesh_namespace_plaintext;
mod metrics_monitoring_missing;
mod runtime_detection_missing;
mod secret_not_rotated;
mod secrets_manager_missing;

pub static RULES: &[&Rule] = &[
    &apiserver_endpoint_public::RULE,
    &apiserver_answers_anonymous::RULE,
    &image_scanning_in_cluster_missing::RULE,
    &secret_not_rotated::RULE,
    &secrets_manager_missing::RULE,
    &runtime_detection_missing::RULE,
    &metrics_monitoring_missing::RULE,
    &dashboards_missing::RULE,
    &cis_benchmark_not_scheduled::RULE,
    &falco_detection_disabled::RULE,
    &falco_alerts_not_forwarded::RULE,
    &mesh_mtls_not_strict::RULE,
    &mesh_namespace_plaintext::RULE,
];

/// Where a finding about the cluster as a whole is located (the cluster has no object of its
/// own): the first kube-system workload, else the first workload. `None` unless the input is a
/// whole cluster ([`Facts::whole_cluster`]): absence is only concluded from a whole cluster.
fn cluster_anchor(facts: &Facts) -> Option<&Workload> {
    if !facts.whole_cluster {
        return None;
    }
    let first = |system: bool| {
        facts
            .workloads
            .iter()
            .filter(|w| !system || w.namespace == "kube-system")
            .min_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)))
    };
    first(true).or_else(|| first(false))
}

/// The components of a kind in the retained objects.
fn found(facts: &Facts, component: Component) -> Vec<Found<'_>> {
    facts
        .cross_object
        .iter()
        .flat_map(components)
        .filter(|f| f.component == component)
        .collect()
}

/// A finding about the cluster as a whole (something it lacks).
fn about_cluster(emit: &mut Emitter, anchor: &Workload, message: String) {
    emit.at(
        Subject {
            kind: "Cluster".into(),
            api_version: String::new(),
            name: "cluster".into(),
            namespace: None,
            container: None,
        },
        Location {
            origin: anchor.origin.as_str().into(),
            line: anchor.line,
            column: anchor.column,
            pointer: "".into(),
            helm_source: None,
        },
        message,
    );
}

/// Presence check shared by the monitoring rules: a finding on the cluster when no component of
/// the kind is found in a whole-cluster input.
fn require(facts: &Facts, emit: &mut Emitter, component: Component, absent: &str) {
    if !found(facts, component).is_empty() {
        return; // present, wherever it runs
    }
    // Absent: a finding only for a whole cluster; otherwise not assessed (see the scorecard).
    if let Some(anchor) = cluster_anchor(facts) {
        about_cluster(emit, anchor, absent.to_owned());
    }
}
