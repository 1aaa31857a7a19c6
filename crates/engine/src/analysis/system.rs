//! System components: what the kubelet and the API server do differently for static and mirror
//! Pods and hostNetwork Pods, and the well-known node agents and control-plane Pods whose
//! privileges are their job.
//!
//! - A **static Pod** (a file in the kubelet's manifest directory) and its **mirror Pod** never
//!   get a ServiceAccount token: the kubelet does not run admission for it, and the API server's
//!   ServiceAccount admission leaves mirror Pods alone (and rejects them if they name one).
//! - **NetworkPolicy does not apply to hostNetwork Pods**: they share the node's network
//!   namespace, so no policy selects them and a default deny protects nothing of theirs.
//! - **Node agents and control-plane Pods** (CNI agents, CSI node plugins, kube-proxy, Falco,
//!   node-exporter, kubeadm's control plane) legitimately need host namespaces, host paths, root
//!   or privileges. Their hardening findings are *expected for <component>*
//!   ([`crate::finding::Expected`]): shown, but not failing and not counted in the scorecard
//!   unless `--strict-system`, like kubescape's `alertOnly` system exceptions.
//!
//! Recognition never rests on what the author of the input can freely choose: a component is
//! recognised by its namespace (kube-system, or the namespace its installer uses) **and** the
//! image repository it runs, never by a name, a label or an annotation alone, and only what the
//! component needs is expected (node-exporter needs the host's PID and network namespaces and
//! `/proc`, `/sys` and `/`; it does not need to be privileged, so `privileged: true` on it still
//! counts). Outside kube-system the image must come from the component's own registry and keep
//! its entrypoint (no `command`); kube-system (which only cluster administrators can write) may
//! use a mirror registry. At admission the requester writes the object this classification
//! rests on, so there nothing is expected ([`crate::finish::Finish::strict_system`]).

use crate::analysis::images;
use crate::analysis::security_context::normalize_capability;
use crate::finding::{Expected, Finding};
use crate::inventory::{Object, PodTemplate};
use crate::yaml::Node;

/// Namespaces Kubernetes creates and manages itself.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// Where kubelets read static Pod manifests by default (kubeadm, k3s, RKE2), as path fragments.
const STATIC_POD_DIRS: &[&str] = &["etc/kubernetes/manifests/", "agent/pod-manifests/"];

/// The pod runs in the node's network namespace (`hostNetwork: true`).
pub fn host_network(t: &PodTemplate<'_>) -> bool {
    t.spec.get("hostNetwork").and_then(Node::as_bool) == Some(true)
}

/// A static Pod (read by the kubelet from its manifest directory) or its mirror Pod: the
/// kubelet mounts no ServiceAccount token into it. Recognised by what Kubernetes itself sets
/// (`kubernetes.io/config.mirror`, `kubernetes.io/config.source: file|http`), a file in a
/// kubelet manifest directory, or a kubeadm control-plane Pod (kube-system, `tier:
/// control-plane`, the component's image).
pub fn is_static_pod(o: &Object) -> bool {
    if o.kind != "Pod" || !o.group().is_empty() {
        return false;
    }
    let annotation = |k: &str| {
        o.root
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(k))
            .and_then(Node::text)
    };
    if annotation("kubernetes.io/config.mirror").is_some()
        || matches!(
            annotation("kubernetes.io/config.source"),
            Some("file" | "http")
        )
    {
        return true;
    }
    let path = o.source.name.replace('\\', "/");
    if STATIC_POD_DIRS.iter().any(|d| path.contains(d)) {
        return true;
    }
    o.label("tier") == Some("control-plane")
        && PodTemplate::of(o)
            .and_then(|t| recognise(&t))
            .is_some_and(|r| r.component.control_plane)
}

/// What a component legitimately needs, each matching the findings it explains.
#[derive(Clone, Copy, Debug)]
pub enum Need {
    /// `privileged: true` (and with it: escalation, all capabilities, no seccomp).
    Privileged,
    /// `allowPrivilegeEscalation` not false.
    Escalation,
    /// These added capabilities.
    Capabilities(&'static [&'static str]),
    /// No `drop: [ALL]`.
    NoDrop,
    /// Runs (or may run) as root.
    Root,
    /// A writable root filesystem.
    WritableRoot,
    /// No seccomp profile.
    Seccomp,
    HostNetwork,
    HostPid,
    HostPath,
    /// Host ports (implied by hostNetwork for the ports it serves).
    HostPort,
    /// Probes with a `host` (127.0.0.1 or the node's address, with hostNetwork).
    HostProbes,
}

