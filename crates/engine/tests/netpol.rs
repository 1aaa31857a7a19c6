//! NetworkPolicy semantics against the shared corpus (`netpol/EXPECTED.md`): the ahmetb recipes
//! and the kubernetes/website examples, each with the connections its README (or the concept
//! page) says are allowed or denied.
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default: `../../../shared/corpus` from this
//! crate). Without it the test is skipped, unless `KUBEHARDEN_REQUIRE_CORPUS=1`.

use kubeharden_engine::analysis::netpol::{Endpoint, Labels, Network, PodRef, Protocol, Side};
use kubeharden_engine::load::Input;
use kubeharden_engine::scan::scan_all;
use std::path::{Path, PathBuf};

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("KUBEHARDEN_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    let netpol = dir.join("netpol");
    if netpol.join("EXPECTED.md").is_file() {
        Some(netpol)
    } else if std::env::var("KUBEHARDEN_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("corpus not found at {}", netpol.display());
    } else {
        eprintln!(
            "skipped: NetworkPolicy corpus not found at {} (set KUBEHARDEN_CORPUS)",
            netpol.display()
        );
        None
    }
}

const RECIPES: &str = "ahmetb-recipes/extracted-yaml";
const WEBSITE: &str = "kubernetes-website/service/networking";

/// A pod: namespace, `k=v,k=v` labels, named ports.
#[derive(Clone)]
struct Pod {
    ns: &'static str,
    labels: Labels,
    ports: Vec<(String, i64, String)>,
}

fn pod(ns: &'static str, labels: &str) -> Pod {
    Pod {
        ns,
        labels: labels
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect(),
        ports: Vec::new(),
    }
}

enum End {
    Pod(Pod),
    Ip(&'static str),
}

impl End {
    fn endpoint(&self) -> Endpoint<'_> {
        match self {
            End::Pod(p) => Endpoint::Pod(PodRef {
                named_ports: &p.ports,
                ..PodRef::new(p.ns, &p.labels)
            }),
            End::Ip(ip) => Endpoint::External(ip.parse().unwrap()),
        }
    }
    fn describe(&self) -> String {
        match self {
            End::Pod(p) => format!(
                "pod {}/{}",
                p.ns,
                p.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            End::Ip(ip) => (*ip).to_owned(),
        }
    }
}

fn p(ns: &'static str, labels: &str) -> End {
    End::Pod(pod(ns, labels))
}

struct Check {
    from: End,
    to: End,
    port: i64,
    protocol: Protocol,
    allowed: bool,
}

fn tcp(from: End, to: End, port: i64, allowed: bool) -> Check {
    Check {
        from,
        to,
        port,
        protocol: Protocol::Tcp,
        allowed,
    }
}

fn udp(from: End, to: End, port: i64, allowed: bool) -> Check {
    Check {
        from,
        to,
        port,
        protocol: Protocol::Udp,
        allowed,
    }
}

struct Case {
    name: &'static str,
    files: &'static [&'static str],
    /// Namespace objects: name and `k=v` labels.
    namespaces: &'static [(&'static str, &'static str)],
    checks: Vec<Check>,
}

const EXTERNAL: &str = "203.0.113.9";

