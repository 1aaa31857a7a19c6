//! Markdown for pull-request comments (GitHub and GitLab flavoured): a summary line, the scorecard,
//! the top findings as a table, and every finding in a collapsible `<details>` block. Manifest text
//! is escaped (no HTML or links from a manifest reach the comment) and the comment stays under
//! GitHub's 65,536-character limit.

use crate::View;
use kubeharden_engine::baseline;
use kubeharden_engine::finding::Finding;
use kubeharden_engine::report::Status;
use kubeharden_engine::rules::Rule;
use std::fmt::Write as _;

/// Findings shown in the top table.
const TOP: usize = 10;
/// Findings detailed in the collapsible section before it is cut.
const DETAILED: usize = 100;
/// GitHub refuses a comment over 65,536 characters: the whole document stays under this
/// (counted in bytes, never fewer than characters).
pub(crate) const MAX_CHARS: usize = 64_000;

pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for Markdown prose and table cells: no HTML, no emphasis, links or table breaks.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in one_line(&crate::masked(s)).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span that holds any text (`|` escaped for table cells).
pub(crate) fn code(s: &str) -> String {
    let s = one_line(s).replace('|', "\\|");
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for c in s.chars() {
        if c == ch {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A fenced code block that no line of `body` can close.
fn code_block(lang: &str, body: &str) -> String {
    let fence = "`".repeat(longest_run(body, '`').max(2) + 1);
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

pub(crate) fn references(r: &Rule) -> Vec<(&'static str, String)> {
    r.references.named()
}

pub(crate) fn status_icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅ pass",
        Status::Fail => "❌ fail",
        Status::Partial => "🟡 partial",
        Status::NotAssessed => "⚪ not assessed",
    }
}

fn subject(f: &Finding) -> String {
    match &f.subject.container {
        Some(c) => format!("{} · {}", text(&crate::identity(f)), text(c)),
        None => text(&crate::identity(f)),
    }
}

fn baseline_mark(f: &Finding) -> &'static str {
    match f.baseline {
        Some(baseline::Status::New) => " 🆕 new",
        Some(baseline::Status::Unchanged) => " · unchanged",
        _ => "",
    }
}

pub fn render(view: &View<'_>) -> String {
    let r = view.report;
    let mut s = String::new();
    let n = r.findings.len();
    let _ = writeln!(
        s,
        "## kubeharden: {n} finding{}\n",
        if n == 1 { "" } else { "s" }
    );
    let counts = crate::severity_counts(r);
    let failing = r.failing(view.fail_on).count();
    let _ = write!(
        s,
        "{}{} objects ({} pod templates) from {} input{}",
        if counts.is_empty() {
            String::new()
        } else {
            format!("**{counts}** in ")
        },
        r.summary.objects,
        r.summary.pod_templates,
        r.summary.inputs,
        if r.summary.inputs == 1 { "" } else { "s" },
    );
    if r.suppressed > 0 {
        let _ = write!(s, " · {} suppressed", r.suppressed);
    }
    let _ = writeln!(
        s,
        " · **{failing}** at or above `--fail-on {}`",
        view.fail_on
    );
    let errors = r
        .diagnostics
        .iter()
        .filter(|d| d.level == kubeharden_engine::source::DiagLevel::Error)
        .count();
    if errors > 0 {
        let _ = writeln!(
            s,
            "\n> [!CAUTION]\n> {errors} input error{}: the scan is incomplete.",
            if errors == 1 { "" } else { "s" }
        );
    }
    if let Some(b) = &r.baseline {
        let _ = writeln!(
            s,
            "\nAgainst the baseline {}: **{} new**, {} unchanged, {} fixed.",
            code(&b.baseline),
            b.new,
            b.unchanged,
            b.fixed.len()
        );
    }

    s.push_str("\n### Scorecard\n\n| Rule | Section | Status | Findings |\n|---:|---|---|---:|\n");
    for sc in &r.scorecard {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            sc.section,
            text(sc.title),
            status_icon(sc.status),
            sc.findings
        );
    }
    let gaps: Vec<_> = r
        .scorecard
        .iter()
        .filter(|sc| !sc.missing.is_empty())
        .collect();
    if !gaps.is_empty() {
        s.push_str("\n<details>\n<summary>What the scorecard could not assess</summary>\n\n");
        for sc in gaps {
            for m in &sc.missing {
                let _ = writeln!(s, "- **{}** {}: {}", sc.section, text(sc.title), text(m));
            }
        }
        s.push_str("\n</details>\n");
    }

    let sorted = crate::by_severity(r.findings.iter());
    if !sorted.is_empty() {
        let _ = writeln!(
            s,
            "\n### Top findings\n\n| Severity | Rule | Object | Location | Finding |\n|---|---|---|---|---|"
        );
        for f in sorted.iter().take(TOP) {
            let _ = writeln!(
                s,
                "| **{}**{} | {} | {} | {} | {} |",
                f.severity,
                baseline_mark(f),
                code(f.rule),
                subject(f),
                code(&crate::location(f)),
                text(&f.message)
            );
        }
        if sorted.len() > TOP {
            let _ = writeln!(s, "\n…and {} more below.", sorted.len() - TOP);
        }
        let _ = writeln!(
            s,
            "\n<details>\n<summary>All {} findings, with the offending lines and fixes</summary>\n",
            sorted.len()
        );
        // The lists after the details (fixed, suppressed, diagnostics, each capped) and the
        // footer are written last; the details take the room they leave.
        let after = tail(view);
        for (i, f) in sorted.iter().enumerate() {
            let entry = detail(f, i);
            if i >= DETAILED || s.len() + entry.len() + after.len() + 400 > MAX_CHARS {
                let left = sorted.len() - i;
                let _ = writeln!(
                    s,
                    "{left} more finding{}: see the SARIF or HTML artefact of this run (`--output sarif=kubeharden.sarif`, `--output html=report.html`).\n",
                    if left == 1 { "" } else { "s" }
                );
                break;
            }
            s.push_str(&entry);
        }
        s.push_str("</details>\n");
        s.push_str(&after);
    } else {
        s.push_str(&tail(view));
    }
    s
}