impl Need {
    /// Does this need explain `f` (a finding on `t`)?
    fn explains(self, f: &Finding, t: &PodTemplate<'_>) -> bool {
        let pointer = &*f.location.pointer;
        match self {
            Need::Privileged => f.rule == "container-privileged",
            Need::Escalation => f.rule == "container-privilege-escalation-allowed",
            Need::Capabilities(caps) => {
                f.rule == "container-adds-capabilities"
                    && pointer
                        .strip_prefix(t.object.base.as_str())
                        .and_then(|p| t.object.root.pointer(p))
                        .and_then(Node::text)
                        .is_some_and(|c| caps.contains(&normalize_capability(c).as_str()))
            }
            Need::NoDrop => f.rule == "container-capabilities-not-dropped",
            Need::Root => matches!(
                f.rule,
                "container-runs-as-root" | "container-may-run-as-root"
            ),
            Need::WritableRoot => f.rule == "container-root-filesystem-writable",
            Need::Seccomp => f.rule == "container-seccomp-unconfined",
            Need::HostNetwork => {
                f.rule == "pod-host-namespaces" && pointer.ends_with("/hostNetwork")
            }
            Need::HostPid => f.rule == "pod-host-namespaces" && pointer.ends_with("/hostPID"),
            Need::HostPath => f.rule == "pod-hostpath-volume",
            Need::HostPort => f.rule == "container-host-port",
            Need::HostProbes => {
                f.rule == "pod-pss-restricted-violation"
                    && f.message.contains("hostProbesAndHostLifecycle")
            }
        }
    }
}

/// A well-known system component.
#[derive(Debug)]
pub struct Component {
    /// Its name and why it needs what it needs (the `expected` of its findings).
    pub expected: Expected,
    /// Namespaces it is installed in.
    namespaces: &'static [&'static str],
    /// Kinds it runs as (a DaemonSet, or its Pods in a cluster dump; static Pods).
    kinds: &'static [&'static str],
    /// Its image repositories (`registry/path`); one container must run one of them.
    images: &'static [&'static str],
    /// Images of its other containers (init containers, sidecars).
    helpers: &'static [&'static str],
    needs: &'static [Need],
    /// A kubeadm control-plane static Pod.
    pub control_plane: bool,
}

const CONTROL_PLANE_NEEDS: &[Need] = &[
    Need::HostNetwork,
    Need::HostPath,
    Need::Root,
    Need::WritableRoot,
    Need::Escalation,
    Need::NoDrop,
    Need::HostProbes,
];

/// Capabilities network agents add instead of (or besides) running privileged.
const NETWORK_CAPS: &[&str] = &[
    "NET_ADMIN",
    "NET_RAW",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_RESOURCE",
    "BPF",
    "PERFMON",
    "IPC_LOCK",
    "SYS_PTRACE",
    "CHOWN",
    "KILL",
    "DAC_OVERRIDE",
    "FOWNER",
    "SETGID",
    "SETUID",
    "SYS_CHROOT",
];

/// What a network agent (CNI, kube-proxy) needs.
const NETWORK_AGENT_NEEDS: &[Need] = &[
    Need::Privileged,
    Need::Escalation,
    Need::Capabilities(NETWORK_CAPS),
    Need::NoDrop,
    Need::Root,
    Need::WritableRoot,
    Need::Seccomp,
    Need::HostNetwork,
    Need::HostPath,
    Need::HostPort,
    Need::HostProbes,
];

const CONTROL_PLANE_REASON: &str = "a kubeadm control-plane static Pod runs as root in the host \
    network and reads its certificates and configuration from host paths; kubeadm writes it so";

macro_rules! control_plane {
    ($name:literal, $images:expr, $reason:expr) => {
        Component {
            expected: Expected {
                component: $name,
                reason: $reason,
            },
            namespaces: &["kube-system"],
            kinds: &["Pod"],
            images: $images,
            helpers: &[],
            needs: CONTROL_PLANE_NEEDS,
            control_plane: true,
        }
    };
}

