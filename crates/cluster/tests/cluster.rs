//! The real kube-rs client against the in-process API double (`apidouble/`), serving corpus
//! objects: discovery, pagination, metadata-only Secrets, 403 → not assessed, 500 → retried,
//! cluster-only evidence, and the equality of `cluster` findings with a scan of kubectl dumps.

mod apidouble;

use apidouble::{Double, Faults};
use kubeharden_cluster::{Options, Snapshot, collect, connect, kinds};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::{Report, Status};
use kubeharden_engine::rules::{self, Section};
use kubeharden_engine::scan::scan_all;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

fn corpus_objects() -> Option<Vec<serde_json::Value>> {
    let corpus = apidouble::corpus_dir()?;
    let dirs: Vec<_> = [
        "vulnerable",
        "real/calico",
        "real/cert-manager",
        "real/gatekeeper",
        "real/kube-bench",
        "real/kube-state-metrics",
        "real/metrics-server",
        "real/istio",
        "real/kubernetes-examples",
    ]
    .iter()
    .map(|d| corpus.join(d))
    .collect();
    let mut objects = apidouble::objects_under(&dirs);
    objects.extend(apidouble::cluster_basics());
    Some(objects)
}

fn options() -> Options {
    Options {
        page_size: 25,
        backoff: Duration::from_millis(10),
        ..Options::default()
    }
}

struct Served {
    double: Arc<Double>,
    _dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

async fn serve(objects: Vec<serde_json::Value>, faults: Faults, exec: bool) -> Served {
    let double = Arc::new(Double::new(objects, faults));
    let addr = apidouble::serve(Arc::clone(&double)).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        apidouble::kubeconfig(addr, &double.token, exec),
    )
    .unwrap();
    Served {
        double,
        _dir: dir,
        kubeconfig,
    }
}

async fn read(served: &Served, options: &Options) -> Snapshot {
    let target = connect(Some(&served.kubeconfig), None, Duration::from_secs(10))
        .await
        .expect("connect");
    collect(&target, options).await.expect("collect")
}

fn score(report: &Report, seed: Section) -> &kubeharden_engine::report::SectionScore {
    report.scorecard.iter().find(|s| s.section == seed).unwrap()
}

