//! Secrets encrypted with a key stored next to the data.

use super::is;
use crate::analysis::control_plane::secrets_write_provider;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "encryption-config-not-kms-v2",
    section: Section::Rule(14),
    severity: Severity::Low,
    summary: "Secrets are encrypted with a local key or KMS v1 rather than KMS v2",
    rationale: "`aescbc`, `aesgcm` and `secretbox` keep the key in the EncryptionConfiguration file on \
        the control-plane node: whoever can read etcd backups and that file reads every Secret. \
        `aesgcm` must also be rotated every 200,000 writes and `aescbc` is no longer recommended. \
        KMS v1 is deprecated and disabled by default since 1.29. KMS v2 keeps the key in an \
        external KMS (envelope encryption).",
    remedy: "Use a `kms` provider with `apiVersion: v2` and a KMS plugin (cloud KMS, Vault, HSM) as \
        the first provider for `secrets`.",
    references: References {
        cis: &["1.2.28"],
        docs: &["https://kubernetes.io/docs/tasks/administer-cluster/kms-provider/"],
        ..References::NONE
    },
    evidence: &[Evidence::EncryptionConfig],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if !is(o, "apiserver.config.k8s.io", "EncryptionConfiguration") {
        return;
    }
    let Some(p) = secrets_write_provider(&o.root) else {
        return;
    };
    let why = match (p.name.as_str(), p.kms_version.as_deref()) {
        ("identity", _) | ("kms", Some("v2")) => return,
        ("kms", _) => "KMS v1 (deprecated, disabled by default since 1.29)".to_owned(),
        (local, _) => format!("`{local}` with the key stored in the file on the node"),
    };
    emit.object(o, &p.pointer, format!("Secrets are encrypted with {why}"));
}
