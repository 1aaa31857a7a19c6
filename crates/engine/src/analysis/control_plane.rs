//! Control-plane evidence: component flags (static Pods, kubeadm ClusterConfiguration), audit Policy
//! evaluation, EncryptionConfiguration, KubeletConfiguration. Semantics and defaults:
//! `reference/controlplane.md` (kube-apiserver, kubelet and kube-bench sources).

use crate::inventory::Object;
use crate::yaml::Node;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
    Kubelet,
    /// kube-proxy (a DaemonSet, a static Pod or a systemd unit on each node; CIS 4.1.3, 4.1.4,
    /// 4.3.1).
    Proxy,
}

impl Component {
    pub fn binary(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::Proxy => "kube-proxy",
        }
    }

    /// The component an image runs (`registry.k8s.io/kube-apiserver:v1.31.2`,
    /// `quay.io/coreos/etcd:v3.5.15`, `…/kube-apiserver-amd64:v1.20.0`): the last path segment of
    /// the repository, without tag, digest or architecture suffix.
    fn from_image(image: &str) -> Option<Component> {
        let repo = image.split('@').next()?;
        let last = repo.rsplit('/').next()?;
        let name = last.split(':').next()?;
        let name = ["-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        Component::from_name(name)
    }

    /// A component by its exact name (a container's name, an image's name).
    fn from_name(name: &str) -> Option<Component> {
        (!name.contains('/'))
            .then(|| Component::from_binary(name))
            .flatten()
    }

    fn from_binary(path: &str) -> Option<Component> {
        let base = path.rsplit('/').next().unwrap_or(path);
        Some(match base {
            "kube-apiserver" => Component::ApiServer,
            "kube-controller-manager" => Component::ControllerManager,
            "kube-scheduler" => Component::Scheduler,
            "etcd" => Component::Etcd,
            "kubelet" => Component::Kubelet,
            "kube-proxy" => Component::Proxy,
            _ => return None,
        })
    }
}

/// One `--name=value` flag and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub name: String,
    pub value: String,
    /// Pointer within the object (None for a default kubeadm sets without writing it).
    pub pointer: Option<String>,
}

/// The flags of one component instance, as found in one object.
#[derive(Clone, Debug)]
pub struct ComponentFlags {
    pub component: Component,
    pub flags: Vec<Flag>,
    /// Where a missing flag belongs (the container's command, or the kubeadm section).
    pub anchor: String,
    /// Kubernetes minor version, from the image tag or `kubernetesVersion`.
    pub minor: Option<u32>,
    /// How the flags were found, for messages.
    pub source: &'static str,
}

impl ComponentFlags {
    /// The effective value: like Go's flag package, the last occurrence wins. A flag whose last
    /// occurrence has an empty value (`--tls-cert-file=`) is unset: Go's string flags take `""`,
    /// their default, and a bool or number flag with no value stops the component at start-up.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.flags
            .iter()
            .rev()
            .find(|f| f.name == name)
            .filter(|f| !f.value.is_empty())
    }

    /// The last occurrence of a flag, even with an empty value: the kubelet applies its flags
    /// over its config file, so `--client-ca-file=` there overrides the file's value with "".
    pub fn get_written(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
    }

    /// Is the kubelet's config file written by kubeadm (a kubeadm or kind configuration), so that
    /// it exists and holds kubeadm's defaults even when the input does not carry it?
    pub fn kubeadm_managed(&self) -> bool {
        self.source.starts_with("kubeadm") || self.source.starts_with("kind")
    }

    /// A comma-separated flag as a list.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|f| {
                f.value
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `Some(bool)` when set to a value Go's `strconv.ParseBool` accepts.
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(|f| parse_go_bool(&f.value))
    }

    /// Pointer for a finding about `name`: the flag itself, or where it belongs.
    pub fn pointer(&self, name: &str) -> String {
        self.get_written(name)
            .and_then(|f| f.pointer.clone())
            .unwrap_or_else(|| self.anchor.clone())
    }

    /// Admission plugins in effect: defaults ∪ enabled − disabled.
    pub fn admission_plugins(&self) -> Vec<String> {
        let mut on: Vec<String> = DEFAULT_ADMISSION_PLUGINS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        for p in self.list("enable-admission-plugins") {
            if !on.contains(&p) {
                on.push(p);
            }
        }
        let off = self.list("disable-admission-plugins");
        on.retain(|p| !off.contains(p));
        on
    }
}

/// Default-on admission plugins of current kube-apiserver releases.
pub const DEFAULT_ADMISSION_PLUGINS: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "ServiceAccount",
    "DefaultStorageClass",
    "PersistentVolumeClaimResize",
    "DefaultTolerationSeconds",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
    "StorageObjectInUseProtection",
    "Priority",
    "TaintNodesByCondition",
    "RuntimeClass",
    "CertificateApproval",
    "CertificateSigning",
    "ClusterTrustBundleAttest",
    "CertificateSubjectRestriction",
    "DefaultIngressClass",
    "PodSecurity",
    "MutatingAdmissionPolicy",
    "ValidatingAdmissionPolicy",
];

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Splits `--name=value` / `--name value` arguments into flags. `args` are (text, pointer).
fn parse_args(args: &[(&str, String)]) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let (arg, ptr) = &args[i];
        if let Some(body) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            if let Some((name, value)) = body.split_once('=') {
                flags.push(Flag {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    pointer: Some(ptr.clone()),
                });
            } else if args
                .get(i + 1)
                .is_some_and(|(next, _)| !next.starts_with('-'))
            {
                flags.push(Flag {
                    name: body.to_owned(),
                    value: args[i + 1].0.to_owned(),
                    pointer: Some(ptr.clone()),
                });
                i += 1;
            } else {
                flags.push(Flag {
                    name: body.to_owned(),
                    value: "true".to_owned(),
                    pointer: Some(ptr.clone()),
                });
            }
        }
        i += 1;
    }
    flags
}

