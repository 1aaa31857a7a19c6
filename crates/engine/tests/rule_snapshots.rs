//! The findings of every rule on its fixtures, checked in as one snapshot per rule
//! (`tests/snapshots/rule_snapshots__<rule-id>.snap`): a change to any message, location or
//! pointer fails here. Each line is
//! `path:line:column pointer | kind namespace/name [container] | severity | message` (and
//! `| expected for <component>` when a system component legitimately has it), paths
//! relative to `tests/fixtures/rules`; an age in days counted to today reads `[N] days ago`.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test -p kubeharden-engine --test
//! rule_snapshots` (or `cargo insta review`), then review the diff of the snapshots.

use kubeharden_engine::finding::Finding;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules::{self, Rule};
use kubeharden_engine::scan::{scan, scan_all};
use std::fmt::Write as _;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// The fixtures directory as it appears at the start of an origin (and maybe in a message).
fn prefix() -> String {
    format!("{}{}", fixtures().display(), std::path::MAIN_SEPARATOR)
}

fn relative(text: &str) -> String {
    text.replace(&prefix(), "").replace('\\', "/")
}

/// The findings of `rule` alone on one of its fixtures.
fn findings(rule: &'static Rule, which: &str) -> Vec<Finding> {
    let path = fixtures().join(rule.id).join(format!("{which}.yaml"));
    assert!(path.is_file(), "{}: no {}", rule.id, path.display());
    let report = scan(&[Input::File(path.clone())], &[rule]);
    assert!(
        !report.has_input_errors(),
        "{}/{which}: {:?}",
        rule.id,
        report.diagnostics
    );
    // The rule alone reports what it reports among all the rules (what `explain` shows is what a
    // scan finds).
    let alone = listing(&report.findings);
    let among_all: Vec<Finding> = scan_all(&[Input::File(path)])
        .findings
        .into_iter()
        .filter(|f| f.rule == rule.id)
        .collect();
    assert_eq!(
        alone,
        listing(&among_all),
        "{}/{which}: alone and among all rules",
        rule.id
    );
    report.findings
}

/// The message without what depends on the day the test runs: the age of a Secret
/// (`secret-not-rotated`) counts the days to today.
fn stable(message: &str) -> String {
    let age = regex::Regex::new(r"\b\d+ days ago\b").unwrap();
    age.replace_all(message, "[N] days ago").into_owned()
}

fn listing(findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let l = &f.location;
        let pointer = if l.pointer.is_empty() {
            "<root>"
        } else {
            &l.pointer
        };
        let s_ = &f.subject;
        let object = match &s_.namespace {
            Some(ns) => format!("{} {ns}/{}", s_.kind, s_.name),
            None if s_.name.is_empty() => s_.kind.clone(),
            None => format!("{} {}", s_.kind, s_.name),
        };
        let container = s_
            .container
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        // Only findings a system component legitimately has say so.
        let expected = f
            .expected
            .map(|e| format!(" | expected for {}", e.component))
            .unwrap_or_default();
        writeln!(
            s,
            "{}:{}:{} {pointer} | {object}{container} | {} | {}{expected}",
            relative(&l.origin),
            l.line,
            l.column,
            f.severity,
            stable(&relative(&f.message))
        )
        .unwrap();
    }
    s
}

#[test]
fn findings_of_every_rule_on_its_fixtures() {
    let mut mismatched = Vec::new();
    let mut snapshots = 0;
    for rule in rules::all().iter().copied() {
        if !fixtures().join(rule.id).join("fire.yaml").is_file() {
            continue;
        }
        let fired = findings(rule, "fire");
        assert!(
            !fired.is_empty(),
            "{}: fire.yaml produced no finding",
            rule.id
        );
        let passed = findings(rule, "pass");
        assert!(
            passed.is_empty(),
            "{}: pass.yaml produced\n{}",
            rule.id,
            listing(&passed)
        );
        let text = format!(
            "# fire.yaml\n{}# pass.yaml\n(no findings)\n",
            listing(&fired)
        );
        snapshots += 1;
        // Every rule is compared before the test fails, so one run writes every `.snap.new`.
        let result = std::panic::catch_unwind(|| {
            insta::with_settings!({ prepend_module_to_snapshot => true, omit_expression => true }, {
                insta::assert_snapshot!(rule.id, text);
            });
        });
        if result.is_err() {
            mismatched.push(rule.id);
        }
    }
    assert!(snapshots > 0, "no fixtures under {}", fixtures().display());
    assert!(
        mismatched.is_empty(),
        "snapshots differ for {mismatched:?}: review with `cargo insta review` or rerun with INSTA_UPDATE=always"
    );
}

#[test]
fn every_fixture_directory_names_a_rule() {
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name();
        let name = name.to_str().unwrap();
        assert!(
            rules::find(name).is_some(),
            "tests/fixtures/rules/{name} names no rule"
        );
    }
}
