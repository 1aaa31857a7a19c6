//! A projected ServiceAccount token with a long lifetime.

use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

/// Tokens valid for more than a day defeat the purpose of short-lived credentials.
const MAX_SECONDS: i64 = 86_400;

pub static RULE: Rule = Rule {
    id: "projected-token-long-lived",
    section: Section::Rule(15),
    severity: Severity::Low,
    summary: "Projected ServiceAccount token lives longer than a day",
    rationale: "Projected tokens are bound to the pod and rotated by the kubelet, but a long \
        `expirationSeconds` keeps a stolen token useful for that long after the theft. The default \
        is one hour; the kubelet refreshes at 80% of the lifetime, so short lifetimes cost nothing.",
    remedy: "Leave `expirationSeconds` unset (3600) or set it at most to 86400.",
    references: References {
        docs: &["https://kubernetes.io/docs/concepts/storage/projected-volumes/"],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates],
    fix: None,
    check: Check::PodTemplate(check),
};

fn check(_: &Context, t: &PodTemplate, emit: &mut Emitter) {
    for (i, v) in t
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        for (j, s) in v
            .pointer("/projected/sources")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let Some(secs) = s
                .pointer("/serviceAccountToken/expirationSeconds")
                .and_then(Node::as_i64)
            else {
                continue;
            };
            if secs > MAX_SECONDS {
                let name = v.get("name").and_then(Node::text).unwrap_or("");
                emit.object(
                    t.object,
                    &t.ptr(&format!("volumes/{i}/projected/sources/{j}/serviceAccountToken/expirationSeconds")),
                    format!("volume \"{name}\" requests a ServiceAccount token valid for {secs} s ({} h)", secs / 3600),
                );
            }
        }
    }
}
