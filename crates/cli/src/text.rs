//! Human output: rustc/ruff-style diagnostics, the scorecard, rule listings.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::redact::{mask_line, mask_text};
use kubeharden_engine::report::{Report, Status};
use kubeharden_engine::rules::{self, Rule};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_engine::suppress;
use std::io::{self, Write};

/// A snippet line as printed: masked again ([`kubeharden_engine::redact`]).
struct SnippetLine<'a> {
    line: u32,
    text: std::borrow::Cow<'a, str>,
}

fn level(severity: Severity) -> Level<'static> {
    let base = match severity {
        Severity::Critical | Severity::High => Level::ERROR,
        Severity::Medium | Severity::Low => Level::WARNING,
        Severity::Info => Level::NOTE,
    };
    base.with_name(Some(severity.as_str()))
}

fn finding(out: &mut dyn Write, renderer: &Renderer, f: &Finding) -> io::Result<()> {
    let path = match &f.location.helm_source {
        Some(tpl) => format!("{} (from {tpl})", f.location.origin),
        None => f.location.origin.to_string(),
    };
    let subject = match (&f.subject.namespace, &f.subject.container) {
        (Some(ns), _) => format!("{}/{}/{}", f.subject.kind, ns, f.subject.name),
        (None, _) if f.subject.name.is_empty() => f.subject.kind.clone(),
        (None, _) => format!("{}/{}", f.subject.kind, f.subject.name),
    };
    // The engine redacts secret values where findings are made; mask once more what is copied
    // from the input (the message, the snippet), so that no path prints a secret value.
    let message = mask_text(&f.message);
    let title = level(f.severity).primary_title(message.as_ref()).id(f.rule);
    let mut notes = vec![
        Level::NOTE.with_name(Some("rule")).message(format!(
            "{} — {}",
            f.section,
            f.section.title()
        )),
        Level::HELP.message(f.remedy),
    ];
    if let Some(e) = f.expected {
        notes.push(Level::NOTE.message(format!(
            "expected for {}: {} (not counted; --strict-system counts it)",
            e.component, e.reason
        )));
    }
    if let Some(b) = f.baseline {
        notes.push(
            Level::NOTE
                .with_name(Some("baseline"))
                .message(b.as_str().to_owned()),
        );
    }
    let group = if f.location.line == 0 {
        // Not in a text file (a node file's permissions): the path alone.
        title.element(annotate_snippets::Origin::path(&path))
    } else if f.snippet.is_empty() {
        title.element(
            annotate_snippets::Origin::path(&path)
                .line(f.location.line as usize)
                .char_column(f.location.column as usize),
        )
    } else {
        let lines: Vec<_> = f
            .snippet
            .iter()
            .map(|l| SnippetLine {
                line: l.line,
                text: mask_line(l.text),
            })
            .collect();
        let source: String = lines
            .iter()
            .map(|l| l.text.as_ref())
            .collect::<Vec<_>>()
            .join("\n");
        let marked = lines
            .iter()
            .position(|l| l.line == f.location.line)
            .unwrap_or(lines.len() - 1);
        let line_start: usize = lines[..marked].iter().map(|l| l.text.len() + 1).sum();
        let line_text = lines[marked].text.as_ref();
        let col = line_text
            .char_indices()
            .nth(f.location.column.saturating_sub(1) as usize)
            .map_or(0, |(i, _)| i);
        let start = (line_start + col).min(line_start + line_text.len());
        let end = (line_start + line_text.trim_end().len()).max(start);
        title.element(
            Snippet::source(source)
                .line_start(lines[0].line as usize)
                .path(path)
                .annotation(AnnotationKind::Primary.span(start..end).label(subject)),
        )
    };
    let report: [Group; 1] = [group.elements(notes)];
    writeln!(out, "{}\n", renderer.render(&report))
}

