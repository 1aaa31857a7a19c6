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
use rancher::Word;
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
    /// A file of the CNI configuration (the kubelet's `--cni-conf-dir`, `/etc/cni/net.d`) or of
    /// the host-local IPAM state (`/var/lib/cni/networks`): CIS 1.1.9, 1.1.10.
    CniFile,
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
    /// Evidence a component names but that could not be read (a kubelet `--config` file that is
    /// not there, an unreadable `--kubeconfig` or `--encryption-provider-config`), with the
    /// reason: fail closed, the rules that need it are not assessed (see `gaps`).
    pub unreadable: Vec<(crate::meta::Evidence, String)>,
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
/// Where systemd units are, lowest precedence first (a unit in `/etc` overrides the packaged
/// one; drop-ins `NAME.service.d/*.conf` apply on top).
const SYSTEMD_DIRS: &[&str] = &[
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/etc/systemd/system",
];
/// The components a node may run as systemd services (Kubernetes The Hard Way and other installs
/// without static Pods), besides the kubelet.
const COMPONENT_UNITS: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "etcd",
    "kube-proxy",
];
/// Where CNI files are (CIS 1.1.9, 1.1.10; kube-bench `cfg/cis-1.12/master.yaml`: the files under
/// the kubelet's `--cni-conf-dir`, and those under `/var/lib/cni/networks`): the configuration
/// directory when the kubelet names none — `/etc/cni/net.d`, the default of containerd, CRI-O
/// and of the kubelet's former flag, and k3s's (its containerd `conf_dir`) — and the host-local
/// IPAM state.
const CNI_CONF_DIRS: &[&str] = &["/etc/cni/net.d", "/var/lib/rancher/k3s/agent/etc/cni/net.d"];
const CNI_STATE_DIR: &str = "/var/lib/cni/networks";
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
            // Follow the files the API server's and kube-proxy's flags name.
            let name_stem = name.split('.').next().unwrap_or("");
            if role == Some(NodeFileRole::ApiServerManifest) || name_stem == "kube-proxy" {
                follow_flag_files(root, &path, &mut ev);
            }
            if role == Some(NodeFileRole::EtcdManifest) {
                etcd_data_dirs.extend(flag_values(&path, Component::Etcd, "data-dir"));
            }
        }
    }
    // Control-plane components run as systemd services (no static Pod for them).
    for name in COMPONENT_UNITS {
        let manifest = format!("/etc/kubernetes/manifests/{name}.yaml");
        if ev.read.contains(&manifest) {
            continue;
        }
        let Some((words, unit)) = unit_command_line(root, &mut ev, name, None) else {
            continue;
        };
        let Some(flags) = command_line_flags(&words) else {
            continue;
        };
        match flags.component {
            Component::ApiServer => follow_flags(root, &flags, &unit, &mut ev),
            Component::Proxy => {
                let shown = under(root, &unit).display().to_string();
                proxy_files(root, &flags, &shown, &mut ev);
            }
            Component::Etcd => {
                etcd_data_dirs.extend(flags.get("data-dir").map(|f| f.value.clone()));
            }
            _ => {}
        }
        ev.inputs.push(rancher::command_line_with_origins(
            &format!("{unit} (ExecStart)"),
            &words,
        ));
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
    let kubelet = kubelet_command_line(root, &mut ev, kubelet_config_seen);
    let flag = |name: &str| {
        kubelet
            .as_ref()
            .and_then(|k| k.get(name))
            .map(|f| f.value.clone())
    };
    kubelet_client_ca(root, &mut ev, flag("client-ca-file"));
    cni_files(root, &mut ev, flag("cni-conf-dir"));
    node_versions(root, &mut ev);
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

/// Reads an API server or kube-proxy static Pod, and follows the files its flags name.
fn follow_flag_files(root: &Path, manifest: &Path, ev: &mut NodeEvidence) {
    let loaded = crate::load::load_file(manifest);
    let origin = manifest.display().to_string();
    for object in &loaded.objects {
        for flags in crate::analysis::control_plane::component_flags(object) {
            match flags.component {
                Component::ApiServer => follow_flags(root, &flags, &origin, ev),
                Component::Proxy => proxy_files(root, &flags, &origin, ev),
                _ => {}
            }
        }
    }
}

/// Why a file a component names cannot be used: `None` when it is a readable file.
fn unreadable_why(path: &Path) -> Option<&'static str> {
    if path.is_file() && std::fs::File::open(path).is_ok() {
        None
    } else if path.exists() {
        Some("cannot be read")
    } else {
        Some("not found")
    }
}

