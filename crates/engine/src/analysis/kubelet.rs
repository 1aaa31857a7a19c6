//! The kubelet's effective settings. A kubelet reads its `KubeletConfiguration` (`--config`, and
//! the drop-ins of `--config-dir` in lexical order, later files winning), then parses its command
//! line again on top: **a flag overrides the config file**. Unset settings take the config-file
//! defaults when a config file is used, else the (older, insecure) flag defaults
//! (`reference/controlplane.md` § 4, kubelet `options.go` `applyLegacyDefaults`).
//!
//! Evidence of one kubelet is split over objects: a command line (a `CommandLine` document, the
//! systemd `ExecStart`, a k3s/RKE2 `kubelet-arg` list) and its config files. [`kubelets`] pairs
//! them; [`Kubelet::effective`] says what value is in effect and which object and field it comes
//! from, so a finding points at the flag when the flag decides and at the config field otherwise.

use crate::analysis::control_plane::{Component, ComponentFlags, component_flags};
use crate::inventory::Object;
use crate::yaml::Node;

/// One kubelet setting: its flag, its KubeletConfiguration field and both defaults.
#[derive(Clone, Copy, Debug)]
pub struct Setting {
    pub flag: &'static str,
    /// JSON pointer of the field in a KubeletConfiguration.
    pub field: &'static str,
    /// The value when a config file is used and neither it nor a flag sets it.
    pub config_default: Option<&'static str>,
    /// The value when no config file is used and no flag sets it.
    pub flag_default: Option<&'static str>,
    /// The value in the config file kubeadm writes (kubeadm and kind nodes) when the input does
    /// not set it (kubeadm's `componentconfigs/kubelet.go` defaults); None: `config_default`.
    pub kubeadm_default: Option<&'static str>,
}

pub const ANONYMOUS_AUTH: Setting = Setting {
    flag: "anonymous-auth",
    field: "/authentication/anonymous/enabled",
    config_default: Some("false"),
    flag_default: Some("true"),
    kubeadm_default: None,
};
pub const AUTHORIZATION_MODE: Setting = Setting {
    flag: "authorization-mode",
    field: "/authorization/mode",
    config_default: Some("Webhook"),
    flag_default: Some("AlwaysAllow"),
    kubeadm_default: None,
};
pub const READ_ONLY_PORT: Setting = Setting {
    flag: "read-only-port",
    field: "/readOnlyPort",
    config_default: Some("0"),
    flag_default: Some("10255"),
    kubeadm_default: None,
};
pub const CLIENT_CA_FILE: Setting = Setting {
    flag: "client-ca-file",
    field: "/authentication/x509/clientCAFile",
    config_default: None,
    flag_default: None,
    kubeadm_default: Some("/etc/kubernetes/pki/ca.crt"),
};
pub const MAKE_IPTABLES_UTIL_CHAINS: Setting = Setting {
    flag: "make-iptables-util-chains",
    field: "/makeIPTablesUtilChains",
    config_default: Some("true"),
    flag_default: Some("true"),
    kubeadm_default: None,
};
pub const ROTATE_CERTIFICATES: Setting = Setting {
    flag: "rotate-certificates",
    field: "/rotateCertificates",
    config_default: Some("false"),
    flag_default: Some("false"),
    kubeadm_default: Some("true"),
};

