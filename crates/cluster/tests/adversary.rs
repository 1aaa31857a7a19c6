//! An API server that does not play along: lists cut short (a continued page that fails, is
//! gone or not found, a repeated or dropped continue token, a page without its items), resources
//! left out of discovery, lists never answered, and servers that never answer or never accept a
//! connection. Each must end as a gap (the rules that need it "not assessed", their cross-object
//! findings withheld) or as a clear error, within the time bounds.

mod apidouble;

use apidouble::{Double, Faults, PageFault};
use kubeharden_cluster::{Options, Snapshot, collect, connect};
use kubeharden_engine::finish::{Exit, Finish, finish};
use kubeharden_engine::report::{Report, SectionScore, Status};
use kubeharden_engine::rules::{self, Section};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFAULT_SA_RULE: &str = "workload-uses-default-service-account";

/// The basics, plus a namespace whose `default` ServiceAccount has no token mounted and a
/// Deployment running as it (so a correct audit reports nothing about it), and enough objects
/// of each kind for several pages of two.
fn objects() -> Vec<Value> {
    let mut out = apidouble::cluster_basics();
    out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    for ns in ["shop", "default", "kube-system", "falco"] {
        out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": ns},
            "automountServiceAccountToken": false}));
        out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "app", "namespace": ns}}));
        out.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": ns}, "data": {"mode": "fast"}}));
    }
    for name in ["web", "api", "worker"] {
        out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": "ghcr.io/acme/web:1.0"}]}}}}));
    }
    for name in ["web-1", "web-2", "web-3"] {
        out.push(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"serviceAccountName": "app",
                "containers": [{"name": "web", "image": "ghcr.io/acme/web:1.0"}]}}));
    }
    out.push(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "api-key", "namespace": "shop"}, "type": "Opaque",
        "data": {"key": "aGVsbG8="}}));
    for name in ["reader", "writer", "auditor"] {
        out.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        );
    }
    out
}

struct Served {
    double: Arc<Double>,
    _dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

async fn serve(faults: Faults) -> Served {
    let double = Arc::new(Double::new(objects(), faults));
    let addr = apidouble::serve(Arc::clone(&double)).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        apidouble::kubeconfig(addr, &double.token, false),
    )
    .unwrap();
    Served {
        double,
        _dir: dir,
        kubeconfig,
    }
}

fn options() -> Options {
    Options {
        page_size: 2,
        retries: 2,
        backoff: Duration::from_millis(10),
        ..Options::default()
    }
}

async fn read(served: &Served, options: &Options, timeout: Duration) -> Snapshot {
    let target = connect(Some(&served.kubeconfig), None, timeout)
        .await
        .expect("connect");
    collect(&target, options).await.expect("collect")
}

fn score(report: &Report, seed: Section) -> &SectionScore {
    report.scorecard.iter().find(|s| s.section == seed).unwrap()
}

fn gap<'a>(snapshot: &'a Snapshot, resource: &str) -> &'a str {
    snapshot
        .unavailable
        .iter()
        .find(|u| u.resource_name() == resource && !u.values_only)
        .map(|u| u.reason.as_str())
        .unwrap_or_else(|| panic!("no gap for {resource}: {:#?}", snapshot.unavailable))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_audit_reads_everything() {
    let served = serve(Faults::default()).await;
    let snapshot = read(&served, &options(), Duration::from_secs(10)).await;
    assert!(
        snapshot.unavailable.iter().all(|u| u.values_only),
        "{:#?}",
        snapshot.unavailable
    );
    assert_eq!(snapshot.kinds["ServiceAccount"], 8);
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    // The default ServiceAccounts mount no token: nothing to report, and assessed.
    assert!(!report.findings.iter().any(|f| f.rule == DEFAULT_SA_RULE));
    assert!(
        score(&report, Section::Rule(2))
            .assessed
            .contains(&DEFAULT_SA_RULE)
    );
}

