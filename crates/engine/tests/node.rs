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
        .map(|f| &*f.message)
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
        .find(|s| s.section == kubeharden_engine::rules::Section::Rule(14))
        .unwrap();
    assert_eq!(score.status, kubeharden_engine::report::Status::Fail);
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
        .map(|f| &*f.message)
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

fn is_root() -> bool {
    let dir = tempfile::tempdir().unwrap();
    fs::metadata(dir.path())
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap()
}

/// (node path, role) of every file `gather` recorded.
fn roles(ev: &node::NodeEvidence) -> Vec<(String, node::NodeFileRole)> {
    ev.files.iter().map(|f| (f.path.clone(), f.role)).collect()
}

fn has(ev: &node::NodeEvidence, path: &str, role: node::NodeFileRole) -> bool {
    ev.files.iter().any(|f| f.path == path && f.role == role)
}

fn permission_messages(ev: node::NodeEvidence) -> Vec<String> {
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files);
    report
        .findings
        .iter()
        .filter(|f| f.rule == "node-file-permissions")
        .map(|f| f.message.to_string())
        .collect()
}

/// RKE2's known paths (kube-bench `cfg/config.yaml`): pod manifests, the server's component
/// kubeconfigs, the agent's kubelet and kube-proxy kubeconfigs, the client CA, the kubelet config
/// drop-ins, etcd's config file and data directory.
#[test]
fn rke2_paths() {
    use node::NodeFileRole::*;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let rke2 = "/var/lib/rancher/rke2";
    write(
        r,
        &format!("{rke2}/agent/pod-manifests/etcd.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\nspec:\n  containers:\n  - name: etcd\n    image: index.docker.io/rancher/hardened-etcd:v3.5.16-k3s1\n    command: [etcd, --config-file=/var/lib/rancher/rke2/server/db/etcd/config]\n",
        0o600,
    );
    write(
        r,
        &format!("{rke2}/server/db/etcd/config"),
        "name: cp-1\n",
        0o644,
    );
    fs::create_dir_all(r.join("var/lib/rancher/rke2/server/db/etcd/member")).unwrap();
    fs::set_permissions(
        r.join("var/lib/rancher/rke2/server/db/etcd"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let kubeconfig = "apiVersion: v1\nkind: Config\n";
    write(
        r,
        &format!("{rke2}/server/cred/scheduler.kubeconfig"),
        kubeconfig,
        0o644,
    );
    write(
        r,
        &format!("{rke2}/server/cred/controller.kubeconfig"),
        kubeconfig,
        0o600,
    );
    write(
        r,
        &format!("{rke2}/agent/kubelet.kubeconfig"),
        kubeconfig,
        0o644,
    );
    write(
        r,
        &format!("{rke2}/agent/kubeproxy.kubeconfig"),
        kubeconfig,
        0o600,
    );
    write(r, &format!("{rke2}/agent/client-ca.crt"), "ca", 0o666);
    write(
        r,
        &format!("{rke2}/agent/etc/kubelet.conf.d/00-rke2-defaults.conf"),
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 10255\nauthentication:\n  x509:\n    clientCAFile: /var/lib/rancher/rke2/agent/client-ca.crt\n",
        0o600,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    for (path, role) in [
        ("agent/pod-manifests/etcd.yaml", EtcdManifest),
        ("server/db/etcd/config", EtcdManifest),
        ("server/db/etcd", EtcdDataDir),
        ("server/cred/scheduler.kubeconfig", SchedulerKubeconfig),
        (
            "server/cred/controller.kubeconfig",
            ControllerManagerKubeconfig,
        ),
        ("agent/kubelet.kubeconfig", KubeletKubeconfig),
        ("agent/kubeproxy.kubeconfig", ProxyKubeconfig),
        ("agent/client-ca.crt", ClientCa),
        (
            "agent/etc/kubelet.conf.d/00-rke2-defaults.conf",
            KubeletConfig,
        ),
    ] {
        let path = format!("{rke2}/{path}");
        assert!(
            has(&ev, &path, role),
            "{path} as {role:?}: {:?}",
            roles(&ev)
        );
    }
    // The drop-in is read as a KubeletConfiguration.
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files.clone());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "kubelet-read-only-port"),
        "{:?}",
        report.findings.iter().map(|f| f.rule).collect::<Vec<_>>()
    );
    let messages = permission_messages(ev);
    for prefix in [
        "CIS 1.1.7: /var/lib/rancher/rke2/server/db/etcd/config has mode 644",
        "CIS 1.1.11: /var/lib/rancher/rke2/server/db/etcd has mode 755; at most 700",
        "CIS 1.1.15: /var/lib/rancher/rke2/server/cred/scheduler.kubeconfig has mode 644",
        "CIS 4.1.5: /var/lib/rancher/rke2/agent/kubelet.kubeconfig has mode 644",
        "CIS 4.1.7: /var/lib/rancher/rke2/agent/client-ca.crt has mode 666; at most 644",
    ] {
        assert!(
            messages.iter().any(|m| m.starts_with(prefix)),
            "{prefix}: {messages:#?}"
        );
    }
    for quiet in ["controller.kubeconfig", "kubeproxy.kubeconfig", "etcd.yaml"] {
        assert!(
            !messages
                .iter()
                .any(|m| m.contains(quiet) && m.contains("has mode")),
            "{quiet}: {messages:#?}"
        );
    }
}

/// k3s's known paths: the agent's kubeconfigs and client CA, the embedded etcd's config and data.
#[test]
fn k3s_paths() {
    use node::NodeFileRole::*;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let k3s = "/var/lib/rancher/k3s";
    let kubeconfig = "apiVersion: v1\nkind: Config\n";
    write(
        r,
        &format!("{k3s}/agent/kubelet.kubeconfig"),
        kubeconfig,
        0o600,
    );
    write(
        r,
        &format!("{k3s}/agent/kubeproxy.kubeconfig"),
        kubeconfig,
        0o644,
    );
    write(r, &format!("{k3s}/agent/client-ca.crt"), "ca", 0o644);
    write(
        r,
        &format!("{k3s}/server/db/etcd/config"),
        "name: s1\n",
        0o600,
    );
    fs::set_permissions(
        r.join("var/lib/rancher/k3s/server/db/etcd"),
        fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    for (path, role) in [
        ("agent/kubelet.kubeconfig", KubeletKubeconfig),
        ("agent/kubeproxy.kubeconfig", ProxyKubeconfig),
        ("agent/client-ca.crt", ClientCa),
        ("server/db/etcd/config", EtcdManifest),
        ("server/db/etcd", EtcdDataDir),
    ] {
        let path = format!("{k3s}/{path}");
        assert!(
            has(&ev, &path, role),
            "{path} as {role:?}: {:?}",
            roles(&ev)
        );
    }
    let messages: Vec<String> = permission_messages(ev)
        .into_iter()
        .filter(|m| m.contains("has mode"))
        .collect();
    assert_eq!(
        messages,
        [
            "CIS 4.1.3: /var/lib/rancher/k3s/agent/kubeproxy.kubeconfig has mode 644; at most 600 is expected"
        ]
    );
}

/// kubeadm: the etcd data directory named by the static Pod's `--data-dir` (owned by root, or by
/// the node's `etcd` user), kube-bench's proxy kubeconfig, `.manifest` static Pods, and the client
/// CA named by the kubelet config, recorded once when it is also a PKI certificate.
#[test]
fn kubeadm_etcd_data_dir_proxy_and_client_ca() {
    use node::NodeFileRole::*;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/kubernetes/manifests/etcd.manifest",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\nspec:\n  containers:\n  - name: etcd\n    image: registry.k8s.io/etcd:3.5.21-0\n    command: [etcd, --data-dir=/data/etcd, --client-cert-auth=true]\n",
        0o600,
    );
    // A directory that is not the one named by the flag is not taken.
    fs::create_dir_all(r.join("var/lib/etcd")).unwrap();
    fs::create_dir_all(r.join("data/etcd/member")).unwrap();
    fs::set_permissions(r.join("data/etcd"), fs::Permissions::from_mode(0o750)).unwrap();
    write(
        r,
        "/etc/kubernetes/proxy.conf",
        "apiVersion: v1\nkind: Config\n",
        0o640,
    );
    write(r, "/etc/kubernetes/pki/ca.crt", "ca", 0o644);
    write(
        r,
        "/var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
        0o600,
    );
    write(
        r,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\netcd:x:1001:1001::/var/lib/etcd:/sbin/nologin\n",
        0o644,
    );
    write(r, "/etc/group", "root:x:0:\netcd:x:1001:\n", 0o644);
    if is_root() {
        std::os::unix::fs::chown(r.join("data/etcd"), Some(1001), Some(1001)).unwrap();
    }
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    assert!(has(
        &ev,
        "/etc/kubernetes/manifests/etcd.manifest",
        EtcdManifest
    ));
    assert!(has(&ev, "/data/etcd", EtcdDataDir), "{:?}", roles(&ev));
    assert!(!ev.files.iter().any(|f| f.path == "/var/lib/etcd"));
    let data = ev.files.iter().find(|f| f.role == EtcdDataDir).unwrap();
    assert_eq!(data.alt_owner, Some((1001, 1001)));
    assert!(has(&ev, "/etc/kubernetes/proxy.conf", ProxyKubeconfig));
    let ca: Vec<_> = ev
        .files
        .iter()
        .filter(|f| f.path == "/etc/kubernetes/pki/ca.crt")
        .map(|f| f.role)
        .collect();
    assert_eq!(ca, [Certificate]);
    let messages = permission_messages(ev);
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("CIS 1.1.11: /data/etcd has mode 750")),
        "{messages:#?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("CIS 4.1.3: /etc/kubernetes/proxy.conf has mode 640")),
        "{messages:#?}"
    );
    if is_root() {
        // Owned by etcd:etcd: what CIS 1.1.12 asks for, accepted.
        assert!(
            !messages.iter().any(|m| m.starts_with("CIS 1.1.12")),
            "{messages:#?}"
        );
    }
}

