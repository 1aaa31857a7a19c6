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
    let mut out = Vec::new();
    render_to(format, view, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

/// Renders a report in a format into a writer. Every format is written as it is rendered, a
/// finding at a time: a report with a million findings is never held twice in memory (as findings
/// and as text, or as findings and as a JSON or template value tree).
pub fn render_to(
    format: Format,
    view: &View<'_>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    match format {
        Format::Json => {
            write_json(view, &mut w)?;
            w.write_all(b"\n")?;
        }
        Format::Sarif => sarif::render_to(view, &mut w)?,
        Format::Junit => junit::render_to(view, &mut w)?,
        Format::Markdown => w.write_all(markdown::render(view).as_bytes())?,
        Format::PolicyReport => policyreport::render_to(view, &mut w)?,
        Format::Html => html::render_to(view, &mut w)?,
    }
    w.flush()
}

/// The JSON report (`docs/json.md`, `docs/report.schema.json`): the report's fields, then the
/// counts.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    counts: Counts,
}

/// Findings rendered to text at a time, on every core: a few MB of text at most.
const JSON_CHUNK: usize = 1024;

/// Writes the report as `serde_json::to_writer_pretty` writes a [`JsonReport`], byte for byte,
/// with its findings rendered on every core: the report without its findings is written as
/// usual, and its `"findings": []` replaced by the findings, each rendered with
/// `to_string_pretty` on its own and indented to its depth (a rendered value holds a newline
/// only between its tokens: newlines in strings are escaped). Writing the JSON of a scan's
/// findings was a serial ~10 ms at the end of a 0.3 s scan.
fn write_json(view: &View<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    let report = view.report;
    let counts = Counts::of(view);
    if report.findings.len() < 2 * JSON_CHUNK {
        let json = JsonReport { report, counts };
        return serde_json::to_writer_pretty(out, &json).map_err(std::io::Error::other);
    }
    let skeleton = without_findings(report);
    let text = serde_json::to_string_pretty(&JsonReport {
        report: &skeleton,
        counts,
    })
    .map_err(std::io::Error::other)?;
    // A top-level key, at the first level of indentation: unique in the text.
    let hole = "\n  \"findings\": []";
    let at = text.find(hole).expect("the skeleton's findings are `[]`") + hole.len() - 2;
    out.write_all(&text.as_bytes()[..at])?;
    let pad = "    ";
    let mut array = PrettyArray::new(pad);
    made_in_parallel(
        &report.findings,
        JSON_CHUNK,
        |chunk| chunk.par_iter().map(|f| pretty_item(f, pad)).collect(),
        |item| array.push(out, &item?),
    )?;
    array.finish(out)?;
    out.write_all(&text.as_bytes()[at + 2..])
}

/// Makes `items` a chunk of `chunk` at a time with `make` (which runs on every core) and hands
/// what each chunk made, in order, to `write` on the calling thread, the next chunk being made
/// while this one is written. Made one after the other, the cores sat idle while the calling
/// thread wrote each chunk (a report's serial ~5 ms of a 0.19 s scan). At most three chunks'
/// results are held at once: the one being written, the next, and the one being made. An error
/// of `write` stops the making and is returned.
pub fn made_in_parallel<T: Sync, R: Send>(
    items: &[T],
    chunk: usize,
    make: impl Fn(&[T]) -> Vec<R> + Sync,
    mut write: impl FnMut(R) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if items.len() <= chunk {
        return make(items).into_iter().try_for_each(write);
    }
    std::thread::scope(|scope| {
        let (made, taken) = std::sync::mpsc::sync_channel::<Vec<R>>(0);
        let make = &make;
        scope.spawn(move || {
            for part in items.chunks(chunk) {
                // The writer stopped (an error): nothing more to make.
                if made.send(make(part)).is_err() {
                    break;
                }
            }
        });
        for part in taken {
            part.into_iter().try_for_each(&mut write)?;
        }
        Ok(())
    })
}

