//! k3s and RKE2: the server/agent configuration (`/etc/rancher/{k3s,rke2}/config.yaml` and the
//! drop-ins `config.yaml.d/*.yaml`) as component command lines.
//!
//! Merging, as the k3s docs state it (`docs/installation/configuration.md`, "Multiple Config
//! Files"): the files are read in that order (drop-ins alphabetically), the last value of a key
//! wins, and a key written with a `+` suffix (`kubelet-arg+:`) appends to the value so far
//! instead of replacing it. `*-arg` lists are `flag=value` strings (a leading `--` is allowed).
//!
//! Each component becomes a `CommandLine` document ([`command_line_with_origins`]): the
//! distribution's defaults (see `docs/controlplane.md` for their sources), then the first-class
//! keys that set a component flag, then the `*-arg` entries, so that the existing flag parser
//! reads them and, like Go's flag package, the last occurrence wins. Each word records the file,
//! line and column it was written at, and findings point there.

use super::{NodeEvidence, under};
use crate::source::{DiagLevel, Diagnostic};
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Where a word was written.
#[derive(Clone, Debug)]
pub(super) struct Origin {
    pub(super) file: String,
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) text: String,
}

/// One value of a key, and where it was written.
#[derive(Clone, Debug)]
struct Written {
    text: String,
    origin: Origin,
}

/// The merged configuration: per key, its values and where the key was (last) written.
#[derive(Debug, Default)]
struct Merged {
    keys: BTreeMap<String, (Vec<Written>, Origin)>,
    /// The first file read, for findings about keys that are not written anywhere.
    first: Option<Origin>,
}

impl Merged {
    fn values(&self, key: &str) -> &[Written] {
        self.keys.get(key).map_or(&[], |(v, _)| v)
    }
    fn last(&self, key: &str) -> Option<&Written> {
        self.values(key).last()
    }
    fn is_true(&self, key: &str) -> bool {
        self.last(key)
            .is_some_and(|w| crate::analysis::control_plane::parse_go_bool(&w.text) == Some(true))
    }
}

#[derive(Clone, Copy)]
struct Distribution {
    name: &'static str,
    config: &'static str,
    data_dir: &'static str,
}

const DISTRIBUTIONS: &[Distribution] = &[
    Distribution {
        name: "k3s",
        config: "/etc/rancher/k3s/config.yaml",
        data_dir: "/var/lib/rancher/k3s",
    },
    Distribution {
        name: "rke2",
        config: "/etc/rancher/rke2/config.yaml",
        data_dir: "/var/lib/rancher/rke2",
    },
];

/// The flags k3s's `pkg/daemons/control/server.go` always passes (RKE2 runs the same code and
/// writes the result into its static Pods, `pkg/podexecutor/staticpod.go`); `{data}` is the data
/// directory. Only flags that some rule judges, with fixed values.
const APISERVER_DEFAULTS: &[(&str, &str)] = &[
    ("anonymous-auth", "false"),
    ("authorization-mode", "Node,RBAC"),
    ("bind-address", "127.0.0.1"),
    ("profiling", "false"),
    ("enable-admission-plugins", "NodeRestriction"),
    ("client-ca-file", "{data}/server/tls/client-ca.crt"),
    (
        "kubelet-certificate-authority",
        "{data}/server/tls/server-ca.crt",
    ),
    (
        "kubelet-client-certificate",
        "{data}/server/tls/client-kube-apiserver.crt",
    ),
    (
        "kubelet-client-key",
        "{data}/server/tls/client-kube-apiserver.key",
    ),
    (
        "tls-cert-file",
        "{data}/server/tls/serving-kube-apiserver.crt",
    ),
    (
        "tls-private-key-file",
        "{data}/server/tls/serving-kube-apiserver.key",
    ),
    ("service-account-key-file", "{data}/server/tls/service.key"),
    (
        "service-account-signing-key-file",
        "{data}/server/tls/service.current.key",
    ),
];
/// The API server's etcd client flags with k3s's embedded etcd.
const ETCD_CLIENT_DEFAULTS: &[(&str, &str)] = &[
    ("etcd-cafile", "{data}/server/tls/etcd/server-ca.crt"),
    ("etcd-certfile", "{data}/server/tls/etcd/client.crt"),
    ("etcd-keyfile", "{data}/server/tls/etcd/client.key"),
];
const CONTROLLER_MANAGER_DEFAULTS: &[(&str, &str)] = &[
    ("profiling", "false"),
    ("bind-address", "127.0.0.1"),
    ("use-service-account-credentials", "true"),
    ("root-ca-file", "{data}/server/tls/server-ca.crt"),
    (
        "service-account-private-key-file",
        "{data}/server/tls/service.key",
    ),
];
const SCHEDULER_DEFAULTS: &[(&str, &str)] =
    &[("profiling", "false"), ("bind-address", "127.0.0.1")];
