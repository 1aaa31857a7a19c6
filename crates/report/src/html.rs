//! The HTML audit report: one self-contained file (inline CSS, JS and SVG charts; a Content
//! Security Policy that forbids every network load), with the scorecard at the top, findings by
//! severity and by rule, a table filterable by severity, rule, namespace and kind, each finding
//! with its snippet, rationale and remedy, and the inputs that were read.
//!
//! Rendered with minijinja from a template named `report.html`, so auto-escaping is on for every
//! value: a `<script>` in a manifest reaches the page as text. The template is rendered in three
//! parts, the page before the findings' loop, each finding, the page after it, each written as it
//! is rendered: a page with a million findings is never held in memory.

use crate::View;
use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::report::Status;
use kubeharden_engine::source::DiagLevel;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

const TEMPLATE: &str = include_str!("templates/report.html");
const CSS: &str = include_str!("templates/report.css");
const JS: &str = include_str!("templates/report.js");

#[derive(Serialize)]
struct Page<'a> {
    tool_version: &'a str,
    date: String,
    config: Option<&'a str>,
    summary: Summary,
    input_errors: usize,
    scorecard: Vec<Score<'a>>,
    severity_chart: Vec<Bar>,
    rule_chart: Vec<Bar>,
    filters: Filters,
    /// The findings shown (active and suppressed); their rows are rendered one at a time.
    finding_count: usize,
    suppressed_shown: usize,
    rules: Vec<RuleRow>,
    inputs: &'a [String],
    kinds: Vec<KindCount<'a>>,
    diagnostics: Vec<Diag<'a>>,
    baseline: Option<BaselineInfo>,
    /// The executive summary: a paragraph in plain words from the counts and the scorecard.
    executive: String,
    /// The scope: (label, value) pairs.
    scope: Vec<(&'static str, String)>,
    /// The overall posture score (0-100) over the assessed sections.
    posture: Option<u32>,
    assessed_sections: usize,
    /// Sections lacking evidence, with what would settle it ("how to complete this audit").
    howto: Vec<Score<'a>>,
    /// Rows per page of the findings table.
    page_size: usize,
    css: &'static str,
    js: &'static str,
}

#[derive(Serialize)]
struct Summary {
    objects: usize,
    pod_templates: usize,
    inputs: usize,
    bytes: u64,
    suppressed: usize,
    failing: usize,
    fail_on: &'static str,
}

#[derive(Serialize)]
struct Score<'a> {
    seed: String,
    title: &'a str,
    status: &'static str,
    class: &'static str,
    findings: usize,
    missing: &'a [String],
    /// 100 pass, 50 partial, 0 fail; none when not assessed.
    score: Option<u32>,
}

#[derive(Serialize)]
struct Bar {
    severity: &'static str,
    rule: String,
    count: usize,
    width: u32,
}

#[derive(Serialize)]
struct Filters {
    severity: Vec<&'static str>,
    rule: BTreeSet<String>,
    namespace: BTreeSet<String>,
    kind: BTreeSet<String>,
}

#[derive(Serialize)]
struct Line<'a> {
    line: u32,
    text: Cow<'a, str>,
    marked: bool,
}

#[derive(Serialize)]
struct Suppressed<'a> {
    key: &'a str,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct Row<'a> {
    severity: &'static str,
    rule: &'a str,
    seed: String,
    namespace: &'a str,
    kind: &'a str,
    name: &'a str,
    container: Option<&'a str>,
    location: String,
    pointer: &'a str,
    message: Cow<'a, str>,
    snippet: Vec<Line<'a>>,
    rationale: String,
    remedy: String,
    fingerprint: &'a str,
    baseline: Option<&'static str>,
    suppressed: Option<Suppressed<'a>>,
}

#[derive(Serialize)]
struct RuleRow {
    id: &'static str,
    seed: String,
    severity: &'static str,
    summary: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct KindCount<'a> {
    kind: &'a str,
    count: usize,
}

#[derive(Serialize)]
struct Diag<'a> {
    level: &'static str,
    location: String,
    message: Cow<'a, str>,
}

#[derive(Serialize)]
struct BaselineInfo {
    file: String,
    new: usize,
    unchanged: usize,
    fixed: Vec<FixedRow>,
}

#[derive(Serialize)]
struct FixedRow {
    severity: &'static str,
    rule: String,
    object: String,
    message: String,
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Partial => "partial",
        Status::NotAssessed => "not-assessed",
    }
}

/// Rows of the findings table shown at once (the others are written hidden and paged by the
/// script, so a large report opens quickly).
const PAGE_SIZE: usize = 100;

