//! Seed rules 11-12: default-deny NetworkPolicies and egress allowlists. The semantics live in
//! [`crate::analysis::netpol`]; these rules only report.

use crate::analysis::netpol::Direction;
use crate::analysis::system::SYSTEM_NAMESPACES;
use crate::inventory::{Retained, Workload};
use crate::rules::Emitter;
use crate::rules::Rule;
use crate::rules::{Derived, Facts};
use std::collections::HashMap;

mod dns_egress_unrestricted;
mod egress_to_any_destination;
mod namespace_missing_default_deny_egress;
mod namespace_missing_default_deny_ingress;
mod network_policy_selects_nothing;
mod workload_not_selected;

pub static RULES: &[&Rule] = &[
    &namespace_missing_default_deny_ingress::RULE,
    &namespace_missing_default_deny_egress::RULE,
    &workload_not_selected::RULE,
    &network_policy_selects_nothing::RULE,
    &egress_to_any_destination::RULE,
    &dns_egress_unrestricted::RULE,
];

/// The namespaces a default deny matters in, in input order, with their workloads that
/// NetworkPolicy applies to: those holding such workloads, then the Namespaces declared in the
/// input that hold none (a new namespace is where a default deny matters most), except the ones
/// Kubernetes manages itself. hostNetwork pods are not counted: NetworkPolicy does not apply to
/// them, so a namespace holding only them (kube-system with its static Pods) is not reported
/// unless it is declared.
fn namespaces_with_workloads(facts: &Facts) -> Vec<(&str, Vec<&Workload>)> {
    let mut out: Vec<(&str, Vec<&Workload>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for w in facts.workloads.iter().filter(|w| !w.host_network) {
        match index.get(w.namespace.as_str()) {
            Some(&i) => out[i].1.push(w),
            None => {
                index.insert(&w.namespace, out.len());
                out.push((&w.namespace, vec![w]));
            }
        }
    }
    for o in &facts.objects {
        if o.kind() == "Namespace"
            && o.group().is_empty()
            && !SYSTEM_NAMESPACES.contains(&o.name())
            && !index.contains_key(o.name())
        {
            index.insert(o.name(), out.len());
            out.push((o.name(), Vec::new()));
        }
    }
    out
}

/// Every namespace of [`namespaces_with_workloads`] has a default deny for `d`.
fn check_default_deny(d: Direction, facts: &Derived, emit: &mut Emitter) {
    let net = facts.network();
    // The first Namespace object of each name.
    let mut namespaces: HashMap<&str, &Retained> = HashMap::new();
    for o in &facts.objects {
        if o.kind() == "Namespace" && o.group().is_empty() {
            namespaces.entry(o.name()).or_insert(o);
        }
    }
    for (ns, workloads) in namespaces_with_workloads(facts) {
        let dd = net.default_deny(ns, d);
        if dd.holds() {
            continue;
        }
        let dir = d.field();
        let mut count = match workloads.len() {
            0 => "no workload in the input yet".to_owned(),
            1 => format!("{} \"{}\"", workloads[0].kind, workloads[0].name),
            n => format!("{n} workloads"),
        };
        let host = facts
            .workloads
            .iter()
            .filter(|w| w.host_network && w.namespace == ns)
            .count();
        if host > 0 {
            let (what, does) = if host == 1 {
                ("workload", "does")
            } else {
                ("workloads", "do")
            };
            if workloads.is_empty() {
                count = format!("only {host} hostNetwork {what}");
            } else {
                count.push_str(&format!("; {host} hostNetwork {what}"));
            }
            count.push_str(&format!(", which NetworkPolicy {does} not apply to"));
        }
        let mut message = if !dd.by.is_empty() {
            let by: Vec<&str> = dd.by.iter().map(|s| s.identity.as_str()).collect();
            format!(
                "namespace \"{ns}\" ({count}): the default deny of {dir} by {} is overridden by {}",
                by.join(", "),
                dd.undone_by.join(", ")
            )
        } else {
            let what = match d {
                Direction::Ingress => "accept connections from any source",
                Direction::Egress => "may connect to any destination",
            };
            let mut m = format!(
                "namespace \"{ns}\" ({count}) has no default-deny {dir} policy: no NetworkPolicy selects every pod (`podSelector: {{}}`) with `{}` in its policyTypes, so pods {what} unless another policy restricts them",
                d.as_str()
            );
            if !dd.undone_by.is_empty() {
                m.push_str(&format!(
                    "; {} selects every pod but is not a deny",
                    dd.undone_by.join(", ")
                ));
            }
            m
        };
        for note in &dd.notes {
            message.push_str("; ");
            message.push_str(note);
        }
        if net.policies.is_empty() && net.others.is_empty() {
            message.push_str(" (the input holds no network policy at all)");
        }
        // A declared Namespace without workloads has its object; one without either is not listed.
        if let Some(first) = workloads.first() {
            emit.namespace(namespaces.get(ns).copied(), ns, first, message);
        } else if let Some(o) = namespaces.get(ns) {
            emit.object(o, "", message);
        }
    }
}