/// The kubelet flags of k3s's `pkg/daemons/agent` (`kubeletArgs`) before v1.32; from v1.32 they
/// are a config file in `agent/etc/kubelet.conf.d/` instead (k3s docs, "Kubelet configuration").
const KUBELET_DEFAULTS: &[(&str, &str)] = &[
    ("anonymous-auth", "false"),
    ("authorization-mode", "Webhook"),
    ("authentication-token-webhook", "true"),
    ("read-only-port", "0"),
    ("client-ca-file", "{data}/agent/client-ca.crt"),
];

/// Keys only a server has: their presence makes the node a server.
const SERVER_KEYS: &[&str] = &[
    "kube-apiserver-arg",
    "kube-controller-manager-arg",
    "kube-scheduler-arg",
    "cluster-init",
    "secrets-encryption",
    "datastore-endpoint",
];

/// Reads the merged config files of one distribution; None when there are none.
fn read_merged(root: &Path, d: &Distribution, ev: &mut NodeEvidence) -> Option<Merged> {
    let mut files: Vec<String> = Vec::new();
    if under(root, d.config).is_file() {
        files.push(d.config.to_owned());
    }
    let drop_ins = format!("{}.d", d.config);
    for p in super::sorted_entries(&under(root, &drop_ins)) {
        if let Some(name) = p.file_name().and_then(|n| n.to_str())
            && name.ends_with(".yaml")
            && p.is_file()
        {
            files.push(format!("{drop_ins}/{name}"));
        }
    }
    if files.is_empty() {
        return None;
    }
    let mut merged = Merged::default();
    for file in &files {
        let path = under(root, file);
        let shown = path.display().to_string();
        ev.read.push(file.clone());
        let Ok(text) = std::fs::read_to_string(&path) else {
            ev.diagnostics.push(Diagnostic::new(
                DiagLevel::Warning,
                &shown,
                None,
                "not readable as UTF-8 text",
            ));
            continue;
        };
        let origin = |pos: crate::yaml::Pos| Origin {
            file: shown.clone(),
            line: pos.line,
            column: pos.col,
            text: text
                .lines()
                .nth(pos.line.saturating_sub(1) as usize)
                .unwrap_or("")
                .to_owned(),
        };
        merged
            .first
            .get_or_insert_with(|| origin(crate::yaml::Pos { line: 1, col: 1 }));
        let root_node = match crate::yaml::parse_stream(&text).into_iter().next() {
            Some(Ok(doc)) => doc.root,
            Some(Err(e)) => {
                ev.diagnostics.push(Diagnostic::new(
                    DiagLevel::Warning,
                    &shown,
                    Some(e.pos),
                    format!("invalid YAML, not read: {}", e.message),
                ));
                continue;
            }
            None => None,
        };
        let Some(map) = root_node.filter(Node::is_map) else {
            continue;
        };
        for e in map.effective_entries() {
            let (key, append) = match e.key.strip_suffix('+') {
                Some(k) => (k.to_owned(), true),
                None => (e.key.to_string(), false),
            };
            let scalar = |n: &Node| {
                n.text().filter(|_| !n.is_null()).map(|t| Written {
                    text: t.to_owned(),
                    origin: origin(n.pos),
                })
            };
            let values: Vec<Written> = match &e.value.value {
                Value::Seq(items) => items.iter().filter_map(scalar).collect(),
                _ => scalar(&e.value).into_iter().collect(),
            };
            let slot = merged
                .keys
                .entry(key)
                .or_insert_with(|| (Vec::new(), origin(e.key_pos)));
            slot.1 = origin(e.key_pos);
            if append {
                slot.0.extend(values);
            } else {
                slot.0 = values;
            }
        }
    }
    Some(merged)
}

