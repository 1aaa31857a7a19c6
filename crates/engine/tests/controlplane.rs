//! The control-plane corpus (`corpus/controlplane`): every file is classified or reported as not a
//! config; the EncryptionConfiguration and audit Policy examples give the findings an expert
//! expects (table below).

mod common;

use kubeharden_engine::analysis::control_plane::component_flags;
use kubeharden_engine::load::Input;
use kubeharden_engine::load::load_file;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::DiagLevel;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What a file is, from the objects in it.
fn classify(path: &Path) -> Vec<String> {
    let loaded = load_file(path);
    let mut kinds = Vec::new();
    for o in &loaded.objects {
        let flags = component_flags(o);
        if flags.is_empty() {
            kinds.push(format!(
                "{}/{}",
                if o.group().is_empty() {
                    "core"
                } else {
                    o.group()
                },
                o.kind
            ));
        } else {
            kinds.extend(
                flags
                    .iter()
                    .map(|f| format!("{} flags ({})", f.component.binary(), f.source)),
            );
        }
    }
    if kinds.is_empty() {
        let why = loaded
            .diagnostics
            .iter()
            .find(|d| d.level == DiagLevel::Error)
            .map(|d| format!("unparsable: {}", d.message))
            .unwrap_or_else(|| "not a config".to_owned());
        kinds.push(why);
    }
    kinds
}

#[test]
fn every_control_plane_file_is_classified() {
    let Some(dir) = common::corpus("controlplane") else {
        return;
    };
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut components = 0;
    for f in files(&dir) {
        let kinds = classify(&f);
        assert!(!kinds.is_empty(), "{}", f.display());
        for k in kinds {
            if k.contains(" flags (") {
                components += 1;
            }
            let key = if k.starts_with("unparsable") {
                "unparsable".to_owned()
            } else {
                k
            };
            *counts.entry(key).or_default() += 1;
        }
    }
    for (k, n) in &counts {
        println!("{n:>5}  {k}");
    }
    // The kubeadm static Pods and ClusterConfigurations of the corpus yield component flags.
    assert!(
        components >= 40,
        "only {components} component flag sets found"
    );
    for kind in [
        "audit.k8s.io/Policy",
        "apiserver.config.k8s.io/EncryptionConfiguration",
        "kubelet.config.k8s.io/KubeletConfiguration",
    ] {
        assert!(
            counts.contains_key(kind),
            "{kind} not classified: {counts:?}"
        );
    }
}

/// (file under controlplane/, rules expected to fire; every other rule of the two families must
/// stay quiet).
const EXPECTED: &[(&str, &[&str])] = &[
    // aescbc first: encrypted, but with the key on the node.
    (
        "kubernetes-website/docs/tasks/administer-cluster/decrypt-data/block01-EncryptionConfiguration.yaml",
        &["encryption-config-not-kms-v2"],
    ),
    // identity first (decrypting back to plain text): new Secrets unencrypted.
    (
        "kubernetes-website/docs/tasks/administer-cluster/decrypt-data/block02-EncryptionConfiguration.yaml",
        &["encryption-config-secrets-plaintext"],
    ),
    // The "CAUTION" example: identity first.
    (
        "kubernetes-website/docs/tasks/administer-cluster/encrypt-data/block01-EncryptionConfiguration.yaml",
        &["encryption-config-secrets-plaintext"],
    ),
    // KMS v1.
    (
        "kubernetes-website/docs/tasks/administer-cluster/kms-provider/block01-EncryptionConfiguration.yaml",
        &["encryption-config-not-kms-v2"],
    ),
    // KMS v2 first: the recommended setup.
    (
        "kubernetes-website/docs/tasks/administer-cluster/kms-provider/block02-EncryptionConfiguration.yaml",
        &[],
    ),
    (
        "kubernetes-website/docs/tasks/administer-cluster/kms-provider/block07-EncryptionConfiguration.yaml",
        &[],
    ),
    // The reference audit policy: Secrets at Metadata, a core-group rule at Request (which holds
    // a TokenRequest's spec, not the token): every sensitive operation recorded, no secret logged.
    ("kubernetes-website/examples/audit/audit-policy.yaml", &[]),
    // A policy whose first rule drops every get/list/watch: Secret reads are never logged.
    (
        "yokaze-kind-manifests/node/kubernetes/audit-policy.yaml",
        &["audit-policy-misses-sensitive-operations"],
    ),
];

#[test]
fn encryption_and_audit_examples_match_expert_expectations() {
    let Some(dir) = common::corpus("controlplane") else {
        return;
    };
    let families = ["encryption-config-", "audit-policy-"];
    let mut mismatches = Vec::new();
    for (file, expected) in EXPECTED {
        let report = scan_all(&[Input::File(dir.join(file))]);
        let mut fired: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.rule)
            .filter(|r| families.iter().any(|p| r.starts_with(p)))
            .collect();
        fired.sort();
        fired.dedup();
        if fired != *expected {
            mismatches.push(format!("{file}: expected {expected:?}, got {fired:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