pub const STREAMING_CONNECTION_IDLE_TIMEOUT: Setting = Setting {
    flag: "streaming-connection-idle-timeout",
    field: "/streamingConnectionIdleTimeout",
    config_default: Some("4h0m0s"),
    flag_default: Some("4h0m0s"),
    kubeadm_default: None,
};
pub const EVENT_QPS: Setting = Setting {
    flag: "event-qps",
    field: "/eventRecordQPS",
    config_default: Some("50"),
    flag_default: Some("50"),
    kubeadm_default: None,
};
pub const TLS_CERT_FILE: Setting = Setting {
    flag: "tls-cert-file",
    field: "/tlsCertFile",
    config_default: None,
    flag_default: None,
    kubeadm_default: None,
};
pub const TLS_PRIVATE_KEY_FILE: Setting = Setting {
    flag: "tls-private-key-file",
    field: "/tlsPrivateKeyFile",
    config_default: None,
    flag_default: None,
    kubeadm_default: None,
};
/// `serverTLSBootstrap`: the kubelet requests its serving certificate from the cluster's CA
/// (and renews it), instead of a self-signed one.
pub const SERVER_TLS_BOOTSTRAP: Setting = Setting {
    flag: "rotate-server-certificates",
    field: "/serverTLSBootstrap",
    config_default: Some("false"),
    flag_default: Some("false"),
    kubeadm_default: None,
};
pub const TLS_CIPHER_SUITES: Setting = Setting {
    flag: "tls-cipher-suites",
    field: "/tlsCipherSuites",
    config_default: None,
    flag_default: None,
    kubeadm_default: None,
};
pub const POD_PIDS_LIMIT: Setting = Setting {
    flag: "pod-max-pids",
    field: "/podPidsLimit",
    config_default: Some("-1"),
    flag_default: Some("-1"),
    kubeadm_default: None,
};
pub const SECCOMP_DEFAULT: Setting = Setting {
    flag: "seccomp-default",
    field: "/seccompDefault",
    config_default: Some("false"),
    flag_default: Some("false"),
    kubeadm_default: None,
};
pub const PROTECT_KERNEL_DEFAULTS: Setting = Setting {
    flag: "protect-kernel-defaults",
    field: "/protectKernelDefaults",
    config_default: Some("false"),
    flag_default: Some("false"),
    kubeadm_default: None,
};
/// The `RotateKubeletServerCertificate` feature gate (`--feature-gates` is a list: read with
/// [`Kubelet::feature_gate`]).
pub const ROTATE_SERVER_CERTIFICATE_GATE: Setting = Setting {
    flag: "feature-gates",
    field: "/featureGates/RotateKubeletServerCertificate",
    config_default: Some("true"),
    flag_default: Some("true"),
    kubeadm_default: None,
};

/// Where an effective value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum From {
    /// A command-line flag (overrides any config file).
    Flag,
    /// A KubeletConfiguration field.
    Config,
    /// Unset; a config file is used, so the config-file default applies.
    ConfigDefault,
    /// Unset; no config file is used, so the flag default applies.
    FlagDefault,
}

/// The value of a setting in effect, and where to point a finding about it.
#[derive(Debug)]
pub struct Effective<'a> {
    /// The value as text (`None`: unset and without a default).
    pub value: Option<String>,
    pub from: From,
    /// The object holding the value (or where it belongs): the command line or a config file.
    pub object: &'a Object,
    /// The flag, the field, or where the missing setting belongs.
    pub pointer: String,
    /// For a flag: the config-file value it overrides, and the file's name.
    pub overrides: Option<(String, String)>,
}

impl Effective<'_> {
    /// `" (overriding `field: value` in FILE)"` when a flag overrides a config field, else "".
    pub fn override_note(&self, s: &Setting) -> String {
        match &self.overrides {
            Some((value, file)) => format!(
                " (overriding `{}: {value}` in {file})",
                s.field.trim_start_matches('/').replace('/', ".")
            ),
            None => String::new(),
        }
    }
}

/// One KubeletConfiguration: a document of its own, or a kind `Cluster`'s
/// `kubeadmConfigPatches` entry (`prefix` is then the patch's pointer in the Cluster object).
#[derive(Debug, Clone)]
pub struct ConfigDoc<'a> {
    pub object: &'a Object,
    pub root: std::borrow::Cow<'a, Node>,
    pub prefix: String,
}

/// One kubelet: its command line (if in the input) and the config files it reads that are in
/// the input, in the order the kubelet applies them.
#[derive(Debug)]
pub struct Kubelet<'a> {
    pub command_line: Option<(&'a Object, ComponentFlags)>,
    pub configs: Vec<ConfigDoc<'a>>,
    /// The command line names a `--config` file that is not in the input: what it sets is
    /// unknown.
    pub config_missing: bool,
    /// The config file is written by kubeadm (a kubeadm or kind node): it exists, with kubeadm's
    /// defaults under what the input's KubeletConfigurations set.
    pub config_generated: bool,
}

