//! Credentials committed next to the manifests: a kubeconfig with a token, Helm values and a
//! Docker `config.json` with secrets, private key files found by the directory walk. Each is a
//! finding at its file and line; no value is printed; `fix` leaves the files alone.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtoIn0.khCanaryTokenQ9x.sig";
const PASSWORD: &str = "khCanaryPw7Zq8vT3rLp2";
const AUTH: &str = "a2hDYW5hcnk6cGFzc3dvcmQxMjM0";
const KEY_BODY: &str = "MIIEowIBAAKCAQEAkhCanaryKeyBody0123456789abcdef";

/// The tree in a temporary directory, removed when the returned guard drops.
fn tree(tag: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::Builder::new()
        .prefix(&format!("kh-committed-{tag}-"))
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    let w = |p: &str, s: String| std::fs::write(dir.join(p), s).unwrap();
    w(
        "kubeconfig.yaml",
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://35.204.11.12:6443\n\
             users:\n- name: admin\n  user:\n    token: {TOKEN}\ncontexts:\n- name: prod\n  context: {{cluster: prod, user: admin}}\n"
        ),
    );
    w(
        "values.yaml",
        format!(
            "replicaCount: 2\npostgresql:\n  auth:\n    existingSecret: app-db\n    password: {PASSWORD}\n"
        ),
    );
    w(
        "config.json",
        format!("{{\"auths\": {{\"registry.example.com\": {{\"auth\": \"{AUTH}\"}}}}}}\n"),
    );
    w(
        "certs/tls.key",
        format!("-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\n-----END RSA PRIVATE KEY-----\n"),
    );
    w(
        "certs/ca.pem",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_owned(),
    );
    w(
        "registry-secret.yaml",
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: reg}}\ntype: kubernetes.io/dockerconfigjson\n\
             stringData:\n  .dockerconfigjson: '{{\"auths\": {{\"r.example.com\": {{\"auth\": \"{AUTH}\"}}}}}}'\n"
        ),
    );
    std::fs::write(dir.join("certs/der.key"), [0x30u8, 0x82, 0x00, 0xff, 0x00]).unwrap();
    (tmp, dir)
}

fn kh() -> Command {
    Command::cargo_bin("kubeharden").unwrap()
}

fn rel(origin: &str, dir: &Path) -> String {
    origin
        .strip_prefix(&format!("{}/", dir.display()))
        .unwrap_or(origin)
        .to_owned()
}

#[test]
fn committed_credentials_are_findings_at_their_line_without_their_value() {
    let (_tmp, dir) = tree("scan");
    let out = kh()
        .args(["scan", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in [TOKEN, PASSWORD, AUTH, KEY_BODY] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    let report: Value = serde_json::from_str(&text).unwrap();
    let mut got: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            matches!(
                f["rule"].as_str(),
                Some(
                    "kubeconfig-credentials-committed"
                        | "credential-in-committed-file"
                        | "secret-values-in-manifest"
                )
            )
        })
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["rule"].as_str().unwrap(),
                rel(f["location"]["origin"].as_str().unwrap(), &dir),
                f["location"]["line"],
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "credential-in-committed-file certs/tls.key:1 the file holds a credential: private key",
            "credential-in-committed-file config.json:1 `auths.registry.example.com.auth` holds a credential: registry credential",
            "credential-in-committed-file values.yaml:5 `postgresql.auth.password` holds a credential: secret-looking value (sensitive name, high-entropy value)",
            "kubeconfig-credentials-committed kubeconfig.yaml:10 kubeconfig user \"admin\" holds a bearer token for cluster \"prod\" (https://35.204.11.12:6443, a public address)",
            "secret-values-in-manifest registry-secret.yaml:5 Secret \"reg\" holds registry credentials in `stringData` (.dockerconfigjson)",
        ]
    );
    // The binary key file is said, not skipped in silence; nothing is an input error.
    let notes: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {} {}",
                d["level"].as_str().unwrap(),
                rel(d["origin"].as_str().unwrap(), &dir),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        notes.contains(&"note certs/der.key not read: a binary file named like a key or credential (only text files are checked for committed credentials)".to_owned()),
        "{notes:?}"
    );
    assert!(notes.iter().all(|n| n.starts_with("note ")), "{notes:?}");
}

#[test]
fn fix_does_not_touch_key_and_credential_files() {
    let (_tmp, dir) = tree("fix");
    let before = std::fs::read(dir.join("certs/tls.key")).unwrap();
    kh().arg("fix").arg(&dir).output().unwrap();
    assert_eq!(std::fs::read(dir.join("certs/tls.key")).unwrap(), before);
}
