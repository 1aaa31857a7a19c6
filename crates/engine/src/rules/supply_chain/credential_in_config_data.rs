//! A credential in ConfigMap data or in an annotation.

use crate::analysis::secrets;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::{Node, escape_token};

pub static RULE: Rule = Rule {
    id: "credential-in-config-data",
    section: Section::Rule(14),
    severity: Severity::High,
    summary: "Credential in ConfigMap data or an annotation",
    rationale: "ConfigMaps and annotations are not secret: every reader of the namespace (and many \
        controllers, dashboards and backups) sees them, and they are committed to git. A token, \
        private key or password there is exposed to all of them and is never rotated. Findings \
        name the key, never the value.",
    remedy: "Move the value into a Secret delivered by Sealed Secrets, External Secrets or the \
        Secrets Store CSI driver, reference it from the workload, and rotate the exposed credential.",
    references: References {
        trivy: &["KSV-0109"],
        polaris: &["sensitiveConfigmapContent"],
        kubescape: &["C-0012"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Object(check),
};

/// `key: value` / `key=value` pairs inside a multi-line value (an embedded config file).
fn embedded_pairs(text: &str) -> impl Iterator<Item = (usize, &str, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let line = line.trim().trim_start_matches("export ");
        if line.starts_with('#') || line.starts_with("//") || line.starts_with(';') {
            return None;
        }
        let (k, v) = line.split_once([':', '='])?;
        let k = k.trim().trim_matches('"');
        let v = v.trim().trim_matches(['"', '\'', ',']);
        (!k.is_empty() && !k.contains(' ') && !v.is_empty()).then_some((i + 1, k, v))
    })
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind == "ConfigMap" && o.group().is_empty() {
        for e in o.root.get("data").map(Node::entries).unwrap_or(&[]) {
            let Some(value) = e.value.text() else {
                continue;
            };
            let ptr = format!("/data/{}", escape_token(&e.key));
            if !value.contains('\n') {
                if let Some(why) = secrets::credential_in_env(&e.key, value) {
                    emit.object(
                        o,
                        &ptr,
                        format!("ConfigMap \"{}\" key `{}` holds a {why}", o.name, e.key),
                    );
                }
                continue;
            }
            if let Some(why) = secrets::credential_in_text(value) {
                emit.object(
                    o,
                    &ptr,
                    format!("ConfigMap \"{}\" key `{}` contains a {why}", o.name, e.key),
                );
            } else if let Some((line, k, why)) = embedded_pairs(value)
                .find_map(|(line, k, v)| secrets::credential_in_env(k, v).map(|why| (line, k, why)))
            {
                emit.object(
                    o,
                    &ptr,
                    format!(
                        "ConfigMap \"{}\" key `{}` sets `{k}` (its line {line}) to a {why}",
                        o.name, e.key
                    ),
                );
            }
        }
    }
    for e in o
        .root
        .pointer("/metadata/annotations")
        .map(Node::entries)
        .unwrap_or(&[])
    {
        if e.key == "kubectl.kubernetes.io/last-applied-configuration" {
            continue; // a copy of the object: its fields are checked themselves
        }
        if let Some(why) = e.value.text().and_then(secrets::credential_in_text) {
            emit.object(
                o,
                &format!("/metadata/annotations/{}", escape_token(&e.key)),
                format!("annotation `{}` contains a {why}", e.key),
            );
        }
    }
}
