//! The query commands from the command line: inputs as `scan` reads them (files, stdin, a
//! `kind: List`), exit codes, JSON and DOT (the answers themselves are tested in the engine's
//! `tests/queries.rs`).

use assert_cmd::Command;
use predicates::prelude::*;

fn kh() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

const RBAC: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: ci, namespace: build}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: operator, namespace: prod}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: prod}
rules: [{apiGroups: [""], resources: [pods], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-deployer, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: ci, namespace: build}]
"#;

/// The same objects as the items of a `kind: List` (as `kubectl get -o yaml` prints them).
fn as_list(yaml: &str) -> String {
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for doc in yaml.split("---\n") {
        for (i, line) in doc.lines().enumerate() {
            out += if i == 0 { "- " } else { "  " };
            out += line;
            out += "\n";
        }
    }
    out
}

#[test]
fn rbac_can_exit_codes_from_stdin_and_lists() {
    for input in [RBAC.to_owned(), as_list(RBAC)] {
        kh().args([
            "rbac",
            "can",
            "system:serviceaccount:build:ci",
            "create",
            "pods",
            "-n",
            "prod",
            "-",
        ])
        .write_stdin(input.clone())
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "yes: ServiceAccount \"build/ci\" may create pods in namespace \"prod\"",
        ));
        kh().args([
            "rbac",
            "can",
            "system:serviceaccount:build:ci",
            "create",
            "pods",
            "-n",
            "build",
            "-",
        ])
        .write_stdin(input)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("no: "));
    }
    // Usage error: no input.
    kh().args(["rbac", "can", "user:alice", "get", "pods"])
        .assert()
        .code(2);
}

#[test]
fn rbac_who_can_and_paths_json() {
    let out = kh()
        .args(["rbac", "who-can", "create", "pods", "--format", "json", "-"])
        .write_stdin(RBAC)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let names: Vec<&str> = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["operator", "ci"]);
    assert_eq!(v["subjects"][1]["via"]["binding"]["location"], "<stdin>:16");
    let out = kh()
        .args([
            "rbac",
            "paths",
            "system:serviceaccount:build:ci",
            "--to",
            "cluster-admin",
            "--format",
            "json",
            "-",
        ])
        .write_stdin(RBAC)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v["chains"][0]["steps"][0]["gains"],
        "act as ServiceAccount \"prod/operator\" (run a pod as it)"
    );
}

const NET: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: default}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 8080}]}]
"#;

#[test]
fn netpol_explain_and_reach() {
    kh().args([
        "netpol",
        "explain",
        "internet",
        "default/api",
        "--port",
        "8080/TCP",
        "-",
    ])
    .write_stdin(NET)
    .assert()
    .code(0)
    .stdout(predicate::str::contains(
        "internet → default/api on 8080/TCP: ALLOWED",
    ))
    .stdout(predicate::str::contains(
        "NetworkPolicy/default/api /spec/ingress/0 (<stdin>:14)",
    ));
    kh().args([
        "netpol",
        "explain",
        "internet",
        "default/api",
        "--port",
        "9090",
        "-",
    ])
    .write_stdin(NET)
    .assert()
    .code(1)
    .stdout(predicate::str::contains("DENIED"));
    kh().args(["netpol", "explain", "default/nope", "default/api", "-"])
        .write_stdin(NET)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no workload `default/nope`"));
    kh().args(["netpol", "reach", "--format", "dot", "-"])
        .write_stdin(NET)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "\"internet\" -> \"default/api\" [label=\"TCP 8080\"];",
        ));
}
