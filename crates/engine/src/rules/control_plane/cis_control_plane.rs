//! The CIS Kubernetes Benchmark checks on control-plane flags and the kubelet config that
//! kube-bench automates and no dedicated rule covers, with kube-bench's pass conditions. The rule
//! lives in the runtime section (CIS compliance); each failed check is counted in the section of
//! the 15 rules whose risk its control addresses (see [`CisCheck::section`]).

use crate::analysis::control_plane::{
    Component, ComponentFlags, component_flags, kube_proxy_configs, parse_go_bool,
};
use crate::analysis::kubelet::{
    CLIENT_CA_FILE, EVENT_QPS, Effective, From, Kubelet, MAKE_IPTABLES_UTIL_CHAINS, POD_PIDS_LIMIT,
    PROTECT_KERNEL_DEFAULTS, ROTATE_CERTIFICATES, ROTATE_SERVER_CERTIFICATE_GATE, SECCOMP_DEFAULT,
    SERVER_TLS_BOOTSTRAP, STREAMING_CONNECTION_IDLE_TIMEOUT, Setting, TLS_CERT_FILE,
    TLS_CIPHER_SUITES, TLS_PRIVATE_KEY_FILE,
};
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "cis-control-plane-check",
    section: Section::Runtime,
    severity: Severity::Medium,
    summary: "A CIS Kubernetes Benchmark control-plane or kubelet check fails",
    rationale: "The CIS Kubernetes Benchmark (1.12) is the reference auditors measure clusters \
        against. These checks (every one kube-bench automates that no dedicated rule covers) \
        cover TLS between components and its cipher suites, service-account token signing, \
        profiling endpoints, admission plugins, etcd peer/client authentication and its own CA, \
        and the kubelet's serving certificate, streaming timeout, PID limit and seccomp default; \
        each failure is a gap an auditor will report, and most are one flag away from fixed.",
    remedy: "Apply the flag or field named in the message (the CIS id gives the full remediation \
        text in the benchmark); kubeadm clusters set most of these by default.",
    references: References {
        cis: &[
            "1.2.3", "1.2.4", "1.2.5", "1.2.9", "1.2.10", "1.2.11", "1.2.12", "1.2.13", "1.2.14",
            "1.2.15", "1.2.20", "1.2.21", "1.2.22", "1.2.23", "1.2.24", "1.2.25", "1.2.26",
            "1.2.29", "1.2.30", "1.3.1", "1.3.2", "1.3.3", "1.3.4", "1.3.5", "1.3.6", "1.4.1",
            "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "4.2.3", "4.2.5", "4.2.6", "4.2.7",
            "4.2.8", "4.2.9", "4.2.10", "4.2.11", "4.2.12", "4.2.13", "4.2.14", "4.3.1",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::ControlPlaneFlags],
    fix: None,
    check: Check::Inventory(check, &[Model::Kubelets]),
};

