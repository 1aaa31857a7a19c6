//! The API server is reachable at a public address (as clients reach it).

use crate::analysis::runtime::{is_apiserver_endpoints, is_cluster_connection, is_private};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;
use std::net::IpAddr;

pub static RULE: Rule = Rule {
    id: "apiserver-endpoint-public",
    section: Section::Rule(1),
    severity: Severity::High,
    summary: "The API server's endpoint is a public IP address",
    rationale: "Flags say where the API server binds; what matters is where clients reach it. The \
        kubeconfig's server (on managed clusters, the provider's endpoint) and the addresses of the \
        `kubernetes` EndpointSlice are what an attacker on the internet can connect to: a public \
        address exposes every authentication bug, leaked token and anonymous-auth mistake to \
        internet-wide scanning.",
    remedy: "Make the endpoint private: on EKS `endpointPublicAccess=false` (or restrict \
        `publicAccessCidrs`), on GKE a private endpoint with master authorized networks, on AKS a \
        private cluster or `--api-server-authorized-ip-ranges`; on self-managed clusters advertise a \
        private address and reach the API through a VPN, WireGuard or a bastion.",
    references: References {
        kubescape: &["C-0227", "C-0228"],
        docs: &["https://kubernetes.io/docs/concepts/security/controlling-access/"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiEndpoint],
    fix: None,
    check: Check::Object(check),
};

fn public(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().filter(|ip| !is_private(*ip))
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if is_cluster_connection(o) {
        let server = o.root.get("server").and_then(Node::text).unwrap_or("?");
        let addresses = o.root.get("addresses").map(Node::items).unwrap_or(&[]);
        for (i, a) in addresses.iter().enumerate() {
            if let Some(ip) = a.text().and_then(public) {
                emit.object(
                    o,
                    &format!("/addresses/{i}"),
                    format!("the API server endpoint {server} resolves to the public address {ip}"),
                );
            }
        }
        return;
    }
    if !is_apiserver_endpoints(o) {
        return;
    }
    // EndpointSlice: endpoints[].addresses[]; Endpoints: subsets[].addresses[].ip.
    let (outer, ip_field) = if o.kind == "EndpointSlice" {
        ("endpoints", None)
    } else {
        ("subsets", Some("ip"))
    };
    for (i, e) in o
        .root
        .get(outer)
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        for (j, a) in e
            .get("addresses")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let text = match ip_field {
                Some(f) => a.get(f).and_then(Node::text),
                None => a.text(),
            };
            if let Some(ip) = text.and_then(public) {
                let pointer = match ip_field {
                    Some(f) => format!("/{outer}/{i}/addresses/{j}/{f}"),
                    None => format!("/{outer}/{i}/addresses/{j}"),
                };
                emit.object(
                    o,
                    &pointer,
                    format!("the `kubernetes` Service's endpoint {ip} (the API server's advertised address) is public"),
                );
            }
        }
    }
}
