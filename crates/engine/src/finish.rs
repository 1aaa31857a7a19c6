//! The one path from a scan to the final report, taken by every front end (`scan`, stdin,
//! `cluster`, `node`, `audit-log analyze`, the webhook): the other tools' suppression annotations
//! (or not), the config's path excludes, exemptions with expiry and severity overrides, evidence a
//! live source could not read (fail closed), the findings expected for system components
//! (counted only when strict), the baseline, the empty-input check, the counts and the
//! scorecard, and the exit decision. Front ends only gather inputs and render.

use crate::baseline::{self, Baseline};
use crate::config::Config;
use crate::evidence::Found;
use crate::finding::{Finding, Severity, Suppression, SuppressionSource};
use crate::gaps::Unavailable;
use crate::report::Report;
use crate::source::{DiagLevel, Diagnostic};

/// How a scan is finished. `Finish::default()` is a plain scan: no config, the peers'
/// annotations honoured, no baseline, an empty input is an error, fail on `low`.
#[derive(Clone, Debug)]
pub struct Finish<'a> {
    /// `.kubeharden.yaml` (rule selection happened before the scan; here: path excludes,
    /// exemptions, severity overrides, `foreignSuppressions`).
    pub config: Option<&'a Config>,
    /// Honour kube-linter, Polaris, Checkov, kubescape and kube-score annotations. Off when
    /// `--no-foreign-suppressions` or the config's `foreignSuppressions: false`.
    pub foreign_suppressions: bool,
    /// Honour suppression annotations written on the objects themselves (ours and the peers').
    /// Off at admission: whoever writes the object must not be able to exempt it; only the
    /// config's exemptions (which the requester cannot write) apply there.
    pub object_annotations: bool,
    /// Kinds a live source could not read: the rules that need them are not assessed.
    pub gaps: &'a [Unavailable],
    /// Accept an audit that could not read every kind (otherwise incomplete: exit 2).
    pub allow_incomplete: bool,
    /// Count the findings expected for system components (`--strict-system`, or the config's
    /// `strictSystem`); always at admission (`object_annotations` off), where the requester
    /// writes the object its classification rests on.
    pub strict_system: bool,
    /// A previous JSON report: findings are marked new or unchanged, the gone ones fixed.
    pub baseline: Option<&'a Baseline>,
    /// Accept an input with no Kubernetes object (otherwise an error: nothing was checked).
    pub allow_empty: bool,
    /// Keep the suppressed findings in the report (`--show-suppressed`).
    pub show_suppressed: bool,
    /// The exit decision: findings at or above this severity fail.
    pub fail_on: Severity,
    /// Only findings new against the baseline fail.
    pub fail_on_new: bool,
    /// `YYYY-MM-DD`, for exemption expiry.
    pub today: String,
}

impl Default for Finish<'_> {
    fn default() -> Self {
        Finish {
            config: None,
            foreign_suppressions: true,
            object_annotations: true,
            gaps: &[],
            allow_incomplete: false,
            strict_system: false,
            baseline: None,
            allow_empty: false,
            show_suppressed: true,
            fail_on: Severity::Low,
            fail_on_new: false,
            today: kubeharden_model::date::today_utc(),
        }
    }
}

/// The exit decision of a finished report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// No finding at or above the threshold.
    Clean,
    /// Findings at or above the threshold.
    Findings,
    /// Unreadable input, an unreadable or empty scan: the answer is incomplete.
    Incomplete,
}

impl Exit {
    /// `0`, `1`, `2`.
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Incomplete => 2,
        }
    }
}

