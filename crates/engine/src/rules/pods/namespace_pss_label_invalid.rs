//! A Pod Security label has a value the admission plugin does not understand.

use crate::analysis::pss;
use crate::finding::Severity;
use crate::inventory::Object;
use crate::rules::Context;
use crate::rules::Emitter;
use crate::rules::{Check, Evidence, References, Rule, Section};

pub static RULE: Rule = Rule {
    id: "namespace-pss-label-invalid",
    section: Section::Rule(6),
    severity: Severity::Medium,
    summary: "Namespace has an invalid Pod Security label value",
    rationale: "Pod Security admission reads invalid labels in surprising ways: an invalid `enforce` \
        level is treated as `restricted`, but an invalid `audit` or `warn` level as `privileged` \
        (silently off), and an invalid version as `latest`. The API server also rejects creating a \
        namespace with such labels, so the manifest does not apply as written.",
    remedy: "Use one of `privileged`, `baseline`, `restricted` for levels and `latest` or `v1.N` \
        (e.g. `v1.33`) for versions; values are case-sensitive.",
    references: References {
        pss: &["enforce", "audit", "warn"],
        ..References::NONE
    },
    evidence: &[Evidence::Namespaces],
    fix: None,
    check: Check::Object(check),
};

fn check(_: &Context, o: &Object, emit: &mut Emitter) {
    if o.kind != "Namespace" || !o.group().is_empty() {
        return;
    }
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    for error in &policy.errors {
        emit.object(
            o,
            "/metadata/labels",
            format!("namespace \"{}\": {error}", o.name),
        );
    }
}