/// The components recognised, by what they run.
pub static COMPONENTS: &[Component] = &[
    control_plane!(
        "kube-apiserver",
        &[
            "registry.k8s.io/kube-apiserver",
            "k8s.gcr.io/kube-apiserver"
        ],
        CONTROL_PLANE_REASON
    ),
    control_plane!(
        "kube-controller-manager",
        &[
            "registry.k8s.io/kube-controller-manager",
            "k8s.gcr.io/kube-controller-manager"
        ],
        CONTROL_PLANE_REASON
    ),
    control_plane!(
        "kube-scheduler",
        &[
            "registry.k8s.io/kube-scheduler",
            "k8s.gcr.io/kube-scheduler"
        ],
        CONTROL_PLANE_REASON
    ),
    control_plane!(
        "etcd",
        &[
            "registry.k8s.io/etcd",
            "k8s.gcr.io/etcd",
            "quay.io/coreos/etcd",
            "gcr.io/etcd-development/etcd"
        ],
        "kubeadm's etcd static Pod runs as root in the host network and keeps its data and \
         certificates in host paths (/var/lib/etcd, /etc/kubernetes/pki/etcd)"
    ),
    Component {
        expected: Expected {
            component: "kube-proxy",
            reason: "kube-proxy programs the node's iptables/IPVS/nftables rules: it runs \
                privileged in the host network and mounts /run/xtables.lock and /lib/modules",
        },
        namespaces: &["kube-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &["registry.k8s.io/kube-proxy", "k8s.gcr.io/kube-proxy"],
        helpers: &[],
        needs: NETWORK_AGENT_NEEDS,
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "calico-node",
            reason: "the Calico CNI agent configures the node's routes, interfaces and policy \
                rules and installs the CNI plugin on the host: it runs privileged in the host \
                network with host paths",
        },
        namespaces: &["kube-system", "calico-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &["docker.io/calico/node", "quay.io/calico/node"],
        helpers: &[
            "docker.io/calico/cni",
            "quay.io/calico/cni",
            "docker.io/calico/pod2daemon-flexvol",
            "quay.io/calico/pod2daemon-flexvol",
        ],
        needs: NETWORK_AGENT_NEEDS,
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "cilium",
            reason: "the Cilium CNI agent loads eBPF programs and configures the node's network: \
                it runs privileged (or with network and BPF capabilities) in the host network \
                with host paths",
        },
        namespaces: &["kube-system", "cilium"],
        kinds: &["DaemonSet", "Pod"],
        images: &["quay.io/cilium/cilium"],
        helpers: &[],
        needs: NETWORK_AGENT_NEEDS,
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "flannel",
            reason: "the flannel CNI agent creates the node's overlay interface and routes and \
                installs the CNI plugin on the host: it needs NET_ADMIN and NET_RAW in the host \
                network with host paths",
        },
        namespaces: &["kube-flannel", "kube-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &[
            "docker.io/flannel/flannel",
            "ghcr.io/flannel-io/flannel",
            "quay.io/coreos/flannel",
        ],
        helpers: &[
            "docker.io/flannel/flannel-cni-plugin",
            "ghcr.io/flannel-io/flannel-cni-plugin",
        ],
        needs: NETWORK_AGENT_NEEDS,
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "weave-net",
            reason: "the Weave Net CNI agent creates the node's bridge and routes and enforces \
                policies with iptables: it runs privileged in the host network and PID \
                namespaces with host paths",
        },
        namespaces: &["kube-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &[
            "docker.io/weaveworks/weave-kube",
            "ghcr.io/weaveworks/launcher/weave-kube",
        ],
        helpers: &[
            "docker.io/weaveworks/weave-npc",
            "ghcr.io/weaveworks/launcher/weave-npc",
        ],
        needs: &[
            Need::Privileged,
            Need::Escalation,
            Need::Capabilities(NETWORK_CAPS),
            Need::NoDrop,
            Need::Root,
            Need::WritableRoot,
            Need::Seccomp,
            Need::HostNetwork,
            Need::HostPid,
            Need::HostPath,
            Need::HostPort,
            Need::HostProbes,
        ],
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "CSI node plugin",
            reason: "a CSI node plugin mounts volumes into pods on the node: it needs privileged \
                mode (for Bidirectional mount propagation), root and the kubelet's directories",
        },
        namespaces: &["kube-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &[
            "registry.k8s.io/sig-storage/csi-node-driver-registrar",
            "k8s.gcr.io/sig-storage/csi-node-driver-registrar",
            "quay.io/k8scsi/csi-node-driver-registrar",
        ],
        helpers: &[
            "registry.k8s.io/sig-storage/livenessprobe",
            "k8s.gcr.io/sig-storage/livenessprobe",
        ],
        needs: &[
            Need::Privileged,
            Need::Escalation,
            Need::Capabilities(&["SYS_ADMIN"]),
            Need::NoDrop,
            Need::Root,
            Need::WritableRoot,
            Need::Seccomp,
            Need::HostNetwork,
            Need::HostPath,
            Need::HostPort,
            Need::HostProbes,
        ],
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "falco",
            reason: "Falco watches every system call of the node through a kernel module or \
                eBPF probe: it runs privileged (or with SYS_ADMIN/BPF capabilities) as root and \
                reads /proc, /dev, /boot and the container runtime's socket from the host",
        },
        namespaces: &["falco", "falco-system", "kube-system"],
        kinds: &["DaemonSet", "Pod"],
        images: &[
            "docker.io/falcosecurity/falco",
            "docker.io/falcosecurity/falco-no-driver",
            "public.ecr.aws/falcosecurity/falco",
            "public.ecr.aws/falcosecurity/falco-no-driver",
        ],
        helpers: &[
            "docker.io/falcosecurity/falco-driver-loader",
            "docker.io/falcosecurity/falcoctl",
            "public.ecr.aws/falcosecurity/falco-driver-loader",
            "public.ecr.aws/falcosecurity/falcoctl",
        ],
        needs: &[
            Need::Privileged,
            Need::Escalation,
            Need::Capabilities(&[
                "SYS_ADMIN",
                "SYS_RESOURCE",
                "SYS_PTRACE",
                "BPF",
                "PERFMON",
                "SYS_MODULE",
            ]),
            Need::NoDrop,
            Need::Root,
            Need::WritableRoot,
            Need::Seccomp,
            Need::HostPath,
        ],
        control_plane: false,
    },
    Component {
        expected: Expected {
            component: "node-exporter",
            reason: "Prometheus node-exporter reports the node's metrics: it reads /proc, /sys \
                and / from the host, in the host's PID and network namespaces, on a host port",
        },
        namespaces: &[
            "monitoring",
            "prometheus",
            "kube-prometheus-stack",
            "observability",
            "kube-system",
        ],
        kinds: &["DaemonSet", "Pod"],
        images: &[
            "quay.io/prometheus/node-exporter",
            "docker.io/prom/node-exporter",
        ],
        helpers: &["quay.io/brancz/kube-rbac-proxy"],
        needs: &[
            Need::HostNetwork,
            Need::HostPid,
            Need::HostPath,
            Need::HostPort,
            Need::Capabilities(&["SYS_TIME"]),
        ],
        control_plane: false,
    },
];

