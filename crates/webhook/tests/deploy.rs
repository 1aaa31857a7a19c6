//! `deploy/webhook/`: kubeharden finds nothing in its own deployment, and the manifests agree with
//! the server (the policy in the ConfigMap loads, the webhook configuration keeps its own namespace
//! and kube-system out, the probes and Service name the ports the flags open).

use kubeharden_engine::load::Input;
use kubeharden_engine::scan;
use kubeharden_webhook::Policy;
use std::path::{Path, PathBuf};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/webhook")
}

fn objects() -> Vec<serde_json::Value> {
    let (files, diags) = kubeharden_engine::load::expand_paths(&[deploy_dir()]);
    assert!(diags.is_empty(), "{diags:?}");
    files
        .iter()
        .flat_map(|f| kubeharden_engine::load::load_file(f).objects)
        .map(|o| o.root.to_json())
        .collect()
}

fn find<'a>(objects: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in deploy/webhook"))
}

#[test]
fn scan_of_the_deployment_finds_nothing() {
    // Alone, and with the rest of deploy/ (the nightly audit CronJob shares the image policy).
    // The Helm chart (deploy/helm) is rendered and scanned by crates/cli/tests/ship.rs.
    let rest: Vec<PathBuf> = std::fs::read_dir(deploy_dir().join(".."))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("helm"))
        .collect();
    scan_finds_nothing(&[deploy_dir()]);
    scan_finds_nothing(&rest);
}

fn scan_finds_nothing(dirs: &[PathBuf]) {
    let (files, _) = kubeharden_engine::load::expand_paths(dirs);
    let inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    let report = scan::scan_all(&inputs);
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let show = |f: &kubeharden_engine::finding::Finding| {
        format!(
            "{} {}:{} {}",
            f.rule, f.location.origin, f.location.line, f.message
        )
    };
    assert!(
        report.findings.is_empty(),
        "{:#?}",
        report.findings.iter().map(show).collect::<Vec<_>>()
    );
    // Not by suppressing anything either, but for the two suppressions the README lists: the
    // image is a local build (localhost/kubeharden:0.1.0) until a registry exists, so it has no
    // digest to pin; the opt-in Secret-metadata ClusterRole is bound by nothing shipped.
    for f in &report.suppressed_findings {
        if f.rule == "unbound-role-risky-permissions" {
            assert_eq!(f.subject.name, "kubeharden-auditor-secrets", "{}", show(f));
            continue;
        }
        assert_eq!(f.rule, "image-not-pinned-by-digest", "{}", show(f));
        assert!(
            f.message.contains("`localhost/kubeharden:0.1.0`"),
            "{}",
            show(f)
        );
    }
    for kind in [
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "NetworkPolicy",
        "ValidatingWebhookConfiguration",
        "Certificate",
    ] {
        assert!(report.summary.kinds.contains_key(kind), "no {kind}");
    }
}

#[test]
fn manifests_agree_with_the_server() {
    let objects = objects();
    let ns = find(&objects, "Namespace")["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();

    // The policy and the .kubeharden.yaml of the ConfigMap load.
    let cm = find(&objects, "ConfigMap");
    let dir = tempfile::tempdir().unwrap();
    for key in ["webhook.yaml", "kubeharden.yaml"] {
        std::fs::write(dir.path().join(key), cm["data"][key].as_str().unwrap()).unwrap();
    }
    let policy = Policy::load(&dir.path().join("webhook.yaml")).unwrap();
    assert!(!policy.rules.is_empty());

    // The webhook configuration.
    let vwc = find(&objects, "ValidatingWebhookConfiguration");
    let hook = &vwc["webhooks"][0];
    assert_eq!(hook["admissionReviewVersions"], serde_json::json!(["v1"]));
    assert_eq!(hook["sideEffects"], "None");
    assert!(["Fail", "Ignore"].contains(&hook["failurePolicy"].as_str().unwrap()));
    let timeout = hook["timeoutSeconds"].as_i64().unwrap();
    assert!((1..=30).contains(&timeout));
    assert_eq!(hook["clientConfig"]["service"]["namespace"], ns.as_str());
    assert_eq!(hook["clientConfig"]["service"]["path"], "/validate");
    let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["key"], "kubernetes.io/metadata.name");
    assert_eq!(excluded["operator"], "NotIn");
    let values: Vec<&str> = excluded["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(values.contains(&ns.as_str()) && values.contains(&"kube-system"));

    // The Deployment: HA and the flags the probes and Service rely on.
    let dep = find(&objects, "Deployment");
    assert!(dep["spec"]["replicas"].as_i64().unwrap() >= 2);
    let pod = &dep["spec"]["template"]["spec"];
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    let c = &pod["containers"][0];
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "serve");
    assert!(args.contains(&"--addr=0.0.0.0:8443"));
    assert!(args.contains(&"--metrics-addr=0.0.0.0:9090"));
    assert!(args.contains(&"--config=/config/webhook.yaml"));
    assert_eq!(c["ports"][0]["containerPort"], 8443);
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTPS");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert!(c["resources"]["requests"]["cpu"].is_string());
    assert!(c["resources"]["limits"]["memory"].is_string());
    // Grace period covers the shutdown delay and grace of the flags.
    assert!(pod["terminationGracePeriodSeconds"].as_i64().unwrap() >= 25);
    let pdb = find(&objects, "PodDisruptionBudget");
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    let svc = find(&objects, "Service");
    assert_eq!(
        svc["spec"]["ports"][0]["port"],
        hook["clientConfig"]["service"]["port"]
    );
}