/// How findings are printed (`--style`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// Each finding with its offending lines, the rule's section and the fix (like ruff's
    /// `full`, rustc's diagnostics).
    #[default]
    Full,
    /// One line per finding: `path:line:col: severity rule-id message (object)`.
    Concise,
    /// By rule: the rationale and the fix once, then every location.
    Grouped,
}

/// The order of findings (`--sort`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Most severe first, then by file, line and column.
    #[default]
    Severity,
    /// By file, line and column.
    Location,
}

/// What the text report shows: the style, the order, the severities shown, quiet.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub style: Style,
    pub sort: Sort,
    /// Only findings at or above this severity are printed (`--min-severity`).
    pub min_severity: Option<Severity>,
    /// Only findings of these severities are printed (`--severity`); empty: all.
    pub severities: Vec<Severity>,
    /// Only the summary (`-q`).
    pub quiet: bool,
}

impl Options {
    /// Is a finding of this severity printed?
    pub fn shows(&self, s: Severity) -> bool {
        self.min_severity.is_none_or(|m| s >= m)
            && (self.severities.is_empty() || self.severities.contains(&s))
    }

    fn filtered(&self) -> bool {
        self.min_severity.is_some() || !self.severities.is_empty()
    }
}

/// `1 finding`, `2 findings`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The findings printed, in the order asked.
fn ordered<'a>(report: &'a Report, opts: &Options) -> Vec<&'a Finding> {
    let mut v: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| opts.shows(f.severity))
        .collect();
    let at = |f: &Finding| {
        (
            f.location.origin.clone(),
            f.location.line,
            f.location.column,
        )
    };
    match opts.sort {
        Sort::Severity => {
            v.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| at(a).cmp(&at(b))))
        }
        Sort::Location => {
            v.sort_by(|a, b| at(a).cmp(&at(b)).then_with(|| b.severity.cmp(&a.severity)))
        }
    }
    v
}

/// The text report with the default options (full, by severity, everything shown).
pub fn render(out: &mut dyn Write, report: &Report, fail_on: Severity) -> io::Result<()> {
    render_with(out, report, fail_on, &Options::default())
}

/// Findings whose text blocks are made at once (bounds the memory they take before written).
const TEXT_CHUNK: usize = 512;

/// Where the text report goes. Terminal escapes (colours) pass through, or are dropped here for
/// a writer that must not see them, even when a sequence is split between two writes.
pub struct Sink<'a> {
    inner: &'a mut dyn Write,
    strip: Option<anstream::adapter::StripBytes>,
}

