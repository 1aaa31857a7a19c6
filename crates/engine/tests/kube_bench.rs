//! kube-bench's golden report (`controlplane/kube-bench/integration/testdata/Expected_output.data`:
//! kube-bench on its kind/kubeadm cluster, older CIS numbering, cis-1.5/1.6 era) as the reference
//! for the CIS checks it covers.
//!
//! The testdata holds only the expected report: no manifests, no command lines, no file listing.
//! So the cluster is reconstructed from what the report states and nothing else: each check that
//! kube-bench decided (PASS or FAIL) becomes the input its text describes (`CASES`: "--profiling is
//! set to false" FAIL → no `--profiling=false`; "file permissions are set to 644 or more
//! restrictive" PASS → mode 644; "…argument is set as appropriate" PASS → the flag, with a
//! placeholder value). Where the verdict allows several inputs and our verdict could differ
//! between them, `alt` is a second one (kube-bench passes an unset `--bind-address`; a mode of 600
//! passes as well as 644). Kubelet settings are given as command-line arguments (as the report's
//! texts say), and again as KubeletConfiguration fields (kube-bench reads both).
//!
//! The reconstructed command lines go through `node::command_line_input`, the path
//! `--apiserver-flags` takes; file modes and owners are `NodeFile`s as `node::gather` records them.
//! Every decided check is either compared (`CASES`) or listed as not judged by us with the reason
//! (`NOT_JUDGED`); every disagreement is listed with its reason (`DISAGREEMENTS`), and the test
//! fails on any disagreement not listed and on any listed one that no longer happens.

mod common;

use kubeharden_engine::analysis::control_plane::Component::{
    self, ApiServer, ControllerManager, Etcd, Kubelet, Scheduler,
};
use kubeharden_engine::load::Input;
use kubeharden_engine::node::{self, NodeFile, NodeFileRole, NodeFileRole::*};
use kubeharden_engine::report::Report;
use kubeharden_engine::rules;
use kubeharden_engine::scan::scan_with_node_files;
use std::collections::{BTreeMap, BTreeSet};

const GOLDEN: &str = "kube-bench/integration/testdata/Expected_output.data";

