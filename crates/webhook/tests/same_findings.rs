//! Admission judges with the engine of `kubeharden scan`: for every object of the rule fixtures
//! (`crates/engine/tests/fixtures/rules/*/{fire,pass}.yaml`), sent as JSON the way the API server
//! sends it, the webhook's findings are exactly the findings `scan::scan` reports for the same
//! bytes with the same rules: rule, subject, location, message, remedy, fingerprint, suppression.
//! (The one deliberate difference, that the object's own suppression annotations exempt nothing
//! at admission, is tested in `tests/adversary.rs`; the rule fixtures carry none.)

mod common;

use common::Client;
use kubeharden_engine::load::Input;
use kubeharden_engine::scan;
use kubeharden_webhook::{Policy, Reviewer};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// Every object of the rule fixtures, as compact JSON, with its namespace.
fn objects() -> Vec<(String, String, Option<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures/rules");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| {
            let d = d.unwrap().path();
            ["fire.yaml", "pass.yaml"].map(|f| d.join(f))
        })
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() > 40,
        "rule fixtures not found under {}",
        root.display()
    );
    let mut out = Vec::new();
    for f in files {
        let loaded = kubeharden_engine::load::load_file(&f);
        for (i, o) in loaded.objects.iter().enumerate() {
            let label = format!("{}#{i}", f.strip_prefix(&root).unwrap().display());
            out.push((label, o.root.to_json().to_string(), o.namespace.clone()));
        }
    }
    out
}

fn as_json<T: serde::Serialize>(v: &[T]) -> Vec<serde_json::Value> {
    v.iter().map(|f| serde_json::to_value(f).unwrap()).collect()
}

/// The findings as admission answers them: the same findings, without the *expected for a
/// system component* mark, which admission never gives (whoever submits the object wrote the
/// namespace and image the mark rests on; see docs/suppressions.md).
fn as_admitted(v: &[kubeharden_engine::finding::Finding]) -> Vec<serde_json::Value> {
    let mut out = as_json(v);
    for f in &mut out {
        f.as_object_mut().unwrap().remove("expected");
    }
    out
}

#[test]
fn webhook_findings_equal_scan_findings() {
    let reviewer = Reviewer::new(Policy::default());
    let rules = &reviewer.policy.rules;
    let mut compared = 0;
    let mut with_findings = 0;
    for (label, json, _) in objects() {
        let name = format!("admission:{label}");
        let report = scan::scan(
            &[Input::Bytes {
                name: name.clone(),
                bytes: Arc::from(json.as_bytes()),
            }],
            rules,
        );
        let checked = scan::check_input(
            &Input::Bytes {
                name: name.clone(),
                bytes: Arc::from(json.as_bytes()),
            },
            rules,
        );
        assert_eq!(
            as_json(&checked.findings),
            as_json(&report.findings),
            "{label}"
        );
        assert_eq!(
            as_json(&checked.suppressed_findings),
            as_json(&report.suppressed_findings),
            "{label}"
        );
        assert_eq!(
            as_json(&checked.diagnostics),
            as_json(&report.diagnostics),
            "{label}"
        );
        let (findings, suppressed) = reviewer.findings(name, json.as_bytes()).unwrap();
        assert_eq!(as_json(&findings), as_admitted(&report.findings), "{label}");
        assert_eq!(suppressed, report.suppressed, "{label}");
        compared += 1;
        with_findings += usize::from(!findings.is_empty());
    }
    assert!(
        compared > 80 && with_findings > 30,
        "{compared} objects, {with_findings} with findings"
    );
}

/// A finding without what depends on the column on the object's single JSON line.
fn but_column(f: &kubeharden_engine::finding::Finding) -> serde_json::Value {
    let mut v = serde_json::to_value(f).unwrap();
    v["location"]["column"] = serde_json::Value::Null;
    v.as_object_mut().unwrap().remove("snippet");
    // Admission gives no *expected for a system component* mark (see `as_admitted`).
    v.as_object_mut().unwrap().remove("expected");
    v
}