/// Splits a command line (systemd `ExecStart`, a raw `--apiserver-flags` string) into words,
/// honouring quotes and backslash line continuations.
pub fn split_command_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') if chars.peek() == Some(&'\n') => {
                chars.next();
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Flags from a raw command line (`kube-apiserver --a=b …`); the first word names the component.
pub fn flags_from_command_line(line: &str) -> Option<ComponentFlags> {
    let words = split_command_line(line);
    let component = Component::from_binary(words.first()?)?;
    let args: Vec<(&str, String)> = words
        .iter()
        .skip(1)
        .map(|w| (w.as_str(), String::new()))
        .collect();
    Some(ComponentFlags {
        component,
        flags: parse_args(&args),
        anchor: String::new(),
        minor: None,
        source: "command line",
    })
}

fn minor_from_version(v: &str) -> Option<u32> {
    let v = v.trim_start_matches('v');
    let mut parts = v.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Component flags an object carries: control-plane static Pods and workloads (hosted control
/// planes run them as Deployments), kubeadm ClusterConfiguration (and the kubelet's
/// `nodeRegistration.kubeletExtraArgs` of InitConfiguration/JoinConfiguration), kind `Cluster`
/// configs (their `kubeadmConfigPatches`) and `CommandLine` documents.
pub fn component_flags(o: &Object) -> Vec<ComponentFlags> {
    match (o.kind.as_str(), o.group()) {
        ("ClusterConfiguration", "kubeadm.k8s.io") => {
            kubeadm_flags(&o.root, "", "kubeadm ClusterConfiguration")
        }
        ("InitConfiguration", "kubeadm.k8s.io") => {
            kubeadm_kubelet_flags(&o.root, "", "kubeadm InitConfiguration")
        }
        ("JoinConfiguration", "kubeadm.k8s.io") => {
            kubeadm_kubelet_flags(&o.root, "", "kubeadm JoinConfiguration")
        }
        ("Cluster", "kind.x-k8s.io") => kind_flags(o),
        ("CommandLine", "kubeharden.io") => command_line_flags(o),
        _ => pod_template_flags(o),
    }
}

/// Is `o` a `KubeProxyConfiguration` (`kubeproxy.config.k8s.io`)?
pub fn is_kube_proxy_config(root: &Node) -> bool {
    root.get("kind").and_then(Node::text) == Some("KubeProxyConfiguration")
        && root
            .get("apiVersion")
            .and_then(Node::text)
            .is_some_and(|v| v.split('/').next() == Some("kubeproxy.config.k8s.io"))
}

/// The key of kubeadm's `kube-proxy` ConfigMap (kube-system) that holds the
/// KubeProxyConfiguration its DaemonSet mounts at `/var/lib/kube-proxy/config.conf`.
const KUBE_PROXY_CONFIGMAP_KEY: &str = "config.conf";

/// Is `o` kubeadm's `kube-proxy` ConfigMap in kube-system?
fn is_kube_proxy_configmap(o: &Object) -> bool {
    o.kind == "ConfigMap"
        && o.group().is_empty()
        && o.name == "kube-proxy"
        && o.effective_namespace() == Some("kube-system")
}

/// The KubeProxyConfigurations an object holds: the object itself, or the `config.conf` of
/// kubeadm's `kube-proxy` ConfigMap in kube-system, parsed. Each with the pointer its fields are
/// under in the object (`""`, `/data/config.conf`).
pub fn kube_proxy_configs(o: &Object) -> Vec<(String, std::borrow::Cow<'_, Node>)> {
    if o.kind == "KubeProxyConfiguration" && o.group() == "kubeproxy.config.k8s.io" {
        return vec![(String::new(), std::borrow::Cow::Borrowed(&o.root))];
    }
    if !is_kube_proxy_configmap(o) {
        return Vec::new();
    }
    let Some(text) = o
        .root
        .get("data")
        .and_then(|d| d.get(KUBE_PROXY_CONFIGMAP_KEY))
        .and_then(Node::text)
    else {
        return Vec::new();
    };
    crate::yaml::parse_stream(text)
        .into_iter()
        .flatten()
        .filter_map(|d| d.root)
        .filter(is_kube_proxy_config)
        .map(|root| {
            (
                format!(
                    "/data/{}",
                    crate::yaml::escape_token(KUBE_PROXY_CONFIGMAP_KEY)
                ),
                std::borrow::Cow::Owned(root),
            )
        })
        .take(1)
        .collect()
}

/// The `kubeadmConfigPatches` of a kind `Cluster` (top-level, then each node's), each parsed:
/// (pointer of the patch string, its kind, its root).
pub fn kind_patches(o: &Object) -> Vec<(String, String, Node)> {
    if o.kind != "Cluster" || o.group() != "kind.x-k8s.io" {
        return Vec::new();
    }
    let mut at: Vec<String> = vec!["/kubeadmConfigPatches".into()];
    for (i, _) in o
        .root
        .get("nodes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        at.push(format!("/nodes/{i}/kubeadmConfigPatches"));
    }
    let mut out = Vec::new();
    for list in at {
        for (i, patch) in o
            .root
            .pointer(&list)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(text) = patch.text() else { continue };
            for doc in crate::yaml::parse_stream(text).into_iter().flatten() {
                let Some(root) = doc.root else { continue };
                let kind = root
                    .get("kind")
                    .and_then(Node::text)
                    .unwrap_or("")
                    .to_owned();
                out.push((format!("{list}/{i}"), kind, root));
            }
        }
    }
    out
}

/// A kind `Cluster`: kind runs kubeadm, so a `ClusterConfiguration` patch gives the control
/// plane's flags (over kubeadm's defaults) and an `InitConfiguration`/`JoinConfiguration` patch
/// the kubelet's `kubeletExtraArgs`.
fn kind_flags(o: &Object) -> Vec<ComponentFlags> {
    let mut out = Vec::new();
    for (pointer, kind, root) in kind_patches(o) {
        match kind.as_str() {
            "ClusterConfiguration" => out.extend(kubeadm_flags(&root, &pointer, "kind Cluster")),
            "InitConfiguration" | "JoinConfiguration" => {
                out.extend(kubeadm_kubelet_flags(&root, &pointer, "kind Cluster"))
            }
            _ => {}
        }
    }
    out
}

/// kubeadm's kubelet: run with `--config=/var/lib/kubelet/config.yaml` (kubeadm writes it) and
/// `nodeRegistration.kubeletExtraArgs` (a map in v1beta3, a list of `{name, value}` in v1beta4).
fn kubeadm_kubelet_flags(root: &Node, prefix: &str, source: &'static str) -> Vec<ComponentFlags> {
    let base = format!("{prefix}/nodeRegistration/kubeletExtraArgs");
    let Some(args) = root.pointer("/nodeRegistration/kubeletExtraArgs") else {
        return Vec::new();
    };
    let mut flags = vec![
        Flag {
            name: "config".into(),
            value: "/var/lib/kubelet/config.yaml".into(),
            pointer: None,
        },
        Flag {
            name: "kubeconfig".into(),
            value: "/etc/kubernetes/kubelet.conf".into(),
            pointer: None,
        },
    ];
    flags.extend(extra_args(args, &base));
    vec![ComponentFlags {
        component: Component::Kubelet,
        flags,
        anchor: format!("{prefix}/nodeRegistration"),
        minor: None,
        source,
    }]
}

/// kubeadm `extraArgs`: a map of name → value (v1beta3) or a list of `{name, value}` (v1beta4).
fn extra_args(args: &Node, base: &str) -> Vec<Flag> {
    let mut flags = Vec::new();
    if args.is_map() {
        for e in args.effective_entries() {
            let value = scalar_text(&e.value);
            flags.push(Flag {
                name: e.key.to_string(),
                value,
                pointer: Some(format!("{base}/{}", crate::yaml::escape_token(&e.key))),
            });
        }
    } else {
        for (i, a) in args.items().iter().enumerate() {
            if let Some(name) = a.get("name").and_then(Node::text) {
                flags.push(Flag {
                    name: name.to_owned(),
                    value: a.get("value").map(scalar_text).unwrap_or_default(),
                    pointer: Some(format!("{base}/{i}")),
                });
            }
        }
    }
    flags
}

/// A scalar's text as a flag value (`true`, `10255`), empty for null or a collection.
fn scalar_text(n: &Node) -> String {
    if n.is_null() {
        return String::new();
    }
    n.scalar().map(|s| s.text.to_string()).unwrap_or_default()
}

/// Where a word of a `CommandLine` document was written, when the document records it.
#[derive(Clone, Debug)]
pub struct WrittenAt {
    pub file: String,
    pub pos: crate::yaml::Pos,
    /// The text of that line.
    pub text: String,
}

/// For a `CommandLine` document with `origins` (one entry per word of `command`, each
/// `{file, line, column, text}` or null), where the word at `pointer` (`/command/N`) was written.
/// The k3s/RKE2 configs (`node::rancher`) become command lines this way, and findings about
/// their flags point at the config file's line. A `KubernetesVersion` document
/// (`analysis::versions::version_input`) records its `origin` the same way.
pub fn written_at(o: &Object, pointer: &str) -> Option<WrittenAt> {
    if (o.kind == "Cluster" && o.group() == "kind.x-k8s.io") || is_kube_proxy_configmap(o) {
        return in_embedded_yaml(o, pointer);
    }
    if o.group() != "kubeharden.io" {
        return None;
    }
    let entry = match o.kind.as_str() {
        "CommandLine" => {
            let index = pointer.strip_prefix("/command/")?;
            o.root
                .get("origins")?
                .items()
                .get(index.parse::<usize>().ok()?)?
        }
        "KubernetesVersion" => o.root.get("origin")?,
        _ => return None,
    };
    let number = |k: &str| {
        entry
            .get(k)
            .and_then(Node::as_i64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(WrittenAt {
        file: entry.get("file")?.text()?.to_owned(),
        pos: crate::yaml::Pos {
            line: number("line")?,
            col: number("column").unwrap_or(1),
        },
        text: entry
            .get("text")
            .and_then(Node::text)
            .unwrap_or("")
            .to_owned(),
    })
}

/// For a pointer that goes into a YAML document held in a string — a kind `Cluster`'s
/// `kubeadmConfigPatches` (`/nodes/0/kubeadmConfigPatches/1/apiServer/extraArgs/anonymous-auth`),
/// the `config.conf` of the `kube-proxy` ConfigMap — where that field is written in the file: a block scalar's lines are the file's lines (after the `|` line, shifted
/// by the block's indentation); a patch written as a quoted string is located at the string.
fn in_embedded_yaml(o: &Object, pointer: &str) -> Option<WrittenAt> {
    let tokens: Vec<String> = crate::yaml::pointer_tokens(pointer)
        .map(String::from)
        .collect();
    let mut node = &o.root;
    let mut depth = 0;
    while node.scalar().is_none() {
        let t = tokens.get(depth)?;
        node = if node.is_seq() {
            node.items().get(t.parse::<usize>().ok()?)?
        } else {
            node.get(t)?
        };
        depth += 1;
    }
    let scalar = node.scalar()?;
    let inner: String = tokens[depth..]
        .iter()
        .map(|t| format!("/{}", crate::yaml::escape_token(t)))
        .collect();
    let root = crate::yaml::parse_stream(&scalar.text)
        .into_iter()
        .flatten()
        .find_map(|d| d.root)?;
    let at = root.locate(&inner);
    let (line, col) = if scalar.style == crate::yaml::Style::Block {
        // The content starts after the `|` header (the node may be placed at either); its first
        // line sets the indentation.
        let header = o.source.line(node.pos.line).unwrap_or("").trim_end();
        let is_header = header
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+')
            .ends_with(['|', '>']);
        let first = node.pos.line + u32::from(is_header);
        let indent = (first..first + 1000)
            .find_map(|l| {
                let text = o.source.line(l)?;
                (!text.trim().is_empty()).then(|| text.len() - text.trim_start().len())
            })
            .unwrap_or(0);
        (
            first + at.line - 1,
            at.col + u32::try_from(indent).unwrap_or(0),
        )
    } else {
        (node.pos.line, node.pos.col)
    };
    Some(WrittenAt {
        file: o.source.name.clone(),
        pos: crate::yaml::Pos { line, col },
        text: o.source.line(line).unwrap_or("").to_owned(),
    })
}

/// A `CommandLine` document (see `node::command_line_input`): `command` is the argv.
fn command_line_flags(o: &Object) -> Vec<ComponentFlags> {
    let words: Vec<(&str, String)> = o
        .root
        .get("command")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.text().map(|t| (t, format!("/command/{i}"))))
        .collect();
    let Some(component) = words.first().and_then(|(w, _)| Component::from_binary(w)) else {
        return Vec::new();
    };
    vec![ComponentFlags {
        component,
        flags: parse_args(&words[1..]),
        anchor: "/command/0".into(),
        minor: None,
        source: "command line",
    }]
}

/// How a workload kind is named in messages about the component it runs.
fn workload_source(kind: &str) -> &'static str {
    match kind {
        "Pod" => "static Pod",
        "Deployment" => "Deployment",
        "StatefulSet" => "StatefulSet",
        "DaemonSet" => "DaemonSet",
        "ReplicaSet" => "ReplicaSet",
        _ => "workload",
    }
}

/// The control-plane components the containers of a pod template run: named by the binary in
/// `command` (`[kube-apiserver, --flag…]`, `[/hyperkube, kube-apiserver, …]`; the search stops
/// at the first flag, so a flag's value such as `/var/lib/etcd` is never taken for a binary), or,
/// when `command` is absent (the entrypoint comes from the image) and `args` holds flags, by the
/// image's name or else the container's name. A shell wrapper (`sh -c "kube-apiserver …"`) is
/// not read.
fn pod_template_flags(o: &Object) -> Vec<ComponentFlags> {
    let Some(template) = crate::inventory::PodTemplate::of(o) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for c in template
        .containers()
        .filter(|c| c.kind == crate::inventory::ContainerKind::Regular)
    {
        // Which word names the component, from the words alone: most containers run none, and
        // get no pointer made for each word.
        let texts = |field: &str| {
            c.node
                .get(field)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(Node::text)
        };
        let command_len = texts("command").count();
        let named = texts("command")
            .chain(texts("args"))
            .take(command_len.max(1))
            .take_while(|w| !w.starts_with('-'))
            .position(|w| Component::from_binary(w).is_some());
        let flags_alone = command_len == 0 && texts("args").any(|w| w.starts_with("--"));
        if named.is_none() && !flags_alone {
            continue;
        }
        // The words with their pointers, in the same order as `texts`.
        let c = &c;
        let words: Vec<(&str, String)> = ["command", "args"]
            .into_iter()
            .flat_map(|field| {
                c.node
                    .get(field)
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, n)| n.text().map(|t| (t, c.ptr(&format!("{field}/{i}")))))
            })
            .collect();
        let minor = c
            .node
            .get("image")
            .and_then(Node::text)
            .and_then(|i| i.rsplit_once(':'))
            .and_then(|(_, t)| minor_from_version(t));
        let (component, rest, anchor) = match named {
            Some(pos) => (
                Component::from_binary(words[pos].0).expect("checked"),
                &words[pos + 1..],
                c.ptr("command"),
            ),
            None => {
                let Some(component) = c
                    .node
                    .get("image")
                    .and_then(Node::text)
                    .and_then(Component::from_image)
                    .or_else(|| Component::from_name(c.name))
                else {
                    continue;
                };
                (component, &words[..], c.ptr("args"))
            }
        };
        out.push(ComponentFlags {
            component,
            flags: parse_args(rest),
            anchor,
            minor,
            source: workload_source(&o.kind),
        });
    }
    out
}