/// Item 9: a ServiceAccount list that is cut short is unreadable, not complete: the default
/// ServiceAccount rule (which would otherwise report every Deployment of `shop`, not seeing that
/// its ServiceAccount mounts no token) is not assessed and reports nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_lists_are_gaps_not_shorter_lists() {
    let sa = ("".to_owned(), "serviceaccounts".to_owned());
    let faults = Faults {
        pages: vec![
            (sa.clone(), PageFault::Status(500)),
            (("".into(), "pods".into()), PageFault::RepeatToken),
            (("apps".into(), "deployments".into()), PageFault::Dropped),
            (("".into(), "secrets".into()), PageFault::NoItems),
            (("".into(), "configmaps".into()), PageFault::Status(404)),
            (
                ("rbac.authorization.k8s.io".into(), "clusterroles".into()),
                PageFault::Status(410),
            ),
            (("".into(), "nodes".into()), PageFault::NoItems),
        ],
        ..Faults::default()
    };
    let served = serve(faults).await;
    let snapshot = read(&served, &options(), Duration::from_secs(10)).await;

    let reason = gap(&snapshot, "serviceaccounts");
    assert!(
        reason.contains("stopped after 1 page") && reason.contains("HTTP 500"),
        "{reason}"
    );
    let reason = gap(&snapshot, "pods");
    assert!(reason.contains("continue token again"), "{reason}");
    let reason = gap(&snapshot, "deployments.apps");
    assert!(reason.contains("more objects remain"), "{reason}");
    let reason = gap(&snapshot, "secrets");
    assert!(reason.contains("without `rows`"), "{reason}");
    let reason = gap(&snapshot, "configmaps");
    assert!(reason.contains("answered 404"), "{reason}");
    let reason = gap(&snapshot, "clusterroles.rbac.authorization.k8s.io");
    assert!(reason.contains("HTTP 410"), "{reason}");
    let reason = gap(&snapshot, "nodes");
    assert!(reason.contains("without an `items` list"), "{reason}");
    // The 410 restarted the list once before giving up.
    let restarts = served
        .double
        .requests()
        .iter()
        .filter(|l| {
            l.path == "/apis/rbac.authorization.k8s.io/v1/clusterroles"
                && !l.query.contains("continue")
        })
        .count();
    assert_eq!(restarts, 2);
    // Nothing of a list cut short is used: no partial kind.
    for kind in [
        "ServiceAccount",
        "Pod",
        "Deployment",
        "Secret",
        "ConfigMap",
        "ClusterRole",
        "Node",
    ] {
        assert!(!snapshot.kinds.contains_key(kind), "{kind} was kept");
    }

    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    assert!(!report.findings.iter().any(|f| f.rule == DEFAULT_SA_RULE));
    let s2 = score(&report, Section::Rule(2));
    assert!(!s2.assessed.contains(&DEFAULT_SA_RULE), "{s2:?}");
    assert!(
        s2.missing
            .iter()
            .any(|m| m.starts_with(DEFAULT_SA_RULE) && m.contains("serviceaccounts")),
        "{s2:?}"
    );
    // The Secret values and ages, and the legacy tokens, are not assessed either.
    let s14 = score(&report, Section::Rule(14));
    assert!(
        !s14.assessed.contains(&"secret-values-in-manifest"),
        "{s14:?}"
    );
    let s15 = score(&report, Section::Rule(15));
    assert!(!s15.assessed.contains(&"secret-not-rotated"), "{s15:?}");
    assert!(
        !s15.assessed.contains(&"legacy-service-account-token"),
        "{s15:?}"
    );
    // The runtime absence checks need the Nodes and workloads that were cut short.
    let runtime = score(&report, Section::Runtime);
    assert!(
        !runtime.assessed.contains(&"runtime-detection-missing"),
        "{runtime:?}"
    );
    // An audit with gaps is incomplete (exit 2) unless allowed.
    let (report, gaps) = kubeharden_cluster::scan_into(snapshot, rules::all());
    let how = Finish {
        gaps: &gaps,
        ..Finish::default()
    };
    assert_eq!(finish(report, &how).1, Exit::Incomplete);
}