/// A section's score: 100 pass, 50 partial, 0 fail, none when not assessed.
fn section_score(s: Status) -> Option<u32> {
    match s {
        Status::Pass => Some(100),
        Status::Partial => Some(50),
        Status::Fail => Some(0),
        Status::NotAssessed => None,
    }
}

/// Text with `code spans` as `<code>`, everything else escaped (the `ticks` filter).
fn ticks(value: &str) -> minijinja::Value {
    fn escape(s: &str, out: &mut String) {
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#x27;"),
                c => out.push(c),
            }
        }
    }
    let mut out = String::with_capacity(value.len() + 16);
    let parts: Vec<&str> = value.split('`').collect();
    // An odd number of backticks leaves the last one as it is.
    let pairs = (parts.len() - 1) / 2;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 && i > pairs * 2 {
            out.push('`');
            escape(part, &mut out);
        } else if i % 2 == 1 {
            out.push_str("<code>");
            escape(part, &mut out);
            out.push_str("</code>");
        } else {
            escape(part, &mut out);
        }
    }
    minijinja::Value::from_safe_string(out)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The executive summary, in plain words, from the counts and the scorecard.
fn executive(view: &View<'_>, date: &str) -> String {
    let r = view.report;
    let counted = r.findings.iter().filter(|f| f.expected.is_none()).count();
    let mut s = format!(
        "On {date}, kubeharden {} checked {} ({}) from {} against {}. ",
        r.tool_version,
        plural(r.summary.objects, "Kubernetes object"),
        plural(r.summary.pod_templates, "pod template"),
        plural(r.summary.inputs, "input"),
        plural(view.rules.len(), "rule"),
    );
    if counted == 0 {
        s.push_str("It found no hardening issue. ");
    } else {
        s.push_str(&format!(
            "It found {}: {}. ",
            plural(counted, "issue"),
            crate::severity_counts(r)
        ));
    }
    let n = |st: Status| r.scorecard.iter().filter(|x| x.status == st).count();
    if !r.scorecard.is_empty() {
        s.push_str(&format!(
            "Of the {} areas of the hardening baseline, {} fail, {} pass, {} are partly assessed and {} could not be assessed from these inputs",
            r.scorecard.len(),
            n(Status::Fail),
            n(Status::Pass),
            n(Status::Partial),
            n(Status::NotAssessed)
        ));
        s.push_str(if n(Status::Partial) + n(Status::NotAssessed) > 0 {
            " (see \"How to complete this audit\"). "
        } else {
            ". "
        });
    }
    // The most severe rules, the most widespread first among equals.
    let mut rules: Vec<(&str, usize, Severity)> = Vec::new();
    for f in r.findings.iter().filter(|f| f.expected.is_none()) {
        match rules.iter_mut().find(|x| x.0 == f.rule) {
            Some(x) => x.1 += 1,
            None => rules.push((f.rule, 1, f.severity)),
        }
    }
    rules.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
    if !rules.is_empty() {
        let first: Vec<String> = rules
            .iter()
            .take(3)
            .map(|(id, n, sev)| format!("`{id}` ({sev}, {})", plural(*n, "finding")))
            .collect();
        s.push_str(&format!("Fix first: {}.", first.join("; ")));
    }
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagLevel::Error)
        .count();
    if errors > 0 {
        s.push_str(&format!(
            " The audit is incomplete: {} could not be read.",
            plural(errors, "input error")
        ));
    }
    s
}

