//! A container binds a port on the node's network interfaces.

use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "container-host-port",
    section: Section::Rule(9),
    severity: Severity::Medium,
    summary: "Container exposes a hostPort",
    rationale: "A hostPort opens the port on every address of the node, outside Services and \
        NetworkPolicy enforcement in many CNIs, exposing the workload to whatever can reach the \
        node, and pins the pod to nodes where the port is free.",
    remedy: "Remove `hostPort` and expose the workload through a Service (ClusterIP, or a \
        LoadBalancer/Ingress where it must be reachable from outside).",
    references: References {
        cis: &["5.2.12"],
        pss: &["hostPorts"],
        trivy: &["KSV024"],
        checkov: &["CKV_K8S_26"],
        polaris: &["hostPortSet"],
        kubescape: &["C-0044"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for c in t.containers() {
        for (i, port) in c
            .field("ports")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(hp) = port
                .get("hostPort")
                .and_then(Node::as_i64)
                .filter(|&p| p != 0)
            {
                emit.container(
                    t.object,
                    &c,
                    &c.ptr(&format!("ports/{i}/hostPort")),
                    format!("{} binds host port {hp}", c.describe()),
                );
            }
        }
    }
}