fn cases() -> Vec<Case> {
    let web = || p("default", "app=web");
    let dns = || p("kube-system", "k8s-app=kube-dns");
    let foo_pod = || p("default", "app=foo");
    vec![
        Case {
            name: "01 web-deny-all",
            files: &["01-web-deny-all.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=other"), web(), 80, false),
                tcp(p("other", ""), web(), 80, false),
                tcp(End::Ip(EXTERNAL), web(), 80, false),
                tcp(web(), End::Ip(EXTERNAL), 443, true),
                tcp(p("default", "app=other"), p("default", "app=api"), 80, true),
            ],
        },
        Case {
            name: "02 api-allow",
            files: &["02-api-allow.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(
                    p("default", ""),
                    p("default", "app=bookstore,role=api"),
                    8080,
                    false,
                ),
                tcp(
                    p("default", "app=bookstore,role=frontend"),
                    p("default", "app=bookstore,role=api"),
                    8080,
                    true,
                ),
                tcp(
                    p("other", "app=bookstore"),
                    p("default", "app=bookstore,role=api"),
                    8080,
                    false,
                ),
                tcp(
                    End::Ip(EXTERNAL),
                    p("default", "app=bookstore,role=api"),
                    8080,
                    false,
                ),
            ],
        },
        Case {
            name: "02a web-allow-all (with 01 web-deny-all)",
            files: &["01-web-deny-all.yaml", "02a-web-allow-all.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=other"), web(), 80, true),
                tcp(p("other", ""), web(), 80, true),
                tcp(End::Ip(EXTERNAL), web(), 80, true),
            ],
        },
        Case {
            name: "03 default-deny-all (ingress only)",
            files: &["03-default-deny-all.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), p("default", "app=b"), 80, false),
                tcp(p("other", ""), p("default", ""), 80, false),
                tcp(End::Ip(EXTERNAL), p("default", ""), 80, false),
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 443, true),
                tcp(p("default", "app=a"), p("other", ""), 80, true),
            ],
        },
        Case {
            name: "04 deny-from-other-namespaces",
            files: &["04-deny-from-other-namespaces.yaml"],
            namespaces: &[("foo", "")],
            checks: vec![
                tcp(p("foo", "app=x"), web(), 80, false),
                tcp(p("default", "app=x"), web(), 80, true),
                tcp(End::Ip(EXTERNAL), web(), 80, false),
            ],
        },
        Case {
            name: "05 web-allow-all-namespaces",
            files: &["05-web-allow-all-namespaces.yaml"],
            namespaces: &[("secondary", "")],
            checks: vec![
                tcp(p("secondary", ""), web(), 80, true),
                tcp(p("default", ""), web(), 80, true),
                tcp(End::Ip(EXTERNAL), web(), 80, false),
            ],
        },
        Case {
            name: "06 web-allow-prod",
            files: &["06-web-allow-prod.yaml"],
            namespaces: &[("dev", "purpose=testing"), ("prod", "purpose=production")],
            checks: vec![
                tcp(p("prod", ""), web(), 80, true),
                tcp(p("dev", ""), web(), 80, false),
                tcp(p("default", ""), web(), 80, false),
                tcp(End::Ip(EXTERNAL), web(), 80, false),
            ],
        },
        Case {
            name: "07 web-allow-all-ns-monitoring (AND)",
            files: &["07-web-allow-all-ns-monitoring.yaml"],
            namespaces: &[("other", "team=operations")],
            checks: vec![
                tcp(p("other", "type=monitoring"), web(), 80, true),
                tcp(p("default", ""), web(), 80, false),
                tcp(p("default", "type=monitoring"), web(), 80, false),
                tcp(p("other", ""), web(), 80, false),
            ],
        },
        Case {
            name: "08 web-allow-external",
            files: &["08-web-allow-external.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(End::Ip(EXTERNAL), web(), 80, true),
                tcp(p("other", ""), web(), 80, true),
            ],
        },
        Case {
            name: "09 api-allow-5000 (pod port, not Service port)",
            files: &["09-api-allow-5000.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", ""), p("default", "app=apiserver"), 8000, false),
                tcp(p("default", ""), p("default", "app=apiserver"), 5000, false),
                tcp(
                    p("default", "role=monitoring"),
                    p("default", "app=apiserver"),
                    5000,
                    true,
                ),
                tcp(
                    p("default", "role=monitoring"),
                    p("default", "app=apiserver"),
                    8000,
                    false,
                ),
                tcp(
                    p("default", "role=monitoring"),
                    p("default", "app=apiserver"),
                    5001,
                    false,
                ),
                udp(
                    p("default", "role=monitoring"),
                    p("default", "app=apiserver"),
                    5000,
                    false,
                ),
                tcp(
                    p("other", "role=monitoring"),
                    p("default", "app=apiserver"),
                    5000,
                    false,
                ),
            ],
        },
        Case {
            name: "10 redis-allow-services (OR)",
            files: &["10-redis-allow-services.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(
                    p("default", "app=inventory,role=web"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    true,
                ),
                tcp(
                    p("default", "app=bookstore,role=search"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    true,
                ),
                tcp(
                    p("default", "app=bookstore,role=api"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    true,
                ),
                tcp(
                    p("default", "app=other"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    false,
                ),
                tcp(
                    p("default", "app=bookstore"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    false,
                ),
                tcp(
                    p("other", "app=inventory,role=web"),
                    p("default", "app=bookstore,role=db"),
                    6379,
                    false,
                ),
            ],
        },
        Case {
            name: "11a foo-deny-egress",
            files: &["11a-foo-deny-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(foo_pod(), web(), 80, false),
                udp(foo_pod(), dns(), 53, false),
                tcp(foo_pod(), End::Ip(EXTERNAL), 80, false),
                tcp(web(), foo_pod(), 80, true),
            ],
        },
        Case {
            name: "11b foo-deny-egress (allow DNS)",
            files: &["11b-foo-deny-egress.yaml"],
            namespaces: &[],
            checks: vec![
                udp(foo_pod(), dns(), 53, true),
                tcp(foo_pod(), dns(), 53, true),
                tcp(foo_pod(), web(), 80, false),
                tcp(foo_pod(), End::Ip("93.184.216.34"), 80, false),
                udp(foo_pod(), p("default", "k8s-app=kube-dns"), 53, false),
                udp(foo_pod(), p("kube-system", "k8s-app=other"), 53, false),
            ],
        },
        Case {
            name: "12 default-deny-all-egress",
            files: &["12-default-deny-all-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 443, false),
                udp(p("default", "app=a"), dns(), 53, false),
                tcp(p("default", "app=a"), p("default", "app=b"), 80, false),
                tcp(p("other", ""), p("default", "app=a"), 80, true),
            ],
        },
        Case {
            name: "14 foo-deny-external-egress (the YAML, not the README)",
            files: &["14-foo-deny-external-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(foo_pod(), web(), 80, false),
                tcp(foo_pod(), End::Ip(EXTERNAL), 80, false),
                udp(foo_pod(), dns(), 53, true),
                tcp(foo_pod(), dns(), 53, true),
            ],
        },
        Case {
            name: "website default-deny-ingress",
            files: &["network-policy-default-deny-ingress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), p("default", "app=b"), 80, false),
                tcp(End::Ip(EXTERNAL), p("default", "app=b"), 80, false),
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 80, true),
            ],
        },
        Case {
            name: "website allow-all-ingress",
            files: &["network-policy-allow-all-ingress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(End::Ip(EXTERNAL), p("default", "app=b"), 80, true),
                tcp(p("other", ""), p("default", "app=b"), 80, true),
            ],
        },
        Case {
            name: "website default-deny-egress",
            files: &["network-policy-default-deny-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 443, false),
                udp(p("default", "app=a"), dns(), 53, false),
                tcp(p("other", ""), p("default", "app=a"), 80, true),
            ],
        },
        Case {
            name: "website allow-all-egress",
            files: &["network-policy-allow-all-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 443, true),
                tcp(p("default", "app=a"), p("other", ""), 80, true),
            ],
        },
        Case {
            name: "website default-deny-all",
            files: &["network-policy-default-deny-all.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "app=a"), End::Ip(EXTERNAL), 443, false),
                tcp(End::Ip(EXTERNAL), p("default", "app=a"), 80, false),
                tcp(p("default", "app=a"), p("default", "app=b"), 80, false),
                tcp(p("other", ""), p("default", "app=a"), 80, false),
            ],
        },
        Case {
            name: "website test-network-policy",
            files: &["networkpolicy.yaml"],
            namespaces: &[("myns", "project=myproject"), ("elsewhere", "")],
            checks: vec![
                tcp(End::Ip("172.17.0.5"), p("default", "role=db"), 6379, true),
                tcp(End::Ip("172.17.1.5"), p("default", "role=db"), 6379, false),
                tcp(End::Ip("10.9.0.1"), p("default", "role=db"), 6379, false),
                tcp(p("myns", "any=pod"), p("default", "role=db"), 6379, true),
                tcp(
                    p("default", "role=frontend"),
                    p("default", "role=db"),
                    6379,
                    true,
                ),
                tcp(
                    p("elsewhere", "role=frontend"),
                    p("default", "role=db"),
                    6379,
                    false,
                ),
                tcp(
                    p("default", "role=frontend"),
                    p("default", "role=db"),
                    6380,
                    false,
                ),
                udp(
                    p("default", "role=frontend"),
                    p("default", "role=db"),
                    6379,
                    false,
                ),
                tcp(p("default", "role=db"), End::Ip("10.0.0.5"), 5978, true),
                tcp(p("default", "role=db"), End::Ip("10.0.1.5"), 5978, false),
                tcp(p("default", "role=db"), End::Ip("10.0.0.5"), 5979, false),
                udp(p("default", "role=db"), dns(), 53, false),
            ],
        },
        Case {
            name: "website multi-port-egress (endPort)",
            files: &["networkpolicy-multiport-egress.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(p("default", "role=db"), End::Ip("10.0.0.9"), 32000, true),
                tcp(p("default", "role=db"), End::Ip("10.0.0.9"), 32768, true),
                tcp(p("default", "role=db"), End::Ip("10.0.0.9"), 32769, false),
                tcp(p("default", "role=db"), End::Ip("10.0.0.9"), 31999, false),
                udp(p("default", "role=db"), End::Ip("10.0.0.9"), 32000, false),
                tcp(p("default", "role=db"), End::Ip("10.0.1.9"), 32000, false),
                tcp(End::Ip(EXTERNAL), p("default", "role=db"), 80, true),
            ],
        },
        Case {
            name: "website access-nginx",
            files: &["nginx-policy.yaml"],
            namespaces: &[],
            checks: vec![
                tcp(
                    p("default", "access=true"),
                    p("default", "app=nginx"),
                    80,
                    true,
                ),
                tcp(p("default", ""), p("default", "app=nginx"), 80, false),
            ],
        },
    ]
}

fn file_path(dir: &Path, file: &str) -> PathBuf {
    let recipe = dir.join(RECIPES).join(file);
    if recipe.is_file() {
        recipe
    } else {
        dir.join(WEBSITE).join(file)
    }
}

fn network(dir: &Path, case: &Case) -> Result<Network, String> {
    let mut objects = Vec::new();
    for file in case.files {
        let loaded = kubeharden_engine::load::load_file(&file_path(dir, file));
        if !loaded.diagnostics.is_empty() {
            return Err(format!("{file}: {:?}", loaded.diagnostics));
        }
        objects.extend(loaded.objects);
    }
    let mut net = Network::from_objects(&objects);
    if net.policies.len() != case.files.len() {
        return Err(format!("{} policies read", net.policies.len()));
    }
    for p in &net.policies {
        if !p.is_valid() {
            return Err(format!("{} rejected: {:?}", p.identity(), p.problems));
        }
    }
    for (name, labels) in case.namespaces {
        net.namespaces.declare(name, pod("default", labels).labels);
    }
    Ok(net)
}

#[test]
fn corpus_netpol_expected_behaviour() {
    let Some(dir) = corpus_dir() else { return };
    let cases = cases();
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let net = match network(&dir, case) {
            Ok(net) => net,
            Err(e) => {
                failures.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        let mut ok = true;
        for c in &case.checks {
            let reach = net.reach(&c.from.endpoint(), &c.to.endpoint(), c.port, c.protocol);
            if reach.allowed() != c.allowed {
                ok = false;
                failures.push(format!(
                    "{}: {} -> {} {}/{}: expected {}, got {:?}",
                    case.name,
                    c.from.describe(),
                    c.to.describe(),
                    c.protocol,
                    c.port,
                    if c.allowed { "allowed" } else { "denied" },
                    reach
                ));
            }
        }
        passed += usize::from(ok);
    }
    eprintln!("netpol corpus: {passed}/{} cases pass", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_allow_wins_and_names_the_rule() {
    let Some(dir) = corpus_dir() else { return };
    let case = Case {
        name: "01+02a",
        files: &["01-web-deny-all.yaml", "02a-web-allow-all.yaml"],
        namespaces: &[],
        checks: Vec::new(),
    };
    let net = network(&dir, &case).unwrap();
    let web = pod("default", "app=web");
    let other = pod("default", "app=x");
    let r = net.reach(
        &Endpoint::Pod(PodRef::new(other.ns, &other.labels)),
        &Endpoint::Pod(PodRef::new(web.ns, &web.labels)),
        80,
        Protocol::Tcp,
    );
    match &r.ingress {
        Side::Allowed(by) => {
            assert_eq!(by.len(), 1);
            assert_eq!(by[0].policy, "NetworkPolicy/default/web-allow-all");
            assert_eq!(by[0].rule, "/spec/ingress/0");
        }
        other => panic!("{other:?}"),
    }
}

/// The rules over the corpus: a workload in `default` next to each policy file.
#[test]
fn corpus_default_deny_rules() {
    let Some(dir) = corpus_dir() else { return };
    let workload = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default, labels: {app: web}}\nspec:\n  containers: [{name: a, image: i}]\n";
    let rules_for = |files: &[&str]| -> Vec<&'static str> {
        let mut text = String::new();
        for f in files {
            text.push_str("---\n");
            text.push_str(&std::fs::read_to_string(file_path(&dir, f)).unwrap());
            text.push('\n');
        }
        text.push_str(workload);
        let report = scan_all(&[Input::Bytes {
            name: "corpus".into(),
            bytes: text.as_bytes().into(),
        }]);
        assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
        let mut ids: Vec<&'static str> = report
            .findings
            .iter()
            .map(|f| f.rule)
            .filter(|r| {
                r.starts_with("namespace-missing-default-deny")
                    || r.starts_with("workload-not-selected")
                    || r.starts_with("network-policy-selects")
                    || r.starts_with("egress-")
                    || r.starts_with("dns-")
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    assert_eq!(
        rules_for(&["network-policy-default-deny-all.yaml"]),
        Vec::<&str>::new()
    );
    assert_eq!(
        rules_for(&["network-policy-default-deny-ingress.yaml"]),
        ["namespace-missing-default-deny-egress"]
    );
    assert_eq!(
        rules_for(&["network-policy-default-deny-egress.yaml"]),
        ["namespace-missing-default-deny-ingress"]
    );
    // 03 is named "default-deny-all" but only denies ingress.
    assert_eq!(
        rules_for(&[
            "03-default-deny-all.yaml",
            "12-default-deny-all-egress.yaml"
        ]),
        Vec::<&str>::new()
    );
    assert_eq!(
        rules_for(&["03-default-deny-all.yaml"]),
        ["namespace-missing-default-deny-egress"]
    );
    // Allow-all ingress undoes the default deny.
    assert_eq!(
        rules_for(&[
            "network-policy-default-deny-all.yaml",
            "network-policy-allow-all-ingress.yaml"
        ]),
        ["namespace-missing-default-deny-ingress"]
    );
    assert_eq!(
        rules_for(&[
            "network-policy-default-deny-all.yaml",
            "network-policy-allow-all-egress.yaml"
        ]),
        [
            "egress-to-any-destination",
            "namespace-missing-default-deny-egress"
        ]
    );
    // web-deny-all selects the workload; the namespace has no default deny.
    assert_eq!(
        rules_for(&["01-web-deny-all.yaml"]),
        [
            "namespace-missing-default-deny-egress",
            "namespace-missing-default-deny-ingress"
        ]
    );
    // 02 selects nothing of the input; the pod is selected by nothing.
    assert_eq!(
        rules_for(&["02-api-allow.yaml"]),
        [
            "namespace-missing-default-deny-egress",
            "namespace-missing-default-deny-ingress",
            "network-policy-selects-nothing",
            "workload-not-selected-by-network-policy"
        ]
    );
    // DNS only to kube-dns in kube-system: no egress finding.
    assert_eq!(
        rules_for(&[
            "03-default-deny-all.yaml",
            "14-foo-deny-external-egress.yaml"
        ]),
        [
            "namespace-missing-default-deny-egress",
            "network-policy-selects-nothing"
        ]
    );
}
