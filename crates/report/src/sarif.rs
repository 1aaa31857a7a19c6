//! SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab, Azure DevOps, editors).
//!
//! - Rules carry their summary, rationale and remedy, a default level, and the
//!   `security-severity` property GitHub ranks alerts by.
//! - Columns count Unicode code points, as our positions do: `columnKind: unicodeCodePoints` (the
//!   SARIF default is UTF-16 code units).
//! - `partialFingerprints["kubeharden/v1"]` is the finding's fingerprint (stable across line
//!   shifts and reordering), so alerts are tracked across commits.
//! - Suppressed findings (with `--show-suppressed`) carry `suppressions`; with `--baseline`,
//!   results carry `baselineState`.

use crate::View;
use kubeharden_engine::baseline;
use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::rules::Rule;
use kubeharden_engine::source::DiagLevel;
use kubeharden_engine::suppress;
use serde_json::{Value, json};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub(crate) fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's scale: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
pub(crate) fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// `container-privileged` → `ContainerPrivileged`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// A relative URI reference for a path as given (percent-encoded), or a `file://` URI for an
/// absolute path.
pub(crate) fn uri(path: &str) -> String {
    let mut out = String::new();
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn wrap(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule(view: &View<'_>, r: &Rule) -> Value {
    let severity = view.rule_severity(r);
    let refs = crate::markdown::references(r);
    let mut help_md = format!(
        "**Why.** {}\n\n**Fix.** {}",
        wrap(r.rationale),
        wrap(r.remedy)
    );
    if !refs.is_empty() {
        help_md.push_str("\n\n**References.**\n");
        for (name, ids) in &refs {
            help_md.push_str(&format!("\n- {name}: {ids}"));
        }
    }
    json!({
        "id": r.id,
        "name": pascal(r.id),
        "shortDescription": { "text": r.summary },
        "fullDescription": { "text": wrap(r.rationale) },
        "help": {
            "text": format!("{}\n\nFix: {}", wrap(r.rationale), wrap(r.remedy)),
            "markdown": help_md,
        },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "security-severity": security_severity(severity),
            "severity": severity.as_str(),
            "precision": "high",
            "tags": ["security", "kubernetes", format!("seed-rule-{}", r.section)],
        },
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut physical = json!({
        "artifactLocation": { "uri": uri(&f.location.origin) },
    });
    if f.location.line > 0 {
        let mut region = json!({
            "startLine": f.location.line,
            "startColumn": f.location.column.max(1),
        });
        if let Some(marked) = f.snippet.iter().find(|l| l.line == f.location.line) {
            region["snippet"] = json!({ "text": crate::masked(marked.text) });
        }
        physical["region"] = region;
        if let (Some(first), Some(last)) = (f.snippet.first(), f.snippet.last()) {
            let text: Vec<&str> = f.snippet.iter().map(|l| l.text).collect();
            physical["contextRegion"] = json!({
                "startLine": first.line,
                "endLine": last.line,
                "snippet": { "text": crate::masked(&text.join("\n")) },
            });
        }
    }
    let mut name = crate::identity(f);
    if let Some(c) = &f.subject.container {
        name.push_str(&format!("/{c}"));
    }
    let mut properties = json!({
        "severity": f.severity.as_str(),
        "seedRule": f.section.to_string(),
        "pointer": f.location.pointer,
    });
    if let Some(t) = &f.location.helm_source {
        properties["helmTemplate"] = json!(t);
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": crate::masked(&f.message) },
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{ "fullyQualifiedName": name, "kind": "resource" }],
        }],
        "partialFingerprints": { "kubeharden/v1": f.fingerprint },
        "properties": properties,
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(b) = f.baseline {
        r["baselineState"] = json!(match b {
            baseline::Status::New => "new",
            baseline::Status::Unchanged => "unchanged",
            baseline::Status::Fixed => "absent",
        });
    }
    // Expected for a system component (shown, not counted unless --strict-system): a note,
    // accepted with the reason, so code scanning shows it without failing on it.
    if let Some(e) = f.expected {
        r["level"] = json!("note");
        r["properties"]["expected"] = json!({ "component": e.component, "reason": e.reason });
        if f.suppressed_by.is_none() {
            r["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("expected for {}: {}", e.component, e.reason),
            }]);
        }
    }
    if let Some(s) = &f.suppressed_by {
        let mut sup = json!({
            "kind": if s.source == suppress::Source::Config { "external" } else { "inSource" },
            "status": "accepted",
            "properties": { "source": s.source.as_str(), "key": s.key },
        });
        if let Some(reason) = &s.reason {
            sup["justification"] = json!(reason);
        }
        r["suppressions"] = json!([sup]);
    }
    r
}

/// Writes the SARIF log, a result at a time.
pub fn render_to(view: &View<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let report = view.report;
    let rules = view.all_rules();
    let results = view
        .every_finding()
        .map(|f| result(f, rules.iter().position(|r| r.id == f.rule)));
    let notifications = report.diagnostics.iter().map(|d| {
        let mut n = json!({
            "level": match d.level {
                DiagLevel::Error => "error",
                DiagLevel::Warning => "warning",
                DiagLevel::Note => "note",
            },
            "message": { "text": crate::masked(&d.message) },
        });
        let mut physical = json!({ "artifactLocation": { "uri": uri(&d.origin) } });
        if let Some(line) = d.line.filter(|l| *l > 0) {
            physical["region"] =
                json!({ "startLine": line, "startColumn": d.column.unwrap_or(1).max(1) });
        }
        n["locations"] = json!([{ "physicalLocation": physical }]);
        n
    });
    let scorecard: Vec<Value> = report
        .scorecard
        .iter()
        .map(|s| {
            json!({
                "seedRule": s.section.to_string(),
                "title": s.title,
                "status": s.status.as_str(),
                "findings": s.findings,
            })
        })
        .collect();
    let mut run_props = json!({
        "scorecard": scorecard,
        "objects": report.summary.objects,
        "suppressed": report.suppressed,
    });
    if let Some(b) = &report.baseline {
        run_props["baseline"] = json!({
            "file": b.baseline,
            "new": b.new,
            "unchanged": b.unchanged,
            "fixed": b.fixed.len(),
        });
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubeharden",
                    "version": report.tool_version,
                    "semanticVersion": report.tool_version,
                    "rules": rules.iter().map(|r| rule(view, r)).collect::<Vec<_>>(),
                }
            },
            "invocations": [{
                "executionSuccessful": !report.has_input_errors(),
                "toolExecutionNotifications": crate::HOLE,
            }],
            "columnKind": "unicodeCodePoints",
            "results": crate::HOLE,
            "properties": run_props,
        }]
    });
    crate::write_json_spliced(
        out,
        &log,
        vec![
            ("toolExecutionNotifications", Box::new(notifications)),
            ("results", Box::new(results)),
        ],
    )?;
    out.write_all(b"\n")
}