/// Flags kubeadm writes into the kube-apiserver manifest whatever the configuration says.
const KUBEADM_APISERVER_DEFAULTS: &[(&str, &str)] = &[
    ("allow-privileged", "true"),
    ("authorization-mode", "Node,RBAC"),
    ("client-ca-file", "/etc/kubernetes/pki/ca.crt"),
    ("enable-admission-plugins", "NodeRestriction"),
    ("enable-bootstrap-token-auth", "true"),
    ("etcd-cafile", "/etc/kubernetes/pki/etcd/ca.crt"),
    (
        "etcd-certfile",
        "/etc/kubernetes/pki/apiserver-etcd-client.crt",
    ),
    (
        "etcd-keyfile",
        "/etc/kubernetes/pki/apiserver-etcd-client.key",
    ),
    (
        "kubelet-client-certificate",
        "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
    ),
    (
        "kubelet-client-key",
        "/etc/kubernetes/pki/apiserver-kubelet-client.key",
    ),
    ("secure-port", "6443"),
    ("service-account-key-file", "/etc/kubernetes/pki/sa.pub"),
    (
        "service-account-signing-key-file",
        "/etc/kubernetes/pki/sa.key",
    ),
    ("tls-cert-file", "/etc/kubernetes/pki/apiserver.crt"),
    ("tls-private-key-file", "/etc/kubernetes/pki/apiserver.key"),
];
const KUBEADM_CONTROLLER_MANAGER_DEFAULTS: &[(&str, &str)] = &[
    ("bind-address", "127.0.0.1"),
    ("root-ca-file", "/etc/kubernetes/pki/ca.crt"),
    (
        "service-account-private-key-file",
        "/etc/kubernetes/pki/sa.key",
    ),
    ("use-service-account-credentials", "true"),
];
const KUBEADM_SCHEDULER_DEFAULTS: &[(&str, &str)] = &[("bind-address", "127.0.0.1")];
const KUBEADM_ETCD_DEFAULTS: &[(&str, &str)] = &[
    ("cert-file", "/etc/kubernetes/pki/etcd/server.crt"),
    ("key-file", "/etc/kubernetes/pki/etcd/server.key"),
    ("client-cert-auth", "true"),
    ("peer-cert-file", "/etc/kubernetes/pki/etcd/peer.crt"),
    ("peer-key-file", "/etc/kubernetes/pki/etcd/peer.key"),
    ("peer-client-cert-auth", "true"),
    ("trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt"),
    ("peer-trusted-ca-file", "/etc/kubernetes/pki/etcd/ca.crt"),
];

