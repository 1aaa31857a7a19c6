//! What a finding looks like read back from a JSON report, and a report's comparison with its
//! baseline (the matching itself is the engine's `baseline` module).

use crate::finding::{Finding, Severity};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedSubject {
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

impl RecordedSubject {
    pub fn identity(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedLocation {
    pub origin: String,
    #[serde(default)]
    pub line: u32,
    #[serde(default)]
    pub column: u32,
}

/// A finding as read back from a JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recorded {
    pub rule: String,
    pub severity: Severity,
    pub subject: RecordedSubject,
    pub location: RecordedLocation,
    pub message: String,
    pub fingerprint: String,
}

impl From<&Finding> for Recorded {
    fn from(f: &Finding) -> Self {
        Recorded {
            rule: f.rule.to_owned(),
            severity: f.severity,
            subject: RecordedSubject {
                kind: f.subject.kind.clone(),
                name: f.subject.name.clone(),
                namespace: f.subject.namespace.clone(),
                container: f.subject.container.clone(),
            },
            location: RecordedLocation {
                origin: f.location.origin.to_string(),
                line: f.location.line,
                column: f.location.column,
            },
            message: f.message.to_string(),
            fingerprint: f.fingerprint.into(),
        }
    }
}

/// What a report's comparison with its baseline found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// The baseline, as named on the command line.
    pub baseline: String,
    pub new: usize,
    pub unchanged: usize,
    /// Findings of the baseline that are gone.
    pub fixed: Vec<Recorded>,
}
