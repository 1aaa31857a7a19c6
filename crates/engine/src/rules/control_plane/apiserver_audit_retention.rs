//! Audit log retention below the CIS minimum.

use super::flags_of;
use crate::analysis::control_plane::Component;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "apiserver-audit-retention-short",
    section: Section::Rule(4),
    severity: Severity::Low,
    summary: "Audit log files are kept too briefly",
    rationale: "Intrusions are typically discovered weeks after the fact; a log rotated away after \
        a few days cannot tell what happened. Before 1.36 the defaults keep rotated files forever \
        but are unset (0); from 1.36 they are 366 days, 100 files, 100 MB.",
    remedy: "Set `--audit-log-maxage=30` (days) or more, `--audit-log-maxbackup=10` or more and \
        `--audit-log-maxsize=100` (MB) or more, or ship the log to long-term storage.",
    references: References {
        cis: &["1.2.17", "1.2.18", "1.2.19"],
        checkov: &["CKV_K8S_92", "CKV_K8S_93", "CKV_K8S_94"],
        ..References::NONE
    },
    evidence: &[Evidence::ApiServerFlags],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for flags in flags_of(o, Component::ApiServer) {
        if flags.get("audit-log-path").is_none() {
            continue; // no log backend: apiserver-audit-logging-disabled or webhook-only
        }
        // Defaults changed in 1.36 (366 / 100 / 100); unknown version: assume older.
        let new_defaults = flags.minor.is_some_and(|m| m >= 36);
        for (name, min, default_new) in [
            ("audit-log-maxage", 30, 366),
            ("audit-log-maxbackup", 10, 100),
            ("audit-log-maxsize", 100, 100),
        ] {
            let value = match flags.get(name) {
                Some(f) => f.value.parse::<i64>().unwrap_or(0),
                None if new_defaults => default_new,
                None => 0,
            };
            if value < min {
                let shown = flags
                    .get(name)
                    .map_or_else(|| "unset".to_owned(), |f| f.value.clone());
                emit.object(
                    o,
                    &flags.pointer(name),
                    format!("kube-apiserver `--{name}` is {shown}; at least {min} is expected"),
                );
            }
        }
    }
}