/// Is `o` a KubeletConfiguration?
pub fn is_config(o: &Object) -> bool {
    o.kind == "KubeletConfiguration" && o.group() == "kubelet.config.k8s.io"
}

/// Objects the kubelet's semantics need across objects (kept after phase 1 of the scan): the
/// KubeletConfigurations and the objects that carry component flags (`flags`, the object's
/// [`component_flags`]).
pub fn retained(o: &Object, flags: &[ComponentFlags]) -> bool {
    is_config(o)
        || !flags.is_empty()
        || !crate::analysis::control_plane::kube_proxy_configs(o).is_empty()
        || !kind_configs(o).is_empty()
}

/// The KubeletConfiguration patches of a kind `Cluster`.
fn kind_configs(o: &Object) -> Vec<ConfigDoc<'_>> {
    crate::analysis::control_plane::kind_patches(o)
        .into_iter()
        .filter(|(_, kind, _)| kind == "KubeletConfiguration")
        .map(|(prefix, _, root)| ConfigDoc {
            object: o,
            root: std::borrow::Cow::Owned(root),
            prefix,
        })
        .collect()
}

/// Does the config file named `origin` (an input's name: a path, maybe under `--root`) sit at
/// the node path `path`?
fn at_path(origin: &str, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    !path.is_empty()
        && (origin == path
            || origin
                .strip_suffix(path.trim_start_matches('/'))
                .is_some_and(|rest| rest.ends_with('/')))
}

/// Is the config file named `origin` in the directory `dir`?
fn in_dir(origin: &str, dir: &str) -> bool {
    origin
        .rsplit_once('/')
        .is_some_and(|(parent, _)| at_path(parent, dir))
}

/// The kubelets of the input: each kubelet command line with the config files it reads (by the
/// path of `--config` / `--config-dir`, or being in the same input as the command line); the
/// config files no command line reads, each as a kubelet of its own.
pub fn kubelets(objects: &[Object]) -> Vec<Kubelet<'_>> {
    let configs: Vec<ConfigDoc<'_>> = objects
        .iter()
        .flat_map(|o| {
            if is_config(o) {
                vec![ConfigDoc {
                    object: o,
                    root: std::borrow::Cow::Borrowed(&o.root),
                    prefix: String::new(),
                }]
            } else {
                kind_configs(o)
            }
        })
        .collect();
    let mut paired = vec![false; configs.len()];
    let mut out = Vec::new();
    for o in objects {
        for flags in component_flags(o) {
            if flags.component != Component::Kubelet {
                continue;
            }
            let config = flags.get("config").map(|f| f.value.clone());
            let config_dir = flags.get("config-dir").map(|f| f.value.clone());
            let mut mine: Vec<usize> = Vec::new();
            if config.is_some() || config_dir.is_some() {
                let origin = |i: usize| configs[i].object.source.name.as_str();
                // `--config` first, then the drop-ins by name, then those of the same input.
                if let Some(path) = &config {
                    mine.extend((0..configs.len()).filter(|&i| at_path(origin(i), path)));
                }
                if let Some(dir) = &config_dir {
                    let mut drop_ins: Vec<usize> = (0..configs.len())
                        .filter(|&i| in_dir(origin(i), dir) && !mine.contains(&i))
                        .collect();
                    drop_ins.sort_by_key(|&i| origin(i));
                    mine.extend(drop_ins);
                }
                let same_input: Vec<usize> = (0..configs.len())
                    .filter(|&i| origin(i) == o.source.name && !mine.contains(&i))
                    .collect();
                mine.extend(same_input);
            }
            let config_generated = flags.kubeadm_managed();
            let config_missing = !config_generated
                && config.as_deref().is_some_and(|path| {
                    !mine
                        .iter()
                        .any(|&i| at_path(&configs[i].object.source.name, path))
                        && !mine
                            .iter()
                            .any(|&i| configs[i].object.source.name == o.source.name)
                });
            for &i in &mine {
                paired[i] = true;
            }
            out.push(Kubelet {
                command_line: Some((o, flags)),
                configs: mine.iter().map(|&i| configs[i].clone()).collect(),
                config_missing,
                config_generated,
            });
        }
    }
    for (i, c) in configs.into_iter().enumerate() {
        if !paired[i] {
            out.push(Kubelet {
                command_line: None,
                configs: vec![c],
                config_missing: false,
                config_generated: false,
            });
        }
    }
    out
}

