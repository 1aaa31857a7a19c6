//! Node evidence: the files of a control-plane or worker node at their standard paths (kubeadm,
//! RKE2, k3s: the locations kube-bench's `cfg/config.yaml` knows for them; see
//! `docs/controlplane.md`), read under a root directory so that tests (and offline images of a
//! node) can point anywhere. Produces scan inputs — static Pod manifests, the kubelet config, the
//! files the API server's flags name, the kubelet's command line from its systemd units, and the
//! component command lines of the k3s/RKE2 configuration (`node/rancher.rs`) — and
//! the ownership and permissions of the files the CIS benchmark checks.

use crate::analysis::control_plane::{Component, flags_from_command_line, split_command_line};
use crate::load::Input;
use crate::source::{DiagLevel, Diagnostic};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod rancher;

/// What a file on the node is, for the CIS permission checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeFileRole {
    ApiServerManifest,
    ControllerManagerManifest,
    SchedulerManifest,
    EtcdManifest,
    AdminKubeconfig,
    SchedulerKubeconfig,
    ControllerManagerKubeconfig,
    KubeletKubeconfig,
    KubeletConfig,
    KubeletService,
    ProxyKubeconfig,
    /// The certificate authority the kubelet verifies clients with.
    ClientCa,
    EtcdDataDir,
    PkiDirectory,
    Certificate,
    PrivateKey,
}

/// A file's ownership and permission bits.
#[derive(Clone, Debug, Serialize)]
pub struct NodeFile {
    /// The path on the node (without the `--root` prefix).
    pub path: String,
    pub role: NodeFileRole,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// An owner besides root:root that the benchmark expects: the `etcd` user and group (from the
    /// node's /etc/passwd and /etc/group) for the etcd data directory.
    pub alt_owner: Option<(u32, u32)>,
}

/// What `gather` found.
#[derive(Debug, Default)]
pub struct NodeEvidence {
    pub inputs: Vec<Input>,
    pub files: Vec<NodeFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// Node paths that were read, for the report.
    pub read: Vec<String>,
}

