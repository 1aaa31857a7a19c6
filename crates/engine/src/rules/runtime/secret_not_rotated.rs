//! A Secret that has not been re-created for a long time and no controller rotates.

use crate::analysis::runtime::{days_since_epoch, today};
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

/// Older than this, a hand-managed Secret is reported.
pub const MAX_AGE_DAYS: i64 = 90;

pub static RULE: Rule = Rule {
    id: "secret-not-rotated",
    section: Section::Rule(15),
    severity: Severity::Low,
    summary: "Secret older than 90 days and not managed by a rotating controller",
    rationale: "A credential that never changes stays valid for everyone who ever saw it: former \
        staff, old backups, a leaked CI log. Secrets created by hand in the cluster are rarely \
        rotated. Kubernetes does not record when a Secret's value changed, so its creation time is \
        the evidence: a Secret created long ago and not owned by a controller (External Secrets, \
        Sealed Secrets, Vault Secrets Operator, cert-manager) has most likely kept its value.",
    remedy: "Rotate the credential at its source and re-create the Secret, or hand it to a \
        controller that rotates it (an ExternalSecret with a `refreshInterval` from a secret store \
        with rotation, Vault dynamic secrets, cert-manager for certificates). Secrets of Helm \
        releases, ServiceAccount tokens and bootstrap tokens are judged by other rules.",
    references: References {
        cis: &["5.4.2"],
        docs: &["https://kubernetes.io/docs/concepts/security/secrets-good-practices/"],
        ..References::NONE
    },
    evidence: &[Evidence::SecretAges],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Secret" || !o.group().is_empty() {
        return;
    }
    let Some(created) = o
        .root
        .pointer("/metadata/creationTimestamp")
        .and_then(Node::text)
    else {
        return;
    };
    let kind = o.root.get("type").and_then(Node::text).unwrap_or("Opaque");
    if matches!(
        kind,
        "kubernetes.io/service-account-token"
            | "bootstrap.kubernetes.io/token"
            | "helm.sh/release.v1"
    ) {
        return;
    }
    let owned = o
        .root
        .pointer("/metadata/ownerReferences")
        .is_some_and(|r| !r.items().is_empty());
    let managed = o.annotation("cert-manager.io/certificate-name").is_some()
        || o.label("reconcile.external-secrets.io/managed").is_some()
        || o.label("app.kubernetes.io/managed-by").is_some_and(|m| {
            matches!(
                m,
                "external-secrets" | "vault-secrets-operator" | "cert-manager"
            )
        });
    if owned || managed {
        return;
    }
    let Some(day) = days_since_epoch(created) else {
        return;
    };
    let age = today() - day;
    if age > MAX_AGE_DAYS {
        emit.object(
            o,
            "/metadata/creationTimestamp",
            format!(
                "Secret \"{}\" ({kind}) was created {age} days ago ({}) and no controller rotates it",
                o.name,
                &created[..created.len().min(10)]
            ),
        );
    }
}