#[test]
fn cutting_managed_fields_changes_no_finding() {
    let reviewer = Reviewer::new(Policy::default());
    let rules = &reviewer.policy.rules;
    // managedFields as the API server writes them (field names, no values).
    let typical: serde_json::Value =
        serde_json::from_slice(&common::fixture("deployment-typical.json")).unwrap();
    let managed = typical["request"]["object"]["metadata"]["managedFields"].clone();
    assert!(managed.is_array());
    let mut cut = 0;
    for (label, json, _) in objects() {
        let mut object: serde_json::Value = serde_json::from_str(&json).unwrap();
        let Some(meta) = object.get_mut("metadata").and_then(|m| m.as_object_mut()) else {
            continue;
        };
        meta.insert("managedFields".into(), managed.clone());
        let full = serde_json::to_string(&object).unwrap();
        let name = format!("admission:{label}");
        let report = scan::scan(
            &[Input::Bytes {
                name: name.clone(),
                bytes: Arc::from(full.as_bytes()),
            }],
            rules,
        );
        let stripped = kubeharden_webhook::review::without_managed_fields(&full);
        assert!(stripped.len() < full.len(), "{label}: not cut");
        assert!(!stripped.contains("managedFields"), "{label}");
        let (findings, suppressed) = reviewer.findings(name, stripped.as_bytes()).unwrap();
        let want: Vec<_> = report.findings.iter().map(but_column).collect();
        let got: Vec<_> = findings.iter().map(but_column).collect();
        assert_eq!(got, want, "{label}");
        assert_eq!(suppressed, report.suppressed, "{label}");
        cut += 1;
    }
    assert!(cut > 80, "{cut}");
}

#[tokio::test]
async fn over_https_every_fixture_gets_the_scan_rules() {
    // Audit everything: every finding shows in the audit annotations, none denies.
    let policy = Policy::parse("defaultMode: audit\n", "test", Path::new(".")).unwrap();
    let rules = Policy::parse("defaultMode: audit\n", "test", Path::new("."))
        .unwrap()
        .rules;
    let s = common::start_with(policy, |_| {}).await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;
    for (i, (label, json, namespace)) in objects().into_iter().enumerate() {
        let object: serde_json::Value = serde_json::from_str(&json).unwrap();
        let kind = object["kind"].as_str().unwrap_or("").to_owned();
        let review = serde_json::json!({
            "kind": "AdmissionReview",
            "apiVersion": "admission.k8s.io/v1",
            "request": {
                "uid": format!("uid-{i}"),
                "kind": {"group": "", "version": "v1", "kind": kind},
                "resource": {"group": "", "version": "v1", "resource": "things"},
                "name": object["metadata"]["name"],
                "namespace": namespace.clone().unwrap_or_default(),
                "operation": "CREATE",
                "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
                "object": object,
                "oldObject": null,
                "dryRun": false
            }
        });
        let (_, v) = c.review(serde_json::to_vec(&review).unwrap()).await;
        assert_eq!(v["response"]["uid"], format!("uid-{i}"));
        assert_eq!(v["response"]["allowed"], true, "{label}");
        let got: BTreeSet<String> = v["response"]["auditAnnotations"]["audit-findings"]
            .as_str()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        // What scan reports on the object as the API server sent it (namespace filled in).
        let mut object = object;
        if let Some(ns) = &namespace {
            object["metadata"]["namespace"] = serde_json::Value::String(ns.clone());
        }
        let report = scan::scan(
            &[Input::Bytes {
                name: format!("admission:uid-{i}"),
                bytes: Arc::from(serde_json::to_vec(&object).unwrap()),
            }],
            &rules,
        );
        let want: BTreeSet<String> = report.findings.iter().map(|f| f.rule.to_owned()).collect();
        assert_eq!(got, want, "{label}");
    }
    s.running.shutdown().await.unwrap();
}
