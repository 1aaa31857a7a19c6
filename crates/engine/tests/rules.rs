//! Every rule has a fixture that fires and one that passes:
//! `tests/fixtures/rules/<rule-id>/fire.yaml` and `pass.yaml`.

use kubeharden_engine::load::Input;
use kubeharden_engine::rules;
use kubeharden_engine::scan::scan_all;
use std::path::PathBuf;

fn fixture(id: &str, which: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rules")
        .join(id)
        .join(format!("{which}.yaml"))
}

fn findings_of(id: &str, which: &str) -> Vec<kubeharden_engine::finding::Finding> {
    let path = fixture(id, which);
    assert!(
        path.is_file(),
        "rule `{id}` has no {which} fixture at {}",
        path.display()
    );
    let report = scan_all(&[Input::File(path)]);
    assert!(
        !report.has_input_errors(),
        "{id}/{which}: {:?}",
        report.diagnostics
    );
    report
        .findings
        .into_iter()
        .filter(|f| f.rule == id)
        .collect()
}

/// Rules whose evidence a YAML fixture cannot carry, with the test that covers them instead.
const TESTED_ELSEWHERE: &[(&str, &str)] = &[(
    "node-file-permissions",
    "tests/node.rs builds a node tree and sets file modes at test time",
)];

#[test]
fn every_rule_fires_on_its_fire_fixture_and_not_on_its_pass_fixture() {
    let mut failures = Vec::new();
    for rule in rules::all() {
        if TESTED_ELSEWHERE.iter().any(|(id, _)| *id == rule.id) {
            continue;
        }
        // Findings from the audit log: tests/audit_log.rs makes every such rule fire.
        if matches!(rule.check, kubeharden_engine::rules::Check::AuditLog(_)) {
            continue;
        }
        let fired = findings_of(rule.id, "fire");
        if fired.is_empty() {
            failures.push(format!("{}: fire.yaml produced no finding", rule.id));
        }
        let passed = findings_of(rule.id, "pass");
        if !passed.is_empty() {
            failures.push(format!(
                "{}: pass.yaml produced {:?}",
                rule.id,
                passed.iter().map(|f| &f.message).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rule_metadata_is_complete_and_ids_unique() {
    let mut ids = std::collections::HashSet::new();
    for r in rules::all() {
        assert!(ids.insert(r.id), "duplicate id {}", r.id);
        assert!(
            r.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            r.id
        );
        assert!(
            r.rationale.len() > 80 && r.remedy.len() > 30 && !r.summary.is_empty(),
            "{}: thin metadata",
            r.id
        );
        assert!(!r.evidence.is_empty(), "{}: no evidence declared", r.id);
    }
}

#[test]
fn findings_name_the_container_and_point_at_the_field() {
    let f = findings_of("container-privileged", "fire");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].subject.container.as_deref(), Some("setup"));
    assert_eq!(f[0].location.line, 10);
    assert_eq!(
        f[0].location.pointer,
        "/spec/template/spec/initContainers/0/securityContext/privileged"
    );
    // A missing field points at where it belongs: the container.
    let f = findings_of("container-privilege-escalation-allowed", "fire");
    assert_eq!((f[0].location.line, f[0].location.column), (6, 5));
    // ephemeral container with a quoted "yes" is unset; regular container unset: two findings.
    let f = findings_of("container-may-run-as-root", "fire");
    assert_eq!(
        f.iter()
            .map(|f| f.subject.container.clone().unwrap())
            .collect::<Vec<_>>(),
        ["a", "debug"]
    );
    // Both invalid labels are reported.
    assert_eq!(findings_of("namespace-pss-label-invalid", "fire").len(), 2);
    let f = findings_of("workload-violates-namespace-pss", "fire");
    assert!(
        f[0].message
            .contains("PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"),
        "{}",
        f[0].message
    );
}

#[test]
fn fingerprints_survive_line_shifts_and_container_reordering() {
    let a = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: x, image: i, securityContext: {privileged: true}}\n  - {name: y, image: i}\n";
    let b = "# moved\n\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: y, image: i}\n  - {name: x, image: i, securityContext: {privileged: true}}\n";
    let fp = |text: &str| {
        let r = scan_all(&[Input::Bytes {
            name: "x".into(),
            bytes: text.as_bytes().into(),
        }]);
        r.findings
            .into_iter()
            .find(|f| f.rule == "container-privileged")
            .unwrap()
            .fingerprint
    };
    assert_eq!(fp(a), fp(b));
}

#[test]
fn suppression_annotation() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    kubeharden.io/ignore: container-privileged, pod-host-namespaces\nspec:\n  hostPID: true\n  containers:\n  - {name: x, image: i, securityContext: {privileged: true}}\n";
    let r = scan_all(&[Input::Bytes {
        name: "x".into(),
        bytes: text.as_bytes().into(),
    }]);
    assert!(
        r.findings
            .iter()
            .all(|f| f.rule != "container-privileged" && f.rule != "pod-host-namespaces")
    );
    assert_eq!(r.suppressed, 2);
}
