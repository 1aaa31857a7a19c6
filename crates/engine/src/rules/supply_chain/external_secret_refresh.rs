//! An ExternalSecret that never refreshes (so rotation never reaches the cluster).

use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};
use crate::yaml::Node;

/// Longest refresh interval that still picks up a rotated secret the same day.
const MAX_SECONDS: u64 = 24 * 3600;

pub static RULE: Rule = Rule {
    id: "external-secret-not-refreshed",
    section: Section::Rule(15),
    severity: Severity::Low,
    summary: "ExternalSecret is never or rarely refreshed",
    rationale: "External Secrets Operator copies the secret from the store every `refreshInterval`; \
        `0` means only once, so a rotated credential in Vault or the cloud secret manager never \
        reaches the pods and the old one must stay valid — defeating rotation.",
    remedy: "Set `spec.refreshInterval` to at most `24h` (e.g. `1h`).",
    references: References {
        docs: &["https://external-secrets.io/latest/api/externalsecret/"],
        ..References::NONE
    },
    evidence: &[Evidence::Manifests],
    fix: None,
    check: Check::Object(check),
};

/// Go `time.ParseDuration` subset: `1h30m`, `15m`, `0`, `90s`.
pub fn go_duration_seconds(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
    }
    num.is_empty().then_some(total as u64)
}

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "ExternalSecret" || o.group() != "external-secrets.io" {
        return;
    }
    // ESO's default refreshInterval is 1h.
    let Some(text) = o.root.pointer("/spec/refreshInterval").and_then(Node::text) else {
        return;
    };
    match go_duration_seconds(text) {
        Some(0) => emit.object(o, "/spec/refreshInterval", format!("ExternalSecret \"{}\" has `refreshInterval: {text}`: it is fetched once and never refreshed", o.name)),
        Some(s) if s > MAX_SECONDS => emit.object(o, "/spec/refreshInterval", format!("ExternalSecret \"{}\" refreshes only every {text}", o.name)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::go_duration_seconds("1h30m"), Some(5400));
        assert_eq!(super::go_duration_seconds("0"), Some(0));
        assert_eq!(super::go_duration_seconds("0s"), Some(0));
        assert_eq!(super::go_duration_seconds("168h"), Some(604800));
        assert_eq!(super::go_duration_seconds("abc"), None);
    }
}
