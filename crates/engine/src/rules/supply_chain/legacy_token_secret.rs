//! A long-lived ServiceAccount token Secret.

use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "legacy-service-account-token",
    section: Section::Rule(15),
    severity: Severity::Medium,
    summary: "Long-lived ServiceAccount token Secret",
    rationale: "A `kubernetes.io/service-account-token` Secret holds a JWT that never expires and is \
        not bound to a pod: once leaked (logs, backups, a compromised reader of Secrets) it works until \
        someone deletes the Secret. The token cleaner only removes auto-generated, unused tokens, \
        never manually created ones.",
    remedy: "Delete the Secret and use short-lived tokens: projected `serviceAccountToken` volumes \
        (the default for pods), `kubectl create token --duration`, or the TokenRequest API; for CI, \
        workload identity federation or Vault dynamic credentials.",
    references: References {
        cis: &["5.1.6"],
        docs: &["https://kubernetes.io/docs/concepts/security/service-accounts/#get-a-token"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind == "Secret"
        && o.group().is_empty()
        && o.root.get("type").and_then(Node::text) == Some("kubernetes.io/service-account-token")
    {
        let sa = o
            .annotation("kubernetes.io/service-account.name")
            .unwrap_or("?");
        emit.object(
            o,
            "/type",
            format!(
                "Secret \"{}\" is a non-expiring token for ServiceAccount \"{sa}\"",
                o.name
            ),
        );
    }
}
