//! Report formats for a kubeharden [`Report`]: JSON, SARIF 2.1.0, JUnit XML, Markdown (pull-request
//! comments), PolicyReport (`wgpolicyk8s.io/v1alpha2`) and a self-contained HTML audit report.
//! Every renderer reads the same [`View`]; none holds rule logic. (The human text format lives in
//! the CLI, which owns the terminal.)

use kubeharden_engine::config;
use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::Rule;
use std::collections::BTreeMap;
use std::io::Write as _;

mod html;
mod junit;
mod markdown;
mod policyreport;
mod sarif;
mod yaml_out;

pub use yaml_out::to_yaml;

/// A machine or document format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Sarif,
    Junit,
    Markdown,
    PolicyReport,
    Html,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
        Format::PolicyReport,
        Format::Html,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::PolicyReport => "policyreport",
            Format::Html => "html",
        }
    }
}

/// What a renderer needs besides the report.
pub struct View<'a> {
    pub report: &'a Report,
    /// The rules that ran.
    pub rules: &'a [&'static Rule],
    /// Severity overrides (rule id → severity), from the config.
    pub severity: &'a BTreeMap<String, Severity>,
    /// The inputs that were read, as named on the command line or expanded from directories.
    pub inputs: &'a [String],
    /// The `--fail-on` threshold.
    pub fail_on: Severity,
    /// The config file in effect, if any.
    pub config: Option<&'a str>,
}

impl View<'_> {
    /// Every rule that ran, then rules not in the registry that findings name (`exemption-expired`).
    pub fn all_rules(&self) -> Vec<&'static Rule> {
        let mut rules: Vec<&'static Rule> = self.rules.to_vec();
        for f in self.every_finding() {
            if !rules.iter().any(|r| r.id == f.rule)
                && let Some(r) = config::rule_meta(f.rule)
            {
                rules.push(r);
            }
        }
        rules
    }

    /// The severity of a rule after overrides.
    pub fn rule_severity(&self, rule: &Rule) -> Severity {
        self.severity.get(rule.id).copied().unwrap_or(rule.severity)
    }

    pub fn rule(&self, id: &str) -> Option<&'static Rule> {
        config::rule_meta(id)
    }

    /// Active findings, then suppressed ones (present only with `--show-suppressed`).
    pub fn every_finding(&self) -> impl Iterator<Item = &Finding> {
        self.report
            .findings
            .iter()
            .chain(&self.report.suppressed_findings)
    }
}

/// Renders a report in a format.
pub fn render(format: Format, view: &View<'_>) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(view.report).expect("a report serializes");
            s.push('\n');
            s
        }
        Format::Sarif => sarif::render(view),
        Format::Junit => junit::render(view),
        Format::Markdown => markdown::render(view),
        Format::PolicyReport => policyreport::render(view),
        Format::Html => html::render(view),
    }
}

/// Renders a report in a format into a writer. JSON is serialized straight into it, so a report
/// with 100,000s of findings is never held twice in memory (as findings and as text).
pub fn render_to(
    format: Format,
    view: &View<'_>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
            serde_json::to_writer_pretty(&mut w, view.report).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
            w.flush()
        }
        other => out.write_all(render(other, view).as_bytes()),
    }
}

/// `Deployment/shop/web`, `ClusterRole/admin`.
pub(crate) fn identity(f: &Finding) -> String {
    match &f.subject.namespace {
        Some(ns) => format!("{}/{}/{}", f.subject.kind, ns, f.subject.name),
        None => format!("{}/{}", f.subject.kind, f.subject.name),
    }
}

/// `file:line:col` (with the Helm template when there is one).
pub(crate) fn location(f: &Finding) -> String {
    let l = &f.location;
    let mut s = if l.line > 0 {
        format!("{}:{}:{}", l.origin, l.line, l.column)
    } else {
        l.origin.clone()
    };
    if let Some(t) = &l.helm_source {
        s.push_str(&format!(" (from {t})"));
    }
    s
}

/// Findings by severity, most severe first (stable within a severity).
pub(crate) fn by_severity<'a>(findings: impl Iterator<Item = &'a Finding>) -> Vec<&'a Finding> {
    let mut v: Vec<&Finding> = findings.collect();
    v.sort_by_key(|f| std::cmp::Reverse(f.severity));
    v
}

/// `1 critical, 4 high` (non-zero counts only).
pub(crate) fn severity_counts(report: &Report) -> String {
    Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = report.count(*s);
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
