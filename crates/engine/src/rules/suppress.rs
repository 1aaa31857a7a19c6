//! Suppressions: what silences a rule on one object or one container.
//!
//! - Ours: `kubeharden.io/ignore: "<id>,<id>"` (or `all`) on the object or its pod template, with
//!   the reason in `kubeharden.io/ignore-reason`; per container `kubeharden.io/ignore.<container>`.
//! - The peers' keys, where one of their checks maps one to one onto one of our rules (see
//!   [`foreign_keys`]): kube-linter `ignore-check.kube-linter.io/<check>` and
//!   `kube-linter.io/ignore-all`; Polaris `polaris.fairwinds.com/<check>-exempt: "true"` and
//!   `polaris.fairwinds.com/exempt: "true"`; Checkov `checkov.io/skip<N>: <CKV_ID>=<reason>`;
//!   kubescape `kubescape.io/skip-controls` (+ `skip-reason`, `skip-expiry`); kube-score
//!   `kube-score/ignore`. `--no-foreign-suppressions` turns them off (`crate::finish`).
//! - Exemptions of `.kubeharden.yaml` (see `crate::config`).
//!
//! A suppressed finding is still built and kept (with `suppressed_by`), so it can be counted,
//! listed (`--show-suppressed`) and reinstated.

use crate::inventory::{Object, PodTemplate};
use crate::rules::{self, Rule};
use crate::source::{DiagLevel, Diagnostic};
use crate::yaml::Node;
pub use kubeharden_model::date::{date_from_days, parse_date, today_utc};

/// `kubeharden.io/ignore: "rule-a,rule-b"` (or `all`).
pub const IGNORE: &str = "kubeharden.io/ignore";
/// The reason for `kubeharden.io/ignore` (and its per-container forms).
pub const IGNORE_REASON: &str = "kubeharden.io/ignore-reason";
/// `kubeharden.io/ignore.<container>: "rule-a,rule-b"`: one container only.
pub const IGNORE_CONTAINER_PREFIX: &str = "kubeharden.io/ignore.";

pub use crate::finding::{Suppression, SuppressionSource as Source};

fn references(rule: &Rule, source: Source) -> &'static [&'static str] {
    let r = &rule.references;
    match source {
        Source::KubeLinter => r.kube_linter,
        Source::Polaris => r.polaris,
        Source::Checkov => r.checkov,
        Source::Kubescape => r.kubescape,
        Source::KubeScore => r.kube_score,
        _ => &[],
    }
}

/// The foreign check ids of a tool that map one to one onto a kubeharden rule: the rule references
/// exactly that check of the tool, and no other rule references it. (A check that covers several
/// of our rules, or a rule that covers several of its checks, is not honoured: suppressing
/// `host-network` must not silence a `hostPID` finding.) Returns `(foreign id, rule id)`.
pub fn foreign_keys(source: Source) -> Vec<(&'static str, &'static str)> {
    let all = rules::all();
    let mut out = Vec::new();
    for rule in all {
        let ids = references(rule, source);
        if let [id] = ids {
            let users = all
                .iter()
                .filter(|r| references(r, source).contains(id))
                .count();
            if users == 1 {
                out.push((*id, rule.id));
            }
        }
    }
    out
}

/// The annotation key that suppresses `foreign_id` in `source`'s convention.
pub fn foreign_annotation(source: Source, foreign_id: &str) -> String {
    match source {
        Source::KubeLinter => format!("ignore-check.kube-linter.io/{foreign_id}: \"<reason>\""),
        Source::Polaris => format!("polaris.fairwinds.com/{foreign_id}-exempt: \"true\""),
        Source::Checkov => format!("checkov.io/skip1: {foreign_id}=<reason>"),
        Source::Kubescape => format!("kubescape.io/skip-controls: \"{foreign_id}\""),
        Source::KubeScore => format!("kube-score/ignore: {foreign_id}"),
        _ => String::new(),
    }
}

fn map_foreign(source: Source, foreign_id: &str) -> Option<&'static str> {
    let id = foreign_id.trim();
    foreign_keys(source)
        .into_iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(id))
        .map(|(_, r)| r)
}

