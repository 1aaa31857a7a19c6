//! `kubeharden audit-log analyze|coverage` and `rbac suggest` end to end.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/fixtures/audit")
        .join(name)
}

fn kh() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

#[test]
fn analyze_reports_findings_and_fails() {
    kh().args(["audit-log", "analyze"])
        .arg(fixture("audit.log"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "critical[audit-log-anonymous-access]",
        ))
        .stdout(predicate::str::contains("audit.log:3:1"));
    let out = kh()
        .args(["audit-log", "analyze", "--format", "json"])
        .arg(fixture("audit.log"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().len() >= 6);
    // Stdin works too.
    kh().args(["audit-log", "analyze", "-"])
        .write_stdin(std::fs::read(fixture("audit.log")).unwrap())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("<stdin>:5:1"));
}

#[test]
fn coverage_shows_missed_operations() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  verbs: [get, list, watch]\n- level: Metadata\n",
    )
    .unwrap();
    kh().args(["audit-log", "coverage", "--policy"])
        .arg(&policy)
        .arg(fixture("audit.log"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("None (MISSED)"))
        .stdout(predicate::str::contains("get secrets -n shop"))
        .stdout(predicate::str::contains("would not be logged"));
}

#[test]
fn suggest_writes_minimal_roles_and_reports_unused_grants() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suggested.yaml");
    kh().args([
        "rbac",
        "suggest",
        "system:serviceaccount:shop:ci-deployer",
        "--audit-log",
    ])
    .arg(fixture("audit.log"))
    .arg("--output")
    .arg(&out)
    .arg(fixture("rbac.yaml"))
    .assert()
    .code(1)
    .stdout(predicate::str::contains("rbac-permission-unused"))
    .stdout(predicate::str::contains(
        "never used `get, list on secrets`",
    ));
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(
        yaml.contains("kind: Role") && yaml.contains("[\"deployments\"]"),
        "{yaml}"
    );
    // The RBAC files read count as input; a bad one is said, not dropped; a question about one
    // subject has no scorecard of the 15 rules.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\napiVersion: [\n").unwrap();
    let got = kh()
        .args([
            "rbac",
            "suggest",
            "system:serviceaccount:shop:ci-deployer",
            "--format",
            "json",
            "--audit-log",
        ])
        .arg(fixture("audit.log"))
        .arg("--output")
        .arg(&out)
        .arg(fixture("rbac.yaml"))
        .arg(&bad)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(report["summary"]["objects"], 3, "{report}");
    assert_eq!(report["summary"]["inputs"], 3, "{report}");
    assert_eq!(report["scorecard"], serde_json::json!([]), "{report}");
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        diags
            .iter()
            .any(|d| d["origin"].as_str().unwrap().ends_with("bad.yaml") && d["level"] == "error"),
        "{diags:?}"
    );
    // The suggested role, scanned, is valid Kubernetes YAML with no wildcard.
    kh().arg("scan")
        .arg(&out)
        .args(["--rules", "rbac-wildcard-permissions"])
        .assert()
        .code(0);
}

#[test]
fn analyze_and_node_write_every_report_format() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("audit.sarif");
    let junit = dir.path().join("audit.xml");
    let out = kh()
        .args(["audit-log", "analyze", "--format", "markdown", "-o"])
        .arg(format!("sarif={}", sarif.display()))
        .arg("-o")
        .arg(format!("junit={}", junit.display()))
        .arg(fixture("audit.log"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("audit-log-anonymous-access"), "{md}");
    let sarif: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].to_string();
    assert!(rules.contains("audit-log-anonymous-access"), "{rules}");
    assert!(
        !sarif["runs"][0]["results"].as_array().unwrap().is_empty(),
        "{sarif}"
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("<testsuites")
    );
    // `node` takes the same options.
    let node = tempfile::tempdir().unwrap();
    kh().args(["node", "--format", "sarif", "--root"])
        .arg(node.path())
        .assert()
        .stdout(predicate::str::contains("\"version\": \"2.1.0\""));
}