/// The kubelet's `--client-ca-file` names the client CA (CIS 4.1.7/4.1.8) outside the PKI tree.
#[test]
fn client_ca_from_the_kubelet_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/local/bin/kubelet --client-ca-file=/etc/kubernetes/certs/ca.pem --anonymous-auth=false\n",
        0o600,
    );
    write(r, "/etc/kubernetes/certs/ca.pem", "ca", 0o664);
    let ev = node::gather(r);
    assert!(
        has(
            &ev,
            "/etc/kubernetes/certs/ca.pem",
            node::NodeFileRole::ClientCa
        ),
        "{:?}",
        roles(&ev)
    );
    let messages = permission_messages(ev);
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("CIS 4.1.7: /etc/kubernetes/certs/ca.pem has mode 664")),
        "{messages:#?}"
    );
}

/// Findings of a gathered node, as (rule, origin relative to the root, line, message).
fn located(root: &Path, ev: node::NodeEvidence) -> Vec<(String, String, u32, String)> {
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files);
    let prefix = root.display().to_string();
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.to_owned(),
                f.location
                    .origin
                    .strip_prefix(&prefix)
                    .unwrap_or(&f.location.origin)
                    .to_owned(),
                f.location.line,
                f.message.to_string(),
            )
        })
        .collect()
}

