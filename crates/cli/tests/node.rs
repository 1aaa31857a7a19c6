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
