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
}

impl Component {
    pub fn binary(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
        }
    }

    fn from_binary(path: &str) -> Option<Component> {
        let base = path.rsplit('/').next().unwrap_or(path);
        Some(match base {
            "kube-apiserver" => Component::ApiServer,
            "kube-controller-manager" => Component::ControllerManager,
            "kube-scheduler" => Component::Scheduler,
            "etcd" => Component::Etcd,
            "kubelet" => Component::Kubelet,
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
    /// The effective value: like Go's flag package, the last occurrence wins.
    pub fn get(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().rev().find(|f| f.name == name)
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
        self.get(name)
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

/// Component flags an object carries: control-plane static Pods and kubeadm ClusterConfiguration.
pub fn component_flags(o: &Object) -> Vec<ComponentFlags> {
    match (o.kind.as_str(), o.group()) {
        ("Pod", "") => static_pod_flags(o),
        ("ClusterConfiguration", "kubeadm.k8s.io") => kubeadm_flags(o),
        ("CommandLine", "kubeharden.io") => command_line_flags(o),
        _ => Vec::new(),
    }
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
/// their flags point at the config file's line.
pub fn written_at(o: &Object, pointer: &str) -> Option<WrittenAt> {
    if o.kind != "CommandLine" || o.group() != "kubeharden.io" {
        return None;
    }
    let index = pointer.strip_prefix("/command/")?;
    let entry = o
        .root
        .get("origins")?
        .items()
        .get(index.parse::<usize>().ok()?)?;
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

fn static_pod_flags(o: &Object) -> Vec<ComponentFlags> {
    let mut out = Vec::new();
    for (ci, c) in o
        .root
        .pointer("/spec/containers")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let mut words: Vec<(&str, String)> = Vec::new();
        for field in ["command", "args"] {
            for (i, n) in c
                .get(field)
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if let Some(t) = n.text() {
                    words.push((t, format!("/spec/containers/{ci}/{field}/{i}")));
                }
            }
        }
        // `command: [kube-apiserver, --flag…]`, or a shell wrapper `sh -c "kube-apiserver …"` (skipped).
        let Some(pos) = words
            .iter()
            .position(|(w, _)| Component::from_binary(w).is_some())
        else {
            continue;
        };
        let component = Component::from_binary(words[pos].0).expect("checked");
        let minor = c
            .get("image")
            .and_then(Node::text)
            .and_then(|i| i.rsplit_once(':'))
            .and_then(|(_, t)| minor_from_version(t));
        out.push(ComponentFlags {
            component,
            flags: parse_args(&words[pos + 1..]),
            anchor: format!("/spec/containers/{ci}/command"),
            minor,
            source: "static Pod",
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

fn kubeadm_flags(o: &Object) -> Vec<ComponentFlags> {
    let minor = o
        .root
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
        let mut flags: Vec<Flag> = defaults
            .iter()
            .map(|(n, v)| Flag {
                name: (*n).to_owned(),
                value: (*v).to_owned(),
                pointer: None,
            })
            .collect();
        let base = format!("/{section}/extraArgs");
        match o.root.pointer(&base) {
            // v1beta3: a map of name → value.
            Some(args) if args.is_map() => {
                for e in args.effective_entries() {
                    let value = e.value.text().unwrap_or("").to_owned();
                    flags.push(Flag {
                        name: e.key.clone(),
                        value,
                        pointer: Some(format!("{base}/{}", crate::yaml::escape_token(&e.key))),
                    });
                }
            }
            // v1beta4: a list of {name, value}.
            Some(args) => {
                for (i, a) in args.items().iter().enumerate() {
                    if let (Some(name), value) = (
                        a.get("name").and_then(Node::text),
                        a.get("value").and_then(Node::text),
                    ) {
                        flags.push(Flag {
                            name: name.to_owned(),
                            value: value.unwrap_or("").to_owned(),
                            pointer: Some(format!("{base}/{i}")),
                        });
                    }
                }
            }
            None => {}
        }
        out.push(ComponentFlags {
            component,
            flags,
            anchor: format!("/{section}"),
            minor,
            source: "kubeadm ClusterConfiguration",
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
            name,
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
