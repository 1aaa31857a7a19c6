//! `node::gather` over a node tree built at test time (git keeps no file modes, so the tree is
//! written and chmod-ed here): static Pods, files named by flags, kubelet units, permissions.

use kubeharden_engine::node;
use kubeharden_engine::rules;
use kubeharden_engine::scan::scan_with_node_files;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn write(root: &Path, path: &str, text: &str, mode: u32) {
    let p = root.join(path.trim_start_matches('/'));
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
}

const APISERVER: &str = "apiVersion: v1
kind: Pod
metadata: {name: kube-apiserver, namespace: kube-system}
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.33.0
    command:
    - kube-apiserver
    - --authorization-mode=Node,RBAC
    - --audit-policy-file=/etc/kubernetes/audit-policy.yaml
    - --audit-log-path=/var/log/audit.log
    - --encryption-provider-config=/etc/kubernetes/enc.yaml
";

const AUDIT: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
";

const ENCRYPTION: &str = "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers: [{identity: {}}]
";

const UNIT: &str = "[Service]
Environment=\"KUBELET_CONFIG_ARGS=--read-only-port=10255\"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS
";

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        APISERVER,
        0o644,
    );
    write(r, "/etc/kubernetes/audit-policy.yaml", AUDIT, 0o600);
    write(r, "/etc/kubernetes/enc.yaml", ENCRYPTION, 0o600);
    write(
        r,
        "/etc/kubernetes/admin.conf",
        "apiVersion: v1\nkind: Config\n",
        0o600,
    );
    write(r, "/etc/kubernetes/pki/ca.crt", "cert", 0o644);
    write(r, "/etc/kubernetes/pki/ca.key", "key", 0o644);
    write(
        r,
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        UNIT,
        0o600,
    );
    write(
        r,
        "/var/lib/kubelet/kubeadm-flags.env",
        "KUBELET_KUBEADM_ARGS=\"--anonymous-auth=true\"\n",
        0o600,
    );
    dir
}

#[test]
fn gather_follows_flags_and_units() {
    let dir = tree();
    let ev = node::gather(dir.path());
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    for p in [
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "/etc/kubernetes/audit-policy.yaml",
        "/etc/kubernetes/enc.yaml",
        "/var/lib/kubelet/kubeadm-flags.env",
    ] {
        assert!(
            ev.read.iter().any(|r| r == p),
            "{p} not read: {:?}",
            ev.read
        );
    }
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files);
    let rules_fired: Vec<&str> = report.findings.iter().map(|f| f.rule).collect();
    for expected in [
        "apiserver-anonymous-auth",                 // unset on the API server
        "audit-policy-misses-sensitive-operations", // the followed Policy logs nothing
        "encryption-config-secrets-plaintext",      // the followed EncryptionConfiguration
        "kubelet-anonymous-auth",                   // from the env file through ExecStart
        "kubelet-read-only-port",                   // from Environment=
        "node-file-permissions",                    // manifest 644, key 644
    ] {
        assert!(
            rules_fired.contains(&expected),
            "{expected} missing from {rules_fired:?}"
        );
    }
    let perms: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "node-file-permissions")
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        perms.iter().any(|m| m
            .starts_with("CIS 1.1.1: /etc/kubernetes/manifests/kube-apiserver.yaml has mode 644")),
        "{perms:?}"
    );
    assert!(
        perms
            .iter()
            .any(|m| m.starts_with("CIS 1.1.21: /etc/kubernetes/pki/ca.key")),
        "{perms:?}"
    );
    assert!(
        !perms.iter().any(|m| m.contains("ca.crt")),
        "644 is fine for certificates: {perms:?}"
    );
    let score = report
        .scorecard
        .iter()
        .find(|s| s.seed == kubeharden_engine::rules::Seed::Rule(14))
        .unwrap();
    assert_eq!(score.status, kubeharden_engine::scan::Status::Fail);
}

#[test]
fn hardened_permissions_pass() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        APISERVER,
        0o600,
    );
    write(dir.path(), "/etc/kubernetes/pki/sa.key", "k", 0o600);
    write(dir.path(), "/etc/kubernetes/pki/ca.crt", "c", 0o644);
    let ev = node::gather(dir.path());
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files);
    let perms: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "node-file-permissions")
        .map(|f| f.message.as_str())
        .collect();
    // Ownership depends on who runs the test: only root can create root-owned files.
    let root_user = fs::metadata(dir.path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap();
    if root_user {
        assert!(perms.is_empty(), "{perms:?}");
    } else {
        assert!(perms.iter().all(|m| m.contains("is owned by")), "{perms:?}");
    }
}

#[test]
fn an_empty_root_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let ev = node::gather(dir.path());
    assert_eq!(ev.diagnostics.len(), 1);
}