const K3S_CONFIG: &str = "# k3s server
write-kubeconfig-mode: \"0644\"
secrets-encryption: true
kube-apiserver-arg:
  - \"anonymous-auth=true\"
  - \"--audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log\"
kubelet-arg:
  - read-only-port=10255
";

/// A drop-in: `kubelet-arg` replaces the list (the read-only port goes back to k3s's default),
/// `kube-apiserver-arg+` appends to it.
const K3S_DROP_IN: &str = "kubelet-arg:
  - max-pods=50
kube-apiserver-arg+:
  - profiling=true
";

/// k3s: `config.yaml` and its drop-ins become the embedded components' command lines, over the
/// defaults k3s passes; findings point at the config file's line.
#[test]
fn k3s_config_files_become_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/etc/rancher/k3s/config.yaml", K3S_CONFIG, 0o600);
    write(
        r,
        "/etc/rancher/k3s/config.yaml.d/50-tuning.yaml",
        K3S_DROP_IN,
        0o600,
    );
    write(
        r,
        "/var/lib/rancher/k3s/server/cred/encryption-config.json",
        r#"{"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],"providers":[{"aescbc":{"keys":[{"name":"aescbckey","secret":"c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg=="}]}},{"identity":{}}]}]}"#,
        0o600,
    );
    write(
        r,
        "/etc/rancher/k3s/k3s.yaml",
        "apiVersion: v1\nkind: Config\n",
        0o644,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    for p in [
        "/etc/rancher/k3s/config.yaml",
        "/etc/rancher/k3s/config.yaml.d/50-tuning.yaml",
        // Named by the flag `secrets-encryption: true` stands for.
        "/var/lib/rancher/k3s/server/cred/encryption-config.json",
    ] {
        assert!(ev.read.iter().any(|x| x == p), "{p}: {:?}", ev.read);
    }
    let found = located(r, ev);
    let find = |rule: &str| {
        found
            .iter()
            .find(|f| f.0 == rule)
            .unwrap_or_else(|| panic!("{rule} missing: {found:#?}"))
    };
    // The argument, at its line of config.yaml.
    let anon = find("apiserver-anonymous-auth");
    assert_eq!(
        (anon.1.as_str(), anon.2),
        ("/etc/rancher/k3s/config.yaml", 5),
        "{anon:?}"
    );
    // Appended by the drop-in (`+`), at its line there.
    let profiling = found
        .iter()
        .find(|f| f.3.starts_with("CIS 1.2.15: "))
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(
        (profiling.1.as_str(), profiling.2),
        ("/etc/rancher/k3s/config.yaml.d/50-tuning.yaml", 4),
        "{profiling:?}"
    );
    // A missing flag: where the component's arguments are written (last: the drop-in's key).
    let audit = find("apiserver-audit-logging-disabled");
    assert_eq!(
        (audit.1.as_str(), audit.2),
        ("/etc/rancher/k3s/config.yaml.d/50-tuning.yaml", 3),
        "{audit:?}"
    );
    // The admin kubeconfig k3s writes with `write-kubeconfig-mode: "0644"`.
    assert!(
        found.iter().any(|f| f
            .3
            .starts_with("CIS 1.1.13: /etc/rancher/k3s/k3s.yaml has mode 644")),
        "{found:#?}"
    );
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    for quiet in [
        // `secrets-encryption: true` names the generated EncryptionConfiguration.
        "apiserver-encryption-missing",
        // The drop-in's `kubelet-arg` replaced `read-only-port=10255`; k3s's default is 0.
        "kubelet-read-only-port",
        // k3s's defaults: Node,RBAC; kubelet anonymous auth off and Webhook; localhost binds.
        "apiserver-authorization-mode",
        "kubelet-anonymous-auth",
        "kubelet-authorization-always-allow",
        "control-plane-component-not-localhost",
    ] {
        assert!(!rules.contains(&quiet), "{quiet}: {found:#?}");
    }
}