impl Sink<'_> {
    /// Text already without escapes when this sink drops them (a finding's block, stripped on
    /// the thread that made it), as it is.
    fn write_made(&mut self, block: &[u8]) -> io::Result<()> {
        self.inner.write_all(block)
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.strip {
            Some(state) => {
                for text in state.strip_next(buf) {
                    self.inner.write_all(text)?;
                }
            }
            None => self.inner.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The text report, escapes as they are (a terminal, or anstream's stream that decides).
pub fn render_with(
    out: &mut dyn Write,
    report: &Report,
    fail_on: Severity,
    opts: &Options,
) -> io::Result<()> {
    render_sink(
        Sink {
            inner: out,
            strip: None,
        },
        report,
        fail_on,
        opts,
    )
}

/// The text report for a writer that takes no escapes (a file, a pipe with colours off): they
/// are dropped here, those of the findings' blocks on every core (a serial pass over the whole
/// text cost 60-90 ms of a 0.5 s scan of 5,000 findings).
pub fn render_plain(
    out: &mut dyn Write,
    report: &Report,
    fail_on: Severity,
    opts: &Options,
) -> io::Result<()> {
    let strip = Some(anstream::adapter::StripBytes::new());
    render_sink(Sink { inner: out, strip }, report, fail_on, opts)
}

fn render_sink(
    mut sink: Sink<'_>,
    report: &Report,
    fail_on: Severity,
    opts: &Options,
) -> io::Result<()> {
    let strip = sink.strip.is_some();
    let out = &mut sink;
    // Nothing was read and the inputs are in error (a missing path, a node root holding no node
    // files): the errors and the count, without a scorecard of sections nothing could assess.
    let nothing_read = report.summary.objects == 0 && report.has_input_errors();
    if !opts.quiet {
        let findings = ordered(report, opts);
        match opts.style {
            Style::Full => {
                // A finding's block (annotate-snippets) is ~90,000 instructions: blocks are made
                // on every core, a chunk at a time, and written in order, the next chunk made
                // while this one is written.
                use rayon::prelude::*;
                kubeharden_report::made_in_parallel(
                    &findings,
                    TEXT_CHUNK,
                    |chunk| {
                        chunk
                            .par_iter()
                            .map_init(Renderer::styled, |renderer, f| {
                                let mut block = Vec::new();
                                finding(&mut block, renderer, f)?;
                                Ok(if strip {
                                    anstream::adapter::strip_bytes(&block).into_vec()
                                } else {
                                    block
                                })
                            })
                            .collect()
                    },
                    |block: io::Result<Vec<u8>>| out.write_made(&block?),
                )?;
            }
            Style::Concise => {
                for f in &findings {
                    concise(out, f)?;
                }
                if !findings.is_empty() {
                    writeln!(out)?;
                }
            }
            Style::Grouped => grouped(out, &findings)?,
        }
        suppressed(out, report)?;
        if opts.style == Style::Full {
            diagnostics(out, &report.diagnostics)?;
        } else {
            // Errors and warnings; the notes (files skipped as not Kubernetes objects…) counted.
            let (notes, listed): (Vec<Diagnostic>, Vec<Diagnostic>) = report
                .diagnostics
                .iter()
                .cloned()
                .partition(|d| d.level == DiagLevel::Note);
            diagnostics_cut(out, &listed, Some(CONCISE_MESSAGE))?;
            if !notes.is_empty() {
                writeln!(
                    out,
                    "\x1b[2m{} (--style full lists them)\x1b[0m\n",
                    plural(notes.len(), "note")
                )?;
            }
        }
        if !nothing_read && opts.style == Style::Full {
            scorecard(out, report)?;
        }
    }
    if !nothing_read {
        summary_table(out, report, opts)?;
    }
    summary(out, report, fail_on)
}

fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;35m",
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[1;33m",
        Severity::Low => "\x1b[1;34m",
        Severity::Info => "\x1b[2m",
    }
}

fn subject_of(f: &Finding) -> String {
    let s = &f.subject;
    let mut id = match &s.namespace {
        Some(ns) => format!("{}/{}/{}", s.kind, ns, s.name),
        None if s.name.is_empty() => s.kind.clone(),
        None => format!("{}/{}", s.kind, s.name),
    };
    if let Some(c) = &s.container {
        id.push_str(&format!(" container {c}"));
    }
    id
}

/// `path:line:col` (`path` alone for a finding that is not in a text file).
fn position(f: &Finding) -> String {
    let l = &f.location;
    if l.line == 0 {
        l.origin.to_string()
    } else {
        format!("{}:{}:{}", l.origin, l.line, l.column)
    }
}

/// Longest message of a concise line, so that a line fits a wide terminal; the rest is cut
/// (`full`, `grouped` and JSON have it all).
const CONCISE_MESSAGE: usize = 100;

/// One line, as ruff's `concise`: `path:line:col: severity rule-id message`. The object is in
/// the message (or the line); expected findings end with `(expected: component)`.
fn concise(out: &mut dyn Write, f: &Finding) -> io::Result<()> {
    let message = mask_text(&f.message);
    let message = match message.char_indices().nth(CONCISE_MESSAGE) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.into_owned(),
    };
    let expected = f
        .expected
        .map(|e| format!(" \x1b[2m(expected: {})\x1b[0m", e.component))
        .unwrap_or_default();
    writeln!(
        out,
        "{}: {}{}\x1b[0m \x1b[1m{}\x1b[0m {message}{expected}",
        position(f),
        severity_colour(f.severity),
        f.severity,
        f.rule,
    )
}

/// By rule, most severe rule first: the rule's summary, rationale and fix once, then each
/// location on a line.
fn grouped(out: &mut dyn Write, findings: &[&Finding]) -> io::Result<()> {
    let mut groups: Vec<(&'static str, Vec<&Finding>)> = Vec::new();
    for f in findings {
        match groups.iter_mut().find(|(id, _)| *id == f.rule) {
            Some((_, v)) => v.push(f),
            None => groups.push((f.rule, vec![f])),
        }
    }
    // `findings` is already in the order asked: a group's place is its first finding's.
    for (id, fs) in &groups {
        let first = fs[0];
        let rule = kubeharden_engine::config::rule_meta(id);
        writeln!(
            out,
            "{}{}\x1b[0m \x1b[1m{id}\x1b[0m: {} (rule {} — {})",
            severity_colour(first.severity),
            first.severity,
            plural(fs.len(), "finding"),
            first.section,
            first.section.title()
        )?;
        if let Some(r) = rule {
            writeln!(out, "  \x1b[1mwhy:\x1b[0m {}", wrap(r.rationale))?;
        }
        writeln!(out, "  \x1b[1mfix:\x1b[0m {}", wrap(first.remedy))?;
        for f in fs {
            writeln!(
                out,
                "    {}: {} ({})",
                position(f),
                mask_text(&f.message),
                subject_of(f)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Rules shown in the closing summary.
const TOP_RULES: usize = 5;

/// The closing summary: counts per severity and per rule, the scorecard in one line, and what to
/// fix first.
fn summary_table(out: &mut dyn Write, report: &Report, opts: &Options) -> io::Result<()> {
    let counted: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.expected.is_none())
        .collect();
    writeln!(out, "\x1b[1mSummary\x1b[0m")?;
    if !counted.is_empty() {
        let sev: Vec<String> = Severity::ALL
            .iter()
            .map(|s| format!("{}{}\x1b[0m {}", severity_colour(*s), s, report.count(*s)))
            .collect();
        writeln!(out, "  by severity  {}", sev.join(" · "))?;
        // Per rule: count, most severe, first finding (in severity then location order).
        let mut rules: Vec<(&'static str, usize, Severity, &Finding)> = Vec::new();
        let mut all = counted.clone();
        all.sort_by(|a, b| {
            b.severity.cmp(&a.severity).then_with(|| {
                (&a.location.origin, a.location.line).cmp(&(&b.location.origin, b.location.line))
            })
        });
        for f in &all {
            match rules.iter_mut().find(|r| r.0 == f.rule) {
                Some(r) => r.1 += 1,
                None => rules.push((f.rule, 1, f.severity, f)),
            }
        }
        let mut by_count = rules.clone();
        by_count.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
        if rules.len() > TOP_RULES {
            writeln!(
                out,
                "  top rules    ({TOP_RULES} of {} rules with findings)",
                rules.len()
            )?;
        } else {
            writeln!(out, "  top rules")?;
        }
        for (id, n, s, _) in by_count.iter().take(TOP_RULES) {
            writeln!(out, "    {n:>6}  {id} ({s})")?;
        }
        // Fix first: the most severe rules, the most widespread first among equals.
        let mut first = rules.clone();
        first.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
        writeln!(out, "  fix first")?;
        for (i, (id, n, s, f)) in first.iter().take(3).enumerate() {
            writeln!(
                out,
                "    {}. {}{s}\x1b[0m {id}: {} (first at {}); `kubeharden explain {id}`",
                i + 1,
                severity_colour(*s),
                plural(*n, "finding"),
                position(f)
            )?;
        }
    }
    if !report.scorecard.is_empty() {
        let mut counts: Vec<String> = Vec::new();
        for status in [
            Status::Fail,
            Status::Partial,
            Status::Pass,
            Status::NotAssessed,
        ] {
            let n = report
                .scorecard
                .iter()
                .filter(|s| s.status == status)
                .count();
            if n > 0 {
                counts.push(format!("{n} {}", status.as_str()));
            }
        }
        let failing: Vec<String> = report
            .scorecard
            .iter()
            .filter(|s| s.status == Status::Fail)
            .map(|s| s.section.to_string())
            .collect();
        writeln!(
            out,
            "  scorecard    {} of {} sections{}",
            counts.join(", "),
            report.scorecard.len(),
            if failing.is_empty() {
                String::new()
            } else {
                format!(" (failing: {})", failing.join(", "))
            }
        )?;
    }
    if opts.filtered() {
        let shown = report
            .findings
            .iter()
            .filter(|f| opts.shows(f.severity))
            .count();
        writeln!(
            out,
            "  shown        {} of {} (--min-severity/--severity)",
            shown,
            plural(report.findings.len(), "finding")
        )?;
    }
    writeln!(out)
}

/// Suppressed findings (`--show-suppressed`), one line each with what suppressed them.
fn suppressed(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    if report.suppressed_findings.is_empty() {
        return Ok(());
    }
    writeln!(out, "\x1b[1mSuppressed findings\x1b[0m")?;
    for f in &report.suppressed_findings {
        let by = f.suppressed_by.as_ref();
        writeln!(
            out,
            "  \x1b[2m{}\x1b[0m {}:{}:{}: {} [{}] suppressed by {}{}",
            f.severity,
            f.location.origin,
            f.location.line,
            f.location.column,
            mask_text(&f.message),
            f.rule,
            by.map_or("?", |b| b.key.as_str()),
            by.and_then(|b| b.reason.as_deref())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out)
}

pub fn diagnostics(out: &mut dyn Write, diags: &[Diagnostic]) -> io::Result<()> {
    diagnostics_cut(out, diags, None)
}

/// Diagnostics, their messages cut at `cut` characters when given (concise and grouped styles).
fn diagnostics_cut(
    out: &mut dyn Write,
    diags: &[Diagnostic],
    cut: Option<usize>,
) -> io::Result<()> {
    for d in diags {
        let (name, colour) = match d.level {
            DiagLevel::Error => ("input error", "\x1b[1;31m"),
            DiagLevel::Warning => ("input warning", "\x1b[1;33m"),
            DiagLevel::Note => ("note", "\x1b[1;36m"),
        };
        let loc = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", d.origin),
            (Some(l), None) => format!("{}:{l}", d.origin),
            _ => d.origin.clone(),
        };
        let message = mask_text(&d.message);
        let message = match cut.and_then(|n| message.char_indices().nth(n)) {
            Some((at, _)) => format!("{}…", &message[..at]),
            None => message.into_owned(),
        };
        writeln!(out, "{colour}{name}\x1b[0m: {loc}: {message}")?;
    }
    if !diags.is_empty() {
        writeln!(out)?;
    }
    Ok(())
}

fn scorecard(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    // A question about one subject (`rbac suggest`) or one object has no scorecard.
    if report.scorecard.is_empty() {
        return Ok(());
    }
    writeln!(out, "\x1b[1mScorecard: the 15 hardening rules\x1b[0m")?;
    for s in &report.scorecard {
        let colour = match s.status {
            Status::Pass => "\x1b[32m",
            Status::Fail => "\x1b[31m",
            Status::Partial => "\x1b[33m",
            Status::NotAssessed => "\x1b[2m",
        };
        let count = if s.findings > 0 {
            format!(" ({})", plural(s.findings, "finding"))
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:>7}  {colour}{:<12}\x1b[0m {}{count}",
            s.section.to_string(),
            s.status.as_str(),
            s.title
        )?;
        if !s.settled_by_cloud.is_empty() {
            writeln!(
                out,
                "  {:>7}  {:<12} \x1b[2m↳ settled by cloud evidence: {} control-plane {} answered by the managed cluster's configuration\x1b[0m",
                "",
                "",
                s.settled_by_cloud.len(),
                if s.settled_by_cloud.len() == 1 {
                    "rule"
                } else {
                    "rules"
                }
            )?;
        }
        for m in &s.missing {
            writeln!(out, "  {:>7}  {:<12} \x1b[2m↳ {m}\x1b[0m", "", "")?;
        }
    }
    writeln!(out)
}

fn summary(out: &mut dyn Write, report: &Report, fail_on: Severity) -> io::Result<()> {
    let by_sev: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = report.count(*s);
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == DiagLevel::Error)
        .count();
    let s = &report.summary;
    let expected = report.expected();
    let counted = report.findings.len() - expected;
    write!(
        out,
        "{}{} in {} ({}) from {}",
        plural(counted, "finding"),
        if by_sev.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_sev.join(", "))
        },
        plural(s.objects, "object"),
        plural(s.pod_templates, "pod template"),
        plural(s.inputs, "input"),
    )?;
    if report.suppressed > 0 {
        write!(out, "; {} suppressed", report.suppressed)?;
    }
    if expected > 0 {
        write!(
            out,
            "; {expected} expected for system components, not counted (--strict-system)"
        )?;
    }
    if let Some(b) = &report.baseline {
        write!(
            out,
            "; against {}: {} new, {} unchanged, {} fixed",
            b.baseline,
            b.new,
            b.unchanged,
            b.fixed.len()
        )?;
    }
    if errors > 0 {
        write!(
            out,
            "; \x1b[1;31m{errors} input error{}\x1b[0m (the scan is incomplete)",
            if errors == 1 { "" } else { "s" }
        )?;
    }
    let failing = report.failing(fail_on).count();
    writeln!(out, "; {failing} at or above --fail-on {fail_on}")
}

pub fn rules_table(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<42} {:>7}  {:<8}  {:<9}  SUMMARY",
        "ID", "SECTION", "SEVERITY", "AUTO-FIX"
    )?;
    for r in rules::all() {
        let fix = kubeharden_engine::fix::for_rule(r.id).map_or("-", |f| f.kind.as_str());
        writeln!(
            out,
            "{:<42} {:>7}  {:<8}  {:<9}  {}",
            r.id,
            r.section.to_string(),
            r.severity.as_str(),
            fix,
            r.summary
        )?;
    }
    Ok(())
}

pub fn explain(out: &mut dyn Write, r: &'static Rule) -> io::Result<()> {
    writeln!(
        out,
        "\x1b[1m{}\x1b[0m ({}, rule {}: {})\n",
        r.id,
        r.severity,
        r.section,
        r.section.title()
    )?;
    writeln!(out, "{}\n", r.summary)?;
    writeln!(out, "\x1b[1mWhy\x1b[0m\n{}\n", wrap(r.rationale))?;
    writeln!(out, "\x1b[1mFix\x1b[0m\n{}\n", wrap(r.remedy))?;
    if let Some(fix) = kubeharden_engine::fix::for_rule(r.id) {
        writeln!(
            out,
            "\x1b[1mAuto-fix\x1b[0m ({}; `kubeharden fix`)\n{}\n",
            fix.kind.as_str(),
            wrap(fix.description)
        )?;
    }
    let refs = references(r);
    if !refs.is_empty() {
        writeln!(out, "\x1b[1mReferences\x1b[0m")?;
        for (name, ids) in refs {
            writeln!(out, "  {name}: {ids}")?;
        }
    }
    if let Some(examples) = rules::examples::examples(r.id) {
        example(out, r, "Example that fires", examples.fire, true)?;
        example(out, r, "Example that passes", examples.pass, false)?;
    }
    Ok(())
}

/// Lines of an example shown by `explain` (more when a finding is further down); the rest is cut
/// with a note, unless only a few lines would be.
const EXAMPLE_LINES: usize = 40;

/// One example of `explain`: its YAML with line numbers and, for the one that fires, what a scan
/// of it with the rule reports (scanned here, so the example and its findings cannot drift).
fn example(
    out: &mut dyn Write,
    r: &'static Rule,
    title: &str,
    yaml: &str,
    fires: bool,
) -> io::Result<()> {
    let findings = if fires {
        let input = kubeharden_engine::Input::Bytes {
            name: "example.yaml".into(),
            bytes: yaml.as_bytes().into(),
        };
        kubeharden_engine::scan::scan(&[input], &[r]).findings
    } else {
        Vec::new()
    };
    let lines: Vec<&str> = yaml.lines().collect();
    let last_finding = findings.iter().map(|f| f.location.line as usize).max();
    let mut shown = EXAMPLE_LINES.max(last_finding.unwrap_or(0));
    if lines.len() <= shown + 3 {
        shown = lines.len();
    }
    let width = shown.to_string().len();
    writeln!(out, "\n\x1b[1m{title}\x1b[0m")?;
    for (n, line) in lines.iter().take(shown).enumerate() {
        writeln!(out, "\x1b[2m{:>width$} |\x1b[0m {line}", n + 1)?;
    }
    if lines.len() > shown {
        writeln!(
            out,
            "\x1b[2m{:>width$} |\x1b[0m … ({} more lines)",
            "",
            lines.len() - shown
        )?;
    }
    if fires {
        writeln!(out, "\nkubeharden reports:")?;
        for f in &findings {
            let s = &f.subject;
            let object = match &s.namespace {
                Some(ns) => format!(" ({} {ns}/{})", s.kind, s.name),
                None if s.name.is_empty() => format!(" ({})", s.kind),
                None => format!(" ({} {})", s.kind, s.name),
            };
            writeln!(
                out,
                "  line {}: {}{object}",
                f.location.line,
                mask_text(&f.message)
            )?;
        }
    }
    Ok(())
}

fn wrap(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn references(r: &Rule) -> Vec<(&'static str, String)> {
    r.references.named()
}

/// `docs/rules.md`, generated from the rule metadata (a test keeps the file in sync).
pub fn rules_markdown() -> String {
    let mut s = String::from(
        "# kubeharden rules\n\n<!-- Generated by `kubeharden rules --format markdown`; do not edit. -->\n\n\
         | id | seed rule | severity | summary |\n|---|---|---|---|\n",
    );
    for r in rules::all() {
        s.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} | {3} |\n",
            r.id, r.section, r.severity, r.summary
        ));
    }
    for r in rules::all() {
        s.push_str(&format!(
            "\n## {}\n\n**Seed rule {}** ({}) · **severity {}**\n\n{}\n\n**Why.** {}\n\n**Fix.** {}\n",
            r.id,
            r.section,
            r.section.title(),
            r.severity,
            r.summary,
            wrap(r.rationale),
            wrap(r.remedy)
        ));
        let refs = references(r);
        if !refs.is_empty() {
            s.push_str("\n**References.**\n\n");
            for (name, ids) in refs {
                s.push_str(&format!("- {name}: {ids}\n"));
            }
        }
        s.push_str(&format!(
            "\n**Suppress on one object.** `kubeharden.io/ignore: \"{}\"` (or `kubeharden.io/ignore.<container>`)",
            r.id
        ));
        for source in suppress::Source::FOREIGN {
            for (foreign, _) in suppress::foreign_keys(source)
                .into_iter()
                .filter(|(_, id)| *id == r.id)
            {
                s.push_str(&format!(
                    "; {}: `{}`",
                    source.as_str(),
                    suppress::foreign_annotation(source, foreign)
                ));
            }
        }
        s.push('\n');
    }
    s
}
