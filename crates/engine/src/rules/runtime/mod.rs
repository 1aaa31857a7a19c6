//! Rules about a running cluster's state rather than its manifests: runtime detection and
//! monitoring (the seed's last section, and the in-cluster image scanning and secrets manager of
//! rules 13 and 15), and the cluster-only evidence of `kubeharden cluster`: the API endpoint's
//! address (rule 1), the anonymous probe (rule 5) and Secret ages (rule 15).
//!
//! Absence checks need a whole cluster (`Evidence::ClusterWorkloads`: kube-system workloads in
//! the input, as in `kubeharden cluster` or a `kubectl get -A` dump); on a partial input they
//! are not assessed rather than reporting what they could not see.

use crate::analysis::runtime::{Component, Found, components};
use crate::finding::{Emitter, Location, Subject};
use crate::rules::Rule;
use crate::scan::{Facts, Workload};

mod apiserver_answers_anonymous;
mod apiserver_endpoint_public;
mod cis_benchmark_not_scheduled;
mod dashboards_missing;
mod image_scanning_in_cluster_missing;
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
];

/// The first kube-system workload: present when the input is a whole cluster. Absence findings
/// are located there (the cluster has no object of its own).
fn cluster_anchor(facts: &Facts) -> Option<&Workload> {
    facts
        .workloads
        .iter()
        .filter(|w| w.namespace == "kube-system")
        .min_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)))
}

/// The components of a kind in the retained objects.
fn found(facts: &Facts, component: Component) -> Vec<Found<'_>> {
    facts
        .objects
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
            origin: anchor.origin.clone(),
            line: anchor.line,
            column: anchor.column,
            pointer: String::new(),
            helm_source: None,
        },
        message,
    );
}

/// Presence check shared by the monitoring rules: a finding on the cluster when no component of
/// the kind is found in a whole-cluster input.
fn require(facts: &Facts, emit: &mut Emitter, component: Component, absent: &str) {
    let Some(anchor) = cluster_anchor(facts) else {
        return; // not a whole cluster: not assessed (see the scorecard)
    };
    if found(facts, component).is_empty() {
        about_cluster(emit, anchor, absent.to_owned());
    }
}