/// `value` as `to_string_pretty` writes it, its lines after the first indented by `pad`: an
/// element of an array whose elements start at `pad` (a rendered value holds a newline only
/// between its tokens: newlines in strings are escaped).
fn pretty_item(value: &impl serde::Serialize, pad: &str) -> std::io::Result<String> {
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    Ok(text.replace('\n', &format!("\n{pad}")))
}

/// Writes `items` ([`pretty_item`]s at `pad`) as a JSON array exactly as serde_json's pretty
/// printer writes it, its elements at `pad` and its `]` two spaces left of them; `[]` when
/// there are none.
fn write_pretty_array(
    out: &mut dyn std::io::Write,
    pad: &str,
    items: impl Iterator<Item = std::io::Result<String>>,
) -> std::io::Result<()> {
    let mut array = PrettyArray::new(pad);
    for item in items {
        array.push(out, &item?)?;
    }
    array.finish(out)
}

/// [`write_pretty_array`] an element at a time.
struct PrettyArray<'p> {
    pad: &'p str,
    empty: bool,
}

impl<'p> PrettyArray<'p> {
    fn new(pad: &'p str) -> Self {
        PrettyArray { pad, empty: true }
    }

    fn push(&mut self, out: &mut dyn std::io::Write, item: &str) -> std::io::Result<()> {
        out.write_all(if self.empty { b"[\n" } else { b",\n" })?;
        self.empty = false;
        out.write_all(self.pad.as_bytes())?;
        out.write_all(item.as_bytes())
    }

    fn finish(self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.empty {
            out.write_all(b"[]")
        } else {
            out.write_all(b"\n")?;
            out.write_all(&self.pad.as_bytes()[2..])?;
            out.write_all(b"]")
        }
    }
}

/// The report but its (active) findings, for [`write_json`]. Every field is named: a new field of
/// [`Report`] does not compile here until it is copied.
fn without_findings(r: &Report) -> Report {
    let Report {
        schema_version,
        tool,
        tool_version,
        summary,
        findings: _,
        suppressed,
        scorecard,
        diagnostics,
        suppressed_findings,
        baseline,
        scope,
    } = r;
    Report {
        schema_version: *schema_version,
        tool,
        tool_version,
        summary: summary.clone(),
        findings: Vec::new(),
        suppressed: *suppressed,
        scorecard: scorecard.clone(),
        diagnostics: diagnostics.clone(),
        suppressed_findings: suppressed_findings.clone(),
        baseline: baseline.clone(),
        scope: scope.clone(),
    }
}

/// The counts of a report, as the text summary gives them: findings that count (not those
/// expected for a system component), per severity, per section and per rule.
#[derive(serde::Serialize)]
pub struct Counts {
    /// Active findings that count.
    pub findings: usize,
    /// Active findings expected for a system component (shown, not counted).
    pub expected: usize,
    pub suppressed: usize,
    /// Findings at or above `fail_on`.
    pub failing: usize,
    pub fail_on: Severity,
    /// Every severity, zero included.
    pub by_severity: BTreeMap<&'static str, usize>,
    /// Sections with findings (`1`…`15`, `runtime`, `custom`).
    pub by_section: BTreeMap<String, usize>,
    /// Rules with findings.
    pub by_rule: BTreeMap<&'static str, usize>,
    /// Input diagnostics per level.
    pub diagnostics: BTreeMap<&'static str, usize>,
}

