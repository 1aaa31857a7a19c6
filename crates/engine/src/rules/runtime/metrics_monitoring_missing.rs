//! No Prometheus (or compatible) metrics collection in the cluster

use super::require;
use crate::analysis::runtime::Component;
use crate::finding::{Emitter, Severity};
use crate::rules::{Check, Evidence, References, Rule, Seed};
use crate::scan::{Context, Facts};

pub static RULE: Rule = Rule {
    id: "metrics-monitoring-missing",
    seed: Seed::Runtime,
    severity: Severity::Medium,
    summary: "No Prometheus (or compatible) metrics collection in the cluster",
    rationale: "Without metrics and alerts, an attack or an outage shows up as a user complaint: a crash-looping pod, a node at 100% CPU from a miner, an API server rejecting requests or a certificate about to expire go unnoticed. Prometheus (or a compatible collector such as VictoriaMetrics or Grafana Alloy) scraping the control plane, kubelets and workloads is the baseline every runbook assumes.",
    remedy: "Install kube-prometheus-stack (`helm install monitoring prometheus-community/kube-prometheus-stack -n monitoring --create-namespace`) or an equivalent collector, and alert on API server errors, node resources and pod restarts.",
    references: References {
        docs: &["https://prometheus.io/docs/introduction/overview/"],
        ..References::NONE
    },
    evidence: &[Evidence::ClusterWorkloads],
    check: Check::Inventory(check),
};

fn check(_: &Context, facts: &Facts, emit: &mut Emitter) {
    require(
        facts,
        emit,
        Component::Metrics,
        "no Prometheus or compatible metrics collector (Prometheus operator, VictoriaMetrics, Grafana Agent/Alloy) runs in the cluster",
    );
}