/// The control plane of a kubeadm `ClusterConfiguration` (`root`, at `prefix` in its object):
/// kubeadm's defaults, then each section's `extraArgs`.
fn kubeadm_flags(root: &Node, prefix: &str, source: &'static str) -> Vec<ComponentFlags> {
    let minor = root
        .get("kubernetesVersion")
        .and_then(Node::text)
        .and_then(minor_from_version);
    type Section<'a> = (&'a str, Component, &'a [(&'a str, &'a str)]);
    let sections: [Section; 4] = [
        (
            "apiServer",
            Component::ApiServer,
            KUBEADM_APISERVER_DEFAULTS,
        ),
        (
            "controllerManager",
            Component::ControllerManager,
            KUBEADM_CONTROLLER_MANAGER_DEFAULTS,
        ),
        (
            "scheduler",
            Component::Scheduler,
            KUBEADM_SCHEDULER_DEFAULTS,
        ),
        ("etcd/local", Component::Etcd, KUBEADM_ETCD_DEFAULTS),
    ];
    let mut out = Vec::new();
    for (section, component, defaults) in sections {
        // An external etcd is not run by kubeadm.
        if component == Component::Etcd && root.pointer("/etcd/external").is_some() {
            continue;
        }
        let mut flags: Vec<Flag> = defaults
            .iter()
            .map(|(n, v)| Flag {
                name: (*n).to_owned(),
                value: (*v).to_owned(),
                pointer: None,
            })
            .collect();
        if let Some(args) = root.pointer(&format!("/{section}/extraArgs")) {
            flags.extend(extra_args(args, &format!("{prefix}/{section}/extraArgs")));
        }
        out.push(ComponentFlags {
            component,
            flags,
            anchor: format!("{prefix}/{section}"),
            minor,
            source,
        });
    }
    out
}