/// A word of a command line and where it was written (None: a distribution default).
pub(super) type Word = (String, Option<Origin>);

fn defaults(list: &[(&str, &str)], data_dir: &str) -> Vec<Word> {
    list.iter()
        .map(|(n, v)| (format!("--{n}={}", v.replace("{data}", data_dir)), None))
        .collect()
}

/// `flag=value` entries of a `*-arg` key as flags.
fn args(merged: &Merged, key: &str) -> Vec<Word> {
    merged
        .values(key)
        .iter()
        .map(|w| {
            let body = w.text.trim_start_matches('-');
            (format!("--{body}"), Some(w.origin.clone()))
        })
        .collect()
}

/// Reads the k3s and RKE2 configuration under `root` into component command lines.
pub(super) fn gather(root: &Path, ev: &mut NodeEvidence) {
    for d in DISTRIBUTIONS {
        let Some(merged) = read_merged(root, d, ev) else {
            continue;
        };
        let server = under(root, &format!("{}/server", d.data_dir)).is_dir()
            || SERVER_KEYS.iter().any(|k| merged.keys.contains_key(*k));
        let manifests = format!("{}/agent/pod-manifests", d.data_dir);
        let anchor = |key: &str| -> Option<Origin> {
            merged
                .keys
                .get(key)
                .map(|(_, o)| o.clone())
                .or_else(|| merged.first.clone())
        };
        type Component<'a> = (&'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);
        let components: [Component; 3] = [
            (
                "kube-apiserver",
                "kube-apiserver-arg",
                "disable-apiserver",
                APISERVER_DEFAULTS,
            ),
            (
                "kube-controller-manager",
                "kube-controller-manager-arg",
                "disable-controller-manager",
                CONTROLLER_MANAGER_DEFAULTS,
            ),
            (
                "kube-scheduler",
                "kube-scheduler-arg",
                "disable-scheduler",
                SCHEDULER_DEFAULTS,
            ),
        ];
        for (binary, key, disable, component_defaults) in components {
            if !server || merged.is_true(disable) {
                continue;
            }
            // RKE2 writes the component's effective command line into a static Pod, read as is.
            if super::MANIFEST_EXTENSIONS
                .iter()
                .any(|e| under(root, &format!("{manifests}/{binary}{e}")).is_file())
            {
                continue;
            }
            let mut words: Vec<Word> = vec![(binary.to_owned(), anchor(key))];
            words.extend(defaults(component_defaults, d.data_dir));
            if binary == "kube-apiserver" {
                // Embedded etcd (`cluster-init`, or its data directory on the node): the etcd
                // client certificates k3s passes (as in the k3s CIS self-assessment's command
                // line). SQLite (kine) and external datastores take `datastore-*file` instead.
                if merged.is_true("cluster-init")
                    || under(root, &format!("{}/server/db/etcd", d.data_dir)).is_dir()
                {
                    words.extend(defaults(ETCD_CLIENT_DEFAULTS, d.data_dir));
                }
                words.extend(apiserver_keys(&merged, d));
            }
            words.extend(args(&merged, key));
            let name = format!("{} ({binary})", d.config);
            if binary == "kube-apiserver" {
                follow_files(root, &words, &name, ev);
            }
            ev.inputs.push(command_line_with_origins(&name, &words));
        }
        // The kubelet runs on servers and agents.
        let mut words: Vec<Word> = vec![("kubelet".to_owned(), anchor("kubelet-arg"))];
        let conf_d = format!("{}/agent/etc/kubelet.conf.d", d.data_dir);
        if under(root, &conf_d).is_dir() {
            // v1.32+: the defaults are a config file there (read with the other kubelet configs).
            words.push((format!("--config-dir={conf_d}"), None));
        } else {
            words.extend(defaults(KUBELET_DEFAULTS, d.data_dir));
        }
        if let Some(w) = merged.last("protect-kernel-defaults")
            && merged.is_true("protect-kernel-defaults")
        {
            words.push((
                "--protect-kernel-defaults=true".to_owned(),
                Some(w.origin.clone()),
            ));
        }
        words.extend(args(&merged, "kubelet-arg"));
        ev.inputs.push(command_line_with_origins(
            &format!("{} (kubelet)", d.config),
            &words,
        ));
    }
}