const MANIFEST_DIRS: &[&str] = &[
    "/etc/kubernetes/manifests",
    "/var/lib/rancher/rke2/agent/pod-manifests",
    "/var/lib/rancher/k3s/agent/pod-manifests",
];
/// Extensions of static Pod manifests (kube-bench also knows `kube-apiserver.manifest`).
const MANIFEST_EXTENSIONS: &[&str] = &[".yaml", ".yml", ".json", ".manifest"];
const KUBELET_CONFIGS: &[&str] = &[
    "/var/lib/kubelet/config.yaml",
    "/etc/kubernetes/kubelet/kubelet-config.json",
    "/etc/kubernetes/kubelet-config.yaml",
];
/// Directories of KubeletConfiguration drop-ins (RKE2, and k3s from v1.32, write their defaults
/// there and run the kubelet with `--config-dir`).
const KUBELET_CONFIG_DIRS: &[&str] = &[
    "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d",
    "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d",
];
/// API server flags naming files that are read as inputs when they are on the node.
const FOLLOWED_FLAGS: &[&str] = &[
    "audit-policy-file",
    "encryption-provider-config",
    "admission-control-config-file",
    "authentication-config",
];
const KUBELET_UNITS: &[&str] = &[
    "/usr/lib/systemd/system/kubelet.service",
    "/lib/systemd/system/kubelet.service",
    "/etc/systemd/system/kubelet.service",
];
const KUBELET_DROPIN_DIRS: &[&str] = &[
    "/etc/systemd/system/kubelet.service.d",
    "/usr/lib/systemd/system/kubelet.service.d",
];
const KUBECONFIGS: &[(&str, NodeFileRole)] = &[
    ("/etc/kubernetes/admin.conf", NodeFileRole::AdminKubeconfig),
    (
        "/etc/kubernetes/super-admin.conf",
        NodeFileRole::AdminKubeconfig,
    ),
    (
        "/etc/kubernetes/scheduler.conf",
        NodeFileRole::SchedulerKubeconfig,
    ),
    (
        "/etc/kubernetes/controller-manager.conf",
        NodeFileRole::ControllerManagerKubeconfig,
    ),
    (
        "/etc/kubernetes/kubelet.conf",
        NodeFileRole::KubeletKubeconfig,
    ),
    (
        "/var/lib/rancher/rke2/server/cred/scheduler.kubeconfig",
        NodeFileRole::SchedulerKubeconfig,
    ),
    (
        "/var/lib/rancher/rke2/server/cred/controller.kubeconfig",
        NodeFileRole::ControllerManagerKubeconfig,
    ),
    (
        "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
        NodeFileRole::KubeletKubeconfig,
    ),
    (
        "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
        NodeFileRole::KubeletKubeconfig,
    ),
    // k3s (its CIS self-assessment's paths) and the kubeconfigs k3s and RKE2 write for users
    // (`write-kubeconfig-mode` sets their mode).
    (
        "/var/lib/rancher/k3s/server/cred/admin.kubeconfig",
        NodeFileRole::AdminKubeconfig,
    ),
    ("/etc/rancher/k3s/k3s.yaml", NodeFileRole::AdminKubeconfig),
    (
        "/var/lib/rancher/rke2/server/cred/admin.kubeconfig",
        NodeFileRole::AdminKubeconfig,
    ),
    ("/etc/rancher/rke2/rke2.yaml", NodeFileRole::AdminKubeconfig),
    (
        "/var/lib/rancher/k3s/server/cred/scheduler.kubeconfig",
        NodeFileRole::SchedulerKubeconfig,
    ),
    (
        "/var/lib/rancher/k3s/server/cred/controller.kubeconfig",
        NodeFileRole::ControllerManagerKubeconfig,
    ),
    ("/etc/kubernetes/proxy.conf", NodeFileRole::ProxyKubeconfig),
    (
        "/var/lib/rancher/rke2/agent/kubeproxy.kubeconfig",
        NodeFileRole::ProxyKubeconfig,
    ),
    (
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
        NodeFileRole::ProxyKubeconfig,
    ),
    // etcd's config file where RKE2 and k3s run it (CIS 1.1.7/1.1.8 read it as the etcd "pod
    // specification").
    (
        "/var/lib/rancher/rke2/server/db/etcd/config",
        NodeFileRole::EtcdManifest,
    ),
    (
        "/var/lib/rancher/k3s/server/db/etcd/config",
        NodeFileRole::EtcdManifest,
    ),
];
/// The kubelet's client CA when neither its flags nor its config name one.
const CLIENT_CAS: &[&str] = &[
    "/etc/kubernetes/pki/ca.crt",
    "/var/lib/rancher/rke2/agent/client-ca.crt",
    "/var/lib/rancher/k3s/agent/client-ca.crt",
];
/// etcd data directories when no etcd static Pod names one with `--data-dir`.
const ETCD_DATA_DIRS: &[&str] = &[
    "/var/lib/etcd",
    "/var/lib/etcd/default.etcd",
    "/var/lib/etcd/data.etcd",
    "/var/lib/rancher/rke2/server/db/etcd",
    "/var/lib/rancher/k3s/server/db/etcd",
];

fn under(root: &Path, node_path: &str) -> PathBuf {
    root.join(node_path.trim_start_matches('/'))
}

#[cfg(unix)]
fn stat(path: &Path) -> Option<(u32, u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.mode() & 0o7777, m.uid(), m.gid()))
}

#[cfg(not(unix))]
fn stat(_: &Path) -> Option<(u32, u32, u32)> {
    None
}

impl NodeEvidence {
    fn file(&mut self, root: &Path, node_path: &str, role: NodeFileRole) -> bool {
        match stat(&under(root, node_path)) {
            Some((mode, uid, gid)) => {
                self.files.push(NodeFile {
                    path: node_path.to_owned(),
                    role,
                    mode,
                    uid,
                    gid,
                    alt_owner: None,
                });
                true
            }
            None => false,
        }
    }

