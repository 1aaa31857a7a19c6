//! A credential in a YAML or JSON file that is not a Kubernetes object: Helm values, a Docker
//! `config.json` / `.dockerconfigjson`, an application config committed next to the manifests.

use crate::analysis::secrets;
use crate::finding::Severity;
use crate::load::Document;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::{Node, Value, escape_token};

pub static RULE: Rule = Rule {
    id: "credential-in-committed-file",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "Credential in a committed values or config file",
    rationale: "Helm values files, Docker registry configs and application configs sit next to the \
        manifests in git and are copied into CI logs, chart packages and every clone. A password, \
        token, registry `auth` or private key there is exposed to all of them and outlives any \
        rotation. Findings name the key, never the value.",
    remedy: "Keep the value out of the file: reference an existing Secret (`existingSecret`-style \
        chart values) delivered by Sealed Secrets, External Secrets or the Secrets Store CSI \
        driver, pass it at deploy time from the CI secret store, and rotate the exposed credential.",
    references: References {
        kubescape: &["C-0012"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Document(check),
};

/// Deepest nesting followed (values files are shallow; a hostile file must not cost more).
const MAX_DEPTH: usize = 64;

fn check(_: &Context, doc: &Document, emit: &mut Emitter) {
    let mut found = Vec::new();
    walk(&doc.root, "", "", 0, &mut found);
    for (pointer, why) in found {
        emit.document(
            doc,
            &pointer,
            if pointer.is_empty() {
                format!("the file holds a credential: {why}")
            } else {
                format!("`{}` holds a credential: {why}", dotted(&pointer))
            },
        );
    }
}

fn walk(node: &Node, pointer: &str, key: &str, depth: usize, found: &mut Vec<(String, String)>) {
    if depth > MAX_DEPTH {
        return;
    }
    match &node.value {
        Value::Map(_) => {
            // Docker config: `auths.<registry>.{auth,password,identitytoken}`.
            for e in node.effective_entries() {
                let child = format!("{pointer}/{}", escape_token(&e.key));
                walk(&e.value, &child, &e.key, depth + 1, found);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{pointer}/{i}"), key, depth + 1, found);
            }
        }
        _ => {
            let Some(value) = node.text() else { return };
            if let Some(why) = credential(key, value) {
                found.push((pointer.to_owned(), why));
            }
        }
    }
}

/// Why a `key: value` of a values or config file is a credential, or None.
fn credential(key: &str, value: &str) -> Option<String> {
    let v = value.trim();
    if secrets::is_placeholder(v) {
        return None;
    }
    // Docker registry credentials: `auth` is base64 `user:password`.
    if matches!(key, "auth" | "identitytoken" | "registrytoken") && v.len() >= 8 {
        return Some("registry credential".to_owned());
    }
    // camelCase keys meet the same name lists (`secretAccessKey` → `secret_access_key`).
    let name = crate::redact::snake_case(key);
    // `existingSecret: my-db`, `adminSecret: tls`, `adminPasswordKey: postgres-password`: the
    // name of a Secret or of one of its keys, not a secret.
    if name.starts_with("existing")
        || (["_secret", "_key", "_ref"]
            .iter()
            .any(|s| name.ends_with(s))
            && is_object_name(v))
    {
        return None;
    }
    secrets::credential_in_env(&name, v)
}

/// `/postgresql/auth/password` → `postgresql.auth.password` (as `helm --set` names it).
fn dotted(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A DNS-1123 name (what a Secret reference holds).
fn is_object_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_judged_in_snake_case() {
        assert_eq!(
            crate::redact::snake_case("secretAccessKey"),
            "secret_access_key"
        );
        assert_eq!(crate::redact::snake_case("client-secret"), "client_secret");
        assert!(credential("secretAccessKey", "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY").is_some());
        assert!(credential("secretName", "db-credentials").is_none());
        assert!(credential("existingSecret", "db-credentials").is_none());
        assert!(credential("adminSecret", "my-admin-secret").is_none());
        assert!(credential("password", "").is_none());
        assert!(credential("password", "changeme").is_none());
        assert_eq!(
            credential("auth", "dXNlcjpwYXNzd29yZDEyMw==").as_deref(),
            Some("registry credential")
        );
        assert!(credential("host", "db.example.com").is_none());
        assert!(credential("adminPasswordKey", "postgres-password").is_none());
    }
}
