//! The CIS Kubernetes Benchmark checks on control-plane flags and the kubelet config that
//! kube-bench automates and no dedicated rule covers, with kube-bench's pass conditions. The rule
//! lives in the runtime section (CIS compliance); each failed check is counted in the section of
//! the 15 rules whose risk its control addresses (see [`CisCheck::section`]).

use crate::analysis::control_plane::{Component, ComponentFlags, component_flags, parse_go_bool};
use crate::analysis::kubelet::{
    CLIENT_CA_FILE, From, MAKE_IPTABLES_UTIL_CHAINS, ROTATE_CERTIFICATES, Setting,
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
        against. These automated checks cover TLS between components, service-account token \
        signing, profiling endpoints, admission plugins and etcd peer/client authentication; each \
        failure is a gap an auditor will report, and most are one flag away from fixed.",
    remedy: "Apply the flag or field named in the message (the CIS id gives the full remediation \
        text in the benchmark); kubeadm clusters set most of these by default.",
    references: References {
        cis: &[
            "1.2.4", "1.2.5", "1.2.10", "1.2.12", "1.2.13", "1.2.14", "1.2.15", "1.2.21", "1.2.22",
            "1.2.23", "1.2.24", "1.2.25", "1.2.26", "1.2.30", "1.3.2", "1.3.3", "1.3.4", "1.3.5",
            "1.3.6", "1.4.1", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "4.2.3", "4.2.6", "4.2.10",
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
}

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
        id: "1.2.10",
        section: Section::Rule(6),
        component: Component::ApiServer,
        flag: "enable-admission-plugins",
        test: Test::NotHas("AlwaysAdmit"),
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
        id: "1.2.30",
        section: Section::Rule(15),
        component: Component::ApiServer,
        flag: "service-account-extend-token-expiration",
        test: Test::Equals("false"),
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
    }
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
}