/// One finding of the collapsible details.
fn detail(f: &Finding, i: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "#### {}. {} · {} · {}\n\n{}{}\n\n{}\n",
        i + 1,
        f.severity,
        code(f.rule),
        subject(f),
        code(&crate::location(f)),
        baseline_mark(f),
        text(&f.message)
    );
    if !f.snippet.is_empty() {
        let body: Vec<String> = f
            .snippet
            .iter()
            .map(|l| format!("{:>4} | {}", l.line, crate::masked(l.text)))
            .collect();
        s.push_str(&code_block("yaml", &body.join("\n")));
        s.push('\n');
    }
    let _ = writeln!(s, "**Fix.** {}\n", text(f.remedy));
    s
}

/// Lines added while they fit in `budget` (and at most [`DETAILED`]); then how many were left.
fn capped(s: &mut String, lines: Vec<String>, budget: usize) {
    let total = lines.len();
    let mut used = 0;
    for (i, line) in lines.into_iter().enumerate() {
        if i >= DETAILED || used + line.len() > budget {
            let _ = writeln!(s, "- …and {} more", total - i);
            break;
        }
        used += line.len();
        s.push_str(&line);
    }
}

fn level_name(level: kubeharden_engine::source::DiagLevel) -> &'static str {
    match level {
        kubeharden_engine::source::DiagLevel::Error => "error",
        kubeharden_engine::source::DiagLevel::Warning => "warning",
        kubeharden_engine::source::DiagLevel::Note => "note",
    }
}

/// What follows the findings: fixed since the baseline, suppressed findings, diagnostics (errors
/// first), each at most a sixth of the limit, and the footer.
fn tail(view: &View<'_>) -> String {
    let r = view.report;
    let budget = MAX_CHARS / 6;
    let mut s = String::new();
    if let Some(b) = &r.baseline
        && !b.fixed.is_empty()
    {
        let _ = writeln!(
            s,
            "\n<details>\n<summary>Fixed since the baseline ({})</summary>\n",
            b.fixed.len()
        );
        let lines = b
            .fixed
            .iter()
            .map(|f| {
                format!(
                    "- {} {} on {}: {}\n",
                    f.severity,
                    code(&f.rule),
                    text(&f.subject.identity()),
                    text(&f.message)
                )
            })
            .collect();
        capped(&mut s, lines, budget);
        s.push_str("\n</details>\n");
    }
    if !r.suppressed_findings.is_empty() {
        let _ = writeln!(
            s,
            "\n<details>\n<summary>Suppressed findings ({})</summary>\n",
            r.suppressed_findings.len()
        );
        let lines = r
            .suppressed_findings
            .iter()
            .map(|f| {
                let by = f.suppressed_by.as_ref();
                format!(
                    "- {} {} on {} by {}{}\n",
                    f.severity,
                    code(f.rule),
                    subject(f),
                    code(by.map_or("", |b| b.key.as_str())),
                    by.and_then(|b| b.reason.as_deref())
                        .map(|r| format!(": {}", text(r)))
                        .unwrap_or_default()
                )
            })
            .collect();
        capped(&mut s, lines, budget);
        s.push_str("\n</details>\n");
    }
    if !r.diagnostics.is_empty() {
        let _ = writeln!(
            s,
            "\n<details>\n<summary>Input diagnostics ({})</summary>\n",
            r.diagnostics.len()
        );
        let mut diags: Vec<_> = r.diagnostics.iter().collect();
        diags.sort_by_key(|d| match d.level {
            kubeharden_engine::source::DiagLevel::Error => 0,
            kubeharden_engine::source::DiagLevel::Warning => 1,
            kubeharden_engine::source::DiagLevel::Note => 2,
        });
        let lines = diags
            .into_iter()
            .map(|d| {
                let loc = match d.line {
                    Some(l) => format!("{}:{l}", d.origin),
                    None => d.origin.clone(),
                };
                format!(
                    "- {} {}: {}\n",
                    level_name(d.level),
                    code(&loc),
                    text(&d.message)
                )
            })
            .collect();
        capped(&mut s, lines, budget);
        s.push_str("\n</details>\n");
    }
    let _ = writeln!(
        s,
        "\n<sub>kubeharden {} · {} rules</sub>",
        r.tool_version,
        view.rules.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(text("<b>x</b> | *y*"), "&lt;b&gt;x&lt;/b&gt; \\| \\*y\\*");
        assert_eq!(text("[a](http://x)"), "\\[a\\](http://x)");
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(
            code_block("yaml", "a\n```\nb"),
            "````yaml\na\n```\nb\n````\n"
        );
    }
}