/// RKE2: the static Pods hold the control plane's effective command lines, so `config.yaml`
/// adds the components that have none (and the kubelet); `kubelet-arg` flags override the
/// KubeletConfiguration drop-ins RKE2 writes (`--config-dir`).
#[test]
fn rke2_config_file_and_kubelet_drop_ins() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let rke2 = "/var/lib/rancher/rke2";
    write(
        r,
        "/etc/rancher/rke2/config.yaml",
        "audit-policy-file: /etc/rancher/rke2/audit-policy.yaml\nkube-apiserver-arg:\n  - anonymous-auth=true\nkube-controller-manager-arg:\n  - bind-address=0.0.0.0\nkubelet-arg:\n  - anonymous-auth=true\n",
        0o600,
    );
    write(
        r,
        &format!("{rke2}/agent/etc/kubelet.conf.d/00-rke2-defaults.conf"),
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: false}\n  x509: {clientCAFile: /var/lib/rancher/rke2/agent/client-ca.crt}\nauthorization: {mode: Webhook}\nreadOnlyPort: 0\n",
        0o600,
    );
    write(
        r,
        &format!("{rke2}/agent/pod-manifests/kube-apiserver.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    image: rancher/hardened-kubernetes:v1.33.1-rke2r1\n    command: [kube-apiserver, --anonymous-auth=false, --authorization-mode=Node,RBAC]\n",
        0o600,
    );
    write(
        r,
        "/etc/rancher/rke2/audit-policy.yaml",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
        0o600,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    let names: Vec<String> = ev
        .inputs
        .iter()
        .filter_map(|i| match i {
            kubeharden_engine::load::Input::Bytes { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "/etc/rancher/rke2/config.yaml (kube-controller-manager)",
            "/etc/rancher/rke2/config.yaml (kube-scheduler)",
            "/etc/rancher/rke2/config.yaml (kubelet)",
        ],
        "the API server's static Pod is its command line"
    );
    let found = located(r, ev);
    // The static Pod says `--anonymous-auth=false`: the config file's argument is not judged twice.
    assert!(
        !found.iter().any(|f| f.0 == "apiserver-anonymous-auth"),
        "{found:#?}"
    );
    let cm = found
        .iter()
        .find(|f| f.0 == "control-plane-component-not-localhost")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!((cm.1.as_str(), cm.2), ("/etc/rancher/rke2/config.yaml", 5));
    // The kubelet flag overrides RKE2's KubeletConfiguration, and says so.
    let kubelet = found
        .iter()
        .find(|f| f.0 == "kubelet-anonymous-auth")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(
        (kubelet.1.as_str(), kubelet.2),
        ("/etc/rancher/rke2/config.yaml", 7)
    );
    assert!(
        kubelet
            .3
            .contains("overriding `authentication.anonymous.enabled: false`")
            && kubelet.3.contains("00-rke2-defaults.conf"),
        "{}",
        kubelet.3
    );
    // The drop-in decides what no flag sets: no other kubelet finding.
    assert!(
        !found
            .iter()
            .any(|f| f.0 == "kubelet-read-only-port" || f.3.starts_with("CIS 4.2.3")),
        "{found:#?}"
    );
}

/// RKE2 without static Pods yet: `audit-policy-file` brings the audit log RKE2 configures with it.
#[test]
fn rke2_audit_policy_file_key() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/rancher/rke2/config.yaml",
        "audit-policy-file: /etc/rancher/rke2/audit-policy.yaml\n",
        0o600,
    );
    fs::create_dir_all(r.join("var/lib/rancher/rke2/server")).unwrap();
    write(
        r,
        "/etc/rancher/rke2/audit-policy.yaml",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n",
        0o600,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    assert!(
        ev.read
            .iter()
            .any(|p| p == "/etc/rancher/rke2/audit-policy.yaml"),
        "{:?}",
        ev.read
    );
    let found = located(r, ev);
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    // A policy and a log: audit is on; the followed policy records nothing sensitive.
    assert!(
        !rules.contains(&"apiserver-audit-logging-disabled"),
        "{found:#?}"
    );
    assert!(
        rules.contains(&"audit-policy-misses-sensitive-operations"),
        "{found:#?}"
    );
    // Without the key, RKE2 adds no audit flags (outside its CIS profile): audit is off.
    let bare = tempfile::tempdir().unwrap();
    write(bare.path(), "/etc/rancher/rke2/config.yaml", "{}\n", 0o600);
    fs::create_dir_all(bare.path().join("var/lib/rancher/rke2/server")).unwrap();
    let found = located(bare.path(), node::gather(bare.path()));
    assert!(
        found
            .iter()
            .any(|f| f.0 == "apiserver-audit-logging-disabled"),
        "{found:#?}"
    );
}

/// The kubelet's systemd drop-in: each flag is located where it is written — a continuation line
/// of `ExecStart=`, the `Environment=` line that sets the variable, the environment file — at
/// its line and column, with that line as the snippet; a missing flag at the `ExecStart=` line.
#[test]
fn kubelet_unit_flags_are_located_where_written() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    let unit = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf";
    write(
        r,
        unit,
        "[Service]\nEnvironment=\"KUBELET_EXTRA=--v=2 --authorization-mode=AlwaysAllow\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA \\\n    --read-only-port=10255 \\\n    $KUBELET_KUBEADM_ARGS\n",
        0o600,
    );
    write(
        r,
        "/var/lib/kubelet/kubeadm-flags.env",
        "# kubeadm\nKUBELET_KUBEADM_ARGS=\"--pod-infra-container-image=pause --anonymous-auth=true\"\n",
        0o600,
    );
    let ev = node::gather(r);
    let report = scan_with_node_files(&ev.inputs, rules::all(), ev.files);
    let prefix = r.display().to_string();
    let at = |rule: &str| {
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no {rule}: {:#?}", report.findings));
        let snippet: Vec<(u32, String)> = f
            .snippet
            .iter()
            .map(|l| (l.line, l.text.to_owned()))
            .collect();
        (
            f.location.origin.strip_prefix(&prefix).unwrap().to_owned(),
            f.location.line,
            f.location.column,
            snippet,
        )
    };
    assert_eq!(
        at("kubelet-read-only-port"),
        (
            unit.to_owned(),
            6,
            5,
            vec![(6, "    --read-only-port=10255 \\".to_owned())]
        )
    );
    assert_eq!(
        at("kubelet-authorization-always-allow"),
        (
            unit.to_owned(),
            2,
            34,
            vec![(
                2,
                "Environment=\"KUBELET_EXTRA=--v=2 --authorization-mode=AlwaysAllow\"".to_owned()
            )]
        )
    );
    assert_eq!(
        at("kubelet-anonymous-auth"),
        (
            "/var/lib/kubelet/kubeadm-flags.env".to_owned(),
            2,
            57,
            vec![(
                2,
                "KUBELET_KUBEADM_ARGS=\"--pod-infra-container-image=pause --anonymous-auth=true\""
                    .to_owned()
            )]
        )
    );
}

/// (rule, origin relative to the root, line, message) of the findings of these rules, without
/// ownership findings (only root can create root-owned files).
fn judged(
    root: &Path,
    ev: node::NodeEvidence,
    rules: &[&str],
) -> Vec<(String, String, u32, String)> {
    located(root, ev)
        .into_iter()
        .filter(|f| rules.contains(&f.0.as_str()) && !f.3.contains("is owned by"))
        .collect()
}

/// kube-proxy as Kubernetes The Hard Way installs it: `kube-proxy.service` with
/// `--config=/var/lib/kube-proxy/kube-proxy-config.yaml` (here with an `EnvironmentFile`), the
/// KubeProxyConfiguration read as an input (CIS 4.3.1 at its line), its
/// `clientConnection.kubeconfig` recorded as the proxy kubeconfig (CIS 4.1.3).
#[test]
fn kube_proxy_unit_as_the_hard_way_writes_it() {
    use node::NodeFileRole::*;
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/systemd/system/kube-proxy.service",
        "[Unit]\nDescription=Kubernetes Kube Proxy\n\n[Service]\nEnvironmentFile=/etc/default/kube-proxy\nExecStart=/usr/local/bin/kube-proxy \\\n  --config=/var/lib/kube-proxy/kube-proxy-config.yaml $KUBE_PROXY_ARGS\nRestart=on-failure\n",
        0o644,
    );
    write(
        r,
        "/etc/default/kube-proxy",
        "KUBE_PROXY_ARGS=\"--v=2\"\n",
        0o644,
    );
    write(
        r,
        "/var/lib/kube-proxy/kube-proxy-config.yaml",
        "kind: KubeProxyConfiguration\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nclientConnection:\n  kubeconfig: \"/var/lib/kube-proxy/kubeconfig\"\nmode: \"iptables\"\nclusterCIDR: \"10.200.0.0/16\"\nmetricsBindAddress: 0.0.0.0:10249\n",
        0o600,
    );
    write(
        r,
        "/var/lib/kube-proxy/kubeconfig",
        "apiVersion: v1\nkind: Config\n",
        0o644,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    assert!(
        ev.read
            .contains(&"/var/lib/kube-proxy/kube-proxy-config.yaml".to_owned()),
        "{:?}",
        ev.read
    );
    assert!(
        has(&ev, "/var/lib/kube-proxy/kubeconfig", ProxyKubeconfig),
        "{:?}",
        roles(&ev)
    );
    assert_eq!(
        judged(r, ev, &["cis-control-plane-check", "node-file-permissions"]),
        [
            (
                "cis-control-plane-check".to_owned(),
                "/var/lib/kube-proxy/kube-proxy-config.yaml".to_owned(),
                7,
                "CIS 4.3.1: kube-proxy `metricsBindAddress: 0.0.0.0:10249` is not bound to localhost".to_owned()
            ),
            (
                "node-file-permissions".to_owned(),
                "node:/var/lib/kube-proxy/kubeconfig".to_owned(),
                0,
                "CIS 4.1.3: /var/lib/kube-proxy/kubeconfig has mode 644; at most 600 is expected"
                    .to_owned()
            ),
        ]
    );
}

/// A kube-proxy unit without `--config`: its flags decide, located where written; its
/// `--kubeconfig` is the proxy kubeconfig.
#[test]
fn kube_proxy_unit_flags() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/lib/systemd/system/kube-proxy.service",
        "[Service]\nExecStart=/usr/bin/kube-proxy --kubeconfig=/etc/kubernetes/kube-proxy.kubeconfig \\\n  --metrics-bind-address=0.0.0.0:10249\n",
        0o600,
    );
    write(
        r,
        "/etc/kubernetes/kube-proxy.kubeconfig",
        "apiVersion: v1\nkind: Config\n",
        0o600,
    );
    let ev = node::gather(r);
    assert!(ev.diagnostics.is_empty(), "{:?}", ev.diagnostics);
    assert!(has(
        &ev,
        "/etc/kubernetes/kube-proxy.kubeconfig",
        node::NodeFileRole::ProxyKubeconfig
    ));
    assert_eq!(
        judged(r, ev, &["cis-control-plane-check", "node-file-permissions"]),
        [(
            "cis-control-plane-check".to_owned(),
            "/lib/systemd/system/kube-proxy.service".to_owned(),
            3,
            "CIS 4.3.1: kube-proxy `--metrics-bind-address=0.0.0.0:10249` is not bound to localhost"
                .to_owned()
        )]
    );
}