/// Does `image` run one of `repos`? From the repository's own registry; in kube-system also
/// from a mirror (`mirror.example/k8s/kube-proxy` for `registry.k8s.io/kube-proxy`).
fn runs(image: &str, repos: &[&str], kube_system: bool) -> bool {
    let r = images::parse(image);
    let registry = match r.registry {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
    };
    let repository = r
        .repository
        .strip_prefix("library/")
        .unwrap_or(r.repository);
    repos.iter().any(|known| {
        let (known_registry, known_path) = known.split_once('/').expect("registry/path");
        (registry == known_registry && repository == known_path)
            || (kube_system
                && (repository == known_path
                    || repository
                        .strip_suffix(known_path)
                        .is_some_and(|p| p.ends_with('/'))))
    })
}

/// A pod template recognised as a system component.
#[derive(Debug)]
pub struct Recognised {
    pub component: &'static Component,
    /// Containers running the component's images (or its helpers'); in kube-system, all.
    containers: Vec<String>,
}

/// The system component `t` runs, if any (see the module documentation).
pub fn recognise(t: &PodTemplate<'_>) -> Option<Recognised> {
    let o = t.object;
    let ns = o.effective_namespace()?;
    let kube_system = ns == "kube-system";
    // (name, image, entrypoint kept): outside kube-system a container whose `command` replaces
    // the image's entrypoint runs something else than the component.
    let images: Vec<(&str, &str, bool)> = t
        .containers()
        .filter_map(|c| {
            let own = kube_system || c.field("command").is_none();
            Some((c.name, c.field("image")?.text()?, own))
        })
        .collect();
    let component = COMPONENTS.iter().find(|c| {
        c.namespaces.contains(&ns)
            && c.kinds.contains(&o.kind.as_str())
            && o.group() == if o.kind == "Pod" { "" } else { "apps" }
            && images
                .iter()
                .any(|(_, i, own)| *own && runs(i, c.images, kube_system))
    })?;
    let containers = images
        .iter()
        .filter(|(_, i, own)| {
            kube_system
                || (*own && (runs(i, component.images, false) || runs(i, component.helpers, false)))
        })
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    Some(Recognised {
        component,
        containers,
    })
}

