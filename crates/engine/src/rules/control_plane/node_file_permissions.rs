//! Control-plane and kubelet files with loose permissions or wrong owners (CIS 1.1.x, 4.1.x).

use crate::finding::{Location, Severity, Subject};
use crate::node::{NodeFile, NodeFileRole};
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "node-file-permissions",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "Control-plane or kubelet file is writable or readable by others, or not owned by root",
    rationale: "Static Pod manifests define the control plane: whoever can write them runs code as \
        the API server. Kubeconfigs such as admin.conf are cluster-admin credentials, and private \
        keys in /etc/kubernetes/pki sign tokens and certificates. Loose permissions turn any local \
        foothold on the node into cluster takeover.",
    remedy: "`chmod 600` manifests, kubeconfigs, the kubelet config and unit files, CNI files \
        and `*.key` files; `chmod 644` (or stricter) certificates and the kubelet's client CA; `chmod 700` the \
        etcd data directory; `chown root:root` all of them (the etcd data directory may belong \
        to the `etcd` user).",
    references: References {
        cis: &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.11", "1.1.12", "1.1.13", "1.1.14", "1.1.15", "1.1.16", "1.1.17",
            "1.1.18", "1.1.19", "1.1.20", "1.1.21", "4.1.1", "4.1.2", "4.1.3", "4.1.4", "4.1.5",
            "4.1.6", "4.1.7", "4.1.8", "4.1.9", "4.1.10",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::NodeFiles],
    fix: None,
    check: Check::Inventory(check, &[]),
};

/// (CIS id for permissions, CIS id for ownership, maximum mode) per role.
fn expectation(role: NodeFileRole) -> (&'static str, &'static str, u32) {
    use NodeFileRole::*;
    match role {
        ApiServerManifest => ("1.1.1", "1.1.2", 0o600),
        ControllerManagerManifest => ("1.1.3", "1.1.4", 0o600),
        SchedulerManifest => ("1.1.5", "1.1.6", 0o600),
        EtcdManifest => ("1.1.7", "1.1.8", 0o600),
        AdminKubeconfig => ("1.1.13", "1.1.14", 0o600),
        SchedulerKubeconfig => ("1.1.15", "1.1.16", 0o600),
        ControllerManagerKubeconfig => ("1.1.17", "1.1.18", 0o600),
        PkiDirectory => ("", "1.1.19", 0o7777),
        Certificate => ("1.1.20", "1.1.19", 0o644),
        PrivateKey => ("1.1.21", "1.1.19", 0o600),
        KubeletService => ("4.1.1", "4.1.2", 0o600),
        ProxyKubeconfig => ("4.1.3", "4.1.4", 0o600),
        CniFile => ("1.1.9", "1.1.10", 0o600),
        ClientCa => ("4.1.7", "4.1.8", 0o644),
        EtcdDataDir => ("1.1.11", "1.1.12", 0o700),
        KubeletKubeconfig => ("4.1.5", "4.1.6", 0o600),
        KubeletConfig => ("4.1.9", "4.1.10", 0o600),
    }
}

fn finding(emit: &mut Emitter, f: &NodeFile, message: String) {
    let subject = Subject {
        kind: "File".into(),
        api_version: String::new(),
        name: f.path.clone(),
        namespace: None,
        container: None,
    };
    let location = Location {
        origin: format!("node:{}", f.path).into(),
        line: 0,
        column: 0,
        pointer: "".into(),
        helm_source: None,
    };
    emit.at(subject, location, message);
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for f in &facts.node_files {
        let (mode_id, owner_id, max) = expectation(f.role);
        let extra = f.mode & !max & 0o777;
        if extra != 0 {
            finding(
                emit,
                f,
                format!(
                    "CIS {mode_id}: {} has mode {:o}; at most {:o} is expected",
                    f.path,
                    f.mode & 0o7777,
                    max
                ),
            );
        }
        if (f.uid, f.gid) != (0, 0) && f.alt_owner != Some((f.uid, f.gid)) {
            let expected = if f.role == NodeFileRole::EtcdDataDir {
                "root:root or etcd:etcd"
            } else {
                "root:root"
            };
            finding(
                emit,
                f,
                format!(
                    "CIS {owner_id}: {} is owned by {}:{}; {expected} is expected",
                    f.path, f.uid, f.gid
                ),
            );
        }
    }
}