/// A kube-proxy `--config` that is not on the node: a warning naming it, and the control-plane
/// flag evidence unreadable (CIS 4.3.1 not assessed, not judged on defaults).
#[test]
fn kube_proxy_missing_config_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "/etc/systemd/system/kube-proxy.service",
        "[Service]\nExecStart=/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/kube-proxy-config.yaml\n",
        0o600,
    );
    let ev = node::gather(r);
    let messages: Vec<String> = ev
        .diagnostics
        .iter()
        .map(|d| d.message.replace(&r.display().to_string(), "ROOT"))
        .collect();
    assert_eq!(
        messages,
        [
            "kube-proxy `--config=/var/lib/kube-proxy/kube-proxy-config.yaml` names a file that is not on this node (under ROOT): not found; the kube-proxy settings it would hold (CIS 4.3.1) are unknown, and the rules that need them are not assessed"
        ]
    );
    assert_eq!(
        ev.unreadable,
        [(
            kubeharden_engine::meta::Evidence::ControlPlaneFlags,
            "kube-proxy `--config=/var/lib/kube-proxy/kube-proxy-config.yaml` not found on the node"
                .to_owned()
        )]
    );
}

/// CNI files (CIS 1.1.9, 1.1.10; kube-bench: the files under the kubelet's `--cni-conf-dir`
/// and under `/var/lib/cni/networks`): every regular file, at most 600.
#[test]
fn cni_files_600() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/etc/cni/net.d/10-calico.conflist", "{}", 0o644);
    write(
        r,
        "/etc/cni/net.d/calico-kubeconfig",
        "apiVersion: v1\n",
        0o600,
    );
    write(
        r,
        "/var/lib/cni/networks/k8s-pod-network/10.244.0.5",
        "abc\neth0",
        0o644,
    );
    let ev = node::gather(r);
    assert_eq!(
        judged(r, ev, &["node-file-permissions"])
            .into_iter()
            .map(|f| f.3)
            .collect::<Vec<_>>(),
        [
            "CIS 1.1.9: /etc/cni/net.d/10-calico.conflist has mode 644; at most 600 is expected",
            "CIS 1.1.9: /var/lib/cni/networks/k8s-pod-network/10.244.0.5 has mode 644; at most 600 is expected",
        ]
    );
    // The kubelet's `--cni-conf-dir` replaces the default directories.
    write(
        r,
        "/etc/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet --cni-conf-dir=/opt/cni/net.d\n",
        0o600,
    );
    write(r, "/opt/cni/net.d/10-flannel.conflist", "{}", 0o640);
    let ev = node::gather(r);
    assert_eq!(
        judged(r, ev, &["node-file-permissions"])
            .into_iter()
            .map(|f| f.3)
            .filter(|m| m.starts_with("CIS 1.1.9"))
            .collect::<Vec<_>>(),
        [
            "CIS 1.1.9: /opt/cni/net.d/10-flannel.conflist has mode 640; at most 600 is expected",
            "CIS 1.1.9: /var/lib/cni/networks/k8s-pod-network/10.244.0.5 has mode 644; at most 600 is expected",
        ]
    );
}

