//! No Grafana dashboards for the cluster's metrics

use super::require;
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "dashboards-missing",
    section: Section::Runtime,
    severity: Severity::Info,
    summary: "No Grafana dashboards for the cluster's metrics",
    rationale: "Metrics nobody looks at do not help during an incident: dashboards for the control plane, nodes and workloads (Grafana, fed by Prometheus) are how an operator sees that something changed, and how an investigation reconstructs when. A hosted Grafana outside the cluster is fine too: then mark this finding as accepted.",
    remedy: "Install Grafana (kube-prometheus-stack ships it with the standard Kubernetes dashboards) or connect a hosted Grafana to the cluster's Prometheus; suppress this rule in the config if dashboards live outside the cluster.",
    references: References {
        docs: &["https://grafana.com/docs/grafana/latest/"],
        ..References::NONE
    },
    evidence: &[Evidence::Dashboards],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    require(
        facts,
        emit,
        Component::Dashboards,
        "no Grafana runs in the cluster (if dashboards are hosted elsewhere, accept this finding in the config)",
    );
}
