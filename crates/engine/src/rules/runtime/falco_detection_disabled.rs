//! Falco's rules disable the default detections of shells, sensitive-file reads or binary writes.

use crate::analysis::falco::disabled;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::{Check, Context, Emitter, Evidence, References, Rule, Section};
use kubeharden_model::cloud::{FALCO_CONFIG_KIND, FALCO_RULES_KIND, FALCO_VALUES_KIND};

pub static RULE: Rule = Rule {
    id: "falco-detection-disabled",
    section: Section::Runtime,
    severity: Severity::High,
    summary: "Falco rules disable the detection of shells in containers or sensitive-file reads",
    rationale: "Falco's presence is not detection: its default rules `Terminal shell in container`, \
        `Read sensitive file untrusted` and `Write below binary dir` catch the first steps of most \
        container intrusions (an interactive shell, reading /etc/shadow, dropping a binary). A \
        rules override with `enabled: false`, a condition appended that is never true, or an \
        appended exception that matches every event silences them while Falco still looks \
        healthy. Read from ConfigMaps, plain rules files and the chart's `customRules`.",
    remedy: "Remove the override, or narrow it with `exceptions` naming the exact images and \
        processes that legitimately do this, so the detection stays on for everything else.",
    references: References {
        docs: &["https://falco.org/docs/concepts/rules/overriding/"],
        ..References::NONE
    },
    evidence: &[Evidence::RuntimeDetector],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    for d in disabled(o) {
        emit.object(
            o,
            &d.pointer,
            format!(
                "Falco rule `{}` ({}) is disabled by {} in {}",
                d.rule,
                d.detects,
                d.how,
                describe(o)
            ),
        );
    }
}

/// `ConfigMap `falco-rules``, `Falco rules file `falco_rules.local.yaml``.
pub(crate) fn describe(o: &Object) -> String {
    let what = match o.kind.as_str() {
        FALCO_RULES_KIND => "Falco rules file",
        FALCO_VALUES_KIND => "the falco chart's Helm values",
        FALCO_CONFIG_KIND => "Falco configuration",
        k => k,
    };
    format!("{what} `{}`", o.name)
}
