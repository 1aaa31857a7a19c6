//! JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps): one test suite per rule that ran,
//! one test case per rule × object with findings (a failure listing each finding on the object),
//! one passing case for a rule without findings, and a skipped case for a rule that lacked the
//! evidence to run (the scorecard's "not assessed").

use crate::View;
use kubeharden_engine::finding::Finding;
use kubeharden_engine::report::Report;
use kubeharden_engine::rules::Rule;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
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

/// Writes the JUnit XML, a test case at a time. Findings are grouped by rule and object in one
/// pass (a hash map, not a search per finding: 100,000 objects took minutes).
pub fn render_to(view: &View<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let report = view.report;
    let rules = view.all_rules();
    // For each rule, its findings by object, objects in order of first finding.
    let mut objects: Vec<Vec<Vec<&Finding>>> = vec![Vec::new(); rules.len()];
    {
        let rule_index: HashMap<&str, usize> =
            rules.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        // By the object's kind, namespace and name, borrowed (a formatted identity per finding
        // took 16 MB at 200,000 findings).
        let mut object_index: HashMap<(usize, &str, Option<&str>, &str), usize> = HashMap::new();
        for f in &report.findings {
            let Some(&r) = rule_index.get(f.rule) else {
                continue;
            };
            let s = &f.subject;
            match object_index.entry((r, &s.kind, s.namespace.as_deref(), &s.name)) {
                Entry::Occupied(o) => objects[r][*o.get()].push(f),
                Entry::Vacant(v) => {
                    v.insert(objects[r].len());
                    objects[r].push(vec![f]);
                }
            }
        }
    }
    // Counts first: the root element carries them.
    let skips = |rule: &Rule| !(assessed(report, rule.id) || rule.evidence.is_empty());
    let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
    for (rule, objects) in rules.iter().zip(&objects) {
        if objects.is_empty() {
            tests += 1;
            skipped += usize::from(skips(rule));
        } else {
            tests += objects.len();
            let expected = objects.iter().filter(|l| all_expected(l)).count();
            failures += objects.len() - expected;
            skipped += expected;
        }
    }
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == kubeharden_engine::source::DiagLevel::Error)
        .map(|d| match d.line {
            Some(l) => format!("{}:{l}: {}", d.origin, crate::masked(&d.message)),
            None => format!("{}: {}", d.origin, crate::masked(&d.message)),
        })
        .collect();
    tests += usize::from(!errors.is_empty());
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kubeharden\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\" skipped=\"{skipped}\">\n",
        usize::from(!errors.is_empty())
    )?;
    for (rule, objects) in rules.iter().zip(&objects) {
        let classname = format!("kubeharden.{}", rule.id);
        let (t, fl, sk) = match objects.len() {
            0 => (1, 0, usize::from(skips(rule))),
            n => {
                let expected = objects.iter().filter(|l| all_expected(l)).count();
                (n, n - expected, expected)
            }
        };
        write!(
            out,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{fl}\" errors=\"0\" skipped=\"{sk}\">\n    <properties>\n      <property name=\"severity\" value=\"{}\"/>\n      <property name=\"seed-rule\" value=\"{}\"/>\n      <property name=\"summary\" value=\"{}\"/>\n    </properties>\n",
            escape(rule.id),
            view.rule_severity(rule),
            rule.section,
            escape(rule.summary),
        )?;
        for list in objects {
            let first = list[0];
            let mut body = String::new();
            for f in list {
                let _ = writeln!(
                    body,
                    "{} {}: {}",
                    f.severity,
                    crate::location(f),
                    crate::masked(&f.message)
                );
            }
            let _ = write!(body, "Fix: {}", crate::markdown::one_line(first.remedy));
            // Every finding on the object is expected for a system component: shown as skipped
            // with the reason, not a failure (unless --strict-system, which clears the marks).
            if all_expected(list) {
                let e = first.expected.expect("all expected");
                write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n      <skipped message=\"{}\">{}</skipped>\n    </testcase>\n",
                    escape(&crate::identity(first)),
                    escape(&classname),
                    escape(&first.location.origin),
                    first.location.line,
                    escape(&format!("expected for {}: {}", e.component, e.reason)),
                    escape(&body),
                )?;
                continue;
            }
            write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&crate::identity(first)),
                escape(&classname),
                escape(&first.location.origin),
                first.location.line,
                first.severity,
                escape(&crate::masked(&first.message)),
                escape(&body),
            )?;
        }
        if objects.is_empty() {
            if sk == 0 {
                writeln!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\"/>",
                    escape(&format!(
                        "no findings in {} objects",
                        report.summary.objects
                    )),
                    escape(&classname)
                )?;
            } else {
                let missing: Vec<&str> = rule.evidence.iter().map(|e| e.missing()).collect();
                write!(
                    out,
                    "    <testcase name=\"not assessed\" classname=\"{}\">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                    escape(&classname),
                    escape(&missing.join("; ")),
                )?;
            }
        }
        out.write_all(b"  </testsuite>\n")?;
    }
    if !errors.is_empty() {
        write!(
            out,
            "  <testsuite name=\"inputs\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n    <testcase name=\"inputs are readable\" classname=\"kubeharden.inputs\">\n      <error type=\"input-error\" message=\"{} input error(s): the scan is incomplete\">{}</error>\n    </testcase>\n  </testsuite>\n",
            errors.len(),
            escape(&errors.join("\n")),
        )?;
    }
    out.write_all(b"</testsuites>\n")
}

/// Whether every finding of an object's test case is expected for a system component.
fn all_expected(list: &[&Finding]) -> bool {
    list.iter().all(|f| f.expected.is_some())
}