impl Recognised {
    /// Marks the findings on `t` that the component's needs explain as expected.
    pub fn classify(&self, t: &PodTemplate<'_>, findings: &mut [Finding]) {
        for f in findings {
            let mine = f
                .subject
                .container
                .as_ref()
                .is_none_or(|c| self.containers.contains(c));
            if mine && self.component.needs.iter().any(|n| n.explains(f, t)) {
                f.expected = Some(&self.component.expected);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn object(yaml: &str) -> Object {
        load_bytes("x.yaml", yaml.as_bytes().to_vec())
            .objects
            .remove(0)
    }

    fn component(yaml: &str) -> Option<&'static str> {
        let o = object(yaml);
        recognise(&PodTemplate::of(&o).unwrap()).map(|r| r.component.expected.component)
    }

    const KUBE_PROXY: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-proxy, namespace: NS}\nspec:\n  template:\n    spec:\n      containers: [{name: kube-proxy, image: IMAGE}]\n";

    fn kube_proxy(ns: &str, image: &str) -> Option<&'static str> {
        component(&KUBE_PROXY.replace("NS", ns).replace("IMAGE", image))
    }

    #[test]
    fn recognised_by_namespace_and_image_never_by_name() {
        assert_eq!(
            kube_proxy("kube-system", "registry.k8s.io/kube-proxy:v1.31.2"),
            Some("kube-proxy")
        );
        // A mirror registry in kube-system.
        assert_eq!(
            kube_proxy("kube-system", "mirror.example:5000/k8s/kube-proxy:v1.31.2"),
            Some("kube-proxy")
        );
        // The name alone, in another namespace or with another image: an app workload.
        assert_eq!(
            kube_proxy("shop", "registry.k8s.io/kube-proxy:v1.31.2"),
            None
        );
        assert_eq!(kube_proxy("kube-system", "nginx:1.27"), None);
        assert_eq!(
            kube_proxy("kube-system", "registry.k8s.io/kube-proxyx:v1"),
            None
        );
        // Outside kube-system, only the component's own registry.
        let exporter = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x, namespace: monitoring}\nspec:\n  template:\n    spec:\n      containers: [{name: x, image: IMAGE}]\n";
        assert_eq!(
            component(&exporter.replace("IMAGE", "quay.io/prometheus/node-exporter:v1.8.2")),
            Some("node-exporter")
        );
        assert_eq!(
            component(&exporter.replace("IMAGE", "evil.example/prometheus/node-exporter:v1")),
            None
        );
        assert_eq!(
            component(&exporter.replace("IMAGE", "prom/node-exporter")),
            Some("node-exporter")
        );
        // The image with another entrypoint is not the component.
        assert_eq!(
            component(&exporter.replace(
                "IMAGE",
                "quay.io/prometheus/node-exporter:v1.8.2, command: [sh, -c, id]"
            )),
            None
        );
    }

    #[test]
    fn static_pods() {
        let apiserver = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\n  labels: {component: kube-apiserver, tier: control-plane}\nspec:\n  hostNetwork: true\n  containers: [{name: kube-apiserver, image: registry.k8s.io/kube-apiserver:v1.31.2}]\n";
        assert!(is_static_pod(&object(apiserver)));
        // Without the label kubeadm writes, or in another namespace, or another image: no.
        assert!(!is_static_pod(&object(
            &apiserver.replace("tier: control-plane", "tier: web")
        )));
        assert!(!is_static_pod(&object(
            &apiserver.replace("namespace: kube-system", "namespace: shop")
        )));
        assert!(!is_static_pod(&object(
            &apiserver.replace("registry.k8s.io/kube-apiserver", "nginx")
        )));
        // What Kubernetes sets on mirror Pods.
        let mirror = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-node1\n  namespace: shop\n  annotations: {kubernetes.io/config.mirror: abc}\nspec:\n  containers: [{name: web, image: nginx}]\n";
        assert!(is_static_pod(&object(mirror)));
        // A file in the kubelet's manifest directory.
        let l = load_bytes(
            "/etc/kubernetes/manifests/web.yaml",
            b"apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: web, image: nginx}]\n".to_vec(),
        );
        assert!(is_static_pod(&l.objects[0]));
        // Not a Pod.
        assert!(!is_static_pod(&object(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations: {kubernetes.io/config.mirror: abc}\nspec:\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n"
        )));
    }
}
