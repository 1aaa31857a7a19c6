//! Baselines: a previous JSON report (`kubeharden scan --format json`) against which each finding is
//! `new` or `unchanged`, and the baseline's findings that are gone are `fixed`. Findings are matched
//! by fingerprint (rule, object identity and field, with container indices replaced by names), so
//! moving lines, reordering documents or containers does not make a finding new.

use crate::report::Report;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

pub use crate::finding::BaselineStatus as Status;
pub use kubeharden_model::baseline::{Recorded, RecordedLocation, RecordedSubject, Summary};

/// The findings of a previous report.
#[derive(Clone, Debug, Default)]
pub struct Baseline {
    /// Where it was read from, as given.
    pub name: String,
    pub findings: Vec<Recorded>,
}

#[derive(Deserialize)]
struct Document {
    schema_version: u32,
    tool: String,
    findings: Vec<Recorded>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        Baseline::from_json(&path.display().to_string(), &text)
    }

    /// Reads a kubeharden JSON report (schema_version 1).
    pub fn from_json(name: &str, text: &str) -> Result<Baseline, String> {
        let doc: Document = serde_json::from_str(text).map_err(|e| {
            format!("{name} is not a kubeharden JSON report (`kubeharden scan --format json`): {e}")
        })?;
        if doc.tool != "kubeharden" {
            return Err(format!(
                "{name} was written by `{}`, not kubeharden",
                doc.tool
            ));
        }
        if doc.schema_version != crate::report::SCHEMA_VERSION {
            return Err(format!(
                "{name} has schema_version {}; this kubeharden reads {}",
                doc.schema_version,
                crate::report::SCHEMA_VERSION
            ));
        }
        // A report written by an older version (or edited) may quote a secret value: what is
        // read back (and shown again as `fixed`) is masked ([`crate::redact`]).
        let findings = doc
            .findings
            .into_iter()
            .map(|mut f| {
                if let std::borrow::Cow::Owned(m) = crate::redact::mask_text(&f.message) {
                    f.message = m;
                }
                f
            })
            .collect();
        Ok(Baseline {
            name: name.to_owned(),
            findings,
        })
    }

    pub fn from_report(name: &str, report: &Report) -> Baseline {
        Baseline {
            name: name.to_owned(),
            findings: report.findings.iter().map(Recorded::from).collect(),
        }
    }
}

/// Matches `current` against `old` by fingerprint, as multisets (two identical findings in the
/// baseline match two in the report). Returns the status of each current finding, in order, and
/// the baseline's findings left unmatched (fixed).
fn classify<'a>(
    old: &'a [Recorded],
    current: impl Iterator<Item = &'a str>,
) -> (Vec<Status>, Vec<&'a Recorded>) {
    let mut remaining: HashMap<&str, usize> = HashMap::new();
    for r in old {
        *remaining.entry(r.fingerprint.as_str()).or_default() += 1;
    }
    let statuses = current
        .map(|fp| match remaining.get_mut(fp) {
            Some(n) if *n > 0 => {
                *n -= 1;
                Status::Unchanged
            }
            _ => Status::New,
        })
        .collect();
    let mut fixed = Vec::new();
    for r in old.iter().rev() {
        if let Some(n) = remaining.get_mut(r.fingerprint.as_str())
            && *n > 0
        {
            *n -= 1;
            fixed.push(r);
        }
    }
    fixed.reverse();
    (statuses, fixed)
}

impl Baseline {
    /// Marks every finding of the report `new` or `unchanged` and records the fixed ones.
    pub fn apply(&self, report: &mut Report) {
        let fingerprints: Vec<_> = report.findings.iter().map(|f| f.fingerprint).collect();
        let (statuses, fixed) = classify(&self.findings, fingerprints.iter().map(|f| f.as_str()));
        for (f, s) in report.findings.iter_mut().zip(&statuses) {
            f.baseline = Some(*s);
        }
        report.baseline = Some(Summary {
            baseline: self.name.clone(),
            new: statuses.iter().filter(|s| **s == Status::New).count(),
            unchanged: statuses.iter().filter(|s| **s == Status::Unchanged).count(),
            fixed: fixed.into_iter().cloned().collect(),
        });
    }
}

/// `kubeharden diff old.json new.json`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub old: String,
    pub new_report: String,
    pub new: Vec<Recorded>,
    pub unchanged: Vec<Recorded>,
    pub fixed: Vec<Recorded>,
}

pub fn diff(old: &Baseline, new: &Baseline) -> Diff {
    let (statuses, fixed) = classify(
        &old.findings,
        new.findings.iter().map(|f| f.fingerprint.as_str()),
    );
    let mut d = Diff {
        old: old.name.clone(),
        new_report: new.name.clone(),
        fixed: fixed.into_iter().cloned().collect(),
        ..Diff::default()
    };
    for (f, s) in new.findings.iter().zip(statuses) {
        match s {
            Status::New => d.new.push(f.clone()),
            _ => d.unchanged.push(f.clone()),
        }
    }
    d
}