/// Finishes a scan's report for its front end (see the module documentation). The report's
/// counts and scorecard are re-derived from what is left.
pub fn finish(mut report: Report, how: &Finish<'_>) -> (Report, Exit) {
    let foreign = how.foreign_suppressions && how.config.is_none_or(|c| c.foreign_suppressions);
    if !how.object_annotations {
        unsuppress(&mut report, |_| true);
    } else if !foreign {
        unsuppress(&mut report, |s| s.source.is_foreign());
    }
    crate::gaps::apply(&mut report, how.gaps);
    if how.strict_system || !how.object_annotations || how.config.is_some_and(|c| c.strict_system) {
        for f in report
            .findings
            .iter_mut()
            .chain(report.suppressed_findings.iter_mut())
        {
            f.expected = None;
        }
    }
    if let Some(config) = how.config {
        config.apply(&mut report, &how.today);
    }
    if let Some(b) = how.baseline {
        b.apply(&mut report);
    }
    if report.summary.objects == 0
        && !report.summary.evidence.has(Found::AuditLog)
        && !how.allow_empty
    {
        report.diagnostics.push(Diagnostic::new(
            DiagLevel::Error,
            "<inputs>",
            None,
            "no Kubernetes objects were scanned, so nothing was checked; pass --allow-empty if that is expected",
        ));
    }
    recount(&mut report);
    let mut exit = exit(&report, how.fail_on, how.fail_on_new);
    // A live source that could not read some kinds gave an incomplete answer.
    if how.gaps.iter().any(|g| !g.values_only) && !how.allow_incomplete {
        exit = Exit::Incomplete;
    }
    if !how.show_suppressed {
        report.suppressed_findings.clear();
    }
    (report, exit)
}

/// Findings silenced by an annotation that `which` selects count again (`--no-foreign-suppressions`:
/// the other tools' keys; at admission: every annotation on the object). Config exemptions stay.
fn unsuppress(report: &mut Report, which: impl Fn(&Suppression) -> bool) {
    let (reinstated, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut report.suppressed_findings)
        .into_iter()
        .partition(|f| {
            f.suppressed_by
                .as_ref()
                .is_some_and(|s| s.source != SuppressionSource::Config && which(s))
        });
    report.suppressed_findings = kept;
    report.findings.extend(reinstated.into_iter().map(|mut f| {
        f.suppressed_by = None;
        f
    }));
}

/// Sorts the findings, recounts the suppressed ones and re-derives the scorecard.
fn recount(report: &mut Report) {
    sort_findings(&mut report.findings);
    sort_findings(&mut report.suppressed_findings);
    report.suppressed = report.suppressed_findings.len();
    if report.scope.scorecard {
        report.scorecard = crate::report::scorecard(report, crate::rules::all());
    }
}

/// The exit decision: incomplete input outranks findings.
pub fn exit(report: &Report, fail_on: Severity, only_new: bool) -> Exit {
    if report.has_input_errors() {
        return Exit::Incomplete;
    }
    let failing = report
        .failing(fail_on)
        .any(|f| !only_new || f.baseline == Some(baseline::Status::New));
    if failing { Exit::Findings } else { Exit::Clean }
}

impl Report {
    /// Findings at or above a severity, but those expected for a system component (unless
    /// strict: see [`Finish::strict_system`]).
    pub fn failing(&self, at_or_above: Severity) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |f| f.severity >= at_or_above && f.expected.is_none())
    }
}

/// Report order: file, line, column, rule; ties keep the order the rules emitted them.
pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
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

/// Sorts findings in report order, stably, without the buffer of half the findings that a stable
/// sort of the findings themselves allocates (100,000s of findings): indices are sorted, then the
/// findings are permuted in place along the cycles of the permutation.
pub fn sort_findings(v: &mut [Finding]) {
    sort_stable_in_place(v, order);
}

fn sort_stable_in_place<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| cmp(&v[a], &v[b]));
    const DONE: usize = usize::MAX;
    for i in 0..v.len() {
        if idx[i] == DONE {
            continue;
        }
        // Position `j` takes the element at `idx[j]`; the element first at `i` travels along
        // the cycle until the position that wants it.
        let mut j = i;
        loop {
            let k = idx[j];
            idx[j] = DONE;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn in_place_sort_is_the_stable_sort() {
        let mut rng = fastrand::Rng::with_seed(7);
        for len in [0, 1, 2, 3, 10, 100, 1000] {
            // (key, original position): equal keys must keep their order.
            let v: Vec<(u8, usize)> = (0..len).map(|i| (rng.u8(0..5), i)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            let mut got = v;
            super::sort_stable_in_place(&mut got, |a, b| a.0.cmp(&b.0));
            assert_eq!(got, expected);
        }
    }
}
