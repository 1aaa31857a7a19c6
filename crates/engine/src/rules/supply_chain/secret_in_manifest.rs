//! A Secret with its values in the manifest: secrets committed to git.

use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

pub static RULE: Rule = Rule {
    id: "secret-values-in-manifest",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "Secret manifest carries its values (base64 is not encryption)",
    rationale: "A Secret's `data` is only base64-encoded and `stringData` is plain text: a manifest that \
        holds them puts the credential in git history, CI logs and every clone, where it outlives any \
        rotation. The `kubectl.kubernetes.io/last-applied-configuration` annotation copies the values \
        again in clear JSON.",
    remedy: "Commit a SealedSecret (bitnami sealed-secrets) or an ExternalSecret (External Secrets \
        Operator) / SecretProviderClass instead, and rotate the exposed credential.",
    references: References {
        cis: &["5.4.2"],
        kubescape: &["C-0012", "C-0234"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests, Evidence::SecretValues],
    fix: None,
    check: Check::Object(check),
};

fn has_values(node: Option<&Node>) -> bool {
    node.is_some_and(|n| {
        n.entries()
            .iter()
            .any(|e| e.value.text().is_some_and(|v| !v.is_empty()))
    })
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Secret" || !o.group().is_empty() {
        return;
    }
    for field in ["data", "stringData"] {
        if has_values(o.root.get(field)) {
            let keys: Vec<&str> = o
                .root
                .get(field)
                .map(Node::entries)
                .unwrap_or(&[])
                .iter()
                .map(|e| e.key.as_str())
                .collect();
            // What the values are, where the Secret's type says (kubernetes.io/… types).
            let what = match o.root.get("type").and_then(Node::as_str) {
                Some("kubernetes.io/dockerconfigjson" | "kubernetes.io/dockercfg") => {
                    "registry credentials"
                }
                Some("kubernetes.io/tls") => "a TLS private key",
                Some("kubernetes.io/ssh-auth") => "an SSH private key",
                Some("kubernetes.io/basic-auth") => "a username and password",
                Some("kubernetes.io/service-account-token") => "a ServiceAccount token",
                _ => "values",
            };
            emit.object(
                o,
                &format!("/{field}"),
                format!(
                    "Secret \"{}\" holds {what} in `{field}` ({})",
                    o.name,
                    keys.join(", ")
                ),
            );
        }
    }
    if o.annotation("kubectl.kubernetes.io/last-applied-configuration")
        .is_some_and(|a| a.contains("\"data\"") || a.contains("\"stringData\""))
    {
        emit.object(
            o,
            "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration",
            format!(
                "Secret \"{}\" repeats its values in the last-applied-configuration annotation",
                o.name
            ),
        );
    }
}