impl Counts {
    pub fn of(view: &View<'_>) -> Counts {
        let r = view.report;
        let counted: Vec<&Finding> = r.findings.iter().filter(|f| f.expected.is_none()).collect();
        let mut by_section = BTreeMap::new();
        let mut by_rule = BTreeMap::new();
        for f in &counted {
            *by_section.entry(f.section.to_string()).or_insert(0) += 1;
            *by_rule.entry(f.rule).or_insert(0) += 1;
        }
        let mut diagnostics = BTreeMap::from([("error", 0), ("warning", 0), ("note", 0)]);
        for d in &r.diagnostics {
            let level = match d.level {
                kubeharden_engine::source::DiagLevel::Error => "error",
                kubeharden_engine::source::DiagLevel::Warning => "warning",
                kubeharden_engine::source::DiagLevel::Note => "note",
            };
            *diagnostics.entry(level).or_insert(0) += 1;
        }
        Counts {
            findings: counted.len(),
            expected: r.findings.len() - counted.len(),
            suppressed: r.suppressed,
            failing: r.failing(view.fail_on).count(),
            fail_on: view.fail_on,
            by_severity: Severity::ALL
                .iter()
                .map(|s| (s.as_str(), r.count(*s)))
                .collect(),
            by_section,
            by_rule,
            diagnostics,
        }
    }
}

/// The value [`write_json_spliced`] replaces with an array.
pub(crate) const HOLE: &str = "\u{0}kubeharden-splice\u{0}";

/// An array written an item at a time.
pub(crate) type Items<'a> = Box<dyn Iterator<Item = serde_json::Value> + 'a>;