/// A file a component names (`named`: "kubelet `--config=/var/lib/kubelet/config.yaml`") at the
/// node path `value`: true when it can be read. Otherwise fail closed: a warning at `origin`
/// naming it, saying what is not assessed (`consequence`), and `evidence` unreadable.
fn named_file(
    root: &Path,
    ev: &mut NodeEvidence,
    origin: &str,
    named: &str,
    value: &str,
    evidence: crate::meta::Evidence,
    consequence: &str,
) -> bool {
    let Some(why) = unreadable_why(&under(root, value)) else {
        return true;
    };
    ev.diagnostics.push(Diagnostic::new(
        DiagLevel::Warning,
        origin,
        None,
        format!(
            "{named} names a file that is not on this node (under {}): {why}; {consequence}",
            root.display()
        ),
    ));
    ev.unreadable
        .push((evidence, format!("{named} {why} on the node")));
    false
}

/// kube-proxy's files (CIS 4.1.3, 4.1.4, 4.3.1): its `--config` KubeProxyConfiguration, read as
/// an input, and its kubeconfig, recorded for its permissions — the config file's
/// `clientConnection.kubeconfig` when it runs with `--config` (kube-proxy then ignores the flags
/// that the file's fields replace), else `--kubeconfig`. A named file that is not there fails
/// closed ([`named_file`]).
fn proxy_files(
    root: &Path,
    flags: &crate::analysis::control_plane::ComponentFlags,
    origin: &str,
    ev: &mut NodeEvidence,
) {
    let shown = origin;
    let kubeconfig = match flags.get("config") {
        Some(cfg) => {
            let named = format!("kube-proxy `--config={}`", cfg.value);
            if !named_file(
                root,
                ev,
                shown,
                &named,
                &cfg.value,
                crate::meta::Evidence::ControlPlaneFlags,
                "the kube-proxy settings it would hold (CIS 4.3.1) are unknown, and the rules that need them are not assessed",
            ) {
                return;
            }
            if !ev.read.contains(&cfg.value) {
                ev.manifest(root, &cfg.value);
            }
            crate::load::load_file(&under(root, &cfg.value))
                .objects
                .iter()
                .flat_map(crate::analysis::control_plane::kube_proxy_configs)
                .find_map(|(_, r)| {
                    r.pointer("/clientConnection/kubeconfig")
                        .and_then(crate::yaml::Node::text)
                        .filter(|t| !t.is_empty())
                        .map(|t| {
                            (
                                format!("kube-proxy `clientConnection.kubeconfig: {t}`"),
                                t.to_owned(),
                            )
                        })
                })
        }
        None => flags.get("kubeconfig").map(|k| {
            (
                format!("kube-proxy `--kubeconfig={}`", k.value),
                k.value.clone(),
            )
        }),
    };
    if let Some((named, path)) = kubeconfig
        && named_file(
            root,
            ev,
            shown,
            &named,
            &path,
            crate::meta::Evidence::NodeFiles,
            "its permissions and owner (CIS 4.1.3, 4.1.4) are not assessed",
        )
        && !ev.has_file(&path)
    {
        ev.file(root, &path, NodeFileRole::ProxyKubeconfig);
    }
}

/// The version files of the node (`analysis::versions::node_versions`: kind's `/kind/version`,
/// the `kubelet` package in `/var/lib/dpkg/status`), as inputs.
fn node_versions(root: &Path, ev: &mut NodeEvidence) {
    let read = |p: &str| {
        let path = under(root, p);
        std::fs::read_to_string(&path)
            .ok()
            .map(|t| (path.display().to_string(), t))
    };
    let kind = read("/kind/version");
    let dpkg = read("/var/lib/dpkg/status").filter(|(_, t)| t.contains("Package: kubelet"));
    let inputs = crate::analysis::versions::node_versions(
        kind.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
        dpkg.as_ref().map(|(p, t)| (p.as_str(), t.as_str())),
    );
    if kind.is_some() && !inputs.is_empty() {
        ev.read.push("/kind/version".to_owned());
    }
    if dpkg.is_some() {
        ev.read.push("/var/lib/dpkg/status".to_owned());
    }
    ev.inputs.extend(inputs);
}