/// Item 9: forbidden Secrets and ServiceAccounts take the rules that read them out of the
/// assessment, with the permission to grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_secrets_and_service_accounts_are_not_assessed() {
    let faults = Faults {
        forbidden: vec![
            ("".into(), "secrets".into()),
            ("".into(), "serviceaccounts".into()),
        ],
        ..Faults::default()
    };
    let served = serve(faults).await;
    let snapshot = read(&served, &options(), Duration::from_secs(10)).await;
    // A forbidden Secret list is not "read as metadata only": no values-only note for it.
    assert!(
        !snapshot.unavailable.iter().any(|u| u.values_only),
        "{:#?}",
        snapshot.unavailable
    );
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    let s14 = score(&report, Section::Rule(14));
    assert!(
        !s14.assessed.contains(&"secret-values-in-manifest"),
        "{s14:?}"
    );
    assert!(
        s14.missing
            .iter()
            .any(|m| m.starts_with("secret-values-in-manifest")
                && m.contains("403")
                && m.contains("secrets")),
        "{s14:?}"
    );
    let s2 = score(&report, Section::Rule(2));
    assert!(!s2.assessed.contains(&DEFAULT_SA_RULE), "{s2:?}");
    assert!(
        s2.missing
            .iter()
            .any(|m| m.starts_with(DEFAULT_SA_RULE) && m.contains("403")),
        "{s2:?}"
    );
    assert!(!report.findings.iter().any(|f| f.rule == DEFAULT_SA_RULE));
    // Per-object findings on what was read remain.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "container-privileged")
    );
}

/// A resource every API server serves, missing from discovery, is a gap, not an empty list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_builtin_resource_missing_from_discovery_is_a_gap() {
    let faults = Faults {
        undiscovered: vec![
            ("".into(), "serviceaccounts".into()),
            ("networking.k8s.io".into(), "networkpolicies".into()),
        ],
        ..Faults::default()
    };
    let served = serve(faults).await;
    let snapshot = read(&served, &options(), Duration::from_secs(10)).await;
    let reason = gap(&snapshot, "serviceaccounts");
    assert!(
        reason.contains("discovery does not offer `list` on serviceaccounts"),
        "{reason}"
    );
    gap(&snapshot, "networkpolicies.networking.k8s.io");
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    assert_eq!(
        score(&report, Section::Rule(11)).status,
        Status::NotAssessed
    );
    assert!(
        !score(&report, Section::Rule(2))
            .assessed
            .contains(&DEFAULT_SA_RULE)
    );
}

/// Item 12: lists that are never answered end as gaps when their request times out, and the
/// whole collection ends by its deadline; retries and their backoff stay within both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_lists_become_gaps_within_the_bounds() {
    let faults = Faults {
        hang: vec![("".into(), "pods".into())],
        pages: vec![(("".into(), "configmaps".into()), PageFault::Status(503))],
        ..Faults::default()
    };
    let served = serve(faults).await;

    // Each request within its timeout (2 s): the pods list is a gap, the rest is read; the
    // 503s are retried with a backoff that would outlast the timeout, so retrying stops.
    let opts = Options {
        retries: 10,
        backoff: Duration::from_millis(800),
        ..options()
    };
    let start = Instant::now();
    let snapshot = read(&served, &opts, Duration::from_secs(2)).await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    let reason = gap(&snapshot, "pods");
    assert!(reason.contains("no answer within 2 s"), "{reason}");
    let reason = gap(&snapshot, "configmaps");
    assert!(
        reason.contains("no successful answer within 2 s") && reason.contains("HTTP 503"),
        "{reason}"
    );
    assert!(snapshot.kinds.get("Deployment").is_some_and(|&n| n == 3));

    // The whole collection by its deadline (3 s), though each request may take 30 s.
    let opts = Options {
        deadline: Duration::from_secs(3),
        ..options()
    };
    let start = Instant::now();
    let snapshot = read(&served, &opts, Duration::from_secs(30)).await;
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    let reason = gap(&snapshot, "pods");
    assert!(reason.contains("deadline (3 s) passed"), "{reason}");
}