    fn has_file(&self, node_path: &str) -> bool {
        self.files.iter().any(|f| f.path == node_path)
    }

    fn manifest(&mut self, root: &Path, node_path: &str) {
        self.inputs.push(Input::File(under(root, node_path)));
        self.read.push(node_path.to_owned());
    }
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Reads a node's evidence under `root` (`/` on the node itself).
pub fn gather(root: &Path) -> NodeEvidence {
    let mut ev = NodeEvidence::default();
    let mut etcd_data_dirs = Vec::new();
    // Static Pod manifests of the control plane.
    for dir in MANIFEST_DIRS {
        for path in sorted_entries(&under(root, dir)) {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !MANIFEST_EXTENSIONS.iter().any(|e| name.ends_with(e)) {
                continue;
            }
            let node_path = format!("{dir}/{name}");
            let role = match name.split('.').next().unwrap_or("") {
                "kube-apiserver" => Some(NodeFileRole::ApiServerManifest),
                "kube-controller-manager" => Some(NodeFileRole::ControllerManagerManifest),
                "kube-scheduler" => Some(NodeFileRole::SchedulerManifest),
                "etcd" => Some(NodeFileRole::EtcdManifest),
                _ => None,
            };
            if let Some(role) = role {
                ev.file(root, &node_path, role);
            }
            ev.manifest(root, &node_path);
            // Follow the files the API server's flags name.
            if role == Some(NodeFileRole::ApiServerManifest) {
                follow_flag_files(root, &path, &mut ev);
            }
            if role == Some(NodeFileRole::EtcdManifest) {
                etcd_data_dirs.extend(flag_values(&path, Component::Etcd, "data-dir"));
            }
        }
    }
    etcd_data_dir(root, &mut ev, &etcd_data_dirs);
    for (path, role) in KUBECONFIGS {
        ev.file(root, path, *role);
    }
    // PKI: directory ownership, certificates and keys.
    let pki = "/etc/kubernetes/pki";
    if ev.file(root, pki, NodeFileRole::PkiDirectory) {
        let mut stack = vec![under(root, pki)];
        while let Some(dir) = stack.pop() {
            for p in sorted_entries(&dir) {
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let node_path = format!("/{}", p.strip_prefix(root).unwrap_or(&p).display());
                if node_path.ends_with(".crt") {
                    ev.file(root, &node_path, NodeFileRole::Certificate);
                } else if node_path.ends_with(".key") {
                    ev.file(root, &node_path, NodeFileRole::PrivateKey);
                }
            }
        }
    }
    // Kubelet: config file and systemd units (command line with flags).
    let mut kubelet_config_seen = false;
    for path in KUBELET_CONFIGS {
        if ev.file(root, path, NodeFileRole::KubeletConfig) {
            ev.manifest(root, path);
            kubelet_config_seen = true;
        }
    }
    for dir in KUBELET_CONFIG_DIRS {
        for p in sorted_entries(&under(root, dir)) {
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if p.is_file() && name.ends_with(".conf") {
                let node_path = format!("{dir}/{name}");
                ev.file(root, &node_path, NodeFileRole::KubeletConfig);
                ev.manifest(root, &node_path);
                kubelet_config_seen = true;
            }
        }
    }
    // k3s and RKE2: their config files as component command lines.
    rancher::gather(root, &mut ev);
    let client_ca = kubelet_command_line(root, &mut ev, kubelet_config_seen);
    kubelet_client_ca(root, &mut ev, client_ca);
    if ev.inputs.is_empty() && ev.files.is_empty() {
        ev.diagnostics.push(Diagnostic::new(
            DiagLevel::Error,
            &root.display().to_string(),
            None,
            "no Kubernetes node files found (looked for /etc/kubernetes/manifests, /var/lib/kubelet/config.yaml, kubelet systemd units, RKE2/k3s config files and pod manifests, kubeconfigs and etcd data directories)",
        ));
    }
    ev
}

/// Reads the API server static Pod, and adds the files named by its flags as inputs.
fn follow_flag_files(root: &Path, manifest: &Path, ev: &mut NodeEvidence) {
    let loaded = crate::load::load_file(manifest);
    for object in &loaded.objects {
        for flags in crate::analysis::control_plane::component_flags(object) {
            if flags.component != Component::ApiServer {
                continue;
            }
            for name in FOLLOWED_FLAGS {
                let Some(f) = flags.get(name) else { continue };
                if f.value.is_empty() || ev.read.contains(&f.value) {
                    continue;
                }
                let path = under(root, &f.value);
                if path.is_file() {
                    ev.manifest(root, &f.value);
                } else {
                    ev.diagnostics.push(Diagnostic::new(
                        DiagLevel::Warning,
                        &manifest.display().to_string(),
                        None,
                        format!(
                            "`--{name}={}` names a file that is not on this node (under {})",
                            f.value,
                            root.display()
                        ),
                    ));
                }
            }
        }
    }
}

/// The values of one component flag in a static Pod manifest.
fn flag_values(manifest: &Path, component: Component, name: &str) -> Vec<String> {
    let loaded = crate::load::load_file(manifest);
    let mut out = Vec::new();
    for object in &loaded.objects {
        for flags in crate::analysis::control_plane::component_flags(object) {
            if flags.component == component
                && let Some(f) = flags.get(name)
                && !f.value.is_empty()
            {
                out.push(f.value.clone());
            }
        }
    }
    out
}

/// The uid of `user` and the gid of `group` in the node's /etc/passwd and /etc/group.
fn user_and_group(root: &Path, user: &str, group: &str) -> Option<(u32, u32)> {
    let id = |file: &str, name: &str, field: usize| -> Option<u32> {
        let text = std::fs::read_to_string(under(root, file)).ok()?;
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(field)?.parse().ok())
    };
    Some((id("/etc/passwd", user, 2)?, id("/etc/group", group, 2)?))
}