/// What a decided check says about the cluster.
#[derive(Clone, Copy, Debug)]
enum Fact {
    /// This argument is on the component's command line (`--name=value`).
    Arg(Component, &'static str),
    /// This flag is not on the component's command line.
    NoArg(Component, &'static str),
    /// A kubelet setting: the argument, and the same setting as a KubeletConfiguration field
    /// (JSON pointer, JSON value).
    KubeletSetting(&'static str, &'static str, &'static str),
    /// A kubelet flag that is not set (nor its config field).
    NoKubelet(&'static str),
    /// A file or directory's mode (node path, role, mode).
    Mode(&'static str, NodeFileRole, u32),
    /// A file or directory's owner (node path, role, uid:gid).
    Owner(&'static str, NodeFileRole, (u32, u32)),
}
use Fact::*;

/// How our verdict is read from the report.
#[derive(Clone, Copy, Debug)]
enum Ours {
    /// `cis-control-plane-check` and `node-file-permissions` prefix their messages `CIS <id>: `.
    Cis(&'static str),
    /// A dedicated rule's findings whose message contains each of these strings.
    Rule(&'static str, &'static [&'static str]),
}
use Ours::*;

struct Case {
    /// The id in the golden report (older CIS numbering).
    golden: &'static str,
    /// The same check in CIS 1.12, which our rules reference ("" when 1.12 dropped it).
    cis: &'static str,
    ours: Ours,
    /// The input the golden verdict describes.
    input: Fact,
    /// Another input the same verdict allows, where ours could judge it differently.
    alt: Option<Fact>,
}

const ROOT: (u32, u32) = (0, 0);
const APISERVER_MANIFEST: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const CM_MANIFEST: &str = "/etc/kubernetes/manifests/kube-controller-manager.yaml";
const SCHED_MANIFEST: &str = "/etc/kubernetes/manifests/kube-scheduler.yaml";
const ETCD_MANIFEST: &str = "/etc/kubernetes/manifests/etcd.yaml";
const ETCD_DATA: &str = "/var/lib/etcd";
const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
const SCHED_CONF: &str = "/etc/kubernetes/scheduler.conf";
const CM_CONF: &str = "/etc/kubernetes/controller-manager.conf";
const PKI: &str = "/etc/kubernetes/pki";
const CA_CRT: &str = "/etc/kubernetes/pki/ca.crt";
const CA_KEY: &str = "/etc/kubernetes/pki/ca.key";
const KUBELET_SVC: &str = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf";
const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";
const KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";

/// Shorthands: a PASS "644 or more restrictive" file at 644 (alternative: 600), and a PASS
/// "ownership root:root" file.
const fn perm644(golden: &'static str, path: &'static str, role: NodeFileRole) -> Case {
    Case {
        golden,
        cis: golden,
        ours: Cis(golden),
        input: Mode(path, role, 0o644),
        alt: Some(Mode(path, role, 0o600)),
    }
}
const fn owner_root(golden: &'static str, path: &'static str, role: NodeFileRole) -> Case {
    Case {
        golden,
        cis: golden,
        ours: Cis(golden),
        input: Owner(path, role, ROOT),
        alt: None,
    }
}
/// A check with the same id in CIS 1.12, read from a `CIS <id>:` message, and one input.
const fn same(golden: &'static str, input: Fact) -> Case {
    Case {
        golden,
        cis: golden,
        ours: Cis(golden),
        input,
        alt: None,
    }
}
/// A check renumbered in CIS 1.12, read from a `CIS <id>:` message.
const fn renumbered(golden: &'static str, cis: &'static str, input: Fact) -> Case {
    Case {
        golden,
        cis,
        ours: Cis(cis),
        input,
        alt: None,
    }
}
const fn rule(golden: &'static str, cis: &'static str, ours: Ours, input: Fact) -> Case {
    Case {
        golden,
        cis,
        ours,
        input,
        alt: None,
    }
}

const CASES: &[Case] = &[
    // 1.1 Master node configuration files.
    perm644("1.1.1", APISERVER_MANIFEST, ApiServerManifest),
    owner_root("1.1.2", APISERVER_MANIFEST, ApiServerManifest),
    perm644("1.1.3", CM_MANIFEST, ControllerManagerManifest),
    owner_root("1.1.4", CM_MANIFEST, ControllerManagerManifest),
    perm644("1.1.5", SCHED_MANIFEST, SchedulerManifest),
    owner_root("1.1.6", SCHED_MANIFEST, SchedulerManifest),
    perm644("1.1.7", ETCD_MANIFEST, EtcdManifest),
    owner_root("1.1.8", ETCD_MANIFEST, EtcdManifest),
    // PASS "700 or more restrictive".
    same("1.1.11", Mode(ETCD_DATA, EtcdDataDir, 0o700)),
    // FAIL "ownership is set to etcd:etcd": some other owner (root, as kubeadm creates it; or any
    // other user).
    Case {
        golden: "1.1.12",
        cis: "1.1.12",
        ours: Cis("1.1.12"),
        input: Owner(ETCD_DATA, EtcdDataDir, ROOT),
        alt: Some(Owner(ETCD_DATA, EtcdDataDir, (1000, 1000))),
    },
    perm644("1.1.13", ADMIN_CONF, AdminKubeconfig),
    owner_root("1.1.14", ADMIN_CONF, AdminKubeconfig),
    perm644("1.1.15", SCHED_CONF, SchedulerKubeconfig),
    owner_root("1.1.16", SCHED_CONF, SchedulerKubeconfig),
    perm644("1.1.17", CM_CONF, ControllerManagerKubeconfig),
    owner_root("1.1.18", CM_CONF, ControllerManagerKubeconfig),
    // PASS "PKI directory and file ownership root:root".
    same("1.1.19", Owner(PKI, PkiDirectory, ROOT)),
    same("1.1.20", Mode(CA_CRT, Certificate, 0o644)),
    same("1.1.21", Mode(CA_KEY, PrivateKey, 0o600)),
    // 1.2 API server.
    rule(
        "1.2.2",
        "1.2.2",
        Rule("apiserver-static-token-file", &[]),
        NoArg(ApiServer, "token-auth-file"),
    ),
    same(
        "1.2.4",
        Arg(
            ApiServer,
            "--kubelet-client-certificate=/reconstructed/cert --kubelet-client-key=/reconstructed/key",
        ),
    ),
    same("1.2.5", NoArg(ApiServer, "kubelet-certificate-authority")),
    rule(
        "1.2.6",
        "1.2.6",
        Rule("apiserver-authorization-mode", &["AlwaysAllow"]),
        Arg(ApiServer, "--authorization-mode=Node,RBAC"),
    ),
    rule(
        "1.2.7",
        "1.2.7",
        Rule("apiserver-authorization-mode", &["lacks", "Node"]),
        Arg(ApiServer, "--authorization-mode=Node,RBAC"),
    ),
    rule(
        "1.2.8",
        "1.2.8",
        Rule("apiserver-authorization-mode", &["lacks", "RBAC"]),
        Arg(ApiServer, "--authorization-mode=Node,RBAC"),
    ),
    // PASS "AlwaysAdmit is not set" and 1.2.16 PASS "NodeRestriction is set" (and 1.2.15 FAIL
    // "PodSecurityPolicy is set"): the enabled list holds NodeRestriction only.
    same(
        "1.2.10",
        Arg(ApiServer, "--enable-admission-plugins=NodeRestriction"),
    ),
    // PASS "ServiceAccount / NamespaceLifecycle is set": kube-bench's test is that
    // `--disable-admission-plugins` does not disable them; unset.
    renumbered(
        "1.2.13",
        "1.2.12",
        NoArg(ApiServer, "disable-admission-plugins"),
    ),
    renumbered(
        "1.2.14",
        "1.2.13",
        NoArg(ApiServer, "disable-admission-plugins"),
    ),
    renumbered(
        "1.2.16",
        "1.2.14",
        Arg(ApiServer, "--enable-admission-plugins=NodeRestriction"),
    ),
    // PASS "--kubelet-https is set to true" (CIS 1.6; the flag was removed in 1.20): unset.
    rule(
        "1.2.3",
        "",
        Cis("1.6 1.2.3"),
        NoArg(ApiServer, "kubelet-https"),
    ),
    // PASS "--secure-port is not set to 0" (CIS 1.6).
    rule(
        "1.2.19",
        "",
        Cis("1.6 1.2.19"),
        Arg(ApiServer, "--secure-port=6443"),
    ),
    rule(
        "1.2.17",
        "",
        Rule("apiserver-insecure-port", &["--insecure-bind-address"]),
        NoArg(ApiServer, "insecure-bind-address"),
    ),
    rule(
        "1.2.18",
        "",
        Rule("apiserver-insecure-port", &["--insecure-port="]),
        Arg(ApiServer, "--insecure-port=0"),
    ),
    // FAIL "--profiling is set to false": unset (the default is true), or set to true.
    Case {
        golden: "1.2.20",
        cis: "1.2.15",
        ours: Cis("1.2.15"),
        input: NoArg(ApiServer, "profiling"),
        alt: Some(Arg(ApiServer, "--profiling=true")),
    },
    rule(
        "1.2.21",
        "1.2.16",
        Rule("apiserver-audit-logging-disabled", &[]),
        NoArg(ApiServer, "audit-log-path"),
    ),
    rule(
        "1.2.22",
        "1.2.17",
        Rule("apiserver-audit-retention-short", &["audit-log-maxage"]),
        NoArg(ApiServer, "audit-log-maxage"),
    ),
    rule(
        "1.2.23",
        "1.2.18",
        Rule("apiserver-audit-retention-short", &["audit-log-maxbackup"]),
        NoArg(ApiServer, "audit-log-maxbackup"),
    ),
    rule(
        "1.2.24",
        "1.2.19",
        Rule("apiserver-audit-retention-short", &["audit-log-maxsize"]),
        NoArg(ApiServer, "audit-log-maxsize"),
    ),
    // PASS "--service-account-lookup is set to true": kube-bench also passes it unset.
    Case {
        golden: "1.2.26",
        cis: "1.2.21",
        ours: Cis("1.2.21"),
        input: Arg(ApiServer, "--service-account-lookup=true"),
        alt: Some(NoArg(ApiServer, "service-account-lookup")),
    },
    renumbered(
        "1.2.27",
        "1.2.22",
        Arg(
            ApiServer,
            "--service-account-key-file=/reconstructed/sa.pub",
        ),
    ),
    renumbered(
        "1.2.28",
        "1.2.23",
        Arg(
            ApiServer,
            "--etcd-certfile=/reconstructed/etcd.crt --etcd-keyfile=/reconstructed/etcd.key",
        ),
    ),
    renumbered(
        "1.2.29",
        "1.2.24",
        Arg(
            ApiServer,
            "--tls-cert-file=/reconstructed/tls.crt --tls-private-key-file=/reconstructed/tls.key",
        ),
    ),
    renumbered(
        "1.2.30",
        "1.2.25",
        Arg(ApiServer, "--client-ca-file=/reconstructed/ca.crt"),
    ),
    renumbered(
        "1.2.31",
        "1.2.26",
        Arg(ApiServer, "--etcd-cafile=/reconstructed/etcd-ca.crt"),
    ),
    // 1.3 Controller manager.
    Case {
        golden: "1.3.2",
        cis: "1.3.2",
        ours: Cis("1.3.2"),
        input: NoArg(ControllerManager, "profiling"),
        alt: Some(Arg(ControllerManager, "--profiling=true")),
    },
    same(
        "1.3.3",
        Arg(ControllerManager, "--use-service-account-credentials=true"),
    ),
    same(
        "1.3.4",
        Arg(
            ControllerManager,
            "--service-account-private-key-file=/reconstructed/sa.key",
        ),
    ),
    same(
        "1.3.5",
        Arg(ControllerManager, "--root-ca-file=/reconstructed/ca.crt"),
    ),
    // PASS "RotateKubeletServerCertificate is set to true": not disabled by `--feature-gates`.
    Case {
        golden: "1.3.6",
        cis: "1.3.6",
        ours: Cis("1.3.6"),
        input: Arg(
            ControllerManager,
            "--feature-gates=RotateKubeletServerCertificate=true",
        ),
        alt: Some(NoArg(ControllerManager, "feature-gates")),
    },
    // PASS "--bind-address is set to 127.0.0.1": kube-bench passes an unset flag too.
    Case {
        golden: "1.3.7",
        cis: "1.3.7",
        ours: Rule(
            "control-plane-component-not-localhost",
            &["kube-controller-manager"],
        ),
        input: Arg(ControllerManager, "--bind-address=127.0.0.1"),
        alt: Some(NoArg(ControllerManager, "bind-address")),
    },
    // 1.4 Scheduler.
    Case {
        golden: "1.4.1",
        cis: "1.4.1",
        ours: Cis("1.4.1"),
        input: NoArg(Scheduler, "profiling"),
        alt: Some(Arg(Scheduler, "--profiling=true")),
    },
    Case {
        golden: "1.4.2",
        cis: "1.4.2",
        ours: Rule("control-plane-component-not-localhost", &["kube-scheduler"]),
        input: Arg(Scheduler, "--bind-address=127.0.0.1"),
        alt: Some(NoArg(Scheduler, "bind-address")),
    },
    // 2 etcd.
    same(
        "2.1",
        Arg(
            Etcd,
            "--cert-file=/reconstructed/server.crt --key-file=/reconstructed/server.key",
        ),
    ),
    same("2.2", Arg(Etcd, "--client-cert-auth=true")),
    Case {
        golden: "2.3",
        cis: "2.3",
        ours: Cis("2.3"),
        input: NoArg(Etcd, "auto-tls"),
        alt: Some(Arg(Etcd, "--auto-tls=false")),
    },
    same(
        "2.4",
        Arg(
            Etcd,
            "--peer-cert-file=/reconstructed/peer.crt --peer-key-file=/reconstructed/peer.key",
        ),
    ),
    same("2.5", Arg(Etcd, "--peer-client-cert-auth=true")),
    Case {
        golden: "2.6",
        cis: "2.6",
        ours: Cis("2.6"),
        input: NoArg(Etcd, "peer-auto-tls"),
        alt: Some(Arg(Etcd, "--peer-auto-tls=false")),
    },
    // PASS "a unique Certificate Authority is used for etcd": etcd's CA is not the cluster CA.
    same(
        "2.7",
        Arg(Etcd, "--trusted-ca-file=/reconstructed/etcd-ca.crt"),
    ),
    // 4.1 Worker node configuration files.
    perm644("4.1.1", KUBELET_SVC, KubeletService),
    owner_root("4.1.2", KUBELET_SVC, KubeletService),
    perm644("4.1.5", KUBELET_CONF, KubeletKubeconfig),
    owner_root("4.1.6", KUBELET_CONF, KubeletKubeconfig),
    same("4.1.7", Mode(CA_CRT, ClientCa, 0o644)),
    same("4.1.8", Owner(CA_CRT, ClientCa, ROOT)),
    perm644("4.1.9", KUBELET_CONFIG, KubeletConfig),
    owner_root("4.1.10", KUBELET_CONFIG, KubeletConfig),
    // 4.2 Kubelet.
    rule(
        "4.2.1",
        "4.2.1",
        Rule("kubelet-anonymous-auth", &[]),
        KubeletSetting(
            "--anonymous-auth=false",
            "/authentication/anonymous/enabled",
            "false",
        ),
    ),
    rule(
        "4.2.2",
        "4.2.2",
        Rule("kubelet-authorization-always-allow", &[]),
        KubeletSetting(
            "--authorization-mode=Webhook",
            "/authorization/mode",
            "\"Webhook\"",
        ),
    ),
    same(
        "4.2.3",
        KubeletSetting(
            "--client-ca-file=/etc/kubernetes/pki/ca.crt",
            "/authentication/x509/clientCAFile",
            "\"/etc/kubernetes/pki/ca.crt\"",
        ),
    ),
    rule(
        "4.2.4",
        "4.2.4",
        Rule("kubelet-read-only-port", &[]),
        KubeletSetting("--read-only-port=0", "/readOnlyPort", "0"),
    ),
    renumbered(
        "4.2.7",
        "4.2.6",
        KubeletSetting(
            "--make-iptables-util-chains=true",
            "/makeIPTablesUtilChains",
            "true",
        ),
    ),
    // PASS "--streaming-connection-idle-timeout is not set to 0".
    same(
        "4.2.5",
        KubeletSetting(
            "--streaming-connection-idle-timeout=4h0m0s",
            "/streamingConnectionIdleTimeout",
            "\"4h0m0s\"",
        ),
    ),
    // FAIL "--protect-kernel-defaults is set to true" (CIS 1.6): unset, the default is false.
    rule(
        "4.2.6",
        "",
        Cis("1.6 4.2.6"),
        NoKubelet("protect-kernel-defaults"),
    ),
    // PASS "--hostname-override is not set".
    renumbered("4.2.8", "4.2.7", NoKubelet("hostname-override")),
    // PASS "RotateKubeletServerCertificate is set to true": not disabled by a feature gate.
    renumbered("4.2.12", "4.2.11", NoKubelet("feature-gates")),
    // PASS "--rotate-certificates is not set to false".
    renumbered("4.2.11", "4.2.10", NoKubelet("rotate-certificates")),
];

/// Checks kube-bench decided (PASS or FAIL) that no rule of ours judges, and why.
const NOT_JUDGED: &[(&str, &str)] = &[(
    "1.2.15",
    "PodSecurityPolicy admission plugin (FAIL): PodSecurityPolicy was removed in Kubernetes 1.25; CIS 1.12 has no such check (the PodSecurity plugin, on by default, replaces it)",
)];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    /// The input the golden verdict describes (kubelet settings as arguments).
    Literal,
    /// Kubelet settings as KubeletConfiguration fields instead of arguments.
    KubeletConfig,
    /// The case's `alt` input.
    Alternative,
}

/// Where we and kube-bench disagree on the reconstructed input, and why.
const DISAGREEMENTS: &[(&str, Variant, &str)] = &[
    (
        "1.1.1",
        Variant::Literal,
        "mode 644: CIS 1.12 asks for 600 for static Pod manifests (the golden's benchmark asked for 644)",
    ),
    ("1.1.3", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
    ("1.1.5", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
    ("1.1.7", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
    (
        "1.1.12",
        Variant::Literal,
        "root-owned etcd data directory: we accept root:root as well as etcd:etcd (kubeadm and kind run etcd as root; a root-owned 700 directory is private), CIS asks for etcd:etcd",
    ),
    (
        "1.1.13",
        Variant::Literal,
        "mode 644: CIS 1.12 asks for 600",
    ),
    (
        "1.1.15",
        Variant::Literal,
        "mode 644: CIS 1.12 asks for 600",
    ),
    (
        "1.1.17",
        Variant::Literal,
        "mode 644: CIS 1.12 asks for 600",
    ),
    (
        "1.2.22",
        Variant::Literal,
        "no --audit-log-path: with no log backend, retention is not judged; the missing log is reported once, as 1.2.16 (apiserver-audit-logging-disabled)",
    ),
    (
        "1.2.23",
        Variant::Literal,
        "no --audit-log-path: retention not judged (see 1.2.22)",
    ),
    (
        "1.2.24",
        Variant::Literal,
        "no --audit-log-path: retention not judged (see 1.2.22)",
    ),
    (
        "1.3.7",
        Variant::Alternative,
        "--bind-address unset: kube-bench passes it, but the default is 0.0.0.0, so we fail it",
    ),
    (
        "1.4.2",
        Variant::Alternative,
        "--bind-address unset: kube-bench passes it, but the default is 0.0.0.0, so we fail it",
    ),
    ("4.1.1", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
    ("4.1.5", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
    ("4.1.9", Variant::Literal, "mode 644: CIS 1.12 asks for 600"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail,
    Warn,
}

/// (id, verdict, text) of every check line of the golden report.
fn golden(text: &str) -> Vec<(String, Verdict, String)> {
    text.lines()
        .filter_map(|l| {
            let (tag, rest) = l.split_once("] ")?;
            let verdict = match tag {
                "[PASS" => Verdict::Pass,
                "[FAIL" => Verdict::Fail,
                "[WARN" => Verdict::Warn,
                _ => return None,
            };
            let (id, text) = rest.split_once(' ')?;
            Some((id.to_owned(), verdict, text.to_owned()))
        })
        .collect()
}

fn flag_name(word: &str) -> &str {
    word.trim_start_matches('-').split('=').next().unwrap()
}

/// The reconstructed node: a command line per component, a KubeletConfiguration and the files.
/// Facts apply in order and must not contradict each other; `overrides` (an alternative input)
/// apply after them and replace what they say about the same flag or file.
fn build(
    facts: &[Fact],
    overrides: &[Fact],
    kubelet_in_config: bool,
) -> (Vec<Input>, Vec<NodeFile>) {
    // Every component is there (the report judges each); the kubelet runs with a --config file
    // (4.1.9/4.1.10).
    let mut args: BTreeMap<Component, Vec<String>> =
        [ApiServer, ControllerManager, Scheduler, Etcd, Kubelet]
            .into_iter()
            .map(|c| (c, Vec::new()))
            .collect();
    args.get_mut(&Kubelet)
        .unwrap()
        .push(format!("--config={KUBELET_CONFIG}"));
    let mut config = serde_json::json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
    });
    // path → (role, mode, owner); what no check states: 600, root:root.
    let mut files: BTreeMap<&str, (NodeFileRole, u32, (u32, u32))> = BTreeMap::new();
    let strict = facts.len();
    for (i, fact) in facts.iter().chain(overrides).enumerate() {
        let mut set_args = |component: Component, words: Vec<String>, unset: Option<&str>| {
            let list = args.get_mut(&component).unwrap();
            if let Some(name) = unset {
                let had = list.iter().any(|w| flag_name(w) == name);
                assert!(
                    !(had && i < strict),
                    "{fact:?} contradicts another case's input"
                );
                list.retain(|w| flag_name(w) != name);
            }
            for w in words {
                if let Some(old) = list.iter().position(|x| flag_name(x) == flag_name(&w)) {
                    assert!(
                        i >= strict || list[old] == w,
                        "{fact:?} contradicts another case's input"
                    );
                    list.remove(old);
                }
                list.push(w);
            }
        };
        match *fact {
            Arg(component, words) => set_args(
                component,
                words.split(' ').map(str::to_owned).collect(),
                None,
            ),
            NoArg(component, flag) => set_args(component, Vec::new(), Some(flag)),
            NoKubelet(flag) => set_args(Kubelet, Vec::new(), Some(flag)),
            KubeletSetting(flag, pointer, value) => {
                if kubelet_in_config {
                    let mut at = &mut config;
                    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
                    for p in &parts[..parts.len() - 1] {
                        at = at
                            .as_object_mut()
                            .unwrap()
                            .entry(*p)
                            .or_insert_with(|| serde_json::json!({}));
                    }
                    at[parts[parts.len() - 1]] = serde_json::from_str(value).unwrap();
                } else {
                    set_args(Kubelet, vec![flag.to_owned()], None);
                }
            }
            Mode(path, role, mode) => files.entry(path).or_insert((role, 0o600, (0, 0))).1 = mode,
            Owner(path, role, owner) => {
                files.entry(path).or_insert((role, 0o600, (0, 0))).2 = owner
            }
        }
    }
    let mut inputs: Vec<Input> = args
        .iter()
        .map(|(component, words)| {
            node::command_line_input(
                &format!("{} (reconstructed)", component.binary()),
                &format!("{} {}", component.binary(), words.join(" ")),
            )
        })
        .collect();
    inputs.push(Input::Bytes {
        name: KUBELET_CONFIG.into(),
        bytes: serde_json::to_vec_pretty(&config).unwrap().into(),
    });
    let files = files
        .into_iter()
        .map(|(path, (role, mode, (uid, gid)))| NodeFile {
            path: path.to_owned(),
            role,
            mode,
            uid,
            gid,
            alt_owner: None,
        })
        .collect();
    (inputs, files)
}

fn scan(facts: &[Fact], overrides: &[Fact], kubelet_in_config: bool) -> Report {
    let (inputs, files) = build(facts, overrides, kubelet_in_config);
    let report = scan_with_node_files(&inputs, rules::all(), files);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    report
}

/// Our verdict on one check.
fn ours(report: &Report, how: Ours) -> Verdict {
    let fails = report.findings.iter().any(|f| match how {
        Cis(id) => {
            matches!(f.rule, "cis-control-plane-check" | "node-file-permissions")
                && f.message.starts_with(&format!("CIS {id}: "))
        }
        Rule(rule, words) => f.rule == rule && words.iter().all(|w| f.message.contains(w)),
    });
    if fails { Verdict::Fail } else { Verdict::Pass }
}

#[test]
fn we_agree_with_kube_bench_golden_report() {
    let Some(dir) = common::corpus("controlplane") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join(GOLDEN)).unwrap();
    let checks = golden(&text);
    // The report's own totals: the parse saw every check.
    let count = |v: Verdict| checks.iter().filter(|c| c.1 == v).count();
    assert!(text.contains(&format!("{} checks PASS\n", count(Verdict::Pass))));
    assert!(text.contains(&format!(
        "== Summary total ==\n{} checks PASS\n{} checks FAIL\n{} checks WARN",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Warn)
    )));
    let verdicts: BTreeMap<&str, Verdict> =
        checks.iter().map(|(id, v, _)| (id.as_str(), *v)).collect();

    // Every decided check is compared or explained; nothing else is.
    let decided: BTreeSet<&str> = checks
        .iter()
        .filter(|c| c.1 != Verdict::Warn)
        .map(|c| c.0.as_str())
        .collect();
    let compared: BTreeSet<&str> = CASES.iter().map(|c| c.golden).collect();
    assert_eq!(
        compared.len(),
        CASES.len(),
        "a golden id appears twice in CASES"
    );
    let explained: BTreeSet<&str> = NOT_JUDGED.iter().map(|n| n.0).collect();
    assert!(compared.is_disjoint(&explained));
    let covered: BTreeSet<&str> = compared.union(&explained).copied().collect();
    assert_eq!(covered, decided, "decided checks vs CASES + NOT_JUDGED");

    // Our rules claim the CIS 1.12 ids they are compared under.
    for c in CASES.iter().filter(|c| !c.cis.is_empty()) {
        let claimed = match c.ours {
            Cis(_) => ["cis-control-plane-check", "node-file-permissions"]
                .iter()
                .any(|r| rules::find(r).unwrap().references.cis.contains(&c.cis)),
            Rule(r, _) => rules::find(r)
                .unwrap_or_else(|| panic!("no rule {r}"))
                .references
                .cis
                .contains(&c.cis),
        };
        assert!(claimed, "{}: no rule references CIS {}", c.golden, c.cis);
    }

    let facts: Vec<Fact> = CASES.iter().map(|c| c.input).collect();
    let literal = scan(&facts, &[], false);
    let kubelet_config = scan(&facts, &[], true);
    let mut found: BTreeMap<(&str, Variant), (Verdict, Verdict)> = BTreeMap::new();
    let mut agreed = 0;
    let mut compare = |c: &Case, variant: Variant, report: &Report| {
        let theirs = verdicts[c.golden];
        let mine = ours(report, c.ours);
        if mine == theirs {
            agreed += 1;
        } else {
            found.insert((c.golden, variant), (theirs, mine));
        }
    };
    for c in CASES {
        compare(c, Variant::Literal, &literal);
        if matches!(c.input, KubeletSetting(..) | NoKubelet(_)) {
            compare(c, Variant::KubeletConfig, &kubelet_config);
        }
        if let Some(alt) = c.alt {
            compare(c, Variant::Alternative, &scan(&facts, &[alt], false));
        }
    }

    println!(
        "kube-bench golden report: {} checks decided, {} compared, {} not judged by us",
        decided.len(),
        CASES.len(),
        NOT_JUDGED.len()
    );
    println!("{agreed} comparisons agree, {} disagree:", found.len());
    for ((id, variant), (theirs, mine)) in &found {
        let why = DISAGREEMENTS
            .iter()
            .find(|d| d.0 == *id && d.1 == *variant)
            .map_or("NOT LISTED", |d| d.2);
        println!("  {id:<7} {variant:?}: kube-bench {theirs:?}, kubeharden {mine:?} — {why}");
    }
    let expected: BTreeSet<(&str, Variant)> = DISAGREEMENTS.iter().map(|d| (d.0, d.1)).collect();
    let actual: BTreeSet<(&str, Variant)> = found.keys().copied().collect();
    assert_eq!(
        actual.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(&str, Variant)>::new(),
        "disagreements not in DISAGREEMENTS"
    );
    assert_eq!(
        expected.difference(&actual).collect::<Vec<_>>(),
        Vec::<&(&str, Variant)>::new(),
        "DISAGREEMENTS that no longer happen"
    );
}
