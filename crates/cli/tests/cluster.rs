//! `kubeharden cluster` end to end: the binary, through kube-rs, against the in-process API
//! double of `crates/cluster/tests/apidouble`.

#[path = "../../cluster/tests/apidouble/mod.rs"]
mod apidouble;

use apidouble::{Double, Faults};
use assert_cmd::Command;
use std::sync::Arc;

/// Serves a double on a runtime of its own (kept alive by the returned handle).
fn serve(
    objects: Vec<serde_json::Value>,
    faults: Faults,
) -> (
    tokio::runtime::Runtime,
    std::net::SocketAddr,
    String,
    Arc<Double>,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let double = Arc::new(Double::new(objects, faults));
    let token = double.token.clone();
    let addr = rt.block_on(apidouble::serve(Arc::clone(&double)));
    (rt, addr, token, double)
}

/// A served double with a kubeconfig for it in a temporary directory (kept alive together).
struct Served {
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    double: Arc<Double>,
    token: String,
}

fn served(objects: Vec<serde_json::Value>, faults: Faults) -> Served {
    let (rt, addr, token, double) = serve(objects, faults);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, apidouble::kubeconfig(addr, &token, false)).unwrap();
    Served {
        _rt: rt,
        dir,
        kubeconfig,
        double,
        token,
    }
}

fn kubeharden() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

#[test]
fn audits_a_cluster_with_a_forbidden_kind() {
    let faults = Faults {
        forbidden: vec![("rbac.authorization.k8s.io".into(), "clusterroles".into())],
        ..Faults::default()
    };
    let served = served(apidouble::cluster_basics(), faults);
    let (dir, kc) = (served.dir.path(), &served.kubeconfig);
    let sarif = dir.join("out.sarif");
    let out = kubeharden()
        .args(["cluster", "--no-config", "--format", "json", "--kubeconfig"])
        .arg(kc)
        .arg("--output")
        .arg(format!("sarif={}", sarif.display()))
        .output()
        .unwrap();
    // A kind it could not list: the audit is incomplete (exit 2), findings or not.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s2 = report["scorecard"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seed"] == 2)
        .unwrap();
    assert!(
        s2["missing"]
            .to_string()
            .contains("clusterroles.rbac.authorization.k8s.io"),
        "{s2}"
    );
    assert!(
        report["findings"]
            .to_string()
            .contains("cluster:DaemonSet/kube-system/kube-proxy")
    );
    assert!(
        std::fs::read_to_string(&sarif)
            .unwrap()
            .contains("\"version\": \"2.1.0\"")
    );

    // Text: the same, for people.
    let out = kubeharden()
        .args(["cluster", "--no-config", "--kubeconfig"])
        .arg(kc)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("container-privileged"), "{text}");
    assert!(text.contains("403"), "{text}");
    assert_eq!(out.status.code(), Some(2));
}

/// `--allow-incomplete`: the kinds it could not list are still reported (their rules not
/// assessed), and the exit code is the findings'.
#[test]
fn allow_incomplete_accepts_a_forbidden_kind() {
    let faults = Faults {
        forbidden: vec![("rbac.authorization.k8s.io".into(), "clusterroles".into())],
        ..Faults::default()
    };
    let served = served(apidouble::cluster_basics(), faults);
    let kc = &served.kubeconfig;
    let out = kubeharden()
        .args([
            "cluster",
            "--no-config",
            "--allow-incomplete",
            "--format",
            "json",
            "--kubeconfig",
        ])
        .arg(kc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["scorecard"]
            .to_string()
            .contains("clusterroles.rbac.authorization.k8s.io"),
        "the gap is still reported"
    );
}

