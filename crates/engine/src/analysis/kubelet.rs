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
}

pub const ANONYMOUS_AUTH: Setting = Setting {
    flag: "anonymous-auth",
    field: "/authentication/anonymous/enabled",
    config_default: Some("false"),
    flag_default: Some("true"),
};
pub const AUTHORIZATION_MODE: Setting = Setting {
    flag: "authorization-mode",
    field: "/authorization/mode",
    config_default: Some("Webhook"),
    flag_default: Some("AlwaysAllow"),
};
pub const READ_ONLY_PORT: Setting = Setting {
    flag: "read-only-port",
    field: "/readOnlyPort",
    config_default: Some("0"),
    flag_default: Some("10255"),
};
pub const CLIENT_CA_FILE: Setting = Setting {
    flag: "client-ca-file",
    field: "/authentication/x509/clientCAFile",
    config_default: None,
    flag_default: None,
};
pub const MAKE_IPTABLES_UTIL_CHAINS: Setting = Setting {
    flag: "make-iptables-util-chains",
    field: "/makeIPTablesUtilChains",
    config_default: Some("true"),
    flag_default: Some("true"),
};
pub const ROTATE_CERTIFICATES: Setting = Setting {
    flag: "rotate-certificates",
    field: "/rotateCertificates",
    config_default: Some("false"),
    flag_default: Some("false"),
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

/// One kubelet: its command line (if in the input) and the config files it reads that are in
/// the input, in the order the kubelet applies them.
#[derive(Debug)]
pub struct Kubelet<'a> {
    pub command_line: Option<(&'a Object, ComponentFlags)>,
    pub configs: Vec<&'a Object>,
    /// The command line names a `--config` file that is not in the input: what it sets is
    /// unknown.
    pub config_missing: bool,
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
        || (matches!(
            o.kind.as_str(),
            "Pod" | "ClusterConfiguration" | "CommandLine"
        ) && !flags.is_empty())
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
    let configs: Vec<&Object> = objects.iter().filter(|o| is_config(o)).collect();
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
                let origin = |i: usize| configs[i].source.name.as_str();
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
            let config_missing = config.as_deref().is_some_and(|path| {
                !mine.iter().any(|&i| at_path(&configs[i].source.name, path))
                    && !mine
                        .iter()
                        .any(|&i| configs[i].source.name == o.source.name)
            });
            for &i in &mine {
                paired[i] = true;
            }
            out.push(Kubelet {
                command_line: Some((o, flags)),
                configs: mine.iter().map(|&i| configs[i]).collect(),
                config_missing,
            });
        }
    }
    for (i, c) in configs.iter().enumerate() {
        if !paired[i] {
            out.push(Kubelet {
                command_line: None,
                configs: vec![c],
                config_missing: false,
            });
        }
    }
    out
}

/// A config field's value as text (`true`, `10255`, `Webhook`); None when unset or null.
fn field_text(n: &Node) -> Option<String> {
    if n.is_null() {
        return None;
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
    /// The value of `s` in effect, or None when it cannot be known from the input (a `--config`
    /// file that is not in the input, and no flag).
    pub fn effective(&self, s: &Setting) -> Option<Effective<'a>> {
        let from_config = || {
            self.configs.iter().rev().find_map(|c| {
                c.root
                    .pointer(s.field)
                    .and_then(field_text)
                    .map(|v| (v, *c))
            })
        };
        if let Some((o, flags)) = &self.command_line {
            if let Some(f) = flags.get(s.flag) {
                return Some(Effective {
                    value: Some(f.value.clone()),
                    from: From::Flag,
                    object: o,
                    pointer: flags.pointer(s.flag),
                    overrides: from_config()
                        .filter(|(v, _)| *v != f.value)
                        .map(|(v, c)| (v, c.source.name.clone())),
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
                object: c,
                pointer: s.field.to_owned(),
                overrides: None,
            });
        }
        if self.config_missing {
            return None;
        }
        let last = self.configs.last()?;
        Some(Effective {
            value: s.config_default.map(str::to_owned),
            from: From::ConfigDefault,
            object: last,
            pointer: s.field.to_owned(),
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
