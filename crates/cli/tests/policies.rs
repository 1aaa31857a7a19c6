//! `kubeharden scan --policy`: the user's Gatekeeper and ValidatingAdmissionPolicy policies, kept
//! apart from the manifests, judge them; their findings reach every format and rule selection.

use assert_cmd::Command;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kh() -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(root());
    c
}

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-replicas}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - {expression: "object.spec.replicas <= 5", message: "at most 5 replicas"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: everywhere}
spec: {policyName: max-replicas, validationActions: [Deny]}
"#;

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big, namespace: shop}\nspec:\n  replicas: 9\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: a, image: a:1}]}\n";

fn files() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    let app = dir.path().join("app.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    std::fs::write(&app, DEPLOYMENT).unwrap();
    (dir, policy.display().to_string(), app.display().to_string())
}

/// `kubeharden scan --no-config --format FORMAT --policy POLICY ARGS… APP`: the exit code and
/// stdout as JSON.
fn scan(format: &str, policy: &str, args: &[&str], app: &str) -> (Option<i32>, serde_json::Value) {
    let out = kh()
        .args([
            "scan",
            "--no-config",
            "--format",
            format,
            "--policy",
            policy,
        ])
        .args(args)
        .arg(app)
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn policies_given_apart_judge_the_manifests_in_every_format() {
    let (_dir, policy, app) = files();
    let (code, report) = scan("json", &policy, &[], &app);
    assert_eq!(code, Some(1));
    let custom: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "vap/max-replicas/everywhere")
        .collect();
    assert_eq!(custom.len(), 1, "{report}");
    assert_eq!(custom[0]["severity"], "high");
    assert_eq!(custom[0]["seed"], "custom");
    assert!(
        custom[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("denied request: at most 5 replicas")
    );
    // The policy file is configuration: not scanned, so no finding is located in it.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["location"]["origin"] != policy.as_str())
    );
    let custom_score = report["scorecard"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seed"] == "custom")
        .unwrap();
    assert_eq!(custom_score["status"], "fail");

    let (code, sarif) = scan("sarif", &policy, &[], &app);
    assert_eq!(code, Some(1));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"].to_string();
    assert!(rules.contains("vap/max-replicas/everywhere"), "{rules}");
}

#[test]
fn policy_rules_are_selected_like_built_in_ones() {
    let (_dir, policy, app) = files();
    let (_, report) = scan("json", &policy, &["--skip-rules", "vap/*"], &app);
    assert!(!report.to_string().contains("vap/max-replicas"), "{report}");

    let (_, report) = scan(
        "json",
        &policy,
        &["--rules", "vap/max-replicas/everywhere"],
        &app,
    );
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["vap/max-replicas/everywhere"]);
}

#[test]
fn a_broken_policy_is_a_diagnostic_with_file_and_line() {
    let (dir, _, app) = files();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        POLICY.replace("object.spec.replicas <= 5", "object.spec.replicas <="),
    )
    .unwrap();
    let (code, report) = scan("json", broken.to_str().unwrap(), &[], &app);
    let diag = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("CEL does not parse")
        })
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(diag["origin"], broken.display().to_string());
    assert_eq!(diag["line"], 8);
    assert_eq!(
        code,
        Some(2),
        "a policy that cannot be read is an input error"
    );
}

/// Rule ids of the custom-policy findings of a JSON report.
fn custom_rules(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .filter(|r| r.starts_with("vap/") || r.starts_with("gatekeeper/"))
        .map(str::to_owned)
        .collect()
}

fn scan_args(args: &[&str], dir: &std::path::Path) -> serde_json::Value {
    let out = kh()
        .current_dir(dir)
        .args(["scan", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Policies found among the scanned inputs are objects of the scan: not enforced on the other
/// inputs unless asked (`--enforce-input-policies`, `enforceInputPolicies: true`, or the file
/// given with `--policy`), and a note says so. The same from stdin.
#[test]
fn policies_among_the_inputs_are_not_enforced_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.yaml");
    std::fs::write(&both, format!("{POLICY}---\n{DEPLOYMENT}")).unwrap();
    let both = both.to_str().unwrap();

    let report = scan_args(&["--no-config", both], dir.path());
    assert_eq!(custom_rules(&report), Vec::<String>::new(), "{report}");
    let notes: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] == "note")
        .collect();
    assert_eq!(notes.len(), 1, "{report}");
    assert_eq!(notes[0]["origin"], both);
    assert_eq!(notes[0]["line"], 10);
    assert_eq!(
        notes[0]["message"],
        "1 policy found among the scanned inputs (ValidatingAdmissionPolicyBinding everywhere) is reported as objects, not enforced on the other inputs; to enforce it, give the file with --policy or scan with --enforce-input-policies"
    );
    // The policy objects are still objects of the scan.
    assert_eq!(
        report["summary"]["kinds"]["ValidatingAdmissionPolicy"], 1,
        "{report}"
    );

    let enforced = ["vap/max-replicas/everywhere".to_owned()];
    let report = scan_args(
        &["--no-config", "--enforce-input-policies", both],
        dir.path(),
    );
    assert_eq!(custom_rules(&report), enforced, "{report}");
    let report = scan_args(&["--no-config", "--policy", both, both], dir.path());
    assert_eq!(custom_rules(&report), enforced, "{report}");
    assert!(
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["level"] != "note"),
        "{report}"
    );

    std::fs::write(
        dir.path().join(".kubeharden.yaml"),
        "version: 1\nenforceInputPolicies: true\n",
    )
    .unwrap();
    let report = scan_args(&[both], dir.path());
    assert_eq!(custom_rules(&report), enforced, "{report}");

    // stdin: the same answer.
    let stdin = format!("{POLICY}---\n{DEPLOYMENT}");
    for (args, want) in [
        (vec!["--no-config", "-"], Vec::new()),
        (
            vec!["--no-config", "--enforce-input-policies", "-"],
            enforced.to_vec(),
        ),
    ] {
        let out = kh()
            .args(["scan", "--format", "json"])
            .args(&args)
            .write_stdin(stdin.clone())
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(custom_rules(&report), want, "{args:?}: {report}");
    }
}
