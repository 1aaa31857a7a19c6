//! JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps): one test suite per rule that ran,
//! one test case per rule × object with findings (a failure listing each finding on the object),
//! one passing case for a rule without findings, and a skipped case for a rule that lacked the
//! evidence to run (the scorecard's "not assessed").

use crate::View;
use kubeharden_engine::finding::Finding;
use kubeharden_engine::report::Report;
use std::fmt::Write as _;

/// Escapes text for XML 1.0 content and attribute values; characters XML 1.0 cannot carry
/// (most C0 controls) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Did the rule run on sufficient evidence? (Assessed in the scorecard, or produced findings.)
fn assessed(report: &Report, rule: &str) -> bool {
    report.scorecard.iter().any(|s| s.assessed.contains(&rule))
}

pub fn render(view: &View<'_>) -> String {
    let report = view.report;
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
    for rule in view.all_rules() {
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule.id)
            .collect();
        // Objects in order of first finding.
        let mut objects: Vec<(String, Vec<&Finding>)> = Vec::new();
        for f in &findings {
            let id = crate::identity(f);
            match objects.iter_mut().find(|(o, _)| *o == id) {
                Some((_, list)) => list.push(f),
                None => objects.push((id, vec![f])),
            }
        }
        let classname = format!("kubeharden.{}", rule.id);
        let mut cases = String::new();
        let (mut t, mut fl, mut sk) = (0usize, 0usize, 0usize);
        for (object, list) in &objects {
            t += 1;
            fl += 1;
            let first = list[0];
            let mut body = String::new();
            for f in list {
                let _ = writeln!(body, "{} {}: {}", f.severity, crate::location(f), f.message);
            }
            let _ = write!(body, "Fix: {}", crate::markdown::one_line(first.remedy));
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(object),
                escape(&classname),
                escape(&first.location.origin),
                first.location.line,
                first.severity,
                escape(&first.message),
                escape(&body),
            );
        }
        if objects.is_empty() {
            t += 1;
            if assessed(report, rule.id) || rule.evidence.is_empty() {
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"{}\" classname=\"{}\"/>",
                    escape(&format!(
                        "no findings in {} objects",
                        report.summary.objects
                    )),
                    escape(&classname)
                );
            } else {
                sk += 1;
                let missing: Vec<&str> = rule.evidence.iter().map(|e| e.missing()).collect();
                let _ = write!(
                    cases,
                    "    <testcase name=\"not assessed\" classname=\"{}\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&classname),
                    escape(&missing.join("; ")),
                );
            }
        }
        tests += t;
        failures += fl;
        skipped += sk;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{fl}\" errors=\"0\" skipped=\"{sk}\">\n    <properties>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"seed-rule\" value=\"{}\"/>\n      <property name=\"summary\" value=\"{}\"/>\n    </properties>\n{cases}  </testsuite>\n",
            escape(rule.id),
            view.rule_severity(rule),
            rule.section,
            escape(rule.summary),
        );
    }
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == kubeharden_engine::source::DiagLevel::Error)
        .map(|d| match d.line {
            Some(l) => format!("{}:{l}: {}", d.origin, d.message),
            None => format!("{}: {}", d.origin, d.message),
        })
        .collect();
    if !errors.is_empty() {
        tests += 1;
        let _ = write!(
            suites,
            "  <testsuite name=\"inputs\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase name=\"inputs are readable\" classname=\"kubeharden.inputs\">\n      <error type=\"input-error\" message=\"{} input error(s): the scan is incomplete\">{}</error>\n    </testcase>\n  </testsuite>\n",
            errors.len(),
            escape(&errors.join("\n")),
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubeharden\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{skipped}\">\n{suites}</testsuites>\n",
        usize::from(!errors.is_empty())
    )
}
