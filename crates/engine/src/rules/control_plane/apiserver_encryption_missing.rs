//! Secrets are stored in etcd in plain text.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-encryption-at-rest-missing",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "API server does not encrypt Secrets at rest",
    rationale: "Without `--encryption-provider-config` every Secret is stored in etcd as plain text: \
        an etcd backup, a snapshot of the etcd disk or read access to etcd hands over every \
        credential in the cluster.",
    remedy: "Create an EncryptionConfiguration whose first provider for `secrets` is `kms` \
        (apiVersion v2) — or `secretbox`/`aescbc` where no KMS exists — and pass it with \
        `--encryption-provider-config`; then rewrite existing Secrets \
        (`kubectl get secrets -A -o json | kubectl replace -f -`).",
    references: References {
        cis: &["1.2.27"],
        checkov: &["CKV_K8S_104"],
        trivy: &["KCV0030"],
        kubescape: &["C-0066"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags
            .get("encryption-provider-config")
            .is_none_or(|f| f.value.is_empty())
        {
            emit.object(o, &flags.anchor, format!("kube-apiserver ({}) has no `--encryption-provider-config`: Secrets are stored unencrypted", flags.source));
        }
    }
}