/// The CNI files (CIS 1.1.9, 1.1.10), as kube-bench finds them: every regular file under the
/// kubelet's `--cni-conf-dir` (else the known configuration directories) and under
/// `/var/lib/cni/networks`. Directories are not judged (they need their `x` bits).
fn cni_files(root: &Path, ev: &mut NodeEvidence, conf_dir: Option<String>) {
    let mut dirs: Vec<String> = match conf_dir.filter(|d| !d.is_empty()) {
        Some(d) => vec![d],
        None => CNI_CONF_DIRS.iter().map(|d| (*d).to_owned()).collect(),
    };
    dirs.push(CNI_STATE_DIR.to_owned());
    for dir in dirs {
        let mut stack = vec![under(root, &dir)];
        while let Some(d) = stack.pop() {
            for p in sorted_entries(&d) {
                let Ok(meta) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                if meta.is_dir() {
                    stack.push(p);
                } else if meta.is_file() {
                    let node_path = format!("/{}", p.strip_prefix(root).unwrap_or(&p).display());
                    if !ev.has_file(&node_path) {
                        ev.file(root, &node_path, NodeFileRole::CniFile);
                    }
                }
            }
        }
    }
}

/// Adds the files the API server's flags name as inputs; one that cannot be read is a warning
/// naming it, and the evidence it holds is unreadable (fail closed).
fn follow_flags(
    root: &Path,
    flags: &crate::analysis::control_plane::ComponentFlags,
    origin: &str,
    ev: &mut NodeEvidence,
) {
    for name in FOLLOWED_FLAGS {
        let Some(f) = flags.get(name) else { continue };
        if ev.read.contains(&f.value) {
            continue;
        }
        let path = under(root, &f.value);
        if std::fs::File::open(&path).is_ok() && path.is_file() {
            ev.manifest(root, &f.value);
            continue;
        }
        let why = if path.exists() {
            "cannot be read"
        } else {
            "not found"
        };
        let message = format!(
            "`--{name}={}` names a file that is not on this node (under {}): {why}",
            f.value,
            root.display()
        );
        let evidence = match *name {
            "audit-policy-file" => Some(crate::meta::Evidence::AuditPolicy),
            "encryption-provider-config" => Some(crate::meta::Evidence::EncryptionConfig),
            "admission-control-config-file" => Some(crate::meta::Evidence::AdmissionControl),
            _ => None,
        };
        if let Some(e) = evidence {
            ev.unreadable.push((
                e,
                format!("kube-apiserver `--{name}={}` {why} on the node", f.value),
            ));
        }
        ev.diagnostics
            .push(Diagnostic::new(DiagLevel::Warning, origin, None, message));
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

/// The command line of the systemd service `name` (its unit and drop-ins; the last `ExecStart=`
/// wins), with `Environment=`/`EnvironmentFile=` variables expanded as systemd does (`$VAR` as a
/// word of its own: the value split at whitespace; `${VAR}`: the value as is, within one word),
/// each word recording the file, line and column it was written at (the `ExecStart=` line, or
/// the line that sets the variable), so that findings point there. Records the unit files with
/// `role`. Returns the words and the unit that holds `ExecStart=`.
fn unit_command_line(
    root: &Path,
    ev: &mut NodeEvidence,
    name: &str,
    role: Option<NodeFileRole>,
) -> Option<(Vec<Word>, String)> {
    let mut units: Vec<String> = SYSTEMD_DIRS
        .iter()
        .map(|d| format!("{d}/{name}.service"))
        .collect();
    for dir in [SYSTEMD_DIRS[2], SYSTEMD_DIRS[0]] {
        let dir = format!("{dir}/{name}.service.d");
        for p in sorted_entries(&under(root, &dir)) {
            if let Some(file) = p
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| n.ends_with(".conf"))
            {
                units.push(format!("{dir}/{file}"));
            }
        }
    }
    let mut exec: Option<(Vec<Word>, String)> = None;
    let mut env: BTreeMap<String, Vec<Word>> = BTreeMap::new();
    for unit in &units {
        let path = under(root, unit);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(role) = role {
            ev.file(root, unit, role);
        }
        ev.read.push(unit.clone());
        let shown = path.display().to_string();
        // Continuation lines joined byte for byte (`\` + newline → two spaces): an offset in
        // `joined` is the same offset in `text`.
        let joined = text.replace("\\\n", "  ");
        for (at, line) in lines_at(&joined) {
            let indent = line.len() - line.trim_start().len();
            let line = line.trim();
            let at = at + indent;
            if let Some(v) = line.strip_prefix("ExecStart=") {
                let mut words = split_at(v, at + "ExecStart=".len());
                if let Some((first, offset)) = words.first_mut() {
                    // systemd's prefixes (`-`, `@`, `+`, `!`, `:`) are not part of the path.
                    let bare = first
                        .trim_start_matches(['-', '@', '+', '!', ':'])
                        .to_owned();
                    *offset += first.len() - bare.len();
                    *first = bare;
                }
                if !words.is_empty() {
                    let words = words
                        .into_iter()
                        .map(|(w, o)| (w, Some(origin_at(&shown, &text, o))))
                        .collect();
                    exec = Some((words, unit.clone()));
                }
            } else if let Some(v) = line.strip_prefix("Environment=") {
                let v_at = at + "Environment=".len();
                for (word, offset) in split_at(v, v_at) {
                    if let Some((k, val)) = word.split_once('=') {
                        let end = v_at + v.len();
                        let words = locate_words(val, &shown, &text, offset + k.len(), end);
                        env.insert(k.to_owned(), words);
                    }
                }
            } else if let Some(v) = line.strip_prefix("EnvironmentFile=") {
                let optional = v.trim().starts_with('-');
                let file = v.trim().trim_start_matches('-');
                let env_path = under(root, file);
                match std::fs::read_to_string(&env_path) {
                    Ok(t) => {
                        ev.read.push(file.to_owned());
                        env.extend(env_file_words(&env_path.display().to_string(), &t));
                    }
                    Err(_) if !optional => ev.diagnostics.push(Diagnostic::new(
                        DiagLevel::Warning,
                        &shown,
                        None,
                        format!(
                            "`EnvironmentFile={file}` cannot be read (under {}): systemd does not start {name} without it",
                            root.display()
                        ),
                    )),
                    Err(_) => {}
                }
            }
        }
    }
    let (command, unit) = exec?;
    let words: Vec<Word> = command
        .into_iter()
        .flat_map(|(w, origin)| expand_word(&w, origin, &env))
        .collect();
    Some((words, unit))
}

/// One word of `ExecStart=` with the environment substituted, as systemd does.
fn expand_word(
    word: &str,
    origin: Option<rancher::Origin>,
    env: &BTreeMap<String, Vec<Word>>,
) -> Vec<Word> {
    let value = |var: &str| -> String {
        env.get(var)
            .map(|ws| {
                ws.iter()
                    .map(|(w, _)| w.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    // `$VAR` alone: split at whitespace, zero or more words, each located where it is written.
    if let Some(var) = word.strip_prefix('$')
        && !var.starts_with('{')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return env.get(var).cloned().unwrap_or_default();
    }
    // `${VAR}` alone: one word, located where the value is written.
    if let Some(var) = word.strip_prefix("${").and_then(|v| v.strip_suffix('}'))
        && !var.contains(['$', '{', '}'])
    {
        let origin = env
            .get(var)
            .and_then(|ws| ws.first())
            .and_then(|(_, o)| o.clone())
            .or(origin);
        return vec![(value(var), origin)];
    }
    // `${VAR}` within a word: substituted in place.
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find('}') {
            Some(j) => {
                out.push_str(&value(&rest[i + 2..i + 2 + j]));
                rest = &rest[i + 2 + j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    vec![(out, origin)]
}

/// The component flags of a unit's words.
fn command_line_flags(words: &[Word]) -> Option<crate::analysis::control_plane::ComponentFlags> {
    let expanded = words
        .iter()
        .map(|(w, _)| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    flags_from_command_line(&expanded)
}

/// A word quoted for [`split_command_line`] when it holds whitespace or quotes.
fn shell_quote(w: &str) -> String {
    if w.is_empty() || w.contains(char::is_whitespace) || w.contains(['"', '\'']) {
        format!("'{}'", w.replace('\'', ""))
    } else {
        w.to_owned()
    }
}

/// The kubelet's effective command line from its systemd unit and drop-ins, as a scan input
/// (see [`unit_command_line`]). Follows its `--config` when the standard locations did not have
/// it; a `--config` or `--kubeconfig` file that is not there fails closed ([`named_file`]).
/// Returns its flags.
fn kubelet_command_line(
    root: &Path,
    ev: &mut NodeEvidence,
    config_seen: bool,
) -> Option<crate::analysis::control_plane::ComponentFlags> {
    let (words, unit) = unit_command_line(root, ev, "kubelet", Some(NodeFileRole::KubeletService))?;
    let flags = command_line_flags(&words)?;
    if flags.component != Component::Kubelet {
        return None;
    }
    let shown = under(root, &unit).display().to_string();
    if let Some(cfg) = flags.get("config")
        && named_file(
            root,
            ev,
            &shown,
            &format!("kubelet `--config={}`", cfg.value),
            &cfg.value,
            crate::meta::Evidence::KubeletConfig,
            "the kubelet settings it would hold are unknown, and the rules that need them are not assessed",
        )
        && !config_seen
        && !ev.read.contains(&cfg.value)
    {
        ev.file(root, &cfg.value, NodeFileRole::KubeletConfig);
        ev.manifest(root, &cfg.value);
    }
    if let Some(kc) = flags.get("kubeconfig")
        && named_file(
            root,
            ev,
            &shown,
            &format!("kubelet `--kubeconfig={}`", kc.value),
            &kc.value,
            crate::meta::Evidence::NodeFiles,
            "its permissions and owner (CIS 4.1.5, 4.1.6) are not assessed",
        )
        && !ev.has_file(&kc.value)
    {
        ev.file(root, &kc.value, NodeFileRole::KubeletKubeconfig);
    }
    ev.inputs.push(rancher::command_line_with_origins(
        &format!("{unit} (ExecStart)"),
        &words,
    ));
    Some(flags)
}

/// The lines of `text` (without their line break), each with the byte offset it starts at.
fn lines_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        (start, raw.trim_end_matches(['\n', '\r']))
    })
}

/// The words of a command line as [`split_command_line`] reads them, each with the byte offset
/// (plus `base`) where it starts (its opening quote, if quoted).
fn split_at(line: &str, base: usize) -> Vec<(String, usize)> {
    let mut words = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur
                .get_or_insert_with(|| (String::new(), base + i))
                .0
                .push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.get_or_insert_with(|| (String::new(), base + i));
            }
            (None, c) if c.is_whitespace() => words.extend(cur.take()),
            (None, c) => cur
                .get_or_insert_with(|| (String::new(), base + i))
                .0
                .push(c),
        }
    }
    words.extend(cur);
    words
}

/// The words of a variable's value, located in `text` between `from` and `to` (each searched
/// after the previous one; one not found there, e.g. written with escapes, is placed at `from`).
fn locate_words(value: &str, shown: &str, text: &str, from: usize, to: usize) -> Vec<Word> {
    let mut cursor = from;
    split_command_line(value)
        .into_iter()
        .map(|w| {
            let found = text
                .get(cursor..to)
                .and_then(|rest| rest.find(w.as_str()))
                .map(|i| cursor + i);
            if let Some(i) = found {
                cursor = i + w.len();
            }
            let origin = origin_at(shown, text, found.unwrap_or(from));
            (w, Some(origin))
        })
        .collect()
}

/// Where byte `offset` of `text` is: its line, column (in characters, 1-based) and line text.
fn origin_at(shown: &str, text: &str, offset: usize) -> rancher::Origin {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    rancher::Origin {
        file: shown.to_owned(),
        line: u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX),
        column: u32::try_from(text[line_start..offset].chars().count() + 1).unwrap_or(u32::MAX),
        text: text[line_start..line_end].trim_end_matches('\r').to_owned(),
    }
}

/// The variables of an environment file (`KEY=value` lines; `#` comments), each value's words
/// located in the file.
fn env_file_words(shown: &str, text: &str) -> BTreeMap<String, Vec<Word>> {
    let mut out = BTreeMap::new();
    for (at, line) in lines_at(text) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        let Some((k, v)) = trimmed.split_once('=') else {
            continue;
        };
        let value_at = at + (line.len() - trimmed.len()) + k.len() + 1;
        let value = v.trim().trim_matches('"');
        let words = locate_words(value, shown, text, value_at, at + line.len());
        out.insert(k.trim().to_owned(), words);
    }
    out
}

