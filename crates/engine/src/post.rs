//! After the scan: steps that move findings between active and suppressed (config exemptions,
//! `--no-foreign-suppressions`) or change them (severity overrides), and re-derive what depends on
//! them.

use crate::finding::Finding;
use crate::scan::{Report, Status};

/// Report order: file, line, column, rule; ties keep the order the rules emitted them.
pub(crate) fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
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
pub(crate) fn sort_findings(v: &mut [Finding]) {
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

impl Report {
    /// The suppressed findings in report order (the scan sorts the active ones).
    pub(crate) fn sorted(mut self) -> Report {
        sort_findings(&mut self.suppressed_findings);
        self
    }

    /// Sorts the findings, recounts the suppressed ones and re-derives the scorecard's counts and
    /// statuses (a section fails exactly when it has active findings; otherwise its status follows
    /// from the evidence the scan recorded).
    pub fn finish(&mut self) {
        sort_findings(&mut self.findings);
        sort_findings(&mut self.suppressed_findings);
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