/// CNI files owned by someone else than root (CIS 1.1.10): only testable as root.
#[test]
fn cni_files_root_owned() {
    if !is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/etc/cni/net.d/10-flannel.conflist", "{}", 0o600);
    std::os::unix::fs::chown(
        r.join("etc/cni/net.d/10-flannel.conflist"),
        Some(1000),
        Some(1000),
    )
    .unwrap();
    let messages = permission_messages(node::gather(r));
    assert_eq!(
        messages,
        [
            "CIS 1.1.10: /etc/cni/net.d/10-flannel.conflist is owned by 1000:1000; root:root is expected"
        ]
    );
}

/// Node version files (issue 26, versions): a kind node image's `/kind/version` and the
/// `kubelet` package of `/var/lib/dpkg/status` past their end of support, each reported at the
/// line that states it; a package that is not installed, or another package, is not read.
#[test]
fn node_version_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "/kind/version", "v1.16.15\n", 0o644);
    write(
        r,
        "/var/lib/dpkg/status",
        "Package: kubectl\nStatus: install ok installed\nVersion: 1.10.0-00\n\nPackage: kubelet\nStatus: install ok installed\nPriority: optional\nVersion: 1.24.17-1.1\nDescription: Kubernetes Node Agent\n\nPackage: kubeadm\nStatus: deinstall ok config-files\nVersion: 1.12.0-00\n",
        0o644,
    );
    let ev = node::gather(r);
    assert!(
        ev.read.contains(&"/kind/version".to_owned()),
        "{:?}",
        ev.read
    );
    let found: Vec<(String, String, u32, String)> = located(r, ev)
        .into_iter()
        .filter(|f| f.0 == "kubernetes-version-unsupported")
        .collect();
    assert_eq!(
        found,
        [
            (
                "kubernetes-version-unsupported".to_owned(),
                "/kind/version".to_owned(),
                1,
                "the kind node image runs Kubernetes v1.16.15 (1.16), past its upstream end of support (2020-09-02; support table of 2026-04-22): it receives no security fixes".to_owned()
            ),
            (
                "kubernetes-version-unsupported".to_owned(),
                "/var/lib/dpkg/status".to_owned(),
                8,
                "the kubelet (Debian package `kubelet`) runs Kubernetes 1.24.17 (1.24), past its upstream end of support (2023-07-28; support table of 2026-04-22): it receives no security fixes".to_owned()
            ),
        ]
    );
}