/// Is the resource one the auditor reads (as `kubectl get` of the same kinds would)?
fn wanted(group: &str, plural: &str) -> bool {
    kinds::wanted(group, plural).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_everything_with_pagination_discovery_and_metadata_only_secrets() {
    let Some(objects) = corpus_objects() else {
        return;
    };
    let served = serve(objects, Faults::default(), false).await;
    let snapshot = read(&served, &options()).await;
    let double = &served.double;

    // Every object of a wanted resource was read, each exactly once.
    let expected: usize = double
        .objects
        .iter()
        .filter(|((g, p), _)| wanted(g, p))
        .map(|((g, p), v)| {
            if g == "discovery.k8s.io" && p == "endpointslices" {
                v.iter()
                    .filter(|o| {
                        o["metadata"]["labels"]["kubernetes.io/service-name"] == "kubernetes"
                    })
                    .count()
            } else {
                v.len()
            }
        })
        .sum();
    assert!(
        expected > 500,
        "the corpus should give a realistic cluster: {expected}"
    );
    assert_eq!(snapshot.objects, expected);
    let names: BTreeSet<String> = snapshot
        .inputs
        .iter()
        .map(|i| match i {
            Input::Bytes { name, .. } => name.clone(),
            _ => panic!("cluster inputs are bytes"),
        })
        .collect();
    assert_eq!(names.len(), snapshot.inputs.len(), "no object read twice");
    assert!(names.contains("cluster:ClusterConnection/double"));
    assert!(names.contains("cluster:DaemonSet/kube-system/kube-proxy"));
    // Nothing was unreadable; the Secrets were read as metadata only, which is said (the rules
    // judging Secret values are not assessed in a cluster audit).
    assert!(
        snapshot
            .unavailable
            .iter()
            .all(|u| u.values_only && u.kind == "Secret"),
        "{:?}",
        snapshot.unavailable
    );
    assert!(!snapshot.unavailable.is_empty());

    // Pagination: lists of more than a page were followed through their continue tokens.
    let log = double.requests();
    let continued: Vec<_> = log
        .iter()
        .filter(|l| l.query.contains("continue="))
        .collect();
    assert!(continued.len() > 10, "{} continued pages", continued.len());
    assert!(log.iter().all(|l| l.path == "/api/v1/pods"
        || !l.query.contains("limit=")
        || l.query.contains("limit=25")));
    // Discovery of CRD groups, and lists of their resources.
    assert!(log.iter().any(|l| l.path == "/apis"));
    assert!(
        log.iter()
            .any(|l| l.path.starts_with("/apis/templates.gatekeeper.sh/"))
    );
    assert!(
        log.iter()
            .any(|l| l.path == "/apis/crd.projectcalico.org/v1/globalnetworkpolicies")
    );
    assert!(
        snapshot.kinds.get("ClusterPolicy").is_some_and(|&n| n > 0),
        "{:?}",
        snapshot.kinds
    );
    assert!(
        snapshot
            .kinds
            .keys()
            .any(|k| k == "GlobalNetworkPolicy" || k == "NetworkPolicy")
    );
    // Resources the rules do not use are not read.
    assert!(
        !log.iter()
            .any(|l| l.path.ends_with("/services") || l.path.contains("customresourcedefinitions"))
    );

    // Secrets: only ever requested as metadata Tables; no value reached an input.
    let secret_requests: Vec<_> = log
        .iter()
        .filter(|l| l.path.ends_with("/secrets"))
        .collect();
    assert!(!secret_requests.is_empty());
    for r in &secret_requests {
        assert!(
            r.accept.contains("as=Table") && r.query.contains("includeObject=Metadata"),
            "{r:?}"
        );
    }
    for input in &snapshot.inputs {
        let Input::Bytes { name, bytes } = input else {
            unreachable!()
        };
        if name.starts_with("cluster:Secret/") {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            assert!(
                v.get("data").is_none() && v.get("stringData").is_none(),
                "{name}"
            );
            assert!(
                v["type"].is_string(),
                "{name}: the type comes from the Table"
            );
        }
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(
            !text.contains("c3VwZXItc2VjcmV0LXZhbHVlLTQy"),
            "a secret value was read"
        );
    }

    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    // The token Secret is judged from metadata; the old hand-made Secret by its age.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "legacy-service-account-token" && f.subject.name == "ci-token")
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "secret-not-rotated" && f.subject.name == "db-password")
    );
    // Findings point into the object as read: `cluster:Kind/ns/name:line`.
    let f = report
        .findings
        .iter()
        .find(|f| f.rule == "container-privileged" && f.subject.name == "kube-proxy")
        .expect("kube-proxy is privileged");
    assert_eq!(
        &*f.location.origin,
        "cluster:DaemonSet/kube-system/kube-proxy"
    );
    assert!(
        f.snippet
            .iter()
            .any(|l| l.text.contains("\"privileged\": true")),
        "{:?}",
        f.snippet
    );
    // A whole cluster: the runtime section is assessed. Falco runs, but not on the tainted
    // control-plane node.
    let runtime = score(&report, Section::Runtime);
    assert!(
        runtime.assessed.contains(&"runtime-detection-missing"),
        "{runtime:?}"
    );
    let falco = report
        .findings
        .iter()
        .find(|f| f.rule == "runtime-detection-missing")
        .expect("falco coverage");
    assert!(falco.message.contains("cp-1"), "{}", falco.message);
    // Rule 1 from the endpoint (127.0.0.1: private), and control-plane flags from mirror Pods.
    assert!(
        score(&report, Section::Rule(1))
            .assessed
            .contains(&"apiserver-endpoint-public")
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.rule == "apiserver-endpoint-public")
    );
    assert!(
        report
            .summary
            .evidence
            .has(kubeharden_engine::evidence::Found::KubeApiserver)
    );
    // No probe without --probe-anonymous: rule 5's probe is not assessed, and says how.
    let s5 = score(&report, Section::Rule(5));
    assert!(
        s5.missing.iter().any(|m| m.contains("--probe-anonymous")),
        "{s5:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_lists_fail_closed_and_server_errors_are_retried() {
    let Some(objects) = corpus_objects() else {
        return;
    };
    let faults = Faults {
        forbidden: vec![
            ("networking.k8s.io".into(), "networkpolicies".into()),
            ("".into(), "secrets".into()),
        ],
        fail_once: vec![
            ("".into(), "pods".into()),
            ("apps".into(), "deployments".into()),
        ],
        ..Faults::default()
    };
    let served = serve(objects, faults, false).await;
    let snapshot = read(&served, &options()).await;
    let log = served.double.requests();

    // The 500s were retried and the lists completed.
    let errors: Vec<_> = log.iter().filter(|l| l.status == 500).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for e in &errors {
        let retried = log
            .iter()
            .filter(|l| l.path == e.path && l.query == e.query && l.status == 200)
            .count();
        assert_eq!(retried, 1, "{} {} was retried", e.path, e.query);
    }
    let pods = served.double.objects[&("".to_owned(), "pods".to_owned())].len();
    assert_eq!(snapshot.kinds["Pod"], pods);

    // The 403s are gaps naming the permission; nothing else is.
    let gaps: Vec<_> = snapshot
        .unavailable
        .iter()
        .map(|u| u.resource_name())
        .collect();
    assert_eq!(gaps, ["secrets", "networkpolicies.networking.k8s.io"]);
    assert!(
        snapshot.unavailable[1]
            .reason
            .contains("grant `list` on `networkpolicies`")
    );
    assert!(
        snapshot.unavailable[1]
            .reason
            .contains("cannot list resource")
    );

    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    // Section 11 (default-deny NetworkPolicies) is not assessed, with the reason, and its
    // cross-object findings (which would claim namespaces have no policy) are withheld.
    let s11 = score(&report, Section::Rule(11));
    assert_eq!(s11.status, Status::NotAssessed, "{s11:?}");
    assert!(
        s11.missing
            .iter()
            .any(|m| m.contains("403") && m.contains("networkpolicies")),
        "{s11:?}"
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.section == Section::Rule(11))
    );
    // Secret ages: not assessed; rule 15 names the missing permission.
    let s15 = score(&report, Section::Rule(15));
    assert!(!s15.assessed.contains(&"secret-not-rotated"));
    assert!(
        s15.missing
            .iter()
            .any(|m| m.contains("secrets") && m.contains("403")),
        "{s15:?}"
    );
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.origin == "cluster:networkpolicies.networking.k8s.io")
    );
    // Per-object findings on what was read remain.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "container-privileged")
    );
}

