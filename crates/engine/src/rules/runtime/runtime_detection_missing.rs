//! No runtime threat detector (Falco or another) on every node.

use super::{about_cluster, cluster_anchor, found};
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "runtime-detection-missing",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "No runtime threat detector (Falco, Tetragon…) runs on every node",
    rationale: "Hardening reduces the attack surface; it does not tell you when someone gets in. A \
        runtime detector watching system calls on every node (Falco, Tetragon, Tracee, KubeArmor, \
        Sysdig, NeuVector) alerts on a shell in a container, a write below /etc, a read of a \
        ServiceAccount token or a crypto-miner. It must run as a DaemonSet that tolerates every \
        node's taints: a node it skips is a node where an intruder is invisible.",
    remedy: "Install Falco as a DaemonSet (`helm install falco falcosecurity/falco -n falco \
        --create-namespace`, with `tolerations` for the control-plane taints) and route its alerts \
        (falcosidekick) to your alerting; check that `numberReady` equals the number of nodes.",
    references: References {
        docs: &[
            "https://falco.org/docs/getting-started/",
            "https://kubernetes.io/docs/concepts/security/security-checklist/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::RuntimeDetector],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn int(o: &Object, pointer: &str) -> Option<i64> {
    o.root.pointer(pointer).and_then(Node::as_i64)
}

/// Does one of the tolerations tolerate the taint?
fn tolerates(tolerations: &[Node], taint: &Node) -> bool {
    let text = |n: &Node, k: &str| n.get(k).and_then(Node::text).unwrap_or("").to_owned();
    let (key, value, effect) = (
        text(taint, "key"),
        text(taint, "value"),
        text(taint, "effect"),
    );
    tolerations.iter().any(|t| {
        let op = text(t, "operator");
        let t_key = text(t, "key");
        let t_effect = text(t, "effect");
        (t_effect.is_empty() || t_effect == effect)
            && ((t_key.is_empty() && op == "Exists")
                || (t_key == key && (op == "Exists" || text(t, "value") == value)))
    })
}

/// What keeps a detector DaemonSet from covering every node, if anything.
fn coverage_gap(ds: &Object, nodes: &[&Object]) -> Option<(String, String)> {
    let desired = int(ds, "/status/desiredNumberScheduled");
    let ready = int(ds, "/status/numberReady");
    if let (Some(d), Some(r)) = (desired, ready)
        && r < d
    {
        return Some((
            "/status/numberReady".into(),
            format!("ready on {r} of the {d} nodes it is scheduled on"),
        ));
    }
    if nodes.is_empty() {
        return None;
    }
    let tolerations = ds
        .root
        .pointer("/spec/template/spec/tolerations")
        .map(Node::items)
        .unwrap_or(&[]);
    let skipped: Vec<&str> = nodes
        .iter()
        .filter(|n| {
            n.root
                .pointer("/spec/taints")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .any(|t| {
                    matches!(
                        t.get("effect").and_then(Node::text),
                        Some("NoSchedule" | "NoExecute")
                    ) && !tolerates(tolerations, t)
                })
        })
        .map(|n| n.name.as_str())
        .collect();
    if !skipped.is_empty() {
        return Some((
            "/spec/template/spec/tolerations".into(),
            format!(
                "does not tolerate the taints of {} of {} nodes ({}), so it does not run there",
                skipped.len(),
                nodes.len(),
                skipped.join(", ")
            ),
        ));
    }
    if let Some(d) = desired
        && (d as usize) < nodes.len()
    {
        return Some((
            "/status/desiredNumberScheduled".into(),
            format!("scheduled on {d} of {} nodes", nodes.len()),
        ));
    }
    None
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let detectors = found(facts, Component::RuntimeDetector);
    let daemonsets: Vec<_> = detectors
        .iter()
        .filter(|f| f.object.kind == "DaemonSet")
        .collect();
    if daemonsets.is_empty() {
        match detectors.first() {
            Some(f) => emit.object(
                f.object,
                "/kind",
                format!(
                    "{} runs as a {}, not a DaemonSet: it does not watch every node",
                    f.product, f.object.kind
                ),
            ),
            // Absent: only a whole cluster shows it (otherwise not assessed).
            None => {
                if let Some(anchor) = cluster_anchor(facts) {
                    about_cluster(
                        emit,
                        anchor,
                        "no runtime threat detector (Falco, Tetragon, Tracee, KubeArmor, Sysdig, NeuVector) runs as a DaemonSet in the cluster".into(),
                    );
                }
            }
        }
        return;
    }
    let nodes: Vec<&Object> = facts
        .cross_object
        .iter()
        .filter(|o| o.kind == "Node" && o.group().is_empty())
        .collect();
    let gaps: Vec<_> = daemonsets
        .iter()
        .map(|f| (f, coverage_gap(f.object, &nodes)))
        .collect();
    if gaps.iter().any(|(_, g)| g.is_none()) {
        return; // one detector covers every node
    }
    for (f, gap) in gaps {
        if let Some((pointer, what)) = gap {
            emit.object(
                f.object,
                &pointer,
                format!("{} DaemonSet \"{}\" {what}", f.product, f.object.name),
            );
        }
    }
}
