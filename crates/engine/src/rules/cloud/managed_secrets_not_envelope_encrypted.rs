//! A managed cluster's Secrets are not envelope-encrypted with a customer-managed KMS key.

use super::emit_verdicts;
use crate::analysis::cloud::cluster;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "managed-cluster-secrets-not-envelope-encrypted",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "Managed cluster's Secrets are not envelope-encrypted with a KMS key you control",
    rationale: "Without envelope encryption under a key in your KMS, Secrets in the provider's etcd \
        are protected only by the provider's own disk encryption: you cannot audit the key's use, \
        rotate it or revoke it, and a backup or snapshot of etcd yields every Secret.",
    remedy: "Configure envelope encryption of Secrets with a customer-managed key: EKS \
        `secretsEncryption.keyARN` (eksctl) or `encryption_config { resources = [\"secrets\"] }` \
        (Terraform); GKE `database_encryption { state = \"ENCRYPTED\", key_name = … }`; AKS \
        `key_management_service { key_vault_key_id = … }`.",
    references: References {
        checkov: &["CKV_AWS_58"],
        docs: &[
            "https://docs.aws.amazon.com/eks/latest/userguide/envelope-encryption.html",
            "https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets",
            "https://learn.microsoft.com/en-us/azure/aks/use-kms-etcd-encryption",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::CloudEncryption],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if let Some(c) = cluster(o) {
        emit_verdicts(&c, [c.encryption()], emit);
    }
}