/// The etcd data directory (CIS 1.1.11/1.1.12): the `--data-dir` of the etcd static Pod, or the
/// first of the known locations that exists.
fn etcd_data_dir(root: &Path, ev: &mut NodeEvidence, from_flags: &[String]) {
    let candidates: Vec<&str> = if from_flags.is_empty() {
        ETCD_DATA_DIRS.to_vec()
    } else {
        from_flags.iter().map(String::as_str).collect()
    };
    let Some(dir) = candidates
        .into_iter()
        .find(|d| under(root, d).is_dir() && !ev.has_file(d))
    else {
        return;
    };
    if ev.file(root, dir, NodeFileRole::EtcdDataDir)
        && let Some(f) = ev.files.last_mut()
    {
        f.alt_owner = user_and_group(root, "etcd", "etcd");
    }
}

/// The kubelet's client CA file (CIS 4.1.7/4.1.8): named by `--client-ca-file` or the
/// KubeletConfiguration, else the first known location; not recorded twice (kubeadm's is also a
/// PKI certificate).
fn kubelet_client_ca(root: &Path, ev: &mut NodeEvidence, named: Option<String>) {
    let named = named.or_else(|| {
        ev.files
            .iter()
            .filter(|f| f.role == NodeFileRole::KubeletConfig)
            .flat_map(|f| crate::load::load_file(&under(root, &f.path)).objects)
            .find_map(|o| {
                o.root
                    .pointer("/authentication/x509/clientCAFile")
                    .and_then(crate::yaml::Node::text)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
            })
    });
    let path = match named {
        Some(p) => p,
        None => match CLIENT_CAS.iter().find(|p| under(root, p).is_file()) {
            Some(p) => (*p).to_owned(),
            None => return,
        },
    };
    if !ev.has_file(&path) {
        ev.file(root, &path, NodeFileRole::ClientCa);
    }
}

/// Parses `KEY=value` lines of an environment file.
fn env_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            Some((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        })
        .collect()
}