fn split_ids(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn annotation_maps(object: &Object) -> Vec<&Node> {
    let mut maps: Vec<&Node> = object
        .root
        .pointer("/metadata/annotations")
        .into_iter()
        .collect();
    if let Some(t) = PodTemplate::of(object)
        && let Some(a) = t.metadata.and_then(|m| m.get("annotations"))
        && !maps.iter().any(|m| std::ptr::eq(*m, a))
    {
        maps.push(a);
    }
    maps
}

/// Every suppression declared by the annotations of an object and of its pod template. Kubescape
/// skips whose `skip-expiry` has passed are left out.
pub fn declared(object: &Object) -> Vec<Suppression> {
    let today = today_utc();
    let mut out: Vec<Suppression> = Vec::new();
    let mut kubescape_expiry: Vec<(&str, Option<String>)> = Vec::new();
    for map in annotation_maps(object) {
        let text = |key: &str| map.get(key).and_then(Node::text);
        let mut push =
            |rule: &str, container: Option<&str>, source, key: &str, reason: Option<&str>| {
                out.push(Suppression {
                    rule: rule.to_owned(),
                    container: container.map(str::to_owned),
                    source,
                    key: key.to_owned(),
                    reason: reason.filter(|r| !r.trim().is_empty()).map(str::to_owned),
                    expires: None,
                });
            };
        let own_reason = text(IGNORE_REASON);
        for entry in map.effective_entries() {
            let key = entry.key.as_str();
            let Some(value) = entry.value.text() else {
                continue;
            };
            if key == IGNORE {
                for id in split_ids(value) {
                    push(id, None, Source::Annotation, key, own_reason);
                }
            } else if let Some(container) = key.strip_prefix(IGNORE_CONTAINER_PREFIX) {
                for id in split_ids(value) {
                    push(id, Some(container), Source::Annotation, key, own_reason);
                }
            } else if key == "kube-linter.io/ignore-all" {
                push("all", None, Source::KubeLinter, key, Some(value));
            } else if let Some(check) = key.strip_prefix("ignore-check.kube-linter.io/") {
                if let Some(rule) = map_foreign(Source::KubeLinter, check) {
                    push(rule, None, Source::KubeLinter, key, Some(value));
                }
            } else if let Some(rest) = key.strip_prefix("polaris.fairwinds.com/") {
                if !value.trim().eq_ignore_ascii_case("true") {
                    continue;
                }
                if rest == "exempt" {
                    push("all", None, Source::Polaris, key, None);
                } else if let Some(check) = rest.strip_suffix("-exempt")
                    && let Some(rule) = map_foreign(Source::Polaris, check)
                {
                    push(rule, None, Source::Polaris, key, None);
                }
            } else if key
                .strip_prefix("checkov.io/skip")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            {
                let (id, reason) = match value.split_once('=') {
                    Some((id, reason)) => (id, Some(reason)),
                    None => (value, None),
                };
                if let Some(rule) = map_foreign(Source::Checkov, id) {
                    push(rule, None, Source::Checkov, key, reason);
                }
            } else if key == "kubescape.io/skip-controls" {
                let expires = text("kubescape.io/skip-expiry").and_then(parse_date);
                if expires.as_deref().is_some_and(|e| *e < *today) {
                    continue;
                }
                for id in split_ids(value) {
                    if let Some(rule) = map_foreign(Source::Kubescape, id) {
                        let reason = text("kubescape.io/skip-reason");
                        push(rule, None, Source::Kubescape, key, reason);
                        kubescape_expiry.push((rule, expires.clone()));
                    }
                }
            } else if key == "kube-score/ignore" {
                for id in split_ids(value) {
                    if let Some(rule) = map_foreign(Source::KubeScore, id) {
                        push(rule, None, Source::KubeScore, key, None);
                    }
                }
            }
        }
    }
    for s in out.iter_mut().filter(|s| s.source == Source::Kubescape) {
        if let Some((_, e)) = kubescape_expiry.iter().find(|(r, _)| *r == s.rule) {
            s.expires.clone_from(e);
        }
    }
    out
}

/// The suppression that silences `rule` on this object (and container): ours first, then the
/// peers'.
pub fn find(list: &[Suppression], rule: &str, container: Option<&str>) -> Option<Suppression> {
    let applies = |s: &&Suppression| {
        (s.rule == rule || s.rule == "all")
            && (s.container.is_none() || s.container.as_deref() == container)
    };
    list.iter()
        .filter(applies)
        .min_by_key(|s| (s.source.is_foreign(), s.container.is_none()))
        .cloned()
}

/// Diagnostics (errors: the scan must not silently pass) for our annotations that name a rule
/// that does not exist.
pub fn check_annotations(object: &Object) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for map in annotation_maps(object) {
        for entry in map.effective_entries() {
            if entry.key != IGNORE && !entry.key.starts_with(IGNORE_CONTAINER_PREFIX) {
                continue;
            }
            for id in entry.value.text().map(split_ids).into_iter().flatten() {
                if id != "all" && rules::find(id).is_none() {
                    out.push(Diagnostic::new(
                        DiagLevel::Error,
                        &object.source.name,
                        Some(entry.value.pos),
                        format!(
                            "{}: `{}` names no rule `{id}` (`kubeharden rules` lists them)",
                            object.identity(),
                            entry.key
                        ),
                    ));
                }
            }
        }
    }
    out
}
