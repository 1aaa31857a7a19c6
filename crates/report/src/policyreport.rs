//! PolicyReports (`wgpolicyk8s.io/v1alpha2`, the Kubernetes Policy WG's CRDs, also read by Kyverno's
//! and Trivy's tooling): one `PolicyReport` per namespace with findings, and one
//! `ClusterPolicyReport` for cluster-scoped objects (always written, so an empty one says "none").
//! Findings at or above `--fail-on` are `fail`, those below are `warn`, suppressed ones (with
//! `--show-suppressed`) `skip`.

use crate::View;
use kubeharden_engine::finding::Finding;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const API_VERSION: &str = "wgpolicyk8s.io/v1alpha2";

/// `fail` at or above `--fail-on`, `warn` below it or when expected for a system component
/// (shown, not counted), `skip` when suppressed.
fn outcome(view: &View<'_>, f: &Finding) -> &'static str {
    if f.suppressed_by.is_some() {
        "skip"
    } else if f.severity >= view.fail_on && f.expected.is_none() {
        "fail"
    } else {
        "warn"
    }
}

fn result(view: &View<'_>, f: &Finding) -> Value {
    let outcome = outcome(view, f);
    let mut resource = Map::new();
    resource.insert("apiVersion".into(), json!(f.subject.api_version));
    resource.insert("kind".into(), json!(f.subject.kind));
    resource.insert("name".into(), json!(f.subject.name));
    if let Some(ns) = &f.subject.namespace {
        resource.insert("namespace".into(), json!(ns));
    }
    let mut props = Map::new();
    props.insert("location".into(), json!(crate::location(f)));
    props.insert("fingerprint".into(), json!(f.fingerprint));
    if !f.location.pointer.is_empty() {
        props.insert("pointer".into(), json!(f.location.pointer));
    }
    if let Some(c) = &f.subject.container {
        props.insert("container".into(), json!(c));
    }
    if let Some(b) = f.baseline {
        props.insert("baseline".into(), json!(b.as_str()));
    }
    if let Some(e) = f.expected {
        props.insert(
            "expected".into(),
            json!(format!("expected for {}: {}", e.component, e.reason)),
        );
    }
    if let Some(s) = &f.suppressed_by {
        props.insert("suppressedBy".into(), json!(s.key));
        if let Some(r) = &s.reason {
            props.insert("suppressionReason".into(), json!(r));
        }
    }
    json!({
        "source": "kubeharden",
        "policy": f.rule,
        "category": format!("Seed rule {}: {}", f.section, f.section.title()),
        "severity": f.severity.as_str(),
        "result": outcome,
        "scored": true,
        "message": format!(
            "{} Fix: {}",
            crate::masked(&f.message),
            crate::markdown::one_line(f.remedy)
        ),
        "resources": [Value::Object(resource)],
        "properties": Value::Object(props),
    })
}

/// One report (without its results, a [`crate::HOLE`]).
fn document(view: &View<'_>, namespace: Option<&str>, findings: &[&Finding]) -> Value {
    let count = |r: &str| findings.iter().filter(|f| outcome(view, f) == r).count();
    let mut metadata = json!({
        "name": match namespace {
            Some(ns) => format!("kubeharden-{ns}"),
            None => "kubeharden-cluster".to_owned(),
        },
        "labels": { "app.kubernetes.io/managed-by": "kubeharden" },
    });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": if namespace.is_some() { "PolicyReport" } else { "ClusterPolicyReport" },
        "metadata": metadata,
        "summary": {
            "pass": 0,
            "fail": count("fail"),
            "warn": count("warn"),
            "error": 0,
            "skip": count("skip"),
        },
        "results": crate::HOLE,
    })
}

/// Writes the reports, a result at a time.
pub fn render_to(view: &View<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut by_ns: BTreeMap<Option<&str>, Vec<&Finding>> = BTreeMap::new();
    by_ns.entry(None).or_default();
    for f in view.every_finding() {
        by_ns
            .entry(f.subject.namespace.as_deref())
            .or_default()
            .push(f);
    }
    // Namespaced reports first, the cluster report last.
    let mut docs: Vec<(Option<&str>, Vec<&Finding>)> = by_ns.into_iter().collect();
    docs.rotate_left(1);
    for (ns, findings) in docs {
        out.write_all(b"---\n")?;
        let results = findings.iter().map(|f| result(view, f));
        crate::yaml_out::write_yaml_spliced(
            out,
            &document(view, ns, &findings),
            "results",
            Box::new(results),
        )?;
    }
    Ok(())
}