/// An address the API server is reached at, as a kubeadm configuration declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeadmAddress {
    /// Pointer of the field within the object.
    pub pointer: String,
    /// The field as kubeadm's documentation names it (`localAPIEndpoint.advertiseAddress`).
    pub field: &'static str,
    /// The value as written (`52.10.20.30`, `cp.example.com:6443`).
    pub value: String,
    /// Its host: the address or DNS name, without port or brackets.
    pub host: String,
}

/// The API server addresses a kubeadm configuration declares: `InitConfiguration`'s
/// `localAPIEndpoint.advertiseAddress` (the address kube-apiserver advertises: kubeadm writes it
/// as `--advertise-address`), `JoinConfiguration`'s `controlPlane.localAPIEndpoint.advertiseAddress`,
/// and `ClusterConfiguration`'s `controlPlaneEndpoint` (`host[:port]`, the address every node and
/// kubeconfig uses) and `apiServer.certSANs` (extra names of the serving certificate).
pub fn kubeadm_api_addresses(o: &Object) -> Vec<KubeadmAddress> {
    if o.group() != "kubeadm.k8s.io" {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut field = |pointer: String, field: &'static str, value: &str, host: &str| {
        out.push(KubeadmAddress {
            pointer,
            field,
            value: value.to_owned(),
            host: host.to_owned(),
        });
    };
    let text = |p: &str| o.root.pointer(p).and_then(Node::text);
    match o.kind.as_str() {
        "InitConfiguration" => {
            let p = "/localAPIEndpoint/advertiseAddress";
            if let Some(v) = text(p) {
                field(p.into(), "localAPIEndpoint.advertiseAddress", v, v.trim());
            }
        }
        "JoinConfiguration" => {
            let p = "/controlPlane/localAPIEndpoint/advertiseAddress";
            if let Some(v) = text(p) {
                field(
                    p.into(),
                    "controlPlane.localAPIEndpoint.advertiseAddress",
                    v,
                    v.trim(),
                );
            }
        }
        "ClusterConfiguration" => {
            let p = "/controlPlaneEndpoint";
            if let Some(v) = text(p) {
                field(p.into(), "controlPlaneEndpoint", v, endpoint_host(v));
            }
            for (i, san) in o
                .root
                .pointer("/apiServer/certSANs")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if let Some(v) = san.text() {
                    field(
                        format!("/apiServer/certSANs/{i}"),
                        "apiServer.certSANs",
                        v,
                        v.trim(),
                    );
                }
            }
        }
        _ => {}
    }
    out
}

