//! No secrets manager (Vault, External Secrets) in the cluster

use super::require;
use crate::analysis::runtime::Component;
use crate::finding::Severity;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::rules::{Context, Derived};

pub static RULE: Rule = Rule {
    id: "secrets-manager-missing",
    section: Section::Rule(15),
    severity: Severity::Info,
    summary: "No secrets manager (Vault, External Secrets) in the cluster",
    rationale: "Secrets created by hand in the cluster are rarely rotated: nobody knows where else they are used, and changing them is a manual, risky step. A secrets manager (HashiCorp Vault with dynamic, leased credentials, or the External Secrets Operator syncing from a cloud secret store) keeps the source of truth outside etcd, rotates on a schedule and revokes on demand.",
    remedy: "Run Vault (or use a cloud secret manager through the External Secrets Operator) and deliver secrets with the Vault agent injector, the Vault Secrets Operator or ExternalSecrets with a refreshInterval; prefer dynamic database and cloud credentials with short leases.",
    references: References {
        docs: &["https://developer.hashicorp.com/vault/docs/platform/k8s"],
        ..References::NONE
    },
    evidence: &[Evidence::SecretsManager],
    fix: None,
    check: Check::Inventory(check, &[]),
};

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    require(
        facts,
        emit,
        Component::SecretsManager,
        "no secrets manager (Vault, Vault Secrets Operator, External Secrets Operator) runs in the cluster: secrets are static and rotated by hand, if at all",
    );
}