/// First-class keys that set API server flags.
fn apiserver_keys(merged: &Merged, d: &Distribution) -> Vec<Word> {
    let mut words = Vec::new();
    // k3s `server.go`: `EncryptSecrets` adds the generated EncryptionConfiguration.
    if merged.is_true("secrets-encryption") {
        let w = merged.last("secrets-encryption").expect("is_true");
        words.push((
            format!(
                "--encryption-provider-config={}/server/cred/encryption-config.json",
                d.data_dir
            ),
            Some(w.origin.clone()),
        ));
    }
    // k3s `server.go` `setupStorageBackend`: the datastore's TLS files are the etcd client's.
    for (key, flag) in [
        ("datastore-cafile", "etcd-cafile"),
        ("datastore-certfile", "etcd-certfile"),
        ("datastore-keyfile", "etcd-keyfile"),
    ] {
        if let Some(w) = merged.last(key) {
            words.push((format!("--{flag}={}", w.text), Some(w.origin.clone())));
        }
    }
    // RKE2 `staticpod.go`: an audit policy file comes with a log and its retention.
    if d.name == "rke2"
        && let Some(w) = merged.last("audit-policy-file")
    {
        let o = Some(w.origin.clone());
        words.push((format!("--audit-policy-file={}", w.text), o.clone()));
        for (n, v) in [
            ("audit-log-maxage", "30"),
            ("audit-log-maxbackup", "10"),
            ("audit-log-maxsize", "100"),
        ] {
            words.push((format!("--{n}={v}"), o.clone()));
        }
        words.push((
            format!("--audit-log-path={}/server/logs/audit.log", d.data_dir),
            o,
        ));
    }
    words
}

/// The files the API server's flags name, as inputs when they are on the node.
fn follow_files(root: &Path, words: &[Word], name: &str, ev: &mut NodeEvidence) {
    let line: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
    let Some(flags) = crate::analysis::control_plane::flags_from_command_line(&line.join(" "))
    else {
        return;
    };
    for flag in super::FOLLOWED_FLAGS {
        let Some(f) = flags.get(flag) else { continue };
        if f.value.is_empty() || ev.read.contains(&f.value) {
            continue;
        }
        if under(root, &f.value).is_file() {
            ev.manifest(root, &f.value);
        } else {
            ev.diagnostics.push(Diagnostic::new(
                DiagLevel::Warning,
                name,
                None,
                format!(
                    "`--{flag}={}` names a file that is not on this node (under {})",
                    f.value,
                    root.display()
                ),
            ));
        }
    }
}

/// A command line as a scan input whose words record where they were written (`origins`, see
/// `analysis::control_plane::written_at`); named after its binary (`/usr/bin/kubelet`: `kubelet`).
pub(super) fn command_line_with_origins(name: &str, words: &[Word]) -> crate::load::Input {
    let json = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let binary = words.first().map_or("", |w| w.0.as_str());
    let mut doc = format!(
        "apiVersion: kubeharden.io/v1alpha1\nkind: CommandLine\nmetadata:\n  name: {}\ncommand:\n",
        json(binary.rsplit('/').next().unwrap_or(binary))
    );
    for (w, _) in words {
        doc.push_str(&format!("- {}\n", json(w)));
    }
    doc.push_str("origins:\n");
    for (_, o) in words {
        match o {
            Some(o) => doc.push_str(&format!(
                "- {{file: {}, line: {}, column: {}, text: {}}}\n",
                json(&o.file),
                o.line,
                o.column,
                json(&o.text)
            )),
            None => doc.push_str("- null\n"),
        }
    }
    crate::load::Input::Bytes {
        name: name.to_owned(),
        bytes: doc.into_bytes().into(),
    }
}