/// The host of `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn endpoint_host(endpoint: &str) -> &str {
    let e = endpoint.trim();
    if let Some(rest) = e.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match e.rsplit_once(':') {
        // One colon: host:port. More: a bare IPv6 address.
        Some((host, _)) if !host.contains(':') => host,
        _ => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Audit policy

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuditLevel {
    None,
    Metadata,
    Request,
    RequestResponse,
}

impl AuditLevel {
    pub fn parse(s: &str) -> Option<AuditLevel> {
        Some(match s {
            "None" => AuditLevel::None,
            "Metadata" => AuditLevel::Metadata,
            "Request" => AuditLevel::Request,
            "RequestResponse" => AuditLevel::RequestResponse,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            AuditLevel::None => "None",
            AuditLevel::Metadata => "Metadata",
            AuditLevel::Request => "Request",
            AuditLevel::RequestResponse => "RequestResponse",
        }
    }
}

/// The attributes of an API request that an audit policy matches on.
#[derive(Clone, Debug, Default)]
pub struct AuditRequest<'a> {
    pub user: &'a str,
    pub groups: &'a [&'a str],
    pub verb: &'a str,
    /// API group (`""` for core); None for a non-resource request.
    pub api_group: Option<&'a str>,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    /// For non-resource requests.
    pub path: &'a str,
}

fn strings(n: Option<&Node>) -> Vec<&str> {
    n.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::text)
        .collect()
}

/// The level an audit `Policy` assigns to a request, and the index of the rule that decided
/// (first match wins; no match is `None`), exactly as `audit/policy/checker.go`.
pub fn audit_level(policy: &Node, r: &AuditRequest<'_>) -> (AuditLevel, Option<usize>) {
    for (i, rule) in policy
        .get("rules")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let users = strings(rule.get("users"));
        if !users.is_empty() && !users.contains(&r.user) {
            continue;
        }
        let groups = strings(rule.get("userGroups"));
        if !groups.is_empty() && !r.groups.iter().any(|g| groups.contains(g)) {
            continue;
        }
        let verbs = strings(rule.get("verbs"));
        if !verbs.is_empty() && !verbs.contains(&r.verb) {
            continue;
        }
        let namespaces = strings(rule.get("namespaces"));
        let resources = rule.get("resources").map(Node::items).unwrap_or(&[]);
        let urls = strings(rule.get("nonResourceURLs"));
        let matched = if !namespaces.is_empty() || !resources.is_empty() {
            match r.api_group {
                None => false,
                Some(group) => {
                    (namespaces.is_empty() || namespaces.contains(&r.namespace))
                        && (resources.is_empty()
                            || resources
                                .iter()
                                .any(|gr| group_resource_matches(gr, group, r)))
                }
            }
        } else if !urls.is_empty() {
            r.api_group.is_none()
                && urls.iter().any(|u| {
                    *u == "*"
                        || *u == r.path
                        || u.strip_suffix('*').is_some_and(|p| r.path.starts_with(p))
                })
        } else {
            true
        };
        if matched {
            let level = rule
                .get("level")
                .and_then(Node::text)
                .and_then(AuditLevel::parse)
                .unwrap_or(AuditLevel::None);
            return (level, Some(i));
        }
    }
    (AuditLevel::None, None)
}

fn group_resource_matches(gr: &Node, group: &str, r: &AuditRequest<'_>) -> bool {
    let g = gr.get("group").and_then(Node::text).unwrap_or("");
    if g != group && g != "*" {
        return false;
    }
    let resources = strings(gr.get("resources"));
    if resources.is_empty() {
        return true;
    }
    let names = strings(gr.get("resourceNames"));
    let full = if r.subresource.is_empty() {
        r.resource.to_owned()
    } else {
        format!("{}/{}", r.resource, r.subresource)
    };
    resources.iter().any(|res| {
        (names.is_empty() || names.contains(&r.name))
            && (*res == "*"
                || *res == full
                || (!r.subresource.is_empty() && *res == format!("*/{}", r.subresource))
                || res
                    .strip_suffix("/*")
                    .is_some_and(|base| base == r.resource))
    })
}

/// A sensitive operation the audit log must record.
pub struct SensitiveOp {
    pub what: &'static str,
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    /// The lowest level at which the event holds secret material: `Request` when the request
    /// body carries it (writing a Secret, a TokenReview), `RequestResponse` when only the
    /// response does (reading a Secret, a TokenRequest's token).
    pub leaks_at: Option<AuditLevel>,
}

pub const SENSITIVE_OPS: &[SensitiveOp] = &[
    SensitiveOp {
        what: "reading a Secret",
        verb: "get",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::RequestResponse),
    },
    SensitiveOp {
        what: "listing Secrets",
        verb: "list",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::RequestResponse),
    },
    SensitiveOp {
        what: "watching Secrets",
        verb: "watch",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::RequestResponse),
    },
    SensitiveOp {
        what: "creating a Secret",
        verb: "create",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::Request),
    },
    SensitiveOp {
        what: "updating a Secret",
        verb: "update",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::Request),
    },
    SensitiveOp {
        what: "patching a Secret",
        verb: "patch",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: Some(AuditLevel::Request),
    },
    SensitiveOp {
        what: "deleting a Secret",
        verb: "delete",
        group: "",
        resource: "secrets",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "exec into a pod",
        verb: "create",
        group: "",
        resource: "pods",
        subresource: "exec",
        leaks_at: None,
    },
    SensitiveOp {
        what: "attach to a pod",
        verb: "create",
        group: "",
        resource: "pods",
        subresource: "attach",
        leaks_at: None,
    },
    SensitiveOp {
        what: "port-forward to a pod",
        verb: "create",
        group: "",
        resource: "pods",
        subresource: "portforward",
        leaks_at: None,
    },
    SensitiveOp {
        what: "requesting a ServiceAccount token",
        verb: "create",
        group: "",
        resource: "serviceaccounts",
        subresource: "token",
        leaks_at: Some(AuditLevel::RequestResponse),
    },
    SensitiveOp {
        what: "creating a pod",
        verb: "create",
        group: "",
        resource: "pods",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "binding a ClusterRole",
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "clusterrolebindings",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "binding a Role",
        verb: "create",
        group: "rbac.authorization.k8s.io",
        resource: "rolebindings",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "changing a ClusterRole",
        verb: "update",
        group: "rbac.authorization.k8s.io",
        resource: "clusterroles",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "changing a validating webhook configuration",
        verb: "update",
        group: "admissionregistration.k8s.io",
        resource: "validatingwebhookconfigurations",
        subresource: "",
        leaks_at: None,
    },
    SensitiveOp {
        what: "reading a TokenReview",
        verb: "create",
        group: "authentication.k8s.io",
        resource: "tokenreviews",
        subresource: "",
        leaks_at: Some(AuditLevel::Request),
    },
];