/// Who, what and when: the inputs, the repository commit, kubeharden's version, the time, the
/// user.
fn scope(view: &View<'_>, date: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let inputs = view.inputs;
    let listed: Vec<String> = inputs.iter().take(5).map(|i| format!("`{i}`")).collect();
    out.push((
        "Inputs",
        if inputs.len() > 5 {
            format!(
                "{} and {} more (listed under Inputs read)",
                listed.join(", "),
                inputs.len() - 5
            )
        } else if inputs.is_empty() {
            "none".to_owned()
        } else {
            listed.join(", ")
        },
    ));
    if let Some(commit) = git_commit() {
        out.push(("Repository commit", commit));
    }
    out.push(("kubeharden", view.report.tool_version.to_owned()));
    out.push(("Date", date.to_owned()));
    if let Some(user) = ["KUBEHARDEN_AUDITOR", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    {
        out.push(("Run by", user));
    }
    if let Some(config) = view.config {
        out.push(("Config", format!("`{config}`")));
    }
    out.push((
        "Rules",
        format!(
            "{} (failing at {} and above)",
            view.rules.len(),
            view.fail_on
        ),
    ));
    out
}

/// The commit of the git repository the working directory is in, if any (`SOURCE_DATE_EPOCH`
/// set: none, for reproducible reports).
fn git_commit() -> Option<String> {
    if std::env::var_os("SOURCE_DATE_EPOCH").is_some() {
        return None;
    }
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

fn wrap(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The report date: `SOURCE_DATE_EPOCH` (reproducible builds) if set, else today (UTC).
fn date() -> String {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(|secs| kubeharden_engine::suppress::date_from_days(secs.div_euclid(86_400)))
        .unwrap_or_else(kubeharden_engine::suppress::today_utc)
}

fn bar_width(count: usize, max: usize, full: u32) -> u32 {
    if max == 0 {
        0
    } else {
        if count == 0 {
            0
        } else {
            ((count as f64 / max as f64) * f64::from(full))
                .round()
                .max(2.0) as u32
        }
    }
}

fn row<'a>(view: &View<'_>, f: &'a Finding) -> Row<'a> {
    let rule = view.rule(f.rule);
    Row {
        severity: f.severity.as_str(),
        rule: f.rule,
        seed: f.section.to_string(),
        namespace: f.subject.namespace.as_deref().unwrap_or(""),
        kind: &f.subject.kind,
        name: &f.subject.name,
        container: f.subject.container.as_deref(),
        location: crate::location(f),
        pointer: &f.location.pointer,
        message: crate::masked(&f.message),
        snippet: f
            .snippet
            .iter()
            .map(|l| Line {
                line: l.line,
                text: crate::masked(l.text),
                marked: l.line == f.location.line,
            })
            .collect(),
        rationale: rule.map(|r| wrap(r.rationale)).unwrap_or_default(),
        remedy: wrap(f.remedy),
        fingerprint: f.fingerprint.as_str(),
        baseline: f.baseline.map(|b| b.as_str()),
        suppressed: f.suppressed_by.as_ref().map(|s| Suppressed {
            key: &s.key,
            reason: s.reason.as_deref(),
        }),
    }
}

/// The template in three parts: the page up to the findings' loop, the loop's body (one finding,
/// `f`, numbered `index`), the page after the loop. Each is named `….html`: auto-escaped.
fn templates() -> minijinja::Environment<'static> {
    const LOOP: &str = "{% for f in findings %}";
    const END: &str = "{% endfor %}\n    </tbody>";
    let (head, rest) = TEMPLATE
        .split_once(LOOP)
        .expect("the template loops over findings");
    let (row, _) = rest
        .split_once(END)
        .expect("the findings' loop ends the table body");
    let tail = &rest[row.len() + "{% endfor %}".len()..];
    assert!(row.contains("{{ loop.index }}"));
    let row = row.replace("loop.index", "index");
    let mut env = minijinja::Environment::new();
    env.add_filter("ticks", |v: &str| ticks(v));
    env.add_template("head.html", head)
        .expect("the report template parses");
    env.add_template_owned("row.html", row)
        .expect("the report template parses");
    env.add_template("tail.html", tail)
        .expect("the report template parses");
    env
}

/// Writes the page, a finding at a time.
pub fn render_to(view: &View<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let r = view.report;
    let findings = crate::by_severity(r.findings.iter());
    let max_sev = Severity::ALL.iter().map(|s| r.count(*s)).max().unwrap_or(0);
    let severity_chart = Severity::ALL
        .iter()
        .map(|s| Bar {
            severity: s.as_str(),
            rule: String::new(),
            count: r.count(*s),
            width: bar_width(r.count(*s), max_sev, 280),
        })
        .collect();
    let mut per_rule: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
    for f in &r.findings {
        let e = per_rule.entry(f.rule).or_insert((0, f.severity));
        e.0 += 1;
        e.1 = e.1.max(f.severity);
    }
    let max_rule = per_rule.values().map(|v| v.0).max().unwrap_or(0);
    let mut rule_chart: Vec<Bar> = per_rule
        .iter()
        .map(|(id, (n, sev))| Bar {
            severity: sev.as_str(),
            rule: (*id).to_owned(),
            count: *n,
            width: bar_width(*n, max_rule, 200),
        })
        .collect();
    rule_chart.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(&b.rule)));

    let shown: Vec<&Finding> = findings
        .iter()
        .copied()
        .chain(r.suppressed_findings.iter())
        .collect();
    let filters = Filters {
        severity: Severity::ALL
            .iter()
            .filter(|s| shown.iter().any(|f| f.severity == **s))
            .map(|s| s.as_str())
            .collect(),
        rule: shown.iter().map(|f| f.rule.to_owned()).collect(),
        namespace: shown
            .iter()
            .filter_map(|f| f.subject.namespace.clone())
            .collect(),
        kind: shown.iter().map(|f| f.subject.kind.clone()).collect(),
    };
    let date = date();
    let page = Page {
        tool_version: r.tool_version,
        date: date.clone(),
        config: view.config,
        summary: Summary {
            objects: r.summary.objects,
            pod_templates: r.summary.pod_templates,
            inputs: r.summary.inputs,
            bytes: r.summary.bytes,
            suppressed: r.suppressed,
            failing: r.failing(view.fail_on).count(),
            fail_on: view.fail_on.as_str(),
        },
        input_errors: r
            .diagnostics
            .iter()
            .filter(|d| d.level == DiagLevel::Error)
            .count(),
        scorecard: r
            .scorecard
            .iter()
            .map(|s| Score {
                seed: s.section.to_string(),
                title: s.title,
                status: s.status.as_str(),
                class: status_class(s.status),
                findings: s.findings,
                missing: &s.missing,
                score: section_score(s.status),
            })
            .collect(),
        severity_chart,
        rule_chart,
        filters,
        finding_count: shown.len(),
        suppressed_shown: r.suppressed_findings.len(),
        rules: view
            .all_rules()
            .iter()
            .map(|rule| RuleRow {
                id: rule.id,
                seed: rule.section.to_string(),
                severity: view.rule_severity(rule).as_str(),
                summary: rule.summary,
                count: r.findings.iter().filter(|f| f.rule == rule.id).count(),
            })
            .collect(),
        inputs: view.inputs,
        kinds: r
            .summary
            .kinds
            .iter()
            .map(|(k, n)| KindCount { kind: k, count: *n })
            .collect(),
        diagnostics: r
            .diagnostics
            .iter()
            .map(|d| Diag {
                level: match d.level {
                    DiagLevel::Error => "error",
                    DiagLevel::Warning => "warning",
                    DiagLevel::Note => "note",
                },
                location: match (d.line, d.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", d.origin),
                    (Some(l), None) => format!("{}:{l}", d.origin),
                    _ => d.origin.clone(),
                },
                message: crate::masked(&d.message),
            })
            .collect(),
        baseline: r.baseline.as_ref().map(|b| BaselineInfo {
            file: b.baseline.clone(),
            new: b.new,
            unchanged: b.unchanged,
            fixed: b
                .fixed
                .iter()
                .map(|f| FixedRow {
                    severity: f.severity.as_str(),
                    rule: f.rule.clone(),
                    object: f.subject.identity(),
                    message: crate::masked(&f.message).into_owned(),
                })
                .collect(),
        }),
        executive: executive(view, &date),
        scope: scope(view, &date),
        posture: {
            let scores: Vec<u32> = r
                .scorecard
                .iter()
                .filter_map(|s| section_score(s.status))
                .collect();
            (!scores.is_empty())
                .then(|| (scores.iter().sum::<u32>() as f64 / scores.len() as f64).round() as u32)
        },
        assessed_sections: r
            .scorecard
            .iter()
            .filter(|s| section_score(s.status).is_some())
            .count(),
        howto: r
            .scorecard
            .iter()
            .filter(|s| !s.missing.is_empty())
            .map(|s| Score {
                seed: s.section.to_string(),
                title: s.title,
                status: s.status.as_str(),
                class: status_class(s.status),
                findings: s.findings,
                missing: &s.missing,
                score: section_score(s.status),
            })
            .collect(),
        page_size: PAGE_SIZE,
        css: CSS,
        js: JS,
    };
    let env = templates();
    let page = minijinja::Value::from(minijinja::value::Serde(&page));
    let rendered = |name: &str, context: minijinja::Value, out: &mut dyn std::io::Write| {
        env.get_template(name)
            .and_then(|t| t.render_captured_to(context, out))
            .map(drop)
            .map_err(|e| match e.kind() {
                minijinja::ErrorKind::WriteFailure => std::io::Error::other(e),
                _ => panic!("the report template renders: {e}"),
            })
    };
    rendered("head.html", page.clone(), out)?;
    for (i, f) in shown.iter().enumerate() {
        let context = minijinja::context! {
            f => minijinja::value::Serde(row(view, f)),
            index => i + 1,
            page_size => PAGE_SIZE,
        };
        rendered("row.html", context, out)?;
    }
    rendered("tail.html", page, out)
}
