//! The API server binds or advertises a public address (its flags, or a kubeadm configuration's
//! advertise address, control-plane endpoint or certificate SANs).

use super::flags_of;
use crate::analysis::control_plane::{Component, kubeadm_api_addresses};
use crate::analysis::runtime::is_private;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use std::net::IpAddr;

pub static RULE: Rule = Rule {
    id: "apiserver-public-address",
    section: Section::Rule(1),
    severity: Severity::High,
    summary: "API server binds or advertises a public IP address",
    rationale: "An API server on a public address is reachable by the whole internet: every \
        authentication bug, leaked token or anonymous-auth misconfiguration becomes remotely \
        exploitable, and credential stuffing and CVE scanning start within minutes. The API should \
        be reachable only from a private network (VPN, WireGuard, bastion, private endpoint).",
    remedy: "Set `--advertise-address` and `--bind-address` to a private address (RFC 1918 / ULA) \
        and reach the API through a VPN or private load balancer; with kubeadm, use private \
        addresses in `localAPIEndpoint.advertiseAddress`, `controlPlaneEndpoint` and \
        `apiServer.certSANs`; on managed clusters enable the private endpoint and disable or \
        restrict public access.",
    references: References {
        kubescape: &["C-0227", "C-0228"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

/// What a kubeadm address field means, for the message.
fn meaning(field: &str) -> &'static str {
    match field {
        "controlPlaneEndpoint" => "every node and kubeconfig reaches the API server there",
        "apiServer.certSANs" => "the API server's certificate is made to be reached there",
        _ => "kubeadm makes it kube-apiserver's `--advertise-address`",
    }
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for a in kubeadm_api_addresses(o) {
        if let Ok(ip) = a.host.parse::<IpAddr>()
            && !is_private(ip)
        {
            emit.object(
                o,
                &a.pointer,
                format!(
                    "kubeadm {} `{}: {}` is a public address: {}",
                    o.kind,
                    a.field,
                    a.value,
                    meaning(a.field)
                ),
            );
        }
    }
    for flags in flags_of(o, Component::ApiServer) {
        for name in ["advertise-address", "bind-address"] {
            let Some(flag) = flags.get(name) else {
                continue;
            };
            if let Ok(ip) = flag.value.parse::<IpAddr>()
                && !is_private(ip)
            {
                emit.object(
                    o,
                    &flags.pointer(name),
                    format!(
                        "kube-apiserver `--{name}={}` is a public address",
                        flag.value
                    ),
                );
            }
        }
    }
}
