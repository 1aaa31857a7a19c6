//! The binary end to end: exit codes, formats, stdin, examples, docs in sync.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kh() -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(root());
    c
}

#[test]
fn hardened_example_is_clean_and_insecure_example_fails() {
    kh().args(["scan", "examples/hardened-app"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 findings"));
    kh().args(["scan", "examples/insecure-app"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("critical[container-privileged]"))
        .stdout(predicate::str::contains(
            "examples/insecure-app/app.yaml:29:11",
        ))
        .stdout(predicate::str::contains("privileged: yes"));
}

#[test]
fn fail_on_threshold() {
    // The insecure example has a critical finding: fails at every threshold.
    kh().args(["scan", "--fail-on", "critical", "examples/insecure-app"])
        .assert()
        .code(1);
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: a\n    image: i\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    // Only a medium finding (writable root filesystem): passes at high, fails at medium.
    kh().args(["scan", "--fail-on", "high", "-"])
        .write_stdin(pod)
        .assert()
        .code(0);
    kh().args(["scan", "--fail-on", "medium", "-"])
        .write_stdin(pod)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("<stdin>:9:5"));
}

#[test]
fn json_output_is_versioned() {
    let out = kh()
        .args(["scan", "--format", "json", "examples/insecure-app"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["scorecard"].as_array().unwrap().len(), 16);
    let f = &v["findings"][0];
    for key in [
        "rule",
        "seed",
        "severity",
        "subject",
        "location",
        "message",
        "remedy",
        "fingerprint",
    ] {
        assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
    }
}

#[test]
fn bad_input_is_an_input_error_and_the_rest_is_scanned() {
    let stream = "a: [\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: i, securityContext: {privileged: true}}]\n";
    kh().args(["scan", "-"])
        .write_stdin(stream)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("input error"))
        .stdout(predicate::str::contains("<stdin>:2:1").or(predicate::str::contains("<stdin>:1:")))
        .stdout(predicate::str::contains("container-privileged"));
    kh().args(["scan", "does/not/exist.yaml"]).assert().code(2);
    kh().args(["scan", "--fail-on", "severe", "examples"])
        .assert()
        .code(2);
}

#[test]
fn helm_output_names_the_template() {
    let helm = "---\n# Source: app/templates/pod.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: a, image: i}]\n";
    kh().args(["scan", "-"])
        .write_stdin(helm)
        .assert()
        .stdout(predicate::str::contains(
            "<stdin> (from app/templates/pod.yaml):7:3",
        ));
}

#[test]
fn pss_command_matches_admission_messages() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: app, image: i}]\n";
    kh().args(["pss", "--level", "restricted", "-"])
        .write_stdin(pod)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "pods \"web\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")",
        ));
    kh().args(["pss", "--level", "baseline", "--version", "v1.30", "-"])
        .write_stdin(pod)
        .assert()
        .code(0);
    kh().args(["pss", "--version", "1.30", "-"])
        .write_stdin(pod)
        .assert()
        .code(2);
}