/// The kubelet's effective command line from its systemd unit and drop-ins (the last
/// `ExecStart=` wins, `Environment=`/`EnvironmentFile=` variables expanded), as a scan input.
/// Returns its `--client-ca-file`.
fn kubelet_command_line(root: &Path, ev: &mut NodeEvidence, config_seen: bool) -> Option<String> {
    let mut units: Vec<String> = KUBELET_UNITS.iter().map(|s| (*s).to_owned()).collect();
    for dir in KUBELET_DROPIN_DIRS {
        for p in sorted_entries(&under(root, dir)) {
            if let Some(name) = p
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| n.ends_with(".conf"))
            {
                units.push(format!("{dir}/{name}"));
            }
        }
    }
    let mut exec: Option<(String, String)> = None;
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for unit in &units {
        let Ok(text) = std::fs::read_to_string(under(root, unit)) else {
            continue;
        };
        ev.file(root, unit, NodeFileRole::KubeletService);
        ev.read.push(unit.clone());
        let joined = text.replace("\\\n", " ");
        for line in joined.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("ExecStart=") {
                if !v.trim().is_empty() {
                    exec = Some((
                        v.trim()
                            .trim_start_matches(['-', '@', '+', '!', ':'])
                            .to_owned(),
                        unit.clone(),
                    ));
                }
            } else if let Some(v) = line.strip_prefix("Environment=") {
                for word in split_command_line(v) {
                    if let Some((k, val)) = word.split_once('=') {
                        env.insert(k.to_owned(), val.to_owned());
                    }
                }
            } else if let Some(v) = line.strip_prefix("EnvironmentFile=") {
                let path = v.trim().trim_start_matches('-');
                if let Ok(t) = std::fs::read_to_string(under(root, path)) {
                    ev.read.push(path.to_owned());
                    env.extend(env_file(&t));
                }
            }
        }
    }
    let (command, unit) = exec?;
    let expanded: String = split_command_line(&command)
        .into_iter()
        .map(|w| {
            match w
                .strip_prefix('$')
                .map(|v| v.trim_start_matches('{').trim_end_matches('}'))
            {
                Some(var) => env.get(var).cloned().unwrap_or_default(),
                None => w,
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let flags = flags_from_command_line(&expanded)?;
    if flags.component != Component::Kubelet {
        return None;
    }
    // Follow `--config` when the standard locations did not have it.
    if !config_seen
        && let Some(cfg) = flags.get("config")
        && under(root, &cfg.value).is_file()
    {
        ev.file(root, &cfg.value, NodeFileRole::KubeletConfig);
        ev.manifest(root, &cfg.value);
    }
    ev.inputs.push(command_line_input(
        &format!("{unit} (ExecStart)"),
        &expanded,
    ));
    flags
        .get("client-ca-file")
        .map(|f| f.value.clone())
        .filter(|v| !v.is_empty())
}

/// A command line as a scan input: a `CommandLine` document (`kubeharden.io/v1alpha1`) whose
/// `command` holds the words, so that flag rules read it like a static Pod's command.
pub fn command_line_input(name: &str, line: &str) -> Input {
    let words = split_command_line(line);
    let component = words
        .first()
        .map(|w| w.rsplit('/').next().unwrap_or(w).to_owned())
        .unwrap_or_default();
    let mut doc = format!(
        "apiVersion: kubeharden.io/v1alpha1\nkind: CommandLine\nmetadata:\n  name: {}\ncommand:\n",
        serde_json::to_string(&component).unwrap_or_default()
    );
    for w in &words {
        doc.push_str(&format!(
            "- {}\n",
            serde_json::to_string(w).unwrap_or_default()
        ));
    }
    Input::Bytes {
        name: name.to_owned(),
        bytes: doc.into_bytes().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_and_command_lines() {
        let e = env_file(
            "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n",
        );
        assert_eq!(
            e["KUBELET_KUBEADM_ARGS"],
            "--container-runtime-endpoint=unix:///run/containerd/containerd.sock"
        );
        let Input::Bytes { bytes, .. } =
            command_line_input("x", "/usr/bin/kubelet --read-only-port=10255")
        else {
            panic!()
        };
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            text.contains("kind: CommandLine") && text.contains("\"--read-only-port=10255\""),
            "{text}"
        );
    }
}
