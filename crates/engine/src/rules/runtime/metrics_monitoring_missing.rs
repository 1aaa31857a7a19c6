//! No Prometheus (or compatible) metrics collection in the cluster

use super::require;
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "metrics-monitoring-missing",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "No Prometheus (or compatible) metrics collection in the cluster",
    rationale: "Without metrics and alerts, an attack or an outage shows up as a user complaint: a crash-looping pod, a node at 100% CPU from a miner, an API server rejecting requests or a certificate about to expire go unnoticed. Prometheus (or a compatible collector such as VictoriaMetrics or Grafana Alloy) scraping the control plane, kubelets and workloads is the baseline every runbook assumes.",
    remedy: "Install kube-prometheus-stack (`helm install monitoring prometheus-community/kube-prometheus-stack -n monitoring --create-namespace`) or an equivalent collector, and alert on API server errors, node resources and pod restarts.",
    references: References {
        docs: &["https://prometheus.io/docs/introduction/overview/"],
        ..References::NONE
    },
    evidence: &[Evidence::MetricsCollector],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    require(
        facts,
        emit,
        Component::Metrics,
        "no Prometheus or compatible metrics collector (Prometheus operator, VictoriaMetrics, Grafana Agent/Alloy) runs in the cluster",
    );
}