#[test]
fn an_empty_cluster_and_an_unreachable_one_are_errors() {
    let served = served(Vec::new(), Faults::default());
    let kc = &served.kubeconfig;
    let out = kubeharden()
        .args(["cluster", "--no-config", "--kubeconfig"])
        .arg(kc)
        .args(["-n", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no objects"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // --all-contexts: one section per cluster; the unreachable one is an error (exit 2).
    let (_rt2, addr2, _, _) = serve(apidouble::cluster_basics(), Faults::default());
    let both = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster: {{server: \"http://{addr2}\"}}\n- name: b\n  cluster: {{server: \"http://127.0.0.1:9\"}}\ncontexts:\n- name: good\n  context: {{cluster: a, user: u}}\n- name: down\n  context: {{cluster: b, user: u}}\ncurrent-context: good\nusers:\n- name: u\n  user: {{token: {token}}}\n",
        token = served.token
    );
    std::fs::write(kc, both).unwrap();
    let out = kubeharden()
        .args([
            "cluster",
            "--no-config",
            "--all-contexts",
            "--format",
            "json",
            "--timeout",
            "3",
            "--retries",
            "0",
            "--kubeconfig",
        ])
        .arg(kc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters = v["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    assert!(
        clusters[0]["report"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert!(
        clusters[1]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "{}",
        clusters[1]
    );
}

#[test]
fn writes_policy_reports_with_server_side_apply() {
    let served = served(apidouble::cluster_basics(), Faults::default());
    let kc = &served.kubeconfig;
    let out = kubeharden()
        .args([
            "cluster",
            "--no-config",
            "--apply-policy-reports",
            "--format",
            "json",
            "--kubeconfig",
        ])
        .arg(kc)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let applied = served.double.applied.lock().unwrap().clone();
    let paths: Vec<&str> = applied.iter().map(|(p, ..)| p.as_str()).collect();
    assert!(
        paths.contains(&"/apis/wgpolicyk8s.io/v1alpha2/namespaces/kube-system/policyreports/kubeharden-kube-system?fieldManager=kubeharden&force=true"),
        "{paths:?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.contains("/clusterpolicyreports/kubeharden-cluster")),
        "{paths:?}"
    );
    for (_, content_type, body) in &applied {
        assert_eq!(content_type, "application/apply-patch+yaml");
        assert!(
            body["results"].as_array().is_some_and(|r| !r.is_empty()),
            "{body}"
        );
    }
}

/// The manifests that deploy the auditor pass the auditor.
#[test]
fn the_deploy_manifests_pass_their_own_scan() {
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let out = kubeharden()
        .args(["scan", "--no-config"])
        .arg(&deploy)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("0 findings"), "{text}");
}

/// `kubeharden cluster` finishes its report like `scan`: the config's `foreignSuppressions: false`
/// (and `--no-foreign-suppressions`) reinstate a finding silenced by another tool's annotation.
#[test]
fn cluster_honours_foreign_suppressions_off() {
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "shop",
            "annotations": {"ignore-check.kube-linter.io/privileged-container": "reviewed"}
        },
        "spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}
    });
    let served = served(vec![pod], Faults::default());
    let (dir, kc) = (served.dir.path(), &served.kubeconfig);
    let cfg = dir.join("kubeharden.yaml");
    std::fs::write(&cfg, "foreignSuppressions: false\n").unwrap();
    let privileged = |extra: &[&str]| -> (usize, u64) {
        let out = kubeharden()
            .args(["cluster", "--format", "json", "--kubeconfig"])
            .arg(kc)
            .args(extra)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let active = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "container-privileged")
            .count();
        (active, report["suppressed"].as_u64().unwrap())
    };
    let (active, suppressed) = privileged(&["--no-config"]);
    assert_eq!(active, 0, "kube-linter's annotation is honoured by default");
    assert!(suppressed >= 1);
    let cfg_arg = cfg.to_str().unwrap();
    assert_eq!(
        privileged(&["--config", cfg_arg]).0,
        1,
        "the config turns it off"
    );
    assert_eq!(
        privileged(&["--no-config", "--no-foreign-suppressions"]).0,
        1,
        "so does the flag"
    );
}