#[test]
fn explain_and_rules() {
    kh().args(["explain", "container-privileged"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CKV_K8S_16"))
        .stdout(predicate::str::contains("KSV017"));
    kh().args(["explain", "nope"]).assert().code(2);
    kh().args(["rules"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "container-root-filesystem-writable",
        ));
}

#[test]
fn explain_shows_the_fixtures_as_examples_with_what_they_report() {
    kh().args(["explain", "container-privileged"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\nExample that fires\n"))
        // The fixture, with line numbers.
        .stdout(predicate::str::contains(
            "10 |         securityContext: {privileged: on}   # YAML 1.1 true\n",
        ))
        // What a scan of it reports, exactly.
        .stdout(predicate::str::contains(
            "kubeharden reports:\n  line 10: init container \"setup\" sets `privileged: true` (DaemonSet ops/agent)\n",
        ))
        .stdout(predicate::str::contains("\nExample that passes\n"))
        .stdout(predicate::str::contains(
            "14 |       privileged: false     # duplicate key: the last one wins, as in Kubernetes\n",
        ));
    // A long example is cut.
    kh().args(["explain", "namespace-missing-default-deny-ingress"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" more lines)\n"));
    // Findings from the audit log: no YAML example.
    kh().args(["explain", "audit-log-impersonation"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Example that").not());
}

#[test]
fn docs_rules_md_is_in_sync() {
    let out = kh()
        .args(["rules", "--format", "markdown"])
        .output()
        .unwrap();
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = root().join("docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if std::env::var_os("KUBEHARDEN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "docs/rules.md is out of date: run `KUBEHARDEN_BLESS=1 cargo test -p kubeharden --test cli docs_rules_md_is_in_sync`"
    );
}

#[test]
fn kustomization_is_rendered_and_attributed_to_its_files() {
    if std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [pod.yaml, dep.yaml]\ncommonLabels: {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostPID: true\n  containers: [{name: a, image: i}]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("dep.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      hostIPC: true\n      containers: [{name: a, image: i}]\n",
    )
    .unwrap();
    let out = kh()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hostns: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pod-host-namespaces")
        .collect();
    assert_eq!(hostns.len(), 2, "{}", v["diagnostics"]);
    let origins: Vec<&str> = hostns
        .iter()
        .map(|f| f["location"]["origin"].as_str().unwrap())
        .collect();
    assert!(
        origins.iter().any(|o| o.ends_with("pod.yaml")),
        "{origins:?}"
    );
    assert!(
        origins.iter().any(|o| o.ends_with("dep.yaml")),
        "{origins:?}"
    );
    // --no-kustomize scans the same files raw.
    kh().args(["scan", "--no-kustomize"])
        .arg(dir.path())
        .assert()
        .code(1);
}

/// A kustomize overlay (outside the base's directory) patches its base: each finding points at the
/// file that wrote the field — the strategic-merge patch file, the inline JSON 6902 patch in the
/// kustomization, or the base's resource file (containers matched by name, not by index:
/// kustomize reorders them here) — never into the rendered stream.
#[test]
fn kustomize_findings_point_at_the_patch_that_wrote_the_field() {
    if std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_err()
    {
        eprintln!("skipped: kubectl not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("base")).unwrap();
    std::fs::create_dir_all(d.join("overlays/prod")).unwrap();
    std::fs::write(
        d.join("base/kustomization.yaml"),
        "resources:\n- deployment.yaml\n",
    )
    .unwrap();
    std::fs::write(
        d.join("base/deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: sidecar\n        image: ghcr.io/acme/sidecar:1\n      - name: app\n        image: ghcr.io/acme/web:1\n        securityContext:\n          privileged: false\n",
    )
    .unwrap();
    std::fs::write(
        d.join("overlays/prod/kustomization.yaml"),
        "namePrefix: prod-\nnamespace: shop\nresources:\n- ../../base\npatches:\n- path: privileged.yaml\n- target: {kind: Deployment, name: web}\n  patch: |-\n    - op: add\n      path: /spec/template/spec/hostPID\n      value: true\n",
    )
    .unwrap();
    std::fs::write(
        d.join("overlays/prod/privileged.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        securityContext:\n          privileged: true\n",
    )
    .unwrap();
    let out = kh()
        .args(["scan", "--format", "json"])
        .arg(d.join("overlays/prod"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let prefix = format!("{}/", d.display());
    let at = |rule: &str, container: Option<&str>| {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["subject"]["container"].as_str() == container)
            .unwrap_or_else(|| panic!("no {rule}: {v}"));
        (
            f["location"]["origin"]
                .as_str()
                .unwrap()
                .strip_prefix(&prefix)
                .unwrap()
                .to_owned(),
            f["location"]["line"].as_u64().unwrap(),
            f["location"]["column"].as_u64().unwrap(),
            f["snippet"][0]["text"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        at("container-privileged", Some("app")),
        (
            "overlays/prod/privileged.yaml".into(),
            11,
            11,
            "          privileged: true".into()
        )
    );
    assert_eq!(
        at("pod-host-namespaces", None),
        (
            "overlays/prod/kustomization.yaml".into(),
            11,
            7,
            "      value: true".into()
        )
    );
    assert_eq!(
        at("image-not-pinned-by-digest", Some("app")),
        (
            "base/deployment.yaml".into(),
            16,
            9,
            "        image: ghcr.io/acme/web:1".into()
        )
    );
}

/// kube-proxy as kubeadm installs it: privileged in the host network, which is its job.
const KUBE_PROXY: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system}
spec:
  selector: {matchLabels: {k8s-app: kube-proxy}}
  template:
    metadata: {labels: {k8s-app: kube-proxy}}
    spec:
      hostNetwork: true
      serviceAccountName: kube-proxy
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:v1.31.2
        command: [/usr/local/bin/kube-proxy, --config=/var/lib/kube-proxy/config.conf]
        securityContext: {privileged: true}
";

#[test]
fn system_component_findings_are_shown_as_expected_and_count_only_with_strict_system() {
    let rules = "container-privileged,pod-host-namespaces";
    kh().args(["scan", "--rules", rules, "-"])
        .write_stdin(KUBE_PROXY)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("critical[container-privileged]"))
        .stdout(predicate::str::contains(
            "expected for kube-proxy: kube-proxy programs the node's iptables/IPVS/nftables rules",
        ))
        .stdout(predicate::str::contains(
            "0 findings in 1 object (1 pod template) from 1 input; 2 expected for system components, not counted (--strict-system); 0 at or above --fail-on low",
        ));
    kh().args(["scan", "--strict-system", "--rules", rules, "-"])
        .write_stdin(KUBE_PROXY)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expected for").not())
        .stdout(predicate::str::contains(
            "2 findings (1 critical, 1 high) in 1 object (1 pod template)",
        ));
    let out = kh()
        .args(["scan", "--format", "json", "--rules", rules, "-"])
        .write_stdin(KUBE_PROXY)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["expected"]["component"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        expected,
        [
            ("pod-host-namespaces", "kube-proxy"),
            ("container-privileged", "kube-proxy")
        ]
    );
    // Every report format shows them without failing on them: a SARIF note accepted with the
    // reason, a skipped JUnit case, a PolicyReport `warn`.
    let dir = tempfile::tempdir().unwrap();
    let (sarif, junit, pr) = (
        dir.path().join("r.sarif"),
        dir.path().join("r.xml"),
        dir.path().join("r.yaml"),
    );
    kh().args(["scan", "--rules", rules, "-o"])
        .arg(format!("sarif={}", sarif.display()))
        .arg("-o")
        .arg(format!("junit={}", junit.display()))
        .arg("-o")
        .arg(format!("policyreport={}", pr.display()))
        .arg("-")
        .write_stdin(KUBE_PROXY)
        .assert()
        .code(0);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["level"], "note", "{r}");
        assert_eq!(
            r["properties"]["expected"]["component"], "kube-proxy",
            "{r}"
        );
        assert_eq!(r["suppressions"][0]["kind"], "external", "{r}");
        assert!(
            r["suppressions"][0]["justification"]
                .as_str()
                .unwrap()
                .starts_with("expected for kube-proxy: "),
            "{r}"
        );
    }
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("failures=\"0\""), "{junit}");
    assert!(
        junit.contains("<skipped message=\"expected for kube-proxy: "),
        "{junit}"
    );
    let pr = std::fs::read_to_string(&pr).unwrap();
    assert!(
        pr.contains("result: warn") && !pr.contains("result: fail"),
        "{pr}"
    );
    // The config's `strictSystem: true` is `--strict-system`.
    let cfg = dir.path().join(".kubeharden.yaml");
    std::fs::write(&cfg, "strictSystem: true\n").unwrap();
    kh().args([
        "scan",
        "--config",
        cfg.to_str().unwrap(),
        "--rules",
        rules,
        "-",
    ])
    .write_stdin(KUBE_PROXY)
    .assert()
    .code(1);
}