/// A command line given as an argument (`--apiserver-flags "--a=b --c=d"`) as a scan input whose
/// words are located in the argument itself (line 1, the column of the word in `given`), under
/// the name `name`. `binary` is added first when `given` starts with a flag.
pub fn command_line_argument(name: &str, given: &str, binary: &str) -> Input {
    let at = |offset: usize| rancher::Origin {
        file: name.to_owned(),
        line: 1,
        column: u32::try_from(given[..offset].chars().count() + 1).unwrap_or(u32::MAX),
        text: given.to_owned(),
    };
    let mut words: Vec<Word> = Vec::new();
    let split = split_at(given, 0);
    if split.first().is_none_or(|(w, _)| w.starts_with('-')) {
        words.push((binary.to_owned(), Some(at(0))));
    }
    words.extend(split.into_iter().map(|(w, o)| (w, Some(at(o)))));
    rancher::command_line_with_origins(name, &words)
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
    fn component_units_and_a_missing_kubelet_config() {
        let root = tempfile::tempdir().unwrap();
        let write = |p: &str, text: &str| {
            let path = under(root.path(), p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "/etc/systemd/system/kube-apiserver.service",
            "[Service]\nEnvironmentFile=/etc/default/kube-apiserver\nExecStart=/usr/local/bin/kube-apiserver \\\n  --anonymous-auth=true \\\n  $KUBE_ARGS --etcd-servers=${ETCD}\n",
        );
        write(
            "/etc/default/kube-apiserver",
            "KUBE_ARGS=\"--profiling=false --secure-port=6443\"\nETCD=https://127.0.0.1:2379\n",
        );
        write(
            "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n",
        );
        let ev = gather(root.path());
        let (words, unit) = unit_command_line(
            root.path(),
            &mut NodeEvidence::default(),
            "kube-apiserver",
            None,
        )
        .unwrap();
        assert_eq!(unit, "/etc/systemd/system/kube-apiserver.service");
        let words: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            words,
            [
                "/usr/local/bin/kube-apiserver",
                "--anonymous-auth=true",
                "--profiling=false",
                "--secure-port=6443",
                "--etcd-servers=https://127.0.0.1:2379"
            ]
        );
        assert!(
            ev.read
                .contains(&"/etc/systemd/system/kube-apiserver.service".to_owned())
        );
        let d = ev
            .diagnostics
            .iter()
            .find(|d| d.message.contains("--config=/var/lib/kubelet/config.yaml"))
            .unwrap();
        assert!(d.message.contains(": not found;"), "{}", d.message);
        assert_eq!(
            ev.unreadable[0],
            (
                crate::meta::Evidence::KubeletConfig,
                "kubelet `--config=/var/lib/kubelet/config.yaml` not found on the node".to_owned()
            )
        );
    }

    #[test]
    fn env_files_and_command_lines() {
        let e = env_file_words(
            "kubeadm-flags.env",
            "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --v=2\"\n",
        );
        let words: Vec<(&str, u32, u32)> = e["KUBELET_KUBEADM_ARGS"]
            .iter()
            .map(|(w, o)| {
                let o = o.as_ref().unwrap();
                (w.as_str(), o.line, o.column)
            })
            .collect();
        assert_eq!(
            words,
            [
                (
                    "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
                    2,
                    23
                ),
                ("--v=2", 2, 91)
            ]
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
