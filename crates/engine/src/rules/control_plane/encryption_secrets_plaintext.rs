//! The EncryptionConfiguration leaves Secrets unencrypted.

use super::is;
use crate::analysis::control_plane::secrets_write_provider;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "encryption-config-secrets-plaintext",
    section: Section::Rule(14),
    severity: Severity::Critical,
    summary: "EncryptionConfiguration writes Secrets in plain text",
    rationale: "The first provider of the entry that covers `secrets` encrypts every write. If no \
        entry covers Secrets, or that provider is `identity`, Secrets are stored in etcd in plain \
        text even though encryption appears configured.",
    remedy: "Add `secrets` to a `resources` entry whose first provider is `kms` (apiVersion v2) or \
        `secretbox`/`aescbc`; keep `identity: {}` only as the last provider, for reading data \
        written before encryption was enabled.",
    references: References {
        cis: &["1.2.28"],
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
    match secrets_write_provider(&o.root) {
        None => emit.object(o, "/resources", "no `resources` entry covers `secrets` (nor `*.` / `*.*`): Secrets are stored in plain text"),
        Some(p) if p.name == "identity" => {
            emit.object(o, &p.pointer, "the first provider for Secrets is `identity`: new Secrets are written unencrypted")
        }
        Some(_) => {}
    }
}