/// Findings as compared between the two routes: everything but the location's origin and line.
fn keyed(report: &Report) -> BTreeSet<(String, String, String, String)> {
    report
        .findings
        .iter()
        // Cluster-only evidence: the connection record and the server's `/version`.
        .filter(|f| {
            !matches!(
                f.subject.kind.as_str(),
                "ClusterConnection" | "KubernetesVersion"
            )
        })
        .map(|f| {
            (
                f.rule.to_owned(),
                f.fingerprint.to_string(),
                f.severity.to_string(),
                f.message.to_string(),
            )
        })
        .collect()
}

/// Rules that read Secret values: a dump has them, the cluster auditor never reads them.
const VALUE_RULES: &[&str] = &["secret-values-in-manifest", "hardcoded-credential-in-env"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_dumps_give_the_same_findings_as_the_cluster() {
    let Some(objects) = corpus_objects() else {
        return;
    };
    // The server's `/version` is cluster-only evidence (a dump has none): a release newer than
    // the support table, so that it fails no section of its own.
    let faults = Faults {
        git_version: Some("v1.99.0".into()),
        ..Faults::default()
    };
    let served = serve(objects, faults, false).await;
    let snapshot = read(&served, &options()).await;
    let cluster = kubeharden_cluster::scan(&snapshot, rules::all());
    assert!(cluster.findings.len() > 100, "{}", cluster.findings.len());

    // `kubectl get <every kind read> -A -o json` and `-o yaml`.
    let dump = served.double.dump(wanted);
    let json = serde_json::to_vec_pretty(&dump).unwrap();
    let yaml = kubeharden_report::to_yaml(&dump);
    for (name, bytes) in [("dump.json", json), ("dump.yaml", yaml.into_bytes())] {
        let report = scan_all(&[Input::Bytes {
            name: name.into(),
            bytes: bytes.into(),
        }]);
        assert!(
            !report.has_input_errors(),
            "{name}: {:?}",
            report.diagnostics
        );
        let from_dump = keyed(&report);
        let from_cluster = keyed(&cluster);
        let only_cluster: Vec<_> = from_cluster.difference(&from_dump).collect();
        assert!(
            only_cluster.is_empty(),
            "{name}: only in the cluster scan: {only_cluster:#?}"
        );
        // The dump holds Secret values; only value-reading rules may see more there.
        let only_dump: Vec<_> = from_dump
            .difference(&from_cluster)
            .filter(|(rule, ..)| !VALUE_RULES.contains(&rule.as_str()))
            .collect();
        assert!(
            only_dump.is_empty(),
            "{name}: only in the dump: {only_dump:#?}"
        );
        // The same scorecard, but for the cluster-only evidence (endpoint).
        for (a, b) in cluster.scorecard.iter().zip(&report.scorecard) {
            if a.section != Section::Rule(1)
                && a.section != Section::Rule(14)
                && a.section != Section::Rule(15)
            {
                assert_eq!(a.status, b.status, "{name}: section {}", a.section);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_probe_exec_credentials_and_rejected_credentials() {
    let objects = apidouble::cluster_basics();
    let faults = Faults {
        anonymous: true,
        ..Faults::default()
    };
    // Credentials from an exec plugin, as kubectl runs it.
    let served = serve(objects.clone(), faults, true).await;
    let mut opts = options();
    opts.probe_anonymous = true;
    let snapshot = read(&served, &opts).await;
    let log = served.double.requests();
    assert!(
        log.iter()
            .filter(|l| l.path.ends_with("/pods"))
            .all(|l| l.authorized && l.status == 200)
    );
    // The probe carried no credentials, and was answered.
    let probes: Vec<_> = log.iter().filter(|l| !l.authorized).collect();
    assert_eq!(
        probes.iter().map(|l| l.path.as_str()).collect::<Vec<_>>(),
        ["/version", "/api", "/apis"]
    );
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    let f: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "apiserver-answers-anonymous-requests")
        .collect();
    assert_eq!(f.len(), 3, "{f:?}");
    assert_eq!(&*f[0].location.origin, "cluster:ClusterConnection/double");
    assert!(
        score(&report, Section::Rule(5))
            .assessed
            .contains(&"apiserver-answers-anonymous-requests")
    );

    // Anonymous access refused (401): assessed, no finding.
    let served = serve(objects.clone(), Faults::default(), false).await;
    let report = kubeharden_cluster::scan(&read(&served, &opts).await, rules::all());
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.rule == "apiserver-answers-anonymous-requests")
    );
    assert!(
        score(&report, Section::Rule(5))
            .assessed
            .contains(&"apiserver-answers-anonymous-requests")
    );

    // Wrong credentials: an error, not an empty cluster.
    let served = serve(objects, Faults::default(), false).await;
    let bad = served.kubeconfig.with_file_name("bad");
    let text = std::fs::read_to_string(&served.kubeconfig).unwrap();
    std::fs::write(&bad, text.replace("auditor-token", "wrong")).unwrap();
    let target = connect(Some(&bad), None, Duration::from_secs(5))
        .await
        .unwrap();
    let err = collect(&target, &opts).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_limit_the_namespaced_lists() {
    let served = serve(apidouble::cluster_basics(), Faults::default(), false).await;
    let mut opts = options();
    opts.namespaces = vec!["kube-system".into()];
    let snapshot = read(&served, &opts).await;
    let log = served.double.requests();
    assert!(
        log.iter()
            .any(|l| l.path == "/api/v1/namespaces/kube-system/pods")
    );
    assert!(!log.iter().any(|l| l.path == "/api/v1/pods"));
    assert!(log.iter().any(|l| {
        l.path == "/api/v1/namespaces"
            && l.query
                .contains("fieldSelector=metadata.name%3Dkube-system")
    }));
    assert_eq!(snapshot.kinds.get("Namespace"), Some(&1));
    assert_eq!(snapshot.kinds.get("Secret"), Some(&0));
    assert!(snapshot.kinds.get("Node").is_some_and(|&n| n == 3));
}

/// deploy/rbac grants `list` on exactly what the auditor reads, and nothing else.
#[test]
fn the_deployed_cluster_roles_grant_exactly_what_is_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/rbac");
    let mut granted = BTreeSet::new();
    for file in ["clusterrole.yaml", "clusterrole-secrets.yaml"] {
        let loaded = kubeharden_engine::load::load_file(&dir.join(file));
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        for role in &loaded.objects {
            assert_eq!(role.kind, "ClusterRole");
            let rules = role.root.to_json()["rules"].clone();
            for rule in rules.as_array().unwrap() {
                assert_eq!(rule["verbs"], serde_json::json!(["list"]), "{rule}");
                assert!(
                    rule.get("nonResourceURLs").is_none() && rule.get("resourceNames").is_none()
                );
                for g in rule["apiGroups"].as_array().unwrap() {
                    for r in rule["resources"].as_array().unwrap() {
                        let pair = (
                            g.as_str().unwrap().to_owned(),
                            r.as_str().unwrap().to_owned(),
                        );
                        assert!(granted.insert(pair.clone()), "granted twice: {pair:?}");
                    }
                }
            }
        }
    }
    let wanted: BTreeSet<(String, String)> = kinds::WANTED
        .iter()
        .map(|w| (w.group.to_owned(), w.plural.to_owned()))
        .collect();
    assert_eq!(granted, wanted);
}

/// The API server's `/version` (issue 26, versions): a `gitVersion` past its end of support is a
/// `kubernetes-version-unsupported` finding located at the server's URL + `/version`; a
/// supported one is none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_version_past_end_of_support() {
    let faults = Faults {
        git_version: Some("v1.16.2".into()),
        ..Faults::default()
    };
    let served = serve(apidouble::cluster_basics(), faults, false).await;
    let snapshot = read(&served, &options()).await;
    let server = snapshot.server.trim_end_matches('/').to_owned();
    assert!(
        served
            .double
            .requests()
            .iter()
            .any(|l| l.path == "/version")
    );
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    let found: Vec<(String, String, u32, u32, String)> = report
        .findings
        .iter()
        .filter(|f| {
            f.rule == "kubernetes-version-unsupported" && f.subject.kind == "KubernetesVersion"
        })
        .map(|f| {
            (
                format!("{}/{}", f.subject.kind, f.subject.name),
                f.location.origin.to_string(),
                f.location.line,
                f.location.column,
                f.message.to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            "KubernetesVersion/kube-apiserver".to_owned(),
            format!("{server}/version"),
            1,
            2,
            "the API server runs Kubernetes v1.16.2 (1.16), past its upstream end of support (2020-09-02; support table of 2026-04-22): it receives no security fixes".to_owned()
        )]
    );

    // A release newer than the support table counts as supported.
    let faults = Faults {
        git_version: Some("v1.99.0".into()),
        ..Faults::default()
    };
    let served = serve(apidouble::cluster_basics(), faults, false).await;
    let snapshot = read(&served, &options()).await;
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.subject.kind == "KubernetesVersion"),
        "v1.99.0 is newer than the table"
    );
}
