//! `kubeharden node` and `kubeharden audit-policy explain` end to end.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn kh() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

#[test]
fn node_audits_a_tree_and_raw_apiserver_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("var/lib/kubelet/config.yaml");
    fs::create_dir_all(cfg.parent().unwrap()).unwrap();
    fs::write(&cfg, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\n").unwrap();
    fs::set_permissions(&cfg, fs::Permissions::from_mode(0o644)).unwrap();
    kh().arg("node")
        .arg("--root")
        .arg(dir.path())
        .args([
            "--apiserver-flags",
            "--anonymous-auth=false --authorization-mode=AlwaysAllow",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("kubelet-read-only-port"))
        .stdout(predicate::str::contains(
            "CIS 4.1.9: /var/lib/kubelet/config.yaml has mode 644",
        ))
        .stdout(predicate::str::contains("apiserver-authorization-mode"))
        .stdout(predicate::str::contains("apiserver-anonymous-auth").not());
    kh().args(["node", "--root", "/definitely/not/here"])
        .assert()
        .code(2);
}

/// `scan --apiserver-flags` takes the same raw command line as `node`, as evidence next to the
/// manifests: flag rules run on it and the scorecard counts it.
#[test]
fn scan_takes_raw_apiserver_flags_as_evidence() {
    let seed = |v: &serde_json::Value, n: u64| -> serde_json::Value {
        v["scorecard"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["seed"] == n)
            .unwrap()
            .clone()
    };
    let rules_of = |v: &serde_json::Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    // Flags alone: no path needed.
    let out = kh()
        .args([
            "scan",
            "--format",
            "json",
            "--apiserver-flags",
            "--anonymous-auth=false --authorization-mode=AlwaysAllow --encryption-provider-config=/etc/k/enc.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fired = rules_of(&v);
    assert!(
        fired.iter().any(|r| r == "apiserver-authorization-mode"),
        "{fired:?}"
    );
    assert!(
        fired
            .iter()
            .any(|r| r == "apiserver-audit-logging-disabled"),
        "{fired:?}"
    );
    assert!(
        !fired.iter().any(|r| r == "apiserver-anonymous-auth"),
        "{fired:?}"
    );
    assert!(
        !fired
            .iter()
            .any(|r| r == "apiserver-encryption-at-rest-missing"),
        "{fired:?}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "apiserver-authorization-mode")
        .unwrap();
    // Located in the argument itself: line 1, the flag's column, the argument as the snippet.
    assert_eq!(f["location"]["origin"], "--apiserver-flags", "{f}");
    assert_eq!(
        (&f["location"]["line"], &f["location"]["column"]),
        (&serde_json::json!(1), &serde_json::json!(24)),
        "{f}"
    );
    assert_eq!(
        f["snippet"],
        serde_json::json!([{"line": 1, "text": "--anonymous-auth=false --authorization-mode=AlwaysAllow --encryption-provider-config=/etc/k/enc.yaml"}]),
        "{f}"
    );
    // A missing flag: where the command line starts.
    let audit = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "apiserver-audit-logging-disabled")
        .unwrap();
    assert_eq!(
        (&audit["location"]["line"], &audit["location"]["column"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "{audit}"
    );
    // Rule 5 (anonymous access, authorization) is assessed from the flags: failed, not "not
    // assessed".
    assert_eq!(seed(&v, 5)["status"], "fail", "{}", seed(&v, 5));

    // With manifests: both are scanned; a hardened command line is evidence that passes.
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext: {privileged: true}\n",
    )
    .unwrap();
    let out = kh()
        .arg("scan")
        .arg(&pod)
        .args([
            "--format",
            "json",
            "--apiserver-flags",
            "kube-apiserver --anonymous-auth=false --authorization-mode=Node,RBAC",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fired = rules_of(&v);
    assert!(
        fired.iter().any(|r| r == "container-privileged"),
        "{fired:?}"
    );
    assert!(
        !fired.iter().any(|r| r == "apiserver-authorization-mode"),
        "{fired:?}"
    );
    assert_eq!(v["summary"]["inputs"], 2, "{}", v["summary"]);
    // The flags are the API server evidence rule 5 names as missing without them.
    let no_flags = "no kube-apiserver flags in the input";
    assert!(
        !seed(&v, 5)["missing"].to_string().contains(no_flags),
        "{}",
        seed(&v, 5)
    );
    let out = kh()
        .arg("scan")
        .arg(&pod)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let without: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        seed(&without, 5)["missing"].to_string().contains(no_flags),
        "{}",
        seed(&without, 5)
    );
    // Neither paths nor flags: a usage error.
    kh().arg("scan").assert().code(2);
}

#[test]
fn audit_policy_explain_names_the_deciding_rule() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policy.yaml");
    fs::write(
        &p,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [system:kube-proxy]\n- level: Metadata\n  resources:\n  - group: \"\"\n    resources: [secrets]\n- level: RequestResponse\n",
    )
    .unwrap();
    kh().args(["audit-policy", "explain"])
        .arg(&p)
        .args([
            "--user",
            "alice",
            "--verb",
            "get",
            "--resource",
            "secrets",
            "-n",
            "prod",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("level Metadata (rule 1)"));
    kh().args(["audit-policy", "explain"])
        .arg(&p)
        .args([
            "--user",
            "system:kube-proxy",
            "--verb",
            "watch",
            "--resource",
            "apps/deployments",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("level None (rule 0)"));
    kh().args(["audit-policy", "explain"])
        .arg(&p)
        .args(["--verb", "get", "--resource", "/healthz"])
        .assert()
        .success()
        .stdout(predicate::str::contains("level RequestResponse (rule 2)"));
}