/// kube-bench test kinds.
enum Test {
    /// Every flag listed is present.
    Present(&'static [&'static str]),
    /// `== value`.
    Equals(&'static str),
    /// Unset, or `== value`.
    UnsetOr(&'static str),
    /// The comma list contains the value.
    Has(&'static str),
    /// Unset, or the comma list lacks the value.
    NotHas(&'static str),
    /// Not set at all.
    Absent,
    /// Unset, or anything but the value.
    NotEquals(&'static str),
    /// Unset, or a duration other than zero.
    UnsetOrNonZero,
    /// Set, and every element of the comma list is one of these (kube-bench `valid_elements`).
    Within(&'static [&'static str]),
}

/// The cipher suites CIS 1.2.29 accepts for the API server (kube-bench cis-1.12 `valid_elements`).
const APISERVER_STRONG_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The cipher suites CIS 4.2.12 accepts for the kubelet (kube-bench cis-1.12 `valid_elements`).
const KUBELET_STRONG_CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
];

struct CisCheck {
    id: &'static str,
    /// The section of the 15 rules whose risk the control addresses: a failed check counts
    /// there (profiling endpoints under 1, authentication under 5, etcd TLS under 14, token
    /// signing and certificate rotation under 15…), not under runtime.
    section: Section,
    component: Component,
    flag: &'static str,
    test: Test,
}

const CHECKS: &[CisCheck] = &[
    CisCheck {
        id: "1.2.3",
        section: Section::Rule(12),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::Has("DenyServiceExternalIPs"),
    },
    CisCheck {
        id: "1.2.4",
        section: Section::Rule(5),
        component: Component::ApiServer,
        flag: "kubelet-client-certificate",
        test: Test::Present(&["kubelet-client-certificate", "kubelet-client-key"]),
    },
    CisCheck {
        id: "1.2.5",
        section: Section::Rule(5),
        component: Component::ApiServer,
        flag: "kubelet-certificate-authority",
        test: Test::Present(&["kubelet-certificate-authority"]),
    },
    CisCheck {
        id: "1.2.9",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::Has("EventRateLimit"),
    },
    CisCheck {
        id: "1.2.10",
        section: Section::Rule(6),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::NotHas("AlwaysAdmit"),
    },
    CisCheck {
        id: "1.2.11",
        section: Section::Rule(13),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::Has("AlwaysPullImages"),
    },
    CisCheck {
        id: "1.2.12",
        section: Section::Rule(15),
        component: Component::ApiServer,
        flag: "disable-admission-plugins",
        test: Test::NotHas("ServiceAccount"),
    },
    CisCheck {
        id: "1.2.13",
        section: Section::Rule(6),
        component: Component::ApiServer,
        flag: "disable-admission-plugins",
        test: Test::NotHas("NamespaceLifecycle"),
    },
    CisCheck {
        id: "1.2.14",
        section: Section::Rule(2),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::Has("NodeRestriction"),
    },
    CisCheck {
        id: "1.2.15",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "profiling",
        test: Test::Equals("false"),
    },
    CisCheck {
        id: "1.2.20",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "request-timeout",
        test: Test::UnsetOrNonZero,
    },
    CisCheck {
        id: "1.2.21",
        section: Section::Rule(15),
        component: Component::ApiServer,
        flag: "service-account-lookup",
        test: Test::UnsetOr("true"),
    },
    CisCheck {
        id: "1.2.22",
        section: Section::Rule(15),
        component: Component::ApiServer,
        flag: "service-account-key-file",
        test: Test::Present(&["service-account-key-file"]),
    },
    CisCheck {
        id: "1.2.23",
        section: Section::Rule(14),
        component: Component::ApiServer,
        flag: "etcd-certfile",
        test: Test::Present(&["etcd-certfile", "etcd-keyfile"]),
    },
    CisCheck {
        id: "1.2.24",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "tls-cert-file",
        test: Test::Present(&["tls-cert-file", "tls-private-key-file"]),
    },
    CisCheck {
        id: "1.2.25",
        section: Section::Rule(5),
        component: Component::ApiServer,
        flag: "client-ca-file",
        test: Test::Present(&["client-ca-file"]),
    },
    CisCheck {
        id: "1.2.26",
        section: Section::Rule(14),
        component: Component::ApiServer,
        flag: "etcd-cafile",
        test: Test::Present(&["etcd-cafile"]),
    },
    CisCheck {
        id: "1.2.29",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "tls-cipher-suites",
        test: Test::Within(APISERVER_STRONG_CIPHERS),
    },
    CisCheck {
        id: "1.2.30",
        section: Section::Rule(15),
        component: Component::ApiServer,
        flag: "service-account-extend-token-expiration",
        test: Test::Equals("false"),
    },
    // Checks of earlier benchmarks that CIS 1.12 dropped (the flags were removed or made
    // mandatory), still run by kube-bench's older configs; reported with the benchmark's version.
    CisCheck {
        id: "1.6 1.2.2",
        section: Section::Rule(5),
        component: Component::ApiServer,
        flag: "basic-auth-file",
        test: Test::Absent,
    },
    CisCheck {
        id: "1.6 1.2.3",
        section: Section::Rule(5),
        component: Component::ApiServer,
        flag: "kubelet-https",
        test: Test::NotEquals("false"),
    },
    CisCheck {
        id: "1.6 1.2.19",
        section: Section::Rule(1),
        component: Component::ApiServer,
        flag: "secure-port",
        test: Test::NotEquals("0"),
    },
    CisCheck {
        id: "1.3.1",
        section: Section::Runtime,
        component: Component::ControllerManager,
        flag: "terminated-pod-gc-threshold",
        test: Test::Present(&["terminated-pod-gc-threshold"]),
    },
    CisCheck {
        id: "1.3.2",
        section: Section::Rule(1),
        component: Component::ControllerManager,
        flag: "profiling",
        test: Test::Equals("false"),
    },
    CisCheck {
        id: "1.3.3",
        section: Section::Rule(2),
        component: Component::ControllerManager,
        flag: "use-service-account-credentials",
        test: Test::Equals("true"),
    },
    CisCheck {
        id: "1.3.4",
        section: Section::Rule(15),
        component: Component::ControllerManager,
        flag: "service-account-private-key-file",
        test: Test::Present(&["service-account-private-key-file"]),
    },
    CisCheck {
        id: "1.3.5",
        section: Section::Rule(15),
        component: Component::ControllerManager,
        flag: "root-ca-file",
        test: Test::Present(&["root-ca-file"]),
    },
    CisCheck {
        id: "1.3.6",
        section: Section::Rule(15),
        component: Component::ControllerManager,
        flag: "feature-gates",
        test: Test::NotHas("RotateKubeletServerCertificate=false"),
    },
    CisCheck {
        id: "1.4.1",
        section: Section::Rule(1),
        component: Component::Scheduler,
        flag: "profiling",
        test: Test::Equals("false"),
    },
    CisCheck {
        id: "2.1",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "cert-file",
        test: Test::Present(&["cert-file", "key-file"]),
    },
    CisCheck {
        id: "2.2",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "client-cert-auth",
        test: Test::Equals("true"),
    },
    CisCheck {
        id: "2.3",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "auto-tls",
        test: Test::UnsetOr("false"),
    },
    CisCheck {
        id: "2.4",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "peer-cert-file",
        test: Test::Present(&["peer-cert-file", "peer-key-file"]),
    },
    CisCheck {
        id: "2.5",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "peer-client-cert-auth",
        test: Test::Equals("true"),
    },
    CisCheck {
        id: "2.6",
        section: Section::Rule(14),
        component: Component::Etcd,
        flag: "peer-auto-tls",
        test: Test::UnsetOr("false"),
    },
];

/// The failure message of a check, or None when it passes.
fn evaluate(c: &CisCheck, flags: &ComponentFlags) -> Option<String> {
    let bin = c.component.binary();
    let value = flags.get(c.flag).map(|f| f.value.as_str());
    match &c.test {
        Test::Present(names) => {
            let missing: Vec<String> = names
                .iter()
                .filter(|n| flags.get(n).is_none())
                .map(|n| format!("`--{n}`"))
                .collect();
            (!missing.is_empty()).then(|| format!("{bin} does not set {}", missing.join(" and ")))
        }
        Test::Equals(want) => (value != Some(want)).then(|| match value {
            Some(v) => format!("{bin} sets `--{}={v}`; expected `{want}`", c.flag),
            None => format!("{bin} does not set `--{}={want}`", c.flag),
        }),
        Test::UnsetOr(want) => value
            .filter(|v| v != want)
            .map(|v| format!("{bin} sets `--{}={v}`; expected `{want}` or unset", c.flag)),
        Test::Has(item) => (!flags.list(c.flag).iter().any(|p| p == item))
            .then(|| format!("{bin} `--{}` does not include {item}", c.flag)),
        Test::NotHas(item) => flags
            .list(c.flag)
            .iter()
            .any(|p| p == item)
            .then(|| format!("{bin} `--{}` includes {item}", c.flag)),
        Test::Absent => value.map(|v| format!("{bin} sets `--{}={v}`", c.flag)),
        Test::NotEquals(bad) => value
            .filter(|v| v == bad)
            .map(|v| format!("{bin} sets `--{}={v}`", c.flag)),
        Test::UnsetOrNonZero => value
            .filter(|v| is_zero_duration(v))
            .map(|v| format!("{bin} sets `--{}={v}`: no timeout", c.flag)),
        Test::Within(strong) => match value {
            None => Some(format!(
                "{bin} does not set `--{}` (the Go defaults include CBC and SHA-1 suites)",
                c.flag
            )),
            Some(_) => {
                let weak: Vec<String> = flags
                    .list(c.flag)
                    .into_iter()
                    .filter(|x| !strong.contains(&x.as_str()))
                    .collect();
                (!weak.is_empty())
                    .then(|| format!("{bin} `--{}` allows {}", c.flag, weak.join(", ")))
            }
        },
    }
}

/// A Go duration (`0`, `0s`, `0m0s`) that is zero.
fn is_zero_duration(v: &str) -> bool {
    let digits: String = v.chars().filter(char::is_ascii_digit).collect();
    !digits.is_empty() && digits.chars().all(|c| c == '0')
}

/// CIS 4.2.3, 4.2.6 and 4.2.10 on the kubelet's effective settings (flags over config files).
fn kubelet(facts: &Derived, emit: &mut Emitter) {
    for k in facts.kubelets() {
        if let Some(e) = k.effective(&CLIENT_CA_FILE)
            && e.value.as_deref().is_none_or(str::is_empty)
        {
            let message = match e.from {
                From::Flag => "CIS 4.2.3: kubelet runs with an empty `--client-ca-file`".to_owned(),
                From::FlagDefault => {
                    "CIS 4.2.3: kubelet has neither `--client-ca-file` nor a `--config` file"
                        .to_owned()
                }
                From::Config | From::ConfigDefault => format!(
                    "CIS 4.2.3: KubeletConfiguration has no `authentication.x509.clientCAFile`{}",
                    if k.command_line.is_some() {
                        " and the kubelet no `--client-ca-file`"
                    } else {
                        ""
                    }
                ),
            };
            // A missing field belongs under `authentication`.
            let pointer = match e.from {
                From::ConfigDefault => "/authentication".to_owned(),
                _ => e.pointer.clone(),
            };
            // Who may call the kubelet: authentication (rule 5).
            emit.object_in(Section::Rule(5), e.object, &pointer, message);
        }
        let explicit_false = |s: &Setting| {
            k.effective(s).filter(|e| {
                matches!(e.from, From::Flag | From::Config)
                    && e.value.as_deref().and_then(parse_go_bool) == Some(false)
            })
        };
        for (id, s, section) in [
            ("4.2.6", &MAKE_IPTABLES_UTIL_CHAINS, Section::Runtime),
            ("4.2.10", &ROTATE_CERTIFICATES, Section::Rule(15)),
        ] {
            if let Some(e) = explicit_false(s) {
                let message = match e.from {
                    From::Flag => format!(
                        "CIS {id}: kubelet runs with `--{}={}`{}",
                        s.flag,
                        e.value.as_deref().unwrap_or_default(),
                        e.override_note(s)
                    ),
                    _ => format!(
                        "CIS {id}: KubeletConfiguration sets `{}: false`",
                        s.field.trim_start_matches('/')
                    ),
                };
                emit.object_in(section, e.object, &e.pointer, message);
            }
        }
    }
}

/// kube-bench tests on one kubelet setting (flag over config file).
enum KubeletTest {
    /// Not a zero duration (`0`, `0s`).
    NonZeroDuration,
    /// Not negative.
    NonNegative,
    /// Set to a value (not the default), other than `-1` (no limit).
    Limited,
    /// `true`.
    True,
    /// Not `false`.
    NotFalse,
    /// Set, and every element one of these.
    Within(&'static [&'static str]),
}

struct KubeletCheck {
    id: &'static str,
    section: Section,
    setting: &'static Setting,
    test: KubeletTest,
}

const KUBELET_CHECKS: &[KubeletCheck] = &[
    KubeletCheck {
        id: "4.2.5",
        section: Section::Rule(5),
        setting: &STREAMING_CONNECTION_IDLE_TIMEOUT,
        test: KubeletTest::NonZeroDuration,
    },
    KubeletCheck {
        id: "4.2.8",
        section: Section::Rule(4),
        setting: &EVENT_QPS,
        test: KubeletTest::NonNegative,
    },
    KubeletCheck {
        id: "4.2.11",
        section: Section::Rule(15),
        setting: &ROTATE_SERVER_CERTIFICATE_GATE,
        test: KubeletTest::NotFalse,
    },
    KubeletCheck {
        id: "4.2.12",
        section: Section::Rule(5),
        setting: &TLS_CIPHER_SUITES,
        test: KubeletTest::Within(KUBELET_STRONG_CIPHERS),
    },
    KubeletCheck {
        id: "4.2.13",
        section: Section::Runtime,
        setting: &POD_PIDS_LIMIT,
        test: KubeletTest::Limited,
    },
    KubeletCheck {
        id: "4.2.14",
        section: Section::Rule(9),
        setting: &SECCOMP_DEFAULT,
        test: KubeletTest::True,
    },
    // Dropped from CIS after 1.6 (kube-bench cis-1.20 to cis-1.24 still run it).
    KubeletCheck {
        id: "1.6 4.2.6",
        section: Section::Runtime,
        setting: &PROTECT_KERNEL_DEFAULTS,
        test: KubeletTest::True,
    },
];

/// `field: value` of a setting as a KubeletConfiguration writes it.
fn field_name(s: &Setting) -> String {
    s.field.trim_start_matches('/').replace('/', ".")
}

/// Where a kubelet setting comes from, for a message: `kubelet runs with `--x=v``,
/// `KubeletConfiguration sets `x: v``, or the default that applies.
fn kubelet_says(k: &Kubelet<'_>, s: &Setting, e: &Effective<'_>) -> String {
    let v = e.value.as_deref().unwrap_or_default();
    match e.from {
        From::Flag => format!("kubelet runs with `--{}={v}`{}", s.flag, e.override_note(s)),
        From::Config => format!("KubeletConfiguration sets `{}: {v}`", field_name(s)),
        From::FlagDefault | From::ConfigDefault => {
            let default = match &e.value {
                Some(v) => format!(" (the default is {v})"),
                None => String::new(),
            };
            if k.command_line.is_some() {
                format!(
                    "kubelet sets neither `--{}` nor `{}`{default}",
                    s.flag,
                    field_name(s)
                )
            } else {
                format!(
                    "KubeletConfiguration does not set `{}`{default}",
                    field_name(s)
                )
            }
        }
    }
}

/// Whether an effective value fails a kubelet test.
fn kubelet_fails(t: &KubeletTest, e: &Effective<'_>) -> bool {
    let v = e.value.as_deref();
    let set = matches!(e.from, From::Flag | From::Config);
    match t {
        KubeletTest::NonZeroDuration => v.is_some_and(is_zero_duration),
        KubeletTest::NonNegative => v.is_some_and(|v| v.trim().starts_with('-')),
        KubeletTest::Limited => !set || v.is_none_or(|v| v.trim() == "-1"),
        KubeletTest::True => v.and_then(parse_go_bool) != Some(true),
        KubeletTest::NotFalse => v.and_then(parse_go_bool) == Some(false),
        KubeletTest::Within(strong) => match v {
            None => true,
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .any(|x| !strong.contains(&x)),
        },
    }
}

/// Where a finding about a setting points: the flag or field, or (unset) where it belongs.
fn kubelet_pointer(e: &Effective<'_>, s: &Setting) -> String {
    match e.from {
        From::ConfigDefault if e.pointer.ends_with(s.field) => {
            let prefix = &e.pointer[..e.pointer.len() - s.field.len()];
            let parent = s.field.rsplit_once('/').map_or("", |(p, _)| p);
            format!("{prefix}{parent}")
        }
        _ => e.pointer.clone(),
    }
}

/// The kubelet checks of [`KUBELET_CHECKS`], CIS 4.2.7 (`--hostname-override`) and 4.2.9 (a
/// serving certificate: `tlsCertFile` and `tlsPrivateKeyFile`, or one requested from the
/// cluster's CA with `serverTLSBootstrap`).
fn kubelet_settings(facts: &Derived, emit: &mut Emitter) {
    for k in facts.kubelets() {
        for c in KUBELET_CHECKS {
            let e = if c.setting.flag == "feature-gates" {
                k.feature_gate(c.setting)
            } else {
                k.effective(c.setting)
            };
            let Some(e) = e else { continue };
            if kubelet_fails(&c.test, &e) {
                let message = format!("CIS {}: {}", c.id, kubelet_says(k, c.setting, &e));
                emit.object_in(
                    c.section,
                    e.object,
                    &kubelet_pointer(&e, c.setting),
                    message,
                );
            }
        }
        if let Some((o, flags)) = &k.command_line
            && let Some(f) = flags.get("hostname-override")
        {
            emit.object_in(
                Section::Runtime,
                o,
                &flags.pointer("hostname-override"),
                format!(
                    "CIS 4.2.7: kubelet runs with `--hostname-override={}`",
                    f.value
                ),
            );
        }
        let bootstrap = k
            .effective(&SERVER_TLS_BOOTSTRAP)
            .and_then(|e| e.value.as_deref().and_then(parse_go_bool))
            == Some(true);
        if let (Some(cert), Some(key)) = (
            k.effective(&TLS_CERT_FILE),
            k.effective(&TLS_PRIVATE_KEY_FILE),
        ) && !bootstrap
        {
            let missing: Vec<&Effective<'_>> = [&cert, &key]
                .into_iter()
                .filter(|e| e.value.as_deref().is_none_or(str::is_empty))
                .collect();
            if let Some(first) = missing.first() {
                let what = if missing.len() == 2 {
                    "sets neither a serving certificate (`tlsCertFile`, `tlsPrivateKeyFile`) nor `serverTLSBootstrap: true`: it serves a self-signed certificate"
                } else if std::ptr::eq(*first, &cert) {
                    "sets `tlsPrivateKeyFile` without `tlsCertFile`"
                } else {
                    "sets `tlsCertFile` without `tlsPrivateKeyFile`"
                };
                let setting = if std::ptr::eq(*first, &cert) {
                    &TLS_CERT_FILE
                } else {
                    &TLS_PRIVATE_KEY_FILE
                };
                emit.object_in(
                    Section::Rule(5),
                    first.object,
                    &kubelet_pointer(first, setting),
                    format!("CIS 4.2.9: kubelet {what}"),
                );
            }
        }
    }
}

/// CIS 2.7: etcd's client CA (`--trusted-ca-file`) is not the cluster's CA (the API server's
/// `--client-ca-file`): a certificate the cluster CA signs for any user must not also be an etcd
/// client certificate. Judged when both are in the input.
fn etcd_ca(facts: &Derived, emit: &mut Emitter) {
    let cluster_cas: Vec<String> = facts
        .control_plane
        .iter()
        .flat_map(component_flags)
        .filter(|f| f.component == Component::ApiServer)
        .filter_map(|f| f.get("client-ca-file").map(|x| x.value.clone()))
        .collect();
    for o in &facts.control_plane {
        for flags in component_flags(o)
            .into_iter()
            .filter(|f| f.component == Component::Etcd)
        {
            if let Some(t) = flags.get("trusted-ca-file")
                && cluster_cas.contains(&t.value)
            {
                emit.object_in(
                    Section::Rule(14),
                    o,
                    &flags.pointer("trusted-ca-file"),
                    format!(
                        "CIS 2.7: etcd `--trusted-ca-file={}` is the cluster CA (kube-apiserver `--client-ca-file`): use a CA of etcd's own",
                        t.value
                    ),
                );
            }
        }
    }
}

/// Is a kube-proxy metrics address bound to localhost? kube-bench's test: it contains
/// `127.0.0.1` (IPv6 `[::1]` as well); empty disables the endpoint.
fn metrics_on_localhost(v: &str) -> bool {
    v.is_empty() || v.contains("127.0.0.1") || v.starts_with("[::1]")
}

/// CIS 4.3.1: kube-proxy's metrics endpoint bound to localhost: the `metricsBindAddress` of a
/// KubeProxyConfiguration (default `127.0.0.1:10249`), standalone or in kubeadm's `kube-proxy`
/// ConfigMap; the `--metrics-bind-address` of a kube-proxy command line (DaemonSet, static Pod,
/// systemd unit) that runs without `--config` (with one, kube-proxy ignores the flag: its
/// reference says so, and the config file decides).
fn kube_proxy(facts: &Derived, emit: &mut Emitter) {
    for o in &facts.control_plane {
        for (prefix, root) in kube_proxy_configs(o) {
            if let Some(v) = root
                .get("metricsBindAddress")
                .and_then(crate::yaml::Node::text)
                && !metrics_on_localhost(v)
            {
                emit.object_in(
                    Section::Rule(1),
                    o,
                    &format!("{prefix}/metricsBindAddress"),
                    format!(
                        "CIS 4.3.1: kube-proxy `metricsBindAddress: {v}` is not bound to localhost"
                    ),
                );
            }
        }
        for flags in component_flags(o)
            .into_iter()
            .filter(|f| f.component == Component::Proxy && f.get("config").is_none())
        {
            if let Some(f) = flags.get("metrics-bind-address")
                && !metrics_on_localhost(&f.value)
            {
                emit.object_in(
                    Section::Rule(1),
                    o,
                    &flags.pointer("metrics-bind-address"),
                    format!(
                        "CIS 4.3.1: kube-proxy `--metrics-bind-address={}` is not bound to localhost",
                        f.value
                    ),
                );
            }
        }
    }
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    for o in &facts.control_plane {
        for flags in component_flags(o) {
            for c in CHECKS.iter().filter(|c| c.component == flags.component) {
                if let Some(message) = evaluate(c, &flags) {
                    emit.object_in(
                        c.section,
                        o,
                        &flags.pointer(c.flag),
                        format!("CIS {}: {message}", c.id),
                    );
                }
            }
        }
    }
    kubelet(facts, emit);
    kubelet_settings(facts, emit);
    etcd_ca(facts, emit);
    kube_proxy(facts, emit);
}