/// An unauthenticated probe without an answer says nothing about anonymous access: a gap for
/// rule 5's probe, not a pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_probe_is_a_gap_not_a_pass() {
    let faults = Faults {
        hang_paths: vec!["/version".into()],
        ..Faults::default()
    };
    let served = serve(faults).await;
    let opts = Options {
        probe_anonymous: true,
        ..options()
    };
    let snapshot = read(&served, &opts, Duration::from_secs(2)).await;
    let (group, _) = kubeharden_engine::gaps::ANONYMOUS_PROBE;
    let probe = snapshot
        .unavailable
        .iter()
        .find(|u| u.group == group)
        .expect("a gap for the probe");
    assert!(
        probe.reason.contains("/version: no answer within 2 s"),
        "{}",
        probe.reason
    );
    let report = kubeharden_cluster::scan(&snapshot, rules::all());
    let s5 = score(&report, Section::Rule(5));
    assert!(
        !s5.assessed
            .contains(&"apiserver-answers-anonymous-requests"),
        "{s5:?}"
    );
    assert!(
        s5.missing.iter().any(
            |m| m.starts_with("apiserver-answers-anonymous-requests") && m.contains("/version")
        ),
        "{s5:?}"
    );
    // Only the probe's own rule: the rest of the audit stands.
    assert!(
        score(&report, Section::Rule(2))
            .assessed
            .contains(&DEFAULT_SA_RULE)
    );
}

/// A listener that accepts connections and never answers, with the default settings (the CLI's
/// default `--timeout` of 30 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream); // never read, never answered
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, apidouble::kubeconfig(addr, "token", false)).unwrap();
    let start = Instant::now();
    let target = connect(Some(&kubeconfig), None, Duration::from_secs(30))
        .await
        .unwrap();
    let err = collect(&target, &Options::default()).await.unwrap_err();
    let took = start.elapsed();
    println!("never answers: {took:?}: {err}");
    assert!(took <= Duration::from_millis(30_500), "{took:?}");
    assert!(took >= Duration::from_secs(29), "{took:?}");
    let message = err.to_string();
    assert!(
        message.contains("cannot reach the API server")
            && message.contains("/api/v1")
            && message.contains("no answer within 30 s"),
        "{message}"
    );
}

/// A listener whose accept queue is full: connections are never accepted (the SYNs are dropped),
/// so each attempt ends at the connect timeout, and the retries within the request's timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_accepts_fails_within_the_timeout() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the accept queue (never accepted) until a connection no longer completes.
    let mut fillers = Vec::new();
    let full = loop {
        match tokio::time::timeout(
            Duration::from_millis(300),
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Ok(Ok(s)) => fillers.push(s),
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => break true,
        }
        if fillers.len() > 64 {
            break false;
        }
    };
    if !full {
        println!("skipped: the accept queue of {addr} does not fill on this system");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, apidouble::kubeconfig(addr, "token", false)).unwrap();
    let start = Instant::now();
    let target = connect(Some(&kubeconfig), None, Duration::from_secs(30))
        .await
        .unwrap();
    let err = collect(&target, &Options::default()).await.unwrap_err();
    let took = start.elapsed();
    println!("never accepts: {took:?}: {err}");
    assert!(took <= Duration::from_millis(30_500), "{took:?}");
    let message = err.to_string();
    assert!(
        message.contains("cannot reach the API server")
            && message.contains("no successful answer within 30 s")
            && message.contains("3 attempts"),
        "{message}"
    );
    drop((listener, fillers));
}
