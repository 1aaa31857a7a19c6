//! After the scan: steps that move findings between active and suppressed (config exemptions,
//! `--no-foreign-suppressions`) or change them (severity overrides), and re-derive what depends on
//! them.

use crate::finding::Finding;
use crate::scan::{Report, Status};

fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (
        &a.location.origin,
        a.location.line,
        a.location.column,
        a.rule,
    )
        .cmp(&(
            &b.location.origin,
            b.location.line,
            b.location.column,
            b.rule,
        ))
}

impl Report {
    /// The suppressed findings in report order (the scan sorts the active ones).
    pub(crate) fn sorted(mut self) -> Report {
        self.suppressed_findings.sort_by(order);
        self
    }

    /// Sorts the findings, recounts the suppressed ones and re-derives the scorecard's counts and
    /// statuses (a section fails exactly when it has active findings; otherwise its status follows
    /// from the evidence the scan recorded).
    pub fn finish(&mut self) {
        self.findings.sort_by(order);
        self.suppressed_findings.sort_by(order);
        self.suppressed = self.suppressed_findings.len();
        for score in &mut self.scorecard {
            score.findings = self
                .findings
                .iter()
                .filter(|f| f.seed == score.seed)
                .count();
            score.status = if score.findings > 0 {
                Status::Fail
            } else if score.assessed.is_empty() {
                Status::NotAssessed
            } else if score.missing.is_empty() {
                Status::Pass
            } else {
                Status::Partial
            };
        }
    }

    /// Findings at or above a severity.
    pub fn failing(&self, at_or_above: crate::finding::Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.severity >= at_or_above)
    }
}