impl SensitiveOp {
    pub fn request<'a>(&'a self, user: &'a str, groups: &'a [&'a str]) -> AuditRequest<'a> {
        AuditRequest {
            user,
            groups,
            verb: self.verb,
            api_group: Some(self.group),
            resource: self.resource,
            subresource: self.subresource,
            namespace: "default",
            name: "x",
            path: "",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encryption at rest

/// The provider that writes Secrets, per an EncryptionConfiguration.
#[derive(Clone, Debug, PartialEq)]
pub struct SecretsProvider {
    /// `identity`, `aescbc`, `aesgcm`, `secretbox`, `kms`.
    pub name: String,
    /// For kms: `v1` or `v2` (kms `apiVersion`, default v1).
    pub kms_version: Option<String>,
    pub pointer: String,
}

/// Which provider encrypts newly written Secrets (the first provider of the first entry that
/// covers `secrets`, `*.` or `*.*`), or None when Secrets are not covered (stored in plain text).
pub fn secrets_write_provider(config: &Node) -> Option<SecretsProvider> {
    for (i, entry) in config
        .get("resources")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let covers = strings(entry.get("resources"))
            .iter()
            .any(|r| matches!(*r, "secrets" | "*." | "*.*"));
        if !covers {
            continue;
        }
        let first = entry
            .get("providers")
            .map(Node::items)
            .unwrap_or(&[])
            .first()?;
        let name = first.entries().first()?.key.clone();
        let kms_version = (name == "kms").then(|| {
            first
                .pointer("/kms/apiVersion")
                .and_then(Node::text)
                .unwrap_or("v1")
                .to_owned()
        });
        return Some(SecretsProvider {
            name: name.to_string(),
            kms_version,
            pointer: format!("/resources/{i}/providers/0"),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    #[test]
    fn static_pod_flags_last_wins() {
        let l = load_bytes(
            "p.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.2\n    command:\n    - kube-apiserver\n    - --anonymous-auth=true\n    - --anonymous-auth=false\n    - --authorization-mode=Node,RBAC\n".to_vec(),
        );
        let f = &component_flags(&l.objects[0])[0];
        assert_eq!(f.component, Component::ApiServer);
        assert_eq!(f.bool("anonymous-auth"), Some(false));
        assert_eq!(f.minor, Some(30));
        assert_eq!(f.list("authorization-mode"), ["Node", "RBAC"]);
        assert_eq!(f.pointer("anonymous-auth"), "/spec/containers/0/command/2");
        assert!(f.admission_plugins().contains(&"PodSecurity".to_owned()));
    }

    #[test]
    fn components_by_binary_image_or_name_in_any_workload() {
        let l = load_bytes(
            "d.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: kube-apiserver, namespace: hosted}\nspec:\n  template:\n    spec:\n      containers:\n      - name: kube-apiserver\n        image: registry.k8s.io/kube-apiserver:v1.31.2\n        command: [kube-apiserver, --anonymous-auth=true, --tls-cert-file=]\n      - name: db\n        image: quay.io/coreos/etcd:v3.5.15\n        args: [--data-dir, /var/lib/etcd, --peer-client-cert-auth=false]\n      - name: sidecar\n        image: busybox\n        args: [--data-dir=/var/lib/etcd]\n".to_vec(),
        );
        let f = component_flags(&l.objects[0]);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].component, f[0].source),
            (Component::ApiServer, "Deployment")
        );
        assert_eq!(
            f[0].pointer("anonymous-auth"),
            "/spec/template/spec/containers/0/command/1"
        );
        // An empty value is unset (but its pointer is where it is written).
        assert!(f[0].get("tls-cert-file").is_none());
        assert_eq!(f[0].minor, Some(31));
        // etcd from its image, every word of `args` read (the flag's value is not a binary).
        assert_eq!(f[1].component, Component::Etcd);
        assert_eq!(f[1].anchor, "/spec/template/spec/containers/1/args");
        assert_eq!(f[1].get("data-dir").unwrap().value, "/var/lib/etcd");
        assert_eq!(f[1].bool("peer-client-cert-auth"), Some(false));
    }

    #[test]
    fn kind_patches_map_to_their_lines() {
        let text = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  kubeadmConfigPatches:\n  - |\n    kind: ClusterConfiguration\n    apiServer:\n      extraArgs:\n        anonymous-auth: \"true\"\n  - |\n    kind: InitConfiguration\n    nodeRegistration:\n      kubeletExtraArgs:\n        read-only-port: \"10255\"\n";
        let l = load_bytes("kind.yaml", text.as_bytes().to_vec());
        let o = &l.objects[0];
        let f = component_flags(o);
        let api = f
            .iter()
            .find(|f| f.component == Component::ApiServer)
            .unwrap();
        assert_eq!(api.bool("anonymous-auth"), Some(true));
        let p = api.pointer("anonymous-auth");
        assert_eq!(
            p,
            "/nodes/0/kubeadmConfigPatches/0/apiServer/extraArgs/anonymous-auth"
        );
        let w = written_at(o, &p).unwrap();
        assert_eq!((w.pos.line, w.pos.col), (10, 9));
        assert_eq!(w.text, "        anonymous-auth: \"true\"");
        let kubelet = f
            .iter()
            .find(|f| f.component == Component::Kubelet)
            .unwrap();
        assert!(kubelet.kubeadm_managed());
        let w = written_at(o, &kubelet.pointer("read-only-port")).unwrap();
        assert_eq!(w.pos.line, 15);
    }

    #[test]
    fn kubeadm_api_addresses_of_every_kind() {
        let l = crate::load::load_bytes(
            "k.yaml",
            b"apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint: {advertiseAddress: 52.10.20.30, bindPort: 6443}\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: \"[2001:db8::1]:6443\"\napiServer:\n  certSANs: [cp.example.com, 52.10.20.31]\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ncontrolPlane: {localAPIEndpoint: {advertiseAddress: 10.0.0.3}}\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: 52.10.20.32:6443\n".to_vec(),
        );
        let got: Vec<(String, &str, String)> = l
            .objects
            .iter()
            .flat_map(super::kubeadm_api_addresses)
            .map(|a| (a.pointer, a.field, a.host))
            .collect();
        let want = [
            (
                "/localAPIEndpoint/advertiseAddress",
                "localAPIEndpoint.advertiseAddress",
                "52.10.20.30",
            ),
            (
                "/controlPlaneEndpoint",
                "controlPlaneEndpoint",
                "2001:db8::1",
            ),
            (
                "/apiServer/certSANs/0",
                "apiServer.certSANs",
                "cp.example.com",
            ),
            ("/apiServer/certSANs/1", "apiServer.certSANs", "52.10.20.31"),
            (
                "/controlPlane/localAPIEndpoint/advertiseAddress",
                "controlPlane.localAPIEndpoint.advertiseAddress",
                "10.0.0.3",
            ),
            (
                "/controlPlaneEndpoint",
                "controlPlaneEndpoint",
                "52.10.20.32",
            ),
        ];
        let want: Vec<(String, &str, String)> = want
            .iter()
            .map(|(p, f, h)| ((*p).to_owned(), *f, (*h).to_owned()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(super::endpoint_host("cp.example.com"), "cp.example.com");
        assert_eq!(super::endpoint_host("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn kubeadm_extra_args_both_versions() {
        let l = load_bytes(
            "k.yaml",
            b"apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: v1.31.0\napiServer:\n  extraArgs:\n  - {name: anonymous-auth, value: \"false\"}\n---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\napiServer:\n  extraArgs:\n    audit-policy-file: /etc/kubernetes/audit.yaml\n".to_vec(),
        );
        let a = &component_flags(&l.objects[0])[0];
        assert_eq!(a.bool("anonymous-auth"), Some(false));
        assert_eq!(a.list("authorization-mode"), ["Node", "RBAC"]);
        let b = &component_flags(&l.objects[1])[0];
        assert_eq!(
            b.get("audit-policy-file").unwrap().pointer.as_deref(),
            Some("/apiServer/extraArgs/audit-policy-file")
        );
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            split_command_line("a --x=\"1 2\" \\\n --y"),
            ["a", "--x=1 2", "--y"]
        );
        let f = flags_from_command_line(
            "/usr/bin/kubelet --anonymous-auth false --read-only-port=10255",
        )
        .unwrap();
        assert_eq!(f.component, Component::Kubelet);
        assert_eq!(f.bool("anonymous-auth"), Some(false));
    }

    #[test]
    fn audit_policy_first_match_wins() {
        let l = load_bytes(
            "a.yaml",
            b"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [system:kube-proxy]\n- level: Metadata\n  resources: [{group: \"\", resources: [secrets]}]\n- level: None\n  resources: [{group: \"\", resources: [pods/log]}]\n- level: RequestResponse\n  resources: [{group: \"\", resources: [\"pods/*\"]}]\n".to_vec(),
        );
        let p = &l.objects[0].root;
        let groups: &[&str] = &["system:authenticated"];
        let get_secret = SENSITIVE_OPS[0].request("alice", groups);
        assert_eq!(audit_level(p, &get_secret), (AuditLevel::Metadata, Some(1)));
        let exec = SENSITIVE_OPS[7].request("alice", groups);
        assert_eq!(
            audit_level(p, &exec),
            (AuditLevel::RequestResponse, Some(3))
        );
        // `pods/*` also matches `pods` itself (checker.go: resource == TrimSuffix(res, "/*")).
        let create_pod = SENSITIVE_OPS[11].request("alice", groups);
        assert_eq!(
            audit_level(p, &create_pod),
            (AuditLevel::RequestResponse, Some(3))
        );
        let bind = SENSITIVE_OPS[12].request("alice", groups);
        assert_eq!(audit_level(p, &bind), (AuditLevel::None, None));
        let proxy = SENSITIVE_OPS[0].request("system:kube-proxy", groups);
        assert_eq!(audit_level(p, &proxy), (AuditLevel::None, Some(0)));
    }

    #[test]
    fn encryption_provider_order() {
        let l = load_bytes(
            "e.yaml",
            b"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [configmaps]\n  providers: [{aescbc: {keys: []}}]\n- resources: [secrets]\n  providers:\n  - identity: {}\n  - kms: {apiVersion: v2, name: k}\n".to_vec(),
        );
        let p = secrets_write_provider(&l.objects[0].root).unwrap();
        assert_eq!(p.name, "identity");
        assert_eq!(p.pointer, "/resources/1/providers/0");
    }
}