/// A config field's value as text (`true`, `10255`, `Webhook`; a list joined with commas, as
/// the flag writes it); None when unset or null.
fn field_text(n: &Node) -> Option<String> {
    if n.is_null() {
        return None;
    }
    if n.is_seq() {
        let items: Vec<&str> = n.items().iter().filter_map(Node::text).collect();
        return Some(items.join(","));
    }
    if let Some(b) = n.as_bool() {
        return Some(b.to_string());
    }
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    n.text().map(str::to_owned)
}

impl<'a> Kubelet<'a> {
    /// The value of a feature gate: `--feature-gates=Name=bool,…` when the flag names it, else
    /// the config file's `featureGates` (see [`ROTATE_SERVER_CERTIFICATE_GATE`]).
    pub fn feature_gate(&self, s: &Setting) -> Option<Effective<'a>> {
        let gate = s.field.rsplit('/').next().unwrap_or_default();
        if let Some((o, flags)) = &self.command_line
            && let Some(value) = flags
                .list(s.flag)
                .iter()
                .rev()
                .find_map(|kv| kv.strip_prefix(gate)?.strip_prefix('=').map(str::to_owned))
        {
            return Some(Effective {
                value: Some(value),
                from: From::Flag,
                object: o,
                pointer: flags.pointer(s.flag),
                overrides: None,
            });
        }
        let without_flag = Kubelet {
            command_line: self.command_line.as_ref().map(|(o, f)| {
                let mut f = f.clone();
                f.flags.retain(|x| x.name != s.flag);
                (*o, f)
            }),
            configs: self.configs.clone(),
            config_missing: self.config_missing,
            config_generated: self.config_generated,
        };
        without_flag.effective(s)
    }

    /// The value of `s` in effect, or None when it cannot be known from the input (a `--config`
    /// file that is not in the input, and no flag).
    pub fn effective(&self, s: &Setting) -> Option<Effective<'a>> {
        let from_config = || {
            self.configs
                .iter()
                .rev()
                .find_map(|c| c.root.pointer(s.field).and_then(field_text).map(|v| (v, c)))
        };
        if let Some((o, flags)) = &self.command_line {
            if let Some(f) = flags.get_written(s.flag) {
                return Some(Effective {
                    value: Some(f.value.clone()),
                    from: From::Flag,
                    object: o,
                    pointer: flags.pointer(s.flag),
                    overrides: from_config()
                        .filter(|(v, _)| *v != f.value)
                        .map(|(v, c)| (v, c.object.source.name.clone())),
                });
            }
            if flags.get("config").is_none() && flags.get("config-dir").is_none() {
                return Some(Effective {
                    value: s.flag_default.map(str::to_owned),
                    from: From::FlagDefault,
                    object: o,
                    pointer: flags.anchor.clone(),
                    overrides: None,
                });
            }
        }
        if let Some((v, c)) = from_config() {
            return Some(Effective {
                value: Some(v),
                from: From::Config,
                object: c.object,
                pointer: format!("{}{}", c.prefix, s.field),
                overrides: None,
            });
        }
        if self.config_missing {
            return None;
        }
        let default = if self.config_generated {
            s.kubeadm_default.or(s.config_default)
        } else {
            s.config_default
        };
        let (object, pointer) = match self.configs.last() {
            Some(last) => (last.object, format!("{}{}", last.prefix, s.field)),
            // kubeadm's config file, not in the input: the kubelet's command line.
            None if self.config_generated => {
                let (o, flags) = self.command_line.as_ref()?;
                (*o, flags.anchor.clone())
            }
            None => return None,
        };
        Some(Effective {
            value: default.map(str::to_owned),
            from: From::ConfigDefault,
            object,
            pointer,
            overrides: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn objects(docs: &[(&str, &str)]) -> Vec<Object> {
        docs.iter()
            .flat_map(|(name, text)| load_bytes(name, text.as_bytes().to_vec()).objects)
            .collect()
    }

    const CMD: &str = "apiVersion: kubeharden.io/v1alpha1\nkind: CommandLine\nmetadata: {name: kubelet}\ncommand: [kubelet, --config=/var/lib/kubelet/config.yaml, --read-only-port=10255]\n";
    const CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\nauthorization: {mode: AlwaysAllow}\n";

    #[test]
    fn flags_override_the_config_file_found_by_path() {
        let o = objects(&[("unit", CMD), ("/root/var/lib/kubelet/config.yaml", CONFIG)]);
        let k = kubelets(&o);
        assert_eq!(k.len(), 1);
        let port = k[0].effective(&READ_ONLY_PORT).unwrap();
        assert_eq!(
            (port.value.as_deref(), port.from),
            (Some("10255"), From::Flag)
        );
        assert_eq!(port.pointer, "/command/2");
        assert_eq!(
            port.override_note(&READ_ONLY_PORT),
            " (overriding `readOnlyPort: 0` in /root/var/lib/kubelet/config.yaml)"
        );
        let mode = k[0].effective(&AUTHORIZATION_MODE).unwrap();
        assert_eq!(
            (mode.value.as_deref(), mode.from),
            (Some("AlwaysAllow"), From::Config)
        );
        let anon = k[0].effective(&ANONYMOUS_AUTH).unwrap();
        assert_eq!(
            (anon.value.as_deref(), anon.from),
            (Some("false"), From::ConfigDefault)
        );
    }

    #[test]
    fn unknown_config_and_flag_only_kubelets() {
        // `/var/lib/kubelet/config.yaml` is not `/etc/kubelet/config.yaml`: not paired.
        let o = objects(&[("unit", CMD), ("/etc/kubelet/config.yaml", CONFIG)]);
        let k = kubelets(&o);
        assert_eq!(k.len(), 2);
        assert!(k[0].config_missing);
        assert!(k[0].effective(&ANONYMOUS_AUTH).is_none());
        assert_eq!(k[1].configs.len(), 1);
        let flag_only = objects(&[(
            "x",
            "apiVersion: kubeharden.io/v1alpha1\nkind: CommandLine\ncommand: [kubelet]\n",
        )]);
        let k = kubelets(&flag_only);
        let anon = k[0].effective(&ANONYMOUS_AUTH).unwrap();
        assert_eq!(
            (anon.value.as_deref(), anon.from),
            (Some("true"), From::FlagDefault)
        );
        assert_eq!(k[0].effective(&CLIENT_CA_FILE).unwrap().value, None);
    }

    #[test]
    fn drop_ins_apply_in_name_order_after_the_config() {
        let o = objects(&[
            (
                "u",
                "apiVersion: kubeharden.io/v1alpha1\nkind: CommandLine\ncommand: [kubelet, --config-dir=/etc/k/conf.d]\n",
            ),
            (
                "/r/etc/k/conf.d/20-b.conf",
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n",
            ),
            (
                "/r/etc/k/conf.d/10-a.conf",
                "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\n",
            ),
        ]);
        let k = kubelets(&o);
        assert_eq!(k.len(), 1);
        let port = k[0].effective(&READ_ONLY_PORT).unwrap();
        assert_eq!(port.value.as_deref(), Some("10255"));
        assert_eq!(port.object.source.name, "/r/etc/k/conf.d/20-b.conf");
    }
}