/// Writes `skeleton` exactly as `serde_json::to_writer_pretty` would, except that each value
/// [`HOLE`] under a key of `holes` is written as the array of that key's items, each built and
/// written in turn (the skeleton is small, the arrays are the report's findings).
pub(crate) fn write_json_spliced(
    out: &mut dyn std::io::Write,
    skeleton: &serde_json::Value,
    holes: Vec<(&str, Items<'_>)>,
) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(skeleton).map_err(std::io::Error::other)?;
    let hole = serde_json::Value::from(HOLE).to_string();
    // `"key": "\u0000…"`: an unescaped quote before the hole, so never text inside a string.
    let mut spans: Vec<(usize, usize, Items<'_>)> = holes
        .into_iter()
        .map(|(key, items)| {
            let needle = format!("{}: {hole}", serde_json::Value::from(key));
            let at = text.find(&needle).expect("the skeleton holds each hole");
            (at + needle.len() - hole.len(), at + needle.len(), items)
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut written = 0;
    for (start, end, items) in spans {
        out.write_all(&text.as_bytes()[written..start])?;
        let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
        let indent = line.len() - line.trim_start_matches(' ').len();
        let pad = " ".repeat(indent + 2);
        write_pretty_array(out, &pad, items.map(|item| pretty_item(&item, &pad)))?;
        written = end;
    }
    out.write_all(&text.as_bytes()[written..])
}

/// `Deployment/shop/web`, `ClusterRole/admin`.
/// Text copied from the input (a message, a snippet, a diagnostic), masked again before it is
/// written: the engine already redacts secret values where findings are made, and every renderer
/// masks once more, so that no path copies a secret value into a report.
pub(crate) fn masked(text: &str) -> std::borrow::Cow<'_, str> {
    kubeharden_engine::redact::mask_text(text)
}

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
        l.origin.to_string()
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

#[cfg(test)]
mod tests {
    use super::{HOLE, made_in_parallel, write_json_spliced};
    use serde_json::{Value, json};

    /// What the chunks make is written in the items' order, whatever the chunk size (one chunk,
    /// an exact multiple, a remainder); a write error stops the making and is what comes back.
    #[test]
    fn made_in_parallel_writes_in_order_and_stops_at_an_error() {
        use rayon::prelude::*;
        let items: Vec<u32> = (0..1000).collect();
        let square = |chunk: &[u32]| chunk.par_iter().map(|i| u64::from(*i) * 3).collect();
        for chunk in [1, 7, 100, 999, 1000, 5000] {
            let mut written = Vec::new();
            made_in_parallel(&items, chunk, square, |r| {
                written.push(r);
                Ok(())
            })
            .unwrap();
            let expected: Vec<u64> = (0..1000).map(|i| i * 3).collect();
            assert_eq!(written, expected, "chunk {chunk}");
        }
        let made = std::sync::atomic::AtomicUsize::new(0);
        let mut written = 0;
        let err = made_in_parallel(
            &items,
            10,
            |chunk| {
                made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                chunk.to_vec()
            },
            |r| {
                written += 1;
                if r == 25 {
                    Err(std::io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(written, 26);
        // Chunks 0..=2 written or failed, at most one more made before the maker saw the stop.
        assert!(made.into_inner() <= 5);
    }

    /// The JSON report with its findings rendered on every core is what serde_json writes of the
    /// whole report, byte for byte: below the parallel threshold, at it, and over several chunks,
    /// with suppressed findings and messages holding quotes, newlines and non-ASCII text.
    #[test]
    fn json_rendered_in_parallel_is_what_serde_json_writes() {
        use kubeharden_engine::load::Input;
        let deployment = |i: usize| {
            let ignore = if i.is_multiple_of(7) {
                "\n  annotations: {kubeharden.io/ignore: container-privileged}"
            } else {
                ""
            };
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"web-{i} \\\"q\\\" é\"\n  namespace: shop{ignore}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers:\n      - name: app\n        image: nginx:latest\n        securityContext: {{privileged: true}}\n---\n"
            )
        };
        for count in [0, 1, 10, 300, 1200] {
            let text: String = (0..count).map(deployment).collect();
            let inputs = [Input::Bytes {
                name: "many.yaml".into(),
                bytes: text.into_bytes().into(),
            }];
            let rules = kubeharden_engine::rules::all();
            let report = kubeharden_engine::scan::scan(&inputs, rules);
            let severity = std::collections::BTreeMap::new();
            let view = super::View {
                report: &report,
                rules,
                severity: &severity,
                inputs: &[],
                fail_on: kubeharden_engine::finding::Severity::High,
                config: None,
            };
            let expected = serde_json::to_vec_pretty(&super::JsonReport {
                report: &report,
                counts: super::Counts::of(&view),
            })
            .unwrap();
            let mut got = Vec::new();
            super::write_json(&view, &mut got).unwrap();
            if count >= 1200 {
                assert!(
                    report.findings.len() > 3 * super::JSON_CHUNK,
                    "{}",
                    report.findings.len()
                );
                assert!(!report.suppressed_findings.is_empty());
            }
            assert!(
                got == expected,
                "{count} deployments, {} findings: the outputs differ",
                report.findings.len()
            );
        }
    }

    fn samples() -> Vec<Vec<Value>> {
        vec![
            vec![],
            vec![json!(1)],
            vec![
                json!({"a": [1, {"b": [], "c": {}}], "d": "x\ny \"q\""}),
                json!([]),
                json!("s"),
                json!(null),
            ],
        ]
    }

    #[test]
    fn spliced_json_is_what_serde_json_writes() {
        for items in samples() {
            let full = json!({"runs": [{"a": 1, "results": items, "z": {"notes": items}}]});
            let skeleton = json!({"runs": [{"a": 1, "results": HOLE, "z": {"notes": HOLE}}]});
            let mut out = Vec::new();
            write_json_spliced(
                &mut out,
                &skeleton,
                vec![
                    ("notes", Box::new(items.clone().into_iter())),
                    ("results", Box::new(items.clone().into_iter())),
                ],
            )
            .unwrap();
            let expected = serde_json::to_string_pretty(&full).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn spliced_yaml_is_what_to_yaml_writes() {
        for items in samples() {
            let full = json!({"apiVersion": "v1", "results": items, "summary": {"pass": 0}});
            let skeleton = json!({"apiVersion": "v1", "results": HOLE, "summary": {"pass": 0}});
            let mut out = Vec::new();
            crate::yaml_out::write_yaml_spliced(
                &mut out,
                &skeleton,
                "results",
                Box::new(items.into_iter()),
            )
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), crate::to_yaml(&full));
        }
    }
}
